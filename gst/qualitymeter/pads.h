// SPDX-License-Identifier: MIT
/*
 * qualitymeter's sink pads: the GstQualityMeterPad type of the distorted
 * pads ("distorted" and the requested "distorted_%u"; properties
 * distorted-offset and summary), each pad's state (negotiated format,
 * measurement, report, activity for the timeout), and the element's side of
 * them: listing the distorted pads, requesting and releasing one, the
 * GstChildProxy over the sink pads.
 */
#pragma once

#include <gst/base/gstaggregator.h>
#include <gst/gst.h>
#include <gst/video/video.h>

#include <atomic>
#include <memory>
#include <vector>

#include "gstqualitymeter.h"
#include "measure.h"
#include "report.h"
#include "settings.h"

namespace iir2d::gst::meter {

/* Negotiated state of one sink pad (streaming thread only). */
struct PadState {
  GstCaps* caps = nullptr;
  GstVideoInfo info{};
  bool cuda = false;

  void clear() {
    gst_clear_caps(&caps);
    *this = PadState();
  }
};

/* What a sink pad has delivered, for the timeout (written by a pad probe in
 * the upstream thread, read by the watchdog). */
struct Activity {
  std::atomic<gint64> last_us{0};       // monotonic time of the last buffer (or of the (re)start)
  std::atomic<guint64> arrived{0};      // buffers that reached the pad
  std::atomic<guint64> consumed{0};     // buffers the meter took off it
  std::atomic<bool> eos{false};         // EOS reached the pad
  std::atomic<gint64> warned_at{-1};    // last_us when the watchdog last warned

  /* The silence counts from now; `queues`: the pad's queue is empty too
   * (start, flush). */
  void restart(bool queues) {
    last_us = g_get_monotonic_time();
    warned_at = -1;
    if (!queues) return;
    arrived = 0;
    consumed = 0;
    eos = false;
  }
};

/* A distorted input: the state of one distorted sink pad ("distorted" or
 * a requested "distorted_%u"). */
struct DistortedInput {
  PadState state;
  PairMeasure measure;
  std::shared_ptr<PadReport> report;
  Activity activity;
  guint64 next_frame = 0;  // streaming thread
  /* The pad's distorted-offset, when set on the pad (object lock of the pad). */
  bool offset_set = false;
  gint64 offset = 0;
  bool joined_late = false;  // requested after start: counts from its first pair
  bool paired_once = false;  // streaming thread
  int device_index = 0;      // its part of the CUDA device memory
};

/* The offset this pad pairs with: its own, else the element's
 * distorted-offset (from `s`, else read from the element). */
gint64 pad_offset(GstQualityMeterPad* pad, const Settings* s);

bool is_reference(GstQualityMeter* self, GstAggregatorPad* pad);
/* The pad's distorted input; null for the reference pad. */
DistortedInput* input_of(GstAggregatorPad* pad);
const char* pad_name(GstAggregatorPad* pad);

/* The distorted pads, reffed, the always pad first; unref_pads() drops them. */
std::vector<GstQualityMeterPad*> distorted_pads(GstQualityMeter* self);
void unref_pads(std::vector<GstQualityMeterPad*>& pads);

/* Counts the pad's buffers and EOS into `activity`, for the timeout. */
void watch_pad(GstPad* pad, Activity* activity);

/* A distorted pad's part of the element: its report and device memory
 * index; `late`: requested after start. */
void attach_input(GstQualityMeter* self, GstQualityMeterPad* pad, bool late);
/* A requested pad leaves: its summary so far goes out with it (when
 * started), and its part of the element is given back. */
void release_input(GstQualityMeter* self, GstQualityMeterPad* pad);
/* Device memory indices in use: the CUDA path sizes its allocation by it. */
int device_index_count(GstQualityMeter* self);

}  // namespace iir2d::gst::meter

struct _GstQualityMeterPad {
  GstAggregatorPad parent;
  iir2d::gst::meter::DistortedInput* input;
};

/* GstAggregatorClass::create_new_pad: a requested "distorted_%u" pad. */
GstAggregatorPad* gst_quality_meter_create_new_pad(GstAggregator* agg, GstPadTemplate* templ, const gchar* req_name,
                                                   const GstCaps* caps);
/* GstChildProxy over the sink pads (so that launch lines set pad properties). */
void gst_quality_meter_child_proxy_init(gpointer g_iface, gpointer iface_data);
