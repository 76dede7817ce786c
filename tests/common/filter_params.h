// SPDX-License-Identifier: MIT
// FilterParams in one line, names of its enums and the contract's
// tolerances, for the test suites.
#pragma once

#include "iir2d/filters.h"

namespace iir2d::test {

inline FilterParams params(int id, Border border, BorderInit init, Precision precision, double constant = 0.0) {
  FilterParams p;
  p.filter_id = id;
  p.border = border;
  p.border_init = init;
  p.precision = precision;
  p.border_constant = constant;
  return p;
}

/// Names for test traces and parameter names.
inline const char* border_name(Border b) {
  switch (b) {
    case Border::Clamp: return "clamp";
    case Border::Mirror: return "mirror";
    case Border::Wrap: return "wrap";
    case Border::Constant: return "constant";
  }
  return "bad";
}
inline const char* init_name(BorderInit i) { return i == BorderInit::Exact ? "exact" : "iir2d"; }
inline const char* precision_name(Precision p) {
  switch (p) {
    case Precision::F32: return "f32";
    case Precision::Mixed: return "mixed";
    case Precision::F64: return "f64";
  }
  return "bad";
}

/// Largest absolute difference from the CPU reference at the same precision
/// (docs/FILTER_CONTRACT.md, section 6).
inline double contract_tolerance(Precision p) {
  switch (p) {
    case Precision::F32: return 1e-5;
    case Precision::Mixed: return 1e-6;
    case Precision::F64: return 1e-12;
  }
  return 0.0;
}

}  // namespace iir2d::test
