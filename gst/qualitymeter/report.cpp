// SPDX-License-Identifier: MIT
// What qualitymeter reports; see report.h.
#include "report.h"

#include <algorithm>
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

/* The running check of max-unpaired waits for this many frames of a pad. */
constexpr guint64 kUnpairedMinFrames = 100;

}  // namespace

bool Reporter::start(const Settings& s, std::string* why) {
  {
    std::lock_guard<std::mutex> guard(lock_);
    for (auto& pad : pads_) {
      pad->stats = std::make_shared<PadStats>();
      std::fill(std::begin(pad->alarm), std::end(pad->alarm), false);
      pad->finished = false;
      pad->unpaired_warned = false;
    }
  }
  return s.stats_file.empty() || stats_.open(s.stats_file, s.stats_format, why);
}

void Reporter::rearm() {
  std::lock_guard<std::mutex> guard(lock_);
  for (auto& pad : pads_) {
    pad->finished = false;
    pad->unpaired_warned = false;
  }
}

std::shared_ptr<PadReport> Reporter::add_pad(const std::string& name) {
  auto pad = std::make_shared<PadReport>(name);
  std::lock_guard<std::mutex> guard(lock_);
  pads_.push_back(pad);
  return pad;
}

void Reporter::remove_pad(const std::shared_ptr<PadReport>& pad) {
  std::lock_guard<std::mutex> guard(lock_);
  pads_.erase(std::remove(pads_.begin(), pads_.end(), pad), pads_.end());
}

void Reporter::check_threshold(GstElement* element, PadReport& pad, int index, const char* metric, double value,
                               double threshold, bool enabled, bool beyond, const FrameReport& r) {
  bool& alarm = pad.alarm[index];
  if (!enabled || std::isnan(value) || beyond == alarm) return;
  alarm = beyond;
  ThresholdEvent ev;
  ev.metric = metric;
  ev.value = value;
  ev.threshold = threshold;
  ev.frame = r.frame;
  ev.pts = r.pts;
  ev.recovered = !beyond;
  ev.pad = pad.name;
  if (ev.recovered) {
    GST_INFO_OBJECT(element, "%s: %s recovered: %s at frame %" G_GUINT64_FORMAT, pad.name.c_str(), metric,
                    format_number(value).c_str(), r.frame);
    post_element_message(element, ev.to_structure());
    return;
  }
  gchar* text = g_strdup_printf("Quality threshold crossed on pad %s: %s = %s (threshold %s) at frame %" G_GUINT64_FORMAT
                                ", pts %" GST_TIME_FORMAT ".",
                                pad.name.c_str(), metric, format_number(value).c_str(),
                                format_number(threshold).c_str(), r.frame, GST_TIME_ARGS(r.pts));
  gchar* debug = g_strdup_printf("%s went %s its threshold; a %s message follows when it comes back", metric,
                                 index == 2 ? "above" : "below", iir2d::qm::kRecoveredMessage);
  gst_element_message_full_with_details(element, GST_MESSAGE_WARNING, GST_STREAM_ERROR, GST_STREAM_ERROR_FAILED,
                                        text, debug, __FILE__, GST_FUNCTION, __LINE__, ev.to_structure());
}

bool Reporter::record(GstElement* element, PadReport& pad, const FrameReport& r, const Settings& s,
                      std::string* why) {
  std::shared_ptr<PadStats> stats;
  {
    std::lock_guard<std::mutex> guard(lock_);
    stats = pad.stats;
  }
  stats->add(r);
  if (!stats_.write(r, why)) return false;
  if (s.post_messages) post_element_message(element, r.to_structure());
  check_threshold(element, pad, 0, "psnr-avg", r.psnr_avg, s.min_psnr, s.psnr_threshold_on(),
                  r.psnr_avg < s.min_psnr, r);
  check_threshold(element, pad, 1, "ssim-all", r.ssim_all, s.min_ssim, s.ssim_threshold_on(),
                  r.ssim_all < s.min_ssim, r);
  check_threshold(element, pad, 2, "temporal-delta", r.temporal_delta, s.max_temporal_delta,
                  s.temporal_threshold_on(), r.temporal_delta > s.max_temporal_delta, r);
  return true;
}

void Reporter::check_unpaired(GstElement* element, PadReport& pad, const Settings& s, guint64 min_frames) {
  if (pad.unpaired_warned.load() || s.max_unpaired >= 1.0) return;
  std::shared_ptr<PadStats> stats;
  {
    std::lock_guard<std::mutex> guard(lock_);
    stats = pad.stats;
  }
  guint64 frames, ur, ud;
  stats->counts(&frames, &ur, &ud);
  const guint64 refs = frames + ur, dists = frames + ud;
  if (std::max(refs, dists) < min_frames || std::max(refs, dists) == 0) return;
  const double ref_share = refs ? static_cast<double>(ur) / static_cast<double>(refs) : 0.0;
  const double dist_share = dists ? static_cast<double>(ud) / static_cast<double>(dists) : 0.0;
  if (std::max(ref_share, dist_share) <= s.max_unpaired || pad.unpaired_warned.exchange(true)) return;
  gchar* text = g_strdup_printf(
      "Pad %s: %.1f %% of the reference frames (%" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT
      ") and %.1f %% of the distorted frames (%" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT
      ") found no partner, more than max-unpaired (%.1f %%).",
      pad.name.c_str(), 100.0 * ref_share, ur, refs, 100.0 * dist_share, ud, dists, 100.0 * s.max_unpaired);
  gchar* debug = g_strdup(
      "The streams' frame rates or timestamps differ (e.g. 30 fps against 15 fps), or distorted-offset is wrong; "
      "the summary's unpaired-reference and unpaired-distorted count them");
  gst_element_message_full_with_details(
      element, GST_MESSAGE_WARNING, GST_STREAM_ERROR, GST_STREAM_ERROR_FAILED, text, debug, __FILE__, GST_FUNCTION,
      __LINE__,
      gst_structure_new("qualitymeter-unpaired", "pad", G_TYPE_STRING, pad.name.c_str(), "frames", G_TYPE_UINT64,
                        frames, "unpaired-reference", G_TYPE_UINT64, ur, "unpaired-distorted", G_TYPE_UINT64, ud,
                        "max-unpaired", G_TYPE_DOUBLE, s.max_unpaired, nullptr));
}

void Reporter::count_unpaired(GstElement* element, PadReport& pad, int role, const Settings& s) {
  std::shared_ptr<PadStats> stats;
  {
    std::lock_guard<std::mutex> guard(lock_);
    stats = pad.stats;
  }
  stats->count_unpaired(role);
  check_unpaired(element, pad, s, kUnpairedMinFrames);
}

GstStructure* Reporter::pad_summary(const PadReport& pad, std::mutex& registry_lock) {
  std::shared_ptr<PadStats> stats;
  {
    std::lock_guard<std::mutex> guard(registry_lock);
    stats = pad.stats;
  }
  return stats->summary(pad.name).to_structure();
}

GstStructure* Reporter::summary() {
  std::vector<std::pair<std::string, std::shared_ptr<PadStats>>> pads;
  {
    std::lock_guard<std::mutex> guard(lock_);
    for (const auto& p : pads_) pads.emplace_back(p->name, p->stats);
  }
  if (pads.empty()) return nullptr;
  Summary top = pads[0].second->summary(pads[0].first);
  for (std::size_t i = 1; i < pads.size(); ++i) top.pads.push_back(pads[i].second->summary(pads[i].first));
  return top.to_structure();
}

void Reporter::finish(GstElement* element, PadReport& pad, const Settings& s) {
  if (pad.finished.exchange(true)) return;
  std::shared_ptr<PadStats> stats;
  {
    std::lock_guard<std::mutex> guard(lock_);
    stats = pad.stats;
  }
  const Summary summary = stats->summary(pad.name);
  GST_INFO_OBJECT(element, "summary of %s: %" G_GUINT64_FORMAT " frames measured, %" G_GUINT64_FORMAT
                           " unpaired reference frames, %" G_GUINT64_FORMAT " unpaired distorted frames",
                  pad.name.c_str(), summary.frames, summary.unpaired_reference, summary.unpaired_distorted);
  for (const MetricSummary& m : summary.metrics)
    GST_INFO_OBJECT(element, "summary of %s: %-14s min %s p50 %s p95 %s mean %s harmonic-mean %s max %s",
                    pad.name.c_str(), m.metric.c_str(), format_number(m.min).c_str(), format_number(m.p50).c_str(),
                    format_number(m.p95).c_str(), format_number(m.mean).c_str(),
                    format_number(m.harmonic_mean).c_str(), format_number(m.max).c_str());
  check_unpaired(element, pad, s, 1);
  post_element_message(element, summary.to_structure());
}

}  // namespace iir2d::gst::meter
