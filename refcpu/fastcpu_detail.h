// SPDX-License-Identifier: MIT
/*
 * Internals of the fast CPU path (iir2d/fastcpu.h): the description of one
 * 2-D filter job shared by the orchestration (fastcpu.cpp, threads and
 * buffers) and the kernels (fastcpu_kernels.cpp, compiled once per
 * instruction set into its own namespace: `generic` for the baseline x86-64
 * or whatever the compiler targets, `avx2` with -mavx2 -mfma where the
 * compiler can).
 *
 * Plain data only: the kernel translation units call no inline function of
 * another header with external linkage (std:: containers, filters.h's
 * helpers), so that no AVX2 copy of such a function can be picked by the
 * linker for the baseline code (the One Definition Rule trap of per-file
 * target flags).
 *
 * Work split (one task = a band of K rows for the horizontal pass, a strip of
 * K columns for the vertical pass; K = kLanes below): every task covers
 * whole 1-D sequences from their border, so a task's result does not depend
 * on which thread runs it or how many there are (1 thread and N threads are
 * bit-identical, tested).
 */
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "iir2d/filters.h"

namespace iir2d::fastcpu::detail {

/* Lanes per task: 16 float32 (two AVX vectors, four SSE ones, one cache
 * line of the intermediate per row), 8 for float64 storage and for mixed
 * (its float64 state would not fit the registers at 16). */
constexpr int lanes_for(Precision p) { return p == Precision::F32 ? 16 : 8; }

/* Integer samples of one component, as iir2d::VideoComponent (bytes). */
struct Samples {
  const unsigned char* in = nullptr;  // source samples (read)
  unsigned char* out = nullptr;       // destination samples (the video sink)
  std::ptrdiff_t in_row = 0, in_px = 1, out_row = 0, out_px = 1;
  bool u16 = false;
  int depth = 8;
  int shift = 0;
};

/* Columns of a block of the horizontal pass's transpose. */
constexpr int kBlock = 256;

/* Per-worker scratch: two buffers of at least `bytes` each, 64-byte aligned. */
struct Scratch {
  void* a = nullptr;
  void* b = nullptr;
  std::size_t bytes = 0;
};

/* One 2-D filter of a W×H plane: horizontal pass from the source into `mid`
 * (Store, the contract's intermediate), vertical pass from `mid` into the
 * sink. Store/Acc follow `precision` (contract section 4). */
struct Job {
  Precision precision = Precision::F32;
  int width = 0, height = 0;
  // The 1-D program (make_program) and its border rules.
  int num_sections = 0;
  Section sections[2];
  Border border = Border::Mirror;
  double constant = 0.0;
  BorderInit init = BorderInit::Exact;
  int ext = 0;  // extension length L of section 3a (exact), 0 for iir2d

  // Horizontal source: integer samples (normalised x = v / max) or a Store plane.
  bool src_video = false;
  Samples video;
  const void* src_plane = nullptr;
  std::ptrdiff_t src_stride = 0;  // bytes

  // The intermediate (Store), written by the horizontal pass in bands of K
  // rows, each band column after column with its K rows side by side
  // (sample (x, b*K + r) at element x*K + r of band b), so that both passes
  // read and write it in contiguous blocks.
  void* mid = nullptr;
  std::ptrdiff_t mid_stride = 0;  // bytes from one band to the next

  // Vertical sink: integer samples o = s·f + (1-s)·x quantised (needs a
  // video source for x), or a Store plane of f.
  bool sink_video = false;
  double strength = 1.0;
  void* dst_plane = nullptr;
  std::ptrdiff_t dst_stride = 0;  // bytes
};

/* Helpers both the kernels and the orchestration use, with internal linkage
 * (each translation unit keeps its own copy, compiled with its own flags). */
namespace {

/* Tasks of each pass and the scratch bytes a worker needs. */
inline int horizontal_tasks(const Job& j) { return (j.height + lanes_for(j.precision) - 1) / lanes_for(j.precision); }
inline int vertical_tasks(const Job& j) { return (j.width + lanes_for(j.precision) - 1) / lanes_for(j.precision); }
inline std::size_t scratch_bytes(const Job& j) {
  const int n = j.width > j.height ? j.width : j.height;
  const std::size_t store = j.precision == Precision::F64 ? 8 : 4;
  const int rows = n + 2 * j.ext + 8 > kBlock ? n + 2 * j.ext + 8 : kBlock;  // the horizontal pass's lines fit too
  return static_cast<std::size_t>(rows) * static_cast<std::size_t>(lanes_for(j.precision)) * store;
}

/* Contract section 2: the index in [0, n) that B(i) reads, or -1 for the
 * constant. */
inline long long border_index(long long i, long long n, Border b) {
  if (i >= 0 && i < n) return i;
  switch (b) {
    case Border::Clamp: return i < 0 ? 0 : n - 1;
    case Border::Mirror: {
      long long m = i % (2 * n);
      if (m < 0) m += 2 * n;
      if (m >= n) m = 2 * n - 1 - m;
      return m;
    }
    case Border::Wrap: {
      long long m = i % n;
      if (m < 0) m += n;
      return m;
    }
    case Border::Constant: return -1;
  }
  return -1;
}

/* Section 5's quantisation round(v) half away from zero, clamped to [0, max]
 * (NaN to 0), on v = o·max in double: clamping first gives the same code,
 * and the truncation then rounds a value in [0, max] exactly. Branch-free so
 * that the lane loops vectorise. */
inline int quantize_code(double o, double maxv) {
  double v = o * maxv;
  v = v > 0.0 ? v : 0.0;
  v = v < maxv ? v : maxv;
  const int t = static_cast<int>(v);
  return t + (v - static_cast<double>(t) >= 0.5 ? 1 : 0);
}

/* x = (Store) v / (Store) max for `count` samples of one row, from `p`
 * (the first sample) with pixel stride `px` bytes. */
template <typename Store>
void load_codes(const Samples& s, const unsigned char* p, int count, Store* out) {
  const unsigned mask = (1u << s.depth) - 1u;
  const Store maxs = static_cast<Store>((1u << s.depth) - 1u);
  const int shift = s.shift;
  if (!s.u16) {
    if (s.in_px == 1) {
      for (int x = 0; x < count; ++x) out[x] = static_cast<Store>(static_cast<int>((p[x] >> shift) & mask)) / maxs;
    } else {
      for (int x = 0; x < count; ++x)
        out[x] = static_cast<Store>(static_cast<int>((p[x * s.in_px] >> shift) & mask)) / maxs;
    }
    return;
  }
  if (s.in_px == 2 && (reinterpret_cast<std::uintptr_t>(p) & 1u) == 0) {
    const auto* q = reinterpret_cast<const std::uint16_t*>(p);
    for (int x = 0; x < count; ++x) out[x] = static_cast<Store>(static_cast<int>((q[x] >> shift) & mask)) / maxs;
    return;
  }
  for (int x = 0; x < count; ++x) {
    std::uint16_t w;
    std::memcpy(&w, p + static_cast<ptrdiff_t>(x) * s.in_px, sizeof w);
    out[x] = static_cast<Store>(static_cast<int>((w >> shift) & mask)) / maxs;
  }
}

/* Writes `count` codes (already quantised) shifted into place. */
void store_codes(const Samples& s, unsigned char* p, int count, const int* codes) {
  const int shift = s.shift;
  if (!s.u16) {
    if (s.out_px == 1) {
      for (int x = 0; x < count; ++x) p[x] = static_cast<unsigned char>(codes[x] << shift);
    } else {
      for (int x = 0; x < count; ++x) p[x * s.out_px] = static_cast<unsigned char>(codes[x] << shift);
    }
    return;
  }
  if (s.out_px == 2 && (reinterpret_cast<std::uintptr_t>(p) & 1u) == 0) {
    auto* q = reinterpret_cast<std::uint16_t*>(p);
    for (int x = 0; x < count; ++x) q[x] = static_cast<std::uint16_t>(codes[x] << shift);
    return;
  }
  for (int x = 0; x < count; ++x) {
    const auto w = static_cast<std::uint16_t>(codes[x] << shift);
    std::memcpy(p + static_cast<ptrdiff_t>(x) * s.out_px, &w, sizeof w);
  }
}

}  // namespace

/* One instruction set's kernels. */
struct Kernels {
  const char* name;
  void (*horizontal)(const Job& job, int task, const Scratch& scratch);
  void (*vertical)(const Job& job, int task, const Scratch& scratch);
};

namespace generic {
extern const Kernels kKernels;
}
#if defined(IIR2D_FASTCPU_HAVE_AVX2)
namespace avx2 {
extern const Kernels kKernels;
}
#endif

}  // namespace iir2d::fastcpu::detail
