// SPDX-License-Identifier: MIT
/*
 * qualitymeter's insides, shared by the files of the element:
 * gstqualitymeter.cpp (GObject, state changes, the timeout watchdog, events
 * and queries), pads.cpp (the sink pads), caps.cpp (negotiation) and
 * aggregate.cpp (pairing and measuring the queued frames).
 */
#pragma once

#include <gst/base/gstaggregator.h>
#include <gst/gst.h>

#include <condition_variable>
#include <exception>
#include <mutex>
#include <new>
#include <string>
#include <thread>
#include <vector>

#include "../common/cuda_session.h"
#include "../common/locked_settings.h"
#include "gstqualitymeter.h"
#include "pads.h"
#include "report.h"
#include "settings.h"

GST_DEBUG_CATEGORY_EXTERN(gst_quality_meter_debug);

struct GstQualityMeterPrivate {
  explicit GstQualityMeterPrivate(GstElement* self) : cuda(self, 1) {}

  iir2d::gst::LockedSettings<iir2d::gst::meter::Settings> settings;  // property values ("summary" is the reporter's)

  GstAggregatorPad* reference = nullptr;   // children of the element
  GstQualityMeterPad* distorted = nullptr;  // the always distorted pad: its stream goes out on src

  /* State: streaming thread only (the reporter's summary excepted); reset in start/stop. */
  iir2d::gst::meter::PadState reference_state;
  iir2d::gst::meter::Activity reference_activity;
  iir2d::gst::meter::Reporter reporter;
  guint64 device_generation = 0;  // bumped when the device memory is reallocated

  /* Pads (object lock of the element). */
  guint next_serial = 0;
  std::vector<bool> device_index_used;
  bool started = false;

  /* The timeout watchdog. */
  std::thread watchdog;
  std::mutex watchdog_lock;
  std::condition_variable watchdog_wake;
  bool watchdog_stop = false;

  /* CUDA memory: the pipeline's context, our stream, device memory slot 0
   * for the measurement (every distorted input's part of it). */
  iir2d::gst::CudaSession cuda;
};

struct _GstQualityMeter {
  GstAggregator parent;
  GstQualityMeterPrivate* priv;
};

namespace iir2d::gst::meter {

inline Settings copy_settings(GstQualityMeter* self) { return self->priv->settings.copy(); }

/* ------------------------------------------------------------------------ */
/* Allocation failures and other exceptions (issue 10, F5)                  */

/* Runs `body` (a GStreamer callback's work): an exception (std::bad_alloc
 * from a failed allocation above all) becomes an element error naming the
 * callback, and the callback returns `failed`, never an abort. The error
 * path allocates nothing but GLib's message strings. */
template <typename R, typename Body>
R guarded(GstElement* self, const char* where, R failed, Body&& body) {
  try {
    return body();
  } catch (const std::bad_alloc&) {
    GST_ELEMENT_ERROR(self, RESOURCE, NO_SPACE_LEFT, ("Out of memory in qualitymeter (%s).", where),
                      ("an allocation failed; lower the frame size or the number of distorted pads, or free memory"));
  } catch (const std::exception& e) {
    GST_ELEMENT_ERROR(self, CORE, FAILED, ("Internal error in qualitymeter (%s): %s.", where, e.what()), (nullptr));
  } catch (...) {
    GST_ELEMENT_ERROR(self, CORE, FAILED, ("Internal error in qualitymeter (%s).", where), (nullptr));
  }
  return failed;
}

/* ------------------------------------------------------------------------ */
/* caps.cpp                                                                 */

/* "I420 320x240 in system memory" */
std::string describe(const PadState& p);
/* Same format, size and memory. */
bool same_input_layout(const PadState& a, const PadState& b);
/* The CAPS query of a sink pad. */
GstCaps* sink_caps(GstQualityMeter* self, GstAggregatorPad* pad, GstCaps* filter);
/* A CAPS event on a sink pad; false after posting the error. */
gboolean handle_sink_caps(GstQualityMeter* self, GstAggregatorPad* pad, GstCaps* caps);
/* The ALLOCATION query of a sink pad. */
gboolean handle_allocation(GstQualityMeter* self, GstAggregatorPad* pad, GstQuery* query);

}  // namespace iir2d::gst::meter

/* GstAggregatorClass::update_src_caps (caps.cpp). */
GstFlowReturn gst_quality_meter_update_src_caps(GstAggregator* agg, GstCaps* downstream, GstCaps** ret);
/* GstAggregatorClass::aggregate (aggregate.cpp). */
GstFlowReturn gst_quality_meter_aggregate(GstAggregator* agg, gboolean timeout);
