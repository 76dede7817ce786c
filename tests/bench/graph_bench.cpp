// SPDX-License-Identifier: MIT
// Graph benchmark (issue 9; not a test): iir2dfilter inside GStreamer graphs
// on CUDA memory, on whichever GStreamer it runs under (1.22, 1.26), each
// graph beside its baseline without the filter, in the same run.
//
//  chain   3840x2160 NV12 CUDA frames (from a CUDA buffer pool of the
//          pipeline's context, filled once) pushed through a GstHarness of
//          `identity`, `iir2dfilter` and `iir2dfilter ! iir2dfilter`; every
//          output is pulled; the clock stops once the last output's GPU
//          work is done (gst_cuda_memory_sync where the memory has a stream).
//  decode  N copies (--streams, default 16) of
//          `filesrc ! qtdemux ! h264parse ! nvh264dec ! <graph> ! fakesink`
//          in one pipeline, run to EOS: <graph> is `identity` (the baseline)
//          or `iir2dfilter`, the latter twice: waiting for the decoder's
//          pending copy with an event on the GPU (the element's way) and on
//          the host (gst_cuda_memory_sync, IIR2D_CUDA_INPUT_WAIT=host).
//          Needs nvh264dec and --clip (an H.264 MP4).
//
// Columns: frames through the graph, wall time, frames/s, the ratio of
// frames/s to the baseline's, and host synchronisations per frame: the
// CUDA session's own count, read from its LOG line "(N of M frames
// host-synchronised)" (category iir2dcuda) by a log function, so the
// figure is the element's, not an estimate. On 1.24+ a chain of CUDA
// elements should show 0; on 1.22 every frame is synchronised (1 per
// filter).
//
// Usage: graph_bench [--mode all|chain|decode] [--frames N] [--streams N]
//                    [--clip FILE] [--filter-id N] [--csv FILE]
// Needs GST_PLUGIN_PATH to find the plugin. Exit status 1 when a graph fails.
#include <gst/check/gstharness.h>
#include <gst/cuda/gstcudabufferpool.h>
#include <gst/cuda/gstcudacontext.h>
#include <gst/cuda/gstcudaloader.h>
#include <gst/cuda/gstcudamemory.h>
#include <gst/cuda/gstcudautils.h>
#include <gst/gst.h>
#include <gst/video/video.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace {

struct Options {
  bool chain = true, decode = true;
  int frames = 300, streams = 16, filter_id = 6;
  std::string clip, csv;
};

struct Row {
  std::string mode, graph;
  guint64 frames;
  double seconds, fps, ratio, syncs_per_frame;
};

/* ---- host synchronisations, from the session's LOG lines ------------------- */

std::mutex g_sync_lock;
std::map<const void*, std::pair<guint64, guint64>> g_syncs;  // object -> (syncs, frames)

void count_syncs(GstDebugCategory* category, GstDebugLevel level, const gchar*, const gchar*, gint, GObject* object,
                 GstDebugMessage* message, gpointer) {
  if (level != GST_LEVEL_LOG || std::strcmp(gst_debug_category_get_name(category), "iir2dcuda") != 0) return;
  const gchar* text = gst_debug_message_get(message);
  const char* at = text ? std::strstr(text, "(") : nullptr;
  unsigned long long syncs = 0, frames = 0;
  if (!at || std::sscanf(at, "(%llu of %llu frames host-synchronised)", &syncs, &frames) != 2) return;
  std::lock_guard<std::mutex> lock(g_sync_lock);
  g_syncs[object] = {syncs, frames};
}

void reset_syncs() {
  std::lock_guard<std::mutex> lock(g_sync_lock);
  g_syncs.clear();
}

/* Host syncs per filtered frame over every session since reset_syncs(); -1 when none filtered. */
double syncs_per_frame() {
  std::lock_guard<std::mutex> lock(g_sync_lock);
  guint64 s = 0, f = 0;
  for (const auto& [obj, v] : g_syncs) {
    s += v.first;
    f += v.second;
  }
  return f ? static_cast<double>(s) / static_cast<double>(f) : -1.0;
}

/* Waits for the GPU work pending on `buf`'s memory: 1.24+ memory carries a
 * stream and may be left NEED_SYNC; 1.22's is complete when pushed. */
void wait_for(GstBuffer* buf) {
#if GST_CHECK_VERSION(1, 24, 0)
  GstMemory* m = buf ? gst_buffer_peek_memory(buf, 0) : nullptr;
  if (m && gst_is_cuda_memory(m)) gst_cuda_memory_sync(GST_CUDA_MEMORY_CAST(m));
#else
  (void)buf;
#endif
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

/* ---- chain ------------------------------------------------------------------ */

bool run_chain(const Options& o, std::vector<Row>* rows) {
  GstCudaContext* ctx = gst_cuda_context_new(0);
  if (!ctx) {
    std::printf("chain: no CUDA context; skipped\n");
    return true;
  }
  GstContext* gctx = gst_context_new_cuda_context(ctx);
  GstCaps* caps = gst_caps_from_string(
      "video/x-raw(memory:CUDAMemory),format=NV12,width=3840,height=2160,framerate=30/1");
  GstVideoInfo info;
  gst_video_info_from_caps(&info, caps);
  GstBufferPool* pool = gst_cuda_buffer_pool_new(ctx);
  GstStructure* config = gst_buffer_pool_get_config(pool);
  gst_buffer_pool_config_set_params(config, caps, static_cast<guint>(GST_VIDEO_INFO_SIZE(&info)), 4, 4);
  gst_buffer_pool_config_add_option(config, GST_BUFFER_POOL_OPTION_VIDEO_META);
  if (!gst_buffer_pool_set_config(pool, config)) {
    config = gst_buffer_pool_get_config(pool);  // the pool's own (pitched) version
    gst_buffer_pool_set_config(pool, config);
  }
  std::vector<GstBuffer*> frames;
  bool ok = gst_buffer_pool_set_active(pool, TRUE);
  for (int k = 0; ok && k < 4; ++k) {
    GstBuffer* buf = nullptr;
    ok = gst_buffer_pool_acquire_buffer(pool, &buf, nullptr) == GST_FLOW_OK;
    if (!ok) break;
    gst_buffer_memset(buf, 0, static_cast<guint8>(40 + 50 * k), gst_buffer_get_size(buf));
    GstMapInfo mi;  // upload now, not in the timed loop
    if (gst_buffer_map(buf, &mi, static_cast<GstMapFlags>(GST_MAP_READ | GST_MAP_CUDA))) gst_buffer_unmap(buf, &mi);
    frames.push_back(buf);
  }
  if (!ok) std::fprintf(stderr, "chain: the CUDA buffer pool gives no frames\n");

  const std::string id = "filter-id=" + std::to_string(o.filter_id);
  const std::vector<std::pair<std::string, std::string>> graphs = {
      {"identity", "identity"},
      {"iir2dfilter " + id, "iir2dfilter " + id},
      {"iir2dfilter " + id + " ! iir2dfilter " + id, "iir2dfilter " + id + " ! iir2dfilter " + id}};
  double base_fps = 0.0;
  for (const auto& [name, launch] : graphs) {
    if (!ok) break;
    GstHarness* h = gst_harness_new_parse(launch.c_str());
    gst_element_set_context(h->element, gctx);
    GstIterator* it = gst_bin_iterate_elements(GST_BIN(h->element));
    GValue v = G_VALUE_INIT;
    while (gst_iterator_next(it, &v) == GST_ITERATOR_OK) {
      gst_element_set_context(GST_ELEMENT(g_value_get_object(&v)), gctx);
      g_value_reset(&v);
    }
    g_value_unset(&v);
    gst_iterator_free(it);
    gst_harness_set_src_caps(h, gst_caps_ref(caps));
    const int warmup = 20;
    GstBuffer* last = nullptr;
    auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < warmup + o.frames && ok; ++i) {
      if (i == warmup) {
        wait_for(last);
        reset_syncs();
        t0 = std::chrono::steady_clock::now();
      }
      GstBuffer* in = gst_buffer_ref(frames[static_cast<std::size_t>(i) % frames.size()]);
      GST_BUFFER_PTS(in) = static_cast<GstClockTime>(i) * (GST_SECOND / 30);
      GST_BUFFER_DURATION(in) = GST_SECOND / 30;
      ok = gst_harness_push(h, in) == GST_FLOW_OK;
      GstBuffer* out = ok ? gst_harness_pull(h) : nullptr;
      ok = ok && out;
      if (last) gst_buffer_unref(last);
      last = out;
    }
    wait_for(last);
    const double s = seconds_since(t0);
    if (last) gst_buffer_unref(last);
    gst_harness_teardown(h);
    if (!ok) {
      std::fprintf(stderr, "chain: %s failed\n", name.c_str());
      break;
    }
    const double fps = o.frames / s;
    if (base_fps == 0.0) base_fps = fps;
    rows->push_back({"chain 4K NV12", name, static_cast<guint64>(o.frames), s, fps, fps / base_fps,
                     name == "identity" ? 0.0 : syncs_per_frame()});
  }
  for (GstBuffer* b : frames) gst_buffer_unref(b);
  gst_buffer_pool_set_active(pool, FALSE);
  gst_object_unref(pool);
  gst_caps_unref(caps);
  gst_context_unref(gctx);
  gst_object_unref(ctx);
  return ok;
}

/* ---- decode ----------------------------------------------------------------- */

guint64 g_decoded = 0;
std::mutex g_decoded_lock;

GstPadProbeReturn count_buffer(GstPad*, GstPadProbeInfo*, gpointer) {
  std::lock_guard<std::mutex> lock(g_decoded_lock);
  ++g_decoded;
  return GST_PAD_PROBE_OK;
}

bool run_decode(const Options& o, std::vector<Row>* rows) {
  if (o.clip.empty()) {
    std::printf("decode: no --clip; skipped\n");
    return true;
  }
  GstElementFactory* dec = gst_element_factory_find("nvh264dec");
  if (!dec) {
    std::printf("decode: nvh264dec is not registered; skipped\n");
    return true;
  }
  gst_object_unref(dec);
  const std::string id = "filter-id=" + std::to_string(o.filter_id);
  double base_fps = 0.0;
  /* The filter twice: waiting for the decoder's copy with an event on the
   * GPU (the default) and with gst_cuda_memory_sync on the host
   * (IIR2D_CUDA_INPUT_WAIT=host, read when the session opens). */
  const std::vector<std::pair<std::string, const char*>> graphs = {
      {"identity", nullptr}, {"iir2dfilter " + id, "event"}, {"iir2dfilter " + id, "host"}};
  for (const auto& [graph, wait] : graphs) {
    if (wait) g_setenv("IIR2D_CUDA_INPUT_WAIT", wait, TRUE);
    std::string launch;
    for (int i = 0; i < o.streams; ++i)
      launch += "filesrc location=\"" + o.clip + "\" ! qtdemux ! h264parse ! nvh264dec ! " + graph +
                " ! fakesink name=sink" + std::to_string(i) + " sync=false ";
    GError* err = nullptr;
    GstElement* p = gst_parse_launch(launch.c_str(), &err);
    if (!p || err) {
      std::fprintf(stderr, "decode: %s\n", err ? err->message : "parse failed");
      g_clear_error(&err);
      return false;
    }
    for (int i = 0; i < o.streams; ++i) {
      GstElement* sink = gst_bin_get_by_name(GST_BIN(p), ("sink" + std::to_string(i)).c_str());
      GstPad* pad = gst_element_get_static_pad(sink, "sink");
      gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, count_buffer, nullptr, nullptr);
      gst_object_unref(pad);
      gst_object_unref(sink);
    }
    g_decoded = 0;
    reset_syncs();
    const auto t0 = std::chrono::steady_clock::now();
    gst_element_set_state(p, GST_STATE_PLAYING);
    GstBus* bus = gst_element_get_bus(p);
    GstMessage* msg = gst_bus_timed_pop_filtered(bus, 300 * GST_SECOND,
                                                 static_cast<GstMessageType>(GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
    const double s = seconds_since(t0);
    const bool ok = msg && GST_MESSAGE_TYPE(msg) == GST_MESSAGE_EOS;
    if (!ok) {
      GError* e = nullptr;
      if (msg) gst_message_parse_error(msg, &e, nullptr);
      std::fprintf(stderr, "decode: %s: %s\n", graph.c_str(), e ? e->message : "timed out");
      g_clear_error(&e);
    }
    if (msg) gst_message_unref(msg);
    gst_object_unref(bus);
    gst_element_set_state(p, GST_STATE_NULL);
    gst_object_unref(p);
    if (!ok) return false;
    const double fps = static_cast<double>(g_decoded) / s;
    if (base_fps == 0.0) base_fps = fps;
    rows->push_back({"decode x" + std::to_string(o.streams), wait ? graph + " (wait: " + wait + ")" : graph, g_decoded,
                     s, fps, fps / base_fps, wait ? syncs_per_frame() : 0.0});
  }
  return true;
}

void usage() {
  std::fprintf(stderr,
               "usage: graph_bench [--mode all|chain|decode] [--frames N] [--streams N] [--clip FILE] "
               "[--filter-id N] [--csv FILE]\n");
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) usage();
      return argv[++i];
    };
    if (a == "--mode") {
      const std::string m = next();
      if (m != "all" && m != "chain" && m != "decode") usage();
      o.chain = m != "decode";
      o.decode = m != "chain";
    } else if (a == "--frames") {
      o.frames = std::max(1, std::atoi(next().c_str()));
    } else if (a == "--streams") {
      o.streams = std::max(1, std::atoi(next().c_str()));
    } else if (a == "--clip") {
      o.clip = next();
    } else if (a == "--filter-id") {
      o.filter_id = std::atoi(next().c_str());
    } else if (a == "--csv") {
      o.csv = next();
    } else {
      usage();
    }
  }
  gst_init(nullptr, nullptr);
  /* The session's per-frame LOG line carries its sync count. */
  gst_debug_set_threshold_for_name("iir2dcuda", GST_LEVEL_LOG);
  gst_debug_remove_log_function(gst_debug_log_default);  // or every frame's LOG line reaches stderr
  gst_debug_add_log_function(count_syncs, nullptr, nullptr);
  gst_debug_set_active(TRUE);
  if (!gst_cuda_load_library()) {
    std::printf("graph_bench: the CUDA library of GStreamer could not be loaded (no NVIDIA driver); nothing run\n");
    return 0;
  }
  gst_cuda_memory_init_once();
  GstElementFactory* f = gst_element_factory_find("iir2dfilter");
  if (!f) {
    std::fprintf(stderr, "graph_bench: iir2dfilter is not registered (set GST_PLUGIN_PATH to <build>/gst)\n");
    return 1;
  }
  gst_object_unref(f);

  std::vector<Row> rows;
  bool ok = true;
  if (o.chain) ok = run_chain(o, &rows) && ok;
  if (o.decode) ok = run_decode(o, &rows) && ok;

  std::printf("\nGStreamer %s, filter-id %d\n", gst_version_string(), o.filter_id);
  std::printf("%-16s %-44s %8s %8s %9s %8s %12s\n", "graph", "elements", "frames", "wall s", "frames/s", "ratio",
              "syncs/frame");
  for (const Row& r : rows)
    std::printf("%-16s %-44s %8llu %8.3f %9.1f %8.3f %12.3f\n", r.mode.c_str(), r.graph.c_str(),
                static_cast<unsigned long long>(r.frames), r.seconds, r.fps, r.ratio, r.syncs_per_frame);
  std::printf("ratio: frames/s over the identity baseline of the same graph in this run; syncs/frame: host\n"
              "synchronisations per filtered frame, summed over every filter (the session's own count)\n");
  if (!o.csv.empty()) {
    std::ofstream csv(o.csv);
    csv << "gstreamer,graph,elements,frames,seconds,fps,ratio,syncs_per_frame\n";
    for (const Row& r : rows)
      csv << gst_version_string() << "," << r.mode << ",\"" << r.graph << "\"," << r.frames << "," << r.seconds << ","
          << r.fps << "," << r.ratio << "," << r.syncs_per_frame << "\n";
  }
  return ok ? 0 : 1;
}
