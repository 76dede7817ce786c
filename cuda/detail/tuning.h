// SPDX-License-Identifier: MIT
/**
 * @file tuning.h
 * @brief Internal knobs of the dispatch layer, for the benchmark and the
 *        tests (not part of the public API; the defaults are what the
 *        element runs). Process-wide; set them only while no filtering runs.
 */
#pragma once

namespace iir2d::cuda::detail {

struct Tuning {
  /// Warps per SM that the segment count of the row pass aims at; 0: one
  /// wave of what the kernel keeps resident (CUDA occupancy API).
  int row_warps_per_sm = 0;
  /// The same for the column pass.
  int col_warps_per_sm = 0;
  /// The same for F1A1 programs (id 5), whose segments carry scratch and
  /// two warm-ups each, so that fewer, longer segments pay.
  int f1a1_warps_per_sm = 8;
  /// Shortest segment, as a multiple of the warm-up W (0: 32 samples).
  double min_segment_over_warmup = 0.5;
  /// Row pass: L2 prefetch bursts of this many bytes per row (0: off), this far ahead.
  int l2_span = 0;
  int l2_ahead = 1024;
  /// If > 0, the segment length of every row / column pass (rounded up to
  /// 32; F1A1 programs still take at least W). For tests of the edges.
  int fixed_row_segment = 0;
  int fixed_col_segment = 0;
  /// Rows by the scan row pass (scan_row.cuh) where it keeps the contract;
  /// false: always the tiled row pass with segments and warm-ups.
  bool row_scan = true;
  /// Shapes (bit FastShape) that take the scan row pass when row_scan is on;
  /// -1: the measured choice per shape, precision and plane type
  /// (dispatch.cu, scan_rows(); docs/PERFORMANCE.md, "Tuning notes"). Only
  /// the combinations that choice can select are built (fast_launch.cuh,
  /// kScanBuilt); others take the tiled row pass whatever this mask says.
  int scan_shapes = -1;
  /// At f32 precision, video components deeper than this take the tiled
  /// (order-exact) row pass: the scan's float32 rounding differs from
  /// refcpu's by an ulp or so, which round(o * max) turns into code
  /// differences in deep samples. Why 8: docs/PERFORMANCE.md, "Tuning notes".
  int scan_f32_max_depth = 8;
  /// Scan row pass, shapes without a backward sweep: rows are cut into
  /// segments (each warming up over W samples, as the tiled passes') until
  /// there are about this many warps per SM; 0: one warp per row. A 4K
  /// plane's 2,160 rows give 16 warps per SM alone. Planes take
  /// row_scan_warps_per_sm at every precision; video components take
  /// row_scan_warps_per_sm_video at f32 and row_scan_warps_per_sm_video_f64
  /// with float64 sums (precisions mixed and f64), where 32 lost 3-8 % at
  /// 4K (cause not established). The best of 0/16/24/32/48/64 on an H200 at
  /// 1080p, 4K and 8K (4K f32 id 1 0.0519 -> 0.0484 ms, 4K u8 id 1
  /// 0.0584 -> 0.0558 ms): docs/PERFORMANCE.md, "Round 7".
  int row_scan_warps_per_sm = 48;
  int row_scan_warps_per_sm_video = 32;
  int row_scan_warps_per_sm_video_f64 = 0;
  /// > 0: this many segments per row (tests of the segment edges).
  int row_scan_segments = 0;
  /// Columns by the scan column pass (scan_col.cuh) where the measured
  /// table chooses it (dispatch.cu, scan_cols()) and the scan row pass
  /// would keep the codes (the same float32 reordering); false: the tiled
  /// column pass everywhere.
  bool col_scan = true;
  /// Shapes (bit FastShape) that take the scan column pass when col_scan is
  /// on; -1: the measured choice (dispatch.cu, scan_cols()).
  int col_scan_shapes = -1;
  /// Largest Deriche sigma (id 6) that takes the scan column pass in the
  /// measured choice: above it the float32 fold of the carries moves more
  /// than the contract's 0.1 % of 8-bit codes (sigma 48: 0.48 %).
  double col_scan_deriche_max_sigma = 16.0;
  /// Blocks per SM that the scan column pass's segment count aims at.
  int col_scan_blocks_per_sm = 4;
  /// One-sweep shapes (all but F1A1 and the Deriche pair): at least this
  /// many segments per column in the scan column pass. At 7680×4320 four
  /// blocks per SM give 2 segments of 2,160 rows; 4 segments cut u8 id 1
  /// from 0.2031 to 0.1806 ms (H200; docs/PERFORMANCE.md, round 6), while
  /// ids 5 and 6 lost 3–7 % with more segments.
  int col_scan_min_segments = 4;
  /// > 0: planes whose float intermediate is larger run in bands of rows of
  /// about this many intermediate bytes (whole column segments of whole
  /// chunks, so a band can hold more), each band's row pass followed by
  /// its column segments (fast_launch.cuh, run_passes), so that the band is
  /// still in L2 when its columns read it. Only where the scan column pass
  /// runs and the border is not wrap. 0: whole planes.
  long long band_bytes = 0;
  /// > 0: column segments per band (tests of the band edges); 0: enough for
  /// col_scan_blocks_per_sm blocks per SM.
  int band_segments = 0;
  /// Run the correctness-first kernels of issue 2 (one thread per
  /// sequence) instead of the fast passes: the benchmark's baseline.
  bool generic_only = false;
};

/// Current knobs (a copy).
Tuning tuning();

/// Replaces the knobs.
void set_tuning(const Tuning& t);

}  // namespace iir2d::cuda::detail
