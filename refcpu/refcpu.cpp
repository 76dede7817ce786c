// SPDX-License-Identifier: MIT
// CPU reference of docs/FILTER_CONTRACT.md. Each function below
// names the contract section it implements; the arithmetic follows the
// contract's equations in their written order.
#include "iir2d/refcpu.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

namespace iir2d::ref {
namespace {

// ---------------------------------------------------------------------------
// One section over a contiguous sequence u[0..n-1] (Store values), writing
// y[0..n-1] (Store). Arithmetic and recursion state in Acc (section 4: f32 ->
// float, mixed and f64 -> double). `B(i)` is the border rule applied to u.
// ---------------------------------------------------------------------------

// Section 3, "iir2d" warm-up: the recursion starts from the formulas that name
// B(-1), B(-2), ... (or B(n), B(n+1), ... for the anti-causal direction).
template <typename Store, typename Acc>
void run_section_iir2d(const Section& s, const Store* u, Store* y, int n, Border border, Store constant) {
  auto get = [u](int k) { return u[k]; };
  auto B = [&](long long i) -> Acc { return static_cast<Acc>(border_sample<Store>(get, n, i, border, constant)); };
  const Acc c0 = static_cast<Acc>(s.ff[0]), c1 = static_cast<Acc>(s.ff[1]);
  const Acc c2 = static_cast<Acc>(s.ff[2]), c3 = static_cast<Acc>(s.ff[3]);
  const Acc a1 = static_cast<Acc>(s.fb[0]), a2 = static_cast<Acc>(s.fb[1]);

  switch (s.kind) {
    case SectionKind::Causal1: {
      // y[-1] = b0·B(-1) + b1·B(-2);  x[-1] = B(-1)
      Acc yp = c0 * B(-1) + c1 * B(-2);
      Acc xp = B(-1);
      for (int i = 0; i < n; ++i) {
        const Acc xi = static_cast<Acc>(u[i]);
        const Acc yi = c0 * xi + c1 * xp + a1 * yp;
        y[i] = static_cast<Store>(yi);
        yp = yi;
        xp = xi;
      }
      break;
    }
    case SectionKind::Causal2: {
      // y[-2] = b0·B(-2) + b1·B(-3) + b2·B(-4)
      // y[-1] = b0·B(-1) + b1·B(-2) + b2·B(-3) + a1·y[-2]
      Acc ym2 = c0 * B(-2) + c1 * B(-3) + c2 * B(-4);
      Acc ym1 = c0 * B(-1) + c1 * B(-2) + c2 * B(-3) + a1 * ym2;
      Acc xm1 = B(-1), xm2 = B(-2);
      for (int i = 0; i < n; ++i) {
        const Acc xi = static_cast<Acc>(u[i]);
        const Acc yi = c0 * xi + c1 * xm1 + c2 * xm2 + a1 * ym1 + a2 * ym2;
        y[i] = static_cast<Store>(yi);
        ym2 = ym1;
        ym1 = yi;
        xm2 = xm1;
        xm1 = xi;
      }
      break;
    }
    case SectionKind::AntiCausal1: {
      // y[n] = b0·B(n) + b1·B(n+1);  u[n] = B(n)
      Acc yn = c0 * B(n) + c1 * B(static_cast<long long>(n) + 1);
      Acc un = B(n);
      for (int i = n - 1; i >= 0; --i) {
        const Acc ui = static_cast<Acc>(u[i]);
        const Acc yi = c0 * ui + c1 * un + a1 * yn;
        y[i] = static_cast<Store>(yi);
        yn = yi;
        un = ui;
      }
      break;
    }
    case SectionKind::DerichePair: {
      // ff = {a0, a1, a2, a3}, fb = {b1, b2} (section 3, Deriche pair).
      std::vector<Store> yp(static_cast<std::size_t>(n)), yn(static_cast<std::size_t>(n));
      {
        // yp[-2] = a0·B(-2) + a1·B(-3);  yp[-1] = a0·B(-1) + a1·B(-2) + b1·yp[-2]
        Acc p2 = c0 * B(-2) + c1 * B(-3);
        Acc p1 = c0 * B(-1) + c1 * B(-2) + a1 * p2;
        Acc xm1 = B(-1);
        for (int i = 0; i < n; ++i) {
          const Acc xi = static_cast<Acc>(u[i]);
          const Acc v = c0 * xi + c1 * xm1 + a1 * p1 + a2 * p2;
          yp[static_cast<std::size_t>(i)] = static_cast<Store>(v);
          p2 = p1;
          p1 = v;
          xm1 = xi;
        }
      }
      {
        // yn[n+1] = a2·B(n+1) + a3·B(n+2);  yn[n] = a2·B(n) + a3·B(n+1) + b1·yn[n+1]
        const long long ln = n;
        Acc q2 = c2 * B(ln + 1) + c3 * B(ln + 2);
        Acc q1 = c2 * B(ln) + c3 * B(ln + 1) + a1 * q2;
        // x[n] = B(n), x[n+1] = B(n+1)
        Acc xp1 = B(ln), xp2 = B(ln + 1);
        for (int i = n - 1; i >= 0; --i) {
          const Acc v = c2 * xp1 + c3 * xp2 + a1 * q1 + a2 * q2;
          yn[static_cast<std::size_t>(i)] = static_cast<Store>(v);
          q2 = q1;
          q1 = v;
          xp2 = xp1;
          xp1 = static_cast<Acc>(u[i]);
        }
      }
      for (int i = 0; i < n; ++i) {
        const auto k = static_cast<std::size_t>(i);
        y[i] = static_cast<Store>(static_cast<Acc>(yp[k]) + static_cast<Acc>(yn[k]));
      }
      break;
    }
  }
}

// Section 3a, "exact": the same recursions on the whole extended sequence e[0..N)
// (e[j] = B(j - L)), starting from a zero state (inputs and outputs) outside
// [0, N) at both ends. Writes the section's output over the whole range.
template <typename Store, typename Acc>
void run_section_zero_state(const Section& s, const Store* e, Store* y, int N) {
  const Acc c0 = static_cast<Acc>(s.ff[0]), c1 = static_cast<Acc>(s.ff[1]);
  const Acc c2 = static_cast<Acc>(s.ff[2]), c3 = static_cast<Acc>(s.ff[3]);
  const Acc a1 = static_cast<Acc>(s.fb[0]), a2 = static_cast<Acc>(s.fb[1]);
  const Acc zero = 0;
  switch (s.kind) {
    case SectionKind::Causal1: {
      Acc yp = zero, xp = zero;
      for (int j = 0; j < N; ++j) {
        const Acc xj = static_cast<Acc>(e[j]);
        const Acc yj = c0 * xj + c1 * xp + a1 * yp;
        y[j] = static_cast<Store>(yj);
        yp = yj;
        xp = xj;
      }
      break;
    }
    case SectionKind::Causal2: {
      Acc ym1 = zero, ym2 = zero, xm1 = zero, xm2 = zero;
      for (int j = 0; j < N; ++j) {
        const Acc xj = static_cast<Acc>(e[j]);
        const Acc yj = c0 * xj + c1 * xm1 + c2 * xm2 + a1 * ym1 + a2 * ym2;
        y[j] = static_cast<Store>(yj);
        ym2 = ym1;
        ym1 = yj;
        xm2 = xm1;
        xm1 = xj;
      }
      break;
    }
    case SectionKind::AntiCausal1: {
      Acc yn = zero, un = zero;
      for (int j = N - 1; j >= 0; --j) {
        const Acc uj = static_cast<Acc>(e[j]);
        const Acc yj = c0 * uj + c1 * un + a1 * yn;
        y[j] = static_cast<Store>(yj);
        yn = yj;
        un = uj;
      }
      break;
    }
    case SectionKind::DerichePair: {
      std::vector<Store> yp(static_cast<std::size_t>(N)), yn(static_cast<std::size_t>(N));
      Acc p1 = zero, p2 = zero, xm1 = zero;
      for (int j = 0; j < N; ++j) {
        const Acc xj = static_cast<Acc>(e[j]);
        const Acc v = c0 * xj + c1 * xm1 + a1 * p1 + a2 * p2;
        yp[static_cast<std::size_t>(j)] = static_cast<Store>(v);
        p2 = p1;
        p1 = v;
        xm1 = xj;
      }
      Acc q1 = zero, q2 = zero, xp1 = zero, xp2 = zero;
      for (int j = N - 1; j >= 0; --j) {
        const Acc v = c2 * xp1 + c3 * xp2 + a1 * q1 + a2 * q2;
        yn[static_cast<std::size_t>(j)] = static_cast<Store>(v);
        q2 = q1;
        q1 = v;
        xp2 = xp1;
        xp1 = static_cast<Acc>(e[j]);
      }
      for (int j = 0; j < N; ++j) {
        const auto k = static_cast<std::size_t>(j);
        y[j] = static_cast<Store>(static_cast<Acc>(yp[k]) + static_cast<Acc>(yn[k]));
      }
      break;
    }
  }
}

void check_params(const FilterParams& p) {
  if (!is_valid_filter_id(p.filter_id))
    throw std::invalid_argument("refcpu: filter id " + std::to_string(p.filter_id) + " is outside 1..8");
  if (!(p.sigma > 0.0)) throw std::invalid_argument("refcpu: sigma must be > 0");
  switch (p.border) {
    case Border::Clamp: case Border::Mirror: case Border::Wrap: case Border::Constant: break;
    default: throw std::invalid_argument("refcpu: unknown border mode");
  }
  switch (p.border_init) {
    case BorderInit::Exact: case BorderInit::Iir2d: break;
    default: throw std::invalid_argument("refcpu: unknown border initialisation");
  }
}

// One pass (section 1) over one sequence with Store storage and Acc state.
template <typename Store, typename Acc>
void run_program(const Store* x, Store* y, int n, std::ptrdiff_t step, const FilterParams& params) {
  if (n <= 0) return;
  const Program prog = make_program(params);
  const Store constant = static_cast<Store>(params.border_constant);
  const auto un = static_cast<std::size_t>(n);

  if (params.border_init == BorderInit::Iir2d) {
    // Each stage warms up from the borders of its own (stored) input.
    std::vector<Store> cur(un), next(un);
    for (int i = 0; i < n; ++i) cur[static_cast<std::size_t>(i)] = x[static_cast<std::ptrdiff_t>(i) * step];
    for (int k = 0; k < prog.num_sections; ++k) {
      run_section_iir2d<Store, Acc>(prog.sections[k], cur.data(), next.data(), n, params.border, constant);
      cur.swap(next);
    }
    for (int i = 0; i < n; ++i) y[static_cast<std::ptrdiff_t>(i) * step] = cur[static_cast<std::size_t>(i)];
    return;
  }

  // Exact: every stage over the whole extended range [-L, n+L).
  const int L = extension_length(prog, params.precision);
  const int N = n + 2 * L;
  std::vector<Store> in(un);
  for (int i = 0; i < n; ++i) in[static_cast<std::size_t>(i)] = x[static_cast<std::ptrdiff_t>(i) * step];
  auto get = [&in](int k) { return in[static_cast<std::size_t>(k)]; };
  std::vector<Store> cur(static_cast<std::size_t>(N)), next(static_cast<std::size_t>(N));
  for (int j = 0; j < N; ++j)
    cur[static_cast<std::size_t>(j)] = border_sample<Store>(get, n, static_cast<long long>(j) - L, params.border, constant);
  for (int k = 0; k < prog.num_sections; ++k) {
    run_section_zero_state<Store, Acc>(prog.sections[k], cur.data(), next.data(), N);
    cur.swap(next);
  }
  for (int i = 0; i < n; ++i) y[static_cast<std::ptrdiff_t>(i) * step] = cur[static_cast<std::size_t>(i + L)];
}

template <typename T>
void check_plane(const Plane<T>& p, const char* name) {
  if (p.width < 0 || p.height < 0) throw std::invalid_argument(std::string("refcpu: negative size of ") + name);
  if (p.width > 0 && p.height > 0) {
    if (p.data == nullptr) throw std::invalid_argument(std::string("refcpu: null data for ") + name);
    if (p.stride < static_cast<std::ptrdiff_t>(p.width * sizeof(T)))
      throw std::invalid_argument(std::string("refcpu: stride of ") + name + " is smaller than a row");
    if (p.stride % static_cast<std::ptrdiff_t>(sizeof(T)) != 0)
      throw std::invalid_argument(std::string("refcpu: stride of ") + name + " is not a multiple of the sample size");
  }
}

template <typename Store, typename Acc>
void filter_plane_impl(const Plane<const Store>& in, const Plane<Store>& out, const FilterParams& params) {
  check_params(params);
  check_plane(in, "input");
  check_plane(out, "output");
  if (in.width != out.width || in.height != out.height)
    throw std::invalid_argument("refcpu: input and output sizes differ");
  const int w = in.width, h = in.height;
  if (w == 0 || h == 0) return;
  // Horizontal pass into out (section 1, step 1): intermediate stored as Store.
  for (int yy = 0; yy < h; ++yy) run_program<Store, Acc>(in.row(yy), out.row(yy), w, 1, params);
  // Vertical pass on the columns of the horizontal result, in place.
  const std::ptrdiff_t step = out.stride / static_cast<std::ptrdiff_t>(sizeof(Store));
  for (int xx = 0; xx < w; ++xx) run_program<Store, Acc>(&out.at(xx, 0), &out.at(xx, 0), h, step, params);
}

}  // namespace

void filter_sequence(const float* x, float* y, int n, std::ptrdiff_t step, const FilterParams& params) {
  check_params(params);
  if (n < 0) throw std::invalid_argument("refcpu: negative sequence length");
  if (n > 0 && (x == nullptr || y == nullptr)) throw std::invalid_argument("refcpu: null sequence");
  if (params.precision == Precision::F32)
    run_program<float, float>(x, y, n, step, params);
  else if (params.precision == Precision::Mixed)
    run_program<float, double>(x, y, n, step, params);
  else
    throw std::invalid_argument("refcpu: float32 storage needs precision f32 or mixed");
}

void filter_sequence(const double* x, double* y, int n, std::ptrdiff_t step, const FilterParams& params) {
  check_params(params);
  if (n < 0) throw std::invalid_argument("refcpu: negative sequence length");
  if (n > 0 && (x == nullptr || y == nullptr)) throw std::invalid_argument("refcpu: null sequence");
  if (params.precision != Precision::F64)
    throw std::invalid_argument("refcpu: float64 storage needs precision f64");
  run_program<double, double>(x, y, n, step, params);
}

void filter_plane(const Plane<const float>& in, const Plane<float>& out, const FilterParams& params) {
  if (params.precision == Precision::F32)
    filter_plane_impl<float, float>(in, out, params);
  else if (params.precision == Precision::Mixed)
    filter_plane_impl<float, double>(in, out, params);
  else
    throw std::invalid_argument("refcpu: float32 planes need precision f32 or mixed");
}

void filter_plane(const Plane<const double>& in, const Plane<double>& out, const FilterParams& params) {
  if (params.precision != Precision::F64) throw std::invalid_argument("refcpu: float64 planes need precision f64");
  filter_plane_impl<double, double>(in, out, params);
}

// ---------------------------------------------------------------------------
// Section 5: video samples.
// ---------------------------------------------------------------------------
namespace {

template <typename Ptr>
void check_component(const VideoComponentT<Ptr>& c, const char* name) {
  const std::string n(name);
  if (c.width < 0 || c.height < 0) throw std::invalid_argument("refcpu: negative size of " + n);
  const int bytes = c.type == SampleType::U8 ? 1 : 2;
  if (c.type != SampleType::U8 && c.type != SampleType::U16) throw std::invalid_argument("refcpu: unknown sample type of " + n);
  if (c.depth < 1 || c.shift < 0 || c.depth + c.shift > 8 * bytes)
    throw std::invalid_argument("refcpu: depth/shift of " + n + " do not fit its sample type");
  if (c.width > 0 && c.height > 0) {
    if (c.data == nullptr) throw std::invalid_argument("refcpu: null data for " + n);
    if (c.pixel_stride < bytes) throw std::invalid_argument("refcpu: pixel stride of " + n + " is smaller than a sample");
    if (c.row_stride < c.pixel_stride * (c.width - 1) + bytes)
      throw std::invalid_argument("refcpu: row stride of " + n + " is smaller than a row");
  }
}

template <typename Ptr>
auto sample_address(const VideoComponentT<Ptr>& c, int x, int y) {
  using Byte = std::conditional_t<std::is_const_v<std::remove_pointer_t<Ptr>>, const unsigned char, unsigned char>;
  return static_cast<Byte*>(c.data) + static_cast<std::ptrdiff_t>(y) * c.row_stride +
         static_cast<std::ptrdiff_t>(x) * c.pixel_stride;
}

template <typename Store, typename Acc>
void filter_video_impl(const ConstVideoComponent& in, const VideoComponent& out, const FilterParams& params,
                       double strength) {
  const int w = in.width, h = in.height;
  const double maxv = code_max(in.depth);
  const Store max_s = static_cast<Store>(maxv);
  std::vector<Store> x(static_cast<std::size_t>(w) * static_cast<std::size_t>(h));
  std::vector<Store> f(x.size());
  const std::ptrdiff_t stride = static_cast<std::ptrdiff_t>(w * sizeof(Store));
  // x = v / max
  for (int yy = 0; yy < h; ++yy)
    for (int xx = 0; xx < w; ++xx)
      x[static_cast<std::size_t>(yy) * w + xx] = static_cast<Store>(read_code(in, xx, yy)) / max_s;
  filter_plane(Plane<const Store>{x.data(), w, h, stride}, Plane<Store>{f.data(), w, h, stride}, params);
  // o = s·f + (1-s)·x;  round(o·max) clamped
  const Acc s = static_cast<Acc>(strength);
  const Acc one_minus_s = static_cast<Acc>(1) - s;
  for (int yy = 0; yy < h; ++yy)
    for (int xx = 0; xx < w; ++xx) {
      const std::size_t k = static_cast<std::size_t>(yy) * w + xx;
      const Acc o = s * static_cast<Acc>(f[k]) + one_minus_s * static_cast<Acc>(x[k]);
      write_code(out, xx, yy, quantize(static_cast<double>(o), in.depth));
    }
}

}  // namespace

unsigned read_code(const ConstVideoComponent& c, int x, int y) {
  const unsigned char* p = sample_address(c, x, y);
  unsigned word;
  if (c.type == SampleType::U8) {
    word = p[0];
  } else {
    std::uint16_t w16;
    std::memcpy(&w16, p, sizeof w16);
    word = w16;
  }
  return (word >> c.shift) & ((1u << c.depth) - 1u);
}

void write_code(const VideoComponent& c, int x, int y, unsigned v) {
  unsigned char* p = sample_address(c, x, y);
  const unsigned word = v << c.shift;
  if (c.type == SampleType::U8) {
    p[0] = static_cast<unsigned char>(word);
  } else {
    const auto w16 = static_cast<std::uint16_t>(word);
    std::memcpy(p, &w16, sizeof w16);
  }
}

unsigned quantize(double o, int depth) {
  const double maxv = code_max(depth);
  const double r = std::round(o * maxv);  // half away from zero
  if (!(r > 0.0)) return 0u;              // also maps NaN to 0
  if (r > maxv) return static_cast<unsigned>(maxv);
  return static_cast<unsigned>(r);
}

void filter_video_component(const ConstVideoComponent& in, const VideoComponent& out, const FilterParams& params,
                            double strength) {
  check_params(params);
  check_component(in, "input");
  check_component(out, "output");
  if (in.width != out.width || in.height != out.height || in.type != out.type || in.depth != out.depth ||
      in.shift != out.shift)
    throw std::invalid_argument("refcpu: input and output components differ in size or sample format");
  if (!(strength >= 0.0 && strength <= 1.0)) throw std::invalid_argument("refcpu: strength outside [0, 1]");
  if (in.width == 0 || in.height == 0) return;
  switch (params.precision) {
    case Precision::F32: filter_video_impl<float, float>(in, out, params, strength); break;
    case Precision::Mixed: filter_video_impl<float, double>(in, out, params, strength); break;
    case Precision::F64: filter_video_impl<double, double>(in, out, params, strength); break;
    default: throw std::invalid_argument("refcpu: unknown precision");
  }
}

void copy_video_component(const ConstVideoComponent& in, const VideoComponent& out) {
  check_component(in, "input");
  check_component(out, "output");
  if (in.width != out.width || in.height != out.height || in.type != out.type)
    throw std::invalid_argument("refcpu: input and output components differ in size or sample type");
  for (int yy = 0; yy < in.height; ++yy)
    for (int xx = 0; xx < in.width; ++xx) {
      const unsigned char* s = sample_address(in, xx, yy);
      unsigned char* d = sample_address(out, xx, yy);
      std::memcpy(d, s, in.type == SampleType::U8 ? 1 : 2);
    }
}

}  // namespace iir2d::ref
