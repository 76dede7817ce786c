// SPDX-License-Identifier: MIT
/*
 * What qualitymeter reports: per-frame element messages, stats-file rows,
 * threshold warnings with their recovery messages, the unpaired counts and
 * the summary (EOS message, log lines and the "summary" property). Message
 * structures: gstqualitymetermessages.h and docs/qualitymeter.md.
 *
 * Threading: everything from the streaming thread, except summary(), which
 * the "summary" property reads from any thread.
 */
#pragma once

#include <gst/gst.h>

#include <mutex>
#include <string>

#include "gstqualitymetermessages.h"
#include "settings.h"
#include "stats.h"

namespace iir2d::gst::meter {

class Reporter {
 public:
  /* At start: forgets everything and opens the stats file when one is set;
   * false with the reason in *why if it cannot be opened. */
  bool start(const Settings& s, std::string* why);
  /* At stop: closes the stats file. */
  void stop() { stats_.close(); }
  /* After a flush: the next EOS gets its own summary. */
  void rearm() { finished_ = false; }

  /* One measured pair: kept for the summary, written to the stats file,
   * posted (post-messages) and checked against the thresholds. False with
   * the reason in *why when the stats file cannot be written. */
  bool record(GstElement* element, const iir2d::qm::FrameReport& r, const Settings& s, std::string* why);
  /* A frame of pad `role` (0 reference, 1 distorted) without a partner. */
  void count_unpaired(int role);
  /* At EOS, once until rearm(): the summary message and a log line per metric. */
  void finish(GstElement* element);
  /* The summary so far ("qualitymeter-summary"); caller owns it. */
  GstStructure* summary();

 private:
  /* One threshold: a warning when the metric goes beyond it, an element
   * message when it comes back; nothing in between. NaN changes nothing. */
  void check_threshold(GstElement* element, int index, const char* metric, double value, double threshold,
                       bool enabled, bool beyond, const iir2d::qm::FrameReport& r);

  std::mutex lock_;     // guards collected_ (read by summary())
  Collected collected_;
  StatsWriter stats_;
  bool alarm_[3] = {false, false, false};  // psnr-avg, ssim-all, temporal-delta beyond their threshold
  bool finished_ = false;                  // summary posted
};

}  // namespace iir2d::gst::meter
