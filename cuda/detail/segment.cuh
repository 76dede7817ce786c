// SPDX-License-Identifier: MIT
/**
 * @file segment.cuh
 * @brief Device helpers (bottom layer) of the fast passes: one *segment* of a
 *        1-D sequence computed on its own, in chunks of 32 samples held in
 *        registers, with the program's section shape fixed at compile time.
 *
 * Why segments: a recursion step is a dependent multiply-add chain (about 8
 * cycles for a first-order section, 12 for a biquad), so one thread per row
 * or column leaves the GPU idle (3,840 columns of a 4K frame are far too few
 * threads) and a 3,840-sample chain alone takes tens of microseconds. The
 * poles are small, so the influence of a state decays below the contract's
 * epsilon within L samples (section 3a). A segment [s0, s1) of the output
 * therefore starts its recursion from a zero state W >= L samples before s0
 * (and, for the anti-causal parts, W samples after s1): the result differs
 * from the sequential recursion by about epsilon times the signal (1e-9 for
 * f32/mixed, 1e-17 for f64), which is the contract's own exact definition
 * applied per segment, far inside the tolerances of section 6. In float32 the
 * two trajectories then agree to the last bit after a few samples (a rounded
 * contraction merges), which keeps integer video output identical to refcpu.
 * Segments need no carries between blocks and no ordering between them.
 *
 * Edges follow the contract literally: with `exact`, the first segment starts
 * from zero at -L and the last ends at n+L-1 (reading the border extension
 * B(i) on the fly, never a padded copy), the same operations as refcpu; with
 * `iir2d`, a segment whose warm-up would reach the sequence's start begins at
 * 0 with the warm-up formulas of section 3 (a cascade's second stage takes
 * its formulas from the first stage's stored outputs in the first chunk), and
 * one whose anti-causal warm-up reaches the end starts there with the
 * formulas. Everything else is the recursion of section 3 in the contract's
 * order of operations (no FMA: built with --fmad=false).
 *
 * Shapes (template parameter): the six section layouts that filter ids 1-8
 * produce through make_program(), whatever sigma and unity_gain. First-order
 * sections in this family have b1 = 0, and the shapes rely on it (b1·x[i-1]
 * is then +0 and adding it changes nothing); fast_shape() checks it.
 * Coefficients come at run time from the program.
 *
 * I/O is a template parameter (`IO`): the row pass transposes 32x32 tiles
 * through shared memory, the column pass reads columns directly, and the
 * tests run the same driver on the CPU over std::vector (HostSegmentIO).
 * IO interface, all positions are sequence indices (possibly outside [0,n)):
 *   kAhead                     chunks staged ahead of the one in use
 *   prefetch_in(cb, valid)     stage input chunk [cb, cb+32), border-mapped
 *                              (valid false: nothing to stage, keeps the
 *                              staging queue in step)
 *   take_in(cb, v)             oldest staged chunk (it is chunk cb) -> v[k] = x(cb+k)
 *   input_at(i) -> Store       one border-mapped input sample B(i)
 *   prefetch_fwd(cb, lo, s1, hi, valid) stage forward results at [lo, hi) of
 *                              the chunk: below s1 from the aux plane, from
 *                              s1 on from scratch[p - s1]
 *   take_fwd(cb, lo, s1, hi, v) oldest staged forward results -> v
 *   load_fwd(cb, lo, s1, hi, v) forward results into v at once (unstaged)
 *   store_fwd(cb, v, lo, s1, hi) the inverse of prefetch_fwd
 *   store_out(cb, v, lo, hi)   final output at positions [lo, hi)
 *   drain()                    drop what is staged (the end of a sweep)
 * Chunks are taken in the order they were staged (a queue of kAhead).
 * The driver's control flow depends only on the segment, never on the lane,
 * so warp-cooperative IO (the row pass) sees every lane at every call.
 */
#pragma once

#include <stdexcept>

#include "detail/sequence.cuh"
#include "iir2d/filters.h"

namespace iir2d::cuda::detail {

/// Samples per chunk (one register array per thread).
constexpr int kChunk = 32;

/// Section layouts with a fast path (template parameter of the passes).
enum class FastShape : int {
  F1 = 0,    ///< one first-order section (ids 1, 7)
  F1F1 = 1,  ///< two first-order sections (id 2)
  F2 = 2,    ///< one biquad (ids 3, 8)
  F2F2 = 3,  ///< two biquads (id 4)
  F1A1 = 4,  ///< first order, then anti-causal first order on its output (id 5)
  Deriche = 5,  ///< Deriche pair (id 6)
  None = 6,  ///< anything else: the generic kernels of sequence.cuh
};

#if defined(__CUDACC__)
#define IIR2D_HDC __host__ __device__ constexpr
#else
#define IIR2D_HDC constexpr
#endif

IIR2D_HDC bool has_backward(FastShape s) { return s == FastShape::F1A1 || s == FastShape::Deriche; }
IIR2D_HDC bool two_causal_stages(FastShape s) { return s == FastShape::F1F1 || s == FastShape::F2F2; }

/// The fast shape of a program, or None (also None when a first-order section has b1 != 0).
inline FastShape fast_shape(const Program& p) {
  auto f1 = [](const Section& s, SectionKind k) { return s.kind == k && s.ff[1] == 0.0 && s.ff[2] == 0.0 && s.ff[3] == 0.0; };
  auto f2 = [](const Section& s) { return s.kind == SectionKind::Causal2 && s.ff[3] == 0.0; };
  if (p.num_sections == 1) {
    if (f1(p.sections[0], SectionKind::Causal1)) return FastShape::F1;
    if (f2(p.sections[0])) return FastShape::F2;
    if (p.sections[0].kind == SectionKind::DerichePair) return FastShape::Deriche;
  } else if (p.num_sections == 2) {
    if (f1(p.sections[0], SectionKind::Causal1) && f1(p.sections[1], SectionKind::Causal1)) return FastShape::F1F1;
    if (f2(p.sections[0]) && f2(p.sections[1])) return FastShape::F2F2;
    if (f1(p.sections[0], SectionKind::Causal1) && f1(p.sections[1], SectionKind::AntiCausal1)) return FastShape::F1A1;
  }
  return FastShape::None;
}

/**
 * Whether the fast passes run a program with these settings. Not covered:
 * shapes outside FastShape, and the iir2d initialisation of a two-stage
 * program with wrap borders, whose second stage warms up from the first
 * stage's outputs at the far end of the sequence (another segment's work);
 * those take the generic kernels.
 */
inline bool fast_supported(FastShape s, BorderInit init, Border border) {
  if (s == FastShape::None) return false;
  if (init == BorderInit::Iir2d && border == Border::Wrap && (two_causal_stages(s) || s == FastShape::F1A1))
    return false;
  return true;
}

#if defined(__CUDACC__)
#define IIR2D_HD_NOINLINE __host__ __device__ __noinline__
#else
#define IIR2D_HD_NOINLINE
#endif

/**
 * border_source_index() of sequence.cuh in 32-bit arithmetic (positions of
 * the fast passes stay within [-2^29, 2^29]) and out of line: the passes map
 * up to 32 positions per edge chunk, and an inlined 64-bit modulo per
 * position made the kernels several times larger. Index in [0, n) that B(i)
 * reads, or -1 for the border constant.
 */
static IIR2D_HD_NOINLINE int seg_source_index(int i, int n, Border border) {
  if (i >= 0 && i < n) return i;
  switch (border) {
    case Border::Clamp:
      return i < 0 ? 0 : n - 1;
    case Border::Mirror: {
      const int period = 2 * n;
      int r = i % period;
      if (r < 0) r += period;
      return r < n ? r : period - 1 - r;
    }
    case Border::Wrap: {
      int r = i % n;
      if (r < 0) r += n;
      return r;
    }
    case Border::Constant:
    default:
      return -1;
  }
}

/// Largest multiple of kChunk <= p (also for negative p).
IIR2D_HD int chunk_floor(int p) { return p >= 0 ? p / kChunk * kChunk : -((-p + kChunk - 1) / kChunk) * kChunk; }

IIR2D_HD int imin(int a, int b) { return a < b ? a : b; }
IIR2D_HD int imax(int a, int b) { return a > b ? a : b; }

/// Where one segment's recursions run (positions are sequence indices).
struct SegGeom {
  int n;          ///< sequence length
  int s0, s1;     ///< output positions [s0, s1)
  int fwd_begin;  ///< first position of the forward (causal) recursion
  int fwd_end;    ///< one past its last position
  bool fwd_iir2d; ///< forward starts at 0 with the iir2d formulas (else from a zero state)
  int bwd_begin;  ///< first (highest) position of the backward recursion
  bool bwd_iir2d; ///< backward starts at n-1 with the iir2d formulas (else from a zero state)
};

/**
 * Geometry of segment [s0, s1) of a sequence of length n. `L` is the
 * contract's extension length (section 3a), `W` >= L the warm-up of an
 * interior segment edge.
 */
IIR2D_HD SegGeom segment_geometry(FastShape shape, int n, int s0, int s1, bool exact, int L, int W) {
  SegGeom g;
  g.n = n;
  g.s0 = s0;
  g.s1 = s1;
  int right;  // one past the last position any recursion of this segment visits
  if (exact) {
    g.fwd_begin = imax(s0 - W, -L);
    g.fwd_iir2d = false;
    right = s1 == n ? n + L : imin(s1 + W, n + L);
    g.bwd_iir2d = false;
  } else {
    g.fwd_begin = imax(s0 - W, 0);
    g.fwd_iir2d = g.fwd_begin == 0;
    right = imin(s1 + W, n);
    g.bwd_iir2d = right == n;
  }
  g.fwd_end = shape == FastShape::F1A1 ? right : s1;
  g.bwd_begin = right - 1;
  return g;
}

// ---------------------------------------------------------------------------
// The recursions of one segment, per shape
// ---------------------------------------------------------------------------

/**
 * Coefficients and state of one segment's recursions. Stage 1 is the first
 * section (for the Deriche pair: its causal half, with the anti-causal half
 * in the backward state); stage 2 the second section (causal for F1F1/F2F2,
 * the anti-causal first order of F1A1, run backwards).
 */
template <FastShape SH, typename Store, typename Acc>
struct SegmentEngine {
  // Stage 1 (or the Deriche pair): ff and fb.
  Acc c0, c1, c2, c3, f1, f2;
  // Stage 2.
  Acc d0, d1, d2, g1, g2;
  // Forward state (stage 1): last inputs and outputs.
  Acc x1, x2, y1, y2;
  // Stage 2 / backward state.
  Acc u1, u2, z1, z2;
  // F1A1 with the iir2d end formulas: stored stage-1 outputs at n-1 and n-2.
  Store tail1, tail2;

  IIR2D_HD explicit SegmentEngine(const ProgramCoef<Acc>& p) {
    c0 = p.sec[0].ff0; c1 = p.sec[0].ff1; c2 = p.sec[0].ff2; c3 = p.sec[0].ff3;
    f1 = p.sec[0].fb1; f2 = p.sec[0].fb2;
    d0 = p.sec[1].ff0; d1 = p.sec[1].ff1; d2 = p.sec[1].ff2;
    g1 = p.sec[1].fb1; g2 = p.sec[1].fb2;
    x1 = x2 = y1 = y2 = u1 = u2 = z1 = z2 = static_cast<Acc>(0);
    tail1 = tail2 = static_cast<Store>(0);
  }

  // --- steps (contract section 3, written order) ---

  /// Stage 1, causal: F1 y = b0·x + a1·y[i-1] (b1 = 0); F2 the biquad; Deriche: yp.
  IIR2D_HD Acc step1(Acc x) {
    if constexpr (SH == FastShape::F2 || SH == FastShape::F2F2) {
      const Acc y = c0 * x + c1 * x1 + c2 * x2 + f1 * y1 + f2 * y2;
      x2 = x1; x1 = x; y2 = y1; y1 = y;
      return y;
    } else if constexpr (SH == FastShape::Deriche) {
      const Acc y = c0 * x + c1 * x1 + f1 * y1 + f2 * y2;
      x1 = x; y2 = y1; y1 = y;
      return y;
    } else {
      const Acc y = c0 * x + f1 * y1;
      y1 = y;
      return y;
    }
  }

  /// Stage 2, causal (F1F1, F2F2).
  IIR2D_HD Acc step2(Acc x) {
    if constexpr (SH == FastShape::F2F2) {
      const Acc y = d0 * x + d1 * u1 + d2 * u2 + g1 * z1 + g2 * z2;
      u2 = u1; u1 = x; z2 = z1; z1 = y;
      return y;
    } else {
      const Acc y = d0 * x + g1 * z1;
      z1 = y;
      return y;
    }
  }

  /// Backward step. F1A1: y = b0·u + a1·y[i+1]. Deriche: yn[i] from the
  /// state of i+1 and i+2, then x[i] pushed (section 3).
  IIR2D_HD Acc step_back(Acc x) {
    if constexpr (SH == FastShape::Deriche) {
      const Acc y = c2 * u1 + c3 * u2 + f1 * z1 + f2 * z2;
      u2 = u1; u1 = x; z2 = z1; z1 = y;
      return y;
    } else {
      const Acc y = d0 * x + g1 * z1;
      z1 = y;
      return y;
    }
  }

  // --- iir2d warm-up formulas (section 3) ---

  template <typename IO>
  IIR2D_HD void init_forward_iir2d(IO& io) {
    const Acc b1 = static_cast<Acc>(io.input_at(-1));
    const Acc b2 = static_cast<Acc>(io.input_at(-2));
    if constexpr (SH == FastShape::F2 || SH == FastShape::F2F2) {
      const Acc b3 = static_cast<Acc>(io.input_at(-3)), b4 = static_cast<Acc>(io.input_at(-4));
      y2 = c0 * b2 + c1 * b3 + c2 * b4;
      y1 = c0 * b1 + c1 * b2 + c2 * b3 + f1 * y2;
      x1 = b1;
      x2 = b2;
    } else if constexpr (SH == FastShape::Deriche) {
      const Acc b3 = static_cast<Acc>(io.input_at(-3));
      y2 = c0 * b2 + c1 * b3;
      y1 = c0 * b1 + c1 * b2 + f1 * y2;
      x1 = b1;
    } else {
      y1 = c0 * b1 + c1 * b2;
      x1 = b1;
    }
  }

  /// Stage 2's formulas from the borders of stage 1's stored output, which
  /// the first chunk (positions 0..31) holds in v. Mirror and clamp name
  /// indices below 4 (below n); constant names the border constant.
  IIR2D_HD void init_stage2_iir2d(const Store (&v)[kChunk], int n, Border border, Store constant) {
    auto B = [&](int i) -> Acc {
      const int k = seg_source_index(i, n, border);
      if (k < 0) return static_cast<Acc>(constant);
      Store r = v[0];
      IIR2D_UNROLL
      for (int q = 1; q < 4; ++q)
        if (k == q) r = v[q];
      return static_cast<Acc>(r);
    };
    if constexpr (SH == FastShape::F2F2) {
      z2 = d0 * B(-2) + d1 * B(-3) + d2 * B(-4);
      z1 = d0 * B(-1) + d1 * B(-2) + d2 * B(-3) + g1 * z2;
      u1 = B(-1);
      u2 = B(-2);
    } else {
      z1 = d0 * B(-1) + d1 * B(-2);
      u1 = B(-1);
    }
  }

  /// Backward formulas at n: F1A1 from the stage-1 outputs' borders (kept in
  /// tail1/tail2: mirror and clamp name n-1 and n-2 only), Deriche from the
  /// input's borders B(n), B(n+1), B(n+2).
  template <typename IO>
  IIR2D_HD void init_backward_iir2d(IO& io, int n, Border border, Store constant) {
    const int ln = n;
    if constexpr (SH == FastShape::Deriche) {
      const Acc bn = static_cast<Acc>(io.input_at(n)), bn1 = static_cast<Acc>(io.input_at(n + 1));
      const Acc bn2 = static_cast<Acc>(io.input_at(n + 2));
      z2 = c2 * bn1 + c3 * bn2;
      z1 = c2 * bn + c3 * bn1 + f1 * z2;
      u1 = bn;
      u2 = bn1;
    } else {
      auto B = [&](int i) -> Acc {
        const int k = seg_source_index(i, n, border);
        if (k < 0) return static_cast<Acc>(constant);
        return static_cast<Acc>(k == n - 1 ? tail1 : tail2);
      };
      z1 = d0 * B(ln) + d1 * B(ln + 1);
      u1 = B(ln);
    }
  }

  // --- chunks ---

  /// Stage 1 over the chunk's positions in [lo, hi), in place.
  template <bool kFull>
  IIR2D_HD void forward1(Store (&v)[kChunk], int cb, int lo, int hi) {
    IIR2D_UNROLL
    for (int k = 0; k < kChunk; ++k)
      if (kFull || (cb + k >= lo && cb + k < hi)) v[k] = static_cast<Store>(step1(static_cast<Acc>(v[k])));
  }

  /// Stage 2 (causal cascades) over [lo, hi), in place.
  template <bool kFull>
  IIR2D_HD void forward2(Store (&v)[kChunk], int cb, int lo, int hi) {
    IIR2D_UNROLL
    for (int k = 0; k < kChunk; ++k)
      if (kFull || (cb + k >= lo && cb + k < hi)) v[k] = static_cast<Store>(step2(static_cast<Acc>(v[k])));
  }

  /// Keeps the stored stage-1 outputs at n-1 and n-2 (F1A1, iir2d end).
  IIR2D_HD void capture_tail(const Store (&v)[kChunk], int cb, int n) {
    IIR2D_UNROLL
    for (int k = 0; k < kChunk; ++k) {
      if (cb + k == n - 1) tail1 = v[k];
      if (cb + k == n - 2) tail2 = v[k];
    }
  }

  /**
   * Backward over the chunk's positions in [lo, hi), from high to low, in
   * place: F1A1 replaces the stage-1 outputs u by the final output; the
   * Deriche pair replaces its input x by the stored anti-causal half yn.
   */
  template <bool kFull>
  IIR2D_HD void backward(Store (&v)[kChunk], int cb, int lo, int hi) {
    IIR2D_UNROLL
    for (int k = kChunk - 1; k >= 0; --k) {
      const int p = cb + k;
      if (kFull || (p >= lo && p < hi)) v[k] = static_cast<Store>(step_back(static_cast<Acc>(v[k])));
    }
  }

  /// Deriche output yp + yn (each stored first, section 3) at [lo, hi) into yp.
  IIR2D_HD static void combine(Store (&yp)[kChunk], const Store (&yn)[kChunk], int cb, int lo, int hi) {
    IIR2D_UNROLL
    for (int k = 0; k < kChunk; ++k)
      if (cb + k >= lo && cb + k < hi) yp[k] = static_cast<Store>(static_cast<Acc>(yp[k]) + static_cast<Acc>(yn[k]));
  }
};

/**
 * Runs the program on one segment (see the file comment): outputs at
 * [g.s0, g.s1) through io.store_out; F1A1 and Deriche park their forward
 * results through io.store_fwd and read them back.
 */
template <FastShape SH, typename Store, typename Acc, typename IO>
IIR2D_HD void run_segment(const ProgramCoef<Acc>& coef, const SegGeom& g, Border border, Store constant, IO& io) {
  SegmentEngine<SH, Store, Acc> e(coef);
  Store v[kChunk];

  // Forward: stage 1 (and the causal stage 2) from fwd_begin to fwd_end.
  constexpr int kAhead = IO::kAhead;
  const int first = chunk_floor(g.fwd_begin);
  for (int a = 0; a < kAhead; ++a) io.prefetch_in(first + a * kChunk, first + a * kChunk < g.fwd_end);
  for (int cb = first; cb < g.fwd_end; cb += kChunk) {
    io.take_in(cb, v);
    io.prefetch_in(cb + kAhead * kChunk, cb + kAhead * kChunk < g.fwd_end);
    const bool full = cb >= g.fwd_begin && cb + kChunk <= g.fwd_end;
    if (cb == first && g.fwd_iir2d) e.init_forward_iir2d(io);
    if (full)
      e.template forward1<true>(v, cb, g.fwd_begin, g.fwd_end);
    else
      e.template forward1<false>(v, cb, g.fwd_begin, g.fwd_end);
    if constexpr (two_causal_stages(SH)) {
      if (cb == first && g.fwd_iir2d) e.init_stage2_iir2d(v, g.n, border, constant);
      if (full)
        e.template forward2<true>(v, cb, g.fwd_begin, g.fwd_end);
      else
        e.template forward2<false>(v, cb, g.fwd_begin, g.fwd_end);
    }
    if constexpr (has_backward(SH)) {
      if constexpr (SH == FastShape::F1A1) {
        if (g.bwd_iir2d) e.capture_tail(v, cb, g.n);
      }
      const int lo = imax(cb, g.s0), hi = imin(cb + kChunk, g.fwd_end);
      if (lo < hi) io.store_fwd(cb, v, lo, g.s1, hi);
    } else {
      const int lo = imax(cb, g.s0), hi = imin(cb + kChunk, g.s1);
      if (lo < hi) io.store_out(cb, v, lo, hi);
    }
  }

  if constexpr (has_backward(SH)) {
    // Backward: from bwd_begin down to s0. F1A1 runs on its forward results
    // (prefetched a chunk ahead); the Deriche pair on the input (prefetched),
    // then adds its causal half, fetched once the chunk's recursion is done
    // (so that only two chunks live in registers at a time).
    io.drain();  // the forward sweep staged kAhead chunks past its end
    if (g.bwd_iir2d) e.init_backward_iir2d(io, g.n, border, constant);
    const int last = chunk_floor(g.bwd_begin), stop = chunk_floor(g.s0);
    const int hi = g.bwd_begin + 1;
    auto prefetch = [&](int cb) {
      if constexpr (SH == FastShape::Deriche)
        io.prefetch_in(cb, cb >= stop);
      else
        io.prefetch_fwd(cb, imax(cb, g.s0), g.s1, imin(cb + kChunk, hi), cb >= stop);
    };
    for (int a = 0; a < kAhead; ++a) prefetch(last - a * kChunk);
    for (int cb = last; cb >= stop; cb -= kChunk) {
      if constexpr (SH == FastShape::Deriche)
        io.take_in(cb, v);
      else
        io.take_fwd(cb, imax(cb, g.s0), g.s1, imin(cb + kChunk, hi), v);
      prefetch(cb - kAhead * kChunk);
      if (cb >= g.s0 && cb + kChunk <= hi)
        e.template backward<true>(v, cb, g.s0, hi);
      else
        e.template backward<false>(v, cb, g.s0, hi);
      const int lo = imax(cb, g.s0), h = imin(cb + kChunk, g.s1);
      if (lo < h) {
        if constexpr (SH == FastShape::Deriche) {
          Store yp[kChunk];
          io.load_fwd(cb, lo, g.s1, h, yp);
          SegmentEngine<SH, Store, Acc>::combine(yp, v, cb, lo, h);
          io.store_out(cb, yp, lo, h);
        } else {
          io.store_out(cb, v, lo, h);
        }
      }
    }
  }
}

// ---------------------------------------------------------------------------
// Host I/O: the same driver over a contiguous sequence (tests, no GPU)
// ---------------------------------------------------------------------------

/// IO over std::vector-like storage, for running run_segment on the CPU.
template <typename Store>
struct HostSegmentIO {
  static constexpr int kAhead = 2;  ///< as deep as the GPU's queues, to exercise the protocol
  const Store* in;  ///< the sequence, n samples
  Store* out;       ///< final output (n samples)
  Store* aux;       ///< forward results (n samples; may equal out)
  Store* scratch;   ///< forward results from s1 on
  int n;
  Border border;
  Store constant;
  // Staging queue (ring of kAhead + 1 chunks); a chunk not staged holds NaN.
  Store q[kAhead + 1][kChunk];
  int head = 0, tail = 0;

  Store sample(int i) const {
    const int k = seg_source_index(i, n, border);
    return k < 0 ? constant : in[k];
  }
  static Store poison() { return static_cast<Store>(-1e30); }
  void push(const Store (&c)[kChunk]) {
    for (int k = 0; k < kChunk; ++k) q[tail % (kAhead + 1)][k] = c[k];
    ++tail;
  }
  void pop(Store (&v)[kChunk]) {
    if (head >= tail) throw std::logic_error("segment IO: take without a staged chunk");
    for (int k = 0; k < kChunk; ++k) v[k] = q[head % (kAhead + 1)][k];
    ++head;
  }
  void prefetch_in(int cb, bool valid) {
    if (tail - head > kAhead) throw std::logic_error("segment IO: staging queue overflow");
    Store c[kChunk];
    for (int k = 0; k < kChunk; ++k) c[k] = valid ? sample(cb + k) : poison();
    push(c);
  }
  void take_in(int, Store (&v)[kChunk]) { pop(v); }
  void drain() { head = tail; }
  Store input_at(int i) const { return sample(i); }
  void load_fwd(int cb, int lo, int s1, int hi, Store (&v)[kChunk]) const {
    for (int k = 0; k < kChunk; ++k) {
      const int p = cb + k;
      v[k] = p >= lo && p < hi ? (p < s1 ? aux[p] : scratch[p - s1]) : poison();
    }
  }
  void prefetch_fwd(int cb, int lo, int s1, int hi, bool valid) {
    if (tail - head > kAhead) throw std::logic_error("segment IO: staging queue overflow");
    Store c[kChunk];
    if (valid)
      load_fwd(cb, lo, s1, hi, c);
    else
      for (auto& x : c) x = poison();
    push(c);
  }
  void take_fwd(int, int, int, int, Store (&v)[kChunk]) { pop(v); }
  void store_fwd(int cb, const Store (&v)[kChunk], int lo, int s1, int hi) {
    for (int p = lo; p < hi; ++p) (p < s1 ? aux[p] : scratch[p - s1]) = v[p - cb];
  }
  void store_out(int cb, const Store (&v)[kChunk], int lo, int hi) {
    for (int p = lo; p < hi; ++p) out[p] = v[p - cb];
  }
};

/// Runs the segment driver for a whole program's shape (host emulation).
template <typename Store, typename Acc, typename IO>
void run_segment_host(FastShape shape, const ProgramCoef<Acc>& coef, const SegGeom& g, Border border, Store constant,
                      IO& io) {
  switch (shape) {
    case FastShape::F1: run_segment<FastShape::F1, Store, Acc>(coef, g, border, constant, io); break;
    case FastShape::F1F1: run_segment<FastShape::F1F1, Store, Acc>(coef, g, border, constant, io); break;
    case FastShape::F2: run_segment<FastShape::F2, Store, Acc>(coef, g, border, constant, io); break;
    case FastShape::F2F2: run_segment<FastShape::F2F2, Store, Acc>(coef, g, border, constant, io); break;
    case FastShape::F1A1: run_segment<FastShape::F1A1, Store, Acc>(coef, g, border, constant, io); break;
    case FastShape::Deriche: run_segment<FastShape::Deriche, Store, Acc>(coef, g, border, constant, io); break;
    case FastShape::None: break;
  }
}

}  // namespace iir2d::cuda::detail
