// SPDX-License-Identifier: MIT
// iir2dfilter's properties and enum types; see settings.h.
#include "settings.h"

#include <string>

#include "../common/formats.h"
#include "../common/property_table.h"

/* ---- enum types (public: gstiir2dfilter.h) ------------------------------ */

GType gst_iir2d_border_get_type(void) {
  static GType type = 0;
  static const GEnumValue values[] = {
      {GST_IIR2D_BORDER_CLAMP, "Repeat the edge sample", "clamp"},
      {GST_IIR2D_BORDER_MIRROR, "Reflect with the edge sample repeated", "mirror"},
      {GST_IIR2D_BORDER_WRAP, "Periodic extension", "wrap"},
      {GST_IIR2D_BORDER_CONSTANT, "The value of border-constant", "constant"},
      {0, nullptr, nullptr},
  };
  return iir2d::gst::register_enum_once(&type, "GstIir2dBorder", values);
}

GType gst_iir2d_border_init_get_type(void) {
  static GType type = 0;
  static const GEnumValue values[] = {
      {GST_IIR2D_BORDER_INIT_EXACT, "Response to the infinite border extension", "exact"},
      {GST_IIR2D_BORDER_INIT_IIR2D, "IIR2D 1.0 warm-up from a few border samples", "iir2d"},
      {0, nullptr, nullptr},
  };
  return iir2d::gst::register_enum_once(&type, "GstIir2dBorderInit", values);
}

GType gst_iir2d_precision_get_type(void) {
  static GType type = 0;
  static const GEnumValue values[] = {
      {GST_IIR2D_PRECISION_F32, "float32 storage and arithmetic", "f32"},
      {GST_IIR2D_PRECISION_MIXED, "float32 storage, float64 recursion", "mixed"},
      {GST_IIR2D_PRECISION_F64, "float64 storage and arithmetic", "f64"},
      {0, nullptr, nullptr},
  };
  return iir2d::gst::register_enum_once(&type, "GstIir2dPrecision", values);
}

GType gst_iir2d_planes_get_type(void) {
  static GType type = 0;
  static const GEnumValue values[] = {
      {GST_IIR2D_PLANES_LUMA, "Luma (or gray) only, other planes copied; RGB through its Y'", "luma"},
      {GST_IIR2D_PLANES_ALL, "Luma and chroma, or R, G and B (never alpha)", "all"},
      {0, nullptr, nullptr},
  };
  return iir2d::gst::register_enum_once(&type, "GstIir2dPlanes", values);
}

GType gst_iir2d_temporal_mode_get_type(void) {
  static GType type = 0;
  static const GEnumValue values[] = {
      {GST_IIR2D_TEMPORAL_OFF, "No temporal smoothing", "off"},
      {GST_IIR2D_TEMPORAL_FIXED, "One alpha (temporal-alpha) for every pixel", "fixed"},
      {GST_IIR2D_TEMPORAL_ADAPTIVE, "Alpha per pixel from its motion (temporal-alpha-min..max)", "adaptive"},
      {0, nullptr, nullptr},
  };
  return iir2d::gst::register_enum_once(&type, "GstIir2dTemporalMode", values);
}

GType gst_iir2d_field_mode_get_type(void) {
  static GType type = 0;
  static const GEnumValue values[] = {
      {GST_IIR2D_FIELD_MODE_AUTO, "Interlaced video field by field, as its caps and buffer flags say", "auto"},
      {GST_IIR2D_FIELD_MODE_PROGRESSIVE, "Every buffer as one picture, fields mixed", "progressive"},
      {0, nullptr, nullptr},
  };
  return iir2d::gst::register_enum_once(&type, "GstIir2dFieldMode", values);
}

namespace iir2d::gst::filter {

namespace {

const Settings kDefaults;

const PropertyField<Settings> kFields[] = {
    field<&Settings::filter_id>(PROP_FILTER_ID),
    field<&Settings::border>(PROP_BORDER),
    field<&Settings::border_constant>(PROP_BORDER_CONSTANT),
    field<&Settings::border_init>(PROP_BORDER_INIT),
    field<&Settings::precision>(PROP_PRECISION),
    field<&Settings::strength>(PROP_STRENGTH),
    field<&Settings::planes>(PROP_PLANES),
    field<&Settings::cuda_device_id>(PROP_CUDA_DEVICE_ID),
    field<&Settings::sigma>(PROP_SIGMA),
    field<&Settings::unity_gain>(PROP_UNITY_GAIN),
    field<&Settings::temporal_mode>(PROP_TEMPORAL_MODE),
    field<&Settings::temporal_alpha>(PROP_TEMPORAL_ALPHA),
    field<&Settings::temporal_alpha_min>(PROP_TEMPORAL_ALPHA_MIN),
    field<&Settings::temporal_alpha_max>(PROP_TEMPORAL_ALPHA_MAX),
    field<&Settings::motion_threshold>(PROP_MOTION_THRESHOLD),
    field<&Settings::field_mode>(PROP_FIELD_MODE),
    field<&Settings::n_threads>(PROP_N_THREADS),
};

}  // namespace

iir2d::FilterParams to_filter_params(const Settings& s) {
  iir2d::FilterParams p;
  p.filter_id = static_cast<int>(s.filter_id);
  p.border = static_cast<iir2d::Border>(s.border);
  p.border_constant = s.border_constant;
  p.border_init = static_cast<iir2d::BorderInit>(s.border_init);
  p.precision = static_cast<iir2d::Precision>(s.precision);
  p.sigma = s.sigma;
  p.unity_gain = s.unity_gain;
  return p;
}

iir2d::TemporalParams to_temporal_params(const Settings& s) {
  iir2d::TemporalParams t;
  t.mode = static_cast<iir2d::TemporalMode>(s.temporal_mode);
  t.alpha = s.temporal_alpha;
  t.alpha_min = s.temporal_alpha_min;
  t.alpha_max = s.temporal_alpha_max;
  t.motion_threshold = s.motion_threshold;
  return t;
}

void install_properties(GObjectClass* klass) {
  /* Every property but cuda-device-id may change while PLAYING; the three
   * continuous blends are also controllable (GstController). */
  const GParamFlags live = GParamFlags(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_PLAYING);
  const GParamFlags controllable = GParamFlags(live | GST_PARAM_CONTROLLABLE);

  std::string ids = "Filter program (applied horizontally then vertically):";
  for (int id = iir2d::kMinFilterId; id <= iir2d::kMaxFilterId; ++id)
    ids += std::string(id == iir2d::kMinFilterId ? " " : "; ") + std::to_string(id) + " = " +
           iir2d::filter_description(id);
  ids += ". Id 6's width is the sigma property. A change restarts temporal smoothing";
  g_object_class_install_property(
      klass, PROP_FILTER_ID,
      g_param_spec_uint("filter-id", "Filter id", ids.c_str(), iir2d::kMinFilterId, iir2d::kMaxFilterId,
                        kDefaults.filter_id,
                        GParamFlags(G_PARAM_READWRITE | G_PARAM_STATIC_NAME | G_PARAM_STATIC_NICK |
                                    GST_PARAM_MUTABLE_PLAYING)));
  g_object_class_install_property(
      klass, PROP_BORDER,
      g_param_spec_enum("border", "Border", "How samples outside the frame are taken", GST_TYPE_IIR2D_BORDER,
                        kDefaults.border, live));
  g_object_class_install_property(
      klass, PROP_BORDER_CONSTANT,
      g_param_spec_double("border-constant", "Border constant",
                          "Sample value outside the frame with border=constant, normalised "
                          "(0 = black/minimum code, 1 = maximum code)",
                          0.0, 1.0, kDefaults.border_constant, controllable));
  g_object_class_install_property(
      klass, PROP_BORDER_INIT,
      g_param_spec_enum("border-init", "Border initialisation",
                        "How each recursion starts at the border: exact (flat areas stay flat) or "
                        "iir2d (reproduces IIR2D 1.0's warm-up, edges darken)",
                        GST_TYPE_IIR2D_BORDER_INIT, kDefaults.border_init, live));
  g_object_class_install_property(
      klass, PROP_PRECISION,
      g_param_spec_enum("precision", "Precision", "Storage and arithmetic precision of the filter",
                        GST_TYPE_IIR2D_PRECISION, kDefaults.precision, live));
  g_object_class_install_property(
      klass, PROP_STRENGTH,
      g_param_spec_double("strength", "Strength",
                          "Blend of filtered and input samples (0 = input unchanged, 1 = fully filtered); "
                          "0 with temporal-mode=off is passthrough",
                          0.0, 1.0, kDefaults.strength, controllable));
  g_object_class_install_property(
      klass, PROP_PLANES,
      g_param_spec_enum("planes", "Planes",
                        "Components to filter: luma (Y or gray only, chroma copied bit-exact; RGB through Y' of "
                        "the stream's matrix, BT.709 by default) or all (luma and chroma, or R, G and B); alpha "
                        "is always copied",
                        GST_TYPE_IIR2D_PLANES, kDefaults.planes, live));
  install_cuda_device_id_property(klass, PROP_CUDA_DEVICE_ID, kDefaults.cuda_device_id);
  g_object_class_install_property(
      klass, PROP_SIGMA,
      g_param_spec_double("sigma", "Sigma",
                          "Width of filter id 6's Deriche smoothing in samples (2 is IIR2D's and the contract's; "
                          "an extension over IIR2D)",
                          iir2d::kMinSigma, iir2d::kMaxSigma, kDefaults.sigma, live));
  g_object_class_install_property(
      klass, PROP_UNITY_GAIN,
      g_param_spec_boolean("unity-gain", "Unity gain",
                           "Divide each pass by its DC gain so flat areas keep their level (ids 3, 4 and 8 darken "
                           "them otherwise; an extension over IIR2D)",
                           kDefaults.unity_gain, live));
  g_object_class_install_property(
      klass, PROP_TEMPORAL_MODE,
      g_param_spec_enum("temporal-mode", "Temporal mode",
                        "Temporal smoothing of the filtered output: off, fixed (out = a*filtered + (1-a)*previous "
                        "output, a = temporal-alpha) or adaptive (a per pixel from its motion)",
                        GST_TYPE_IIR2D_TEMPORAL_MODE, kDefaults.temporal_mode, live));
  g_object_class_install_property(
      klass, PROP_TEMPORAL_ALPHA,
      g_param_spec_double("temporal-alpha", "Temporal alpha",
                          "Weight of the current frame in temporal-mode=fixed (1 = no smoothing)", 0.0, 1.0,
                          kDefaults.temporal_alpha, controllable));
  g_object_class_install_property(
      klass, PROP_TEMPORAL_ALPHA_MIN,
      g_param_spec_double("temporal-alpha-min", "Temporal alpha min",
                          "Weight of the current frame where a pixel does not move (temporal-mode=adaptive)", 0.0,
                          1.0, kDefaults.temporal_alpha_min, live));
  g_object_class_install_property(
      klass, PROP_TEMPORAL_ALPHA_MAX,
      g_param_spec_double("temporal-alpha-max", "Temporal alpha max",
                          "Weight of the current frame where a pixel moves by motion-threshold or more "
                          "(temporal-mode=adaptive)",
                          0.0, 1.0, kDefaults.temporal_alpha_max, live));
  g_object_class_install_property(
      klass, PROP_MOTION_THRESHOLD,
      g_param_spec_double("motion-threshold", "Motion threshold",
                          "Mean absolute difference (normalised, over the pixel's filtered components) between "
                          "the filtered frame and the previous output that counts as full motion "
                          "(temporal-mode=adaptive)",
                          0.0, 1.0, kDefaults.motion_threshold, live));
  g_object_class_install_property(
      klass, PROP_FIELD_MODE,
      g_param_spec_enum("field-mode", "Field mode",
                        "How interlaced video is filtered. auto (right for interlaced video): each field, the rows "
                        "of one parity captured at its own instant (20 ms apart in 1080i50), is filtered as its "
                        "own picture with its own borders, 4:2:0 chroma too, and smoothed in time with the "
                        "previous field of its parity, as the caps' interlace-mode (interleaved, mixed with the "
                        "buffer's interlaced flag, alternate) says; a moving edge then keeps its two clean field "
                        "images for a deinterlacer. progressive: every buffer as one picture, which smears the "
                        "two instants into each other (a ghost of each moving edge that no deinterlacer removes). "
                        "Progressive video is "
                        "the same in both. A change restarts temporal smoothing",
                        GST_TYPE_IIR2D_FIELD_MODE, kDefaults.field_mode, live));
  /* As videoconvert's n-threads (0 = one per core); applies from the next
   * frame (the CPU path's pool is made again). */
  g_object_class_install_property(
      klass, PROP_N_THREADS,
      g_param_spec_uint("n-threads", "Threads",
                        "Maximum number of threads of the CPU path (video in system memory); 0 = one per CPU core. "
                        "Environment IIR2D_CPU_PATH=reference runs the one-thread CPU reference instead",
                        0, G_MAXINT, kDefaults.n_threads, live));
}

bool set_property(Settings& s, guint prop_id, const GValue* value) {
  /* temporal-alpha-min <= temporal-alpha-max: a value that would cross the
   * other bound is refused (the old one stays) with a warning naming both,
   * as GObject refuses a value outside a property's range. Equal is fine
   * (one alpha for every pixel). To raise both past the current max, set
   * temporal-alpha-max first. */
  if (prop_id == PROP_TEMPORAL_ALPHA_MIN || prop_id == PROP_TEMPORAL_ALPHA_MAX) {
    const bool is_min = prop_id == PROP_TEMPORAL_ALPHA_MIN;
    const gdouble v = g_value_get_double(value);
    const gdouble lo = is_min ? v : s.temporal_alpha_min, hi = is_min ? s.temporal_alpha_max : v;
    if (lo > hi) {
      g_warning("iir2dfilter: temporal-alpha-%s=%g refused: temporal-alpha-min (%g) must not exceed "
                "temporal-alpha-max (%g); %s stays %g",
                is_min ? "min" : "max", v, lo, hi, is_min ? "temporal-alpha-min" : "temporal-alpha-max",
                is_min ? s.temporal_alpha_min : s.temporal_alpha_max);
      return true;
    }
  }
  return set_field(kFields, s, prop_id, value);
}

bool get_property(const Settings& s, guint prop_id, GValue* value) { return get_field(kFields, s, prop_id, value); }

void mark_enums_as_plugin_api() {
  gst_type_mark_as_plugin_api(GST_TYPE_IIR2D_BORDER, GstPluginAPIFlags(0));
  gst_type_mark_as_plugin_api(GST_TYPE_IIR2D_BORDER_INIT, GstPluginAPIFlags(0));
  gst_type_mark_as_plugin_api(GST_TYPE_IIR2D_PRECISION, GstPluginAPIFlags(0));
  gst_type_mark_as_plugin_api(GST_TYPE_IIR2D_PLANES, GstPluginAPIFlags(0));
  gst_type_mark_as_plugin_api(GST_TYPE_IIR2D_TEMPORAL_MODE, GstPluginAPIFlags(0));
  gst_type_mark_as_plugin_api(GST_TYPE_IIR2D_FIELD_MODE, GstPluginAPIFlags(0));
}

}  // namespace iir2d::gst::filter
