// SPDX-License-Identifier: MIT
// iir2dfilter's frame plan; see frame_plan.h.
#include "frame_plan.h"

#include <algorithm>

namespace iir2d::gst::filter {

namespace {

/* Whether YUV/gray component `c` is filtered: luma/gray always, chroma with
 * planes=all, alpha never. */
bool component_is_filtered(const GstVideoInfo* info, guint c, GstIir2dPlanes planes) {
  if (GST_VIDEO_INFO_HAS_ALPHA(info) && c == GST_VIDEO_COMP_A) return false;
  if (c == 0) return true;  // GST_VIDEO_COMP_Y, or the gray component
  return planes == GST_IIR2D_PLANES_ALL;
}

/* Samples of component `c`, or of its rows of field `field` (>= 0). */
std::size_t comp_samples(const GstVideoInfo* info, guint c, int field = -1) {
  return static_cast<std::size_t>(GST_VIDEO_INFO_COMP_WIDTH(info, c)) *
         static_cast<std::size_t>(field < 0 ? GST_VIDEO_INFO_COMP_HEIGHT(info, c) : field_component_rows(info, c, field));
}

/* All components' samples but alpha: one picture's temporal state. Two
 * interleaved fields may have one 4:2:0 chroma row more than the frame
 * (field_component_rows()). */
std::size_t picture_state_floats(const GstVideoInfo* info) {
  const bool two_fields = GST_VIDEO_INFO_IS_INTERLACED(info) &&
                          GST_VIDEO_INFO_INTERLACE_MODE(info) != GST_VIDEO_INTERLACE_MODE_ALTERNATE;
  std::size_t total = 0;
  for (guint c = 0; c < GST_VIDEO_INFO_N_COMPONENTS(info); ++c) {
    if (GST_VIDEO_INFO_HAS_ALPHA(info) && c == GST_VIDEO_COMP_A) continue;
    total += two_fields ? std::max(comp_samples(info, c), comp_samples(info, c, 0) + comp_samples(info, c, 1))
                        : comp_samples(info, c);
  }
  return total;
}

}  // namespace

std::vector<PaddingByte> padding_bytes(const GstVideoInfo* info) {
  std::vector<PaddingByte> paddings;
  const GstVideoFormatInfo* finfo = info->finfo;
  for (guint p = 0; p < GST_VIDEO_INFO_N_PLANES(info); ++p) {
    gint pstride = 0;
    std::vector<bool> covered;
    for (guint c = 0; c < GST_VIDEO_INFO_N_COMPONENTS(info); ++c) {
      if (GST_VIDEO_FORMAT_INFO_PLANE(finfo, c) != p) continue;
      pstride = GST_VIDEO_FORMAT_INFO_PSTRIDE(finfo, c);
      covered.resize(static_cast<std::size_t>(std::max(pstride, 0)), false);
      const guint bytes = GST_VIDEO_FORMAT_INFO_BITS(finfo) > 8 ? 2 : 1;
      for (guint b = 0; b < bytes; ++b) {
        const guint at = GST_VIDEO_FORMAT_INFO_POFFSET(finfo, c) + b;
        if (at < covered.size()) covered[at] = true;
      }
    }
    for (std::size_t b = 0; b < covered.size(); ++b)
      if (!covered[b]) paddings.push_back(PaddingByte{p, static_cast<guint>(b)});
  }
  return paddings;
}

int field_component_rows(const GstVideoInfo* info, guint c, int field) {
  return GST_VIDEO_FORMAT_INFO_SCALE_HEIGHT(info->finfo, c, field_rows(GST_VIDEO_INFO_FIELD_HEIGHT(info), field));
}

int field_rows_held(const FrameOp& op, const GstVideoFrame* frame) {
  if (op.field < 0) return op.rows;
  const GstVideoFormatInfo* finfo = frame->info.finfo;
  const std::size_t sample = GST_VIDEO_FORMAT_INFO_BITS(finfo) > 8 ? 2 : 1;
  int rows = op.rows;
  for (int k = 0; k < op.count; ++k) {
    const guint c = op.comp[k];
    if (op.field + 2 * (rows - 1) < GST_VIDEO_FRAME_COMP_HEIGHT(frame, c)) continue;  // inside the frame
    const guint p = GST_VIDEO_FORMAT_INFO_PLANE(finfo, c);
    const GstMapInfo& map = frame->meta ? frame->map[p] : frame->map[0];
    const std::size_t w = static_cast<std::size_t>(GST_VIDEO_FRAME_COMP_WIDTH(frame, c));
    const std::size_t row_bytes = (w - 1) * static_cast<std::size_t>(GST_VIDEO_FRAME_COMP_PSTRIDE(frame, c)) + sample;
    const std::size_t offset = static_cast<std::size_t>(static_cast<const guint8*>(GST_VIDEO_FRAME_COMP_DATA(frame, c)) -
                                                        static_cast<const guint8*>(map.data));
    const std::size_t stride = static_cast<std::size_t>(GST_VIDEO_FRAME_COMP_STRIDE(frame, c));
    /* Rows whose last sample lies inside the map, then this field's of them. */
    const std::size_t held = map.size >= offset + row_bytes ? (map.size - offset - row_bytes) / stride + 1 : 0;
    rows = std::min(rows, std::max(0, (static_cast<int>(held) - op.field + 1) / 2));
  }
  return rows;
}

Picture picture_of_buffer(const GstVideoInfo* info, GstBuffer* buffer, GstIir2dFieldMode mode) {
  if (mode == GST_IIR2D_FIELD_MODE_PROGRESSIVE) return Picture::Frame;
  switch (GST_VIDEO_INFO_INTERLACE_MODE(info)) {
    case GST_VIDEO_INTERLACE_MODE_INTERLEAVED: return Picture::Fields;
    case GST_VIDEO_INTERLACE_MODE_MIXED:
      return GST_BUFFER_FLAG_IS_SET(buffer, GST_VIDEO_BUFFER_FLAG_INTERLACED) ? Picture::Fields : Picture::Frame;
    case GST_VIDEO_INTERLACE_MODE_ALTERNATE:
      return GST_VIDEO_BUFFER_IS_BOTTOM_FIELD(buffer) ? Picture::BottomField : Picture::TopField;
    default: return Picture::Frame;
  }
}

FramePlan plan_frame(const GstVideoInfo* info, const std::vector<PaddingByte>& paddings, const Settings& s,
                     bool fields) {
  FramePlan plan;
  const bool temporal = s.temporal();
  const bool active = s.strength > 0.0 || temporal;
  const guint n = GST_VIDEO_INFO_N_COMPONENTS(info);
  auto add_filtered = [&](const guint* comps, int count, bool rgb_luma) {
    FrameOp op;
    if (!active) {
      for (int k = 0; k < count; ++k) {
        op.kind = OpKind::Copy;
        op.comp[0] = comps[k];
        plan.add(op);
      }
      return;
    }
    /* Once for the whole component, or once per field that has rows. */
    auto add_per_field = [&](FrameOp field_op) {
      for (int field = fields ? 0 : -1; field < (fields ? 2 : 0); ++field) {
        field_op.field = field;
        field_op.rows = field < 0 ? 0 : field_component_rows(info, field_op.comp[0], field);
        if (field >= 0 && field_op.rows == 0) continue;
        if (temporal && field_op.kind != OpKind::Filter) {
          field_op.state_offset = plan.state_floats;
          plan.state_floats +=
              comp_samples(info, field_op.comp[0], field) * static_cast<std::size_t>(rgb_luma ? 1 : count);
        }
        plan.add(field_op);
      }
    };
    if (rgb_luma || (temporal && count > 0)) {
      op.kind = rgb_luma ? OpKind::RgbLuma : OpKind::Group;
      op.count = count;
      for (int k = 0; k < count; ++k) op.comp[k] = comps[k];
      add_per_field(op);
      return;
    }
    for (int k = 0; k < count; ++k) {
      op.kind = OpKind::Filter;
      op.comp[0] = comps[k];
      add_per_field(op);
    }
  };

  std::vector<bool> done(n, false);
  if (GST_VIDEO_INFO_IS_RGB(info)) {
    const guint rgb[3] = {GST_VIDEO_COMP_R, GST_VIDEO_COMP_G, GST_VIDEO_COMP_B};
    add_filtered(rgb, 3, s.planes == GST_IIR2D_PLANES_LUMA);
    for (guint c : rgb) done[c] = true;
  } else {
    /* Filtered components grouped by size, in component order. */
    for (guint c = 0; c < n; ++c) {
      if (done[c] || !component_is_filtered(info, c, s.planes)) continue;
      guint group[iir2d::kMaxGroupComponents];
      int count = 0;
      for (guint d = c; d < n && count < iir2d::kMaxGroupComponents; ++d)
        if (!done[d] && component_is_filtered(info, d, s.planes) &&
            GST_VIDEO_INFO_COMP_WIDTH(info, d) == GST_VIDEO_INFO_COMP_WIDTH(info, c) &&
            GST_VIDEO_INFO_COMP_HEIGHT(info, d) == GST_VIDEO_INFO_COMP_HEIGHT(info, c)) {
          group[count++] = d;
          done[d] = true;
        }
      add_filtered(group, count, false);
    }
  }
  for (guint c = 0; c < n; ++c) {
    if (done[c]) continue;
    FrameOp op;
    op.kind = OpKind::Copy;
    op.comp[0] = c;
    plan.add(op);
  }
  for (const PaddingByte& padding : paddings) {
    FrameOp op;
    op.kind = OpKind::CopyPadding;
    op.comp[0] = padding.plane;
    op.padding_offset = padding.offset;
    plan.add(op);
  }
  /* A copy whose plane no other op writes may run beside the filters (the
   * CUDA backend puts it on a second stream); one that shares its plane
   * with a filtered component (RGBA's alpha, NV12's V beside a filtered U)
   * stays in order with them. */
  auto plane_of = [info](guint c) { return GST_VIDEO_FORMAT_INFO_PLANE(info->finfo, c); };
  for (int i = 0; i < plan.n; ++i) {
    FrameOp& op = plan.ops[static_cast<std::size_t>(i)];
    if (op.kind != OpKind::Copy) continue;
    op.plane_alone = true;
    for (int j = 0; j < plan.n && op.plane_alone; ++j) {
      const FrameOp& other = plan.ops[static_cast<std::size_t>(j)];
      if (j == i || other.kind == OpKind::Copy) continue;
      if (other.kind == OpKind::CopyPadding) {
        op.plane_alone = other.comp[0] != plane_of(op.comp[0]);
        continue;
      }
      for (int k = 0; k < other.count; ++k)
        if (plane_of(other.comp[k]) == plane_of(op.comp[0])) op.plane_alone = false;
    }
  }
  return plan;
}

std::vector<StateCopy> state_relayout(const GstVideoInfo* info, const FramePlan& from, const FramePlan& to) {
  std::vector<StateCopy> copies;
  auto has_state = [](const FrameOp& op) { return op.kind == OpKind::Group || op.kind == OpKind::RgbLuma; };
  auto has_fields = [&](const FramePlan& plan) {
    for (int i = 0; i < plan.n; ++i)
      if (has_state(plan.ops[static_cast<std::size_t>(i)]) && plan.ops[static_cast<std::size_t>(i)].field >= 0)
        return true;
    return false;
  };
  const bool to_fields = has_fields(to);
  if (to_fields == has_fields(from)) return copies;
  const FramePlan& frames = to_fields ? from : to;
  const FramePlan& fields = to_fields ? to : from;
  for (int i = 0; i < frames.n; ++i) {
    const FrameOp& f = frames.ops[static_cast<std::size_t>(i)];
    if (!has_state(f)) continue;
    const std::size_t w = static_cast<std::size_t>(GST_VIDEO_INFO_COMP_WIDTH(info, f.comp[0]));
    const int h = GST_VIDEO_INFO_COMP_HEIGHT(info, f.comp[0]);
    const int planes = f.kind == OpKind::RgbLuma ? 1 : f.count;
    for (int j = 0; j < fields.n; ++j) {
      const FrameOp& g = fields.ops[static_cast<std::size_t>(j)];
      if (!has_state(g) || g.kind != f.kind || g.comp[0] != f.comp[0] || g.field < 0) continue;
      const int frame_rows = field_rows(h, g.field);  // this field's rows inside the frame
      for (int k = 0; k < planes; ++k) {
        StateCopy c;
        const std::size_t frame_at = f.state_offset + static_cast<std::size_t>(k) * w * static_cast<std::size_t>(h) +
                                     static_cast<std::size_t>(g.field) * w;
        const std::size_t field_at = g.state_offset + static_cast<std::size_t>(k) * w * static_cast<std::size_t>(g.rows);
        c.width = static_cast<int>(w);
        c.rows = std::min(frame_rows, g.rows);
        c.src = to_fields ? frame_at : field_at;
        c.src_pitch = to_fields ? 2 * w : w;
        c.dst = to_fields ? field_at : frame_at;
        c.dst_pitch = to_fields ? w : 2 * w;
        if (c.rows > 0) copies.push_back(c);
        if (to_fields && g.rows > frame_rows && h > 0) {
          /* The field's extra chroma row: the frame's last row. */
          StateCopy extra = c;
          extra.src = f.state_offset + static_cast<std::size_t>(k) * w * static_cast<std::size_t>(h) +
                      static_cast<std::size_t>(h - 1) * w;
          extra.dst = field_at + static_cast<std::size_t>(frame_rows) * w;
          extra.rows = 1;  // field_component_rows() exceeds the frame by one row at most
          extra.src_pitch = w;
          extra.dst_pitch = w;
          copies.push_back(extra);
        }
      }
    }
  }
  return copies;
}

std::size_t max_state_floats(const GstVideoInfo* info) {
  const bool alternate = GST_VIDEO_INFO_INTERLACE_MODE(info) == GST_VIDEO_INTERLACE_MODE_ALTERNATE;
  return picture_state_floats(info) * (alternate ? 2 : 1);
}

std::size_t state_offset_of(const GstVideoInfo* info, Picture picture) {
  return picture == Picture::BottomField ? picture_state_floats(info) : 0;
}

iir2d::LumaWeights luma_weights_for_caps(GstCaps* caps, const GstVideoInfo* info, const char** name) {
  GstVideoColorMatrix matrix = GST_VIDEO_COLOR_MATRIX_UNKNOWN;
  const gchar* text = gst_structure_get_string(gst_caps_get_structure(caps, 0), "colorimetry");
  GstVideoColorimetry written;
  if (text && gst_video_colorimetry_from_string(&written, text)) matrix = written.matrix;
  if (matrix == GST_VIDEO_COLOR_MATRIX_RGB || matrix == GST_VIDEO_COLOR_MATRIX_UNKNOWN) {
    switch (info->colorimetry.primaries) {
      case GST_VIDEO_COLOR_PRIMARIES_BT2020: matrix = GST_VIDEO_COLOR_MATRIX_BT2020; break;
      case GST_VIDEO_COLOR_PRIMARIES_BT470BG:
      case GST_VIDEO_COLOR_PRIMARIES_SMPTE170M: matrix = GST_VIDEO_COLOR_MATRIX_BT601; break;
      case GST_VIDEO_COLOR_PRIMARIES_SMPTE240M: matrix = GST_VIDEO_COLOR_MATRIX_SMPTE240M; break;
      default: matrix = GST_VIDEO_COLOR_MATRIX_BT709; break;
    }
  }
  iir2d::LumaWeights w = iir2d::kLumaBt709;
  if (!gst_video_color_matrix_get_Kr_Kb(matrix, &w.kr, &w.kb)) {
    w = iir2d::kLumaBt709;
    matrix = GST_VIDEO_COLOR_MATRIX_BT709;
  }
  switch (matrix) {
    case GST_VIDEO_COLOR_MATRIX_BT601: *name = "BT.601"; break;
    case GST_VIDEO_COLOR_MATRIX_BT2020: *name = "BT.2020"; break;
    case GST_VIDEO_COLOR_MATRIX_SMPTE240M: *name = "SMPTE 240M"; break;
    case GST_VIDEO_COLOR_MATRIX_FCC: *name = "FCC"; break;
    default: *name = "BT.709"; break;
  }
  return w;
}

}  // namespace iir2d::gst::filter
