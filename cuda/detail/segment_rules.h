// SPDX-License-Identifier: MIT
/**
 * @file segment_rules.h
 * @brief Host-side rules for the scan passes' segments (fast_launch.cuh). They are in a header of their own, without kernels,
 *        so that the tests can check them on the CPU.
 */
#pragma once

#include "detail/segment.cuh"
#include "iir2d/cuda_layout.h"

namespace iir2d::cuda::detail {

/// v rounded up to a whole multiple of m (v >= 0, m > 0): segment lengths in whole chunks.
constexpr long long round_up(long long v, long long m) { return (v + m - 1) / m * m; }

/**
 * Segment length of the scan column pass: about `blocks_per_sm` blocks per
 * SM over the column groups of 32 and at least `min_segments` segments per
 * column, never shorter than 4·W (the warm-up of an interior segment then
 * costs at most a quarter more rows) nor than a chunk; `fixed` > 0
 * (Tuning::fixed_col_segment, tests) forces a length.
 */
inline int scan_col_segment(int width, int height, int rows_per_chunk, int W, int sm_count, int blocks_per_sm,
                            int min_segments, int fixed) {
  auto up = [rows_per_chunk](long long v) { return round_up(v, rows_per_chunk); };
  if (fixed > 0) {  // tests: this length rounded up to a chunk (interior segments then warm up across several)
    long long S = up(fixed);
    if ((height + S - 1) / S > kMaxGridY) S = up((height + kMaxGridY - 1) / kMaxGridY);
    return static_cast<int>(S);
  }
  const long long groups = (static_cast<long long>(width) + 31) / 32;
  long long nseg = static_cast<long long>(sm_count) * (blocks_per_sm > 0 ? blocks_per_sm : 1) / groups;
  if (nseg < min_segments) nseg = min_segments;
  if (nseg < 1) nseg = 1;
  long long S = up((height + nseg - 1) / nseg);
  S = S < up(4LL * W) ? up(4LL * W) : S;
  if (S > up(height)) S = up(height);
  if ((height + S - 1) / S > kMaxGridY) S = up((height + kMaxGridY - 1) / kMaxGridY);
  return static_cast<int>(S);
}

/**
 * F1A1's floor on a scan column segment length S: its scratch holds W rows
 * per segment for ceil(height / W) segments (dispatch.cu,
 * fast_scratch_elems), so its segments are at least W rows, rounded up to
 * whole chunks of `rows_per_chunk`. Other shapes keep S.
 */
constexpr int scan_col_scratch_floor(FastShape shape, int S, int W, int rows_per_chunk) {
  return shape == FastShape::F1A1 && S < W ? static_cast<int>(round_up(W, rows_per_chunk)) : S;
}

/**
 * Fewest column segments a shape takes in the scan column pass
 * (Tuning::col_scan_min_segments): the one-sweep shapes take
 * `min_segments`. The two-sweep shapes (F1A1, the Deriche pair) take 0:
 * every extra segment costs them two warm-ups. With twice the segments,
 * id 5 lost 3 % at 8K and 7 % at 4K, and id 6 lost 7 % at 4K
 * (docs/PERFORMANCE.md, round 6).
 */
constexpr int scan_col_min_segments(FastShape shape, int min_segments) {
  return shape == FastShape::F1A1 || shape == FastShape::Deriche ? 0 : min_segments;
}

/**
 * Segments per row of the scan row pass: enough warps for `warps_per_sm`
 * warps per SM over `rows` rows (`forced` > 0: that many), each segment a
 * whole number of chunks of kC samples and at least max(4·W, kC) long when
 * chosen (at least W when forced), so that a warm-up costs at most a
 * quarter more samples. Shapes with a backward sweep keep one per row.
 */
inline void scan_row_segments(bool backward, int width, int rows, int kC, int W, int sm_count, int warps_per_sm,
                              int forced, int& nseg, int& seg_len) {
  auto up = [kC](long long v) { return round_up(v, kC); };
  nseg = 1;
  seg_len = static_cast<int>(up(width));
  if (backward || rows <= 0 || (forced <= 0 && warps_per_sm <= 0)) return;
  long long want = forced;
  if (forced <= 0) want = (static_cast<long long>(sm_count) * warps_per_sm + rows - 1) / rows;
  if (want <= 1) return;
  long long len = up((width + want - 1) / want);
  const long long shortest = forced > 0 ? up(W) : up(4LL * W);
  if (len < shortest) len = shortest;
  if (len >= width) return;
  seg_len = static_cast<int>(len);
  nseg = static_cast<int>((width + len - 1) / len);
}

}  // namespace iir2d::cuda::detail
