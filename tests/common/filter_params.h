// SPDX-License-Identifier: MIT
// FilterParams in one line, for the test suites.
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

}  // namespace iir2d::test
