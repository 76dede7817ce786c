// SPDX-License-Identifier: MIT
/**
 * @file video_samples.cuh
 * @brief Device helpers (bottom layer) for integer video samples, contract
 *        section 5: reading code values from storage words, normalising them
 *        to [0, 1], blending with the strength and quantising back.
 *
 * Storage words are read and written byte by byte (little-endian U16), so
 * no alignment is required of the component's address or strides.
 */
#pragma once

#include <cmath>
#include <cstddef>

#include "detail/sequence.cuh"
#include "iir2d/filters.h"

namespace iir2d::cuda::detail {

/// Storage format of one component's samples.
struct SampleFormat {
  SampleType type;
  int shift;      ///< bit position of the code value's LSB in the storage word
  unsigned mask;  ///< 2^depth - 1
};

IIR2D_HD unsigned load_word(const unsigned char* p, SampleType type) {
  if (type == SampleType::U8) return p[0];
  return static_cast<unsigned>(p[0]) | (static_cast<unsigned>(p[1]) << 8);
}

IIR2D_HD void store_word(unsigned char* p, SampleType type, unsigned word) {
  p[0] = static_cast<unsigned char>(word & 0xffu);
  if (type == SampleType::U16) p[1] = static_cast<unsigned char>((word >> 8) & 0xffu);
}

/// Code value v of the sample at p: (word >> shift) & mask.
IIR2D_HD unsigned load_code(const unsigned char* p, const SampleFormat& f) { return (load_word(p, f.type) >> f.shift) & f.mask; }

/// Writes code value v (in [0, mask]) at p; the word's other bits become 0.
IIR2D_HD void store_code(unsigned char* p, const SampleFormat& f, unsigned v) { store_word(p, f.type, v << f.shift); }

/// x = v / max in the I/O type (contract section 5).
template <typename Store>
IIR2D_HD Store normalise_code(unsigned v, Store max_code) {
  return static_cast<Store>(v) / max_code;
}

/**
 * A row or column of a video component read as normalised samples: element
 * k is the code at base + k * step bytes, divided by the largest code value.
 */
template <typename Store>
struct NormalisedCodeSeq {
  const unsigned char* base;
  std::ptrdiff_t step;  ///< bytes
  SampleFormat format;
  Store max_code;

  IIR2D_HD Store load(int k) const {
    return normalise_code<Store>(load_code(base + static_cast<std::ptrdiff_t>(k) * step, format), max_code);
  }
};

/// round(o · max) half away from zero, clamped to [0, max]; NaN gives 0.
IIR2D_HD unsigned quantise_code(double o, double max_code) {
  const double r = ::round(o * max_code);
  if (!(r > 0.0)) return 0u;
  if (r >= max_code) return static_cast<unsigned>(max_code);
  return static_cast<unsigned>(r);
}

/// o = s·f + (1-s)·x in the recursion type, quantised (contract section 5).
template <typename Store, typename Acc>
IIR2D_HD unsigned blend_and_quantise(Store f, Store x, Acc s, Acc one_minus_s, double max_code) {
  const Acc o = s * static_cast<Acc>(f) + one_minus_s * static_cast<Acc>(x);
  return quantise_code(static_cast<double>(o), max_code);
}

}  // namespace iir2d::cuda::detail
