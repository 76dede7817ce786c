// SPDX-License-Identifier: MIT
/**
 * @file cuda_filter.h
 * @brief CUDA kernels of the IIR2D filter contract on pitched device planes.
 *
 * Same contract as refcpu (docs/FILTER_CONTRACT.md) and the same
 * parameter types (refcpu/iir2d/filters.h). No GStreamer inside.
 *
 * Conventions (CUB-like):
 *  - Every function runs on the caller's stream and returns a Result; none
 *    throws, exits, aborts, synchronises the device, or calls cudaSetDevice.
 *    The caller owns the CUDA context (the element pushes its GstCudaContext).
 *  - The caller provides the workspace: query its size with the matching
 *    *_workspace_size() function, allocate it with cudaMalloc, pass it in.
 *    Functions never allocate device memory.
 *  - Empty planes (width or height 0) return Success without touching memory.
 *  - Pitches/strides are in bytes; pointers are device pointers.
 *  - Call set_debug_sync(true) (or build the library with
 *    -DIIR2D_CUDA_DEBUG_SYNC, which makes it the default) to synchronise the
 *    stream after every launch, so errors name their kernel.
 *  - Built with --fmad=false: each operation is rounded once, in the
 *    contract's order. Columns (and the rows of some programs) are split
 *    into segments that start their recursion W >= L samples early
 *    (contract 3a applied per segment); most rows are filtered by one warp
 *    per row with a warp-wide scan of the recursion state (the state is
 *    exact in real arithmetic, its float32 rounding is not refcpu's order).
 *    docs/PERFORMANCE.md has the dispatch. Results equal refcpu's within
 *    the contract's tolerances (float32: a few ulp; mixed and f64: to
 *    float64 rounding); integer video: identical codes but for about 1e-6
 *    of samples, 16-bit components at f32 take the order-exact path.
 */
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>
#include <string>

#include "iir2d/filters.h"

namespace iir2d::cuda {

enum class Status : int {
  Success = 0,
  InvalidArgument,   ///< bad id, size, pitch, precision/type mismatch, null pointer
  WorkspaceTooSmall, ///< the workspace is smaller than *_workspace_size() said
  CudaError,         ///< a CUDA runtime call or kernel launch failed; see cuda_error
};

/// Outcome of a call: a status, the CUDA error where there was one, and where it happened.
struct Result {
  Status status = Status::Success;
  cudaError_t cuda_error = cudaSuccess;
  const char* where = "";  ///< static string naming the failing step

  bool ok() const { return status == Status::Success; }
  explicit operator bool() const { return ok(); }
  /// Human-readable message, e.g. "horizontal pass launch: out of memory (cudaErrorMemoryAllocation)".
  std::string message() const;
};

/// "text (name)" of a CUDA runtime error, e.g. "out of memory (cudaErrorMemoryAllocation)".
std::string error_text(cudaError_t e);

/// Enables or disables a stream synchronisation after every kernel launch (debugging aid).
void set_debug_sync(bool enabled);

/**
 * Bytes of workspace needed by filter_plane_f32/f64 and filter_video_component
 * for a width×height plane with these parameters: two planes of the I/O type
 * (the intermediate between the passes and, for video, the forward results
 * of the column pass), scratch for filter id 5 (about one more plane: the
 * causal results beyond each segment; L values per row/column in the generic
 * kernels) and 256 bytes of alignment slack, so any workspace address works.
 * Depends on filter_id, border_init and precision only (not on sigma). Never
 * zero for a non-empty plane; 0 for an empty one.
 */
std::size_t workspace_size(int width, int height, const FilterParams& params);

/**
 * The largest workspace_size() over every filter id, border initialisation
 * and precision for a width×height plane: a workspace of this size stays
 * large enough when those properties change while playing.
 */
std::size_t max_workspace_size(int width, int height);

/**
 * 2-D filter of a float32 plane (contract section 1). params.precision must
 * be F32 or Mixed. `in` and `out` may be the same plane; neither may overlap
 * the workspace. Shapes: in/out are height rows of width floats, rows
 * `*_pitch` bytes apart (pitch >= width * 4, a multiple of 4), pointers
 * 4-byte aligned. Bytes between the end of a row and the pitch are not written.
 *
 * Errors: InvalidArgument for a bad filter id / border / initialisation /
 * precision, a negative or too large size (limit 2^28), a null pointer, a bad
 * pitch or alignment, a null workspace; WorkspaceTooSmall when
 * workspace_bytes < workspace_size(); CudaError when a launch fails. All
 * argument checks happen before any CUDA call. Asynchronous: the result is
 * ready once `stream` has run the launched work.
 */
Result filter_plane_f32(const float* in, std::size_t in_pitch, float* out, std::size_t out_pitch, int width,
                        int height, const FilterParams& params, void* workspace, std::size_t workspace_bytes,
                        cudaStream_t stream);

/// As filter_plane_f32 for float64 planes (8-byte pitches and alignment); params.precision must be F64.
Result filter_plane_f64(const double* in, std::size_t in_pitch, double* out, std::size_t out_pitch, int width,
                        int height, const FilterParams& params, void* workspace, std::size_t workspace_bytes,
                        cudaStream_t stream);

/**
 * Filters one video component in device memory (contract section 5): integer
 * samples (U8 or U16, any depth/shift/pixel_stride) are normalised, filtered
 * at params.precision, blended with `strength` in [0, 1], rounded and clamped.
 * in and out must have the same width, height, type, depth and shift; they
 * may be the same component (in place) but must not overlap otherwise.
 * Bits of out's storage words outside the component's depth are written as 0;
 * bytes between samples (e.g. the other chroma of NV12) are not touched.
 * U16 words are little-endian and need no alignment. params.border_constant
 * is in normalised units. strength outside [0, 1] (or NaN) is InvalidArgument.
 */
Result filter_video_component(const ConstVideoComponent& in, const VideoComponent& out, const FilterParams& params,
                              double strength, void* workspace, std::size_t workspace_bytes, cudaStream_t stream);

/**
 * Copies a component's storage words unchanged (the planes that are not
 * filtered), on `stream`: one cudaMemcpy2DAsync where both pixel strides
 * equal the sample size, a kernel otherwise. Needs the same width, height
 * and sample type.
 */
Result copy_video_component(const ConstVideoComponent& in, const VideoComponent& out, cudaStream_t stream);

}  // namespace iir2d::cuda
