// SPDX-License-Identifier: MIT
/*
 * The bus messages of qualitymeter as typed C++ structs, with the helpers
 * that build their GstStructure and parse it back (used by the element and
 * by applications and tests that read the bus). Header-only.
 *
 * Structures (see docs/qualitymeter.md for the field tables):
 *  - "qualitymeter": one per measured frame pair (FrameReport);
 *  - "qualitymeter-summary": at EOS one per distorted pad, the pad's "summary"
 *    property, and the element's "summary" property (Summary: the "distorted"
 *    pad's, with the requested pads' nested in it);
 *
 * Every structure carries a "pad" field: the name of the distorted pad it is
 * about ("distorted", "distorted_0", ...).
 *  - "qualitymeter-threshold": details of the GST_MESSAGE_WARNING posted when a
 *    metric crosses its threshold, and (name "qualitymeter-recovered") the
 *    element message posted when it comes back (ThresholdEvent).
 */
#pragma once

#include <gst/gst.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

namespace iir2d::qm {

constexpr const char* kFrameMessage = "qualitymeter";
constexpr const char* kSummaryMessage = "qualitymeter-summary";
constexpr const char* kThresholdDetails = "qualitymeter-threshold";
constexpr const char* kRecoveredMessage = "qualitymeter-recovered";

/// Plane names in component order: Y, U, V, A for YUV and gray, R, G, B, A for RGB formats.
constexpr const char* kYuvPlaneNames[4] = {"y", "u", "v", "a"};
constexpr const char* kRgbPlaneNames[4] = {"r", "g", "b", "a"};

inline double nan_value() { return std::numeric_limits<double>::quiet_NaN(); }

/// The metrics of one frame pair (structure "qualitymeter").
struct FrameReport {
  bool rgb = false;                           ///< planes named r, g, b (a) instead of y, u, v (a)
  guint64 frame = 0;                          ///< index of the pair, from 0
  GstClockTime pts = GST_CLOCK_TIME_NONE;     ///< PTS of the distorted buffer
  GstClockTime running_time = GST_CLOCK_TIME_NONE;  ///< of the distorted buffer (before distorted-offset)
  int components = 0;                         ///< 1 (gray), 3 (YUV) or 4 (YUV + alpha)
  double psnr[4] = {nan_value(), nan_value(), nan_value(), nan_value()};  ///< dB, +inf if identical
  double ssim[4] = {nan_value(), nan_value(), nan_value(), nan_value()};
  double psnr_avg = nan_value();
  double ssim_all = nan_value();
  double temporal_delta = 0.0;
  std::string pad;                            ///< the distorted pad ("distorted", "distorted_0", ...)

  const char* plane_name(int c) const { return (rgb ? kRgbPlaneNames : kYuvPlaneNames)[c]; }

  /// "qualitymeter" structure: pad, frame, pts, running-time, psnr-<plane>, psnr-avg, ssim-<plane>, ssim-all,
  /// temporal-delta (planes present in the format only). Caller owns the result.
  GstStructure* to_structure() const {
    GstStructure* s = gst_structure_new(kFrameMessage, "pad", G_TYPE_STRING, pad.c_str(), "frame", G_TYPE_UINT64,
                                        frame, "pts", G_TYPE_UINT64, pts, "running-time", G_TYPE_UINT64, running_time,
                                        nullptr);
    for (int c = 0; c < components && c < 4; ++c)
      gst_structure_set(s, (std::string("psnr-") + plane_name(c)).c_str(), G_TYPE_DOUBLE, psnr[c], nullptr);
    gst_structure_set(s, "psnr-avg", G_TYPE_DOUBLE, psnr_avg, nullptr);
    for (int c = 0; c < components && c < 4; ++c)
      gst_structure_set(s, (std::string("ssim-") + plane_name(c)).c_str(), G_TYPE_DOUBLE, ssim[c], nullptr);
    gst_structure_set(s, "ssim-all", G_TYPE_DOUBLE, ssim_all, "temporal-delta", G_TYPE_DOUBLE, temporal_delta,
                      nullptr);
    return s;
  }

  /// Parses a "qualitymeter" structure; false if the name or a mandatory field is wrong.
  static bool from_structure(const GstStructure* s, FrameReport* out) {
    if (!s || !gst_structure_has_name(s, kFrameMessage)) return false;
    FrameReport r;
    guint64 pts = 0, rt = 0;
    if (!gst_structure_get_uint64(s, "frame", &r.frame) || !gst_structure_get_uint64(s, "pts", &pts) ||
        !gst_structure_get_uint64(s, "running-time", &rt) || !gst_structure_get_double(s, "psnr-avg", &r.psnr_avg) ||
        !gst_structure_get_double(s, "ssim-all", &r.ssim_all) ||
        !gst_structure_get_double(s, "temporal-delta", &r.temporal_delta))
      return false;
    r.pts = pts;
    r.running_time = rt;
    if (const gchar* pad = gst_structure_get_string(s, "pad")) r.pad = pad;
    r.rgb = gst_structure_has_field(s, "psnr-r");
    for (int c = 0; c < 4; ++c) {
      const std::string p = std::string("psnr-") + r.plane_name(c), q = std::string("ssim-") + r.plane_name(c);
      if (!gst_structure_get_double(s, p.c_str(), &r.psnr[c])) break;
      if (!gst_structure_get_double(s, q.c_str(), &r.ssim[c])) return false;
      r.components = c + 1;
    }
    *out = r;
    return r.components > 0;
  }
};

/// Distribution of one metric over the measured frames (NaN values left out).
struct MetricSummary {
  std::string metric;  ///< e.g. "psnr-y"
  guint64 count = 0;
  double min = nan_value(), p50 = nan_value(), p95 = nan_value();
  double mean = nan_value(), harmonic_mean = nan_value(), max = nan_value();

  GstStructure* to_structure() const {
    return gst_structure_new(metric.c_str(), "count", G_TYPE_UINT64, count, "min", G_TYPE_DOUBLE, min, "p50",
                             G_TYPE_DOUBLE, p50, "p95", G_TYPE_DOUBLE, p95, "mean", G_TYPE_DOUBLE, mean,
                             "harmonic-mean", G_TYPE_DOUBLE, harmonic_mean, "max", G_TYPE_DOUBLE, max, nullptr);
  }

  static bool from_structure(const GstStructure* s, MetricSummary* out) {
    if (!s) return false;
    MetricSummary m;
    m.metric = gst_structure_get_name(s);
    if (!gst_structure_get_uint64(s, "count", &m.count) || !gst_structure_get_double(s, "min", &m.min) ||
        !gst_structure_get_double(s, "p50", &m.p50) || !gst_structure_get_double(s, "p95", &m.p95) ||
        !gst_structure_get_double(s, "mean", &m.mean) ||
        !gst_structure_get_double(s, "harmonic-mean", &m.harmonic_mean) ||
        !gst_structure_get_double(s, "max", &m.max))
      return false;
    *out = m;
    return true;
  }
};

/// The summary of one distorted pad (structure "qualitymeter-summary").
struct Summary {
  std::string pad;                  ///< the distorted pad
  guint64 frames = 0;               ///< measured pairs
  guint64 unpaired_reference = 0;   ///< reference frames without a partner on this pad
  guint64 unpaired_distorted = 0;   ///< this pad's frames without a reference partner
  std::vector<MetricSummary> metrics;  ///< one per metric, in message field order
  std::vector<Summary> pads;        ///< element "summary" property only: the requested pads' summaries

  /// "qualitymeter-summary": pad, frames, unpaired-reference, unpaired-distorted, one nested
  /// structure per metric, named and keyed by the metric (e.g. psnr-y=(structure)"psnr-y, min=..."),
  /// and one nested "qualitymeter-summary" per entry of `pads`, keyed by its pad name.
  GstStructure* to_structure() const {
    GstStructure* s = gst_structure_new(kSummaryMessage, "pad", G_TYPE_STRING, pad.c_str(), "frames", G_TYPE_UINT64,
                                        frames, "unpaired-reference", G_TYPE_UINT64, unpaired_reference,
                                        "unpaired-distorted", G_TYPE_UINT64, unpaired_distorted, nullptr);
    for (const MetricSummary& m : metrics) {
      GstStructure* sub = m.to_structure();
      gst_structure_set(s, m.metric.c_str(), GST_TYPE_STRUCTURE, sub, nullptr);
      gst_structure_free(sub);
    }
    for (const Summary& p : pads) {
      GstStructure* sub = p.to_structure();
      gst_structure_set(s, p.pad.c_str(), GST_TYPE_STRUCTURE, sub, nullptr);
      gst_structure_free(sub);
    }
    return s;
  }

  static bool from_structure(const GstStructure* s, Summary* out) {
    if (!s || !gst_structure_has_name(s, kSummaryMessage)) return false;
    Summary r;
    if (!gst_structure_get_uint64(s, "frames", &r.frames) ||
        !gst_structure_get_uint64(s, "unpaired-reference", &r.unpaired_reference) ||
        !gst_structure_get_uint64(s, "unpaired-distorted", &r.unpaired_distorted))
      return false;
    if (const gchar* pad = gst_structure_get_string(s, "pad")) r.pad = pad;
    for (int i = 0; i < gst_structure_n_fields(s); ++i) {
      const GValue* v = gst_structure_get_value(s, gst_structure_nth_field_name(s, i));
      if (!GST_VALUE_HOLDS_STRUCTURE(v)) continue;
      const GstStructure* sub = gst_value_get_structure(v);
      if (gst_structure_has_name(sub, kSummaryMessage)) {
        Summary p;
        if (!from_structure(sub, &p)) return false;
        r.pads.push_back(p);
        continue;
      }
      MetricSummary m;
      if (!MetricSummary::from_structure(sub, &m)) return false;
      r.metrics.push_back(m);
    }
    *out = r;
    return true;
  }

  /// This summary if it is `pad_name`'s, else the nested one of that pad; null if none.
  const Summary* for_pad(const std::string& pad_name) const {
    if (pad == pad_name) return this;
    for (const Summary& p : pads)
      if (p.pad == pad_name) return &p;
    return nullptr;
  }

  const MetricSummary* find(const std::string& metric) const {
    for (const MetricSummary& m : metrics)
      if (m.metric == metric) return &m;
    return nullptr;
  }
};

/// A threshold edge: the details of the warning ("qualitymeter-threshold") or the recovery message.
struct ThresholdEvent {
  std::string metric;  ///< "psnr-avg", "ssim-all" or "temporal-delta"
  double value = nan_value();
  double threshold = nan_value();
  guint64 frame = 0;
  GstClockTime pts = GST_CLOCK_TIME_NONE;
  bool recovered = false;  ///< false: crossed (warning details), true: back within the threshold
  std::string pad;         ///< the distorted pad

  GstStructure* to_structure() const {
    return gst_structure_new(recovered ? kRecoveredMessage : kThresholdDetails, "pad", G_TYPE_STRING, pad.c_str(),
                             "metric", G_TYPE_STRING, metric.c_str(), "value", G_TYPE_DOUBLE, value, "threshold", G_TYPE_DOUBLE, threshold,
                             "frame", G_TYPE_UINT64, frame, "pts", G_TYPE_UINT64, pts, nullptr);
  }

  static bool from_structure(const GstStructure* s, ThresholdEvent* out) {
    if (!s) return false;
    ThresholdEvent e;
    if (gst_structure_has_name(s, kRecoveredMessage))
      e.recovered = true;
    else if (!gst_structure_has_name(s, kThresholdDetails))
      return false;
    const gchar* metric = gst_structure_get_string(s, "metric");
    guint64 pts = 0;
    if (!metric || !gst_structure_get_double(s, "value", &e.value) ||
        !gst_structure_get_double(s, "threshold", &e.threshold) || !gst_structure_get_uint64(s, "frame", &e.frame) ||
        !gst_structure_get_uint64(s, "pts", &pts))
      return false;
    e.metric = metric;
    e.pts = pts;
    if (const gchar* pad = gst_structure_get_string(s, "pad")) e.pad = pad;
    *out = e;
    return true;
  }
};

}  // namespace iir2d::qm
