// SPDX-License-Identifier: MIT
/*
 * qualitymeter: PSNR, SSIM and temporal stability of a distorted video stream
 * against its reference, on the GPU for CUDA memory and on the CPU for system
 * memory; the distorted stream passes through unchanged.
 */
#pragma once

#include <gst/base/gstaggregator.h>
#include <gst/gst.h>

G_BEGIN_DECLS

#define GST_TYPE_QUALITY_METER (gst_quality_meter_get_type())
G_DECLARE_FINAL_TYPE(GstQualityMeter, gst_quality_meter, GST, QUALITY_METER, GstAggregator)

/**
 * GstQualityMeterStatsFormat:
 * @GST_QUALITY_METER_STATS_FORMAT_AUTO: from the file name: JSON Lines for
 *   `.json`, `.jsonl` and `.ndjson`, CSV otherwise (and for `-`)
 * @GST_QUALITY_METER_STATS_FORMAT_CSV: comma-separated values
 * @GST_QUALITY_METER_STATS_FORMAT_JSON: JSON Lines (one JSON object per line)
 *
 * Format of #GstQualityMeter:stats-file.
 *
 * Since: 0.1
 */
typedef enum {
  GST_QUALITY_METER_STATS_FORMAT_AUTO = 0,
  GST_QUALITY_METER_STATS_FORMAT_CSV = 1,
  GST_QUALITY_METER_STATS_FORMAT_JSON = 2,
} GstQualityMeterStatsFormat;

#define GST_TYPE_QUALITY_METER_STATS_FORMAT (gst_quality_meter_stats_format_get_type())
GType gst_quality_meter_stats_format_get_type(void);

GST_ELEMENT_REGISTER_DECLARE(qualitymeter);

G_END_DECLS
