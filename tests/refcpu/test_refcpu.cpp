// SPDX-License-Identifier: MIT
// Tier 1: the CPU reference against expectations derived by hand from
// docs/FILTER_CONTRACT.md — closed-form impulse and step responses,
// the DC gains of the contract's table, border modes on short rows, the
// iir2d warm-up formulas and the precision modes. None of the expectations
// below is computed by running the contract's recursions.
#include <gtest/gtest.h>

#include <cmath>
#include <complex>
#include <random>
#include <string>
#include <vector>

#include "iir2d/filters.h"
#include "iir2d/refcpu.h"
#include "filter_params.h"

namespace {

using iir2d::Border;
using iir2d::BorderInit;
using iir2d::FilterParams;
using iir2d::Precision;

using iir2d::test::params;

std::vector<double> run_f64(const std::vector<double>& x, const FilterParams& p) {
  std::vector<double> y(x.size());
  iir2d::ref::filter_sequence(x.data(), y.data(), static_cast<int>(x.size()), 1, p);
  return y;
}

std::vector<float> run_f32(const std::vector<float>& x, const FilterParams& p) {
  std::vector<float> y(x.size());
  iir2d::ref::filter_sequence(x.data(), y.data(), static_cast<int>(x.size()), 1, p);
  return y;
}

// --- Closed forms -----------------------------------------------------------

// Impulse response of the all-pole part 1 / (1 - a1 z^-1 - a2 z^-2) with a
// complex pole pair r·e^{±iθ}: g[m] = r^m sin((m+1)θ) / sin θ.
double allpole2(double a1, double a2, int m) {
  if (m < 0) return 0.0;
  const double r = std::sqrt(-a2);
  const double theta = std::acos(a1 / (2.0 * r));
  return std::pow(r, m) * std::sin((m + 1) * theta) / std::sin(theta);
}

// Biquad impulse response h[m] = b0 g[m] + b1 g[m-1] + b2 g[m-2].
double biquad_impulse(double b0, double b1, double b2, double a1, double a2, int m) {
  return b0 * allpole2(a1, a2, m) + b1 * allpole2(a1, a2, m - 1) + b2 * allpole2(a1, a2, m - 2);
}

// One-pass impulse response (impulse at index 0 of a long sequence) of every id,
// from the closed forms of its sections. `m` may be negative for the
// two-sided programs (ids 5, 6).
double impulse_closed_form(int id, int m) {
  switch (id) {
    case 1:
    case 7:
      return m < 0 ? 0.0 : 0.15 * std::pow(0.85, m);
    case 2:  // (0.25 / (1 - 0.75 z^-1))^2  ->  0.0625 (m+1) 0.75^m
      return m < 0 ? 0.0 : 0.0625 * (m + 1) * std::pow(0.75, m);
    case 3:
    case 8:
      return biquad_impulse(0.2, 0.2, 0.2, 0.3, -0.1, m);
    case 4: {  // convolution of the two biquads' closed forms
      double s = 0.0;
      for (int k = 0; k <= m; ++k)
        s += biquad_impulse(0.2, 0.2, 0.2, 0.3, -0.1, k) * biquad_impulse(0.3, 0.1, 0.1, 0.2, -0.05, m - k);
      return s;
    }
    case 5:  // sum_j 0.4·0.6^(j-i) · 0.4·0.6^j  =  0.16/(1-0.36) 0.6^|m| = 0.25·0.6^|m|
      return 0.25 * std::pow(0.6, std::abs(m));
    case 6: {  // Deriche's smoothing kernel k (1 + α|m|) e^{-α|m|}
      const double alpha = 1.695 / 2.0, e = std::exp(-alpha);
      const double k = (1 - e) * (1 - e) / (1 + 2 * alpha * e - std::exp(-2 * alpha));
      return k * (1.0 + alpha * std::abs(m)) * std::exp(-alpha * std::abs(m));
    }
  }
  return NAN;
}

// Extension tolerance of the contract: the response to the infinite extension
// within epsilon, plus float rounding for the f32 modes.
double tolerance(Precision p) { return p == Precision::F64 ? 1e-14 : (p == Precision::Mixed ? 2e-7 : 2e-6); }

const Border kAllBorders[] = {Border::Clamp, Border::Mirror, Border::Wrap, Border::Constant};
const Precision kAllPrecisions[] = {Precision::F32, Precision::Mixed, Precision::F64};
const BorderInit kAllInits[] = {BorderInit::Exact, BorderInit::Iir2d};

std::string name(Border b) {
  const char* n[] = {"clamp", "mirror", "wrap", "constant"};
  return n[static_cast<int>(b)];
}
std::string name(Precision p) {
  const char* n[] = {"f32", "mixed", "f64"};
  return n[static_cast<int>(p)];
}
std::string name(BorderInit i) { return i == BorderInit::Exact ? "exact" : "iir2d"; }

// Runs a double sequence at any precision (float storage for f32/mixed).
std::vector<double> run_any(const std::vector<double>& x, const FilterParams& p) {
  if (p.precision == Precision::F64) return run_f64(x, p);
  std::vector<float> xf(x.begin(), x.end());
  std::vector<float> yf = run_f32(xf, p);
  return std::vector<double>(yf.begin(), yf.end());
}

// --- Filter definitions -----------------------------------------------------

TEST(FilterDefinitions, DcGainsMatchContractTable) {
  const double expected[9] = {0, 1.0, 1.0, 0.75, 0.75 * 0.5 / 0.85, 1.0, 1.0, 1.0, 0.75};
  for (int id = 1; id <= 8; ++id) {
    SCOPED_TRACE("id " + std::to_string(id));
    EXPECT_NEAR(iir2d::program_dc_gain(iir2d::filter_program(id)), expected[id], 1e-12);
  }
  // The contract's rounded 2-D gains: 0.5625 for ids 3 and 8, about 0.195 for id 4.
  const double g4 = iir2d::program_dc_gain(iir2d::filter_program(4));
  EXPECT_NEAR(g4 * g4, 0.195, 5e-4);
}

TEST(FilterDefinitions, ExtensionLengthsFollowSection3a) {
  // L = sum ceil(ln eps / ln rho). id 1: rho 0.85; id 3: rho sqrt(0.1); id 4: + sqrt(0.05);
  // id 5: two sections of rho 0.6; id 6: rho e = exp(-1.695/2).
  auto L = [](double rho, double eps) { return static_cast<int>(std::ceil(std::log(eps) / std::log(rho))); };
  const double e = std::exp(-1.695 / 2.0);
  for (Precision p : kAllPrecisions) {
    const double eps = p == Precision::F64 ? 1e-17 : 1e-9;
    EXPECT_EQ(iir2d::extension_length(iir2d::filter_program(1), p), L(0.85, eps));
    EXPECT_EQ(iir2d::extension_length(iir2d::filter_program(2), p), 2 * L(0.75, eps));
    EXPECT_EQ(iir2d::extension_length(iir2d::filter_program(3), p), L(std::sqrt(0.1), eps));
    EXPECT_EQ(iir2d::extension_length(iir2d::filter_program(4), p), L(std::sqrt(0.1), eps) + L(std::sqrt(0.05), eps));
    EXPECT_EQ(iir2d::extension_length(iir2d::filter_program(5), p), 2 * L(0.6, eps));
    EXPECT_EQ(iir2d::extension_length(iir2d::filter_program(6), p), L(e, eps));
  }
  EXPECT_EQ(iir2d::extension_length(iir2d::filter_program(1), Precision::F32), 128);
}

TEST(FilterDefinitions, InvalidIdsAreEmptyAndRefused) {
  EXPECT_EQ(iir2d::filter_program(0).num_sections, 0);
  EXPECT_EQ(iir2d::filter_program(9).num_sections, 0);
  std::vector<double> x(4, 0.5), y(4);
  EXPECT_THROW(iir2d::ref::filter_sequence(x.data(), y.data(), 4, 1, params(9, Border::Clamp, BorderInit::Exact, Precision::F64)),
               std::invalid_argument);
  // precision / storage mismatch
  EXPECT_THROW(iir2d::ref::filter_sequence(x.data(), y.data(), 4, 1, params(1, Border::Clamp, BorderInit::Exact, Precision::F32)),
               std::invalid_argument);
}

// --- Border sampling (section 2) ---------------------------------------------

TEST(BorderSample, RulesOnShortSequences) {
  const double x[4] = {10, 11, 12, 13};
  auto B = [&](int n, long long i, Border b) {
    return iir2d::ref::border_sample<double>([&](int k) { return x[k]; }, n, i, b, -1.0);
  };
  // n = 1: every rule but constant repeats the only sample.
  for (long long i : {-5LL, -1LL, 1LL, 7LL}) {
    EXPECT_EQ(B(1, i, Border::Clamp), 10);
    EXPECT_EQ(B(1, i, Border::Mirror), 10);
    EXPECT_EQ(B(1, i, Border::Wrap), 10);
    EXPECT_EQ(B(1, i, Border::Constant), -1);
  }
  // n = 3, mirror with the edge repeated: ... x1 x0 | x0 x1 x2 | x2 x1 x0 | x0 ...
  EXPECT_EQ(B(3, -1, Border::Mirror), 10);
  EXPECT_EQ(B(3, -2, Border::Mirror), 11);
  EXPECT_EQ(B(3, -3, Border::Mirror), 12);
  EXPECT_EQ(B(3, -4, Border::Mirror), 12);
  EXPECT_EQ(B(3, -5, Border::Mirror), 11);
  EXPECT_EQ(B(3, -7, Border::Mirror), 10);
  EXPECT_EQ(B(3, 3, Border::Mirror), 12);
  EXPECT_EQ(B(3, 4, Border::Mirror), 11);
  EXPECT_EQ(B(3, 5, Border::Mirror), 10);
  EXPECT_EQ(B(3, 6, Border::Mirror), 10);
  // n = 3, wrap.
  EXPECT_EQ(B(3, -1, Border::Wrap), 12);
  EXPECT_EQ(B(3, -4, Border::Wrap), 12);
  EXPECT_EQ(B(3, 3, Border::Wrap), 10);
  EXPECT_EQ(B(3, 8, Border::Wrap), 12);
  // n = 2, clamp.
  EXPECT_EQ(B(2, -9, Border::Clamp), 10);
  EXPECT_EQ(B(2, 9, Border::Clamp), 11);
  // n = 4, mirror far out: period 8.
  EXPECT_EQ(B(4, -8, Border::Mirror), 10);
  EXPECT_EQ(B(4, 11, Border::Mirror), 13);
}

// --- Impulse and step responses (constant-0 border: both initialisations agree) ---

class ImpulseResponse : public ::testing::TestWithParam<std::tuple<int, Precision, BorderInit>> {};

TEST_P(ImpulseResponse, MatchesClosedForm) {
  const auto [id, precision, init] = GetParam();
  const int n = 160, k = 80;  // impulse in the middle, far from both ends
  std::vector<double> x(n, 0.0);
  x[k] = 1.0;
  const auto y = run_any(x, params(id, Border::Constant, init, precision, 0.0));
  double worst = 0.0;
  for (int i = 0; i < n; ++i) worst = std::fmax(worst, std::fabs(y[i] - impulse_closed_form(id, i - k)));
  EXPECT_LT(worst, tolerance(precision)) << "id " << id;
  // A few hand-worked samples, for the reader.
  if (id == 1) {
    EXPECT_NEAR(y[k + 2], 0.15 * 0.85 * 0.85, 1e-6);
  }
  if (id == 3) {
    EXPECT_NEAR(y[k], 0.2, 1e-6);
    EXPECT_NEAR(y[k + 1], 0.2 + 0.3 * 0.2, 1e-6);                      // 0.26
    EXPECT_NEAR(y[k + 2], 0.2 + 0.3 * 0.26 - 0.1 * 0.2, 1e-6);         // 0.258
  }
  if (id == 5) {
    EXPECT_NEAR(y[k - 1], 0.15, 1e-6);  // 0.25 · 0.6
  }
}

INSTANTIATE_TEST_SUITE_P(AllIds, ImpulseResponse,
                         ::testing::Combine(::testing::Range(1, 9), ::testing::ValuesIn(kAllPrecisions),
                                            ::testing::ValuesIn(kAllInits)),
                         [](const auto& info) {
                           return "id" + std::to_string(std::get<0>(info.param)) + "_" +
                                  name(std::get<1>(info.param)) + "_" + name(std::get<2>(info.param));
                         });

class StepResponse : public ::testing::TestWithParam<std::tuple<int, Precision>> {};

TEST_P(StepResponse, IsTheRunningSumOfTheImpulseResponse) {
  const auto [id, precision] = GetParam();
  // Zeros then ones from index k on; constant-0 border on the left, so the
  // step response is s[i] = sum_{j <= i-k} h[j] (closed-form h).
  const int n = 400, k = 60;  // 340 samples after the step: settled within 1e-20
  std::vector<double> x(n, 0.0);
  for (int i = k; i < n; ++i) x[i] = 1.0;
  // Clamp on the right keeps the ones going, as an infinite step needs.
  const auto y = run_any(x, params(id, Border::Clamp, BorderInit::Exact, precision));
  double worst = 0.0, s = 0.0;
  for (int m = -400; m < -k; ++m) s += impulse_closed_form(id, m);
  for (int i = 0; i < n; ++i) {
    s += impulse_closed_form(id, i - k);  // s = sum_{m <= i-k} h[m]
    worst = std::fmax(worst, std::fabs(y[i] - s));
  }
  EXPECT_LT(worst, 10 * tolerance(precision)) << "id " << id;
  // Far right of the step the output settles at the one-pass DC gain.
  EXPECT_NEAR(y[n - 1], iir2d::program_dc_gain(iir2d::filter_program(id)), 10 * tolerance(precision));
  if (id == 1) {
    EXPECT_NEAR(y[k + 3], 1.0 - std::pow(0.85, 4), 1e-6);  // 1 - 0.85^(m+1)
  }
}

INSTANTIATE_TEST_SUITE_P(AllIds, StepResponse,
                         ::testing::Combine(::testing::Range(1, 9), ::testing::ValuesIn(kAllPrecisions)),
                         [](const auto& info) {
                           return "id" + std::to_string(std::get<0>(info.param)) + "_" + name(std::get<1>(info.param));
                         });

// --- DC gains on flat frames (section 3a: exact keeps a flat frame flat) -----

class FlatFrame : public ::testing::TestWithParam<std::tuple<int, Border, Precision>> {};

TEST_P(FlatFrame, ExactStaysFlatScaledByTheSquaredGain) {
  const auto [id, border, precision] = GetParam();
  const double v = 0.7;
  const double g = iir2d::program_dc_gain(iir2d::filter_program(id));
  const auto p = params(id, border, BorderInit::Exact, precision);
  for (auto [w, h] : {std::pair{1, 1}, std::pair{3, 2}, std::pair{19, 7}}) {
    SCOPED_TRACE(std::to_string(w) + "x" + std::to_string(h));
    double worst = 0.0;
    if (precision == Precision::F64) {
      std::vector<double> in(static_cast<size_t>(w * h), v), out(in.size());
      iir2d::ref::filter_plane({in.data(), w, h, static_cast<std::ptrdiff_t>(w * sizeof(double))},
                               {out.data(), w, h, static_cast<std::ptrdiff_t>(w * sizeof(double))}, p);
      for (double o : out) worst = std::fmax(worst, std::fabs(o - v * g * g));
    } else {
      std::vector<float> in(static_cast<size_t>(w * h), static_cast<float>(v)), out(in.size());
      iir2d::ref::filter_plane({in.data(), w, h, static_cast<std::ptrdiff_t>(w * sizeof(float))},
                               {out.data(), w, h, static_cast<std::ptrdiff_t>(w * sizeof(float))}, p);
      for (float o : out) worst = std::fmax(worst, std::fabs(o - v * g * g));
    }
    EXPECT_LT(worst, precision == Precision::F64 ? 1e-14 : 2e-6);
  }
}

INSTANTIATE_TEST_SUITE_P(AllIds, FlatFrame,
                         ::testing::Combine(::testing::Range(1, 9),
                                            ::testing::Values(Border::Clamp, Border::Mirror, Border::Wrap),
                                            ::testing::ValuesIn(kAllPrecisions)),
                         [](const auto& info) {
                           return "id" + std::to_string(std::get<0>(info.param)) + "_" + name(std::get<1>(info.param)) +
                                  "_" + name(std::get<2>(info.param));
                         });

// --- iir2d warm-up formulas on a flat row (section 3a, "iir2d") ----------------

TEST(Iir2dWarmUp, Id1FlatRowDarkensAtTheCausalEdge) {
  // y[-1] = 0.15 v, y[i] = 0.15 v + 0.85 y[i-1]  =>  y[i] = v (1 - 0.85^(i+2)).
  const double v = 0.8;
  const auto y = run_f64(std::vector<double>(64, v), params(1, Border::Mirror, BorderInit::Iir2d, Precision::F64));
  for (int i = 0; i < 64; ++i) EXPECT_NEAR(y[i], v * (1.0 - std::pow(0.85, i + 2)), 1e-14) << i;
  EXPECT_NEAR(y[0], 0.2775 * v, 1e-14);
  // About 20 samples to get within 5 % of v, as the contract says.
  EXPECT_LT(y[15], 0.95 * v);
  EXPECT_GT(y[20], 0.95 * v);
}

TEST(Iir2dWarmUp, Id3BiquadFirstSamples) {
  // y[-2] = 0.6 v; y[-1] = 0.6 v + 0.3·0.6 v = 0.78 v; y[0] = 0.6 v + 0.3·0.78 v - 0.1·0.6 v = 0.774 v.
  const double v = 0.5;
  const auto y = run_f64(std::vector<double>(32, v), params(3, Border::Clamp, BorderInit::Iir2d, Precision::F64));
  EXPECT_NEAR(y[0], 0.774 * v, 1e-14);
  EXPECT_NEAR(y[1], (0.6 + 0.3 * 0.774 - 0.1 * 0.78) * v, 1e-14);
  EXPECT_NEAR(y[31], 0.75 * v, 1e-9);  // settles at the DC gain
}

TEST(Iir2dWarmUp, DericheFirstSampleOfALongFlatRow) {
  // Causal: yp[-2] = (a0+a1) v, yp[-1] = (a0+a1)(1+b1) v, yp[0] = (a0+a1) v (1 + b1 (1+b1) + b2).
  // Far from the right edge the anti-causal half is at its steady state (a2+a3)/(1-b1-b2) v.
  const auto s = iir2d::make_deriche(2.0);
  const double a0 = s.ff[0], a1 = s.ff[1], a2 = s.ff[2], a3 = s.ff[3], b1 = s.fb[0], b2 = s.fb[1];
  const double v = 0.6;
  const auto y = run_f64(std::vector<double>(200, v), params(6, Border::Mirror, BorderInit::Iir2d, Precision::F64));
  const double yp0 = (a0 + a1) * v * (1.0 + b1 * (1.0 + b1) + b2);
  const double yn_ss = (a2 + a3) / (1.0 - b1 - b2) * v;
  EXPECT_NEAR(y[0], yp0 + yn_ss, 1e-12);
  // Symmetric at the right end.
  const double yn_end = (a2 + a3) * v * (1.0 + b1 * (1.0 + b1) + b2);
  const double yp_ss = (a0 + a1) / (1.0 - b1 - b2) * v;
  EXPECT_NEAR(y[199], yn_end + yp_ss, 1e-12);
}

TEST(Iir2dWarmUp, ExactAndIir2dDifferOnlyNearTheEdges) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> U(0.0, 1.0);
  std::vector<double> x(300);
  for (double& v : x) v = U(rng);
  const auto a = run_f64(x, params(1, Border::Mirror, BorderInit::Exact, Precision::F64));
  const auto b = run_f64(x, params(1, Border::Mirror, BorderInit::Iir2d, Precision::F64));
  EXPECT_GT(std::fabs(a[0] - b[0]), 1e-3);        // the warm-up differs at the causal edge
  EXPECT_LT(std::fabs(a[299] - b[299]), 1e-12);   // and is forgotten 300 samples later
}

// --- Border modes on short rows (n = 1…4), exact initialisation --------------

// Hand-derived infinite-extension responses of id 1 (causal, 0.15·0.85^m):
//   wrap:     y[i] = 0.15 Σ_m 0.85^m x[(i-m) mod n] = 0.15/(1-0.85^n) Σ_{j<n} 0.85^j x[(i-j) mod n]
//   clamp:    y[i] = 0.15 Σ_{m<=i} 0.85^m x[i-m] + 0.85^(i+1) x[0]
//   constant: y[i] = 0.15 Σ_{m<=i} 0.85^m x[i-m] + 0.85^(i+1) c
//   mirror:   wrap over the period-2n sequence x0..x(n-1) x(n-1)..x0
double id1_exact(const std::vector<double>& x, int i, Border b, double c) {
  const int n = static_cast<int>(x.size());
  auto direct = [&]() {
    double s = 0.0;
    for (int m = 0; m <= i; ++m) s += 0.15 * std::pow(0.85, m) * x[i - m];
    return s;
  };
  switch (b) {
    case Border::Clamp: return direct() + std::pow(0.85, i + 1) * x[0];
    case Border::Constant: return direct() + std::pow(0.85, i + 1) * c;
    case Border::Wrap: {
      double s = 0.0;
      for (int j = 0; j < n; ++j) s += std::pow(0.85, j) * x[((i - j) % n + n) % n];
      return 0.15 / (1.0 - std::pow(0.85, n)) * s;
    }
    case Border::Mirror: {
      std::vector<double> p(x);
      p.insert(p.end(), x.rbegin(), x.rend());
      const int P = 2 * n;
      double s = 0.0;
      for (int j = 0; j < P; ++j) s += std::pow(0.85, j) * p[((i - j) % P + P) % P];
      return 0.15 / (1.0 - std::pow(0.85, P)) * s;
    }
  }
  return NAN;
}

TEST(ShortRows, Id1EveryBorderExact) {
  const std::vector<double> sample = {0.9, 0.1, 0.4, 0.7};
  for (int n = 1; n <= 4; ++n)
    for (Border b : kAllBorders)
      for (Precision p : kAllPrecisions) {
        SCOPED_TRACE("n=" + std::to_string(n) + " " + name(b) + " " + name(p));
        std::vector<double> x(sample.begin(), sample.begin() + n);
        const auto y = run_any(x, params(1, b, BorderInit::Exact, p, 0.25));
        for (int i = 0; i < n; ++i) EXPECT_NEAR(y[i], id1_exact(x, i, b, 0.25), p == Precision::F64 ? 1e-14 : 2e-6);
      }
}

TEST(ShortRows, Id5TwoSidedWrapIsCircularConvolution) {
  // Zero-phase id 5 on a periodic extension: y[i] = Σ_m 0.25·0.6^|m| x[(i-m) mod n].
  const std::vector<double> sample = {0.2, 1.0, 0.5, 0.0};
  for (int n = 1; n <= 4; ++n) {
    std::vector<double> x(sample.begin(), sample.begin() + n);
    const auto y = run_f64(x, params(5, Border::Wrap, BorderInit::Exact, Precision::F64));
    for (int i = 0; i < n; ++i) {
      double s = 0.0;
      for (int m = -200; m <= 200; ++m) s += 0.25 * std::pow(0.6, std::abs(m)) * x[((i - m) % n + n) % n];
      EXPECT_NEAR(y[i], s, 1e-14) << "n=" << n << " i=" << i;
    }
  }
}

TEST(ShortRows, Iir2dWarmUpOnTwoSamples) {
  // id 1, iir2d, mirror, x = (1, 0): B(-1) = x0 = 1 -> y[-1] = 0.15,
  // y0 = 0.15 + 0.85·0.15 = 0.2775, y1 = 0.85·0.2775 = 0.235875.
  const auto y = run_f64({1.0, 0.0}, params(1, Border::Mirror, BorderInit::Iir2d, Precision::F64));
  EXPECT_NEAR(y[0], 0.2775, 1e-15);
  EXPECT_NEAR(y[1], 0.235875, 1e-15);
  // wrap: B(-1) = x1 = 0 -> y0 = 0.15, y1 = 0.1275.
  const auto w = run_f64({1.0, 0.0}, params(1, Border::Wrap, BorderInit::Iir2d, Precision::F64));
  EXPECT_NEAR(w[0], 0.15, 1e-15);
  EXPECT_NEAR(w[1], 0.1275, 1e-15);
  // n = 1, constant 0.5, id 3: y[-2] = 0.6·0.5 = 0.3, y[-1] = 0.3 + 0.3·0.3 = 0.39,
  // y0 = 0.2 x0 + 0.2·0.5 + 0.2·0.5 + 0.3·0.39 - 0.1·0.3 with x0 = 1 -> 0.487.
  const auto c = run_f64({1.0}, params(3, Border::Constant, BorderInit::Iir2d, Precision::F64, 0.5));
  EXPECT_NEAR(c[0], 0.487, 1e-15);
}

// --- 2-D: separability and strided planes ------------------------------------

TEST(Plane2D, ImpulseIsTheOuterProductOfThe1DResponses) {
  for (int id : {1, 3, 5, 6}) {
    SCOPED_TRACE("id " + std::to_string(id));
    const int w = 91, h = 77, cx = 45, cy = 38, pad = 5;  // padded stride
    std::vector<double> in(static_cast<size_t>((w + pad) * h), 0.0), out(in.size(), -1.0);
    const std::ptrdiff_t stride = (w + pad) * static_cast<std::ptrdiff_t>(sizeof(double));
    in[static_cast<size_t>(cy * (w + pad) + cx)] = 1.0;
    iir2d::ref::filter_plane({in.data(), w, h, stride}, {out.data(), w, h, stride},
                             params(id, Border::Constant, BorderInit::Exact, Precision::F64));
    double worst = 0.0;
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x)
        worst = std::fmax(worst, std::fabs(out[static_cast<size_t>(y * (w + pad) + x)] -
                                           impulse_closed_form(id, x - cx) * impulse_closed_form(id, y - cy)));
    EXPECT_LT(worst, 1e-14);
    // The padding between rows is not written.
    EXPECT_EQ(out[static_cast<size_t>(w)], -1.0);
  }
}

TEST(Plane2D, InPlaceEqualsOutOfPlace) {
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> U(0.0f, 1.0f);
  const int w = 40, h = 30;
  std::vector<float> a(static_cast<size_t>(w * h)), b;
  for (float& v : a) v = U(rng);
  b = a;
  std::vector<float> out(a.size());
  const auto p = params(4, Border::Mirror, BorderInit::Exact, Precision::F32);
  iir2d::ref::filter_plane({a.data(), w, h, w * 4}, {out.data(), w, h, w * 4}, p);
  iir2d::ref::filter_plane({b.data(), w, h, w * 4}, {b.data(), w, h, w * 4}, p);
  EXPECT_EQ(out, b);
}

// --- Precision modes (section 4) ----------------------------------------------

TEST(Precision, MixedIsCloserToF64ThanF32) {
  std::mt19937 rng(11);
  std::uniform_real_distribution<double> U(0.0, 1.0);
  const int w = 257, h = 129;
  std::vector<double> xd(static_cast<size_t>(w * h));
  for (double& v : xd) v = static_cast<float>(U(rng));  // representable in float32
  std::vector<float> xf(xd.begin(), xd.end());
  for (int id : {1, 2, 4, 6}) {
    SCOPED_TRACE("id " + std::to_string(id));
    std::vector<double> yd(xd.size());
    std::vector<float> y32(xf.size()), ymx(xf.size());
    iir2d::ref::filter_plane({xd.data(), w, h, w * 8}, {yd.data(), w, h, w * 8},
                             params(id, Border::Mirror, BorderInit::Exact, Precision::F64));
    iir2d::ref::filter_plane({xf.data(), w, h, w * 4}, {y32.data(), w, h, w * 4},
                             params(id, Border::Mirror, BorderInit::Exact, Precision::F32));
    iir2d::ref::filter_plane({xf.data(), w, h, w * 4}, {ymx.data(), w, h, w * 4},
                             params(id, Border::Mirror, BorderInit::Exact, Precision::Mixed));
    double e32 = 0.0, emx = 0.0;
    for (size_t k = 0; k < yd.size(); ++k) {
      e32 = std::fmax(e32, std::fabs(y32[k] - yd[k]));
      emx = std::fmax(emx, std::fabs(ymx[k] - yd[k]));
    }
    // Mixed only rounds each stored value (horizontal result, output) to float32:
    // a few half-ulps of values below 1.
    EXPECT_LT(emx, 3e-7);
    EXPECT_LT(e32, 1e-5);  // float32 arithmetic stays inside the contract's f32 bound
    EXPECT_LE(emx, e32);
  }
}

}  // namespace
