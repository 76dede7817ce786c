// SPDX-License-Identifier: MIT
/**
 * @file sequence.cuh
 * @brief Device helpers (bottom layer): border sampling and the 1-D
 *        programs of the filter contract run on one sequence by one thread.
 *
 * Contract: docs/FILTER_CONTRACT.md, sections 2 (borders),
 * 3 (recursions and the iir2d warm-up), 3a (exact initialisation) and 4
 * (precision: `Store` is the I/O type, `Acc` the recursion type).
 *
 * Written independently of refcpu/: the exact initialisation never
 * materialises the extended sequence. Border samples are read on the fly,
 * causal cascades run their stages in lockstep (stage k+1 consumes stage k's
 * stored output as soon as it is produced), the Deriche pair keeps its causal
 * half in the output and adds the anti-causal half on the way back, and a
 * causal stage followed by an anti-causal one keeps only the right extension
 * (L samples) in scratch. Arithmetic follows the contract's equations in
 * their written order, so that, built without FMA contraction, the results
 * are the contract's to the last bit.
 *
 * Everything here is __host__ __device__ (plain inline functions when a host
 * compiler reads this file), so the tests can also run the per-sequence logic
 * on the CPU.
 */
#pragma once

#include <cstddef>

#include "iir2d/filters.h"

#if defined(__CUDACC__)
#define IIR2D_HD __host__ __device__ __forceinline__
#else
#define IIR2D_HD inline
#endif
#if defined(__CUDA_ARCH__)
#define IIR2D_UNROLL _Pragma("unroll")
#else
#define IIR2D_UNROLL
#endif

namespace iir2d::cuda::detail {

/// Most sections a program may hold (filters.h: Program::sections).
constexpr int kMaxSections = 2;

// ---------------------------------------------------------------------------
// Sequences
// ---------------------------------------------------------------------------

/// A 1-D sequence in memory: element k at base[k * step] (step in elements).
template <typename T>
struct StridedSeq {
  T* base;
  std::ptrdiff_t step;

  IIR2D_HD T load(int k) const { return base[static_cast<std::ptrdiff_t>(k) * step]; }
  IIR2D_HD void store(int k, T v) const { base[static_cast<std::ptrdiff_t>(k) * step] = v; }
};

/**
 * Index in [0, n) that the border sample B(i) of contract section 2 reads,
 * or -1 where B(i) is the border constant. n >= 1.
 */
IIR2D_HD int border_source_index(long long i, int n, Border border) {
  if (i >= 0 && i < n) return static_cast<int>(i);
  switch (border) {
    case Border::Clamp:
      return i < 0 ? 0 : n - 1;
    case Border::Mirror: {
      // Period 2n; the second half of a period runs backwards.
      const long long period = 2LL * n;
      long long r = i % period;
      if (r < 0) r += period;
      return static_cast<int>(r < n ? r : period - 1 - r);
    }
    case Border::Wrap: {
      long long r = i % n;
      if (r < 0) r += n;
      return static_cast<int>(r);
    }
    case Border::Constant:
    default:
      return -1;
  }
}

/// B(i) of a sequence `seq` of length n, as the recursion type Acc.
template <typename Store, typename Acc, typename Seq>
struct BorderReader {
  const Seq& seq;
  int n;
  Border border;
  Store constant;

  IIR2D_HD Store stored(long long i) const {
    const int k = border_source_index(i, n, border);
    return k < 0 ? constant : seq.load(k);
  }
  IIR2D_HD Acc operator()(long long i) const { return static_cast<Acc>(stored(i)); }
};

// ---------------------------------------------------------------------------
// Programs as launch data (plain structs, passed by value to kernels)
// ---------------------------------------------------------------------------

/// One section's coefficients in the recursion type (filters.h: Section).
template <typename Acc>
struct SectionCoef {
  SectionKind kind;
  Acc ff0, ff1, ff2, ff3;  ///< b0, b1, b2 (F1/F2) or a0, a1, a2, a3 (Deriche)
  Acc fb1, fb2;            ///< a1, a2 (F1/F2) or b1, b2 (Deriche)
};

/// A program of up to kMaxSections sections, in the recursion type.
template <typename Acc>
struct ProgramCoef {
  int num_sections;
  SectionCoef<Acc> sec[kMaxSections];
};

/// How the exact initialisation runs a program (see run_exact_program).
enum class ExactShape : int {
  AllCausal = 0,       ///< only Causal1/Causal2 sections: stages in lockstep
  CausalThenAnti = 1,  ///< causal sections, then one AntiCausal1 last
  DerichePair = 2,     ///< a single Deriche pair
  Unsupported = 3,
};

/// Converts a filters.h program to launch data (coefficients rounded to Acc).
template <typename Acc>
inline ProgramCoef<Acc> make_program_coef(const Program& p) {
  ProgramCoef<Acc> c{};
  c.num_sections = p.num_sections;
  for (int k = 0; k < p.num_sections && k < kMaxSections; ++k) {
    const Section& s = p.sections[k];
    c.sec[k].kind = s.kind;
    c.sec[k].ff0 = static_cast<Acc>(s.ff[0]);
    c.sec[k].ff1 = static_cast<Acc>(s.ff[1]);
    c.sec[k].ff2 = static_cast<Acc>(s.ff[2]);
    c.sec[k].ff3 = static_cast<Acc>(s.ff[3]);
    c.sec[k].fb1 = static_cast<Acc>(s.fb[0]);
    c.sec[k].fb2 = static_cast<Acc>(s.fb[1]);
  }
  return c;
}

inline bool is_causal_kind(SectionKind k) { return k == SectionKind::Causal1 || k == SectionKind::Causal2; }

/// Which exact-initialisation route a program takes (Unsupported: none).
inline ExactShape exact_shape(const Program& p) {
  if (p.num_sections < 1 || p.num_sections > kMaxSections) return ExactShape::Unsupported;
  bool all_causal = true;
  for (int k = 0; k < p.num_sections; ++k) all_causal = all_causal && is_causal_kind(p.sections[k].kind);
  if (all_causal) return ExactShape::AllCausal;
  if (p.num_sections == 1 && p.sections[0].kind == SectionKind::DerichePair) return ExactShape::DerichePair;
  bool head_causal = true;
  for (int k = 0; k + 1 < p.num_sections; ++k) head_causal = head_causal && is_causal_kind(p.sections[k].kind);
  if (head_causal && p.sections[p.num_sections - 1].kind == SectionKind::AntiCausal1) return ExactShape::CausalThenAnti;
  return ExactShape::Unsupported;
}

/// True if the iir2d warm-up can run the program (a Deriche pair needs its
/// input kept apart from its output, so it may only be the first stage).
inline bool iir2d_supported(const Program& p) {
  if (p.num_sections < 1 || p.num_sections > kMaxSections) return false;
  for (int k = 1; k < p.num_sections; ++k)
    if (p.sections[k].kind == SectionKind::DerichePair) return false;
  return true;
}

/// Scratch elements per sequence that a program needs (exact: the right extension of a causal+anti-causal cascade).
inline int scratch_per_sequence(const Program& p, BorderInit init, int extension) {
  return init == BorderInit::Exact && exact_shape(p) == ExactShape::CausalThenAnti ? extension : 0;
}

// ---------------------------------------------------------------------------
// Recursion steps
// ---------------------------------------------------------------------------

/// State of a first- or second-order recursion: last two inputs and outputs
/// (in the scan direction). Outputs stay in Acc; inputs are stored values.
template <typename Acc>
struct RecState {
  Acc x1, x2, y1, y2;
};

template <typename Acc>
IIR2D_HD RecState<Acc> zero_state() {
  RecState<Acc> s;
  s.x1 = s.x2 = s.y1 = s.y2 = static_cast<Acc>(0);
  return s;
}

/// One step of F1 / F2 (or the anti-causal F1, scanned backwards): consumes
/// input x, returns the new output, shifts the state.
template <typename Acc>
IIR2D_HD Acc recursive_step(const SectionCoef<Acc>& c, RecState<Acc>& s, Acc x) {
  Acc y;
  if (c.kind == SectionKind::Causal2) {
    // y[i] = b0·x[i] + b1·x[i-1] + b2·x[i-2] + a1·y[i-1] + a2·y[i-2]
    y = c.ff0 * x + c.ff1 * s.x1 + c.ff2 * s.x2 + c.fb1 * s.y1 + c.fb2 * s.y2;
  } else {
    // y[i] = b0·x[i] + b1·x[i-1] + a1·y[i-1]
    y = c.ff0 * x + c.ff1 * s.x1 + c.fb1 * s.y1;
  }
  s.x2 = s.x1;
  s.x1 = x;
  s.y2 = s.y1;
  s.y1 = y;
  return y;
}

/// Causal half of the Deriche pair: yp[i] = a0·x[i] + a1·x[i-1] + b1·yp[i-1] + b2·yp[i-2].
template <typename Acc>
IIR2D_HD Acc deriche_causal_step(const SectionCoef<Acc>& c, RecState<Acc>& s, Acc x) {
  const Acc y = c.ff0 * x + c.ff1 * s.x1 + c.fb1 * s.y1 + c.fb2 * s.y2;
  s.x1 = x;
  s.y2 = s.y1;
  s.y1 = y;
  return y;
}

/// Anti-causal half of the Deriche pair at index i, from the state of i+1 and
/// i+2: yn[i] = a2·x[i+1] + a3·x[i+2] + b1·yn[i+1] + b2·yn[i+2]. Then shifts
/// the state, pushing x[i] as the newest input.
template <typename Acc>
IIR2D_HD Acc deriche_anticausal_step(const SectionCoef<Acc>& c, RecState<Acc>& s, Acc x_i) {
  const Acc y = c.ff2 * s.x1 + c.ff3 * s.x2 + c.fb1 * s.y1 + c.fb2 * s.y2;
  s.x2 = s.x1;
  s.x1 = x_i;
  s.y2 = s.y1;
  s.y1 = y;
  return y;
}

// ---------------------------------------------------------------------------
// iir2d initialisation (contract section 3, literally)
// ---------------------------------------------------------------------------

/**
 * One section with the iir2d warm-up, from `in` to `out` (length n >= 1).
 * `in` and `out` may be the same sequence except for a Deriche pair: all
 * border samples are read before the first output is written, and each
 * input sample is read before its output overwrites it.
 */
template <typename Store, typename Acc, typename In, typename Out>
IIR2D_HD void iir2d_section(const SectionCoef<Acc>& c, const In& in, const Out& out, int n, Border border,
                            Store constant) {
  const BorderReader<Store, Acc, In> B{in, n, border, constant};
  const long long ln = n;
  switch (c.kind) {
    case SectionKind::Causal1: {
      RecState<Acc> s = zero_state<Acc>();
      s.y1 = c.ff0 * B(-1) + c.ff1 * B(-2);  // y[-1] = b0·B(-1) + b1·B(-2)
      s.x1 = B(-1);                          // x[-1] = B(-1)
      for (int i = 0; i < n; ++i) out.store(i, static_cast<Store>(recursive_step(c, s, static_cast<Acc>(in.load(i)))));
      break;
    }
    case SectionKind::Causal2: {
      RecState<Acc> s = zero_state<Acc>();
      s.y2 = c.ff0 * B(-2) + c.ff1 * B(-3) + c.ff2 * B(-4);                // y[-2]
      s.y1 = c.ff0 * B(-1) + c.ff1 * B(-2) + c.ff2 * B(-3) + c.fb1 * s.y2;  // y[-1]
      s.x1 = B(-1);
      s.x2 = B(-2);
      for (int i = 0; i < n; ++i) out.store(i, static_cast<Store>(recursive_step(c, s, static_cast<Acc>(in.load(i)))));
      break;
    }
    case SectionKind::AntiCausal1: {
      RecState<Acc> s = zero_state<Acc>();
      s.y1 = c.ff0 * B(ln) + c.ff1 * B(ln + 1);  // y[n] = b0·B(n) + b1·B(n+1)
      s.x1 = B(ln);                              // u[n] = B(n)
      for (int i = n - 1; i >= 0; --i)
        out.store(i, static_cast<Store>(recursive_step(c, s, static_cast<Acc>(in.load(i)))));
      break;
    }
    case SectionKind::DerichePair: {
      // Causal half into out.
      RecState<Acc> p = zero_state<Acc>();
      p.y2 = c.ff0 * B(-2) + c.ff1 * B(-3);                // yp[-2]
      p.y1 = c.ff0 * B(-1) + c.ff1 * B(-2) + c.fb1 * p.y2;  // yp[-1]
      p.x1 = B(-1);
      for (int i = 0; i < n; ++i)
        out.store(i, static_cast<Store>(deriche_causal_step(c, p, static_cast<Acc>(in.load(i)))));
      // Anti-causal half, added to the stored causal half on the way back.
      RecState<Acc> q = zero_state<Acc>();
      q.y2 = c.ff2 * B(ln + 1) + c.ff3 * B(ln + 2);                // yn[n+1]
      q.y1 = c.ff2 * B(ln) + c.ff3 * B(ln + 1) + c.fb1 * q.y2;     // yn[n]
      q.x1 = B(ln);                                                // x[n]
      q.x2 = B(ln + 1);                                            // x[n+1]
      for (int i = n - 1; i >= 0; --i) {
        const Store yn = static_cast<Store>(deriche_anticausal_step(c, q, static_cast<Acc>(in.load(i))));
        out.store(i, static_cast<Store>(static_cast<Acc>(out.load(i)) + static_cast<Acc>(yn)));
      }
      break;
    }
  }
}

/// A whole program with the iir2d warm-up: stage 0 from `in` to `out`, later
/// stages in place on `out`, each warming up from the borders of its own input.
template <typename Store, typename Acc, typename In, typename Out>
IIR2D_HD void run_iir2d_program(const ProgramCoef<Acc>& p, const In& in, const Out& out, int n, Border border,
                                Store constant) {
  iir2d_section<Store, Acc>(p.sec[0], in, out, n, border, constant);
IIR2D_UNROLL
  for (int k = 1; k < kMaxSections; ++k)
    if (k < p.num_sections) iir2d_section<Store, Acc>(p.sec[k], out, out, n, border, constant);
}

// ---------------------------------------------------------------------------
// exact initialisation (contract section 3a)
// ---------------------------------------------------------------------------

/**
 * A whole program with the exact initialisation: every stage over the
 * extended index range j in [0, n + 2L) (position j - L of the sequence),
 * zero state at both ends, output restricted to [0, n).
 *
 * `scratch` holds L Store values (ExactShape::CausalThenAnti only). `in` and
 * `out` must be different sequences.
 */
template <typename Store, typename Acc, typename In, typename Out, typename Scratch>
IIR2D_HD void run_exact_program(const ProgramCoef<Acc>& p, ExactShape shape, const In& in, const Out& out,
                                const Scratch& scratch, int n, int L, Border border, Store constant) {
  const BorderReader<Store, Acc, In> B{in, n, border, constant};
  const int right = L + n;  // first extended index right of the sequence
  const int total = n + 2 * L;

  if (shape == ExactShape::AllCausal) {
    // Outputs in [L, L+n) depend on inputs up to L+n-1 only.
    RecState<Acc> st[kMaxSections];
IIR2D_UNROLL
    for (int k = 0; k < kMaxSections; ++k) st[k] = zero_state<Acc>();
    for (int j = 0; j < right; ++j) {
      Store v = B.stored(static_cast<long long>(j) - L);
IIR2D_UNROLL
      for (int k = 0; k < kMaxSections; ++k)
        if (k < p.num_sections) v = static_cast<Store>(recursive_step(p.sec[k], st[k], static_cast<Acc>(v)));
      if (j >= L) out.store(j - L, v);
    }
    return;
  }

  if (shape == ExactShape::CausalThenAnti) {
    const int last = p.num_sections - 1;
    RecState<Acc> st[kMaxSections];
IIR2D_UNROLL
    for (int k = 0; k < kMaxSections; ++k) st[k] = zero_state<Acc>();
    // Causal stages over the whole extended range: [L, L+n) into out, the
    // right extension [L+n, n+2L) into scratch; the left one is not needed.
    for (int j = 0; j < total; ++j) {
      Store v = B.stored(static_cast<long long>(j) - L);
IIR2D_UNROLL
      for (int k = 0; k < kMaxSections; ++k)
        if (k < last) v = static_cast<Store>(recursive_step(p.sec[k], st[k], static_cast<Acc>(v)));
      if (j >= right)
        scratch.store(j - right, v);
      else if (j >= L)
        out.store(j - L, v);
    }
    // Anti-causal stage from the right end down to the sequence's first sample.
    RecState<Acc> a = zero_state<Acc>();
    for (int j = total - 1; j >= L; --j) {
      const Store u = j >= right ? scratch.load(j - right) : out.load(j - L);
      const Acc y = recursive_step(p.sec[last], a, static_cast<Acc>(u));
      if (j < right) out.store(j - L, static_cast<Store>(y));
    }
    return;
  }

  if (shape == ExactShape::DerichePair) {
    const SectionCoef<Acc>& c = p.sec[0];
    RecState<Acc> f = zero_state<Acc>();
    for (int j = 0; j < right; ++j) {
      const Acc y = deriche_causal_step(c, f, B(static_cast<long long>(j) - L));
      if (j >= L) out.store(j - L, static_cast<Store>(y));
    }
    RecState<Acc> a = zero_state<Acc>();
    for (int j = total - 1; j >= L; --j) {
      const Store yn = static_cast<Store>(deriche_anticausal_step(c, a, B(static_cast<long long>(j) - L)));
      if (j < right) out.store(j - L, static_cast<Store>(static_cast<Acc>(out.load(j - L)) + static_cast<Acc>(yn)));
    }
    return;
  }
}

/// One pass over one sequence (section 1), with the program's initialisation.
template <typename Store, typename Acc, typename In, typename Out, typename Scratch>
IIR2D_HD void run_program(const ProgramCoef<Acc>& p, BorderInit init, ExactShape shape, const In& in, const Out& out,
                          const Scratch& scratch, int n, int L, Border border, Store constant) {
  if (n <= 0) return;
  if (init == BorderInit::Iir2d)
    run_iir2d_program<Store, Acc>(p, in, out, n, border, constant);
  else
    run_exact_program<Store, Acc>(p, shape, in, out, scratch, n, L, border, constant);
}

}  // namespace iir2d::cuda::detail
