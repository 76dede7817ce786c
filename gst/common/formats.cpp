// SPDX-License-Identifier: MIT
// Formats, caps and video components of both elements; see formats.h.
#include "formats.h"

#include <string>

#include "cuda_session.h"

namespace iir2d::gst {

GstCaps* element_caps() {
  static const char kSystem[] = GST_VIDEO_CAPS_MAKE(IIR2D_SYSTEM_FORMATS);
  static const char kCuda[] = GST_VIDEO_CAPS_MAKE_WITH_FEATURES(IIR2D_CAPS_FEATURE_CUDA_MEMORY, IIR2D_CUDA_FORMATS);
  const std::string text = cuda_built() ? std::string(kCuda) + "; " + kSystem : std::string(kSystem);
  return gst_caps_from_string(text.c_str());
}

GstPadTemplate* element_pad_template(const char* name, GstPadDirection direction, GstPadPresence presence,
                                     GType pad_type) {
  GstCaps* caps = element_caps();
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
