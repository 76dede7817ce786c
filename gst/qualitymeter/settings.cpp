// SPDX-License-Identifier: MIT
// qualitymeter's properties and its stats-format enum; see settings.h.
#include "settings.h"

#include "../common/formats.h"
#include "../common/property_table.h"

GType gst_quality_meter_timeout_action_get_type(void) {
  static GType type = 0;
  static const GEnumValue values[] = {
      {GST_QUALITY_METER_TIMEOUT_ACTION_WARN, "Post a warning naming the pad", "warn"},
      {GST_QUALITY_METER_TIMEOUT_ACTION_ERROR, "Post an element error naming the pad", "error"},
      {0, nullptr, nullptr},
  };
  return iir2d::gst::register_enum_once(&type, "GstQualityMeterTimeoutAction", values);
}

namespace iir2d::gst::meter {

namespace {

const Settings kDefaults;

const PropertyField<Settings> kFields[] = {
    field<&Settings::distorted_offset>(PROP_DISTORTED_OFFSET),
    field<&Settings::post_messages>(PROP_POST_MESSAGES),
    field<&Settings::stats_file>(PROP_STATS_FILE),
    field<&Settings::stats_format>(PROP_STATS_FORMAT),
    field<&Settings::min_psnr>(PROP_MIN_PSNR),
    field<&Settings::min_ssim>(PROP_MIN_SSIM),
    field<&Settings::max_temporal_delta>(PROP_MAX_TEMPORAL_DELTA),
    field<&Settings::cuda_device_id>(PROP_CUDA_DEVICE_ID),
    field<&Settings::timeout_ms>(PROP_TIMEOUT),
    field<&Settings::timeout_action>(PROP_TIMEOUT_ACTION),
    field<&Settings::max_unpaired>(PROP_MAX_UNPAIRED),
};

}  // namespace

void install_properties(GObjectClass* klass) {
  const GParamFlags live = GParamFlags(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_PLAYING);
  const GParamFlags ready = GParamFlags(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY);

  g_object_class_install_property(
      klass, PROP_DISTORTED_OFFSET,
      g_param_spec_int64("distorted-offset", "Distorted offset",
                         "Nanoseconds added to the distorted streams' running times before pairing (e.g. "
                         "-100000000 when their timestamps are 100 ms late); the default of every distorted pad's "
                         "own distorted-offset",
                         G_MININT64, G_MAXINT64, kDefaults.distorted_offset, live));
  g_object_class_install_property(
      klass, PROP_POST_MESSAGES,
      g_param_spec_boolean("post-messages", "Post messages",
                           "Post a \"qualitymeter\" element message with the metrics of every frame",
                           kDefaults.post_messages, live));
  g_object_class_install_property(
      klass, PROP_STATS_FILE,
      g_param_spec_string("stats-file", "Stats file",
                          "File that receives one row of metrics per frame (\"-\" for standard output; none when "
                          "unset); opened when the element starts",
                          nullptr, ready));
  g_object_class_install_property(
      klass, PROP_STATS_FORMAT,
      g_param_spec_enum("stats-format", "Stats format", "Format of stats-file",
                        GST_TYPE_QUALITY_METER_STATS_FORMAT, kDefaults.stats_format, ready));
  g_object_class_install_property(
      klass, PROP_MIN_PSNR,
      g_param_spec_double("min-psnr", "Minimum PSNR",
                          "Warn when psnr-avg drops below this many dB (0 = off)", 0.0, G_MAXDOUBLE,
                          kDefaults.min_psnr, live));
  g_object_class_install_property(
      klass, PROP_MIN_SSIM,
      g_param_spec_double("min-ssim", "Minimum SSIM", "Warn when ssim-all drops below this value (-1 = off)", -1.0,
                          1.0, kDefaults.min_ssim, live));
  g_object_class_install_property(
      klass, PROP_MAX_TEMPORAL_DELTA,
      g_param_spec_double("max-temporal-delta", "Maximum temporal delta",
                          "Warn when temporal-delta rises above this value (1 = off)", 0.0, 1.0,
                          kDefaults.max_temporal_delta, live));
  install_cuda_device_id_property(klass, PROP_CUDA_DEVICE_ID, kDefaults.cuda_device_id);
  g_object_class_install_property(
      klass, PROP_TIMEOUT,
      g_param_spec_uint("timeout", "Timeout",
                        "Milliseconds a sink pad may go without delivering a frame (not at EOS) before "
                        "timeout-action is taken, counted from PAUSED (and again from PLAYING); 0 = off. "
                        "Set it for files and for live sources that must not stall; live pipelines that may "
                        "sit in PAUSED should leave it off or above that time",
                        0, G_MAXUINT, kDefaults.timeout_ms, live));
  g_object_class_install_property(
      klass, PROP_TIMEOUT_ACTION,
      g_param_spec_enum("timeout-action", "Timeout action",
                        "What a timeout does: warn (a warning naming the pad, once per silence) or error (an "
                        "element error naming the pad)",
                        GST_TYPE_QUALITY_METER_TIMEOUT_ACTION, kDefaults.timeout_action, live));
  g_object_class_install_property(
      klass, PROP_MAX_UNPAIRED,
      g_param_spec_double("max-unpaired", "Maximum unpaired share",
                          "Warn (once per pad) when more than this share of a distorted pad's reference or "
                          "distorted frames find no partner: checked from the pad's 100th frame and at EOS "
                          "(1 = off)",
                          0.0, 1.0, kDefaults.max_unpaired, live));
}

bool set_property(Settings& s, guint prop_id, const GValue* value) { return set_field(kFields, s, prop_id, value); }

bool get_property(const Settings& s, guint prop_id, GValue* value) { return get_field(kFields, s, prop_id, value); }

}  // namespace iir2d::gst::meter
