// SPDX-License-Identifier: MIT
// Formats, caps and video components of both elements; see formats.h.
#include "formats.h"

#include <algorithm>
#include <iterator>
#include <string>

#include "cuda_session.h"

namespace iir2d::gst {

namespace {

bool running_at_least(guint major, guint minor) {
  guint M = 0, m = 0, micro = 0, nano = 0;
  gst_version(&M, &m, &micro, &nano);
  return M > major || (M == major && m >= minor);
}

/* The names of a "{ A, B }" list string. */
std::vector<std::string> split_list(const char* list) {
  std::vector<std::string> out;
  std::string name;
  for (const char* p = list;; ++p) {
    if (*p == ',' || *p == '}' || *p == '\0') {
      if (!name.empty()) out.push_back(name);
      name.clear();
      if (*p != ',') break;
    } else if (*p != '{' && *p != ' ') {
      name += *p;
    }
  }
  return out;
}

}  // namespace

std::vector<std::string> element_formats(bool cuda) {
  std::vector<std::string> names = split_list(cuda ? IIR2D_CUDA_FORMATS : IIR2D_SYSTEM_FORMATS);
  if (running_at_least(1, 24)) {
    static const char* const kSystem124[] = {IIR2D_SYSTEM_FORMATS_SINCE_1_24};
    static const char* const kCuda124[] = {IIR2D_CUDA_FORMATS_SINCE_1_24};
    for (const char* f : cuda ? std::vector<const char*>(std::begin(kCuda124), std::end(kCuda124))
                              : std::vector<const char*>(std::begin(kSystem124), std::end(kSystem124)))
      /* Only names this libgstvideo knows (a plugin built on 1.22 may run on 1.24+). */
      if (gst_video_format_from_string(f) != GST_VIDEO_FORMAT_UNKNOWN &&
          std::find(names.begin(), names.end(), f) == names.end())
        names.emplace_back(f);
  }
  return names;
}

GstCaps* element_caps(bool alternate) {
  GstCaps* caps = gst_caps_new_empty();
  for (const bool cuda : {true, false}) {
    if (cuda && !cuda_usable()) continue;
    GstCaps* one = gst_caps_from_string(GST_VIDEO_CAPS_MAKE("I420"));
    GValue list = G_VALUE_INIT;
    gst_value_list_init(&list, 0);
    for (const std::string& name : element_formats(cuda)) {
      GValue v = G_VALUE_INIT;
      g_value_init(&v, G_TYPE_STRING);
      g_value_set_string(&v, name.c_str());
      gst_value_list_append_and_take_value(&list, &v);
    }
    gst_caps_set_value(one, "format", &list);
    g_value_unset(&list);
    if (cuda) gst_caps_set_features(one, 0, gst_caps_features_new(IIR2D_CAPS_FEATURE_CUDA_MEMORY, nullptr));
    gst_caps_append(caps, one);
  }
  if (alternate) {
    GstCaps* alt = gst_caps_copy_nth(caps, gst_caps_get_size(caps) - 1);
    gst_caps_set_features(alt, 0, gst_caps_features_new(IIR2D_CAPS_FEATURE_FORMAT_INTERLACED, nullptr));
    gst_caps_set_simple(alt, "interlace-mode", G_TYPE_STRING, "alternate", nullptr);
    gst_caps_append(caps, alt);
  }
  return caps;
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

namespace {

/* Rows of `plane` in the default system-memory layout of `info` (the bytes
 * up to the next plane, or the frame's end, over the stride). */
int system_plane_rows(const GstVideoInfo* info, guint plane) {
  const gsize end = plane + 1 < GST_VIDEO_INFO_N_PLANES(info) ? GST_VIDEO_INFO_PLANE_OFFSET(info, plane + 1)
                                                               : GST_VIDEO_INFO_SIZE(info);
  const gint stride = GST_VIDEO_INFO_PLANE_STRIDE(info, plane);
  return stride > 0 ? static_cast<int>((end - GST_VIDEO_INFO_PLANE_OFFSET(info, plane)) / stride) : 0;
}

}  // namespace

std::string cuda_caps_limitation(const GstVideoInfo* info) {
  if (running_at_least(1, 26) && GST_VIDEO_INFO_FORMAT(info) == GST_VIDEO_FORMAT_NV21 &&
      GST_VIDEO_INFO_HEIGHT(info) % 2 == 1)
    return "GStreamer 1.26's CUDA memory cannot copy NV21 frames of odd height (" + describe_format(info) +
           "); use NV12, or an even height";
  const GstVideoInterlaceMode mode = GST_VIDEO_INFO_INTERLACE_MODE(info);
  const bool fields_share_frame =
      mode == GST_VIDEO_INTERLACE_MODE_INTERLEAVED || mode == GST_VIDEO_INTERLACE_MODE_MIXED;
  if (fields_share_frame && GST_VIDEO_INFO_N_PLANES(info) > 1) {
    /* The chroma rows of both fields (each field subsampled on its own, as
     * the CPU path filters them) that system memory holds, against the
     * component height, which is what the CUDA allocator lays out. */
    const int h = GST_VIDEO_INFO_HEIGHT(info), sub = GST_VIDEO_FORMAT_INFO_H_SUB(info->finfo, 1);
    const int fields_need = GST_VIDEO_SUB_SCALE(sub, (h + 1) / 2) + GST_VIDEO_SUB_SCALE(sub, h / 2);
    const int rows = std::min(system_plane_rows(info, 1), fields_need);
    const int cuda_rows = GST_VIDEO_INFO_COMP_HEIGHT(info, 1);
    if (rows > cuda_rows)
      return "interlaced " + describe_format(info) + ": system memory lays out " + std::to_string(rows) +
             " chroma rows so that each field has its own, but GStreamer's CUDA memory holds " +
             std::to_string(cuda_rows) +
             " and the bottom field's last chroma row would be lost (4:2:0 at a height of 4k+2). Use system "
             "memory (cudadownload before the filter), or a height that is a multiple of 4";
  }
  return {};
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
