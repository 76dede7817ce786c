// SPDX-License-Identifier: MIT
/**
 * @file frame.h
 * @brief CPU reference of iir2dfilter's frame-level operations: several
 *        components of one pixel grid filtered together (for temporal
 *        smoothing), and RGB filtered through its luma.
 *
 * Builds on refcpu.h (contract section 5 for one component) and the
 * definitions of frame_ops.h. Naive on purpose, like refcpu.cpp: the oracle
 * of cuda/video_frame.cu and of the element's system-memory path.
 *
 * Sample arithmetic, per pixel, with Store the I/O type of params.precision
 * (float32 for f32/mixed, float64 for f64) and Acc its recursion type:
 *  - x = v / max in Store (as refcpu::filter_video_component);
 *  - f = the 2-D filter of the x plane (refcpu::filter_plane);
 *  - o = s·f + (1−s)·x in Acc, then taken to double;
 *  - temporal (mode not Off): p = the state (float32); with a valid state,
 *    m = (Σ_k |o_k − p_k|) / count, α = temporal_alpha(m),
 *    t_k = α·o_k + (1−α)·p_k in double; without one, t_k = o_k; the state
 *    becomes (float)t_k. Mode Off: t_k = o_k and the state is not touched;
 *  - written as quantize(t_k) (round half away from zero, clamped).
 *
 * State layout: `count` planes of width·height floats, component after
 * component, rows packed (state_elements()).
 */
#pragma once

#include <cstddef>

#include "iir2d/filters.h"
#include "iir2d/frame_ops.h"

namespace iir2d {

/**
 * One pixel's step of the temporal recursion of the file comment, in double:
 * o[0..count) are the blended values, state[k * plane_stride] the previous
 * outputs (float32). With `state_valid`, m = (Σ_k |o_k − p_k|) / count,
 * α = temporal_alpha(m), t_k = α·o_k + (1−α)·p_k; without, t_k = o_k. The
 * state becomes (float)t_k. Mode Off: t_k = o_k, state untouched (may be
 * null). The reference's loop (refcpu/frame.cpp); the CUDA frame kernels
 * have their own (cuda/detail/frame_kernels.cuh).
 */
void temporal_update(const double* o, double* t, int count, const TemporalParams& temporal, float* state,
                     std::ptrdiff_t plane_stride, bool state_valid);

}  // namespace iir2d

namespace iir2d::ref {

/// Floats of temporal state for `count` components of width×height.
inline std::size_t state_elements(int width, int height, int count) {
  if (width <= 0 || height <= 0 || count <= 0) return 0;
  return static_cast<std::size_t>(width) * static_cast<std::size_t>(height) * static_cast<std::size_t>(count);
}

/**
 * Filters `count` (1..kMaxGroupComponents) components that share one
 * sampling grid and are the components of one pixel (R, G, B; Y, U, V of
 * 4:4:4; U and V of 4:2:0; or a lone Y or gray), each as
 * filter_video_component does, then applies the temporal recursion of the
 * file comment with α per pixel from the mean over the group. With
 * temporal.mode == Off the output equals filter_video_component's on each
 * component and `state` may be null.
 *
 * All components have in[0]'s size; out[k] has in[k]'s sample format;
 * `state` holds state_elements(width, height, count) floats; with
 * `state_valid` false it is initialised from this frame (t = o).
 * Throws std::invalid_argument for bad arguments (as refcpu.h).
 */
void filter_component_group(const ConstVideoComponent* in, const VideoComponent* out, int count,
                            const FilterParams& params, double strength, const TemporalParams& temporal,
                            float* state, bool state_valid);

/**
 * RGB through its luma (`planes=luma` on RGB video): with r, g, b the
 * normalised samples (Store) of in[0], in[1], in[2] (R, G, B),
 *   y = (Store) luma_of(r, g, b, weights)      (Y' of the Y'CbCr matrix)
 *   f = the 2-D filter of the y plane,  o = s·f + (1−s)·y  (Acc),
 *   t = the temporal recursion of o (one state plane; count 1),
 *   each channel c' = c + (t − y) in double, quantised into out[c].
 * Converting to Y'CbCr, replacing Y' by t and converting back with the same
 * matrix gives exactly c + (t − y) for R, G and B (Cb and Cr are kept, and
 * kr + kg + kb = 1), so no chroma is ever computed.
 */
void filter_rgb_luma(const ConstVideoComponent* in, const VideoComponent* out, const LumaWeights& weights,
                     const FilterParams& params, double strength, const TemporalParams& temporal, float* state,
                     bool state_valid);

}  // namespace iir2d::ref
