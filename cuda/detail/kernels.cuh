// SPDX-License-Identifier: MIT
/**
 * @file kernels.cuh
 * @brief Thin __global__ entry points (second layer from the bottom). Each
 *        takes one parameter struct by value, bounds-checks its thread index
 *        first, builds the per-thread views and calls a device helper.
 *
 * Included by dispatch.cu only (needs nvcc).
 */
#pragma once

#include <cstddef>

#include "detail/sequence.cuh"
#include "detail/video_samples.cuh"

namespace iir2d::cuda::detail {

/// Parameters shared by both 1-D passes.
template <typename Store, typename Acc>
struct ProgramLaunch {
  ProgramCoef<Acc> program;
  BorderInit init;
  ExactShape shape;
  Border border;
  Store constant;  ///< border constant in the I/O type
  int extension;   ///< L of section 3a (exact only)
};

/**
 * One pass over `count` sequences of length n, one thread per sequence.
 * Sequence s, element k lives at base + s * seq_stride + k * elem_stride
 * (strides in elements), so the same kernel runs rows and columns.
 * Scratch element k of sequence s is scratch[k * count + s].
 */
template <typename Store, typename Acc>
struct PlanePassParams {
  const Store* src;
  std::ptrdiff_t src_seq_stride, src_elem_stride;
  Store* dst;
  std::ptrdiff_t dst_seq_stride, dst_elem_stride;
  Store* scratch;
  int n;
  int count;
  ProgramLaunch<Store, Acc> prog;
};

template <typename Store, typename Acc>
__global__ void plane_pass_kernel(const PlanePassParams<Store, Acc> p) {
  const long long s = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (s >= p.count) return;
  const StridedSeq<const Store> in{p.src + s * p.src_seq_stride, p.src_elem_stride};
  const StridedSeq<Store> out{p.dst + s * p.dst_seq_stride, p.dst_elem_stride};
  const StridedSeq<Store> scratch{p.scratch + s, static_cast<std::ptrdiff_t>(p.count)};
  run_program<Store, Acc>(p.prog.program, p.prog.init, p.prog.shape, in, out, scratch, p.n, p.prog.extension,
                          p.prog.border, p.prog.constant);
}

/**
 * Horizontal pass of a video component: reads integer samples, normalises
 * them (section 5) and filters each row into a Store plane.
 */
template <typename Store, typename Acc>
struct VideoRowPassParams {
  const unsigned char* src;
  std::ptrdiff_t src_row_stride, src_pixel_stride;  ///< bytes
  SampleFormat format;
  Store max_code;
  Store* dst;
  std::ptrdiff_t dst_row_stride;  ///< elements
  Store* scratch;
  int width;
  int height;
  ProgramLaunch<Store, Acc> prog;
};

template <typename Store, typename Acc>
__global__ void video_row_pass_kernel(const VideoRowPassParams<Store, Acc> p) {
  const long long row = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (row >= p.height) return;
  const NormalisedCodeSeq<Store> in{p.src + row * p.src_row_stride, p.src_pixel_stride, p.format, p.max_code};
  const StridedSeq<Store> out{p.dst + row * p.dst_row_stride, 1};
  const StridedSeq<Store> scratch{p.scratch + row, static_cast<std::ptrdiff_t>(p.height)};
  run_program<Store, Acc>(p.prog.program, p.prog.init, p.prog.shape, in, out, scratch, p.width, p.prog.extension,
                          p.prog.border, p.prog.constant);
}

/// Blend of the filtered plane with the input samples, written as codes.
template <typename Store, typename Acc>
struct VideoBlendParams {
  const Store* filtered;
  std::ptrdiff_t filtered_row_stride;  ///< elements
  const unsigned char* src;
  std::ptrdiff_t src_row_stride, src_pixel_stride;  ///< bytes
  unsigned char* dst;
  std::ptrdiff_t dst_row_stride, dst_pixel_stride;  ///< bytes
  SampleFormat format;
  Store max_code;
  double max_code_d;
  Acc strength, one_minus_strength;
  int width;
  int height;
};

template <typename Store, typename Acc>
__global__ void video_blend_kernel(const VideoBlendParams<Store, Acc> p) {
  const int x = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
  if (x >= p.width) return;
  for (long long y = static_cast<long long>(blockIdx.y) * blockDim.y + threadIdx.y; y < p.height;
       y += static_cast<long long>(gridDim.y) * blockDim.y) {
    const unsigned char* s = p.src + y * p.src_row_stride + x * p.src_pixel_stride;
    const Store xs = normalise_code<Store>(load_code(s, p.format), p.max_code);
    const Store f = p.filtered[y * p.filtered_row_stride + x];
    const unsigned v = blend_and_quantise<Store, Acc>(f, xs, p.strength, p.one_minus_strength, p.max_code_d);
    store_code(p.dst + y * p.dst_row_stride + x * p.dst_pixel_stride, p.format, v);
  }
}

/// Sample-by-sample copy of a component whose samples are not contiguous.
struct CopySamplesParams {
  const unsigned char* src;
  std::ptrdiff_t src_row_stride, src_pixel_stride;
  unsigned char* dst;
  std::ptrdiff_t dst_row_stride, dst_pixel_stride;
  int sample_bytes;
  int width;
  int height;
};

static __global__ void copy_samples_kernel(const CopySamplesParams p) {
  const int x = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
  if (x >= p.width) return;
  for (long long y = static_cast<long long>(blockIdx.y) * blockDim.y + threadIdx.y; y < p.height;
       y += static_cast<long long>(gridDim.y) * blockDim.y) {
    const unsigned char* s = p.src + y * p.src_row_stride + x * p.src_pixel_stride;
    unsigned char* d = p.dst + y * p.dst_row_stride + x * p.dst_pixel_stride;
    for (int b = 0; b < p.sample_bytes; ++b) d[b] = s[b];
  }
}

}  // namespace iir2d::cuda::detail
