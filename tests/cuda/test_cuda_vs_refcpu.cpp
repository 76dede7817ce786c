// SPDX-License-Identifier: MIT
// Tier 2: the CUDA kernels (cuda/) against the CPU reference (refcpu/), on
// seeded random planes, for the whole contract (docs/FILTER_CONTRACT.md):
// filter ids 1-8 x borders x border initialisations x precisions x sizes,
// video components (u8, u16, 10-bit LSB/MSB, NV12/P010 interleaved chroma)
// and the error paths of the API.
//
// The GPU suites skip with the reason where no CUDA device can be used. The
// error-path suites and the host emulation (the kernels' per-sequence device
// helpers compiled for the CPU) run everywhere.
#include <gtest/gtest.h>

#include <cuda_runtime_api.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <mutex>
#include <random>
#include <sstream>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "detail/segment.cuh"
#include "detail/segment_rules.h"
#include "detail/sequence.cuh"
#include "detail/tuning.h"
#include "detail/video_samples.cuh"
#include "iir2d/cuda_filter.h"
#include "iir2d/filters.h"
#include "iir2d/refcpu.h"
#include "cuda_device.h"
#include "filter_params.h"

namespace {

namespace cu = iir2d::cuda;
namespace ref = iir2d::ref;
using iir2d::Border;
using iir2d::BorderInit;
using iir2d::ConstVideoComponent;
using iir2d::FilterParams;
using iir2d::Precision;
using iir2d::SampleType;
using iir2d::VideoComponent;
using iir2d::test::border_name;
using iir2d::test::contract_tolerance;
using iir2d::test::cuda_device_problem;
using iir2d::test::init_name;
using iir2d::test::precision_name;

constexpr double kBorderConstant = 0.3;

// --- Names and tolerances -------------------------------------------------------

const Border kBorders[] = {Border::Clamp, Border::Mirror, Border::Wrap, Border::Constant};
const BorderInit kInits[] = {BorderInit::Exact, BorderInit::Iir2d};
const Precision kPrecisions[] = {Precision::F32, Precision::Mixed, Precision::F64};

FilterParams make_params(int id, Border border, BorderInit init, Precision precision) {
  return iir2d::test::params(id, border, init, precision, kBorderConstant);
}

std::string params_text(const FilterParams& p) {
  std::ostringstream s;
  s << "id " << p.filter_id << " (" << iir2d::filter_description(p.filter_id) << "), border " << border_name(p.border)
    << ", init " << init_name(p.border_init) << ", precision " << precision_name(p.precision);
  return s.str();
}

/// Deterministic seed per case (every case gets fresh data).
std::uint64_t case_seed(std::initializer_list<long long> parts) {
  std::uint64_t h = 0x9E3779B97F4A7C15ull;
  for (long long v : parts) {
    h ^= static_cast<std::uint64_t>(v) + 0x9E3779B97F4A7C15ull + (h << 6) + (h >> 2);
    h *= 0xBF58476D1CE4E5B9ull;
  }
  return h;
}

// --- Summary printed at the end -------------------------------------------------

struct Summary {
  std::mutex mu;
  double max_err[3] = {0, 0, 0};
  long long plane_cases[3] = {0, 0, 0};
  long long plane_exact_cases[3] = {0, 0, 0};  ///< cases bit-identical to refcpu
  long long video_cases = 0;
  long long video_samples = 0;
  long long video_off_by_one = 0;
  int video_max_diff = 0;

  static Summary& get() {
    static Summary s;
    return s;
  }
  void plane(Precision p, double err) {
    std::lock_guard<std::mutex> lock(mu);
    const int k = static_cast<int>(p);
    max_err[k] = std::max(max_err[k], err);
    ++plane_cases[k];
    if (err == 0.0) ++plane_exact_cases[k];
  }
  void video(long long samples, long long off, int maxd) {
    std::lock_guard<std::mutex> lock(mu);
    ++video_cases;
    video_samples += samples;
    video_off_by_one += off;
    video_max_diff = std::max(video_max_diff, maxd);
  }
};

class SummaryEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    if (!cuda_device_problem().empty()) {
      std::printf("[ device   ] none: %s\n", cuda_device_problem().c_str());
      return;
    }
    int dev = 0, runtime = 0, driver = 0;
    cudaDeviceProp prop{};
    if (cudaGetDevice(&dev) == cudaSuccess && cudaGetDeviceProperties(&prop, dev) == cudaSuccess) {
      (void)cudaRuntimeGetVersion(&runtime);
      (void)cudaDriverGetVersion(&driver);
      std::printf("[ device   ] %s, sm_%d%d, %d SMs, runtime %d, driver %d\n", prop.name, prop.major, prop.minor,
                  prop.multiProcessorCount, runtime, driver);
    }
  }
  void TearDown() override {
    Summary& s = Summary::get();
    if (s.plane_cases[0] + s.plane_cases[1] + s.plane_cases[2] + s.video_cases == 0) return;
    std::printf("[ summary  ] planes vs refcpu, max abs error: f32 %.3g (%lld cases, %lld bit-identical), "
                "mixed %.3g (%lld, %lld), f64 %.3g (%lld, %lld)\n",
                s.max_err[0], s.plane_cases[0], s.plane_exact_cases[0], s.max_err[1], s.plane_cases[1],
                s.plane_exact_cases[1], s.max_err[2], s.plane_cases[2], s.plane_exact_cases[2]);
    std::printf("[ summary  ] video vs refcpu: %lld cases, %lld samples, %lld differ, max code difference %d\n",
                s.video_cases, s.video_samples, s.video_off_by_one, s.video_max_diff);
  }
};
[[maybe_unused]] ::testing::Environment* const g_summary_env =
    ::testing::AddGlobalTestEnvironment(new SummaryEnvironment);

// --- Device helpers ---------------------------------------------------------------

#define ASSERT_CUDA(expr)                                                                  \
  do {                                                                                     \
    const cudaError_t err_ = (expr);                                                       \
    ASSERT_EQ(err_, cudaSuccess) << #expr << ": " << cudaGetErrorString(err_);             \
  } while (0)

/// Owns a device allocation.
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  ~DeviceBuffer() {
    if (ptr_ != nullptr) (void)cudaFree(ptr_);
  }
  cudaError_t allocate(std::size_t bytes) {
    bytes_ = bytes;
    return cudaMalloc(&ptr_, bytes == 0 ? 1 : bytes);
  }
  void* get() const { return ptr_; }
  std::size_t bytes() const { return bytes_; }

 private:
  void* ptr_ = nullptr;
  std::size_t bytes_ = 0;
};

/// Owns a non-blocking stream (the API must work on the caller's stream).
/// Non-blocking streams do not wait for the legacy default stream, so every
/// upload, poison and download of the tests is issued on this stream too
/// (a plain cudaMemset/cudaMemcpy could still be running when the kernels start).
class Stream {
 public:
  Stream() = default;
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;
  ~Stream() {
    if (stream_ != nullptr) (void)cudaStreamDestroy(stream_);
  }
  cudaError_t create() { return cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking); }
  cudaStream_t get() const { return stream_; }

 private:
  cudaStream_t stream_ = nullptr;
};

// ===================================================================================
// Float planes
// ===================================================================================

struct PlaneSize {
  int width;
  int height;
  int pad;  ///< extra elements per row of the input pitch (the output gets 2*pad+1 when pad > 0)
};

const PlaneSize kSmallSizes[] = {{1, 1, 0},  {1, 7, 0},   {7, 1, 0},   {2, 3, 0},  {3, 2, 1},  {4, 4, 0},
                                 {1, 300, 0}, {300, 1, 2}, {33, 17, 0}, {31, 32, 3}, {257, 19, 13}};
const PlaneSize kLargeSizes[] = {{1920, 1080, 0}};

using PlaneTuple = std::tuple<int, Border, BorderInit, Precision, PlaneSize>;

std::string plane_case_name(const ::testing::TestParamInfo<PlaneTuple>& info) {
  const auto& [id, border, init, precision, size] = info.param;
  std::ostringstream s;
  s << "id" << id << "_" << border_name(border) << "_" << init_name(init) << "_" << precision_name(precision) << "_"
    << size.width << "x" << size.height;
  if (size.pad > 0) s << "_pad" << size.pad;
  return s.str();
}

class DeviceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!cuda_device_problem().empty()) GTEST_SKIP() << cuda_device_problem();
  }
};

template <typename Param>
class DeviceTestP : public ::testing::TestWithParam<Param> {
 protected:
  void SetUp() override {
    if (!cuda_device_problem().empty()) GTEST_SKIP() << cuda_device_problem();
  }
};

cu::Result filter_plane(const float* in, std::size_t ip, float* out, std::size_t op, int w, int h,
                        const FilterParams& p, void* ws, std::size_t wsb, cudaStream_t s) {
  return cu::filter_plane_f32(in, ip, out, op, w, h, p, ws, wsb, s);
}
cu::Result filter_plane(const double* in, std::size_t ip, double* out, std::size_t op, int w, int h,
                        const FilterParams& p, void* ws, std::size_t wsb, cudaStream_t s) {
  return cu::filter_plane_f64(in, ip, out, op, w, h, p, ws, wsb, s);
}

/**
 * Filters a random plane on the device and with refcpu; compares within the
 * contract's tolerance. The input's row padding holds NaN (a read past the row
 * shows), the output and workspace are poisoned with NaN bytes (an unwritten
 * sample shows), and the output's row padding must stay untouched.
 * `in_place` runs with in == out.
 */
template <typename T>
void run_plane_case(const FilterParams& params, const PlaneSize& size, bool in_place, std::uint64_t seed,
                    double tol = 0.0) {
  if (tol == 0.0) tol = contract_tolerance(params.precision);
  SCOPED_TRACE(params_text(params) + ", " + std::to_string(size.width) + "x" + std::to_string(size.height) +
               " pad " + std::to_string(size.pad) + (in_place ? ", in place" : ""));
  const int w = size.width, h = size.height;
  const std::size_t in_row = static_cast<std::size_t>(w + size.pad);
  const std::size_t out_row = in_place ? in_row : static_cast<std::size_t>(w + (size.pad > 0 ? 2 * size.pad + 1 : 0));
  const std::size_t in_pitch = in_row * sizeof(T), out_pitch = out_row * sizeof(T);

  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  std::vector<T> host_in(in_row * static_cast<std::size_t>(h), std::numeric_limits<T>::quiet_NaN());
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) host_in[static_cast<std::size_t>(y) * in_row + x] = static_cast<T>(uniform(rng));

  Stream stream;
  ASSERT_CUDA(stream.create());
  DeviceBuffer d_in, d_out, d_ws;
  ASSERT_CUDA(d_in.allocate(in_pitch * h));
  if (!in_place) ASSERT_CUDA(d_out.allocate(out_pitch * h));
  const std::size_t ws_bytes = cu::workspace_size(w, h, params);
  ASSERT_GT(ws_bytes, 0u);
  ASSERT_CUDA(d_ws.allocate(ws_bytes));
  ASSERT_CUDA(cudaMemcpyAsync(d_in.get(), host_in.data(), in_pitch * h, cudaMemcpyHostToDevice, stream.get()));
  T* out_ptr = in_place ? static_cast<T*>(d_in.get()) : static_cast<T*>(d_out.get());
  // Poison: 0xFF bytes are NaN for float and double.
  if (!in_place) ASSERT_CUDA(cudaMemsetAsync(d_out.get(), 0xFF, out_pitch * h, stream.get()));
  ASSERT_CUDA(cudaMemsetAsync(d_ws.get(), 0xFF, ws_bytes, stream.get()));

  const cu::Result r = filter_plane(static_cast<const T*>(d_in.get()), in_pitch, out_ptr, out_pitch, w, h, params,
                                    d_ws.get(), ws_bytes, stream.get());
  ASSERT_TRUE(r.ok()) << r.message();
  ASSERT_CUDA(cudaStreamSynchronize(stream.get()));
  std::vector<T> got(out_row * static_cast<std::size_t>(h));
  ASSERT_CUDA(cudaMemcpyAsync(got.data(), out_ptr, out_pitch * h, cudaMemcpyDeviceToHost, stream.get()));
  ASSERT_CUDA(cudaStreamSynchronize(stream.get()));

  std::vector<T> want(static_cast<std::size_t>(w) * h);
  ref::filter_plane(ref::Plane<const T>{host_in.data(), w, h, static_cast<std::ptrdiff_t>(in_pitch)},
                    ref::Plane<T>{want.data(), w, h, static_cast<std::ptrdiff_t>(w * sizeof(T))}, params);

  double max_err = 0.0;
  int bad = 0, worst_x = -1, worst_y = -1;
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      const double g = static_cast<double>(got[static_cast<std::size_t>(y) * out_row + x]);
      const double e = static_cast<double>(want[static_cast<std::size_t>(y) * w + x]);
      const double d = std::fabs(g - e);
      if (!(d <= max_err)) {  // NaN always counts
        max_err = std::isnan(d) ? std::numeric_limits<double>::infinity() : d;
        worst_x = x;
        worst_y = y;
      }
      if (!(d <= tol)) ++bad;
    }
  Summary::get().plane(params.precision, max_err);
  EXPECT_EQ(bad, 0) << "max abs error " << max_err << " at (" << worst_x << ", " << worst_y << "), tolerance "
                    << tol;

  if (!in_place) {
    // Row padding of the output is never written (poison bytes stay 0xFF).
    int touched = 0;
    for (int y = 0; y < h; ++y)
      for (std::size_t x = static_cast<std::size_t>(w); x < out_row; ++x) {
        unsigned char b[sizeof(T)];
        std::memcpy(b, &got[static_cast<std::size_t>(y) * out_row + x], sizeof(T));
        for (unsigned char c : b) touched += c != 0xFF;
      }
    EXPECT_EQ(touched, 0) << "bytes of the output's row padding were written";
  }
}

class PlaneVsRef : public DeviceTestP<PlaneTuple> {};

TEST_P(PlaneVsRef, MatchesRefcpu) {
  const auto& [id, border, init, precision, size] = GetParam();
  const FilterParams p = make_params(id, border, init, precision);
  const std::uint64_t seed = case_seed({id, static_cast<int>(border), static_cast<int>(init),
                                        static_cast<int>(precision), size.width, size.height, size.pad});
  if (precision == Precision::F64)
    run_plane_case<double>(p, size, false, seed);
  else
    run_plane_case<float>(p, size, false, seed);
}

INSTANTIATE_TEST_SUITE_P(Small, PlaneVsRef,
                         ::testing::Combine(::testing::Range(1, 9), ::testing::ValuesIn(kBorders),
                                            ::testing::ValuesIn(kInits), ::testing::ValuesIn(kPrecisions),
                                            ::testing::ValuesIn(kSmallSizes)),
                         plane_case_name);

INSTANTIATE_TEST_SUITE_P(FullHd, PlaneVsRef,
                         ::testing::Combine(::testing::Range(1, 9), ::testing::ValuesIn(kBorders),
                                            ::testing::ValuesIn(kInits), ::testing::ValuesIn(kPrecisions),
                                            ::testing::ValuesIn(kLargeSizes)),
                         plane_case_name);

using InPlaceTuple = std::tuple<int, BorderInit, Precision>;

class PlaneInPlace : public DeviceTestP<InPlaceTuple> {};

TEST_P(PlaneInPlace, MatchesRefcpu) {
  const auto& [id, init, precision] = GetParam();
  const FilterParams p = make_params(id, Border::Wrap, init, precision);
  const PlaneSize size{45, 29, 3};
  const std::uint64_t seed = case_seed({1000 + id, static_cast<int>(init), static_cast<int>(precision)});
  if (precision == Precision::F64)
    run_plane_case<double>(p, size, true, seed);
  else
    run_plane_case<float>(p, size, true, seed);
}

std::string in_place_case_name(const ::testing::TestParamInfo<InPlaceTuple>& info) {
  const auto& [id, init, precision] = info.param;
  return "id" + std::to_string(id) + "_" + init_name(init) + "_" + precision_name(precision);
}

INSTANTIATE_TEST_SUITE_P(Wrap45x29, PlaneInPlace,
                         ::testing::Combine(::testing::Range(1, 9), ::testing::ValuesIn(kInits),
                                            ::testing::ValuesIn(kPrecisions)),
                         in_place_case_name);

// ===================================================================================
// Video components
// ===================================================================================

/// Sample layouts of the video tests.
enum class VideoLayout : int {
  Gray8 = 0,       ///< U8, depth 8, planar
  Gray16 = 1,      ///< U16, depth 16, planar
  Gray10Lsb = 2,   ///< U16, depth 10, shift 0 (I420_10LE)
  Gray10Msb = 3,   ///< U16, depth 10, shift 6 (P010 luma)
  Nv12Chroma = 4,  ///< U8 U and V interleaved, pixel stride 2
  P010Chroma = 5,  ///< U16 depth 10 shift 6, U and V interleaved, pixel stride 4
};

const char* layout_name(VideoLayout l) {
  switch (l) {
    case VideoLayout::Gray8: return "u8";
    case VideoLayout::Gray16: return "u16";
    case VideoLayout::Gray10Lsb: return "u10lsb";
    case VideoLayout::Gray10Msb: return "u10msb";
    case VideoLayout::Nv12Chroma: return "nv12uv";
    case VideoLayout::P010Chroma: return "p010uv";
  }
  return "bad";
}

struct LayoutInfo {
  SampleType type;
  int depth;
  int shift;
  int components;  ///< interleaved components per pixel
};

LayoutInfo layout_info(VideoLayout l) {
  switch (l) {
    case VideoLayout::Gray8: return {SampleType::U8, 8, 0, 1};
    case VideoLayout::Gray16: return {SampleType::U16, 16, 0, 1};
    case VideoLayout::Gray10Lsb: return {SampleType::U16, 10, 0, 1};
    case VideoLayout::Gray10Msb: return {SampleType::U16, 10, 6, 1};
    case VideoLayout::Nv12Chroma: return {SampleType::U8, 8, 0, 2};
    case VideoLayout::P010Chroma: return {SampleType::U16, 10, 6, 2};
  }
  return {SampleType::U8, 8, 0, 1};
}

/// A host or device buffer described as the components of one plane.
template <typename Ptr>
iir2d::VideoComponentT<Ptr> component_of(Ptr base, const LayoutInfo& li, int comp, int w, int h, std::ptrdiff_t row) {
  iir2d::VideoComponentT<Ptr> c;
  const int bytes = li.type == SampleType::U16 ? 2 : 1;
  using Byte = std::conditional_t<std::is_const_v<std::remove_pointer_t<Ptr>>, const unsigned char, unsigned char>;
  c.data = static_cast<Byte*>(base) + comp * bytes;
  c.width = w;
  c.height = h;
  c.row_stride = row;
  c.pixel_stride = bytes * li.components;
  c.type = li.type;
  c.depth = li.depth;
  c.shift = li.shift;
  return c;
}

unsigned read_word(const unsigned char* p, SampleType t) {
  return t == SampleType::U8 ? p[0] : static_cast<unsigned>(p[0]) | (static_cast<unsigned>(p[1]) << 8);
}

/**
 * Filters every component of a random plane on the device (one call each,
 * into one output buffer) and with refcpu. Codes may differ by 1 for at most
 * 0.1% of samples; strength 0 reproduces the input codes; bits outside the
 * code and bytes outside the samples (row padding) are checked too.
 */
void run_video_case(const FilterParams& params, VideoLayout layout, double strength, int w, int h,
                    std::uint64_t seed, bool in_place = false, int row_align = 0) {
  SCOPED_TRACE(params_text(params) + ", layout " + layout_name(layout) + ", strength " + std::to_string(strength) +
               ", " + std::to_string(w) + "x" + std::to_string(h) + (in_place ? ", in place" : ""));
  const LayoutInfo li = layout_info(layout);
  const int bytes = li.type == SampleType::U16 ? 2 : 1;
  // Rows 6 bytes longer than the samples (unaligned), or padded to row_align bytes.
  const std::ptrdiff_t packed = static_cast<std::ptrdiff_t>(w) * bytes * li.components;
  const std::ptrdiff_t row = row_align > 0 ? (packed + row_align - 1) / row_align * row_align : packed + 6;
  const std::size_t total = static_cast<std::size_t>(row) * static_cast<std::size_t>(h);
  const unsigned code_mask = (1u << li.depth) - 1u;
  const unsigned word_mask = li.type == SampleType::U16 ? 0xFFFFu : 0xFFu;

  // Input: random codes, random junk in the bits outside the code and in the padding.
  std::mt19937_64 rng(seed);
  std::vector<unsigned char> host_in(total);
  for (auto& b : host_in) b = static_cast<unsigned char>(rng() & 0xFF);

  Stream stream;
  ASSERT_CUDA(stream.create());
  DeviceBuffer d_in, d_out, d_ws;
  ASSERT_CUDA(d_in.allocate(total));
  if (!in_place) ASSERT_CUDA(d_out.allocate(total));
  void* out_base = in_place ? d_in.get() : d_out.get();
  const std::size_t ws_bytes = cu::workspace_size(w, h, params);
  ASSERT_CUDA(d_ws.allocate(ws_bytes));
  ASSERT_CUDA(cudaMemcpyAsync(d_in.get(), host_in.data(), total, cudaMemcpyHostToDevice, stream.get()));
  if (!in_place) ASSERT_CUDA(cudaMemsetAsync(d_out.get(), 0xAB, total, stream.get()));
  ASSERT_CUDA(cudaMemsetAsync(d_ws.get(), 0xFF, ws_bytes, stream.get()));

  // Reference: out of place into a poisoned buffer, or in place on a copy of the input.
  std::vector<unsigned char> want = in_place ? host_in : std::vector<unsigned char>(total, 0xAB);
  for (int comp = 0; comp < li.components; ++comp) {
    const ConstVideoComponent din = component_of<const void*>(d_in.get(), li, comp, w, h, row);
    const VideoComponent dout = component_of<void*>(out_base, li, comp, w, h, row);
    const cu::Result r = cu::filter_video_component(din, dout, params, strength, d_ws.get(), ws_bytes, stream.get());
    ASSERT_TRUE(r.ok()) << r.message();
    const void* ref_src = in_place ? static_cast<const void*>(want.data()) : static_cast<const void*>(host_in.data());
    ref::filter_video_component(component_of<const void*>(ref_src, li, comp, w, h, row),
                                component_of<void*>(want.data(), li, comp, w, h, row), params, strength);
  }
  ASSERT_CUDA(cudaStreamSynchronize(stream.get()));
  std::vector<unsigned char> got(total);
  ASSERT_CUDA(cudaMemcpyAsync(got.data(), out_base, total, cudaMemcpyDeviceToHost, stream.get()));
  ASSERT_CUDA(cudaStreamSynchronize(stream.get()));

  long long samples = 0, differ = 0, not_input = 0, junk_bits = 0;
  int max_diff = 0;
  std::vector<bool> is_sample(total, false);
  for (int comp = 0; comp < li.components; ++comp)
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) {
        const std::size_t off = static_cast<std::size_t>(y) * static_cast<std::size_t>(row) +
                                static_cast<std::size_t>((x * li.components + comp) * bytes);
        for (int b = 0; b < bytes; ++b) is_sample[off + static_cast<std::size_t>(b)] = true;
        const unsigned gw = read_word(&got[off], li.type), ew = read_word(&want[off], li.type);
        const unsigned gc = (gw >> li.shift) & code_mask, ec = (ew >> li.shift) & code_mask;
        const unsigned ic = (read_word(&host_in[off], li.type) >> li.shift) & code_mask;
        if ((gw & word_mask & ~(code_mask << li.shift)) != 0) ++junk_bits;
        const int d = std::abs(static_cast<int>(gc) - static_cast<int>(ec));
        max_diff = std::max(max_diff, d);
        differ += d != 0;
        not_input += gc != ic;
        ++samples;
      }
  long long outside = 0;
  for (std::size_t i = 0; i < total; ++i)
    if (!is_sample[i] && got[i] != want[i]) ++outside;

  Summary::get().video(samples, differ, max_diff);
  EXPECT_LE(max_diff, 1) << "code difference from refcpu (" << differ << " of " << samples << " samples differ)";
  EXPECT_LE(static_cast<double>(differ), 0.001 * static_cast<double>(samples))
      << differ << " of " << samples << " samples differ from refcpu";
  EXPECT_EQ(junk_bits, 0) << "storage bits outside the code were not zero";
  EXPECT_EQ(outside, 0) << "bytes outside the component's samples were written";
  if (strength == 0.0) {
    EXPECT_EQ(not_input, 0) << "strength 0 must reproduce the input codes";
  }
}

using VideoTuple = std::tuple<int, Border, BorderInit, Precision, double, VideoLayout>;

std::string strength_name(double s) { return s == 0.0 ? "s0" : s == 1.0 ? "s1" : "s05"; }

std::string video_case_name(const ::testing::TestParamInfo<VideoTuple>& info) {
  const auto& [id, border, init, precision, strength, layout] = info.param;
  std::ostringstream s;
  s << "id" << id << "_" << border_name(border) << "_" << init_name(init) << "_" << precision_name(precision) << "_"
    << strength_name(strength) << "_" << layout_name(layout);
  return s.str();
}

const double kStrengths[] = {0.0, 0.5, 1.0};
const VideoLayout kLayouts[] = {VideoLayout::Gray8,     VideoLayout::Gray16,     VideoLayout::Gray10Lsb,
                                VideoLayout::Gray10Msb, VideoLayout::Nv12Chroma, VideoLayout::P010Chroma};

class VideoVsRef : public DeviceTestP<VideoTuple> {};

TEST_P(VideoVsRef, Small67x43) {
  const auto& [id, border, init, precision, strength, layout] = GetParam();
  const FilterParams p = make_params(id, border, init, precision);
  run_video_case(p, layout, strength, 67, 43,
                 case_seed({id, static_cast<int>(border), static_cast<int>(init), static_cast<int>(precision),
                            static_cast<long long>(strength * 10), static_cast<int>(layout), 67}));
}

INSTANTIATE_TEST_SUITE_P(All, VideoVsRef,
                         ::testing::Combine(::testing::Range(1, 9), ::testing::ValuesIn(kBorders),
                                            ::testing::ValuesIn(kInits), ::testing::ValuesIn(kPrecisions),
                                            ::testing::ValuesIn(kStrengths), ::testing::ValuesIn(kLayouts)),
                         video_case_name);

using VideoHdTuple = std::tuple<int, BorderInit, Precision, VideoLayout>;

class VideoFullHd : public DeviceTestP<VideoHdTuple> {};

TEST_P(VideoFullHd, MatchesRefcpu) {
  const auto& [id, init, precision, layout] = GetParam();
  const FilterParams p = make_params(id, Border::Mirror, init, precision);
  const bool chroma = layout == VideoLayout::Nv12Chroma || layout == VideoLayout::P010Chroma;
  const int w = chroma ? 960 : 1920, h = chroma ? 540 : 1080;
  run_video_case(p, layout, 0.5, w, h,
                 case_seed({id, static_cast<int>(init), static_cast<int>(precision), static_cast<int>(layout), w}));
}

std::string video_hd_case_name(const ::testing::TestParamInfo<VideoHdTuple>& info) {
  const auto& [id, init, precision, layout] = info.param;
  return "id" + std::to_string(id) + "_" + init_name(init) + "_" + precision_name(precision) + "_" +
         layout_name(layout);
}

INSTANTIATE_TEST_SUITE_P(Mirror, VideoFullHd,
                         ::testing::Combine(::testing::Values(1, 4, 5, 6), ::testing::ValuesIn(kInits),
                                            ::testing::ValuesIn(kPrecisions),
                                            ::testing::Values(VideoLayout::Gray8, VideoLayout::Gray16,
                                                              VideoLayout::Gray10Lsb, VideoLayout::Nv12Chroma,
                                                              VideoLayout::P010Chroma)),
                         video_hd_case_name);

using VideoInPlaceTuple = std::tuple<int, Precision, VideoLayout>;

class VideoInPlace : public DeviceTestP<VideoInPlaceTuple> {};

TEST_P(VideoInPlace, MatchesRefcpu) {
  const auto& [id, precision, layout] = GetParam();
  const FilterParams p = make_params(id, Border::Wrap, BorderInit::Exact, precision);
  run_video_case(p, layout, 0.5, 41, 23, case_seed({2000 + id, static_cast<int>(precision), static_cast<int>(layout)}),
                 true);
}

std::string video_in_place_case_name(const ::testing::TestParamInfo<VideoInPlaceTuple>& info) {
  const auto& [id, precision, layout] = info.param;
  return "id" + std::to_string(id) + "_" + precision_name(precision) + "_" + layout_name(layout);
}

INSTANTIATE_TEST_SUITE_P(Wrap41x23, VideoInPlace,
                         ::testing::Combine(::testing::Range(1, 9), ::testing::ValuesIn(kPrecisions),
                                            ::testing::Values(VideoLayout::Gray8, VideoLayout::Gray10Msb,
                                                              VideoLayout::Nv12Chroma, VideoLayout::P010Chroma)),
                         video_in_place_case_name);

/// Planar components with 16-byte aligned rows take the vector input paths
/// (the scan row pass's 4-sample loads, the tiled row pass's cp.async
/// staging); the cases above, with odd row strides, the edge paths. At f32,
/// 8- and 10-bit components take the scan row pass, 16-bit ones the tiled one.
using VideoAlignedTuple = std::tuple<int, Border, BorderInit, Precision, VideoLayout>;

class VideoAligned : public DeviceTestP<VideoAlignedTuple> {};

TEST_P(VideoAligned, MatchesRefcpu) {
  const auto& [id, border, init, precision, layout] = GetParam();
  const FilterParams p = make_params(id, border, init, precision);
  for (const auto& [w, h] : {std::pair<int, int>{100, 37}, std::pair<int, int>{257, 140}, std::pair<int, int>{1920, 1080}})
    run_video_case(p, layout, 0.5, w, h,
                   case_seed({id, static_cast<int>(border), static_cast<int>(init), static_cast<int>(precision),
                              static_cast<int>(layout), w, 31}),
                   false, 256);
}

std::string video_aligned_case_name(const ::testing::TestParamInfo<VideoAlignedTuple>& info) {
  const auto& [id, border, init, precision, layout] = info.param;
  return "id" + std::to_string(id) + "_" + border_name(border) + "_" + init_name(init) + "_" + precision_name(precision) +
         "_" + layout_name(layout);
}

INSTANTIATE_TEST_SUITE_P(Rows256, VideoAligned,
                         ::testing::Combine(::testing::Range(1, 9), ::testing::Values(Border::Mirror, Border::Wrap),
                                            ::testing::ValuesIn(kInits), ::testing::ValuesIn(kPrecisions),
                                            ::testing::Values(VideoLayout::Gray8, VideoLayout::Gray16,
                                                              VideoLayout::Gray10Msb)),
                         video_aligned_case_name);

// --- copy_video_component -----------------------------------------------------------

class CopyComponent : public DeviceTest {};

TEST_F(CopyComponent, PlanarAndInterleaved) {
  for (VideoLayout layout : kLayouts) {
    SCOPED_TRACE(layout_name(layout));
    const LayoutInfo li = layout_info(layout);
    const int bytes = li.type == SampleType::U16 ? 2 : 1;
    const int w = 37, h = 11;
    const std::ptrdiff_t row = static_cast<std::ptrdiff_t>(w) * bytes * li.components + 10;
    const std::size_t total = static_cast<std::size_t>(row) * h;
    std::mt19937_64 rng(case_seed({77, static_cast<int>(layout)}));
    std::vector<unsigned char> host_in(total);
    for (auto& b : host_in) b = static_cast<unsigned char>(rng() & 0xFF);
    Stream stream;
    ASSERT_CUDA(stream.create());
    DeviceBuffer d_in, d_out;
    ASSERT_CUDA(d_in.allocate(total));
    ASSERT_CUDA(d_out.allocate(total));
    ASSERT_CUDA(cudaMemcpyAsync(d_in.get(), host_in.data(), total, cudaMemcpyHostToDevice, stream.get()));
    ASSERT_CUDA(cudaMemsetAsync(d_out.get(), 0xAB, total, stream.get()));
    std::vector<unsigned char> want(total, 0xAB);
    for (int comp = 0; comp < li.components; ++comp) {
      const cu::Result r = cu::copy_video_component(component_of<const void*>(d_in.get(), li, comp, w, h, row),
                                                    component_of<void*>(d_out.get(), li, comp, w, h, row),
                                                    stream.get());
      ASSERT_TRUE(r.ok()) << r.message();
      ref::copy_video_component(component_of<const void*>(host_in.data(), li, comp, w, h, row),
                                component_of<void*>(want.data(), li, comp, w, h, row));
    }
    ASSERT_CUDA(cudaStreamSynchronize(stream.get()));
    std::vector<unsigned char> got(total);
    ASSERT_CUDA(cudaMemcpyAsync(got.data(), d_out.get(), total, cudaMemcpyDeviceToHost, stream.get()));
    ASSERT_CUDA(cudaStreamSynchronize(stream.get()));
    EXPECT_TRUE(got == want) << "copy differs from refcpu's copy";
  }
}

// --- Segments of the fast passes ----------------------------------------------------

/// Sets the dispatch knobs for one scope (process-wide; gtest runs tests one at a time).
class TuningScope {
 public:
  explicit TuningScope(const iir2d::cuda::detail::Tuning& t) : saved_(iir2d::cuda::detail::tuning()) {
    iir2d::cuda::detail::set_tuning(t);
  }
  TuningScope(const TuningScope&) = delete;
  TuningScope& operator=(const TuningScope&) = delete;
  ~TuningScope() { iir2d::cuda::detail::set_tuning(saved_); }

 private:
  iir2d::cuda::detail::Tuning saved_;
};

template <typename T>
void run_plane_case_p(const FilterParams& p, const PlaneSize& size, std::uint64_t seed, double tol = 0.0) {
  run_plane_case<T>(p, size, false, seed, tol);
}

void run_plane_any(const FilterParams& p, const PlaneSize& size, std::uint64_t seed, double tol = 0.0) {
  if (p.precision == Precision::F64)
    run_plane_case_p<double>(p, size, seed, tol);
  else
    run_plane_case_p<float>(p, size, seed, tol);
}

using SegTuple = std::tuple<int, Border, BorderInit, Precision>;

std::string seg_case_name(const ::testing::TestParamInfo<SegTuple>& info) {
  const auto& [id, border, init, precision] = info.param;
  return "id" + std::to_string(id) + "_" + border_name(border) + "_" + init_name(init) + "_" + precision_name(precision);
}

class FastSegments : public DeviceTestP<SegTuple> {};

/// Short forced segments (32 and 64 samples, F1A1 at least W): every segment
/// boundary, warm-up across several segments and edge chunk of the passes.
/// Rows take the tiled row pass here (the scan row pass has no segments; it
/// has its own suite, ScanRows, below).
TEST_P(FastSegments, ShortSegmentsMatchRefcpu) {
  const auto& [id, border, init, precision] = GetParam();
  const FilterParams p = make_params(id, border, init, precision);
  for (int seg : {32, 64}) {
    SCOPED_TRACE("segments of " + std::to_string(seg));
    iir2d::cuda::detail::Tuning t;
    t.row_scan = false;
    t.fixed_row_segment = seg;
    t.fixed_col_segment = seg;
    TuningScope scope(t);
    for (const PlaneSize& size : {PlaneSize{95, 70, 0}, PlaneSize{161, 97, 3}})
      run_plane_any(p, size, case_seed({id, static_cast<int>(border), static_cast<int>(init),
                                        static_cast<int>(precision), seg, size.width}));
  }
}

/// Default segments, sizes just below, at and above the warm-up lengths and
/// chunk multiples where the segment count changes.
TEST_P(FastSegments, SizesAroundSegmentLengths) {
  const auto& [id, border, init, precision] = GetParam();
  const FilterParams p = make_params(id, border, init, precision);
  for (const PlaneSize& size : {PlaneSize{127, 129, 0}, PlaneSize{256, 32, 0}, PlaneSize{257, 255, 1},
                                PlaneSize{289, 287, 0}, PlaneSize{33, 577, 0}})
    run_plane_any(p, size, case_seed({id, static_cast<int>(border), static_cast<int>(init),
                                      static_cast<int>(precision), size.width, size.height, 77}));
}

INSTANTIATE_TEST_SUITE_P(All, FastSegments,
                         ::testing::Combine(::testing::Range(1, 9), ::testing::ValuesIn(kBorders),
                                            ::testing::ValuesIn(kInits), ::testing::ValuesIn(kPrecisions)),
                         seg_case_name);

/**
 * The scan row pass (detail/scan_row.cuh): one warp per row in chunks of 128
 * samples. Rows shorter than, equal to and longer than one chunk and a few
 * chunks, the ring of chunks in flight (4) wrapping, rows that start inside
 * the warm-up chunk of the exact initialisation, and the tiled row pass on
 * the same planes for comparison.
 */
class ScanRows : public DeviceTestP<SegTuple> {};

TEST_P(ScanRows, RowLengthsAroundChunks) {
  const auto& [id, border, init, precision] = GetParam();
  const FilterParams p = make_params(id, border, init, precision);
  for (const PlaneSize& size : {PlaneSize{127, 3, 0}, PlaneSize{128, 2, 0}, PlaneSize{129, 3, 1}, PlaneSize{255, 2, 0},
                                PlaneSize{256, 5, 0}, PlaneSize{383, 2, 3}, PlaneSize{640, 3, 0}, PlaneSize{1031, 2, 0},
                                PlaneSize{2, 9, 0}, PlaneSize{5, 33, 0}})
    run_plane_any(p, size, case_seed({id, static_cast<int>(border), static_cast<int>(init),
                                      static_cast<int>(precision), size.width, size.height, 128}));
}

TEST_P(ScanRows, TiledRowPassStillMatches) {
  const auto& [id, border, init, precision] = GetParam();
  const FilterParams p = make_params(id, border, init, precision);
  iir2d::cuda::detail::Tuning t;
  t.row_scan = false;
  TuningScope scope(t);
  for (const PlaneSize& size : {PlaneSize{300, 41, 0}, PlaneSize{7, 5, 1}})
    run_plane_any(p, size, case_seed({id, static_cast<int>(border), static_cast<int>(init),
                                      static_cast<int>(precision), size.width, size.height, 129}));
}

/**
 * Rows cut into segments in the scan row pass (Tuning::row_scan_segments,
 * forward-only shapes; ids 5 and 6 keep one warp per row and must still
 * match): 2 and 3 segments of whole chunks, each past the first
 * warming up from zero over W samples. Widths where the last segment is
 * short, one chunk, and where the segments just cover the row.
 */
TEST_P(ScanRows, RowsInSegments) {
  const auto& [id, border, init, precision] = GetParam();
  const FilterParams p = make_params(id, border, init, precision);
  for (int nseg : {2, 3}) {
    SCOPED_TRACE("segments per row " + std::to_string(nseg));
    iir2d::cuda::detail::Tuning t;
    t.row_scan_segments = nseg;
    TuningScope scope(t);
    for (const PlaneSize& size : {PlaneSize{2000, 5, 0}, PlaneSize{1537, 3, 1}, PlaneSize{3840, 2, 0}})
      run_plane_any(p, size, case_seed({id, static_cast<int>(border), static_cast<int>(init),
                                        static_cast<int>(precision), size.width, size.height, nseg, 130}));
  }
}

/// The default segment rule (Tuning::row_scan_warps_per_sm, planes at every
/// precision): a few rows as wide as 4K and 1080p planes are cut into
/// segments of at least 4·W samples; ids 5 and 6 keep one warp per row.
TEST_P(ScanRows, DefaultRowSegments) {
  const auto& [id, border, init, precision] = GetParam();
  const FilterParams p = make_params(id, border, init, precision);
  for (const PlaneSize& size : {PlaneSize{3840, 6, 0}, PlaneSize{1920, 3, 1}})
    run_plane_any(p, size, case_seed({id, static_cast<int>(border), static_cast<int>(init),
                                      static_cast<int>(precision), size.width, size.height, 132}));
}

/// 4K-wide 8-bit video with the row pass's segment rule at 32 (the default at
/// f32) and 48 warps per SM, precisions f32 and mixed: the contract's code
/// rule, every id and initialisation.
TEST_F(DeviceTest, VideoRowsInSegmentsKeepTheCodeRule) {
  for (int warps : {32, 48}) {
    iir2d::cuda::detail::Tuning t;
    t.row_scan_warps_per_sm_video = t.row_scan_warps_per_sm_video_f64 = warps;  // f32 and mixed
    TuningScope scope(t);
    for (int id = 1; id <= 8; ++id)
      for (BorderInit init : kInits)
        for (Precision precision : {Precision::F32, Precision::Mixed}) {
          SCOPED_TRACE("row segments for " + std::to_string(warps) + " warps per SM");
          run_video_case(make_params(id, Border::Mirror, init, precision), VideoLayout::Gray8, 1.0, 3840, 360,
                         case_seed({id, static_cast<int>(init), static_cast<int>(precision), warps, 131}));
        }
  }
}

INSTANTIATE_TEST_SUITE_P(All, ScanRows,
                         ::testing::Combine(::testing::Range(1, 9), ::testing::ValuesIn(kBorders),
                                            ::testing::ValuesIn(kInits), ::testing::ValuesIn(kPrecisions)),
                         seg_case_name);

/**
 * The scan column pass (detail/scan_col.cuh, issue 15): 32 columns per block,
 * 8 warps of 8 rows per 64-row chunk, carries folded through shared memory,
 * a few long segments per column. Columns shorter than, equal to and longer
 * than one chunk and a few chunks (the two chunks loaded ahead wrapping),
 * planes narrower than a block's 32 columns and not a multiple of them
 * (idle lanes), columns that start inside the warm-up chunk of the exact
 * initialisation, tall planes cut into several segments (default count and
 * forced 64-row segments, shorter than the warm-up), and the tiled column
 * pass on the same planes for comparison. Ids 5 and 6 sweep each segment
 * forward and back (F1A1's stage-1 outputs past a segment in the scratch).
 * The first two force the scan column pass for every shape (the default
 * table, dispatch.cu's scan_cols(), takes it for some only).
 */
class ScanCols : public DeviceTestP<SegTuple> {};

TEST_P(ScanCols, ColumnLengthsAroundChunks) {
  const auto& [id, border, init, precision] = GetParam();
  const FilterParams p = make_params(id, border, init, precision);
  iir2d::cuda::detail::Tuning t;
  t.col_scan_shapes = 0x3f;  // every shape, whatever the measured table picks
  TuningScope scope(t);
  for (const PlaneSize& size : {PlaneSize{3, 63, 0}, PlaneSize{2, 64, 0}, PlaneSize{3, 65, 1}, PlaneSize{33, 127, 0},
                                PlaneSize{2, 128, 0}, PlaneSize{5, 129, 3}, PlaneSize{40, 300, 0}, PlaneSize{2, 1031, 0},
                                PlaneSize{9, 2, 0}, PlaneSize{33, 5, 0}, PlaneSize{70, 2000, 1}})
    run_plane_any(p, size, case_seed({id, static_cast<int>(border), static_cast<int>(init),
                                      static_cast<int>(precision), size.width, size.height, 64}));
}

TEST_P(ScanCols, ForcedShortSegments) {
  const auto& [id, border, init, precision] = GetParam();
  const FilterParams p = make_params(id, border, init, precision);
  iir2d::cuda::detail::Tuning t;
  t.fixed_col_segment = 64;
  t.col_scan_shapes = 0x3f;
  TuningScope scope(t);
  for (const PlaneSize& size : {PlaneSize{37, 301, 0}, PlaneSize{64, 129, 2}})
    run_plane_any(p, size, case_seed({id, static_cast<int>(border), static_cast<int>(init),
                                      static_cast<int>(precision), size.width, size.height, 65}));
}

TEST_P(ScanCols, TiledColumnPassStillMatches) {
  const auto& [id, border, init, precision] = GetParam();
  const FilterParams p = make_params(id, border, init, precision);
  iir2d::cuda::detail::Tuning t;
  t.col_scan = false;
  TuningScope scope(t);
  for (const PlaneSize& size : {PlaneSize{41, 300, 0}, PlaneSize{5, 7, 1}})
    run_plane_any(p, size, case_seed({id, static_cast<int>(border), static_cast<int>(init),
                                      static_cast<int>(precision), size.width, size.height, 66}));
}

/**
 * Planes in bands (Tuning::band_bytes, fast_launch.cuh run_passes): the row
 * pass runs a band at a time, up to W rows past the band's last column
 * segment, then that band's segments. Bands of one and two 64-row segments
 * (shorter than many warm-ups, so a warm-up reaches back across a band edge
 * into rows the previous band's row launch wrote), both row passes. Wrap
 * never bands (its border reads the far end of the column); it must still
 * match. A band that read rows no row launch had written yet fails here.
 */
TEST_P(ScanCols, PlanesInBands) {
  const auto& [id, border, init, precision] = GetParam();
  const FilterParams p = make_params(id, border, init, precision);
  for (int per_band : {1, 2})
    for (bool row_scan : {true, false}) {
      SCOPED_TRACE("segments per band " + std::to_string(per_band) + (row_scan ? ", scan rows" : ", tiled rows"));
      for (const PlaneSize& size : {PlaneSize{37, 301, 0}, PlaneSize{64, 129, 2}, PlaneSize{3, 1031, 0}}) {
        iir2d::cuda::detail::Tuning t;
        t.col_scan_shapes = 0x3f;
        t.row_scan = row_scan;
        // One row of intermediate: segments of one 64-row chunk (F1A1: W rounded up to chunks).
        t.band_bytes = static_cast<long long>(size.width) * (precision == Precision::F64 ? 8 : 4);
        t.band_segments = per_band;
        TuningScope scope(t);
        run_plane_any(p, size, case_seed({id, static_cast<int>(border), static_cast<int>(init),
                                          static_cast<int>(precision), size.width, size.height, per_band, row_scan, 67}));
      }
    }
}

/**
 * Full-HD 8-bit video in bands, every id through the scan column pass
 * (col_scan_shapes forced, so that ids 2, 3, 4 and 8 band too): bands of two
 * segments of one chunk (F1A1: two of W rounded up; 5 bands for id 5), with
 * the blend (strength 0.75); and 1 MiB bands of the default geometry (9
 * segments of 64 rows on 132 SMs; id 5 then fits one band) at strength 1.
 * The contract's code rule.
 */
TEST_F(DeviceTest, VideoInBandsKeepsTheCodeRule) {
  struct Bands {
    long long bytes;
    int segments;
    double strength;
  };
  for (const Bands& b : {Bands{1920LL * 4, 2, 0.75}, Bands{1LL << 20, 0, 1.0}}) {
    iir2d::cuda::detail::Tuning t;
    t.col_scan_shapes = 0x3f;
    t.band_bytes = b.bytes;
    t.band_segments = b.segments;
    TuningScope scope(t);
    for (int id = 1; id <= 8; ++id)
      for (BorderInit init : kInits)
        for (Precision precision : {Precision::F32, Precision::Mixed}) {
          SCOPED_TRACE("bands of " + std::to_string(b.bytes) + " bytes, " + std::to_string(b.segments) + " segments");
          run_video_case(make_params(id, Border::Mirror, init, precision), VideoLayout::Gray8, b.strength, 1920, 1080,
                         case_seed({id, static_cast<int>(init), static_cast<int>(precision), b.segments, 68}));
        }
  }
}

/// The same rule end to end: a plane as wide as 8K and tall enough for 4
/// segments, against refcpu (the one-sweep shapes through the scan column
/// pass: ids 1 and 7 at every precision, id 3 at f64; ids 5 and 6 beside them).
TEST_F(DeviceTest, WidePlanesTakeMoreColumnSegments) {
  for (int id : {1, 3, 5, 6, 7})
    for (Precision precision : kPrecisions)
      run_video_case(make_params(id, Border::Mirror, BorderInit::Exact, precision), VideoLayout::Gray8, 1.0, 7680, 1600,
                     case_seed({id, static_cast<int>(precision), 7680}));
}

INSTANTIATE_TEST_SUITE_P(All, ScanCols,
                         ::testing::Combine(::testing::Range(1, 9), ::testing::ValuesIn(kBorders),
                                            ::testing::ValuesIn(kInits), ::testing::ValuesIn(kPrecisions)),
                         seg_case_name);

/**
 * Diagnostic, not run by default (--gtest_also_run_disabled_tests): 16-bit
 * video at f32 through the scan row pass. Expected to FAIL the 0.1 % code
 * criterion, which is why such components take the tiled row pass
 * (Tuning::scan_f32_max_depth); the failure message gives the fraction.
 */
TEST_F(DeviceTest, DISABLED_ScanRows16BitF32) {
  iir2d::cuda::detail::Tuning t;
  t.scan_f32_max_depth = 16;
  TuningScope scope(t);
  for (int id : {1, 3, 6})
    run_video_case(make_params(id, Border::Mirror, BorderInit::Exact, Precision::F32), VideoLayout::Gray16, 0.5, 1920,
                   1080, case_seed({id, 1616}), false, 256);
}

/**
 * Tolerance of the Deriche pair at sigma 64 in f32: its poles are at 0.974
 * (double), so the float32 recursion amplifies rounding about 1/(1-e)^2 =
 * 1500-fold and two float32 runs that start from different (equally valid)
 * states differ by about 1e-5 (host emulation: up to 1.2e-5 on 1-D
 * sequences). The contract's f32 bound is for its sigma 2; mixed and f64
 * keep the contract's bounds at sigma 64.
 */
constexpr double kSigma64F32Tolerance = 1e-4;

using SigmaTuple = std::tuple<BorderInit, Precision, bool>;

class FastSigma : public DeviceTestP<SigmaTuple> {};

/// Filter id 6 at sigma 64 (L about 800 in f32, 1500 in f64: one segment per
/// column of this plane by default, many with forced short segments) and
/// unity gain, plus a biquad with unity gain.
TEST_P(FastSigma, WideDericheAndUnityGain) {
  const auto& [init, precision, unity] = GetParam();
  for (Border border : {Border::Mirror, Border::Wrap, Border::Constant}) {
    FilterParams p = make_params(6, border, init, precision);
    p.sigma = 64.0;
    p.unity_gain = unity;
    const double tol = precision == Precision::F32 ? kSigma64F32Tolerance : 0.0;
    run_plane_any(p, {700, 300, 0}, case_seed({6, static_cast<int>(border), static_cast<int>(init),
                                               static_cast<int>(precision), unity}), tol);
    {
      iir2d::cuda::detail::Tuning t;
      t.fixed_row_segment = 64;
      t.fixed_col_segment = 96;
      TuningScope scope(t);
      run_plane_any(p, {300, 200, 0}, case_seed({66, static_cast<int>(border), static_cast<int>(init),
                                                 static_cast<int>(precision), unity}), tol);
    }
    FilterParams q = make_params(3, border, init, precision);
    q.unity_gain = unity;
    q.sigma = 64.0;  // ignored by id 3
    run_plane_any(q, {333, 222, 0}, case_seed({3, static_cast<int>(border), static_cast<int>(init),
                                               static_cast<int>(precision), unity}));
  }
}

std::string sigma_case_name(const ::testing::TestParamInfo<SigmaTuple>& info) {
  const auto& [init, precision, unity] = info.param;
  return std::string(init_name(init)) + "_" + precision_name(precision) + (unity ? "_unity" : "_plain");
}

INSTANTIATE_TEST_SUITE_P(Sigma64, FastSigma,
                         ::testing::Combine(::testing::ValuesIn(kInits), ::testing::ValuesIn(kPrecisions),
                                            ::testing::Bool()),
                         sigma_case_name);

/**
 * 8-bit video through id 6 at wide sigmas, held to the contract's code rule
 * (at most 1 code, 99.9 % identical) on a full-HD plane. The scan column
 * pass folded its carries in float32 here and moved 0.48 % of codes at sigma
 * 48 (0.33 % at 64): the dispatch keeps it to sigma 16 and below
 * (Tuning::col_scan_deriche_max_sigma), where it moved at most 0.014 %.
 */
class VideoWideDeriche : public DeviceTestP<std::tuple<double, Precision>> {};

TEST_P(VideoWideDeriche, KeepsTheCodeRule) {
  const auto& [sigma, precision] = GetParam();
  for (BorderInit init : kInits) {
    FilterParams p = make_params(6, Border::Mirror, init, precision);
    p.sigma = sigma;
    for (bool unity : {false, true}) {
      p.unity_gain = unity;
      run_video_case(p, VideoLayout::Gray8, 1.0, 1920, 1080,
                     case_seed({6, static_cast<int>(init), static_cast<int>(precision), static_cast<int>(sigma), unity}));
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Sigmas, VideoWideDeriche,
                         ::testing::Combine(::testing::Values(2.0, 16.0, 24.0, 48.0, 64.0),
                                            ::testing::Values(Precision::F32, Precision::Mixed)),
                         [](const ::testing::TestParamInfo<std::tuple<double, Precision>>& info) {
                           return "sigma" + std::to_string(static_cast<int>(std::get<0>(info.param))) + "_" +
                                  precision_name(std::get<1>(info.param));
                         });

/// The correctness-first kernels (still the route of iir2d + wrap cascades,
/// and the benchmark's baseline) stay right when forced for every program.
TEST_F(DeviceTest, GenericKernelsStillMatchRefcpu) {
  iir2d::cuda::detail::Tuning t;
  t.generic_only = true;
  TuningScope scope(t);
  for (int id = 1; id <= 8; ++id)
    for (BorderInit init : kInits)
      for (Precision precision : kPrecisions)
        run_plane_any(make_params(id, Border::Mirror, init, precision), {67, 45, 1},
                      case_seed({id, static_cast<int>(init), static_cast<int>(precision), 4242}));
}

// --- Debug sync and a stream of its own ---------------------------------------------

TEST_F(DeviceTest, DebugSyncSwitch) {
  cu::set_debug_sync(true);
  run_plane_case<float>(make_params(6, Border::Mirror, BorderInit::Exact, Precision::F32), {64, 48, 0}, false, 5);
  cu::set_debug_sync(false);
}

TEST_F(DeviceTest, EmptyPlaneTouchesNothing) {
  const FilterParams p = make_params(1, Border::Mirror, BorderInit::Exact, Precision::F32);
  EXPECT_TRUE(cu::filter_plane_f32(nullptr, 0, nullptr, 0, 0, 5, p, nullptr, 0, nullptr).ok());
  EXPECT_TRUE(cu::filter_plane_f32(nullptr, 0, nullptr, 0, 5, 0, p, nullptr, 0, nullptr).ok());
}

// ===================================================================================
// Error paths (no device needed: every check happens before a CUDA call)
// ===================================================================================

// Never dereferenced: the calls below fail their checks first.
float* fake_f32() { return reinterpret_cast<float*>(static_cast<std::uintptr_t>(0x10000)); }
double* fake_f64() { return reinterpret_cast<double*>(static_cast<std::uintptr_t>(0x10000)); }
void* fake_ws() { return reinterpret_cast<void*>(static_cast<std::uintptr_t>(0x20000)); }

TEST(CudaApiErrors, WorkspaceSize) {
  for (int id = 1; id <= 8; ++id)
    for (BorderInit init : kInits)
      for (Precision prec : kPrecisions) {
        const FilterParams p = make_params(id, Border::Mirror, init, prec);
        for (const auto& [w, h] : {std::pair{1, 1}, std::pair{1, 300}, std::pair{1920, 1080}}) {
          const std::size_t s = cu::workspace_size(w, h, p);
          const std::size_t store = prec == Precision::F64 ? 8 : 4;
          EXPECT_GE(s, 2u * static_cast<std::size_t>(w) * h * store) << params_text(p);
          EXPECT_LE(s, cu::max_workspace_size(w, h)) << params_text(p);
        }
        EXPECT_EQ(cu::workspace_size(0, 10, p), 0u);
        EXPECT_EQ(cu::workspace_size(10, 0, p), 0u);
        EXPECT_EQ(cu::workspace_size(-1, 10, p), 0u);
      }
  // Filter id 5 with the exact initialisation needs L values per sequence of scratch.
  const FilterParams p5 = make_params(5, Border::Mirror, BorderInit::Exact, Precision::F64);
  const FilterParams p1 = make_params(1, Border::Mirror, BorderInit::Exact, Precision::F64);
  const int L = iir2d::extension_length(iir2d::filter_program(5), Precision::F64);
  EXPECT_GE(cu::workspace_size(1920, 1080, p5), cu::workspace_size(1920, 1080, p1) + 1920u * L * 8u - 256u);
}

TEST(CudaApiErrors, InvalidPlaneArguments) {
  const FilterParams good = make_params(1, Border::Mirror, BorderInit::Exact, Precision::F32);
  const int w = 16, h = 8;
  const std::size_t pitch = w * sizeof(float);
  const std::size_t ws = cu::workspace_size(w, h, good);
  auto call = [&](const FilterParams& p, const float* in, std::size_t ip, float* out, std::size_t op, int ww, int hh,
                  void* wsp, std::size_t wsb) { return cu::filter_plane_f32(in, ip, out, op, ww, hh, p, wsp, wsb, nullptr); };
  auto expect_invalid = [](const cu::Result& r, const char* what) {
    EXPECT_EQ(r.status, cu::Status::InvalidArgument) << what << ": " << r.message();
    EXPECT_EQ(r.cuda_error, cudaSuccess) << what;
    EXPECT_FALSE(r.ok());
    EXPECT_STRNE(r.where, "") << what;
  };
  FilterParams p = good;
  p.filter_id = 0;
  expect_invalid(call(p, fake_f32(), pitch, fake_f32(), pitch, w, h, fake_ws(), ws), "filter id 0");
  p.filter_id = 9;
  expect_invalid(call(p, fake_f32(), pitch, fake_f32(), pitch, w, h, fake_ws(), ws), "filter id 9");
  p = good;
  p.border = static_cast<Border>(7);
  expect_invalid(call(p, fake_f32(), pitch, fake_f32(), pitch, w, h, fake_ws(), ws), "border 7");
  p = good;
  p.border_init = static_cast<BorderInit>(5);
  expect_invalid(call(p, fake_f32(), pitch, fake_f32(), pitch, w, h, fake_ws(), ws), "init 5");
  p = good;
  p.precision = Precision::F64;
  expect_invalid(call(p, fake_f32(), pitch, fake_f32(), pitch, w, h, fake_ws(), cu::workspace_size(w, h, p)),
                 "f64 precision on float planes");
  expect_invalid(call(good, fake_f32(), pitch, fake_f32(), pitch, -1, h, fake_ws(), ws), "negative width");
  expect_invalid(call(good, nullptr, pitch, fake_f32(), pitch, w, h, fake_ws(), ws), "null input");
  expect_invalid(call(good, fake_f32(), pitch, nullptr, pitch, w, h, fake_ws(), ws), "null output");
  expect_invalid(call(good, fake_f32(), pitch - 4, fake_f32(), pitch, w, h, fake_ws(), ws), "input pitch too small");
  expect_invalid(call(good, fake_f32(), pitch, fake_f32(), pitch + 2, w, h, fake_ws(), ws), "output pitch not a multiple of 4");
  expect_invalid(call(good, reinterpret_cast<const float*>(0x10002), pitch, fake_f32(), pitch, w, h, fake_ws(), ws),
                 "misaligned input");
  expect_invalid(call(good, fake_f32(), pitch, fake_f32(), pitch, w, h, nullptr, ws), "null workspace");
  const cu::Result small = call(good, fake_f32(), pitch, fake_f32(), pitch, w, h, fake_ws(), ws - 1);
  EXPECT_EQ(small.status, cu::Status::WorkspaceTooSmall) << small.message();

  // float64 planes need precision f64.
  for (Precision prec : {Precision::F32, Precision::Mixed}) {
    p = good;
    p.precision = prec;
    expect_invalid(cu::filter_plane_f64(fake_f64(), w * 8, fake_f64(), w * 8, w, h, p, fake_ws(), 1u << 20, nullptr),
                   "f32/mixed precision on double planes");
  }
  p = good;
  p.precision = Precision::F64;
  expect_invalid(cu::filter_plane_f64(fake_f64(), w * 8 + 4, fake_f64(), w * 8, w, h, p, fake_ws(), 1u << 20, nullptr),
                 "double pitch not a multiple of 8");

  // Empty planes: success without touching anything (also without a device).
  EXPECT_TRUE(call(good, nullptr, 0, nullptr, 0, 0, h, nullptr, 0).ok());
  EXPECT_TRUE(call(good, nullptr, 0, nullptr, 0, w, 0, nullptr, 0).ok());
  // ...but bad parameters are still reported.
  p = good;
  p.filter_id = 42;
  expect_invalid(call(p, nullptr, 0, nullptr, 0, 0, 0, nullptr, 0), "bad id on an empty plane");
}

TEST(CudaApiErrors, InvalidVideoArguments) {
  const FilterParams good = make_params(3, Border::Clamp, BorderInit::Iir2d, Precision::Mixed);
  const int w = 16, h = 8;
  const std::size_t ws = cu::workspace_size(w, h, good);
  ConstVideoComponent in;
  in.data = reinterpret_cast<const void*>(0x30000);
  in.width = w;
  in.height = h;
  in.row_stride = 32;
  in.pixel_stride = 2;
  in.type = SampleType::U16;
  in.depth = 10;
  in.shift = 6;
  VideoComponent out;
  out.data = reinterpret_cast<void*>(0x40000);
  out.width = w;
  out.height = h;
  out.row_stride = 32;
  out.pixel_stride = 2;
  out.type = SampleType::U16;
  out.depth = 10;
  out.shift = 6;
  auto expect_invalid = [](const cu::Result& r, const char* what) {
    EXPECT_EQ(r.status, cu::Status::InvalidArgument) << what << ": " << r.message();
  };
  for (double s : {-0.1, 1.5, std::numeric_limits<double>::quiet_NaN()})
    expect_invalid(cu::filter_video_component(in, out, good, s, fake_ws(), ws, nullptr), "strength");
  {
    auto bad = in;
    bad.shift = 7;  // 10 + 7 > 16
    expect_invalid(cu::filter_video_component(bad, out, good, 0.5, fake_ws(), ws, nullptr), "depth+shift");
  }
  {
    auto bad = out;
    bad.depth = 12;
    expect_invalid(cu::filter_video_component(in, bad, good, 0.5, fake_ws(), ws, nullptr), "depth mismatch");
  }
  {
    auto bad = in;
    bad.pixel_stride = 1;
    expect_invalid(cu::filter_video_component(bad, out, good, 0.5, fake_ws(), ws, nullptr), "pixel stride");
  }
  {
    auto bad = in;
    bad.row_stride = 30;
    expect_invalid(cu::filter_video_component(bad, out, good, 0.5, fake_ws(), ws, nullptr), "row stride");
  }
  {
    auto bad = out;
    bad.data = nullptr;
    expect_invalid(cu::filter_video_component(in, bad, good, 0.5, fake_ws(), ws, nullptr), "null output");
  }
  {
    auto bad = in;
    bad.type = SampleType::U8;
    bad.depth = 8;
    bad.shift = 0;
    expect_invalid(cu::copy_video_component(bad, out, nullptr), "copy between sample types");
  }
  {
    FilterParams p = good;
    p.filter_id = -3;
    expect_invalid(cu::filter_video_component(in, out, p, 0.5, fake_ws(), ws, nullptr), "filter id");
  }
  expect_invalid(cu::filter_video_component(in, out, good, 0.5, nullptr, ws, nullptr), "null workspace");
  EXPECT_EQ(cu::filter_video_component(in, out, good, 0.5, fake_ws(), ws - 1, nullptr).status,
            cu::Status::WorkspaceTooSmall);
  // Empty components succeed at once.
  auto e_in = in;
  auto e_out = out;
  e_in.height = e_out.height = 0;
  e_in.data = nullptr;
  e_out.data = nullptr;
  EXPECT_TRUE(cu::filter_video_component(e_in, e_out, good, 0.5, nullptr, 0, nullptr).ok());
  EXPECT_TRUE(cu::copy_video_component(e_in, e_out, nullptr).ok());
}

TEST(CudaApiErrors, ResultMessage) {
  cu::Result ok;
  EXPECT_TRUE(ok.ok());
  EXPECT_TRUE(static_cast<bool>(ok));
  EXPECT_EQ(ok.message(), "success");
  cu::Result bad;
  bad.status = cu::Status::InvalidArgument;
  bad.where = "filter id outside 1..8";
  EXPECT_EQ(bad.message(), "invalid argument: filter id outside 1..8");
  cu::Result cuda;
  cuda.status = cu::Status::CudaError;
  cuda.cuda_error = cudaErrorMemoryAllocation;
  cuda.where = "horizontal pass launch";
  EXPECT_EQ(cuda.message(), "horizontal pass launch: out of memory (cudaErrorMemoryAllocation)");
  cu::Result ws;
  ws.status = cu::Status::WorkspaceTooSmall;
  ws.where = "x";
  EXPECT_EQ(ws.message(), "workspace too small: x");
  cu::set_debug_sync(true);
  cu::set_debug_sync(false);
}

// ===================================================================================
// Host emulation: the kernels' device helpers (cuda/detail/*.cuh) compiled for
// the CPU, against refcpu. Runs without a GPU; catches mistakes in the
// per-sequence logic (borders, warm-ups, extension, cascades) everywhere.
// ===================================================================================

namespace det = iir2d::cuda::detail;

template <typename Store, typename Acc>
void emulate_sequence(const FilterParams& p, const std::vector<Store>& x, std::vector<Store>& y) {
  const iir2d::Program prog = iir2d::filter_program(p.filter_id);
  const det::ProgramCoef<Acc> coef = det::make_program_coef<Acc>(prog);
  const det::ExactShape shape = det::exact_shape(prog);
  const int L = p.border_init == BorderInit::Exact ? iir2d::extension_length(prog, p.precision) : 0;
  std::vector<Store> scratch(static_cast<std::size_t>(L) + 1, std::numeric_limits<Store>::quiet_NaN());
  const int n = static_cast<int>(x.size());
  y.assign(x.size(), std::numeric_limits<Store>::quiet_NaN());
  det::run_program<Store, Acc>(coef, p.border_init, shape, det::StridedSeq<const Store>{x.data(), 1},
                               det::StridedSeq<Store>{y.data(), 1}, det::StridedSeq<Store>{scratch.data(), 1}, n, L,
                               p.border, static_cast<Store>(p.border_constant));
}

template <typename Store, typename Acc>
double emulation_error(const FilterParams& p, int n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  std::vector<Store> x(static_cast<std::size_t>(n));
  for (auto& v : x) v = static_cast<Store>(uniform(rng));
  std::vector<Store> got, want(x.size());
  emulate_sequence<Store, Acc>(p, x, got);
  ref::filter_sequence(x.data(), want.data(), n, 1, p);
  double err = 0.0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double d = std::fabs(static_cast<double>(got[i]) - static_cast<double>(want[i]));
    if (!(d <= err)) err = std::isnan(d) ? std::numeric_limits<double>::infinity() : d;
  }
  return err;
}

using EmulationTuple = std::tuple<int, Border, BorderInit, Precision>;

class HostEmulation : public ::testing::TestWithParam<EmulationTuple> {};

TEST_P(HostEmulation, SequencesMatchRefcpu) {
  const auto& [id, border, init, precision] = GetParam();
  const FilterParams p = make_params(id, border, init, precision);
  SCOPED_TRACE(params_text(p));
  for (int n : {1, 2, 3, 4, 5, 8, 17, 64, 300, 1000}) {
    SCOPED_TRACE("n = " + std::to_string(n));
    const std::uint64_t seed = case_seed({id, static_cast<int>(border), static_cast<int>(init), n});
    double err = 0.0;
    if (precision == Precision::F32)
      err = emulation_error<float, float>(p, n, seed);
    else if (precision == Precision::Mixed)
      err = emulation_error<float, double>(p, n, seed);
    else
      err = emulation_error<double, double>(p, n, seed);
    EXPECT_LE(err, contract_tolerance(precision)) << "max abs error " << err;
  }
}

std::string emulation_case_name(const ::testing::TestParamInfo<EmulationTuple>& info) {
  const auto& [id, border, init, precision] = info.param;
  return "id" + std::to_string(id) + "_" + border_name(border) + "_" + init_name(init) + "_" +
         precision_name(precision);
}

INSTANTIATE_TEST_SUITE_P(All, HostEmulation,
                         ::testing::Combine(::testing::Range(1, 9), ::testing::ValuesIn(kBorders),
                                            ::testing::ValuesIn(kInits), ::testing::ValuesIn(kPrecisions)),
                         emulation_case_name);

/**
 * The scan column pass's segment rule (detail/segment_rules.h), worked by
 * hand for 132 SMs, 4 blocks per SM, 64-row chunks and W = 128. At 8K, 240
 * column groups give 528 / 240 = 2 segments; Tuning::col_scan_min_segments
 * makes it 4, and 4·W = 512 rows remains the floor. At 4K, 120 groups
 * already give 4. The two-sweep shapes do not take the minimum.
 */
TEST(ScanColSegments, OneSweepShapesTakeAtLeastTheMinimum) {
  EXPECT_EQ(det::scan_col_segment(7680, 4320, 64, 128, 132, 4, 0, 0), 2176);  // ceil(4320 / 2) = 2160 -> 34 chunks
  EXPECT_EQ(det::scan_col_segment(7680, 4320, 64, 128, 132, 4, 4, 0), 1088);  // 1080 -> 17 chunks
  EXPECT_EQ(det::scan_col_segment(7680, 1600, 64, 128, 132, 4, 0, 0), 832);   // 800 -> 13 chunks
  EXPECT_EQ(det::scan_col_segment(7680, 1600, 64, 128, 132, 4, 4, 0), 512);   // 400 -> 448, under 4·W
  EXPECT_EQ(det::scan_col_segment(3840, 2160, 64, 128, 132, 4, 0, 0), 576);   // 540 -> 9 chunks
  EXPECT_EQ(det::scan_col_segment(3840, 2160, 64, 128, 132, 4, 4, 0), 576);
  EXPECT_EQ(det::scan_col_segment(7680, 4320, 64, 128, 132, 4, 4, 100), 128);  // fixed: one chunk up
  using iir2d::cuda::detail::FastShape;
  for (FastShape sh : {FastShape::F1, FastShape::F1F1, FastShape::F2, FastShape::F2F2})
    EXPECT_EQ(det::scan_col_min_segments(sh, 4), 4);
  EXPECT_EQ(det::scan_col_min_segments(FastShape::F1A1, 4), 0);
  EXPECT_EQ(det::scan_col_min_segments(FastShape::Deriche, 4), 0);
  // F1A1's scratch floor: at least W = 96 rows, in whole 64-row chunks (128); others unchanged.
  EXPECT_EQ(det::scan_col_scratch_floor(FastShape::F1A1, 64, 96, 64), 128);
  EXPECT_EQ(det::scan_col_scratch_floor(FastShape::F1A1, 192, 96, 64), 192);
  EXPECT_EQ(det::scan_col_scratch_floor(FastShape::F1, 64, 96, 64), 64);
}

/**
 * The scan row pass's segment rule (detail/segment_rules.h), worked by hand
 * for 132 SMs, 256-sample chunks and W = 40 (4·W = 160 rounds up to one
 * chunk): segments per row = ceil(132 · warps per SM / rows), each
 * ceil(width / segments) rounded up to whole chunks; the defaults are 48
 * warps per SM for planes and 32 for video components at f32 (Tuning).
 */
TEST(ScanRowSegments, WarpsPerSmOverRows) {
  int nseg = 0, len = 0;
  det::scan_row_segments(false, 3840, 2160, 256, 40, 132, 48, 0, nseg, len);  // 6336 / 2160 -> 3 of 1280
  EXPECT_EQ(nseg, 3);
  EXPECT_EQ(len, 1280);
  det::scan_row_segments(false, 3840, 2160, 256, 40, 132, 32, 0, nseg, len);  // 4224 / 2160 -> 2 of 1920 -> 2048
  EXPECT_EQ(nseg, 2);
  EXPECT_EQ(len, 2048);
  det::scan_row_segments(false, 1920, 1080, 256, 40, 132, 48, 0, nseg, len);  // 6336 / 1080 -> 6 of 320 -> 512
  EXPECT_EQ(nseg, 4);
  EXPECT_EQ(len, 512);
  det::scan_row_segments(false, 7680, 4320, 256, 40, 132, 32, 0, nseg, len);  // 4224 / 4320 -> one per row
  EXPECT_EQ(nseg, 1);
  EXPECT_EQ(len, 7680);
  det::scan_row_segments(true, 3840, 2160, 256, 40, 132, 48, 0, nseg, len);  // backward sweep: one per row
  EXPECT_EQ(nseg, 1);
  det::scan_row_segments(false, 3840, 2160, 256, 40, 132, 0, 0, nseg, len);  // off
  EXPECT_EQ(nseg, 1);
  det::scan_row_segments(false, 300, 2, 256, 40, 132, 48, 0, nseg, len);  // one chunk each
  EXPECT_EQ(nseg, 2);
  EXPECT_EQ(len, 256);
  det::scan_row_segments(false, 300, 2, 256, 100, 132, 48, 0, nseg, len);  // 4·W = 400 -> 512 covers the row
  EXPECT_EQ(nseg, 1);
  det::scan_row_segments(false, 2000, 5, 256, 300, 132, 0, 3, nseg, len);  // forced: 667 -> 768, floor W -> 512
  EXPECT_EQ(nseg, 3);
  EXPECT_EQ(len, 768);
}

// --- The fast passes' segment driver (cuda/detail/segment.cuh) on the host ---------

/**
 * Runs a sequence as independent segments of length S with interior warm-up
 * W, through the same driver the kernels run, against refcpu. Returns the
 * largest absolute error and counts the samples that are not bit-identical.
 */
template <typename Store, typename Acc>
double segmented_error(const FilterParams& p, int n, int S, int W, std::uint64_t seed, long long* not_identical) {
  const iir2d::Program prog = iir2d::make_program(p);
  const det::FastShape shape = det::fast_shape(prog);
  const int L = iir2d::extension_length(prog, p.precision);
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  std::vector<Store> x(static_cast<std::size_t>(n)), want(x.size());
  std::vector<Store> got(x.size(), std::numeric_limits<Store>::quiet_NaN());
  std::vector<Store> scratch(static_cast<std::size_t>(W + L + 2 * det::kChunk), std::numeric_limits<Store>::quiet_NaN());
  for (auto& v : x) v = static_cast<Store>(uniform(rng));
  ref::filter_sequence(x.data(), want.data(), n, 1, p);
  const auto coef = det::make_program_coef<Acc>(prog);
  const auto constant = static_cast<Store>(p.border_constant);
  for (int s0 = 0; s0 < n; s0 += S) {
    const det::SegGeom g =
        det::segment_geometry(shape, n, s0, std::min(n, s0 + S), p.border_init == BorderInit::Exact, L, W);
    det::HostSegmentIO<Store> io{x.data(), got.data(), got.data(), scratch.data(), n, p.border, constant, {}, 0, 0};
    det::run_segment_host<Store, Acc>(shape, coef, g, p.border, constant, io);
  }
  double err = 0.0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double d = std::fabs(static_cast<double>(got[i]) - static_cast<double>(want[i]));
    if (!(d <= err)) err = std::isnan(d) ? std::numeric_limits<double>::infinity() : d;
    *not_identical += got[i] != want[i];
  }
  return err;
}

class HostSegments : public ::testing::TestWithParam<EmulationTuple> {};

TEST_P(HostSegments, MatchRefcpu) {
  const auto& [id, border, init, precision] = GetParam();
  const FilterParams p = make_params(id, border, init, precision);
  SCOPED_TRACE(params_text(p));
  const iir2d::Program prog = iir2d::make_program(p);
  const det::FastShape shape = det::fast_shape(prog);
  ASSERT_NE(shape, det::FastShape::None) << "every filter id has a fast shape";
  if (!det::fast_supported(shape, init, border)) GTEST_SKIP() << "generic kernels (iir2d cascade with wrap)";
  const int L = iir2d::extension_length(prog, precision);
  long long samples = 0, differ = 0;
  for (int n : {1, 2, 3, 4, 5, 31, 32, 33, 63, 64, 65, 100, 300, 1000})
    for (int S : {32, 64, 96, 256})
      for (int extra : {0, 40}) {
        const int W = (L + extra + det::kChunk - 1) / det::kChunk * det::kChunk;
        SCOPED_TRACE("n = " + std::to_string(n) + ", S = " + std::to_string(S) + ", W = " + std::to_string(W));
        const std::uint64_t seed = case_seed({id, static_cast<int>(border), static_cast<int>(init), n, S, W});
        double err = 0.0;
        if (precision == Precision::F32)
          err = segmented_error<float, float>(p, n, S, W, seed, &differ);
        else if (precision == Precision::Mixed)
          err = segmented_error<float, double>(p, n, S, W, seed, &differ);
        else
          err = segmented_error<double, double>(p, n, S, W, seed, &differ);
        samples += n;
        EXPECT_LE(err, contract_tolerance(precision)) << "max abs error " << err;
      }
  // Integer video output needs the float results to be refcpu's almost
  // everywhere (section 6: 99.9 % identical codes); segments must not cost that.
  EXPECT_LE(static_cast<double>(differ), 0.01 * static_cast<double>(samples))
      << differ << " of " << samples << " samples differ from refcpu in the last bit";
}

INSTANTIATE_TEST_SUITE_P(All, HostSegments,
                         ::testing::Combine(::testing::Range(1, 9), ::testing::ValuesIn(kBorders),
                                            ::testing::ValuesIn(kInits), ::testing::ValuesIn(kPrecisions)),
                         emulation_case_name);

/// Sigma 64 and unity gain through the segment driver (f32: see kSigma64F32Tolerance).
TEST(HostSegmentsSigma, WideDericheAndUnityGain) {
  for (BorderInit init : kInits)
    for (Precision precision : kPrecisions)
      for (Border border : kBorders)
        for (bool unity : {false, true}) {
          FilterParams p = make_params(6, border, init, precision);
          p.sigma = 64.0;
          p.unity_gain = unity;
          SCOPED_TRACE(params_text(p) + (unity ? ", unity gain" : ""));
          const int L = iir2d::extension_length(iir2d::make_program(p), precision);
          const int W = (L + det::kChunk - 1) / det::kChunk * det::kChunk;
          const double tol = precision == Precision::F32 ? kSigma64F32Tolerance : contract_tolerance(precision);
          for (int n : {300, 2000})
            for (int S : {64, 512}) {
              long long differ = 0;
              const std::uint64_t seed = case_seed({6, static_cast<int>(border), static_cast<int>(init), n, S, unity});
              double err = 0.0;
              if (precision == Precision::F32)
                err = segmented_error<float, float>(p, n, S, W, seed, &differ);
              else if (precision == Precision::Mixed)
                err = segmented_error<float, double>(p, n, S, W, seed, &differ);
              else
                err = segmented_error<double, double>(p, n, S, W, seed, &differ);
              EXPECT_LE(err, tol) << "n = " << n << ", S = " << S;
            }
        }
}

/// The video path on the host: normalise an interleaved row, run the program,
/// blend and quantise, against refcpu (one-row components).
TEST(HostEmulationVideo, InterleavedRowsMatchRefcpu) {
  for (int id = 1; id <= 8; ++id)
    for (BorderInit init : kInits)
      for (double strength : kStrengths) {
        const FilterParams p = make_params(id, Border::Mirror, init, Precision::F32);
        SCOPED_TRACE(params_text(p) + ", strength " + std::to_string(strength));
        const int w = 53;
        std::vector<unsigned char> buf(static_cast<std::size_t>(w) * 4);
        std::mt19937_64 rng(case_seed({id, static_cast<int>(init), static_cast<long long>(strength * 10)}));
        for (auto& b : buf) b = static_cast<unsigned char>(rng() & 0xFF);
        // P010 chroma: U16, depth 10, shift 6, pixel stride 4; component U at offset 0.
        const LayoutInfo li = layout_info(VideoLayout::P010Chroma);
        const auto cin = component_of<const void*>(buf.data(), li, 0, w, 1, static_cast<std::ptrdiff_t>(buf.size()));
        std::vector<unsigned char> want(buf.size(), 0xAB);
        ref::filter_video_component(cin, component_of<void*>(want.data(), li, 0, w, 1,
                                                             static_cast<std::ptrdiff_t>(buf.size())),
                                    p, strength);
        // Emulation: a 1-row plane, so the vertical pass is the program on n = 1.
        det::SampleFormat fmt{li.type, li.shift, (1u << li.depth) - 1u};
        const float max_s = static_cast<float>(iir2d::code_max(li.depth));
        const det::NormalisedCodeSeq<float> row{buf.data(), 4, fmt, max_s};
        const iir2d::Program prog = iir2d::filter_program(id);
        const auto coef = det::make_program_coef<float>(prog);
        const int L = init == BorderInit::Exact ? iir2d::extension_length(prog, Precision::F32) : 0;
        std::vector<float> scratch(static_cast<std::size_t>(L) + 1), h(static_cast<std::size_t>(w)), v(h.size());
        det::run_program<float, float>(coef, init, det::exact_shape(prog), row, det::StridedSeq<float>{h.data(), 1},
                                       det::StridedSeq<float>{scratch.data(), 1}, w, L, p.border,
                                       static_cast<float>(p.border_constant));
        for (int x = 0; x < w; ++x)
          det::run_program<float, float>(coef, init, det::exact_shape(prog),
                                         det::StridedSeq<const float>{&h[static_cast<std::size_t>(x)], 1},
                                         det::StridedSeq<float>{&v[static_cast<std::size_t>(x)], 1},
                                         det::StridedSeq<float>{scratch.data(), 1}, 1, L, p.border,
                                         static_cast<float>(p.border_constant));
        const float s = static_cast<float>(strength);
        int max_diff = 0;
        for (int x = 0; x < w; ++x) {
          const unsigned char* src = buf.data() + 4 * x;
          const float xs = det::normalise_code<float>(det::load_code(src, fmt), max_s);
          const unsigned code = det::blend_and_quantise<float, float>(v[static_cast<std::size_t>(x)], xs, s, 1.0f - s,
                                                                      iir2d::code_max(li.depth));
          const unsigned expect = (read_word(&want[static_cast<std::size_t>(4 * x)], li.type) >> li.shift) & fmt.mask;
          max_diff = std::max(max_diff, std::abs(static_cast<int>(code) - static_cast<int>(expect)));
        }
        EXPECT_EQ(max_diff, 0);
      }
}

TEST(HostEmulationVideo, QuantiseMatchesRefcpu) {
  for (int depth : {8, 10, 16})
    for (double o : {-1.0, -0.0001, 0.0, 0.25, 0.5, 0.999, 1.0, 1.2, 0.5 / 255.0, 1.5 / 255.0, 2.5 / 1023.0,
                     std::numeric_limits<double>::quiet_NaN()})
      EXPECT_EQ(det::quantise_code(o, iir2d::code_max(depth)), ref::quantize(o, depth)) << "o = " << o << ", depth " << depth;
}

}  // namespace
