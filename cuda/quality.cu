// SPDX-License-Identifier: MIT
// Dispatch layer of iir2d/cuda_quality.h: argument checks, workspace layout,
// grid choice, launches and error handling. Kernels: detail/quality_kernels.cuh.
#include <algorithm>
#include <cstdint>

#include "detail/quality_kernels.cuh"
#include "detail/result_util.h"
#include "iir2d/cuda_layout.h"
#include "iir2d/cuda_quality.h"

namespace iir2d::quality::cuda {

namespace {

using detail::ComponentView;
using detail::DistBlockSums;
using detail::DistortedBatch;
using detail::RefBlockSums;
using detail::kThreads;
using detail::kTileX;
using detail::kTileY;

using iir2d::cuda::align_up;
using iir2d::cuda::kAlign;
using iir2d::cuda::kMaxGridY;
using iir2d::cuda::detail::check_launch;
using iir2d::cuda::detail::fail;

constexpr unsigned kMaxGridX = 1024;   // grid-stride beyond this (diff kernel)

unsigned div_up(long long n, int d) { return static_cast<unsigned>((n + d - 1) / d); }

Result check_pair(const ConstVideoComponent& a, const ConstVideoComponent& b, const char* where) {
  if (a.width != b.width || a.height != b.height || a.depth != b.depth || a.width < 0 || a.height < 0)
    return fail(Status::InvalidArgument, where);
  if (a.depth < 1 || a.depth > 16 || b.depth < 1 || b.depth > 16) return fail(Status::InvalidArgument, where);
  if ((a.type == SampleType::U8 && a.depth + a.shift > 8) || (b.type == SampleType::U8 && b.depth + b.shift > 8))
    return fail(Status::InvalidArgument, where);
  if (a.width > 0 && a.height > 0 && (!a.data || !b.data)) return fail(Status::InvalidArgument, where);
  return Result{};
}

ComponentView view(const ConstVideoComponent& c) {
  return ComponentView{static_cast<const unsigned char*>(c.data), c.width, c.height, c.row_stride, c.pixel_stride,
                       iir2d::cuda::detail::SampleFormat{c.type, c.shift, (1u << c.depth) - 1u}};
}

/// Grid of 32×8 tiles over w×h items, capped (the diff kernel strides over the rest).
dim3 diff_grid(int w, int h) {
  return dim3(std::max(1u, std::min(div_up(w, kTileX), kMaxGridX)), std::max(1u, std::min(div_up(h, kTileY), kMaxGridY)));
}

/// Grid of 32×8 tiles covering w×h items exactly (one thread each).
dim3 cover_grid(int w, int h) { return dim3(std::max(1u, div_up(w, kTileX)), std::max(1u, div_up(h, kTileY))); }

/// Workspace of one reference against up to kBatch distorted components at a
/// time (batches run one after the other on the stream and reuse it).
struct Layout {
  std::size_t ref_offset = 0, dist_offset = 0, partials_offset = 0, bytes = 0;
  int partials = 0;  // per distorted component
};

Layout layout_for(int width, int height, int distorted) {
  Layout l;
  if (width <= 0 || height <= 0 || distorted <= 0) return l;
  const std::size_t batch = static_cast<std::size_t>(std::min(distorted, detail::kBatch));
  const std::size_t nblocks =
      static_cast<std::size_t>(ssim_blocks(width)) * static_cast<std::size_t>(ssim_blocks(height));
  const dim3 g = cover_grid(ssim_windows_along(width), ssim_windows_along(height));
  l.partials = static_cast<int>(g.x * g.y);
  l.ref_offset = 0;
  l.dist_offset = align_up(nblocks * sizeof(RefBlockSums));
  l.partials_offset = l.dist_offset + align_up(batch * nblocks * sizeof(DistBlockSums));
  l.bytes = l.partials_offset + align_up(batch * static_cast<std::size_t>(l.partials) * sizeof(double)) + kAlign;
  return l;
}

/// Σ op(a − b[i]) into *out[i] (zeroed by the caller) for the n ≤ kBatch components of `batch`.
Result launch_diff_sum(const ConstVideoComponent& a, const DistortedBatch& batch, int n, detail::DiffOp op,
                       cudaStream_t stream, const char* where) {
  if (a.width == 0 || a.height == 0) return Result{};
  const dim3 g = diff_grid(a.width, a.height), block(kTileX, kTileY);
  const dim3 grid(g.x, g.y, static_cast<unsigned>(n));
  if (op == detail::DiffOp::Squared)
    detail::diff_sum_kernel<detail::DiffOp::Squared><<<grid, block, 0, stream>>>(view(a), batch);
  else
    detail::diff_sum_kernel<detail::DiffOp::Absolute><<<grid, block, 0, stream>>>(view(a), batch);
  return check_launch(stream, where);
}

/// The SSE and SSIM launches of up to kBatch distorted components against
/// the reference's block sums in the workspace (already computed).
Result compare_batch(const ConstVideoComponent& ref, const ConstVideoComponent* dist, ComponentSums* const* sums, int n,
                     const Layout& l, std::uintptr_t base, cudaStream_t stream) {
  DistortedBatch batch{};
  for (int i = 0; i < n; ++i) {
    batch.dist[i] = view(dist[i]);
    batch.sums[i] = sums[i];
    batch.out[i] = reinterpret_cast<unsigned long long*>(&sums[i]->sse);
  }
  const unsigned z = static_cast<unsigned>(n);
  detail::zero_sums_kernel<<<1, z, 0, stream>>>(batch);
  Result r = check_launch(stream, "sums reset launch");
  if (!r || ref.width == 0 || ref.height == 0) return r;
  r = launch_diff_sum(ref, batch, n, detail::DiffOp::Squared, stream, "SSE kernel launch");
  if (!r) return r;
  auto* ref_blocks = reinterpret_cast<const RefBlockSums*>(base + l.ref_offset);
  auto* dist_blocks = reinterpret_cast<DistBlockSums*>(base + l.dist_offset);
  auto* partials = reinterpret_cast<double*>(base + l.partials_offset);
  const int bw = ssim_blocks(ref.width), bh = ssim_blocks(ref.height);
  const int ww = ssim_windows_along(ref.width), wh = ssim_windows_along(ref.height);
  const dim3 block(kTileX, kTileY);
  int npartials = 0;
  if (ww > 0 && wh > 0) {
    const dim3 bg = cover_grid(bw, bh), wg = cover_grid(ww, wh);
    detail::ssim_dist_block_sums_kernel<<<dim3(bg.x, bg.y, z), block, 0, stream>>>(view(ref), batch, dist_blocks, bw, bh);
    r = check_launch(stream, "SSIM distorted block sums kernel launch");
    if (!r) return r;
    const int max = (1 << ref.depth) - 1;
    detail::ssim_windows_kernel<<<dim3(wg.x, wg.y, z), block, 0, stream>>>(ref_blocks, dist_blocks, bw, bh, ww, wh,
                                                                          ssim_c1(max), ssim_c2(max), partials);
    r = check_launch(stream, "SSIM windows kernel launch");
    if (!r) return r;
    npartials = l.partials;
  }
  const unsigned long long windows = static_cast<unsigned long long>(ww) * static_cast<unsigned long long>(wh);
  const unsigned long long samples =
      static_cast<unsigned long long>(ref.width) * static_cast<unsigned long long>(ref.height);
  detail::ssim_final_kernel<<<z, block, 0, stream>>>(partials, npartials, windows, samples, batch);
  return check_launch(stream, "SSIM final reduction launch");
}

}  // namespace

std::size_t workspace_size(int width, int height, int distorted) { return layout_for(width, height, distorted).bytes; }

std::size_t workspace_size(int width, int height) { return workspace_size(width, height, 1); }

Result compare_components(const ConstVideoComponent& ref, const ConstVideoComponent* dist, int n,
                          ComponentSums* const* sums, void* workspace, std::size_t workspace_bytes,
                          cudaStream_t stream) {
  if (n < 0 || (n > 0 && (!dist || !sums))) return fail(Status::InvalidArgument, "compare_components: null list");
  for (int i = 0; i < n; ++i) {
    Result r = check_pair(ref, dist[i], "compare_components arguments");
    if (!r) return r;
    if (!sums[i]) return fail(Status::InvalidArgument, "compare_components: null sums");
  }
  if (n == 0) return Result{};
  const Layout l = layout_for(ref.width, ref.height, n);
  if (l.bytes > 0 && !workspace) return fail(Status::InvalidArgument, "compare_components: null workspace");
  if (workspace_bytes < l.bytes) return fail(Status::WorkspaceTooSmall, "compare_components workspace");
  if (cover_grid(ssim_blocks(ref.width), ssim_blocks(ref.height)).y > kMaxGridY)
    return fail(Status::InvalidArgument, "compare_components: too many rows");

  // Workspace addresses, aligned whatever the caller's pointer.
  const std::uintptr_t base = align_up(reinterpret_cast<std::uintptr_t>(workspace));
  const int bw = ssim_blocks(ref.width), bh = ssim_blocks(ref.height);
  if (ssim_windows_along(ref.width) > 0 && ssim_windows_along(ref.height) > 0) {
    // The reference's block sums: once, for every batch.
    detail::ssim_ref_block_sums_kernel<<<cover_grid(bw, bh), dim3(kTileX, kTileY), 0, stream>>>(
        view(ref), reinterpret_cast<RefBlockSums*>(base + l.ref_offset), bw, bh);
    Result r = check_launch(stream, "SSIM reference block sums kernel launch");
    if (!r) return r;
  }
  for (int first = 0; first < n; first += detail::kBatch) {
    Result r = compare_batch(ref, dist + first, sums + first, std::min(detail::kBatch, n - first), l, base, stream);
    if (!r) return r;
  }
  return Result{};
}

Result compare_component(const ConstVideoComponent& ref, const ConstVideoComponent& dist, ComponentSums* sums,
                         void* workspace, std::size_t workspace_bytes, cudaStream_t stream) {
  if (!sums) return fail(Status::InvalidArgument, "compare_component: null sums");
  return compare_components(ref, &dist, 1, &sums, workspace, workspace_bytes, stream);
}

Result sum_abs_diff(const ConstVideoComponent& a, const ConstVideoComponent& b, unsigned long long* sum,
                    cudaStream_t stream) {
  Result r = check_pair(a, b, "sum_abs_diff arguments");
  if (!r) return r;
  if (!sum) return fail(Status::InvalidArgument, "sum_abs_diff: null sum");
  cudaError_t e = cudaMemsetAsync(sum, 0, sizeof(*sum), stream);
  if (e != cudaSuccess) return fail(Status::CudaError, "sum_abs_diff cudaMemsetAsync", e);
  DistortedBatch batch{};
  batch.dist[0] = view(b);
  batch.out[0] = sum;
  return launch_diff_sum(a, batch, 1, detail::DiffOp::Absolute, stream, "absolute difference kernel launch");
}

}  // namespace iir2d::quality::cuda
