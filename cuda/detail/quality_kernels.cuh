// SPDX-License-Identifier: MIT
/**
 * @file quality_kernels.cuh
 * @brief Thin __global__ entry points and device helpers of the quality
 *        metrics (iir2d/cuda_quality.h). Launched by quality.cu only.
 *
 * Every kernel checks its bounds first and reads samples through
 * detail::load_code (video_samples.cuh), so any sample type, shift and pixel
 * stride works. Reductions: integer sums go through one atomicAdd per thread
 * block (exact, order-free); the double SSIM sum goes through a fixed shared
 * memory tree per block, then one block over the partials (deterministic).
 */
#pragma once

#include <cstddef>
#include <cstdint>

#include "detail/video_samples.cuh"
#include "iir2d/quality.h"

namespace iir2d::quality::cuda::detail {

using iir2d::cuda::detail::load_code;
using iir2d::cuda::detail::SampleFormat;

/// Threads per block of every quality kernel (a 32×8 tile).
constexpr int kTileX = 32;
constexpr int kTileY = 8;
constexpr int kThreads = kTileX * kTileY;

/// A device component with its sample format resolved.
struct ComponentView {
  const unsigned char* data;
  int width;
  int height;
  std::ptrdiff_t row_stride;
  std::ptrdiff_t pixel_stride;
  SampleFormat format;

  __device__ __forceinline__ long long code(int x, int y) const {
    return static_cast<long long>(load_code(
        data + static_cast<std::ptrdiff_t>(y) * row_stride + static_cast<std::ptrdiff_t>(x) * pixel_stride, format));
  }
};

/// Sums of one 4×4 block: Σr, Σd, Σr² + Σd², Σr·d.
struct BlockSums {
  long long s1, s2, ss, s12;
};

/// Sum over the kThreads threads of a block, in a fixed order; every thread must call it. Valid in thread 0.
template <typename T>
__device__ T block_sum(T v) {
  __shared__ T shared[kThreads];
  const int tid = threadIdx.y * blockDim.x + threadIdx.x;
  shared[tid] = v;
  __syncthreads();
  for (int half = kThreads / 2; half > 0; half /= 2) {
    if (tid < half) shared[tid] += shared[tid + half];
    __syncthreads();
  }
  return shared[0];
}

enum class DiffOp : int { Squared = 0, Absolute = 1 };

/// *out += Σ op(a − b) over every sample (grid-stride over a 2-D grid of 32×8 tiles).
template <DiffOp op>
__global__ void diff_sum_kernel(ComponentView a, ComponentView b, unsigned long long* out) {
  unsigned long long acc = 0;
  for (int y = blockIdx.y * kTileY + threadIdx.y; y < a.height; y += gridDim.y * kTileY)
    for (int x = blockIdx.x * kTileX + threadIdx.x; x < a.width; x += gridDim.x * kTileX) {
      const long long d = a.code(x, y) - b.code(x, y);
      acc += static_cast<unsigned long long>(op == DiffOp::Squared ? d * d : (d < 0 ? -d : d));
    }
  acc = block_sum(acc);
  if (threadIdx.x == 0 && threadIdx.y == 0 && acc != 0) atomicAdd(out, acc);
}

/// One thread per complete 4×4 block of the bw×bh grid of blocks.
__global__ void ssim_block_sums_kernel(ComponentView r, ComponentView d, BlockSums* blocks, int bw, int bh) {
  const int bx = blockIdx.x * kTileX + threadIdx.x;
  const int by = blockIdx.y * kTileY + threadIdx.y;
  if (bx >= bw || by >= bh) return;
  BlockSums s{0, 0, 0, 0};
  for (int y = 4 * by; y < 4 * by + 4; ++y)
    for (int x = 4 * bx; x < 4 * bx + 4; ++x) {
      const long long a = r.code(x, y), b = d.code(x, y);
      s.s1 += a;
      s.s2 += b;
      s.ss += a * a + b * b;
      s.s12 += a * b;
    }
  blocks[static_cast<std::size_t>(by) * bw + bx] = s;
}

/// One thread per 8×8 window (2×2 blocks) of the ww×wh grid; one partial sum per thread block.
__global__ void ssim_windows_kernel(const BlockSums* blocks, int bw, int ww, int wh, long long c1, long long c2,
                                    double* partials) {
  const int x = blockIdx.x * kTileX + threadIdx.x;
  const int y = blockIdx.y * kTileY + threadIdx.y;
  double v = 0.0;
  if (x < ww && y < wh) {
    long long s1 = 0, s2 = 0, ss = 0, s12 = 0;
    for (int dy = 0; dy < 2; ++dy)
      for (int dx = 0; dx < 2; ++dx) {
        const BlockSums& b = blocks[static_cast<std::size_t>(y + dy) * bw + (x + dx)];
        s1 += b.s1;
        s2 += b.s2;
        ss += b.ss;
        s12 += b.s12;
      }
    v = ssim_window(s1, s2, ss, s12, c1, c2);
  }
  v = block_sum(v);
  if (threadIdx.x == 0 && threadIdx.y == 0) partials[blockIdx.y * gridDim.x + blockIdx.x] = v;
}

/// One block: sums the n partials in a fixed order and completes *out (sse is written by diff_sum_kernel).
__global__ void ssim_final_kernel(const double* partials, int n, unsigned long long windows,
                                  unsigned long long samples, ComponentSums* out) {
  const int tid = threadIdx.y * blockDim.x + threadIdx.x;
  double v = 0.0;
  for (int i = tid; i < n; i += kThreads) v += partials[i];
  v = block_sum(v);
  if (tid == 0) {
    out->ssim_sum = v;
    out->ssim_windows = windows;
    out->samples = samples;
  }
}

}  // namespace iir2d::quality::cuda::detail
