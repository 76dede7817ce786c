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

constexpr int kBlock = 256;  // columns per transposed block of the horizontal pass

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

  /* B(i) of the current buffer contents (iir2d warm-up; L == 0). */
  void border_value(long long i, Acc (&v)[K]) const {
    const long long m = border_index(i, n, job.border);
    if (m < 0) {
      for (int l = 0; l < K; ++l) v[l] = static_cast<Acc>(cst);
    } else {
      const Store* s = row(L + static_cast<int>(m));
      for (int l = 0; l < K; ++l) v[l] = static_cast<Acc>(s[l]);
    }
  }

  // ---- the sections of contract section 3, K sequences per step ----------

  void causal1(const Section& sec, int to) {
    const Acc c0 = static_cast<Acc>(sec.ff[0]), c1 = static_cast<Acc>(sec.ff[1]), a1 = static_cast<Acc>(sec.fb[0]);
    Acc yp[K], xp[K];
    if (job.init == BorderInit::Exact) {
      for (int l = 0; l < K; ++l) yp[l] = xp[l] = 0;
    } else {
      Acc b1[K], b2[K];
      border_value(-1, b1);
      border_value(-2, b2);
      for (int l = 0; l < K; ++l) {
        yp[l] = c0 * b1[l] + c1 * b2[l];
        xp[l] = b1[l];
      }
    }
    for (int j = 0; j < to; ++j) {
      Store* r = row(j);
      for (int l = 0; l < K; ++l) {
        const Acc xi = static_cast<Acc>(r[l]);
        const Acc yi = c0 * xi + c1 * xp[l] + a1 * yp[l];
        r[l] = static_cast<Store>(yi);
        yp[l] = yi;
        xp[l] = xi;
      }
    }
  }

  void causal2(const Section& sec, int to) {
    const Acc c0 = static_cast<Acc>(sec.ff[0]), c1 = static_cast<Acc>(sec.ff[1]), c2 = static_cast<Acc>(sec.ff[2]);
    const Acc a1 = static_cast<Acc>(sec.fb[0]), a2 = static_cast<Acc>(sec.fb[1]);
    Acc ym1[K], ym2[K], xm1[K], xm2[K];
    if (job.init == BorderInit::Exact) {
      for (int l = 0; l < K; ++l) ym1[l] = ym2[l] = xm1[l] = xm2[l] = 0;
    } else {
      Acc b1[K], b2[K], b3[K], b4[K];
      border_value(-1, b1);
      border_value(-2, b2);
      border_value(-3, b3);
      border_value(-4, b4);
      for (int l = 0; l < K; ++l) {
        ym2[l] = c0 * b2[l] + c1 * b3[l] + c2 * b4[l];
        ym1[l] = c0 * b1[l] + c1 * b2[l] + c2 * b3[l] + a1 * ym2[l];
        xm1[l] = b1[l];
        xm2[l] = b2[l];
      }
    }
    for (int j = 0; j < to; ++j) {
      Store* r = row(j);
      for (int l = 0; l < K; ++l) {
        const Acc xi = static_cast<Acc>(r[l]);
        const Acc yi = c0 * xi + c1 * xm1[l] + c2 * xm2[l] + a1 * ym1[l] + a2 * ym2[l];
        r[l] = static_cast<Store>(yi);
        ym2[l] = ym1[l];
        ym1[l] = yi;
        xm2[l] = xm1[l];
        xm1[l] = xi;
      }
    }
  }

  void anticausal1(const Section& sec, int lo) {
    const Acc c0 = static_cast<Acc>(sec.ff[0]), c1 = static_cast<Acc>(sec.ff[1]), a1 = static_cast<Acc>(sec.fb[0]);
    Acc yn[K], un[K];
    if (job.init == BorderInit::Exact) {
      for (int l = 0; l < K; ++l) yn[l] = un[l] = 0;
    } else {
      Acc b0[K], b1[K];
      border_value(n, b0);
      border_value(static_cast<long long>(n) + 1, b1);
      for (int l = 0; l < K; ++l) {
        yn[l] = c0 * b0[l] + c1 * b1[l];
        un[l] = b0[l];
      }
    }
    for (int j = hi - 1; j >= lo; --j) {
      Store* r = row(j);
      for (int l = 0; l < K; ++l) {
        const Acc ui = static_cast<Acc>(r[l]);
        const Acc yi = c0 * ui + c1 * un[l] + a1 * yn[l];
        r[l] = static_cast<Store>(yi);
        yn[l] = yi;
        un[l] = ui;
      }
    }
  }

  /* Deriche pair: the anti-causal part into tmp (rows [lo, hi)), then the
   * causal part, each stored as Store, summed into buf over [lo, to). */
  void deriche(const Section& sec, int lo, int to) {
    const Acc c0 = static_cast<Acc>(sec.ff[0]), c1 = static_cast<Acc>(sec.ff[1]);
    const Acc c2 = static_cast<Acc>(sec.ff[2]), c3 = static_cast<Acc>(sec.ff[3]);
    const Acc a1 = static_cast<Acc>(sec.fb[0]), a2 = static_cast<Acc>(sec.fb[1]);
    Acc p1[K], p2[K], xm1[K], q1[K], q2[K], xp1[K], xp2[K];
    if (job.init == BorderInit::Exact) {
      for (int l = 0; l < K; ++l) p1[l] = p2[l] = xm1[l] = q1[l] = q2[l] = xp1[l] = xp2[l] = 0;
    } else {
      Acc bm1[K], bm2[K], bm3[K], bn0[K], bn1[K], bn2[K];
      border_value(-1, bm1);
      border_value(-2, bm2);
      border_value(-3, bm3);
      border_value(n, bn0);
      border_value(static_cast<long long>(n) + 1, bn1);
      border_value(static_cast<long long>(n) + 2, bn2);
      for (int l = 0; l < K; ++l) {
        p2[l] = c0 * bm2[l] + c1 * bm3[l];
        p1[l] = c0 * bm1[l] + c1 * bm2[l] + a1 * p2[l];
        xm1[l] = bm1[l];
        q2[l] = c2 * bn1[l] + c3 * bn2[l];
        q1[l] = c2 * bn0[l] + c3 * bn1[l] + a1 * q2[l];
        xp1[l] = bn0[l];
        xp2[l] = bn1[l];
      }
    }
    for (int j = hi - 1; j >= lo; --j) {
      const Store* r = row(j);
      Store* t = tmp + static_cast<size_t>(j) * K;
      for (int l = 0; l < K; ++l) {
        const Acc v = c2 * xp1[l] + c3 * xp2[l] + a1 * q1[l] + a2 * q2[l];
        t[l] = static_cast<Store>(v);
        q2[l] = q1[l];
        q1[l] = v;
        xp2[l] = xp1[l];
        xp1[l] = static_cast<Acc>(r[l]);
      }
    }
    for (int j = 0; j < lo; ++j) {  // warm-up of the causal part, no output needed
      const Store* r = row(j);
      for (int l = 0; l < K; ++l) {
        const Acc xi = static_cast<Acc>(r[l]);
        const Acc v = c0 * xi + c1 * xm1[l] + a1 * p1[l] + a2 * p2[l];
        p2[l] = p1[l];
        p1[l] = v;
        xm1[l] = xi;
      }
    }
    for (int j = lo; j < to; ++j) {
      Store* r = row(j);
      const Store* t = tmp + static_cast<size_t>(j) * K;
      for (int l = 0; l < K; ++l) {
        const Acc xi = static_cast<Acc>(r[l]);
        const Acc v = c0 * xi + c1 * xm1[l] + a1 * p1[l] + a2 * p2[l];
        const Store yp = static_cast<Store>(v);
        r[l] = static_cast<Store>(static_cast<Acc>(yp) + static_cast<Acc>(t[l]));
        p2[l] = p1[l];
        p1[l] = v;
        xm1[l] = xi;
      }
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
  Store line[kBlock];
  for (int x0 = 0; x0 < n; x0 += kBlock) {
    const int cnt = n - x0 < kBlock ? n - x0 : kBlock;
    for (int r = 0; r < K; ++r) {
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
      Store* d = t.row(L + x0) + r;
      for (int x = 0; x < cnt; ++x) d[static_cast<size_t>(x) * K] = line[x];
    }
  }
  t.fill_borders();
  t.run_program();
  for (int x0 = 0; x0 < n; x0 += kBlock) {
    const int cnt = n - x0 < kBlock ? n - x0 : kBlock;
    for (int r = 0; r < k; ++r) {
      Store* d = at_bytes(static_cast<Store*>(job.mid), (r0 + r) * job.mid_stride) + x0;
      const Store* s = t.row(L + x0) + r;
      for (int x = 0; x < cnt; ++x) d[x] = s[static_cast<size_t>(x) * K];
    }
  }
}

template <typename Store, typename Acc, int K>
void vertical_task(const Job& job, int task, const Scratch& scratch) {
  Task<Store, Acc, K> t(job, job.height, scratch);
  const int c0 = task * K;
  const int k = job.width - c0 < K ? job.width - c0 : K;
  const int n = job.height, L = t.L;
  for (int i = 0; i < n; ++i) {
    const Store* s = at_bytes(static_cast<const Store*>(job.mid), i * job.mid_stride) + c0;
    Store* d = t.row(L + i);
    if (k == K) {
      for (int l = 0; l < K; ++l) d[l] = s[l];
    } else {
      for (int l = 0; l < K; ++l) d[l] = l < k ? s[l] : Store(0);
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
  Store x[K] = {};
  Acc o[K];
  int codes[K];
  for (int i = 0; i < n; ++i) {
    const Store* f = t.row(L + i);
    load_codes<Store>(v, v.in + static_cast<ptrdiff_t>(i) * v.in_row + static_cast<ptrdiff_t>(c0) * v.in_px, k, x);
    for (int l = 0; l < K; ++l) o[l] = s * static_cast<Acc>(f[l]) + one_minus_s * static_cast<Acc>(x[l]);
    for (int l = 0; l < K; ++l) codes[l] = quantize_code(static_cast<double>(o[l]), maxv);
    store_codes(v, v.out + static_cast<ptrdiff_t>(i) * v.out_row + static_cast<ptrdiff_t>(c0) * v.out_px, k, codes);
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
