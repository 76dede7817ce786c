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
#include "iir2d/cuda_quality.h"
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

/// Distorted components per launch: the batch travels by value as a kernel
/// parameter (blockIdx.z picks one), so that no host array has to be copied
/// to the device first. Longer lists run as several batches.
constexpr int kBatch = kMaxBatch;

/// The distorted side of one launch: components and, per component, where
/// its result goes (device memory).
struct DistortedBatch {
  ComponentView dist[kBatch];
  unsigned long long* out[kBatch];  // diff_sum_kernel: the sum of op(a − b)
  ComponentSums* sums[kBatch];      // ssim_final_kernel: the component's sums
};

/// Zeroes the sums of the batch's components (one thread each), before the atomic SSE sums.
__global__ void zero_sums_kernel(DistortedBatch batch) { *batch.sums[threadIdx.x] = ComponentSums{}; }

/// *out[z] += Σ op(a − b[z]) over every sample (grid-stride over a 2-D grid of 32×8 tiles; z: the distorted one).
template <DiffOp op>
__global__ void diff_sum_kernel(ComponentView a, DistortedBatch batch) {
  const ComponentView& b = batch.dist[blockIdx.z];
  unsigned long long acc = 0;
  for (int y = blockIdx.y * kTileY + threadIdx.y; y < a.height; y += gridDim.y * kTileY)
    for (int x = blockIdx.x * kTileX + threadIdx.x; x < a.width; x += gridDim.x * kTileX) {
      const long long d = a.code(x, y) - b.code(x, y);
      acc += static_cast<unsigned long long>(op == DiffOp::Squared ? d * d : (d < 0 ? -d : d));
    }
  acc = block_sum(acc);
  if (threadIdx.x == 0 && threadIdx.y == 0 && acc != 0) atomicAdd(batch.out[blockIdx.z], acc);
}

/// The reference's sums of one 4×4 block, computed once for every distorted component: Σr, Σr².
struct RefBlockSums {
  long long s1, ss;
};

/// A distorted component's sums of one 4×4 block against the reference: Σd, Σd², Σr·d.
struct DistBlockSums {
  long long s2, ss, s12;
};

/// One thread per complete 4×4 block of the bw×bh grid of blocks: the reference's sums.
__global__ void ssim_ref_block_sums_kernel(ComponentView r, RefBlockSums* blocks, int bw, int bh) {
  const int bx = blockIdx.x * kTileX + threadIdx.x;
  const int by = blockIdx.y * kTileY + threadIdx.y;
  if (bx >= bw || by >= bh) return;
  RefBlockSums s{0, 0};
  for (int y = 4 * by; y < 4 * by + 4; ++y)
    for (int x = 4 * bx; x < 4 * bx + 4; ++x) {
      const long long a = r.code(x, y);
      s.s1 += a;
      s.ss += a * a;
    }
  blocks[static_cast<std::size_t>(by) * bw + bx] = s;
}

/// One thread per complete 4×4 block and distorted component z: its sums,
/// into blocks + z·bw·bh.
__global__ void ssim_dist_block_sums_kernel(ComponentView r, DistortedBatch batch, DistBlockSums* blocks, int bw,
                                            int bh) {
  const int bx = blockIdx.x * kTileX + threadIdx.x;
  const int by = blockIdx.y * kTileY + threadIdx.y;
  if (bx >= bw || by >= bh) return;
  const ComponentView& d = batch.dist[blockIdx.z];
  DistBlockSums s{0, 0, 0};
  for (int y = 4 * by; y < 4 * by + 4; ++y)
    for (int x = 4 * bx; x < 4 * bx + 4; ++x) {
      const long long a = r.code(x, y), b = d.code(x, y);
      s.s2 += b;
      s.ss += b * b;
      s.s12 += a * b;
    }
  blocks[static_cast<std::size_t>(blockIdx.z) * bw * bh + static_cast<std::size_t>(by) * bw + bx] = s;
}

/// One thread per 8×8 window (2×2 blocks) of the ww×wh grid and distorted
/// component z; one partial sum per thread block, into partials + z·(gridDim.x·gridDim.y).
/// The integer window sums are those of one pass over both components (Σr² + Σd² is exact).
__global__ void ssim_windows_kernel(const RefBlockSums* ref, const DistBlockSums* dist, int bw, int bh, int ww, int wh,
                                    long long c1, long long c2, double* partials) {
  const int x = blockIdx.x * kTileX + threadIdx.x;
  const int y = blockIdx.y * kTileY + threadIdx.y;
  const DistBlockSums* d = dist + static_cast<std::size_t>(blockIdx.z) * bw * bh;
  double v = 0.0;
  if (x < ww && y < wh) {
    long long s1 = 0, s2 = 0, ss = 0, s12 = 0;
    for (int dy = 0; dy < 2; ++dy)
      for (int dx = 0; dx < 2; ++dx) {
        const std::size_t i = static_cast<std::size_t>(y + dy) * bw + (x + dx);
        s1 += ref[i].s1;
        ss += ref[i].ss + d[i].ss;
        s2 += d[i].s2;
        s12 += d[i].s12;
      }
    v = ssim_window(s1, s2, ss, s12, c1, c2);
  }
  v = block_sum(v);
  const unsigned per_z = gridDim.x * gridDim.y;
  if (threadIdx.x == 0 && threadIdx.y == 0) partials[blockIdx.z * per_z + blockIdx.y * gridDim.x + blockIdx.x] = v;
}

/// One block per distorted component (blockIdx.x): sums its n partials in a
/// fixed order and completes its sums (sse is written by diff_sum_kernel).
__global__ void ssim_final_kernel(const double* partials, int n, unsigned long long windows,
                                  unsigned long long samples, DistortedBatch batch) {
  const int tid = threadIdx.y * blockDim.x + threadIdx.x;
  const double* p = partials + static_cast<std::size_t>(blockIdx.x) * n;
  double v = 0.0;
  for (int i = tid; i < n; i += kThreads) v += p[i];
  v = block_sum(v);
  if (tid == 0) {
    ComponentSums* out = batch.sums[blockIdx.x];
    out->ssim_sum = v;
    out->ssim_windows = windows;
    out->samples = samples;
  }
}

}  // namespace iir2d::quality::cuda::detail
