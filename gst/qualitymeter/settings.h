// SPDX-License-Identifier: MIT
/*
 * qualitymeter's properties: their values (Settings), defaults and
 * GParamSpecs. The read-only "summary" property is the element's own (it
 * reads the statistics, not a setting).
 */
#pragma once

#include <gst/gst.h>

#include <string>

#include "stats.h"

G_BEGIN_DECLS

/**
 * GstQualityMeterTimeoutAction:
 * @GST_QUALITY_METER_TIMEOUT_ACTION_WARN: post a warning naming the pad
 * @GST_QUALITY_METER_TIMEOUT_ACTION_ERROR: post an element error naming the
 *   pad (the pipeline stops)
 *
 * What #GstQualityMeter:timeout does when a sink pad has delivered no frame
 * for that long.
 *
 * Since: 0.2
 */
typedef enum {
  GST_QUALITY_METER_TIMEOUT_ACTION_WARN,
  GST_QUALITY_METER_TIMEOUT_ACTION_ERROR,
} GstQualityMeterTimeoutAction;

#define GST_TYPE_QUALITY_METER_TIMEOUT_ACTION (gst_quality_meter_timeout_action_get_type())
GType gst_quality_meter_timeout_action_get_type(void);

G_END_DECLS

namespace iir2d::gst::meter {

/* Property ids (GObject's: 0 is reserved). */
enum Property : guint {
  PROP_0,
  PROP_DISTORTED_OFFSET,
  PROP_POST_MESSAGES,
  PROP_STATS_FILE,
  PROP_STATS_FORMAT,
  PROP_MIN_PSNR,
  PROP_MIN_SSIM,
  PROP_MAX_TEMPORAL_DELTA,
  PROP_SUMMARY,
  PROP_CUDA_DEVICE_ID,
  PROP_TIMEOUT,
  PROP_TIMEOUT_ACTION,
  PROP_MAX_UNPAIRED,
};

/* Property values, with their defaults; guarded by the element's lock, the
 * streaming thread copies them once per frame. A threshold at its default
 * is off: PSNR is never below 0 dB, SSIM never below -1, the temporal delta
 * never above 1. */
struct Settings {
  gint64 distorted_offset = 0;
  bool post_messages = true;
  std::string stats_file;
  GstQualityMeterStatsFormat stats_format = GST_QUALITY_METER_STATS_FORMAT_AUTO;
  double min_psnr = 0.0;
  double min_ssim = -1.0;
  double max_temporal_delta = 1.0;
  gint cuda_device_id = -1;
  guint timeout_ms = 0;  // 0 = off
  GstQualityMeterTimeoutAction timeout_action = GST_QUALITY_METER_TIMEOUT_ACTION_WARN;
  double max_unpaired = 0.1;  // 1 = off

  bool psnr_threshold_on() const { return min_psnr > 0.0; }
  bool ssim_threshold_on() const { return min_ssim > -1.0; }
  bool temporal_threshold_on() const { return max_temporal_delta < 1.0; }
};

/* Installs every property but "summary" with its range, default, blurb and flags. */
void install_properties(GObjectClass* klass);
/* GObject set/get of property `prop_id` on `s`; false for an unknown id
 * (and for "summary"). */
bool set_property(Settings& s, guint prop_id, const GValue* value);
bool get_property(const Settings& s, guint prop_id, GValue* value);

}  // namespace iir2d::gst::meter
