// SPDX-License-Identifier: MIT
// iir2dfilter's CUDA backend: the kernels of cuda/ (iir2d/cuda_video.h);
// see backends.h. Built only with CUDA.
#include <cuda_runtime_api.h>

#include <algorithm>

#include "backends.h"
#include "iir2d/cuda_filter.h"
#include "iir2d/cuda_video.h"

namespace iir2d::gst::filter {

namespace {

/* What a plan's ops need of the workspace with these parameters. */
std::size_t workspace_for_plan(const FramePlan& plan, const GstVideoInfo* info, const iir2d::FilterParams& params) {
  std::size_t need = 0;
  for (int i = 0; i < plan.n; ++i) {
    const FrameOp& op = plan.ops[static_cast<std::size_t>(i)];
    const int w = GST_VIDEO_INFO_COMP_WIDTH(info, op.comp[0]);
    const int comp_h = GST_VIDEO_INFO_COMP_HEIGHT(info, op.comp[0]);
    const int h = op.field < 0 ? comp_h : op.rows;  // a field: its own rows
    if (op.kind == OpKind::Filter) need = std::max(need, iir2d::cuda::workspace_size(w, h, params));
    if (op.kind == OpKind::Group) need = std::max(need, iir2d::cuda::group_workspace_size(w, h, op.count, params));
    if (op.kind == OpKind::RgbLuma) need = std::max(need, iir2d::cuda::group_workspace_size(w, h, 1, params));
  }
  return need;
}

/* The CUDA backend: the kernels on the element's stream, in its workspace;
 * copies of planes that nothing else writes on the copy stream, beside them
 * (the caller synchronises both). */
struct CudaBackend {
  void* workspace;
  std::size_t workspace_bytes;
  cudaStream_t stream;
  cudaStream_t copy_stream;

  static std::string text(const iir2d::cuda::Result& r) { return r.ok() ? std::string() : r.message(); }
  std::string copy(const iir2d::ConstVideoComponent& in, const iir2d::VideoComponent& out, bool plane_alone) {
    return text(iir2d::cuda::copy_video_component(in, out, plane_alone ? copy_stream : stream));
  }
  std::string filter(const iir2d::ConstVideoComponent& in, const iir2d::VideoComponent& out, const FrameJob& j) {
    return text(iir2d::cuda::filter_video_component(in, out, j.params, j.strength, workspace, workspace_bytes, stream));
  }
  std::string group(const iir2d::ConstVideoComponent* in, const iir2d::VideoComponent* out, int count,
                    const FrameJob& j, float* state) {
    return text(iir2d::cuda::filter_component_group(in, out, count, j.params, j.strength, j.temporal, state,
                                                    j.state_valid, workspace, workspace_bytes, stream));
  }
  /* Temporal state moved between a mixed stream's layouts, on `stream`
   * (where the state is read and written). */
  std::string copy_state(const std::vector<StateCopy>& copies, const float* from, float* to) {
    for (const StateCopy& c : copies) {
      const cudaError_t e = cudaMemcpy2DAsync(to + c.dst, c.dst_pitch * sizeof(float), from + c.src,
                                              c.src_pitch * sizeof(float), static_cast<std::size_t>(c.width) * sizeof(float),
                                              static_cast<std::size_t>(c.rows), cudaMemcpyDeviceToDevice, stream);
      if (e != cudaSuccess) return "cudaMemcpy2DAsync: " + iir2d::cuda::error_text(e);
    }
    return {};
  }
  std::string rgb_luma(const iir2d::ConstVideoComponent* in, const iir2d::VideoComponent* out, const FrameJob& j,
                       float* state) {
    return text(iir2d::cuda::filter_rgb_luma(in, out, j.weights, j.params, j.strength, j.temporal, state,
                                             j.state_valid, workspace, workspace_bytes, stream));
  }
};

}  // namespace

std::size_t cuda_workspace_for_info(const GstVideoInfo* info) {
  std::size_t need = 0;
  const guint n = GST_VIDEO_INFO_N_COMPONENTS(info);
  for (guint c = 0; c < n; ++c) {
    const int w = GST_VIDEO_INFO_COMP_WIDTH(info, c);
    const int h = GST_VIDEO_INFO_COMP_HEIGHT(info, c);
    int same_size = 0;
    for (guint d = 0; d < n; ++d)
      if (GST_VIDEO_INFO_COMP_WIDTH(info, d) == w && GST_VIDEO_INFO_COMP_HEIGHT(info, d) == h) ++same_size;
    need = std::max(need, iir2d::cuda::max_group_workspace_size(
                              w, h, std::min(same_size, static_cast<int>(iir2d::kMaxGroupComponents))));
  }
  return need;
}

std::string run_plan_cuda(const FramePlan& plan, const GstVideoFrame* in, const GstVideoFrame* out,
                          const FrameJob& job, const GstVideoInfo* info, void* workspace, std::size_t workspace_bytes,
                          CUstream_st* stream, CUstream_st* copy_stream) {
  /* Never short (set_caps sized the workspace for every parameter set). */
  const std::size_t need = workspace_for_plan(plan, info, job.params);
  if (need > workspace_bytes)
    return "the CUDA workspace has " + std::to_string(workspace_bytes) + " bytes, this frame needs " +
           std::to_string(need);
  CudaBackend backend{workspace, workspace_bytes, stream, copy_stream};
  return run_plan(plan, in, out, job, backend);
}

}  // namespace iir2d::gst::filter
