// SPDX-License-Identifier: MIT
/**
 * @file scan_col.cuh
 * @brief The scan column pass (issue 15): the scan row pass's technique
 *        transposed. No shared-memory ring, no per-chunk transposes; the
 *        recursion state is carried down the column by a block-wide scan.
 *
 * A block owns 32 consecutive columns (lane j: column 32·b + j, so every
 * warp access is one coalesced row piece) and one segment of rows. A chunk
 * is K·P consecutive rows; warp w holds rows w·P … w·P+P−1 of it in
 * registers (P loads of one sample per lane). Per chunk and per recursion
 * stage:
 *
 *  1. each thread runs its P samples from a zero feedback state (its input
 *     history x[i−1], x[i−2] is real: two more loads of the rows above,
 *     L1 hits, for the shapes that use it);
 *  2. the threads' end states go to shared memory; after one barrier every
 *     thread folds the K end states in order, s ← A^P·s + e_j, starting
 *     from the carry of the previous chunk (A: the section's companion
 *     matrix, A^P computed on the host), which gives its own start state
 *     (after j = w−1) and the next chunk's carry (after j = K−1); every
 *     thread folds the same values in the same order, so all agree;
 *  3. each thread re-runs its P samples from its true start state, in the
 *     contract's order of operations, and stores them (or, for video,
 *     blends with the original sample and quantises).
 *
 * Linearity makes step 2 exact in real arithmetic; in float32 the start
 * states differ from a sequential recursion by its own rounding noise, as in
 * the scan row pass (scan_row.cuh), so the same eligibility holds: float
 * planes, and video whose codes survive it (dispatch.cu, scan_keeps_codes).
 *
 * Segments. 3,840 columns are only 120 blocks of 32; to fill the GPU a
 * column is cut into segments exactly as the tiled passes cut it
 * (segment_geometry(): an interior segment starts from a zero state W ≥ L
 * rows above its first output row, the contract's exact definition applied
 * per segment), with far fewer and longer segments (a few per column)
 * because the scan, not the segment count, provides the parallelism.
 * `exact`: the first segment starts at −L with the input masked to zero
 * below it, reading B(−L … −1) through the border mapping. `iir2d`: the
 * warm-up formulas of section 3 give the carry into the first chunk
 * (stage 2 of a cascade takes its formulas from the first four stage-1
 * outputs, which warp 0 publishes through shared memory).
 *
 * Anti-causal parts (F1A1's second stage, the Deriche pair's anti-causal
 * half): the forward sweep parks its results (F1A1: stage-1 outputs at
 * [s0, fwd_end), those from s1 on in the segment's scratch; Deriche: yp at
 * [s0, s1)) in the aux plane (the output plane, or plane B for video); after
 * a block barrier the same block sweeps the segment backwards, chunk by
 * chunk from bwd_begin, with the fold in reverse warp order and each
 * thread's samples run from high to low rows, over those results (L2-hot,
 * written by this block) or, for the Deriche pair, over the intermediate
 * plane again, adding yp before the final store. Warm-ups are the
 * segment_geometry() ones: W ≥ L rows past an interior segment's end, the
 * contract's L past the plane with `exact`, none with `iir2d` (the
 * formulas' state at n−1 is the carry into the first backward chunk).
 */
#pragma once

#include <climits>
#include <cstddef>
#include <cstdint>

#include "detail/scan_row.cuh"

namespace iir2d::cuda::detail {

/// P samples per thread, K warps per block (a chunk is K·P rows), Depth chunks loaded ahead, C the carry type.
template <int P_, int K_, int Depth_, typename C_>
struct ColScanCfg {
  static constexpr int P = P_;
  static constexpr int K = K_;
  static constexpr int kRows = P_ * K_;
  static constexpr int Depth = Depth_;
  static constexpr int kThreads = 32 * K_;
  using C = C_;
};

/// The shapes the scan column pass runs (all fast shapes).
IIR2D_HDC bool scan_col_shape(FastShape s) { return s != FastShape::None; }

template <typename Store, typename Acc, typename Out, typename C>
struct ScanColParams {
  const Store* in;          ///< intermediate plane (the row pass's output)
  std::ptrdiff_t in_pitch;  ///< elements
  Store* aux;               ///< forward results [s0, s1) (F1A1, Deriche): the output plane, or plane B for video
  std::ptrdiff_t aux_pitch;
  Store* scratch;           ///< F1A1: forward results from s1 on, segment g's row k at scratch + (g·scratch_len + k)·width
  int scratch_len;
  Out out;
  int width;
  int height;
  ProgramCoef<Acc> coef;
  Border border;
  Store constant;
  bool exact;
  int L;     ///< extension length (section 3a)
  int W;     ///< warm-up of an interior segment edge (>= L)
  int S;     ///< segment length (rows)
  int seg_base;  ///< segment of blockIdx.y 0 (a band of segments, or 0 for all)
  C q[2][4]; ///< A^P of stage 1 and stage 2 (2×2 row-major; first order uses [0])
};

/// Column `col` of the intermediate plane: B(p) (border-mapped outside [0, n)), 0 outside [lo, hi).
template <typename Store>
struct ColScanSrc {
  const Store* col_base;  ///< in + col
  std::ptrdiff_t pitch;
  int n;
  Border border;
  Store constant;
  __device__ __forceinline__ Store input_at(int i) const {
    const int m = seg_source_index(i, n, border);
    return m < 0 ? constant : col_base[static_cast<std::ptrdiff_t>(m) * pitch];
  }
  __device__ __forceinline__ Store at(int p, int lo, int hi) const {
    if (p < lo || p >= hi) return static_cast<Store>(0);
    if (p >= 0 && p < n) return col_base[static_cast<std::ptrdiff_t>(p) * pitch];
    return input_at(p);
  }
};

/**
 * Original samples and stores of a video column (CodeOut), or a plane
 * column (PlaneOut). words() and put_rows() handle a thread's P rows at
 * once: where all of them lie inside [lo, hi) (nearly always) the rows are
 * walked by pointer increments, with the sample type and the table switch
 * decided once, not per sample (issue 15: the per-sample 64-bit address
 * products and switches were half of the video column pass's instructions).
 */
template <typename Store, typename Acc, typename Out>
struct ColScanSink;

template <typename Store, typename Acc>
struct ColScanSink<Store, Acc, PlaneOut<Store, Acc>> {
  static constexpr bool kCodes = false;
  const PlaneOut<Store, Acc>* o;
  int col;
  __device__ __forceinline__ void bind() {}
  template <int P>
  __device__ __forceinline__ void words(int, unsigned (&)[P], int, int) const {}
  template <int P>
  __device__ __forceinline__ void put_rows(int r0, const Store (&v)[P], const unsigned (&)[P], int lo, int hi) const {
    Store* q = o->base + static_cast<std::ptrdiff_t>(r0) * o->pitch + col;
    if (r0 >= lo && r0 + P <= hi) {
IIR2D_UNROLL
      for (int k = 0; k < P; ++k) {
        *q = v[k];
        q += o->pitch;
      }
    } else {
IIR2D_UNROLL
      for (int k = 0; k < P; ++k) {
        if (r0 + k >= lo && r0 + k < hi) *q = v[k];
        q += o->pitch;
      }
    }
  }
};

template <typename Store, typename Acc>
struct ColScanSink<Store, Acc, CodeOut<Store, Acc>> {
  static constexpr bool kCodes = true;
  const CodeOut<Store, Acc>* o;
  int col;
  const unsigned char* src_col;  ///< the column's first original sample
  unsigned char* dst_col;        ///< the column's first output sample
  __device__ __forceinline__ void bind() {
    src_col = o->src.base + static_cast<std::ptrdiff_t>(col) * o->src.pixel_stride;
    dst_col = o->dst + static_cast<std::ptrdiff_t>(col) * o->dst_pixel_stride;
  }
  /// Storage words of the original samples of rows r0 … r0+P−1 (0 outside [lo, hi)).
  template <int P>
  __device__ __forceinline__ void words(int r0, unsigned (&w)[P], int lo, int hi) const {
    if (!o->blend) return;  // strength 1: put_rows() does not read them
    const std::ptrdiff_t rs = o->src.row_stride;
    const unsigned char* q = src_col + static_cast<std::ptrdiff_t>(r0) * rs;
    if (r0 >= lo && r0 + P <= hi) {
      if (o->src.type == SampleType::U8) {
IIR2D_UNROLL
        for (int k = 0; k < P; ++k) {
          w[k] = *q;
          q += rs;
        }
      } else if (o->src.aligned) {
IIR2D_UNROLL
        for (int k = 0; k < P; ++k) {
          w[k] = *reinterpret_cast<const std::uint16_t*>(q);
          q += rs;
        }
      } else {
IIR2D_UNROLL
        for (int k = 0; k < P; ++k) {
          w[k] = load_word_rt(q, o->src.type, false);
          q += rs;
        }
      }
    } else {
IIR2D_UNROLL
      for (int k = 0; k < P; ++k) {
        w[k] = r0 + k >= lo && r0 + k < hi ? load_word_rt(q, o->src.type, o->src.aligned) : 0u;
        q += rs;
      }
    }
  }
  /// Blends rows r0 … r0+P−1 with their original words, quantises and stores those in [lo, hi).
  template <int P>
  __device__ __forceinline__ void put_rows(int r0, const Store (&v)[P], const unsigned (&w)[P], int lo, int hi) const {
    unsigned c[P];
    if (!o->blend) {  // strength 1: f itself (CodeOut::blend)
IIR2D_UNROLL
      for (int k = 0; k < P; ++k)
        c[k] = quantise_code(static_cast<double>(static_cast<Acc>(v[k])), o->max_code_d) << o->src.shift;
    } else {
      Store x[P];
      if (o->src.use_lut) {
IIR2D_UNROLL
        for (int k = 0; k < P; ++k) x[k] = o->src.lut[(w[k] >> o->src.shift) & o->src.mask];
      } else {
IIR2D_UNROLL
        for (int k = 0; k < P; ++k)
          x[k] = normalise_code_call<Store>((w[k] >> o->src.shift) & o->src.mask, o->src.max_code);
      }
IIR2D_UNROLL
      for (int k = 0; k < P; ++k)
        c[k] = blend_and_quantise<Store, Acc>(v[k], x[k], o->strength, o->one_minus_strength, o->max_code_d)
               << o->src.shift;
    }
    const std::ptrdiff_t rs = o->dst_row_stride;
    unsigned char* q = dst_col + static_cast<std::ptrdiff_t>(r0) * rs;
    if (r0 >= lo && r0 + P <= hi) {
      if (o->src.type == SampleType::U8) {
IIR2D_UNROLL
        for (int k = 0; k < P; ++k) {
          *q = static_cast<unsigned char>(c[k]);
          q += rs;
        }
      } else {
IIR2D_UNROLL
        for (int k = 0; k < P; ++k) {
          store_word_rt(q, o->src.type, c[k], o->dst_aligned);
          q += rs;
        }
      }
    } else {
IIR2D_UNROLL
      for (int k = 0; k < P; ++k) {
        if (r0 + k >= lo && r0 + k < hi) store_word_rt(q, o->src.type, c[k], o->dst_aligned);
        q += rs;
      }
    }
  }
};

/**
 * Step 2 of one stage: publishes this thread's local end state (ly1, ly2),
 * waits for the block, folds the K end states from the carry (cy1, cy2) and
 * returns this warp's start state in (st1, st2); the carry becomes the
 * chunk's end state.
 */
template <class Cfg, bool kBack, int D>
__device__ __forceinline__ void col_scan_fold(typename Cfg::C (*ex)[2][32], const typename Cfg::C (&q)[4], int w,
                                              int lane, typename Cfg::C ly1, typename Cfg::C ly2,
                                              typename Cfg::C& cy1, typename Cfg::C& cy2, typename Cfg::C& st1,
                                              typename Cfg::C& st2) {
  using C = typename Cfg::C;
  ex[w][0][lane] = ly1;
  if constexpr (D == 2) ex[w][1][lane] = ly2;
  __syncthreads();
  C s1 = cy1, s2 = cy2;
  st1 = s1;
  st2 = s2;
IIR2D_UNROLL
  for (int jj = 0; jj < Cfg::K; ++jj) {
    const int j = kBack ? Cfg::K - 1 - jj : jj;  // sweep order
    if (j == w) {
      st1 = s1;
      st2 = s2;
    }
    if constexpr (D == 2) {
      const C a = q[0] * s1 + q[1] * s2;
      const C b = q[2] * s1 + q[3] * s2;
      s1 = ex[j][0][lane] + a;
      s2 = ex[j][1][lane] + b;
    } else {
      s1 = ex[j][0][lane] + q[0] * s1;
    }
  }
  cy1 = s1;
  cy2 = s2;
}

/// Steps 1 and 3 of one stage over this thread's P samples (x in, y out); h1, h2: the input history
/// (kBack: the sweep runs from high to low rows, the history is the rows after).
template <class Cfg, bool kBack, int D, int H, bool kX0, typename Store, typename Acc>
__device__ __forceinline__ void col_scan_stage(const ScanLin<D, H, kX0, Acc>& lin, const typename Cfg::C (&q)[4],
                                               typename Cfg::C (*ex)[2][32], int w, int lane, const Acc (&x)[Cfg::P],
                                               Store (&y)[Cfg::P], Acc h1, Acc h2, typename Cfg::C& cy1,
                                               typename Cfg::C& cy2) {
  using C = typename Cfg::C;
  constexpr int P = Cfg::P;
  Acc lh1 = h1, lh2 = h2, ly1 = static_cast<Acc>(0), ly2 = static_cast<Acc>(0);
IIR2D_UNROLL
  for (int kk = 0; kk < P; ++kk) {
    const int k = kBack ? P - 1 - kk : kk;
    (void)lin.step(x[k], lh1, lh2, ly1, ly2);
  }
  C st1, st2;
  col_scan_fold<Cfg, kBack, D>(ex, q, w, lane, static_cast<C>(ly1), static_cast<C>(ly2), cy1, cy2, st1, st2);
  Acc ry1 = static_cast<Acc>(st1), ry2 = static_cast<Acc>(st2);
IIR2D_UNROLL
  for (int kk = 0; kk < P; ++kk) {
    const int k = kBack ? P - 1 - kk : kk;
    y[k] = static_cast<Store>(lin.step(x[k], h1, h2, ry1, ry2));
  }
}

template <FastShape SH, class Cfg, typename Store, typename Acc, typename Out>
/// Three blocks per SM (24 warps) for the one-sweep shapes: the register cap that keeps the
/// video pass's occupancy; two for the two-sweep shapes (three spill).
__global__ void __launch_bounds__(Cfg::kThreads, has_backward(SH) ? 2 : 3)
    scan_col_kernel(const ScanColParams<Store, Acc, Out, typename Cfg::C> p) {
  static_assert(scan_col_shape(SH), "fast shapes only");
  using C = typename Cfg::C;
  using St = ScanStages<SH, Store, Acc>;
  constexpr int P = Cfg::P, K = Cfg::K, R = Cfg::kRows, kDepth = Cfg::Depth;
  constexpr bool kTwo = two_causal_stages(SH);
  constexpr bool kDer = SH == FastShape::Deriche, kF1A1 = SH == FastShape::F1A1;
  constexpr int D1 = (SH == FastShape::F2 || SH == FastShape::F2F2 || kDer) ? 2 : 1;
  // Input history of stage 1 (first-order sections have b1 = 0; yp uses x[i-1] only).
  constexpr int H1 = kDer ? 1 : D1 == 2 ? 2 : 0;

  Out out = p.out;
  if constexpr (Out::kCodes) {
    if (out.blend) bind_code_lut(out.src);  // block-uniform; strength 1 reads no original sample
  }
  __shared__ C ex[2][2][K][2][32];   // [chunk parity][stage][warp][y1, y2][lane]
  __shared__ Store hx[2][K][2][32];  // stage-1 outputs of each warp's last two rows (stage-2 history)
  __shared__ Store first4[4][32];    // stage-1 outputs 0..3 (iir2d formulas of stage 2)
  __shared__ Store tails[2][32];     // F1A1: stage-1 outputs at n-1, n-2 (iir2d formulas of the backward stage)

  const int lane = static_cast<int>(threadIdx.x) % 32;
  const int w = static_cast<int>(threadIdx.x) / 32;
  const int col = static_cast<int>(blockIdx.x) * 32 + lane;
  const bool active = col < p.width;
  const int ccol = active ? col : p.width - 1;  // inactive lanes read a valid column and store nothing
  const int n = p.height;
  const int seg = p.seg_base + static_cast<int>(blockIdx.y);
  const int s0 = seg * p.S;
  const int s1 = imin(n, s0 + p.S);
  const SegGeom g = segment_geometry(SH, n, s0, s1, p.exact, p.L, p.W);
  const int lo = g.fwd_iir2d ? INT_MIN : g.fwd_begin;  // inputs below: zero (iir2d: B(p), the formulas' history)
  const int hi = g.fwd_end;
  const int lo_in = imax(lo, 0), hi_in = imin(hi, n);  // rows loaded ahead lie in here

  ColScanSrc<Store> src{p.in + ccol, p.in_pitch, n, p.border, p.constant};
  ColScanSink<Store, Acc, Out> sink{&out, ccol};  // stores only where active
  sink.bind();
  SegmentEngine<SH, Store, Acc> e(p.coef);
  const auto s1lin = St::s1(e);
  // Where the forward results of row r go (F1A1, Deriche): aux below s1, the segment's scratch from s1 on.
  Store* const seg_scratch = p.scratch + static_cast<std::ptrdiff_t>(seg) * p.scratch_len * p.width;
  auto fwd_ptr = [&](int r) -> Store* {
    return r < s1 ? p.aux + static_cast<std::ptrdiff_t>(r) * p.aux_pitch + ccol
                  : seg_scratch + static_cast<std::ptrdiff_t>(r - s1) * p.width + ccol;
  };
  // Parks the forward results of rows r0 … r0+P−1 that lie in [s0, lim): rows inside the segment by
  // pointer increments, the others (warm-up rows past s1: F1A1's scratch) one by one.
  auto park = [&](int r0, const Store (&v)[P], int lim) {
    if (r0 >= s0 && r0 + P <= s1) {
      Store* q = p.aux + static_cast<std::ptrdiff_t>(r0) * p.aux_pitch + ccol;
IIR2D_UNROLL
      for (int k = 0; k < P; ++k) {
        *q = v[k];
        q += p.aux_pitch;
      }
    } else {
IIR2D_UNROLL
      for (int k = 0; k < P; ++k)
        if (r0 + k >= s0 && r0 + k < lim) *fwd_ptr(r0 + k) = v[k];
    }
  };

  C c1y1 = C(0), c1y2 = C(0), c2y1 = C(0), c2y2 = C(0);
  Acc c2h1 = static_cast<Acc>(0), c2h2 = static_cast<Acc>(0);
  if (g.fwd_iir2d) {
    e.init_forward_iir2d(src);
    c1y1 = static_cast<C>(e.y1);
    c1y2 = static_cast<C>(e.y2);
  }

  struct Raw {
    Store x[P];
    unsigned o[P];
  };
  auto whole = [&](int r0) { return r0 >= lo_in && r0 + P <= hi_in; };
  auto whole_out = [&](int r0) { return r0 >= s0 && r0 + P <= s1; };
  auto fetch = [&](Raw& raw, int r0) {
    if (whole(r0)) {
      const Store* b = src.col_base + static_cast<std::ptrdiff_t>(r0) * p.in_pitch;
IIR2D_UNROLL
      for (int k = 0; k < P; ++k) raw.x[k] = b[static_cast<std::ptrdiff_t>(k) * p.in_pitch];
    }
    if constexpr (Out::kCodes) {
      if (whole_out(r0)) sink.words(r0, raw.o, s0, s1);
    }
  };

  Raw ring[kDepth];
IIR2D_UNROLL
  for (int a = 0; a < kDepth; ++a)
    if (g.fwd_begin + a * R < hi) fetch(ring[a], g.fwd_begin + a * R + w * P);

  int par = 0;
#pragma unroll 1
  for (int base = g.fwd_begin; base < hi; base += kDepth * R) {
IIR2D_UNROLL
    for (int a = 0; a < kDepth; ++a) {
      const int cb = base + a * R;
      if (cb < hi) {  // block-uniform: the barriers below see every thread
        const int r0 = cb + w * P;
        Store v[P];
        unsigned ow[P];
        if (whole(r0)) {
IIR2D_UNROLL
          for (int k = 0; k < P; ++k) v[k] = ring[a].x[k];
        } else {
IIR2D_UNROLL
          for (int k = 0; k < P; ++k) v[k] = src.at(r0 + k, lo, hi);
        }
        if constexpr (Out::kCodes) {
          if (whole_out(r0)) {
IIR2D_UNROLL
            for (int k = 0; k < P; ++k) ow[k] = ring[a].o[k];
          } else {
            sink.words(r0, ow, s0, s1);
          }
        }
        const int nb = cb + kDepth * R;
        if (nb < hi) fetch(ring[a], nb + w * P);

        Acc x[P];
IIR2D_UNROLL
        for (int k = 0; k < P; ++k) x[k] = static_cast<Acc>(v[k]);
        Acc h1 = static_cast<Acc>(0), h2 = static_cast<Acc>(0);
        if constexpr (H1 >= 1) {
          h1 = static_cast<Acc>(src.at(r0 - 1, lo, hi));
          h2 = static_cast<Acc>(src.at(r0 - 2, lo, hi));
        }
        col_scan_stage<Cfg, false, D1, H1, true>(s1lin, p.q[0], ex[par][0], w, lane, x, v, h1, h2, c1y1, c1y2);

        if constexpr (kTwo) {
          constexpr int D2 = SH == FastShape::F2F2 ? 2 : 1;
          constexpr int H2 = D2 == 2 ? 2 : 0;
          const bool first_iir2d = g.fwd_iir2d && cb == g.fwd_begin;  // cb == 0: warp 0 holds rows 0..3
          if constexpr (H2 >= 1) {
            hx[par][w][0][lane] = v[P - 1];
            hx[par][w][1][lane] = v[P - 2];
          }
          if (first_iir2d && w == 0) {
IIR2D_UNROLL
            for (int k = 0; k < 4; ++k) first4[k][lane] = v[k];
          }
          __syncthreads();
          if (first_iir2d) {
            Store w32[kChunk];
IIR2D_UNROLL
            for (int k = 0; k < kChunk; ++k) w32[k] = static_cast<Store>(0);
IIR2D_UNROLL
            for (int k = 0; k < 4; ++k) w32[k] = first4[k][lane];
            e.init_stage2_iir2d(w32, n, p.border, p.constant);
            c2y1 = static_cast<C>(e.z1);
            c2y2 = static_cast<C>(e.z2);
            c2h1 = e.u1;
            c2h2 = e.u2;
          }
          Acc u1 = c2h1, u2 = c2h2;
          if constexpr (H2 >= 1) {
            if (w > 0) {
              u1 = static_cast<Acc>(hx[par][w - 1][0][lane]);
              u2 = static_cast<Acc>(hx[par][w - 1][1][lane]);
            }
            c2h1 = static_cast<Acc>(hx[par][K - 1][0][lane]);
            c2h2 = static_cast<Acc>(hx[par][K - 1][1][lane]);
          }
IIR2D_UNROLL
          for (int k = 0; k < P; ++k) x[k] = static_cast<Acc>(v[k]);
          col_scan_stage<Cfg, false, D2, H2, true>(St::s2(e), p.q[1], ex[par][1], w, lane, x, v, u1, u2, c2y1, c2y2);
        }

        if constexpr (kF1A1) {
          // Stage-1 outputs at [s0, fwd_end): below s1 in aux, from s1 on in the scratch.
          if (active) park(r0, v, hi);
          if (g.bwd_iir2d) {
IIR2D_UNROLL
            for (int k = 0; k < P; ++k) {
              if (r0 + k == n - 1) tails[0][lane] = v[k];
              if (r0 + k == n - 2) tails[1][lane] = v[k];
            }
          }
        } else if constexpr (kDer) {
          if (active) park(r0, v, s1);
        } else if (active) {
          sink.put_rows(r0, v, ow, s0, s1);
        }
        par ^= 1;
      }
    }
  }

  if constexpr (has_backward(SH)) {
    // ---- backward sweep over [s0, bwd_begin], from high to low rows ----
    __syncthreads();  // the forward results of the other warps (and the tails) are read below
    const auto bk = St::back(e);
    const int top = g.bwd_begin;
    // Deriche input: zero above bwd_begin (a zero state there); iir2d keeps
    // B(p) above n-1, the history that the formulas' state assumes.
    const int xhi = g.bwd_iir2d ? INT_MAX : top + 1;
    C cy1 = C(0), cy2 = C(0);
    if (g.bwd_iir2d) {
      if constexpr (kF1A1) {
        e.tail1 = tails[0][lane];
        e.tail2 = n >= 2 ? tails[1][lane] : tails[0][lane];
      }
      e.init_backward_iir2d(src, n, p.border, p.constant);
      cy1 = static_cast<C>(e.z1);
      cy2 = static_cast<C>(e.z2);
    }
    // Forward results (F1A1: its input u; Deriche: yp) of row r, 0 outside [s0, fwd limit).
    const int fhi = kF1A1 ? hi : s1;
    auto fwd_at = [&](int r) { return r >= s0 && r < fhi ? *fwd_ptr(r) : static_cast<Store>(0); };
    struct BRaw {
      Store x[P];  ///< Deriche: the input rows
      Store f[P];  ///< forward results
      unsigned o[P];
    };
    auto bwhole_x = [&](int r0) { return r0 >= 0 && r0 + P <= imin(n, xhi); };
    auto bwhole_f = [&](int r0) { return r0 >= s0 && r0 + P <= s1; };
    auto bfetch = [&](BRaw& raw, int r0) {
      if constexpr (kDer) {
        if (bwhole_x(r0)) {
          const Store* b = src.col_base + static_cast<std::ptrdiff_t>(r0) * p.in_pitch;
IIR2D_UNROLL
          for (int k = 0; k < P; ++k) raw.x[k] = b[static_cast<std::ptrdiff_t>(k) * p.in_pitch];
        }
      }
      if (bwhole_f(r0)) {
        const Store* b = p.aux + static_cast<std::ptrdiff_t>(r0) * p.aux_pitch + ccol;
IIR2D_UNROLL
        for (int k = 0; k < P; ++k) raw.f[k] = b[static_cast<std::ptrdiff_t>(k) * p.aux_pitch];
      }
      if constexpr (Out::kCodes) {
        if (whole_out(r0)) sink.words(r0, raw.o, s0, s1);
      }
    };
    const int last_cb = top - R + 1;  // the first backward chunk ends at bwd_begin
    BRaw ring2[kDepth];
IIR2D_UNROLL
    for (int a = 0; a < kDepth; ++a)
      if (last_cb - a * R + R - 1 >= s0) bfetch(ring2[a], last_cb - a * R + w * P);
    int bpar = 0;
#pragma unroll 1
    for (int base = last_cb; base + R - 1 >= s0; base -= kDepth * R) {
IIR2D_UNROLL
      for (int a = 0; a < kDepth; ++a) {
        const int cb = base - a * R;
        if (cb + R - 1 >= s0) {  // block-uniform
          const int r0 = cb + w * P;
          Store xs[P], f[P], v[P];
          unsigned ow[P];
          if constexpr (kDer) {
            if (bwhole_x(r0)) {
IIR2D_UNROLL
              for (int k = 0; k < P; ++k) xs[k] = ring2[a].x[k];
            } else {
IIR2D_UNROLL
              for (int k = 0; k < P; ++k) xs[k] = src.at(r0 + k, INT_MIN, xhi);
            }
          }
          if (bwhole_f(r0)) {
IIR2D_UNROLL
            for (int k = 0; k < P; ++k) f[k] = ring2[a].f[k];
          } else {
IIR2D_UNROLL
            for (int k = 0; k < P; ++k) f[k] = fwd_at(r0 + k);
          }
          if constexpr (Out::kCodes) {
            if (whole_out(r0)) {
IIR2D_UNROLL
              for (int k = 0; k < P; ++k) ow[k] = ring2[a].o[k];
            } else {
              sink.words(r0, ow, s0, s1);
            }
          }
          const int nb = cb - kDepth * R;
          if (nb + R - 1 >= s0) bfetch(ring2[a], nb + w * P);

          Acc x[P];
          if constexpr (kDer) {
IIR2D_UNROLL
            for (int k = 0; k < P; ++k) x[k] = static_cast<Acc>(xs[k]);
            const Acc h1 = static_cast<Acc>(src.at(r0 + P, INT_MIN, xhi));
            const Acc h2 = static_cast<Acc>(src.at(r0 + P + 1, INT_MIN, xhi));
            col_scan_stage<Cfg, true, 2, 2, false>(bk, p.q[1], ex[bpar][1], w, lane, x, v, h1, h2, cy1, cy2);
            // y = yp + yn, each stored first (section 3).
IIR2D_UNROLL
            for (int k = 0; k < P; ++k) v[k] = static_cast<Store>(static_cast<Acc>(f[k]) + static_cast<Acc>(v[k]));
          } else {
IIR2D_UNROLL
            for (int k = 0; k < P; ++k) x[k] = static_cast<Acc>(f[k]);
            col_scan_stage<Cfg, true, 1, 0, true>(bk, p.q[1], ex[bpar][1], w, lane, x, v, static_cast<Acc>(0),
                                                  static_cast<Acc>(0), cy1, cy2);
          }
          if (active) sink.put_rows(r0, v, ow, s0, s1);
          bpar ^= 1;
        }
      }
    }
  }
}

}  // namespace iir2d::cuda::detail
