// SPDX-License-Identifier: MIT
/**
 * @file quality.h
 * @brief Full-reference quality metrics of one video frame against another:
 *        PSNR and SSIM as ffmpeg's `psnr` and `ssim` filters define them, and
 *        the temporal-stability delta of the `qualitymeter` element.
 *
 * Definitions (shared by the CPU reference below and by cuda/, which must
 * agree with it to 1e-6):
 *
 *  - PSNR of a component: MSE = Σ(r − d)² / (w·h) over code values,
 *    PSNR = 10·log10(max² / MSE) with max = 2^depth − 1; identical
 *    components give +infinity. The frame average weights each component's
 *    MSE by its share of all samples and uses the equally weighted peak
 *    (ffmpeg `vf_psnr.c`, "psnr_avg").
 *  - SSIM of a component (x264's SSIM, ffmpeg `vf_ssim.c`): the component is
 *    cut into complete 4×4 blocks on a 4-sample grid (a partial block at the
 *    right or bottom edge is left out); every 2×2 group of neighbouring
 *    blocks is an 8×8 window; each window's SSIM is computed from its 64-sample
 *    sums with the stabilising constants scaled to those sums (ssim_c1(),
 *    ssim_c2()); the component's SSIM is the mean over its
 *    (W/4 − 1)·(H/4 − 1) windows. 'All' weights each component by its share
 *    of all samples. A component with no window (W < 8 or H < 8) has SSIM NaN,
 *    as in ffmpeg (0/0).
 *  - Temporal delta (luma or gray only): with codes normalised to [0, 1],
 *    | mean|d_t − d_{t−1}| − mean|r_t − r_{t−1}| |.
 *
 * The per-component sums (ComponentSums) are exact integers except the sum of
 * the window SSIMs, so two implementations can differ only in the order of
 * that one floating-point sum.
 */
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>

#include "iir2d/filters.h"

#if defined(__CUDACC__)
#define IIR2D_QUALITY_HD __host__ __device__ inline
#else
#define IIR2D_QUALITY_HD inline
#endif

namespace iir2d::quality {

/// Largest number of components of a frame (Y, U, V, A).
constexpr int kMaxComponents = 4;

/**
 * What a component pair contributes to the frame's metrics. Plain data, also
 * written by the CUDA kernels into device memory.
 */
struct ComponentSums {
  std::uint64_t sse = 0;           ///< Σ (r − d)² over every sample, in code values
  std::uint64_t samples = 0;       ///< width · height
  double ssim_sum = 0.0;           ///< Σ over the 8×8 windows of the window SSIM
  std::uint64_t ssim_windows = 0;  ///< (width/4 − 1) · (height/4 − 1), or 0
};

/// Number of complete 4×4 blocks along a side of n samples.
IIR2D_QUALITY_HD int ssim_blocks(int n) { return n >= 0 ? n / 4 : 0; }

/// Number of 8×8 windows (2×2 blocks, stepping one block) along a side of n samples.
IIR2D_QUALITY_HD int ssim_windows_along(int n) { return ssim_blocks(n) >= 2 ? ssim_blocks(n) - 1 : 0; }

/// SSIM constant C1 = (0.01·max)² scaled to 64-sample sums (×64), rounded.
IIR2D_QUALITY_HD std::int64_t ssim_c1(int max) {
  return static_cast<std::int64_t>(.01 * .01 * max * max * 64 + .5);
}

/// SSIM constant C2 = (0.03·max)² scaled to 64-sample sums with the N−1 covariance (×64·63), rounded.
IIR2D_QUALITY_HD std::int64_t ssim_c2(int max) {
  return static_cast<std::int64_t>(.03 * .03 * max * max * 64 * 63 + .5);
}

/**
 * SSIM of one 8×8 window from its sums over 64 sample pairs (r, d):
 * s1 = Σr, s2 = Σd, ss = Σr² + Σd², s12 = Σr·d; c1, c2 from ssim_c1/ssim_c2.
 * The integer parts are exact in int64 for samples of up to 16 bits.
 */
IIR2D_QUALITY_HD double ssim_window(std::int64_t s1, std::int64_t s2, std::int64_t ss, std::int64_t s12,
                                    std::int64_t c1, std::int64_t c2) {
  const std::int64_t vars = ss * 64 - s1 * s1 - s2 * s2;
  const std::int64_t covar = s12 * 64 - s1 * s2;
  const double num = static_cast<double>(2 * s1 * s2 + c1) * static_cast<double>(2 * covar + c2);
  const double den = static_cast<double>(s1 * s1 + s2 * s2 + c1) * static_cast<double>(vars + c2);
  return num / den;
}

/// Per-frame metrics. Components beyond `components` are NaN.
struct FrameMetrics {
  int components = 0;
  double psnr[kMaxComponents];  ///< dB; +inf for identical components
  double ssim[kMaxComponents];
  double psnr_avg = 0.0;        ///< from the sample-weighted MSE
  double ssim_all = 0.0;        ///< sample-weighted mean of the components' SSIM
  double temporal_delta = 0.0;  ///< 0 on the first frame
};

/// PSNR in dB of `sse` over `samples` codes with peak `max`: +inf when sse is 0, NaN without samples.
double psnr_db(std::uint64_t sse, std::uint64_t samples, double max);

/**
 * Frame metrics from the sums of its `n` components (n in [1, 4]) and their
 * bit depths, following ffmpeg's weighting. temporal_delta is left 0.
 */
FrameMetrics frame_metrics(const ComponentSums* sums, const int* depths, int n);

/**
 * The temporal delta from the two sums of absolute differences of
 * consecutive luma planes (distorted and reference, `samples` codes each, of
 * `depth` bits): |Σ|Δd| − Σ|Δr|| / (samples · max).
 */
double temporal_delta(std::uint64_t dist_abs_diff, std::uint64_t ref_abs_diff, std::uint64_t samples, int depth);

/* ---- CPU reference (naive loops, the oracle of the CUDA kernels) -------- */

/**
 * Sums of one component pair: SSE over all samples, SSIM over the complete
 * windows. `ref` and `dist` must have the same width, height and depth
 * (std::invalid_argument otherwise); samples are read as code values
 * (iir2d::ref::read_code), so any layout, pixel stride and shift works.
 */
ComponentSums compare_component(const ConstVideoComponent& ref, const ConstVideoComponent& dist);

/// Σ |a − b| over the code values of two components of the same size (std::invalid_argument otherwise).
std::uint64_t sum_abs_diff(const ConstVideoComponent& a, const ConstVideoComponent& b);

}  // namespace iir2d::quality
