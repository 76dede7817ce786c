// SPDX-License-Identifier: MIT
// qualitymeter's CUDA measurement (cuda/quality.cu); see measure.h. Built
// only with CUDA.
#include <cuda_runtime_api.h>

#include <algorithm>

#include "../common/formats.h"
#include "iir2d/cuda_layout.h"
#include "iir2d/cuda_quality.h"
#include "measure.h"

namespace iir2d::gst::meter {

namespace quality = iir2d::quality;
using iir2d::ConstVideoComponent;

namespace {

constexpr int kDeviceSlot = 0;

/* What one frame pair's kernels write; copied back to the host in one go. */
struct DeviceResults {
  quality::ComponentSums sums[quality::kMaxComponents];
  unsigned long long abs_diff[2];  // Σ|Δ| of the distorted and reference luma against the previous pair
};

using iir2d::cuda::align_up;

using iir2d::cuda::error_text;

/* Bytes of one row of component `c` from its first sample to the end of its last. */
std::size_t prev_row_bytes(const GstVideoInfo* info, guint c) {
  const std::size_t sample = GST_VIDEO_FORMAT_INFO_BITS(info->finfo) > 8 ? 2 : 1;
  const std::size_t width = static_cast<std::size_t>(GST_VIDEO_INFO_COMP_WIDTH(info, c));
  return width ? (width - 1) * static_cast<std::size_t>(GST_VIDEO_INFO_COMP_PSTRIDE(info, c)) + sample : 0;
}

}  // namespace

/* Results, the kernels' workspace and the previous luma of both inputs, in one allocation. */
PairMeasure::DeviceLayout PairMeasure::device_layout(const GstVideoInfo* info) const {
  DeviceLayout l;
  std::size_t workspace = 0;
  for (guint c = 0; c < GST_VIDEO_INFO_N_COMPONENTS(info); ++c)
    workspace = std::max(workspace, quality::cuda::workspace_size(GST_VIDEO_INFO_COMP_WIDTH(info, c),
                                                                  GST_VIDEO_INFO_COMP_HEIGHT(info, c)));
  /* The temporal component's rows, from its first sample to its last (any pixel stride). */
  const guint t = temporal_component(info);
  const std::size_t luma = prev_row_bytes(info, t) * static_cast<std::size_t>(GST_VIDEO_INFO_COMP_HEIGHT(info, t));
  l.workspace_offset = align_up(sizeof(DeviceResults));
  l.workspace_bytes = workspace;
  l.prev_offset[kReference] = l.workspace_offset + align_up(workspace);
  l.prev_offset[kDistorted] = l.prev_offset[kReference] + align_up(luma);
  l.total = l.prev_offset[kDistorted] + align_up(luma);
  return l;
}

/* Enqueues the kernels of one pair and the copy of the previous luma on
 * `stream`; the caller has pushed the context and synchronises the stream. */
std::string PairMeasure::enqueue_cuda(unsigned char* base, CUstream_st* stream, GstVideoFrame* rf, GstVideoFrame* df,
                                      int n) {
  auto* results = reinterpret_cast<DeviceResults*>(base);
  for (int c = 0; c < n; ++c) {
    const auto r = quality::cuda::compare_component(frame_component<ConstVideoComponent>(rf, c),
                                                    frame_component<ConstVideoComponent>(df, c), &results->sums[c],
                                                    base + layout_.workspace_offset, layout_.workspace_bytes, stream);
    if (!r.ok()) return "component " + std::to_string(c) + ": " + r.message();
  }
  GstVideoFrame* frames[2] = {rf, df};
  const guint t = temporal_component(&df->info);
  for (int role : {kDistorted, kReference}) {
    const auto cur = frame_component<ConstVideoComponent>(frames[role], t);
    if (have_prev_) {
      const auto r = quality::cuda::sum_abs_diff(cur, prev_device_[role],
                                                 &results->abs_diff[role == kDistorted ? 0 : 1], stream);
      if (!r.ok()) return std::string("temporal delta: ") + r.message();
    }
    /* Keep this component for the next pair: its rows, from the first
     * sample to the last, with the pixel stride they have (packed RGB too). */
    const std::size_t sample = cur.type == iir2d::SampleType::U16 ? 2 : 1;
    const std::size_t row =
        cur.width ? static_cast<std::size_t>(cur.width - 1) * static_cast<std::size_t>(cur.pixel_stride) + sample : 0;
    cudaError_t e = cudaMemcpy2DAsync(base + layout_.prev_offset[role], row, cur.data, cur.row_stride, row,
                                      cur.height, cudaMemcpyDeviceToDevice, stream);
    if (e != cudaSuccess) return "previous luma copy: " + error_text(e);
    ConstVideoComponent prev = cur;
    prev.data = base + layout_.prev_offset[role];
    prev.row_stride = static_cast<std::ptrdiff_t>(row);
    prev_device_[role] = prev;
  }
  return "";
}

bool PairMeasure::measure_cuda(CudaSession& cuda, int index, int count, guint64* generation, GstBuffer* ref,
                               const GstVideoInfo* ref_info, GstBuffer* dist, const GstVideoInfo* dist_info,
                               quality::FrameMetrics* m, std::string* error) {
  const GstVideoInfo* info = dist_info;
  int depths[quality::kMaxComponents];
  const int n = component_depths(info, depths);
  bool diffed = false;  // the temporal sums were computed against a previous pair
  DeviceResults host{};
  {
    CudaFrameScope scope(cuda);
    if (scope.map(ref, ref_info, GST_MAP_READ, kRoleNames[kReference], error) &&
        scope.map(dist, dist_info, GST_MAP_READ, kRoleNames[kDistorted], error) && scope.enter(error)) {
      layout_ = device_layout(info);
      const std::size_t part = align_up(layout_.total);
      bool fresh = false;
      if (!cuda.ensure_allocation(kDeviceSlot, part * static_cast<std::size_t>(count), error, &fresh)) {
        *error = "device memory: " + *error;
      } else {
        if (fresh) ++*generation;  // every input's previous luma is gone
        if (generation_ != *generation) have_prev_ = false;
        generation_ = *generation;
        diffed = have_prev_;
        auto* base = static_cast<unsigned char*>(cuda.allocation(kDeviceSlot)) + part * static_cast<std::size_t>(index);
        *error = enqueue_cuda(base, scope.stream(), scope.frame(0), scope.frame(1), n);
        if (error->empty()) {
          const cudaError_t e = cudaMemcpyAsync(&host, base, sizeof host, cudaMemcpyDeviceToHost, scope.stream());
          if (e != cudaSuccess) *error = "results copy: " + error_text(e);
        }
      }
    }
    const std::string sync_error = scope.finish();
    if (error->empty()) *error = sync_error;
  }
  have_prev_ = error->empty();
  if (!error->empty()) return false;
  *m = quality::frame_metrics(host.sums, depths, n);
  const guint t = temporal_component(info);
  if (diffed) m->temporal_delta = quality::temporal_delta(host.abs_diff[0], host.abs_diff[1], host.sums[t].samples, depths[t]);
  return true;
}

}  // namespace iir2d::gst::meter
