// SPDX-License-Identifier: MIT
/**
 * @file refcpu.h
 * @brief CPU reference of the IIR2D filter contract (docs/FILTER_CONTRACT.md).
 *
 * Naive on purpose: one loop per pass, no blocking, no SIMD. This is the
 * oracle the CUDA kernels and the element are tested against, so every
 * function follows the contract's equations literally, in the contract's
 * order of operations.
 *
 * Errors: invalid arguments (bad filter id, a precision that does not match
 * the plane type, negative sizes, null data with a non-empty size) throw
 * std::invalid_argument. Empty planes (width or height 0) are a no-op.
 */
#pragma once

#include <cstddef>
#include <type_traits>

#include "iir2d/filters.h"

namespace iir2d::ref {

/**
 * A strided view of an H×W plane of T. `stride` is in bytes between the
 * starts of consecutive rows (>= width * sizeof(T)); rows are never assumed
 * packed.
 */
template <typename T>
struct Plane {
  T* data = nullptr;
  int width = 0;
  int height = 0;
  std::ptrdiff_t stride = 0;

  T* row(int y) const {
    using Byte = std::conditional_t<std::is_const_v<T>, const unsigned char, unsigned char>;
    return reinterpret_cast<T*>(reinterpret_cast<Byte*>(data) + static_cast<std::ptrdiff_t>(y) * stride);
  }
  T& at(int x, int y) const { return row(y)[x]; }
};

/**
 * Border sample B(i) of contract section 2 for a sequence of length n >= 1
 * read through `get(k)` for k in [0, n). Returns `constant` for
 * Border::Constant outside [0, n).
 */
template <typename T, typename Get>
T border_sample(Get get, int n, long long i, Border border, T constant) {
  if (i >= 0 && i < n) return get(static_cast<int>(i));
  switch (border) {
    case Border::Clamp:
      return get(i < 0 ? 0 : n - 1);
    case Border::Mirror: {
      long long m = i % (2LL * n);
      if (m < 0) m += 2LL * n;
      if (m >= n) m = 2LL * n - 1 - m;
      return get(static_cast<int>(m));
    }
    case Border::Wrap: {
      long long m = i % n;
      if (m < 0) m += n;
      return get(static_cast<int>(m));
    }
    case Border::Constant:
      return constant;
  }
  return constant;
}

/**
 * Runs the 1-D program of `params.filter_id` on a sequence x[0..n-1] and
 * writes y[0..n-1] (one pass of section 1; borders by section 2;
 * initialisation by section 3a; arithmetic by section 4).
 *
 * `precision` must be F32 or Mixed. `x` and `y` may alias. `step` is the
 * distance in elements between consecutive samples (1 for a row, the row
 * pitch in elements for a column).
 */
void filter_sequence(const float* x, float* y, int n, std::ptrdiff_t step, const FilterParams& params);

/// As above for float64 storage; `precision` must be F64.
void filter_sequence(const double* x, double* y, int n, std::ptrdiff_t step, const FilterParams& params);

/**
 * 2-D filter of contract section 1: the horizontal pass on every row, then
 * the vertical pass on every column of the horizontal result (stored as
 * float32). `in` and `out` must have the same size and may be the same plane.
 * `params.precision` must be F32 or Mixed.
 */
void filter_plane(const Plane<const float>& in, const Plane<float>& out, const FilterParams& params);

/// As above with float64 planes; `params.precision` must be F64.
void filter_plane(const Plane<const double>& in, const Plane<double>& out, const FilterParams& params);

/**
 * Reads code value v of component `c` at (x, y): the stored word shifted
 * right by `c.shift` and masked to `c.depth` bits.
 */
unsigned read_code(const ConstVideoComponent& c, int x, int y);

/// Writes code value v (already in [0, 2^depth-1]) at (x, y), shifted left by `c.shift`.
void write_code(const VideoComponent& c, int x, int y, unsigned v);

/**
 * Section 5's output quantisation: round(o · max) half away from zero,
 * clamped to [0, max], for a normalised value o.
 */
unsigned quantize(double o, int depth);

/**
 * Filters one video component (contract section 5): x = v / max, f = the 2-D
 * filter of x at `params.precision` (float32 planes for F32/Mixed, float64 for
 * F64), o = s·f + (1-s)·x, written as round(o·max) clamped to [0, max].
 * `params.border_constant` is in normalised units. `strength` must be in
 * [0, 1]. `in` and `out` must have the same width, height, type, depth and
 * shift; they may not overlap unless they are the same component.
 */
void filter_video_component(const ConstVideoComponent& in, const VideoComponent& out,
                            const FilterParams& params, double strength);

/// Copies a component sample by sample (used for planes that are not filtered).
void copy_video_component(const ConstVideoComponent& in, const VideoComponent& out);

}  // namespace iir2d::ref
