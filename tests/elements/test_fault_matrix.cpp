// SPDX-License-Identifier: MIT
/*
 * The fault matrix of issue 10: both elements under hostile use. Every row
 * runs in a child process (this executable again, `--row=NAME`), started
 * with the GStreamer leaks tracer (GST_TRACERS=leaks, no stack traces) and
 * killed after a time limit, so that each row asserts, besides its own
 * documented outcome (a clear element error naming the cause, or correct
 * output):
 *   - no crash: the child exits normally with status 0;
 *   - no hang: it ends within the limit;
 *   - no leak: gst_deinit() in the child reports no object alive (the leaks
 *     tracer logs "object-alive" records under GST_TRACER:7 and warns
 *     "Leaks detected").
 * The row itself prints ROW-FAIL lines for each check that failed and
 * ROW-OK at its end; the parent (GoogleTest) asserts all of the above.
 *
 * Rows that depend on work on branch qm: CapsChangeMeterThroughTee (F1) and
 * NeverFedTimesOut (qualitymeter's `timeout` property).
 */
#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <gst/check/gstharness.h>
#include <gst/controller/gstdirectcontrolbinding.h>
#include <gst/controller/gstinterpolationcontrolsource.h>
#include <gst/gst.h>
#include <gst/video/video.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define IIR2D_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define IIR2D_SANITIZED 1
#endif
#endif

namespace {

/* ======================================================================== */
/* Child side: the rows                                                     */

int g_failures = 0;
#define ROW_CHECK(cond, what)                                                      \
  do {                                                                             \
    if (!(cond)) {                                                                 \
      ++g_failures;                                                                \
      std::printf("ROW-FAIL %s:%d: %s (%s)\n", __FILE__, __LINE__, #cond, what);   \
      std::fflush(stdout);                                                         \
    }                                                                              \
  } while (0)

std::string str(const std::string& s) { return s; }

/* How a pipeline ended. */
struct Outcome {
  bool eos = false;
  bool error = false;
  bool timed_out = false;
  GQuark domain = 0;
  int code = 0;
  std::string message, debug, source;
  std::vector<GstStructure*> element_messages;  // owned
  ~Outcome() {
    for (GstStructure* s : element_messages) gst_structure_free(s);
  }
  const GstStructure* last(const char* name) const {
    for (auto it = element_messages.rbegin(); it != element_messages.rend(); ++it)
      if (gst_structure_has_name(*it, name)) return *it;
    return nullptr;
  }
  std::string text() const { return message + " | " + debug; }
};

/* Runs `pipeline` (PLAYING) until EOS or an error, at most `seconds`. */
void wait_bus(GstElement* pipeline, Outcome* o, double seconds) {
  GstBus* bus = gst_element_get_bus(pipeline);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (!o->eos && !o->error) {
    const auto left = deadline - std::chrono::steady_clock::now();
    if (left <= std::chrono::steady_clock::duration::zero()) {
      o->timed_out = true;
      break;
    }
    GstMessage* m = gst_bus_timed_pop_filtered(
        bus, std::chrono::duration_cast<std::chrono::nanoseconds>(left).count(),
        static_cast<GstMessageType>(GST_MESSAGE_EOS | GST_MESSAGE_ERROR | GST_MESSAGE_ELEMENT));
    if (!m) continue;
    if (GST_MESSAGE_TYPE(m) == GST_MESSAGE_EOS) o->eos = true;
    if (GST_MESSAGE_TYPE(m) == GST_MESSAGE_ELEMENT && gst_message_get_structure(m))
      o->element_messages.push_back(gst_structure_copy(gst_message_get_structure(m)));
    if (GST_MESSAGE_TYPE(m) == GST_MESSAGE_ERROR) {
      GError* err = nullptr;
      gchar* dbg = nullptr;
      gst_message_parse_error(m, &err, &dbg);
      o->error = true;
      o->domain = err->domain;
      o->code = err->code;
      o->message = err->message;
      o->debug = dbg ? dbg : "";
      o->source = GST_OBJECT_NAME(GST_MESSAGE_SRC(m));
      std::printf("error from %s: %s\n", o->source.c_str(), o->text().c_str());
      g_error_free(err);
      g_free(dbg);
    }
    gst_message_unref(m);
  }
  gst_object_unref(bus);
}

GstElement* parse(const std::string& desc) {
  GError* err = nullptr;
  GstElement* p = gst_parse_launch(desc.c_str(), &err);
  if (err) {
    std::printf("ROW-FAIL parse %s: %s\n", desc.c_str(), err->message);
    ++g_failures;
    g_error_free(err);
  }
  return p;
}

/* Runs a gst-launch description to its end. */
void run(const std::string& desc, Outcome* o, double seconds = 30,
         const std::function<void(GstElement*)>& before = nullptr) {
  GstElement* p = parse(desc);
  if (!p) return;
  if (before) before(p);
  gst_element_set_state(p, GST_STATE_PLAYING);
  wait_bus(p, o, seconds);
  gst_element_set_state(p, GST_STATE_NULL);
  gst_object_unref(p);
}

guint64 summary_u64(const Outcome& o, const char* field) {
  const GstStructure* s = o.last("qualitymeter-summary");
  guint64 v = G_MAXUINT64;
  if (s) gst_structure_get_uint64(s, field, &v);
  return v;
}

const char* const kC = "video/x-raw,format=I420,width=64,height=48,framerate=30/1";

/* Counts GLib warnings (GObject's "invalid or out of range" among them). */
int g_warnings = 0;
void count_warnings(const gchar* domain, GLogLevelFlags level, const gchar* msg, gpointer) {
  if (level & (G_LOG_LEVEL_WARNING | G_LOG_LEVEL_CRITICAL)) ++g_warnings;
  std::printf("log %s: %s\n", domain ? domain : "", msg);
}

/* ---- invalid property values -------------------------------------------- */

void row_props_gobject() {
  g_log_set_default_handler(count_warnings, nullptr);
  GstElement* f = gst_element_factory_make("iir2dfilter", nullptr);
  GstElement* q = gst_element_factory_make("qualitymeter", nullptr);
  ROW_CHECK(f && q, "both elements are registered");
  if (!f || !q) return;
  struct Case {
    GstElement* e;
    const char* prop;
    double bad;
  };
  const Case cases[] = {{f, "strength", 5.0},          {f, "strength", -1.0},       {f, "sigma", -3.0},
                        {f, "temporal-alpha", 2.0},    {f, "border-constant", 9.0}, {f, "motion-threshold", -1.0},
                        {q, "min-ssim", 7.0},          {q, "max-temporal-delta", -2.0}};
  for (const Case& c : cases) {
    GValue before = G_VALUE_INIT, after = G_VALUE_INIT;
    g_value_init(&before, G_TYPE_DOUBLE);
    g_value_init(&after, G_TYPE_DOUBLE);
    g_object_get_property(G_OBJECT(c.e), c.prop, &before);
    const int w = g_warnings;
    g_object_set(c.e, c.prop, c.bad, nullptr);
    g_object_get_property(G_OBJECT(c.e), c.prop, &after);
    ROW_CHECK(g_warnings == w + 1, c.prop);
    ROW_CHECK(g_value_get_double(&after) == g_value_get_double(&before), c.prop);
  }
  /* Integer and enum values out of range. */
  guint id = 0;
  int w = g_warnings;
  g_object_set(f, "filter-id", 99u, nullptr);
  g_object_get(f, "filter-id", &id, nullptr);
  ROW_CHECK(g_warnings == w + 1 && id == 1u, "filter-id=99 refused");
  w = g_warnings;
  g_object_set(f, "temporal-mode", 17, nullptr);
  gint mode = -1;
  g_object_get(f, "temporal-mode", &mode, nullptr);
  ROW_CHECK(g_warnings == w + 1 && mode == 0, "temporal-mode=17 refused");
  gst_object_unref(f);
  gst_object_unref(q);
  /* The elements still run with the values they kept. */
  Outcome o;
  run(str("videotestsrc num-buffers=5 ! ") + kC + " ! iir2dfilter strength=0.5 ! fakesink", &o);
  ROW_CHECK(o.eos && !o.error, "runs after refused values");
}

/* GstController: absolute values outside the properties' ranges. */
void row_props_controller() {
  g_log_set_default_handler(count_warnings, nullptr);
  GstElement* p = parse(str("videotestsrc num-buffers=30 ! ") + kC + " ! iir2dfilter name=f temporal-mode=fixed ! fakesink");
  if (!p) return;
  GstElement* f = gst_bin_get_by_name(GST_BIN(p), "f");
  std::vector<GstControlSource*> sources;
  for (const char* prop : {"strength", "temporal-alpha", "border-constant"}) {
    GstControlSource* cs = gst_interpolation_control_source_new();
    g_object_set(cs, "mode", GST_INTERPOLATION_MODE_LINEAR, nullptr);
    GstTimedValueControlSource* tv = GST_TIMED_VALUE_CONTROL_SOURCE(cs);
    gst_timed_value_control_source_set(tv, 0, -4.0);
    gst_timed_value_control_source_set(tv, GST_SECOND / 2, 0.5);
    gst_timed_value_control_source_set(tv, GST_SECOND, 25.0);
    gst_object_add_control_binding(GST_OBJECT(f), gst_direct_control_binding_new_absolute(GST_OBJECT(f), prop, cs));
    sources.push_back(cs);
  }
  gst_element_set_state(p, GST_STATE_PLAYING);
  Outcome o;
  wait_bus(p, &o, 30);
  ROW_CHECK(o.eos && !o.error, "runs under out-of-range control values");
  for (const char* prop : {"strength", "temporal-alpha", "border-constant"}) {
    gdouble v = -1;
    g_object_get(f, prop, &v, nullptr);
    ROW_CHECK(v >= 0.0 && v <= 1.0, prop);
  }
  ROW_CHECK(g_warnings > 0, "out-of-range control values are refused with a warning");
  gst_element_set_state(p, GST_STATE_NULL);
  gst_object_unref(f);
  gst_object_unref(p);
  for (GstControlSource* cs : sources) gst_object_unref(cs);
}

/* ---- state cycles ---------------------------------------------------------- */

void row_state_cycles() {
  GstElement* p = parse(str("videotestsrc pattern=ball ! ") + kC +
                        " ! tee name=t ! queue ! iir2dfilter temporal-mode=adaptive ! q.distorted "
                        "t. ! queue ! q.reference qualitymeter name=q post-messages=false ! "
                        "fakesink name=s signal-handoffs=true sync=false");
  if (!p) return;
  GstElement* s = gst_bin_get_by_name(GST_BIN(p), "s");
  std::atomic<int> frames{0};
  g_signal_connect(s, "handoff", G_CALLBACK(+[](GstElement*, GstBuffer*, GstPad*, gpointer n) {
                     ++*static_cast<std::atomic<int>*>(n);
                   }),
                   &frames);
  const GstState downs[] = {GST_STATE_NULL, GST_STATE_READY, GST_STATE_PAUSED};
  int total = 0;
  GstBus* bus = gst_element_get_bus(p);
  for (int i = 0; i < 200; ++i) {
    frames = 0;
    gst_element_set_state(p, GST_STATE_PLAYING);
    for (int t = 0; t < 5000 && frames < 2; ++t) g_usleep(1000);
    ROW_CHECK(frames >= 2, "frames flow in every cycle");
    total += frames;
    gst_element_set_state(p, downs[i % 3]);
    if (GstMessage* m = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR)) {
      ROW_CHECK(false, "no error in the state cycles");
      gst_message_unref(m);
    }
  }
  gst_bus_set_flushing(bus, TRUE);
  std::printf("state cycles: %d frames\n", total);
  gst_object_unref(bus);
  gst_element_set_state(p, GST_STATE_NULL);
  gst_object_unref(s);
  gst_object_unref(p);
}

/* ---- caps changes ---------------------------------------------------------- */

struct Size {
  const char* format;
  int w, h;
};
const Size kSizes[] = {{"GRAY8", 1, 1},       {"I420", 2, 2},         {"NV12", 64, 48},  {"RGBA", 33, 17},
                       {"I420_10LE", 320, 240}, {"Y444_16LE", 17, 9}, {"BGRx", 1920, 1080},
                       {"GRAY8", 7680, 4320}, {"I420", 5, 3}};

GstCaps* caps_of(const Size& z) {
  return gst_caps_new_simple("video/x-raw", "format", G_TYPE_STRING, z.format, "width", G_TYPE_INT, z.w, "height",
                             G_TYPE_INT, z.h, "framerate", GST_TYPE_FRACTION, 30, 1, nullptr);
}

GstBuffer* random_frame(const Size& z, unsigned seed, GstClockTime pts) {
  GstVideoInfo info;
  GstCaps* c = caps_of(z);
  gst_video_info_from_caps(&info, c);
  gst_caps_unref(c);
  GstBuffer* b = gst_buffer_new_allocate(nullptr, GST_VIDEO_INFO_SIZE(&info), nullptr);
  GstMapInfo m;
  gst_buffer_map(b, &m, GST_MAP_WRITE);
  std::mt19937 rng(seed);
  for (gsize i = 0; i < m.size; ++i) m.data[i] = static_cast<guint8>(rng());
  gst_buffer_unmap(b, &m);
  GST_BUFFER_PTS(b) = pts;
  GST_BUFFER_DURATION(b) = GST_SECOND / 30;
  return b;
}

bool same_bytes(GstBuffer* a, GstBuffer* b) {
  GstMapInfo ma, mb;
  if (!a || !b || !gst_buffer_map(a, &ma, GST_MAP_READ)) return false;
  if (!gst_buffer_map(b, &mb, GST_MAP_READ)) {
    gst_buffer_unmap(a, &ma);
    return false;
  }
  const bool same = ma.size == mb.size && std::memcmp(ma.data, mb.data, ma.size) == 0;
  gst_buffer_unmap(b, &mb);
  gst_buffer_unmap(a, &ma);
  return same;
}

/* iir2dfilter, temporal smoothing on: after each caps change the output of
 * two frames equals a fresh element's on those caps (the plan, padding
 * bytes and temporal state follow the new caps; the state restarts). */
/* The frames' samples equal (row padding, which no element writes, left out). */
bool same_samples(GstBuffer* a, GstBuffer* b, const Size& z) {
  GstVideoInfo info;
  GstCaps* c = caps_of(z);
  gst_video_info_from_caps(&info, c);
  gst_caps_unref(c);
  GstVideoFrame fa, fb;
  if (!a || !b || !gst_video_frame_map(&fa, &info, a, GST_MAP_READ)) return false;
  if (!gst_video_frame_map(&fb, &info, b, GST_MAP_READ)) {
    gst_video_frame_unmap(&fa);
    return false;
  }
  bool same = true;
  for (guint plane = 0; plane < GST_VIDEO_FRAME_N_PLANES(&fa); ++plane) {
    guint comp = 0;
    for (guint k = 0; k < GST_VIDEO_FRAME_N_COMPONENTS(&fa); ++k)
      if (GST_VIDEO_FORMAT_INFO_PLANE(info.finfo, k) == plane) {
        comp = k;
        break;
      }
    const gsize row = static_cast<gsize>(GST_VIDEO_FRAME_COMP_WIDTH(&fa, comp)) * GST_VIDEO_FRAME_COMP_PSTRIDE(&fa, comp);
    for (int y = 0; y < GST_VIDEO_FRAME_COMP_HEIGHT(&fa, comp); ++y) {
      const guint8* ra = static_cast<const guint8*>(GST_VIDEO_FRAME_PLANE_DATA(&fa, plane)) +
                         static_cast<gsize>(y) * GST_VIDEO_FRAME_PLANE_STRIDE(&fa, plane);
      const guint8* rb = static_cast<const guint8*>(GST_VIDEO_FRAME_PLANE_DATA(&fb, plane)) +
                         static_cast<gsize>(y) * GST_VIDEO_FRAME_PLANE_STRIDE(&fb, plane);
      if (std::memcmp(ra, rb, row) != 0) same = false;
    }
  }
  gst_video_frame_unmap(&fb);
  gst_video_frame_unmap(&fa);
  return same;
}

void row_caps_filter() {
  GstHarness* h = gst_harness_new("iir2dfilter");
  g_object_set(h->element, "temporal-mode", 1, "temporal-alpha", 0.5, "planes", 1, nullptr);
  unsigned seed = 1;
  GstClockTime pts = 0;
  for (const Size& z : kSizes) {
    GstCaps* c = caps_of(z);
    gst_harness_set_src_caps(h, gst_caps_ref(c));
    GstHarness* fresh = gst_harness_new("iir2dfilter");
    g_object_set(fresh->element, "temporal-mode", 1, "temporal-alpha", 0.5, "planes", 1, nullptr);
    gst_harness_set_src_caps(fresh, c);
    const int n = z.w * z.h > 1000000 ? 1 : 2;
    for (int k = 0; k < n; ++k, ++seed, pts += GST_SECOND / 30) {
      GstBuffer* in = random_frame(z, seed, pts);
      ROW_CHECK(gst_harness_push(h, gst_buffer_ref(in)) == GST_FLOW_OK, z.format);
      ROW_CHECK(gst_harness_push(fresh, in) == GST_FLOW_OK, z.format);
      GstBuffer* out = gst_harness_pull(h);
      GstBuffer* want = gst_harness_pull(fresh);
      char what[96];
      std::snprintf(what, sizeof what, "%s %dx%d frame %d equals a fresh element's", z.format, z.w, z.h, k);
      ROW_CHECK(same_samples(out, want, z), what);
      if (out) gst_buffer_unref(out);
      if (want) gst_buffer_unref(want);
    }
    gst_harness_teardown(fresh);
  }
  gst_harness_teardown(h);
}

/* appsrc with caps changes -> tee -> both meter pads (F1: both inputs
 * change together, the other pad's CAPS event still queued). Every frame
 * pairs with itself: measured, PSNR inf, nothing unpaired, no error. */
void row_caps_meter() {
  GstElement* p = parse(
      "appsrc name=a format=time ! tee name=t ! queue ! q.reference t. ! queue ! q.distorted "
      "qualitymeter name=q ! fakesink sync=false");
  if (!p) return;
  GstElement* a = gst_bin_get_by_name(GST_BIN(p), "a");
  gst_element_set_state(p, GST_STATE_PLAYING);
  GstClockTime pts = 0;
  int pushed = 0;
  unsigned seed = 7;
  for (const Size& z : kSizes) {
    if (z.w * z.h > 3000000) continue;  // 8K goes through the filter row; the meter's F1 is about the change
    GstCaps* c = caps_of(z);
    gst_app_src_set_caps(GST_APP_SRC(a), c);
    gst_caps_unref(c);
    for (int k = 0; k < 3; ++k, ++pushed, pts += GST_SECOND / 30)
      gst_app_src_push_buffer(GST_APP_SRC(a), random_frame(z, seed++, pts));
  }
  gst_app_src_end_of_stream(GST_APP_SRC(a));
  Outcome o;
  wait_bus(p, &o, 60);
  ROW_CHECK(o.eos && !o.error, o.text().c_str());
  ROW_CHECK(summary_u64(o, "frames") == static_cast<guint64>(pushed), "every pair measured");
  ROW_CHECK(summary_u64(o, "unpaired-reference") == 0 && summary_u64(o, "unpaired-distorted") == 0, "none unpaired");
  gst_element_set_state(p, GST_STATE_NULL);
  gst_object_unref(a);
  gst_object_unref(p);
}

/* ---- flushing seeks ---------------------------------------------------------- */

GstBuffer* pull(GstElement* sink) {
  GstSample* s = gst_app_sink_try_pull_sample(GST_APP_SINK(sink), 10 * GST_SECOND);
  if (!s) return nullptr;
  GstBuffer* b = gst_buffer_ref(gst_sample_get_buffer(s));
  gst_sample_unref(s);
  return b;
}

/* After each flushing seek to 0 the first output equals the very first one:
 * the temporal state restarted (a kept state would blend in the frame
 * before the seek). `desc` ends in appsink name=s. */
void seeks(const std::string& desc, int n) {
  GstElement* p = parse(desc);
  if (!p) return;
  GstElement* s = gst_bin_get_by_name(GST_BIN(p), "s");
  gst_element_set_state(p, GST_STATE_PLAYING);
  GstBuffer* first = pull(s);
  ROW_CHECK(first != nullptr, "a first frame");
  for (int i = 0; i < n && first; ++i) {
    for (int k = 0; k < 3 + i % 4; ++k)
      if (GstBuffer* b = pull(s)) gst_buffer_unref(b);
    ROW_CHECK(gst_element_seek_simple(p, GST_FORMAT_TIME,
                                      static_cast<GstSeekFlags>(GST_SEEK_FLAG_FLUSH | GST_SEEK_FLAG_ACCURATE), 0),
              "seek accepted");
    GstBuffer* b = pull(s);
    ROW_CHECK(b && GST_BUFFER_PTS(b) == GST_BUFFER_PTS(first), "the first frame after the seek is at 0");
    ROW_CHECK(same_bytes(b, first), "the first output after a seek equals the first output");
    if (b) gst_buffer_unref(b);
  }
  GstBus* bus = gst_element_get_bus(p);
  GstMessage* m = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR);
  ROW_CHECK(m == nullptr, "no error");
  if (m) gst_message_unref(m);
  gst_object_unref(bus);
  if (first) gst_buffer_unref(first);
  gst_element_set_state(p, GST_STATE_NULL);
  gst_object_unref(s);
  gst_object_unref(p);
}

void row_seek_filter() {
  seeks(str("videotestsrc pattern=ball ! ") + kC +
            " ! iir2dfilter temporal-mode=adaptive ! appsink name=s sync=false max-buffers=4",
        50);
}

void row_seek_meter() {
  seeks(str("videotestsrc pattern=ball ! ") + kC + " ! q.reference videotestsrc pattern=ball ! " + kC +
            " ! iir2dfilter temporal-mode=fixed temporal-alpha=0.5 ! q.distorted qualitymeter name=q "
            "post-messages=false ! appsink name=s sync=false max-buffers=4",
        30);
}

/* ---- one input early at EOS, never fed, without timestamps ------------------ */

void row_eos_early() {
  Outcome o;
  run(str("videotestsrc num-buffers=5 ! ") + kC + " ! q.reference videotestsrc num-buffers=10 ! " + kC +
          " ! q.distorted qualitymeter name=q ! fakesink name=s signal-handoffs=false",
      &o);
  ROW_CHECK(o.eos && !o.error, o.text().c_str());
  ROW_CHECK(summary_u64(o, "frames") == 5, "5 pairs measured");
  ROW_CHECK(summary_u64(o, "unpaired-distorted") == 5, "the distorted frames after the reference's EOS are unpaired");
  ROW_CHECK(summary_u64(o, "unpaired-reference") == 0, "no reference frame unpaired");
}

/* Depends on branch qm: qualitymeter's `timeout` (ms) and
 * `timeout-action=error`. A pad that never receives data is an error
 * naming the pad, not a hang. */
void row_never_fed() {
  Outcome o;
  run(str("videotestsrc num-buffers=30 ! ") + kC +
          " ! q.reference appsrc name=never caps=" + kC +
          " format=time ! q.distorted qualitymeter name=q timeout=500 timeout-action=error ! fakesink",
      &o, 20);
  ROW_CHECK(o.error && !o.timed_out, "an error, not a hang");
  ROW_CHECK(o.text().find("distorted") != std::string::npos, "the error names the pad never fed");
}

/* Buffers without timestamps on both pads: documented pairing is exact
 * equality of (invalid) running times, so the frames pair in order; the
 * run ends (no hang) and passes every distorted frame through. */
void row_no_timestamps() {
  GstElement* p = parse(str("appsrc name=r format=time caps=") + kC + " ! q.reference appsrc name=d format=time caps=" +
                        kC + " ! q.distorted qualitymeter name=q ! fakesink name=s signal-handoffs=true sync=false");
  if (!p) return;
  GstElement* r = gst_bin_get_by_name(GST_BIN(p), "r");
  GstElement* d = gst_bin_get_by_name(GST_BIN(p), "d");
  GstElement* s = gst_bin_get_by_name(GST_BIN(p), "s");
  std::atomic<int> out{0};
  g_signal_connect(s, "handoff", G_CALLBACK(+[](GstElement*, GstBuffer*, GstPad*, gpointer n) {
                     ++*static_cast<std::atomic<int>*>(n);
                   }),
                   &out);
  gst_element_set_state(p, GST_STATE_PLAYING);
  const Size z{"I420", 64, 48};
  for (int k = 0; k < 6; ++k) {
    gst_app_src_push_buffer(GST_APP_SRC(r), random_frame(z, 1 + k, GST_CLOCK_TIME_NONE));
    gst_app_src_push_buffer(GST_APP_SRC(d), random_frame(z, 1 + k, GST_CLOCK_TIME_NONE));
  }
  gst_app_src_end_of_stream(GST_APP_SRC(r));
  gst_app_src_end_of_stream(GST_APP_SRC(d));
  Outcome o;
  wait_bus(p, &o, 20);
  std::printf("no timestamps: eos=%d error=%d frames=%llu unpaired-ref=%llu unpaired-dist=%llu out=%d\n", o.eos,
              o.error, (unsigned long long)summary_u64(o, "frames"),
              (unsigned long long)summary_u64(o, "unpaired-reference"),
              (unsigned long long)summary_u64(o, "unpaired-distorted"), out.load());
  ROW_CHECK(!o.timed_out, "no hang");
  ROW_CHECK(o.eos && !o.error, o.text().c_str());
  ROW_CHECK(out == 6, "every distorted frame passes through");
  ROW_CHECK(summary_u64(o, "frames") + summary_u64(o, "unpaired-distorted") == 6, "every distorted frame counted");
  gst_element_set_state(p, GST_STATE_NULL);
  for (GstElement* e : {r, d, s}) gst_object_unref(e);
  gst_object_unref(p);
}

/* ---- stats-file errors ---------------------------------------------------- */

std::string meter_pipeline(int frames, const std::string& props) {
  const std::string n = std::to_string(frames);
  return "videotestsrc num-buffers=" + n + " ! " + kC + " ! q.reference videotestsrc num-buffers=" + n +
         " pattern=snow ! " + kC + " ! q.distorted qualitymeter name=q " + props + " ! fakesink";
}

void row_stats_open() {
  Outcome o;
  run(meter_pipeline(10, "stats-file=/nonexistent-iir2d-dir/stats.csv"), &o);
  ROW_CHECK(o.error && o.domain == GST_RESOURCE_ERROR && o.code == GST_RESOURCE_ERROR_OPEN_WRITE, o.text().c_str());
  ROW_CHECK(o.text().find("/nonexistent-iir2d-dir/stats.csv") != std::string::npos, "names the file");
  Outcome full;
  run(meter_pipeline(10, "stats-file=/dev/full"), &full);
  ROW_CHECK(full.error && full.domain == GST_RESOURCE_ERROR, full.text().c_str());
  ROW_CHECK(full.text().find("/dev/full") != std::string::npos, "names the file");
}

/* The file fills up during the run: a file-size limit (RLIMIT_FSIZE, with
 * SIGXFSZ ignored, so writes fail with EFBIG as on a full disk). */
void row_stats_full_during_run() {
  char path[] = "/tmp/iir2d-fault-XXXXXX";
  const int fd = mkstemp(path);
  close(fd);
  signal(SIGXFSZ, SIG_IGN);
  rlimit lim{4096, 4096};
  setrlimit(RLIMIT_FSIZE, &lim);
  Outcome o;
  run(meter_pipeline(300, std::string("stats-file=") + path), &o);
  lim = {RLIM_INFINITY, RLIM_INFINITY};
  setrlimit(RLIMIT_FSIZE, &lim);
  ROW_CHECK(o.error && o.domain == GST_RESOURCE_ERROR && o.code == GST_RESOURCE_ERROR_WRITE, o.text().c_str());
  ROW_CHECK(o.text().find(path) != std::string::npos, "names the file");
  std::ifstream in(path);
  std::string line, last;
  int rows = 0;
  while (std::getline(in, line))
    if (!line.empty() && line[0] != '#') ++rows, last = line;
  std::printf("stats rows before the error: %d\n", rows);
  ROW_CHECK(rows > 2 && rows < 300, "some rows written before the disk filled");
  unlink(path);
}

/* ---- short, zero-size, GAP and lying-meta buffers ---------------------------- */

/* Pushes `buf` into a harness around `element` with caps kC; returns the
 * flow and the error posted, if any. */
GstFlowReturn push_one(GstHarness* h, GstBuffer* buf, std::string* error) {
  const GstFlowReturn ret = gst_harness_push(h, buf);
  error->clear();
  while (GstMessage* m = gst_bus_pop_filtered(GST_ELEMENT_BUS(h->element), GST_MESSAGE_ERROR)) {
    GError* err = nullptr;
    gchar* dbg = nullptr;
    gst_message_parse_error(m, &err, &dbg);
    *error += std::string(err->message) + " | " + (dbg ? dbg : "");
    g_error_free(err);
    g_free(dbg);
    gst_message_unref(m);
  }
  return ret;
}

/* A bus for a harnessed element (for its error messages), and a teardown
 * that drops the messages left on it (they hold the element). */
void own_bus(GstHarness* h) {
  GstBus* bus = gst_bus_new();
  gst_element_set_bus(h->element, bus);
  gst_object_unref(bus);
}
void teardown(GstHarness* h) {
  GstBus* bus = gst_element_get_bus(h->element);
  gst_harness_teardown(h);
  if (bus) {
    gst_bus_set_flushing(bus, TRUE);
    gst_object_unref(bus);
  }
}

GstHarness* filter_harness() {
  GstHarness* h = gst_harness_new("iir2dfilter");
  own_bus(h);
  gst_harness_set_src_caps_str(h, kC);
  return h;
}

void row_bad_buffers_filter() {
  const Size z{"I420", 64, 48};
  std::string err;
  {
    GstHarness* h = filter_harness();
    GstBuffer* b = gst_buffer_new_allocate(nullptr, 100, nullptr);
    ROW_CHECK(push_one(h, b, &err) == GST_FLOW_ERROR, "a short buffer is refused");
    ROW_CHECK(err.find("Could not map the input buffer") != std::string::npos && err.find("100 bytes") != std::string::npos &&
                  err.find("4608") != std::string::npos,
              err.c_str());
    teardown(h);
  }
  {
    GstHarness* h = filter_harness();
    ROW_CHECK(push_one(h, gst_buffer_new(), &err) == GST_FLOW_ERROR, "a 0-byte buffer that is no GAP is refused");
    ROW_CHECK(err.find("0 bytes") != std::string::npos, err.c_str());
    teardown(h);
  }
  {
    GstHarness* h = filter_harness();
    GstBuffer* gap = gst_buffer_new();
    GST_BUFFER_FLAG_SET(gap, GST_BUFFER_FLAG_GAP);
    GST_BUFFER_PTS(gap) = 0;
    ROW_CHECK(push_one(h, gap, &err) == GST_FLOW_OK && err.empty(), "a GAP passes");
    GstBuffer* out = gst_harness_try_pull(h);
    ROW_CHECK(out && gst_buffer_get_size(out) == 0 && GST_BUFFER_FLAG_IS_SET(out, GST_BUFFER_FLAG_GAP),
              "the GAP comes out");
    if (out) gst_buffer_unref(out);
    ROW_CHECK(push_one(h, random_frame(z, 3, GST_SECOND / 30), &err) == GST_FLOW_OK, "frames after the gap");
    teardown(h);
  }
  {
    GstHarness* h = filter_harness();
    GstBuffer* b = random_frame(z, 4, 0);
    gsize offsets[4] = {0, 64 * 48, 64 * 48 + 32 * 24, 0};
    gint strides[4] = {640, 32, 32, 0};
    gst_buffer_add_video_meta_full(b, GST_VIDEO_FRAME_FLAG_NONE, GST_VIDEO_FORMAT_I420, 64, 48, 3, offsets, strides);
    ROW_CHECK(push_one(h, b, &err) == GST_FLOW_ERROR, "a lying meta is refused");
    ROW_CHECK(err.find("does not hold its frame") != std::string::npos, err.c_str());
    teardown(h);
  }
}

/* The meter: a short buffer and a lying meta on the distorted pad are
 * errors naming the cause; a GAP passes through. */
void row_bad_buffers_meter() {
  const Size z{"I420", 64, 48};
  for (int which = 0; which < 3; ++which) {
    GstElement* p = parse(str("appsrc name=r format=time caps=") + kC + " ! q.reference appsrc name=d format=time caps=" +
                          kC + " ! q.distorted qualitymeter name=q ! appsink name=s sync=false wait-on-eos=false");
    if (!p) return;
    GstElement* r = gst_bin_get_by_name(GST_BIN(p), "r");
    GstElement* d = gst_bin_get_by_name(GST_BIN(p), "d");
    GstElement* s = gst_bin_get_by_name(GST_BIN(p), "s");
    gst_element_set_state(p, GST_STATE_PLAYING);
    gst_app_src_push_buffer(GST_APP_SRC(r), random_frame(z, 1, 0));
    GstBuffer* b = nullptr;
    if (which == 0) {
      b = gst_buffer_new_allocate(nullptr, 100, nullptr);
    } else if (which == 1) {
      b = random_frame(z, 2, 0);
      gsize offsets[4] = {0, 64 * 48, 64 * 48 + 32 * 24, 0};
      gint strides[4] = {640, 32, 32, 0};
      gst_buffer_add_video_meta_full(b, GST_VIDEO_FRAME_FLAG_NONE, GST_VIDEO_FORMAT_I420, 64, 48, 3, offsets, strides);
    } else {
      b = gst_buffer_new();
      GST_BUFFER_FLAG_SET(b, GST_BUFFER_FLAG_GAP);
    }
    GST_BUFFER_PTS(b) = 0;
    GST_BUFFER_DURATION(b) = GST_SECOND / 30;
    gst_app_src_push_buffer(GST_APP_SRC(d), b);
    gst_app_src_end_of_stream(GST_APP_SRC(r));
    gst_app_src_end_of_stream(GST_APP_SRC(d));
    Outcome o;
    wait_bus(p, &o, 20);
    if (which < 2) {
      ROW_CHECK(o.error && !o.timed_out, which == 0 ? "short buffer: an error" : "lying meta: an error");
      ROW_CHECK(o.text().find("distorted") != std::string::npos, o.text().c_str());
    } else {
      ROW_CHECK(o.eos && !o.error, o.text().c_str());
      GstSample* sample = gst_app_sink_try_pull_sample(GST_APP_SINK(s), 0);
      ROW_CHECK(sample && gst_buffer_get_size(gst_sample_get_buffer(sample)) == 0, "the GAP passes through");
      if (sample) gst_sample_unref(sample);
    }
    gst_element_set_state(p, GST_STATE_NULL);
    for (GstElement* e : {r, d, s}) gst_object_unref(e);
    gst_object_unref(p);
  }
}

/* ---- allocation failure (issue 10, F5) -------------------------------------- */

std::size_t vm_size_bytes() {
  std::ifstream in("/proc/self/status");
  std::string key;
  while (in >> key) {
    if (key == "VmSize:") {
      std::size_t kb = 0;
      in >> kb;
      return kb * 1024;
    }
    in.ignore(1 << 20, '\n');
  }
  return 0;
}

/* A GRAY8 frame of 64 MiB under an address-space limit that leaves room for
 * the input and output frames but not for a 256 MiB float state (temporal
 * on) or refcpu's float planes (temporal off): an element error, no abort.
 * `threads`: n-threads (0, the default, is one per core): 16 threads run
 * here whatever the host has, and their stacks must not take the room the
 * row leaves (with 8 MiB stacks 16 threads did not start, an error about
 * threads instead of the allocation). */
void alloc_row(bool temporal, const char* expect, guint threads) {
  const Size z{"GRAY8", 8192, 8192};
  const std::size_t frame = 8192u * 8192u;
  GstHarness* h = gst_harness_new("iir2dfilter");
  own_bus(h);
  if (temporal) g_object_set(h->element, "temporal-mode", 1, nullptr);
  g_object_set(h->element, "n-threads", threads, nullptr);
  GstCaps* c = caps_of(z);
  gst_harness_set_src_caps(h, c);
  GstBuffer* in = random_frame(z, 1, 0);
  const rlim_t limit = vm_size_bytes() + frame + frame / 2 + (64u << 20);
  rlimit lim{limit, limit};
  ROW_CHECK(setrlimit(RLIMIT_AS, &lim) == 0, "address-space limit set");
  std::string err;
  const GstFlowReturn ret = push_one(h, in, &err);
  lim = {RLIM_INFINITY, RLIM_INFINITY};
  setrlimit(RLIMIT_AS, &lim);
  std::printf("n-threads %u: flow %s, error: %s\n", threads, gst_flow_get_name(ret), err.c_str());
  ROW_CHECK(ret == GST_FLOW_ERROR, "the frame fails");
  ROW_CHECK(err.find(expect) != std::string::npos, err.c_str());
  teardown(h);
}

void row_alloc_temporal(guint threads) { alloc_row(true, "Not enough memory for the temporal state", threads); }
void row_alloc_filter(guint threads) { alloc_row(false, "bad_alloc", threads); }

/* Threads that cannot all be made (an address-space limit with room for
 * small frames and a few threads, not for 64): the frame is filtered on
 * those that started, as on one thread, and a warning says how many. */
void row_alloc_threads() {
  const Size z{"I420", 64, 48};
  GstHarness* ref = gst_harness_new("iir2dfilter");
  g_object_set(ref->element, "n-threads", 1u, nullptr);
  gst_harness_set_src_caps(ref, caps_of(z));
  GstHarness* h = gst_harness_new("iir2dfilter");
  own_bus(h);
  g_object_set(h->element, "n-threads", 64u, nullptr);
  gst_harness_set_src_caps(h, caps_of(z));
  GstBuffer* in = random_frame(z, 7, 0);
  const GstFlowReturn ref_ret = gst_harness_push(ref, gst_buffer_ref(in));
  GstBuffer* expected = gst_harness_try_pull(ref);
  const rlim_t limit = vm_size_bytes() + (24u << 20);
  rlimit lim{limit, limit};
  ROW_CHECK(setrlimit(RLIMIT_AS, &lim) == 0, "address-space limit set");
  const GstFlowReturn ret = gst_harness_push(h, in);
  lim = {RLIM_INFINITY, RLIM_INFINITY};
  setrlimit(RLIMIT_AS, &lim);
  GstBuffer* out = gst_harness_try_pull(h);
  std::string err, warning;  // gst_bus_pop_filtered() drops what it does not return: one pass for both
  while (GstMessage* m = gst_bus_pop_filtered(GST_ELEMENT_BUS(h->element),
                                              static_cast<GstMessageType>(GST_MESSAGE_WARNING | GST_MESSAGE_ERROR))) {
    GError* e = nullptr;
    gchar* dbg = nullptr;
    if (GST_MESSAGE_TYPE(m) == GST_MESSAGE_ERROR) gst_message_parse_error(m, &e, &dbg);
    else gst_message_parse_warning(m, &e, &dbg);
    (GST_MESSAGE_TYPE(m) == GST_MESSAGE_ERROR ? err : warning) += std::string(e->message) + " | " + (dbg ? dbg : "");
    g_error_free(e);
    g_free(dbg);
    gst_message_unref(m);
  }
  std::printf("flow %s, error: %s, warning: %s\n", gst_flow_get_name(ret), err.c_str(), warning.c_str());
  ROW_CHECK(ref_ret == GST_FLOW_OK && expected, "one thread filters the frame");
  ROW_CHECK(ret == GST_FLOW_OK && err.empty(), "threads that cannot be made are no error");
  ROW_CHECK(warning.find("of 64 CPU threads") != std::string::npos, warning.c_str());
  ROW_CHECK(same_bytes(out, expected), "the same output as on one thread");
  for (GstBuffer* b : {out, expected})
    if (b) gst_buffer_unref(b);
  teardown(h);
  gst_harness_teardown(ref);
}

/* Peak RSS and address space of one GRAY8 frame (8K, or `w`x`h`) through
 * `element` (the parent compares). */
void row_rss(const std::string& element_desc, int w = 7680, int h = 4320) {
  Outcome o;
  run("videotestsrc num-buffers=1 ! video/x-raw,format=GRAY8,width=" + std::to_string(w) +
          ",height=" + std::to_string(h) + " ! " + element_desc + " ! fakesink",
      &o, 120);
  ROW_CHECK(o.eos && !o.error, o.text().c_str());
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  std::printf("PEAK-RSS-KB %ld\n", ru.ru_maxrss);
  std::ifstream in("/proc/self/status");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("VmPeak:", 0) == 0) std::printf("PEAK-VM-KB %ld\n", std::atol(line.c_str() + 7));
}

const std::map<std::string, std::function<void()>>& rows() {
  static const std::map<std::string, std::function<void()>> r = {
      {"props-gobject", row_props_gobject},
      {"props-controller", row_props_controller},
      {"state-cycles", row_state_cycles},
      {"caps-filter", row_caps_filter},
      {"caps-meter", row_caps_meter},
      {"seek-filter", row_seek_filter},
      {"seek-meter", row_seek_meter},
      {"eos-early", row_eos_early},
      {"never-fed", row_never_fed},
      {"no-timestamps", row_no_timestamps},
      {"stats-open", row_stats_open},
      {"stats-full", row_stats_full_during_run},
      {"bad-buffers-filter", row_bad_buffers_filter},
      {"bad-buffers-meter", row_bad_buffers_meter},
      {"alloc-temporal", [] { row_alloc_temporal(0); }},
      {"alloc-temporal-16", [] { row_alloc_temporal(16); }},
      {"alloc-filter", [] { row_alloc_filter(0); }},
      {"alloc-filter-16", [] { row_alloc_filter(16); }},
      {"alloc-threads", row_alloc_threads},
      {"rss-identity", [] { row_rss("identity"); }},
      {"rss-identity-small", [] { row_rss("identity", 64, 48); }},
      {"rss-passthrough", [] { row_rss("iir2dfilter strength=0"); }},
      {"rss-passthrough-small", [] { row_rss("iir2dfilter strength=0", 64, 48); }},
      {"rss-passthrough-16", [] { row_rss("iir2dfilter strength=0 n-threads=16"); }},
      {"rss-off", [] { row_rss("iir2dfilter temporal-mode=off"); }},
      {"rss-off-1", [] { row_rss("iir2dfilter temporal-mode=off n-threads=1"); }},
      {"rss-off-16", [] { row_rss("iir2dfilter temporal-mode=off n-threads=16"); }},
      {"rss-fixed", [] { row_rss("iir2dfilter temporal-mode=fixed"); }},
      {"rss-fixed-16", [] { row_rss("iir2dfilter temporal-mode=fixed n-threads=16"); }},
  };
  return r;
}

int run_row(const std::string& name) {
  gst_init(nullptr, nullptr);
  const auto it = rows().find(name);
  if (it == rows().end()) {
    std::printf("ROW-FAIL no row %s\n", name.c_str());
    return 2;
  }
  for (const char* e : {"iir2dfilter", "qualitymeter"}) {
    GstElementFactory* f = gst_element_factory_find(e);
    if (!f) {
      std::printf("ROW-FAIL element %s not found: build the plugin and set GST_PLUGIN_PATH to <build>/gst\n", e);
      return 3;
    }
    gst_object_unref(f);
  }
  it->second();
  if (g_failures == 0) std::printf("ROW-OK\n");
  std::fflush(stdout);
  gst_deinit();  // the leaks tracer reports here
  return 0;
}

/* ======================================================================== */
/* Parent side: GoogleTest                                                  */

/* How the child rows start: this program again, with the same loader
 * prefix when it was started through an explicit dynamic loader
 * ("ld-linux-x86-64.so.2 --library-path DIR PROGRAM", as the device
 * bundle's trixie-run does). Then /proc/self/exe is the loader, and
 * /proc/self/cmdline holds the loader's own arguments before the program's
 * argc ones; exec'ing the loader with just "--row=..." would start nothing. */
std::string g_self;
std::vector<std::string> g_prefix;  // the loader's arguments, then PROGRAM; empty: exec g_self directly

void find_self(int argc) {
  char exe[4096];
  const ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  g_self = n > 0 ? std::string(exe, static_cast<std::size_t>(n)) : "/proc/self/exe";
  std::ifstream in("/proc/self/cmdline", std::ios::binary);
  std::vector<std::string> cmd;
  for (std::string a; std::getline(in, a, '\0');) cmd.push_back(a);
  if (cmd.size() > static_cast<std::size_t>(argc))  // started by a loader: keep its part and PROGRAM
    g_prefix.assign(cmd.begin(), cmd.end() - argc + 1);
}

struct Child {
  bool timed_out = false;
  int status = 0;
  std::string output;
};

#ifdef IIR2D_SANITIZED
constexpr int kScale = 6;  // the sanitizers slow everything down
#else
constexpr int kScale = 1;
#endif

Child run_child(const std::string& row, int timeout_s) {
  Child c;
  /* The child's argv, built before fork() so that the child allocates as
   * little as possible. */
  std::vector<std::string> args = g_prefix;
  if (args.empty()) args.push_back(g_self);
  args.push_back("--row=" + row);
  std::vector<char*> av;
  for (std::string& a : args) av.push_back(a.data());
  av.push_back(nullptr);
  int fds[2];
  if (pipe(fds) != 0) return c;
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(fds[1], 1);
    dup2(fds[1], 2);
    close(fds[0]);
    close(fds[1]);
    setenv("GST_TRACERS", "leaks", 1);
    unsetenv("GST_LEAKS_TRACER_STACK_TRACE");
    setenv("GST_DEBUG", "*:1,GST_TRACER:7", 1);
    setenv("GST_DEBUG_NO_COLOR", "1", 1);
    /* Under ASan: the leaks tracer checks the row's objects; LSan would
     * report what gst_deinit() itself leaves (the registry's features). */
    if (const char* asan = std::getenv("ASAN_OPTIONS")) {
      const std::string opts = std::string(asan) + " detect_leaks=0";
      setenv("ASAN_OPTIONS", opts.c_str(), 1);
    }
    execv(g_self.c_str(), av.data());
    _exit(127);
  }
  close(fds[1]);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s * kScale);
  char buf[65536];
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      c.timed_out = true;
      kill(pid, SIGKILL);
      break;
    }
    pollfd p{fds[0], POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(std::min<long long>(left.count(), 1000))) <= 0) continue;
    const ssize_t n = read(fds[0], buf, sizeof buf);
    if (n <= 0) break;
    c.output.append(buf, static_cast<std::size_t>(n));
  }
  close(fds[0]);
  waitpid(pid, &c.status, 0);
  return c;
}

/* Drops the tracer's format lines (logged at start-up), keeps the rest. */
std::string relevant(const std::string& out) {
  std::istringstream in(out);
  std::string line, kept;
  while (std::getline(in, line))
    if (line.find("gst_tracer_record_build_format") == std::string::npos) kept += line + "\n";
  return kept;
}

/* Runs a row and asserts: no hang, no crash, its checks passed, no leak. */
Child expect_row(const std::string& row, int timeout_s = 60) {
  const Child c = run_child(row, timeout_s);
  const std::string all = relevant(c.output);
  const std::string log =
      all.size() > 12000 ? all.substr(0, 6000) + "\n[...]\n" + all.substr(all.size() - 6000) : all;
  EXPECT_FALSE(c.timed_out) << row << ": hung (killed after " << timeout_s * kScale << " s)\n" << log;
  EXPECT_TRUE(WIFEXITED(c.status) && WEXITSTATUS(c.status) == 0)
      << row << ": crashed or failed: "
      << (WIFSIGNALED(c.status) ? std::string("signal ") + strsignal(WTERMSIG(c.status))
                                : "exit " + std::to_string(WEXITSTATUS(c.status)))
      << "\n"
      << log;
  EXPECT_EQ(c.output.find("ROW-FAIL"), std::string::npos) << row << "\n" << log;
  EXPECT_NE(c.output.find("ROW-OK"), std::string::npos) << row << ": did not finish\n" << log;
  EXPECT_EQ(all.find("object-alive"), std::string::npos) << row << ": the leaks tracer found objects alive\n"
                                                               << log;
  EXPECT_EQ(c.output.find("Leaks detected"), std::string::npos) << row << ": leaks\n" << log;
  return c;
}

TEST(FaultMatrix, InvalidPropertiesThroughGObject) { expect_row("props-gobject"); }
TEST(FaultMatrix, InvalidPropertiesThroughGstController) { expect_row("props-controller"); }
TEST(FaultMatrix, TwoHundredStateCyclesWithFramesFlowing) { expect_row("state-cycles", 120); }
TEST(FaultMatrix, CapsChangesIntoTheFilter1x1To8K) { expect_row("caps-filter", 120); }
/* F1: passes once branch qm (per-pair caps comparison) is merged. */
TEST(FaultMatrix, CapsChangeMeterThroughTee) { expect_row("caps-meter"); }
TEST(FaultMatrix, FlushingSeeksWithTemporalSmoothing) { expect_row("seek-filter"); }
TEST(FaultMatrix, FlushingSeeksThroughTheMeter) { expect_row("seek-meter"); }
TEST(FaultMatrix, OneInputAtEosEarly) { expect_row("eos-early"); }
/* Needs qualitymeter's `timeout` property (branch qm). */
TEST(FaultMatrix, NeverFedTimesOut) { expect_row("never-fed", 30); }
TEST(FaultMatrix, InputsWithoutTimestamps) { expect_row("no-timestamps"); }
TEST(FaultMatrix, StatsFileErrorAtOpen) { expect_row("stats-open"); }
TEST(FaultMatrix, StatsFileFullDuringTheRun) { expect_row("stats-full"); }
TEST(FaultMatrix, ShortZeroGapAndLyingMetaBuffersIntoTheFilter) { expect_row("bad-buffers-filter"); }
TEST(FaultMatrix, ShortGapAndLyingMetaBuffersIntoTheMeter) { expect_row("bad-buffers-meter"); }

#ifdef IIR2D_SANITIZED
#define ALLOC_TEST(name) TEST(FaultMatrix, DISABLED_##name)
#else
#define ALLOC_TEST(name) TEST(FaultMatrix, name)
#endif
/* F5. Not under ASan/TSan: their allocators end the process on an
 * allocation that fails (operator new cannot return null) and their shadow
 * memory needs more address space than any limit leaves. */
ALLOC_TEST(AllocationFailureOfTheTemporalStateIsAnElementError) {
  expect_row("alloc-temporal");
  expect_row("alloc-temporal-16");
}
ALLOC_TEST(AllocationFailureInTheCpuFilterIsAnElementError) {
  expect_row("alloc-filter");
  expect_row("alloc-filter-16");
}
ALLOC_TEST(ThreadsThatCannotBeMadeAreAWarningNotAnError) { expect_row("alloc-threads"); }

long row_figure(const Child& c, const char* key) {
  const auto at = c.output.find(key);
  return at == std::string::npos ? -1 : std::atol(c.output.c_str() + at + std::strlen(key));
}

/* F5: with temporal-mode=off (and in passthrough) the element holds no
 * frame-sized host state: an 8K GRAY8 frame (33 MB) would need 133 MB of
 * float state. Peak RSS in a child, against identity and temporal on, with
 * the default n-threads and with 16 threads whatever the host has.
 *
 * Frame-sized memory is what grows with the frame: each element's 8K peak
 * less its own 64x48 peak. What an element costs whatever the frame (the
 * plugin's code, and on a CUDA build with a driver the CUDA context that
 * start() opens, on the order of 100 MB of host memory) is not frame-sized
 * state; it is printed, not asserted. */
ALLOC_TEST(TemporalOffAllocatesNoHostState) {
  auto rss = [](const char* row, int timeout = 60) { return row_figure(expect_row(row, timeout), "PEAK-RSS-KB "); };
  const long identity = rss("rss-identity");
  const long identity_small = rss("rss-identity-small");
  const long passthrough = rss("rss-passthrough");
  const long passthrough_small = rss("rss-passthrough-small");
  const long passthrough_16 = rss("rss-passthrough-16");
  const long off = rss("rss-off", 120);
  const long off_1 = rss("rss-off-1", 120);
  const long off_16 = rss("rss-off-16", 120);
  const long fixed = rss("rss-fixed", 120);
  const long fixed_16 = rss("rss-fixed-16", 120);
  std::printf("peak RSS (kB): identity %ld (64x48: %ld), passthrough %ld (64x48: %ld, 16 threads: %ld), temporal off "
              "%ld (1 thread: %ld, 16: %ld), temporal fixed %ld (16 threads: %ld)\n",
              identity, identity_small, passthrough, passthrough_small, passthrough_16, off, off_1, off_16, fixed,
              fixed_16);
  std::printf("fixed cost of the element beside identity (kB, not asserted): %ld\n", passthrough_small - identity_small);
  const long state_kb = 7680L * 4320L * 4 / 1024;  // 129600 kB
  ASSERT_GT(identity, 0);
  ASSERT_GT(identity_small, 0);
  ASSERT_GT(passthrough_small, 0);
  const long frame_identity = identity - identity_small;
  EXPECT_LT((passthrough - passthrough_small) - frame_identity, state_kb / 4)
      << "passthrough holds frame-sized memory beyond identity's";
  EXPECT_LT((passthrough_16 - passthrough_small) - frame_identity, state_kb / 4)
      << "passthrough with 16 threads holds frame-sized memory beyond identity's";
  /* Threads add their scratch lines (a few per thread), nothing frame-sized. */
  EXPECT_LT(off_16 - off_1, state_kb / 4) << "16 threads hold frame-sized memory beyond one thread's";
  EXPECT_GT(fixed - off, state_kb * 3 / 4) << "temporal on should add the state that temporal off does not hold";
  EXPECT_GT(fixed_16 - off_16, state_kb * 3 / 4) << "the same with 16 threads";
}

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i)
    if (std::strncmp(argv[i], "--row=", 6) == 0) return run_row(argv[i] + 6);
  find_self(argc);
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
