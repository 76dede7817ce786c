// SPDX-License-Identifier: MIT
// Formats, caps and video components of both elements; see formats.h.
#include "formats.h"

#include <algorithm>
#include <string>

#include "cuda_session.h"

namespace iir2d::gst {

GstCaps* element_caps(bool alternate) {
  static const char kSystem[] = GST_VIDEO_CAPS_MAKE(IIR2D_SYSTEM_FORMATS);
  static const char kCuda[] = GST_VIDEO_CAPS_MAKE_WITH_FEATURES(IIR2D_CAPS_FEATURE_CUDA_MEMORY, IIR2D_CUDA_FORMATS);
  static const char kAlternate[] =
      GST_VIDEO_CAPS_MAKE_WITH_FEATURES(IIR2D_CAPS_FEATURE_FORMAT_INTERLACED, IIR2D_SYSTEM_FORMATS)
      ", interlace-mode = (string) alternate";
  std::string text = cuda_built() ? std::string(kCuda) + "; " + kSystem : std::string(kSystem);
  if (alternate) text += std::string("; ") + kAlternate;
  return gst_caps_from_string(text.c_str());
}

GstPadTemplate* element_pad_template(const char* name, GstPadDirection direction, GstPadPresence presence,
                                     GType pad_type, bool alternate) {
  GstCaps* caps = element_caps(alternate);
  GstPadTemplate* templ = pad_type == G_TYPE_NONE
                              ? gst_pad_template_new(name, direction, presence, caps)
                              : gst_pad_template_new_with_gtype(name, direction, presence, caps, pad_type);
  gst_caps_unref(caps);
  return templ;
}

bool caps_are_cuda(GstCaps* caps) {
  GstCapsFeatures* f = caps && !gst_caps_is_empty(caps) ? gst_caps_get_features(caps, 0) : nullptr;
  return f && gst_caps_features_contains(f, IIR2D_CAPS_FEATURE_CUDA_MEMORY);
}

std::string describe_format(const GstVideoInfo* info) {
  return std::string(GST_VIDEO_INFO_NAME(info)) + " " + std::to_string(GST_VIDEO_INFO_WIDTH(info)) + "x" +
         std::to_string(GST_VIDEO_INFO_HEIGHT(info));
}

std::string frame_extent_error(const GstVideoFrame* frame) {
  const GstVideoFormatInfo* finfo = frame->info.finfo;
  const std::size_t sample = GST_VIDEO_FORMAT_INFO_BITS(finfo) > 8 ? 2 : 1;
  for (guint p = 0; p < GST_VIDEO_FRAME_N_PLANES(frame); ++p) {
    /* Without a GstVideoMeta the whole buffer is map[0] (whose size
     * gst_video_frame_map has checked); with one, each plane has its map. */
    const GstMapInfo& map = frame->meta ? frame->map[p] : frame->map[0];
    const auto* base = static_cast<const guint8*>(map.data);
    const auto* data = static_cast<const guint8*>(frame->data[p]);
    const gint stride = GST_VIDEO_FRAME_PLANE_STRIDE(frame, p);
    std::size_t rows = 0, row_bytes = 0;
    for (guint c = 0; c < GST_VIDEO_FRAME_N_COMPONENTS(frame); ++c) {
      if (GST_VIDEO_FORMAT_INFO_PLANE(finfo, c) != p) continue;
      const std::size_t w = static_cast<std::size_t>(GST_VIDEO_FRAME_COMP_WIDTH(frame, c));
      const std::size_t h = static_cast<std::size_t>(GST_VIDEO_FRAME_COMP_HEIGHT(frame, c));
      const std::size_t pstride = static_cast<std::size_t>(GST_VIDEO_FRAME_COMP_PSTRIDE(frame, c));
      rows = std::max(rows, h);
      if (w > 0) row_bytes = std::max(row_bytes, GST_VIDEO_FORMAT_INFO_POFFSET(finfo, c) + (w - 1) * pstride + sample);
    }
    if (rows == 0 || row_bytes == 0) continue;
    if (data < base || stride < 0 || (rows > 1 && static_cast<std::size_t>(stride) < row_bytes))
      return "plane " + std::to_string(p) + " has stride " + std::to_string(stride) + " for rows of " +
             std::to_string(row_bytes) + " bytes";
    const std::size_t need = static_cast<std::size_t>(data - base) + (rows - 1) * static_cast<std::size_t>(stride) +
                             row_bytes;
    if (need > map.size)
      return "plane " + std::to_string(p) + " needs " + std::to_string(need) + " bytes (stride " +
             std::to_string(stride) + ", " + std::to_string(rows) + " rows), the memory has " +
             std::to_string(map.size);
  }
  return {};
}

void install_cuda_device_id_property(GObjectClass* klass, guint prop_id, gint default_id) {
  g_object_class_install_property(
      klass, prop_id,
      g_param_spec_int("cuda-device-id", "CUDA device id",
                       "CUDA device for CUDA-memory video (-1 = any: the pipeline's context, else device 0)", -1,
                       G_MAXINT, default_id,
                       GParamFlags(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY)));
}

GType register_enum_once(GType* type, const char* name, const GEnumValue* values) {
  if (g_once_init_enter(type)) {
    GType t = g_enum_register_static(name, values);
    g_once_init_leave(type, t);
  }
  return *type;
}

}  // namespace iir2d::gst
