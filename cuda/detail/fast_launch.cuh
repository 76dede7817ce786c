// SPDX-License-Identifier: MIT
/**
 * @file fast_launch.cuh
 * @brief Dispatch of the fast passes (third layer): one job per plane or
 *        video component, launched as a row pass then a column pass on the
 *        caller's stream. The launchers are explicitly instantiated per
 *        precision in fast_f32.cu, fast_mixed.cu and fast_f64.cu (separate
 *        translation units so that they compile in parallel); dispatch.cu
 *        fills the jobs.
 */
#pragma once

#include <cuda_runtime_api.h>

#include <atomic>
#include <type_traits>
#include <cstddef>

#include "detail/fast_kernels.cuh"
#include "detail/result_util.h"
#include "detail/scan_col.cuh"
#include "detail/scan_row.cuh"
#include "detail/segment_rules.h"
#include "iir2d/cuda_filter.h"
#include "iir2d/cuda_layout.h"

namespace iir2d::cuda::detail {

/**
 * How to split sequences into segments (filled by dispatch.cu from the
 * tuning knobs): aim at `warps_per_sm` warps per SM, or, when it is 0, at
 * exactly one wave of the warps the kernel can keep resident (asked of the
 * CUDA occupancy API), so that no second, mostly idle wave follows.
 */
struct SegmentPolicy {
  int sm_count = 132;
  int warps_per_sm = 0;    ///< 0: one resident wave
  int fixed = 0;           ///< > 0: this segment length (tests)
  double min_over_w = 0.5; ///< shortest segment as a multiple of W
  int W = 32;              ///< warm-up
  bool at_least_w = false; ///< F1A1: segments of at least W (scratch bound)
};

inline int round_up_chunk(long long v) { return static_cast<int>(round_up(v, kChunk)); }

/// Segment length and count along sequences of length n with `lanes` sequences side by side.
template <typename Store, typename Acc>
void pick_segments(SegmentLaunch<Store, Acc>& seg, int n, int lanes, int resident_warps_per_sm,
                   const SegmentPolicy& pol) {
  int S;
  if (pol.fixed > 0) {
    S = round_up_chunk(pol.fixed);
  } else {
    const int per_sm = pol.warps_per_sm > 0 ? pol.warps_per_sm : (resident_warps_per_sm > 0 ? resident_warps_per_sm : 8);
    const long long warps = (static_cast<long long>(lanes) + 31) / 32;
    const long long target = static_cast<long long>(pol.sm_count) * per_sm;
    long long want = target / warps;  // whole waves only: never more warps than the target
    if (want < 1) want = 1;
    S = round_up_chunk((static_cast<long long>(n) + want - 1) / want);
    const int shortest = round_up_chunk(static_cast<long long>(pol.min_over_w * pol.W + 0.999));
    if (S < shortest) S = shortest;
  }
  if (S < kChunk) S = kChunk;
  if (pol.at_least_w && S < pol.W) S = pol.W;
  constexpr long long kMaxSegs = kMaxGridY;  // segments are the column pass's gridDim.y
  if ((static_cast<long long>(n) + S - 1) / S > kMaxSegs) S = round_up_chunk((static_cast<long long>(n) + kMaxSegs - 1) / kMaxSegs);
  if (S > round_up_chunk(n)) S = round_up_chunk(n);
  seg.S = S;
  seg.nseg = static_cast<int>((static_cast<long long>(n) + S - 1) / S);
}

/// Resident warps per SM of a kernel (cached per instantiation; 0 if unknown).
template <typename Kernel>
int resident_warps(Kernel kernel, int threads, std::size_t smem, std::atomic<int>* cache) {
  const int known = cache->load(std::memory_order_relaxed);
  if (known > 0) return known;
  int blocks = 0;
  if (cudaOccupancyMaxActiveBlocksPerMultiprocessor(&blocks, kernel, threads, smem) != cudaSuccess) {
    (void)cudaGetLastError();
    return 0;
  }
  cache->store(blocks * threads / 32, std::memory_order_relaxed);
  return blocks * threads / 32;
}

/// What both kinds of job share: the intermediate, the segments and the choice of passes.
template <typename Store, typename Acc>
struct FastPasses {
  FastShape shape;
  Store* mid;                ///< intermediate plane (workspace)
  std::ptrdiff_t mid_pitch;  ///< elements
  Store* scratch;            ///< F1A1 forward results beyond each segment (workspace)
  int width;
  int height;
  SegmentLaunch<Store, Acc> rows;  ///< segments along rows (length width); S, nseg set at launch
  SegmentLaunch<Store, Acc> cols;  ///< segments along columns (length height)
  SegmentPolicy row_policy, col_policy;
  bool row_scan;             ///< rows by the scan row pass (scan_row.cuh), else the tiled one
  bool col_scan;             ///< columns by the scan column pass (scan_col.cuh) where it has the shape
  int col_scan_blocks_per_sm;
  int col_scan_min_segments;  ///< one-sweep shapes: at least this many column segments (Tuning)
  int row_scan_warps_per_sm;  ///< scan row pass: segments per row for this many warps per SM (Tuning; 0: one)
  int row_scan_segments;      ///< > 0: this many segments per row (tests)
  /// > 0: run the plane in bands of rows whose intermediate takes about
  /// this many bytes, row pass then column pass per band, so that a band's
  /// intermediate is still in L2 when its columns read it (run_passes, band_plan).
  long long band_bytes;
  int band_segments;         ///< > 0: column segments per band (tests); 0: from col_scan_blocks_per_sm
};

/// A float plane through both passes.
template <typename Store, typename Acc>
struct FastPlaneJob : FastPasses<Store, Acc> {
  const Store* in;
  std::ptrdiff_t in_pitch;   ///< elements
  bool in_vec;               ///< in and in_pitch 16-byte aligned
  Store* out;
  std::ptrdiff_t out_pitch;  ///< elements
};

/// A video component through both passes, blend and quantisation fused.
template <typename Store, typename Acc>
struct FastVideoJob : FastPasses<Store, Acc> {
  SampleType type;
  const unsigned char* src;
  std::ptrdiff_t src_row_stride, src_pixel_stride;  ///< bytes
  bool src_aligned;
  bool src_vec;              ///< planar, base and rows 16-byte aligned
  unsigned char* dst;
  std::ptrdiff_t dst_row_stride, dst_pixel_stride;  ///< bytes
  bool dst_aligned;
  int shift;
  unsigned mask;
  Store max_code;
  double max_code_d;
  Acc strength, one_minus_strength;
  Store* aux;                ///< forward results of the column pass (workspace; pitch mid_pitch)
};

// ---------------------------------------------------------------------------
// Launcher bodies (instantiated by the fast_*.cu files only)
// ---------------------------------------------------------------------------

inline unsigned row_blocks(int height, int nseg) {  // blocks of kRowWarps warps
  const long long items = static_cast<long long>((height + kChunk - 1) / kChunk) * nseg;
  return static_cast<unsigned>((items + kRowWarps - 1) / kRowWarps);
}

/**
 * Static plus dynamic shared memory above 48 KB needs a function attribute
 * (both passes' rings come close to or above it). It is set once per kernel
 * and device (bit per device in `done`), not on every call; a launch that
 * still fails (e.g. another CUDA context on the same device, whose function
 * handle has not seen the attribute) sets it again and relaunches once.
 */
template <typename Kernel>
cudaError_t ensure_smem_attribute(Kernel kernel, std::size_t smem, std::atomic<unsigned long long>* done) {
  int dev = 0;
  if (cudaGetDevice(&dev) != cudaSuccess) {
    (void)cudaGetLastError();
    dev = -1;
  }
  const unsigned long long bit = dev >= 0 && dev < 64 ? 1ull << dev : 0ull;
  if (bit != 0 && (done->load(std::memory_order_relaxed) & bit) != 0) return cudaSuccess;
  const cudaError_t e = cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(smem));
  if (e != cudaSuccess) {
    (void)cudaGetLastError();
    return e;
  }
  if (bit != 0) done->fetch_or(bit, std::memory_order_relaxed);
  return cudaSuccess;
}

/// Launches kernel<<<grid, threads, smem>>>(params) with the attribute above; one retry as described.
template <typename Kernel, typename Params>
Result launch_with_smem(Kernel kernel, dim3 grid, int threads, std::size_t smem, const Params& params,
                        std::atomic<unsigned long long>* done, cudaStream_t stream, const char* attr_where,
                        const char* where) {
  cudaError_t e = ensure_smem_attribute(kernel, smem, done);
  if (e != cudaSuccess) return fail(Status::CudaError, attr_where, e);
  kernel<<<grid, threads, smem, stream>>>(params);
  if (cudaPeekAtLastError() != cudaSuccess) {
    (void)cudaGetLastError();
    e = cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(smem));
    if (e != cudaSuccess) {
      (void)cudaGetLastError();
      return fail(Status::CudaError, attr_where, e);
    }
    kernel<<<grid, threads, smem, stream>>>(params);
  }
  return check_launch(stream, where);
}

/// Rows [row_begin, row_end) of a plane `height` rows high, tiled row pass.
template <FastShape SH, typename Store, typename Acc, typename In>
Result launch_rows(const In& in, Store* mid, std::ptrdiff_t mid_pitch, Store* scratch, int width, int height,
                   int row_begin, int row_end, SegmentLaunch<Store, Acc> seg, const SegmentPolicy& pol,
                   cudaStream_t stream, const char* where) {
  FastRowParams<Store, Acc, In> p;
  p.in = in;
  p.out = mid;
  p.out_pitch = mid_pitch;
  p.scratch = scratch;
  p.width = width;
  p.height = height;
  p.row_begin = row_begin;
  p.row_end = row_end;
  const int rows = row_end - row_begin;
  constexpr std::size_t smem = row_smem_bytes<Store, In>();
  static std::atomic<int> resident{0};
  static std::atomic<unsigned long long> attr_done{0};
  const cudaError_t e = ensure_smem_attribute(fast_row_kernel<SH, Store, Acc, In>, smem, &attr_done);
  if (e != cudaSuccess) return fail(Status::CudaError, "fast row pass: cudaFuncSetAttribute", e);
  pick_segments(seg, width, rows, resident_warps(fast_row_kernel<SH, Store, Acc, In>, kRowThreads, smem, &resident), pol);
  p.items = static_cast<int>(static_cast<long long>((rows + kChunk - 1) / kChunk) * seg.nseg);
  p.seg = seg;
  return launch_with_smem(fast_row_kernel<SH, Store, Acc, In>, dim3(row_blocks(rows, seg.nseg)), kRowThreads, smem, p,
                          &attr_done, stream, "fast row pass: cudaFuncSetAttribute", where);
}

/// A^(P·2^k), k = 0..4, of the feedback a1 (first order) or [[a1, a2], [1, 0]], in the carry type.
template <typename C>
void scan_powers(ScanPowers<C>& pw, int P, double a1, double a2, bool second_order) {
  const double m[4] = {a1, second_order ? a2 : 0.0, second_order ? 1.0 : 0.0, 0.0};
  auto mul = [](const double (&x)[4], const double (&y)[4], double (&z)[4]) {
    z[0] = x[0] * y[0] + x[1] * y[2];
    z[1] = x[0] * y[1] + x[1] * y[3];
    z[2] = x[2] * y[0] + x[3] * y[2];
    z[3] = x[2] * y[1] + x[3] * y[3];
  };
  double q[5][4];
  double pk[4] = {1.0, 0.0, 0.0, 1.0};
  for (int i = 0; i < P; ++i) {
    double t[4];
    mul(pk, m, t);
    for (int j = 0; j < 4; ++j) pk[j] = t[j];
  }
  for (int j = 0; j < 4; ++j) q[0][j] = pk[j];
  for (int k = 1; k < 5; ++k) mul(q[k - 1], q[k - 1], q[k]);
  for (int k = 0; k < 5; ++k)
    for (int j = 0; j < 4; ++j) pw.q[k][j] = static_cast<C>(q[k][j]);
}

/// The scan row pass (scan_row.cuh) in configuration Cfg: one warp per row segment.
template <FastShape SH, class Cfg, typename Store, typename Acc, typename In>
Result launch_scan_rows_cfg(const In& in, Store* mid, std::ptrdiff_t mid_pitch, Store* scratch, int width, int height,
                            int row_begin, int row_end, const SegmentLaunch<Store, Acc>& seg, const SegmentPolicy& pol,
                            int warps_per_sm, int forced, cudaStream_t stream, const char* where) {
  using C = typename Cfg::C;
  ScanRowParams<Store, Acc, In, C> p;
  p.in = in;
  p.out = mid;
  p.out_pitch = mid_pitch;
  p.scratch = scratch;
  p.scratch_len = seg.W;  // F1A1: W >= L values per row
  p.width = width;
  p.height = height;
  p.row_begin = row_begin;
  p.row_end = row_end;
  p.W = seg.W;
  scan_row_segments(has_backward(SH), width, row_end - row_begin, Cfg::kChunk, seg.W, pol.sm_count, warps_per_sm,
                    forced, p.nseg, p.seg_len);
  p.coef = seg.coef;
  p.border = seg.border;
  p.constant = seg.constant;
  p.exact = seg.exact;
  p.L = seg.L;
  const auto& s0 = seg.coef.sec[0];
  const auto& s1 = seg.coef.sec[1];
  constexpr bool k2 = SH == FastShape::F2 || SH == FastShape::F2F2 || SH == FastShape::Deriche;
  scan_powers(p.pw[0], Cfg::P, static_cast<double>(s0.fb1), static_cast<double>(s0.fb2), k2);
  if constexpr (SH == FastShape::F1F1 || SH == FastShape::F1A1 || SH == FastShape::F2F2)
    scan_powers(p.pw[1], Cfg::P, static_cast<double>(s1.fb1), static_cast<double>(s1.fb2), SH == FastShape::F2F2);
  else
    p.pw[1] = p.pw[0];
  const long long warps = static_cast<long long>(row_end - row_begin) * p.nseg;
  const auto blocks = static_cast<unsigned>((warps + kScanWarps - 1) / kScanWarps);
  scan_row_kernel<SH, Cfg, Store, Acc, In><<<blocks, kScanThreads, 0, stream>>>(p);
  return check_launch(stream, where);
}

/**
 * Configuration of the scan row pass per shape and precision: 8 samples per
 * lane and 2 chunks ahead; f32 scans in float (its accumulator type), mixed
 * and f64 in float64; f64 first-order shapes keep 4 samples per lane and 4
 * chunks ahead. The measurements that chose them: docs/PERFORMANCE.md,
 * "Tuning notes".
 */
template <FastShape SH, typename Store, typename Acc>
struct ScanConfigFor {
  static constexpr bool kFirstOrder = SH == FastShape::F1 || SH == FastShape::F1F1 || SH == FastShape::F1A1;
  using type = std::conditional_t<std::is_same_v<Acc, float>, ScanCfg<8, 2, float>,
                                  std::conditional_t<std::is_same_v<Store, double> && kFirstOrder,
                                                     ScanCfg<4, 4, double>, ScanCfg<8, 2, double>>>;
};

/**
 * Whether the scan row pass is built for this shape, precision and input:
 * only where dispatch.cu's table (scan_rows()) can choose it, which saves a
 * quarter of its kernels' build time. Elsewhere a request for it (the
 * Tuning::scan_shapes experiments) takes the tiled row pass.
 */
template <FastShape SH, typename Store, typename Acc, typename In>
inline constexpr bool kScanBuilt =
    (SH == FastShape::F2F2 || SH == FastShape::Deriche) ? (In::kCodes && std::is_same_v<Store, double>)
    : SH == FastShape::F2                                ? !(std::is_same_v<Acc, float> && !In::kCodes)
                                                         : true;

/// Launch-site names of a job's passes, for the Result of a failing launch.
struct PassNames {
  const char* scan_rows;
  const char* tiled_rows;
  const char* scan_cols;
  const char* tiled_cols;
};

/// Rows [row_begin, row_end) of a job into its intermediate: the scan row pass where chosen and built, else the tiled one.
template <FastShape SH, typename Store, typename Acc, typename In>
Result launch_row_pass(const FastPasses<Store, Acc>& j, const In& in, int row_begin, int row_end, cudaStream_t stream,
                       const PassNames& names) {
  if constexpr (kScanBuilt<SH, Store, Acc, In>) {
    if (j.row_scan)
      return launch_scan_rows_cfg<SH, typename ScanConfigFor<SH, Store, Acc>::type>(
          in, j.mid, j.mid_pitch, j.scratch, j.width, j.height, row_begin, row_end, j.rows, j.row_policy,
          j.row_scan_warps_per_sm, j.row_scan_segments, stream, names.scan_rows);
  }
  return launch_rows<SH, Store, Acc>(in, j.mid, j.mid_pitch, j.scratch, j.width, j.height, row_begin, row_end, j.rows,
                                     j.row_policy, stream, names.tiled_rows);
}

template <FastShape SH, typename Store, typename Acc, typename Out>
Result launch_cols(const Store* mid, std::ptrdiff_t mid_pitch, Store* aux, std::ptrdiff_t aux_pitch, Store* scratch,
                   const Out& out, int width, int height, SegmentLaunch<Store, Acc> seg, const SegmentPolicy& pol,
                   cudaStream_t stream, const char* where) {
  FastColParams<Store, Acc, Out> p;
  p.in = mid;
  p.in_pitch = mid_pitch;
  p.aux = aux;
  p.aux_pitch = aux_pitch;
  p.scratch = scratch;
  p.out = out;
  p.width = width;
  p.height = height;
  constexpr std::size_t smem = col_smem_bytes<Store>();
  static std::atomic<int> resident{0};
  static std::atomic<unsigned long long> attr_done{0};
  const cudaError_t e = ensure_smem_attribute(fast_col_kernel<SH, Store, Acc, Out>, smem, &attr_done);
  if (e != cudaSuccess) return fail(Status::CudaError, "fast column pass: cudaFuncSetAttribute", e);
  pick_segments(seg, height, width, resident_warps(fast_col_kernel<SH, Store, Acc, Out>, kColThreads, smem, &resident), pol);
  p.seg = seg;
  const dim3 grid(static_cast<unsigned>((width + kColThreads - 1) / kColThreads), static_cast<unsigned>(seg.nseg), 1);
  return launch_with_smem(fast_col_kernel<SH, Store, Acc, Out>, grid, kColThreads, smem, p, &attr_done, stream,
                          "fast column pass: cudaFuncSetAttribute", where);
}

/**
 * Configuration of the scan column pass: 8 rows per thread, 8 warps per
 * block (64-row chunks), 2 chunks loaded ahead, carries in the accumulator
 * type (float for f32, float64 for mixed and f64).
 */
template <typename Store, typename Acc>
struct ColScanConfigFor {
  using type = ColScanCfg<8, 8, 2, Acc>;
};

/// Segment length of a job's scan column pass (scan_col_segment; F1A1's scratch bound).
template <typename Store, typename Acc>
int scan_col_length(const FastPasses<Store, Acc>& j) {
  using Cfg = typename ColScanConfigFor<Store, Acc>::type;
  const int S = scan_col_segment(j.width, j.height, Cfg::kRows, j.cols.W, j.col_policy.sm_count, j.col_scan_blocks_per_sm,
                           scan_col_min_segments(j.shape, j.col_scan_min_segments), j.col_policy.fixed);
  return scan_col_scratch_floor(j.shape, S, j.cols.W, Cfg::kRows);
}

/// The scan column pass (scan_col.cuh), segments [seg_begin, seg_end) of length S: mid into `out` (aux, scratch:
/// forward results of F1A1 and Deriche).
template <FastShape SH, typename Store, typename Acc, typename Out>
Result launch_scan_cols(const FastPasses<Store, Acc>& j, Store* aux, std::ptrdiff_t aux_pitch, const Out& out, int S,
                        int seg_begin, int seg_end, cudaStream_t stream, const char* where) {
  using Cfg = typename ColScanConfigFor<Store, Acc>::type;
  using C = typename Cfg::C;
  const SegmentLaunch<Store, Acc>& seg = j.cols;
  ScanColParams<Store, Acc, Out, C> p;
  p.in = j.mid;
  p.in_pitch = j.mid_pitch;
  p.aux = aux;
  p.aux_pitch = aux_pitch;
  p.scratch = j.scratch;
  p.scratch_len = seg.scratch_len;
  p.out = out;
  p.width = j.width;
  p.height = j.height;
  p.coef = seg.coef;
  p.border = seg.border;
  p.constant = seg.constant;
  p.exact = seg.exact;
  p.L = seg.L;
  p.W = seg.W;
  p.S = S;
  p.seg_base = seg_begin;
  const auto& a = seg.coef.sec[0];
  const auto& b = seg.coef.sec[1];
  constexpr bool k2 = SH == FastShape::F2 || SH == FastShape::F2F2 || SH == FastShape::Deriche;
  ScanPowers<C> pw;
  scan_powers(pw, Cfg::P, static_cast<double>(a.fb1), static_cast<double>(a.fb2), k2);
  for (int k = 0; k < 4; ++k) p.q[0][k] = pw.q[0][k];
  // Stage 2 (F1F1, F2F2), the anti-causal stage (F1A1), or the Deriche pair's anti-causal half (same poles).
  if (SH != FastShape::Deriche)
    scan_powers(pw, Cfg::P, static_cast<double>(b.fb1), static_cast<double>(b.fb2), SH == FastShape::F2F2);
  for (int k = 0; k < 4; ++k) p.q[1][k] = pw.q[0][k];
  const dim3 grid(static_cast<unsigned>((j.width + 31) / 32), static_cast<unsigned>(seg_end - seg_begin), 1);
  scan_col_kernel<SH, Cfg, Store, Acc, Out><<<grid, Cfg::kThreads, 0, stream>>>(p);
  return check_launch(stream, where);
}

/// The column pass of a job: the scan column pass where chosen, else the tiled one.
template <FastShape SH, typename Store, typename Acc, typename Out>
Result launch_col_pass(const FastPasses<Store, Acc>& j, Store* aux, std::ptrdiff_t aux_pitch, const Out& out,
                       cudaStream_t stream, const PassNames& names) {
  if constexpr (scan_col_shape(SH)) {
    if (j.col_scan) {
      const int S = scan_col_length(j);
      return launch_scan_cols<SH, Store, Acc>(j, aux, aux_pitch, out, S, 0, (j.height + S - 1) / S, stream,
                                              names.scan_cols);
    }
  }
  return launch_cols<SH, Store, Acc>(j.mid, j.mid_pitch, aux, aux_pitch, j.scratch, out, j.width, j.height, j.cols,
                                     j.col_policy, stream, names.tiled_cols);
}

/**
 * How a job runs in bands (FastPasses::band_bytes): `rows` rows of the
 * intermediate per band, cut into `per_band` column segments of S rows, so
 * that a band's column launch still has about col_scan_blocks_per_sm blocks
 * per SM. S is rounded up to whole chunks (and F1A1's W), so a band can
 * hold more than band_bytes. 0 rows: the plane runs whole (banding off, the plane fits in one
 * band, or the border reaches across the plane: wrap).
 */
struct BandPlan {
  int rows = 0;
  int S = 0;
  int per_band = 0;
};

template <typename Store, typename Acc>
BandPlan band_plan(const FastPasses<Store, Acc>& j) {
  using Cfg = typename ColScanConfigFor<Store, Acc>::type;
  BandPlan b;
  if (j.band_bytes <= 0 || !j.col_scan || j.cols.border == Border::Wrap || j.col_policy.fixed > 0) return b;
  const long long row_bytes = static_cast<long long>(j.width) * static_cast<long long>(sizeof(Store));
  const long long band = j.band_bytes / row_bytes;
  if (band >= j.height || band < 1) return b;
  const long long groups = (static_cast<long long>(j.width) + 31) / 32;
  const long long want = static_cast<long long>(j.col_policy.sm_count) * (j.col_scan_blocks_per_sm > 0 ? j.col_scan_blocks_per_sm : 1);
  long long per_band = j.band_segments > 0 ? j.band_segments : (want + groups - 1) / groups;
  if (per_band < 1) per_band = 1;
  const long long S = scan_col_scratch_floor(
      j.shape, static_cast<int>(round_up((band + per_band - 1) / per_band, Cfg::kRows)), j.cols.W, Cfg::kRows);
  if ((j.height + S - 1) / S > kMaxGridY) return b;
  b.rows = static_cast<int>(S * per_band);
  if (b.rows >= j.height) return BandPlan{};
  b.S = static_cast<int>(S);
  b.per_band = static_cast<int>(per_band);
  return b;
}

/**
 * Both passes of a job, band by band where band_plan() cuts it: rows up to
 * W past the band's last segment (its columns' warm-up and, for two sweeps,
 * their backward start), then the band's column segments, on one stream, so
 * that the column launch reads what the row launch just left in L2. The
 * segments are the scan column pass's own (interior ones warm up over W
 * rows), those of a whole-plane launch with this S; the tiled row pass may
 * cut a band's rows into other segments than the whole plane's (both within
 * the contract).
 */
template <FastShape SH, typename Store, typename Acc, typename In, typename Out>
Result run_passes(const FastPasses<Store, Acc>& j, const In& in, Store* aux, std::ptrdiff_t aux_pitch, const Out& out,
                  cudaStream_t stream, const PassNames& names) {
  if constexpr (scan_col_shape(SH)) {
    const BandPlan b = band_plan(j);
    if (b.rows > 0) {
      const int nseg = (j.height + b.S - 1) / b.S;
      int done = 0;  // rows of the intermediate written so far
      for (int g0 = 0; g0 < nseg; g0 += b.per_band) {
        const int g1 = g0 + b.per_band < nseg ? g0 + b.per_band : nseg;
        const long long last = static_cast<long long>(g1) * b.S + j.cols.W;
        const int need = last < j.height ? static_cast<int>(last) : j.height;
        if (need > done) {
          Result r = launch_row_pass<SH, Store, Acc>(j, in, done, need, stream, names);
          if (!r) return r;
          done = need;
        }
        Result r = launch_scan_cols<SH, Store, Acc>(j, aux, aux_pitch, out, b.S, g0, g1, stream, names.scan_cols);
        if (!r) return r;
      }
      return Result{};
    }
  }
  Result r = launch_row_pass<SH, Store, Acc>(j, in, 0, j.height, stream, names);
  if (!r) return r;
  return launch_col_pass<SH, Store, Acc>(j, aux, aux_pitch, out, stream, names);
}

template <FastShape SH, typename Store, typename Acc>
Result run_fast_plane_shape(const FastPlaneJob<Store, Acc>& j, cudaStream_t stream) {
  const PlaneIn<Store> in{j.in, j.in_pitch, j.in_vec};
  const PlaneOut<Store, Acc> out{j.out, j.out_pitch};
  static constexpr PassNames names{"scan row pass launch", "fast row pass launch", "scan column pass launch",
                                   "fast column pass launch"};
  return run_passes<SH, Store, Acc>(j, in, j.out, j.out_pitch, out, stream, names);
}

template <FastShape SH, typename Store, typename Acc>
Result run_fast_video_shape(const FastVideoJob<Store, Acc>& j, cudaStream_t stream) {
  CodeSamples<Store> src;
  src.base = j.src;
  src.row_stride = j.src_row_stride;
  src.pixel_stride = j.src_pixel_stride;
  src.type = j.type;
  src.shift = j.shift;
  src.mask = j.mask;
  src.max_code = j.max_code;
  src.aligned = j.src_aligned;
  src.lut = nullptr;
  src.use_lut = false;
  CodeIn<Store> in;
  static_cast<CodeSamples<Store>&>(in) = src;
  in.vec = j.src_vec;
  CodeOut<Store, Acc> out;
  out.src = src;
  out.dst = j.dst;
  out.dst_row_stride = j.dst_row_stride;
  out.dst_pixel_stride = j.dst_pixel_stride;
  out.dst_aligned = j.dst_aligned;
  out.max_code_d = j.max_code_d;
  out.strength = j.strength;
  out.one_minus_strength = j.one_minus_strength;
  out.blend = j.strength != static_cast<Acc>(1);
  static constexpr PassNames names{"scan video row pass launch", "fast video row pass launch",
                                   "scan video column pass launch", "fast video column pass launch"};
  return run_passes<SH, Store, Acc>(j, in, j.aux, j.mid_pitch, out, stream, names);
}

/**
 * Calls run(std::integral_constant<FastShape, SH>{}) for SH = `shape`, so
 * that a launcher written once is instantiated for every fast shape.
 */
template <typename Run>
Result with_fast_shape(FastShape shape, Run&& run) {
  switch (shape) {
    case FastShape::F1: return run(std::integral_constant<FastShape, FastShape::F1>{});
    case FastShape::F1F1: return run(std::integral_constant<FastShape, FastShape::F1F1>{});
    case FastShape::F2: return run(std::integral_constant<FastShape, FastShape::F2>{});
    case FastShape::F2F2: return run(std::integral_constant<FastShape, FastShape::F2F2>{});
    case FastShape::F1A1: return run(std::integral_constant<FastShape, FastShape::F1A1>{});
    case FastShape::Deriche: return run(std::integral_constant<FastShape, FastShape::Deriche>{});
    case FastShape::None: break;
  }
  return invalid("no fast path for this program");
}

/// Both passes of a plane job (Result of the first failing launch).
template <typename Store, typename Acc>
Result run_fast_plane(const FastPlaneJob<Store, Acc>& job, cudaStream_t stream) {
  return with_fast_shape(job.shape, [&](auto shape) {
    return run_fast_plane_shape<decltype(shape)::value, Store, Acc>(job, stream);
  });
}

/// Both passes of a video job.
template <typename Store, typename Acc>
Result run_fast_video(const FastVideoJob<Store, Acc>& job, cudaStream_t stream) {
  return with_fast_shape(job.shape, [&](auto shape) {
    return run_fast_video_shape<decltype(shape)::value, Store, Acc>(job, stream);
  });
}

// Instantiated once each, in fast_f32.cu, fast_mixed.cu and fast_f64.cu.
extern template Result run_fast_plane<float, float>(const FastPlaneJob<float, float>&, cudaStream_t);
extern template Result run_fast_plane<float, double>(const FastPlaneJob<float, double>&, cudaStream_t);
extern template Result run_fast_plane<double, double>(const FastPlaneJob<double, double>&, cudaStream_t);
extern template Result run_fast_video<float, float>(const FastVideoJob<float, float>&, cudaStream_t);
extern template Result run_fast_video<float, double>(const FastVideoJob<float, double>&, cudaStream_t);
extern template Result run_fast_video<double, double>(const FastVideoJob<double, double>&, cudaStream_t);

}  // namespace iir2d::cuda::detail
