// SPDX-License-Identifier: MIT
/**
 * SECTION:element-qualitymeter
 * @title: qualitymeter
 * @short_description: PSNR, SSIM and temporal stability of a video stream against its reference
 *
 * Measures how far the frames on the `distorted` pad are from the frames on
 * the `reference` pad, per frame and per plane, and passes the distorted
 * stream through unchanged on `src` (so the meter can sit inline before an
 * encoder or a sink):
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
 *   measured pairs; 0 on the first.
 *
 * Planes are reported as y, u, v (a) for YUV and gray formats and r, g, b (a)
 * for RGB formats; alpha counts in the averages, as in ffmpeg's psnr.
 *
 * Frames are paired by running time: a distorted frame and a reference frame
 * pair when their running times, the distorted one shifted by
 * #GstQualityMeter:distorted-offset, differ by less than half a frame (the
 * buffer duration, else the caps' frame rate; exact equality when neither is
 * known). A frame that finds no partner is counted for its pad and never
 * measured against a repeated frame; unpaired distorted frames still pass
 * through. When one pad reaches EOS the other pad's remaining frames are
 * counted as unpaired; the element sends EOS once both pads are at EOS.
 *
 * Both inputs must have the same format and size, both in CUDA memory
 * (`video/x-raw(memory:CUDAMemory)`, measured by CUDA kernels on the
 * element's own stream in the pipeline's CUDA context; only per-frame
 * scalars come back to the host) or both in system memory (measured on the
 * CPU). Anything else fails negotiation with an error naming both sides.
 *
 * Outputs: an element message `qualitymeter` per frame while
 * #GstQualityMeter:post-messages is true; a row per frame in
 * #GstQualityMeter:stats-file (CSV or JSON Lines, first line naming the
 * format version, flushed row by row); at EOS an element message
 * `qualitymeter-summary` and a log line (category `qualitymeter`, level INFO)
 * per metric with min, p50, p95, mean, harmonic mean and max, plus the
 * unpaired-frame counts; the same summary in the read-only
 * #GstQualityMeter:summary property. With #GstQualityMeter:min-psnr,
 * #GstQualityMeter:min-ssim or #GstQualityMeter:max-temporal-delta set, a
 * warning message names the metric, value and frame when it crosses its
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
 *
 * Since: 0.1
 */

#include "gstqualitymeter.h"

#include <gst/video/video.h>

#include <string>

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
};

}  // namespace

struct GstQualityMeterPrivate {
  explicit GstQualityMeterPrivate(GstElement* self) : cuda(self, 1) {}

  iir2d::gst::LockedSettings<Settings> settings;  // property values ("summary" is the reporter's)

  GstAggregatorPad* pads[2] = {nullptr, nullptr};  // reference, distorted (children of the element)

  /* State: streaming thread only (the reporter's summary excepted); reset in start/stop. */
  PadState pad_state[2];
  Reporter reporter;
  PairMeasure measure;
  guint64 next_frame = 0;

  /* CUDA memory: the pipeline's context, our stream, device memory slot 0
   * for the measurement. */
  CudaSession cuda;
};

struct _GstQualityMeter {
  GstAggregator parent;
  GstQualityMeterPrivate* priv;
};

#define gst_quality_meter_parent_class parent_class
/* The debug category is made with the type: pairing.cpp and report.cpp log to it too. */
G_DEFINE_TYPE_WITH_CODE(GstQualityMeter, gst_quality_meter, GST_TYPE_AGGREGATOR,
                        GST_DEBUG_CATEGORY_INIT(gst_quality_meter_debug, "qualitymeter", 0,
                                                "PSNR/SSIM/temporal quality meter"));
GST_ELEMENT_REGISTER_DEFINE(qualitymeter, "qualitymeter", GST_RANK_NONE, GST_TYPE_QUALITY_METER);

static Settings copy_settings(GstQualityMeter* self) { return self->priv->settings.copy(); }

static int pad_role(GstQualityMeter* self, GstAggregatorPad* pad) {
  return pad == self->priv->pads[kDistorted] ? kDistorted : kReference;
}

/* ------------------------------------------------------------------------ */
/* GObject                                                                  */

static void gst_quality_meter_set_property(GObject* object, guint prop_id, const GValue* value, GParamSpec* pspec) {
  GST_QUALITY_METER(object)->priv->settings.set(object, prop_id, value, pspec);
}

static void gst_quality_meter_get_property(GObject* object, guint prop_id, GValue* value, GParamSpec* pspec) {
  GstQualityMeterPrivate* priv = GST_QUALITY_METER(object)->priv;
  if (prop_id == PROP_SUMMARY)
    g_value_take_boxed(value, priv->reporter.summary());
  else
    priv->settings.get(object, prop_id, value, pspec);
}

static void clear_pad_state(GstQualityMeterPrivate* priv) {
  for (PadState& p : priv->pad_state) {
    gst_clear_caps(&p.caps);
    p = PadState();
  }
}

static void gst_quality_meter_dispose(GObject* object) {
  GstQualityMeterPrivate* priv = GST_QUALITY_METER(object)->priv;
  priv->cuda.close();
  clear_pad_state(priv);
  G_OBJECT_CLASS(parent_class)->dispose(object);
}

static void gst_quality_meter_finalize(GObject* object) {
  delete GST_QUALITY_METER(object)->priv;
  G_OBJECT_CLASS(parent_class)->finalize(object);
}

/* ------------------------------------------------------------------------ */
/* Start / stop                                                             */

static gboolean gst_quality_meter_start(GstAggregator* agg) {
  GstQualityMeter* self = GST_QUALITY_METER(agg);
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
  priv->next_frame = 0;
  priv->measure.forget();
  if (iir2d::gst::cuda_built() && !priv->cuda.open(s.cuda_device_id))
    GST_INFO_OBJECT(self, "CUDA unavailable (%s); only system memory can be measured",
                    priv->cuda.unavailable_reason().c_str());
  return TRUE;
}

static gboolean gst_quality_meter_stop(GstAggregator* agg) {
  GstQualityMeterPrivate* priv = GST_QUALITY_METER(agg)->priv;
  priv->reporter.stop();
  priv->cuda.close();
  clear_pad_state(priv);
  priv->measure.forget();
  return TRUE;
}

static GstFlowReturn gst_quality_meter_flush(GstAggregator* agg) {
  GstQualityMeterPrivate* priv = GST_QUALITY_METER(agg)->priv;
  /* After a seek the next pair does not follow the previous one, and the
   * next EOS gets its own summary. */
  priv->measure.forget();
  priv->reporter.rearm();
  return GST_FLOW_OK;
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
 * accepts), with caps matching the other input first when it has caps. The
 * rest stays acceptable so that a mismatch reaches the CAPS event and fails
 * there with an error naming both sides. */
static GstCaps* sink_caps(GstQualityMeter* self, GstAggregatorPad* pad, GstCaps* filter) {
  GstAggregator* agg = GST_AGGREGATOR(self);
  GstCaps* templ = gst_pad_get_pad_template_caps(GST_PAD(pad));
  GstCaps* base = templ;
  if (pad_role(self, pad) == kDistorted) {
    base = gst_pad_peer_query_caps(GST_AGGREGATOR_SRC_PAD(agg), templ);
    gst_caps_unref(templ);
  }
  GstCaps* result = base;
  GstPad* other = GST_PAD(self->priv->pads[1 - pad_role(self, pad)]);
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

/* A CAPS event on a sink pad (streaming thread): stores the pad's format,
 * checks it against the other input, and for the distorted pad negotiates the
 * same caps downstream right away, so that its ALLOCATION query (forwarded
 * downstream) finds downstream configured. */
static gboolean handle_sink_caps(GstQualityMeter* self, GstAggregatorPad* pad, GstCaps* caps) {
  GstQualityMeterPrivate* priv = self->priv;
  const int role = pad_role(self, pad);
  PadState& st = priv->pad_state[role];
  GstVideoInfo info;
  if (!gst_video_info_from_caps(&info, caps)) {
    GST_ELEMENT_ERROR(self, CORE, NEGOTIATION, ("Invalid caps on the %s pad.", kRoleNames[role]),
                      ("%" GST_PTR_FORMAT, caps));
    return FALSE;
  }
  if (!st.caps || !gst_video_info_is_equal(&st.info, &info)) priv->measure.forget();  // new frame size or format
  gst_caps_replace(&st.caps, caps);
  st.info = info;
  st.cuda = caps_are_cuda(caps);

  if (st.cuda && !priv->cuda.ready() && !priv->cuda.open(copy_settings(self).cuda_device_id)) {
    const std::string why = priv->cuda.unavailable_reason();
    GST_ELEMENT_ERROR(self, RESOURCE, NOT_FOUND, ("No CUDA context: %s.", why.c_str()),
                      ("CUDA memory caps %" GST_PTR_FORMAT " on the %s pad but no CUDA context could be opened. "
                       "Use system memory (drop cudaupload) or check the driver and cuda-device-id.",
                       caps, kRoleNames[role]));
    return FALSE;
  }

  const PadState& other = priv->pad_state[1 - role];
  if (other.caps && !same_input_layout(st, other)) {
    const PadState& ref = priv->pad_state[kReference];
    const PadState& dist = priv->pad_state[kDistorted];
    const std::string text = "The reference and distorted inputs must have the same format and size, both in CUDA "
                             "memory or both in system memory: reference is " +
                             describe(ref) + ", distorted is " + describe(dist) + ".";
    GST_ELEMENT_ERROR(self, CORE, NEGOTIATION, ("%s", text.c_str()),
                      ("reference caps %" GST_PTR_FORMAT ", distorted caps %" GST_PTR_FORMAT, ref.caps, dist.caps));
    return FALSE;
  }

  if (role == kDistorted) {
    gst_pad_mark_reconfigure(GST_AGGREGATOR_SRC_PAD(self));
    if (!gst_aggregator_negotiate(GST_AGGREGATOR(self))) return FALSE;
  }
  GST_DEBUG_OBJECT(self, "%s pad: %s", kRoleNames[role], describe(st).c_str());
  return TRUE;
}

/* Output caps: the distorted input's caps, unchanged. */
static GstFlowReturn gst_quality_meter_update_src_caps(GstAggregator* agg, GstCaps* downstream, GstCaps** ret) {
  GstQualityMeter* self = GST_QUALITY_METER(agg);
  GstCaps* dist = self->priv->pad_state[kDistorted].caps;
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
      const gboolean ok = handle_sink_caps(self, pad, caps);
      gst_event_unref(event);
      return ok;
    }
    case GST_EVENT_SEGMENT: {
      const gboolean ok = GST_AGGREGATOR_CLASS(parent_class)->sink_event(agg, pad, event);
      if (ok && pad_role(self, pad) == kDistorted) {
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
  if (pad_role(self, pad) == kDistorted && gst_pad_peer_query(GST_AGGREGATOR_SRC_PAD(self), query)) return TRUE;

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
      GstCaps* caps = gst_pad_peer_query_caps(GST_PAD(self->priv->pads[kDistorted]), filter);
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

/* Sends the distorted head buffer downstream unchanged. */
static GstFlowReturn push_distorted(GstQualityMeter* self) {
  GstAggregator* agg = GST_AGGREGATOR(self);
  GstBuffer* buf = gst_aggregator_pad_pop_buffer(self->priv->pads[kDistorted]);
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

/* Measures a pair (the buffers stay queued) and records the results. */
static GstFlowReturn measure_pair(GstQualityMeter* self, GstBuffer* ref, GstBuffer* dist, GstClockTime dist_rt,
                                  const Settings& s) {
  GstQualityMeterPrivate* priv = self->priv;
  const PadState& rst = priv->pad_state[kReference];
  const PadState& dst = priv->pad_state[kDistorted];
  quality::FrameMetrics m;
  std::string error;
  bool ok;
  if (dst.cuda) {
    /* Buffers of another CUDA context: follow them (the previous pair's
     * luma went with our device memory). */
    if (priv->cuda.adopt_context_of(ref, s.cuda_device_id)) priv->measure.forget();
    ok = priv->measure.measure_cuda(priv->cuda, ref, &rst.info, dist, &dst.info, &m, &error);
  } else {
    ok = priv->measure.measure_system(ref, &rst.info, dist, &dst.info, &m, &error);
  }
  if (!ok) {
    GST_ELEMENT_ERROR(self, STREAM, FAILED, ("Could not measure frame %" G_GUINT64_FORMAT ".", priv->next_frame),
                      ("%s (%s memory)", error.c_str(), dst.cuda ? "CUDA" : "system"));
    return GST_FLOW_ERROR;
  }
  FrameReport r;
  r.frame = priv->next_frame++;
  r.pts = GST_BUFFER_PTS(dist);
  r.running_time = dist_rt;
  r.components = m.components;
  r.rgb = GST_VIDEO_INFO_IS_RGB(&dst.info);
  std::copy(std::begin(m.psnr), std::end(m.psnr), std::begin(r.psnr));
  std::copy(std::begin(m.ssim), std::end(m.ssim), std::begin(r.ssim));
  r.psnr_avg = m.psnr_avg;
  r.ssim_all = m.ssim_all;
  r.temporal_delta = m.temporal_delta;
  if (!priv->reporter.record(GST_ELEMENT_CAST(self), r, s, &error)) {
    GST_ELEMENT_ERROR(self, RESOURCE, WRITE,
                      ("Could not write stats-file \"%s\": %s.", s.stats_file.c_str(), error.c_str()),
                      ("frame %" G_GUINT64_FORMAT "; the rows before it are in the file", r.frame));
    return GST_FLOW_ERROR;
  }
  return GST_FLOW_OK;
}

/* Pairs the head buffers by running time (both present). */
static Step decide(GstQualityMeter* self, GstBuffer* ref, GstBuffer* dist, const Settings& s, GstClockTime* dist_rt,
                   const char** why) {
  GstQualityMeterPrivate* priv = self->priv;
  *dist_rt = running_time(priv->pads[kDistorted], dist);
  return pair_step(running_time(priv->pads[kReference], ref), frame_duration(ref, &priv->pad_state[kReference].info),
                   *dist_rt, frame_duration(dist, &priv->pad_state[kDistorted].info), s.distorted_offset, why);
}

static void count_unpaired(GstQualityMeter* self, int role, const char* why) {
  self->priv->reporter.count_unpaired(role);
  GST_DEBUG_OBJECT(self, "unpaired %s frame: %s", kRoleNames[role], why);
}

static GstFlowReturn gst_quality_meter_aggregate(GstAggregator* agg, gboolean timeout) {
  GstQualityMeter* self = GST_QUALITY_METER(agg);
  GstQualityMeterPrivate* priv = self->priv;
  GstAggregatorPad* rpad = priv->pads[kReference];
  GstAggregatorPad* dpad = priv->pads[kDistorted];
  GstBuffer* ref = gst_aggregator_pad_peek_buffer(rpad);
  GstBuffer* dist = gst_aggregator_pad_peek_buffer(dpad);

  Step step;
  const char* why = "";
  GstClockTime dist_rt = GST_CLOCK_TIME_NONE;
  GstFlowReturn ret = GST_FLOW_OK;
  if (!ref && !dist) {
    if (gst_aggregator_pad_is_eos(rpad) && gst_aggregator_pad_is_eos(dpad)) {
      priv->reporter.finish(GST_ELEMENT_CAST(self));
      return GST_FLOW_EOS;
    }
    return GST_AGGREGATOR_FLOW_NEED_DATA;
  } else if (dist && is_gap(dist)) {
    step = Step::PassGapDistorted;  // a missing frame: nothing to measure, passed on as it is
  } else if (ref && is_gap(ref)) {
    step = Step::DropGapReference;
  } else if (!dist) {
    /* The distorted stream ended (or, live, is late): no partner for this reference frame. */
    step = Step::UnpairedReference;
    why = gst_aggregator_pad_is_eos(dpad) ? "the distorted pad is at EOS" : "timeout";
  } else if (!ref) {
    step = Step::UnpairedDistorted;
    why = gst_aggregator_pad_is_eos(rpad) ? "the reference pad is at EOS" : "timeout";
  } else {
    const Settings s = copy_settings(self);
    step = decide(self, ref, dist, s, &dist_rt, &why);
    if (step == Step::Pair) ret = measure_pair(self, ref, dist, dist_rt, s);
  }
  (void)timeout;
  /* Our peeked references go first, so the distorted buffer leaves writable. */
  gst_clear_buffer(&ref);
  gst_clear_buffer(&dist);
  if (ret != GST_FLOW_OK) return ret;

  switch (step) {
    case Step::Pair:
      gst_aggregator_pad_drop_buffer(rpad);
      return push_distorted(self);
    case Step::UnpairedReference:
      count_unpaired(self, kReference, why);
      gst_aggregator_pad_drop_buffer(rpad);
      return GST_FLOW_OK;
    case Step::UnpairedDistorted:
      count_unpaired(self, kDistorted, why);
      return push_distorted(self);
    case Step::DropGapReference:
      gst_aggregator_pad_drop_buffer(rpad);
      return GST_FLOW_OK;
    case Step::PassGapDistorted:
      return push_distorted(self);
  }
  return GST_FLOW_OK;
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
                         "Summary so far: frames measured, unpaired frames per pad, and min/p50/p95/mean/"
                         "harmonic-mean/max of every metric (a \"qualitymeter-summary\" structure)",
                         GST_TYPE_STRUCTURE, GParamFlags(G_PARAM_READABLE | G_PARAM_STATIC_STRINGS)));
  
  gst_element_class_set_static_metadata(element_class, "Video quality meter", "Filter/Analyzer/Video",
                                        "PSNR and SSIM (as ffmpeg defines them) and temporal stability of a "
                                        "distorted stream against its reference, on the GPU for CUDA memory and "
                                        "on the CPU for system memory; the distorted stream passes through",
                                        "gst-iir2d developers");
  for (int role : {kReference, kDistorted})
    gst_element_class_add_pad_template(element_class,
                                       iir2d::gst::element_pad_template(kRoleNames[role], GST_PAD_SINK, GST_PAD_ALWAYS,
                                                                        GST_TYPE_AGGREGATOR_PAD));
  gst_element_class_add_pad_template(
      element_class, iir2d::gst::element_pad_template("src", GST_PAD_SRC, GST_PAD_ALWAYS, GST_TYPE_AGGREGATOR_PAD));

  element_class->set_context = GST_DEBUG_FUNCPTR(gst_quality_meter_set_context);

  agg_class->start = GST_DEBUG_FUNCPTR(gst_quality_meter_start);
  agg_class->stop = GST_DEBUG_FUNCPTR(gst_quality_meter_stop);
  agg_class->flush = GST_DEBUG_FUNCPTR(gst_quality_meter_flush);
  agg_class->sink_event = GST_DEBUG_FUNCPTR(gst_quality_meter_sink_event);
  agg_class->sink_query = GST_DEBUG_FUNCPTR(gst_quality_meter_sink_query);
  agg_class->src_query = GST_DEBUG_FUNCPTR(gst_quality_meter_src_query);
  agg_class->update_src_caps = GST_DEBUG_FUNCPTR(gst_quality_meter_update_src_caps);
  agg_class->aggregate = GST_DEBUG_FUNCPTR(gst_quality_meter_aggregate);
  agg_class->get_next_time = gst_aggregator_simple_get_next_time;

  gst_type_mark_as_plugin_api(GST_TYPE_QUALITY_METER_STATS_FORMAT, GstPluginAPIFlags(0));
}

static void gst_quality_meter_init(GstQualityMeter* self) {
  self->priv = new GstQualityMeterPrivate(GST_ELEMENT(self));
  GstElementClass* klass = GST_ELEMENT_GET_CLASS(self);
  for (int role : {kReference, kDistorted}) {
    GstPadTemplate* templ = gst_element_class_get_pad_template(klass, kRoleNames[role]);
    GstPad* pad = GST_PAD(g_object_new(GST_TYPE_AGGREGATOR_PAD, "name", kRoleNames[role], "direction",
                                       GST_PAD_SINK, "template", templ, nullptr));
    self->priv->pads[role] = GST_AGGREGATOR_PAD(pad);
    gst_element_add_pad(GST_ELEMENT(self), pad);
  }
}
