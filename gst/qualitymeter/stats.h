// SPDX-License-Identifier: MIT
/*
 * qualitymeter's statistics: what each distorted pad keeps for its summary
 * (bounded: fixed-width histograms and exact moments per metric) and the
 * stats-file writer (CSV or JSON Lines, one row per frame, flushed as it
 * goes). No element code: testable on its own.
 */
#pragma once

#include <gst/gst.h>

#include <atomic>
#include <cstdio>
#include <memory>
#include <mutex>
#include <string>

#include "gstqualitymetermessages.h"

G_BEGIN_DECLS

/**
 * GstQualityMeterStatsFormat:
 * @GST_QUALITY_METER_STATS_FORMAT_AUTO: from the file name: JSON Lines for
 *   `.json`, `.jsonl` and `.ndjson`, CSV otherwise (and for `-`)
 * @GST_QUALITY_METER_STATS_FORMAT_CSV: comma-separated values
 * @GST_QUALITY_METER_STATS_FORMAT_JSON: JSON Lines (one JSON object per line)
 *
 * Format of #GstQualityMeter:stats-file.
 *
 * Since: 0.1
 */
typedef enum {
  GST_QUALITY_METER_STATS_FORMAT_AUTO,
  GST_QUALITY_METER_STATS_FORMAT_CSV,
  GST_QUALITY_METER_STATS_FORMAT_JSON,
} GstQualityMeterStatsFormat;

#define GST_TYPE_QUALITY_METER_STATS_FORMAT (gst_quality_meter_stats_format_get_type())
GType gst_quality_meter_stats_format_get_type(void);

G_END_DECLS

namespace iir2d::gst::meter {

/* The metrics a pad's statistics know, in summary (message field) order:
 * the planes of both families (y u v / r g b) and alpha; a format reports
 * only its own. */
constexpr int kMetricCount = 17;
extern const char* const kMetricNames[kMetricCount];
/* The index of `metric` in kMetricNames, -1 if none. */
int metric_index(const std::string& metric);

/* Fixed-width histogram of one metric with exact count, min, max, mean and
 * harmonic mean: bounded memory whatever the run's length (issue 10, F7).
 *
 * Bins: PSNR (dB) 0.01 wide over [0, 200), +inf counted apart; SSIM 1e-4
 * wide over [-1, 1]; temporal delta 1e-4 wide over [0, 1]; a value outside
 * its range goes to the nearest end bin. A percentile is the nearest-rank
 * value's bin centre clamped to [min, max], so it is within half a bin
 * (0.005 dB, 5e-5) of the exact nearest-rank value for values in range.
 *
 * One writer (add(), under the owner's lock); the bins are relaxed atomics,
 * so readers walk them without a lock. */
class MetricHistogram {
 public:
  explicit MetricHistogram(int metric);
  void add(double v);  // not NaN
  /* The nearest-rank p-th percentile (0 < p <= 100) of the values so far;
   * NaN when empty. `min`/`max`: the exact extremes, for the clamp. */
  double percentile(double p, double min, double max) const;

  double lo() const { return lo_; }
  double width() const { return width_; }
  int bins() const { return bins_; }

 private:
  double lo_, width_;
  int bins_;
  std::unique_ptr<std::atomic<guint64>[]> counts_;
  std::atomic<guint64> inf_{0};  // +inf (identical planes)
};

/* Exact moments of one metric (copied under the lock for a summary). */
struct MetricMoments {
  guint64 count = 0;
  double min = 0, max = 0, sum = 0, inverse_sum = 0;
  bool zero = false, negative = false;
};

/* One distorted pad's statistics: what its summary is made of. One writer
 * (the streaming thread); summary() from any thread holds the lock only to
 * copy a few hundred bytes of counters, and builds the structure from that
 * copy and the lock-free histograms. */
class PadStats {
 public:
  void add(const iir2d::qm::FrameReport& r);
  void count_unpaired(int role);  // 0 reference, 1 distorted
  /* Min, nearest-rank p50/p95 (within half a bin), mean, harmonic mean and
   * max of the non-NaN values of each metric; the unpaired counts. The
   * harmonic mean is 0 when a value is 0 (its limit) and NaN when a value
   * is negative. */
  iir2d::qm::Summary summary(const std::string& pad) const;
  /* (frames, unpaired reference, unpaired distorted), consistent. */
  void counts(guint64* frames, guint64* unpaired_ref, guint64* unpaired_dist) const;

 private:
  void add_value(int metric, double v);  // under lock_

  mutable std::mutex lock_;  // guards the counters and moments below
  guint64 frames_ = 0, unpaired_[2] = {0, 0};
  MetricMoments moments_[kMetricCount];
  /* Made on a metric's first value (under lock_), read without it. */
  std::atomic<MetricHistogram*> histograms_[kMetricCount] = {};

 public:
  PadStats() = default;
  ~PadStats();
  PadStats(const PadStats&) = delete;
  PadStats& operator=(const PadStats&) = delete;
};

/* "inf", "-inf", "nan" or the value with 12 significant digits. */
std::string format_number(double v);

/* The stats file: one row per frame of every distorted pad, flushed as it
 * goes. CSV: the first line is the header row (fixed columns, below), so
 * csv.DictReader and pandas.read_csv read it with no options; the format
 * version is the last column, stats-version. JSON Lines: a header record
 * {"format":"qualitymeter-stats","version":N,"encoding":"jsonl"}, then one
 * object per row. */
class StatsWriter {
 public:
  static constexpr int kVersion = 2;
  /* The CSV header row's columns, in order. */
  static const char* const kCsvColumns[];
  static const int kCsvColumnCount;

  ~StatsWriter() { close(); }

  /* Opens (truncates) `path`, or standard output for "-", and writes the
   * header (CSV row or JSON record); false with the reason (strerror) in
   * *why. */
  bool open(const std::string& path, GstQualityMeterStatsFormat format, std::string* why);
  bool is_open() const { return file_ != nullptr; }
  /* One row; planes the format lacks are empty (CSV) or absent/null (JSON).
   * Each row is flushed; false with the reason (strerror) in *why when it
   * cannot be written (a full disk). */
  bool write(const iir2d::qm::FrameReport& r, std::string* why);
  void close();

 private:
  /* Non-finite values are written as inf/nan (CSV) or the strings "inf"/"nan" (JSON). */
  std::string value(double v) const;

  FILE* file_ = nullptr;
  bool owned_ = false;
  bool json_ = false;
};

}  // namespace iir2d::gst::meter
