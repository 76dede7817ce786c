// SPDX-License-Identifier: MIT
/**
 * @file video_plane.h
 * @brief Internal entry points (not part of the public API) for planes of
 *        normalised video samples that will be quantised again, used by the
 *        frame operations of video_frame.cu.
 */
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>

#include "iir2d/cuda_filter.h"

namespace iir2d::cuda::detail {

/**
 * filter_plane_f32 (or _f64 below) for a plane of video samples normalised
 * from `depth`-bit codes that will be rounded back to `depth` bits. The same
 * contract and checks as the public functions; the only difference is the
 * choice of row pass: where a reordered float32 sum could move the rounded
 * codes (f32 precision, depth above Tuning::scan_f32_max_depth) the row pass
 * keeps refcpu's order of operations, as filter_video_component does.
 */
Result filter_video_plane_f32(const float* in, std::size_t in_pitch, float* out, std::size_t out_pitch, int width,
                              int height, const FilterParams& params, int depth, void* workspace,
                              std::size_t workspace_bytes, cudaStream_t stream);

/// As filter_video_plane_f32 for float64 planes (precision f64: any row pass keeps the codes).
Result filter_video_plane_f64(const double* in, std::size_t in_pitch, double* out, std::size_t out_pitch, int width,
                              int height, const FilterParams& params, int depth, void* workspace,
                              std::size_t workspace_bytes, cudaStream_t stream);

}  // namespace iir2d::cuda::detail
