// SPDX-License-Identifier: MIT
/*
 * Soak (issue 10; not a test, a benchmark-style program): N frames through
 *   videotestsrc ! tee ! queue ! iir2dfilter ! qualitymeter.distorted
 *                  tee ! queue ! qualitymeter.reference ; qualitymeter ! fakesink
 * with a property change of iir2dfilter on every frame (strength, from the
 * streaming thread before the frame, and temporal-alpha from the
 * application thread every 10 ms) and a read of qualitymeter's `summary`
 * every second. Prints RSS at start (after the first 1000 frames) and at the
 * end, the longest gap between two buffers at the sink, the longest summary
 * read, and frames in (filter sink) = out (sink) = measured (summary).
 *
 *   soak [--frames N] [--width W] [--height H] [--cuda [--foreign-context]] [--csv FILE]
 *
 * Default 1 000 000 frames of I420 64x48. --cuda: cudaupload before the tee
 * (filter and meter on CUDA memory), default 100 000 frames of 1920x1080.
 * --foreign-context: the frames come from a second pipeline (with --cuda: its own
 * CUDA context) and handed over through appsink/appsrc, so the filter and
 * the meter receive buffers of a CUDA context that is not theirs.
 * The plugin is found through GST_PLUGIN_PATH (<build>/gst). A line per
 * second goes to stderr (frames, RSS, longest gap so far).
 */
#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <gst/gst.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>

namespace {

using Clock = std::chrono::steady_clock;

long rss_kb() {
  std::ifstream in("/proc/self/status");
  std::string key;
  while (in >> key) {
    if (key == "VmRSS:") {
      long kb = 0;
      in >> kb;
      return kb;
    }
    in.ignore(1 << 20, '\n');
  }
  return -1;
}

struct Soak {
  GstElement* pipeline = nullptr;
  GstElement* filter = nullptr;
  GstElement* meter = nullptr;
  GMainLoop* loop = nullptr;
  std::atomic<guint64> in{0}, out{0};
  std::atomic<long long> last_out_ns{0}, max_gap_ns{0};
  long rss_start = -1, rss_peak = 0;
  double max_read_ms = 0, sum_read_ms = 0;
  int reads = 0;
  guint64 measured = 0;
  bool error = false;
  std::string error_text;
  Clock::time_point t0;
};

long long now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
}

GstPadProbeReturn on_filter_in(GstPad*, GstPadProbeInfo*, gpointer data) {
  auto* s = static_cast<Soak*>(data);
  const guint64 n = s->in++;
  g_object_set(s->filter, "strength", 0.5 + 0.5 * static_cast<double>(n % 7) / 6.0, nullptr);
  return GST_PAD_PROBE_OK;
}

void on_handoff(GstElement*, GstBuffer*, GstPad*, gpointer data) {
  auto* s = static_cast<Soak*>(data);
  const long long t = now_ns();
  const long long prev = s->last_out_ns.exchange(t);
  const guint64 n = ++s->out;
  if (n > 1 && t - prev > s->max_gap_ns) s->max_gap_ns = t - prev;
}

guint64 read_summary(Soak* s, double* ms) {
  const auto a = Clock::now();
  GstStructure* st = nullptr;
  g_object_get(s->meter, "summary", &st, nullptr);
  *ms = std::chrono::duration<double, std::milli>(Clock::now() - a).count();
  guint64 frames = 0;
  if (st) {
    gst_structure_get_uint64(st, "frames", &frames);
    gst_structure_free(st);
  }
  return frames;
}

gboolean every_second(gpointer data) {
  auto* s = static_cast<Soak*>(data);
  double ms = 0;
  const guint64 measured = read_summary(s, &ms);
  s->max_read_ms = std::max(s->max_read_ms, ms);
  s->sum_read_ms += ms;
  ++s->reads;
  const long rss = rss_kb();
  s->rss_peak = std::max(s->rss_peak, rss);
  if (s->rss_start < 0 && s->out >= 1000) s->rss_start = rss;
  const double t = std::chrono::duration<double>(Clock::now() - s->t0).count();
  std::fprintf(stderr, "%7.0f s  %10llu frames out  %10llu measured  RSS %7ld kB  longest gap %8.3f ms  read %7.3f ms\n",
               t, static_cast<unsigned long long>(s->out.load()), static_cast<unsigned long long>(measured), rss,
               static_cast<double>(s->max_gap_ns) / 1e6, ms);
  return G_SOURCE_CONTINUE;
}

gboolean every_10ms(gpointer data) {
  static int k = 0;
  g_object_set(static_cast<Soak*>(data)->filter, "temporal-alpha", 0.5 + 0.05 * (k++ % 10), nullptr);
  return G_SOURCE_CONTINUE;
}

gboolean on_bus(GstBus*, GstMessage* m, gpointer data) {
  auto* s = static_cast<Soak*>(data);
  if (GST_MESSAGE_TYPE(m) == GST_MESSAGE_ERROR) {
    GError* err = nullptr;
    gchar* dbg = nullptr;
    gst_message_parse_error(m, &err, &dbg);
    s->error = true;
    s->error_text = std::string(err->message) + " | " + (dbg ? dbg : "");
    g_error_free(err);
    g_free(dbg);
    g_main_loop_quit(s->loop);
  } else if (GST_MESSAGE_TYPE(m) == GST_MESSAGE_EOS) {
    g_main_loop_quit(s->loop);
  }
  return TRUE;
}

}  // namespace

int main(int argc, char** argv) {
  gst_init(&argc, &argv);
  long long frames = -1;
  int width = -1, height = -1;
  bool cuda = false, foreign = false;
  const char* csv = nullptr;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> const char* {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--frames") frames = std::atoll(next());
    else if (a == "--width") width = std::atoi(next());
    else if (a == "--height") height = std::atoi(next());
    else if (a == "--cuda") cuda = true;
    else if (a == "--foreign-context") foreign = true;
    else if (a == "--csv") csv = next();
    else {
      std::fprintf(stderr, "usage: %s [--frames N] [--width W] [--height H] [--cuda] [--csv FILE]\n", argv[0]);
      return 2;
    }
  }
  if (frames < 0) frames = cuda ? 100000 : 1000000;
  if (width < 0) width = cuda ? 1920 : 64;
  if (height < 0) height = cuda ? 1080 : 48;

  char source[512], desc[1024];
  std::snprintf(source, sizeof source,
                "videotestsrc num-buffers=%lld pattern=ball ! video/x-raw,format=I420,width=%d,height=%d,framerate=30/1 "
                "%s",
                frames, width, height, cuda ? "! cudaupload" : "");
  std::snprintf(desc, sizeof desc,
                "%s ! tee name=t ! queue ! iir2dfilter name=f temporal-mode=fixed ! q.distorted "
                "t. ! queue ! q.reference qualitymeter name=q post-messages=false ! "
                "fakesink name=s sync=false signal-handoffs=true",
                foreign ? "appsrc name=bridge format=time block=true max-bytes=20000000" : source);
  GError* err = nullptr;
  Soak s;
  GstElement* upstream = nullptr;  // --foreign-context: the pipeline with its own CUDA context
  if (foreign) {
    const std::string up = std::string(source) + " ! appsink name=out sync=false max-buffers=4";
    upstream = gst_parse_launch(up.c_str(), &err);
    if (err) {
      std::fprintf(stderr, "soak: %s: %s\n", up.c_str(), err->message);
      return 1;
    }
  }
  s.pipeline = gst_parse_launch(desc, &err);
  if (err) {
    std::fprintf(stderr, "soak: %s: %s\n", desc, err->message);
    return 1;
  }
  s.filter = gst_bin_get_by_name(GST_BIN(s.pipeline), "f");
  s.meter = gst_bin_get_by_name(GST_BIN(s.pipeline), "q");
  GstElement* sink = gst_bin_get_by_name(GST_BIN(s.pipeline), "s");
  GstPad* fsink = gst_element_get_static_pad(s.filter, "sink");
  gst_pad_add_probe(fsink, GST_PAD_PROBE_TYPE_BUFFER, on_filter_in, &s, nullptr);
  gst_object_unref(fsink);
  g_signal_connect(sink, "handoff", G_CALLBACK(on_handoff), &s);
  s.loop = g_main_loop_new(nullptr, FALSE);
  if (upstream) {
    GstElement* out = gst_bin_get_by_name(GST_BIN(upstream), "out");
    GstElement* bridge = gst_bin_get_by_name(GST_BIN(s.pipeline), "bridge");
    GstAppSinkCallbacks cb{};
    cb.eos = [](GstAppSink*, gpointer src) { gst_app_src_end_of_stream(GST_APP_SRC(src)); };
    cb.new_sample = [](GstAppSink* sink, gpointer src) {
      GstSample* sample = gst_app_sink_pull_sample(sink);
      if (sample) {
        gst_app_src_push_sample(GST_APP_SRC(src), sample);
        gst_sample_unref(sample);
      }
      return GST_FLOW_OK;
    };
    gst_app_sink_set_callbacks(GST_APP_SINK(out), &cb, bridge, nullptr);
    gst_object_unref(out);
    gst_object_unref(bridge);  // both pipelines outlive the callbacks
    gst_element_set_state(upstream, GST_STATE_PLAYING);
  }
  GstBus* bus = gst_element_get_bus(s.pipeline);
  gst_bus_add_watch(bus, on_bus, &s);
  g_timeout_add_seconds(1, every_second, &s);
  g_timeout_add(10, every_10ms, &s);
  const long rss_before = rss_kb();
  s.t0 = Clock::now();
  gst_element_set_state(s.pipeline, GST_STATE_PLAYING);
  g_main_loop_run(s.loop);
  const double seconds = std::chrono::duration<double>(Clock::now() - s.t0).count();
  double last_read = 0;
  s.measured = read_summary(&s, &last_read);
  const long rss_end = rss_kb();
  if (s.rss_start < 0) s.rss_start = rss_before;
  s.rss_peak = std::max(s.rss_peak, rss_end);
  gst_element_set_state(s.pipeline, GST_STATE_NULL);
  if (upstream) {
    gst_element_set_state(upstream, GST_STATE_NULL);
    gst_object_unref(upstream);
  }

  std::printf("soak: %s%s%s\n", foreign ? source : "", foreign ? " ! appsink => " : "", desc);
  std::printf("%-34s %s\n", "result", s.error ? ("ERROR: " + s.error_text).c_str() : "EOS");
  std::printf("%-34s %.1f s (%.0f frames/s)\n", "time", seconds, static_cast<double>(s.out) / seconds);
  std::printf("%-34s %llu / %llu / %llu%s\n", "frames in / out / measured", static_cast<unsigned long long>(s.in.load()),
              static_cast<unsigned long long>(s.out.load()), static_cast<unsigned long long>(s.measured),
              s.in == s.out && s.out == s.measured && s.out == static_cast<guint64>(frames) ? " (all equal)" : " (DIFFER)");
  std::printf("%-34s %ld kB before PLAYING, %ld kB after 1000 frames\n", "RSS at start", rss_before, s.rss_start);
  std::printf("%-34s %ld kB (%+ld kB from start), peak %ld kB\n", "RSS at end", rss_end, rss_end - s.rss_start,
              s.rss_peak);
  std::printf("%-34s %.3f ms\n", "longest gap between buffers (sink)", static_cast<double>(s.max_gap_ns) / 1e6);
  std::printf("%-34s %d reads, longest %.3f ms, mean %.3f ms, last %.3f ms\n", "summary reads", s.reads, s.max_read_ms,
              s.reads ? s.sum_read_ms / s.reads : 0.0, last_read);
  if (csv) {
    std::FILE* f = std::fopen(csv, "w");
    if (f) {
      std::fprintf(f, "frames,width,height,cuda,seconds,in,out,measured,rss_start_kb,rss_end_kb,rss_peak_kb,"
                      "max_gap_ms,max_summary_read_ms\n");
      std::fprintf(f, "%lld,%d,%d,%d,%.3f,%llu,%llu,%llu,%ld,%ld,%ld,%.3f,%.3f\n", frames, width, height, cuda ? 1 : 0,
                   seconds, static_cast<unsigned long long>(s.in.load()), static_cast<unsigned long long>(s.out.load()),
                   static_cast<unsigned long long>(s.measured), s.rss_start, rss_end, s.rss_peak,
                   static_cast<double>(s.max_gap_ns) / 1e6, s.max_read_ms);
      std::fclose(f);
    }
  }
  gst_bus_remove_watch(bus);
  gst_object_unref(bus);
  gst_object_unref(sink);
  gst_object_unref(s.filter);
  gst_object_unref(s.meter);
  gst_object_unref(s.pipeline);
  g_main_loop_unref(s.loop);
  return s.error || s.in != s.out || s.out != s.measured ? 1 : 0;
}
