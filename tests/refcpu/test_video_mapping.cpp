// SPDX-License-Identifier: MIT
// The video sample mapping of FILTER_CONTRACT.md section 5 in the CPU
// reference: normalisation, rounding half away from zero, clamping,
// strength 0 and 1, bit depths and alignments, interleaved chroma.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "iir2d/filters.h"
#include "iir2d/refcpu.h"
#include "filter_params.h"

namespace {

using iir2d::Border;
using iir2d::BorderInit;
using iir2d::ConstVideoComponent;
using iir2d::FilterParams;
using iir2d::Precision;
using iir2d::SampleType;
using iir2d::VideoComponent;

using iir2d::test::params;

template <typename T>
VideoComponent component(std::vector<T>& buf, int w, int h, int depth = 8 * sizeof(T), int shift = 0,
                         int pixel_stride_samples = 1, int row_pad_samples = 0, int first = 0) {
  VideoComponent c;
  c.data = buf.data() + first;
  c.width = w;
  c.height = h;
  c.pixel_stride = static_cast<std::ptrdiff_t>(pixel_stride_samples * sizeof(T));
  c.row_stride = static_cast<std::ptrdiff_t>((w * pixel_stride_samples + row_pad_samples) * sizeof(T));
  c.type = sizeof(T) == 1 ? SampleType::U8 : SampleType::U16;
  c.depth = depth;
  c.shift = shift;
  return c;
}

ConstVideoComponent as_const(const VideoComponent& c) {
  ConstVideoComponent k;
  k.data = c.data;
  k.width = c.width;
  k.height = c.height;
  k.row_stride = c.row_stride;
  k.pixel_stride = c.pixel_stride;
  k.type = c.type;
  k.depth = c.depth;
  k.shift = c.shift;
  return k;
}

TEST(Quantize, RoundsHalfAwayFromZeroAndClamps) {
  EXPECT_EQ(iir2d::ref::quantize(0.5, 1), 1u);     // 0.5 -> 1
  EXPECT_EQ(iir2d::ref::quantize(0.4999, 1), 0u);
  EXPECT_EQ(iir2d::ref::quantize(0.5, 2), 2u);     // 1.5 -> 2
  EXPECT_EQ(iir2d::ref::quantize(0.5, 4), 8u);     // 7.5 -> 8
  EXPECT_EQ(iir2d::ref::quantize(0.25, 4), 4u);    // 3.75 -> 4
  EXPECT_EQ(iir2d::ref::quantize(1.0, 8), 255u);
  EXPECT_EQ(iir2d::ref::quantize(1.0, 16), 65535u);
  EXPECT_EQ(iir2d::ref::quantize(1.7, 8), 255u);   // clamped above
  EXPECT_EQ(iir2d::ref::quantize(-0.3, 8), 0u);    // clamped below
  EXPECT_EQ(iir2d::ref::quantize(-0.5 / 255.0, 8), 0u);  // -0.5 rounds to -1, clamped
  EXPECT_EQ(iir2d::ref::quantize(NAN, 8), 0u);
  EXPECT_EQ(iir2d::ref::quantize(100.0 / 255.0, 8), 100u);
}

TEST(CodeValues, ReadWriteWithDepthAndShift) {
  // 10-bit MSB-aligned in 16 bits (P010 style): code 1023 is stored as 0xFFC0.
  std::vector<std::uint16_t> buf(4, 0);
  auto c = component(buf, 4, 1, 10, 6);
  iir2d::ref::write_code(c, 1, 0, 1023);
  EXPECT_EQ(buf[1], 0xFFC0);
  EXPECT_EQ(iir2d::ref::read_code(as_const(c), 1, 0), 1023u);
  buf[2] = 0x0155 << 6 | 0x3F;  // junk in the low padding bits is ignored
  EXPECT_EQ(iir2d::ref::read_code(as_const(c), 2, 0), 0x155u);
  // 10-bit LSB-aligned (I420_10LE style): junk above bit 9 is ignored.
  auto l = component(buf, 4, 1, 10, 0);
  buf[3] = 0xFC00 | 700;
  EXPECT_EQ(iir2d::ref::read_code(as_const(l), 3, 0), 700u);
}

// 12-bit video (issue 9: I420_12LE, I422_12LE, Y444_12LE, GBR_12LE are
// LSB-aligned, P012_LE MSB-aligned in 16 bits; peak 4095).
TEST(CodeValues, TwelveBitBothAlignments) {
  std::vector<std::uint16_t> buf(4, 0);
  auto m = component(buf, 4, 1, 12, 4);  // P012_LE
  iir2d::ref::write_code(m, 0, 0, 4095);
  EXPECT_EQ(buf[0], 0xFFF0);
  buf[1] = static_cast<std::uint16_t>(0xABC << 4 | 0xF);  // junk in the 4 padding bits
  EXPECT_EQ(iir2d::ref::read_code(as_const(m), 1, 0), 0xABCu);
  auto l = component(buf, 4, 1, 12, 0);  // I420_12LE
  buf[2] = static_cast<std::uint16_t>(0xF000 | 3000);
  EXPECT_EQ(iir2d::ref::read_code(as_const(l), 2, 0), 3000u);
  iir2d::ref::write_code(l, 3, 0, 4095);
  EXPECT_EQ(buf[3], 0x0FFF);
}

TEST(StrengthOne, TwelveBitFlatFramesScaleByTheSquaredDcGain) {
  // v = 3001, id 3 (2-D gain 0.5625): 1688.0625 -> 1688; strength 0.5:
  // 0.5·1688.0625 + 0.5·3001 = 2344.53 -> 2345. Both alignments.
  for (int shift : {0, 4}) {
    std::vector<std::uint16_t> in(21 * 8, static_cast<std::uint16_t>(3001 << shift)), out(in.size(), 0);
    auto ci = component(in, 21, 8, 12, shift), co = component(out, 21, 8, 12, shift);
    iir2d::ref::filter_video_component(as_const(ci), co, params(3, Border::Clamp, BorderInit::Exact, Precision::F64), 1.0);
    for (auto v : out) ASSERT_EQ(v, 1688 << shift) << "shift " << shift;
    iir2d::ref::filter_video_component(as_const(ci), co, params(3, Border::Clamp, BorderInit::Exact, Precision::F64), 0.5);
    for (auto v : out) ASSERT_EQ(v, 2345 << shift) << "shift " << shift;
  }
}

class StrengthZero : public ::testing::TestWithParam<std::tuple<int, Precision>> {};

TEST_P(StrengthZero, ReturnsTheInputBitExact) {
  const auto [id, precision] = GetParam();
  const auto p = params(id, Border::Mirror, BorderInit::Exact, precision);
  std::mt19937 rng(static_cast<unsigned>(id * 10 + static_cast<int>(precision)));
  {  // every 8-bit code value
    std::vector<std::uint8_t> in(256), out(256, 0xAB);
    for (int v = 0; v < 256; ++v) in[v] = static_cast<std::uint8_t>(v);
    auto ci = component(in, 16, 16), co = component(out, 16, 16);
    iir2d::ref::filter_video_component(as_const(ci), co, p, 0.0);
    EXPECT_EQ(in, out);
  }
  {  // random 16-bit
    std::vector<std::uint16_t> in(37 * 11), out(in.size(), 0xABAB);
    for (auto& v : in) v = static_cast<std::uint16_t>(rng());
    auto ci = component(in, 37, 11), co = component(out, 37, 11);
    iir2d::ref::filter_video_component(as_const(ci), co, p, 0.0);
    EXPECT_EQ(in, out);
  }
  {  // 10-bit MSB-aligned
    std::vector<std::uint16_t> in(13 * 9), out(in.size(), 0);
    for (auto& v : in) v = static_cast<std::uint16_t>((rng() % 1024) << 6);
    auto ci = component(in, 13, 9, 10, 6), co = component(out, 13, 9, 10, 6);
    iir2d::ref::filter_video_component(as_const(ci), co, p, 0.0);
    EXPECT_EQ(in, out);
  }
}

INSTANTIATE_TEST_SUITE_P(SomeIds, StrengthZero,
                         ::testing::Combine(::testing::Values(1, 4, 5, 6),
                                            ::testing::Values(Precision::F32, Precision::Mixed, Precision::F64)));

TEST(StrengthOne, FlatFramesScaleByTheSquaredDcGain) {
  // 8-bit v = 100, id 3 (2-D gain 0.5625): 56.25 -> 56. Strength 0.5: 0.5·56.25 + 0.5·100 = 78.125 -> 78.
  for (Precision prec : {Precision::F32, Precision::Mixed, Precision::F64}) {
    std::vector<std::uint8_t> in(24 * 10, 100), out(in.size(), 0);
    auto ci = component(in, 24, 10), co = component(out, 24, 10);
    iir2d::ref::filter_video_component(as_const(ci), co, params(3, Border::Clamp, BorderInit::Exact, prec), 1.0);
    for (auto v : out) ASSERT_EQ(v, 56);
    iir2d::ref::filter_video_component(as_const(ci), co, params(3, Border::Wrap, BorderInit::Exact, prec), 0.5);
    for (auto v : out) ASSERT_EQ(v, 78);
  }
  // 16-bit v = 40000, id 4 (2-D gain (0.75·0.5/0.85)^2 = 0.194637): 7785.467 -> 7785.
  const double g = 0.75 * 0.5 / 0.85;
  const double expect = 40000.0 * g * g;
  ASSERT_GT(std::fabs(expect - std::floor(expect) - 0.5), 0.01);  // not a rounding tie
  std::vector<std::uint16_t> in(9 * 17, 40000), out(in.size(), 0);
  auto ci = component(in, 9, 17), co = component(out, 9, 17);
  iir2d::ref::filter_video_component(as_const(ci), co, params(4, Border::Mirror, BorderInit::Exact, Precision::F32), 1.0);
  for (auto v : out) ASSERT_EQ(v, static_cast<std::uint16_t>(std::lround(expect)));
}

TEST(StrengthOne, NegativeLobesClampToZero) {
  // id 3's impulse response h = 0.2, 0.26, 0.258, 0.0514, -0.01038, ... goes negative at m = 4;
  // a single 255 in a black frame gives round(255·h[dx]·h[dy]) clamped to [0, 255].
  // First values of the biquad impulse response, worked by hand:
  // h0 = 0.2, h1 = 0.2 + 0.3·0.2, h2 = 0.2 + 0.3·h1 - 0.1·h0, then h[m] = 0.3 h[m-1] - 0.1 h[m-2].
  const double hv[] = {0.2, 0.26, 0.258, 0.3 * 0.258 - 0.1 * 0.26, 0.3 * (0.3 * 0.258 - 0.1 * 0.26) - 0.1 * 0.258};
  auto h = [&hv](int m) { return (m >= 0 && m < 5) ? hv[m] : 0.0; };
  const int w = 15, hgt = 9, cx = 3, cy = 2;
  std::vector<std::uint8_t> in(static_cast<size_t>(w * hgt), 0), out(in.size(), 0xAB);
  in[static_cast<size_t>(cy * w + cx)] = 255;
  auto ci = component(in, w, hgt), co = component(out, w, hgt);
  iir2d::ref::filter_video_component(as_const(ci), co, params(3, Border::Constant, BorderInit::Exact, Precision::F64), 1.0);
  for (int dy = 0; dy < 5; ++dy)
    for (int dx = 0; dx < 5; ++dx) {
      const double o = 255.0 * h(dx) * h(dy);
      const long expect = std::max(0L, std::lround(o));
      EXPECT_EQ(out[static_cast<size_t>((cy + dy) * w + cx + dx)], expect) << dx << "," << dy << " o=" << o;
    }
  EXPECT_EQ(out[static_cast<size_t>(cy * w + cx + 4)], 0);  // 255·0.2·(-0.0104) = -0.53 -> -1 -> 0
  EXPECT_EQ(out[static_cast<size_t>(cy * w + cx)], 10);     // 255·0.04 = 10.2
  EXPECT_EQ(out[0], 0);                                      // causal: nothing before the impulse
}

TEST(BorderConstant, IsInNormalisedUnits) {
  // A black 4×1 frame, constant border c = 1 (white), id 1, exact.
  // Horizontal: u[i] = 0.85^(i+1)·c. Vertical (n = 1): y = 0.15 u + 0.85 c.
  std::vector<std::uint8_t> in(4, 0), out(4, 0);
  auto ci = component(in, 4, 1), co = component(out, 4, 1);
  iir2d::ref::filter_video_component(as_const(ci), co, params(1, Border::Constant, BorderInit::Exact, Precision::F64, 1.0), 1.0);
  for (int i = 0; i < 4; ++i) {
    const double o = 0.15 * std::pow(0.85, i + 1) + 0.85;
    EXPECT_EQ(out[i], std::lround(255.0 * o)) << i;
  }
  EXPECT_EQ(out[0], 249);  // 0.9775·255 = 249.26
}

TEST(Interleaved, UAndVOfSemiPlanarChromaAreFilteredIndependently) {
  // NV12-style UV plane: pixel stride 2 bytes, padded rows. Filtering U must
  // not touch V, and must equal filtering a de-interleaved copy of U.
  const int w = 21, h = 13, pad = 6;
  std::mt19937 rng(5);
  std::vector<std::uint8_t> uv(static_cast<size_t>((2 * w + pad) * h)), out(uv.size(), 0x5A);
  for (auto& v : uv) v = static_cast<std::uint8_t>(rng());
  auto u_in = component(uv, w, h, 8, 0, 2, pad, 0), u_out = component(out, w, h, 8, 0, 2, pad, 0);
  const auto p = params(6, Border::Wrap, BorderInit::Iir2d, Precision::Mixed);
  iir2d::ref::filter_video_component(as_const(u_in), u_out, p, 0.75);
  std::vector<std::uint8_t> u_plane(static_cast<size_t>(w * h)), u_ref(u_plane.size());
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) u_plane[static_cast<size_t>(y * w + x)] = uv[static_cast<size_t>(y * (2 * w + pad) + 2 * x)];
  auto pi = component(u_plane, w, h), po = component(u_ref, w, h);
  iir2d::ref::filter_video_component(as_const(pi), po, p, 0.75);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      const size_t k = static_cast<size_t>(y * (2 * w + pad) + 2 * x);
      ASSERT_EQ(out[k], u_ref[static_cast<size_t>(y * w + x)]);
      ASSERT_EQ(out[k + 1], 0x5A);  // V untouched
    }
}

TEST(Errors, MismatchedComponentsAndBadStrengthAreRefused) {
  std::vector<std::uint8_t> a(16), b(16);
  std::vector<std::uint16_t> c(16);
  auto ca = component(a, 4, 4), cb = component(b, 4, 4), cc = component(c, 4, 4);
  const auto p = params(1, Border::Mirror, BorderInit::Exact, Precision::F32);
  EXPECT_THROW(iir2d::ref::filter_video_component(as_const(ca), cc, p, 1.0), std::invalid_argument);
  EXPECT_THROW(iir2d::ref::filter_video_component(as_const(ca), cb, p, 1.5), std::invalid_argument);
  auto bad = cb;
  bad.depth = 9;  // does not fit 8 bits
  EXPECT_THROW(iir2d::ref::filter_video_component(as_const(ca), bad, p, 1.0), std::invalid_argument);
  auto p9 = p;
  p9.filter_id = 9;
  EXPECT_THROW(iir2d::ref::filter_video_component(as_const(ca), cb, p9, 1.0), std::invalid_argument);
}

}  // namespace
