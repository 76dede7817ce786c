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
  int field = -1;  // Filter, Group, RgbLuma: -1 the whole component, else the rows of field 0 (top) or 1
  int rows = 0;    // with a field: its rows of comp[0] (field_component_rows())
};

/* At most 4 components plus padding bytes: fixed storage, no allocation per
 * frame. */
struct FramePlan {
  static constexpr std::size_t kMaxOps = 12;  // 4 components, filtered ones twice (fields), padding
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

/* What the rows of one buffer are (element docs, "Interlaced video"). */
enum class Picture {
  Frame,        // one picture: progressive caps, field-mode=progressive, an unflagged buffer of mixed caps
  Fields,       // two interleaved fields, rows 0, 2, 4, ... (top) and 1, 3, 5, ... (bottom), each a picture
  TopField,     // interlace-mode=alternate: the buffer is a top field
  BottomField,  // interlace-mode=alternate: the buffer is a bottom field
};

/* The picture a buffer of these caps is under field-mode `mode`: caps
 * interleaved -> Fields; mixed -> Fields where the buffer has
 * GST_VIDEO_BUFFER_FLAG_INTERLACED, else Frame; alternate -> BottomField
 * where the buffer says so (GST_VIDEO_BUFFER_IS_BOTTOM_FIELD), else
 * TopField; progressive caps or mode progressive -> Frame. */
Picture picture_of_buffer(const GstVideoInfo* info, GstBuffer* buffer, GstIir2dFieldMode mode);

/* Rows of field `field` (0 top, 1 bottom) of a picture of `height` rows:
 * the top field has the extra row of an odd height. */
constexpr int field_rows(int height, int field) { return (height + 1 - field) / 2; }

/* Rows of field `field` of component `c` of interleaved caps: the field's
 * luma rows subsampled as the format subsamples a picture, so that 4:2:0
 * chroma rows alternate fields as GStreamer packs them (video-format.c,
 * GET_UV_420: luma row y has chroma row ((y & ~3) >> 1) + (y & 1)). Where
 * the frame height is 2 mod 4 the bottom field's last chroma row is one
 * past GST_VIDEO_INFO_COMP_HEIGHT; GStreamer's interlaced layouts allocate
 * it (video-info.c rounds their chroma rows up to even), and
 * field_extent_error() checks that a buffer holds it. */
int field_component_rows(const GstVideoInfo* info, guint c, int field);

/* The rows of field op `op` that a mapped frame holds: op.rows, or fewer
 * where the bottom field's last 4:2:0 chroma row is past
 * GST_VIDEO_INFO_COMP_HEIGHT and the memory ends before it (GStreamer's
 * P010/P016 layouts have no such row; its I420/NV12 interlaced ones do). */
int field_rows_held(const FrameOp& op, const GstVideoFrame* frame);

/* The ops of one frame for these caps and settings. Without temporal
 * smoothing, components are filtered one by one (Filter) except RGB's luma;
 * with it, the filtered components of one sampling grid form a Group so
 * that adaptive mode sees the pixel's motion over all of them. With
 * `fields` (Picture::Fields) every filtering op is planned once per field
 * (FrameOp::field), each with its own temporal state; copies are of whole
 * components either way. Copies whose plane no other op writes are marked
 * plane_alone (they may run beside the filters). */
FramePlan plan_frame(const GstVideoInfo* info, const std::vector<PaddingByte>& paddings, const Settings& s,
                     bool fields = false);

/* One 2-D copy of temporal state between the layouts of two plans, in
 * floats: `rows` rows of `width` floats from src (rows src_pitch apart) to
 * dst (rows dst_pitch apart), offsets from the start of each state. */
struct StateCopy {
  std::size_t dst = 0, src = 0, dst_pitch = 0, src_pitch = 0;
  int width = 0, rows = 0;
};

/* The copies that move the temporal state of plan `from` into the layout of
 * plan `to`, one of them planned with fields and the other without (a mixed
 * stream going from frames to field pairs or back): frame row y is row y/2
 * of field y%2 of each state plane. A field row the frame lacks (the extra
 * 4:2:0 chroma row of a height 2 mod 4) takes the frame's last row. Empty
 * when the plans have no temporal state. */
std::vector<StateCopy> state_relayout(const GstVideoInfo* info, const FramePlan& from, const FramePlan& to);

/* Temporal state any settings may need for these caps: one float per
 * sample of every component that can be filtered, and with
 * interlace-mode=alternate twice that (one set per field parity, the
 * bottom field's from state_offset_of()). */
std::size_t max_state_floats(const GstVideoInfo* info);

/* Where a picture's temporal state starts in max_state_floats(): the
 * bottom field of alternate caps has the second set, all others the first. */
std::size_t state_offset_of(const GstVideoInfo* info, Picture picture);

/* Y' weights of RGB caps (element docs, "RGB"): the matrix the caps'
 * colorimetry field names, else the primaries' matrix, else BT.709
 * (GstVideoInfo cannot tell: it forces the RGB matrix on RGB formats).
 * *name is the matrix's name, for the log. */
iir2d::LumaWeights luma_weights_for_caps(GstCaps* caps, const GstVideoInfo* info, const char** name);

}  // namespace iir2d::gst::filter
