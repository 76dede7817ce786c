// SPDX-License-Identifier: MIT
/**
 * @file frame_kernels.cuh
 * @brief __global__ entry points of video_frame.cu (iir2d/cuda_video.h):
 *        normalising a group of components (or RGB's luma) into float
 *        planes, and blending, temporal smoothing and quantising the
 *        filtered planes back into the components. The 2-D filter between
 *        the two runs through the public filter_plane_f32/f64.
 *
 * One thread per pixel column; each walks rows with a grid stride (the grid
 * height is capped at kMaxGridY). Included by video_frame.cu only (needs nvcc).
 */
#pragma once

#include <cmath>
#include <cstddef>

#include "detail/video_samples.cuh"
#include "iir2d/frame_ops.h"

namespace iir2d::cuda::detail {

/// Up to three components read as normalised samples, and the float planes.
template <typename Store>
struct GroupPlanes {
  const unsigned char* src[kMaxGroupComponents];
  std::ptrdiff_t src_row_stride[kMaxGroupComponents];
  std::ptrdiff_t src_pixel_stride[kMaxGroupComponents];
  SampleFormat format[kMaxGroupComponents];
  Store max_code[kMaxGroupComponents];
  int count;          ///< components read (3 for RGB luma)
  bool luma;          ///< one plane of Y' of (R, G, B) instead of `count` planes
  LumaWeights weights;
  Store* planes;      ///< plane k starts plane_elems after plane k-1
  std::ptrdiff_t pitch_elems;
  std::ptrdiff_t plane_elems;
  int width, height;
};

/// x of the group's components at (x, y): normalised samples, in Store.
template <typename Store>
__device__ __forceinline__ void load_group_pixel(const GroupPlanes<Store>& g, int x, int y, Store* v) {
  for (int k = 0; k < g.count; ++k) {
    const unsigned char* p = g.src[k] + static_cast<std::ptrdiff_t>(y) * g.src_row_stride[k] +
                             static_cast<std::ptrdiff_t>(x) * g.src_pixel_stride[k];
    v[k] = normalise_code<Store>(load_code(p, g.format[k]), g.max_code[k]);
  }
}

/// Y' of normalised R, G, B, rounded to Store (refcpu/iir2d/frame.h).
template <typename Store>
__device__ __forceinline__ Store luma_sample(const GroupPlanes<Store>& g, const Store* v) {
  return static_cast<Store>(
      luma_of(static_cast<double>(v[0]), static_cast<double>(v[1]), static_cast<double>(v[2]), g.weights));
}

/// Calls f(x, y) for this thread's column and each of its rows (grid stride in y).
template <typename F>
__device__ __forceinline__ void for_each_pixel(int width, int height, F&& f) {
  const int x = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
  if (x >= width) return;
  for (int y = static_cast<int>(blockIdx.y * blockDim.y + threadIdx.y); y < height;
       y += static_cast<int>(gridDim.y * blockDim.y))
    f(x, y);
}

template <typename Store>
__global__ void group_load_kernel(const GroupPlanes<Store> g) {
  for_each_pixel(g.width, g.height, [&](int x, int y) {
    Store v[kMaxGroupComponents];
    load_group_pixel(g, x, y, v);
    Store* dst = g.planes + static_cast<std::ptrdiff_t>(y) * g.pitch_elems + x;
    if (g.luma) {
      dst[0] = luma_sample(g, v);
    } else {
      for (int k = 0; k < g.count; ++k) dst[k * g.plane_elems] = v[k];
    }
  });
}

/// Blend, temporal step and quantisation of the filtered planes.
template <typename Store, typename Acc>
struct GroupFinishParams {
  GroupPlanes<Store> in;  ///< the same view as the load; its planes now hold f
  unsigned char* dst[kMaxGroupComponents];
  std::ptrdiff_t dst_row_stride[kMaxGroupComponents];
  std::ptrdiff_t dst_pixel_stride[kMaxGroupComponents];
  double max_code_d[kMaxGroupComponents];
  Acc strength, one_minus_strength;
  TemporalParams temporal;
  float* state;           ///< null with temporal.mode Off
  std::ptrdiff_t state_plane;  ///< floats per state plane (width · height)
  bool state_valid;
};

/**
 * The temporal step of one pixel (the recursion of refcpu/iir2d/frame.h),
 * in double. This is the device's own loop, not refcpu's temporal_update,
 * so that the frame tests compare two implementations. Smoothing off: t = o
 * and the state (null then) is not touched. On: without a valid state t = o;
 * with one, the previous outputs p_k = state[k · plane], α from their mean
 * absolute difference to o (temporal_alpha of frame_ops.h), t_k = α·o_k +
 * (1−α)·p_k; the state becomes (float)t_k. With one rounding per operation
 * (--fmad=false) this gives refcpu's values to the bit: |o − p| computed
 * as fabs(o − p) equals refcpu's p − o where o <= p (round to nearest is
 * symmetric), and the sum starts from +0.
 */
__device__ __forceinline__ void temporal_step(const double* o, double* t, int count, const TemporalParams& temporal,
                                              float* state, std::ptrdiff_t plane, bool state_valid) {
  const bool smoothing = temporal.mode != TemporalMode::Off;
  if (smoothing && state_valid) {
    double prev[kMaxGroupComponents];
    double abs_diff = 0.0;
    for (int k = 0; k < count; ++k) {
      prev[k] = static_cast<double>(state[k * plane]);
      abs_diff += fabs(o[k] - prev[k]);
    }
    const double alpha = temporal_alpha(temporal, abs_diff / count);
    const double keep = 1.0 - alpha;
    for (int k = 0; k < count; ++k) t[k] = alpha * o[k] + keep * prev[k];
  } else {
    for (int k = 0; k < count; ++k) t[k] = o[k];
  }
  if (smoothing)
    for (int k = 0; k < count; ++k) state[k * plane] = static_cast<float>(t[k]);
}

template <typename Store, typename Acc>
__global__ void group_finish_kernel(const GroupFinishParams<Store, Acc> p) {
  const GroupPlanes<Store>& g = p.in;
  for_each_pixel(g.width, g.height, [&](int x, int y) {
    Store v[kMaxGroupComponents];
    load_group_pixel(g, x, y, v);
    const Store* f = g.planes + static_cast<std::ptrdiff_t>(y) * g.pitch_elems + x;
    const int filtered = g.luma ? 1 : g.count;
    Store luma = 0;
    if (g.luma) luma = luma_sample(g, v);
    double o[kMaxGroupComponents], t[kMaxGroupComponents];
    for (int k = 0; k < filtered; ++k) {
      const Store xk = g.luma ? luma : v[k];
      o[k] = static_cast<double>(p.strength * static_cast<Acc>(f[k * g.plane_elems]) +
                                 p.one_minus_strength * static_cast<Acc>(xk));
    }
    float* state = p.state ? p.state + static_cast<std::ptrdiff_t>(y) * g.width + x : nullptr;
    temporal_step(o, t, filtered, p.temporal, state, p.state_plane, p.state_valid);
    for (int k = 0; k < g.count; ++k) {
      const double value = g.luma ? static_cast<double>(v[k]) + (t[0] - static_cast<double>(luma)) : t[k];
      unsigned char* d = p.dst[k] + static_cast<std::ptrdiff_t>(y) * p.dst_row_stride[k] +
                         static_cast<std::ptrdiff_t>(x) * p.dst_pixel_stride[k];
      store_code(d, g.format[k], quantise_code(value, p.max_code_d[k]));
    }
  });
}

}  // namespace iir2d::cuda::detail
