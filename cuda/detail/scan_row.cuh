// SPDX-License-Identifier: MIT
/**
 * @file scan_row.cuh
 * @brief The scan row pass: one warp streams along a row (or a segment of
 *        it), with no shared-memory transposes.
 *
 * Segments (forward-only shapes, Tuning::row_scan_warps_per_sm and
 * detail/segment_rules.h's scan_row_segments): a row may be cut into
 * segments of whole chunks, one warp each, so that a plane with few rows
 * still fills the SMs. A segment past the first starts from a zero state
 * W samples before its first sample and stores only its own; the warm-up
 * is the tiled passes' (segment.cuh), within the contract's tolerances.
 * Shapes with a backward sweep keep one warp per whole row.
 *
 * A chunk is 32·P consecutive samples of the row (128 at P = 4); lane j holds samples
 * 4j..4j+3 (one 16-byte load for float32, two for float64, 4 or 8 bytes for
 * integer video), so every warp access is coalesced. Per chunk and per
 * recursion stage:
 *
 *  1. each lane runs its 4 samples from a zero recursion state (the input
 *     history x[i-1], x[i-2] is real: it comes from the neighbouring lane);
 *  2. the lanes' end states are combined by a Kogge–Stone scan over the warp
 *     (shuffles) with the precomputed powers A^(4·2^k) of the section's
 *     companion matrix (a scalar for first order, 2×2 for biquads and the
 *     Deriche halves), in float64 whatever the precision; the carry of the
 *     previous chunk enters at lane 0 and the last lane's true state is the
 *     next chunk's carry;
 *  3. each lane re-runs its 4 samples from its true start state (rounded to
 *     the recursion type), in the contract's order of operations.
 *
 * Linearity makes step 2 exact in real arithmetic; in float32 the start
 * states differ from a sequential float32 recursion by its own rounding noise
 * (a few ulp), so the output is not bit-identical to refcpu. That is inside
 * the f32/mixed/f64 tolerances and the video criterion for depths up to 10
 * bits; 16-bit video at f32 keeps the order-exact tiled row pass
 * (fast_kernels.cuh). In mixed and f64 every run is in float64 and results
 * match refcpu to float64 rounding.
 *
 * Initialisation. `exact`: the sweep starts at the chunk holding -L with a
 * zero state and the input masked to zero below -L (the contract's zero state
 * at -L), reading B(-L..-1) on the fly through the border mapping. `iir2d`:
 * the warm-up formulas of section 3 (segment.cuh) give the state before
 * sample 0, which is simply the carry into chunk 0; a cascade's second stage
 * takes its formulas from lane 0's first four stage-1 outputs. The
 * anti-causal parts (F1A1's second stage, the Deriche pair's anti-causal
 * half) walk the row backwards in a second sweep over the forward results
 * the first sweep left in the intermediate (L2-hot): `exact` from n+L-1 with
 * the input masked to zero above it, `iir2d` with the formulas' state
 * injected at n-1 (the only place where a lane's run starts mid-lane).
 *
 * Rows are independent: a warp owns a row from start to end, a block holds
 * kScanWarps rows, nothing is shared between warps. Loads run kScanDepth
 * chunks ahead of the computation in registers.
 */
#pragma once

#include <climits>
#include <cstddef>
#include <cstdint>

#include "detail/fast_kernels.cuh"

namespace iir2d::cuda::detail {

constexpr int kScanWarps = 4;                   ///< rows (warps) per block
constexpr int kScanThreads = 32 * kScanWarps;
constexpr unsigned kScanMask = 0xffffffffu;

/**
 * Compile-time configuration: P samples per lane (a chunk is 32·P samples),
 * Depth chunks loaded ahead per warp, C the type of the carries and of the
 * scan (float64 by default; float for the experiments of PERFORMANCE.md).
 */
template <int P_, int Depth_, typename C_>
struct ScanCfg {
  static constexpr int P = P_;
  static constexpr int kChunk = 32 * P_;
  static constexpr int Depth = Depth_;
  using C = C_;
};

/// A^(P·2^k) for k = 0..4 (2×2 row-major; a first-order section uses [k][0]).
template <typename C>
struct ScanPowers {
  C q[5][4];
};

template <typename Store, typename Acc, typename In, typename C>
struct ScanRowParams {
  In in;
  Store* out;                ///< intermediate plane
  std::ptrdiff_t out_pitch;  ///< elements
  Store* scratch;            ///< F1A1 exact: stage-1 outputs at [n, n+L), row r at scratch + r*scratch_len
  int scratch_len;
  int width;
  int height;
  int row_begin;  ///< rows [row_begin, row_end) of the plane run (a band of it, or all)
  int row_end;
  /// Segments per row (forward-only shapes; 1 otherwise) and their length,
  /// a multiple of the chunk and at least W: segment g covers [g·seg_len,
  /// (g+1)·seg_len) and, past the first, warms up from zero over the W
  /// samples before it (inputs below: zero), as the tiled passes' segments.
  int nseg;
  int seg_len;
  int W;
  ProgramCoef<Acc> coef;
  Border border;
  Store constant;
  bool exact;
  int L;
  ScanPowers<C> pw[2];  ///< stage 1 (Deriche: both halves), stage 2 / the anti-causal stage
};

template <int kChunkLen>
IIR2D_HD int scan_floor(int p) {
  return p >= 0 ? p / kChunkLen * kChunkLen : -((-p + kChunkLen - 1) / kChunkLen) * kChunkLen;
}

/**
 * One linear recursion stage: y = [b0·x] + [b1·h1] + [b2·h2] + a1·y1 [+ a2·y2]
 * summed left to right (the contract's written order for F1, F2 and both
 * Deriche halves), then the history pushed. D: feedback order, H: input
 * history used, kX0: whether the current input enters (not for the
 * Deriche anti-causal half, which uses x[i+1], x[i+2] only).
 */
template <int D, int H, bool kX0, typename Acc>
struct ScanLin {
  Acc b0, b1, b2, a1, a2;

  __device__ __forceinline__ Acc step(Acc x, Acc& h1, Acc& h2, Acc& y1, Acc& y2) const {
    Acc y;
    if constexpr (kX0 && H == 0) {
      y = b0 * x;
    } else if constexpr (kX0 && H == 1) {
      y = b0 * x + b1 * h1;
    } else if constexpr (kX0) {
      y = b0 * x + b1 * h1 + b2 * h2;
    } else {
      static_assert(H == 2, "anti-causal Deriche half only");
      y = b1 * h1 + b2 * h2;
    }
    if constexpr (D == 2)
      y = y + a1 * y1 + a2 * y2;
    else
      y = y + a1 * y1;
    if constexpr (H >= 2) h2 = h1;
    if constexpr (H >= 1) h1 = x;
    if constexpr (D == 2) y2 = y1;
    y1 = y;
    return y;
  }
};

/// State carried between chunks: the feedback part in the carry type, the input history exact.
template <typename Acc, typename C>
struct ScanCarry {
  C y1 = C(0), y2 = C(0);
  Acc h1 = static_cast<Acc>(0), h2 = static_cast<Acc>(0);
};

/// A state injected before one sample (iir2d start of the backward sweep).
template <typename Acc>
struct ScanInit {
  Acc h1 = static_cast<Acc>(0), h2 = static_cast<Acc>(0), y1 = static_cast<Acc>(0), y2 = static_cast<Acc>(0);
};

template <bool kBack, typename T>
__device__ __forceinline__ T scan_shfl_prev(T v, int d) {
  if constexpr (kBack)
    return __shfl_down_sync(kScanMask, v, d);
  else
    return __shfl_up_sync(kScanMask, v, d);
}

/**
 * One stage over one chunk (see the file comment). x: this lane's inputs,
 * y: its outputs (rounded to Store). kBack: the sweep runs from high to low
 * positions (lane 31 first, the lane's last sample first). With kInject,
 * inject_k is the sample index of this lane before which `init` replaces the
 * state (-1: none), and `before` marks a lane whose samples all come before
 * the injection in sweep order: its local state is dropped, so that nothing
 * reaches the injection through the scan (its inputs stay real, since the
 * next lanes take their input history from them).
 */
template <class Cfg, bool kBack, bool kInject, int D, int H, bool kX0, typename Store, typename Acc>
__device__ __forceinline__ void scan_stage(const ScanLin<D, H, kX0, Acc>& lin, const ScanPowers<typename Cfg::C>& pw,
                                           const Acc (&x)[Cfg::P], Store (&y)[Cfg::P],
                                           ScanCarry<Acc, typename Cfg::C>& c, int lane, int inject_k, bool before,
                                           const ScanInit<Acc>& init) {
  using C = typename Cfg::C;
  constexpr int P = Cfg::P;
  const int r = kBack ? 31 - lane : lane;  // position in sweep order
  constexpr int kLast = kBack ? 0 : P - 1;
  constexpr int kLast2 = kBack ? 1 : P - 2;
  Acc h1 = static_cast<Acc>(0), h2 = static_cast<Acc>(0);
  if constexpr (H >= 1) {
    const Acc p1 = scan_shfl_prev<kBack>(x[kLast], 1);
    h1 = r == 0 ? c.h1 : p1;
  }
  if constexpr (H >= 2) {
    const Acc p2 = scan_shfl_prev<kBack>(x[kLast2], 1);
    h2 = r == 0 ? c.h2 : p2;
  }

  // 1. Local run from a zero feedback state.
  Acc lh1 = h1, lh2 = h2, ly1 = static_cast<Acc>(0), ly2 = static_cast<Acc>(0);
IIR2D_UNROLL
  for (int kk = 0; kk < P; ++kk) {
    const int k = kBack ? P - 1 - kk : kk;
    if constexpr (kInject) {
      if (k == inject_k) {
        lh1 = init.h1; lh2 = init.h2; ly1 = init.y1; ly2 = init.y2;
      }
    }
    (void)lin.step(x[k], lh1, lh2, ly1, ly2);
  }

  // 2. Scan of the end states (the carry enters at the first lane).
  C s1 = static_cast<C>(ly1), s2 = static_cast<C>(ly2);
  if constexpr (kInject) {
    if (before) {
      s1 = C(0);
      s2 = C(0);
    }
  }
  if (r == 0) {
    if constexpr (D == 2) {
      const C a = pw.q[0][0] * c.y1 + pw.q[0][1] * c.y2;
      const C b = pw.q[0][2] * c.y1 + pw.q[0][3] * c.y2;
      s1 = s1 + a;
      s2 = s2 + b;
    } else {
      s1 = s1 + pw.q[0][0] * c.y1;
    }
  }
IIR2D_UNROLL
  for (int k = 0; k < 5; ++k) {
    const int d = 1 << k;
    const C t1 = scan_shfl_prev<kBack>(s1, d);
    if constexpr (D == 2) {
      const C t2 = scan_shfl_prev<kBack>(s2, d);
      if (r >= d) {
        const C a = pw.q[k][0] * t1 + pw.q[k][1] * t2;
        const C b = pw.q[k][2] * t1 + pw.q[k][3] * t2;
        s1 = s1 + a;
        s2 = s2 + b;
      }
    } else {
      if (r >= d) s1 = s1 + pw.q[k][0] * t1;
    }
  }
  C st1 = scan_shfl_prev<kBack>(s1, 1), st2 = C(0);
  if constexpr (D == 2) st2 = scan_shfl_prev<kBack>(s2, 1);
  if (r == 0) {
    st1 = c.y1;
    st2 = c.y2;
  }
  constexpr int kSrc = kBack ? 0 : 31;
  c.y1 = __shfl_sync(kScanMask, s1, kSrc);
  if constexpr (D == 2) c.y2 = __shfl_sync(kScanMask, s2, kSrc);
  if constexpr (H >= 1) c.h1 = __shfl_sync(kScanMask, x[kLast], kSrc);
  if constexpr (H >= 2) c.h2 = __shfl_sync(kScanMask, x[kLast2], kSrc);

  // 3. Re-run from the true start state.
  Acc ry1 = static_cast<Acc>(st1), ry2 = static_cast<Acc>(st2);
IIR2D_UNROLL
  for (int kk = 0; kk < P; ++kk) {
    const int k = kBack ? P - 1 - kk : kk;
    if constexpr (kInject) {
      if (k == inject_k) {
        h1 = init.h1; h2 = init.h2; ry1 = init.y1; ry2 = init.y2;
      }
    }
    y[k] = static_cast<Store>(lin.step(x[k], h1, h2, ry1, ry2));
  }
}

/// The stages of each shape.
template <FastShape SH, typename Store, typename Acc>
struct ScanStages;

template <typename Store, typename Acc>
struct ScanStages<FastShape::F1, Store, Acc> {
  using S1 = ScanLin<1, 0, true, Acc>;
  __device__ static S1 s1(const SegmentEngine<FastShape::F1, Store, Acc>& e) { return {e.c0, 0, 0, e.f1, 0}; }
};
template <typename Store, typename Acc>
struct ScanStages<FastShape::F1F1, Store, Acc> {
  using S1 = ScanLin<1, 0, true, Acc>;
  using S2 = ScanLin<1, 0, true, Acc>;
  __device__ static S1 s1(const SegmentEngine<FastShape::F1F1, Store, Acc>& e) { return {e.c0, 0, 0, e.f1, 0}; }
  __device__ static S2 s2(const SegmentEngine<FastShape::F1F1, Store, Acc>& e) { return {e.d0, 0, 0, e.g1, 0}; }
};
template <typename Store, typename Acc>
struct ScanStages<FastShape::F2, Store, Acc> {
  using S1 = ScanLin<2, 2, true, Acc>;
  __device__ static S1 s1(const SegmentEngine<FastShape::F2, Store, Acc>& e) { return {e.c0, e.c1, e.c2, e.f1, e.f2}; }
};
template <typename Store, typename Acc>
struct ScanStages<FastShape::F2F2, Store, Acc> {
  using S1 = ScanLin<2, 2, true, Acc>;
  using S2 = ScanLin<2, 2, true, Acc>;
  __device__ static S1 s1(const SegmentEngine<FastShape::F2F2, Store, Acc>& e) { return {e.c0, e.c1, e.c2, e.f1, e.f2}; }
  __device__ static S2 s2(const SegmentEngine<FastShape::F2F2, Store, Acc>& e) { return {e.d0, e.d1, e.d2, e.g1, e.g2}; }
};
template <typename Store, typename Acc>
struct ScanStages<FastShape::F1A1, Store, Acc> {
  using S1 = ScanLin<1, 0, true, Acc>;
  using B = ScanLin<1, 0, true, Acc>;
  __device__ static S1 s1(const SegmentEngine<FastShape::F1A1, Store, Acc>& e) { return {e.c0, 0, 0, e.f1, 0}; }
  __device__ static B back(const SegmentEngine<FastShape::F1A1, Store, Acc>& e) { return {e.d0, 0, 0, e.g1, 0}; }
};
template <typename Store, typename Acc>
struct ScanStages<FastShape::Deriche, Store, Acc> {
  using S1 = ScanLin<2, 1, true, Acc>;
  using B = ScanLin<2, 2, false, Acc>;
  __device__ static S1 s1(const SegmentEngine<FastShape::Deriche, Store, Acc>& e) { return {e.c0, e.c1, 0, e.f1, e.f2}; }
  __device__ static B back(const SegmentEngine<FastShape::Deriche, Store, Acc>& e) { return {0, e.c2, e.c3, e.f1, e.f2}; }
};

// ---------------------------------------------------------------------------
// Row sources: whole interior chunks are loaded ahead into raw registers with
// vector loads only (a load whose registers are later merged with another
// path's would be waited for at the merge); edge chunks (border-mapped,
// masked, unaligned or interleaved rows) are loaded when they are used.
// ---------------------------------------------------------------------------

constexpr unsigned kScanWordZero = 0xFFFFFFFEu;   ///< masked sample (input zero)
constexpr unsigned kScanWordConst = 0xFFFFFFFFu;  ///< the border constant

/// kBytes (4, 8 or a multiple of 16) at p, 16-byte or narrower vector loads, into 32-bit words.
template <int kBytes>
__device__ __forceinline__ void scan_load_words(const void* p, unsigned (&w)[kBytes / 4]) {
  if constexpr (kBytes % 16 == 0) {
IIR2D_UNROLL
    for (int i = 0; i < kBytes / 16; ++i) {
      const uint4 t = reinterpret_cast<const uint4*>(p)[i];
      w[4 * i] = t.x; w[4 * i + 1] = t.y; w[4 * i + 2] = t.z; w[4 * i + 3] = t.w;
    }
  } else if constexpr (kBytes == 8) {
    const uint2 t = *reinterpret_cast<const uint2*>(p);
    w[0] = t.x; w[1] = t.y;
  } else {
    static_assert(kBytes == 4, "4, 8 or 16k bytes");
    w[0] = *reinterpret_cast<const unsigned*>(p);
  }
}

/// Store values from 32-bit words (float: one each, double: low word first).
template <typename Store, int P>
__device__ __forceinline__ void scan_words_to(const unsigned (&w)[P * sizeof(Store) / 4], Store (&v)[P]) {
IIR2D_UNROLL
  for (int k = 0; k < P; ++k) {
    if constexpr (sizeof(Store) == 4)
      v[k] = __uint_as_float(w[k]);
    else
      v[k] = __hiloint2double(static_cast<int>(w[2 * k + 1]), static_cast<int>(w[2 * k]));
  }
}

/// Float planes.
template <typename Store, class Cfg>
struct ScanPlaneSrc {
  static constexpr int P = Cfg::P, kC = Cfg::kChunk;
  struct Raw {
    unsigned w[P * sizeof(Store) / 4];
  };
  PlaneIn<Store> in;
  const Store* row;
  int n;
  Border border;
  Store constant;

  /// Whether chunk cb is loaded ahead: inside [0, n) and [lo, hi], 16-byte aligned rows.
  __device__ __forceinline__ bool whole(int cb, int lo, int hi) const {
    return in.vec && cb >= 0 && cb + kC <= n && cb >= lo && cb + kC - 1 <= hi;
  }
  __device__ __forceinline__ void fetch(Raw& raw, int cb, int lane) const {
    scan_load_words<P * sizeof(Store)>(row + cb + P * lane, raw.w);
  }
  /// Chunk cb's samples: from `raw` for a whole chunk, else loaded now: B(p)
  /// at [lo, hi] (border-mapped outside [0, n)), 0 elsewhere.
  __device__ __forceinline__ void take(const Raw& raw, int cb, int lo, int hi, int lane, Store (&v)[P]) const {
    if (whole(cb, lo, hi)) {
      scan_words_to<Store, P>(raw.w, v);
      return;
    }
    const int p0 = cb + P * lane;
IIR2D_UNROLL
    for (int k = 0; k < P; ++k) {
      const int p = p0 + k;
      Store x = static_cast<Store>(0);
      if (p >= lo && p <= hi) {
        const int m = p >= 0 && p < n ? p : seg_source_index(p, n, border);
        x = m < 0 ? constant : row[m];
      }
      v[k] = x;
    }
  }
  /// B(i) (iir2d formulas).
  __device__ __forceinline__ Store input_at(int i) const {
    const int m = seg_source_index(i, n, border);
    return m < 0 ? constant : row[m];
  }
};

/// Integer video: storage words loaded ahead, normalised at use.
template <typename Store, class Cfg>
struct ScanCodeSrc {
  static constexpr int P = Cfg::P, kC = Cfg::kChunk;
  struct Raw {
    unsigned w[P / 2];  ///< U8: 4 samples per word (w[0 .. P/4)); U16: 2
  };
  CodeIn<Store> in;
  int rowi;
  int n;
  Border border;
  Store constant;
  bool vec4;  ///< planar, rows 16-byte aligned

  __device__ __forceinline__ bool whole(int cb, int lo, int hi) const {
    return vec4 && cb >= 0 && cb + kC <= n && cb >= lo && cb + kC - 1 <= hi;
  }
  __device__ __forceinline__ void fetch(Raw& raw, int cb, int lane) const {
    const unsigned char* a = in.at(rowi, cb + P * lane);
    if (in.type == SampleType::U8) {
      unsigned w[P / 4];
      scan_load_words<P>(a, w);
IIR2D_UNROLL
      for (int i = 0; i < P / 4; ++i) raw.w[i] = w[i];
    } else {
      scan_load_words<2 * P>(a, raw.w);
    }
  }
  __device__ __forceinline__ void take(const Raw& raw, int cb, int lo, int hi, int lane, Store (&v)[P]) const {
    if (whole(cb, lo, hi)) {
      if (in.type == SampleType::U8) {
IIR2D_UNROLL
        for (int k = 0; k < P; ++k) v[k] = in.normalise((raw.w[k / 4] >> (8 * (k % 4))) & 0xffu);
      } else {
IIR2D_UNROLL
        for (int k = 0; k < P; ++k) v[k] = in.normalise((raw.w[k / 2] >> (16 * (k % 2))) & 0xffffu);
      }
      return;
    }
    const int p0 = cb + P * lane;
    unsigned w[P];
IIR2D_UNROLL
    for (int k = 0; k < P; ++k) {
      const int p = p0 + k;
      unsigned x = kScanWordZero;
      if (p >= lo && p <= hi) {
        const int m = p >= 0 && p < n ? p : seg_source_index(p, n, border);
        x = m < 0 ? kScanWordConst : load_word_rt(in.at(rowi, m), in.type, in.aligned);
      }
      w[k] = x;
    }
IIR2D_UNROLL
    for (int k = 0; k < P; ++k)
      v[k] = w[k] == kScanWordZero ? static_cast<Store>(0) : w[k] == kScanWordConst ? constant : in.normalise(w[k]);
  }
  __device__ __forceinline__ Store input_at(int i) const {
    const int m = seg_source_index(i, n, border);
    return m < 0 ? constant : in.load(rowi, m);
  }
};

/// Stores chunk cb's outputs at [0, n) of the row (16-byte stores for a whole chunk).
template <class Cfg, typename Store>
__device__ __forceinline__ void scan_store(Store* row, int n, int cb, const Store (&v)[Cfg::P], int lane) {
  constexpr int P = Cfg::P;
  const int p0 = cb + P * lane;
  if (cb >= 0 && cb + Cfg::kChunk <= n) {
    if constexpr (sizeof(Store) == 4) {
IIR2D_UNROLL
      for (int i = 0; i < P / 4; ++i)
        reinterpret_cast<float4*>(row + p0)[i] = make_float4(v[4 * i], v[4 * i + 1], v[4 * i + 2], v[4 * i + 3]);
    } else {
IIR2D_UNROLL
      for (int i = 0; i < P / 2; ++i) reinterpret_cast<double2*>(row + p0)[i] = make_double2(v[2 * i], v[2 * i + 1]);
    }
  } else {
IIR2D_UNROLL
    for (int k = 0; k < P; ++k)
      if (p0 + k >= 0 && p0 + k < n) row[p0 + k] = v[k];
  }
}

/// Chunk cb of the intermediate row: ahead-loaded words for a whole chunk
/// (cb + chunk <= n), else [0, n) from the row, [n, ext) from `tail` (F1A1
/// scratch), 0 elsewhere.
template <class Cfg, typename Store>
__device__ __forceinline__ void scan_take_mid(const unsigned (&raw)[Cfg::P * sizeof(Store) / 4], const Store* row,
                                              const Store* tail, int n, int ext, int cb, Store (&v)[Cfg::P], int lane) {
  constexpr int P = Cfg::P;
  if (cb >= 0 && cb + Cfg::kChunk <= n) {
    scan_words_to<Store, P>(raw, v);
    return;
  }
  const int p0 = cb + P * lane;
IIR2D_UNROLL
  for (int k = 0; k < P; ++k) {
    const int p = p0 + k;
    Store x = static_cast<Store>(0);
    if (p >= 0 && p < n)
      x = row[p];
    else if (p >= n && p < ext)
      x = tail[p - n];
    v[k] = x;
  }
}

// ---------------------------------------------------------------------------
// The kernel
// ---------------------------------------------------------------------------

template <FastShape SH, class Cfg, typename Store, typename Acc, typename In, typename Src>
__device__ __forceinline__ void scan_row_body(const ScanRowParams<Store, Acc, In, typename Cfg::C>& p, const Src& src,
                                              int rowi, int lane, int seg_begin, int seg_end) {
  using St = ScanStages<SH, Store, Acc>;
  using Raw = typename Src::Raw;
  using C = typename Cfg::C;
  constexpr int P = Cfg::P, kC = Cfg::kChunk, kDepth = Cfg::Depth;
  const int n = p.width;
  Store* orow = p.out + static_cast<std::ptrdiff_t>(rowi) * p.out_pitch;
  SegmentEngine<SH, Store, Acc> e(p.coef);
  const auto s1 = St::s1(e);
  const ScanInit<Acc> no_init{};

  // ---- forward sweep: stage 1 (and the causal stage 2) ----
  // A segment past the first (forward-only shapes) starts from zero state W samples
  // before seg_begin (>= W, both ends multiples of the chunk) and stores [seg_begin, seg_end).
  const bool head = seg_begin == 0;
  const int lo = !head ? seg_begin - p.W : p.exact ? -p.L : 0;
  const int fwd_end = seg_end < n ? seg_end : (SH == FastShape::F1A1 && p.exact) ? n + p.L : n;
  const int first = !head ? scan_floor<kC>(seg_begin - p.W) : p.exact ? scan_floor<kC>(-p.L) : 0;
  ScanCarry<Acc, C> c1, c2;
  if (!p.exact && head) {
    e.init_forward_iir2d(src);
    c1.y1 = static_cast<C>(e.y1);
    c1.y2 = static_cast<C>(e.y2);
    c1.h1 = e.x1;
    c1.h2 = e.x2;
  }
  Store* tail = nullptr;
  if constexpr (SH == FastShape::F1A1) tail = p.scratch + static_cast<std::ptrdiff_t>(rowi) * p.scratch_len;

  Raw ring[kDepth];
IIR2D_UNROLL
  for (int a = 0; a < kDepth; ++a) {
    const int c = first + a * kC;
    if (c < fwd_end && src.whole(c, lo, INT_MAX)) src.fetch(ring[a], c, lane);
  }
#pragma unroll 1
  for (int base = first; base < fwd_end; base += kDepth * kC) {
IIR2D_UNROLL
    for (int a = 0; a < kDepth; ++a) {
      const int cb = base + a * kC;
      if (cb < fwd_end) {
        Store v[P];
        src.take(ring[a], cb, lo, INT_MAX, lane, v);
        const int nb = cb + kDepth * kC;
        if (nb < fwd_end && src.whole(nb, lo, INT_MAX)) src.fetch(ring[a], nb, lane);
        Acc x[P];
IIR2D_UNROLL
        for (int k = 0; k < P; ++k) x[k] = static_cast<Acc>(v[k]);
        scan_stage<Cfg, false, false>(s1, p.pw[0], x, v, c1, lane, -1, false, no_init);
        if constexpr (two_causal_stages(SH)) {
          if (!p.exact && cb == 0 && head) {
            // Stage 2's formulas from the borders of stage 1's outputs 0..3 (lane 0).
            Store w[kChunk];
IIR2D_UNROLL
            for (int k = 0; k < kChunk; ++k) w[k] = static_cast<Store>(0);
IIR2D_UNROLL
            for (int k = 0; k < 4; ++k) w[k] = __shfl_sync(kScanMask, v[k], 0);
            e.init_stage2_iir2d(w, n, p.border, p.constant);
            c2.y1 = static_cast<C>(e.z1);
            c2.y2 = static_cast<C>(e.z2);
            c2.h1 = e.u1;
            c2.h2 = e.u2;
          }
IIR2D_UNROLL
          for (int k = 0; k < P; ++k) x[k] = static_cast<Acc>(v[k]);
          scan_stage<Cfg, false, false>(St::s2(e), p.pw[1], x, v, c2, lane, -1, false, no_init);
        }
        if (cb >= seg_begin) scan_store<Cfg>(orow, n, cb, v, lane);  // below: the warm-up
        if constexpr (SH == FastShape::F1A1) {
          if (p.exact && cb + kC > n) {
IIR2D_UNROLL
            for (int k = 0; k < P; ++k) {
              const int q = cb + P * lane + k;
              if (q >= n && q < n + p.L) tail[q - n] = v[k];
            }
          }
        }
      }
    }
  }

  // ---- backward sweep: the anti-causal stage ----
  if constexpr (has_backward(SH)) {
    __syncwarp();  // the forward results of other lanes (the iir2d tail) are read below
    const auto bk = St::back(e);
    const int bwd_begin = p.exact ? n + p.L - 1 : n - 1;
    const int ext = p.exact ? n + p.L : n;  // F1A1: stage-1 outputs exist below this
    // Deriche input: exact masks it to 0 above n+L-1 (zero state there);
    // iir2d keeps B(p) above n-1, the input history of the lanes below the
    // injected state.
    const int xhi = p.exact ? bwd_begin : INT_MAX;
    ScanCarry<Acc, C> cb_;
    ScanInit<Acc> init;
    if (!p.exact) {
      if constexpr (SH == FastShape::F1A1) {
        e.tail1 = orow[n - 1];
        e.tail2 = orow[n >= 2 ? n - 2 : n - 1];
      }
      e.init_backward_iir2d(src, n, p.border, p.constant);
      init.h1 = e.u1;
      init.h2 = e.u2;
      init.y1 = e.z1;
      init.y2 = e.z2;
    }
    const int top = scan_floor<kC>(bwd_begin);
    struct BRaw {
      Raw x;
      unsigned f[P * sizeof(Store) / 4];
    };
    BRaw ring2[kDepth];
    auto fetch2 = [&](BRaw& r, int cb) {
      if constexpr (SH == FastShape::Deriche) {
        if (src.whole(cb, INT_MIN, xhi)) src.fetch(r.x, cb, lane);
      }
      if (cb + kC <= n) scan_load_words<P * sizeof(Store)>(orow + cb + P * lane, r.f);
    };
IIR2D_UNROLL
    for (int a = 0; a < kDepth; ++a)
      if (top - a * kC >= 0) fetch2(ring2[a], top - a * kC);
#pragma unroll 1
    for (int base = top; base >= 0; base -= kDepth * kC) {
IIR2D_UNROLL
      for (int a = 0; a < kDepth; ++a) {
        const int cb = base - a * kC;
        if (cb >= 0) {
          Store v[P], f[P];
          if constexpr (SH == FastShape::Deriche) {
            src.take(ring2[a].x, cb, INT_MIN, xhi, lane, v);
            scan_take_mid<Cfg>(ring2[a].f, orow, orow, n, n, cb, f, lane);
          } else {
            scan_take_mid<Cfg>(ring2[a].f, orow, tail, n, ext, cb, f, lane);
          }
          const int nb = cb - kDepth * kC;
          if (nb >= 0) fetch2(ring2[a], nb);
          int inject_k = -1;
          bool before = false;
          if (!p.exact && cb == top) {
            const int rel = (n - 1) - (cb + P * lane);
            if (rel >= 0 && rel < P) inject_k = rel;
            before = rel < 0;
          }
          Acc x[P];
          if constexpr (SH == FastShape::Deriche) {
IIR2D_UNROLL
            for (int k = 0; k < P; ++k) x[k] = static_cast<Acc>(v[k]);
            scan_stage<Cfg, true, true>(bk, p.pw[1], x, v, cb_, lane, inject_k, before, init);
            // y = yp + yn, each stored first (section 3).
IIR2D_UNROLL
            for (int k = 0; k < P; ++k) v[k] = static_cast<Store>(static_cast<Acc>(f[k]) + static_cast<Acc>(v[k]));
          } else {
IIR2D_UNROLL
            for (int k = 0; k < P; ++k) x[k] = static_cast<Acc>(f[k]);
            scan_stage<Cfg, true, true>(bk, p.pw[1], x, v, cb_, lane, inject_k, before, init);
          }
          scan_store<Cfg>(orow, n, cb, v, lane);
        }
      }
    }
  }
}

template <FastShape SH, class Cfg, typename Store, typename Acc, typename In>
__global__ void __launch_bounds__(kScanThreads) scan_row_kernel(const ScanRowParams<Store, Acc, In, typename Cfg::C> p) {
  In in = p.in;
  if constexpr (In::kCodes) {
    __shared__ Store lut[kLutSize];
    fill_lut(lut, in.max_code);
    __syncthreads();
    in.lut = lut;
    in.use_lut = in.mask < static_cast<unsigned>(kLutSize);
  }
  const int lane = static_cast<int>(threadIdx.x) % 32;
  const long long item = static_cast<long long>(blockIdx.x) * kScanWarps + static_cast<int>(threadIdx.x) / 32;
  if (item >= static_cast<long long>(p.row_end - p.row_begin) * p.nseg) return;  // whole warps leave together
  const int rowi = p.row_begin + static_cast<int>(item / p.nseg);
  const int s0 = static_cast<int>(item % p.nseg) * p.seg_len;
  const int s1 = s0 + p.seg_len < p.width ? s0 + p.seg_len : p.width;
  if constexpr (In::kCodes) {
    ScanCodeSrc<Store, Cfg> src;
    src.in = in;
    src.rowi = rowi;
    src.n = p.width;
    src.border = p.border;
    src.constant = p.constant;
    src.vec4 = in.vec;
    scan_row_body<SH, Cfg, Store, Acc>(p, src, rowi, lane, s0, s1);
  } else {
    ScanPlaneSrc<Store, Cfg> src;
    src.in = in;
    src.row = in.base + static_cast<std::ptrdiff_t>(rowi) * in.pitch;
    src.n = p.width;
    src.border = p.border;
    src.constant = p.constant;
    scan_row_body<SH, Cfg, Store, Acc>(p, src, rowi, lane, s0, s1);
  }
}

}  // namespace iir2d::cuda::detail
