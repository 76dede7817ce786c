// SPDX-License-Identifier: MIT
/**
 * @file cuda_quality.h
 * @brief CUDA kernels of the quality metrics of refcpu/iir2d/quality.h (PSNR
 *        and SSIM as ffmpeg defines them, and the temporal delta) on video
 *        components in device memory. No GStreamer inside.
 *
 * Same conventions as cuda_filter.h: the caller's stream, a Result instead of
 * exceptions, a caller-provided workspace (size query first), no device-wide
 * synchronisation, no cudaSetDevice; the caller has made its CUDA context
 * current. Only the per-component sums (iir2d::quality::ComponentSums, a few
 * scalars) are written, into device memory the caller copies back.
 *
 * The sums are exact integers except ComponentSums::ssim_sum, a block-wise
 * reduction of the per-window SSIM values (each window value is bit-identical
 * to the CPU reference's, the order of the sum differs), deterministic from
 * run to run.
 */
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>

#include "iir2d/cuda_filter.h"  // Result, Status
#include "iir2d/filters.h"
#include "iir2d/quality.h"

namespace iir2d::quality::cuda {

using iir2d::cuda::Result;
using iir2d::cuda::Status;

/**
 * Bytes of workspace compare_components() needs for one width×height
 * reference component against `distorted` components: the reference's 4×4
 * block sums once (16 bytes per complete block), the distorted components'
 * block sums (24 bytes per block each, for at most kMaxBatch of them: longer
 * lists run in batches that reuse it), one double per thread block of the
 * window pass per component of a batch, alignment slack. 0 for an empty
 * component or `distorted` <= 0.
 */
std::size_t workspace_size(int width, int height, int distorted);

/// workspace_size(width, height, 1): what compare_component() needs.
std::size_t workspace_size(int width, int height);

/// Distorted components per batch of compare_components(): one launch of
/// each kernel covers this many (the rest of the list runs in further
/// batches on the same stream, against the same reference block sums).
constexpr int kMaxBatch = 8;

/**
 * One reference component against `n` distorted components, in one launch
 * sequence: the reference's 4×4 block sums (Σr, Σr²) are computed once and
 * used by every distorted component, whose SSE and SSIM sums are computed
 * side by side (one grid dimension per component, kMaxBatch at a time).
 *
 * `dist` is a host array of `n` device components, each of the reference's
 * width, height and depth (sample type, shift and pixel stride may differ);
 * `sums` a host array of `n` pointers into device memory, where
 * ComponentSums i is written (overwritten: zeroed first). Each result is
 * bit-identical to compare_component(ref, dist[i]) alone: the same integer
 * block and window sums, the same window values and the same summation
 * order of the SSIM sum. The host arrays may be freed when the call returns.
 *
 * `workspace` (device memory, any alignment) of at least
 * workspace_size(ref.width, ref.height, n) bytes, not used by other work
 * until the stream has run this. Asynchronous on `stream`; the sums are
 * complete once the stream has run the work. n == 0 does nothing.
 *
 * Errors (before any launch, nothing written): InvalidArgument for n < 0, a
 * null array or sums pointer, a distorted component that does not match
 * the reference (size, depth), a bad depth, a null data pointer with a
 * non-empty component, a null workspace where one is needed;
 * WorkspaceTooSmall. CudaError when a launch fails (the sums are then
 * undefined).
 */
Result compare_components(const ConstVideoComponent& ref, const ConstVideoComponent* dist, int n,
                          ComponentSums* const* sums, void* workspace, std::size_t workspace_bytes,
                          cudaStream_t stream);

/**
 * Computes the sums of one component pair into `*sums` (device memory):
 * SSE over every sample, SSIM over the complete 8×8 windows (see quality.h).
 * `ref` and `dist` are device components (any sample type, depth 1–16, shift,
 * pixel stride) of the same width, height and depth. Asynchronous on
 * `stream`; `*sums` is complete once the stream has run the work.
 * compare_components() with one distorted component.
 *
 * Errors: InvalidArgument for mismatched or negative sizes, a bad depth, a
 * null pointer with a non-empty component; WorkspaceTooSmall; CudaError when
 * a launch fails.
 */
Result compare_component(const ConstVideoComponent& ref, const ConstVideoComponent& dist, ComponentSums* sums,
                         void* workspace, std::size_t workspace_bytes, cudaStream_t stream);

/**
 * Σ |a − b| over the code values of two device components of the same size
 * into `*sum` (device memory, overwritten). No workspace. Errors as
 * compare_component().
 */
Result sum_abs_diff(const ConstVideoComponent& a, const ConstVideoComponent& b, unsigned long long* sum,
                    cudaStream_t stream);

}  // namespace iir2d::quality::cuda
