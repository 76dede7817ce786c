// SPDX-License-Identifier: MIT
/**
 * @file filters.h
 * @brief The IIR2D filter family as data: the 1-D programs of filter ids 1–8,
 *        their DC gains, pole radii and extension lengths, and the parameter
 *        and plane-descriptor types shared by refcpu/ and cuda/.
 *
 * Source of every number: docs/FILTER_CONTRACT.md (sections 3, 3a,
 * 4, 5). This header holds *definitions* only; the loops that run the
 * programs live separately in refcpu/ (the oracle) and cuda/ (the kernels),
 * so that a mistake in one is caught by the other.
 *
 * Header-only, no dependencies beyond the C++17 standard library; usable from
 * host code compiled by nvcc.
 */
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>

namespace iir2d {

/// Border sampling rule B(i) for indices outside [0, n) (contract section 2).
enum class Border : int {
  Clamp = 0,    ///< x[0] left of the sequence, x[n-1] right of it
  Mirror = 1,   ///< symmetric reflection with the edge sample repeated
  Wrap = 2,     ///< periodic extension, x[i mod n]
  Constant = 3, ///< the border constant c (normalised units for video)
};

/// How each recursion starts at the border (contract section 3a).
enum class BorderInit : int {
  Exact = 0, ///< response to the infinite extension by B (within epsilon)
  Iir2d = 1, ///< IIR2D 1.0's warm-up formulas of section 3, literally
};

/// Storage and arithmetic precision (contract section 4).
enum class Precision : int {
  F32 = 0,   ///< float32 storage, float32 arithmetic
  Mixed = 1, ///< float32 storage, float64 recursion state
  F64 = 2,   ///< float64 storage and arithmetic
};

/// Kind of one recursive section of a 1-D program (contract section 3).
enum class SectionKind : int {
  Causal1 = 0,     ///< F1(b0, b1, a1), run left to right
  Causal2 = 1,     ///< biquad F2(b0, b1, b2, a1, a2), run left to right
  AntiCausal1 = 2, ///< mirror image of F1, run right to left (id 5)
  DerichePair = 3, ///< Deriche causal + anti-causal pair on the same input (id 6)
};

/**
 * One section. Coefficient meaning by kind:
 *  - Causal1 / AntiCausal1: ff = {b0, b1, 0, 0}, fb = {a1, 0}
 *  - Causal2:               ff = {b0, b1, b2, 0}, fb = {a1, a2}
 *  - DerichePair:           ff = {a0, a1, a2, a3}, fb = {b1, b2}
 * with the recursions of the contract, section 3 (feedback terms are added:
 * y[i] = ... + fb[0]·y[i-1] + fb[1]·y[i-2]).
 */
struct Section {
  SectionKind kind = SectionKind::Causal1;
  double ff[4] = {0, 0, 0, 0};
  double fb[2] = {0, 0};
};

/// A 1-D program: one or two sections run in cascade along one axis.
struct Program {
  int num_sections = 0;
  Section sections[2];
};

constexpr int kMinFilterId = 1;
constexpr int kMaxFilterId = 8;
/// Deriche width of filter id 6 in the contract.
constexpr double kDericheSigma = 2.0;
/// Extension tolerance epsilon of section 3a.
constexpr double kExactEpsF32 = 1e-9;  ///< for f32 and mixed
constexpr double kExactEpsF64 = 1e-17; ///< for f64

/// Section constructors with the contract's names.
inline Section make_f1(double b0, double b1, double a1) {
  Section s;
  s.kind = SectionKind::Causal1;
  s.ff[0] = b0; s.ff[1] = b1; s.fb[0] = a1;
  return s;
}
inline Section make_f1_anticausal(double b0, double b1, double a1) {
  Section s = make_f1(b0, b1, a1);
  s.kind = SectionKind::AntiCausal1;
  return s;
}
inline Section make_f2(double b0, double b1, double b2, double a1, double a2) {
  Section s;
  s.kind = SectionKind::Causal2;
  s.ff[0] = b0; s.ff[1] = b1; s.ff[2] = b2; s.fb[0] = a1; s.fb[1] = a2;
  return s;
}
/// Deriche pair D(sigma) with the coefficients of contract section 3.
inline Section make_deriche(double sigma) {
  const double alpha = 1.695 / sigma;
  const double e = std::exp(-alpha);
  const double e2 = std::exp(-2.0 * alpha);
  const double k = (1.0 - e) * (1.0 - e) / (1.0 + 2.0 * alpha * e - e2);
  Section s;
  s.kind = SectionKind::DerichePair;
  s.ff[0] = k;
  s.ff[1] = k * (alpha - 1.0) * e;
  s.ff[2] = k * (alpha + 1.0) * e;
  s.ff[3] = -k * e2;
  s.fb[0] = 2.0 * e;
  s.fb[1] = -e2;
  return s;
}

/// True for ids 1–8.
constexpr bool is_valid_filter_id(int id) { return id >= kMinFilterId && id <= kMaxFilterId; }

/**
 * The 1-D program of one pass of filter `id` (contract table "Filter ids").
 * An invalid id yields an empty program (num_sections == 0).
 */
inline Program filter_program(int id, double deriche_sigma = kDericheSigma) {
  Program p;
  switch (id) {
    case 1:
    case 7:
      p.num_sections = 1;
      p.sections[0] = make_f1(0.15, 0.0, 0.85);
      break;
    case 2:
      p.num_sections = 2;
      p.sections[0] = make_f1(0.25, 0.0, 0.75);
      p.sections[1] = make_f1(0.25, 0.0, 0.75);
      break;
    case 3:
    case 8:
      p.num_sections = 1;
      p.sections[0] = make_f2(0.2, 0.2, 0.2, 0.3, -0.1);
      break;
    case 4:
      p.num_sections = 2;
      p.sections[0] = make_f2(0.2, 0.2, 0.2, 0.3, -0.1);
      p.sections[1] = make_f2(0.3, 0.1, 0.1, 0.2, -0.05);
      break;
    case 5:
      p.num_sections = 2;
      p.sections[0] = make_f1(0.4, 0.0, 0.6);
      p.sections[1] = make_f1_anticausal(0.4, 0.0, 0.6);
      break;
    case 6:
      p.num_sections = 1;
      p.sections[0] = make_deriche(deriche_sigma);
      break;
    default:
      break;
  }
  return p;
}

/// Short name of each program, for property blurbs and test traces.
inline const char* filter_description(int id) {
  switch (id) {
    case 1: return "first-order smoothing (a=0.85)";
    case 2: return "two first-order stages (a=0.75)";
    case 3: return "biquad low-pass (DC gain 0.75)";
    case 4: return "two biquads (DC gain 0.441)";
    case 5: return "causal + anti-causal first order (zero phase)";
    case 6: return "Deriche smoothing, sigma 2";
    case 7: return "same as 1";
    case 8: return "same as 3";
    default: return "invalid";
  }
}

/// DC gain of one section: sum(ff) / (1 - sum(fb)). For the Deriche pair the
/// causal and anti-causal halves share the denominator, so the same formula holds.
inline double section_dc_gain(const Section& s) {
  return (s.ff[0] + s.ff[1] + s.ff[2] + s.ff[3]) / (1.0 - s.fb[0] - s.fb[1]);
}

/// DC gain of one pass (product over the cascade); the 2-D gain is its square.
inline double program_dc_gain(const Program& p) {
  double g = 1.0;
  for (int k = 0; k < p.num_sections; ++k) g *= section_dc_gain(p.sections[k]);
  return g;
}

/**
 * Largest pole modulus rho of a section (contract 3a): |a1| for first order,
 * the largest root modulus of z^2 - a1 z - a2 for a biquad, and e for the
 * Deriche pair (its denominator 1 - 2e z^-1 + e^2 z^-2 has a double pole at e,
 * so e = sqrt(-b2)).
 */
inline double section_pole_radius(const Section& s) {
  switch (s.kind) {
    case SectionKind::Causal1:
    case SectionKind::AntiCausal1:
      return std::fabs(s.fb[0]);
    case SectionKind::Causal2: {
      const double a1 = s.fb[0], a2 = s.fb[1];
      const double disc = a1 * a1 + 4.0 * a2;
      if (disc < 0.0) return std::sqrt(-a2);  // complex pair: |z|^2 = -a2
      const double r = std::sqrt(disc);
      return std::fmax(std::fabs(0.5 * (a1 + r)), std::fabs(0.5 * (a1 - r)));
    }
    case SectionKind::DerichePair:
      return std::sqrt(-s.fb[1]);  // b2 = -e^2
  }
  return 0.0;
}

/// Extension epsilon of section 3a for a precision mode.
constexpr double exact_epsilon(Precision p) {
  return p == Precision::F64 ? kExactEpsF64 : kExactEpsF32;
}

/**
 * Extension length L of contract section 3a: the sum over the program's
 * sections of ceil(ln eps / ln rho). A section with rho == 0 contributes 0.
 */
inline int extension_length(const Program& p, Precision precision) {
  const double eps = exact_epsilon(precision);
  int total = 0;
  for (int k = 0; k < p.num_sections; ++k) {
    const double rho = section_pole_radius(p.sections[k]);
    if (rho <= 0.0) continue;
    total += static_cast<int>(std::ceil(std::log(eps) / std::log(rho)));
  }
  return total;
}

/// Filter parameters common to every plane of a frame.
struct FilterParams {
  int filter_id = 1;
  Border border = Border::Mirror;
  double border_constant = 0.0;  ///< B(i) under Border::Constant, same unit as the samples
  BorderInit border_init = BorderInit::Exact;
  Precision precision = Precision::F32;
  /// Deriche width of filter id 6 (the contract's value is 2.0; an extension
  /// over IIR2D). Must be > 0; ignored by the other ids.
  double sigma = kDericheSigma;
  /// Divide each pass by its DC gain so flat areas keep their level (an
  /// extension over IIR2D; the contract's behaviour is false).
  bool unity_gain = false;
};

/**
 * The 1-D program that the kernels and the reference run for `p`:
 * filter_program(p.filter_id, p.sigma), and with p.unity_gain the
 * feed-forward coefficients of its first section divided by the pass's DC
 * gain (so the pass has gain 1; every stage still warms up from its own
 * input). Empty for an invalid id.
 */
inline Program make_program(const FilterParams& p) {
  Program prog = filter_program(p.filter_id, p.sigma);
  if (p.unity_gain && prog.num_sections > 0) {
    const double g = program_dc_gain(prog);
    for (double& c : prog.sections[0].ff) c /= g;
  }
  return prog;
}

/// Integer sample storage of a video component (contract section 5).
enum class SampleType : int {
  U8 = 0,  ///< one byte per sample
  U16 = 1, ///< two bytes per sample, host (little-endian) order
};

/**
 * One component of a video frame, as a strided 2-D array of integer samples.
 * Covers planar (pixel_stride == sample size), semi-planar (NV12's U and V:
 * pixel_stride 2) and, later, packed layouts.
 *
 *  - data: address of the component's first sample (row 0, column 0)
 *  - width, height: in samples of this component (chroma planes are subsampled)
 *  - row_stride: bytes from one row to the next (>= width * pixel_stride)
 *  - pixel_stride: bytes from one sample to the next in a row
 *  - depth: significant bits d; the code value range is [0, 2^d - 1]
 *  - shift: bit position of the least significant bit inside the storage word
 *           (0 for LSB-aligned samples)
 */
template <typename Ptr>
struct VideoComponentT {
  Ptr data = nullptr;
  int width = 0;
  int height = 0;
  std::ptrdiff_t row_stride = 0;
  std::ptrdiff_t pixel_stride = 1;
  SampleType type = SampleType::U8;
  int depth = 8;
  int shift = 0;
};
using VideoComponent = VideoComponentT<void*>;
using ConstVideoComponent = VideoComponentT<const void*>;

/// Largest code value 2^depth - 1 of a component.
inline double code_max(int depth) { return std::ldexp(1.0, depth) - 1.0; }

}  // namespace iir2d
