// SPDX-License-Identifier: MIT
/*
 * qualitymeter's statistics: the per-frame values kept for the summary
 * (min, p50, p95, mean, harmonic mean, max per metric) and the stats-file
 * writer (CSV or JSON Lines, one row per frame, flushed as it goes). No
 * element code: testable on its own.
 */
#pragma once

#include <gst/gst.h>

#include <cstdio>
#include <string>
#include <utility>
#include <vector>

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

/* Per-frame values of every metric, for the summary (guarded by stats_lock). */
struct Collected {
  guint64 frames = 0;
  guint64 unpaired[2] = {0, 0};
  std::vector<std::pair<std::string, std::vector<double>>> values;  // in message field order

  void add(const std::string& metric, double v) {
    for (auto& m : values)
      if (m.first == metric) {
        m.second.push_back(v);
        return;
      }
    values.emplace_back(metric, std::vector<double>{v});
  }
};

/* Min, nearest-rank p50/p95, mean, harmonic mean and max of the non-NaN
 * values of each metric; the unpaired counts (index 0 reference, 1
 * distorted). The harmonic mean is 0 when a value is 0 (its limit) and NaN
 * when a value is negative. */
iir2d::qm::Summary summarise(const Collected& c);

/* "inf", "-inf", "nan" or the value with 12 significant digits. */
std::string format_number(double v);

/* The stats file: a first line naming the format and its version, then one
 * row per frame, flushed as it goes. */
class StatsWriter {
 public:
  static constexpr int kVersion = 1;

  ~StatsWriter() { close(); }

  /* Opens (truncates) `path`, or standard output for "-"; false with the
   * reason (strerror) in *why. */
  bool open(const std::string& path, GstQualityMeterStatsFormat format, std::string* why);
  bool is_open() const { return file_ != nullptr; }
  /* One row; planes the format lacks are empty (CSV) or null (JSON). The
   * CSV header comes with the first row (y, u, v or r, g, b columns) and
   * again if the format family changes. Each row is flushed; false with
   * the reason (strerror) in *why when it cannot be written (a full disk). */
  bool write(const iir2d::qm::FrameReport& r, std::string* why);
  void close();

 private:
  /* Non-finite values are written as inf/nan (CSV) or the strings "inf"/"nan" (JSON). */
  std::string value(double v) const;

  FILE* file_ = nullptr;
  bool owned_ = false;
  bool json_ = false;
  int header_ = -1;  // CSV header written for: -1 none yet, 0 YUV/gray, 1 RGB
};

}  // namespace iir2d::gst::meter
