// SPDX-License-Identifier: MIT
/*
 * qualitymeter benchmark (issue 13 §3, issue 10 F7): not a test, a table.
 *
 * 1. One reference against N = 1, 4, 8 distorted 1080p I420 streams, in one
 *    meter (distorted + distorted_0 ... distorted_{N-2}) and in N separate
 *    meters, against a baseline with the same source, tee and sinks and no
 *    meter; all in the same run. Every branch of the tee carries the same
 *    buffers (no copy), so the difference to the baseline is the meters'
 *    cost: per reference frame and per distorted stream. With --cuda the
 *    frames are uploaded once (cudaupload before the tee) and measured in
 *    CUDA memory.
 * 2. Summary reads against the streaming thread: a pad's statistics after
 *    --stats-frames frames; the longest add() of a frame while another
 *    thread reads the summary without pause, against the longest add()
 *    alone, and how long one summary read takes.
 *
 * Usage: qualitymeter_bench [--cuda] [--frames N] [--stats-frames N] [--csv FILE]
 * Environment: GST_PLUGIN_PATH (defaults to this build's gst/ folder).
 */
#include <gst/gst.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "qualitymeter/stats.h"

#ifndef IIR2D_PLUGIN_DIR
#define IIR2D_PLUGIN_DIR ""
#endif

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

struct Options {
  bool cuda = false;
  int frames = 0;  // 0: 30 on the CPU, 300 on CUDA
  long stats_frames = 1000000;
  std::string csv;
};

/* The launch line: a 1080p source teed into the reference and `n`
 * distorted branches, into `meters` meters (1 or n), or none (baseline). */
std::string launch_line(const Options& o, int n, int meters, int frames) {
  std::string up = o.cuda ? " ! cudaupload ! video/x-raw(memory:CUDAMemory)" : "";
  std::string d = "videotestsrc num-buffers=" + std::to_string(frames) +
                  " pattern=snow ! video/x-raw,format=I420,width=1920,height=1080,framerate=30/1" + up +
                  " ! tee name=t ";
  const std::string q = " ! queue max-size-buffers=4 max-size-bytes=0 max-size-time=0";
  if (meters == 0) {
    for (int i = 0; i <= n; ++i) d += "t." + q + " ! fakesink sync=false ";
    return d;
  }
  if (meters == 1) {
    d += "t." + q + " ! m.reference ";
    for (int i = 0; i < n; ++i)
      d += "t." + q + " ! m." + (i == 0 ? std::string("distorted") : "distorted_" + std::to_string(i - 1)) + " ";
    d += "qualitymeter name=m post-messages=false max-unpaired=1 ! fakesink sync=false";
    return d;
  }
  for (int i = 0; i < n; ++i) {
    const std::string m = "m" + std::to_string(i);
    d += "t." + q + " ! " + m + ".reference t." + q + " ! " + m + ".distorted qualitymeter name=" + m +
         " post-messages=false max-unpaired=1 ! fakesink sync=false ";
  }
  return d;
}

/* Seconds from PLAYING to EOS; negative on error (printed). */
double run(const std::string& line) {
  GError* err = nullptr;
  GstElement* p = gst_parse_launch(line.c_str(), &err);
  if (!p || err) {
    std::fprintf(stderr, "%s\n  %s\n", line.c_str(), err ? err->message : "?");
    g_clear_error(&err);
    return -1;
  }
  gst_element_set_state(p, GST_STATE_PAUSED);
  gst_element_get_state(p, nullptr, nullptr, GST_CLOCK_TIME_NONE);  // preroll outside the timing
  const auto t0 = Clock::now();
  gst_element_set_state(p, GST_STATE_PLAYING);
  GstBus* bus = gst_element_get_bus(p);
  GstMessage* m =
      gst_bus_timed_pop_filtered(bus, GST_CLOCK_TIME_NONE, GstMessageType(GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
  double t = seconds_since(t0);
  if (GST_MESSAGE_TYPE(m) == GST_MESSAGE_ERROR) {
    GError* e = nullptr;
    gchar* dbg = nullptr;
    gst_message_parse_error(m, &e, &dbg);
    std::fprintf(stderr, "error from %s: %s\n  %s\n", GST_MESSAGE_SRC_NAME(m), e->message, dbg ? dbg : "");
    g_clear_error(&e);
    g_free(dbg);
    t = -1;
  }
  gst_message_unref(m);
  gst_object_unref(bus);
  gst_element_set_state(p, GST_STATE_NULL);
  gst_object_unref(p);
  return t;
}

/* Part 2: the longest PadStats::add() with and without concurrent summary reads. */
void summary_stall(const Options& o, FILE* csv) {
  iir2d::gst::meter::PadStats st;
  iir2d::qm::FrameReport r;
  r.components = 3;
  auto frame = [&](long k) {
    for (int c = 0; c < 3; ++c) {
      r.psnr[c] = 30 + (k % 997) * 0.01;
      r.ssim[c] = 0.9 + (k % 991) * 1e-4;
    }
    r.psnr_avg = r.psnr[0];
    r.ssim_all = r.ssim[0];
    r.temporal_delta = (k % 89) * 1e-3;
  };
  for (long k = 0; k < o.stats_frames; ++k) {
    frame(k);
    st.add(r);
  }
  /* Durations of n add() calls, sorted: the machine's scheduling shows in
   * the maximum, the lock in the upper percentiles. */
  auto adds = [&](long n) {
    std::vector<double> t(static_cast<std::size_t>(n));
    for (long k = 0; k < n; ++k) {
      frame(k);
      const auto t0 = Clock::now();
      st.add(r);
      t[static_cast<std::size_t>(k)] = seconds_since(t0) * 1e6;
    }
    std::sort(t.begin(), t.end());
    return t;
  };
  auto pct = [](const std::vector<double>& v, double p) {
    return v[std::min(v.size() - 1, static_cast<std::size_t>(p / 100.0 * static_cast<double>(v.size())))];
  };
  const long n = 200000;
  const std::vector<double> alone = adds(n);
  std::atomic<bool> stop{false};
  std::vector<double> reads;
  reads.reserve(100000);
  std::thread reader([&] {
    while (!stop) {
      const auto t0 = Clock::now();
      const iir2d::qm::Summary s = st.summary("distorted");
      reads.push_back(seconds_since(t0) * 1e6);
      (void)s;
    }
  });
  const std::vector<double> with_reads = adds(n);
  stop = true;
  reader.join();
  std::sort(reads.begin(), reads.end());
  std::printf("\nSummary reads against the streaming thread (a pad's statistics after %ld frames; %ld adds per row)\n",
              o.stats_frames, n);
  std::printf("  %-40s %10s %10s %10s %10s\n", "us", "p50", "p99", "p99.9", "max");
  auto row = [&](const char* what, const std::vector<double>& v) {
    std::printf("  %-40s %10.2f %10.2f %10.2f %10.1f\n", what, pct(v, 50), pct(v, 99), pct(v, 99.9), v.back());
  };
  row("add() of a frame, no reader", alone);
  row("add() of a frame, summary read nonstop", with_reads);
  row("one summary read (lock: a snapshot only)", reads);
  std::printf("  (%zu summary reads during the second row)\n", reads.size());
  if (csv) {
    for (const auto& [what, v] : {std::make_pair("add_alone_us", &alone), std::make_pair("add_with_reads_us", &with_reads),
                                  std::make_pair("summary_read_us", static_cast<const std::vector<double>*>(&reads))})
      std::fprintf(csv, "stall,%s_p50,,,%.3f\nstall,%s_p99.9,,,%.3f\nstall,%s_max,,,%.3f\n", what, pct(*v, 50), what,
                   pct(*v, 99.9), what, v->back());
  }
}
}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--cuda") {
      o.cuda = true;
    } else if (a == "--frames" && i + 1 < argc) {
      o.frames = std::atoi(argv[++i]);
    } else if (a == "--stats-frames" && i + 1 < argc) {
      o.stats_frames = std::atol(argv[++i]);
    } else if (a == "--csv" && i + 1 < argc) {
      o.csv = argv[++i];
    } else {
      std::fprintf(stderr, "usage: %s [--cuda] [--frames N] [--stats-frames N] [--csv FILE]\n", argv[0]);
      return 2;
    }
  }
  if (!std::getenv("GST_PLUGIN_PATH") && *IIR2D_PLUGIN_DIR) setenv("GST_PLUGIN_PATH", IIR2D_PLUGIN_DIR, 1);
  gst_init(&argc, &argv);
  for (const char* e : {"qualitymeter", "videotestsrc", "tee", "queue", "fakesink"})
    if (GstElementFactory* f = gst_element_factory_find(e)) {
      gst_object_unref(f);
    } else {
      std::fprintf(stderr, "element %s not found (GST_PLUGIN_PATH=%s)\n", e, g_getenv("GST_PLUGIN_PATH"));
      return 1;
    }
  if (o.cuda) {
    GstElementFactory* f = gst_element_factory_find("cudaupload");
    if (!f) {
      std::fprintf(stderr, "--cuda: cudaupload not found (gstreamer1.0-plugins-bad's nvcodec, an NVIDIA driver)\n");
      return 1;
    }
    gst_object_unref(f);
  }
  const int frames = o.frames > 0 ? o.frames : o.cuda ? 300 : 30;
  FILE* csv = o.csv.empty() ? nullptr : std::fopen(o.csv.c_str(), "w");
  if (!o.csv.empty() && !csv) {
    std::perror(o.csv.c_str());
    return 1;
  }
  if (csv) std::fprintf(csv, "part,what,streams,meters,value\n");

  std::printf("qualitymeter: one reference against N distorted 1920x1080 I420 streams, %s, %d frames\n",
              o.cuda ? "CUDA memory" : "system memory (CPU)", frames);
  std::printf("%-8s %-22s %10s %14s %16s %12s\n", "streams", "meters", "run s", "ms / frame", "ms / frame·stream",
              "vs N meters");
  for (int n : {1, 4, 8}) {
    const double base = run(launch_line(o, n, 0, frames));
    const double one = run(launch_line(o, n, 1, frames));
    const double sep = n == 1 ? one : run(launch_line(o, n, n, frames));
    if (base < 0 || one < 0 || sep < 0) return 1;
    const double one_ms = std::max(0.0, one - base) * 1e3 / frames, sep_ms = std::max(0.0, sep - base) * 1e3 / frames;
    std::printf("%-8d %-22s %10.3f %14.3f %16.3f %12s\n", n, "none (baseline)", base, 0.0, 0.0, "");
    std::printf("%-8d %-22s %10.3f %14.3f %16.3f %11.2fx\n", n, "one meter, N pads", one, one_ms, one_ms / n,
                one_ms > 0 ? sep_ms / one_ms : 0.0);
    if (n > 1)
      std::printf("%-8d %-22s %10.3f %14.3f %16.3f %12s\n", n, "N meters", sep, sep_ms, sep_ms / n, "1.00x");
    if (csv) {
      std::fprintf(csv, "ladder,baseline_s,%d,0,%.6f\n", n, base);
      std::fprintf(csv, "ladder,run_s,%d,1,%.6f\nladder,ms_per_frame,%d,1,%.6f\nladder,ms_per_frame_stream,%d,1,%.6f\n",
                   n, one, n, one_ms, n, one_ms / n);
      std::fprintf(csv, "ladder,run_s,%d,%d,%.6f\nladder,ms_per_frame,%d,%d,%.6f\nladder,ms_per_frame_stream,%d,%d,%.6f\n",
                   n, n, sep, n, n, sep_ms, n, n, sep_ms / n);
    }
  }
  summary_stall(o, csv);
  if (csv) std::fclose(csv);
  return 0;
}
