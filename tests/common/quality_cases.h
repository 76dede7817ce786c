// SPDX-License-Identifier: MIT
// Hand-derived answers of the quality-metric tests (tiers 1-3): closed forms
// written from the definitions (ffmpeg's psnr and ssim filters, x264's SSIM),
// with the constants worked out by hand, not taken from the code under test.
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

#include "iir2d/filters.h"

namespace qcases {

/// SSIM constants scaled to 64-sample sums: round(0.01² · 255² · 64) = round(416.16),
/// round(0.03² · 255² · 64 · 63) = round(235962.72); for 10 bits (peak 1023):
/// round(6698.0...) and round(3797643.8...).
constexpr double kC1_8 = 416, kC2_8 = 235963;
constexpr double kC1_10 = 6698, kC2_10 = 3797644;

/// 10·log10(peak² / mse).
inline double psnr(double mse, double peak) { return 10.0 * std::log10(peak * peak / mse); }

/// Window SSIM of two constant 8×8 windows a and b: the variances and the
/// covariance are 0, so it is (2·Σa·Σb + c1)/(Σa² + Σb² + c1) with Σ over 64 samples.
inline double ssim_constant(double a, double b, double c1) {
  const double s1 = 64 * a, s2 = 64 * b;
  return (2 * s1 * s2 + c1) / (s1 * s1 + s2 * s2 + c1);
}

/// Window SSIM of a constant window a against the same window with one
/// sample a + e: Σr = 64a, Σd = 64a + e, the summed variance 64·ss − s1² − s2²
/// is 63e², the covariance 0.
inline double ssim_one_wrong(double a, double e, double c1, double c2) {
  const double s1 = 64 * a, s2 = 64 * a + e;
  return (2 * s1 * s2 + c1) * c2 / ((s1 * s1 + s2 * s2 + c1) * (63 * e * e + c2));
}

/// Number of 8×8 windows (on the 4-sample grid, complete 4×4 blocks only)
/// that contain sample (x, y) of a w×h plane.
inline int windows_containing(int x, int y, int w, int h) {
  const int ww = w / 4 - 1, wh = h / 4 - 1;
  if (x >= 4 * (w / 4) || y >= 4 * (h / 4) || ww < 1 || wh < 1) return 0;
  auto count = [](int b, int n) {  // windows i with i <= b <= i + 1, 0 <= i < n
    int k = 0;
    for (int i = b - 1; i <= b; ++i) k += (i >= 0 && i < n);
    return k;
  };
  return count(x / 4, ww) * count(y / 4, wh);
}

/// A plane of 8- or 16-bit words in host memory with a padded row stride.
struct HostPlane {
  std::vector<std::uint8_t> bytes;
  iir2d::ConstVideoComponent comp;

  HostPlane(int width, int height, int depth, int shift = 0, int pixel_stride_samples = 1, int pad = 5) {
    const int sample = depth + shift > 8 ? 2 : 1;
    comp.width = width;
    comp.height = height;
    comp.pixel_stride = sample * pixel_stride_samples;
    comp.row_stride = static_cast<std::ptrdiff_t>(width) * comp.pixel_stride + pad;
    comp.type = sample == 2 ? iir2d::SampleType::U16 : iir2d::SampleType::U8;
    comp.depth = depth;
    comp.shift = shift;
    bytes.assign(static_cast<std::size_t>(comp.row_stride) * height + 16, 0xA5);  // junk in the padding
    comp.data = bytes.data();
  }

  void set(int x, int y, unsigned code) {
    std::uint8_t* p = bytes.data() + y * comp.row_stride + x * comp.pixel_stride;
    const unsigned word = code << comp.shift;
    p[0] = static_cast<std::uint8_t>(word & 0xff);
    if (comp.type == iir2d::SampleType::U16) p[1] = static_cast<std::uint8_t>(word >> 8);
  }

  void fill(unsigned code) {
    for (int y = 0; y < comp.height; ++y)
      for (int x = 0; x < comp.width; ++x) set(x, y, code);
  }
};

}  // namespace qcases
