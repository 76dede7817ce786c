// SPDX-License-Identifier: MIT
/**
 * @file component_check.h
 * @brief The argument checks of a video component, shared by every entry
 *        point that takes one (dispatch.cu, video_frame.cu).
 */
#pragma once

#include "detail/result_util.h"
#include "iir2d/cuda_filter.h"

namespace iir2d::cuda::detail {

constexpr int kMaxExtent = 1 << 28;  ///< largest width or height accepted

/// Bytes of one stored sample.
inline int sample_bytes(SampleType t) { return t == SampleType::U16 ? 2 : 1; }

inline Result check_extent(int width, int height) {
  if (width < 0 || height < 0) return invalid("negative width or height");
  if (width > kMaxExtent || height > kMaxExtent) return invalid("width or height too large");
  return Result{};
}

/**
 * A component's sample format (type, depth and shift fit), its size
 * (0..kMaxExtent) and, when it is not empty, its data and strides (a sample
 * fits its pixel stride, a row its row stride).
 */
template <typename Ptr>
Result check_component(const VideoComponentT<Ptr>& c) {
  if (c.type != SampleType::U8 && c.type != SampleType::U16) return invalid("unknown sample type");
  const int bytes = sample_bytes(c.type);
  if (c.depth < 1 || c.shift < 0 || c.depth + c.shift > 8 * bytes) return invalid("depth/shift do not fit the sample type");
  Result r = check_extent(c.width, c.height);
  if (!r) return r;
  if (c.width == 0 || c.height == 0) return Result{};
  if (c.data == nullptr) return invalid("null component data");
  if (c.pixel_stride < bytes) return invalid("pixel stride smaller than a sample");
  if (c.row_stride < c.pixel_stride * (c.width - 1) + bytes) return invalid("row stride smaller than a row");
  return Result{};
}

}  // namespace iir2d::cuda::detail
