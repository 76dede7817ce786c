// SPDX-License-Identifier: MIT
/*
 * Tier 3: the qualitymeter element in pipelines, its bus messages parsed
 * back with the typed structs of gst/gstqualitymetermessages.h.
 *
 *  - pads, properties (ranges, defaults), caps templates;
 *  - exact values on synthetic frames against hand-derived answers
 *    (tests/common/quality_cases.h): constant offset, one wrong pixel, identical
 *    frames (inf and 1.0), odd sizes with partial 4×4 blocks, 10-bit, the
 *    temporal delta;
 *  - pairing: distorted-offset, dropped frames counted (never repeated), one
 *    pad at EOS early; the distorted stream passes through unchanged;
 *  - bad input: mismatched caps, a stats-file in a missing directory;
 *  - outputs: stats-file (CSV, JSON Lines, flushed as it goes), thresholds
 *    (one message per edge), the summary message and property;
 *  - agreement with ffmpeg's psnr and ssim filters on the real demo clip
 *    (pipelines/fetch-clip.sh) against its iir2dfilter output: these need
 *    ffmpeg and fail, not skip, without it;
 *  - CUDA against CPU on the same frames (two meters fed by one tee, one
 *    behind cudaupload): skip with the reason where CUDA cannot be used.
 *
 * Environment: GST_PLUGIN_PATH (meson test sets it), IIR2D_SOURCE_ROOT (for
 * fetch-clip.sh), IIR2D_CLIP (a 4:2:0 H.264 MP4 instead of fetching one).
 */
#include <glib/gstdio.h>
#include <gst/gst.h>
#include <gst/video/video.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "gstqualitymetermessages.h"
#include "iir2d/refcpu.h"
#include "quality_cases.h"

#ifndef IIR2D_SOURCE_ROOT
#define IIR2D_SOURCE_ROOT ""
#endif

namespace {

using iir2d::qm::FrameReport;
using iir2d::qm::MetricSummary;
using iir2d::qm::Summary;
using iir2d::qm::ThresholdEvent;

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr GstClockTime kFrame = GST_SECOND / 30;

class GstEnvironment : public ::testing::Environment {
 public:
  void SetUp() override { gst_init(nullptr, nullptr); }
};
::testing::Environment* const kGstEnvironment = ::testing::AddGlobalTestEnvironment(new GstEnvironment);

bool have_factory(const char* name) {
  GstElementFactory* f = gst_element_factory_find(name);
  if (f) gst_object_unref(f);
  return f != nullptr;
}

/* Our own elements: a test that cannot find them fails (it never skips). */
#define REQUIRE_ELEMENT(name)                                                                           \
  do {                                                                                                  \
    if (!have_factory(name))                                                                            \
      FAIL() << "element " name " not found: build the plugin and set GST_PLUGIN_PATH to "              \
                "<build>/gst (meson test does)";                                                        \
  } while (0)

/* ---- running a pipeline to EOS ----------------------------------------- */

struct MeterRun {
  bool eos = false;
  std::string error, error_debug, error_source;
  std::vector<FrameReport> frames;
  bool have_summary = false;
  Summary summary;
  std::vector<ThresholdEvent> warnings, recoveries;
  std::vector<std::string> warning_texts;
  std::vector<GstClockTime> output_pts;  // from an appsink named "out", if any
  std::map<std::string, std::vector<FrameReport>> frames_by_meter;
  std::map<std::string, std::vector<FrameReport>> frames_by_pad;  // "meter/pad" -> its frames
  std::map<std::string, Summary> summary_by_pad;                  // "meter/pad" -> its (last) summary
};

struct ObjectDeleter {
  void operator()(gpointer p) const { gst_object_unref(p); }
};
using Pipeline = std::unique_ptr<GstElement, ObjectDeleter>;

Pipeline parse(const std::string& description) {
  GError* err = nullptr;
  GstElement* p = gst_parse_launch(description.c_str(), &err);
  if (err) {
    ADD_FAILURE() << description << ": " << err->message;
    g_error_free(err);
    if (p) gst_object_unref(p);
    return nullptr;
  }
  return Pipeline(p);
}

/* One message into the run; true at EOS or ERROR. */
bool take_message(GstMessage* m, MeterRun* run) {
  switch (GST_MESSAGE_TYPE(m)) {
    case GST_MESSAGE_EOS:
      run->eos = true;
      return true;
    case GST_MESSAGE_ERROR: {
      GError* err = nullptr;
      gchar* dbg = nullptr;
      gst_message_parse_error(m, &err, &dbg);
      run->error = err ? err->message : "?";
      run->error_debug = dbg ? dbg : "";
      run->error_source = GST_MESSAGE_SRC_NAME(m);
      g_clear_error(&err);
      g_free(dbg);
      return true;
    }
    case GST_MESSAGE_WARNING: {
      GError* err = nullptr;
      gst_message_parse_warning(m, &err, nullptr);
      run->warning_texts.push_back(err ? err->message : "");
      g_clear_error(&err);
      const GstStructure* details = nullptr;
      gst_message_parse_warning_details(m, &details);
      ThresholdEvent ev;
      if (ThresholdEvent::from_structure(details, &ev)) run->warnings.push_back(ev);
      return false;
    }
    case GST_MESSAGE_ELEMENT: {
      const GstStructure* s = gst_message_get_structure(m);
      FrameReport f;
      ThresholdEvent ev;
      if (FrameReport::from_structure(s, &f)) {
        run->frames.push_back(f);
        run->frames_by_meter[GST_MESSAGE_SRC_NAME(m)].push_back(f);
        run->frames_by_pad[std::string(GST_MESSAGE_SRC_NAME(m)) + "/" + f.pad].push_back(f);
      } else if (Summary::from_structure(s, &run->summary)) {
        run->have_summary = true;
        run->summary_by_pad[std::string(GST_MESSAGE_SRC_NAME(m)) + "/" + run->summary.pad] = run->summary;
      } else if (ThresholdEvent::from_structure(s, &ev)) {
        run->recoveries.push_back(ev);
      }
      return false;
    }
    default:
      return false;
  }
}

/* The "summary" property of a meter or of one of its pads, parsed (the
 * test fails if it does not parse). */
Summary read_summary(gpointer object) {
  GstStructure* s = nullptr;
  g_object_get(object, "summary", &s, nullptr);
  Summary parsed;
  EXPECT_TRUE(Summary::from_structure(s, &parsed));
  if (s) gst_structure_free(s);
  return parsed;
}

/* Sets the pipeline PLAYING, calls `feed` (may push into appsrcs), and
 * collects the bus until EOS or ERROR (at most `timeout`). */
MeterRun run_pipeline(GstElement* pipeline, const std::function<void(GstElement*)>& feed = nullptr,
                 GstClockTime timeout = 120 * GST_SECOND) {
  MeterRun run;
  GstBus* bus = gst_element_get_bus(pipeline);
  if (gst_element_set_state(pipeline, GST_STATE_PLAYING) != GST_STATE_CHANGE_FAILURE && feed) feed(pipeline);
  const GstClockTime deadline = gst_util_get_timestamp() + timeout;
  for (;;) {
    const GstClockTime now = gst_util_get_timestamp();
    if (now >= deadline) {
      ADD_FAILURE() << "pipeline did not reach EOS in time";
      break;
    }
    GstMessage* m = gst_bus_timed_pop(bus, deadline - now);
    if (!m) continue;
    const bool done = take_message(m, &run);
    gst_message_unref(m);
    if (done) break;
  }
  if (GstElement* sink = gst_bin_get_by_name(GST_BIN(pipeline), "out")) {
    for (;;) {
      GstSample* sample = nullptr;
      g_signal_emit_by_name(sink, "try-pull-sample", static_cast<GstClockTime>(0), &sample);
      if (!sample) break;
      run.output_pts.push_back(GST_BUFFER_PTS(gst_sample_get_buffer(sample)));
      gst_sample_unref(sample);
    }
    gst_object_unref(sink);
  }
  gst_element_set_state(pipeline, GST_STATE_NULL);
  // Messages posted while going down (nothing expected, but keep them).
  while (GstMessage* m = gst_bus_pop(bus)) {
    take_message(m, &run);
    gst_message_unref(m);
  }
  gst_object_unref(bus);
  return run;
}

/* ---- synthetic frames through appsrc ----------------------------------- */

std::string caps_string(const std::string& format, int width, int height) {
  return "video/x-raw,format=" + format + ",width=" + std::to_string(width) + ",height=" + std::to_string(height) +
         ",framerate=30/1,pixel-aspect-ratio=1/1";
}

/* code(c, x, y) for every sample of every component. */
using CodeFn = std::function<unsigned(int, int, int)>;

GstBuffer* make_frame(const std::string& caps_str, const CodeFn& code, GstClockTime pts,
                      GstClockTime duration = kFrame) {
  GstCaps* caps = gst_caps_from_string(caps_str.c_str());
  GstVideoInfo info;
  EXPECT_TRUE(gst_video_info_from_caps(&info, caps)) << caps_str;
  gst_caps_unref(caps);
  GstBuffer* buf = gst_buffer_new_allocate(nullptr, GST_VIDEO_INFO_SIZE(&info), nullptr);
  GstVideoFrame f;
  EXPECT_TRUE(gst_video_frame_map(&f, &info, buf, GST_MAP_WRITE));
  for (guint c = 0; c < GST_VIDEO_FRAME_N_COMPONENTS(&f); ++c) {
    iir2d::VideoComponent comp;
    comp.data = GST_VIDEO_FRAME_COMP_DATA(&f, c);
    comp.width = GST_VIDEO_FRAME_COMP_WIDTH(&f, c);
    comp.height = GST_VIDEO_FRAME_COMP_HEIGHT(&f, c);
    comp.row_stride = GST_VIDEO_FRAME_COMP_STRIDE(&f, c);
    comp.pixel_stride = GST_VIDEO_FRAME_COMP_PSTRIDE(&f, c);
    comp.type = GST_VIDEO_FORMAT_INFO_BITS(f.info.finfo) > 8 ? iir2d::SampleType::U16 : iir2d::SampleType::U8;
    comp.depth = GST_VIDEO_FORMAT_INFO_DEPTH(f.info.finfo, c);
    comp.shift = GST_VIDEO_FORMAT_INFO_SHIFT(f.info.finfo, c);
    for (int y = 0; y < comp.height; ++y)
      for (int x = 0; x < comp.width; ++x) iir2d::ref::write_code(comp, x, y, code(c, x, y));
  }
  gst_video_frame_unmap(&f);
  GST_BUFFER_PTS(buf) = pts;
  GST_BUFFER_DURATION(buf) = duration;
  return buf;
}

struct Frame {
  CodeFn code;
  GstClockTime pts;
  bool gap = false;         // a 0-byte GAP buffer (a missing frame) instead
  bool lying_meta = false;  // a GstVideoMeta whose stride (10x the width) runs past the buffer
};

/* One appsrc into a meter pad. */
struct Input {
  std::string pad;  // "reference", "distorted", "distorted_0", ...
  std::string caps;
  std::vector<Frame> frames;
};

/* Pushes `frames` into appsrc `src`, then EOS. */
void push_frames(GstElement* src, const std::string& caps, const std::vector<Frame>& frames, bool eos = true);

/* An appsrc per input ("src-<pad>") into a qualitymeter "q" (with
 * `props`), its src into appsink "out". Pushes the frames, then EOS on
 * each. */
MeterRun run_inputs(const std::vector<Input>& inputs, const std::string& props = "", Pipeline* keep = nullptr) {
  std::string desc;
  for (const Input& in : inputs)
    desc += "appsrc name=src-" + in.pad + " format=time caps=\"" + in.caps + "\" ! q." + in.pad + " ";
  desc += "qualitymeter name=q " + props + " ! appsink name=out sync=false wait-on-eos=false";
  Pipeline owned = parse(desc);
  Pipeline& p = keep ? *keep : owned;
  if (keep) p = std::move(owned);
  if (!p) return MeterRun();
  return run_pipeline(p.get(), [&](GstElement* pipeline) {
    for (const Input& in : inputs) {
      GstElement* src = gst_bin_get_by_name(GST_BIN(pipeline), ("src-" + in.pad).c_str());
      push_frames(src, in.caps, in.frames);
      gst_object_unref(src);
    }
  });
}

/* appsrc "ref" and "dist" into a qualitymeter "q" (with `props`), its src
 * into appsink "out". Pushes the frames, then EOS on both. */
MeterRun run_meter(const std::string& ref_caps, const std::vector<Frame>& ref, const std::string& dist_caps,
                   const std::vector<Frame>& dist, const std::string& props = "", Pipeline* keep = nullptr) {
  return run_inputs({{"reference", ref_caps, ref}, {"distorted", dist_caps, dist}}, props, keep);
}

void push_frames(GstElement* src, const std::string& caps, const std::vector<Frame>& frames, bool eos) {
  for (const Frame& f : frames) {
    GstBuffer* buf = f.gap ? gst_buffer_new() : make_frame(caps, f.code, f.pts);
    if (f.gap) {
      GST_BUFFER_FLAG_SET(buf, GST_BUFFER_FLAG_GAP);
      GST_BUFFER_PTS(buf) = f.pts;
      GST_BUFFER_DURATION(buf) = kFrame;
    }
    if (f.lying_meta) {
      GstVideoInfo info;
      GstCaps* c = gst_caps_from_string(caps.c_str());
      gst_video_info_from_caps(&info, c);
      gst_caps_unref(c);
      gsize offset[GST_VIDEO_MAX_PLANES] = {0};
      gint strides[GST_VIDEO_MAX_PLANES] = {10 * GST_VIDEO_INFO_WIDTH(&info)};
      gst_buffer_add_video_meta_full(buf, GST_VIDEO_FRAME_FLAG_NONE, GST_VIDEO_INFO_FORMAT(&info),
                                     GST_VIDEO_INFO_WIDTH(&info), GST_VIDEO_INFO_HEIGHT(&info), 1, offset, strides);
    }
    GstFlowReturn ret = GST_FLOW_OK;
    g_signal_emit_by_name(src, "push-buffer", buf, &ret);
    gst_buffer_unref(buf);
  }
  if (!eos) return;
  GstFlowReturn ret = GST_FLOW_OK;
  g_signal_emit_by_name(src, "end-of-stream", &ret);
}

CodeFn constant(unsigned luma, unsigned chroma = 128) {
  return [=](int c, int, int) { return c == 0 ? luma : chroma; };
}

/* Frame k of a GRAY8 sequence: reference 16 + 10k, distorted 16 + 10k + (k + 1),
 * so PSNR identifies k: 10·log10(255² / (k + 1)²). */
unsigned ref_level(int k) { return 16 + 10 * k; }
unsigned dist_level(int k) { return ref_level(k) + k + 1; }
double psnr_of_frame(int k) { return qcases::psnr((k + 1.0) * (k + 1.0), 255); }

std::vector<Frame> sequence(int n, bool distorted, GstClockTime shift = 0, const std::vector<int>& drop = {}) {
  std::vector<Frame> frames;
  for (int k = 0; k < n; ++k) {
    if (std::find(drop.begin(), drop.end(), k) != drop.end()) continue;
    const unsigned v = distorted ? dist_level(k) : ref_level(k);
    frames.push_back(Frame{constant(v), k * kFrame + shift});
  }
  return frames;
}

const std::string kGray = caps_string("GRAY8", 64, 48);

/* The frame index k whose PSNR this report shows (-1 if none). */
int frame_index_of(const FrameReport& r) {
  for (int k = 0; k < 20; ++k)
    if (std::fabs(r.psnr[0] - psnr_of_frame(k)) < 1e-9) return k;
  return -1;
}

/* ---- the element ------------------------------------------------------- */

TEST(QualityMeterElement, PadsAndMetadata) {
  REQUIRE_ELEMENT("qualitymeter");
  GstElementFactory* f = gst_element_factory_find("qualitymeter");
  EXPECT_STREQ(gst_element_factory_get_metadata(f, GST_ELEMENT_METADATA_KLASS), "Filter/Analyzer/Video");
  int sinks = 0, srcs = 0;
  for (const GList* l = gst_element_factory_get_static_pad_templates(f); l; l = l->next) {
    auto* t = static_cast<GstStaticPadTemplate*>(l->data);
    const std::string name = t->name_template;
    // reference, distorted and src always; distorted_%u on request (issue 13).
    EXPECT_EQ(t->presence, name == "distorted_%u" ? GST_PAD_REQUEST : GST_PAD_ALWAYS) << name;
    if (t->direction == GST_PAD_SINK) {
      ++sinks;
      EXPECT_TRUE(name == "reference" || name == "distorted" || name == "distorted_%u") << name;
    } else {
      ++srcs;
      EXPECT_STREQ(t->name_template, "src");
    }
  }
  EXPECT_EQ(sinks, 3);
  EXPECT_EQ(srcs, 1);
  GstElement* e = gst_element_factory_create(f, nullptr);
  EXPECT_TRUE(GST_IS_AGGREGATOR(e));
  for (const char* pad : {"reference", "distorted", "src"}) {
    GstPad* p = gst_element_get_static_pad(e, pad);
    EXPECT_NE(p, nullptr) << pad;
    if (p) gst_object_unref(p);
  }
  gst_object_unref(e);
  gst_object_unref(f);
}

TEST(QualityMeterElement, PropertiesShowRangesAndDefaults) {
  REQUIRE_ELEMENT("qualitymeter");
  GstElement* e = gst_element_factory_make("qualitymeter", nullptr);
  GObjectClass* k = G_OBJECT_GET_CLASS(e);
  auto spec = [&](const char* name) {
    GParamSpec* s = g_object_class_find_property(k, name);
    EXPECT_NE(s, nullptr) << name;
    return s;
  };
  auto* off = G_PARAM_SPEC_INT64(spec("distorted-offset"));
  EXPECT_EQ(off->minimum, G_MININT64);
  EXPECT_EQ(off->maximum, G_MAXINT64);
  EXPECT_EQ(off->default_value, 0);
  EXPECT_TRUE(G_PARAM_SPEC_BOOLEAN(spec("post-messages"))->default_value);
  EXPECT_EQ(G_PARAM_SPEC_STRING(spec("stats-file"))->default_value, nullptr);
  GParamSpec* fmt = spec("stats-format");
  EXPECT_EQ(G_PARAM_SPEC_ENUM(fmt)->default_value, 0);
  for (const char* nick : {"auto", "csv", "json"})
    EXPECT_NE(g_enum_get_value_by_nick(G_PARAM_SPEC_ENUM(fmt)->enum_class, nick), nullptr) << nick;
  auto* psnr = G_PARAM_SPEC_DOUBLE(spec("min-psnr"));
  EXPECT_EQ(psnr->minimum, 0.0);
  EXPECT_EQ(psnr->default_value, 0.0);
  auto* ssim = G_PARAM_SPEC_DOUBLE(spec("min-ssim"));
  EXPECT_EQ(ssim->minimum, -1.0);
  EXPECT_EQ(ssim->maximum, 1.0);
  EXPECT_EQ(ssim->default_value, -1.0);
  auto* td = G_PARAM_SPEC_DOUBLE(spec("max-temporal-delta"));
  EXPECT_EQ(td->minimum, 0.0);
  EXPECT_EQ(td->maximum, 1.0);
  EXPECT_EQ(td->default_value, 1.0);
  GParamSpec* summary = spec("summary");
  EXPECT_EQ(summary->value_type, GST_TYPE_STRUCTURE);
  EXPECT_TRUE(summary->flags & G_PARAM_READABLE);
  EXPECT_FALSE(summary->flags & G_PARAM_WRITABLE);
  auto* dev = G_PARAM_SPEC_INT(spec("cuda-device-id"));
  EXPECT_EQ(dev->minimum, -1);
  EXPECT_EQ(dev->default_value, -1);
  // The summary of a meter that saw nothing.
  EXPECT_EQ(read_summary(e).frames, 0u);
  gst_object_unref(e);
}

/* ---- exact values ------------------------------------------------------ */

TEST(QualityMeterValues, ConstantOffsetI420) {
  REQUIRE_ELEMENT("qualitymeter");
  const std::string caps = caps_string("I420", 64, 48);
  MeterRun r = run_meter(caps, {{constant(100), 0}}, caps, {{constant(110), 0}});
  ASSERT_TRUE(r.eos) << r.error;
  ASSERT_EQ(r.frames.size(), 1u);
  const FrameReport& f = r.frames[0];
  EXPECT_EQ(f.components, 3);
  EXPECT_NEAR(f.psnr[0], qcases::psnr(100, 255), 1e-12);
  EXPECT_EQ(f.psnr[1], kInf);
  EXPECT_EQ(f.psnr[2], kInf);
  // Y is 2/3 of the samples: MSE 100 · 2/3.
  EXPECT_NEAR(f.psnr_avg, qcases::psnr(100.0 * 2 / 3, 255), 1e-12);
  const double ssim_y = qcases::ssim_constant(100, 110, qcases::kC1_8);
  EXPECT_NEAR(f.ssim[0], ssim_y, 1e-15);
  EXPECT_EQ(f.ssim[1], 1.0);
  EXPECT_EQ(f.ssim[2], 1.0);
  EXPECT_NEAR(f.ssim_all, ssim_y * 2 / 3 + 1.0 / 3, 1e-15);
  EXPECT_EQ(f.temporal_delta, 0.0);
  EXPECT_EQ(f.frame, 0u);
  EXPECT_EQ(f.pts, 0u);
}

TEST(QualityMeterValues, IdenticalFramesGiveInfinityAndOne) {
  REQUIRE_ELEMENT("qualitymeter");
  const std::string caps = caps_string("NV12", 64, 48);
  CodeFn texture = [](int c, int x, int y) { return static_cast<unsigned>((x * 7 + y * 13 + c * 50) & 0xff); };
  MeterRun r = run_meter(caps, {{texture, 0}, {texture, kFrame}}, caps, {{texture, 0}, {texture, kFrame}});
  ASSERT_TRUE(r.eos) << r.error;
  ASSERT_EQ(r.frames.size(), 2u);
  for (const FrameReport& f : r.frames) {
    for (int c = 0; c < 3; ++c) {
      EXPECT_EQ(f.psnr[c], kInf) << c;
      EXPECT_EQ(f.ssim[c], 1.0) << c;
    }
    EXPECT_EQ(f.psnr_avg, kInf);
    EXPECT_EQ(f.ssim_all, 1.0);
    EXPECT_EQ(f.temporal_delta, 0.0);
  }
}

TEST(QualityMeterValues, OneWrongPixelGray) {
  REQUIRE_ELEMENT("qualitymeter");
  CodeFn wrong = [](int, int x, int y) { return x == 20 && y == 20 ? 150u : 100u; };
  MeterRun r = run_meter(kGray, {{constant(100), 0}}, kGray, {{wrong, 0}});
  ASSERT_TRUE(r.eos) << r.error;
  ASSERT_EQ(r.frames.size(), 1u);
  const FrameReport& f = r.frames[0];
  EXPECT_EQ(f.components, 1);
  EXPECT_NEAR(f.psnr[0], qcases::psnr(2500.0 / 3072, 255), 1e-12);
  EXPECT_NEAR(f.psnr_avg, f.psnr[0], 1e-12);
  const double expected = (161 + 4 * qcases::ssim_one_wrong(100, 50, qcases::kC1_8, qcases::kC2_8)) / 165;
  EXPECT_NEAR(f.ssim[0], expected, 1e-15);
  EXPECT_NEAR(f.ssim_all, expected, 1e-15);
  EXPECT_TRUE(std::isnan(f.psnr[1])) << "a gray frame has no chroma";
}

TEST(QualityMeterValues, OddSizePartialBlocksAreLeftOutOfSsim) {
  REQUIRE_ELEMENT("qualitymeter");
  // Y444 13×9: every plane has 3×2 complete blocks (2×1 windows); row 8 and
  // column 12 are in none.
  const std::string caps = caps_string("Y444", 13, 9);
  CodeFn outside = [](int c, int x, int y) { return c == 0 && x == 12 && y == 8 ? 90u : 60u; };
  CodeFn inside = [](int c, int x, int y) { return c == 0 && x == 11 && y == 7 ? 90u : 60u; };
  MeterRun r = run_meter(caps, {{constant(60, 60), 0}, {constant(60, 60), kFrame}}, caps,
                    {{outside, 0}, {inside, kFrame}});
  ASSERT_TRUE(r.eos) << r.error;
  ASSERT_EQ(r.frames.size(), 2u);
  EXPECT_EQ(r.frames[0].ssim[0], 1.0);
  EXPECT_EQ(r.frames[0].ssim_all, 1.0);
  EXPECT_NEAR(r.frames[0].psnr[0], qcases::psnr(900.0 / 117, 255), 1e-12);
  EXPECT_NEAR(r.frames[0].psnr_avg, qcases::psnr(900.0 / 117 / 3, 255), 1e-12);
  const double w = qcases::ssim_one_wrong(60, 30, qcases::kC1_8, qcases::kC2_8);
  EXPECT_NEAR(r.frames[1].ssim[0], (1 + w) / 2, 1e-15);
  EXPECT_NEAR(r.frames[1].ssim_all, ((1 + w) / 2 + 2) / 3, 1e-15);
}

TEST(QualityMeterValues, TenBitPeakIs1023) {
  REQUIRE_ELEMENT("qualitymeter");
  const std::string caps = caps_string("I420_10LE", 64, 48);
  MeterRun r = run_meter(caps, {{constant(700, 512), 0}}, caps, {{constant(690, 512), 0}});
  ASSERT_TRUE(r.eos) << r.error;
  ASSERT_EQ(r.frames.size(), 1u);
  EXPECT_NEAR(r.frames[0].psnr[0], qcases::psnr(100, 1023), 1e-12);
  EXPECT_NEAR(r.frames[0].ssim[0], qcases::ssim_constant(700, 690, qcases::kC1_10), 1e-14);
}

TEST(QualityMeterValues, TemporalDelta) {
  REQUIRE_ELEMENT("qualitymeter");
  // Reference steps by 10 codes a frame, distorted by 11: |11/255 − 10/255| from frame 1.
  MeterRun r = run_meter(kGray, sequence(5, false), kGray, sequence(5, true));
  ASSERT_TRUE(r.eos) << r.error;
  ASSERT_EQ(r.frames.size(), 5u);
  EXPECT_EQ(r.frames[0].temporal_delta, 0.0);
  for (int k = 1; k < 5; ++k) EXPECT_NEAR(r.frames[k].temporal_delta, 1.0 / 255, 1e-15) << k;
}

TEST(QualityMeterValues, RgbPlanesAreNamedRgbAndGStandsInForLuma) {
  REQUIRE_ELEMENT("qualitymeter");
  // RGBA 64×48: R off by 10 in the first frame; the distorted G moves by 10
  // codes in the second while the reference stands still.
  const std::string caps = caps_string("RGBA", 64, 48);
  auto rgba = [](unsigned r, unsigned g) -> CodeFn {
    return [=](int c, int, int) { return c == 0 ? r : c == 1 ? g : c == 2 ? 100u : 255u; };
  };
  MeterRun r = run_meter(caps, {{rgba(100, 100), 0}, {rgba(100, 100), kFrame}}, caps,
                         {{rgba(110, 100), 0}, {rgba(100, 110), kFrame}});
  ASSERT_TRUE(r.eos) << r.error;
  ASSERT_EQ(r.frames.size(), 2u);
  const FrameReport& f = r.frames[0];
  EXPECT_TRUE(f.rgb);
  EXPECT_EQ(f.components, 4);
  EXPECT_NEAR(f.psnr[0], qcases::psnr(100, 255), 1e-12);
  EXPECT_EQ(f.psnr[1], kInf);
  EXPECT_EQ(f.psnr[3], kInf) << "alpha";
  EXPECT_NEAR(f.psnr_avg, qcases::psnr(25, 255), 1e-12) << "four equal planes, alpha included (ffmpeg psnr)";
  const double ssim_r = qcases::ssim_constant(100, 110, qcases::kC1_8);
  EXPECT_NEAR(f.ssim[0], ssim_r, 1e-15);
  EXPECT_NEAR(f.ssim_all, (ssim_r + 3) / 4, 1e-15);
  EXPECT_NEAR(r.frames[1].temporal_delta, 10.0 / 255, 1e-15);
  ASSERT_TRUE(r.have_summary);
  EXPECT_NE(r.summary.find("psnr-r"), nullptr);
  EXPECT_NE(r.summary.find("ssim-b"), nullptr);
  EXPECT_EQ(r.summary.find("psnr-y"), nullptr);
}

/* Every format of the template: identical frames give inf and 1, and one
 * code of difference on the first component gives 10·log10(peak²). */
class QualityMeterFormats : public ::testing::TestWithParam<const char*> {};

TEST_P(QualityMeterFormats, IdenticalAndOneCodeApart) {
  REQUIRE_ELEMENT("qualitymeter");
  const std::string caps = caps_string(GetParam(), 64, 48);
  GstCaps* c = gst_caps_from_string(caps.c_str());
  GstVideoInfo info;
  ASSERT_TRUE(gst_video_info_from_caps(&info, c));
  gst_caps_unref(c);
  const double peak = std::ldexp(1.0, GST_VIDEO_INFO_COMP_DEPTH(&info, 0)) - 1;
  CodeFn texture = [&](int comp, int x, int y) {
    const unsigned max = (1u << GST_VIDEO_INFO_COMP_DEPTH(&info, comp)) - 1;
    return static_cast<unsigned>(x * 37 + y * 11 + comp * 50 + 1) % max;
  };
  CodeFn plus_one = [&](int comp, int x, int y) { return texture(comp, x, y) + (comp == 0 ? 1 : 0); };
  MeterRun r = run_meter(caps, {{texture, 0}, {texture, kFrame}}, caps, {{texture, 0}, {plus_one, kFrame}});
  ASSERT_TRUE(r.eos) << r.error << " " << r.error_debug;
  ASSERT_EQ(r.frames.size(), 2u);
  EXPECT_EQ(r.frames[0].components, static_cast<int>(GST_VIDEO_INFO_N_COMPONENTS(&info)));
  EXPECT_EQ(r.frames[0].rgb, GST_VIDEO_INFO_IS_RGB(&info));
  EXPECT_EQ(r.frames[0].psnr_avg, kInf);
  EXPECT_EQ(r.frames[0].ssim_all, 1.0);
  EXPECT_NEAR(r.frames[1].psnr[0], qcases::psnr(1, peak), 1e-9);
  EXPECT_LT(r.frames[1].ssim[0], 1.0);
}

INSTANTIATE_TEST_SUITE_P(All, QualityMeterFormats,
                         ::testing::Values("GRAY8", "GRAY16_LE", "NV12", "NV21", "I420", "YV12", "Y42B", "Y444",
                                           "A420", "I420_10LE", "I422_10LE", "Y444_10LE", "P010_10LE", "P016_LE",
                                           "Y444_16LE", "RGBA", "BGRA", "RGBx", "BGRx", "ARGB", "ABGR", "RGB", "BGR",
                                           "RGBP", "BGRP", "GBR", "GBRA", "I420_12LE", "I422_12LE", "Y444_12LE",
                                           "P012_LE", "GBR_10LE", "GBR_12LE"),
                         [](const auto& i) { return std::string(i.param); });

TEST(QualityMeterFormatsList, TemplateHasEveryFormatIir2dfilterAccepts) {
  REQUIRE_ELEMENT("qualitymeter");
  REQUIRE_ELEMENT("iir2dfilter");
  auto sink_caps = [](const char* element, const char* pad) {
    GstElement* e = gst_element_factory_make(element, nullptr);
    GstPad* p = gst_element_get_static_pad(e, pad);
    GstCaps* caps = gst_pad_get_pad_template_caps(p);
    gst_object_unref(p);
    gst_object_unref(e);
    return caps;
  };
  GstCaps* filter = sink_caps("iir2dfilter", "sink");
  GstCaps* meter = sink_caps("qualitymeter", "distorted");
  /* Formats only: iir2dfilter also takes interlace-mode=alternate (the
   * format:Interlaced structure, issue 11), which the meter does not pair. */
  filter = gst_caps_make_writable(filter);
  for (guint i = gst_caps_get_size(filter); i-- > 0;)
    if (gst_caps_features_contains(gst_caps_get_features(filter, i), "format:Interlaced")) gst_caps_remove_structure(filter, i);
  EXPECT_TRUE(gst_caps_is_subset(filter, meter)) << "iir2dfilter accepts what qualitymeter does not";
  gst_caps_unref(filter);
  gst_caps_unref(meter);
}

/* ---- pairing ----------------------------------------------------------- */

TEST(QualityMeterPairing, DistortedOffsetRealignsShiftedTimestamps) {
  REQUIRE_ELEMENT("qualitymeter");
  const GstClockTime late = 3 * kFrame;  // the distorted stream's timestamps are 100 ms late
  MeterRun r = run_meter(kGray, sequence(10, false), kGray, sequence(10, true, late),
                    "distorted-offset=" + std::to_string(-static_cast<gint64>(late)));
  ASSERT_TRUE(r.eos) << r.error;
  ASSERT_TRUE(r.have_summary);
  EXPECT_EQ(r.summary.frames, 10u);
  EXPECT_EQ(r.summary.unpaired_reference, 0u);
  EXPECT_EQ(r.summary.unpaired_distorted, 0u);
  ASSERT_EQ(r.frames.size(), 10u);
  for (int k = 0; k < 10; ++k) {
    EXPECT_EQ(frame_index_of(r.frames[k]), k) << "frame " << k << " paired with the wrong reference";
    EXPECT_EQ(r.frames[k].pts, k * kFrame + late) << "reports carry the distorted PTS";
  }
  // The output keeps the distorted timestamps.
  ASSERT_EQ(r.output_pts.size(), 10u);
  for (int k = 0; k < 10; ++k) EXPECT_EQ(r.output_pts[k], k * kFrame + late);

  // Without the offset three frames on each side find no partner, and the
  // other pairs are the wrong frames (which is what the offset is for).
  MeterRun wrong = run_meter(kGray, sequence(10, false), kGray, sequence(10, true, late));
  ASSERT_TRUE(wrong.eos) << wrong.error;
  EXPECT_EQ(wrong.summary.frames, 7u);
  EXPECT_EQ(wrong.summary.unpaired_reference, 3u);
  EXPECT_EQ(wrong.summary.unpaired_distorted, 3u);
  for (const FrameReport& f : wrong.frames) EXPECT_EQ(frame_index_of(f), -1);
}

TEST(QualityMeterPairing, DroppedDistortedFramesAreCountedNotRepeated) {
  REQUIRE_ELEMENT("qualitymeter");
  MeterRun r = run_meter(kGray, sequence(10, false), kGray, sequence(10, true, 0, {3, 7}));
  ASSERT_TRUE(r.eos) << r.error;
  EXPECT_EQ(r.summary.frames, 8u);
  EXPECT_EQ(r.summary.unpaired_reference, 2u);
  EXPECT_EQ(r.summary.unpaired_distorted, 0u);
  std::vector<int> seen;
  for (const FrameReport& f : r.frames) {
    seen.push_back(frame_index_of(f));
    EXPECT_EQ(f.pts, seen.back() * kFrame);
  }
  EXPECT_EQ(seen, (std::vector<int>{0, 1, 2, 4, 5, 6, 8, 9}));
  EXPECT_EQ(r.output_pts.size(), 8u) << "every distorted frame passes, none is invented";
}

/* A 0-byte GAP buffer on the distorted pad is a missing frame: it is not
 * measured, its reference frame is unpaired, and it passes through to src
 * like every distorted buffer (issue 10, F9: it used to be dropped). A GAP
 * on the reference pad is dropped without counting. */
TEST(QualityMeterPairing, GapBuffersPassThroughUnmeasured) {
  REQUIRE_ELEMENT("qualitymeter");
  std::vector<Frame> dist = sequence(4, true);
  dist[1].gap = true;
  std::vector<Frame> ref = sequence(4, false);
  ref[3].gap = true;
  MeterRun r = run_meter(kGray, ref, kGray, dist);
  ASSERT_TRUE(r.eos) << r.error;
  EXPECT_EQ(r.summary.frames, 2u);             // frames 0 and 2
  EXPECT_EQ(r.summary.unpaired_reference, 1u);  // frame 1, whose distorted frame is missing
  EXPECT_EQ(r.summary.unpaired_distorted, 1u);  // frame 3, whose reference is missing
  EXPECT_EQ(r.output_pts, (std::vector<GstClockTime>{0, kFrame, 2 * kFrame, 3 * kFrame}));
}

/* A distorted buffer whose GstVideoMeta declares more than it holds is an
 * error naming the buffer, never a read past it (issue 10, F4). */
TEST(QualityMeterBadInput, VideoMetaBeyondTheBufferIsAnError) {
  REQUIRE_ELEMENT("qualitymeter");
  std::vector<Frame> dist = sequence(3, true);
  dist[1].lying_meta = true;
  MeterRun r = run_meter(kGray, sequence(3, false), kGray, dist);
  EXPECT_FALSE(r.eos);
  EXPECT_NE(r.error_debug.find("the distorted buffer does not hold its frame: plane 0 needs"), std::string::npos)
      << r.error << " / " << r.error_debug;
  EXPECT_EQ(r.summary.frames, 0u);  // no summary: the stream stopped at frame 1
}

TEST(QualityMeterPairing, DroppedReferenceFramesStillPassTheDistortedThrough) {
  REQUIRE_ELEMENT("qualitymeter");
  MeterRun r = run_meter(kGray, sequence(10, false, 0, {0, 5}), kGray, sequence(10, true));
  ASSERT_TRUE(r.eos) << r.error;
  EXPECT_EQ(r.summary.frames, 8u);
  EXPECT_EQ(r.summary.unpaired_reference, 0u);
  EXPECT_EQ(r.summary.unpaired_distorted, 2u);
  for (const FrameReport& f : r.frames) EXPECT_NE(frame_index_of(f), -1);
  ASSERT_EQ(r.output_pts.size(), 10u);
  for (int k = 0; k < 10; ++k) EXPECT_EQ(r.output_pts[k], k * kFrame);
}

TEST(QualityMeterPairing, OnePadAtEosEarly) {
  REQUIRE_ELEMENT("qualitymeter");
  // The distorted stream ends after 6 frames: 4 reference frames unpaired.
  MeterRun a = run_meter(kGray, sequence(10, false), kGray, sequence(6, true));
  ASSERT_TRUE(a.eos) << a.error;
  ASSERT_TRUE(a.have_summary);
  EXPECT_EQ(a.summary.frames, 6u);
  EXPECT_EQ(a.summary.unpaired_reference, 4u);
  EXPECT_EQ(a.summary.unpaired_distorted, 0u);
  EXPECT_EQ(a.output_pts.size(), 6u);
  // The reference ends first: the rest of the distorted stream passes, unmeasured.
  MeterRun b = run_meter(kGray, sequence(6, false), kGray, sequence(10, true));
  ASSERT_TRUE(b.eos) << b.error;
  EXPECT_EQ(b.summary.frames, 6u);
  EXPECT_EQ(b.summary.unpaired_reference, 0u);
  EXPECT_EQ(b.summary.unpaired_distorted, 4u);
  EXPECT_EQ(b.output_pts.size(), 10u);
  // A reference with no frame at all.
  MeterRun c = run_meter(kGray, {}, kGray, sequence(3, true));
  ASSERT_TRUE(c.eos) << c.error;
  EXPECT_EQ(c.summary.frames, 0u);
  EXPECT_EQ(c.summary.unpaired_distorted, 3u);
}

/* ---- bad input --------------------------------------------------------- */

TEST(QualityMeterBadInput, MismatchedFormatFailsNamingBothSides) {
  REQUIRE_ELEMENT("qualitymeter");
  MeterRun r = run_meter(caps_string("I420", 64, 48), {{constant(10), 0}}, caps_string("NV12", 64, 48),
                    {{constant(10), 0}});
  EXPECT_FALSE(r.eos);
  EXPECT_EQ(r.error_source, "q");
  EXPECT_NE(r.error.find("reference is I420 64x48 in system memory"), std::string::npos) << r.error;
  EXPECT_NE(r.error.find("distorted is NV12 64x48 in system memory"), std::string::npos) << r.error;
  EXPECT_TRUE(r.frames.empty());
}

TEST(QualityMeterBadInput, MismatchedSizeFailsNamingBothSides) {
  REQUIRE_ELEMENT("qualitymeter");
  MeterRun r = run_meter(caps_string("I420", 64, 48), {{constant(10), 0}}, caps_string("I420", 64, 50),
                    {{constant(10), 0}});
  EXPECT_FALSE(r.eos);
  EXPECT_NE(r.error.find("reference is I420 64x48"), std::string::npos) << r.error;
  EXPECT_NE(r.error.find("distorted is I420 64x50"), std::string::npos) << r.error;
}

/* A stats file that cannot be written fails when the element starts, with
 * the path and the reason: a missing directory, and a full disk (/dev/full:
 * the header does not fit; issue 10, F3, where the run used to exit 0). */
TEST(QualityMeterBadInput, StatsFileThatCannotBeWrittenFailsAtStart) {
  REQUIRE_ELEMENT("qualitymeter");
  const std::pair<const char*, std::string> cases[] = {{"/nonexistent-qualitymeter-dir/stats.csv", std::strerror(ENOENT)},
                                                       {"/dev/full", std::strerror(ENOSPC)}};
  for (const auto& [path, reason] : cases) {
    SCOPED_TRACE(path);
    Pipeline p = parse(std::string("videotestsrc num-buffers=3 ! video/x-raw,format=GRAY8,width=32,height=32 ! tee name=t "
                                   "t. ! queue ! q.reference t. ! queue ! q.distorted qualitymeter name=q stats-file=") +
                       path + " ! fakesink");
    ASSERT_TRUE(p);
    EXPECT_EQ(gst_element_set_state(p.get(), GST_STATE_PAUSED), GST_STATE_CHANGE_FAILURE);
    GstBus* bus = gst_element_get_bus(p.get());
    GstMessage* m = gst_bus_timed_pop_filtered(bus, 5 * GST_SECOND, GST_MESSAGE_ERROR);
    ASSERT_NE(m, nullptr) << "an error must be posted when the element starts";
    GError* err = nullptr;
    gst_message_parse_error(m, &err, nullptr);
    EXPECT_STREQ(GST_MESSAGE_SRC_NAME(m), "q");
    EXPECT_TRUE(g_error_matches(err, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_OPEN_WRITE));
    EXPECT_NE(std::string(err->message).find(path), std::string::npos) << err->message;
    EXPECT_NE(std::string(err->message).find(reason), std::string::npos) << err->message;
    g_error_free(err);
    gst_message_unref(m);
    gst_object_unref(bus);
    gst_element_set_state(p.get(), GST_STATE_NULL);
  }
}

/* ---- outputs ----------------------------------------------------------- */

struct TempDir {
  std::string path;
  TempDir() {
    gchar* p = g_dir_make_tmp("qualitymeter-test-XXXXXX", nullptr);
    path = p ? p : "/tmp";
    g_free(p);
  }
  ~TempDir() {
    if (std::getenv("QUALITYMETER_KEEP_FILES")) return;
    if (GDir* d = g_dir_open(path.c_str(), 0, nullptr)) {
      while (const gchar* n = g_dir_read_name(d)) g_remove((path + "/" + n).c_str());
      g_dir_close(d);
    }
    g_rmdir(path.c_str());
  }
  std::string file(const std::string& name) const { return path + "/" + name; }
};

std::vector<std::string> read_lines(const std::string& path) {
  std::vector<std::string> lines;
  std::ifstream in(path);
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  return lines;
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  for (std::string f; std::getline(ss, f, sep);) out.push_back(f);
  if (!s.empty() && s.back() == sep) out.push_back("");
  return out;
}

std::string run_command(const std::string& cmd, int* status);

TEST(QualityMeterOutputs, StatsFileCsv) {
  REQUIRE_ELEMENT("qualitymeter");
  TempDir dir;
  const std::string caps = caps_string("I420", 64, 48);
  MeterRun r = run_meter(caps, {{constant(100), 0}, {constant(100), kFrame}}, caps, {{constant(110), 0}, {constant(100), kFrame}},
                    "stats-file=" + dir.file("stats.csv"));
  ASSERT_TRUE(r.eos) << r.error;
  const auto lines = read_lines(dir.file("stats.csv"));
  ASSERT_EQ(lines.size(), 3u);
  // The first line is the header row (issue 12: it was a "# qualitymeter-stats" comment line).
  EXPECT_EQ(lines[0], "pad,frame,pts,running-time,psnr-y,psnr-u,psnr-v,psnr-r,psnr-g,psnr-b,psnr-a,psnr-avg,"
                      "ssim-y,ssim-u,ssim-v,ssim-r,ssim-g,ssim-b,ssim-a,ssim-all,temporal-delta,stats-version");
  const auto header = split(lines[0], ',');
  auto col = [&](const std::vector<std::string>& row, const char* name) {
    const auto it = std::find(header.begin(), header.end(), name);
    EXPECT_NE(it, header.end()) << name;
    return it == header.end() ? std::string() : row.at(it - header.begin());
  };
  const auto row0 = split(lines[1], ','), row1 = split(lines[2], ',');
  ASSERT_EQ(row0.size(), header.size());
  EXPECT_EQ(col(row0, "pad"), "distorted");
  EXPECT_EQ(col(row0, "frame"), "0");
  EXPECT_EQ(col(row1, "pts"), std::to_string(kFrame));
  EXPECT_NEAR(std::stod(col(row0, "psnr-y")), qcases::psnr(100, 255), 1e-9);
  EXPECT_EQ(col(row0, "psnr-u"), "inf");  // identical chroma
  EXPECT_EQ(col(row0, "psnr-r"), "");     // not an RGB format
  EXPECT_EQ(col(row1, "psnr-avg"), "inf");  // identical frame
  EXPECT_EQ(col(row1, "ssim-all"), "1");
  EXPECT_EQ(col(row1, "stats-version"), "2");
  EXPECT_NEAR(std::stod(col(row1, "temporal-delta")), 10.0 / 255, 1e-9)
      << "the distorted luma moved by 10 codes, the reference not";

  // Python's csv.DictReader reads it with no options (issue 12 §4).
  int status = 0;
  const std::string out = run_command(
      "python3 -c \"import csv,sys; rows=list(csv.DictReader(open(sys.argv[1]))); "
      "print(len(rows), rows[0]['pad'], rows[1]['frame'], rows[1]['stats-version'])\" " + dir.file("stats.csv"),
      &status);
  EXPECT_EQ(status, 0) << out;
  EXPECT_EQ(out, "2 distorted 1 2\n");
}

TEST(QualityMeterOutputs, StatsFileJsonLinesAndGrayColumns) {
  REQUIRE_ELEMENT("qualitymeter");
  TempDir dir;
  MeterRun r = run_meter(kGray, sequence(2, false), kGray, sequence(2, true), "stats-file=" + dir.file("stats.jsonl"));
  ASSERT_TRUE(r.eos) << r.error;
  auto lines = read_lines(dir.file("stats.jsonl"));
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0], "{\"format\":\"qualitymeter-stats\",\"version\":2,\"encoding\":\"jsonl\"}");
  EXPECT_EQ(lines[1].rfind("{\"pad\":\"distorted\",\"frame\":0,\"pts\":0,\"running-time\":0,\"psnr-y\":", 0), 0u)
      << lines[1];
  EXPECT_NE(lines[1].find("\"psnr-u\":null,\"psnr-v\":null"), std::string::npos) << lines[1];
  EXPECT_NE(lines[2].find("\"temporal-delta\":"), std::string::npos);

  // stats-format wins over the extension.
  r = run_meter(kGray, sequence(1, false), kGray, sequence(1, false),
                "stats-format=json stats-file=" + dir.file("stats.csv"));
  ASSERT_TRUE(r.eos) << r.error;
  lines = read_lines(dir.file("stats.csv"));
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_NE(lines[1].find("\"psnr-y\":\"inf\""), std::string::npos) << lines[1];
}

TEST(QualityMeterOutputs, StatsFileIsFlushedAsItGoes) {
  REQUIRE_ELEMENT("qualitymeter");
  TempDir dir;
  Pipeline p = parse("appsrc name=ref format=time caps=\"" + kGray + "\" ! q.reference appsrc name=dist format=time "
                     "caps=\"" + kGray + "\" ! q.distorted qualitymeter name=q stats-file=" + dir.file("s.csv") +
                     " ! fakesink");
  ASSERT_TRUE(p);
  ASSERT_NE(gst_element_set_state(p.get(), GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE);
  GstElement* ref = gst_bin_get_by_name(GST_BIN(p.get()), "ref");
  GstElement* dist = gst_bin_get_by_name(GST_BIN(p.get()), "dist");
  for (int k = 0; k < 3; ++k)
    for (GstElement* src : {ref, dist}) {
      GstBuffer* b = make_frame(kGray, constant(src == ref ? ref_level(k) : dist_level(k)), k * kFrame);
      GstFlowReturn ret;
      g_signal_emit_by_name(src, "push-buffer", b, &ret);
      gst_buffer_unref(b);
    }
  // Wait for the three per-frame messages; no EOS yet.
  GstBus* bus = gst_element_get_bus(p.get());
  int seen = 0;
  while (seen < 3) {
    GstMessage* m = gst_bus_timed_pop_filtered(bus, 10 * GST_SECOND, GstMessageType(GST_MESSAGE_ELEMENT | GST_MESSAGE_ERROR));
    ASSERT_NE(m, nullptr);
    ASSERT_NE(GST_MESSAGE_TYPE(m), GST_MESSAGE_ERROR);
    if (gst_message_has_name(m, "qualitymeter")) ++seen;
    gst_message_unref(m);
  }
  EXPECT_EQ(read_lines(dir.file("s.csv")).size(), 4u) << "header, three rows before EOS";
  gst_object_unref(bus);
  gst_object_unref(ref);
  gst_object_unref(dist);
  gst_element_set_state(p.get(), GST_STATE_NULL);
}

TEST(QualityMeterOutputs, ThresholdsPostOneMessagePerEdge) {
  REQUIRE_ELEMENT("qualitymeter");
  // Distorted luma offsets 1, 10, 10, 1, 10, 1: PSNR 48.1, 28.1, 28.1, 48.1, 28.1, 48.1 dB.
  const int offsets[] = {1, 10, 10, 1, 10, 1};
  std::vector<Frame> ref, dist;
  for (int k = 0; k < 6; ++k) {
    ref.push_back({constant(100), k * kFrame});
    dist.push_back({constant(100 + offsets[k]), k * kFrame});
  }
  MeterRun r = run_meter(kGray, ref, kGray, dist, "min-psnr=40");
  ASSERT_TRUE(r.eos) << r.error;
  ASSERT_EQ(r.warnings.size(), 2u);
  ASSERT_EQ(r.recoveries.size(), 2u);
  EXPECT_EQ(r.warnings[0].metric, "psnr-avg");
  EXPECT_EQ(r.warnings[0].frame, 1u);
  EXPECT_EQ(r.warnings[1].frame, 4u);
  EXPECT_EQ(r.warnings[0].threshold, 40.0);
  EXPECT_NEAR(r.warnings[0].value, qcases::psnr(100, 255), 1e-9);
  EXPECT_EQ(r.recoveries[0].frame, 3u);
  EXPECT_EQ(r.recoveries[1].frame, 5u);
  EXPECT_TRUE(r.recoveries[0].recovered);
  EXPECT_NE(r.warning_texts[0].find("psnr-avg"), std::string::npos) << r.warning_texts[0];
  EXPECT_NE(r.warning_texts[0].find("frame 1"), std::string::npos) << r.warning_texts[0];

  // SSIM and temporal thresholds, on the same frames.
  r = run_meter(kGray, ref, kGray, dist, "min-ssim=0.9999 max-temporal-delta=0.01");
  ASSERT_TRUE(r.eos) << r.error;
  int ssim_warnings = 0, temporal_warnings = 0;
  for (const ThresholdEvent& e : r.warnings) (e.metric == "ssim-all" ? ssim_warnings : temporal_warnings)++;
  EXPECT_EQ(ssim_warnings, 2);
  // Δdist alternates between 9 and 0 codes against a still reference: 9/255 > 0.01 at frames 1, 3, 4, 5.
  EXPECT_EQ(temporal_warnings, 2) << "frames 1 and 3 (frame 2 recovers, 4 and 5 stay above)";
}

TEST(QualityMeterOutputs, SummaryMessageAndProperty) {
  REQUIRE_ELEMENT("qualitymeter");
  // PSNR-Y of offsets 1, 2, 4, 8: 20·log10(255/d).
  const int offsets[] = {1, 2, 4, 8};
  std::vector<Frame> ref, dist;
  for (int k = 0; k < 4; ++k) {
    ref.push_back({constant(100), k * kFrame});
    dist.push_back({constant(100 + offsets[k]), k * kFrame});
  }
  Pipeline p;
  MeterRun r = run_meter(kGray, ref, kGray, dist, "post-messages=false", &p);
  ASSERT_TRUE(p);
  ASSERT_TRUE(r.eos) << r.error;
  EXPECT_TRUE(r.frames.empty()) << "post-messages=false";
  ASSERT_TRUE(r.have_summary);
  const MetricSummary* m = r.summary.find("psnr-y");
  ASSERT_NE(m, nullptr);
  double v[4], sum = 0, inv = 0;
  for (int k = 0; k < 4; ++k) {
    v[k] = qcases::psnr(offsets[k] * offsets[k], 255);
    sum += v[k];
    inv += 1 / v[k];
  }
  EXPECT_EQ(m->count, 4u);
  EXPECT_NEAR(m->min, v[3], 1e-12);
  EXPECT_NEAR(m->max, v[0], 1e-12);
  // Percentiles from 0.01 dB bins: within half a bin of the nearest rank, clamped to [min, max].
  EXPECT_NEAR(m->p50, v[2], 0.005) << "nearest rank: the 2nd smallest of 4";
  EXPECT_NEAR(m->p95, v[0], 0.005) << "nearest rank: the 4th smallest of 4";
  EXPECT_NEAR(m->mean, sum / 4, 1e-12);
  EXPECT_NEAR(m->harmonic_mean, 4 / inv, 1e-12);
  for (const char* metric : {"psnr-avg", "ssim-y", "ssim-all", "temporal-delta"})
    EXPECT_NE(r.summary.find(metric), nullptr) << metric;
  EXPECT_EQ(r.summary.find("temporal-delta")->harmonic_mean, 0.0) << "a zero value makes it 0";

  // The summary property says the same after the run.
  GstElement* q = gst_bin_get_by_name(GST_BIN(p.get()), "q");
  GstStructure* s = nullptr;
  g_object_get(q, "summary", &s, nullptr);
  Summary prop;
  ASSERT_TRUE(Summary::from_structure(s, &prop));
  EXPECT_EQ(prop.frames, 4u);
  ASSERT_NE(prop.find("psnr-y"), nullptr);
  EXPECT_EQ(prop.find("psnr-y")->p50, m->p50);
  EXPECT_EQ(prop.metrics.size(), r.summary.metrics.size());
  gst_structure_free(s);
  gst_object_unref(q);
}

/* ---- hardening (issue 10 F1, F6; issue 12 §4) ---------------------------- */

/* Pops bus messages until one of `types` (or ERROR) comes, at most
 * `timeout`; the caller owns it (null on timeout). */
GstMessage* wait_message(GstElement* pipeline, GstMessageType types, GstClockTime timeout = 20 * GST_SECOND) {
  GstBus* bus = gst_element_get_bus(pipeline);
  GstMessage* m = gst_bus_timed_pop_filtered(bus, timeout, GstMessageType(types | GST_MESSAGE_ERROR));
  gst_object_unref(bus);
  return m;
}

std::string message_text(GstMessage* m) {
  GError* err = nullptr;
  if (GST_MESSAGE_TYPE(m) == GST_MESSAGE_ERROR) gst_message_parse_error(m, &err, nullptr);
  if (GST_MESSAGE_TYPE(m) == GST_MESSAGE_WARNING) gst_message_parse_warning(m, &err, nullptr);
  std::string text = err ? err->message : "";
  g_clear_error(&err);
  return text;
}

/* A caps change of the one stream that feeds both pads through a tee: the
 * new CAPS event reaches the two pads at different times, and each frame
 * pair still has one format (issue 10, F1: "The reference and distorted
 * inputs must have the same format and size", every time). */
TEST(QualityMeterHardening, CapsChangeOfBothInputsBeforeATee) {
  REQUIRE_ELEMENT("qualitymeter");
  const std::string big = caps_string("I420", 64, 48), small = caps_string("I420", 32, 24);
  Pipeline p = parse("appsrc name=src format=time caps=\"" + big + "\" ! tee name=t t. ! queue ! q.reference "
                     "t. ! queue ! q.distorted qualitymeter name=q ! appsink name=out sync=false wait-on-eos=false");
  ASSERT_TRUE(p);
  MeterRun r = run_pipeline(p.get(), [&](GstElement* pipeline) {
    GstElement* src = gst_bin_get_by_name(GST_BIN(pipeline), "src");
    std::vector<Frame> first, second, third;
    for (int k = 0; k < 4; ++k) first.push_back({constant(50 + k), k * kFrame});
    for (int k = 4; k < 8; ++k) second.push_back({constant(50 + k), k * kFrame});
    for (int k = 8; k < 10; ++k) third.push_back({constant(50 + k), k * kFrame});
    auto set_caps = [&](const std::string& c) {
      GstCaps* caps = gst_caps_from_string(c.c_str());
      g_object_set(src, "caps", caps, nullptr);
      gst_caps_unref(caps);
    };
    push_frames(src, big, first, false);
    set_caps(small);
    push_frames(src, small, second, false);
    set_caps(big);
    push_frames(src, big, third, true);
    gst_object_unref(src);
  });
  ASSERT_TRUE(r.eos) << r.error;
  EXPECT_EQ(r.summary.frames, 10u);
  EXPECT_EQ(r.summary.unpaired_reference + r.summary.unpaired_distorted, 0u);
  ASSERT_EQ(r.frames.size(), 10u);
  for (const FrameReport& f : r.frames) EXPECT_EQ(f.psnr_avg, kInf) << "the same frame on both pads";
  EXPECT_EQ(r.output_pts.size(), 10u);
}

/* A sink pad left unlinked is an element error naming it when the element
 * goes to PAUSED (issue 12 §4, issue 10 F6: it waited in PREROLLING
 * forever). */
TEST(QualityMeterHardening, UnlinkedSinkPadIsAnErrorNamingIt) {
  REQUIRE_ELEMENT("qualitymeter");
  for (const char* pad : {"reference", "distorted"}) {
    Pipeline p = parse(std::string("videotestsrc num-buffers=3 ! video/x-raw,format=GRAY8,width=64,height=48 ! q.") +
                       (std::string(pad) == "reference" ? "distorted" : "reference") +
                       " qualitymeter name=q ! fakesink");
    ASSERT_TRUE(p);
    MeterRun r = run_pipeline(p.get(), nullptr, 10 * GST_SECOND);
    EXPECT_FALSE(r.eos);
    EXPECT_EQ(r.error_source, "q");
    EXPECT_NE(r.error.find(std::string("Sink pad ") + pad + " of qualitymeter is not linked"), std::string::npos)
        << pad << ": " << r.error;
  }
  // A requested pad nobody linked, too.
  Pipeline p = parse("videotestsrc num-buffers=3 ! video/x-raw,format=GRAY8,width=64,height=48 ! tee name=t "
                     "t. ! queue ! q.reference t. ! queue ! q.distorted qualitymeter name=q ! fakesink");
  ASSERT_TRUE(p);
  GstElement* q = gst_bin_get_by_name(GST_BIN(p.get()), "q");
  GstPad* extra = gst_element_request_pad_simple(q, "distorted_%u");
  ASSERT_NE(extra, nullptr);
  EXPECT_STREQ(GST_OBJECT_NAME(extra), "distorted_0");
  MeterRun r = run_pipeline(p.get(), nullptr, 10 * GST_SECOND);
  EXPECT_NE(r.error.find("Sink pad distorted_0 of qualitymeter is not linked"), std::string::npos) << r.error;
  gst_object_unref(extra);
  gst_object_unref(q);
}

/* A pad that delivers nothing for `timeout` ms: a warning naming it (and
 * frames still flow once it delivers), or with timeout-action=error an
 * element error naming it (issue 12 §4, issue 10 F6: the pipeline hung
 * with no message). */
TEST(QualityMeterHardening, TimeoutWarnsOrFailsNamingTheSilentPad) {
  REQUIRE_ELEMENT("qualitymeter");
  for (const char* action : {"warn", "error"}) {
    Pipeline p = parse("appsrc name=ref format=time caps=\"" + kGray + "\" ! q.reference appsrc name=dist "
                       "format=time caps=\"" + kGray + "\" ! q.distorted qualitymeter name=q timeout=300 "
                       "timeout-action=" + action + " ! fakesink");
    ASSERT_TRUE(p);
    ASSERT_NE(gst_element_set_state(p.get(), GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE);
    GstElement* ref = gst_bin_get_by_name(GST_BIN(p.get()), "ref");
    GstElement* dist = gst_bin_get_by_name(GST_BIN(p.get()), "dist");
    push_frames(ref, kGray, sequence(3, false), false);  // the distorted pad stays silent
    GstMessage* m = wait_message(p.get(), GST_MESSAGE_WARNING);
    ASSERT_NE(m, nullptr) << action << ": no message within 20 s";
    const std::string text = message_text(m);
    EXPECT_EQ(GST_MESSAGE_TYPE(m), std::string(action) == "warn" ? GST_MESSAGE_WARNING : GST_MESSAGE_ERROR) << text;
    EXPECT_STREQ(GST_MESSAGE_SRC_NAME(m), "q");
    EXPECT_NE(text.find("Pad distorted has delivered no frame for 300 ms"), std::string::npos) << text;
    EXPECT_EQ(text.find("reference"), std::string::npos) << "the reference has frames queued: " << text;
    gst_message_unref(m);
    if (std::string(action) == "warn") {
      // It was only late: its frames arrive and everything is measured.
      push_frames(dist, kGray, sequence(3, true), true);
      push_frames(ref, kGray, {}, true);
      m = wait_message(p.get(), GST_MESSAGE_EOS);
      ASSERT_NE(m, nullptr);
      EXPECT_EQ(GST_MESSAGE_TYPE(m), GST_MESSAGE_EOS) << message_text(m);
      gst_message_unref(m);
      GstElement* q = gst_bin_get_by_name(GST_BIN(p.get()), "q");
      EXPECT_EQ(read_summary(q).frames, 3u);
      gst_object_unref(q);
    }
    gst_object_unref(ref);
    gst_object_unref(dist);
    gst_element_set_state(p.get(), GST_STATE_NULL);
  }
}

/* More than max-unpaired of a pad's frames without a partner is a warning
 * naming the pad and the shares (issue 12 §4: 30 fps against 15 fps gave
 * exit 0 and showed only in the summary). */
TEST(QualityMeterHardening, MaxUnpairedWarns) {
  REQUIRE_ELEMENT("qualitymeter");
  std::vector<int> odd;
  for (int k = 1; k < 30; k += 2) odd.push_back(k);
  MeterRun r = run_meter(kGray, sequence(30, false), kGray, sequence(30, true, 0, odd));  // default 0.1
  ASSERT_TRUE(r.eos) << r.error;
  EXPECT_EQ(r.summary.unpaired_reference, 15u);
  int unpaired_warnings = 0;
  for (const std::string& w : r.warning_texts)
    if (w.find("found no partner, more than max-unpaired") != std::string::npos) {
      ++unpaired_warnings;
      EXPECT_NE(w.find("Pad distorted: 50.0 % of the reference frames (15 of 30)"), std::string::npos) << w;
    }
  EXPECT_EQ(unpaired_warnings, 1) << "one warning per pad";
  r = run_meter(kGray, sequence(30, false), kGray, sequence(30, true, 0, odd), "max-unpaired=0.5");
  ASSERT_TRUE(r.eos) << r.error;
  for (const std::string& w : r.warning_texts) EXPECT_EQ(w.find("max-unpaired"), std::string::npos) << w;
}

TEST(QualityMeterHardening, NewPropertiesShowRangesAndDefaults) {
  REQUIRE_ELEMENT("qualitymeter");
  GstElement* e = gst_element_factory_make("qualitymeter", nullptr);
  GObjectClass* k = G_OBJECT_GET_CLASS(e);
  auto* timeout = G_PARAM_SPEC_UINT(g_object_class_find_property(k, "timeout"));
  ASSERT_NE(timeout, nullptr);
  EXPECT_EQ(timeout->default_value, 0u) << "off by default (live pipelines may sit in PAUSED)";
  GParamSpec* action = g_object_class_find_property(k, "timeout-action");
  ASSERT_NE(action, nullptr);
  EXPECT_EQ(G_PARAM_SPEC_ENUM(action)->default_value, 0);
  for (const char* nick : {"warn", "error"})
    EXPECT_NE(g_enum_get_value_by_nick(G_PARAM_SPEC_ENUM(action)->enum_class, nick), nullptr) << nick;
  auto* unpaired = G_PARAM_SPEC_DOUBLE(g_object_class_find_property(k, "max-unpaired"));
  ASSERT_NE(unpaired, nullptr);
  EXPECT_EQ(unpaired->minimum, 0.0);
  EXPECT_EQ(unpaired->maximum, 1.0);
  EXPECT_EQ(unpaired->default_value, 0.1);
  g_object_set(e, "max-unpaired", 0.25, nullptr);
  double v = 0;
  g_object_get(e, "max-unpaired", &v, nullptr);
  EXPECT_EQ(v, 0.25);
  gst_object_unref(e);
}

/* ---- several distorted streams (issue 13) ------------------------------- */

/* Three distorted inputs in one meter: each pad pairs on its own
 * (distorted-offset as a pad property, the element's as the default), has
 * its own counts and summary, and its messages name it. */
TEST(QualityMeterPads, EachRequestedPadPairsAndCountsOnItsOwn) {
  REQUIRE_ELEMENT("qualitymeter");
  const GstClockTime late = 2 * kFrame;
  Pipeline p;
  MeterRun r = run_inputs({{"reference", kGray, sequence(10, false)},
                           {"distorted", kGray, sequence(10, true)},
                           {"distorted_0", kGray, sequence(10, true, 0, {3, 7})},
                           {"distorted_5", kGray, sequence(10, true, late)}},
                          "distorted_5::distorted-offset=" + std::to_string(-static_cast<gint64>(late)), &p);
  ASSERT_TRUE(r.eos) << r.error;
  ASSERT_EQ(r.frames_by_pad["q/distorted"].size(), 10u);
  ASSERT_EQ(r.frames_by_pad["q/distorted_0"].size(), 8u);
  ASSERT_EQ(r.frames_by_pad["q/distorted_5"].size(), 10u);
  for (const auto& [pad, frames] : r.frames_by_pad)
    for (std::size_t i = 0; i < frames.size(); ++i) {
      EXPECT_EQ(frames[i].frame, i) << pad << ": frame indices count per pad";
      EXPECT_NE(frame_index_of(frames[i]), -1) << pad << " paired with the wrong reference";
    }
  std::vector<int> seen;
  for (const FrameReport& f : r.frames_by_pad["q/distorted_0"]) seen.push_back(frame_index_of(f));
  EXPECT_EQ(seen, (std::vector<int>{0, 1, 2, 4, 5, 6, 8, 9}));
  EXPECT_EQ(r.frames_by_pad["q/distorted_5"][0].pts, late) << "its own PTS, its own offset";

  ASSERT_EQ(r.summary_by_pad.size(), 3u) << "one summary message per pad";
  EXPECT_EQ(r.summary_by_pad["q/distorted"].frames, 10u);
  EXPECT_EQ(r.summary_by_pad["q/distorted_0"].frames, 8u);
  EXPECT_EQ(r.summary_by_pad["q/distorted_0"].unpaired_reference, 2u);
  EXPECT_EQ(r.summary_by_pad["q/distorted"].unpaired_reference, 0u);
  EXPECT_EQ(r.summary_by_pad["q/distorted_5"].frames, 10u);
  EXPECT_EQ(r.summary_by_pad["q/distorted_5"].unpaired_distorted, 0u);
  EXPECT_EQ(r.output_pts.size(), 10u) << "src carries the distorted pad's stream only";

  // The element's summary: the distorted pad's, with the others nested; each pad's own property.
  GstElement* q = gst_bin_get_by_name(GST_BIN(p.get()), "q");
  const Summary all = read_summary(q);
  EXPECT_EQ(all.pad, "distorted");
  ASSERT_EQ(all.pads.size(), 2u);
  ASSERT_NE(all.for_pad("distorted_0"), nullptr);
  EXPECT_EQ(all.for_pad("distorted_0")->frames, 8u);
  GstPad* pad = gst_element_get_static_pad(q, "distorted_5");
  ASSERT_NE(pad, nullptr);
  const Summary own = read_summary(pad);
  EXPECT_EQ(own.pad, "distorted_5");
  EXPECT_EQ(own.frames, 10u);
  gint64 offset = 0;
  g_object_get(pad, "distorted-offset", &offset, nullptr);
  EXPECT_EQ(offset, -static_cast<gint64>(late));
  gst_object_unref(pad);
  pad = gst_element_get_static_pad(q, "distorted_0");
  g_object_set(q, "distorted-offset", static_cast<gint64>(12345), nullptr);
  g_object_get(pad, "distorted-offset", &offset, nullptr);
  EXPECT_EQ(offset, 12345) << "a pad without its own offset reads the element's";
  gst_object_unref(pad);
  gst_object_unref(q);
}

/* The stats file has a row per pad and frame, named in the pad column. */
TEST(QualityMeterPads, StatsRowsNameThePad) {
  REQUIRE_ELEMENT("qualitymeter");
  TempDir dir;
  MeterRun r = run_inputs({{"reference", kGray, sequence(3, false)},
                           {"distorted", kGray, sequence(3, true)},
                           {"distorted_1", kGray, sequence(3, true, 0, {1})}},
                          "stats-file=" + dir.file("s.csv"));
  ASSERT_TRUE(r.eos) << r.error;
  std::map<std::string, int> rows;
  const auto lines = read_lines(dir.file("s.csv"));
  for (std::size_t i = 1; i < lines.size(); ++i) rows[split(lines[i], ',')[0]]++;
  EXPECT_EQ(rows["distorted"], 3);
  EXPECT_EQ(rows["distorted_1"], 2);
  EXPECT_EQ(rows.size(), 2u);
}

/* A third input of another size fails with both sides named. */
TEST(QualityMeterPads, MismatchedThirdInputFailsNamingBothSides) {
  REQUIRE_ELEMENT("qualitymeter");
  MeterRun r = run_inputs({{"reference", kGray, sequence(2, false)},
                           {"distorted", kGray, sequence(2, true)},
                           {"distorted_0", caps_string("GRAY8", 32, 24), sequence(2, true)}});
  EXPECT_FALSE(r.eos);
  EXPECT_EQ(r.error_source, "q");
  EXPECT_NE(r.error.find("reference is GRAY8 64x48 in system memory, distorted_0 is GRAY8 32x24 in system memory"),
            std::string::npos)
      << r.error;
}

/* A pad requested while PLAYING starts at the next reference frame (its
 * earlier reference frames are not unpaired for it); a pad released while
 * PLAYING posts its summary and the others go on. */
TEST(QualityMeterPads, RequestedAndReleasedMidStream) {
  REQUIRE_ELEMENT("qualitymeter");
  Pipeline p = parse("appsrc name=ref format=time caps=\"" + kGray + "\" ! q.reference appsrc name=dist format=time "
                     "caps=\"" + kGray + "\" ! q.distorted qualitymeter name=q ! fakesink");
  ASSERT_TRUE(p);
  GstElement* ref = gst_bin_get_by_name(GST_BIN(p.get()), "ref");
  GstElement* dist = gst_bin_get_by_name(GST_BIN(p.get()), "dist");
  GstElement* q = gst_bin_get_by_name(GST_BIN(p.get()), "q");
  ASSERT_NE(gst_element_set_state(p.get(), GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE);
  MeterRun run;
  auto wait_frames = [&](const std::string& pad, std::size_t n) {
    while (run.frames_by_pad["q/" + pad].size() < n) {
      GstMessage* m = wait_message(p.get(), GST_MESSAGE_ELEMENT);
      ASSERT_NE(m, nullptr) << "waiting for frame " << n << " of " << pad;
      take_message(m, &run);
      gst_message_unref(m);
      ASSERT_TRUE(run.error.empty()) << run.error;
    }
  };
  auto frames = [](int from, int to, bool distorted) {
    std::vector<Frame> all = sequence(to, distorted);
    return std::vector<Frame>(all.begin() + from, all.end());
  };
  push_frames(ref, kGray, frames(0, 5, false), false);
  push_frames(dist, kGray, frames(0, 5, true), false);
  wait_frames("distorted", 5);

  // A new pad and its source, while PLAYING.
  GstPad* pad = gst_element_request_pad_simple(q, "distorted_%u");
  ASSERT_NE(pad, nullptr);
  const std::string name = GST_OBJECT_NAME(pad);
  GstElement* late = gst_element_factory_make("appsrc", "late");
  GstCaps* caps = gst_caps_from_string(kGray.c_str());
  g_object_set(late, "format", GST_FORMAT_TIME, "caps", caps, nullptr);
  gst_caps_unref(caps);
  gst_bin_add(GST_BIN(p.get()), late);
  GstPad* late_src = gst_element_get_static_pad(late, "src");
  ASSERT_EQ(gst_pad_link(late_src, pad), GST_PAD_LINK_OK);
  gst_element_sync_state_with_parent(late);
  push_frames(late, kGray, frames(5, 10, true), false);
  push_frames(ref, kGray, frames(5, 10, false), false);
  push_frames(dist, kGray, frames(5, 10, true), false);
  wait_frames(name, 5);
  wait_frames("distorted", 10);

  // Released while PLAYING: its source goes first.
  gst_element_set_state(late, GST_STATE_NULL);
  gst_pad_unlink(late_src, pad);
  gst_object_unref(late_src);
  gst_bin_remove(GST_BIN(p.get()), late);
  gst_element_release_request_pad(q, pad);
  gst_object_unref(pad);
  push_frames(ref, kGray, frames(10, 12, false), true);
  push_frames(dist, kGray, frames(10, 12, true), true);
  for (;;) {
    GstMessage* m = wait_message(p.get(), GstMessageType(GST_MESSAGE_ELEMENT | GST_MESSAGE_EOS));
    ASSERT_NE(m, nullptr);
    const bool done = take_message(m, &run);
    gst_message_unref(m);
    if (done) break;
  }
  EXPECT_TRUE(run.eos) << run.error;
  std::vector<int> seen;
  for (const FrameReport& f : run.frames_by_pad["q/" + name]) seen.push_back(frame_index_of(f));
  EXPECT_EQ(seen, (std::vector<int>{5, 6, 7, 8, 9}));
  ASSERT_EQ(run.summary_by_pad.count("q/" + name), 1u) << "released: its summary was posted";
  EXPECT_EQ(run.summary_by_pad["q/" + name].frames, 5u);
  EXPECT_EQ(run.summary_by_pad["q/" + name].unpaired_reference, 0u) << "frames 0-4 came before it";
  EXPECT_EQ(run.summary_by_pad["q/distorted"].frames, 12u);
  EXPECT_EQ(run.summary_by_pad["q/distorted"].unpaired_reference, 0u);
  gst_object_unref(ref);
  gst_object_unref(dist);
  gst_object_unref(q);
  gst_element_set_state(p.get(), GST_STATE_NULL);
}

/* ---- agreement with ffmpeg on the real clip ----------------------------- */

std::string run_command(const std::string& cmd, int* status) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) {
    *status = -1;
    return out;
  }
  char buf[4096];
  while (size_t n = fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  *status = pclose(p);
  return out;
}

std::string source_root() {
  const char* env = std::getenv("IIR2D_SOURCE_ROOT");
  return env && *env ? env : IIR2D_SOURCE_ROOT;
}

/* The demo clip: $IIR2D_CLIP, else pipelines/fetch-clip.sh (downloads once). */
std::string clip_path(std::string* why) {
  if (const char* env = std::getenv("IIR2D_CLIP")) return env;
  int status = 0;
  std::string out = run_command("'" + source_root() + "/pipelines/fetch-clip.sh'", &status);
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  if (status != 0 || out.empty() || !g_file_test(out.c_str(), G_FILE_TEST_EXISTS)) {
    *why = "pipelines/fetch-clip.sh failed (status " + std::to_string(status) + ", output '" + out +
           "'); set IIR2D_SOURCE_ROOT or IIR2D_CLIP";
    return "";
  }
  return out;
}

/* ffmpeg's per-frame numbers: psnr (y, u, v, avg) from the metadata filter's
 * print (6 decimals), ssim (Y, U, V, All) from its stats file. */
struct FfmpegFrame {
  double psnr[4] = {NAN, NAN, NAN, NAN};
  double ssim[4] = {NAN, NAN, NAN, NAN};
};

std::vector<FfmpegFrame> parse_ffmpeg(const std::string& psnr_file, const std::string& ssim_file) {
  std::vector<FfmpegFrame> frames;
  for (const std::string& l : read_lines(psnr_file)) {
    if (l.rfind("frame:", 0) == 0) {
      frames.emplace_back();
      continue;
    }
    if (frames.empty()) continue;
    const char* keys[4] = {"lavfi.psnr.psnr.y=", "lavfi.psnr.psnr.u=", "lavfi.psnr.psnr.v=", "lavfi.psnr.psnr_avg="};
    for (int i = 0; i < 4; ++i)
      if (l.rfind(keys[i], 0) == 0) frames.back().psnr[i] = std::strtod(l.c_str() + std::strlen(keys[i]), nullptr);
  }
  std::size_t n = 0;
  for (const std::string& l : read_lines(ssim_file)) {
    if (n >= frames.size()) frames.emplace_back();
    const char* keys[4] = {" Y:", " U:", " V:", " All:"};
    for (int i = 0; i < 4; ++i) {
      const std::size_t at = l.find(keys[i]);
      if (at != std::string::npos) frames[n].ssim[i] = std::strtod(l.c_str() + at + std::strlen(keys[i]), nullptr);
    }
    ++n;
  }
  return frames;
}

double difference(double a, double b) {
  if (std::isinf(a) && std::isinf(b) && (a > 0) == (b > 0)) return 0;
  return std::fabs(a - b);
}

struct FfmpegCase {
  const char* name;
  const char* filter;  // iir2dfilter properties
};

class QualityMeterFfmpeg : public ::testing::TestWithParam<FfmpegCase> {
 protected:
  static constexpr int kFrames = 30;

  /* The first 30 frames of the clip, decoded once by ffmpeg to Y4M: the
   * reference both GStreamer and ffmpeg read. */
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    std::string why;
    const std::string clip = clip_path(&why);
    if (clip.empty()) {
      setup_error_ = why;
      return;
    }
    int status = 0;
    const std::string out = run_command("ffmpeg -nostdin -v error -y -i '" + clip + "' -frames:v " +
                                            std::to_string(kFrames) + " -pix_fmt yuv420p '" +
                                            dir_->file("ref.y4m") + "' 2>&1",
                                        &status);
    if (status != 0) setup_error_ = "ffmpeg could not decode " + clip + ": " + out + " (is ffmpeg installed?)";
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }

  static TempDir* dir_;
  static std::string setup_error_;
};
TempDir* QualityMeterFfmpeg::dir_ = nullptr;
std::string QualityMeterFfmpeg::setup_error_;

TEST_P(QualityMeterFfmpeg, AgreesPerFrameWithFfmpegPsnrAndSsim) {
  REQUIRE_ELEMENT("qualitymeter");
  ASSERT_TRUE(setup_error_.empty()) << setup_error_;
  const FfmpegCase c = GetParam();
  const std::string ref = dir_->file("ref.y4m"), dist = dir_->file(std::string("dist-") + c.name + ".y4m");
  Pipeline p = parse("filesrc location=" + ref + " ! y4mdec ! tee name=t t. ! queue ! q.reference t. ! queue ! "
                     "iir2dfilter " + c.filter + " ! q.distorted qualitymeter name=q ! y4menc ! filesink location=" +
                     dist);
  ASSERT_TRUE(p);
  MeterRun r = run_pipeline(p.get());
  ASSERT_TRUE(r.eos) << r.error << " " << r.error_debug;
  ASSERT_EQ(r.frames.size(), static_cast<std::size_t>(kFrames));

  // ffmpeg's filters, main input = distorted, reference second (both metrics are symmetric).
  int status = 0;
  const std::string psnr_file = dir_->file(std::string("psnr-") + c.name + ".txt");
  const std::string ssim_file = dir_->file(std::string("ssim-") + c.name + ".txt");
  const std::string out = run_command("cd '" + dir_->path + "' && ffmpeg -nostdin -v error -i '" + dist + "' -i '" +
                                          ref + "' -lavfi \"[0:v][1:v]psnr,metadata=mode=print:file=psnr-" + c.name +
                                          ".txt;[0:v][1:v]ssim=stats_file=ssim-" + c.name + ".txt\" -f null - 2>&1",
                                      &status);
  ASSERT_EQ(status, 0) << out;
  const std::vector<FfmpegFrame> ff = parse_ffmpeg(psnr_file, ssim_file);
  ASSERT_EQ(ff.size(), r.frames.size());

  double max_psnr = 0, max_ssim = 0;
  for (std::size_t i = 0; i < ff.size(); ++i) {
    const FrameReport& m = r.frames[i];
    const double ours_psnr[4] = {m.psnr[0], m.psnr[1], m.psnr[2], m.psnr_avg};
    const double ours_ssim[4] = {m.ssim[0], m.ssim[1], m.ssim[2], m.ssim_all};
    for (int k = 0; k < 4; ++k) {
      const double dp = difference(ours_psnr[k], ff[i].psnr[k]), ds = difference(ours_ssim[k], ff[i].ssim[k]);
      EXPECT_LE(dp, 0.01) << "frame " << i << " psnr " << k << ": ours " << ours_psnr[k] << " ffmpeg "
                          << ff[i].psnr[k];
      EXPECT_LE(ds, 1e-4) << "frame " << i << " ssim " << k << ": ours " << ours_ssim[k] << " ffmpeg "
                          << ff[i].ssim[k];
      max_psnr = std::max(max_psnr, dp);
      max_ssim = std::max(max_ssim, ds);
    }
  }
  std::printf("[ ffmpeg   ] %-22s %zu frames: max |PSNR diff| %.6f dB, max |SSIM diff| %.2e (Y %.3f dB, SSIM-Y "
              "%.6f on frame 0)\n",
              c.name, ff.size(), max_psnr, max_ssim, r.frames[0].psnr[0], r.frames[0].ssim[0]);
}

INSTANTIATE_TEST_SUITE_P(Clip, QualityMeterFfmpeg,
                         ::testing::Values(FfmpegCase{"deriche_luma", "filter-id=6"},
                                           FfmpegCase{"biquads_all_half", "filter-id=4 strength=0.5 planes=all"},
                                           FfmpegCase{"first_order_all", "filter-id=1 planes=all border=clamp"}),
                         [](const auto& i) { return std::string(i.param.name); });

/* ---- an encode ladder's shape: three distorted streams, one meter (issue 13) */

/* Drops every 4th buffer from the 3rd on (a deterministic "dropped frames"
 * stream) on the src pad of the element named `name`. */
void drop_every_fourth(GstElement* pipeline, const char* name) {
  GstElement* e = gst_bin_get_by_name(GST_BIN(pipeline), name);
  ASSERT_NE(e, nullptr) << name;
  GstPad* pad = gst_element_get_static_pad(e, "src");
  gst_pad_add_probe(
      pad, GST_PAD_PROBE_TYPE_BUFFER,
      [](GstPad*, GstPadProbeInfo*, gpointer data) {
        return (*static_cast<int*>(data))++ % 4 == 2 ? GST_PAD_PROBE_DROP : GST_PAD_PROBE_OK;
      },
      new int(0), [](gpointer p) { delete static_cast<int*>(p); });
  gst_object_unref(pad);
  gst_object_unref(e);
}

/* Runs `description` (with an element named "dropper") to its end, every
 * 4th frame from the 3rd dropped on the dropper's src pad. */
MeterRun run_with_drops(const std::string& description) {
  Pipeline p = parse(description);
  if (!p) return MeterRun{};
  drop_every_fourth(p.get(), "dropper");
  return run_pipeline(p.get());
}

class QualityMeterLadder : public QualityMeterFfmpeg {};

/* iir2dfilter at three settings, the third with dropped frames: one meter
 * with distorted, distorted_0 and distorted_1 equals three separate
 * meters frame for frame (every field), and each stream agrees with
 * ffmpeg's psnr and ssim within 0.01 dB and 1e-4. */
TEST_F(QualityMeterLadder, ThreeStreamsInOneMeterEqualThreeMetersAndFfmpeg) {
  REQUIRE_ELEMENT("qualitymeter");
  ASSERT_TRUE(setup_error_.empty()) << setup_error_;
  const std::string ref = dir_->file("ref.y4m");
  const char* filters[3] = {"filter-id=6 strength=0.3", "filter-id=6 strength=0.8", "filter-id=4 planes=all"};
  const char* pads[3] = {"distorted", "distorted_0", "distorted_1"};

  std::string one = "filesrc location=" + ref + " ! y4mdec ! tee name=t t. ! queue ! q.reference ";
  for (int i = 0; i < 3; ++i) {
    const std::string n = std::to_string(i);
    one += "t. ! queue ! iir2dfilter " + std::string(filters[i]) + " ! tee name=f" + n + " f" + n + ". ! queue" +
           (i == 2 ? " name=dropper" : "") + " ! q." + pads[i] + " f" + n + ". ! queue ! y4menc ! filesink location=" +
           dir_->file("ladder-" + n + ".y4m") + " ";
  }
  one += "qualitymeter name=q ! fakesink";
  MeterRun r1 = run_with_drops(one);
  ASSERT_TRUE(r1.eos) << r1.error << " " << r1.error_debug;

  std::string three = "filesrc location=" + ref + " ! y4mdec ! tee name=t ";
  for (int i = 0; i < 3; ++i) {
    const std::string m = "m" + std::to_string(i);
    three += "t. ! queue ! " + m + ".reference t. ! queue ! iir2dfilter " + filters[i] +
             (i == 2 ? " ! queue name=dropper" : "") + " ! " + m + ".distorted qualitymeter name=" + m +
             " ! fakesink ";
  }
  MeterRun r3 = run_with_drops(three);
  ASSERT_TRUE(r3.eos) << r3.error << " " << r3.error_debug;

  const std::vector<FrameReport>& all = r1.frames_by_pad["q/distorted"];
  ASSERT_EQ(all.size(), static_cast<std::size_t>(kFrames));
  for (int i = 0; i < 3; ++i) {
    const std::vector<FrameReport>& ours = r1.frames_by_pad[std::string("q/") + pads[i]];
    const std::vector<FrameReport>& separate = r3.frames_by_pad["m" + std::to_string(i) + "/distorted"];
    ASSERT_EQ(ours.size(), i == 2 ? kFrames - 7u : static_cast<std::size_t>(kFrames)) << pads[i];
    ASSERT_EQ(ours.size(), separate.size()) << pads[i];
    for (std::size_t k = 0; k < ours.size(); ++k) {
      const FrameReport &a = ours[k], &b = separate[k];
      EXPECT_EQ(a.frame, b.frame);
      EXPECT_EQ(a.pts, b.pts) << pads[i] << " frame " << k;
      for (int c = 0; c < 3; ++c) {
        EXPECT_EQ(a.psnr[c], b.psnr[c]) << pads[i] << " frame " << k << " plane " << c;
        EXPECT_EQ(a.ssim[c], b.ssim[c]) << pads[i] << " frame " << k << " plane " << c;
      }
      EXPECT_EQ(a.psnr_avg, b.psnr_avg);
      EXPECT_EQ(a.ssim_all, b.ssim_all);
      EXPECT_EQ(a.temporal_delta, b.temporal_delta) << pads[i] << " frame " << k;
    }
    const Summary& s1 = r1.summary_by_pad[std::string("q/") + pads[i]];
    const Summary& s3 = r3.summary_by_pad["m" + std::to_string(i) + "/distorted"];
    EXPECT_EQ(s1.frames, s3.frames);
    EXPECT_EQ(s1.unpaired_reference, s3.unpaired_reference);
    EXPECT_EQ(s1.unpaired_reference, i == 2 ? 7u : 0u) << pads[i];

    // ffmpeg on the stream as filtered (before the drop), frames found by PTS.
    const std::string n = std::to_string(i);
    int status = 0;
    const std::string out = run_command("cd '" + dir_->path + "' && ffmpeg -nostdin -v error -i ladder-" + n +
                                            ".y4m -i '" + ref + "' -lavfi \"[0:v][1:v]psnr,metadata=mode=print:file=" +
                                            "lpsnr-" + n + ".txt;[0:v][1:v]ssim=stats_file=lssim-" + n +
                                            ".txt\" -f null - 2>&1",
                                        &status);
    ASSERT_EQ(status, 0) << out;
    const std::vector<FfmpegFrame> ff = parse_ffmpeg(dir_->file("lpsnr-" + n + ".txt"), dir_->file("lssim-" + n + ".txt"));
    ASSERT_EQ(ff.size(), static_cast<std::size_t>(kFrames));
    double max_psnr = 0, max_ssim = 0;
    for (const FrameReport& m : ours) {
      std::size_t index = 0;
      while (index < all.size() && all[index].pts != m.pts) ++index;
      ASSERT_LT(index, all.size()) << "no frame at pts " << m.pts;
      const double ours_psnr[4] = {m.psnr[0], m.psnr[1], m.psnr[2], m.psnr_avg};
      const double ours_ssim[4] = {m.ssim[0], m.ssim[1], m.ssim[2], m.ssim_all};
      for (int k = 0; k < 4; ++k) {
        max_psnr = std::max(max_psnr, difference(ours_psnr[k], ff[index].psnr[k]));
        max_ssim = std::max(max_ssim, difference(ours_ssim[k], ff[index].ssim[k]));
      }
    }
    EXPECT_LE(max_psnr, 0.01) << pads[i];
    EXPECT_LE(max_ssim, 1e-4) << pads[i];
    std::printf("[ ladder   ] %-12s %-26s %zu frames: max |PSNR diff| %.6f dB, max |SSIM diff| %.2e\n", pads[i],
                filters[i], ours.size(), max_psnr, max_ssim);
  }
}

/* ---- CUDA against CPU --------------------------------------------------- */

bool meter_has_cuda_caps() {
  GstElement* e = gst_element_factory_make("qualitymeter", nullptr);
  if (!e) return false;
  GstPad* pad = gst_element_get_static_pad(e, "distorted");
  GstCaps* templ = gst_pad_get_pad_template_caps(pad);
  GstCaps* cuda = gst_caps_from_string("video/x-raw(memory:CUDAMemory),format=NV12,width=16,height=16");
  const bool yes = gst_caps_can_intersect(templ, cuda);
  gst_caps_unref(cuda);
  gst_caps_unref(templ);
  gst_object_unref(pad);
  gst_object_unref(e);
  return yes;
}

/* Without a driver (or in a build without CUDA) CUDA caps fail with an
 * error, never a crash or a hang; the plugin still loads. */
TEST(QualityMeterBadInput, CudaCapsWithoutDriverFailCleanly) {
  REQUIRE_ELEMENT("qualitymeter");
  if (have_factory("cudaupload")) GTEST_SKIP() << "a CUDA driver is present: QualityMeterCuda covers CUDA memory";
  const std::string caps = "video/x-raw(memory:CUDAMemory),format=NV12,width=64,height=48,framerate=30/1";
  MeterRun r = run_meter(caps, {{constant(10), 0}}, caps, {{constant(10), 0}});
  EXPECT_FALSE(r.eos);
  EXPECT_FALSE(r.error.empty());
  if (meter_has_cuda_caps()) {
    EXPECT_EQ(r.error_source, "q");
    EXPECT_NE(r.error.find("No CUDA context"), std::string::npos) << r.error;
  }
}

struct CudaCase {
  const char* name;
  const char* source;  // up to the caps; "CLIP" for the demo clip
};

class QualityMeterCuda : public ::testing::TestWithParam<CudaCase> {};

/* The CUDA cases skip, with the reason, where the meter has no CUDA caps or
 * no cudaupload can feed it. */
#define REQUIRE_CUDA_METER()                                                                    \
  do {                                                                                          \
    REQUIRE_ELEMENT("qualitymeter");                                                            \
    if (!meter_has_cuda_caps()) GTEST_SKIP() << "qualitymeter offers no CUDA caps (built without CUDA, or libcuda not found)"; \
    if (!have_factory("cudaupload"))                                                            \
      GTEST_SKIP() << "cudaupload is not registered (no NVIDIA driver, or no nvcodec plugin)"; \
  } while (0)

/* One source, one distortion (iir2dfilter on the CPU), two meters on the same
 * frames: one in system memory, one behind cudaupload. */
TEST_P(QualityMeterCuda, MatchesCpuOnTheSameFrames) {
  REQUIRE_CUDA_METER();
  const CudaCase c = GetParam();
  std::string source = c.source;
  if (source == "CLIP") {
    std::string why;
    const std::string clip = clip_path(&why);
    if (clip.empty()) GTEST_SKIP() << why;
    const std::string dec = have_factory("avdec_h264") ? "avdec_h264"
                            : have_factory("nvh264dec") ? "nvh264dec ! cudadownload"
                                                        : "";
    if (dec.empty()) GTEST_SKIP() << "no H.264 decoder (avdec_h264 or nvh264dec)";
    source = "filesrc location=" + clip + " ! qtdemux ! h264parse ! " + dec + " ! identity eos-after=30";
  }
  Pipeline p = parse(source + " ! tee name=t "
                     "t. ! queue ! tee name=r "
                     "t. ! queue ! iir2dfilter filter-id=6 planes=all strength=0.8 ! tee name=d "
                     "r. ! queue ! cpu.reference d. ! queue ! cpu.distorted qualitymeter name=cpu ! fakesink "
                     "r. ! queue ! cudaupload ! gpu.reference d. ! queue ! cudaupload ! gpu.distorted "
                     "qualitymeter name=gpu ! fakesink");
  ASSERT_TRUE(p);
  MeterRun r = run_pipeline(p.get());
  ASSERT_TRUE(r.eos) << r.error << " " << r.error_debug;
  const auto& cpu = r.frames_by_meter["cpu"];
  const auto& gpu = r.frames_by_meter["gpu"];
  ASSERT_FALSE(cpu.empty());
  ASSERT_EQ(cpu.size(), gpu.size());
  double max_psnr = 0, max_other = 0;
  for (std::size_t i = 0; i < cpu.size(); ++i) {
    ASSERT_EQ(cpu[i].pts, gpu[i].pts);
    ASSERT_EQ(cpu[i].components, gpu[i].components);
    for (int k = 0; k < cpu[i].components; ++k) {
      max_psnr = std::max(max_psnr, difference(cpu[i].psnr[k], gpu[i].psnr[k]));
      max_other = std::max(max_other, difference(cpu[i].ssim[k], gpu[i].ssim[k]));
    }
    max_psnr = std::max(max_psnr, difference(cpu[i].psnr_avg, gpu[i].psnr_avg));
    max_other = std::max(max_other, difference(cpu[i].ssim_all, gpu[i].ssim_all));
    max_other = std::max(max_other, difference(cpu[i].temporal_delta, gpu[i].temporal_delta));
  }
  EXPECT_LE(max_psnr, 1e-4);
  EXPECT_LE(max_other, 1e-6);
  std::printf("[ cuda     ] %-22s %zu frames: max |PSNR diff| %.3g dB, max |SSIM or temporal diff| %.3g "
              "(frame 0: PSNR-Y %.4f, SSIM-Y %.6f)\n",
              c.name, cpu.size(), max_psnr, max_other, cpu[0].psnr[0], cpu[0].ssim[0]);
}

class QualityMeterCudaLadder : public ::testing::TestWithParam<CudaCase> {};

/* Issue 13 step 3 on CUDA memory: four distorted streams (iir2dfilter at
 * three settings, the last with every 4th frame dropped), each teed to one
 * meter's pads distorted, distorted_0..2 (its pairs measured in one launch
 * sequence against the reference's shared block sums), to a CUDA meter of
 * its own and to a CPU meter of its own. The shared meter must equal the
 * separate CUDA meters bit for bit (same kernels, same summation order),
 * and the CPU meters within the CUDA-vs-CPU tolerances above. */
TEST_P(QualityMeterCudaLadder, FourPadsInOneMeterEqualFourMetersAndTheCpu) {
  REQUIRE_CUDA_METER();
  const CudaCase c = GetParam();
  const char* filters[4] = {"filter-id=6 planes=all strength=0.3", "filter-id=6 planes=all strength=0.8",
                            "filter-id=4 planes=all", "filter-id=6 planes=all strength=0.5"};
  const char* pads[4] = {"distorted", "distorted_0", "distorted_1", "distorted_2"};
  std::string d = std::string(c.source) + " ! tee name=t t. ! queue ! tee name=r r. ! queue ! cudaupload ! tee name=ru "
                  "ru. ! queue ! q.reference ";
  for (int i = 0; i < 4; ++i) {
    const std::string n = std::to_string(i);
    d += "t. ! queue ! iir2dfilter " + std::string(filters[i]) + " ! queue" + (i == 3 ? " name=dropper" : "") +
         " ! tee name=f" + n + " f" + n + ". ! queue ! cudaupload ! tee name=u" + n + " u" + n + ". ! queue ! q." +
         pads[i] + " ru. ! queue ! g" + n + ".reference u" + n + ". ! queue ! g" + n + ".distorted qualitymeter name=g" +
         n + " ! fakesink r. ! queue ! c" + n + ".reference f" + n + ". ! queue ! c" + n +
         ".distorted qualitymeter name=c" + n + " ! fakesink ";
  }
  d += "qualitymeter name=q ! fakesink";
  MeterRun r = run_with_drops(d);
  ASSERT_TRUE(r.eos) << r.error << " " << r.error_debug;
  for (int i = 0; i < 4; ++i) {
    const std::string n = std::to_string(i);
    const std::vector<FrameReport>& ours = r.frames_by_pad[std::string("q/") + pads[i]];
    const std::vector<FrameReport>& gpu = r.frames_by_pad["g" + n + "/distorted"];
    const std::vector<FrameReport>& cpu = r.frames_by_pad["c" + n + "/distorted"];
    ASSERT_EQ(ours.size(), i == 3 ? 8u : 10u) << pads[i] << ": 10 frames, the 3rd and the 7th dropped";
    ASSERT_EQ(gpu.size(), ours.size()) << pads[i];
    ASSERT_EQ(cpu.size(), ours.size()) << pads[i];
    double max_psnr = 0, max_other = 0, max_temporal = 0;
    for (std::size_t k = 0; k < ours.size(); ++k) {
      const FrameReport &a = ours[k], &b = gpu[k];
      max_temporal = std::max(max_temporal, a.temporal_delta);
      ASSERT_EQ(a.pts, b.pts) << pads[i] << " frame " << k;
      ASSERT_EQ(a.pts, cpu[k].pts) << pads[i] << " frame " << k;
      ASSERT_EQ(a.components, cpu[k].components);
      for (int comp = 0; comp < a.components; ++comp) {
        EXPECT_EQ(a.psnr[comp], b.psnr[comp]) << pads[i] << " frame " << k << " plane " << comp;
        EXPECT_EQ(a.ssim[comp], b.ssim[comp]) << pads[i] << " frame " << k << " plane " << comp;
        max_psnr = std::max(max_psnr, difference(a.psnr[comp], cpu[k].psnr[comp]));
        max_other = std::max(max_other, difference(a.ssim[comp], cpu[k].ssim[comp]));
      }
      EXPECT_EQ(a.psnr_avg, b.psnr_avg) << pads[i] << " frame " << k;
      EXPECT_EQ(a.ssim_all, b.ssim_all) << pads[i] << " frame " << k;
      EXPECT_EQ(a.temporal_delta, b.temporal_delta) << pads[i] << " frame " << k;
      max_psnr = std::max(max_psnr, difference(a.psnr_avg, cpu[k].psnr_avg));
      max_other = std::max(max_other, difference(a.ssim_all, cpu[k].ssim_all));
      max_other = std::max(max_other, difference(a.temporal_delta, cpu[k].temporal_delta));
    }
    EXPECT_LE(max_psnr, 1e-4) << pads[i];
    EXPECT_LE(max_other, 1e-6) << pads[i];
    EXPECT_GT(max_temporal, 0.0) << pads[i] << ": the temporal path ran";
    std::printf("[ cuda     ] %-16s %-12s %zu frames equal its own CUDA meter; against the CPU max |PSNR diff| %.3g dB, "
                "max |SSIM or temporal diff| %.3g\n",
                c.name, pads[i], ours.size(), max_psnr, max_other);
  }
  EXPECT_EQ(r.summary_by_pad["q/distorted_2"].unpaired_reference, 2u);
  EXPECT_EQ(r.summary_by_pad["g3/distorted"].unpaired_reference, 2u);
}

INSTANTIATE_TEST_SUITE_P(
    Sources, QualityMeterCudaLadder,
    ::testing::Values(
        CudaCase{"i420_odd_333x187", "videotestsrc num-buffers=10 pattern=ball ! video/x-raw,format=I420,width=333,height=187,framerate=30/1"},
        CudaCase{"nv12_1920x1080", "videotestsrc num-buffers=10 pattern=ball ! video/x-raw,format=NV12,width=1920,height=1080,framerate=30/1"},
        CudaCase{"p010_640x360", "videotestsrc num-buffers=10 pattern=ball ! video/x-raw,format=P010_10LE,width=640,height=360,framerate=30/1"}),
    [](const auto& i) { return std::string(i.param.name); });

INSTANTIATE_TEST_SUITE_P(
    Sources, QualityMeterCuda,
    ::testing::Values(
        CudaCase{"nv12_1920x1080", "videotestsrc num-buffers=10 pattern=ball ! video/x-raw,format=NV12,width=1920,height=1080,framerate=30/1"},
        CudaCase{"i420_odd_333x187", "videotestsrc num-buffers=10 pattern=ball ! video/x-raw,format=I420,width=333,height=187,framerate=30/1"},
        CudaCase{"y444_640x360", "videotestsrc num-buffers=10 pattern=snow ! video/x-raw,format=Y444,width=640,height=360,framerate=30/1"},
        CudaCase{"i420_10le_640x360", "videotestsrc num-buffers=10 pattern=ball ! video/x-raw,format=I420_10LE,width=640,height=360,framerate=30/1"},
        CudaCase{"p010_1280x720", "videotestsrc num-buffers=10 pattern=ball ! video/x-raw,format=P010_10LE,width=1280,height=720,framerate=30/1"},
        CudaCase{"y444_16le_320x240", "videotestsrc num-buffers=10 pattern=smpte ! video/x-raw,format=Y444_16LE,width=320,height=240,framerate=30/1"},
        CudaCase{"rgba_640x360", "videotestsrc num-buffers=10 pattern=ball ! video/x-raw,format=RGBA,width=640,height=360,framerate=30/1"},
        CudaCase{"bgr_333x187", "videotestsrc num-buffers=10 pattern=ball ! video/x-raw,format=BGR,width=333,height=187,framerate=30/1"},
        CudaCase{"i422_10le_640x360", "videotestsrc num-buffers=10 pattern=ball ! video/x-raw,format=I422_10LE,width=640,height=360,framerate=30/1"},
        CudaCase{"demo_clip_30_frames", "CLIP"}),
    [](const auto& i) { return std::string(i.param.name); });

}  // namespace
