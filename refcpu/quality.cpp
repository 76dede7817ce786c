// SPDX-License-Identifier: MIT
// CPU reference of the quality metrics (iir2d/quality.h): plain loops.
#include "iir2d/quality.h"

#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

#include "iir2d/refcpu.h"

namespace iir2d::quality {

namespace {

void check_same_shape(const ConstVideoComponent& a, const ConstVideoComponent& b, const char* what) {
  if (a.width != b.width || a.height != b.height || a.depth != b.depth)
    throw std::invalid_argument(std::string(what) + ": components differ in size or depth (" +
                                std::to_string(a.width) + "x" + std::to_string(a.height) + "@" +
                                std::to_string(a.depth) + " vs " + std::to_string(b.width) + "x" +
                                std::to_string(b.height) + "@" + std::to_string(b.depth) + ")");
  if (a.width < 0 || a.height < 0) throw std::invalid_argument(std::string(what) + ": negative size");
  if (a.depth < 1 || a.depth > 16) throw std::invalid_argument(std::string(what) + ": depth outside [1, 16]");
}

/// The four sums of one 4×4 block: Σr, Σd, Σr² + Σd², Σr·d.
struct BlockSums {
  std::int64_t s1 = 0, s2 = 0, ss = 0, s12 = 0;
};

}  // namespace

double psnr_db(std::uint64_t sse, std::uint64_t samples, double max) {
  if (samples == 0) return std::numeric_limits<double>::quiet_NaN();
  if (sse == 0) return std::numeric_limits<double>::infinity();
  const double mse = static_cast<double>(sse) / static_cast<double>(samples);
  return 10.0 * std::log10(max * max / mse);
}

FrameMetrics frame_metrics(const ComponentSums* sums, const int* depths, int n) {
  if (n < 1 || n > kMaxComponents) throw std::invalid_argument("frame_metrics: 1 to 4 components");
  FrameMetrics m;
  m.components = n;
  for (int c = 0; c < kMaxComponents; ++c) m.psnr[c] = m.ssim[c] = std::numeric_limits<double>::quiet_NaN();

  std::uint64_t total = 0;
  for (int c = 0; c < n; ++c) total += sums[c].samples;
  // Each component weighs its share of the samples. The peak and the SSIM
  // are summed weighted by sample counts and divided once, so equal depths
  // give exactly the peak and identical frames exactly 1.
  double mse_avg = 0.0, peak_sum = 0.0, ssim_sum = 0.0;
  for (int c = 0; c < n; ++c) {
    const double max = code_max(depths[c]);
    const double samples = static_cast<double>(sums[c].samples);
    const double weight = total ? samples / static_cast<double>(total) : 0.0;
    m.psnr[c] = psnr_db(sums[c].sse, sums[c].samples, max);
    m.ssim[c] = sums[c].ssim_windows ? sums[c].ssim_sum / static_cast<double>(sums[c].ssim_windows)
                                     : std::numeric_limits<double>::quiet_NaN();
    if (sums[c].samples) mse_avg += static_cast<double>(sums[c].sse) / samples * weight;
    peak_sum += max * samples;
    ssim_sum += m.ssim[c] * samples;
  }
  const double peak_avg = total ? peak_sum / static_cast<double>(total) : 0.0;
  const double ssim_all = total ? ssim_sum / static_cast<double>(total) : std::numeric_limits<double>::quiet_NaN();
  if (total == 0)
    m.psnr_avg = std::numeric_limits<double>::quiet_NaN();
  else if (mse_avg == 0.0)
    m.psnr_avg = std::numeric_limits<double>::infinity();
  else
    m.psnr_avg = 10.0 * std::log10(peak_avg * peak_avg / mse_avg);
  m.ssim_all = ssim_all;
  return m;
}

double temporal_delta(std::uint64_t dist_abs_diff, std::uint64_t ref_abs_diff, std::uint64_t samples, int depth) {
  if (samples == 0) return 0.0;
  const double scale = static_cast<double>(samples) * code_max(depth);
  return std::fabs(static_cast<double>(dist_abs_diff) / scale - static_cast<double>(ref_abs_diff) / scale);
}

ComponentSums compare_component(const ConstVideoComponent& ref, const ConstVideoComponent& dist) {
  check_same_shape(ref, dist, "compare_component");
  const int w = ref.width, h = ref.height;
  ComponentSums out;
  out.samples = static_cast<std::uint64_t>(w) * static_cast<std::uint64_t>(h);

  // PSNR: every sample.
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      const std::int64_t d = static_cast<std::int64_t>(ref::read_code(ref, x, y)) - ref::read_code(dist, x, y);
      out.sse += static_cast<std::uint64_t>(d * d);
    }

  // SSIM: the sums of every complete 4×4 block...
  const int bw = ssim_blocks(w), bh = ssim_blocks(h);
  const int ww = ssim_windows_along(w), wh = ssim_windows_along(h);
  if (ww == 0 || wh == 0) return out;
  std::vector<BlockSums> blocks(static_cast<std::size_t>(bw) * bh);
  for (int by = 0; by < bh; ++by)
    for (int bx = 0; bx < bw; ++bx) {
      BlockSums& b = blocks[static_cast<std::size_t>(by) * bw + bx];
      for (int y = 4 * by; y < 4 * by + 4; ++y)
        for (int x = 4 * bx; x < 4 * bx + 4; ++x) {
          const std::int64_t r = ref::read_code(ref, x, y), d = ref::read_code(dist, x, y);
          b.s1 += r;
          b.s2 += d;
          b.ss += r * r + d * d;
          b.s12 += r * d;
        }
    }
  // ...then every window of 2×2 neighbouring blocks, in raster order.
  const int max = static_cast<int>(code_max(ref.depth));
  const std::int64_t c1 = ssim_c1(max), c2 = ssim_c2(max);
  for (int y = 0; y < wh; ++y)
    for (int x = 0; x < ww; ++x) {
      BlockSums s;
      for (int dy = 0; dy < 2; ++dy)
        for (int dx = 0; dx < 2; ++dx) {
          const BlockSums& b = blocks[static_cast<std::size_t>(y + dy) * bw + (x + dx)];
          s.s1 += b.s1;
          s.s2 += b.s2;
          s.ss += b.ss;
          s.s12 += b.s12;
        }
      out.ssim_sum += ssim_window(s.s1, s.s2, s.ss, s.s12, c1, c2);
    }
  out.ssim_windows = static_cast<std::uint64_t>(ww) * static_cast<std::uint64_t>(wh);
  return out;
}

std::uint64_t sum_abs_diff(const ConstVideoComponent& a, const ConstVideoComponent& b) {
  check_same_shape(a, b, "sum_abs_diff");
  std::uint64_t sum = 0;
  for (int y = 0; y < a.height; ++y)
    for (int x = 0; x < a.width; ++x)
      sum += static_cast<std::uint64_t>(
          std::llabs(static_cast<long long>(ref::read_code(a, x, y)) - static_cast<long long>(ref::read_code(b, x, y))));
  return sum;
}

}  // namespace iir2d::quality
