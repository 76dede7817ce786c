// SPDX-License-Identifier: MIT
// Tier 1: refcpu's frame operations (refcpu/iir2d/frame.h) against
// hand-derived expectations: the adaptive α mapping, the temporal recursion
// in closed form, component groups that reduce to the single-component
// reference, RGB through its luma on gray and on colour input (against a
// Y'CbCr round trip with the published matrices), and argument checks.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <stdexcept>
#include <vector>

#include "iir2d/filters.h"
#include "iir2d/frame.h"
#include "iir2d/frame_ops.h"
#include "iir2d/refcpu.h"

namespace {

using iir2d::ConstVideoComponent;
using iir2d::FilterParams;
using iir2d::LumaWeights;
using iir2d::Precision;
using iir2d::SampleType;
using iir2d::TemporalMode;
using iir2d::TemporalParams;
using iir2d::VideoComponent;
namespace ref = iir2d::ref;

/* A packed plane of 8- or 16-bit codes with its component views. */
struct CodePlane {
  int width = 0, height = 0, depth = 8;
  std::vector<std::uint16_t> words;  // one word per sample; 8-bit codes use the low byte via U16 views

  CodePlane(int w, int h, int d) : width(w), height(h), depth(d), words(static_cast<std::size_t>(w) * h) {}
  template <typename C, typename P>
  C view(P data) const {
    C c;
    c.data = data;
    c.width = width;
    c.height = height;
    c.row_stride = static_cast<std::ptrdiff_t>(width) * 2;
    c.pixel_stride = 2;
    c.type = SampleType::U16;
    c.depth = depth;
    c.shift = 0;
    return c;
  }
  ConstVideoComponent in() const { return view<ConstVideoComponent>(static_cast<const void*>(words.data())); }
  VideoComponent out() { return view<VideoComponent>(static_cast<void*>(words.data())); }
  std::uint16_t& at(int x, int y) { return words[static_cast<std::size_t>(y) * width + x]; }
  double max() const { return iir2d::code_max(depth); }
};

CodePlane random_plane(int w, int h, int depth, std::mt19937& rng) {
  CodePlane p(w, h, depth);
  std::uniform_int_distribution<unsigned> code(0, (1u << depth) - 1);
  for (auto& v : p.words) v = static_cast<std::uint16_t>(code(rng));
  return p;
}

CodePlane flat_plane(int w, int h, int depth, unsigned v) {
  CodePlane p(w, h, depth);
  for (auto& x : p.words) x = static_cast<std::uint16_t>(v);
  return p;
}

TEST(TemporalAlpha, FixedIgnoresMotion) {
  TemporalParams t;
  t.mode = TemporalMode::Fixed;
  t.alpha = 0.3;
  EXPECT_EQ(iir2d::temporal_alpha(t, 0.0), 0.3);
  EXPECT_EQ(iir2d::temporal_alpha(t, 1.0), 0.3);
}

TEST(TemporalAlpha, AdaptiveMapsMotionLinearlyOntoTheRange) {
  TemporalParams t;
  t.mode = TemporalMode::Adaptive;  // defaults: 0.10 .. 0.95 over 0 .. 0.08
  EXPECT_DOUBLE_EQ(iir2d::temporal_alpha(t, 0.0), 0.10);
  EXPECT_DOUBLE_EQ(iir2d::temporal_alpha(t, 0.04), 0.10 + 0.85 * 0.5);
  EXPECT_DOUBLE_EQ(iir2d::temporal_alpha(t, 0.08), 0.95);
  EXPECT_DOUBLE_EQ(iir2d::temporal_alpha(t, 0.5), 0.95);  // clipped
  EXPECT_DOUBLE_EQ(iir2d::temporal_alpha(t, std::nan("")), 0.10);
  t.motion_threshold = 0.0;  // any difference is full motion
  EXPECT_DOUBLE_EQ(iir2d::temporal_alpha(t, 0.0), 0.10);
  EXPECT_DOUBLE_EQ(iir2d::temporal_alpha(t, 1e-9), 0.95);
}

TEST(TemporalUpdate, MeanOverComponentsAndFloatState) {
  TemporalParams t;
  t.mode = TemporalMode::Adaptive;
  t.alpha_min = 0.2;
  t.alpha_max = 0.6;
  t.motion_threshold = 0.1;
  float state[3] = {0.5f, 0.5f, 0.5f};
  const double o[3] = {0.53, 0.5, 0.47};  // mean |o - p| = 0.02 -> r = 0.2 -> a = 0.28
  double out[3];
  iir2d::temporal_update(o, out, 3, t, state, 1, true);
  const double a = 0.2 + 0.4 * (0.02 / 0.1);
  for (int k = 0; k < 3; ++k) {
    EXPECT_NEAR(out[k], a * o[k] + (1 - a) * 0.5, 1e-12) << k;
    EXPECT_EQ(state[k], static_cast<float>(out[k])) << k;
  }
  iir2d::temporal_update(o, out, 3, t, state, 1, false);  // invalid state: restart from o
  for (int k = 0; k < 3; ++k) EXPECT_EQ(out[k], o[k]);
}

/* Fixed α, a flat frame at level A then at level B: out_n = B + (1-α)^n (A - B). */
TEST(ComponentGroup, FixedModeFollowsTheClosedForm) {
  const int w = 9, h = 5;
  TemporalParams t;
  t.mode = TemporalMode::Fixed;
  t.alpha = 0.25;
  FilterParams p;
  p.unity_gain = true;  // a flat frame stays flat (exact initialisation)
  CodePlane a = flat_plane(w, h, 10, 1000), b = flat_plane(w, h, 10, 100);
  std::vector<float> state(ref::state_elements(w, h, 1));
  CodePlane out(w, h, 10);
  ConstVideoComponent in_a = a.in(), in_b = b.in();
  VideoComponent o = out.out();
  ref::filter_component_group(&in_a, &o, 1, p, 1.0, t, state.data(), false);
  EXPECT_EQ(out.at(4, 2), 1000);
  for (int n = 1; n <= 12; ++n) {
    ref::filter_component_group(&in_b, &o, 1, p, 1.0, t, state.data(), true);
    const double want = (100.0 + std::pow(0.75, n) * 900.0);
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) ASSERT_NEAR(out.at(x, y), want, 0.5 + 1e-3) << "frame " << n;
  }
}

/* With temporal smoothing off a group is the single-component reference, bit for bit. */
TEST(ComponentGroup, OffEqualsFilterVideoComponent) {
  std::mt19937 rng(11);
  for (Precision prec : {Precision::F32, Precision::Mixed, Precision::F64}) {
    FilterParams p;
    p.filter_id = 4;
    p.precision = prec;
    CodePlane c0 = random_plane(17, 13, 10, rng), c1 = random_plane(17, 13, 10, rng);
    CodePlane g0(17, 13, 10), g1(17, 13, 10), r0(17, 13, 10), r1(17, 13, 10);
    const ConstVideoComponent in[2] = {c0.in(), c1.in()};
    const VideoComponent out[2] = {g0.out(), g1.out()};
    ref::filter_component_group(in, out, 2, p, 0.7, TemporalParams{}, nullptr, false);
    ref::filter_video_component(c0.in(), r0.out(), p, 0.7);
    ref::filter_video_component(c1.in(), r1.out(), p, 0.7);
    EXPECT_EQ(g0.words, r0.words);
    EXPECT_EQ(g1.words, r1.words);
  }
}

/* Gray RGB (R = G = B): Y' is the gray, so every channel becomes the
 * filtered gray, whatever the matrix. */
TEST(RgbLuma, GrayInputGivesTheFilteredGrayInEveryChannel) {
  std::mt19937 rng(5);
  CodePlane gray = random_plane(23, 11, 8, rng);
  CodePlane want(23, 11, 8);
  FilterParams p;
  p.filter_id = 6;
  ref::filter_video_component(gray.in(), want.out(), p, 1.0);
  for (const LumaWeights& wts : {iir2d::kLumaBt709, iir2d::kLumaBt601, iir2d::kLumaBt2020}) {
    CodePlane r(23, 11, 8), g(23, 11, 8), b(23, 11, 8);
    const ConstVideoComponent in[3] = {gray.in(), gray.in(), gray.in()};
    const VideoComponent out[3] = {r.out(), g.out(), b.out()};
    ref::filter_rgb_luma(in, out, wts, p, 1.0, TemporalParams{}, nullptr, false);
    for (std::size_t i = 0; i < want.words.size(); ++i) {
      ASSERT_NEAR(r.words[i], want.words[i], 1) << i;
      ASSERT_EQ(r.words[i], g.words[i]) << i;
      ASSERT_EQ(r.words[i], b.words[i]) << i;
    }
  }
}

/* Colour input against an independent route: Y'CbCr with the published
 * coefficients, filter Y' (float64), blend, convert back with the textbook
 * inverse (G' from Y', Cb, Cr). */
TEST(RgbLuma, MatchesAYCbCrRoundTrip) {
  std::mt19937 rng(9);
  const int w = 31, h = 19;
  CodePlane r = random_plane(w, h, 8, rng), g = random_plane(w, h, 8, rng), b = random_plane(w, h, 8, rng);
  const double s = 0.8;
  for (const LumaWeights& wts : {iir2d::kLumaBt709, iir2d::kLumaBt601, iir2d::kLumaBt2020}) {
    const double kr = wts.kr, kb = wts.kb, kg = 1 - kr - kb;
    std::vector<double> y(static_cast<std::size_t>(w) * h), cb(y.size()), cr(y.size()), f(y.size());
    for (std::size_t i = 0; i < y.size(); ++i) {
      const double R = r.words[i] / 255.0, G = g.words[i] / 255.0, B = b.words[i] / 255.0;
      y[i] = kr * R + kg * G + kb * B;
      cb[i] = (B - y[i]) / (2 * (1 - kb));
      cr[i] = (R - y[i]) / (2 * (1 - kr));
    }
    FilterParams p;
    p.filter_id = 2;
    p.precision = Precision::F64;
    const std::ptrdiff_t stride = w * static_cast<std::ptrdiff_t>(sizeof(double));
    ref::filter_plane(ref::Plane<const double>{y.data(), w, h, stride}, ref::Plane<double>{f.data(), w, h, stride}, p);
    CodePlane outr(w, h, 8), outg(w, h, 8), outb(w, h, 8);
    const ConstVideoComponent in[3] = {r.in(), g.in(), b.in()};
    const VideoComponent out[3] = {outr.out(), outg.out(), outb.out()};
    p.precision = Precision::F32;  // the element's default; the round trip stays in float64
    ref::filter_rgb_luma(in, out, wts, p, s, TemporalParams{}, nullptr, false);
    long differ = 0;
    for (std::size_t i = 0; i < y.size(); ++i) {
      const double yy = s * f[i] + (1 - s) * y[i];
      const double R = yy + 2 * (1 - kr) * cr[i];
      const double B = yy + 2 * (1 - kb) * cb[i];
      const double G = yy - 2 * (1 - kb) * kb / kg * cb[i] - 2 * (1 - kr) * kr / kg * cr[i];
      const unsigned want[3] = {ref::quantize(R, 8), ref::quantize(G, 8), ref::quantize(B, 8)};
      const unsigned got[3] = {outr.words[i], outg.words[i], outb.words[i]};
      for (int c = 0; c < 3; ++c) {
        ASSERT_LE(std::abs(static_cast<int>(got[c]) - static_cast<int>(want[c])), 1) << "sample " << i << " ch " << c;
        differ += got[c] != want[c];
      }
    }
    EXPECT_LE(differ, static_cast<long>(3 * y.size() / 1000)) << "more than 0.1 % of samples off by one";
  }
}

TEST(FrameArguments, AreChecked) {
  CodePlane a(4, 4, 8), b(4, 4, 8), c(5, 4, 8);
  const ConstVideoComponent in[2] = {a.in(), c.in()};
  VideoComponent out[2] = {b.out(), c.out()};
  FilterParams p;
  TemporalParams t;
  EXPECT_THROW(ref::filter_component_group(in, out, 0, p, 1.0, t, nullptr, false), std::invalid_argument);
  EXPECT_THROW(ref::filter_component_group(in, out, 4, p, 1.0, t, nullptr, false), std::invalid_argument);
  EXPECT_THROW(ref::filter_component_group(in, out, 2, p, 1.0, t, nullptr, false), std::invalid_argument);  // sizes
  EXPECT_THROW(ref::filter_component_group(in, out, 1, p, 1.5, t, nullptr, false), std::invalid_argument);
  t.mode = TemporalMode::Fixed;
  EXPECT_THROW(ref::filter_component_group(in, out, 1, p, 1.0, t, nullptr, false), std::invalid_argument);  // state
  float state[16];
  t.alpha = 2.0;
  EXPECT_THROW(ref::filter_component_group(in, out, 1, p, 1.0, t, state, false), std::invalid_argument);
  t.alpha = 0.5;
  p.filter_id = 9;
  EXPECT_THROW(ref::filter_component_group(in, out, 1, p, 1.0, t, state, false), std::invalid_argument);
  p.filter_id = 1;
  EXPECT_NO_THROW(ref::filter_component_group(in, out, 1, p, 1.0, t, state, false));
}

}  // namespace
