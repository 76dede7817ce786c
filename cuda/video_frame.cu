// SPDX-License-Identifier: MIT
/**
 * @file video_frame.cu
 * @brief Implements iir2d/cuda_video.h: component groups with temporal
 *        smoothing and RGB through its luma. Dispatch only: validation,
 *        workspace carving, launches of detail/frame_kernels.cuh, and the 2-D
 *        filter through the public filter_plane_f32/f64 of cuda_filter.h.
 */
#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "detail/component_check.h"
#include "detail/frame_kernels.cuh"
#include "detail/result_util.h"
#include "detail/tile_grid.h"
#include "detail/video_plane.h"
#include "iir2d/cuda_layout.h"
#include "iir2d/cuda_video.h"

namespace iir2d::cuda {
namespace {

using detail::check_component;
using detail::check_launch;
using detail::fail;
using detail::invalid;
using detail::tile_block;
using detail::tile_grid;

std::size_t store_bytes(Precision p) { return p == Precision::F64 ? sizeof(double) : sizeof(float); }

std::size_t plane_pitch(int width, std::size_t bytes) { return align_up(static_cast<std::size_t>(width) * bytes, kAlign); }

/// The parameter checks of filter_plane_f32/f64, without a launch: an empty
/// plane returns right after them.
Result check_params(const FilterParams& params) {
  if (params.precision == Precision::F64)
    return filter_plane_f64(nullptr, 0, nullptr, 0, 0, 0, params, nullptr, 0, nullptr);
  return filter_plane_f32(nullptr, 0, nullptr, 0, 0, 0, params, nullptr, 0, nullptr);
}

Result check_group(const ConstVideoComponent* in, const VideoComponent* out, int count, const FilterParams& params,
                   double strength, const TemporalParams& temporal, const float* state) {
  if (count < 1 || count > kMaxGroupComponents) return invalid("a group has 1..3 components");
  if (in == nullptr || out == nullptr) return invalid("null component array");
  Result r = check_params(params);
  if (!r) return r;
  for (int k = 0; k < count; ++k) {
    r = check_component(in[k]);
    if (!r) return r;
    r = check_component(out[k]);
    if (!r) return r;
    if (in[k].width != in[0].width || in[k].height != in[0].height) return invalid("group components differ in size");
    if (out[k].width != in[k].width || out[k].height != in[k].height || out[k].type != in[k].type ||
        out[k].depth != in[k].depth || out[k].shift != in[k].shift)
      return invalid("input and output components differ in size or sample format");
  }
  if (!(strength >= 0.0 && strength <= 1.0)) return invalid("strength outside [0, 1]");
  if (!temporal_params_valid(temporal)) return invalid("temporal parameters out of range");
  if (temporal.mode != TemporalMode::Off && state == nullptr) return invalid("temporal smoothing needs a state");
  return Result{};
}

template <typename Store>
detail::GroupPlanes<Store> group_view(const ConstVideoComponent* in, int count, bool luma, const LumaWeights& w) {
  detail::GroupPlanes<Store> g{};
  for (int k = 0; k < count; ++k) {
    g.src[k] = static_cast<const unsigned char*>(in[k].data);
    g.src_row_stride[k] = in[k].row_stride;
    g.src_pixel_stride[k] = in[k].pixel_stride;
    g.format[k].type = in[k].type;
    g.format[k].shift = in[k].shift;
    g.format[k].mask = (1u << in[k].depth) - 1u;
    g.max_code[k] = static_cast<Store>(code_max(in[k].depth));
  }
  g.count = count;
  g.luma = luma;
  g.weights = w;
  g.width = in[0].width;
  g.height = in[0].height;
  return g;
}

/// One plane of samples normalised from `depth`-bit codes, filtered in place
/// (the row pass keeps refcpu's order where that decides the codes).
Result filter_in_place(float* p, std::size_t pitch, int width, int height, const FilterParams& params, int depth,
                       void* ws, std::size_t ws_bytes, cudaStream_t stream) {
  return detail::filter_video_plane_f32(p, pitch, p, pitch, width, height, params, depth, ws, ws_bytes, stream);
}
Result filter_in_place(double* p, std::size_t pitch, int width, int height, const FilterParams& params, int depth,
                       void* ws, std::size_t ws_bytes, cudaStream_t stream) {
  return detail::filter_video_plane_f64(p, pitch, p, pitch, width, height, params, depth, ws, ws_bytes, stream);
}

/// Load → filter each plane in place → blend, temporal step, quantise.
template <typename Store, typename Acc>
Result run_group(const ConstVideoComponent* in, const VideoComponent* out, int count, bool luma, const LumaWeights& w,
                 const FilterParams& params, double strength, const TemporalParams& temporal, float* state,
                 bool state_valid, void* workspace, std::size_t workspace_bytes, cudaStream_t stream) {
  const int width = in[0].width, height = in[0].height;
  const int n_planes = luma ? 1 : count;
  const std::size_t pitch = plane_pitch(width, sizeof(Store));
  const std::size_t plane_bytes = pitch * static_cast<std::size_t>(height);
  if (workspace == nullptr) return invalid("null workspace");
  if (workspace_bytes < group_workspace_size(width, height, n_planes, params))
    return fail(Status::WorkspaceTooSmall, "workspace smaller than group_workspace_size()");
  const std::uintptr_t base = align_up(reinterpret_cast<std::uintptr_t>(workspace), kAlign);
  const std::size_t used = (base - reinterpret_cast<std::uintptr_t>(workspace)) + n_planes * plane_bytes;
  void* filter_ws = reinterpret_cast<unsigned char*>(workspace) + used;
  const std::size_t filter_ws_bytes = workspace_bytes - used;

  detail::GroupPlanes<Store> g = group_view<Store>(in, count, luma, w);
  g.planes = reinterpret_cast<Store*>(base);
  g.pitch_elems = static_cast<std::ptrdiff_t>(pitch / sizeof(Store));
  g.plane_elems = static_cast<std::ptrdiff_t>(plane_bytes / sizeof(Store));
  const dim3 grid = tile_grid(width, height), block = tile_block();

  detail::group_load_kernel<Store><<<grid, block, 0, stream>>>(g);
  Result r = check_launch(stream, "group load launch");
  if (!r) return r;
  int depth = 1;  // the deepest component decides (RGB luma mixes R, G and B)
  for (int k = 0; k < count; ++k) depth = std::max(depth, in[k].depth);
  for (int k = 0; k < n_planes; ++k) {
    r = filter_in_place(g.planes + k * g.plane_elems, pitch, width, height, params, depth, filter_ws, filter_ws_bytes,
                        stream);
    if (!r) return r;
  }

  detail::GroupFinishParams<Store, Acc> f{};
  f.in = g;
  for (int k = 0; k < count; ++k) {
    f.dst[k] = static_cast<unsigned char*>(out[k].data);
    f.dst_row_stride[k] = out[k].row_stride;
    f.dst_pixel_stride[k] = out[k].pixel_stride;
    f.max_code_d[k] = code_max(out[k].depth);
  }
  f.strength = static_cast<Acc>(strength);
  f.one_minus_strength = static_cast<Acc>(1) - f.strength;
  f.temporal = temporal;
  f.state = temporal.mode == TemporalMode::Off ? nullptr : state;
  f.state_plane = static_cast<std::ptrdiff_t>(width) * height;
  f.state_valid = state_valid;
  detail::group_finish_kernel<Store, Acc><<<grid, block, 0, stream>>>(f);
  return check_launch(stream, "group finish launch");
}

Result dispatch(const ConstVideoComponent* in, const VideoComponent* out, int count, bool luma, const LumaWeights& w,
                const FilterParams& params, double strength, const TemporalParams& temporal, float* state,
                bool state_valid, void* workspace, std::size_t workspace_bytes, cudaStream_t stream) {
  Result r = check_group(in, out, count, params, strength, temporal, state);
  if (!r) return r;
  if (in[0].width == 0 || in[0].height == 0) return Result{};
  switch (params.precision) {
    case Precision::F32:
      return run_group<float, float>(in, out, count, luma, w, params, strength, temporal, state, state_valid,
                                     workspace, workspace_bytes, stream);
    case Precision::Mixed:
      return run_group<float, double>(in, out, count, luma, w, params, strength, temporal, state, state_valid,
                                      workspace, workspace_bytes, stream);
    case Precision::F64:
      return run_group<double, double>(in, out, count, luma, w, params, strength, temporal, state, state_valid,
                                       workspace, workspace_bytes, stream);
  }
  return invalid("unknown precision");
}

}  // namespace

std::size_t group_workspace_size(int width, int height, int count, const FilterParams& params) {
  if (width <= 0 || height <= 0 || count <= 0) return 0;
  const std::size_t plane = plane_pitch(width, store_bytes(params.precision)) * static_cast<std::size_t>(height);
  return kAlign + static_cast<std::size_t>(count) * plane + workspace_size(width, height, params);
}

std::size_t max_group_workspace_size(int width, int height, int count) {
  std::size_t most = 0;
  const Precision precisions[] = {Precision::F32, Precision::Mixed, Precision::F64};
  const BorderInit inits[] = {BorderInit::Exact, BorderInit::Iir2d};
  const Border borders[] = {Border::Clamp, Border::Mirror, Border::Wrap, Border::Constant};
  const double sigmas[] = {kMinSigma, kDericheSigma, kMaxSigma};
  for (int id = kMinFilterId; id <= kMaxFilterId; ++id)
    for (Precision p : precisions)
      for (BorderInit init : inits)
        for (Border b : borders)
          for (double sigma : sigmas) {
            FilterParams fp;
            fp.filter_id = id;
            fp.precision = p;
            fp.border_init = init;
            fp.border = b;
            fp.sigma = sigma;
            const std::size_t s = group_workspace_size(width, height, count, fp);
            if (s > most) most = s;
          }
  return most;
}

Result filter_component_group(const ConstVideoComponent* in, const VideoComponent* out, int count,
                              const FilterParams& params, double strength, const TemporalParams& temporal,
                              float* state, bool state_valid, void* workspace, std::size_t workspace_bytes,
                              cudaStream_t stream) {
  return dispatch(in, out, count, false, LumaWeights{}, params, strength, temporal, state, state_valid, workspace,
                  workspace_bytes, stream);
}

Result filter_rgb_luma(const ConstVideoComponent* in, const VideoComponent* out, const LumaWeights& weights,
                       const FilterParams& params, double strength, const TemporalParams& temporal, float* state,
                       bool state_valid, void* workspace, std::size_t workspace_bytes, cudaStream_t stream) {
  return dispatch(in, out, 3, true, weights, params, strength, temporal, state, state_valid, workspace,
                  workspace_bytes, stream);
}

}  // namespace iir2d::cuda
