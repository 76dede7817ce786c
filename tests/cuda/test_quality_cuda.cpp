// SPDX-License-Identifier: MIT
// Tier 2: the quality-metric kernels (cuda/iir2d/cuda_quality.h) against the
// CPU reference (refcpu/iir2d/quality.h) on seeded random planes: sizes 1×1,
// 7×9, 31/32/33, odd widths with padded strides, 1920×1080; 8-bit, 10-bit
// LSB and MSB (P010) words, interleaved chroma. SSE and |diff| sums must be
// equal; the SSIM window sum within 1e-12 relative (only its summation order
// differs). Skips with the reason where no CUDA device can be used.
#include <cuda_runtime_api.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <string>

#include "cuda_device.h"
#include "iir2d/cuda_quality.h"
#include "iir2d/quality.h"
#include "quality_cases.h"

namespace {

namespace q = iir2d::quality;
using iir2d::test::cuda_device_problem;
using qcases::HostPlane;

#define SKIP_WITHOUT_DEVICE()                                                                    \
  do {                                                                                           \
    if (!cuda_device_problem().empty()) GTEST_SKIP() << cuda_device_problem();                    \
  } while (0)

#define CUDA_OK(call) ASSERT_EQ((call), cudaSuccess) << #call

/// A host plane copied to device memory with the same layout, on `stream`
/// (the stream the kernels run on: the copy is ordered before them).
struct DevicePlane {
  void* ptr = nullptr;
  iir2d::ConstVideoComponent comp;
  DevicePlane(const HostPlane& h, cudaStream_t stream) {
    comp = h.comp;
    EXPECT_EQ(cudaMalloc(&ptr, h.bytes.size()), cudaSuccess);
    EXPECT_EQ(cudaMemcpyAsync(ptr, h.bytes.data(), h.bytes.size(), cudaMemcpyHostToDevice, stream), cudaSuccess);
    comp.data = ptr;
  }
  ~DevicePlane() { cudaFree(ptr); }
};

/// GPU sums of a pair, through the public API on a stream of our own. Every
/// set-up step (uploads, poison) is issued on that stream: a non-blocking
/// stream is not ordered after the legacy default stream, so a cudaMemset
/// there could land after the kernels (issue 10: 5 of 14 runs once showed
/// the 0x7f poison added to the right sums).
struct GpuRun {
  q::ComponentSums sums;
  unsigned long long abs_diff = 0;
};

GpuRun run_gpu(const HostPlane& r, const HostPlane& d) {
  GpuRun out;
  cudaStream_t stream = nullptr;
  EXPECT_EQ(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking), cudaSuccess);
  DevicePlane dr(r, stream), dd(d, stream);
  const std::size_t ws_bytes = q::cuda::workspace_size(r.comp.width, r.comp.height);
  void* ws = nullptr;
  q::ComponentSums* dsums = nullptr;
  unsigned long long* dabs = nullptr;
  EXPECT_EQ(cudaMalloc(&ws, std::max<std::size_t>(ws_bytes, 1)), cudaSuccess);
  EXPECT_EQ(cudaMalloc(reinterpret_cast<void**>(&dsums), sizeof *dsums), cudaSuccess);
  EXPECT_EQ(cudaMalloc(reinterpret_cast<void**>(&dabs), sizeof *dabs), cudaSuccess);
  // Poison the outputs: every field must be written.
  EXPECT_EQ(cudaMemsetAsync(dsums, 0x7f, sizeof *dsums, stream), cudaSuccess);
  EXPECT_EQ(cudaMemsetAsync(dabs, 0x7f, sizeof *dabs, stream), cudaSuccess);
  auto res = q::cuda::compare_component(dr.comp, dd.comp, dsums, ws, ws_bytes, stream);
  EXPECT_TRUE(res.ok()) << res.message();
  res = q::cuda::sum_abs_diff(dr.comp, dd.comp, dabs, stream);
  EXPECT_TRUE(res.ok()) << res.message();
  EXPECT_EQ(cudaMemcpyAsync(&out.sums, dsums, sizeof out.sums, cudaMemcpyDeviceToHost, stream), cudaSuccess);
  EXPECT_EQ(cudaMemcpyAsync(&out.abs_diff, dabs, sizeof out.abs_diff, cudaMemcpyDeviceToHost, stream), cudaSuccess);
  EXPECT_EQ(cudaStreamSynchronize(stream), cudaSuccess);
  cudaFree(ws);
  cudaFree(dsums);
  cudaFree(dabs);
  cudaStreamDestroy(stream);
  return out;
}

struct Case {
  int width, height, depth, shift, pixel_stride;
  const char* name;
};

class QualityCuda : public ::testing::TestWithParam<Case> {};

TEST_P(QualityCuda, MatchesRefcpuOnRandomPlanes) {
  SKIP_WITHOUT_DEVICE();
  const Case c = GetParam();
  HostPlane r(c.width, c.height, c.depth, c.shift, c.pixel_stride), d(c.width, c.height, c.depth, c.shift,
                                                                       c.pixel_stride);
  std::mt19937 rng(c.width * 7919 + c.height * 31 + c.depth);
  const unsigned max = (1u << c.depth) - 1;
  std::uniform_int_distribution<unsigned> code(0, max), noise(0, 24);
  for (int y = 0; y < c.height; ++y)
    for (int x = 0; x < c.width; ++x) {
      const unsigned v = code(rng);
      r.set(x, y, v);
      d.set(x, y, std::min(max, v + noise(rng)));  // correlated, like a filtered frame
    }
  const q::ComponentSums cpu = q::compare_component(r.comp, d.comp);
  const unsigned long long cpu_abs = q::sum_abs_diff(r.comp, d.comp);
  const GpuRun gpu = run_gpu(r, d);
  EXPECT_EQ(gpu.sums.sse, cpu.sse);
  EXPECT_EQ(gpu.sums.samples, cpu.samples);
  EXPECT_EQ(gpu.sums.ssim_windows, cpu.ssim_windows);
  EXPECT_EQ(gpu.abs_diff, cpu_abs);
  const double rel = cpu.ssim_sum != 0 ? std::fabs(gpu.sums.ssim_sum - cpu.ssim_sum) / std::fabs(cpu.ssim_sum)
                                       : std::fabs(gpu.sums.ssim_sum);
  EXPECT_LE(rel, 1e-12) << "cpu " << cpu.ssim_sum << " gpu " << gpu.sums.ssim_sum;
  std::printf("[ quality  ] %-22s sse %llu (equal), ssim sum relative difference %.3g\n", c.name,
              static_cast<unsigned long long>(cpu.sse), rel);
}

INSTANTIATE_TEST_SUITE_P(Sizes, QualityCuda,
                         ::testing::Values(Case{1, 1, 8, 0, 1, "u8_1x1"}, Case{7, 9, 8, 0, 1, "u8_7x9"},
                                           Case{31, 33, 8, 0, 1, "u8_31x33"}, Case{32, 32, 8, 0, 1, "u8_32x32"},
                                           Case{33, 31, 8, 0, 1, "u8_33x31"}, Case{173, 97, 8, 0, 1, "u8_173x97"},
                                           Case{1920, 1080, 8, 0, 1, "u8_1920x1080"},
                                           Case{960, 540, 8, 0, 2, "u8_nv12_chroma_960x540"},
                                           Case{641, 359, 10, 0, 1, "u10_lsb_641x359"},
                                           Case{1920, 1080, 10, 6, 1, "p010_luma_1920x1080"},
                                           Case{960, 540, 10, 6, 2, "p010_chroma_960x540"},
                                           Case{257, 129, 16, 0, 1, "u16_257x129"}),
                         [](const auto& i) { return std::string(i.param.name); });

TEST(QualityCudaClosedForms, OneWrongPixelAndIdentical) {
  SKIP_WITHOUT_DEVICE();
  HostPlane r(64, 48, 8), d(64, 48, 8);
  r.fill(100);
  d.fill(100);
  GpuRun g = run_gpu(r, d);
  EXPECT_EQ(g.sums.sse, 0u);
  EXPECT_EQ(g.sums.ssim_sum / g.sums.ssim_windows, 1.0);
  d.set(20, 20, 150);
  g = run_gpu(r, d);
  EXPECT_EQ(g.sums.sse, 2500u);
  EXPECT_NEAR(g.sums.ssim_sum / g.sums.ssim_windows,
              (161 + 4 * qcases::ssim_one_wrong(100, 50, qcases::kC1_8, qcases::kC2_8)) / 165, 1e-15);
}

TEST(QualityCudaErrors, BadArgumentsAreRefusedBeforeAnyLaunch) {
  // Runs without a device too: argument checks come before any CUDA call.
  HostPlane a(16, 16, 8), b(16, 17, 8);
  q::ComponentSums* sums = reinterpret_cast<q::ComponentSums*>(0x1000);  // never touched
  auto r = q::cuda::compare_component(a.comp, b.comp, sums, nullptr, 0, nullptr);
  EXPECT_EQ(r.status, q::cuda::Status::InvalidArgument);
  r = q::cuda::compare_component(a.comp, a.comp, sums, nullptr, 0, nullptr);
  EXPECT_EQ(r.status, q::cuda::Status::InvalidArgument) << "null workspace";
  char ws[8];
  r = q::cuda::compare_component(a.comp, a.comp, sums, ws, sizeof ws, nullptr);
  EXPECT_EQ(r.status, q::cuda::Status::WorkspaceTooSmall);
  r = q::cuda::sum_abs_diff(a.comp, b.comp, nullptr, nullptr);
  EXPECT_EQ(r.status, q::cuda::Status::InvalidArgument);
  EXPECT_EQ(q::cuda::workspace_size(0, 10), 0u);
  EXPECT_GT(q::cuda::workspace_size(3, 3), 0u);
}

}  // namespace
