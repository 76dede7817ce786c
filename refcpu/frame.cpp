// SPDX-License-Identifier: MIT
// CPU reference of iir2dfilter's frame-level operations (iir2d/frame.h):
// component groups with temporal smoothing, RGB through its luma. The
// arithmetic follows frame.h's file comment in its written order.
#include "iir2d/frame.h"

#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "iir2d/refcpu.h"

namespace iir2d {

void temporal_update(const double* o, double* t, int count, const TemporalParams& temporal, float* state,
                     std::ptrdiff_t plane_stride, bool state_valid) {
  if (temporal.mode == TemporalMode::Off || !state_valid) {
    for (int k = 0; k < count; ++k) t[k] = o[k];
  } else {
    double sum = 0.0;
    for (int k = 0; k < count; ++k) {
      const double p = static_cast<double>(state[k * plane_stride]);
      sum += o[k] > p ? o[k] - p : p - o[k];
    }
    const double a = temporal_alpha(temporal, sum / count);
    for (int k = 0; k < count; ++k) t[k] = a * o[k] + (1.0 - a) * static_cast<double>(state[k * plane_stride]);
  }
  if (temporal.mode == TemporalMode::Off) return;
  for (int k = 0; k < count; ++k) state[k * plane_stride] = static_cast<float>(t[k]);
}

}  // namespace iir2d

namespace iir2d::ref {
namespace {

template <typename Ptr>
void check_layout(const VideoComponentT<Ptr>& c, const char* name) {
  if (c.width <= 0 || c.height <= 0) return;
  const std::ptrdiff_t bytes = c.type == SampleType::U16 ? 2 : 1;
  if (c.data == nullptr) throw std::invalid_argument(std::string("refcpu: null data for ") + name);
  if (c.pixel_stride < bytes || c.row_stride < c.pixel_stride * (c.width - 1) + bytes)
    throw std::invalid_argument(std::string("refcpu: strides of ") + name + " are smaller than its samples");
}

void check_group(const ConstVideoComponent* in, const VideoComponent* out, int count, const FilterParams& params,
                 double strength, const TemporalParams& temporal, const float* state) {
  if (count < 1 || count > kMaxGroupComponents) throw std::invalid_argument("refcpu: group of 1..3 components");
  if (in == nullptr || out == nullptr) throw std::invalid_argument("refcpu: null component array");
  for (int k = 0; k < count; ++k) {
    const ConstVideoComponent& a = in[k];
    const VideoComponent& b = out[k];
    if (a.width != in[0].width || a.height != in[0].height)
      throw std::invalid_argument("refcpu: the components of a group differ in size");
    if (b.width != a.width || b.height != a.height || b.type != a.type || b.depth != a.depth || b.shift != a.shift)
      throw std::invalid_argument("refcpu: input and output components differ in size or sample format");
  }
  for (int k = 0; k < count; ++k) {
    check_layout(in[k], "input");
    check_layout(out[k], "output");
    // Parameters, sample type, depth and shift: the single-component
    // reference's checks, on an empty view so that nothing is written.
    ConstVideoComponent a = in[k];
    VideoComponent b = out[k];
    a.height = b.height = 0;
    filter_video_component(a, b, params, strength);
  }
  if (!temporal_params_valid(temporal)) throw std::invalid_argument("refcpu: temporal parameters out of range");
  if (temporal.mode != TemporalMode::Off && state == nullptr && in[0].width > 0 && in[0].height > 0)
    throw std::invalid_argument("refcpu: temporal smoothing needs a state");
}

// x = v / max of one component, as a packed Store plane.
template <typename Store>
std::vector<Store> normalised_plane(const ConstVideoComponent& c) {
  const Store max_s = static_cast<Store>(code_max(c.depth));
  std::vector<Store> x(static_cast<std::size_t>(c.width) * static_cast<std::size_t>(c.height));
  for (int yy = 0; yy < c.height; ++yy)
    for (int xx = 0; xx < c.width; ++xx)
      x[static_cast<std::size_t>(yy) * c.width + xx] = static_cast<Store>(read_code(c, xx, yy)) / max_s;
  return x;
}

template <typename Store>
std::vector<Store> filtered_plane(const std::vector<Store>& x, int w, int h, const FilterParams& params) {
  std::vector<Store> f(x.size());
  const std::ptrdiff_t stride = static_cast<std::ptrdiff_t>(w * sizeof(Store));
  filter_plane(Plane<const Store>{x.data(), w, h, stride}, Plane<Store>{f.data(), w, h, stride}, params);
  return f;
}

template <typename Store, typename Acc>
void group_impl(const ConstVideoComponent* in, const VideoComponent* out, int count, const FilterParams& params,
                double strength, const TemporalParams& temporal, float* state, bool state_valid) {
  const int w = in[0].width, h = in[0].height;
  std::vector<std::vector<Store>> x(static_cast<std::size_t>(count)), f(static_cast<std::size_t>(count));
  for (int k = 0; k < count; ++k) {
    x[k] = normalised_plane<Store>(in[k]);
    f[k] = filtered_plane<Store>(x[k], w, h, params);
  }
  const Acc s = static_cast<Acc>(strength);
  const Acc one_minus_s = static_cast<Acc>(1) - s;
  const std::size_t plane = state_elements(w, h, 1);
  double o[kMaxGroupComponents], t[kMaxGroupComponents];
  for (int yy = 0; yy < h; ++yy)
    for (int xx = 0; xx < w; ++xx) {
      const std::size_t i = static_cast<std::size_t>(yy) * w + xx;
      for (int k = 0; k < count; ++k)
        o[k] = static_cast<double>(s * static_cast<Acc>(f[k][i]) + one_minus_s * static_cast<Acc>(x[k][i]));
      temporal_update(o, t, count, temporal, state ? state + i : nullptr, static_cast<std::ptrdiff_t>(plane), state_valid);
      for (int k = 0; k < count; ++k) write_code(out[k], xx, yy, quantize(t[k], out[k].depth));
    }
}

template <typename Store, typename Acc>
void rgb_luma_impl(const ConstVideoComponent* in, const VideoComponent* out, const LumaWeights& weights,
                   const FilterParams& params, double strength, const TemporalParams& temporal, float* state,
                   bool state_valid) {
  const int w = in[0].width, h = in[0].height;
  std::vector<Store> rgb[3];
  for (int c = 0; c < 3; ++c) rgb[c] = normalised_plane<Store>(in[c]);
  std::vector<Store> y(rgb[0].size());
  for (std::size_t i = 0; i < y.size(); ++i)
    y[i] = static_cast<Store>(luma_of(static_cast<double>(rgb[0][i]), static_cast<double>(rgb[1][i]),
                                      static_cast<double>(rgb[2][i]), weights));
  const std::vector<Store> f = filtered_plane<Store>(y, w, h, params);
  const Acc s = static_cast<Acc>(strength);
  const Acc one_minus_s = static_cast<Acc>(1) - s;
  for (int yy = 0; yy < h; ++yy)
    for (int xx = 0; xx < w; ++xx) {
      const std::size_t i = static_cast<std::size_t>(yy) * w + xx;
      const double o = static_cast<double>(s * static_cast<Acc>(f[i]) + one_minus_s * static_cast<Acc>(y[i]));
      double t;
      temporal_update(&o, &t, 1, temporal, state ? state + i : nullptr, 0, state_valid);
      const double delta = t - static_cast<double>(y[i]);
      for (int c = 0; c < 3; ++c)
        write_code(out[c], xx, yy, quantize(static_cast<double>(rgb[c][i]) + delta, out[c].depth));
    }
}

}  // namespace

void filter_component_group(const ConstVideoComponent* in, const VideoComponent* out, int count,
                            const FilterParams& params, double strength, const TemporalParams& temporal,
                            float* state, bool state_valid) {
  check_group(in, out, count, params, strength, temporal, state);
  if (in[0].width == 0 || in[0].height == 0) return;
  switch (params.precision) {
    case Precision::F32: group_impl<float, float>(in, out, count, params, strength, temporal, state, state_valid); break;
    case Precision::Mixed: group_impl<float, double>(in, out, count, params, strength, temporal, state, state_valid); break;
    case Precision::F64: group_impl<double, double>(in, out, count, params, strength, temporal, state, state_valid); break;
    default: throw std::invalid_argument("refcpu: unknown precision");
  }
}

void filter_rgb_luma(const ConstVideoComponent* in, const VideoComponent* out, const LumaWeights& weights,
                     const FilterParams& params, double strength, const TemporalParams& temporal, float* state,
                     bool state_valid) {
  check_group(in, out, 3, params, strength, temporal, state);
  if (in[0].width == 0 || in[0].height == 0) return;
  switch (params.precision) {
    case Precision::F32: rgb_luma_impl<float, float>(in, out, weights, params, strength, temporal, state, state_valid); break;
    case Precision::Mixed: rgb_luma_impl<float, double>(in, out, weights, params, strength, temporal, state, state_valid); break;
    case Precision::F64: rgb_luma_impl<double, double>(in, out, weights, params, strength, temporal, state, state_valid); break;
    default: throw std::invalid_argument("refcpu: unknown precision");
  }
}

}  // namespace iir2d::ref
