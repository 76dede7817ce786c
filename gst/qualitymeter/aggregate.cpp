// SPDX-License-Identifier: MIT
/*
 * qualitymeter's aggregate step: pairs the reference head frame with the
 * head frame of every distorted pad (the rule: pairing.h), measures the
 * pairs (in parallel on the CPU, all at once on the GPU; measure.h),
 * records them (report.h) and passes the `distorted` stream on.
 */
#include <gst/video/video.h>

#include <algorithm>
#include <atomic>
#include <iterator>
#include <new>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "gstqualitymetermessages.h"
#include "gstqualitymeterprivate.h"
#include "measure.h"
#include "pairing.h"

#define GST_CAT_DEFAULT gst_quality_meter_debug

using namespace iir2d::gst::meter;
using iir2d::qm::FrameReport;
namespace quality = iir2d::quality;

namespace {

GstClockTime running_time(GstAggregatorPad* pad, GstBuffer* buf) {
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
GstFlowReturn release_head(GstQualityMeter* self, Head& h) {
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

void drop_reference(GstQualityMeter* self, GstBuffer** ref) {
  gst_clear_buffer(ref);
  self->priv->reference_activity.consumed++;
  gst_aggregator_pad_drop_buffer(self->priv->reference);
}

/* Whether a pad's unpaired frames count: a pad requested while running
 * starts at its first pair (issue 13). */
bool counts_unpaired(const DistortedInput* in) { return in->paired_once || !in->joined_late; }

void count_unpaired(GstQualityMeter* self, Head& h, int role, const char* why, const Settings& s) {
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
bool check_pair_formats(GstQualityMeter* self, Head& h) {
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
void measure_one(GstQualityMeter* self, GstBuffer* ref, Head& h, Measured* out) {
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
void measure_cuda_all(GstQualityMeter* self, GstBuffer* ref, std::vector<Head*>& paired, const Settings& s,
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
GstFlowReturn record_pair(GstQualityMeter* self, Head& h, const Measured& mp, const Settings& s) {
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
GstFlowReturn measure_pairs(GstQualityMeter* self, GstBuffer* ref, std::vector<Head*>& paired, const Settings& s) {
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
GstFlowReturn aggregate_step(GstQualityMeter* self, std::vector<Head>& heads, GstBuffer** ref_io, gboolean timeout) {
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

}  // namespace

GstFlowReturn gst_quality_meter_aggregate(GstAggregator* agg, gboolean timeout) {
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
