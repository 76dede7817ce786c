// SPDX-License-Identifier: MIT
// The plugin's parts without a pipeline (gst/common, gst/iir2dfilter,
// gst/qualitymeter): the frame plan from a GstVideoInfo alone, the meter's
// pairing rule and statistics against hand-worked numbers, the property
// table, and the CUDA session (what it says without a driver; on a GPU,
// its streams and device memory).
#include <dlfcn.h>
#include <gst/gst.h>
#include <gst/video/video.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <malloc.h>
#include <sys/resource.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <csignal>
#include <cstring>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <tuple>
#include <vector>
#include <sstream>
#include <string>
#include <vector>

#include "common/cuda_session.h"
#include "common/formats.h"
#include "common/property_table.h"
#include "iir2dfilter/frame_plan.h"
#include "qualitymeter/pairing.h"
#include "qualitymeter/stats.h"

namespace {

using iir2d::gst::CudaFrameScope;
using iir2d::gst::CudaSession;
namespace filter = iir2d::gst::filter;
namespace meter = iir2d::gst::meter;

class GstEnvironment : public ::testing::Environment {
 public:
  void SetUp() override { gst_init(nullptr, nullptr); }
};
const auto* const kEnv = ::testing::AddGlobalTestEnvironment(new GstEnvironment);

GstVideoInfo video_info(GstVideoFormat format, int w, int h) {
  GstVideoInfo info;
  gst_video_info_set_format(&info, format, w, h);
  return info;
}

filter::FramePlan plan_for(GstVideoFormat format, const filter::Settings& s, int w = 64, int h = 48) {
  const GstVideoInfo info = video_info(format, w, h);
  return filter::plan_frame(&info, filter::padding_bytes(&info), s);
}

// ---- frame plan ----------------------------------------------------------

TEST(FramePlan, Nv12LumaFiltersYAndCopiesChromaBesideIt) {
  const filter::FramePlan p = plan_for(GST_VIDEO_FORMAT_NV12, filter::Settings{});
  ASSERT_EQ(p.n, 3);
  EXPECT_EQ(p.ops[0].kind, filter::OpKind::Filter);
  EXPECT_EQ(p.ops[0].comp[0], 0u);
  for (int i : {1, 2}) {
    EXPECT_EQ(p.ops[i].kind, filter::OpKind::Copy);
    EXPECT_EQ(p.ops[i].comp[0], static_cast<guint>(i));
    // U and V share plane 1, which no filter writes: both copies may run beside the filter.
    EXPECT_TRUE(p.ops[i].plane_alone) << i;
  }
  EXPECT_EQ(p.state_floats, 0u);
}

TEST(FramePlan, Nv12AllPlanesTemporalGroupsBySamplingGrid) {
  filter::Settings s;
  s.planes = GST_IIR2D_PLANES_ALL;
  s.temporal_mode = GST_IIR2D_TEMPORAL_FIXED;
  const filter::FramePlan p = plan_for(GST_VIDEO_FORMAT_NV12, s);
  ASSERT_EQ(p.n, 2);
  EXPECT_EQ(p.ops[0].kind, filter::OpKind::Group);
  EXPECT_EQ(p.ops[0].count, 1);
  EXPECT_EQ(p.ops[0].state_offset, 0u);
  EXPECT_EQ(p.ops[1].kind, filter::OpKind::Group);
  EXPECT_EQ(p.ops[1].count, 2);  // U and V, 32x24 each
  EXPECT_EQ(p.ops[1].state_offset, 64u * 48u);
  EXPECT_EQ(p.state_floats, 64u * 48u + 2u * 32u * 24u);
  const GstVideoInfo info = video_info(GST_VIDEO_FORMAT_NV12, 64, 48);
  EXPECT_EQ(filter::max_state_floats(&info), p.state_floats);
}

TEST(FramePlan, StrengthZeroWithoutTemporalCopiesEverything) {
  filter::Settings s;
  s.strength = 0.0;
  const filter::FramePlan p = plan_for(GST_VIDEO_FORMAT_I420, s);
  ASSERT_EQ(p.n, 3);
  for (int i = 0; i < p.n; ++i) {
    EXPECT_EQ(p.ops[i].kind, filter::OpKind::Copy) << i;
    EXPECT_TRUE(p.ops[i].plane_alone) << i;
  }
}

TEST(FramePlan, RgbxLumaRunsThroughYAndCopiesThePaddingByte) {
  const filter::FramePlan p = plan_for(GST_VIDEO_FORMAT_RGBx, filter::Settings{});
  ASSERT_EQ(p.n, 2);
  EXPECT_EQ(p.ops[0].kind, filter::OpKind::RgbLuma);
  EXPECT_EQ(p.ops[0].count, 3);
  EXPECT_EQ(p.ops[1].kind, filter::OpKind::CopyPadding);
  EXPECT_EQ(p.ops[1].comp[0], 0u);        // plane 0
  EXPECT_EQ(p.ops[1].padding_offset, 3u);  // R G B x
}

TEST(FramePlan, RgbaAlphaIsCopiedInOrderWithTheFilter) {
  const filter::FramePlan p = plan_for(GST_VIDEO_FORMAT_RGBA, filter::Settings{});
  ASSERT_EQ(p.n, 2);
  EXPECT_EQ(p.ops[1].kind, filter::OpKind::Copy);
  EXPECT_EQ(p.ops[1].comp[0], static_cast<guint>(GST_VIDEO_COMP_A));
  EXPECT_FALSE(p.ops[1].plane_alone);  // alpha shares the packed plane with R, G, B
  const GstVideoInfo info = video_info(GST_VIDEO_FORMAT_RGBA, 64, 48);
  EXPECT_EQ(filter::max_state_floats(&info), 3u * 64u * 48u);  // alpha is never filtered
}

TEST(FramePlan, PaddingBytesOfPackedFormats) {
  struct Case {
    GstVideoFormat format;
    int count;
    guint offset;
  } cases[] = {{GST_VIDEO_FORMAT_BGRx, 1, 3}, {GST_VIDEO_FORMAT_xRGB, 1, 0}, {GST_VIDEO_FORMAT_RGB, 0, 0},
               {GST_VIDEO_FORMAT_I420, 0, 0}};
  for (const Case& c : cases) {
    const GstVideoInfo info = video_info(c.format, 8, 4);
    const auto paddings = filter::padding_bytes(&info);
    ASSERT_EQ(static_cast<int>(paddings.size()), c.count) << gst_video_format_to_string(c.format);
    if (c.count) {
      EXPECT_EQ(paddings[0].offset, c.offset);
    }
  }
}

TEST(FramePlan, LumaWeightsFollowTheCapsColorimetry) {
  struct Case {
    const char* caps;
    double kr, kb;
    const char* name;
  } cases[] = {
      {"video/x-raw,format=RGBA,width=8,height=8,colorimetry=bt601", 0.299, 0.114, "BT.601"},
      {"video/x-raw,format=RGBA,width=8,height=8,colorimetry=bt2020", 0.2627, 0.0593, "BT.2020"},
      {"video/x-raw,format=RGBA,width=8,height=8", 0.2126, 0.0722, "BT.709"},
  };
  for (const Case& c : cases) {
    GstCaps* caps = gst_caps_from_string(c.caps);
    GstVideoInfo info;
    ASSERT_TRUE(gst_video_info_from_caps(&info, caps));
    const char* name = "";
    const iir2d::LumaWeights w = filter::luma_weights_for_caps(caps, &info, &name);
    EXPECT_NEAR(w.kr, c.kr, 1e-12) << c.caps;
    EXPECT_NEAR(w.kb, c.kb, 1e-12) << c.caps;
    EXPECT_STREQ(name, c.name);
    gst_caps_unref(caps);
  }
}

// ---- pairing --------------------------------------------------------------

constexpr GstClockTime kMs = GST_MSECOND;

TEST(Pairing, WithinHalfAFrameOfTheShorterDuration) {
  const char* why = "";
  // 40 ms frames: tolerance 20 ms (exclusive).
  EXPECT_EQ(meter::pair_step(1000 * kMs, 40 * kMs, 1019 * kMs, 40 * kMs, 0, &why), meter::Step::Pair);
  EXPECT_EQ(meter::pair_step(1000 * kMs, 40 * kMs, 981 * kMs, 40 * kMs, 0, &why), meter::Step::Pair);
  // The distorted frame is 20 ms later: the reference frame has no partner.
  EXPECT_EQ(meter::pair_step(1000 * kMs, 40 * kMs, 1020 * kMs, 40 * kMs, 0, &why), meter::Step::UnpairedReference);
  EXPECT_STREQ(why, "no partner at its running time");
  EXPECT_EQ(meter::pair_step(1000 * kMs, 40 * kMs, 980 * kMs, 40 * kMs, 0, &why), meter::Step::UnpairedDistorted);
  // The shorter duration decides: 20 ms gives 10 ms.
  EXPECT_EQ(meter::pair_step(1000 * kMs, 40 * kMs, 1015 * kMs, 20 * kMs, 0, &why), meter::Step::UnpairedReference);
}

TEST(Pairing, DistortedOffsetShiftsTheDistortedTimes) {
  const char* why = "";
  EXPECT_EQ(meter::pair_step(1000 * kMs, 40 * kMs, 1100 * kMs, 40 * kMs, -100 * static_cast<gint64>(kMs), &why),
            meter::Step::Pair);
  EXPECT_EQ(meter::pair_step(1000 * kMs, 40 * kMs, 1000 * kMs, 40 * kMs, -100 * static_cast<gint64>(kMs), &why),
            meter::Step::UnpairedDistorted);
}

/* distorted-offset takes the whole gint64 range: at its limits no frame
 * pairs (issue 10, F2: the delta overflowed and INT64_MIN paired every frame). */
TEST(Pairing, DistortedOffsetAtItsLimitsPairsNothing) {
  const char* why = "";
  EXPECT_EQ(meter::pair_step(1000 * kMs, 40 * kMs, 1000 * kMs, 40 * kMs, G_MININT64, &why),
            meter::Step::UnpairedDistorted);
  EXPECT_EQ(meter::pair_step(1000 * kMs, 40 * kMs, 1000 * kMs, 40 * kMs, G_MAXINT64, &why),
            meter::Step::UnpairedReference);
  EXPECT_EQ(meter::pair_step(0, 40 * kMs, static_cast<GstClockTime>(G_MAXINT64), 40 * kMs, G_MAXINT64, &why),
            meter::Step::UnpairedReference);
  // The largest running times with an offset that brings them together still pair.
  EXPECT_EQ(meter::pair_step(0, 40 * kMs, static_cast<GstClockTime>(G_MAXINT64), 40 * kMs, -G_MAXINT64, &why),
            meter::Step::Pair);
}

TEST(Pairing, WithoutDurationsOnlyEqualTimesPair) {
  const char* why = "";
  EXPECT_EQ(meter::pair_step(5, GST_CLOCK_TIME_NONE, 5, GST_CLOCK_TIME_NONE, 0, &why), meter::Step::Pair);
  EXPECT_EQ(meter::pair_step(5, GST_CLOCK_TIME_NONE, 6, GST_CLOCK_TIME_NONE, 0, &why),
            meter::Step::UnpairedReference);
}

TEST(Pairing, FramesWithoutRunningTimeAreUnpaired) {
  const char* why = "";
  EXPECT_EQ(meter::pair_step(GST_CLOCK_TIME_NONE, 40 * kMs, 0, 40 * kMs, 0, &why), meter::Step::UnpairedReference);
  EXPECT_STREQ(why, "outside its segment or without a timestamp");
  EXPECT_EQ(meter::pair_step(0, 40 * kMs, GST_CLOCK_TIME_NONE, 40 * kMs, 0, &why), meter::Step::UnpairedDistorted);
}

TEST(Pairing, FrameDurationFromTheBufferElseTheRate) {
  GstVideoInfo info = video_info(GST_VIDEO_FORMAT_I420, 8, 8);
  info.fps_n = 25;
  info.fps_d = 1;
  GstBuffer* buf = gst_buffer_new();
  EXPECT_EQ(meter::frame_duration(buf, &info), 40 * kMs);
  GST_BUFFER_DURATION(buf) = 33 * kMs;
  EXPECT_EQ(meter::frame_duration(buf, &info), 33 * kMs);
  GST_BUFFER_DURATION(buf) = GST_CLOCK_TIME_NONE;
  info.fps_n = 0;
  EXPECT_EQ(meter::frame_duration(buf, &info), GST_CLOCK_TIME_NONE);
  EXPECT_FALSE(meter::is_gap(buf));  // no GAP flag
  GST_BUFFER_FLAG_SET(buf, GST_BUFFER_FLAG_GAP);
  EXPECT_TRUE(meter::is_gap(buf));
  gst_buffer_unref(buf);
}

// ---- statistics -------------------------------------------------------------

const iir2d::qm::MetricSummary* find(const iir2d::qm::Summary& s, const std::string& metric) {
  for (const auto& m : s.metrics)
    if (m.metric == metric) return &m;
  return nullptr;
}

/* A pad's statistics against values worked by hand: exact count, min, max,
 * mean and harmonic mean; percentiles within half a histogram bin. */
TEST(Stats, SummaryByHand) {
  meter::PadStats st;
  const double psnr[] = {3.0, 1.0, std::nan(""), 4.0, 2.0};
  const double temporal[] = {1.0, 0.0, 0.5, 0.5, 0.5};
  const double ssim[] = {1.0, -1.0, 0.5, 0.5, 0.5};
  for (int k = 0; k < 5; ++k) {
    iir2d::qm::FrameReport r;
    r.components = 1;
    r.psnr[0] = psnr[k];
    r.psnr_avg = psnr[k];
    r.ssim[0] = ssim[k];
    r.ssim_all = ssim[k];
    r.temporal_delta = temporal[k];
    st.add(r);
  }
  st.count_unpaired(0);
  st.count_unpaired(0);
  for (int k = 0; k < 7; ++k) st.count_unpaired(1);
  const iir2d::qm::Summary s = st.summary("distorted_3");
  EXPECT_EQ(s.pad, "distorted_3");
  EXPECT_EQ(s.frames, 5u);
  EXPECT_EQ(s.unpaired_reference, 2u);
  EXPECT_EQ(s.unpaired_distorted, 7u);
  const auto* y = find(s, "psnr-y");
  ASSERT_NE(y, nullptr);
  EXPECT_EQ(y->count, 4u);  // the NaN is left out
  EXPECT_EQ(y->min, 1.0);
  EXPECT_NEAR(y->p50, 2.0, 0.005);  // nearest rank: ceil(0.50 * 4) = 2nd, within half a 0.01 dB bin
  EXPECT_EQ(y->p95, 4.0);           // ceil(0.95 * 4) = 4th: its bin's centre clamped to the exact max
  EXPECT_DOUBLE_EQ(y->mean, 2.5);
  EXPECT_DOUBLE_EQ(y->harmonic_mean, 4.0 / (1.0 + 1.0 / 2 + 1.0 / 3 + 1.0 / 4));  // 1.92
  EXPECT_EQ(y->max, 4.0);
  EXPECT_EQ(find(s, "temporal-delta")->harmonic_mean, 0.0);
  EXPECT_TRUE(std::isnan(find(s, "ssim-all")->harmonic_mean));
  // Planes the format lacks are not in the summary.
  EXPECT_EQ(find(s, "psnr-u"), nullptr);
  EXPECT_EQ(find(s, "psnr-r"), nullptr);
}

/* Percentiles of many values against the exact nearest rank: within the
 * stated bound, half a bin (0.005 dB for PSNR, 5e-5 for SSIM and the
 * temporal delta), whatever the count; min, max and mean exact. */
TEST(Stats, PercentilesWithinHalfABin) {
  meter::PadStats st;
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> psnr(18.0, 62.0), ssim(0.6, 1.0), temporal(0.0, 0.2);
  std::vector<double> p, q, t;
  double sum = 0;
  for (int k = 0; k < 20000; ++k) {
    iir2d::qm::FrameReport r;
    r.components = 1;
    r.psnr[0] = r.psnr_avg = psnr(rng);
    r.ssim[0] = r.ssim_all = ssim(rng);
    r.temporal_delta = temporal(rng);
    p.push_back(r.psnr[0]);
    q.push_back(r.ssim[0]);
    t.push_back(r.temporal_delta);
    sum += r.psnr[0];
    st.add(r);
  }
  const iir2d::qm::Summary s = st.summary("distorted");
  auto rank = [](std::vector<double> v, double pct) {
    std::sort(v.begin(), v.end());
    return v[static_cast<std::size_t>(std::ceil(pct / 100.0 * v.size())) - 1];
  };
  for (const auto& [metric, values, bound] :
       {std::make_tuple("psnr-y", &p, 0.005), std::make_tuple("ssim-y", &q, 5e-5),
        std::make_tuple("temporal-delta", &t, 5e-5)}) {
    const auto* m = find(s, metric);
    ASSERT_NE(m, nullptr) << metric;
    EXPECT_NEAR(m->p50, rank(*values, 50), bound + 1e-12) << metric;
    EXPECT_NEAR(m->p95, rank(*values, 95), bound + 1e-12) << metric;
    EXPECT_EQ(m->min, *std::min_element(values->begin(), values->end())) << metric;
    EXPECT_EQ(m->max, *std::max_element(values->begin(), values->end())) << metric;
  }
  EXPECT_NEAR(find(s, "psnr-y")->mean, sum / 20000, 1e-9);
}

/* A pad's statistics stay the same size however many frames it sees
 * (issue 10, F7: about 90 bytes were kept per frame, 1 M frames took 88 MB):
 * the heap grows by less than 64 kB between frame 1000 and frame 1001000. */
TEST(Stats, MemoryIsBoundedOverAMillionFrames) {
  meter::PadStats st;
  iir2d::qm::FrameReport r;
  r.components = 3;
  auto add = [&](int k) {
    for (int c = 0; c < 3; ++c) {
      r.psnr[c] = 30 + (k % 997) * 0.01;
      r.ssim[c] = 0.9 + (k % 991) * 1e-4;
    }
    r.psnr_avg = r.psnr[0];
    r.ssim_all = r.ssim[0];
    r.temporal_delta = (k % 89) * 1e-3;
    st.add(r);
  };
  for (int k = 0; k < 1000; ++k) add(k);
  const std::size_t before = mallinfo2().uordblks;
  for (int k = 1000; k < 1001000; ++k) add(k);
  const std::size_t after = mallinfo2().uordblks;
  EXPECT_LT(after, before + 64 * 1024) << "heap in use grew from " << before << " to " << after << " bytes";
  const iir2d::qm::Summary s = st.summary("distorted");
  EXPECT_EQ(s.frames, 1001000u);
  const auto* y = find(s, "psnr-y");
  ASSERT_NE(y, nullptr);
  EXPECT_EQ(y->count, 1001000u);
  EXPECT_EQ(y->min, 30.0);
  EXPECT_DOUBLE_EQ(y->max, 30 + 996 * 0.01);
}

/* Identical planes (PSNR +inf) are counted in their own bin: a median of
 * inf when most frames are identical. */
TEST(Stats, InfinitePsnrHasItsOwnBin) {
  meter::PadStats st;
  for (double v : {30.0, double(INFINITY), double(INFINITY)}) {
    iir2d::qm::FrameReport r;
    r.components = 1;
    r.psnr[0] = r.psnr_avg = v;
    st.add(r);
  }
  const iir2d::qm::Summary s = st.summary("distorted");
  const auto* y = find(s, "psnr-y");
  ASSERT_NE(y, nullptr);
  EXPECT_EQ(y->min, 30.0);
  EXPECT_EQ(y->p50, INFINITY);
  EXPECT_EQ(y->max, INFINITY);
}

TEST(Stats, NumbersAsWritten) {
  EXPECT_EQ(meter::format_number(INFINITY), "inf");
  EXPECT_EQ(meter::format_number(-INFINITY), "-inf");
  EXPECT_EQ(meter::format_number(std::nan("")), "nan");
  EXPECT_EQ(meter::format_number(0.1), "0.1");
  EXPECT_EQ(meter::format_number(1.0 / 3.0), "0.333333333333");
}

/* The CSV's first line is its header row (fixed columns; pandas and
 * csv.DictReader read it with no options: issue 12), the version is a
 * column. */
TEST(Stats, CsvFileHasHeaderRowFirstAndVersionColumn) {
  char path[] = "/tmp/iir2d-stats-XXXXXX.csv";
  const int fd = mkstemps(path, 4);
  ASSERT_GE(fd, 0);
  close(fd);
  {
    meter::StatsWriter w;
    std::string why;
    ASSERT_TRUE(w.open(path, GST_QUALITY_METER_STATS_FORMAT_AUTO, &why)) << why;
    iir2d::qm::FrameReport r;
    r.pad = "distorted_1";
    r.frame = 3;
    r.pts = 40;
    r.running_time = 40;
    r.components = 1;
    r.psnr[0] = INFINITY;
    r.psnr_avg = INFINITY;
    r.ssim[0] = 1.0;
    r.ssim_all = 1.0;
    r.temporal_delta = 0.25;
    ASSERT_TRUE(w.write(r, &why)) << why;
  }
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_EQ(text.str(),
            "pad,frame,pts,running-time,psnr-y,psnr-u,psnr-v,psnr-r,psnr-g,psnr-b,psnr-a,psnr-avg,"
            "ssim-y,ssim-u,ssim-v,ssim-r,ssim-g,ssim-b,ssim-a,ssim-all,temporal-delta,stats-version\n"
            "distorted_1,3,40,40,inf,,,,,,,inf,1,,,,,,,1,0.25,2\n");
  std::remove(path);
}

/* A file that stops growing (a full disk; here the file-size limit) is
 * reported by the row that could not be written (issue 10, F3: write
 * errors were ignored and the file stopped mid-number). */
TEST(Stats, AWriteThatFailsSaysWhy) {
  char path[] = "/tmp/iir2d-stats-XXXXXX.csv";
  const int fd = mkstemps(path, 4);
  ASSERT_GE(fd, 0);
  close(fd);
  struct rlimit before;
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &before), 0);
  void (*old_handler)(int) = std::signal(SIGXFSZ, SIG_IGN);
  meter::StatsWriter w;
  std::string why;
  ASSERT_TRUE(w.open(path, GST_QUALITY_METER_STATS_FORMAT_CSV, &why)) << why;
  struct rlimit small = before;
  small.rlim_cur = 512;  // bytes: a few rows
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &small), 0);
  iir2d::qm::FrameReport r;
  r.components = 3;
  int written = 0;
  bool failed = false;
  for (; written < 100 && !failed; ++written) {
    r.frame = static_cast<guint64>(written);
    failed = !w.write(r, &why);
  }
  setrlimit(RLIMIT_FSIZE, &before);
  std::signal(SIGXFSZ, old_handler);
  w.close();
  std::remove(path);
  EXPECT_TRUE(failed) << "100 rows fitted in 512 bytes?";
  EXPECT_GT(written, 1);
  EXPECT_EQ(why, std::strerror(EFBIG));
}

TEST(Stats, OpeningAFullDeviceFails) {
  meter::StatsWriter w;
  std::string why;
  EXPECT_FALSE(w.open("/dev/full", GST_QUALITY_METER_STATS_FORMAT_CSV, &why));
  EXPECT_EQ(why, std::strerror(ENOSPC));
  EXPECT_FALSE(w.is_open());
}

// ---- property table -------------------------------------------------------

struct Values {
  bool b = false;
  guint u = 0;
  gint i = 0;
  gint64 l = 0;
  gdouble d = 0;
  std::string s;
  GstIir2dBorder e = GST_IIR2D_BORDER_CLAMP;
};

const iir2d::gst::PropertyField<Values> kFields[] = {
    iir2d::gst::field<&Values::b>(1), iir2d::gst::field<&Values::u>(2), iir2d::gst::field<&Values::i>(3),
    iir2d::gst::field<&Values::l>(4), iir2d::gst::field<&Values::d>(5), iir2d::gst::field<&Values::s>(6),
    iir2d::gst::field<&Values::e>(7),
};

TEST(PropertyTable, EveryTypeRoundTrips) {
  Values v;
  auto set = [&](guint id, GType type, auto fill) {
    GValue gv = G_VALUE_INIT;
    g_value_init(&gv, type);
    fill(&gv);
    EXPECT_TRUE(iir2d::gst::set_field(kFields, v, id, &gv)) << id;
    g_value_unset(&gv);
  };
  set(1, G_TYPE_BOOLEAN, [](GValue* g) { g_value_set_boolean(g, TRUE); });
  set(2, G_TYPE_UINT, [](GValue* g) { g_value_set_uint(g, 4000000000u); });
  set(3, G_TYPE_INT, [](GValue* g) { g_value_set_int(g, -7); });
  set(4, G_TYPE_INT64, [](GValue* g) { g_value_set_int64(g, G_MININT64); });
  set(5, G_TYPE_DOUBLE, [](GValue* g) { g_value_set_double(g, 0.125); });
  set(6, G_TYPE_STRING, [](GValue* g) { g_value_set_string(g, "stats.csv"); });
  set(7, GST_TYPE_IIR2D_BORDER, [](GValue* g) { g_value_set_enum(g, GST_IIR2D_BORDER_WRAP); });
  EXPECT_TRUE(v.b);
  EXPECT_EQ(v.u, 4000000000u);
  EXPECT_EQ(v.i, -7);
  EXPECT_EQ(v.l, G_MININT64);
  EXPECT_EQ(v.d, 0.125);
  EXPECT_EQ(v.s, "stats.csv");
  EXPECT_EQ(v.e, GST_IIR2D_BORDER_WRAP);

  GValue gv = G_VALUE_INIT;
  g_value_init(&gv, GST_TYPE_IIR2D_BORDER);
  EXPECT_TRUE(iir2d::gst::get_field(kFields, v, 7, &gv));
  EXPECT_EQ(g_value_get_enum(&gv), GST_IIR2D_BORDER_WRAP);
  g_value_unset(&gv);
  g_value_init(&gv, G_TYPE_STRING);
  v.s.clear();
  EXPECT_TRUE(iir2d::gst::get_field(kFields, v, 6, &gv));
  EXPECT_EQ(g_value_get_string(&gv), nullptr);  // unset reads back as NULL
  g_value_unset(&gv);
  g_value_init(&gv, G_TYPE_INT);
  EXPECT_FALSE(iir2d::gst::set_field(kFields, v, 99, &gv));
  EXPECT_FALSE(iir2d::gst::get_field(kFields, v, 0, &gv));
  g_value_unset(&gv);
}

// ---- CUDA session -----------------------------------------------------------

bool have_libcuda() {
  void* h = dlopen("libcuda.so.1", RTLD_LAZY);
  if (h) dlclose(h);
  return h != nullptr;
}

/* ---- Formats and caps ---------------------------------------------------- */

bool running_1_24() {
  guint major = 0, minor = 0, micro = 0, nano = 0;
  gst_version(&major, &minor, &micro, &nano);
  return major > 1 || (major == 1 && minor >= 24);
}

bool lists(const std::vector<std::string>& names, const char* name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

/* Issue 12: auto-plugging must not be offered a CUDA path that can only
 * fail. The caps carry memory:CUDAMemory exactly where libcuda loads. */
TEST(Formats, CudaCapsOnlyWhereLibcudaLoads) {
  GstCaps* caps = iir2d::gst::element_caps();
  const bool want = iir2d::gst::cuda_built() && have_libcuda();
  EXPECT_EQ(iir2d::gst::caps_are_cuda(caps), want) << "caps: " << gst_caps_to_string(caps);
  EXPECT_EQ(gst_caps_get_size(caps), want ? 2u : 1u);
  /* The system-memory structure is always there, last. */
  GstCapsFeatures* last = gst_caps_get_features(caps, gst_caps_get_size(caps) - 1);
  EXPECT_TRUE(gst_caps_features_is_equal(last, GST_CAPS_FEATURES_MEMORY_SYSTEM_MEMORY));
  gst_caps_unref(caps);
}

/* Issue 9: 12-bit formats in system memory everywhere; what the CUDA
 * allocator of the running GStreamer lays out since 1.24 (and GBR_16LE,
 * which 1.22 does not know) only when running on 1.24+. */
TEST(Formats, ListsFollowTheRunningGStreamer) {
  const auto system = iir2d::gst::element_formats(false);
  const auto cuda = iir2d::gst::element_formats(true);
  for (const char* f : {"I420_12LE", "I422_12LE", "Y444_12LE", "P012_LE", "GBR_10LE", "GBR_12LE", "Y444_10LE"})
    EXPECT_TRUE(lists(system, f)) << f;
  EXPECT_EQ(lists(system, "GBR_16LE"), running_1_24());
  for (const char* f : {"Y444_10LE", "Y444_12LE", "I420_12LE", "P012_LE", "GBR_10LE", "GBR_12LE", "GBR_16LE"})
    EXPECT_EQ(lists(cuda, f), running_1_24()) << f;
  for (const char* f : {"GRAY8", "GRAY16_LE", "A420", "I422_12LE"}) EXPECT_FALSE(lists(cuda, f)) << f;
  EXPECT_TRUE(lists(cuda, "NV12"));
  /* Every name is one this libgstvideo knows. */
  for (const auto* l : {&system, &cuda})
    for (const std::string& f : *l) EXPECT_NE(gst_video_format_from_string(f.c_str()), GST_VIDEO_FORMAT_UNKNOWN) << f;
}

/* The NV21 odd-height limit of 1.26's CUDA memory: refused there with a
 * reason naming the caps, never elsewhere or for other formats/heights. */
TEST(Formats, CudaCapsLimitationOnlyForNv21OddHeightOn126) {
  guint major = 0, minor = 0, micro = 0, nano = 0;
  gst_version(&major, &minor, &micro, &nano);
  const bool on_126 = major > 1 || (major == 1 && minor >= 26);
  struct Case {
    GstVideoFormat format;
    int width, height;
    bool limited;
  } cases[] = {{GST_VIDEO_FORMAT_NV21, 33, 17, on_126}, {GST_VIDEO_FORMAT_NV21, 1, 1, on_126},
               {GST_VIDEO_FORMAT_NV21, 64, 48, false},  {GST_VIDEO_FORMAT_NV12, 33, 17, false},
               {GST_VIDEO_FORMAT_I420, 33, 17, false}};
  for (const Case& c : cases) {
    GstVideoInfo info;
    ASSERT_TRUE(gst_video_info_set_format(&info, c.format, c.width, c.height));
    const std::string why = iir2d::gst::cuda_caps_limitation(&info);
    EXPECT_EQ(!why.empty(), c.limited) << iir2d::gst::describe_format(&info) << ": '" << why << "'";
    if (c.limited) {
      EXPECT_NE(why.find(iir2d::gst::describe_format(&info)), std::string::npos) << why;
    }
  }
}

/* Interlaced I420/NV12/NV21 of height 4k+2 are refused in CUDA memory on
 * every version (formats.h says why); other heights, progressive video,
 * P010 (laid out without the extra row), 4:2:2 and RGB are not. The row
 * counts are GStreamer's own system-memory layout. */
TEST(Formats, CudaCapsLimitationForInterlaced420At4kPlus2) {
  struct Case {
    GstVideoFormat format;
    GstVideoInterlaceMode mode;
    int height;
    bool limited;
  } cases[] = {
      {GST_VIDEO_FORMAT_NV12, GST_VIDEO_INTERLACE_MODE_INTERLEAVED, 34, true},
      {GST_VIDEO_FORMAT_NV12, GST_VIDEO_INTERLACE_MODE_MIXED, 34, true},
      {GST_VIDEO_FORMAT_I420, GST_VIDEO_INTERLACE_MODE_INTERLEAVED, 486, true},
      {GST_VIDEO_FORMAT_NV21, GST_VIDEO_INTERLACE_MODE_MIXED, 1082, true},
      {GST_VIDEO_FORMAT_P010_10LE, GST_VIDEO_INTERLACE_MODE_MIXED, 1082, false},  // no extra row in system memory
      {GST_VIDEO_FORMAT_NV12, GST_VIDEO_INTERLACE_MODE_INTERLEAVED, 1080, false},
      {GST_VIDEO_FORMAT_NV12, GST_VIDEO_INTERLACE_MODE_INTERLEAVED, 35, false},
      {GST_VIDEO_FORMAT_NV12, GST_VIDEO_INTERLACE_MODE_INTERLEAVED, 33, false},
      {GST_VIDEO_FORMAT_NV12, GST_VIDEO_INTERLACE_MODE_PROGRESSIVE, 34, false},
      {GST_VIDEO_FORMAT_Y42B, GST_VIDEO_INTERLACE_MODE_INTERLEAVED, 34, false},
      {GST_VIDEO_FORMAT_RGBA, GST_VIDEO_INTERLACE_MODE_INTERLEAVED, 34, false},
  };
  for (const Case& c : cases) {
    GstVideoInfo info;
    ASSERT_TRUE(gst_video_info_set_interlaced_format(&info, c.format, c.mode, 40, c.height));
    const std::string why = iir2d::gst::cuda_caps_limitation(&info);
    const std::string what = iir2d::gst::describe_format(&info) + " " + gst_video_interlace_mode_to_string(c.mode);
    EXPECT_EQ(!why.empty(), c.limited) << what << ": '" << why << "'";
    if (!c.limited) continue;
    EXPECT_NE(why.find(iir2d::gst::describe_format(&info)), std::string::npos) << why;
    /* The rows system memory gives the chroma of both fields, against what the reason says they need. */
    const int chroma_rows = static_cast<int>((GST_VIDEO_INFO_SIZE(&info) - GST_VIDEO_INFO_PLANE_OFFSET(&info, 1)) /
                                             GST_VIDEO_INFO_PLANE_STRIDE(&info, 1)) /
                            (GST_VIDEO_INFO_N_PLANES(&info) == 3 ? 2 : 1);
    EXPECT_EQ(chroma_rows, c.height / 2 + 1) << what;
    EXPECT_NE(why.find("lays out " + std::to_string(c.height / 2 + 1) + " chroma rows"), std::string::npos) << why;
    EXPECT_NE(why.find("CUDA memory holds " + std::to_string((c.height + 1) / 2)), std::string::npos) << why;
  }
}

struct SessionFixture : ::testing::Test {
  void SetUp() override {
    element = gst_element_factory_make("identity", nullptr);
    ASSERT_NE(element, nullptr) << "coreelements' identity is needed as the session's owner";
    gst_object_ref_sink(element);
  }
  void TearDown() override { gst_clear_object(&element); }
  GstElement* element = nullptr;
};

TEST_F(SessionFixture, WithoutADriverItSaysWhyAndDoesNothing) {
  if (iir2d::gst::cuda_built() && have_libcuda()) GTEST_SKIP() << "an NVIDIA driver is present (see OnTheGpu)";
  CudaSession session(element, 2);
  EXPECT_FALSE(session.open(-1));
  EXPECT_FALSE(session.ready());
  EXPECT_EQ(session.unavailable_reason(), iir2d::gst::cuda_built() ? "no NVIDIA driver (libcuda not found)"
                                                                   : "the plugin was built without CUDA");
  EXPECT_EQ(session.context(), nullptr);

  GstQuery* query = gst_query_new_context("gst.cuda.context");
  EXPECT_FALSE(session.handle_context_query(query));
  gst_query_unref(query);

  GstCaps* caps = gst_caps_from_string("video/x-raw(memory:CUDAMemory),format=NV12,width=64,height=48");
  query = gst_query_new_allocation(caps, TRUE);
  EXPECT_TRUE(session.propose_pool(query, caps));  // nothing to propose without a context
  EXPECT_EQ(gst_query_get_n_allocation_pools(query), 0u);
  EXPECT_FALSE(session.decide_pool(query, caps));
  gst_query_unref(query);
  gst_caps_unref(caps);

  GstBuffer* buf = gst_buffer_new_allocate(nullptr, 64 * 48 * 3 / 2, nullptr);
  EXPECT_FALSE(session.adopt_context_of(buf, -1));
  std::string why;
  EXPECT_FALSE(session.ensure_allocation(0, 1024, &why));
  EXPECT_FALSE(why.empty());
  {
    CudaFrameScope scope(session);
    std::string error;
    EXPECT_FALSE(scope.enter(&error));
    EXPECT_NE(error.find(session.unavailable_reason()), std::string::npos) << error;
    EXPECT_EQ(scope.finish(), "");
  }
  gst_buffer_unref(buf);
}

/* Issue 9, 1.26: where the context prefers stream-ordered allocation
 * (GST_CUDA_ENABLE_STREAM_ORDERED_ALLOC=1 at its creation), the session
 * says so and its device memory slots still allocate, grow and free. */
TEST_F(SessionFixture, StreamOrderedAllocationWhereTheContextAsks) {
  if (!iir2d::gst::cuda_built()) GTEST_SKIP() << "the plugin was built without CUDA";
  if (!have_libcuda()) GTEST_SKIP() << "no NVIDIA driver (libcuda not found)";
  g_setenv("GST_CUDA_ENABLE_STREAM_ORDERED_ALLOC", "1", TRUE);
  CudaSession session(element, 1);
  const bool opened = session.open(-1);
  g_unsetenv("GST_CUDA_ENABLE_STREAM_ORDERED_ALLOC");
  ASSERT_TRUE(opened) << session.unavailable_reason();
  GObject* ctx = G_OBJECT(session.context());
  if (!g_object_class_find_property(G_OBJECT_GET_CLASS(ctx), "prefer-stream-ordered-alloc")) {
    EXPECT_FALSE(session.stream_ordered());
    GTEST_SKIP() << "GStreamer " << gst_version_string() << " has no stream-ordered allocation (1.26+)";
  }
  gboolean prefer = FALSE;
  g_object_get(ctx, "prefer-stream-ordered-alloc", &prefer, nullptr);
  if (!prefer) GTEST_SKIP() << "this device's context does not take stream-ordered allocation";
  EXPECT_TRUE(session.stream_ordered());
  std::string why;
  bool fresh = false;
  ASSERT_TRUE(session.ensure_allocation(0, 1 << 20, &why, &fresh)) << why;
  EXPECT_TRUE(fresh);
  EXPECT_NE(session.allocation(0), nullptr);
  ASSERT_TRUE(session.ensure_allocation(0, 4 << 20, &why, &fresh)) << why;
  EXPECT_TRUE(fresh);
  session.free_allocations();
  EXPECT_EQ(session.allocation(0), nullptr);
}

TEST_F(SessionFixture, OnTheGpu) {
  if (!iir2d::gst::cuda_built()) GTEST_SKIP() << "the plugin was built without CUDA";
  if (!have_libcuda()) GTEST_SKIP() << "no NVIDIA driver (libcuda not found)";
  CudaSession session(element, 2);
  ASSERT_TRUE(session.open(-1)) << session.unavailable_reason();
  EXPECT_TRUE(session.ready());
  EXPECT_NE(session.stream(0), nullptr);
  EXPECT_NE(session.stream(1), nullptr);
  EXPECT_NE(session.stream(0), session.stream(1));

  std::string why;
  bool fresh = false;
  ASSERT_TRUE(session.ensure_allocation(1, 4096, &why, &fresh)) << why;
  EXPECT_TRUE(fresh);
  void* first = session.allocation(1);
  EXPECT_NE(first, nullptr);
  EXPECT_EQ(session.allocation_size(1), 4096u);
  ASSERT_TRUE(session.ensure_allocation(1, 100, &why, &fresh));
  EXPECT_FALSE(fresh);  // large enough: kept, contents survive
  EXPECT_EQ(session.allocation(1), first);
  ASSERT_TRUE(session.ensure_allocation(1, 8192, &why, &fresh));
  EXPECT_TRUE(fresh);
  EXPECT_EQ(session.allocation_size(1), 8192u);
  session.free_allocations();
  EXPECT_EQ(session.allocation(1), nullptr);

  GstQuery* query = gst_query_new_context("gst.cuda.context");
  EXPECT_TRUE(session.handle_context_query(query));
  gst_query_unref(query);

  // System memory is refused with its reason; the scope still syncs and pops.
  GstBuffer* buf = gst_buffer_new_allocate(nullptr, 64 * 48 * 3 / 2, nullptr);
  GstVideoInfo info = video_info(GST_VIDEO_FORMAT_NV12, 64, 48);
  {
    CudaFrameScope scope(session);
    std::string error;
    EXPECT_TRUE(scope.enter(&error)) << error;
    EXPECT_FALSE(scope.map(buf, &info, GST_MAP_READ, "input", &error));
    EXPECT_EQ(error, "the input buffer is not CUDA memory");
    EXPECT_EQ(scope.finish(), "");
  }
  EXPECT_FALSE(session.adopt_context_of(buf, -1));
  gst_buffer_unref(buf);
  session.close();
  EXPECT_FALSE(session.ready());
}

}  // namespace
