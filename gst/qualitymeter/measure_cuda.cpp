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

constexpr int kPartsSlot = 0;      // a part per distorted input: results, previous luma
constexpr int kWorkspaceSlot = 1;  // the kernels' workspace, shared by every input

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

/* A part of slot 0: the results and the previous luma of both inputs. */
PairMeasure::DeviceLayout PairMeasure::device_layout(const GstVideoInfo* info) {
  DeviceLayout l;
  /* The temporal component's rows, from its first sample to its last (any pixel stride). */
  const guint t = temporal_component(info);
  const std::size_t luma = prev_row_bytes(info, t) * static_cast<std::size_t>(GST_VIDEO_INFO_COMP_HEIGHT(info, t));
  l.prev_offset[kReference] = align_up(sizeof(DeviceResults));
  l.prev_offset[kDistorted] = l.prev_offset[kReference] + align_up(luma);
  l.total = l.prev_offset[kDistorted] + align_up(luma);
  return l;
}

/* Enqueues one pair's temporal sums against its previous pair and the copy
 * of its luma for the next one on `stream`; the caller has pushed the
 * context and synchronises the stream. */
std::string PairMeasure::enqueue_temporal(unsigned char* base, CUstream_st* stream, GstVideoFrame* rf,
                                          GstVideoFrame* df) {
  auto* results = reinterpret_cast<DeviceResults*>(base);
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
     * sample to the last, with the pixel stride they have (packed RGB too).
     * Ordered after the sum above on the stream, which still reads the
     * previous one. */
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

namespace {

/* Workspace of one reference against `n` distorted inputs, for the largest component. */
std::size_t workspace_for(const GstVideoInfo* info, int n) {
  std::size_t bytes = 0;
  for (guint c = 0; c < GST_VIDEO_INFO_N_COMPONENTS(info); ++c)
    bytes = std::max(bytes, quality::cuda::workspace_size(GST_VIDEO_INFO_COMP_WIDTH(info, c),
                                                          GST_VIDEO_INFO_COMP_HEIGHT(info, c), n));
  return bytes;
}

/* Every component of the reference against the same component of every
 * distorted frame (scope frames 1..n), one compare_components() each. */
std::string enqueue_components(CudaFrameScope& scope, const std::vector<unsigned char*>& bases, int components,
                               void* workspace, std::size_t workspace_bytes) {
  const int n = static_cast<int>(bases.size());
  std::vector<ConstVideoComponent> dist(static_cast<std::size_t>(n));
  std::vector<quality::ComponentSums*> sums(static_cast<std::size_t>(n));
  for (int c = 0; c < components; ++c) {
    for (int i = 0; i < n; ++i) {
      dist[i] = frame_component<ConstVideoComponent>(scope.frame(i + 1), c);
      sums[i] = &reinterpret_cast<DeviceResults*>(bases[i])->sums[c];
    }
    const auto r = quality::cuda::compare_components(frame_component<ConstVideoComponent>(scope.frame(0), c),
                                                     dist.data(), n, sums.data(), workspace, workspace_bytes,
                                                     scope.stream());
    if (!r.ok()) return "component " + std::to_string(c) + ": " + r.message();
  }
  return "";
}

}  // namespace

bool PairMeasure::measure_cuda(CudaSession& cuda, int count, guint64* generation, GstBuffer* ref,
                               const GstVideoInfo* ref_info, const std::vector<CudaPair>& pairs, std::string* error) {
  if (pairs.empty()) return true;
  const GstVideoInfo* info = pairs[0].info;  // every pair has the reference's format and size
  int depths[quality::kMaxComponents];
  const int n = component_depths(info, depths);
  const int npairs = static_cast<int>(pairs.size());
  std::vector<bool> diffed(pairs.size(), false);  // a pair's temporal sums were computed against its previous pair
  std::vector<DeviceResults> host(static_cast<std::size_t>(count));
  {
    CudaFrameScope scope(cuda);
    bool mapped = scope.map(ref, ref_info, GST_MAP_READ, kRoleNames[kReference], error);
    for (int i = 0; mapped && i < npairs; ++i)
      mapped = scope.map(pairs[i].dist, pairs[i].info, GST_MAP_READ, pairs[i].name, error);
    if (mapped && scope.enter(error)) {
      const DeviceLayout layout = device_layout(info);
      const std::size_t part = align_up(layout.total);
      const std::size_t workspace = workspace_for(info, npairs);
      bool fresh = false;
      if (!cuda.ensure_allocation(kPartsSlot, part * static_cast<std::size_t>(count), error, &fresh) ||
          !cuda.ensure_allocation(kWorkspaceSlot, std::max<std::size_t>(workspace, 1), error)) {
        *error = "device memory: " + *error;
      } else {
        if (fresh) ++*generation;  // every input's previous luma is gone
        auto* parts = static_cast<unsigned char*>(cuda.allocation(kPartsSlot));
        std::vector<unsigned char*> bases(pairs.size());
        for (int i = 0; i < npairs; ++i) bases[i] = parts + part * static_cast<std::size_t>(pairs[i].index);
        *error = enqueue_components(scope, bases, n, cuda.allocation(kWorkspaceSlot), workspace);
        for (int i = 0; error->empty() && i < npairs; ++i) {
          PairMeasure& m = *pairs[i].measure;
          if (m.generation_ != *generation) m.have_prev_ = false;
          m.generation_ = *generation;
          m.layout_ = layout;
          diffed[i] = m.have_prev_;
          *error = m.enqueue_temporal(bases[i], scope.stream(), scope.frame(0), scope.frame(i + 1));
          if (!error->empty()) *error = std::string(pairs[i].name) + ": " + *error;
        }
        if (error->empty()) {
          /* Every part's results in one copy (the parts of inputs not paired now come back unused). */
          const cudaError_t e = cudaMemcpy2DAsync(host.data(), sizeof(DeviceResults), parts, part, sizeof(DeviceResults),
                                                  static_cast<std::size_t>(count), cudaMemcpyDeviceToHost, scope.stream());
          if (e != cudaSuccess) *error = "results copy: " + error_text(e);
        }
      }
    }
    const std::string sync_error = scope.finish();
    if (error->empty()) *error = sync_error;
  }
  for (const CudaPair& p : pairs) p.measure->have_prev_ = error->empty();
  if (!error->empty()) return false;
  const guint t = temporal_component(info);
  for (int i = 0; i < npairs; ++i) {
    const DeviceResults& r = host[static_cast<std::size_t>(pairs[i].index)];
    *pairs[i].metrics = quality::frame_metrics(r.sums, depths, n);
    if (diffed[i])
      pairs[i].metrics->temporal_delta = quality::temporal_delta(r.abs_diff[0], r.abs_diff[1], r.sums[t].samples, depths[t]);
  }
  return true;
}

}  // namespace iir2d::gst::meter
