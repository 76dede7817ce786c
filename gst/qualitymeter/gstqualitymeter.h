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

/* The distorted sink pads ("distorted" and the requested "distorted_%u"):
 * properties distorted-offset and summary (docs/qualitymeter.md). */
#define GST_TYPE_QUALITY_METER_PAD (gst_quality_meter_pad_get_type())
G_DECLARE_FINAL_TYPE(GstQualityMeterPad, gst_quality_meter_pad, GST, QUALITY_METER_PAD, GstAggregatorPad)

GST_ELEMENT_REGISTER_DECLARE(qualitymeter);

G_END_DECLS
