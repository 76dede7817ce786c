// SPDX-License-Identifier: MIT
/*
 * What qualitymeter reports, per distorted pad: per-frame element messages,
 * stats-file rows (one file for all pads, a pad column), threshold warnings
 * with their recovery messages, the unpaired counts with the max-unpaired
 * warning, and the summary (EOS message, log lines, the pad's and the
 * element's "summary" properties). Message structures:
 * gstqualitymetermessages.h and docs/qualitymeter.md.
 *
 * Threading: everything from the streaming thread, except add_pad() and
 * remove_pad() (pad requests, any thread) and summary()/pad_summary(),
 * which the "summary" properties read from any thread: they hold the
 * registry lock only to copy a few pointers, and the pad's statistics lock
 * only to copy its counters (stats.h).
 */
#pragma once

#include <gst/gst.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "gstqualitymetermessages.h"
#include "settings.h"
#include "stats.h"

namespace iir2d::gst::meter {

/* One distorted pad's reporting state. */
struct PadReport {
  explicit PadReport(std::string pad_name) : name(std::move(pad_name)) {}
  const std::string name;
  std::shared_ptr<PadStats> stats = std::make_shared<PadStats>();  // replaced at start (registry lock)
  bool alarm[3] = {false, false, false};  // streaming thread: psnr-avg, ssim-all, temporal-delta beyond threshold
  /* Also set by a pad's release (application thread). */
  std::atomic<bool> finished{false};         // summary posted
  std::atomic<bool> unpaired_warned{false};  // max-unpaired warning posted
};

class Reporter {
 public:
  /* At start: forgets every pad's statistics and opens the stats file when
   * one is set; false with the reason in *why if it cannot be opened. */
  bool start(const Settings& s, std::string* why);
  /* At stop: closes the stats file. */
  void stop() { stats_.close(); }
  /* After a flush: the next EOS gets its own summaries. */
  void rearm();

  /* A distorted pad's report, registered for the summary (the first one
   * added is the element summary's top level: the "distorted" pad). */
  std::shared_ptr<PadReport> add_pad(const std::string& name);
  void remove_pad(const std::shared_ptr<PadReport>& pad);

  /* One measured pair of `pad`: kept for the summary, written to the stats
   * file, posted (post-messages) and checked against the thresholds. False
   * with the reason in *why when the stats file cannot be written. */
  bool record(GstElement* element, PadReport& pad, const iir2d::qm::FrameReport& r, const Settings& s,
              std::string* why);
  /* A frame of `pad`'s pairing (role 0 reference, 1 distorted) without a
   * partner; posts the max-unpaired warning once the pad has 100 frames. */
  void count_unpaired(GstElement* element, PadReport& pad, int role, const Settings& s);
  /* At EOS (or release), once until rearm(): the pad's summary message, a
   * log line per metric, and the max-unpaired check. */
  void finish(GstElement* element, PadReport& pad, const Settings& s);
  /* The element's summary: the first pad's, with the other pads' nested
   * in it; null if no pad is registered. Caller owns it. */
  GstStructure* summary();
  /* One pad's summary. Caller owns it. */
  static GstStructure* pad_summary(const PadReport& pad, std::mutex& registry_lock);
  std::mutex& registry_lock() { return lock_; }

 private:
  /* One threshold: a warning when the metric goes beyond it, an element
   * message when it comes back; nothing in between. NaN changes nothing. */
  void check_threshold(GstElement* element, PadReport& pad, int index, const char* metric, double value,
                       double threshold, bool enabled, bool beyond, const iir2d::qm::FrameReport& r);
  /* The max-unpaired warning, once per pad, when the unpaired share of the
   * pad's reference or distorted frames is above s.max_unpaired and the pad
   * has at least `min_frames` frames. */
  void check_unpaired(GstElement* element, PadReport& pad, const Settings& s, guint64 min_frames);

  std::mutex lock_;  // guards pads_ and every PadReport::stats pointer
  std::vector<std::shared_ptr<PadReport>> pads_;
  StatsWriter stats_;
};

}  // namespace iir2d::gst::meter
