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

using detail::BlockSums;
using detail::ComponentView;
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

struct Layout {
  std::size_t blocks_offset = 0, partials_offset = 0, bytes = 0;
  int partials = 0;
};

Layout layout_for(int width, int height) {
  Layout l;
  if (width <= 0 || height <= 0) return l;
  const std::size_t nblocks =
      static_cast<std::size_t>(ssim_blocks(width)) * static_cast<std::size_t>(ssim_blocks(height));
  const dim3 g = cover_grid(ssim_windows_along(width), ssim_windows_along(height));
  l.partials = static_cast<int>(g.x * g.y);
  l.blocks_offset = 0;
  l.partials_offset = align_up(nblocks * sizeof(BlockSums));
  l.bytes = l.partials_offset + align_up(static_cast<std::size_t>(l.partials) * sizeof(double)) + kAlign;
  return l;
}

Result launch_diff_sum(const ConstVideoComponent& a, const ConstVideoComponent& b, unsigned long long* out,
                       detail::DiffOp op, cudaStream_t stream, const char* where) {
  if (a.width == 0 || a.height == 0) return Result{};
  const dim3 grid = diff_grid(a.width, a.height), block(kTileX, kTileY);
  if (op == detail::DiffOp::Squared)
    detail::diff_sum_kernel<detail::DiffOp::Squared><<<grid, block, 0, stream>>>(view(a), view(b), out);
  else
    detail::diff_sum_kernel<detail::DiffOp::Absolute><<<grid, block, 0, stream>>>(view(a), view(b), out);
  return check_launch(stream, where);
}

}  // namespace

std::size_t workspace_size(int width, int height) { return layout_for(width, height).bytes; }

Result compare_component(const ConstVideoComponent& ref, const ConstVideoComponent& dist, ComponentSums* sums,
                         void* workspace, std::size_t workspace_bytes, cudaStream_t stream) {
  Result r = check_pair(ref, dist, "compare_component arguments");
  if (!r) return r;
  if (!sums) return fail(Status::InvalidArgument, "compare_component: null sums");
  const Layout l = layout_for(ref.width, ref.height);
  if (l.bytes > 0 && !workspace) return fail(Status::InvalidArgument, "compare_component: null workspace");
  if (workspace_bytes < l.bytes) return fail(Status::WorkspaceTooSmall, "compare_component workspace");

  cudaError_t e = cudaMemsetAsync(sums, 0, sizeof(ComponentSums), stream);
  if (e != cudaSuccess) return fail(Status::CudaError, "compare_component cudaMemsetAsync", e);
  if (ref.width == 0 || ref.height == 0) return Result{};

  r = launch_diff_sum(ref, dist, reinterpret_cast<unsigned long long*>(&sums->sse), detail::DiffOp::Squared, stream,
                      "SSE kernel launch");
  if (!r) return r;

  // Workspace addresses, aligned whatever the caller's pointer.
  const std::uintptr_t base = align_up(reinterpret_cast<std::uintptr_t>(workspace));
  auto* blocks = reinterpret_cast<BlockSums*>(base + l.blocks_offset);
  auto* partials = reinterpret_cast<double*>(base + l.partials_offset);
  const int bw = ssim_blocks(ref.width), bh = ssim_blocks(ref.height);
  const int ww = ssim_windows_along(ref.width), wh = ssim_windows_along(ref.height);
  const dim3 block(kTileX, kTileY);
  int npartials = 0;
  if (ww > 0 && wh > 0) {
    if (cover_grid(ww, wh).y > kMaxGridY) return fail(Status::InvalidArgument, "compare_component: too many rows");
    detail::ssim_block_sums_kernel<<<cover_grid(bw, bh), block, 0, stream>>>(view(ref), view(dist), blocks, bw, bh);
    r = check_launch(stream, "SSIM block sums kernel launch");
    if (!r) return r;
    const int max = (1 << ref.depth) - 1;
    detail::ssim_windows_kernel<<<cover_grid(ww, wh), block, 0, stream>>>(blocks, bw, ww, wh, ssim_c1(max),
                                                                            ssim_c2(max), partials);
    r = check_launch(stream, "SSIM windows kernel launch");
    if (!r) return r;
    npartials = l.partials;
  }
  const unsigned long long windows = static_cast<unsigned long long>(ww) * static_cast<unsigned long long>(wh);
  const unsigned long long samples =
      static_cast<unsigned long long>(ref.width) * static_cast<unsigned long long>(ref.height);
  detail::ssim_final_kernel<<<1, block, 0, stream>>>(partials, npartials, windows, samples, sums);
  return check_launch(stream, "SSIM final reduction launch");
}

Result sum_abs_diff(const ConstVideoComponent& a, const ConstVideoComponent& b, unsigned long long* sum,
                    cudaStream_t stream) {
  Result r = check_pair(a, b, "sum_abs_diff arguments");
  if (!r) return r;
  if (!sum) return fail(Status::InvalidArgument, "sum_abs_diff: null sum");
  cudaError_t e = cudaMemsetAsync(sum, 0, sizeof(*sum), stream);
  if (e != cudaSuccess) return fail(Status::CudaError, "sum_abs_diff cudaMemsetAsync", e);
  return launch_diff_sum(a, b, sum, detail::DiffOp::Absolute, stream, "absolute difference kernel launch");
}

}  // namespace iir2d::quality::cuda
