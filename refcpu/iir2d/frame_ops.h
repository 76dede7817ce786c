// SPDX-License-Identifier: MIT
/**
 * @file frame_ops.h
 * @brief Definitions of iir2dfilter's frame-level operations over video
 *        components, shared by refcpu/ (frame.cpp, the oracle) and cuda/
 *        (video_frame.cu): the luma weights of RGB `planes=luma`, the
 *        temporal smoothing parameters and the per-pixel α of its adaptive
 *        mode, and the element's sigma range.
 *
 * These go beyond docs/FILTER_CONTRACT.md (which ends at one component,
 * section 5); the equations are stated here and in refcpu/iir2d/frame.h. As
 * in filters.h, this header holds definitions only: parameter types,
 * constants and closed-form per-pixel formulas (luma_of, temporal_alpha,
 * temporal_params_valid). The loops that apply them live separately, so
 * that comparing the two catches a mistake in either: refcpu's
 * temporal_update (iir2d/frame.h, refcpu/frame.cpp) and the CUDA frame
 * kernels' own step (cuda/detail/frame_kernels.cuh).
 *
 * Header-only, C++17 standard library only; the formulas are usable from
 * CUDA device code.
 */
#pragma once

#include "iir2d/filters.h"

#if defined(__CUDACC__)
#define IIR2D_FRAME_HD __host__ __device__ inline
#else
#define IIR2D_FRAME_HD inline
#endif

namespace iir2d {

/// Range of FilterParams::sigma that the element accepts (its `sigma` property).
constexpr double kMinSigma = 0.5;
constexpr double kMaxSigma = 64.0;

/// Most components filtered together as one pixel's components (R, G, B or Y, U, V).
constexpr int kMaxGroupComponents = 3;

/**
 * Luma weights of a Y'CbCr matrix: Y' = kr·R' + kg·G' + kb·B' with
 * kg = 1 − kr − kb, on normalised R'G'B' in [0, 1] (the published values of
 * ITU-R BT.709, BT.601 and BT.2020; GStreamer's
 * gst_video_color_matrix_get_Kr_Kb gives the same).
 */
struct LumaWeights {
  double kr = 0.2126;
  double kb = 0.0722;
};
constexpr LumaWeights kLumaBt709{0.2126, 0.0722};
constexpr LumaWeights kLumaBt601{0.299, 0.114};
constexpr LumaWeights kLumaBt2020{0.2627, 0.0593};

/**
 * Y' of normalised R', G', B', evaluated in double in this order:
 * (kr·r + kg·g) + kb·b.
 */
IIR2D_FRAME_HD double luma_of(double r, double g, double b, const LumaWeights& w) {
  const double kg = 1.0 - w.kr - w.kb;
  return w.kr * r + kg * g + w.kb * b;
}

/// Temporal smoothing of the element's output (`temporal-mode`).
enum class TemporalMode : int {
  Off = 0,      ///< no temporal smoothing
  Fixed = 1,    ///< one α for every pixel
  Adaptive = 2, ///< α per pixel from the motion at that pixel
};

/**
 * Parameters of the temporal recursion out_t = α·o_t + (1−α)·out_{t−1}, where
 * o_t is the strength-blended filtered value (before quantisation) and
 * out_{t−1} the previous output, kept in float32 per filtered sample.
 */
struct TemporalParams {
  TemporalMode mode = TemporalMode::Off;
  double alpha = 0.9;             ///< α of Fixed mode
  double alpha_min = 0.10;        ///< Adaptive: α where the pixel does not move
  double alpha_max = 0.95;        ///< Adaptive: α where it moves by motion_threshold or more
  double motion_threshold = 0.08; ///< Adaptive: mean absolute difference (normalised) that counts as full motion
};

/**
 * α of one pixel. Fixed: `alpha`. Adaptive: r = m / motion_threshold clipped
 * to [0, 1] (m the mean absolute difference between o_t and out_{t−1} over
 * the pixel's filtered components; a threshold of 0 makes any difference full
 * motion; NaN counts as no motion), α = alpha_min + (alpha_max − alpha_min)·r.
 */
IIR2D_FRAME_HD double temporal_alpha(const TemporalParams& t, double mean_abs_diff) {
  if (t.mode != TemporalMode::Adaptive) return t.alpha;
  double r;
  if (t.motion_threshold > 0.0)
    r = mean_abs_diff / t.motion_threshold;
  else
    r = mean_abs_diff > 0.0 ? 1.0 : 0.0;
  if (!(r > 0.0)) r = 0.0;
  if (r > 1.0) r = 1.0;
  return t.alpha_min + (t.alpha_max - t.alpha_min) * r;
}

/// Whether the mode is known, the α values are in [0, 1] and the threshold is >= 0.
IIR2D_FRAME_HD bool temporal_params_valid(const TemporalParams& t) {
  const bool mode_ok =
      t.mode == TemporalMode::Off || t.mode == TemporalMode::Fixed || t.mode == TemporalMode::Adaptive;
  return mode_ok && t.alpha >= 0.0 && t.alpha <= 1.0 && t.alpha_min >= 0.0 && t.alpha_min <= 1.0 &&
         t.alpha_max >= 0.0 && t.alpha_max <= 1.0 && t.motion_threshold >= 0.0;
}

}  // namespace iir2d
