// SPDX-License-Identifier: MIT
/*
 * Tier 3: the iir2dfilter element through GstHarness, system-memory path,
 * against the CPU reference (refcpu) called directly on the same input.
 *
 * meson's test environment points GST_PLUGIN_PATH at <build>/gst; every test
 * fails (with the reason) if the element cannot be found.
 */
#include <gst/base/gstbasetransform.h>
#include <gst/check/gstharness.h>
#include <gst/gst.h>
#include <gst/video/video.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <iostream>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "iir2dfilter_support.h"

namespace {

/* Counts GLib-GObject warnings (GObject refusing a value) while alive. */
class WarningCounter {
 public:
  WarningCounter() {
    id_ = g_log_set_handler("GLib-GObject", GLogLevelFlags(G_LOG_LEVEL_WARNING | G_LOG_LEVEL_CRITICAL),
                            &WarningCounter::handler, this);
  }
  ~WarningCounter() { g_log_remove_handler("GLib-GObject", id_); }
  int count() const { return count_; }

 private:
  static void handler(const gchar*, GLogLevelFlags, const gchar*, gpointer self) {
    ++static_cast<WarningCounter*>(self)->count_;
  }
  guint id_ = 0;
  int count_ = 0;
};

/* Whether the GStreamer running the tests is 1.24 or newer. */
bool gst_1_24() {
  guint major = 0, minor = 0, micro = 0, nano = 0;
  gst_version(&major, &minor, &micro, &nano);
  return major > 1 || (major == 1 && minor >= 24);
}

/* Every format the element takes in system memory: 1.22's, and GBR_16LE
 * where the running GStreamer has it (1.24+). */
std::vector<const char*> system_formats() {
  std::vector<const char*> f = {
      "GRAY8",     "GRAY16_LE", "NV12",      "NV21",    "I420",    "YV12",      "Y42B",      "Y444",
      "A420",      "I420_10LE", "I422_10LE", "Y444_10LE", "I420_12LE", "I422_12LE", "Y444_12LE", "P010_10LE",
      "P012_LE",   "P016_LE",   "Y444_16LE", "RGBA",    "BGRA",    "RGBx",      "BGRx",      "ARGB",
      "ABGR",      "RGB",       "BGR",       "RGBP",    "BGRP",    "GBR",       "GBRA",      "GBR_10LE",
      "GBR_12LE"};
  if (gst_1_24()) f.push_back("GBR_16LE");
  return f;
}
const std::vector<const char*> kFormats = system_formats();

/* ======================================================================= */
/* Properties                                                              */

class Iir2dFilterProperties : public ::testing::Test {
 protected:
  void SetUp() override {
    REQUIRE_ELEMENT();
    h_.reset(new_harness());
    ASSERT_TRUE(h_);
    e_ = h_->element;
  }
  Harness h_;
  GstElement* e_ = nullptr;
};

TEST_F(Iir2dFilterProperties, Defaults) {
  guint id = 0;
  gdouble constant = -1, strength = -1;
  gint device = 0;
  g_object_get(e_, "filter-id", &id, "border-constant", &constant, "strength", &strength, "cuda-device-id", &device,
               nullptr);
  EXPECT_EQ(id, 1u);
  EXPECT_EQ(constant, 0.0);
  EXPECT_EQ(strength, 1.0);
  EXPECT_EQ(device, -1);
  EXPECT_EQ(enum_nick(G_OBJECT(e_), "border"), "mirror");
  EXPECT_EQ(enum_nick(G_OBJECT(e_), "border-init"), "exact");
  EXPECT_EQ(enum_nick(G_OBJECT(e_), "precision"), "f32");
  EXPECT_EQ(enum_nick(G_OBJECT(e_), "planes"), "luma");

  gdouble sigma = 0, alpha = 0, alpha_min = 0, alpha_max = 0, threshold = 0;
  gboolean unity = TRUE;
  g_object_get(e_, "sigma", &sigma, "unity-gain", &unity, "temporal-alpha", &alpha, "temporal-alpha-min",
               &alpha_min, "temporal-alpha-max", &alpha_max, "motion-threshold", &threshold, nullptr);
  EXPECT_EQ(sigma, 2.0);
  EXPECT_FALSE(unity);
  EXPECT_EQ(alpha, 0.9);
  EXPECT_EQ(alpha_min, 0.10);
  EXPECT_EQ(alpha_max, 0.95);
  EXPECT_EQ(threshold, 0.08);
  EXPECT_EQ(enum_nick(G_OBJECT(e_), "temporal-mode"), "off");
}

TEST_F(Iir2dFilterProperties, SpecsShowRangesAndLiveFlags) {
  GObjectClass* klass = G_OBJECT_GET_CLASS(e_);
  GParamSpec* id = g_object_class_find_property(klass, "filter-id");
  ASSERT_TRUE(id);
  EXPECT_EQ(G_PARAM_SPEC_UINT(id)->minimum, 1u);
  EXPECT_EQ(G_PARAM_SPEC_UINT(id)->maximum, 8u);
  const std::string blurb = g_param_spec_get_blurb(id);
  for (int k = 1; k <= 8; ++k)
    EXPECT_NE(blurb.find(iir2d::filter_description(k)), std::string::npos) << "blurb lacks program " << k;
  /* Issue 5: every property live; exactly the three continuous blends
   * controllable. */
  const std::vector<std::string> controllable = {"strength", "border-constant", "temporal-alpha"};
  for (const char* name : {"filter-id", "border", "border-constant", "border-init", "precision", "strength",
                           "planes", "sigma", "unity-gain", "temporal-mode", "temporal-alpha", "temporal-alpha-min",
                           "temporal-alpha-max", "motion-threshold"}) {
    GParamSpec* ps = g_object_class_find_property(klass, name);
    ASSERT_TRUE(ps) << name;
    EXPECT_TRUE(ps->flags & GST_PARAM_MUTABLE_PLAYING) << name;
    const bool want = std::find(controllable.begin(), controllable.end(), name) != controllable.end();
    EXPECT_EQ((ps->flags & GST_PARAM_CONTROLLABLE) != 0, want) << name;
    EXPECT_TRUE(g_param_spec_get_blurb(ps) && *g_param_spec_get_blurb(ps)) << name;
  }
  GParamSpec* sigma = g_object_class_find_property(klass, "sigma");
  EXPECT_EQ(G_PARAM_SPEC_DOUBLE(sigma)->minimum, 0.5);
  EXPECT_EQ(G_PARAM_SPEC_DOUBLE(sigma)->maximum, 64.0);
  for (const char* name : {"temporal-alpha", "temporal-alpha-min", "temporal-alpha-max", "motion-threshold"}) {
    GParamSpec* ps = g_object_class_find_property(klass, name);
    EXPECT_EQ(G_PARAM_SPEC_DOUBLE(ps)->minimum, 0.0) << name;
    EXPECT_EQ(G_PARAM_SPEC_DOUBLE(ps)->maximum, 1.0) << name;
  }
  EXPECT_EQ(std::string(g_type_name(g_object_class_find_property(klass, "temporal-mode")->value_type)),
            "GstIir2dTemporalMode");
  GParamSpec* dev = g_object_class_find_property(klass, "cuda-device-id");
  ASSERT_TRUE(dev);
  EXPECT_TRUE(dev->flags & GST_PARAM_MUTABLE_READY);
  EXPECT_EQ(G_PARAM_SPEC_INT(dev)->minimum, -1);
  EXPECT_EQ(std::string(g_type_name(g_object_class_find_property(klass, "border")->value_type)), "GstIir2dBorder");
  EXPECT_EQ(std::string(g_type_name(g_object_class_find_property(klass, "border-init")->value_type)),
            "GstIir2dBorderInit");
  EXPECT_EQ(std::string(g_type_name(g_object_class_find_property(klass, "precision")->value_type)),
            "GstIir2dPrecision");
  EXPECT_EQ(std::string(g_type_name(g_object_class_find_property(klass, "planes")->value_type)), "GstIir2dPlanes");
}

TEST_F(Iir2dFilterProperties, RoundTrip) {
  for (guint id = 1; id <= 8; ++id) {
    g_object_set(e_, "filter-id", id, nullptr);
    guint got = 0;
    g_object_get(e_, "filter-id", &got, nullptr);
    EXPECT_EQ(got, id);
  }
  for (double v : {0.0, 0.25, 1.0}) {
    gdouble got = -1;
    g_object_set(e_, "border-constant", v, nullptr);
    g_object_get(e_, "border-constant", &got, nullptr);
    EXPECT_EQ(got, v);
    g_object_set(e_, "strength", v, nullptr);
    g_object_get(e_, "strength", &got, nullptr);
    EXPECT_EQ(got, v);
  }
  for (gint v : {0, 3, -1}) {
    gint got = -5;
    g_object_set(e_, "cuda-device-id", v, nullptr);
    g_object_get(e_, "cuda-device-id", &got, nullptr);
    EXPECT_EQ(got, v);
  }
  const std::vector<std::pair<const char*, std::vector<const char*>>> enums = {
      {"border", {"clamp", "mirror", "wrap", "constant"}},
      {"border-init", {"iir2d", "exact"}},
      {"precision", {"f32", "mixed", "f64"}},
      {"planes", {"all", "luma"}},
      {"temporal-mode", {"fixed", "adaptive", "off"}},
  };
  for (const auto& [prop, nicks] : enums)
    for (const char* nick : nicks) {
      gst_util_set_object_arg(G_OBJECT(e_), prop, nick);
      EXPECT_EQ(enum_nick(G_OBJECT(e_), prop), nick) << prop;
    }
  for (double v : {0.5, 2.0, 7.25, 64.0}) {
    gdouble got = -1;
    g_object_set(e_, "sigma", v, nullptr);
    g_object_get(e_, "sigma", &got, nullptr);
    EXPECT_EQ(got, v);
  }
  for (const char* name : {"temporal-alpha", "motion-threshold"})
    for (double v : {0.0, 0.3, 1.0}) {
      gdouble got = -1;
      g_object_set(e_, name, v, nullptr);
      g_object_get(e_, name, &got, nullptr);
      EXPECT_EQ(got, v) << name;
    }
  /* In an order that keeps temporal-alpha-min <= temporal-alpha-max (the
   * element refuses the rest: test_iir2dfilter_settings.cpp). */
  for (double v : {0.0, 0.3, 1.0}) {
    gdouble min = -1, max = -1;
    g_object_set(e_, "temporal-alpha-max", 1.0, "temporal-alpha-min", v, nullptr);
    g_object_get(e_, "temporal-alpha-min", &min, nullptr);
    g_object_set(e_, "temporal-alpha-max", v, nullptr);
    g_object_get(e_, "temporal-alpha-max", &max, nullptr);
    EXPECT_EQ(min, v);
    EXPECT_EQ(max, v);
  }
  for (gboolean v : {gboolean(TRUE), gboolean(FALSE)}) {
    gboolean got = !v;
    g_object_set(e_, "unity-gain", v, nullptr);
    g_object_get(e_, "unity-gain", &got, nullptr);
    EXPECT_EQ(got, v);
  }
  /* Also by numeric value through the GType. */
  g_object_set(e_, "border", 3, nullptr);
  EXPECT_EQ(enum_nick(G_OBJECT(e_), "border"), "constant");
}

TEST_F(Iir2dFilterProperties, OutOfRangeValuesAreRefused) {
  g_object_set(e_, "filter-id", 4u, "strength", 0.5, "border-constant", 0.5, "cuda-device-id", 1, nullptr);
  gst_util_set_object_arg(G_OBJECT(e_), "border", "wrap");
  gst_util_set_object_arg(G_OBJECT(e_), "precision", "mixed");
  {
    WarningCounter warnings;
    g_object_set(e_, "filter-id", 0u, nullptr);
    g_object_set(e_, "filter-id", 9u, nullptr);
    g_object_set(e_, "strength", 1.5, nullptr);
    g_object_set(e_, "strength", -0.1, nullptr);
    g_object_set(e_, "border-constant", 2.0, nullptr);
    g_object_set(e_, "border-constant", -1.0, nullptr);
    g_object_set(e_, "cuda-device-id", -2, nullptr);
    g_object_set(e_, "border", 17, nullptr);
    g_object_set(e_, "precision", -1, nullptr);
    /* Unknown nicks are refused by deserialisation (a GStreamer warning). */
    gst_util_set_object_arg(G_OBJECT(e_), "border", "reflect");
    gst_util_set_object_arg(G_OBJECT(e_), "planes", "chroma");
    g_object_set(e_, "sigma", 0.25, nullptr);
    g_object_set(e_, "sigma", 65.0, nullptr);
    g_object_set(e_, "temporal-alpha", 1.5, nullptr);
    g_object_set(e_, "motion-threshold", -0.5, nullptr);
    g_object_set(e_, "temporal-mode", 3, nullptr);
    /* GObject warns for each refused value (where its log goes through g_log). */
    if (warnings.count() > 0) {
      EXPECT_GE(warnings.count(), 14);
    }
  }
  gdouble sigma = 0, alpha = 0, threshold = 0;
  g_object_get(e_, "sigma", &sigma, "temporal-alpha", &alpha, "motion-threshold", &threshold, nullptr);
  EXPECT_EQ(sigma, 2.0);
  EXPECT_EQ(alpha, 0.9);
  EXPECT_EQ(threshold, 0.08);
  EXPECT_EQ(enum_nick(G_OBJECT(e_), "temporal-mode"), "off");
  guint id = 0;
  gdouble strength = 0, constant = 0;
  gint device = 0;
  g_object_get(e_, "filter-id", &id, "strength", &strength, "border-constant", &constant, "cuda-device-id", &device,
               nullptr);
  EXPECT_EQ(id, 4u);
  EXPECT_EQ(strength, 0.5);
  EXPECT_EQ(constant, 0.5);
  EXPECT_EQ(device, 1);
  EXPECT_EQ(enum_nick(G_OBJECT(e_), "border"), "wrap");
  EXPECT_EQ(enum_nick(G_OBJECT(e_), "precision"), "mixed");
  EXPECT_EQ(enum_nick(G_OBJECT(e_), "planes"), "luma");
}

/* ======================================================================= */
/* Caps                                                                    */

TEST(Iir2dFilterCaps, TemplatesListCudaFirstThenSystemMemory) {
  REQUIRE_ELEMENT();
  GstElementFactory* f = gst_element_factory_find("iir2dfilter");
  for (const GList* l = gst_element_factory_get_static_pad_templates(f); l; l = l->next) {
    auto* t = static_cast<GstStaticPadTemplate*>(l->data);
    Caps caps(gst_static_caps_get(&t->static_caps));
    bool have_system = false;
    for (guint i = 0; i < gst_caps_get_size(caps.get()); ++i) {
      GstCapsFeatures* feat = gst_caps_get_features(caps.get(), i);
      const bool cuda = gst_caps_features_contains(feat, "memory:CUDAMemory");
      if (cuda) {
        EXPECT_EQ(i, 0u) << t->name_template << ": CUDA caps must come first";
      }
      if (!cuda && gst_caps_features_contains(feat, "format:Interlaced")) {
        /* interlace-mode=alternate (issue 11), which needs that feature. */
        EXPECT_EQ(gst_caps_features_get_size(feat), 1u);
        EXPECT_STREQ(gst_structure_get_string(gst_caps_get_structure(caps.get(), i), "interlace-mode"), "alternate");
        continue;
      }
      if (!cuda) {
        EXPECT_TRUE(gst_caps_features_is_equal(feat, GST_CAPS_FEATURES_MEMORY_SYSTEM_MEMORY));
        have_system = true;
        for (const char* fmt : kFormats) {
          Caps one(gst_caps_from_string(caps_string(fmt, 16, 16).c_str()));
          EXPECT_TRUE(gst_caps_can_intersect(one.get(), caps.get())) << t->name_template << " lacks " << fmt;
        }
      }
    }
    EXPECT_TRUE(have_system) << t->name_template;
  }
  gst_object_unref(f);
}

TEST(Iir2dFilterCaps, UnsupportedFormatFailsNegotiation) {
  REQUIRE_ELEMENT();
  for (const char* fmt : {"YUY2", "GRAY16_BE", "I422_12BE", "xRGB"}) {
    Harness h(new_harness());
    gst_harness_set_src_caps_str(h.get(), caps_string(fmt, 32, 16).c_str());
    GstVideoInfo info = video_info(caps_string(fmt, 32, 16));
    GstBuffer* buf = gst_buffer_new_allocate(nullptr, GST_VIDEO_INFO_SIZE(&info), nullptr);
    gst_buffer_memset(buf, 0, 0x80, GST_VIDEO_INFO_SIZE(&info));
    EXPECT_EQ(gst_harness_push(h.get(), buf), GST_FLOW_NOT_NEGOTIATED) << fmt;
  }
}

/* CUDA caps with a system-memory buffer must fail cleanly whatever the
 * build: not negotiated (no CUDA in this build, or no driver: the element
 * then posts an error naming the cause) or a flow error (the buffer is not
 * CUDA memory). */
TEST(Iir2dFilterCaps, CudaCapsWithoutCudaMemoryFailCleanly) {
  REQUIRE_ELEMENT();
  Harness h(new_harness());
  GstBus* bus = gst_bus_new();
  gst_element_set_bus(h->element, bus);
  const std::string sys = caps_string("NV12", 32, 16);
  std::string cuda = sys;
  cuda.replace(0, std::strlen("video/x-raw"), "video/x-raw(memory:CUDAMemory)");
  gst_harness_set_src_caps_str(h.get(), cuda.c_str());
  GstVideoInfo info = video_info(sys);
  GstBuffer* buf = gst_buffer_new_allocate(nullptr, GST_VIDEO_INFO_SIZE(&info), nullptr);
  gst_buffer_memset(buf, 0, 0x80, GST_VIDEO_INFO_SIZE(&info));
  const GstFlowReturn ret = gst_harness_push(h.get(), buf);
  EXPECT_TRUE(ret == GST_FLOW_NOT_NEGOTIATED || ret == GST_FLOW_ERROR) << gst_flow_get_name(ret);

  GstPadTemplate* t = gst_element_get_pad_template(h->element, "sink");
  Caps tcaps(gst_pad_template_get_caps(t));
  Caps ccaps(gst_caps_from_string(cuda.c_str()));
  const bool cuda_build = gst_caps_can_intersect(tcaps.get(), ccaps.get());
  GstMessage* msg = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR);
  if (cuda_build) {
    ASSERT_TRUE(msg) << "a CUDA build must post an error naming the cause";
    GError* err = nullptr;
    gchar* dbg = nullptr;
    gst_message_parse_error(msg, &err, &dbg);
    std::cout << "  posted: " << err->message << " | " << (dbg ? dbg : "") << "\n";
    const std::string text = std::string(err->message) + " " + (dbg ? dbg : "");
    EXPECT_TRUE(text.find("CUDA") != std::string::npos || text.find("buffer") != std::string::npos) << text;
    g_error_free(err);
    g_free(dbg);
  }
  if (msg) gst_message_unref(msg);
  gst_element_set_bus(h->element, nullptr);
  gst_object_unref(bus);
}

/* ======================================================================= */
/* Output against refcpu                                                   */

const Combo kCombos[] = {
    {"id1_mirror_exact_f32_luma", 1, "mirror", 0.0, "exact", "f32", 1.0, "luma"},
    {"id2_clamp_iir2d_mixed_all_s05", 2, "clamp", 0.0, "iir2d", "mixed", 0.5, "all"},
    {"id3_wrap_exact_f64_all", 3, "wrap", 0.0, "exact", "f64", 1.0, "all"},
    {"id4_const025_exact_f32_luma_s07", 4, "constant", 0.25, "exact", "f32", 0.7, "luma"},
    {"id5_mirror_iir2d_f32_all", 5, "mirror", 0.0, "iir2d", "f32", 1.0, "all"},
    {"id6_clamp_exact_mixed_luma", 6, "clamp", 0.0, "exact", "mixed", 1.0, "luma"},
    {"id7_wrap_iir2d_f64_luma", 7, "wrap", 0.0, "iir2d", "f64", 1.0, "luma"},
    {"id8_const1_iir2d_f32_all", 8, "constant", 1.0, "iir2d", "f32", 1.0, "all"},
};

struct Size {
  int w, h;
};
const Size kSizes[] = {{33, 17}, {64, 48}, {1, 1}};

using OutputParam = std::tuple<const char*, Size, Combo, bool>;

class Iir2dFilterOutput : public ::testing::TestWithParam<OutputParam> {};

TEST_P(Iir2dFilterOutput, MatchesRefcpu) {
  REQUIRE_ELEMENT();
  const auto& [format, size, combo, padded] = GetParam();
  const std::string caps_str = caps_string(format, size.w, size.h);
  SCOPED_TRACE(caps_str + " " + combo.name + (padded ? " padded" : ""));
  const GstVideoInfo info = video_info(caps_str);

  Harness h(new_harness());
  apply(h->element, combo);
  gst_harness_set_src_caps_str(h.get(), caps_str.c_str());

  std::mt19937 rng(1234u + size.w * 7 + size.h);
  Buffer in = random_buffer(info, rng, padded);
  Buffer want = expected_output(info, in.get(), params_of(combo), combo.strength, all_planes(combo));

  ASSERT_EQ(gst_harness_push(h.get(), gst_buffer_ref(in.get())), GST_FLOW_OK);
  Buffer out(gst_harness_pull(h.get()));
  ASSERT_TRUE(out);

  /* Caps out == caps in. */
  Caps in_caps(gst_pad_get_current_caps(GST_BASE_TRANSFORM_SINK_PAD(h->element)));
  Caps out_caps(gst_pad_get_current_caps(GST_BASE_TRANSFORM_SRC_PAD(h->element)));
  ASSERT_TRUE(in_caps && out_caps);
  EXPECT_TRUE(gst_caps_is_equal(in_caps.get(), out_caps.get()))
      << gst_caps_to_string(in_caps.get()) << " vs " << gst_caps_to_string(out_caps.get());

  EXPECT_EQ(compare_frames(info, out.get(), want.get()), "");
  EXPECT_EQ(GST_BUFFER_PTS(out.get()), GST_BUFFER_PTS(in.get()));
  /* Guard against a silent copy: random content must change under a smoothing filter. */
  if (size.w > 1 && size.h > 1) {
    EXPECT_NE(compare_frames(info, out.get(), in.get(), 0), "") << "luma unchanged";
  }

  expect_unfiltered_parts_unchanged(info, out.get(), in.get(), all_planes(combo));
}

std::string output_name(const ::testing::TestParamInfo<OutputParam>& p) {
  const auto& [format, size, combo, padded] = p.param;
  std::ostringstream s;
  s << format << "_" << size.w << "x" << size.h << "_" << combo.name << (padded ? "_padded" : "");
  return s.str();
}

INSTANTIATE_TEST_SUITE_P(Formats, Iir2dFilterOutput,
                         ::testing::Combine(::testing::ValuesIn(kFormats), ::testing::ValuesIn(kSizes),
                                            ::testing::ValuesIn(kCombos), ::testing::Bool()),
                         output_name);


/* The formats GStreamer's CUDA allocator lays out: at 1.22 all of kFormats
 * but GRAY8, GRAY16_LE, A420, Y444_10LE and the 12-bit ones; since 1.24 also
 * Y444_10LE, Y444_12LE, I420_12LE, P012_LE and GBR_10/12/16LE. */
std::vector<const char*> cuda_formats() {
  std::vector<const char*> f = {"NV12", "NV21",      "I420",    "YV12",    "Y42B",      "Y444", "I420_10LE", "I422_10LE",
                                "P010_10LE", "P016_LE", "Y444_16LE", "RGBA", "BGRA",  "RGBx", "BGRx", "ARGB",
                                "ABGR",      "RGB",     "BGR",       "RGBP", "BGRP",  "GBR",  "GBRA"};
  if (gst_1_24())
    for (const char* x : {"Y444_10LE", "Y444_12LE", "I420_12LE", "P012_LE", "GBR_10LE", "GBR_12LE", "GBR_16LE"})
      f.push_back(x);
  return f;
}
const std::vector<const char*> kCudaFormats = cuda_formats();
const Size kCudaSizes[] = {{33, 17}, {64, 48}, {1, 1}, {1920, 1080}};

using CudaParam = std::tuple<const char*, Size>;
class Iir2dFilterCudaOutput : public ::testing::TestWithParam<CudaParam> {};

/* Runs every parameter set of kCombos, one buffer each, through the bin
 * `description` (which names the filter "f"), the set changing between
 * buffers while PLAYING, as in an application. `cuda`: the filter must have
 * negotiated CUDA memory. */
void run_bin(const std::string& description, const char* format, Size size, bool cuda) {
  const std::string caps_str = caps_string(format, size.w, size.h);
  SCOPED_TRACE(description + " " + caps_str);
  const GstVideoInfo info = video_info(caps_str);

  Harness h(new_harness(description));
  ASSERT_TRUE(h);
  GstElement* f = gst_bin_get_by_name(GST_BIN(h->element), "f");
  ASSERT_TRUE(f);
  gst_harness_set_src_caps_str(h.get(), caps_str.c_str());
  gst_harness_set_sink_caps_str(h.get(), caps_str.c_str());
  std::mt19937 rng(4321u + size.w + size.h);
  int n = 0;
  for (const Combo& k : kCombos) {
    SCOPED_TRACE(k.name);
    apply(f, k);
    Buffer in = random_buffer(info, rng, n % 2 == 1);
    GST_BUFFER_PTS(in.get()) = n++ * GST_SECOND / 30;
    Buffer want = expected_output(info, in.get(), params_of(k), k.strength, all_planes(k));
    ASSERT_EQ(gst_harness_push(h.get(), gst_buffer_ref(in.get())), GST_FLOW_OK);
    Buffer out(gst_harness_pull(h.get()));
    ASSERT_TRUE(out);
    EXPECT_EQ(compare_within_contract(info, out.get(), want.get()), "");
    expect_unfiltered_parts_unchanged(info, out.get(), in.get(), all_planes(k));
  }
  GstPad* src = gst_element_get_static_pad(f, "src");
  Caps caps(gst_pad_get_current_caps(src));
  ASSERT_TRUE(caps);
  EXPECT_EQ(gst_caps_features_contains(gst_caps_get_features(caps.get(), 0), "memory:CUDAMemory"), cuda)
      << gst_caps_to_string(caps.get());
  gst_object_unref(src);
  gst_object_unref(f);
}

TEST_P(Iir2dFilterCudaOutput, MatchesRefcpuWithinContract) {
  SKIP_WITHOUT_CUDA();
  const auto& [format, size] = GetParam();
  /* The known limit of GStreamer 1.26's CUDA memory (README, "GStreamer versions"). */
  guint major = 0, minor = 0, micro = 0, nano = 0;
  gst_version(&major, &minor, &micro, &nano);
  const bool on_126 = major > 1 || (major == 1 && minor >= 26);
  if (on_126 && std::string(format) == "NV21" && size.h % 2 == 1) {
    expect_cuda_caps_refused(caps_string(format, size.w, size.h), "NV21 frames of odd height");
    return;
  }
  run_bin("cudaupload ! iir2dfilter name=f ! cudadownload", format, size, true);
}

/* The same route in system memory: checks the bin plumbing the CUDA test
 * relies on, wherever the suite runs. */
TEST(Iir2dFilterBin, SystemMemoryInABin) {
  REQUIRE_ELEMENT();
  run_bin("identity ! iir2dfilter name=f ! identity", "NV12", Size{33, 17}, false);
  run_bin("queue ! iir2dfilter name=f ! queue", "I420_10LE", Size{64, 48}, false);
}

std::string cuda_name(const ::testing::TestParamInfo<CudaParam>& p) {
  const auto& [format, size] = p.param;
  return std::string(format) + "_" + std::to_string(size.w) + "x" + std::to_string(size.h);
}

INSTANTIATE_TEST_SUITE_P(Formats, Iir2dFilterCudaOutput,
                         ::testing::Combine(::testing::ValuesIn(kCudaFormats), ::testing::ValuesIn(kCudaSizes)),
                         cuda_name);

/* ======================================================================= */
/* Behaviour while PLAYING                                                 */

TEST(Iir2dFilterBehaviour, StrengthZeroIsBitExact) {
  REQUIRE_ELEMENT();
  for (const char* format : kFormats) {
    SCOPED_TRACE(format);
    const std::string caps_str = caps_string(format, 33, 17);
    const GstVideoInfo info = video_info(caps_str);
    Harness h(new_harness());
    g_object_set(h->element, "strength", 0.0, "filter-id", 4u, nullptr);
    gst_util_set_object_arg(G_OBJECT(h->element), "planes", "all");
    gst_harness_set_src_caps_str(h.get(), caps_str.c_str());
    std::mt19937 rng(7);
    Buffer in = random_buffer(info, rng, false);
    ASSERT_EQ(gst_harness_push(h.get(), gst_buffer_ref(in.get())), GST_FLOW_OK);
    Buffer out(gst_harness_pull(h.get()));
    ASSERT_TRUE(out);
    EXPECT_EQ(compare_frames(info, out.get(), in.get()), "");
  }
}

TEST(Iir2dFilterBehaviour, PropertyChangeAppliesToNextBuffer) {
  REQUIRE_ELEMENT();
  const std::string caps_str = caps_string("I420", 64, 48);
  const GstVideoInfo info = video_info(caps_str);
  Harness h(new_harness());
  gst_harness_set_src_caps_str(h.get(), caps_str.c_str());
  std::mt19937 rng(99);

  const Combo first = {"first", 1, "mirror", 0.0, "exact", "f32", 1.0, "luma"};
  const Combo second = {"second", 6, "wrap", 0.0, "iir2d", "f64", 0.5, "all"};
  const Combo third = {"third", 3, "constant", 0.75, "exact", "mixed", 1.0, "luma"};
  apply(h->element, first);
  for (const Combo* k : {&first, &second, &third}) {
    SCOPED_TRACE(k->name);
    if (k != &first) apply(h->element, *k);  // between buffers, element PLAYING
    Buffer in = random_buffer(info, rng, false);
    Buffer want = expected_output(info, in.get(), params_of(*k), k->strength, all_planes(*k));
    ASSERT_EQ(gst_harness_push(h.get(), gst_buffer_ref(in.get())), GST_FLOW_OK);
    Buffer out(gst_harness_pull(h.get()));
    ASSERT_TRUE(out);
    EXPECT_EQ(compare_frames(info, out.get(), want.get()), "");
  }
  EXPECT_EQ(GST_STATE(h->element), GST_STATE_PLAYING);
}

TEST(Iir2dFilterBehaviour, ManyBuffersAndCapsChange) {
  REQUIRE_ELEMENT();
  Harness h(new_harness());
  gst_util_set_object_arg(G_OBJECT(h->element), "planes", "all");
  std::mt19937 rng(5);
  const Combo k = {"default_all", 1, "mirror", 0.0, "exact", "f32", 1.0, "all"};
  for (const char* format : {"NV12", "Y444", "GRAY8"}) {
    SCOPED_TRACE(format);
    const std::string caps_str = caps_string(format, 31, 9);
    const GstVideoInfo info = video_info(caps_str);
    gst_harness_set_src_caps_str(h.get(), caps_str.c_str());
    for (int i = 0; i < 3; ++i) {
      Buffer in = random_buffer(info, rng, i == 1);
      GST_BUFFER_PTS(in.get()) = i * GST_SECOND / 30;
      Buffer want = expected_output(info, in.get(), params_of(k), 1.0, true);
      ASSERT_EQ(gst_harness_push(h.get(), gst_buffer_ref(in.get())), GST_FLOW_OK);
      Buffer out(gst_harness_pull(h.get()));
      ASSERT_TRUE(out);
      EXPECT_EQ(compare_frames(info, out.get(), want.get()), "");
    }
  }
}

/* A 0-byte GAP buffer (a frame that is missing, e.g. from a live source)
 * passes on as it is, as videoconvert passes it, and the next frame is
 * filtered as usual (issue 10, F8: it used to stop the stream with "Could
 * not map the input buffer."). */
TEST(Iir2dFilterBehaviour, GapBuffersPassThrough) {
  REQUIRE_ELEMENT();
  const std::string caps_str = caps_string("I420", 64, 48);
  const GstVideoInfo info = video_info(caps_str);
  Harness h(new_harness());
  gst_harness_set_src_caps_str(h.get(), caps_str.c_str());
  GstBuffer* gap = gst_buffer_new();
  GST_BUFFER_FLAG_SET(gap, GST_BUFFER_FLAG_GAP);
  GST_BUFFER_PTS(gap) = 40 * GST_MSECOND;
  GST_BUFFER_DURATION(gap) = 40 * GST_MSECOND;
  ASSERT_EQ(gst_harness_push(h.get(), gap), GST_FLOW_OK);
  Buffer out(gst_harness_pull(h.get()));
  ASSERT_TRUE(out);
  EXPECT_TRUE(GST_BUFFER_FLAG_IS_SET(out.get(), GST_BUFFER_FLAG_GAP));
  EXPECT_EQ(gst_buffer_get_size(out.get()), 0u);
  EXPECT_EQ(GST_BUFFER_PTS(out.get()), 40 * GST_MSECOND);
  EXPECT_EQ(GST_BUFFER_DURATION(out.get()), 40 * GST_MSECOND);

  std::mt19937 rng(11);
  const Combo k = {"default", 1, "mirror", 0.0, "exact", "f32", 1.0, "luma"};
  Buffer in = random_buffer(info, rng, false);
  Buffer want = expected_output(info, in.get(), params_of(k), 1.0, false);
  ASSERT_EQ(gst_harness_push(h.get(), gst_buffer_ref(in.get())), GST_FLOW_OK);
  Buffer next(gst_harness_pull(h.get()));
  ASSERT_TRUE(next);
  EXPECT_EQ(compare_frames(info, next.get(), want.get()), "");
}

/* A buffer whose GstVideoMeta declares more than the buffer holds (a
 * stride of 640 for a 64-wide frame) is an error naming the plane, never a
 * read past the buffer (issue 10, F4: ASan heap-buffer-overflow); a meta
 * with honestly padded rows is filtered as usual. */
TEST(Iir2dFilterBehaviour, VideoMetaBeyondTheBufferIsAnError) {
  REQUIRE_ELEMENT();
  const std::string caps_str = caps_string("GRAY8", 64, 48);
  for (const gint stride : {640, 80}) {
    SCOPED_TRACE(stride);
    const bool lying = stride == 640;
    Harness h(new_harness());
    gst_harness_set_src_caps_str(h.get(), caps_str.c_str());
    const gsize size = lying ? 64 * 48 : 80 * 48;
    GstBuffer* buf = gst_buffer_new_allocate(nullptr, size, nullptr);
    gst_buffer_memset(buf, 0, 0x40, size);
    gsize offset[GST_VIDEO_MAX_PLANES] = {0};
    gint strides[GST_VIDEO_MAX_PLANES] = {stride};
    gst_buffer_add_video_meta_full(buf, GST_VIDEO_FRAME_FLAG_NONE, GST_VIDEO_FORMAT_GRAY8, 64, 48, 1, offset, strides);
    const GstFlowReturn ret = gst_harness_push(h.get(), buf);
    if (lying) {
      EXPECT_EQ(ret, GST_FLOW_ERROR);
      continue;
    }
    ASSERT_EQ(ret, GST_FLOW_OK);
    Buffer out(gst_harness_pull(h.get()));
    ASSERT_TRUE(out);
    GstMapInfo m;
    ASSERT_TRUE(gst_buffer_map(out.get(), &m, GST_MAP_READ));
    EXPECT_EQ(m.data[0], 0x40);  // a flat frame stays flat (border-init exact)
    gst_buffer_unmap(out.get(), &m);
  }
}

}  // namespace
