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
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

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

/// n distorted planes against one reference, through compare_components()
/// in one call and through n compare_component() calls, on one stream.
struct ManyRun {
  std::vector<q::ComponentSums> shared, single;
};

ManyRun run_many(const HostPlane& r, const std::vector<HostPlane>& d) {
  const int n = static_cast<int>(d.size());
  ManyRun out;
  out.shared.resize(d.size());
  out.single.resize(d.size());
  cudaStream_t stream = nullptr;
  EXPECT_EQ(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking), cudaSuccess);
  DevicePlane dr(r, stream);
  std::vector<std::unique_ptr<DevicePlane>> dd;
  std::vector<iir2d::ConstVideoComponent> comps;
  for (const HostPlane& h : d) {
    dd.push_back(std::make_unique<DevicePlane>(h, stream));
    comps.push_back(dd.back()->comp);
  }
  const std::size_t ws_bytes = q::cuda::workspace_size(r.comp.width, r.comp.height, n);
  void* ws = nullptr;
  q::ComponentSums* dsums = nullptr;  // n shared results, then n single ones
  EXPECT_EQ(cudaMalloc(&ws, std::max<std::size_t>(ws_bytes, 1)), cudaSuccess);
  EXPECT_EQ(cudaMalloc(reinterpret_cast<void**>(&dsums), 2 * n * sizeof *dsums), cudaSuccess);
  EXPECT_EQ(cudaMemsetAsync(dsums, 0x7f, 2 * n * sizeof *dsums, stream), cudaSuccess);  // poison
  std::vector<q::ComponentSums*> ptrs(d.size());
  for (int i = 0; i < n; ++i) ptrs[i] = dsums + (n - 1 - i);  // reversed: each result goes where it is asked to
  auto res = q::cuda::compare_components(dr.comp, comps.data(), n, ptrs.data(), ws, ws_bytes, stream);
  EXPECT_TRUE(res.ok()) << res.message();
  for (int i = 0; i < n; ++i) {
    res = q::cuda::compare_component(dr.comp, comps[i], dsums + n + i, ws, ws_bytes, stream);
    EXPECT_TRUE(res.ok()) << res.message();
  }
  std::vector<q::ComponentSums> host(2 * d.size());
  EXPECT_EQ(cudaMemcpyAsync(host.data(), dsums, 2 * n * sizeof *dsums, cudaMemcpyDeviceToHost, stream), cudaSuccess);
  EXPECT_EQ(cudaStreamSynchronize(stream), cudaSuccess);
  for (int i = 0; i < n; ++i) {
    out.shared[i] = host[n - 1 - i];
    out.single[i] = host[n + i];
  }
  cudaFree(ws);
  cudaFree(dsums);
  cudaStreamDestroy(stream);
  return out;
}

struct ManyCase {
  int width, height, depth, shift, pixel_stride, n;
  const char* name;
};

class QualityCudaMany : public ::testing::TestWithParam<ManyCase> {};

/* One reference against n distorted planes (each with its own noise and row
 * padding): every result of the shared launch is bit-identical to its own
 * compare_component() and equals the CPU's sums (SSIM sum within 1e-12). n
 * of 9 and 17 cross the batches of kMaxBatch. */
TEST_P(QualityCudaMany, SharedReferenceEqualsSingleLaunchesAndRefcpu) {
  SKIP_WITHOUT_DEVICE();
  const ManyCase c = GetParam();
  HostPlane r(c.width, c.height, c.depth, c.shift, c.pixel_stride);
  std::vector<HostPlane> d;
  d.reserve(static_cast<std::size_t>(c.n));  // the planes' views point into their own bytes
  for (int i = 0; i < c.n; ++i) d.emplace_back(c.width, c.height, c.depth, c.shift, c.pixel_stride, 3 + 2 * i);
  std::mt19937 rng(c.width * 131 + c.height * 7 + c.n);
  const unsigned max = (1u << c.depth) - 1;
  std::uniform_int_distribution<unsigned> code(0, max);
  for (int y = 0; y < c.height; ++y)
    for (int x = 0; x < c.width; ++x) {
      const unsigned v = code(rng);
      r.set(x, y, v);
      for (int i = 0; i < c.n; ++i) {
        std::uniform_int_distribution<unsigned> noise(0, 4u + 8u * static_cast<unsigned>(i));
        d[i].set(x, y, std::min(max, v + noise(rng)));
      }
    }
  const ManyRun g = run_many(r, d);
  double worst = 0;
  for (int i = 0; i < c.n; ++i) {
    const q::ComponentSums cpu = q::compare_component(r.comp, d[i].comp);
    const q::ComponentSums &s = g.shared[i], &one = g.single[i];
    EXPECT_EQ(s.sse, one.sse) << "distorted " << i;
    EXPECT_EQ(s.samples, one.samples) << "distorted " << i;
    EXPECT_EQ(s.ssim_windows, one.ssim_windows) << "distorted " << i;
    EXPECT_EQ(std::memcmp(&s.ssim_sum, &one.ssim_sum, sizeof(double)), 0)
        << "distorted " << i << ": shared " << s.ssim_sum << " single " << one.ssim_sum;
    EXPECT_EQ(s.sse, cpu.sse) << "distorted " << i;
    EXPECT_EQ(s.samples, cpu.samples);
    EXPECT_EQ(s.ssim_windows, cpu.ssim_windows);
    const double rel = cpu.ssim_sum != 0 ? std::fabs(s.ssim_sum - cpu.ssim_sum) / std::fabs(cpu.ssim_sum)
                                         : std::fabs(s.ssim_sum);
    EXPECT_LE(rel, 1e-12) << "distorted " << i << ": cpu " << cpu.ssim_sum << " gpu " << s.ssim_sum;
    worst = std::max(worst, rel);
    if (i > 0) {
      EXPECT_GT(cpu.sse, q::compare_component(r.comp, d[i - 1].comp).sse) << "the inputs differ";
    }
  }
  std::printf("[ quality  ] %-26s %2d distorted: equal to single launches, ssim sum relative difference to the CPU <= %.3g\n",
              c.name, c.n, worst);
}

INSTANTIATE_TEST_SUITE_P(Sizes, QualityCudaMany,
                         ::testing::Values(ManyCase{7, 9, 8, 0, 1, 3, "u8_7x9"},
                                           ManyCase{33, 31, 8, 0, 1, 1, "u8_33x31_one"},
                                           ManyCase{173, 97, 8, 0, 1, 9, "u8_173x97_nine"},
                                           ManyCase{1920, 1080, 8, 0, 1, 8, "u8_1920x1080_eight"},
                                           ManyCase{960, 540, 8, 0, 2, 4, "u8_nv12_chroma_960x540"},
                                           ManyCase{1920, 1080, 10, 6, 1, 3, "p010_luma_1920x1080"},
                                           ManyCase{257, 129, 16, 0, 1, 17, "u16_257x129_seventeen"}),
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
}

TEST(QualityCudaErrors, SharedReferenceArgumentsAreRefusedBeforeAnyLaunch) {
  // Runs without a device too: every check comes before any CUDA call.
  HostPlane ref(16, 16, 8), good(16, 16, 8, 0, 1, 9), tall(16, 17, 8), deep(16, 16, 10);
  auto* p = reinterpret_cast<q::ComponentSums*>(0x1000);  // never touched
  q::ComponentSums* sums[3] = {p, p + 1, p + 2};
  q::ComponentSums* with_null[3] = {p, nullptr, p + 2};
  const std::size_t need = q::cuda::workspace_size(16, 16, 3);
  char* ws = reinterpret_cast<char*>(0x2000);
  const iir2d::ConstVideoComponent third_tall[3] = {good.comp, good.comp, tall.comp};
  const iir2d::ConstVideoComponent third_deep[3] = {good.comp, good.comp, deep.comp};
  const iir2d::ConstVideoComponent three[3] = {good.comp, good.comp, good.comp};
  auto r = q::cuda::compare_components(ref.comp, third_tall, 3, sums, ws, need, nullptr);
  EXPECT_EQ(r.status, q::cuda::Status::InvalidArgument) << "a third input of another size";
  r = q::cuda::compare_components(ref.comp, third_deep, 3, sums, ws, need, nullptr);
  EXPECT_EQ(r.status, q::cuda::Status::InvalidArgument) << "a third input of another depth";
  r = q::cuda::compare_components(ref.comp, three, 3, with_null, ws, need, nullptr);
  EXPECT_EQ(r.status, q::cuda::Status::InvalidArgument) << "a null sums pointer";
  r = q::cuda::compare_components(ref.comp, three, -1, sums, ws, need, nullptr);
  EXPECT_EQ(r.status, q::cuda::Status::InvalidArgument) << "n < 0";
  r = q::cuda::compare_components(ref.comp, nullptr, 3, sums, ws, need, nullptr);
  EXPECT_EQ(r.status, q::cuda::Status::InvalidArgument) << "no list";
  r = q::cuda::compare_components(ref.comp, three, 3, sums, nullptr, 0, nullptr);
  EXPECT_EQ(r.status, q::cuda::Status::InvalidArgument) << "null workspace";
  r = q::cuda::compare_components(ref.comp, three, 3, sums, ws, q::cuda::workspace_size(16, 16, 2), nullptr);
  EXPECT_EQ(r.status, q::cuda::Status::WorkspaceTooSmall) << "the workspace of two inputs for three";
  r = q::cuda::compare_components(ref.comp, nullptr, 0, nullptr, nullptr, 0, nullptr);
  EXPECT_TRUE(r.ok()) << "n == 0 does nothing: " << r.message();
  // Block sums: 16 bytes per block for the reference, 24 per block and input of a batch.
  const std::size_t blocks = 480 * 270;
  EXPECT_GE(q::cuda::workspace_size(1920, 1080, 3) - q::cuda::workspace_size(1920, 1080, 1), 2 * blocks * 24);
  EXPECT_EQ(q::cuda::workspace_size(1920, 1080, q::cuda::kMaxBatch), q::cuda::workspace_size(1920, 1080, 40))
      << "longer lists run in batches that reuse the workspace";
  EXPECT_EQ(q::cuda::workspace_size(1920, 1080), q::cuda::workspace_size(1920, 1080, 1));
  EXPECT_EQ(q::cuda::workspace_size(64, 64, 0), 0u);
  EXPECT_GT(q::cuda::workspace_size(3, 3), 0u);
}

}  // namespace
