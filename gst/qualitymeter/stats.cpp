// SPDX-License-Identifier: MIT
// qualitymeter's statistics and stats-file writer; see stats.h.
#include "stats.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>

#include "../common/formats.h"

GType gst_quality_meter_stats_format_get_type(void) {
  static GType type = 0;
  static const GEnumValue values[] = {
      {GST_QUALITY_METER_STATS_FORMAT_AUTO, "From the file name (.json/.jsonl/.ndjson: JSON Lines, else CSV)",
       "auto"},
      {GST_QUALITY_METER_STATS_FORMAT_CSV, "Comma-separated values", "csv"},
      {GST_QUALITY_METER_STATS_FORMAT_JSON, "JSON Lines", "json"},
      {0, nullptr, nullptr},
  };
  return iir2d::gst::register_enum_once(&type, "GstQualityMeterStatsFormat", values);
}

namespace iir2d::gst::meter {

using iir2d::qm::FrameReport;
using iir2d::qm::MetricSummary;
using iir2d::qm::Summary;

namespace {

/* Min, nearest-rank p50/p95, mean, harmonic mean and max of the non-NaN
 * values. The harmonic mean is 0 when a value is 0 (its limit) and NaN when
 * a value is negative. */
MetricSummary summarise_metric(const std::string& metric, std::vector<double> v) {
  MetricSummary m;
  m.metric = metric;
  v.erase(std::remove_if(v.begin(), v.end(), [](double x) { return std::isnan(x); }), v.end());
  m.count = v.size();
  if (v.empty()) return m;
  std::sort(v.begin(), v.end());
  auto rank = [&](double p) { return v[std::max<std::size_t>(1, std::ceil(p / 100.0 * v.size())) - 1]; };
  m.min = v.front();
  m.max = v.back();
  m.p50 = rank(50);
  m.p95 = rank(95);
  double sum = 0.0, inv = 0.0;
  bool zero = false, negative = false;
  for (double x : v) {
    sum += x;
    if (x == 0.0) zero = true;
    if (x < 0.0) negative = true;
    inv += 1.0 / x;
  }
  m.mean = sum / static_cast<double>(v.size());
  m.harmonic_mean = negative ? iir2d::qm::nan_value() : zero ? 0.0 : static_cast<double>(v.size()) / inv;
  return m;
}

}  // namespace

Summary summarise(const Collected& c) {
  Summary s;
  s.frames = c.frames;
  s.unpaired_reference = c.unpaired[0];
  s.unpaired_distorted = c.unpaired[1];
  for (const auto& m : c.values) s.metrics.push_back(summarise_metric(m.first, m.second));
  return s;
}

std::string format_number(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.12g", v);
  return buf;
}

bool StatsWriter::open(const std::string& path, GstQualityMeterStatsFormat format, std::string* why) {
  close();
  if (format == GST_QUALITY_METER_STATS_FORMAT_AUTO) {
    auto ends_with = [&](const char* ext) {
      const std::size_t n = std::strlen(ext);
      return path.size() >= n && g_ascii_strcasecmp(path.c_str() + path.size() - n, ext) == 0;
    };
    format = ends_with(".json") || ends_with(".jsonl") || ends_with(".ndjson") ? GST_QUALITY_METER_STATS_FORMAT_JSON
                                                                               : GST_QUALITY_METER_STATS_FORMAT_CSV;
  }
  json_ = format == GST_QUALITY_METER_STATS_FORMAT_JSON;
  if (path == "-") {
    file_ = stdout;
    owned_ = false;
  } else {
    file_ = std::fopen(path.c_str(), "w");
    if (!file_) {
      *why = std::strerror(errno);
      return false;
    }
    owned_ = true;
  }
  int written;
  if (json_)
    written = std::fprintf(file_, "{\"format\":\"qualitymeter-stats\",\"version\":%d,\"encoding\":\"jsonl\"}\n", kVersion);
  else
    written = std::fprintf(file_, "# qualitymeter-stats version=%d format=csv\n", kVersion);
  if (written < 0 || std::fflush(file_) != 0) {  // e.g. a full disk, /dev/full
    *why = std::strerror(errno);
    close();
    return false;
  }
  header_ = -1;
  return true;
}

bool StatsWriter::write(const FrameReport& r, std::string* why) {
  if (!file_) return true;
  auto plane = [&](const double* v, int c) -> std::string {
    if (c >= r.components) return json_ ? "null" : "";
    return value(v[c]);
  };
  auto time = [&](GstClockTime t) -> std::string {
    return GST_CLOCK_TIME_IS_VALID(t) ? std::to_string(t) : (json_ ? "null" : "");
  };
  const std::string fields[] = {std::to_string(r.frame), time(r.pts),       time(r.running_time),
                                plane(r.psnr, 0),        plane(r.psnr, 1),  plane(r.psnr, 2),
                                value(r.psnr_avg),       plane(r.ssim, 0),  plane(r.ssim, 1),
                                plane(r.ssim, 2),        value(r.ssim_all), value(r.temporal_delta)};
  std::string names[] = {"frame", "pts", "running-time", "psnr-", "psnr-", "psnr-", "psnr-avg",
                         "ssim-", "ssim-", "ssim-", "ssim-all", "temporal-delta"};
  for (int c = 0; c < 3; ++c) {
    names[3 + c] += r.plane_name(c);
    names[7 + c] += r.plane_name(c);
  }
  std::string line;
  if (!json_ && header_ != static_cast<int>(r.rgb)) {
    for (std::size_t i = 0; i < G_N_ELEMENTS(names); ++i) line += (i ? "," : "") + names[i];
    line += "\n";
    header_ = r.rgb;
  }
  line += json_ ? "{" : "";
  for (std::size_t i = 0; i < G_N_ELEMENTS(names); ++i) {
    if (i) line += ",";
    if (json_) line += std::string("\"") + names[i] + "\":";
    line += fields[i];
  }
  line += json_ ? "}\n" : "\n";
  if (std::fputs(line.c_str(), file_) < 0 || std::fflush(file_) != 0) {
    *why = std::strerror(errno);
    return false;
  }
  return true;
}

void StatsWriter::close() {
  if (file_ && owned_) std::fclose(file_);
  if (file_ && !owned_) std::fflush(file_);
  file_ = nullptr;
}

std::string StatsWriter::value(double v) const {
  const std::string s = format_number(v);
  return json_ && !std::isfinite(v) ? "\"" + s + "\"" : s;
}

}  // namespace iir2d::gst::meter
