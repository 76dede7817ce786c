// SPDX-License-Identifier: MIT
// Tier 1: the fast CPU path (refcpu/iir2d/fastcpu.h, issue 14) against the
// oracle (refcpu/iir2d/refcpu.h, frame.h) on seeded random input, over the
// matrix the CUDA suite covers: filter ids 1-8 x borders x border
// initialisations x precisions x sizes (1x1, 1xN, Nx1, odd widths with padded
// strides, 1920x1080); integer video of 8, 10, 12 and 16 bits (LSB- and
// MSB-aligned, interleaved chroma); component groups with temporal
// smoothing; RGB through its luma. Each case runs on engines of 1, 2 and 7
// threads and on both kernel sets (generic and AVX2 where the CPU has it).
// Tolerances: contract section 6. A frame filtered with 1 and with N
// threads must be bit-identical (the tasks cover whole rows and columns).
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdint>
#include <cstring>
#include <memory>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include "filter_params.h"
#include "iir2d/fastcpu.h"
#include "iir2d/frame.h"
#include "iir2d/refcpu.h"

namespace {

namespace ref = iir2d::ref;
namespace fast = iir2d::fastcpu;
using iir2d::Border;
using iir2d::BorderInit;
using iir2d::ConstVideoComponent;
using iir2d::FilterParams;
using iir2d::Precision;
using iir2d::SampleType;
using iir2d::TemporalMode;
using iir2d::TemporalParams;
using iir2d::VideoComponent;
using iir2d::test::params;

constexpr double kBorderConstant = 0.3;

using iir2d::test::border_name;
using iir2d::test::init_name;
using iir2d::test::precision_name;
double tolerance(Precision p) { return iir2d::test::contract_tolerance(p); }

/// The engines every case runs on: threads x kernel set.
struct EngineSpec {
  unsigned threads;
  fast::Isa isa;
};
const EngineSpec kEngines[] = {{1, fast::Isa::Generic}, {1, fast::Isa::Auto}, {2, fast::Isa::Auto}, {7, fast::Isa::Generic},
                               {7, fast::Isa::Auto}};

fast::Engine& engine(const EngineSpec& spec) {
  static std::unique_ptr<fast::Engine> engines[sizeof kEngines / sizeof kEngines[0]];
  std::size_t i = 0;  // the entry of kEngines with these fields (spec may be a copy)
  while (kEngines[i].threads != spec.threads || kEngines[i].isa != spec.isa) ++i;
  if (!engines[i]) engines[i] = std::make_unique<fast::Engine>(spec.threads, spec.isa);
  return *engines[i];
}

std::string engine_name(const EngineSpec& spec) {
  return std::to_string(spec.threads) + " threads, " + engine(spec).isa_name();
}

// =====================================================================================
// Float planes
// =====================================================================================

struct PlaneSize {
  int width;
  int height;
  int pad;  ///< extra elements per row of the input pitch (the output gets 2*pad+1 when pad > 0)
};

const PlaneSize kSmallSizes[] = {{1, 1, 0},  {1, 7, 0},   {7, 1, 0},   {2, 3, 0},  {3, 2, 1},  {4, 4, 0},
                                 {1, 300, 0}, {300, 1, 2}, {33, 17, 0}, {31, 32, 3}, {257, 19, 13}};

template <typename T>
struct PlaneData {
  int w, h;
  std::ptrdiff_t pitch;  // elements
  std::vector<T> v;
  PlaneData(int width, int height, int pad) : w(width), h(height), pitch(width + pad), v(static_cast<std::size_t>(pitch) * height + 1) {}
  ref::Plane<const T> in() const { return {v.data(), w, h, static_cast<std::ptrdiff_t>(pitch * sizeof(T))}; }
  ref::Plane<T> out() { return {v.data(), w, h, static_cast<std::ptrdiff_t>(pitch * sizeof(T))}; }
  T at(int x, int y) const { return v[static_cast<std::size_t>(y) * pitch + x]; }
};

template <typename T>
PlaneData<T> random_plane(int w, int h, int pad, std::uint32_t seed) {
  PlaneData<T> p(w, h, pad);
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  for (auto& x : p.v) x = static_cast<T>(u(rng));
  return p;
}

/// Largest |a - b| over the plane; -1 if a value differs in NaN-ness.
template <typename T>
double max_diff(const PlaneData<T>& a, const PlaneData<T>& b) {
  double m = 0.0;
  for (int y = 0; y < a.h; ++y)
    for (int x = 0; x < a.w; ++x) {
      const double d = std::fabs(static_cast<double>(a.at(x, y)) - static_cast<double>(b.at(x, y)));
      if (!(d <= m)) m = std::isnan(d) ? 1e300 : d;
    }
  return m;
}

template <typename T>
void check_plane_case(const FilterParams& p, const PlaneSize& size, std::uint32_t seed) {
  const PlaneData<T> in = random_plane<T>(size.width, size.height, size.pad, seed);
  const int out_pad = size.pad > 0 ? 2 * size.pad + 1 : 0;
  PlaneData<T> expect(size.width, size.height, out_pad);
  ref::filter_plane(in.in(), expect.out(), p);
  for (const EngineSpec& spec : kEngines) {
    PlaneData<T> got(size.width, size.height, out_pad);
    std::fill(got.v.begin(), got.v.end(), static_cast<T>(-7));  // padding must stay untouched
    engine(spec).filter_plane(in.in(), got.out(), p);
    EXPECT_LE(max_diff(got, expect), tolerance(p.precision)) << engine_name(spec);
    for (int y = 0; y < size.height; ++y)
      for (int x = size.width; x < got.pitch; ++x)
        ASSERT_EQ(got.at(x, y), static_cast<T>(-7)) << "padding written at " << x << "," << y << ", " << engine_name(spec);
  }
}

using PlaneTuple = std::tuple<int, Border, BorderInit, Precision>;

class FastPlane : public ::testing::TestWithParam<PlaneTuple> {};

TEST_P(FastPlane, MatchesOracleOnEverySize) {
  const auto& [id, border, init, precision] = GetParam();
  const FilterParams p = params(id, border, init, precision, kBorderConstant);
  std::uint32_t seed = 1000u * static_cast<std::uint32_t>(id) + 17u;
  for (const PlaneSize& size : kSmallSizes) {
    SCOPED_TRACE(::testing::Message() << size.width << "x" << size.height << " pad " << size.pad);
    if (precision == Precision::F64)
      check_plane_case<double>(p, size, ++seed);
    else
      check_plane_case<float>(p, size, ++seed);
  }
}

std::string plane_name(const ::testing::TestParamInfo<PlaneTuple>& info) {
  const auto& [id, border, init, precision] = info.param;
  std::ostringstream s;
  s << "id" << id << "_" << border_name(border) << "_" << init_name(init) << "_" << precision_name(precision);
  return s.str();
}

INSTANTIATE_TEST_SUITE_P(Matrix, FastPlane,
                         ::testing::Combine(::testing::Range(1, 9),
                                            ::testing::Values(Border::Clamp, Border::Mirror, Border::Wrap,
                                                              Border::Constant),
                                            ::testing::Values(BorderInit::Exact, BorderInit::Iir2d),
                                            ::testing::Values(Precision::F32, Precision::Mixed, Precision::F64)),
                         plane_name);

/* Sigma and unity gain change the program's coefficients and length. */
TEST(FastPlaneExtras, SigmaAndUnityGain) {
  for (double sigma : {0.5, 7.5, 64.0})
    for (bool unity : {false, true}) {
      FilterParams p = params(6, Border::Mirror, BorderInit::Exact, Precision::F32);
      p.sigma = sigma;
      p.unity_gain = unity;
      SCOPED_TRACE(::testing::Message() << "sigma " << sigma << " unity " << unity);
      check_plane_case<float>(p, {61, 45, 3}, 77);
      p.filter_id = 4;
      check_plane_case<float>(p, {61, 45, 3}, 78);
    }
}

/* Full HD, the size the element runs most: every id at the defaults, and a
 * few other settings. */
TEST(FastPlaneLarge, FullHd) {
  for (int id = 1; id <= 8; ++id) {
    SCOPED_TRACE(::testing::Message() << "id " << id);
    check_plane_case<float>(params(id, Border::Mirror, BorderInit::Exact, Precision::F32), {1920, 1080, 0}, 5u + id);
  }
  check_plane_case<double>(params(6, Border::Wrap, BorderInit::Exact, Precision::F64), {1920, 1080, 0}, 21);
  check_plane_case<float>(params(5, Border::Constant, BorderInit::Iir2d, Precision::Mixed, kBorderConstant),
                          {1920, 1080, 0}, 22);
}

/* The same plane with 1 thread and with 2 and 7: identical bits, for both
 * kernel sets, all precisions. */
TEST(FastThreads, OneAndManyThreadsAreBitIdentical) {
  for (Precision precision : {Precision::F32, Precision::Mixed, Precision::F64})
    for (int id : {1, 4, 5, 6}) {
      const FilterParams p = params(id, Border::Mirror, BorderInit::Exact, precision);
      SCOPED_TRACE(::testing::Message() << "id " << id << " " << precision_name(precision));
      auto run = [&](const EngineSpec& spec) {
        if (precision == Precision::F64) {
          const PlaneData<double> in = random_plane<double>(643, 361, 5, 9);
          PlaneData<double> out(643, 361, 5);
          engine(spec).filter_plane(in.in(), out.out(), p);
          std::vector<unsigned char> bytes(out.v.size() * sizeof(double));
          std::memcpy(bytes.data(), out.v.data(), bytes.size());
          return bytes;
        }
        const PlaneData<float> in = random_plane<float>(643, 361, 5, 9);
        PlaneData<float> out(643, 361, 5);
        engine(spec).filter_plane(in.in(), out.out(), p);
        std::vector<unsigned char> bytes(out.v.size() * sizeof(float));
        std::memcpy(bytes.data(), out.v.data(), bytes.size());
        return bytes;
      };
      const auto generic1 = run(kEngines[0]), generic7 = run(kEngines[3]);
      EXPECT_EQ(generic1, generic7) << "generic kernels, 1 vs 7 threads";
      const auto auto1 = run(kEngines[1]), auto2 = run(kEngines[2]), auto7 = run(kEngines[4]);
      EXPECT_EQ(auto1, auto2) << engine(kEngines[1]).isa_name() << " kernels, 1 vs 2 threads";
      EXPECT_EQ(auto1, auto7) << engine(kEngines[1]).isa_name() << " kernels, 1 vs 7 threads";
    }
}

TEST(FastThreads, ThreadCountAndDefault) {
  EXPECT_EQ(fast::Engine(3).threads(), 3u);
  EXPECT_EQ(fast::Engine(0).threads(), fast::default_threads());
  EXPECT_GE(fast::default_threads(), 1u);
  EXPECT_STREQ(fast::Engine(1, fast::Isa::Generic).isa_name(), "generic");
  EXPECT_EQ(fast::Engine(3).threads_requested(), 3u);
  EXPECT_EQ(fast::Engine(0).threads_requested(), fast::default_threads());
  EXPECT_TRUE(fast::Engine(3).threads_error().empty());
}

#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
/* Under an address-space limit with room for a few 1 MiB thread stacks
 * (a quarter of the 40 MiB left), not for 64 (with the process default of
 * 8 MiB a stack, hardly two): the engine runs on fewer threads, says why,
 * and filters as on one thread. In a child (the limit is process-wide). */
TEST(FastThreads, ThreadsThatCannotBeMadeAreFewerThreads) {
  const int w = 300, h = 200;
  std::vector<float> in(static_cast<std::size_t>(w) * h), one(in.size()), many(in.size());
  std::mt19937 rng(5);
  for (float& v : in) v = std::uniform_real_distribution<float>(0.f, 1.f)(rng);
  FilterParams p;
  p.filter_id = 3;
  p.sigma = 4.0;
  const std::ptrdiff_t stride = w * static_cast<std::ptrdiff_t>(sizeof(float));
  fast::Engine(1).filter_plane({in.data(), w, h, stride}, {one.data(), w, h, stride}, p);
  const auto child = [&]() -> int {
    std::FILE* f = std::fopen("/proc/self/statm", "r");
    unsigned long pages = 0;
    if (!f || std::fscanf(f, "%lu", &pages) != 1) return 3;
    std::fclose(f);
    const rlim_t limit = pages * static_cast<rlim_t>(sysconf(_SC_PAGESIZE)) + (40u << 20);
    rlimit lim{limit, limit};
    if (setrlimit(RLIMIT_AS, &lim) != 0) return 4;
    fast::Engine e(64);
    std::fprintf(stderr, "%u of %u threads: %s\n", e.threads(), e.threads_requested(), e.threads_error().c_str());
    if (e.threads() >= 64 || e.threads() < 2 || e.threads_requested() != 64 || e.threads_error().empty()) return 5;
    e.filter_plane({in.data(), w, h, stride}, {many.data(), w, h, stride}, p);
    return many == one ? 0 : 6;
  };
  EXPECT_EXIT(std::_Exit(child()),
      ::testing::ExitedWithCode(0), "of 64 threads: an address-space limit");
}
#endif

// =====================================================================================
// Integer video (contract section 5)
// =====================================================================================

/* One component's samples in a byte buffer: `ps` bytes between samples of a
 * row (2 for NV12's interleaved chroma), rows padded. */
struct Component {
  int w, h;
  SampleType type;
  int depth, shift;
  std::ptrdiff_t ps, row;
  std::vector<unsigned char> bytes;
  Component(int width, int height, SampleType t, int d, int s, int interleave, int pad)
      : w(width), h(height), type(t), depth(d), shift(s) {
    const int size = t == SampleType::U8 ? 1 : 2;
    ps = size * interleave;
    row = ps * w + pad;
    bytes.assign(static_cast<std::size_t>(row) * h + 4, 0);
  }
  template <typename C, typename P>
  C view(P data) const {
    C c;
    c.data = data;
    c.width = w;
    c.height = h;
    c.row_stride = row;
    c.pixel_stride = ps;
    c.type = type;
    c.depth = depth;
    c.shift = shift;
    return c;
  }
  ConstVideoComponent in() const { return view<ConstVideoComponent>(static_cast<const void*>(bytes.data())); }
  VideoComponent out() { return view<VideoComponent>(static_cast<void*>(bytes.data())); }
  unsigned word(int x, int y) const {
    const unsigned char* p = bytes.data() + y * row + x * ps;
    if (type == SampleType::U8) return p[0];
    std::uint16_t v;
    std::memcpy(&v, p, 2);
    return v;
  }
};

Component random_component(int w, int h, SampleType t, int depth, int shift, int interleave, int pad, std::uint32_t seed) {
  Component c(w, h, t, depth, shift, interleave, pad);
  std::mt19937 rng(seed);
  std::uniform_int_distribution<unsigned> byte(0, 255);
  for (auto& b : c.bytes) b = static_cast<unsigned char>(byte(rng));  // noise in the padding and unused bits too
  return c;
}

/* Section 6 for video: at most 1 code apart and at least 99.9 % identical;
 * bytes between samples and after rows untouched. */
void expect_video_match(const Component& got, const Component& expect, const Component& before, const std::string& what) {
  long long differ = 0, total = 0;
  unsigned worst = 0;
  for (int y = 0; y < got.h; ++y)
    for (int x = 0; x < got.w; ++x) {
      const unsigned a = got.word(x, y), b = expect.word(x, y);
      const unsigned d = a > b ? a - b : b - a;
      worst = std::max(worst, d >> got.shift);
      differ += a != b;
      ++total;
    }
  EXPECT_LE(worst, 1u) << what;
  EXPECT_LE(differ * 1000, total) << what << ": " << differ << " of " << total << " samples differ";
  // Bytes that belong to no sample of this component are not written.
  const int size = got.type == SampleType::U8 ? 1 : 2;
  for (int y = 0; y < got.h; ++y)
    for (std::ptrdiff_t b = 0; b < got.row; ++b) {
      const bool sample = b < got.ps * got.w && b % got.ps < size;
      if (sample) continue;
      const std::size_t i = static_cast<std::size_t>(y * got.row + b);
      ASSERT_EQ(got.bytes[i], before.bytes[i]) << what << ": byte " << b << " of row " << y << " written";
    }
}

struct VideoLayout {
  const char* name;
  SampleType type;
  int depth, shift, interleave;
};
const VideoLayout kLayouts[] = {
    {"u8", SampleType::U8, 8, 0, 1},         {"nv12_chroma", SampleType::U8, 8, 0, 2},
    {"u10_lsb", SampleType::U16, 10, 0, 1},  {"p010_msb", SampleType::U16, 10, 6, 1},
    {"p010_chroma", SampleType::U16, 10, 6, 2}, {"u12_lsb", SampleType::U16, 12, 0, 1},
    {"u12_msb", SampleType::U16, 12, 4, 1},  {"u16", SampleType::U16, 16, 0, 1},
};

void check_video_case(const FilterParams& p, const VideoLayout& layout, double strength, int w, int h, int pad,
                      std::uint32_t seed) {
  const Component in = random_component(w, h, layout.type, layout.depth, layout.shift, layout.interleave, pad, seed);
  Component expect = random_component(w, h, layout.type, layout.depth, layout.shift, layout.interleave, pad, seed + 1);
  ref::filter_video_component(in.in(), expect.out(), p, strength);
  for (const EngineSpec& spec : kEngines) {
    Component got = random_component(w, h, layout.type, layout.depth, layout.shift, layout.interleave, pad, seed + 1);
    const Component before = got;
    engine(spec).filter_video_component(in.in(), got.out(), p, strength);
    expect_video_match(got, expect, before, std::string(layout.name) + ", " + engine_name(spec));
  }
  // In place (input and output the same component), one engine.
  Component inplace = in;
  engine(kEngines[2]).filter_video_component(inplace.in(), inplace.out(), p, strength);
  expect_video_match(inplace, expect, in, std::string(layout.name) + ", in place");
}

using VideoTuple = std::tuple<int, BorderInit, Precision>;
class FastVideo : public ::testing::TestWithParam<VideoTuple> {};

TEST_P(FastVideo, EveryLayoutMatchesOracle) {
  const auto& [id, init, precision] = GetParam();
  std::uint32_t seed = 500u + 10u * static_cast<std::uint32_t>(id);
  for (const VideoLayout& layout : kLayouts)
    for (Border border : {Border::Mirror, Border::Constant}) {
      SCOPED_TRACE(::testing::Message() << layout.name << " " << border_name(border));
      check_video_case(params(id, border, init, precision, kBorderConstant), layout, 0.7, 37, 29, 3, seed += 2);
    }
}

std::string video_name(const ::testing::TestParamInfo<VideoTuple>& info) {
  const auto& [id, init, precision] = info.param;
  std::ostringstream s;
  s << "id" << id << "_" << init_name(init) << "_" << precision_name(precision);
  return s.str();
}

INSTANTIATE_TEST_SUITE_P(Matrix, FastVideo,
                         ::testing::Combine(::testing::Range(1, 9),
                                            ::testing::Values(BorderInit::Exact, BorderInit::Iir2d),
                                            ::testing::Values(Precision::F32, Precision::Mixed, Precision::F64)),
                         video_name);

TEST(FastVideoLarge, FullHdEightTenSixteenBit) {
  for (int id = 1; id <= 8; ++id) {
    SCOPED_TRACE(::testing::Message() << "id " << id);
    check_video_case(params(id, Border::Mirror, BorderInit::Exact, Precision::F32), kLayouts[0], 1.0, 1920, 1080, 0, 40u + id);
  }
  check_video_case(params(6, Border::Clamp, BorderInit::Exact, Precision::F32), kLayouts[3], 0.5, 1920, 1080, 64, 50);
  check_video_case(params(2, Border::Wrap, BorderInit::Iir2d, Precision::Mixed), kLayouts[7], 1.0, 1920, 1080, 0, 51);
  check_video_case(params(6, Border::Mirror, BorderInit::Exact, Precision::F32), kLayouts[1], 1.0, 960, 540, 0, 52);
}

TEST(FastVideo, StrengthEndsAndEmpty) {
  // strength 0: the input comes back (x quantised again is v).
  const Component in = random_component(33, 9, SampleType::U16, 10, 0, 1, 2, 3);
  Component out = random_component(33, 9, SampleType::U16, 10, 0, 1, 2, 4);
  engine(kEngines[2]).filter_video_component(in.in(), out.out(), params(6, Border::Mirror, BorderInit::Exact, Precision::F32), 0.0);
  for (int y = 0; y < 9; ++y)
    for (int x = 0; x < 33; ++x) ASSERT_EQ(out.word(x, y) & 1023u, in.word(x, y) & 1023u) << x << "," << y;
  // An empty component is a no-op.
  Component empty(0, 0, SampleType::U8, 8, 0, 1, 0);
  EXPECT_NO_THROW(engine(kEngines[2]).filter_video_component(empty.in(), empty.out(), params(1, Border::Mirror, BorderInit::Exact, Precision::F32), 1.0));
}

TEST(FastVideo, CopyComponent) {
  const Component in = random_component(31, 7, SampleType::U16, 10, 6, 2, 5, 8);
  Component got = random_component(31, 7, SampleType::U16, 10, 6, 2, 5, 9);
  Component expect = got;
  ref::copy_video_component(in.in(), expect.out());
  engine(kEngines[0]).copy_video_component(in.in(), got.out());
  EXPECT_EQ(got.bytes, expect.bytes);
}

// =====================================================================================
// Component groups with temporal smoothing, RGB through its luma (iir2d/frame.h)
// =====================================================================================

TEST(FastFrame, GroupsWithTemporalSmoothingMatchOracle) {
  for (TemporalMode mode : {TemporalMode::Off, TemporalMode::Fixed, TemporalMode::Adaptive})
    for (int count : {1, 2, 3})
      for (Precision precision : {Precision::F32, Precision::F64}) {
        SCOPED_TRACE(::testing::Message() << "mode " << static_cast<int>(mode) << " count " << count << " "
                                          << precision_name(precision));
        TemporalParams t;
        t.mode = mode;
        t.alpha = 0.6;
        const FilterParams p = params(6, Border::Mirror, BorderInit::Exact, precision);
        const int w = 45, h = 23;
        std::vector<float> ref_state(ref::state_elements(w, h, count), 0.0f);
        for (const EngineSpec& spec : {kEngines[1], kEngines[4]}) {
          std::vector<float> expect_state(ref_state.size(), 0.0f), got_state(ref_state.size(), 0.0f);
          for (int frame = 0; frame < 3; ++frame) {
            std::vector<Component> in, expect, got;
            for (int k = 0; k < count; ++k) {
              in.push_back(random_component(w, h, SampleType::U16, 10, 0, 1, 2, 100u + 10u * frame + k));
              expect.push_back(random_component(w, h, SampleType::U16, 10, 0, 1, 2, 200u + k));
              got.push_back(expect.back());
            }
            std::vector<ConstVideoComponent> ins;
            std::vector<VideoComponent> eo, go;
            for (int k = 0; k < count; ++k) {
              ins.push_back(in[k].in());
              eo.push_back(expect[k].out());
              go.push_back(got[k].out());
            }
            const bool valid = frame > 0;
            ref::filter_component_group(ins.data(), eo.data(), count, p, 0.8, t, expect_state.data(), valid);
            engine(spec).filter_component_group(ins.data(), go.data(), count, p, 0.8, t, got_state.data(), valid);
            for (int k = 0; k < count; ++k)
              expect_video_match(got[k], expect[k], random_component(w, h, SampleType::U16, 10, 0, 1, 2, 200u + k),
                                 "frame " + std::to_string(frame) + " component " + std::to_string(k) + ", " + engine_name(spec));
            double worst = 0.0;
            for (std::size_t i = 0; i < got_state.size(); ++i)
              worst = std::max(worst, static_cast<double>(std::fabs(got_state[i] - expect_state[i])));
            EXPECT_LE(worst, tolerance(precision)) << "temporal state, frame " << frame;
          }
        }
      }
}

TEST(FastFrame, RgbLumaMatchesOracle) {
  for (Precision precision : {Precision::F32, Precision::Mixed, Precision::F64})
    for (TemporalMode mode : {TemporalMode::Off, TemporalMode::Adaptive}) {
      SCOPED_TRACE(::testing::Message() << precision_name(precision) << " mode " << static_cast<int>(mode));
      TemporalParams t;
      t.mode = mode;
      const FilterParams p = params(3, Border::Clamp, BorderInit::Iir2d, precision);
      const int w = 40, h = 21;
      for (const EngineSpec& spec : {kEngines[0], kEngines[4]}) {
        std::vector<float> expect_state(ref::state_elements(w, h, 1)), got_state(expect_state.size());
        for (int frame = 0; frame < 2; ++frame) {
          // Packed RGBx-like: three 8-bit components interleaved with pixel stride 4.
          Component pix = random_component(4 * w, h, SampleType::U8, 8, 0, 1, 8, 300u + frame);
          auto comp = [&](Component& c, int k, auto data) {
            using C = std::conditional_t<std::is_const_v<std::remove_pointer_t<decltype(data)>>, ConstVideoComponent, VideoComponent>;
            C v;
            v.data = data + k;
            v.width = w;
            v.height = h;
            v.row_stride = c.row;
            v.pixel_stride = 4;
            v.type = SampleType::U8;
            v.depth = 8;
            return v;
          };
          Component expect = random_component(4 * w, h, SampleType::U8, 8, 0, 1, 8, 400), got = expect;
          ConstVideoComponent ins[3];
          VideoComponent eo[3], go[3];
          for (int k = 0; k < 3; ++k) {
            ins[k] = comp(pix, k, static_cast<const unsigned char*>(pix.bytes.data()));
            eo[k] = comp(expect, k, expect.bytes.data());
            go[k] = comp(got, k, got.bytes.data());
          }
          ref::filter_rgb_luma(ins, eo, iir2d::kLumaBt601, p, 0.9, t, expect_state.data(), frame > 0);
          engine(spec).filter_rgb_luma(ins, go, iir2d::kLumaBt601, p, 0.9, t, got_state.data(), frame > 0);
          long long differ = 0;
          for (std::size_t i = 0; i < got.bytes.size(); ++i) {
            const int d = std::abs(int(got.bytes[i]) - int(expect.bytes[i]));
            ASSERT_LE(d, 1) << "byte " << i << ", " << engine_name(spec);
            differ += d != 0;
          }
          EXPECT_LE(differ * 1000, static_cast<long long>(3 * w * h)) << engine_name(spec);
        }
      }
    }
}

// =====================================================================================
// Arguments: the oracle's refusals
// =====================================================================================

TEST(FastArguments, RefusesWhatTheOracleRefuses) {
  fast::Engine& e = engine(kEngines[0]);
  PlaneData<float> f(8, 4, 0);
  PlaneData<double> d(8, 4, 0);
  EXPECT_THROW(e.filter_plane(f.in(), f.out(), params(0, Border::Mirror, BorderInit::Exact, Precision::F32)), std::invalid_argument);
  EXPECT_THROW(e.filter_plane(f.in(), f.out(), params(9, Border::Mirror, BorderInit::Exact, Precision::F32)), std::invalid_argument);
  EXPECT_THROW(e.filter_plane(f.in(), f.out(), params(1, Border::Mirror, BorderInit::Exact, Precision::F64)), std::invalid_argument);
  EXPECT_THROW(e.filter_plane(d.in(), d.out(), params(1, Border::Mirror, BorderInit::Exact, Precision::F32)), std::invalid_argument);
  EXPECT_THROW(e.filter_plane(f.in(), f.out(), params(1, static_cast<Border>(9), BorderInit::Exact, Precision::F32)), std::invalid_argument);
  FilterParams bad_sigma = params(6, Border::Mirror, BorderInit::Exact, Precision::F32);
  bad_sigma.sigma = 0.0;
  EXPECT_THROW(e.filter_plane(f.in(), f.out(), bad_sigma), std::invalid_argument);
  ref::Plane<float> narrow = f.out();
  narrow.stride = 4;
  EXPECT_THROW(e.filter_plane(f.in(), narrow, params(1, Border::Mirror, BorderInit::Exact, Precision::F32)), std::invalid_argument);
  Component c(8, 4, SampleType::U8, 8, 0, 1, 0), c16(8, 4, SampleType::U16, 10, 0, 1, 0);
  const FilterParams ok = params(1, Border::Mirror, BorderInit::Exact, Precision::F32);
  EXPECT_THROW(e.filter_video_component(c.in(), c.out(), ok, 1.5), std::invalid_argument);
  EXPECT_THROW(e.filter_video_component(c.in(), c16.out(), ok, 1.0), std::invalid_argument);
  VideoComponent deep = c.out();
  deep.depth = 9;
  EXPECT_THROW(e.filter_video_component(c.in(), deep, ok, 1.0), std::invalid_argument);
  TemporalParams t;
  t.mode = TemporalMode::Fixed;
  ConstVideoComponent ins[1] = {c.in()};
  VideoComponent outs[1] = {c.out()};
  EXPECT_THROW(e.filter_component_group(ins, outs, 1, ok, 1.0, t, nullptr, false), std::invalid_argument);
  EXPECT_THROW(e.filter_component_group(ins, outs, 4, ok, 1.0, TemporalParams{}, nullptr, false), std::invalid_argument);
}

}  // namespace
