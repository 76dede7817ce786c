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

/* The element's parts: the sink pads (pads.cpp), the caps (caps.cpp), the
 * aggregate step that pairs and measures (aggregate.cpp), their shared
 * state (gstqualitymeterprivate.h). */

#include "gstqualitymeter.h"

#include <gst/video/video.h>

#include <algorithm>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "../common/cuda_session.h"
#include "../common/formats.h"
#include "gstqualitymeterprivate.h"
#include "pads.h"
#include "settings.h"

GST_DEBUG_CATEGORY(gst_quality_meter_debug);
#define GST_CAT_DEFAULT gst_quality_meter_debug

using namespace iir2d::gst::meter;

#define gst_quality_meter_parent_class parent_class
/* The debug category is made with the type: the element's other files,
 * pairing.cpp and report.cpp log to it too.
 * GstChildProxy: the sink pads are children, so that launch lines set pad
 * properties (distorted_0::distorted-offset=...). */
G_DEFINE_TYPE_WITH_CODE(GstQualityMeter, gst_quality_meter, GST_TYPE_AGGREGATOR,
                        GST_DEBUG_CATEGORY_INIT(gst_quality_meter_debug, "qualitymeter", 0,
                                                "PSNR/SSIM/temporal quality meter");
                        G_IMPLEMENT_INTERFACE(GST_TYPE_CHILD_PROXY, gst_quality_meter_child_proxy_init));
GST_ELEMENT_REGISTER_DEFINE(qualitymeter, "qualitymeter", GST_RANK_NONE, GST_TYPE_QUALITY_METER);

/* ------------------------------------------------------------------------ */
/* Pad requests (the pads themselves: pads.cpp)                             */

static GstPad* gst_quality_meter_request_new_pad(GstElement* element, GstPadTemplate* templ, const gchar* name,
                                                 const GstCaps* caps) {
  GstPad* pad = GST_ELEMENT_CLASS(parent_class)->request_new_pad(element, templ, name, caps);
  if (pad) gst_child_proxy_child_added(GST_CHILD_PROXY(element), G_OBJECT(pad), GST_OBJECT_NAME(pad));
  return pad;
}

static void gst_quality_meter_release_pad(GstElement* element, GstPad* pad) {
  GstQualityMeter* self = GST_QUALITY_METER(element);
  gst_child_proxy_child_removed(GST_CHILD_PROXY(element), G_OBJECT(pad), GST_OBJECT_NAME(pad));
  if (GST_IS_QUALITY_METER_PAD(pad) && GST_QUALITY_METER_PAD(pad) != self->priv->distorted) {
    guarded<bool>(element, "releasing a pad", false, [&] {
      release_input(self, GST_QUALITY_METER_PAD(pad));
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
/* Events and queries (the caps themselves: caps.cpp)                       */

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
