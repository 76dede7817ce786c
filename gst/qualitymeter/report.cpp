// SPDX-License-Identifier: MIT
// What qualitymeter reports; see report.h.
#include "report.h"

#include <cmath>

GST_DEBUG_CATEGORY_EXTERN(gst_quality_meter_debug);
#define GST_CAT_DEFAULT gst_quality_meter_debug

namespace iir2d::gst::meter {

using iir2d::qm::FrameReport;
using iir2d::qm::MetricSummary;
using iir2d::qm::Summary;
using iir2d::qm::ThresholdEvent;

namespace {

void post_element_message(GstElement* element, GstStructure* s) {
  gst_element_post_message(element, gst_message_new_element(GST_OBJECT_CAST(element), s));
}

}  // namespace

bool Reporter::start(const Settings& s, std::string* why) {
  {
    std::lock_guard<std::mutex> guard(lock_);
    collected_ = Collected();
  }
  std::fill(std::begin(alarm_), std::end(alarm_), false);
  finished_ = false;
  return s.stats_file.empty() || stats_.open(s.stats_file, s.stats_format, why);
}

void Reporter::check_threshold(GstElement* element, int index, const char* metric, double value, double threshold,
                               bool enabled, bool beyond, const FrameReport& r) {
  bool& alarm = alarm_[index];
  if (!enabled || std::isnan(value) || beyond == alarm) return;
  alarm = beyond;
  ThresholdEvent ev;
  ev.metric = metric;
  ev.value = value;
  ev.threshold = threshold;
  ev.frame = r.frame;
  ev.pts = r.pts;
  ev.recovered = !beyond;
  if (ev.recovered) {
    GST_INFO_OBJECT(element, "%s recovered: %s at frame %" G_GUINT64_FORMAT, metric, format_number(value).c_str(),
                    r.frame);
    post_element_message(element, ev.to_structure());
    return;
  }
  gchar* text = g_strdup_printf("Quality threshold crossed: %s = %s (threshold %s) at frame %" G_GUINT64_FORMAT
                                ", pts %" GST_TIME_FORMAT ".",
                                metric, format_number(value).c_str(), format_number(threshold).c_str(), r.frame,
                                GST_TIME_ARGS(r.pts));
  gchar* debug = g_strdup_printf("%s went %s its threshold; a %s message follows when it comes back", metric,
                                 index == 2 ? "above" : "below", iir2d::qm::kRecoveredMessage);
  gst_element_message_full_with_details(element, GST_MESSAGE_WARNING, GST_STREAM_ERROR,
                                        GST_STREAM_ERROR_FAILED, text, debug, __FILE__, GST_FUNCTION, __LINE__,
                                        ev.to_structure());
}

bool Reporter::record(GstElement* element, const FrameReport& r, const Settings& s, std::string* why) {
  {
    std::lock_guard<std::mutex> guard(lock_);
    Collected& c = collected_;
    c.frames++;
    for (int i = 0; i < r.components; ++i) c.add(std::string("psnr-") + r.plane_name(i), r.psnr[i]);
    c.add("psnr-avg", r.psnr_avg);
    for (int i = 0; i < r.components; ++i) c.add(std::string("ssim-") + r.plane_name(i), r.ssim[i]);
    c.add("ssim-all", r.ssim_all);
    c.add("temporal-delta", r.temporal_delta);
  }
  if (!stats_.write(r, why)) return false;
  if (s.post_messages) post_element_message(element, r.to_structure());
  check_threshold(element, 0, "psnr-avg", r.psnr_avg, s.min_psnr, s.psnr_threshold_on(), r.psnr_avg < s.min_psnr, r);
  check_threshold(element, 1, "ssim-all", r.ssim_all, s.min_ssim, s.ssim_threshold_on(), r.ssim_all < s.min_ssim, r);
  check_threshold(element, 2, "temporal-delta", r.temporal_delta, s.max_temporal_delta, s.temporal_threshold_on(),
                  r.temporal_delta > s.max_temporal_delta, r);
  return true;
}

void Reporter::count_unpaired(int role) {
  std::lock_guard<std::mutex> guard(lock_);
  collected_.unpaired[role]++;
}

GstStructure* Reporter::summary() {
  std::lock_guard<std::mutex> guard(lock_);
  return summarise(collected_).to_structure();
}

void Reporter::finish(GstElement* element) {
  if (finished_) return;
  finished_ = true;
  Summary summary;
  {
    std::lock_guard<std::mutex> guard(lock_);
    summary = summarise(collected_);
  }
  GST_INFO_OBJECT(element, "summary: %" G_GUINT64_FORMAT " frames measured, %" G_GUINT64_FORMAT
                           " unpaired reference frames, %" G_GUINT64_FORMAT " unpaired distorted frames",
                  summary.frames, summary.unpaired_reference, summary.unpaired_distorted);
  for (const MetricSummary& m : summary.metrics)
    GST_INFO_OBJECT(element, "summary: %-14s min %s p50 %s p95 %s mean %s harmonic-mean %s max %s", m.metric.c_str(),
                    format_number(m.min).c_str(), format_number(m.p50).c_str(), format_number(m.p95).c_str(),
                    format_number(m.mean).c_str(), format_number(m.harmonic_mean).c_str(),
                    format_number(m.max).c_str());
  post_element_message(element, summary.to_structure());
}

}  // namespace iir2d::gst::meter
