// SPDX-License-Identifier: MIT
// Tier 2: the CUDA frame operations (cuda/iir2d/cuda_video.h) against
// refcpu's (refcpu/iir2d/frame.h) on seeded random frames: component groups
// of 1-3 components (planar and interleaved, 8-bit, 10-bit LSB/MSB, 16-bit)
// and RGB through its luma, at every precision, with temporal smoothing off,
// fixed and adaptive over a short sequence that carries the state (a static
// step, then a scene cut). Outputs must agree within contract section 6, the
// device state with the host state within the precision's tolerance.
//
// The GPU cases skip with the reason where no CUDA device can be used; the
// argument checks (which make no CUDA call) run everywhere.
#include <gtest/gtest.h>

#include <cuda_runtime_api.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "cuda_device.h"
#include "iir2d/cuda_filter.h"
#include "iir2d/cuda_video.h"
#include "iir2d/filters.h"
#include "iir2d/frame.h"
#include "iir2d/frame_ops.h"
#include "iir2d/refcpu.h"

namespace {

namespace cu = iir2d::cuda;
namespace ref = iir2d::ref;
using iir2d::ConstVideoComponent;
using iir2d::FilterParams;
using iir2d::Precision;
using iir2d::SampleType;
using iir2d::TemporalMode;
using iir2d::TemporalParams;
using iir2d::VideoComponent;
using iir2d::test::cuda_device_problem;

struct CudaFree {
  void operator()(void* p) const { (void)cudaFree(p); }
};
using DevicePtr = std::unique_ptr<void, CudaFree>;

DevicePtr device_alloc(std::size_t bytes) {
  void* p = nullptr;
  if (cudaMalloc(&p, bytes == 0 ? 1 : bytes) != cudaSuccess) return DevicePtr();
  return DevicePtr(p);
}

#define ASSERT_CUDA(expr) ASSERT_EQ((expr), cudaSuccess) << #expr

/* How a case lays out its components in one buffer. */
struct Layout {
  const char* name;
  int count;       // components in the group (3 for RGB luma)
  bool luma;       // RGB through its luma
  SampleType type;
  int depth, shift;
  bool interleaved;  // one plane, components side by side (NV12/P010 chroma, packed RGB)
  int pixel_extra;   // extra bytes per pixel when interleaved (the A or x of RGBA/RGBx)
};

const Layout kLayouts[] = {
    {"rgba8_luma", 3, true, SampleType::U8, 8, 0, true, 1},
    {"rgb8_all", 3, false, SampleType::U8, 8, 0, true, 0},
    {"gbr16_luma", 3, true, SampleType::U16, 16, 0, false, 0},
    {"uv10msb", 2, false, SampleType::U16, 10, 6, true, 0},
    {"yuv16", 3, false, SampleType::U16, 16, 0, false, 0},
    {"y10lsb", 1, false, SampleType::U16, 10, 0, false, 0},
};

struct Frame {
  int width = 0, height = 0;
  Layout layout{};
  std::vector<unsigned char> bytes;
  std::ptrdiff_t row_stride = 0, pixel_stride = 0, plane_bytes = 0, sample = 1;

  Frame(const Layout& l, int w, int h) : width(w), height(h), layout(l) {
    sample = l.type == SampleType::U16 ? 2 : 1;
    pixel_stride = l.interleaved ? sample * l.count + l.pixel_extra : sample;
    row_stride = pixel_stride * w + 3;  // padded rows
    plane_bytes = row_stride * h;
    bytes.assign(static_cast<std::size_t>(plane_bytes * (l.interleaved ? 1 : l.count)), 0);
  }
  std::ptrdiff_t offset(int k) const { return layout.interleaved ? k * sample : k * plane_bytes; }
  template <typename C, typename P>
  C comp(P base, int k) const {
    C c;
    c.data = base + offset(k);
    c.width = width;
    c.height = height;
    c.row_stride = row_stride;
    c.pixel_stride = pixel_stride;
    c.type = layout.type;
    c.depth = layout.depth;
    c.shift = layout.shift;
    return c;
  }
  void fill(std::mt19937& rng, const Frame* near, int noise) {
    std::uniform_int_distribution<int> byte(0, 255);
    for (auto& b : bytes) b = static_cast<unsigned char>(byte(rng));  // junk between samples
    const unsigned max = (1u << layout.depth) - 1;
    std::uniform_int_distribution<int> code(0, static_cast<int>(max)), jitter(-noise, noise);
    for (int k = 0; k < layout.count; ++k) {
      const auto c = comp<VideoComponent>(bytes.data(), k);
      for (int y = 0; y < height; ++y)
        for (int x = 0; x < width; ++x) {
          int v = code(rng);
          if (near) {
            v = static_cast<int>(ref::read_code(near->comp<ConstVideoComponent>(near->bytes.data(), k), x, y)) +
                jitter(rng);
            v = std::clamp(v, 0, static_cast<int>(max));
          }
          ref::write_code(c, x, y, static_cast<unsigned>(v));
        }
    }
  }
};

/* Contract section 6 on codes; "" when within. */
std::string compare_codes(const Frame& got, const Frame& want) {
  std::ostringstream msg;
  for (int k = 0; k < got.layout.count; ++k) {
    const auto a = got.comp<ConstVideoComponent>(got.bytes.data(), k);
    const auto b = want.comp<ConstVideoComponent>(want.bytes.data(), k);
    long n = 0, differ = 0;
    int max_diff = 0;
    for (int y = 0; y < got.height; ++y)
      for (int x = 0; x < got.width; ++x, ++n) {
        const int d = std::abs(static_cast<int>(ref::read_code(a, x, y)) - static_cast<int>(ref::read_code(b, x, y)));
        differ += d != 0;
        max_diff = std::max(max_diff, d);
      }
    if (max_diff > 1 || differ > n / 1000)
      msg << "component " << k << ": max " << max_diff << " codes, " << differ << " of " << n << " differ. ";
  }
  return msg.str();
}

double state_tolerance(Precision p) { return p == Precision::F64 ? 1e-6 : 2e-5; }

using CaseParam = std::tuple<Layout, Precision, TemporalMode, std::pair<int, int>>;

class CudaFrameVsRefcpu : public ::testing::TestWithParam<CaseParam> {
 protected:
  void SetUp() override {
    if (!cuda_device_problem().empty()) GTEST_SKIP() << cuda_device_problem();
  }
};

/* The filter parameters of a case: every layout and precision gets another
 * id, border and initialisation. By the layout's index in kLayouts (the
 * parameter is a copy, so not by address). */
int layout_index(const Layout& layout) {
  for (std::size_t i = 0; i < sizeof kLayouts / sizeof kLayouts[0]; ++i)
    if (std::string(kLayouts[i].name) == layout.name) return static_cast<int>(i);
  return 0;
}

FilterParams case_params(const Layout& layout, Precision precision, TemporalMode mode) {
  FilterParams params;
  params.filter_id = 1 + (layout_index(layout) + static_cast<int>(precision) * 3) % 8;
  params.border = static_cast<iir2d::Border>((params.filter_id + static_cast<int>(mode)) % 4);
  params.border_constant = 0.3;
  params.border_init = params.filter_id % 2 ? iir2d::BorderInit::Exact : iir2d::BorderInit::Iir2d;
  params.precision = precision;
  params.sigma = 3.5;
  params.unity_gain = params.filter_id % 3 == 0;
  return params;
}

TemporalParams case_temporal(TemporalMode mode) {
  TemporalParams temporal;
  temporal.mode = mode;
  temporal.alpha = 0.4;
  temporal.motion_threshold = 0.05;
  return temporal;
}

/* The reference half of a case: refcpu on frame `in` with the state. */
void reference_step(const Layout& layout, const Frame& in, Frame& want, const FilterParams& params, double strength,
                    const TemporalParams& temporal, std::vector<float>& state, bool valid) {
  ConstVideoComponent hin[3];
  VideoComponent hout[3];
  for (int k = 0; k < layout.count; ++k) {
    hin[k] = in.comp<ConstVideoComponent>(in.bytes.data(), k);
    hout[k] = want.comp<VideoComponent>(want.bytes.data(), k);
  }
  if (layout.luma)
    ref::filter_rgb_luma(hin, hout, iir2d::kLumaBt601, params, strength, temporal, state.data(), valid);
  else
    ref::filter_component_group(hin, hout, layout.count, params, strength, temporal, state.data(), valid);
}

/* Runs everywhere: every case's parameters are valid and its reference half
 * runs (a mistake here once made cases throw only on the GPU machine). */
TEST(CudaFrameCases, ParametersAreValidAndTheReferenceRuns) {
  for (const Layout& layout : kLayouts)
    for (Precision precision : {Precision::F32, Precision::Mixed, Precision::F64})
      for (TemporalMode mode : {TemporalMode::Off, TemporalMode::Fixed, TemporalMode::Adaptive}) {
        SCOPED_TRACE(layout.name);
        const FilterParams params = case_params(layout, precision, mode);
        ASSERT_TRUE(iir2d::is_valid_filter_id(params.filter_id)) << params.filter_id;
        std::mt19937 rng(1);
        std::vector<float> state(ref::state_elements(5, 3, layout.luma ? 1 : layout.count));
        for (int t = 0; t < 2; ++t) {
          Frame in(layout, 5, 3), want(layout, 5, 3);
          in.fill(rng, nullptr, 0);
          EXPECT_NO_THROW(reference_step(layout, in, want, params, 0.85, case_temporal(mode), state, t > 0));
        }
      }
}

TEST_P(CudaFrameVsRefcpu, SequenceMatchesWithinContract) {
  const auto& [layout, precision, mode, size] = GetParam();
  const int w = size.first, h = size.second;
  const FilterParams params = case_params(layout, precision, mode);
  const TemporalParams temporal = case_temporal(mode);
  const double strength = 0.85;
  SCOPED_TRACE(std::string(layout.name) + " id " + std::to_string(params.filter_id) + " " + std::to_string(w) + "x" +
               std::to_string(h));

  const int planes = layout.luma ? 1 : layout.count;
  const std::size_t state_n = ref::state_elements(w, h, planes);
  std::vector<float> host_state(state_n, 0.0f), dev_state_copy(state_n);
  auto d_state = device_alloc(state_n * sizeof(float));
  const std::size_t ws_bytes = cu::max_group_workspace_size(w, h, planes);
  ASSERT_GE(ws_bytes, cu::group_workspace_size(w, h, planes, params));
  auto d_ws = device_alloc(ws_bytes);
  cudaStream_t stream = nullptr;
  ASSERT_CUDA(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));

  std::mt19937 rng(static_cast<unsigned>(w * 131 + h + static_cast<int>(mode) * 7 + static_cast<int>(precision)));
  Frame prev(layout, w, h);
  for (int t = 0; t < 4; ++t) {
    SCOPED_TRACE("frame " + std::to_string(t));
    Frame in(layout, w, h), want(layout, w, h), got(layout, w, h);
    in.fill(rng, t == 1 || t == 2 ? &prev : nullptr, 3);  // 0 and 3 are cuts, 1 and 2 move a little
    const bool valid = t > 0;

    reference_step(layout, in, want, params, strength, temporal, host_state, valid);

    auto d_in = device_alloc(in.bytes.size()), d_out = device_alloc(in.bytes.size());
    ASSERT_CUDA(cudaMemcpyAsync(d_in.get(), in.bytes.data(), in.bytes.size(), cudaMemcpyHostToDevice, stream));
    ASSERT_CUDA(cudaMemsetAsync(d_out.get(), 0xA5, in.bytes.size(), stream));
    ConstVideoComponent din[3];
    VideoComponent dout[3];
    for (int k = 0; k < layout.count; ++k) {
      din[k] = in.comp<ConstVideoComponent>(static_cast<const unsigned char*>(d_in.get()), k);
      dout[k] = got.comp<VideoComponent>(static_cast<unsigned char*>(d_out.get()), k);
    }
    float* state = static_cast<float*>(d_state.get());
    const cu::Result r =
        layout.luma ? cu::filter_rgb_luma(din, dout, iir2d::kLumaBt601, params, strength, temporal, state, valid,
                                          d_ws.get(), ws_bytes, stream)
                    : cu::filter_component_group(din, dout, layout.count, params, strength, temporal, state, valid,
                                                 d_ws.get(), ws_bytes, stream);
    ASSERT_TRUE(r.ok()) << r.message();
    ASSERT_CUDA(cudaMemcpyAsync(got.bytes.data(), d_out.get(), got.bytes.size(), cudaMemcpyDeviceToHost, stream));
    ASSERT_CUDA(cudaMemcpyAsync(dev_state_copy.data(), state, state_n * sizeof(float), cudaMemcpyDeviceToHost,
                                stream));
    ASSERT_CUDA(cudaStreamSynchronize(stream));
    EXPECT_EQ(compare_codes(got, want), "");
    if (mode != TemporalMode::Off) {
      double max_err = 0;
      for (std::size_t i = 0; i < state_n; ++i)
        max_err = std::max(max_err, static_cast<double>(std::fabs(dev_state_copy[i] - host_state[i])));
      EXPECT_LE(max_err, state_tolerance(precision)) << "temporal state";
    }
    prev = std::move(in);
  }
  (void)cudaStreamDestroy(stream);
}

std::string case_name(const ::testing::TestParamInfo<CaseParam>& info) {
  const auto& [layout, precision, mode, size] = info.param;
  const char* p = precision == Precision::F32 ? "f32" : precision == Precision::Mixed ? "mixed" : "f64";
  const char* m = mode == TemporalMode::Off ? "off" : mode == TemporalMode::Fixed ? "fixed" : "adaptive";
  return std::string(layout.name) + "_" + p + "_" + m + "_" + std::to_string(size.first) + "x" +
         std::to_string(size.second);
}

INSTANTIATE_TEST_SUITE_P(
    Groups, CudaFrameVsRefcpu,
    ::testing::Combine(::testing::ValuesIn(kLayouts),
                       ::testing::Values(Precision::F32, Precision::Mixed, Precision::F64),
                       ::testing::Values(TemporalMode::Off, TemporalMode::Fixed, TemporalMode::Adaptive),
                       ::testing::Values(std::make_pair(1, 1), std::make_pair(33, 17), std::make_pair(160, 90))),
    case_name);

INSTANTIATE_TEST_SUITE_P(Large, CudaFrameVsRefcpu,
                         ::testing::Combine(::testing::Values(kLayouts[0], kLayouts[3]),
                                            ::testing::Values(Precision::F32),
                                            ::testing::Values(TemporalMode::Adaptive),
                                            ::testing::Values(std::make_pair(1920, 1080))),
                         case_name);

/* Argument checks come before any CUDA call: these run without a GPU. */
/* Three 8-bit components of `width` x `height` over `data` (never read:
 * the calls below fail their argument checks first). */
void fake_components(unsigned char* data, int width, int height, ConstVideoComponent* in, VideoComponent* out) {
  for (int k = 0; k < 3; ++k) {
    in[k].data = data;
    out[k].data = data;
    in[k].width = out[k].width = width;
    in[k].height = out[k].height = height;
    in[k].row_stride = out[k].row_stride = width;
  }
}

TEST(CudaFrameArguments, AreCheckedBeforeAnyLaunch) {
  unsigned char fake[64] = {};
  ConstVideoComponent in[3];
  VideoComponent out[3];
  fake_components(fake, 4, 4, in, out);
  FilterParams p;
  TemporalParams t;
  float state[16];
  const auto status = [&](int count, double strength, const TemporalParams& tp, float* st, void* ws) {
    return cu::filter_component_group(in, out, count, p, strength, tp, st, false, ws, 1 << 20, nullptr).status;
  };
  EXPECT_EQ(status(0, 1.0, t, nullptr, fake), cu::Status::InvalidArgument);
  EXPECT_EQ(status(4, 1.0, t, nullptr, fake), cu::Status::InvalidArgument);
  EXPECT_EQ(status(1, -0.5, t, nullptr, fake), cu::Status::InvalidArgument);
  TemporalParams fixed = t;
  fixed.mode = TemporalMode::Fixed;
  EXPECT_EQ(status(1, 1.0, fixed, nullptr, fake), cu::Status::InvalidArgument);  // no state
  fixed.alpha = 1.5;
  EXPECT_EQ(status(1, 1.0, fixed, state, fake), cu::Status::InvalidArgument);
  in[1].width = 5;
  EXPECT_EQ(status(2, 1.0, t, nullptr, fake), cu::Status::InvalidArgument);  // sizes differ
  in[1].width = 4;
  out[0].depth = 10;
  EXPECT_EQ(status(1, 1.0, t, nullptr, fake), cu::Status::InvalidArgument);  // formats differ
  out[0].depth = 8;
  p.filter_id = 0;
  EXPECT_EQ(status(1, 1.0, t, nullptr, fake), cu::Status::InvalidArgument);
  p.filter_id = 1;
  EXPECT_EQ(cu::filter_rgb_luma(in, out, iir2d::kLumaBt709, p, 1.0, t, nullptr, false, nullptr, 0, nullptr).status,
            cu::Status::InvalidArgument);  // null workspace
  EXPECT_EQ(cu::filter_rgb_luma(in, out, iir2d::kLumaBt709, p, 1.0, t, nullptr, false, fake, 16, nullptr).status,
            cu::Status::WorkspaceTooSmall);
}

/* The extent limit of filter_video_component holds for groups and RGB luma
 * too (it was missing there): a width over 2^28 is refused before any
 * workspace or launch, here with a workspace far too small for it. */
TEST(CudaFrameArguments, ExtentsOver2To28AreRefused) {
  unsigned char fake[64] = {};
  ConstVideoComponent in[3];
  VideoComponent out[3];
  fake_components(fake, (1 << 28) + 1, 1, in, out);
  FilterParams p;
  TemporalParams t;
  const auto group = cu::filter_component_group(in, out, 1, p, 1.0, t, nullptr, false, fake, sizeof fake, nullptr);
  EXPECT_EQ(group.status, cu::Status::InvalidArgument);
  EXPECT_NE(group.message().find("too large"), std::string::npos) << group.message();
  const auto luma = cu::filter_rgb_luma(in, out, iir2d::kLumaBt709, p, 1.0, t, nullptr, false, fake, sizeof fake,
                                        nullptr);
  EXPECT_EQ(luma.status, cu::Status::InvalidArgument);
  EXPECT_NE(luma.message().find("too large"), std::string::npos) << luma.message();
}

TEST(CudaFrameWorkspace, SizedForTheWidestDeriche) {
  FilterParams p;
  p.filter_id = 6;
  p.precision = Precision::F64;
  for (double sigma : {0.5, 2.0, 64.0}) {
    p.sigma = sigma;
    EXPECT_LE(cu::group_workspace_size(640, 360, 3, p), cu::max_group_workspace_size(640, 360, 3)) << sigma;
    EXPECT_LE(cu::workspace_size(640, 360, p), cu::max_group_workspace_size(640, 360, 1)) << sigma;
  }
  EXPECT_EQ(cu::group_workspace_size(0, 4, 1, p), 0u);
}

}  // namespace
