// SPDX-License-Identifier: MIT
/*
 * qualitymeter benchmark (issue 13 §3, issue 10 F7): not a test, a table.
 *
 * 1. One reference against N = 1, 4, 8 distorted 1080p I420 streams, in one
 *    meter (distorted + distorted_0 ... distorted_{N-2}) and in N separate
 *    meters, against a baseline with the same source, tee and sinks and no
 *    meter; all in the same run. The frames are made before the clock runs
 *    (8 snow frames, uploaded once with --cuda) and pushed by an appsrc, so
 *    the source costs nothing per frame: the meters are the pipeline's
 *    slowest stage and the difference to the baseline is their cost, per
 *    reference frame and per distorted stream. (Before, videotestsrc made
 *    and cudaupload uploaded every frame inside the timing: at about 1 ms
 *    per frame, far slower than the GPU meter, that stage paced both runs,
 *    the meter ran beside it in its own thread, and the difference came out
 *    as 0.000 ms.) Every meter's summary must show every frame measured, or
 *    the run fails.
 * 2. --cuda, built with CUDA: the kernels alone (cuda/iir2d/cuda_quality.h)
 *    on 1080p I420 planes in device memory, timed with CUDA events: one
 *    compare_components() launch sequence per component against N
 *    compare_component() calls, per frame and per stream.
 * 3. Summary reads against the streaming thread: a pad's statistics after
 *    --stats-frames frames; the longest add() of a frame while another
 *    thread reads the summary without pause, against the longest add()
 *    alone, and how long one summary read takes.
 *
 * Usage: qualitymeter_bench [--cuda] [--frames N] [--stats-frames N] [--csv FILE]
 *   --frames N: frames per run (at least 2; 30 on the CPU, 600 on CUDA); the
 *   first goes through in preroll, before the clock runs, and is not counted.
 * Exit status 1 when a run fails, a meter did not measure every frame, or a
 * metered run is no slower than its baseline.
 * Environment: GST_PLUGIN_PATH (defaults to this build's gst/ folder).
 */
#include <gst/app/gstappsrc.h>
#include <gst/gst.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "qualitymeter/stats.h"

#ifdef IIR2D_BENCH_KERNELS
#include <cuda_runtime_api.h>

#include <random>

#include "iir2d/cuda_quality.h"
#endif

#ifndef IIR2D_PLUGIN_DIR
#define IIR2D_PLUGIN_DIR ""
#endif

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

struct Options {
  bool cuda = false;
  int frames = 0;  // < 2: 30 on the CPU, 600 on CUDA
  long stats_frames = 1000000;
  std::string csv;
};

constexpr int kWidth = 1920, kHeight = 1080, kDistinctFrames = 8;

std::string frame_caps(const Options& o) {
  return std::string(o.cuda ? "video/x-raw(memory:CUDAMemory)" : "video/x-raw") + ",format=I420,width=" +
         std::to_string(kWidth) + ",height=" + std::to_string(kHeight) + ",framerate=30/1";
}

/* Runs `line` to EOS; `feed` (if any) runs on its own thread from PAUSED
 * on. Seconds from PLAYING to EOS; negative on error (printed).
 * `check` (if any) runs at EOS, before the pipeline stops. */
double run(const std::string& line, const std::function<void(GstElement*)>& feed = nullptr,
           const std::function<bool(GstElement*)>& check = nullptr) {
  GError* err = nullptr;
  GstElement* p = gst_parse_launch(line.c_str(), &err);
  if (!p || err) {
    std::fprintf(stderr, "%s\n  %s\n", line.c_str(), err ? err->message : "?");
    g_clear_error(&err);
    if (p) gst_object_unref(p);
    return -1;
  }
  /* Preroll outside the timing: the first frame has gone through (the
   * meters' CUDA context and device memory are made); a failure there shows
   * on the bus below. */
  gst_element_set_state(p, GST_STATE_PAUSED);
  std::thread feeder;
  if (feed) feeder = std::thread(feed, p);
  gst_element_get_state(p, nullptr, nullptr, 60 * GST_SECOND);
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
  } else if (check && !check(p)) {
    t = -1;
  }
  gst_message_unref(m);
  gst_object_unref(bus);
  gst_element_set_state(p, GST_STATE_NULL);  // unblocks a feeder still pushing after an error
  if (feeder.joinable()) feeder.join();
  gst_object_unref(p);
  return t;
}

/* kDistinctFrames 1080p snow frames, in CUDA memory with --cuda (uploaded
 * here, once), pulled from an appsink. Empty on failure (printed). */
std::vector<GstBuffer*> make_frames(const Options& o) {
  std::vector<GstBuffer*> frames;
  const std::string line = "videotestsrc num-buffers=" + std::to_string(kDistinctFrames) +
                           " pattern=snow ! video/x-raw,format=I420,width=" + std::to_string(kWidth) + ",height=" +
                           std::to_string(kHeight) + ",framerate=30/1" + (o.cuda ? " ! cudaupload ! " + frame_caps(o) : "") +
                           " ! appsink name=out sync=false";
  GError* err = nullptr;
  GstElement* p = gst_parse_launch(line.c_str(), &err);
  if (!p || err) {
    std::fprintf(stderr, "%s\n  %s\n", line.c_str(), err ? err->message : "?");
    g_clear_error(&err);
    return frames;
  }
  GstElement* sink = gst_bin_get_by_name(GST_BIN(p), "out");
  gst_element_set_state(p, GST_STATE_PLAYING);
  for (int i = 0; i < kDistinctFrames; ++i) {
    GstSample* sample = nullptr;
    g_signal_emit_by_name(sink, "pull-sample", &sample);
    if (!sample) break;
    frames.push_back(gst_buffer_ref(gst_sample_get_buffer(sample)));
    gst_sample_unref(sample);
  }
  gst_element_set_state(p, GST_STATE_NULL);
  gst_object_unref(sink);
  gst_object_unref(p);
  if (frames.size() != static_cast<std::size_t>(kDistinctFrames)) {
    std::fprintf(stderr, "could not make the frames (%zu of %d)\n", frames.size(), kDistinctFrames);
    for (GstBuffer* b : frames) gst_buffer_unref(b);
    frames.clear();
  }
  return frames;
}

/* Pushes `count` frames into the appsrc "src", cycling through `frames`
 * (shallow copies: the memory is shared, only the timestamps are new). */
void push_frames(GstElement* pipeline, const std::vector<GstBuffer*>& frames, int count) {
  GstElement* src = gst_bin_get_by_name(GST_BIN(pipeline), "src");
  const GstClockTime duration = GST_SECOND / 30;
  for (int i = 0; i < count; ++i) {
    GstBuffer* b = gst_buffer_copy(frames[static_cast<std::size_t>(i) % frames.size()]);
    GST_BUFFER_PTS(b) = i * duration;
    GST_BUFFER_DTS(b) = GST_CLOCK_TIME_NONE;
    GST_BUFFER_DURATION(b) = duration;
    if (gst_app_src_push_buffer(GST_APP_SRC(src), b) != GST_FLOW_OK) break;  // flushing: the run failed
  }
  gst_app_src_end_of_stream(GST_APP_SRC(src));
  gst_object_unref(src);
}

std::string pad_of(int i) { return i == 0 ? std::string("distorted") : "distorted_" + std::to_string(i - 1); }

/* The launch line: the frames teed into the reference and `n` distorted
 * branches, into `meters` meters (1 or n), or none (baseline). */
std::string launch_line(const Options& o, int n, int meters) {
  std::string d = "appsrc name=src format=time block=true max-buffers=2 caps=\"" + frame_caps(o) + "\" ! tee name=t ";
  const std::string q = " ! queue max-size-buffers=4 max-size-bytes=0 max-size-time=0";
  if (meters == 0) {
    for (int i = 0; i <= n; ++i) d += "t." + q + " ! fakesink sync=false ";
    return d;
  }
  if (meters == 1) {
    d += "t." + q + " ! m.reference ";
    for (int i = 0; i < n; ++i) d += "t." + q + " ! m." + pad_of(i) + " ";
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

/* Whether every distorted pad of the run's meters measured `frames` pairs
 * (their `summary` pad properties), else prints which did not. */
bool all_measured(GstElement* pipeline, int n, int meters, int frames) {
  bool ok = true;
  for (int i = 0; i < n; ++i) {
    const std::string meter = meters == 1 ? "m" : "m" + std::to_string(i);
    const std::string pad = meters == 1 ? pad_of(i) : "distorted";
    GstElement* e = gst_bin_get_by_name(GST_BIN(pipeline), meter.c_str());
    GstPad* sink = e ? gst_element_get_static_pad(e, pad.c_str()) : nullptr;
    GstStructure* st = nullptr;
    if (sink) g_object_get(sink, "summary", &st, nullptr);
    guint64 measured = 0;
    if (!st || !gst_structure_get_uint64(st, "frames", &measured) || measured != static_cast<guint64>(frames)) {
      std::fprintf(stderr, "%s.%s measured %" G_GUINT64_FORMAT " of %d frames\n", meter.c_str(), pad.c_str(), measured,
                   frames);
      ok = false;
    }
    if (st) gst_structure_free(st);
    if (sink) gst_object_unref(sink);
    if (e) gst_object_unref(e);
  }
  return ok;
}

#ifdef IIR2D_BENCH_KERNELS
/* Part 2: the kernels alone, on random 1080p I420 planes in device memory. */
bool kernel_bench(FILE* csv) {
  int devices = 0;
  if (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0) {
    (void)cudaGetLastError();
    std::printf("\nkernels: no CUDA device, skipped\n");
    return true;
  }
  constexpr int kMaxN = 8, kReps = 200;
  const int widths[3] = {kWidth, kWidth / 2, kWidth / 2}, heights[3] = {kHeight, kHeight / 2, kHeight / 2};
  std::vector<void*> buffers;
  bool ok = true;
  auto cuda = [&](cudaError_t e, const char* what) {
    if (e != cudaSuccess && ok) {
      std::fprintf(stderr, "kernels: %s: %s\n", what, cudaGetErrorString(e));
      ok = false;
    }
  };
  cudaStream_t stream = nullptr;
  cuda(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking), "cudaStreamCreate");
  /* planes[s][c]: stream s (0 = the reference) component c. */
  iir2d::ConstVideoComponent planes[kMaxN + 1][3];
  std::mt19937 rng(13);
  for (int s = 0; s <= kMaxN && ok; ++s)
    for (int c = 0; c < 3 && ok; ++c) {
      std::vector<unsigned char> host(static_cast<std::size_t>(widths[c]) * heights[c]);
      for (auto& v : host) v = static_cast<unsigned char>(rng());
      void* d = nullptr;
      cuda(cudaMalloc(&d, host.size()), "cudaMalloc");
      if (!ok) break;
      buffers.push_back(d);
      cuda(cudaMemcpy(d, host.data(), host.size(), cudaMemcpyHostToDevice), "upload");
      iir2d::ConstVideoComponent& p = planes[s][c];
      p.data = d;
      p.width = widths[c];
      p.height = heights[c];
      p.row_stride = widths[c];
      p.pixel_stride = 1;
      p.type = iir2d::SampleType::U8;
      p.depth = 8;
      p.shift = 0;
    }
  const std::size_t ws_bytes = iir2d::quality::cuda::workspace_size(kWidth, kHeight, kMaxN);
  void* ws = nullptr;
  iir2d::quality::ComponentSums* sums = nullptr;
  cuda(cudaMalloc(&ws, ws_bytes), "cudaMalloc");
  cuda(cudaMalloc(reinterpret_cast<void**>(&sums), sizeof(*sums) * 3 * kMaxN), "cudaMalloc");
  cudaEvent_t e0 = nullptr, e1 = nullptr;
  cuda(cudaEventCreate(&e0), "cudaEventCreate");
  cuda(cudaEventCreate(&e1), "cudaEventCreate");
  /* ms per frame (3 components) of `frame`, over kReps frames after a warm-up one. */
  auto time = [&](const std::function<bool()>& frame) {
    if (!ok || !frame()) return ok = false, -1.0;
    cuda(cudaEventRecord(e0, stream), "cudaEventRecord");
    for (int r = 0; r < kReps && ok; ++r) ok = frame();
    cuda(cudaEventRecord(e1, stream), "cudaEventRecord");
    cuda(cudaEventSynchronize(e1), "cudaEventSynchronize");
    float ms = 0;
    cuda(cudaEventElapsedTime(&ms, e0, e1), "cudaEventElapsedTime");
    return ok ? static_cast<double>(ms) / kReps : -1.0;
  };
  std::printf("\nKernels alone (1080p I420 in device memory, %d frames each, CUDA events): one launch sequence "
              "against N separate ones\n",
              kReps);
  std::printf("%-8s %-34s %14s %16s %12s\n", "streams", "launches", "ms / frame", "ms / frame·stream", "vs N single");
  for (int n : {1, 4, 8}) {
    const double shared = time([&] {
      for (int c = 0; c < 3; ++c) {
        iir2d::ConstVideoComponent dist[kMaxN];
        iir2d::quality::ComponentSums* out[kMaxN];
        for (int i = 0; i < n; ++i) {
          dist[i] = planes[i + 1][c];
          out[i] = sums + c * kMaxN + i;
        }
        if (!iir2d::quality::cuda::compare_components(planes[0][c], dist, n, out, ws, ws_bytes, stream).ok()) return false;
      }
      return true;
    });
    const double single = time([&] {
      for (int c = 0; c < 3; ++c)
        for (int i = 0; i < n; ++i)
          if (!iir2d::quality::cuda::compare_component(planes[0][c], planes[i + 1][c], sums + c * kMaxN + i, ws, ws_bytes,
                                                       stream)
                   .ok())
            return false;
      return true;
    });
    if (!ok) break;
    std::printf("%-8d %-34s %14.4f %16.4f %11.2fx\n", n, "compare_components (shared ref)", shared, shared / n,
                shared > 0 ? single / shared : 0.0);
    std::printf("%-8d %-34s %14.4f %16.4f %12s\n", n, "N x compare_component", single, single / n, "1.00x");
    if (csv)
      std::fprintf(csv, "kernels,ms_per_frame,%d,1,%.6f\nkernels,ms_per_frame_stream,%d,1,%.6f\n"
                        "kernels,ms_per_frame,%d,%d,%.6f\nkernels,ms_per_frame_stream,%d,%d,%.6f\n",
                   n, shared, n, shared / n, n, n, single, n, n, single / n);
  }
  if (e0) cudaEventDestroy(e0);
  if (e1) cudaEventDestroy(e1);
  cudaFree(ws);
  cudaFree(sums);
  for (void* b : buffers) cudaFree(b);
  if (stream) cudaStreamDestroy(stream);
  return ok;
}
#endif

/* Part 3: the longest PadStats::add() with and without concurrent summary reads. */
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
    const std::pair<const char*, const std::vector<double>*> rows[] = {
        {"add_alone_us", &alone}, {"add_with_reads_us", &with_reads}, {"summary_read_us", &reads}};
    for (const auto& [what, v] : rows)
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
  for (const char* e : {"qualitymeter", "videotestsrc", "tee", "queue", "fakesink", "appsrc", "appsink"})
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
  const int frames = o.frames > 1 ? o.frames : o.cuda ? 600 : 30;
  FILE* csv = o.csv.empty() ? nullptr : std::fopen(o.csv.c_str(), "w");
  if (!o.csv.empty() && !csv) {
    std::perror(o.csv.c_str());
    return 1;
  }
  if (csv) std::fprintf(csv, "part,what,streams,meters,value\n");

  std::vector<GstBuffer*> made = make_frames(o);
  if (made.empty()) return 1;
  std::printf("qualitymeter: one reference against N distorted 1920x1080 I420 streams, %s, %d frames "
              "(%d distinct, made before the timing)\n",
              o.cuda ? "CUDA memory" : "system memory (CPU)", frames, kDistinctFrames);
  std::printf("%-8s %-22s %10s %14s %16s %12s\n", "streams", "meters", "run s", "ms / frame", "ms / frame·stream",
              "vs N meters");
  int status = 0;
  for (int n : {1, 4, 8}) {
    auto feed = [&](GstElement* p) { push_frames(p, made, frames); };
    auto timed = [&](int meters) {
      return run(launch_line(o, n, meters), feed,
                 [&](GstElement* p) { return meters == 0 || all_measured(p, n, meters, frames); });
    };
    const double base = timed(0);
    const double one = timed(1);
    const double sep = n == 1 ? one : timed(n);
    if (base < 0 || one < 0 || sep < 0) {
      status = 1;
      break;
    }
    /* The first frame goes through before the clock runs (preroll). */
    const int timed_frames = frames - 1;
    const double one_ms = (one - base) * 1e3 / timed_frames, sep_ms = (sep - base) * 1e3 / timed_frames;
    std::printf("%-8d %-22s %10.3f %14.3f %16.3f %12s\n", n, "none (baseline)", base, base * 1e3 / timed_frames, 0.0,
                "");
    std::printf("%-8d %-22s %10.3f %14.3f %16.3f %11.2fx\n", n, "one meter, N pads", one, one_ms, one_ms / n,
                one_ms > 0 ? sep_ms / one_ms : 0.0);
    if (n > 1)
      std::printf("%-8d %-22s %10.3f %14.3f %16.3f %12s\n", n, "N meters", sep, sep_ms, sep_ms / n, "1.00x");
    /* With the frames made beforehand the meters are the slowest stage: a
     * metered run no slower than the baseline means the timing measured
     * something else (the fault this benchmark once had). */
    if (one_ms <= 0 || sep_ms <= 0) {
      std::printf("         FAILED: a metered run no slower than its baseline: not the meters' cost\n");
      status = 1;
    }
    if (csv) {
      std::fprintf(csv, "ladder,timed_frames,%d,0,%d\n", n, timed_frames);
      std::fprintf(csv, "ladder,baseline_s,%d,0,%.6f\n", n, base);
      std::fprintf(csv, "ladder,run_s,%d,1,%.6f\nladder,ms_per_frame,%d,1,%.6f\nladder,ms_per_frame_stream,%d,1,%.6f\n",
                   n, one, n, one_ms, n, one_ms / n);
      std::fprintf(csv, "ladder,run_s,%d,%d,%.6f\nladder,ms_per_frame,%d,%d,%.6f\nladder,ms_per_frame_stream,%d,%d,%.6f\n",
                   n, n, sep, n, n, sep_ms, n, n, sep_ms / n);
    }
  }
  for (GstBuffer* b : made) gst_buffer_unref(b);
#ifdef IIR2D_BENCH_KERNELS
  if (status == 0 && o.cuda && !kernel_bench(csv)) status = 1;
#endif
  if (status == 0) summary_stall(o, csv);
  if (csv) std::fclose(csv);
  return status;
}
