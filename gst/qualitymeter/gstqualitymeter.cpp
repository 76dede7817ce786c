// SPDX-License-Identifier: MIT
/**
 * SECTION:element-qualitymeter
 * @title: qualitymeter
 * @short_description: PSNR, SSIM and temporal stability of a video stream against its reference
 *
 * Measures how far the frames on the `distorted` pad (and on every requested
 * `distorted_%u` pad) are from the frames on the `reference` pad, per frame
 * and per plane, and passes the `distorted` stream through unchanged on
 * `src` (so the meter can sit inline before an encoder or a sink):
 *
 * - PSNR exactly as ffmpeg's `psnr` filter defines it: per-plane MSE over the
 *   code values with peak `2^depth - 1`; `psnr-avg` from the plane-size
 *   weighted MSE; identical planes give infinity.
 * - SSIM exactly as ffmpeg's `ssim` filter (x264's SSIM): 8×8 windows made of
 *   2×2 groups of complete 4×4 blocks on a 4-sample grid; the plane's mean
 *   over its windows; `ssim-all` weighted by plane size.
 * - temporal delta, on the luma (or gray) plane normalised to [0, 1] (the G
 *   plane stands in for luma in RGB formats):
 *   `| mean|dist_t - dist_t-1| - mean|ref_t - ref_t-1| |` between consecutive
 *   measured pairs of the pad; 0 on the first.
 *
 * Planes are reported as y, u, v (a) for YUV and gray formats and r, g, b (a)
 * for RGB formats; alpha counts in the averages, as in ffmpeg's psnr.
 *
 * Each distorted pad is paired with the reference by running time: a
 * distorted frame and a reference frame pair when their running times, the
 * distorted one shifted by the pad's distorted-offset (by default
 * #GstQualityMeter:distorted-offset), differ by less than half a frame (the
 * buffer duration, else the caps' frame rate; exact equality when neither is
 * known). A frame that finds no partner is counted for the pad and never
 * measured against a repeated frame; unpaired `distorted` frames still pass
 * through. When a pad reaches EOS the other side's remaining frames are
 * counted as unpaired; the element sends EOS once every pad is at EOS.
 * Request pads may come and go in PAUSED and PLAYING; a late one starts at
 * its first pair. Every sink pad must be linked before PAUSED (an error
 * names the unlinked pad); #GstQualityMeter:timeout names a pad that stops
 * delivering, #GstQualityMeter:max-unpaired warns about a pad whose frames
 * do not pair.
 *
 * Every distorted input must have the reference's format and size, all in
 * CUDA memory (`video/x-raw(memory:CUDAMemory)`, measured by CUDA kernels on
 * the element's own stream in the pipeline's CUDA context; only per-frame
 * scalars come back to the host) or all in system memory (measured on the
 * CPU, the pads of one reference frame in parallel). The formats are
 * compared per frame pair; a pair that differs stops the stream with an
 * error naming both sides.
 *
 * Outputs, each naming its pad: an element message `qualitymeter` per frame
 * while #GstQualityMeter:post-messages is true; a row per frame in
 * #GstQualityMeter:stats-file (CSV whose first line is the header row, with
 * pad and stats-version columns, or JSON Lines after a header record;
 * flushed row by row); at EOS an element message `qualitymeter-summary` and
 * log lines (category `qualitymeter`, level INFO) per pad with min, p50, p95,
 * mean, harmonic mean and max of every metric (bounded memory: percentiles
 * from fixed-width histograms, within half a bin), plus the unpaired-frame
 * counts; the same in the read-only #GstQualityMeter:summary property (the
 * `distorted` pad's, the requested pads' nested in it) and in each pad's
 * `summary` property. With #GstQualityMeter:min-psnr,
 * #GstQualityMeter:min-ssim or #GstQualityMeter:max-temporal-delta set, a
 * warning message names the pad, metric, value and frame when it crosses its
 * threshold, and an element message `qualitymeter-recovered` follows when it
 * comes back (one message per edge, not per frame). The message fields are
 * listed in the project's docs/qualitymeter.md.
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 videotestsrc num-buffers=60 ! video/x-raw,format=I420,width=640,height=360 ! tee name=t \
 *   t. ! queue ! q.reference \
 *   t. ! queue ! iir2dfilter filter-id=6 ! q.distorted \
 *   qualitymeter name=q stats-file=quality.csv ! fakesink
 * ]| Cost of a Deriche smoothing in PSNR/SSIM, on the CPU, one CSV row per frame.
 * |[
 * gst-launch-1.0 filesrc location=in.mp4 ! qtdemux ! h264parse ! nvh264dec ! tee name=t \
 *   t. ! queue ! q.reference \
 *   t. ! queue ! iir2dfilter filter-id=4 ! q.distorted \
 *   qualitymeter name=q post-messages=false min-psnr=35 ! cudadownload ! autovideosink
 * ]| On the GPU, warning when PSNR drops below 35 dB.
 * |[
 * gst-launch-1.0 filesrc location=in.mp4 ! qtdemux ! h264parse ! avdec_h264 ! tee name=t \
 *   t. ! queue ! q.reference \
 *   t. ! queue ! x264enc bitrate=500 tune=zerolatency ! avdec_h264 ! q.distorted \
 *   t. ! queue ! x264enc bitrate=2000 tune=zerolatency ! avdec_h264 ! q.distorted_0 \
 *   qualitymeter name=q stats-file=ladder.csv timeout=5000 ! fakesink
 * ]| Two renditions of an encode ladder in one meter, one CSV with a pad column.
 *
 * Since: 0.1
 */

#include "gstqualitymeter.h"

#include <gst/video/video.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <memory>
#include <new>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "../common/cuda_session.h"
#include "../common/formats.h"
#include "../common/locked_settings.h"
#include "gstqualitymetermessages.h"
#include "measure.h"
#include "pairing.h"
#include "report.h"
#include "settings.h"

GST_DEBUG_CATEGORY(gst_quality_meter_debug);
#define GST_CAT_DEFAULT gst_quality_meter_debug

using namespace iir2d::gst;  // formats, the CUDA session
using namespace iir2d::gst::meter;
using iir2d::qm::FrameReport;
namespace quality = iir2d::quality;

namespace {

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

}  // namespace

/* ------------------------------------------------------------------------ */
/* The distorted sink pads                                                  */

struct _GstQualityMeterPad {
  GstAggregatorPad parent;
  DistortedInput* input;
};

enum { PROP_PAD_0, PROP_PAD_DISTORTED_OFFSET, PROP_PAD_SUMMARY };

G_DEFINE_TYPE(GstQualityMeterPad, gst_quality_meter_pad, GST_TYPE_AGGREGATOR_PAD);

struct GstQualityMeterPrivate {
  explicit GstQualityMeterPrivate(GstElement* self) : cuda(self, 1) {}

  iir2d::gst::LockedSettings<Settings> settings;  // property values ("summary" is the reporter's)

  GstAggregatorPad* reference = nullptr;   // children of the element
  GstQualityMeterPad* distorted = nullptr;  // the always distorted pad: its stream goes out on src

  /* State: streaming thread only (the reporter's summary excepted); reset in start/stop. */
  PadState reference_state;
  Activity reference_activity;
  Reporter reporter;
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
  CudaSession cuda;
};

struct _GstQualityMeter {
  GstAggregator parent;
  GstQualityMeterPrivate* priv;
};

static void gst_quality_meter_child_proxy_init(gpointer g_iface, gpointer iface_data);

#define gst_quality_meter_parent_class parent_class
/* The debug category is made with the type: pairing.cpp and report.cpp log to it too.
 * GstChildProxy: the sink pads are children, so that launch lines set pad
 * properties (distorted_0::distorted-offset=...). */
G_DEFINE_TYPE_WITH_CODE(GstQualityMeter, gst_quality_meter, GST_TYPE_AGGREGATOR,
                        GST_DEBUG_CATEGORY_INIT(gst_quality_meter_debug, "qualitymeter", 0,
                                                "PSNR/SSIM/temporal quality meter");
                        G_IMPLEMENT_INTERFACE(GST_TYPE_CHILD_PROXY, gst_quality_meter_child_proxy_init));
GST_ELEMENT_REGISTER_DEFINE(qualitymeter, "qualitymeter", GST_RANK_NONE, GST_TYPE_QUALITY_METER);

static Settings copy_settings(GstQualityMeter* self) { return self->priv->settings.copy(); }

/* ------------------------------------------------------------------------ */
/* Allocation failures and other exceptions (issue 10, F5)                  */

/* Runs `body` (a GStreamer callback's work): an exception (std::bad_alloc
 * from a failed allocation above all) becomes an element error naming the
 * callback, and the callback returns `failed`, never an abort. The error
 * path allocates nothing but GLib's message strings. */
template <typename R, typename Body>
static R guarded(GstElement* self, const char* where, R failed, Body&& body) {
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

static GstQualityMeter* pad_meter(GstPad* pad) {
  GstObject* parent = gst_object_get_parent(GST_OBJECT(pad));
  if (parent && !GST_IS_QUALITY_METER(parent)) gst_clear_object(&parent);
  return parent ? GST_QUALITY_METER(parent) : nullptr;  // caller unrefs
}

/* ------------------------------------------------------------------------ */
/* GstQualityMeterPad                                                       */

static void gst_quality_meter_pad_set_property(GObject* object, guint prop_id, const GValue* value,
                                               GParamSpec* pspec) {
  GstQualityMeterPad* pad = GST_QUALITY_METER_PAD(object);
  switch (prop_id) {
    case PROP_PAD_DISTORTED_OFFSET:
      GST_OBJECT_LOCK(pad);
      pad->input->offset = g_value_get_int64(value);
      pad->input->offset_set = true;
      GST_OBJECT_UNLOCK(pad);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
  }
}

/* The offset this pad pairs with: its own, else the element's distorted-offset. */
static gint64 pad_offset(GstQualityMeterPad* pad, const Settings* s) {
  GST_OBJECT_LOCK(pad);
  const bool set = pad->input->offset_set;
  const gint64 own = pad->input->offset;
  GST_OBJECT_UNLOCK(pad);
  if (set) return own;
  if (s) return s->distorted_offset;
  GstQualityMeter* self = pad_meter(GST_PAD(pad));
  if (!self) return 0;
  const gint64 v = guarded<gint64>(GST_ELEMENT(self), "reading distorted-offset", 0,
                                   [&] { return copy_settings(self).distorted_offset; });
  gst_object_unref(self);
  return v;
}

static void gst_quality_meter_pad_get_property(GObject* object, guint prop_id, GValue* value, GParamSpec* pspec) {
  GstQualityMeterPad* pad = GST_QUALITY_METER_PAD(object);
  switch (prop_id) {
    case PROP_PAD_DISTORTED_OFFSET:
      g_value_set_int64(value, pad_offset(pad, nullptr));
      break;
    case PROP_PAD_SUMMARY: {
      GstQualityMeter* self = pad_meter(GST_PAD(pad));
      if (!self || !pad->input->report) {
        g_value_set_boxed(value, nullptr);
      } else {
        GstStructure* s = guarded<GstStructure*>(GST_ELEMENT(self), "the pad's summary property", nullptr, [&] {
          return Reporter::pad_summary(*pad->input->report, self->priv->reporter.registry_lock());
        });
        g_value_take_boxed(value, s);
      }
      if (self) gst_object_unref(self);
      break;
    }
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
  }
}

static void gst_quality_meter_pad_finalize(GObject* object) {
  GstQualityMeterPad* pad = GST_QUALITY_METER_PAD(object);
  pad->input->state.clear();
  delete pad->input;
  G_OBJECT_CLASS(gst_quality_meter_pad_parent_class)->finalize(object);
}

static void gst_quality_meter_pad_class_init(GstQualityMeterPadClass* klass) {
  GObjectClass* gobject_class = G_OBJECT_CLASS(klass);
  gobject_class->set_property = gst_quality_meter_pad_set_property;
  gobject_class->get_property = gst_quality_meter_pad_get_property;
  gobject_class->finalize = gst_quality_meter_pad_finalize;
  g_object_class_install_property(
      gobject_class, PROP_PAD_DISTORTED_OFFSET,
      g_param_spec_int64("distorted-offset", "Distorted offset",
                         "Nanoseconds added to this pad's running times before pairing; until set, the "
                         "element's distorted-offset (which it reads back)",
                         G_MININT64, G_MAXINT64, 0,
                         GParamFlags(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_PLAYING)));
  g_object_class_install_property(
      gobject_class, PROP_PAD_SUMMARY,
      g_param_spec_boxed("summary", "Summary",
                         "This pad's summary so far (a \"qualitymeter-summary\" structure with its pad name)",
                         GST_TYPE_STRUCTURE, GParamFlags(G_PARAM_READABLE | G_PARAM_STATIC_STRINGS)));
}

static void gst_quality_meter_pad_init(GstQualityMeterPad* pad) { pad->input = new DistortedInput(); }

/* ------------------------------------------------------------------------ */
/* Pads of the element                                                      */

static bool is_reference(GstQualityMeter* self, GstAggregatorPad* pad) { return pad == self->priv->reference; }

static DistortedInput* input_of(GstAggregatorPad* pad) {
  return GST_IS_QUALITY_METER_PAD(pad) ? GST_QUALITY_METER_PAD(pad)->input : nullptr;
}

static const char* pad_name(GstAggregatorPad* pad) { return GST_OBJECT_NAME(pad); }

/* The distorted pads, reffed, the always pad first. */
static std::vector<GstQualityMeterPad*> distorted_pads(GstQualityMeter* self) {
  std::vector<GstQualityMeterPad*> pads;
  pads.reserve(8);
  GST_OBJECT_LOCK(self);
  for (GList* l = GST_ELEMENT(self)->sinkpads; l; l = l->next)
    if (GST_IS_QUALITY_METER_PAD(l->data)) pads.push_back(GST_QUALITY_METER_PAD(gst_object_ref(l->data)));
  GST_OBJECT_UNLOCK(self);
  std::stable_partition(pads.begin(), pads.end(), [&](GstQualityMeterPad* p) { return p == self->priv->distorted; });
  return pads;
}

static void unref_pads(std::vector<GstQualityMeterPad*>& pads) {
  for (GstQualityMeterPad* p : pads) gst_object_unref(p);
  pads.clear();
}

/* Counts buffers and EOS for the timeout. */
static GstPadProbeReturn activity_probe(GstPad*, GstPadProbeInfo* info, gpointer user_data) {
  auto* a = static_cast<Activity*>(user_data);
  if (GST_PAD_PROBE_INFO_TYPE(info) & GST_PAD_PROBE_TYPE_BUFFER) {
    a->last_us = g_get_monotonic_time();
    a->arrived++;
  } else if (GstEvent* e = GST_PAD_PROBE_INFO_EVENT(info)) {
    if (GST_EVENT_TYPE(e) == GST_EVENT_EOS) a->eos = true;
    if (GST_EVENT_TYPE(e) == GST_EVENT_FLUSH_STOP) a->restart(true);
  }
  return GST_PAD_PROBE_OK;
}

static void watch_pad(GstPad* pad, Activity* activity) {
  gst_pad_add_probe(pad, GstPadProbeType(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM),
                    activity_probe, activity, nullptr);
}

/* A distorted pad's part of the element: its report and device memory index. */
static void attach_input(GstQualityMeter* self, GstQualityMeterPad* pad, bool late) {
  GstQualityMeterPrivate* priv = self->priv;
  DistortedInput* in = pad->input;
  GST_OBJECT_LOCK(self);
  int index = 0;
  while (index < static_cast<int>(priv->device_index_used.size()) && priv->device_index_used[index]) ++index;
  if (index == static_cast<int>(priv->device_index_used.size())) priv->device_index_used.push_back(true);
  priv->device_index_used[index] = true;
  GST_OBJECT_UNLOCK(self);
  in->device_index = index;
  in->joined_late = late;
  in->activity.restart(true);
  in->report = priv->reporter.add_pad(GST_OBJECT_NAME(pad));
  watch_pad(GST_PAD(pad), &in->activity);
}

static void detach_input(GstQualityMeter* self, GstQualityMeterPad* pad) {
  GstQualityMeterPrivate* priv = self->priv;
  DistortedInput* in = pad->input;
  GST_OBJECT_LOCK(self);
  if (in->device_index < static_cast<int>(priv->device_index_used.size()))
    priv->device_index_used[in->device_index] = false;
  GST_OBJECT_UNLOCK(self);
  if (in->report) priv->reporter.remove_pad(in->report);
}

/* Device memory indices in use: the CUDA path sizes its allocation by it. */
static int device_index_count(GstQualityMeter* self) {
  GST_OBJECT_LOCK(self);
  const int n = static_cast<int>(self->priv->device_index_used.size());
  GST_OBJECT_UNLOCK(self);
  return std::max(1, n);
}

static GstAggregatorPad* gst_quality_meter_create_new_pad(GstAggregator* agg, GstPadTemplate* templ,
                                                          const gchar* req_name, const GstCaps*) {
  GstQualityMeter* self = GST_QUALITY_METER(agg);
  if (templ->direction != GST_PAD_SINK || templ->presence != GST_PAD_REQUEST) return nullptr;
  return guarded<GstAggregatorPad*>(GST_ELEMENT(self), "requesting a pad", nullptr, [&]() -> GstAggregatorPad* {
    GstQualityMeterPrivate* priv = self->priv;
    guint serial = 0;
    GST_OBJECT_LOCK(self);
    gchar* end = nullptr;
    if (req_name && g_str_has_prefix(req_name, "distorted_") && !strchr(req_name, '%')) {
      serial = static_cast<guint>(g_ascii_strtoull(req_name + 10, &end, 10));
      if (!end || *end || end == req_name + 10) end = nullptr;
    }
    if (!end) serial = priv->next_serial;
    /* A name in use is refused (GstElement would refuse to add the pad). */
    gchar* name = g_strdup_printf("distorted_%u", serial);
    bool taken = false;
    for (GList* l = GST_ELEMENT(self)->sinkpads; l; l = l->next)
      taken = taken || g_strcmp0(GST_OBJECT_NAME(l->data), name) == 0;
    if (!taken) priv->next_serial = std::max(priv->next_serial, serial + 1);
    const bool late = priv->started;
    GST_OBJECT_UNLOCK(self);
    if (taken) {
      GST_WARNING_OBJECT(self, "pad %s exists already", name);
      g_free(name);
      return nullptr;
    }
    auto* pad = GST_QUALITY_METER_PAD(g_object_new(GST_TYPE_QUALITY_METER_PAD, "name", name, "direction",
                                                   GST_PAD_SINK, "template", templ, nullptr));
    g_free(name);
    attach_input(self, pad, late);
    GST_INFO_OBJECT(self, "new pad %s%s", GST_OBJECT_NAME(pad), late ? " (starts at its first pair)" : "");
    return GST_AGGREGATOR_PAD(pad);
  });
}

static GstPad* gst_quality_meter_request_new_pad(GstElement* element, GstPadTemplate* templ, const gchar* name,
                                                 const GstCaps* caps) {
  GstPad* pad = GST_ELEMENT_CLASS(parent_class)->request_new_pad(element, templ, name, caps);
  if (pad) gst_child_proxy_child_added(GST_CHILD_PROXY(element), G_OBJECT(pad), GST_OBJECT_NAME(pad));
  return pad;
}

/* GstChildProxy over the sink pads. */
static GObject* gst_quality_meter_child_by_index(GstChildProxy* proxy, guint index) {
  GObject* child = nullptr;
  GST_OBJECT_LOCK(proxy);
  if (gpointer pad = g_list_nth_data(GST_ELEMENT(proxy)->sinkpads, index)) child = G_OBJECT(gst_object_ref(pad));
  GST_OBJECT_UNLOCK(proxy);
  return child;
}

static guint gst_quality_meter_children_count(GstChildProxy* proxy) {
  GST_OBJECT_LOCK(proxy);
  const guint n = GST_ELEMENT(proxy)->numsinkpads;
  GST_OBJECT_UNLOCK(proxy);
  return n;
}

static void gst_quality_meter_child_proxy_init(gpointer g_iface, gpointer) {
  auto* iface = static_cast<GstChildProxyInterface*>(g_iface);
  iface->get_child_by_index = gst_quality_meter_child_by_index;
  iface->get_children_count = gst_quality_meter_children_count;
}

static void gst_quality_meter_release_pad(GstElement* element, GstPad* pad) {
  GstQualityMeter* self = GST_QUALITY_METER(element);
  gst_child_proxy_child_removed(GST_CHILD_PROXY(element), G_OBJECT(pad), GST_OBJECT_NAME(pad));
  if (GST_IS_QUALITY_METER_PAD(pad) && GST_QUALITY_METER_PAD(pad) != self->priv->distorted) {
    guarded<bool>(element, "releasing a pad", false, [&] {
      /* Its summary so far goes out with it. */
      GST_OBJECT_LOCK(self);
      const bool started = self->priv->started;
      GST_OBJECT_UNLOCK(self);
      DistortedInput* in = GST_QUALITY_METER_PAD(pad)->input;
      if (started && in->report) self->priv->reporter.finish(element, *in->report, copy_settings(self));
      detach_input(self, GST_QUALITY_METER_PAD(pad));
      return true;
    });
  }
  GST_ELEMENT_CLASS(parent_class)->release_pad(element, pad);
}

/* ------------------------------------------------------------------------ */
/* GObject                                                                  */

static void gst_quality_meter_set_property(GObject* object, guint prop_id, const GValue* value, GParamSpec* pspec) {
  GstQualityMeterPrivate* priv = GST_QUALITY_METER(object)->priv;
  guarded<bool>(GST_ELEMENT(object), "setting a property", false, [&] {
    priv->settings.set(object, prop_id, value, pspec);
    return true;
  });
  if (prop_id == PROP_TIMEOUT) {
    std::lock_guard<std::mutex> guard(priv->watchdog_lock);
    priv->watchdog_wake.notify_all();
  }
}

static void gst_quality_meter_get_property(GObject* object, guint prop_id, GValue* value, GParamSpec* pspec) {
  GstQualityMeter* self = GST_QUALITY_METER(object);
  if (prop_id == PROP_SUMMARY)
    g_value_take_boxed(value, guarded<GstStructure*>(GST_ELEMENT(self), "the summary property", nullptr,
                                                     [&] { return self->priv->reporter.summary(); }));
  else
    guarded<bool>(GST_ELEMENT(self), "reading a property", false, [&] {
      self->priv->settings.get(object, prop_id, value, pspec);
      return true;
    });
}

static void clear_pad_state(GstQualityMeter* self) {
  self->priv->reference_state.clear();
  std::vector<GstQualityMeterPad*> pads = distorted_pads(self);
  for (GstQualityMeterPad* p : pads) {
    p->input->state.clear();
    p->input->measure.forget();
  }
  unref_pads(pads);
}

static void gst_quality_meter_dispose(GObject* object) {
  GstQualityMeter* self = GST_QUALITY_METER(object);
  self->priv->cuda.close();
  self->priv->reference_state.clear();
  G_OBJECT_CLASS(parent_class)->dispose(object);
}

static void gst_quality_meter_finalize(GObject* object) {
  delete GST_QUALITY_METER(object)->priv;
  G_OBJECT_CLASS(parent_class)->finalize(object);
}

/* ------------------------------------------------------------------------ */
/* Timeout watchdog (issue 10 F6, issue 12 §4)                               */

/* One look at every sink pad: a pad that is not at EOS, has nothing queued
 * and has delivered no buffer for `timeout` ms gets its warning (or error),
 * once per silence. */
static void watchdog_check(GstQualityMeter* self, const Settings& s) {
  GstQualityMeterPrivate* priv = self->priv;
  const gint64 now = g_get_monotonic_time();
  const gint64 limit = static_cast<gint64>(s.timeout_ms) * 1000;
  std::vector<GstQualityMeterPad*> pads = distorted_pads(self);
  std::vector<std::pair<GstPad*, Activity*>> all;
  all.emplace_back(GST_PAD(priv->reference), &priv->reference_activity);
  for (GstQualityMeterPad* p : pads) all.emplace_back(GST_PAD(p), &p->input->activity);
  for (auto& [pad, a] : all) {
    const gint64 last = a->last_us;
    if (a->eos || a->arrived > a->consumed || now - last < limit || a->warned_at == last) continue;
    a->warned_at = last;
    const bool never = a->arrived == 0 && a->consumed == 0;
    gchar* text = g_strdup_printf("Pad %s has delivered no frame for %u ms%s.", GST_OBJECT_NAME(pad), s.timeout_ms,
                                  never ? " (none since the element started)" : "");
    const char* debug = "Its upstream is stalled, unlinked or never started; the other pads wait for it. "
                        "Raise or disable the timeout property if it is expected (a live source in PAUSED).";
    if (s.timeout_action == GST_QUALITY_METER_TIMEOUT_ACTION_ERROR) {
      GST_ELEMENT_ERROR(self, STREAM, FAILED, ("%s", text), ("%s", debug));
    } else {
      GST_ELEMENT_WARNING(self, STREAM, FAILED, ("%s", text), ("%s", debug));
    }
    g_free(text);
  }
  unref_pads(pads);
}

static void watchdog_run(GstQualityMeter* self) {
  GstQualityMeterPrivate* priv = self->priv;
  std::unique_lock<std::mutex> lock(priv->watchdog_lock);
  while (!priv->watchdog_stop) {
    const Settings s = copy_settings(self);
    if (s.timeout_ms == 0) {
      priv->watchdog_wake.wait(lock);
      continue;
    }
    const auto period = std::chrono::milliseconds(std::clamp<guint>(s.timeout_ms / 4, 1, 100));
    priv->watchdog_wake.wait_for(lock, period);
    if (priv->watchdog_stop) break;
    lock.unlock();
    guarded<bool>(GST_ELEMENT(self), "the timeout watchdog", false, [&] {
      watchdog_check(self, s);
      return true;
    });
    lock.lock();
  }
}

static void restart_activity(GstQualityMeter* self, bool queues) {
  self->priv->reference_activity.restart(queues);
  std::vector<GstQualityMeterPad*> pads = distorted_pads(self);
  for (GstQualityMeterPad* p : pads) p->input->activity.restart(queues);
  unref_pads(pads);
}

static void stop_watchdog(GstQualityMeterPrivate* priv) {
  {
    std::lock_guard<std::mutex> guard(priv->watchdog_lock);
    priv->watchdog_stop = true;
    priv->watchdog_wake.notify_all();
  }
  if (priv->watchdog.joinable()) priv->watchdog.join();
}

/* ------------------------------------------------------------------------ */
/* Start / stop                                                             */

static gboolean gst_quality_meter_start(GstAggregator* agg) {
  GstQualityMeter* self = GST_QUALITY_METER(agg);
  return guarded<gboolean>(GST_ELEMENT(self), "start", FALSE, [&]() -> gboolean {
    GstQualityMeterPrivate* priv = self->priv;
    const Settings s = copy_settings(self);

    /* A stats file that cannot be written is an error now, not at EOS. */
    std::string why;
    if (!priv->reporter.start(s, &why)) {
      GST_ELEMENT_ERROR(self, RESOURCE, OPEN_WRITE,
                        ("Could not open stats-file \"%s\" for writing: %s.", s.stats_file.c_str(), why.c_str()),
                        ("The file's directory must exist and be writable; use \"-\" for standard output."));
      return FALSE;
    }
    std::vector<GstQualityMeterPad*> pads = distorted_pads(self);
    for (GstQualityMeterPad* p : pads) {
      p->input->next_frame = 0;
      p->input->paired_once = false;
      p->input->joined_late = false;
      p->input->measure.forget();
    }
    unref_pads(pads);
    restart_activity(self, true);
    GST_OBJECT_LOCK(self);
    priv->started = true;
    GST_OBJECT_UNLOCK(self);
    if (iir2d::gst::cuda_built() && !priv->cuda.open(s.cuda_device_id))
      GST_INFO_OBJECT(self, "CUDA unavailable (%s); only system memory can be measured",
                      priv->cuda.unavailable_reason().c_str());
    priv->watchdog_stop = false;
    priv->watchdog = std::thread(watchdog_run, self);
    return TRUE;
  });
}

static gboolean gst_quality_meter_stop(GstAggregator* agg) {
  GstQualityMeter* self = GST_QUALITY_METER(agg);
  GstQualityMeterPrivate* priv = self->priv;
  stop_watchdog(priv);
  GST_OBJECT_LOCK(self);
  priv->started = false;
  GST_OBJECT_UNLOCK(self);
  priv->reporter.stop();
  priv->cuda.close();
  return guarded<gboolean>(GST_ELEMENT(self), "stop", FALSE, [&] {
    clear_pad_state(self);
    return TRUE;
  });
}

static GstFlowReturn gst_quality_meter_flush(GstAggregator* agg) {
  GstQualityMeter* self = GST_QUALITY_METER(agg);
  return guarded<GstFlowReturn>(GST_ELEMENT(self), "flush", GST_FLOW_ERROR, [&] {
    /* After a seek the next pair does not follow the previous one, and the
     * next EOS gets its own summaries. */
    std::vector<GstQualityMeterPad*> pads = distorted_pads(self);
    for (GstQualityMeterPad* p : pads) p->input->measure.forget();
    unref_pads(pads);
    self->priv->reporter.rearm();
    restart_activity(self, false);  // the queues: by each pad's FLUSH_STOP
    return GST_FLOW_OK;
  });
}

/* Every sink pad must be linked before PAUSED: an unlinked one would make
 * the element wait for it forever (issue 10 F6, issue 12 §4). */
static bool check_links(GstQualityMeter* self) {
  std::string unlinked;
  GST_OBJECT_LOCK(self);
  for (GList* l = GST_ELEMENT(self)->sinkpads; l; l = l->next)
    if (!GST_PAD_PEER(GST_PAD(l->data))) unlinked += std::string(unlinked.empty() ? "" : ", ") + GST_OBJECT_NAME(l->data);
  GST_OBJECT_UNLOCK(self);
  if (unlinked.empty()) return true;
  GST_ELEMENT_ERROR(self, CORE, PAD, ("Sink pad %s of qualitymeter is not linked.", unlinked.c_str()),
                    ("Every sink pad (reference, distorted and each requested distorted_%%u) needs an upstream "
                     "element; check the pad names in the launch line, or release the pads not used."));
  return false;
}

static GstStateChangeReturn gst_quality_meter_change_state(GstElement* element, GstStateChange transition) {
  GstQualityMeter* self = GST_QUALITY_METER(element);
  if (transition == GST_STATE_CHANGE_READY_TO_PAUSED &&
      !guarded<bool>(element, "the state change", false, [&] { return check_links(self); }))
    return GST_STATE_CHANGE_FAILURE;
  if (transition == GST_STATE_CHANGE_PAUSED_TO_PLAYING &&
      !guarded<bool>(element, "the state change", false, [&] {
        restart_activity(self, false);  // live sources start now
        return true;
      }))
    return GST_STATE_CHANGE_FAILURE;
  return GST_ELEMENT_CLASS(parent_class)->change_state(element, transition);
}

/* ------------------------------------------------------------------------ */
/* Caps                                                                     */

/* "I420 320x240 in system memory" */
static std::string describe(const PadState& p) {
  return iir2d::gst::describe_format(&p.info) + (p.cuda ? " in CUDA memory" : " in system memory");
}

static bool same_input_layout(const PadState& a, const PadState& b) {
  return a.cuda == b.cuda && GST_VIDEO_INFO_FORMAT(&a.info) == GST_VIDEO_INFO_FORMAT(&b.info) &&
         GST_VIDEO_INFO_WIDTH(&a.info) == GST_VIDEO_INFO_WIDTH(&b.info) &&
         GST_VIDEO_INFO_HEIGHT(&a.info) == GST_VIDEO_INFO_HEIGHT(&b.info);
}

/* The caps the other pad must match: its format, size and memory feature only. */
static GstCaps* matching_caps(GstCaps* other) {
  GstCaps* caps = gst_caps_new_empty();
  GstStructure* o = gst_caps_get_structure(other, 0);
  GstStructure* s = gst_structure_new_empty(gst_structure_get_name(o));
  for (const char* field : {"format", "width", "height"})
    if (const GValue* v = gst_structure_get_value(o, field)) gst_structure_set_value(s, field, v);
  gst_caps_append_structure_full(caps, s, gst_caps_features_copy(gst_caps_get_features(other, 0)));
  return caps;
}

/* Sink CAPS query: the template (for the distorted pad, what downstream
 * accepts), with caps matching the reference first (for the reference: the
 * distorted pad's) when it has caps. The rest stays acceptable so that a
 * mismatch reaches the frames and fails there with an error naming both
 * sides. */
static GstCaps* sink_caps(GstQualityMeter* self, GstAggregatorPad* pad, GstCaps* filter) {
  GstAggregator* agg = GST_AGGREGATOR(self);
  GstCaps* templ = gst_pad_get_pad_template_caps(GST_PAD(pad));
  GstCaps* base = templ;
  if (pad == GST_AGGREGATOR_PAD(self->priv->distorted)) {
    base = gst_pad_peer_query_caps(GST_AGGREGATOR_SRC_PAD(agg), templ);
    gst_caps_unref(templ);
  }
  GstCaps* result = base;
  GstPad* other = is_reference(self, pad) ? GST_PAD(self->priv->distorted) : GST_PAD(self->priv->reference);
  if (GstCaps* other_caps = gst_pad_get_current_caps(other)) {
    GstCaps* match = matching_caps(other_caps);
    GstCaps* preferred = gst_caps_intersect_full(match, base, GST_CAPS_INTERSECT_FIRST);
    result = gst_caps_merge(preferred, base);
    gst_caps_unref(match);
    gst_caps_unref(other_caps);
  }
  if (filter) {
    GstCaps* filtered = gst_caps_intersect_full(filter, result, GST_CAPS_INTERSECT_FIRST);
    gst_caps_unref(result);
    result = filtered;
  }
  GST_DEBUG_OBJECT(pad, "caps %" GST_PTR_FORMAT, result);
  return result;
}

/* A CAPS event on a sink pad (it reaches us when its frames come to the
 * head of the pad's queue): stores the format of the pad's next frames.
 * The pads are compared per frame pair, when a pair is measured (issue 10,
 * F1: a caps change of both inputs reaches the two pads at different
 * times). For the distorted pad it negotiates the same caps downstream
 * right away, so that its ALLOCATION query (forwarded downstream) finds
 * downstream configured. */
static gboolean handle_sink_caps(GstQualityMeter* self, GstAggregatorPad* pad, GstCaps* caps) {
  GstQualityMeterPrivate* priv = self->priv;
  DistortedInput* in = input_of(pad);
  PadState& st = in ? in->state : priv->reference_state;
  GstVideoInfo info;
  if (!gst_video_info_from_caps(&info, caps)) {
    GST_ELEMENT_ERROR(self, CORE, NEGOTIATION, ("Invalid caps on the %s pad.", pad_name(pad)),
                      ("%" GST_PTR_FORMAT, caps));
    return FALSE;
  }
  if (!st.caps || !gst_video_info_is_equal(&st.info, &info)) {  // new frame size or format
    if (in) {
      in->measure.forget();
    } else {
      std::vector<GstQualityMeterPad*> pads = distorted_pads(self);
      for (GstQualityMeterPad* p : pads) p->input->measure.forget();
      unref_pads(pads);
    }
  }
  gst_caps_replace(&st.caps, caps);
  st.info = info;
  st.cuda = caps_are_cuda(caps);

  if (st.cuda && !priv->cuda.ready() && !priv->cuda.open(copy_settings(self).cuda_device_id)) {
    const std::string why = priv->cuda.unavailable_reason();
    GST_ELEMENT_ERROR(self, RESOURCE, NOT_FOUND, ("No CUDA context: %s.", why.c_str()),
                      ("CUDA memory caps %" GST_PTR_FORMAT " on the %s pad but no CUDA context could be opened. "
                       "Use system memory (drop cudaupload) or check the driver and cuda-device-id.",
                       caps, pad_name(pad)));
    return FALSE;
  }

  if (pad == GST_AGGREGATOR_PAD(priv->distorted)) {
    gst_pad_mark_reconfigure(GST_AGGREGATOR_SRC_PAD(self));
    if (!gst_aggregator_negotiate(GST_AGGREGATOR(self))) return FALSE;
  }
  GST_DEBUG_OBJECT(self, "%s pad: %s", pad_name(pad), describe(st).c_str());
  return TRUE;
}

/* Output caps: the distorted input's caps, unchanged. */
static GstFlowReturn gst_quality_meter_update_src_caps(GstAggregator* agg, GstCaps* downstream, GstCaps** ret) {
  GstQualityMeter* self = GST_QUALITY_METER(agg);
  GstCaps* dist = self->priv->distorted->input->state.caps;
  if (!dist) return GST_AGGREGATOR_FLOW_NEED_DATA;
  if (!gst_caps_can_intersect(dist, downstream)) {
    GST_ELEMENT_ERROR(self, CORE, NEGOTIATION, ("Downstream does not accept the distorted stream's caps."),
                      ("distorted caps %" GST_PTR_FORMAT ", downstream accepts %" GST_PTR_FORMAT, dist, downstream));
    return GST_FLOW_NOT_NEGOTIATED;
  }
  *ret = gst_caps_ref(dist);
  return GST_FLOW_OK;
}

static gboolean gst_quality_meter_sink_event(GstAggregator* agg, GstAggregatorPad* pad, GstEvent* event) {
  GstQualityMeter* self = GST_QUALITY_METER(agg);
  switch (GST_EVENT_TYPE(event)) {
    case GST_EVENT_CAPS: {
      GstCaps* caps = nullptr;
      gst_event_parse_caps(event, &caps);
      const gboolean ok = guarded<gboolean>(GST_ELEMENT(self), "a CAPS event", FALSE,
                                            [&] { return handle_sink_caps(self, pad, caps); });
      gst_event_unref(event);
      return ok;
    }
    case GST_EVENT_SEGMENT: {
      const gboolean ok = GST_AGGREGATOR_CLASS(parent_class)->sink_event(agg, pad, event);
      if (ok && pad == GST_AGGREGATOR_PAD(self->priv->distorted)) {
        /* The output keeps the distorted stream's timeline. */
        GST_OBJECT_LOCK(pad);
        GstSegment segment = pad->segment;
        GST_OBJECT_UNLOCK(pad);
        gst_aggregator_update_segment(agg, &segment);
      }
      return ok;
    }
    default:
      return GST_AGGREGATOR_CLASS(parent_class)->sink_event(agg, pad, event);
  }
}

/* The pipeline's CUDA context (the CONTEXT query is answered in the sink and src queries). */
static void gst_quality_meter_set_context(GstElement* element, GstContext* context) {
  GstQualityMeter* self = GST_QUALITY_METER(element);
  self->priv->cuda.set_context(context, copy_settings(self).cuda_device_id);
  GST_ELEMENT_CLASS(parent_class)->set_context(element, context);
}

static gboolean handle_allocation(GstQualityMeter* self, GstAggregatorPad* pad, GstQuery* query) {
  /* The distorted buffers go downstream untouched: let downstream answer. */
  if (pad == GST_AGGREGATOR_PAD(self->priv->distorted) && gst_pad_peer_query(GST_AGGREGATOR_SRC_PAD(self), query))
    return TRUE;

  GstCaps* caps = nullptr;
  gst_query_parse_allocation(query, &caps, nullptr);
  GstVideoInfo info;
  if (!caps || !gst_video_info_from_caps(&info, caps)) return FALSE;
  if (caps_are_cuda(caps) && !self->priv->cuda.propose_pool(query, caps)) return FALSE;
  if (!gst_query_find_allocation_meta(query, GST_VIDEO_META_API_TYPE, nullptr))
    gst_query_add_allocation_meta(query, GST_VIDEO_META_API_TYPE, nullptr);
  return TRUE;
}

static gboolean gst_quality_meter_sink_query(GstAggregator* agg, GstAggregatorPad* pad, GstQuery* query) {
  GstQualityMeter* self = GST_QUALITY_METER(agg);
  switch (GST_QUERY_TYPE(query)) {
    case GST_QUERY_CAPS: {
      GstCaps* filter = nullptr;
      gst_query_parse_caps(query, &filter);
      GstCaps* caps = sink_caps(self, pad, filter);
      gst_query_set_caps_result(query, caps);
      gst_caps_unref(caps);
      return TRUE;
    }
    case GST_QUERY_ACCEPT_CAPS: {
      GstCaps* caps = nullptr;
      gst_query_parse_accept_caps(query, &caps);
      GstCaps* templ = gst_pad_get_pad_template_caps(GST_PAD(pad));
      gst_query_set_accept_caps_result(query, gst_caps_can_intersect(caps, templ));
      gst_caps_unref(templ);
      return TRUE;
    }
    case GST_QUERY_ALLOCATION:
      return handle_allocation(self, pad, query);
    case GST_QUERY_CONTEXT:
      if (self->priv->cuda.handle_context_query(query)) return TRUE;
      break;
    default:
      break;
  }
  return GST_AGGREGATOR_CLASS(parent_class)->sink_query(agg, pad, query);
}

static gboolean gst_quality_meter_src_query(GstAggregator* agg, GstQuery* query) {
  GstQualityMeter* self = GST_QUALITY_METER(agg);
  switch (GST_QUERY_TYPE(query)) {
    case GST_QUERY_CAPS: {
      /* Whatever the distorted input can produce (it comes out unchanged). */
      GstCaps* filter = nullptr;
      gst_query_parse_caps(query, &filter);
      GstCaps* caps = gst_pad_peer_query_caps(GST_PAD(self->priv->distorted), filter);
      GstCaps* templ = gst_pad_get_pad_template_caps(GST_AGGREGATOR_SRC_PAD(agg));
      GstCaps* result = gst_caps_intersect_full(caps, templ, GST_CAPS_INTERSECT_FIRST);
      gst_query_set_caps_result(query, result);
      gst_caps_unref(result);
      gst_caps_unref(templ);
      gst_caps_unref(caps);
      return TRUE;
    }
    case GST_QUERY_CONTEXT:
      if (self->priv->cuda.handle_context_query(query)) return TRUE;
      break;
    default:
      break;
  }
  return GST_AGGREGATOR_CLASS(parent_class)->src_query(agg, query);
}

/* ------------------------------------------------------------------------ */
/* Pairing and measuring                                                    */

static GstClockTime running_time(GstAggregatorPad* pad, GstBuffer* buf) {
  GST_OBJECT_LOCK(pad);
  const GstClockTime rt = gst_segment_to_running_time(&pad->segment, GST_FORMAT_TIME, GST_BUFFER_PTS(buf));
  GST_OBJECT_UNLOCK(pad);
  return rt;
}

/* The head buffer of a distorted pad, and what becomes of it. */
struct Head {
  GstQualityMeterPad* pad = nullptr;
  GstBuffer* buf = nullptr;  // peeked (our ref), null if none queued
  bool eos = false;
  Step step = Step::Pair;
  GstClockTime rt = GST_CLOCK_TIME_NONE;
  const char* why = "";

  DistortedInput* in() const { return pad->input; }
  GstAggregatorPad* agg_pad() const { return GST_AGGREGATOR_PAD(pad); }
};

/* Takes the head buffer off a distorted pad: the always pad's goes
 * downstream unchanged, a requested pad's is dropped. */
static GstFlowReturn release_head(GstQualityMeter* self, Head& h) {
  GstAggregator* agg = GST_AGGREGATOR(self);
  gst_clear_buffer(&h.buf);  // our peeked reference first, so the buffer leaves writable
  h.in()->activity.consumed++;
  if (h.pad != self->priv->distorted) {
    gst_aggregator_pad_drop_buffer(h.agg_pad());
    return GST_FLOW_OK;
  }
  GstBuffer* buf = gst_aggregator_pad_pop_buffer(h.agg_pad());
  if (!buf) return GST_FLOW_OK;
  gst_aggregator_selected_samples(agg, GST_BUFFER_PTS(buf), GST_BUFFER_DTS(buf), GST_BUFFER_DURATION(buf), nullptr);
  if (GST_BUFFER_PTS_IS_VALID(buf)) {
    GST_OBJECT_LOCK(agg);
    GST_AGGREGATOR_PAD(agg->srcpad)->segment.position =
        GST_BUFFER_PTS(buf) + (GST_BUFFER_DURATION_IS_VALID(buf) ? GST_BUFFER_DURATION(buf) : 0);
    GST_OBJECT_UNLOCK(agg);
  }
  return gst_aggregator_finish_buffer(agg, buf);
}

static void drop_reference(GstQualityMeter* self, GstBuffer** ref) {
  gst_clear_buffer(ref);
  self->priv->reference_activity.consumed++;
  gst_aggregator_pad_drop_buffer(self->priv->reference);
}

/* Whether a pad's unpaired frames count: a pad requested while running
 * starts at its first pair (issue 13). */
static bool counts_unpaired(const DistortedInput* in) { return in->paired_once || !in->joined_late; }

static void count_unpaired(GstQualityMeter* self, Head& h, int role, const char* why, const Settings& s) {
  if (!counts_unpaired(h.in())) return;
  self->priv->reporter.count_unpaired(GST_ELEMENT_CAST(self), *h.in()->report, role, s);
  GST_DEBUG_OBJECT(self, "%s: unpaired %s frame: %s", pad_name(h.agg_pad()), role == kReference ? "reference" : "distorted",
                   why);
}

/* A pair's measurement, between measuring and recording it. */
struct Measured {
  bool ok = false;
  std::string error;
  quality::FrameMetrics metrics;
};

/* Formats compared per pair (issue 10, F1): false after posting the error. */
static bool check_pair_formats(GstQualityMeter* self, Head& h) {
  const PadState& rst = self->priv->reference_state;
  const PadState& dst = h.in()->state;
  if (rst.caps && dst.caps && same_input_layout(rst, dst)) return true;
  const std::string text = std::string("The reference and distorted inputs must have the same format and size, both "
                                       "in CUDA memory or both in system memory: reference is ") +
                           (rst.caps ? describe(rst) : "without caps") + ", " + pad_name(h.agg_pad()) + " is " +
                           (dst.caps ? describe(dst) : "without caps") + ".";
  GST_ELEMENT_ERROR(self, CORE, NEGOTIATION, ("%s", text.c_str()),
                    ("reference caps %" GST_PTR_FORMAT ", %s caps %" GST_PTR_FORMAT, rst.caps, pad_name(h.agg_pad()),
                     dst.caps));
  return false;
}

/* Measures one pair in system memory (the buffers stay queued): safe to run
 * for several pads at once (each pad has its own PairMeasure; the
 * reference is only mapped for reading). */
static void measure_one(GstQualityMeter* self, GstBuffer* ref, Head& h, Measured* out) {
  const PadState& rst = self->priv->reference_state;
  DistortedInput* in = h.in();
  try {
    out->ok = in->measure.measure_system(ref, &rst.info, h.buf, &in->state.info, &out->metrics, &out->error);
  } catch (const std::bad_alloc&) {
    out->ok = false;
    out->error = "out of memory";
  }
}

/* Measures every pair of one reference frame in CUDA memory at once: the
 * reference's block sums are computed once and used by every pad, in one
 * launch sequence (PairMeasure::measure_cuda). A failure is every pair's. */
static void measure_cuda_all(GstQualityMeter* self, GstBuffer* ref, std::vector<Head*>& paired, const Settings& s,
                             std::vector<Measured>& out) {
  GstQualityMeterPrivate* priv = self->priv;
  std::string error;
  bool ok = false;
  try {
    /* Buffers of another CUDA context: follow them (the previous pairs'
     * luma went with our device memory). */
    if (priv->cuda.adopt_context_of(ref, s.cuda_device_id)) priv->device_generation++;
    std::vector<PairMeasure::CudaPair> pairs;
    pairs.reserve(paired.size());
    for (std::size_t i = 0; i < paired.size(); ++i) {
      DistortedInput* in = paired[i]->in();
      pairs.push_back(PairMeasure::CudaPair{&in->measure, pad_name(paired[i]->agg_pad()), in->device_index,
                                            paired[i]->buf, &in->state.info, &out[i].metrics});
    }
    ok = PairMeasure::measure_cuda(priv->cuda, device_index_count(self), &priv->device_generation, ref,
                                   &priv->reference_state.info, pairs, &error);
  } catch (const std::bad_alloc&) {
    error = "out of memory";
  }
  for (Measured& m : out) {
    m.ok = ok;
    m.error = error;
  }
}

/* Records a measured pair: messages, stats row, thresholds (streaming
 * thread, one pad after the other). */
static GstFlowReturn record_pair(GstQualityMeter* self, Head& h, const Measured& mp, const Settings& s) {
  GstQualityMeterPrivate* priv = self->priv;
  DistortedInput* in = h.in();
  const PadState& dst = in->state;
  if (!mp.ok) {
    GST_ELEMENT_ERROR(self, STREAM, FAILED,
                      ("Could not measure frame %" G_GUINT64_FORMAT " of pad %s.", in->next_frame, pad_name(h.agg_pad())),
                      ("%s (%s memory)", mp.error.c_str(), dst.cuda ? "CUDA" : "system"));
    return GST_FLOW_ERROR;
  }
  const quality::FrameMetrics& m = mp.metrics;
  FrameReport r;
  r.pad = pad_name(h.agg_pad());
  r.frame = in->next_frame++;
  r.pts = GST_BUFFER_PTS(h.buf);
  r.running_time = h.rt;
  r.components = m.components;
  r.rgb = GST_VIDEO_INFO_IS_RGB(&dst.info);
  std::copy(std::begin(m.psnr), std::end(m.psnr), std::begin(r.psnr));
  std::copy(std::begin(m.ssim), std::end(m.ssim), std::begin(r.ssim));
  r.psnr_avg = m.psnr_avg;
  r.ssim_all = m.ssim_all;
  r.temporal_delta = m.temporal_delta;
  in->paired_once = true;
  std::string error;
  if (!priv->reporter.record(GST_ELEMENT_CAST(self), *in->report, r, s, &error)) {
    GST_ELEMENT_ERROR(self, RESOURCE, WRITE,
                      ("Could not write stats-file \"%s\": %s.", s.stats_file.c_str(), error.c_str()),
                      ("pad %s, frame %" G_GUINT64_FORMAT "; the rows before it are in the file", r.pad.c_str(),
                       r.frame));
    return GST_FLOW_ERROR;
  }
  return GST_FLOW_OK;
}

/* Measures the reference frame against every pad whose head pairs with it
 * and records them in pad order. In system memory the pads are measured in
 * parallel (up to one thread per core; the CPU's share of an encode
 * ladder), in CUDA memory all at once on the element's stream, the
 * reference's block sums shared by every pad. */
static GstFlowReturn measure_pairs(GstQualityMeter* self, GstBuffer* ref, std::vector<Head*>& paired,
                                   const Settings& s) {
  for (Head* h : paired)
    if (!check_pair_formats(self, *h)) return GST_FLOW_NOT_NEGOTIATED;
  std::vector<Measured> results(paired.size());
  const bool cuda = self->priv->reference_state.cuda;
  const std::size_t workers =
      cuda ? 1 : std::min<std::size_t>(paired.size(), std::max(1u, std::thread::hardware_concurrency()));
  if (cuda) {
    measure_cuda_all(self, ref, paired, s, results);
  } else if (workers <= 1) {
    for (std::size_t i = 0; i < paired.size(); ++i) measure_one(self, ref, *paired[i], &results[i]);
  } else {
    std::atomic<std::size_t> next{0};
    auto work = [&] {
      for (std::size_t i; (i = next++) < paired.size();) measure_one(self, ref, *paired[i], &results[i]);
    };
    std::vector<std::thread> threads;
    threads.reserve(workers - 1);
    try {
      for (std::size_t w = 1; w < workers; ++w) threads.emplace_back(work);
    } catch (const std::system_error&) {
      // fewer threads: the work is shared by the ones there are
    }
    work();
    for (std::thread& t : threads) t.join();
  }
  for (std::size_t i = 0; i < paired.size(); ++i) {
    const GstFlowReturn ret = record_pair(self, *paired[i], results[i], s);
    if (ret != GST_FLOW_OK) return ret;
  }
  return GST_FLOW_OK;
}

/* One step: at most one reference frame (with its partners on every
 * distorted pad) or one distorted frame is taken off the queues.
 *  1. gaps: a reference GAP is dropped, a distorted GAP passed on;
 *  2. a distorted frame earlier than the reference head (or with the
 *     reference at EOS) is unpaired: passed on (always pad) or dropped;
 *  3. otherwise the reference head is decided for every distorted pad at
 *     once: measured with the pads whose head pairs with it, unpaired for
 *     the pads whose head is later or that are at EOS; pads with nothing
 *     queued are waited for (non-live), or, on a live timeout, count it
 *     unpaired. */
static GstFlowReturn aggregate_step(GstQualityMeter* self, std::vector<Head>& heads, GstBuffer** ref_io,
                                    gboolean timeout) {
  GstQualityMeterPrivate* priv = self->priv;
  GstAggregatorPad* rpad = priv->reference;
  GstBuffer*& ref = *ref_io;
  const bool ref_eos = gst_aggregator_pad_is_eos(rpad);

  bool any = ref != nullptr, all_eos = ref_eos;
  for (const Head& h : heads) {
    any = any || h.buf;
    all_eos = all_eos && h.eos;
  }
  const Settings s = copy_settings(self);
  if (!any) {
    if (!all_eos) return GST_AGGREGATOR_FLOW_NEED_DATA;
    for (Head& h : heads) priv->reporter.finish(GST_ELEMENT_CAST(self), *h.in()->report, s);
    return GST_FLOW_EOS;
  }
  if (ref && is_gap(ref)) {
    drop_reference(self, &ref);
    return GST_FLOW_OK;
  }
  for (Head& h : heads)
    if (h.buf && is_gap(h.buf)) return release_head(self, h);  // a missing frame: passed on as it is

  for (Head& h : heads) {
    if (!h.buf) continue;
    if (!ref) {
      if (!ref_eos && !timeout) continue;  // live: the reference may still come
      count_unpaired(self, h, kDistorted, ref_eos ? "the reference pad is at EOS" : "timeout", s);
      return release_head(self, h);
    }
    h.rt = running_time(h.agg_pad(), h.buf);
    h.step = pair_step(running_time(rpad, ref), frame_duration(ref, &priv->reference_state.info), h.rt,
                       frame_duration(h.buf, &h.in()->state.info), pad_offset(h.pad, &s), &h.why);
    if (h.step == Step::UnpairedDistorted) {
      count_unpaired(self, h, kDistorted, h.why, s);
      return release_head(self, h);
    }
  }
  if (!ref) return GST_AGGREGATOR_FLOW_NEED_DATA;
  for (Head& h : heads)
    if (!h.buf && !h.eos && !timeout) return GST_AGGREGATOR_FLOW_NEED_DATA;

  std::vector<Head*> paired;
  paired.reserve(heads.size());
  for (Head& h : heads) {
    if (h.buf && h.step == Step::Pair)
      paired.push_back(&h);
    else
      count_unpaired(self, h, kReference, !h.buf ? (h.eos ? "the distorted pad is at EOS" : "timeout") : h.why, s);
  }
  GstFlowReturn ret = measure_pairs(self, ref, paired, s);
  if (ret != GST_FLOW_OK) return ret;
  drop_reference(self, &ref);
  for (Head& h : heads) {
    if (!h.buf || h.step != Step::Pair) continue;
    const GstFlowReturn r = release_head(self, h);
    if (ret == GST_FLOW_OK) ret = r;
  }
  return ret;
}

static GstFlowReturn gst_quality_meter_aggregate(GstAggregator* agg, gboolean timeout) {
  GstQualityMeter* self = GST_QUALITY_METER(agg);
  std::vector<GstQualityMeterPad*> pads;
  std::vector<Head> heads;
  GstBuffer* ref = nullptr;
  const GstFlowReturn ret = guarded<GstFlowReturn>(GST_ELEMENT(self), "aggregate", GST_FLOW_ERROR, [&] {
    pads = distorted_pads(self);
    heads.resize(pads.size());
    for (std::size_t i = 0; i < pads.size(); ++i) {
      heads[i].pad = pads[i];
      heads[i].buf = gst_aggregator_pad_peek_buffer(GST_AGGREGATOR_PAD(pads[i]));
      heads[i].eos = gst_aggregator_pad_is_eos(GST_AGGREGATOR_PAD(pads[i]));
    }
    ref = gst_aggregator_pad_peek_buffer(self->priv->reference);
    return aggregate_step(self, heads, &ref, timeout);
  });
  gst_clear_buffer(&ref);
  for (Head& h : heads) gst_clear_buffer(&h.buf);
  unref_pads(pads);
  return ret;
}

/* ------------------------------------------------------------------------ */
/* Class                                                                    */

static void gst_quality_meter_class_init(GstQualityMeterClass* klass) {
  GObjectClass* gobject_class = G_OBJECT_CLASS(klass);
  GstElementClass* element_class = GST_ELEMENT_CLASS(klass);
  GstAggregatorClass* agg_class = GST_AGGREGATOR_CLASS(klass);

  gobject_class->set_property = gst_quality_meter_set_property;
  gobject_class->get_property = gst_quality_meter_get_property;
  gobject_class->dispose = gst_quality_meter_dispose;
  gobject_class->finalize = gst_quality_meter_finalize;

  install_properties(gobject_class);
  g_object_class_install_property(
      gobject_class, PROP_SUMMARY,
      g_param_spec_boxed("summary", "Summary",
                         "Summary so far of the distorted pad: frames measured, unpaired frames, and min/p50/p95/"
                         "mean/harmonic-mean/max of every metric (a \"qualitymeter-summary\" structure), with each "
                         "requested pad's summary nested in it under the pad's name",
                         GST_TYPE_STRUCTURE, GParamFlags(G_PARAM_READABLE | G_PARAM_STATIC_STRINGS)));

  gst_element_class_set_static_metadata(element_class, "Video quality meter", "Filter/Analyzer/Video",
                                        "PSNR and SSIM (as ffmpeg defines them) and temporal stability of one or "
                                        "more distorted streams against one reference, on the GPU for CUDA memory "
                                        "and on the CPU for system memory; the distorted stream passes through",
                                        IIR2D_AUTHOR);
  gst_element_class_add_pad_template(element_class,
                                     iir2d::gst::element_pad_template("reference", GST_PAD_SINK, GST_PAD_ALWAYS,
                                                                      GST_TYPE_AGGREGATOR_PAD));
  gst_element_class_add_pad_template(element_class,
                                     iir2d::gst::element_pad_template("distorted", GST_PAD_SINK, GST_PAD_ALWAYS,
                                                                      GST_TYPE_QUALITY_METER_PAD));
  gst_element_class_add_pad_template(element_class,
                                     iir2d::gst::element_pad_template("distorted_%u", GST_PAD_SINK, GST_PAD_REQUEST,
                                                                      GST_TYPE_QUALITY_METER_PAD));
  gst_element_class_add_pad_template(
      element_class, iir2d::gst::element_pad_template("src", GST_PAD_SRC, GST_PAD_ALWAYS, GST_TYPE_AGGREGATOR_PAD));

  element_class->set_context = GST_DEBUG_FUNCPTR(gst_quality_meter_set_context);
  element_class->change_state = GST_DEBUG_FUNCPTR(gst_quality_meter_change_state);
  element_class->release_pad = GST_DEBUG_FUNCPTR(gst_quality_meter_release_pad);
  element_class->request_new_pad = GST_DEBUG_FUNCPTR(gst_quality_meter_request_new_pad);

  agg_class->start = GST_DEBUG_FUNCPTR(gst_quality_meter_start);
  agg_class->stop = GST_DEBUG_FUNCPTR(gst_quality_meter_stop);
  agg_class->flush = GST_DEBUG_FUNCPTR(gst_quality_meter_flush);
  agg_class->sink_event = GST_DEBUG_FUNCPTR(gst_quality_meter_sink_event);
  agg_class->sink_query = GST_DEBUG_FUNCPTR(gst_quality_meter_sink_query);
  agg_class->src_query = GST_DEBUG_FUNCPTR(gst_quality_meter_src_query);
  agg_class->update_src_caps = GST_DEBUG_FUNCPTR(gst_quality_meter_update_src_caps);
  agg_class->aggregate = GST_DEBUG_FUNCPTR(gst_quality_meter_aggregate);
  agg_class->create_new_pad = GST_DEBUG_FUNCPTR(gst_quality_meter_create_new_pad);
  agg_class->get_next_time = gst_aggregator_simple_get_next_time;

  gst_type_mark_as_plugin_api(GST_TYPE_QUALITY_METER_STATS_FORMAT, GstPluginAPIFlags(0));
  gst_type_mark_as_plugin_api(GST_TYPE_QUALITY_METER_TIMEOUT_ACTION, GstPluginAPIFlags(0));
  gst_type_mark_as_plugin_api(GST_TYPE_QUALITY_METER_PAD, GstPluginAPIFlags(0));
}

static void gst_quality_meter_init(GstQualityMeter* self) {
  self->priv = new GstQualityMeterPrivate(GST_ELEMENT(self));
  GstElementClass* klass = GST_ELEMENT_GET_CLASS(self);
  GstPad* ref = GST_PAD(g_object_new(GST_TYPE_AGGREGATOR_PAD, "name", "reference", "direction", GST_PAD_SINK,
                                     "template", gst_element_class_get_pad_template(klass, "reference"), nullptr));
  self->priv->reference = GST_AGGREGATOR_PAD(ref);
  watch_pad(ref, &self->priv->reference_activity);
  gst_element_add_pad(GST_ELEMENT(self), ref);
  auto* dist = GST_QUALITY_METER_PAD(g_object_new(GST_TYPE_QUALITY_METER_PAD, "name", "distorted", "direction",
                                                  GST_PAD_SINK, "template",
                                                  gst_element_class_get_pad_template(klass, "distorted"), nullptr));
  self->priv->distorted = dist;
  attach_input(self, dist, false);
  gst_element_add_pad(GST_ELEMENT(self), GST_PAD(dist));
}
