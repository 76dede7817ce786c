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
 * Bytes of workspace compare_component() needs for a width×height component:
 * the 4×4 block sums (32 bytes per complete block), one double per thread
 * block of the window pass, alignment slack. 0 for an empty component.
 */
std::size_t workspace_size(int width, int height);

/**
 * Computes the sums of one component pair into `*sums` (device memory):
 * SSE over every sample, SSIM over the complete 8×8 windows (see quality.h).
 * `ref` and `dist` are device components (any sample type, depth 1–16, shift,
 * pixel stride) of the same width, height and depth. Asynchronous on
 * `stream`; `*sums` is complete once the stream has run the work.
 *
 * Errors: InvalidArgument for mismatched or negative sizes, a bad depth, a
 * null pointer with a non-empty component; WorkspaceTooSmall; CudaError when
 * a launch or the initial cudaMemsetAsync fails.
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
