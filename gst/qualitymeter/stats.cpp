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

const char* const kMetricNames[kMetricCount] = {
    "psnr-y", "psnr-u", "psnr-v", "psnr-r", "psnr-g", "psnr-b", "psnr-a", "psnr-avg",
    "ssim-y", "ssim-u", "ssim-v", "ssim-r", "ssim-g", "ssim-b", "ssim-a", "ssim-all",
    "temporal-delta"};

int metric_index(const std::string& metric) {
  for (int i = 0; i < kMetricCount; ++i)
    if (metric == kMetricNames[i]) return i;
  return -1;
}

namespace {

constexpr int kPsnrAvg = 7, kSsimBase = 8, kSsimAll = 15, kTemporal = 16;

/* Index of plane `c` (0..3) among a family's metrics: y u v / r g b, a. */
int plane_slot(bool rgb, int c) { return c == 3 ? 6 : (rgb ? 3 : 0) + c; }

}  // namespace

MetricHistogram::MetricHistogram(int metric) {
  if (metric < kSsimBase) {  // PSNR, dB
    lo_ = 0.0;
    width_ = 0.01;
    bins_ = 20000;
  } else if (metric < kTemporal) {  // SSIM
    lo_ = -1.0;
    width_ = 1e-4;
    bins_ = 20001;  // [-1, 1]: 1 has a bin of its own
  } else {  // temporal delta
    lo_ = 0.0;
    width_ = 1e-4;
    bins_ = 10001;
  }
  counts_.reset(new std::atomic<guint64>[bins_]);
  for (int i = 0; i < bins_; ++i) counts_[i].store(0, std::memory_order_relaxed);
}

void MetricHistogram::add(double v) {
  std::atomic<guint64>* slot = &inf_;
  if (!std::isinf(v) || v < 0) {
    const double x = std::floor((v - lo_) / width_);
    const int i = std::isinf(v) || x < 0 ? 0 : x >= bins_ ? bins_ - 1 : static_cast<int>(x);
    slot = &counts_[i];
  }
  /* One writer: a relaxed load and store, no read-modify-write needed. */
  slot->store(slot->load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
}

double MetricHistogram::percentile(double p, double min, double max) const {
  guint64 total = inf_.load(std::memory_order_relaxed);
  for (int i = 0; i < bins_; ++i) total += counts_[i].load(std::memory_order_relaxed);
  if (total == 0) return iir2d::qm::nan_value();
  const guint64 rank = std::max<guint64>(1, static_cast<guint64>(std::ceil(p / 100.0 * static_cast<double>(total))));
  guint64 seen = 0;
  for (int i = 0; i < bins_; ++i) {
    seen += counts_[i].load(std::memory_order_relaxed);
    if (seen >= rank) return std::clamp(lo_ + (i + 0.5) * width_, min, max);
  }
  return max;  // in the +inf count
}

PadStats::~PadStats() {
  for (auto& h : histograms_) delete h.load();
}

void PadStats::add_value(int metric, double v) {
  MetricHistogram* h = histograms_[metric].load(std::memory_order_acquire);
  if (!h) {
    h = new MetricHistogram(metric);
    histograms_[metric].store(h, std::memory_order_release);
  }
  if (std::isnan(v)) return;
  MetricMoments& m = moments_[metric];
  m.min = m.count ? std::min(m.min, v) : v;
  m.max = m.count ? std::max(m.max, v) : v;
  m.count++;
  m.sum += v;
  m.inverse_sum += 1.0 / v;
  m.zero = m.zero || v == 0.0;
  m.negative = m.negative || v < 0.0;
  h->add(v);
}

void PadStats::add(const FrameReport& r) {
  std::lock_guard<std::mutex> guard(lock_);
  frames_++;
  for (int c = 0; c < r.components && c < 4; ++c) {
    add_value(plane_slot(r.rgb, c), r.psnr[c]);
    add_value(kSsimBase + plane_slot(r.rgb, c), r.ssim[c]);
  }
  add_value(kPsnrAvg, r.psnr_avg);
  add_value(kSsimAll, r.ssim_all);
  add_value(kTemporal, r.temporal_delta);
}

void PadStats::count_unpaired(int role) {
  std::lock_guard<std::mutex> guard(lock_);
  unpaired_[role]++;
}

void PadStats::counts(guint64* frames, guint64* unpaired_ref, guint64* unpaired_dist) const {
  std::lock_guard<std::mutex> guard(lock_);
  *frames = frames_;
  *unpaired_ref = unpaired_[0];
  *unpaired_dist = unpaired_[1];
}

Summary PadStats::summary(const std::string& pad) const {
  /* A small snapshot under the lock; everything else from it and the
   * lock-free histograms. */
  guint64 frames, unpaired[2];
  MetricMoments moments[kMetricCount];
  const MetricHistogram* histograms[kMetricCount];
  {
    std::lock_guard<std::mutex> guard(lock_);
    frames = frames_;
    unpaired[0] = unpaired_[0];
    unpaired[1] = unpaired_[1];
    std::copy(std::begin(moments_), std::end(moments_), std::begin(moments));
    for (int i = 0; i < kMetricCount; ++i) histograms[i] = histograms_[i].load(std::memory_order_acquire);
  }
  Summary s;
  s.pad = pad;
  s.frames = frames;
  s.unpaired_reference = unpaired[0];
  s.unpaired_distorted = unpaired[1];
  for (int i = 0; i < kMetricCount; ++i) {
    if (!histograms[i]) continue;
    const MetricMoments& mo = moments[i];
    MetricSummary m;
    m.metric = kMetricNames[i];
    m.count = mo.count;
    if (mo.count) {
      m.min = mo.min;
      m.max = mo.max;
      m.p50 = histograms[i]->percentile(50, mo.min, mo.max);
      m.p95 = histograms[i]->percentile(95, mo.min, mo.max);
      m.mean = mo.sum / static_cast<double>(mo.count);
      m.harmonic_mean = mo.negative ? iir2d::qm::nan_value()
                        : mo.zero   ? 0.0
                                    : static_cast<double>(mo.count) / mo.inverse_sum;
    }
    s.metrics.push_back(m);
  }
  return s;
}

std::string format_number(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.12g", v);
  return buf;
}

const char* const StatsWriter::kCsvColumns[] = {
    "pad",    "frame",  "pts",    "running-time", "psnr-y", "psnr-u", "psnr-v", "psnr-r", "psnr-g",
    "psnr-b", "psnr-a", "psnr-avg", "ssim-y",     "ssim-u", "ssim-v", "ssim-r", "ssim-g", "ssim-b",
    "ssim-a", "ssim-all", "temporal-delta", "stats-version"};
const int StatsWriter::kCsvColumnCount = G_N_ELEMENTS(StatsWriter::kCsvColumns);

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
  std::string header;
  if (json_) {
    header = "{\"format\":\"qualitymeter-stats\",\"version\":" + std::to_string(kVersion) + ",\"encoding\":\"jsonl\"}\n";
  } else {
    for (int i = 0; i < kCsvColumnCount; ++i) header += std::string(i ? "," : "") + kCsvColumns[i];
    header += "\n";
  }
  if (std::fputs(header.c_str(), file_) < 0 || std::fflush(file_) != 0) {  // e.g. a full disk, /dev/full
    *why = std::strerror(errno);
    close();
    return false;
  }
  return true;
}

bool StatsWriter::write(const FrameReport& r, std::string* why) {
  if (!file_) return true;
  auto time = [&](GstClockTime t) -> std::string {
    return GST_CLOCK_TIME_IS_VALID(t) ? std::to_string(t) : (json_ ? "null" : "");
  };
  std::string line;
  if (json_) {
    /* The format's planes: y, u, v (or r, g, b), null where absent. */
    auto plane = [&](const double* v, int c) -> std::string { return c < r.components ? value(v[c]) : "null"; };
    line = "{\"pad\":\"" + r.pad + "\",\"frame\":" + std::to_string(r.frame) + ",\"pts\":" + time(r.pts) +
           ",\"running-time\":" + time(r.running_time);
    for (int c = 0; c < 3; ++c) line += std::string(",\"psnr-") + r.plane_name(c) + "\":" + plane(r.psnr, c);
    line += ",\"psnr-avg\":" + value(r.psnr_avg);
    for (int c = 0; c < 3; ++c) line += std::string(",\"ssim-") + r.plane_name(c) + "\":" + plane(r.ssim, c);
    line += ",\"ssim-all\":" + value(r.ssim_all) + ",\"temporal-delta\":" + value(r.temporal_delta) + "}\n";
  } else {
    /* Fixed columns: a plane the format lacks is empty. */
    std::string psnr[7], ssim[7];
    for (int c = 0; c < r.components && c < 4; ++c) {
      const int slot = c == 3 ? 6 : (r.rgb ? 3 : 0) + c;
      psnr[slot] = value(r.psnr[c]);
      ssim[slot] = value(r.ssim[c]);
    }
    line = r.pad + "," + std::to_string(r.frame) + "," + time(r.pts) + "," + time(r.running_time);
    for (const std::string& v : psnr) line += "," + v;
    line += "," + value(r.psnr_avg);
    for (const std::string& v : ssim) line += "," + v;
    line += "," + value(r.ssim_all) + "," + value(r.temporal_delta) + "," + std::to_string(kVersion) + "\n";
  }
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
