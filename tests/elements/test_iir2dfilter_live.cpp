// SPDX-License-Identifier: MIT
/*
 * Tier 3, issue 5: iir2dfilter on broadcast formats and under live control,
 * through GstHarness.
 *
 *  - RGB planes=luma against an expectation built from refcpu's plane filter
 *    and the published Y'CbCr matrices (a full round trip), for the caps'
 *    BT.709 default, BT.601 and BT.2020;
 *  - temporal smoothing on synthetic sequences: a static scene converges, a
 *    scene cut in adaptive mode is followed within one frame, FLUSH_STOP,
 *    DISCONT, a caps change and a filter-id change restart it, every frame
 *    equal to refcpu's recursion;
 *  - a GstController ramp on strength gives the expected per-frame strength;
 *    temporal-alpha and border-constant are controllable too;
 *  - passthrough (strength=0, temporal off) hands on the same buffer;
 *  - unity-gain keeps a flat frame flat for every id under clamp, mirror and
 *    wrap (border-init=exact); sigma changes id 6's impulse response as the
 *    Deriche formula k(a|n|+1)e^(-a|n|), a = 1.695/sigma, predicts;
 *  - QoS drops late buffers and counts them; latency is upstream's.
 *
 * The system-memory cases run everywhere. The CUDA cases run the same
 * sequences through `cudaupload ! iir2dfilter ! cudadownload` and compare
 * with the system-memory element within contract section 6; they skip with
 * the reason where there is no GPU.
 */
#include <gst/controller/gstdirectcontrolbinding.h>
#include <gst/controller/gstinterpolationcontrolsource.h>
#include <gst/controller/gsttimedvaluecontrolsource.h>

#include <cmath>
#include <functional>
#include <vector>

#include "iir2dfilter_support.h"

namespace {

using iir2d::TemporalMode;
using iir2d::TemporalParams;

/* ---- inputs ------------------------------------------------------------- */

/* A buffer whose every component is `level` (normalised) plus uniform noise
 * of +-`noise` codes. */
Buffer scene_buffer(const GstVideoInfo& info, double level, int noise, std::mt19937& rng, GstClockTime pts) {
  GstBuffer* buf = gst_buffer_new_allocate(nullptr, GST_VIDEO_INFO_SIZE(&info), nullptr);
  gst_buffer_memset(buf, 0, 0x5a, GST_VIDEO_INFO_SIZE(&info));
  GstVideoFrame f;
  EXPECT_TRUE(gst_video_frame_map(&f, &info, buf, GST_MAP_WRITE));
  for (guint c = 0; c < GST_VIDEO_FRAME_N_COMPONENTS(&f); ++c) {
    const auto comp = component<iir2d::VideoComponent>(&f, c);
    const int max = (1 << comp.depth) - 1;
    std::uniform_int_distribution<int> jitter(-noise, noise);
    for (int y = 0; y < comp.height; ++y)
      for (int x = 0; x < comp.width; ++x) {
        const int v = static_cast<int>(std::lround(level * max)) + jitter(rng);
        iir2d::ref::write_code(comp, x, y, static_cast<unsigned>(std::clamp(v, 0, max)));
      }
  }
  gst_video_frame_unmap(&f);
  GST_BUFFER_PTS(buf) = pts;
  GST_BUFFER_DURATION(buf) = GST_SECOND / 30;
  return Buffer(buf);
}

Buffer random_frame(const GstVideoInfo& info, std::mt19937& rng, GstClockTime pts) {
  Buffer b = random_buffer(info, rng, false);
  GST_BUFFER_PTS(b.get()) = pts;
  return b;
}

GstClockTime frame_pts(int n) { return static_cast<GstClockTime>(n) * GST_SECOND / 30; }

Buffer push_pull(GstHarness* h, Buffer& in) {
  EXPECT_EQ(gst_harness_push(h, gst_buffer_ref(in.get())), GST_FLOW_OK);
  return Buffer(gst_harness_try_pull(h));
}

/* ---- the expected temporal recursion, from refcpu ------------------------ */

/* Feeds frames through refcpu as the element groups them (element docs:
 * RGB luma, or the filtered components of one size together), carrying the
 * state. reset() forgets it. */
class TemporalReference {
 public:
  TemporalReference(const GstVideoInfo& info, bool all_planes) : info_(info), all_(all_planes) {}
  void reset() { valid_ = false; }

  Buffer next(GstBuffer* in, const iir2d::FilterParams& params, double strength, const TemporalParams& temporal,
              const iir2d::LumaWeights& weights = iir2d::kLumaBt709) {
    GstBuffer* out = gst_buffer_new_allocate(nullptr, GST_VIDEO_INFO_SIZE(&info_), nullptr);
    GstVideoFrame fi, fo;
    EXPECT_TRUE(gst_video_frame_map(&fi, &info_, in, GST_MAP_READ));
    EXPECT_TRUE(gst_video_frame_map(&fo, &info_, out, GST_MAP_WRITE));
    const guint n = GST_VIDEO_INFO_N_COMPONENTS(&info_);
    std::vector<bool> done(n, false);
    std::size_t offset = 0;
    auto run = [&](std::vector<guint> comps, bool luma) {
      iir2d::ConstVideoComponent ci[3];
      iir2d::VideoComponent co[3];
      for (std::size_t k = 0; k < comps.size(); ++k) {
        ci[k] = component<iir2d::ConstVideoComponent>(&fi, comps[k]);
        co[k] = component<iir2d::VideoComponent>(&fo, comps[k]);
        done[comps[k]] = true;
      }
      const std::size_t planes = luma ? 1 : comps.size();
      const std::size_t need = offset + iir2d::ref::state_elements(ci[0].width, ci[0].height, static_cast<int>(planes));
      if (state_.size() < need) state_.resize(need);
      if (luma)
        iir2d::ref::filter_rgb_luma(ci, co, weights, params, strength, temporal, state_.data() + offset, valid_);
      else
        iir2d::ref::filter_component_group(ci, co, static_cast<int>(comps.size()), params, strength, temporal,
                                           state_.data() + offset, valid_);
      offset = need;
    };
    if (GST_VIDEO_INFO_IS_RGB(&info_)) {
      run({0, 1, 2}, !all_);
    } else {
      run({0}, false);
      if (all_ && n >= 3) {
        if (GST_VIDEO_INFO_COMP_WIDTH(&info_, 1) == GST_VIDEO_INFO_COMP_WIDTH(&info_, 0) &&
            GST_VIDEO_INFO_COMP_HEIGHT(&info_, 1) == GST_VIDEO_INFO_COMP_HEIGHT(&info_, 0))
          ADD_FAILURE() << "4:4:4 groups Y, U and V together: use another format here";
        run({1, 2}, false);
      }
    }
    for (guint c = 0; c < n; ++c)
      if (!done[c])
        iir2d::ref::copy_video_component(component<iir2d::ConstVideoComponent>(&fi, c),
                                         component<iir2d::VideoComponent>(&fo, c));
    gst_video_frame_unmap(&fo);
    gst_video_frame_unmap(&fi);
    valid_ = temporal.mode != TemporalMode::Off;
    return Buffer(out);
  }

 private:
  GstVideoInfo info_;
  bool all_;
  bool valid_ = false;
  std::vector<float> state_;
};

TemporalParams temporal_of(GstElement* e) {
  TemporalParams t;
  gint mode = 0;
  GValue v = G_VALUE_INIT;
  g_value_init(&v, g_object_class_find_property(G_OBJECT_GET_CLASS(e), "temporal-mode")->value_type);
  g_object_get_property(G_OBJECT(e), "temporal-mode", &v);
  mode = g_value_get_enum(&v);
  g_value_unset(&v);
  t.mode = static_cast<TemporalMode>(mode);
  g_object_get(e, "temporal-alpha", &t.alpha, "temporal-alpha-min", &t.alpha_min, "temporal-alpha-max",
               &t.alpha_max, "motion-threshold", &t.motion_threshold, nullptr);
  return t;
}

/* Largest code difference of component c between two buffers. */
int max_code_diff(const GstVideoInfo& info, GstBuffer* a, GstBuffer* b, guint c) {
  const std::vector<CodeDiff> diffs = diff_codes(info, a, b);
  EXPECT_GT(diffs.size(), c);
  return diffs.size() > c ? static_cast<int>(diffs[c].max) : 1 << 30;
}

iir2d::FilterParams default_params(guint id = 1) {
  iir2d::FilterParams p;
  p.filter_id = static_cast<int>(id);
  return p;
}

/* ======================================================================= */
/* RGB through its luma, against the published matrices                    */

struct Matrix {
  const char* colorimetry;  // caps field, nullptr for none (BT.709 default)
  double kr, kb;            // ITU-R BT.709 / BT.601 / BT.2020
};
const Matrix kMatrices[] = {{nullptr, 0.2126, 0.0722}, {"bt601", 0.299, 0.114}, {"bt2020", 0.2627, 0.0593}};

/* Y'CbCr of each pixel with the published coefficients, Y' filtered by
 * refcpu (float64), blended, converted back with the textbook inverse. */
Buffer rgb_luma_round_trip(const GstVideoInfo& info, GstBuffer* in, const Matrix& m, guint id, double strength) {
  GstBuffer* out = gst_buffer_copy_deep(in);
  GstVideoFrame fi, fo;
  EXPECT_TRUE(gst_video_frame_map(&fi, &info, in, GST_MAP_READ));
  EXPECT_TRUE(gst_video_frame_map(&fo, &info, out, GST_MAP_WRITE));
  const int w = info.width, h = info.height;
  const double kr = m.kr, kb = m.kb, kg = 1 - kr - kb;
  std::vector<double> y(static_cast<std::size_t>(w) * h), cb(y.size()), cr(y.size()), f(y.size());
  iir2d::ConstVideoComponent c[3];
  for (guint k = 0; k < 3; ++k) c[k] = component<iir2d::ConstVideoComponent>(&fi, k);
  const double max = iir2d::code_max(c[0].depth);
  for (int yy = 0; yy < h; ++yy)
    for (int xx = 0; xx < w; ++xx) {
      const std::size_t i = static_cast<std::size_t>(yy) * w + xx;
      const double R = iir2d::ref::read_code(c[0], xx, yy) / max, G = iir2d::ref::read_code(c[1], xx, yy) / max,
                   B = iir2d::ref::read_code(c[2], xx, yy) / max;
      y[i] = kr * R + kg * G + kb * B;
      cb[i] = (B - y[i]) / (2 * (1 - kb));
      cr[i] = (R - y[i]) / (2 * (1 - kr));
    }
  iir2d::FilterParams p = default_params(id);
  p.precision = iir2d::Precision::F64;
  const std::ptrdiff_t stride = w * static_cast<std::ptrdiff_t>(sizeof(double));
  iir2d::ref::filter_plane(iir2d::ref::Plane<const double>{y.data(), w, h, stride},
                           iir2d::ref::Plane<double>{f.data(), w, h, stride}, p);
  for (int yy = 0; yy < h; ++yy)
    for (int xx = 0; xx < w; ++xx) {
      const std::size_t i = static_cast<std::size_t>(yy) * w + xx;
      const double Y = strength * f[i] + (1 - strength) * y[i];
      const double rgb[3] = {Y + 2 * (1 - kr) * cr[i], Y - 2 * (1 - kb) * kb / kg * cb[i] - 2 * (1 - kr) * kr / kg * cr[i],
                             Y + 2 * (1 - kb) * cb[i]};
      for (guint k = 0; k < 3; ++k)
        iir2d::ref::write_code(component<iir2d::VideoComponent>(&fo, k), xx, yy, iir2d::ref::quantize(rgb[k], c[0].depth));
    }
  gst_video_frame_unmap(&fo);
  gst_video_frame_unmap(&fi);
  return Buffer(out);
}

using RgbParam = std::tuple<const char*, Matrix>;
class Iir2dFilterRgbLuma : public ::testing::TestWithParam<RgbParam> {};

TEST_P(Iir2dFilterRgbLuma, MatchesPublishedMatrixRoundTrip) {
  REQUIRE_ELEMENT();
  const auto& [format, matrix] = GetParam();
  std::string caps_str = caps_string(format, 61, 37);
  if (matrix.colorimetry) caps_str += std::string(",colorimetry=") + matrix.colorimetry;
  SCOPED_TRACE(caps_str);
  const GstVideoInfo info = video_info(caps_str);
  Harness h(new_harness());
  g_object_set(h->element, "filter-id", 6u, "strength", 0.9, nullptr);  // planes=luma is the default
  gst_harness_set_src_caps_str(h.get(), caps_str.c_str());
  std::mt19937 rng(77);
  for (int n = 0; n < 2; ++n) {
    Buffer in = random_frame(info, rng, frame_pts(n));
    Buffer want = rgb_luma_round_trip(info, in.get(), matrix, 6, 0.9);
    Buffer out = push_pull(h.get(), in);
    ASSERT_TRUE(out);
    EXPECT_EQ(compare_within_contract(info, out.get(), want.get()), "");
    expect_unfiltered_parts_unchanged(info, out.get(), in.get(), false);
    /* Luma only: R, G and B all move by the same amount (before rounding). */
    EXPECT_NE(compare_frames(info, out.get(), in.get(), 0), "");
  }
}

std::string rgb_name(const ::testing::TestParamInfo<RgbParam>& p) {
  const auto& [format, matrix] = p.param;
  return std::string(format) + "_" + (matrix.colorimetry ? matrix.colorimetry : "default709");
}

INSTANTIATE_TEST_SUITE_P(Formats, Iir2dFilterRgbLuma,
                         ::testing::Combine(::testing::Values("RGBA", "BGRx", "ARGB", "RGB", "BGR", "GBR", "GBRA",
                                                              "RGBP"),
                                            ::testing::ValuesIn(kMatrices)),
                         rgb_name);

/* ======================================================================= */
/* Temporal smoothing                                                      */

TEST(Iir2dFilterTemporal, StaticSceneConverges) {
  REQUIRE_ELEMENT();
  const std::string caps_str = caps_string("I420", 48, 32);
  const GstVideoInfo info = video_info(caps_str);
  Harness h(new_harness());
  gst_util_set_object_arg(G_OBJECT(h->element), "temporal-mode", "fixed");
  gst_util_set_object_arg(G_OBJECT(h->element), "planes", "all");
  g_object_set(h->element, "temporal-alpha", 0.3, "filter-id", 2u, nullptr);
  gst_harness_set_src_caps_str(h.get(), caps_str.c_str());
  TemporalReference ref(info, true);
  std::mt19937 rng(3);
  Buffer a = random_frame(info, rng, 0);
  Buffer b = random_frame(info, rng, 0);
  const iir2d::FilterParams p = default_params(2);
  const Buffer b_alone = expected_output(info, b.get(), p, 1.0, true);  // B filtered, no memory
  int last = 1 << 30;
  for (int n = 0; n < 30; ++n) {
    SCOPED_TRACE("frame " + std::to_string(n));
    Buffer in(gst_buffer_copy_deep(n == 0 ? a.get() : b.get()));
    GST_BUFFER_PTS(in.get()) = frame_pts(n);
    Buffer want = ref.next(in.get(), p, 1.0, temporal_of(h->element));
    Buffer out = push_pull(h.get(), in);
    ASSERT_TRUE(out);
    ASSERT_EQ(compare_frames(info, out.get(), want.get()), "");
    if (n >= 1) {
      const int d = max_code_diff(info, out.get(), b_alone.get(), 0);
      EXPECT_LE(d, last) << "moves away from the static scene";
      last = d;
    }
  }
  /* (1 - 0.3)^29 * 255 < 1: converged onto B's filtered frame. */
  EXPECT_LE(last, 1);
}

TEST(Iir2dFilterTemporal, AdaptiveFollowsASceneCutWithinOneFrame) {
  REQUIRE_ELEMENT();
  const std::string caps_str = caps_string("NV12", 64, 36);
  const GstVideoInfo info = video_info(caps_str);
  Harness h(new_harness());
  gst_util_set_object_arg(G_OBJECT(h->element), "temporal-mode", "adaptive");  // 0.10 .. 0.95 over 0.08
  gst_harness_set_src_caps_str(h.get(), caps_str.c_str());
  TemporalReference ref(info, false);
  std::mt19937 rng(21);
  const iir2d::FilterParams p = default_params(1);
  Buffer out;
  for (int n = 0; n < 6; ++n) {
    SCOPED_TRACE("frame " + std::to_string(n));
    Buffer in = scene_buffer(info, n < 5 ? 0.2 : 0.8, 6, rng, frame_pts(n));  // the cut at frame 5
    Buffer want = ref.next(in.get(), p, 1.0, temporal_of(h->element));
    out = push_pull(h.get(), in);
    ASSERT_TRUE(out);
    ASSERT_EQ(compare_frames(info, out.get(), want.get()), "");
    if (n == 5) {
      /* Right after the cut: at most (1 - alpha-max) of the 0.6 jump (plus
       * noise and rounding) from the new scene's filtered frame. */
      const Buffer b_alone = expected_output(info, in.get(), p, 1.0, false);
      const int d = max_code_diff(info, out.get(), b_alone.get(), 0);
      EXPECT_LE(d, static_cast<int>(std::ceil(0.05 * 0.6 * 255 + 6 * 0.05 + 1))) << "lags behind the cut";
    }
  }
}

/* Runs frame A with temporal smoothing for a few frames, then `disturb`,
 * then frame B: B's output must be B alone (fixed alpha 0.2 would keep 80 %
 * of A otherwise). */
void expect_restart(const char* format, const std::function<void(GstHarness*, GstBuffer*)>& disturb,
                    guint id_after = 1, const char* caps_after = nullptr) {
  const std::string caps_str = caps_string(format, 40, 30);
  const GstVideoInfo info = video_info(caps_after ? caps_after : caps_str.c_str());
  Harness h(new_harness());
  gst_util_set_object_arg(G_OBJECT(h->element), "temporal-mode", "fixed");
  g_object_set(h->element, "temporal-alpha", 0.2, nullptr);
  gst_harness_set_src_caps_str(h.get(), caps_str.c_str());
  const GstVideoInfo info_a = video_info(caps_str);
  std::mt19937 rng(8);
  for (int n = 0; n < 3; ++n) {
    Buffer a = scene_buffer(info_a, 0.1, 0, rng, frame_pts(n));
    ASSERT_TRUE(push_pull(h.get(), a));
  }
  Buffer b = scene_buffer(info, 0.9, 10, rng, frame_pts(3));
  disturb(h.get(), b.get());
  Buffer out = push_pull(h.get(), b);
  ASSERT_TRUE(out);
  const Buffer b_alone = expected_output(info, b.get(), default_params(id_after), 1.0, false);
  EXPECT_EQ(compare_frames(info, out.get(), b_alone.get()), "");
}

TEST(Iir2dFilterTemporal, ContinuesWithoutAReason) {
  REQUIRE_ELEMENT();
  /* The control case: nothing happens, so B's output still holds A. */
  const std::string caps_str = caps_string("GRAY8", 40, 30);
  const GstVideoInfo info = video_info(caps_str);
  Harness h(new_harness());
  gst_util_set_object_arg(G_OBJECT(h->element), "temporal-mode", "fixed");
  g_object_set(h->element, "temporal-alpha", 0.2, nullptr);
  gst_harness_set_src_caps_str(h.get(), caps_str.c_str());
  std::mt19937 rng(8);
  for (int n = 0; n < 3; ++n) {
    Buffer a = scene_buffer(info, 0.1, 0, rng, frame_pts(n));
    ASSERT_TRUE(push_pull(h.get(), a));
  }
  g_object_set(h->element, "strength", 0.99, "border", 0, nullptr);  // settings that do not restart it
  Buffer b = scene_buffer(info, 0.9, 0, rng, frame_pts(3));
  Buffer out = push_pull(h.get(), b);
  ASSERT_TRUE(out);
  GstMapInfo map;
  ASSERT_TRUE(gst_buffer_map(out.get(), &map, GST_MAP_READ));
  const int want = static_cast<int>(std::lround((0.2 * 0.9 + 0.8 * 0.1) * 255));  // ~0.26, not 0.9
  EXPECT_NEAR(map.data[20 * GST_VIDEO_INFO_PLANE_STRIDE(&info, 0) + 20], want, 2);
  gst_buffer_unmap(out.get(), &map);
}

TEST(Iir2dFilterTemporal, FlushStopRestarts) {
  REQUIRE_ELEMENT();
  expect_restart("GRAY8", [](GstHarness* h, GstBuffer*) {
    ASSERT_TRUE(gst_harness_push_event(h, gst_event_new_flush_start()));
    ASSERT_TRUE(gst_harness_push_event(h, gst_event_new_flush_stop(TRUE)));
    GstSegment seg;
    gst_segment_init(&seg, GST_FORMAT_TIME);
    ASSERT_TRUE(gst_harness_push_event(h, gst_event_new_segment(&seg)));
  });
}

TEST(Iir2dFilterTemporal, DiscontRestarts) {
  REQUIRE_ELEMENT();
  expect_restart("NV12", [](GstHarness*, GstBuffer* b) { GST_BUFFER_FLAG_SET(b, GST_BUFFER_FLAG_DISCONT); });
}

TEST(Iir2dFilterTemporal, FilterIdChangeRestarts) {
  REQUIRE_ELEMENT();
  expect_restart("Y444", [](GstHarness* h, GstBuffer*) { g_object_set(h->element, "filter-id", 5u, nullptr); }, 5);
}

TEST(Iir2dFilterTemporal, CapsChangeRestarts) {
  REQUIRE_ELEMENT();
  const std::string other = caps_string("GRAY8", 40, 31);
  expect_restart(
      "GRAY8", [other](GstHarness* h, GstBuffer*) { gst_harness_set_src_caps_str(h, other.c_str()); }, 1,
      other.c_str());
}

TEST(Iir2dFilterTemporal, RgbLumaAndAllFollowRefcpu) {
  REQUIRE_ELEMENT();
  for (const char* planes : {"luma", "all"}) {
    for (const char* format : {"RGBA", "BGRx", "GBR"}) {
      SCOPED_TRACE(std::string(format) + " planes=" + planes);
      const std::string caps_str = caps_string(format, 37, 23);
      const GstVideoInfo info = video_info(caps_str);
      Harness h(new_harness());
      gst_util_set_object_arg(G_OBJECT(h->element), "temporal-mode", "adaptive");
      gst_util_set_object_arg(G_OBJECT(h->element), "planes", planes);
      g_object_set(h->element, "strength", 0.75, "filter-id", 3u, "unity-gain", TRUE, "motion-threshold", 0.3,
                   nullptr);
      gst_harness_set_src_caps_str(h.get(), caps_str.c_str());
      const bool all = std::string(planes) == "all";
      TemporalReference ref(info, all);
      iir2d::FilterParams p = default_params(3);
      p.unity_gain = true;
      std::mt19937 rng(12);
      for (int n = 0; n < 4; ++n) {
        Buffer in = n < 2 ? scene_buffer(info, 0.4, 40, rng, frame_pts(n)) : random_frame(info, rng, frame_pts(n));
        Buffer want = ref.next(in.get(), p, 0.75, temporal_of(h->element));
        Buffer out = push_pull(h.get(), in);
        ASSERT_TRUE(out);
        EXPECT_EQ(compare_frames(info, out.get(), want.get()), "") << "frame " << n;
        expect_unfiltered_parts_unchanged(info, out.get(), in.get(), all);
      }
    }
  }
}

/* ======================================================================= */
/* Live control                                                            */

TEST(Iir2dFilterControl, StrengthRampGivesThePerFrameStrength) {
  REQUIRE_ELEMENT();
  const std::string caps_str = caps_string("I420_10LE", 32, 24);
  const GstVideoInfo info = video_info(caps_str);
  Harness h(new_harness());
  GstControlSource* cs = gst_interpolation_control_source_new();
  g_object_set(cs, "mode", GST_INTERPOLATION_MODE_LINEAR, nullptr);
  auto* tv = GST_TIMED_VALUE_CONTROL_SOURCE(cs);
  gst_timed_value_control_source_set(tv, 0, 0.0);         // strength 0 at t = 0 ...
  gst_timed_value_control_source_set(tv, GST_SECOND, 1.0);  // ... to 1 at t = 1 s
  ASSERT_TRUE(gst_object_add_control_binding(GST_OBJECT(h->element),
                                             gst_direct_control_binding_new_absolute(GST_OBJECT(h->element),
                                                                                     "strength", cs)));
  gst_object_unref(cs);
  gst_harness_set_src_caps_str(h.get(), caps_str.c_str());
  std::mt19937 rng(4);
  for (int n = 0; n <= 4; ++n) {
    const double s = 0.25 * n;
    SCOPED_TRACE("t = " + std::to_string(s) + " s");
    Buffer in = random_frame(info, rng, static_cast<GstClockTime>(s * GST_SECOND));
    Buffer out = push_pull(h.get(), in);
    ASSERT_TRUE(out);
    gdouble now = -1;
    g_object_get(h->element, "strength", &now, nullptr);
    EXPECT_DOUBLE_EQ(now, s);
    Buffer want = expected_output(info, in.get(), default_params(), s, false);
    EXPECT_EQ(compare_frames(info, out.get(), want.get()), "");
    if (n == 0) {
      EXPECT_EQ(out.get(), in.get()) << "strength 0 is passthrough";
    }
  }
}

TEST(Iir2dFilterControl, TemporalAlphaAndBorderConstantAreControllable) {
  REQUIRE_ELEMENT();
  const std::string caps_str = caps_string("GRAY8", 16, 16);
  const GstVideoInfo info = video_info(caps_str);
  Harness h(new_harness());
  for (const char* prop : {"temporal-alpha", "border-constant"}) {
    GstControlSource* cs = gst_interpolation_control_source_new();
    g_object_set(cs, "mode", GST_INTERPOLATION_MODE_NONE, nullptr);
    gst_timed_value_control_source_set(GST_TIMED_VALUE_CONTROL_SOURCE(cs), 0, 0.25);
    gst_timed_value_control_source_set(GST_TIMED_VALUE_CONTROL_SOURCE(cs), GST_SECOND, 0.75);
    ASSERT_TRUE(gst_object_add_control_binding(
        GST_OBJECT(h->element), gst_direct_control_binding_new_absolute(GST_OBJECT(h->element), prop, cs)))
        << prop;
    gst_object_unref(cs);
  }
  gst_harness_set_src_caps_str(h.get(), caps_str.c_str());
  std::mt19937 rng(1);
  for (GstClockTime t : {GstClockTime(0), GstClockTime(GST_SECOND)}) {
    Buffer in = random_frame(info, rng, t);
    ASSERT_TRUE(push_pull(h.get(), in));
    gdouble alpha = 0, constant = 0;
    g_object_get(h->element, "temporal-alpha", &alpha, "border-constant", &constant, nullptr);
    EXPECT_EQ(alpha, t == 0 ? 0.25 : 0.75);
    EXPECT_EQ(constant, t == 0 ? 0.25 : 0.75);
  }
}

TEST(Iir2dFilterPassthrough, HandsOnTheSameBuffer) {
  REQUIRE_ELEMENT();
  const std::string caps_str = caps_string("P010_10LE", 32, 18);
  const GstVideoInfo info = video_info(caps_str);
  Harness h(new_harness());
  auto* trans = GST_BASE_TRANSFORM(h->element);
  g_object_set(h->element, "strength", 0.0, nullptr);
  gst_harness_set_src_caps_str(h.get(), caps_str.c_str());
  std::mt19937 rng(2);
  struct Step {
    double strength;
    const char* temporal;
    bool passthrough;
  };
  const Step steps[] = {{0.0, "off", true}, {0.6, "off", false}, {0.0, "off", true},
                        {0.0, "fixed", false}, {0.0, "off", true}, {1.0, "adaptive", false}};
  int n = 0;
  for (const Step& st : steps) {
    SCOPED_TRACE("step " + std::to_string(n));
    g_object_set(h->element, "strength", st.strength, nullptr);
    gst_util_set_object_arg(G_OBJECT(h->element), "temporal-mode", st.temporal);
    Buffer in = random_frame(info, rng, frame_pts(n++));
    Buffer out = push_pull(h.get(), in);
    ASSERT_TRUE(out);
    EXPECT_EQ(gst_base_transform_is_passthrough(trans), st.passthrough);
    EXPECT_EQ(out.get() == in.get(), st.passthrough);
    if (!st.passthrough && std::string(st.temporal) == "off") {
      Buffer want = expected_output(info, in.get(), default_params(), st.strength, false);
      EXPECT_EQ(compare_frames(info, out.get(), want.get()), "");
    }
    if (st.strength == 0.0) {
      EXPECT_EQ(compare_frames(info, out.get(), in.get()), "");
    }
  }
}

/* ======================================================================= */
/* The two extensions over IIR2D                                           */

TEST(Iir2dFilterUnityGain, KeepsAFlatFrameFlat) {
  REQUIRE_ELEMENT();
  for (const char* format : {"GRAY16_LE", "GRAY8", "P010_10LE"}) {
    const std::string caps_str = caps_string(format, 29, 19);
    const GstVideoInfo info = video_info(caps_str);
    std::mt19937 rng(0);
    Buffer flat = scene_buffer(info, 0.61, 0, rng, 0);
    for (guint id = 1; id <= 8; ++id)
      for (const char* border : {"clamp", "mirror", "wrap"}) {
        SCOPED_TRACE(std::string(format) + " id " + std::to_string(id) + " " + border);
        Harness h(new_harness());
        g_object_set(h->element, "filter-id", id, "unity-gain", TRUE, nullptr);
        gst_util_set_object_arg(G_OBJECT(h->element), "border", border);
        gst_util_set_object_arg(G_OBJECT(h->element), "border-init", "exact");
        gst_util_set_object_arg(G_OBJECT(h->element), "planes", "all");
        gst_harness_set_src_caps_str(h.get(), caps_str.c_str());
        Buffer out = push_pull(h.get(), flat);
        ASSERT_TRUE(out);
        EXPECT_EQ(compare_frames(info, out.get(), flat.get()), "");
      }
  }
  /* Without it, id 3 scales a flat area by its 2-D DC gain 0.5625 (contract). */
  const std::string caps_str = caps_string("GRAY16_LE", 29, 19);
  const GstVideoInfo info = video_info(caps_str);
  std::mt19937 rng(0);
  Buffer flat = scene_buffer(info, 0.61, 0, rng, 0);
  Harness h(new_harness());
  g_object_set(h->element, "filter-id", 3u, nullptr);
  gst_harness_set_src_caps_str(h.get(), caps_str.c_str());
  Buffer out = push_pull(h.get(), flat);
  ASSERT_TRUE(out);
  GstMapInfo map;
  ASSERT_TRUE(gst_buffer_map(out.get(), &map, GST_MAP_READ));
  guint16 v;
  std::memcpy(&v, map.data + 10 * GST_VIDEO_INFO_PLANE_STRIDE(&info, 0) + 2 * 14, 2);
  EXPECT_NEAR(v, std::lround(0.61 * 65535) * 0.5625, 1.0);
  gst_buffer_unmap(out.get(), &map);
}

/* Id 6 on a vertical line of height-long constant columns: with unity gain
 * the vertical pass keeps each column, so row y is the horizontal impulse
 * response h[n] = k (a|n| + 1) e^(-a|n|), a = 1.695 / sigma, normalised to
 * sum 1 (Deriche's recursive coefficients realise it exactly). */
TEST(Iir2dFilterSigma, ImpulseResponseWidthFollowsDeriche) {
  REQUIRE_ELEMENT();
  const int w = 257, hgt = 6, c = 128;
  const std::string caps_str = caps_string("GRAY16_LE", w, hgt);
  const GstVideoInfo info = video_info(caps_str);
  double last_std = 0;
  for (double sigma : {0.5, 1.0, 2.0, 4.0, 8.0, 16.0}) {
    SCOPED_TRACE("sigma " + std::to_string(sigma));
    Harness h(new_harness());
    g_object_set(h->element, "filter-id", 6u, "sigma", sigma, "unity-gain", TRUE, nullptr);
    gst_util_set_object_arg(G_OBJECT(h->element), "precision", "f64");
    gst_harness_set_src_caps_str(h.get(), caps_str.c_str());
    GstBuffer* raw = gst_buffer_new_allocate(nullptr, GST_VIDEO_INFO_SIZE(&info), nullptr);
    gst_buffer_memset(raw, 0, 0, GST_VIDEO_INFO_SIZE(&info));
    GstMapInfo map;
    gst_buffer_map(raw, &map, GST_MAP_WRITE);
    for (int y = 0; y < hgt; ++y) {
      const guint16 peak = 65535;
      std::memcpy(map.data + y * GST_VIDEO_INFO_PLANE_STRIDE(&info, 0) + 2 * c, &peak, 2);
    }
    gst_buffer_unmap(raw, &map);
    Buffer in(raw);
    Buffer out = push_pull(h.get(), in);
    ASSERT_TRUE(out);

    const double a = 1.695 / sigma;
    double sum = 0;
    std::vector<double> hn(static_cast<std::size_t>(w));
    for (int n = -2000; n <= 2000; ++n) sum += (a * std::abs(n) + 1) * std::exp(-a * std::abs(n));
    ASSERT_TRUE(gst_buffer_map(out.get(), &map, GST_MAP_READ));
    double m0 = 0, m2 = 0, p0 = 0, p2 = 0;
    int worst = 0;
    for (int x = 0; x < w; ++x) {
      const int n = x - c;
      const double predicted = 65535.0 * (a * std::abs(n) + 1) * std::exp(-a * std::abs(n)) / sum;
      guint16 v;
      std::memcpy(&v, map.data + 2 * GST_VIDEO_INFO_PLANE_STRIDE(&info, 0) + 2 * x, 2);
      worst = std::max(worst, static_cast<int>(std::lround(std::fabs(v - predicted) - 0.5)));
      m0 += v;
      m2 += static_cast<double>(n) * n * v;
      p0 += predicted;
      p2 += static_cast<double>(n) * n * predicted;
    }
    gst_buffer_unmap(out.get(), &map);
    EXPECT_LE(worst, 1) << "a sample is more than 1 code from the formula";
    const double std_measured = std::sqrt(m2 / m0), std_predicted = std::sqrt(p2 / p0);
    EXPECT_NEAR(std_measured, std_predicted, 0.01 * std_predicted + 0.01);
    std::cout << "  sigma " << sigma << ": impulse std " << std_measured << " samples (formula " << std_predicted
              << ", continuous limit 2 sigma / 1.695 = " << 2 * sigma / 1.695 << ")\n";
    if (last_std > 0 && sigma >= 4) {
      EXPECT_NEAR(std_measured / last_std, 2.0, 0.05) << "doubling sigma";
    }
    last_std = std_measured;
  }
}

/* ======================================================================= */
/* QoS and latency                                                         */

TEST(Iir2dFilterQos, LateBuffersAreDroppedAndCounted) {
  REQUIRE_ELEMENT();
  const std::string caps_str = caps_string("NV12", 32, 16);
  const GstVideoInfo info = video_info(caps_str);
  Harness h(new_harness());
  EXPECT_TRUE(gst_base_transform_is_qos_enabled(GST_BASE_TRANSFORM(h->element)));
  GstBus* bus = gst_bus_new();
  gst_element_set_bus(h->element, bus);
  gst_harness_set_src_caps_str(h.get(), caps_str.c_str());
  std::mt19937 rng(6);
  Buffer first = random_frame(info, rng, 0);
  ASSERT_TRUE(push_pull(h.get(), first));
  /* Downstream says it is 2 s late at running time 1 s: frames before that are useless. */
  ASSERT_TRUE(gst_harness_push_upstream_event(
      h.get(), gst_event_new_qos(GST_QOS_TYPE_UNDERFLOW, 2.0, 2 * GST_SECOND, GST_SECOND)));
  Buffer late = random_frame(info, rng, frame_pts(1));
  EXPECT_EQ(gst_harness_push(h.get(), gst_buffer_ref(late.get())), GST_FLOW_OK);
  EXPECT_EQ(gst_harness_buffers_in_queue(h.get()), 0u) << "the late buffer was not dropped";
  GstMessage* msg = gst_bus_pop_filtered(bus, GST_MESSAGE_QOS);
  ASSERT_TRUE(msg) << "no QoS message";
  GstFormat format;
  guint64 processed = 0, dropped = 0;
  gst_message_parse_qos_stats(msg, &format, &processed, &dropped);
  EXPECT_EQ(dropped, 1u);
  EXPECT_EQ(processed, 1u);
  gst_message_unref(msg);
  gst_element_set_bus(h->element, nullptr);
  gst_object_unref(bus);
}

TEST(Iir2dFilterLatency, IsUpstreamLatency) {
  REQUIRE_ELEMENT();
  Harness h(new_harness());
  gst_harness_set_src_caps_str(h.get(), caps_string("I420", 32, 16).c_str());
  for (GstClockTime latency : {GstClockTime(0), GstClockTime(40 * GST_MSECOND)}) {
    gst_harness_set_upstream_latency(h.get(), latency);
    EXPECT_EQ(gst_harness_query_latency(h.get()), latency);
  }
}

/* ======================================================================= */
/* CUDA memory against system memory (on a GPU)                           */

/* One step of a sequence: properties to set (gst-launch syntax), and
 * whether to flush or mark the buffer DISCONT before it. */
struct SeqStep {
  std::vector<std::pair<const char*, const char*>> props;
  bool flush = false;
  bool discont = false;
  double level = -1;  // < 0: random content, else a noisy flat scene
};

/* Runs `steps` through `description` (filter named "f") and returns the outputs. */
std::vector<Buffer> run_sequence(const std::string& description, const std::string& caps_str,
                                 const std::vector<SeqStep>& steps, std::vector<bool>* cuda_out = nullptr) {
  std::vector<Buffer> outs;
  const GstVideoInfo info = video_info(caps_str);
  Harness h(new_harness(description));
  EXPECT_TRUE(h);
  if (!h) return outs;
  GstElement* f = gst_bin_get_by_name(GST_BIN(h->element), "f");
  EXPECT_TRUE(f);
  if (!f) return outs;
  GstPad* src = gst_element_get_static_pad(f, "src");
  gulong probe = 0;
  if (cuda_out)
    probe = gst_pad_add_probe(
        src, GST_PAD_PROBE_TYPE_BUFFER,
        [](GstPad*, GstPadProbeInfo* info, gpointer data) {
          GstMemory* mem = gst_buffer_peek_memory(GST_PAD_PROBE_INFO_BUFFER(info), 0);
          static_cast<std::vector<bool>*>(data)->push_back(
              mem && mem->allocator && std::string(mem->allocator->mem_type) == "gst.cuda.memory");
          return GST_PAD_PROBE_OK;
        },
        cuda_out, nullptr);
  gst_harness_set_src_caps_str(h.get(), caps_str.c_str());
  gst_harness_set_sink_caps_str(h.get(), caps_str.c_str());
  std::mt19937 rng(99);
  int n = 0;
  for (const SeqStep& st : steps) {
    for (const auto& [name, value] : st.props) gst_util_set_object_arg(G_OBJECT(f), name, value);
    if (st.flush) {
      gst_harness_push_event(h.get(), gst_event_new_flush_start());
      gst_harness_push_event(h.get(), gst_event_new_flush_stop(TRUE));
      GstSegment seg;
      gst_segment_init(&seg, GST_FORMAT_TIME);
      gst_harness_push_event(h.get(), gst_event_new_segment(&seg));
    }
    Buffer in = st.level < 0 ? random_frame(info, rng, frame_pts(n)) : scene_buffer(info, st.level, 20, rng, frame_pts(n));
    ++n;
    if (st.discont) GST_BUFFER_FLAG_SET(in.get(), GST_BUFFER_FLAG_DISCONT);
    outs.push_back(push_pull(h.get(), in));
    EXPECT_TRUE(outs.back()) << "step " << n - 1;
  }
  if (probe) gst_pad_remove_probe(src, probe);
  gst_object_unref(src);
  gst_object_unref(f);
  return outs;
}

void expect_cuda_matches_cpu(const char* format, int w, int hgt, const std::vector<SeqStep>& steps) {
  const std::string caps_str = caps_string(format, w, hgt);
  SCOPED_TRACE(caps_str);
  const GstVideoInfo info = video_info(caps_str);
  std::vector<bool> cuda_buffers;
  const auto gpu = run_sequence("cudaupload ! iir2dfilter name=f ! cudadownload", caps_str, steps, &cuda_buffers);
  /* The contract's rule (at most 1 code, identical for 99.9 %) is against
   * refcpu, the oracle: the CPU side runs it (IIR2D_CPU_PATH=reference, read
   * when the element is made), not the fast CPU path, which is itself only
   * within the contract of the oracle (GStreamer 1.26's build showed the
   * two production paths 1 code apart on 0.4 % of samples). */
  g_setenv("IIR2D_CPU_PATH", "reference", TRUE);
  const auto cpu = run_sequence("identity ! iir2dfilter name=f ! identity", caps_str, steps);
  g_unsetenv("IIR2D_CPU_PATH");
  ASSERT_EQ(gpu.size(), steps.size());
  ASSERT_EQ(cpu.size(), steps.size());
  for (std::size_t i = 0; i < steps.size(); ++i) {
    if (!gpu[i] || !cpu[i]) continue;
    EXPECT_EQ(compare_within_contract(info, gpu[i].get(), cpu[i].get()), "") << "step " << i;
  }
  ASSERT_EQ(cuda_buffers.size(), steps.size());
  for (std::size_t i = 0; i < steps.size(); ++i)
    EXPECT_TRUE(cuda_buffers[i]) << "step " << i << ": the filter's output is not CUDA memory";
}

/* Temporal smoothing (fixed, adaptive, a cut, flush, DISCONT, a filter-id
 * change) and live settings, CUDA against system memory. */
TEST(Iir2dFilterCuda, TemporalSequencesMatchTheCpu) {
  SKIP_WITHOUT_CUDA();
  const std::vector<SeqStep> steps = {
      {{{"temporal-mode", "fixed"}, {"temporal-alpha", "0.3"}, {"planes", "all"}}, false, false, 0.3},
      {{}, false, false, 0.3},
      {{}, false, false, 0.3},
      {{{"temporal-mode", "adaptive"}}, false, false, 0.3},
      {{}, false, false, 0.8},  // scene cut
      {{}, false, false, 0.8},
      {{}, true, false, 0.5},   // flush
      {{}, false, true, 0.2},   // DISCONT
      {{{"filter-id", "6"}, {"sigma", "5"}}, false, false, 0.2},
      {{{"strength", "0.5"}, {"precision", "mixed"}}, false, false, -1},
      {{{"planes", "luma"}, {"unity-gain", "true"}}, false, false, -1},
  };
  for (const char* format : {"P010_10LE", "I422_10LE", "Y444_16LE", "P016_LE", "NV12", "RGBA", "BGRx", "RGB", "GBRA",
                             "RGBP"})
    expect_cuda_matches_cpu(format, 67, 41, steps);
}

/* Passthrough in and out on CUDA memory: the filter's output stays CUDA
 * memory from its own pool after leaving passthrough. */
TEST(Iir2dFilterCuda, PassthroughRenegotiatesTheCudaPool) {
  SKIP_WITHOUT_CUDA();
  const std::vector<SeqStep> steps = {
      {{{"strength", "1"}}}, {{{"strength", "0"}}}, {{}}, {{{"strength", "0.7"}}},
      {{{"strength", "0"}}}, {{{"temporal-mode", "fixed"}}}, {{{"temporal-mode", "off"}}}, {{{"strength", "1"}}},
  };
  for (const char* format : {"NV12", "RGBA", "P010_10LE"}) expect_cuda_matches_cpu(format, 64, 48, steps);
}

/* The extensions (sigma up to 64, unity gain) on every new CUDA format; 1080p
 * frames of every format are in test_iir2dfilter.cpp. */
TEST(Iir2dFilterCuda, FormatsAndExtensionsMatchTheCpu) {
  SKIP_WITHOUT_CUDA();
  const std::vector<SeqStep> steps = {
      {{{"filter-id", "6"}, {"sigma", "64"}, {"unity-gain", "true"}}},
      {{{"filter-id", "4"}, {"sigma", "0.5"}, {"border-init", "iir2d"}}},
      {{{"filter-id", "6"}, {"sigma", "12"}, {"precision", "f64"}, {"planes", "all"}}},
  };
  for (const char* format : {"I420_10LE", "I422_10LE", "P010_10LE", "P016_LE", "Y444_16LE", "RGBA", "BGRA", "RGBx",
                             "BGRx", "ARGB", "ABGR", "RGB", "BGR", "RGBP", "BGRP", "GBR", "GBRA"})
    expect_cuda_matches_cpu(format, 322, 181, steps);
}

}  // namespace
