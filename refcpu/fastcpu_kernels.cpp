// SPDX-License-Identifier: MIT
// The fast CPU path's kernels (fastcpu_detail.h): one task of the horizontal
// or vertical pass of docs/FILTER_CONTRACT.md over K sequences at once, the
// K sequences side by side in the lanes of a strip buffer held in cache.
//
// Compiled once per instruction set (meson: IIR2D_FASTCPU_ISA names the
// namespace); the lane loops below are plain loops over a compile-time K
// that the compiler vectorises (checked with -fopt-info-vec, see
// docs/PERFORMANCE.md "CPU path"). No intrinsics.
//
// A task:
//  1. materialises its K sequences into `buf`, row j (K Store values, one
//     per sequence) holding extended position j - L: the interior from the
//     source (the horizontal pass transposes a band of K rows in blocks of
//     256 columns, converting integer codes to x = v / max on the way; the
//     vertical pass copies K columns of the intermediate per row), then the
//     border rows [0, L) and [L+n, hi) from the interior by the border rule
//     (contract section 2), or the constant;
//  2. runs the program's sections in place, each over the range the later
//     stages and the output need, in the contract's order of operations:
//     `exact` from a zero state at the ends of the extended range (section
//     3a, as refcpu), `iir2d` (L = 0) from the warm-up formulas of section 3
//     evaluated on the stage's own stored input;
//  3. emits rows [L, L+n): into the intermediate plane (horizontal), or
//     blended with the input and quantised into the output samples, or into
//     a Store plane (vertical).
#include <cstring>

#include "fastcpu_detail.h"

#ifndef IIR2D_FASTCPU_ISA
#define IIR2D_FASTCPU_ISA generic
#endif

namespace iir2d::fastcpu::detail {
namespace IIR2D_FASTCPU_ISA {
namespace {

using std::ptrdiff_t;
using std::size_t;

template <typename T>
inline T* at_bytes(T* p, ptrdiff_t bytes) {
  return reinterpret_cast<T*>(reinterpret_cast<unsigned char*>(const_cast<void*>(static_cast<const void*>(p))) + bytes);
}

/* K elements of T as one GCC/Clang vector. */
template <typename T, int K>
struct Vec {
  typedef T type __attribute__((vector_size(sizeof(T) * K)));
};

#if defined(__AVX__)
constexpr int kNativeBytes = 32;
#else
constexpr int kNativeBytes = 16;
#endif

constexpr int kPrefetchRows = 16;  // rows ahead that the vertical pass prefetches  // columns per transposed block of the horizontal pass

template <typename Store, typename Acc, int K>
struct Task {
  const Job& job;
  int n = 0;   // sequence length
  int L = 0;   // extension (exact) or 0 (iir2d)
  int hi = 0;  // materialised rows [0, hi)
  Store* buf = nullptr;
  Store* tmp = nullptr;
  Store cst = 0;

  Task(const Job& j, int length, const Scratch& s) : job(j), n(length) {
    L = j.init == BorderInit::Exact ? j.ext : 0;
    bool backward = false;
    for (int k = 0; k < j.num_sections; ++k)
      backward = backward || j.sections[k].kind == SectionKind::AntiCausal1 ||
                 j.sections[k].kind == SectionKind::DerichePair;
    hi = n + L + (backward ? L : 0);
    buf = static_cast<Store*>(s.a);
    tmp = static_cast<Store*>(s.b);
    cst = static_cast<Store>(j.constant);
  }

  Store* row(int j) const { return buf + static_cast<size_t>(j) * K; }

  /* Rows outside the interior [L, L+n), from the interior by the border rule. */
  void fill_borders() {
    auto fill = [&](int j) {
      const long long m = border_index(static_cast<long long>(j) - L, n, job.border);
      Store* d = row(j);
      if (m < 0) {
        for (int l = 0; l < K; ++l) d[l] = cst;
      } else {
        const Store* s = row(L + static_cast<int>(m));
        for (int l = 0; l < K; ++l) d[l] = s[l];
      }
    };
    for (int j = 0; j < L; ++j) fill(j);
    for (int j = L + n; j < hi; ++j) fill(j);
  }

  /* One buffer row of K lanes in Acc, as G native SIMD vectors of NA lanes
   * (32-byte vectors with AVX, 16-byte ones otherwise). */
  static constexpr int NA = kNativeBytes / static_cast<int>(sizeof(Acc)) < K ? kNativeBytes / static_cast<int>(sizeof(Acc)) : K;
  static constexpr int G = K / NA;
  using VA = typename Vec<Acc, NA>::type;
  using VS = typename Vec<Store, NA>::type;
  struct R {
    VA v[G];
    friend R operator+(R a, const R& b) {
      for (int g = 0; g < G; ++g) a.v[g] += b.v[g];
      return a;
    }
    friend R operator*(Acc c, R a) {
      for (int g = 0; g < G; ++g) a.v[g] *= c;
      return a;
    }
  };

  R load(const Store* p) const {
    R r;
    for (int g = 0; g < G; ++g) {
      VS v;
      __builtin_memcpy(&v, p + g * NA, sizeof v);
      r.v[g] = __builtin_convertvector(v, VA);
    }
    return r;
  }
  void store(Store* p, const R& a) const {
    for (int g = 0; g < G; ++g) {
      const VS v = __builtin_convertvector(a.v[g], VS);
      __builtin_memcpy(p + g * NA, &v, sizeof v);
    }
  }
  /* Rounds to Store and back: the stored value as the recursion reads it. */
  R stored(R a) const {
    for (int g = 0; g < G; ++g) a.v[g] = __builtin_convertvector(__builtin_convertvector(a.v[g], VS), VA);
    return a;
  }
  static R splat(Acc c) {
    R r;
    for (int g = 0; g < G; ++g) {
      VA z = {};
      r.v[g] = z + c;
    }
    return r;
  }

  /* B(i) of the current buffer contents (iir2d warm-up; L == 0). */
  R border_value(long long i) const {
    const long long m = border_index(i, n, job.border);
    if (m < 0) return splat(static_cast<Acc>(cst));
    return load(row(L + static_cast<int>(m)));
  }

  // ---- the sections of contract section 3, K sequences per step ----------
  // Each line is the contract's expression in its order of operations, on K
  // lanes at once (GCC/Clang vector extensions: element-wise IEEE
  // operations, lowered to the target's SIMD instructions).

  void causal1(const Section& sec, int to) {
    const Acc c0 = static_cast<Acc>(sec.ff[0]), c1 = static_cast<Acc>(sec.ff[1]), a1 = static_cast<Acc>(sec.fb[0]);
    R yp{}, xp{};
    if (job.init != BorderInit::Exact) {
      const R b1 = border_value(-1), b2 = border_value(-2);
      yp = c0 * b1 + c1 * b2;
      xp = b1;
    }
    for (int j = 0; j < to; ++j) {
      Store* r = row(j);
      const R xi = load(r);
      const R yi = c0 * xi + c1 * xp + a1 * yp;
      store(r, yi);
      yp = yi;
      xp = xi;
    }
  }

  void causal2(const Section& sec, int to) {
    const Acc c0 = static_cast<Acc>(sec.ff[0]), c1 = static_cast<Acc>(sec.ff[1]), c2 = static_cast<Acc>(sec.ff[2]);
    const Acc a1 = static_cast<Acc>(sec.fb[0]), a2 = static_cast<Acc>(sec.fb[1]);
    R ym1{}, ym2{}, xm1{}, xm2{};
    if (job.init != BorderInit::Exact) {
      const R b1 = border_value(-1), b2 = border_value(-2), b3 = border_value(-3), b4 = border_value(-4);
      ym2 = c0 * b2 + c1 * b3 + c2 * b4;
      ym1 = c0 * b1 + c1 * b2 + c2 * b3 + a1 * ym2;
      xm1 = b1;
      xm2 = b2;
    }
    for (int j = 0; j < to; ++j) {
      Store* r = row(j);
      const R xi = load(r);
      const R yi = c0 * xi + c1 * xm1 + c2 * xm2 + a1 * ym1 + a2 * ym2;
      store(r, yi);
      ym2 = ym1;
      ym1 = yi;
      xm2 = xm1;
      xm1 = xi;
    }
  }

  void anticausal1(const Section& sec, int lo) {
    const Acc c0 = static_cast<Acc>(sec.ff[0]), c1 = static_cast<Acc>(sec.ff[1]), a1 = static_cast<Acc>(sec.fb[0]);
    R yn{}, un{};
    if (job.init != BorderInit::Exact) {
      const R b0 = border_value(n), b1 = border_value(static_cast<long long>(n) + 1);
      yn = c0 * b0 + c1 * b1;
      un = b0;
    }
    for (int j = hi - 1; j >= lo; --j) {
      Store* r = row(j);
      const R ui = load(r);
      const R yi = c0 * ui + c1 * un + a1 * yn;
      store(r, yi);
      yn = yi;
      un = ui;
    }
  }

  /* Deriche pair: the anti-causal part into tmp (rows [lo, hi)), then the
   * causal part, each stored as Store, summed into buf over [lo, to). */
  void deriche(const Section& sec, int lo, int to) {
    const Acc c0 = static_cast<Acc>(sec.ff[0]), c1 = static_cast<Acc>(sec.ff[1]);
    const Acc c2 = static_cast<Acc>(sec.ff[2]), c3 = static_cast<Acc>(sec.ff[3]);
    const Acc a1 = static_cast<Acc>(sec.fb[0]), a2 = static_cast<Acc>(sec.fb[1]);
    R p1{}, p2{}, xm1{}, q1{}, q2{}, xp1{}, xp2{};
    if (job.init != BorderInit::Exact) {
      const R bm1 = border_value(-1), bm2 = border_value(-2), bm3 = border_value(-3);
      const R bn0 = border_value(n), bn1 = border_value(static_cast<long long>(n) + 1),
              bn2 = border_value(static_cast<long long>(n) + 2);
      p2 = c0 * bm2 + c1 * bm3;
      p1 = c0 * bm1 + c1 * bm2 + a1 * p2;
      xm1 = bm1;
      q2 = c2 * bn1 + c3 * bn2;
      q1 = c2 * bn0 + c3 * bn1 + a1 * q2;
      xp1 = bn0;
      xp2 = bn1;
    }
    for (int j = hi - 1; j >= lo; --j) {
      const R v = c2 * xp1 + c3 * xp2 + a1 * q1 + a2 * q2;
      store(tmp + static_cast<size_t>(j) * K, v);
      q2 = q1;
      q1 = v;
      xp2 = xp1;
      xp1 = load(row(j));
    }
    for (int j = 0; j < lo; ++j) {  // warm-up of the causal part, no output needed
      const R xi = load(row(j));
      const R v = c0 * xi + c1 * xm1 + a1 * p1 + a2 * p2;
      p2 = p1;
      p1 = v;
      xm1 = xi;
    }
    for (int j = lo; j < to; ++j) {
      Store* r = row(j);
      const R xi = load(r);
      const R v = c0 * xi + c1 * xm1 + a1 * p1 + a2 * p2;
      store(r, stored(v) + load(tmp + static_cast<size_t>(j) * K));
      p2 = p1;
      p1 = v;
      xm1 = xi;
    }
  }

  /* Every section in cascade; the last one only over what the output needs. */
  void run_program() {
    for (int k = 0; k < job.num_sections; ++k) {
      const Section& sec = job.sections[k];
      const bool last = k == job.num_sections - 1;
      const int to = last ? L + n : hi;
      const int lo = last ? L : 0;
      switch (sec.kind) {
        case SectionKind::Causal1: causal1(sec, to); break;
        case SectionKind::Causal2: causal2(sec, to); break;
        case SectionKind::AntiCausal1: anticausal1(sec, lo); break;
        case SectionKind::DerichePair: deriche(sec, lo, to); break;
      }
    }
  }
};

// ---- the two passes -----------------------------------------------------------

template <typename Store, typename Acc, int K>
void horizontal_task(const Job& job, int task, const Scratch& scratch) {
  Task<Store, Acc, K> t(job, job.width, scratch);
  const int r0 = task * K;
  const int k = job.height - r0 < K ? job.height - r0 : K;
  const int n = job.width, L = t.L;
  // K rows of kBlock columns converted into `lines` (Store, in the second
  // scratch buffer, free until the program runs), then transposed in
  // blocks of K columns into buffer rows.
  Store* lines = t.tmp;
  for (int x0 = 0; x0 < n; x0 += kBlock) {
    const int cnt = n - x0 < kBlock ? n - x0 : kBlock;
    for (int r = 0; r < K; ++r) {
      Store* line = lines + static_cast<size_t>(r) * kBlock;
      if (r < k) {
        if (job.src_video) {
          const unsigned char* p = job.video.in + static_cast<ptrdiff_t>(r0 + r) * job.video.in_row +
                                   static_cast<ptrdiff_t>(x0) * job.video.in_px;
          load_codes<Store>(job.video, p, cnt, line);
        } else {
          const Store* q = at_bytes(static_cast<const Store*>(job.src_plane), (r0 + r) * job.src_stride) + x0;
          for (int x = 0; x < cnt; ++x) line[x] = q[x];
        }
      } else {
        for (int x = 0; x < cnt; ++x) line[x] = 0;
      }
    }
    int xb = 0;
    for (; xb + K <= cnt; xb += K)
      for (int x = 0; x < K; ++x) {
        Store* d = t.row(L + x0 + xb + x);
        for (int r = 0; r < K; ++r) d[r] = lines[r * kBlock + xb + x];
      }
    for (; xb < cnt; ++xb) {
      Store* d = t.row(L + x0 + xb);
      for (int r = 0; r < K; ++r) d[r] = lines[r * kBlock + xb];
    }
  }
  t.fill_borders();
  t.run_program();
  // The band's rows as they are in the buffer (column after column, the
  // K rows side by side): the vertical pass transposes them back.
  std::memcpy(at_bytes(static_cast<Store*>(job.mid), task * job.mid_stride), t.row(L),
              sizeof(Store) * K * static_cast<size_t>(n));
}

/* One row of K lanes of the vertical pass's output, contract section 5:
 * x = v / max (Store), o = s·f + (1-s)·x (Acc), round(o·max) half away from
 * zero clamped (double, quantize_code's steps), written shifted. Straight
 * loops over K that the compiler vectorises (samples of type T, packed). */
template <typename Store, typename Acc, int K, bool kFull, typename T>
inline void blend_row(const Store* f, const T* in, T* out, const Samples& v, Acc s, Acc one_minus_s, double maxv) {
  constexpr int N = kNativeBytes / 8;  // lanes of a native double vector
  using VI = typename Vec<int, N>::type;
  using VSt = typename Vec<Store, N>::type;
  using VAc = typename Vec<Acc, N>::type;
  using VD = typename Vec<double, N>::type;
  using VL = typename Vec<long long, N>::type;
  const int shift = v.shift;
  const int mask = static_cast<int>((1u << v.depth) - 1u);
  const Store maxs = static_cast<Store>(maxv);
  int wide[K], codes[K];
  if constexpr (!kFull)
    for (int l = 0; l < K; ++l) wide[l] = in[l];  // a widening loop the compiler vectorises
  for (int g = 0; g < K; g += N) {
    VSt fs;
    __builtin_memcpy(&fs, f + g, sizeof fs);
    VAc o;
    if constexpr (kFull) {
      // strength 1: s·f + 0·x is f exactly (x is finite), x is not needed.
      o = __builtin_convertvector(fs, VAc);
      (void)in;
    } else {
        VI code;
      __builtin_memcpy(&code, wide + g, sizeof code);
      code = (code >> shift) & mask;
      const VSt x = __builtin_convertvector(code, VSt) / maxs;
      o = s * __builtin_convertvector(fs, VAc) + one_minus_s * __builtin_convertvector(x, VAc);
    }
    VD t = __builtin_convertvector(o, VD) * maxv;
    const VD zero = {};
    const VD top = zero + maxv;
    t = t > zero ? t : zero;
    t = t < top ? t : top;
    VI q;
    if constexpr (sizeof(Acc) == 4) {
      // A float32 o times max (< 2^16) is exact in double and so is t + 0.5:
      // truncating it rounds half away from zero (t >= 0).
      q = __builtin_convertvector(t + 0.5, VI);
    } else {
      q = __builtin_convertvector(t, VI);
      const VL up = (t - __builtin_convertvector(q, VD)) >= 0.5;  // -1 where the fraction rounds up
      q -= __builtin_convertvector(up, VI);
    }
    __builtin_memcpy(codes + g, &q, sizeof q);
  }
  for (int l = 0; l < K; ++l) out[l] = static_cast<T>(codes[l] << shift);  // a narrowing loop the compiler packs
}

/* The same for any layout and a partial strip (k lanes). */
template <typename Store, typename Acc, int K>
void blend_row_any(const Store* f, const unsigned char* src, unsigned char* dst, int k, const Samples& v, Acc s,
                   Acc one_minus_s, double maxv) {
  Store x[K] = {};
  int codes[K];
  load_codes<Store>(v, src, k, x);
  for (int l = 0; l < k; ++l)
    codes[l] = quantize_code(static_cast<double>(s * static_cast<Acc>(f[l]) + one_minus_s * static_cast<Acc>(x[l])), maxv);
  store_codes(v, dst, k, codes);
}

template <typename Store, typename Acc, int K>
void vertical_task(const Job& job, int task, const Scratch& scratch) {
  Task<Store, Acc, K> t(job, job.height, scratch);
  const int c0 = task * K;
  const int k = job.width - c0 < K ? job.width - c0 : K;
  const int n = job.height, L = t.L;
  // The strip of each band is one contiguous K×K block of the intermediate
  // (column c0 + l, row lane r at [l*K + r]): transposed into buffer rows.
  for (int b = 0; b * K < n; ++b) {
    const Store* blk = at_bytes(static_cast<const Store*>(job.mid), b * job.mid_stride) + static_cast<size_t>(c0) * K;
    const int rows = n - b * K < K ? n - b * K : K;
    if (k == K && rows == K) {
      for (int r = 0; r < K; ++r) {
        Store* d = t.row(L + b * K + r);
        for (int l = 0; l < K; ++l) d[l] = blk[l * K + r];
      }
    } else {
      for (int r = 0; r < rows; ++r) {
        Store* d = t.row(L + b * K + r);
        for (int l = 0; l < K; ++l) d[l] = l < k ? blk[l * K + r] : Store(0);
      }
    }
  }
  t.fill_borders();
  t.run_program();
  if (!job.sink_video) {
    for (int i = 0; i < n; ++i) {
      Store* d = at_bytes(static_cast<Store*>(job.dst_plane), i * job.dst_stride) + c0;
      const Store* f = t.row(L + i);
      for (int l = 0; l < k; ++l) d[l] = f[l];
    }
    return;
  }
  // o = s·f + (1-s)·x in Acc, quantised (contract section 5).
  const Samples& v = job.video;
  const Acc s = static_cast<Acc>(job.strength);
  const Acc one_minus_s = static_cast<Acc>(1) - s;
  const double maxv = static_cast<double>((1u << v.depth) - 1u);
  const bool full = job.strength == 1.0;
  const bool fast_u8 = !v.u16 && v.in_px == 1 && v.out_px == 1 && k == K;
  const bool fast_u16 = v.u16 && v.in_px == 2 && v.out_px == 2 && k == K &&
                        ((reinterpret_cast<std::uintptr_t>(v.in) | reinterpret_cast<std::uintptr_t>(v.out) |
                          static_cast<std::uintptr_t>(v.in_row) | static_cast<std::uintptr_t>(v.out_row)) & 1u) == 0;
  for (int i = 0; i < n; ++i) {
    const Store* f = t.row(L + i);
    const unsigned char* src = v.in + static_cast<ptrdiff_t>(i) * v.in_row + static_cast<ptrdiff_t>(c0) * v.in_px;
    unsigned char* dst = v.out + static_cast<ptrdiff_t>(i) * v.out_row + static_cast<ptrdiff_t>(c0) * v.out_px;
    const auto* src16 = reinterpret_cast<const std::uint16_t*>(src);
    auto* dst16 = reinterpret_cast<std::uint16_t*>(dst);
    if (fast_u8 && full)
      blend_row<Store, Acc, K, true>(f, src, dst, v, s, one_minus_s, maxv);
    else if (fast_u8)
      blend_row<Store, Acc, K, false>(f, src, dst, v, s, one_minus_s, maxv);
    else if (fast_u16 && full)
      blend_row<Store, Acc, K, true>(f, src16, dst16, v, s, one_minus_s, maxv);
    else if (fast_u16)
      blend_row<Store, Acc, K, false>(f, src16, dst16, v, s, one_minus_s, maxv);
    else
      blend_row_any<Store, Acc, K>(f, src, dst, k, v, s, one_minus_s, maxv);
  }
}

void horizontal(const Job& job, int task, const Scratch& scratch) {
  switch (job.precision) {
    case Precision::F32: horizontal_task<float, float, lanes_for(Precision::F32)>(job, task, scratch); break;
    case Precision::Mixed: horizontal_task<float, double, lanes_for(Precision::Mixed)>(job, task, scratch); break;
    case Precision::F64: horizontal_task<double, double, lanes_for(Precision::F64)>(job, task, scratch); break;
  }
}

void vertical(const Job& job, int task, const Scratch& scratch) {
  switch (job.precision) {
    case Precision::F32: vertical_task<float, float, lanes_for(Precision::F32)>(job, task, scratch); break;
    case Precision::Mixed: vertical_task<float, double, lanes_for(Precision::Mixed)>(job, task, scratch); break;
    case Precision::F64: vertical_task<double, double, lanes_for(Precision::F64)>(job, task, scratch); break;
  }
}

}  // namespace

#define IIR2D_FASTCPU_STR2(x) #x
#define IIR2D_FASTCPU_STR(x) IIR2D_FASTCPU_STR2(x)
extern const Kernels kKernels;
const Kernels kKernels = {IIR2D_FASTCPU_STR(IIR2D_FASTCPU_ISA), &horizontal, &vertical};

}  // namespace IIR2D_FASTCPU_ISA
}  // namespace iir2d::fastcpu::detail
