// SPDX-License-Identifier: MIT
/**
 * @file cuda_video.h
 * @brief CUDA twin of refcpu/iir2d/frame.h: several components of one pixel
 *        grid filtered together with temporal smoothing, and RGB filtered
 *        through its luma, on device memory.
 *
 * Built on the public API of cuda_filter.h: the samples are normalised into
 * float planes of the workspace, filtered there by filter_plane_f32/f64 (so
 * these paths get faster with those kernels), then blended, smoothed in time
 * and quantised by one kernel. Same conventions as cuda_filter.h: the
 * caller's stream and workspace, a Result, no allocation, no device-wide
 * synchronisation; built with --fmad=false so that results equal refcpu's
 * (frame.h gives the arithmetic).
 *
 * The temporal state is caller-owned device memory: state_elements() floats
 * (refcpu/iir2d/frame.h), `count` planes of width·height, rows packed. It is
 * read and written on `stream` only.
 */
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>

#include "iir2d/cuda_filter.h"
#include "iir2d/filters.h"
#include "iir2d/frame_ops.h"

namespace iir2d::cuda {

/**
 * Bytes of workspace that filter_component_group (with this `count`) and
 * filter_rgb_luma (count 1) need for width×height components with these
 * parameters: `count` pitched planes of the I/O type, the workspace of
 * filter_plane_f32/f64 and alignment slack. 0 for an empty size.
 */
std::size_t group_workspace_size(int width, int height, int count, const FilterParams& params);

/**
 * The largest group_workspace_size() over every filter id, border mode and
 * initialisation, precision and sigma in [kMinSigma, kMaxSigma]: enough
 * whatever those properties become while playing.
 */
std::size_t max_group_workspace_size(int width, int height, int count);

/**
 * As refcpu::filter_component_group (frame.h) on device memory: `count`
 * (1..3) components of one size filtered, blended with `strength`, smoothed
 * in time with the state unless temporal.mode is Off (then `state` may be
 * null), quantised into out[k]. in[k] and out[k] may be the same component;
 * components must not overlap otherwise. `state_valid` false initialises the
 * state from this frame.
 *
 * Errors: InvalidArgument (as filter_video_component, plus a bad count,
 * components of different sizes, a null state where one is needed),
 * WorkspaceTooSmall, CudaError. Asynchronous on `stream`.
 */
Result filter_component_group(const ConstVideoComponent* in, const VideoComponent* out, int count,
                              const FilterParams& params, double strength, const TemporalParams& temporal,
                              float* state, bool state_valid, void* workspace, std::size_t workspace_bytes,
                              cudaStream_t stream);

/**
 * As refcpu::filter_rgb_luma (frame.h) on device memory: in[0..2] and
 * out[0..2] are R, G and B; Y' of `weights` is filtered, blended, smoothed in
 * time (one state plane) and added back to each channel as c + (t − Y').
 */
Result filter_rgb_luma(const ConstVideoComponent* in, const VideoComponent* out, const LumaWeights& weights,
                       const FilterParams& params, double strength, const TemporalParams& temporal, float* state,
                       bool state_valid, void* workspace, std::size_t workspace_bytes, cudaStream_t stream);

}  // namespace iir2d::cuda
