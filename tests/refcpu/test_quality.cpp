// SPDX-License-Identifier: MIT
// Tier 1: the CPU quality metrics (refcpu/iir2d/quality.h) against
// hand-derived answers (quality_cases.h): constant offsets, one wrong sample
// at the centre, edge and corner, identical planes (inf and 1.0), odd sizes
// whose partial 4×4 blocks SSIM leaves out, 10-bit words with and without a
// shift, interleaved chroma, ffmpeg's plane weighting and the temporal delta.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <utility>

#include "iir2d/quality.h"
#include "quality_cases.h"

namespace {

namespace q = iir2d::quality;
using qcases::HostPlane;

constexpr double kInf = std::numeric_limits<double>::infinity();

TEST(QualityCpu, ConstantOffset) {
  HostPlane r(64, 48, 8), d(64, 48, 8);
  r.fill(100);
  d.fill(110);
  const q::ComponentSums s = q::compare_component(r.comp, d.comp);
  EXPECT_EQ(s.sse, 100u * 64 * 48);
  EXPECT_EQ(s.samples, 64u * 48);
  EXPECT_EQ(s.ssim_windows, 15u * 11);
  EXPECT_DOUBLE_EQ(q::psnr_db(s.sse, s.samples, 255), qcases::psnr(100, 255));  // 28.1308 dB
  EXPECT_NEAR(s.ssim_sum / s.ssim_windows, qcases::ssim_constant(100, 110, qcases::kC1_8), 1e-15);
  // The number itself, worked out by hand: (2·6400·7040 + 416) / (6400² + 7040² + 416).
  EXPECT_NEAR(s.ssim_sum / s.ssim_windows, 90112416.0 / 90522016.0, 1e-15);
}

TEST(QualityCpu, IdenticalPlanesGiveInfinityAndOne) {
  HostPlane r(33, 17, 8), d(33, 17, 8);
  std::mt19937 rng(7);
  for (int y = 0; y < 17; ++y)
    for (int x = 0; x < 33; ++x) {
      const unsigned v = rng() & 0xff;
      r.set(x, y, v);
      d.set(x, y, v);
    }
  const q::ComponentSums s = q::compare_component(r.comp, d.comp);
  EXPECT_EQ(s.sse, 0u);
  EXPECT_EQ(q::psnr_db(s.sse, s.samples, 255), kInf);
  EXPECT_EQ(s.ssim_sum / s.ssim_windows, 1.0);  // every window is exactly 1
}

struct WrongPixel {
  int x, y;
};

class QualityCpuOneWrongPixel : public ::testing::TestWithParam<WrongPixel> {};

TEST_P(QualityCpuOneWrongPixel, PsnrAndSsim) {
  const WrongPixel p = GetParam();
  const int w = 64, h = 48, a = 100, e = 50;
  HostPlane r(w, h, 8), d(w, h, 8);
  r.fill(a);
  d.fill(a);
  d.set(p.x, p.y, a + e);
  const q::ComponentSums s = q::compare_component(r.comp, d.comp);
  EXPECT_EQ(s.sse, static_cast<std::uint64_t>(e * e));
  EXPECT_NEAR(q::psnr_db(s.sse, s.samples, 255), qcases::psnr(double(e * e) / (w * h), 255), 1e-12);
  const int k = qcases::windows_containing(p.x, p.y, w, h);
  const double n = 15 * 11;
  const double expected = ((n - k) + k * qcases::ssim_one_wrong(a, e, qcases::kC1_8, qcases::kC2_8)) / n;
  EXPECT_NEAR(s.ssim_sum / s.ssim_windows, expected, 1e-15) << k << " windows";
}

// Centre (4 windows), left edge (2), corner (1).
INSTANTIATE_TEST_SUITE_P(Positions, QualityCpuOneWrongPixel,
                         ::testing::Values(WrongPixel{20, 20}, WrongPixel{0, 20}, WrongPixel{0, 0}),
                         [](const auto& i) { return "x" + std::to_string(i.param.x) + "_y" + std::to_string(i.param.y); });

TEST(QualityCpu, OddSizeLeavesPartialBlocksOutOfSsim) {
  // 13×9: complete blocks 3×2, windows 2×1; column 12 and row 8 are in no block.
  HostPlane r(13, 9, 8), d(13, 9, 8);
  r.fill(60);
  d.fill(60);
  d.set(12, 8, 90);  // outside every block: PSNR sees it, SSIM does not
  q::ComponentSums s = q::compare_component(r.comp, d.comp);
  EXPECT_EQ(s.ssim_windows, 2u);
  EXPECT_EQ(s.ssim_sum / s.ssim_windows, 1.0);
  EXPECT_EQ(s.sse, 900u);
  EXPECT_NEAR(q::psnr_db(s.sse, s.samples, 255), qcases::psnr(900.0 / 117, 255), 1e-12);

  d.fill(60);
  d.set(11, 7, 90);  // block (2, 1): in window (1, 0) only
  s = q::compare_component(r.comp, d.comp);
  EXPECT_EQ(qcases::windows_containing(11, 7, 13, 9), 1);
  EXPECT_NEAR(s.ssim_sum / s.ssim_windows, (1 + qcases::ssim_one_wrong(60, 30, qcases::kC1_8, qcases::kC2_8)) / 2,
              1e-15);
}

TEST(QualityCpu, PlaneWithoutWindowHasNanSsim) {
  HostPlane r(7, 30, 8), d(7, 30, 8);  // one block column: no 8×8 window (ffmpeg: 0/0)
  r.fill(1);
  d.fill(2);
  const q::ComponentSums s = q::compare_component(r.comp, d.comp);
  EXPECT_EQ(s.ssim_windows, 0u);
  const int depth = 8;
  const q::FrameMetrics m = q::frame_metrics(&s, &depth, 1);
  EXPECT_TRUE(std::isnan(m.ssim[0]));
  EXPECT_NEAR(m.psnr[0], qcases::psnr(1, 255), 1e-12);
}

TEST(QualityCpu, TenBitWordsWithShiftAndInterleave) {
  // The same 10-bit content as LSB-aligned planar words, MSB-aligned (P010,
  // shift 6) and interleaved (pixel stride 2 samples, like NV12/P010 chroma).
  HostPlane plain(40, 24, 10), shifted(40, 24, 10, 6), inter(40, 24, 10, 6, 2);
  HostPlane dp(40, 24, 10), ds(40, 24, 10, 6), di(40, 24, 10, 6, 2);
  for (HostPlane* p : {&plain, &shifted, &inter}) p->fill(700);
  for (HostPlane* p : {&dp, &ds, &di}) p->fill(690);
  const std::pair<HostPlane*, HostPlane*> pairs[] = {{&plain, &dp}, {&shifted, &ds}, {&inter, &di}};
  for (const auto& pair : pairs) {
    const q::ComponentSums s = q::compare_component(pair.first->comp, pair.second->comp);
    EXPECT_EQ(s.sse, 100u * 40 * 24);
    EXPECT_NEAR(q::psnr_db(s.sse, s.samples, 1023), qcases::psnr(100, 1023), 1e-12);
    EXPECT_NEAR(s.ssim_sum / s.ssim_windows, qcases::ssim_constant(700, 690, qcases::kC1_10), 1e-15);
  }
}

TEST(QualityCpu, SymmetricInItsArguments) {
  HostPlane r(31, 33, 8), d(31, 33, 8);
  std::mt19937 rng(3);
  for (int y = 0; y < 33; ++y)
    for (int x = 0; x < 31; ++x) {
      r.set(x, y, rng() & 0xff);
      d.set(x, y, rng() & 0xff);
    }
  const q::ComponentSums a = q::compare_component(r.comp, d.comp), b = q::compare_component(d.comp, r.comp);
  EXPECT_EQ(a.sse, b.sse);
  EXPECT_EQ(a.ssim_sum, b.ssim_sum);
}

TEST(QualityCpu, FrameWeightsPlanesBySize) {
  // I420 64×48: Y 3072 samples, U and V 768 each (weights 2/3, 1/6, 1/6).
  q::ComponentSums s[3];
  s[0].samples = 3072, s[0].sse = 3072 * 100, s[0].ssim_windows = 165, s[0].ssim_sum = 165 * 0.9;
  s[1].samples = 768, s[1].sse = 0, s[1].ssim_windows = 35, s[1].ssim_sum = 35;
  s[2].samples = 768, s[2].sse = 768 * 4, s[2].ssim_windows = 35, s[2].ssim_sum = 35 * 0.5;
  const int depths[3] = {8, 8, 8};
  const q::FrameMetrics m = q::frame_metrics(s, depths, 3);
  EXPECT_NEAR(m.psnr[0], qcases::psnr(100, 255), 1e-12);
  EXPECT_EQ(m.psnr[1], kInf);
  EXPECT_NEAR(m.psnr[2], qcases::psnr(4, 255), 1e-12);
  EXPECT_NEAR(m.psnr_avg, qcases::psnr(100 * 2.0 / 3 + 4.0 / 6, 255), 1e-12);
  EXPECT_NEAR(m.ssim_all, 0.9 * 2 / 3 + 1.0 / 6 + 0.5 / 6, 1e-15);
  EXPECT_TRUE(std::isnan(m.psnr[3]));

  for (auto& c : s) c.sse = 0;
  EXPECT_EQ(q::frame_metrics(s, depths, 3).psnr_avg, kInf);
}

TEST(QualityCpu, TemporalDelta) {
  // Reference steps by 10 codes a frame, distorted by 11: |11 − 10| / 255.
  EXPECT_NEAR(q::temporal_delta(11u * 3072, 10u * 3072, 3072, 8), 1.0 / 255, 1e-15);
  EXPECT_EQ(q::temporal_delta(5, 5, 100, 8), 0.0);
  HostPlane a(9, 5, 8), b(9, 5, 8);
  a.fill(3);
  b.fill(10);
  EXPECT_EQ(q::sum_abs_diff(a.comp, b.comp), 7u * 45);
  EXPECT_EQ(q::sum_abs_diff(b.comp, a.comp), 7u * 45);
}

TEST(QualityCpu, MismatchedComponentsThrow) {
  HostPlane a(8, 8, 8), b(8, 9, 8), c(8, 8, 10);
  EXPECT_THROW(q::compare_component(a.comp, b.comp), std::invalid_argument);
  EXPECT_THROW(q::compare_component(a.comp, c.comp), std::invalid_argument);
  EXPECT_THROW(q::sum_abs_diff(a.comp, b.comp), std::invalid_argument);
}

}  // namespace
