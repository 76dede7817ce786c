// SPDX-License-Identifier: MIT
/*
 * iir2dfilter's frame plan: what happens to each component of a frame for
 * given caps and settings (filtered alone, filtered as a group with
 * temporal smoothing, RGB through its luma, copied), computed from a
 * GstVideoInfo alone, so that it can be tested without a pipeline.
 */
#pragma once

#include <gst/gst.h>
#include <gst/video/video.h>

#include <array>
#include <cstddef>
#include <vector>

#include "iir2d/frame.h"
#include "settings.h"

namespace iir2d::gst::filter {

enum class OpKind {
  Copy,         // component copied bit-exact (unfiltered chroma, alpha)
  CopyPadding,  // a padding byte of a packed plane (the x of RGBx), copied
  Filter,       // one component filtered (contract section 5)
  Group,        // 1..3 components of one pixel grid, filtered with temporal smoothing
  RgbLuma,      // R, G, B through Y' of the stream's matrix
};

struct FrameOp {
  OpKind kind = OpKind::Copy;
  int count = 1;                                // components in comp[] (Group, RgbLuma)
  guint comp[iir2d::kMaxGroupComponents] = {};  // CopyPadding: the plane in comp[0]
  guint padding_offset = 0;                     // CopyPadding: byte offset in the pixel
  std::size_t state_offset = 0;                 // floats into the temporal state
  bool plane_alone = false;                     // Copy: no other op writes its plane
};

/* At most 4 components plus padding bytes: fixed storage, no allocation per
 * frame. */
struct FramePlan {
  static constexpr std::size_t kMaxOps = 8;
  std::array<FrameOp, kMaxOps> ops{};
  int n = 0;
  std::size_t state_floats = 0;  // temporal state the plan uses
  void add(const FrameOp& op) {
    if (static_cast<std::size_t>(n) < kMaxOps) ops[static_cast<std::size_t>(n++)] = op;
  }
};

/* A byte of a packed plane that belongs to no component (the x of RGBx). */
struct PaddingByte {
  guint plane = 0;
  guint offset = 0;
};

/* The padding bytes of these caps' packed planes. */
std::vector<PaddingByte> padding_bytes(const GstVideoInfo* info);

/* The ops of one frame for these caps and settings. Without temporal
 * smoothing, components are filtered one by one (Filter) except RGB's luma;
 * with it, the filtered components of one sampling grid form a Group so
 * that adaptive mode sees the pixel's motion over all of them. Copies whose
 * plane no other op writes are marked plane_alone (they may run beside the
 * filters). */
FramePlan plan_frame(const GstVideoInfo* info, const std::vector<PaddingByte>& paddings, const Settings& s);

/* Temporal state any settings may need for these caps: one float per
 * sample of every component that can be filtered. */
std::size_t max_state_floats(const GstVideoInfo* info);

/* Y' weights of RGB caps (element docs, "RGB"): the matrix the caps'
 * colorimetry field names, else the primaries' matrix, else BT.709
 * (GstVideoInfo cannot tell: it forces the RGB matrix on RGB formats).
 * *name is the matrix's name, for the log. */
iir2d::LumaWeights luma_weights_for_caps(GstCaps* caps, const GstVideoInfo* info, const char** name);

}  // namespace iir2d::gst::filter
