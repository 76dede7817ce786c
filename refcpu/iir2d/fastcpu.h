// SPDX-License-Identifier: MIT
/**
 * @file fastcpu.h
 * @brief The production CPU path of docs/FILTER_CONTRACT.md: multi-threaded
 *        and vectorised, beside the oracle (refcpu.h, frame.h) and checked
 *        against it (tests/refcpu/test_fastcpu.cpp).
 *
 * Same operations, arguments and errors as the oracle's functions of the
 * same names (iir2d::ref::filter_plane, filter_video_component,
 * copy_video_component, filter_component_group, filter_rgb_luma), on an
 * Engine that owns a pool of threads and its buffers, so that no thread is
 * created and, once the first frame of a size has run, no memory is
 * allocated per call.
 *
 * How (docs/PERFORMANCE.md, "CPU path"): the horizontal pass filters bands
 * of K rows (K = 16 for float32 storage, 8 for float64 and mixed), the band
 * transposed into a buffer held in cache so that the K rows run in the
 * lanes of SIMD vectors; the vertical pass filters strips of K adjacent
 * columns the same way. Bands and strips are tasks shared among the threads;
 * each covers whole rows or columns from their borders, so the border
 * initialisation of each task is the contract's own (no approximation) and
 * the result is the same, bit for bit, for any number of threads. The
 * integer conversion is fused into the horizontal pass's transpose and the
 * strength blend and quantisation into the vertical pass's output.
 *
 * Accuracy: the recursions run in the contract's order of operations. The
 * AVX2 kernels (chosen at run time where the CPU has AVX2 and FMA) let the
 * compiler contract a·b + c into fused multiply-adds, which differs from
 * the oracle by a few units in the last place, inside section 6's
 * tolerances; the generic kernels do not.
 *
 * Errors: std::invalid_argument for the arguments the oracle refuses.
 * Not thread-safe: one call at a time per Engine (the calls themselves
 * use the engine's threads).
 */
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "iir2d/filters.h"
#include "iir2d/frame_ops.h"
#include "iir2d/refcpu.h"  // Plane<T>, the strided plane view (a type only)

namespace iir2d::fastcpu {

template <typename T>
using Plane = ref::Plane<T>;

/// Which kernels run: the best the CPU has (Auto), or one named.
enum class Isa : int {
  Auto = 0,
  Generic = 1,  ///< the compiler's baseline target (SSE2 on x86-64)
  Avx2 = 2,     ///< AVX2 + FMA (x86-64 builds only; falls back to Generic where the CPU lacks them)
};

class Engine {
 public:
  /// `threads`: threads that share the work, the caller included; 0 = one
  /// per online CPU core (as videoconvert's n-threads). The pool is created
  /// here and lives as long as the engine; each of its threads has a 1 MiB
  /// stack. Where a thread cannot be made (an address-space or thread
  /// limit) the engine runs on those made before it: threads() is then less
  /// than threads_requested() and threads_error() says why. The results are
  /// the same for any number of threads.
  explicit Engine(unsigned threads = 0, Isa isa = Isa::Auto);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  /// Threads in use (>= 1) and the name of the kernels ("generic", "avx2").
  unsigned threads() const;
  const char* isa_name() const;
  /// The threads asked for (0 resolved to the core count), and why fewer
  /// run (empty when all do).
  unsigned threads_requested() const;
  const std::string& threads_error() const;

  /// As ref::filter_plane (contract section 1).
  void filter_plane(const Plane<const float>& in, const Plane<float>& out, const FilterParams& params);
  void filter_plane(const Plane<const double>& in, const Plane<double>& out, const FilterParams& params);

  /// As ref::filter_video_component (contract section 5).
  void filter_video_component(const ConstVideoComponent& in, const VideoComponent& out, const FilterParams& params,
                              double strength);

  /// As ref::copy_video_component.
  void copy_video_component(const ConstVideoComponent& in, const VideoComponent& out);

  /// As ref::filter_component_group (iir2d/frame.h).
  void filter_component_group(const ConstVideoComponent* in, const VideoComponent* out, int count,
                              const FilterParams& params, double strength, const TemporalParams& temporal,
                              float* state, bool state_valid);

  /// As ref::filter_rgb_luma (iir2d/frame.h).
  void filter_rgb_luma(const ConstVideoComponent* in, const VideoComponent* out, const LumaWeights& weights,
                       const FilterParams& params, double strength, const TemporalParams& temporal, float* state,
                       bool state_valid);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Online CPU cores (std::thread::hardware_concurrency, at least 1).
unsigned default_threads();

}  // namespace iir2d::fastcpu
