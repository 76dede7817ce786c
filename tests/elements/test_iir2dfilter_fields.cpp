// SPDX-License-Identifier: MIT
/*
 * Tier 3, issue 11: iir2dfilter on interlaced video, through GstHarness.
 *
 * The expectation is built here, independently of the element's field
 * handling: the rows of one parity of each component are copied into a
 * packed picture of their own, filtered alone by refcpu, and written back
 * into those rows. Every output field must equal that, code for code:
 *  - interleaved: every filter id under every border, at an even height, an
 *    odd height and a height of 2 mod 4 (4:2:0 chroma rows that do not pair
 *    up), for a 4:2:0 format with planes=all; more formats (NV12, P010,
 *    4:2:2, gray, RGB through its luma and all planes) at one id;
 *  - a frame of two flat fields (200 and 50) stays exactly flat with
 *    unity gain (a hand-worked response), while field-mode=progressive
 *    smears the fields into each other (and equals refcpu on the frame);
 *  - mixed: flagged buffers field by field, unflagged ones as frames;
 *  - alternate: each field buffer as the picture it is;
 *  - temporal smoothing blends each field with the previous output of the
 *    same parity (interleaved and alternate), against refcpu's recursion
 *    carried per field.
 * The CUDA cases run interleaved and mixed sequences through
 * `cudaupload ! iir2dfilter ! cudadownload` against the same expectation
 * (contract section 6); they skip with the reason where there is no GPU.
 */
#include <cmath>
#include <functional>
#include <tuple>

#include "iir2dfilter_support.h"

namespace {

using iir2d::TemporalMode;
using iir2d::TemporalParams;

constexpr int kRows[2] = {0, 1};  // first row of the top and the bottom field

int rows_of_field(int height, int field) { return (height + 1 - field) / 2; }

std::string interlaced_caps(const std::string& format, int width, int height, const char* mode) {
  std::string s = caps_string(format, width, height) + ",interlace-mode=" + mode;
  if (std::string(mode) == "interleaved" || std::string(mode) == "alternate") s += ",field-order=top-field-first";
  if (std::string(mode) == "alternate") s.replace(0, 11, "video/x-raw(format:Interlaced)");
  return s;
}

/* A packed copy of some rows of a component: 16-bit codes of the
 * component's depth, one sample per element. */
struct PackedRows {
  std::vector<guint16> codes;
  int width = 0, height = 0, depth = 8;
  iir2d::ConstVideoComponent const_view() const {
    iir2d::ConstVideoComponent c;
    c.data = codes.data();
    c.width = width;
    c.height = height;
    c.row_stride = static_cast<std::ptrdiff_t>(width) * 2;
    c.pixel_stride = 2;
    c.type = iir2d::SampleType::U16;
    c.depth = depth;
    return c;
  }
  iir2d::VideoComponent view() {
    iir2d::VideoComponent c;
    c.data = codes.data();
    c.width = width;
    c.height = height;
    c.row_stride = static_cast<std::ptrdiff_t>(width) * 2;
    c.pixel_stride = 2;
    c.type = iir2d::SampleType::U16;
    c.depth = depth;
    return c;
  }
};

/* Rows of field `field` of component `c` of a frame `height` high: the
 * field's luma rows subsampled as the format subsamples a picture. That is
 * how GStreamer packs interlaced 4:2:0 (video-format.c, GET_UV_420: luma
 * row y has chroma row ((y & ~3) >> 1) + (y & 1)), so at a height of 2 mod
 * 4 the bottom field's last chroma row is one past the frame's chroma
 * height, in the row GStreamer's interlaced layouts add (video-info.c). */
int field_comp_rows(const GstVideoInfo& info, guint c, int height, int field) {
  return GST_VIDEO_FORMAT_INFO_SCALE_HEIGHT(info.finfo, c, rows_of_field(height, field));
}

/* Rows of component c's plane in the default layout of `info` (up to the
 * next plane or the end): P010's layout has no extra chroma row, so there
 * the bottom field keeps the rows the memory holds. */
int layout_rows(const GstVideoInfo& info, guint c) {
  const guint p = GST_VIDEO_FORMAT_INFO_PLANE(info.finfo, c);
  gsize end = GST_VIDEO_INFO_SIZE(&info);
  for (guint q = 0; q < GST_VIDEO_INFO_N_PLANES(&info); ++q)
    if (info.offset[q] > info.offset[p]) end = std::min(end, info.offset[q]);
  const gsize row_bytes = static_cast<gsize>(GST_VIDEO_INFO_COMP_WIDTH(&info, c) - 1) *
                              GST_VIDEO_INFO_COMP_PSTRIDE(&info, c) + (GST_VIDEO_FORMAT_INFO_BITS(info.finfo) > 8 ? 2 : 1) +
                          GST_VIDEO_INFO_COMP_POFFSET(&info, c);
  return static_cast<int>((end - info.offset[p] - row_bytes) / info.stride[p] + 1);
}

PackedRows copy_field(const iir2d::ConstVideoComponent& c, int field, int rows) {
  PackedRows p;
  p.width = c.width;
  p.height = rows;
  p.depth = c.depth;
  p.codes.resize(static_cast<std::size_t>(p.width) * p.height);
  for (int r = 0; r < p.height; ++r)
    for (int x = 0; x < p.width; ++x)
      p.codes[static_cast<std::size_t>(r) * p.width + x] =
          static_cast<guint16>(iir2d::ref::read_code(c, x, kRows[field] + 2 * r));
  return p;
}

void paste_field(const PackedRows& p, const iir2d::VideoComponent& c, int field) {
  for (int r = 0; r < p.height; ++r)
    for (int x = 0; x < p.width; ++x)
      iir2d::ref::write_code(c, x, kRows[field] + 2 * r, p.codes[static_cast<std::size_t>(r) * p.width + x]);
}

/* The element's grouping (element docs): RGB luma or R, G, B together;
 * YUV with temporal smoothing: the filtered components of one size
 * together; without it each component alone. */
std::vector<std::vector<guint>> groups_of(const GstVideoInfo& info, bool all, bool temporal) {
  std::vector<std::vector<guint>> groups;
  if (GST_VIDEO_INFO_IS_RGB(&info)) {
    if (all && !temporal) return {{0}, {1}, {2}};
    return {{0, 1, 2}};
  }
  groups.push_back({0});
  if (all && GST_VIDEO_INFO_N_COMPONENTS(&info) >= 3) {
    if (temporal) {
      groups.push_back({1, 2});
    } else {
      groups.push_back({1});
      groups.push_back({2});
    }
  }
  return groups;
}

/* Expected output: each field (fields=true) or the whole frame of each
 * filtered component through refcpu, alone; the rest copied. The temporal
 * state is held per field and group in `state` (valid: `state_valid`). */
class FieldReference {
 public:
  FieldReference(const GstVideoInfo& info, bool all) : info_(info), all_(all) {}
  void reset() { valid_ = {false, false, false}; }

  Buffer next(GstBuffer* in, bool fields, const iir2d::FilterParams& params, double strength,
              const TemporalParams& temporal = TemporalParams{},
              const iir2d::LumaWeights& weights = iir2d::kLumaBt709) {
    GstBuffer* out = gst_buffer_copy_deep(in);  // unfiltered parts bit-exact
    GstVideoFrame fi, fo;
    EXPECT_TRUE(gst_video_frame_map(&fi, &info_, in, GST_MAP_READ));
    EXPECT_TRUE(gst_video_frame_map(&fo, &info_, out, GST_MAP_WRITE));
    const bool temporal_on = temporal.mode != TemporalMode::Off;
    const auto groups = groups_of(info_, all_, temporal_on);
    const bool rgb_luma = GST_VIDEO_INFO_IS_RGB(&info_) && !all_;
    const int slot_base = fields ? 1 : 0;  // 0: frame state, 1 and 2: the fields'
    for (int field = fields ? 0 : -1; field < (fields ? 2 : 0); ++field) {
      const int slot = slot_base + std::max(field, 0);
      std::size_t offset = 0;
      auto& state = states_[slot];
      for (const auto& g : groups) {
        std::vector<PackedRows> ins, outs;
        for (guint c : g) {
          const auto ci = component<iir2d::ConstVideoComponent>(&fi, c);
          if (field < 0) {
            ins.push_back(copy_field_all(ci));
          } else {
            ins.push_back(copy_field(ci, field, std::min(field_comp_rows(info_, c, info_.height, field),
                                                         rows_of_field(layout_rows(info_, c), field))));
          }
          outs.push_back(ins.back());
        }
        if (ins[0].height == 0) continue;
        iir2d::ConstVideoComponent cin[3];
        iir2d::VideoComponent cout[3];
        for (std::size_t k = 0; k < g.size(); ++k) {
          cin[k] = ins[k].const_view();
          cout[k] = outs[k].view();
        }
        const int count = static_cast<int>(g.size());
        const std::size_t planes = rgb_luma ? 1 : g.size();
        const std::size_t need = offset + planes * ins[0].codes.size();
        if (state.size() < need) state.resize(need);
        if (rgb_luma)
          iir2d::ref::filter_rgb_luma(cin, cout, weights, params, strength, temporal, state.data() + offset,
                                      valid_[slot]);
        else if (temporal_on)
          iir2d::ref::filter_component_group(cin, cout, count, params, strength, temporal, state.data() + offset,
                                             valid_[slot]);
        else
          iir2d::ref::filter_video_component(cin[0], cout[0], params, strength);
        offset = need;
        for (std::size_t k = 0; k < g.size(); ++k) {
          const auto co = component<iir2d::VideoComponent>(&fo, g[k]);
          if (field < 0)
            paste_all(outs[k], co);
          else
            paste_field(outs[k], co, field);
        }
      }
      valid_[slot] = temporal_on;
    }
    gst_video_frame_unmap(&fo);
    gst_video_frame_unmap(&fi);
    return Buffer(out);
  }

 private:
  static PackedRows copy_field_all(const iir2d::ConstVideoComponent& c) {
    PackedRows p;
    p.width = c.width;
    p.height = c.height;
    p.depth = c.depth;
    p.codes.resize(static_cast<std::size_t>(p.width) * p.height);
    for (int y = 0; y < p.height; ++y)
      for (int x = 0; x < p.width; ++x)
        p.codes[static_cast<std::size_t>(y) * p.width + x] = static_cast<guint16>(iir2d::ref::read_code(c, x, y));
    return p;
  }
  static void paste_all(const PackedRows& p, const iir2d::VideoComponent& c) {
    for (int y = 0; y < p.height; ++y)
      for (int x = 0; x < p.width; ++x) iir2d::ref::write_code(c, x, y, p.codes[static_cast<std::size_t>(y) * p.width + x]);
  }

  GstVideoInfo info_;
  bool all_;
  std::array<bool, 3> valid_{false, false, false};
  std::array<std::vector<float>, 3> states_;
};

Buffer push_pull(GstHarness* h, GstBuffer* in) {
  EXPECT_EQ(gst_harness_push(h, gst_buffer_ref(in)), GST_FLOW_OK);
  return Buffer(gst_harness_try_pull(h));
}

iir2d::FilterParams params_for(int id, iir2d::Border border) {
  iir2d::FilterParams p;
  p.filter_id = id;
  p.border = border;
  p.border_constant = 0.25;
  return p;
}

const char* border_nick(iir2d::Border b) {
  switch (b) {
    case iir2d::Border::Clamp: return "clamp";
    case iir2d::Border::Mirror: return "mirror";
    case iir2d::Border::Wrap: return "wrap";
    default: return "constant";
  }
}

Harness field_harness(const std::string& caps_str, int id, iir2d::Border border, bool all, double strength,
                      const char* field_mode = "auto") {
  Harness h(new_harness());
  g_object_set(h->element, "filter-id", static_cast<guint>(id), "strength", strength, "border-constant", 0.25,
               nullptr);
  gst_util_set_object_arg(G_OBJECT(h->element), "border", border_nick(border));
  gst_util_set_object_arg(G_OBJECT(h->element), "planes", all ? "all" : "luma");
  gst_util_set_object_arg(G_OBJECT(h->element), "field-mode", field_mode);
  gst_harness_set_src_caps_str(h.get(), caps_str.c_str());
  return h;
}

/* ======================================================================= */
/* The property                                                            */

TEST(Iir2dFilterFieldMode, PropertyDefaultsToAutoAndRefusesInvalidValues) {
  REQUIRE_ELEMENT();
  GstElement* e = gst_element_factory_make("iir2dfilter", nullptr);
  ASSERT_TRUE(e);
  gst_object_ref_sink(e);
  GParamSpec* ps = g_object_class_find_property(G_OBJECT_GET_CLASS(e), "field-mode");
  ASSERT_TRUE(ps);
  EXPECT_TRUE(ps->flags & GST_PARAM_MUTABLE_PLAYING);
  EXPECT_NE(std::string(g_param_spec_get_blurb(ps)).find("auto"), std::string::npos);
  EXPECT_EQ(enum_nick(G_OBJECT(e), "field-mode"), "auto");
  gst_util_set_object_arg(G_OBJECT(e), "field-mode", "progressive");
  EXPECT_EQ(enum_nick(G_OBJECT(e), "field-mode"), "progressive");
  /* An out-of-range enum is refused by GObject with a warning. */
  const GLogLevelFlags old = g_log_set_always_fatal(GLogLevelFlags(G_LOG_FATAL_MASK));
  g_object_set(e, "field-mode", 7, nullptr);
  g_log_set_always_fatal(old);
  EXPECT_EQ(enum_nick(G_OBJECT(e), "field-mode"), "progressive");
  gst_object_unref(e);
}

/* ======================================================================= */
/* Interleaved: each field filtered alone                                  */

using IdBorderHeight = std::tuple<int, iir2d::Border, int>;
class Iir2dFilterInterleaved : public ::testing::TestWithParam<IdBorderHeight> {};

TEST_P(Iir2dFilterInterleaved, EachFieldEqualsItsImageFilteredAlone) {
  REQUIRE_ELEMENT();
  const auto [id, border, height] = GetParam();
  const std::string caps_str = interlaced_caps("I420", 23, height, "interleaved");
  SCOPED_TRACE(caps_str);
  const GstVideoInfo info = video_info(caps_str);
  Harness h = field_harness(caps_str, id, border, true, 0.9);
  FieldReference ref(info, true);
  std::mt19937 rng(static_cast<unsigned>(id * 131 + height));
  Buffer in = random_buffer(info, rng, false);
  Buffer want = ref.next(in.get(), true, params_for(id, border), 0.9);
  Buffer out = push_pull(h.get(), in.get());
  ASSERT_TRUE(out);
  EXPECT_EQ(compare_frames(info, out.get(), want.get()), "");
  /* Not the frame filtered whole. */
  Buffer whole = FieldReference(info, true).next(in.get(), false, params_for(id, border), 0.9);
  EXPECT_NE(compare_frames(info, out.get(), whole.get(), 0), "");
}

std::string idh_name(const ::testing::TestParamInfo<IdBorderHeight>& p) {
  const auto& [id, border, height] = p.param;
  return "id" + std::to_string(id) + "_" + border_nick(border) + "_h" + std::to_string(height);
}

INSTANTIATE_TEST_SUITE_P(IdsBordersHeights, Iir2dFilterInterleaved,
                         ::testing::Combine(::testing::Range(1, 9),
                                            ::testing::Values(iir2d::Border::Clamp, iir2d::Border::Mirror,
                                                              iir2d::Border::Wrap, iir2d::Border::Constant),
                                            ::testing::Values(36, 37, 38)),
                         idh_name);

using FormatPlanes = std::tuple<const char*, bool>;
class Iir2dFilterInterleavedFormats : public ::testing::TestWithParam<FormatPlanes> {};

TEST_P(Iir2dFilterInterleavedFormats, EachFieldEqualsItsImageFilteredAlone) {
  REQUIRE_ELEMENT();
  const auto [format, all] = GetParam();
  for (int height : {32, 31}) {
    const std::string caps_str = interlaced_caps(format, 21, height, "interleaved");
    SCOPED_TRACE(caps_str + (all ? " planes=all" : " planes=luma"));
    const GstVideoInfo info = video_info(caps_str);
    Harness h = field_harness(caps_str, 6, iir2d::Border::Mirror, all, 1.0);
    FieldReference ref(info, all);
    std::mt19937 rng(static_cast<unsigned>(height));
    for (bool padded : {false, true}) {
      Buffer in = random_buffer(info, rng, padded);
      Buffer in_plain(gst_buffer_new_allocate(nullptr, GST_VIDEO_INFO_SIZE(&info), nullptr));
      {
        GstVideoFrame src, dst;
        ASSERT_TRUE(gst_video_frame_map(&src, &info, in.get(), GST_MAP_READ));
        ASSERT_TRUE(gst_video_frame_map(&dst, &info, in_plain.get(), GST_MAP_WRITE));
        ASSERT_TRUE(gst_video_frame_copy(&dst, &src));
        gst_video_frame_unmap(&dst);
        gst_video_frame_unmap(&src);
      }
      Buffer want = ref.next(in_plain.get(), true, params_for(6, iir2d::Border::Mirror), 1.0);
      Buffer out = push_pull(h.get(), in.get());
      ASSERT_TRUE(out);
      EXPECT_EQ(compare_frames(info, out.get(), want.get()), "") << (padded ? "padded strides" : "");
      expect_unfiltered_parts_unchanged(info, out.get(), in_plain.get(), all);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Formats, Iir2dFilterInterleavedFormats,
                         ::testing::Values(FormatPlanes{"NV12", true}, FormatPlanes{"NV21", false},
                                           FormatPlanes{"P010_10LE", true}, FormatPlanes{"I420_10LE", true},
                                           FormatPlanes{"Y42B", true}, FormatPlanes{"Y444", true},
                                           FormatPlanes{"GRAY8", false}, FormatPlanes{"A420", true},
                                           FormatPlanes{"RGBA", false}, FormatPlanes{"BGRx", true},
                                           FormatPlanes{"GBR", false}),
                         [](const ::testing::TestParamInfo<FormatPlanes>& p) {
                           return std::string(std::get<0>(p.param)) + (std::get<1>(p.param) ? "_all" : "_luma");
                         });

/* Two flat fields: each is flat alone, so with unity gain and the exact
 * border start the output is the input, code for code (a flat picture
 * stays flat: FILTER_CONTRACT.md section 3a). Filtered as one frame the
 * 200/50 line pattern is the vertical Nyquist frequency, which every
 * low-pass id damps: the fields run into each other. */
TEST(Iir2dFilterInterleavedFlat, TwoFlatFieldsStayExactlyFlatOnlyFieldByField) {
  REQUIRE_ELEMENT();
  const std::string caps_str = interlaced_caps("GRAY8", 32, 24, "interleaved");
  const GstVideoInfo info = video_info(caps_str);
  Buffer in(gst_buffer_new_allocate(nullptr, GST_VIDEO_INFO_SIZE(&info), nullptr));
  {
    GstMapInfo map;
    gst_buffer_map(in.get(), &map, GST_MAP_WRITE);
    for (int y = 0; y < 24; ++y) memset(map.data + y * info.stride[0], y % 2 ? 50 : 200, info.stride[0]);
    gst_buffer_unmap(in.get(), &map);
  }
  for (int id = 1; id <= 8; ++id) {
    SCOPED_TRACE("id " + std::to_string(id));
    for (const char* mode : {"auto", "progressive"}) {
      Harness h = field_harness(caps_str, id, iir2d::Border::Clamp, false, 1.0, mode);
      g_object_set(h->element, "unity-gain", TRUE, nullptr);
      Buffer out = push_pull(h.get(), in.get());
      ASSERT_TRUE(out);
      if (std::string(mode) == "auto") {
        EXPECT_EQ(compare_frames(info, out.get(), in.get()), "");
      } else {
        iir2d::FilterParams p = params_for(id, iir2d::Border::Clamp);
        p.unity_gain = true;
        Buffer want = FieldReference(info, false).next(in.get(), false, p, 1.0);
        EXPECT_EQ(compare_frames(info, out.get(), want.get()), "") << "progressive is the whole frame";
        const std::vector<CodeDiff> d = diff_codes(info, out.get(), in.get());
        ASSERT_EQ(d.size(), 1u);
        EXPECT_GE(d[0].max, 10u) << "the fields should have been mixed";
      }
    }
  }
}

/* P010 at a height of 2 mod 4: GStreamer's P010 layout has no row for the
 * bottom field's last chroma row, so that field's chroma keeps the rows the
 * buffer holds (never a write past it), the rest as everywhere. */
TEST(Iir2dFilterInterleavedFormats, P010AtTwoModFourKeepsToItsMemory) {
  REQUIRE_ELEMENT();
  const std::string caps_str = interlaced_caps("P010_10LE", 22, 30, "interleaved");
  const GstVideoInfo info = video_info(caps_str);
  ASSERT_EQ(layout_rows(info, 1), 15);
  Harness h = field_harness(caps_str, 6, iir2d::Border::Mirror, true, 1.0);
  std::mt19937 rng(12);
  Buffer in = random_buffer(info, rng, false);
  Buffer want = FieldReference(info, true).next(in.get(), true, params_for(6, iir2d::Border::Mirror), 1.0);
  Buffer out = push_pull(h.get(), in.get());
  ASSERT_TRUE(out);
  EXPECT_EQ(compare_frames(info, out.get(), want.get()), "");
}

/* ======================================================================= */
/* Mixed and alternate                                                     */

TEST(Iir2dFilterMixed, FlaggedBuffersFieldByFieldOthersAsFrames) {
  REQUIRE_ELEMENT();
  const std::string caps_str = interlaced_caps("I420", 27, 34, "mixed");
  const GstVideoInfo info = video_info(caps_str);
  Harness h = field_harness(caps_str, 4, iir2d::Border::Mirror, true, 1.0);
  std::mt19937 rng(5);
  const bool flagged[] = {true, false, false, true, false, true};
  for (std::size_t n = 0; n < G_N_ELEMENTS(flagged); ++n) {
    SCOPED_TRACE("buffer " + std::to_string(n) + (flagged[n] ? " interlaced" : " progressive"));
    Buffer in = random_buffer(info, rng, false);
    if (flagged[n]) GST_BUFFER_FLAG_SET(in.get(), GST_VIDEO_BUFFER_FLAG_INTERLACED);
    Buffer want = FieldReference(info, true).next(in.get(), flagged[n], params_for(4, iir2d::Border::Mirror), 1.0);
    Buffer out = push_pull(h.get(), in.get());
    ASSERT_TRUE(out);
    EXPECT_EQ(compare_frames(info, out.get(), want.get()), "");
  }
}

TEST(Iir2dFilterMixed, FieldModeProgressiveFiltersFlaggedBuffersAsFrames) {
  REQUIRE_ELEMENT();
  const std::string caps_str = interlaced_caps("NV12", 27, 34, "mixed");
  const GstVideoInfo info = video_info(caps_str);
  Harness h = field_harness(caps_str, 2, iir2d::Border::Clamp, true, 1.0, "progressive");
  std::mt19937 rng(6);
  Buffer in = random_buffer(info, rng, false);
  GST_BUFFER_FLAG_SET(in.get(), GST_VIDEO_BUFFER_FLAG_INTERLACED);
  Buffer want = FieldReference(info, true).next(in.get(), false, params_for(2, iir2d::Border::Clamp), 1.0);
  Buffer out = push_pull(h.get(), in.get());
  ASSERT_TRUE(out);
  EXPECT_EQ(compare_frames(info, out.get(), want.get()), "");
}

/* Alternate: the caps' height is the frame's; GstVideoInfo lays each field
 * buffer out with GST_VIDEO_INFO_FIELD_HEIGHT = ceil(h/2) rows (1.16 to
 * 1.26 alike), and that picture is what is filtered. */
TEST(Iir2dFilterAlternate, EachFieldBufferIsFilteredAsThePictureItIs) {
  REQUIRE_ELEMENT();
  for (int height : {36, 37}) {
    const std::string caps_str = interlaced_caps("I420", 25, height, "alternate");
    SCOPED_TRACE(caps_str);
    const GstVideoInfo info = video_info(caps_str);
    ASSERT_EQ(GST_VIDEO_INFO_COMP_HEIGHT(&info, 0), (height + 1) / 2);
    Harness h = field_harness(caps_str, 5, iir2d::Border::Wrap, true, 0.8);
    std::mt19937 rng(static_cast<unsigned>(height));
    for (int n = 0; n < 4; ++n) {
      Buffer in = random_buffer(info, rng, false);
      GST_BUFFER_FLAG_SET(in.get(), n % 2 ? GST_VIDEO_BUFFER_FLAG_BOTTOM_FIELD : GST_VIDEO_BUFFER_FLAG_TOP_FIELD);
      /* The field's components as GstVideoFrame maps them, each filtered whole. */
      Buffer want = FieldReference(info, true).next(in.get(), false, params_for(5, iir2d::Border::Wrap), 0.8);
      Buffer out = push_pull(h.get(), in.get());
      ASSERT_TRUE(out) << "field " << n;
      EXPECT_EQ(compare_frames(info, out.get(), want.get()), "") << "field " << n;
      EXPECT_EQ(GST_BUFFER_FLAGS(out.get()) & GST_VIDEO_BUFFER_FLAG_BOTTOM_FIELD,
                GST_BUFFER_FLAGS(in.get()) & GST_VIDEO_BUFFER_FLAG_BOTTOM_FIELD);
    }
    Caps src_caps(gst_pad_get_current_caps(h->srcpad));
    Caps sink_caps(gst_pad_get_current_caps(h->sinkpad));
    ASSERT_TRUE(src_caps && sink_caps);
    EXPECT_TRUE(gst_caps_is_equal(src_caps.get(), sink_caps.get()))
        << gst_caps_to_string(src_caps.get()) << " vs " << gst_caps_to_string(sink_caps.get());
  }
}

/* ======================================================================= */
/* Temporal smoothing: the previous output of the same parity              */

TemporalParams fixed_alpha(double alpha) {
  TemporalParams t;
  t.mode = TemporalMode::Fixed;
  t.alpha = alpha;
  return t;
}

TEST(Iir2dFilterFieldTemporal, InterleavedFieldsBlendWithTheirOwnParity) {
  REQUIRE_ELEMENT();
  for (const char* mode : {"fixed", "adaptive"}) {
    SCOPED_TRACE(mode);
    const std::string caps_str = interlaced_caps("I420", 26, 35, "interleaved");
    const GstVideoInfo info = video_info(caps_str);
    Harness h = field_harness(caps_str, 3, iir2d::Border::Mirror, true, 1.0);
    gst_util_set_object_arg(G_OBJECT(h->element), "temporal-mode", mode);
    g_object_set(h->element, "temporal-alpha", 0.4, nullptr);
    TemporalParams t = fixed_alpha(0.4);
    if (std::string(mode) == "adaptive") {
      t.mode = TemporalMode::Adaptive;
      g_object_get(h->element, "temporal-alpha-min", &t.alpha_min, "temporal-alpha-max", &t.alpha_max,
                   "motion-threshold", &t.motion_threshold, nullptr);
    }
    FieldReference ref(info, true);
    FieldReference frames(info, true);  // the same recursion over whole frames, for contrast
    std::mt19937 rng(8);
    bool differs_from_frames = false;
    for (int n = 0; n < 5; ++n) {
      SCOPED_TRACE("frame " + std::to_string(n));
      Buffer in = random_buffer(info, rng, false);
      Buffer want = ref.next(in.get(), true, params_for(3, iir2d::Border::Mirror), 1.0, t);
      Buffer other = frames.next(in.get(), false, params_for(3, iir2d::Border::Mirror), 1.0, t);
      Buffer out = push_pull(h.get(), in.get());
      ASSERT_TRUE(out);
      ASSERT_EQ(compare_frames(info, out.get(), want.get()), "");
      differs_from_frames = differs_from_frames || compare_frames(info, out.get(), other.get()) != "";
    }
    EXPECT_TRUE(differs_from_frames);
  }
}

/* Alternate fields T0 B0 T1 B1 ...: T1 is blended with T0's output, B1
 * with B0's, never with the field just before it. */
TEST(Iir2dFilterFieldTemporal, AlternateFieldsBlendWithTheSameParity) {
  REQUIRE_ELEMENT();
  const std::string caps_str = interlaced_caps("NV12", 24, 40, "alternate");
  const GstVideoInfo picture = video_info(caps_str);
  Harness h = field_harness(caps_str, 1, iir2d::Border::Clamp, true, 1.0);
  gst_util_set_object_arg(G_OBJECT(h->element), "temporal-mode", "fixed");
  g_object_set(h->element, "temporal-alpha", 0.5, nullptr);
  FieldReference top(picture, true), bottom(picture, true);
  FieldReference any_parity(picture, true);
  std::mt19937 rng(9);
  bool differs = false;
  for (int n = 0; n < 6; ++n) {
    SCOPED_TRACE("field " + std::to_string(n));
    const bool is_bottom = n % 2 == 1;
    Buffer in = random_buffer(picture, rng, false);
    GST_BUFFER_FLAG_SET(in.get(), is_bottom ? GST_VIDEO_BUFFER_FLAG_BOTTOM_FIELD : GST_VIDEO_BUFFER_FLAG_TOP_FIELD);
    FieldReference& ref = is_bottom ? bottom : top;
    Buffer want = ref.next(in.get(), false, params_for(1, iir2d::Border::Clamp), 1.0, fixed_alpha(0.5));
    Buffer wrong = any_parity.next(in.get(), false, params_for(1, iir2d::Border::Clamp), 1.0, fixed_alpha(0.5));
    Buffer out = push_pull(h.get(), in.get());
    ASSERT_TRUE(out);
    ASSERT_EQ(compare_frames(picture, out.get(), want.get()), "");
    if (n >= 1) differs = differs || compare_frames(picture, out.get(), wrong.get()) != "";
  }
  EXPECT_TRUE(differs);
}

/* Mixed: every buffer blends with the previous output at the same pixel,
 * whether it and the previous one are frames or field pairs (the state is
 * moved between the two layouts, element docs); the reference carries one
 * frame-shaped state and cuts the fields out of it. */
TEST(Iir2dFilterFieldTemporal, MixedCarriesTheStateAcrossFramesAndFields) {
  REQUIRE_ELEMENT();
  for (int height : {24, 26, 25}) {
    const std::string caps_str = interlaced_caps("I420", 22, height, "mixed");
    SCOPED_TRACE(caps_str);
    const GstVideoInfo info = video_info(caps_str);
    Harness h = field_harness(caps_str, 2, iir2d::Border::Mirror, true, 1.0);
    gst_util_set_object_arg(G_OBJECT(h->element), "temporal-mode", "fixed");
    g_object_set(h->element, "temporal-alpha", 0.5, nullptr);
    std::mt19937 rng(13);
    const bool flagged[] = {true, true, false, false, true, false};
    Buffer previous_out;
    for (std::size_t n = 0; n < G_N_ELEMENTS(flagged); ++n) {
      SCOPED_TRACE("buffer " + std::to_string(n));
      Buffer in = random_buffer(info, rng, false);
      if (flagged[n]) GST_BUFFER_FLAG_SET(in.get(), GST_VIDEO_BUFFER_FLAG_INTERLACED);
      /* Filtered alone (no memory), then blended with the previous output:
       * out = round(0.5 * o + 0.5 * p), p the previous output's code
       * before rounding, so allow the previous rounding: 1 code. */
      Buffer alone = FieldReference(info, true).next(in.get(), flagged[n], params_for(2, iir2d::Border::Mirror), 1.0);
      Buffer out = push_pull(h.get(), in.get());
      ASSERT_TRUE(out);
      if (n == 0) {
        ASSERT_EQ(compare_frames(info, out.get(), alone.get()), "");
      } else {
        /* Every sample lies halfway between the alone-filtered one and the
         * previous output (within 1 code of rounding). */
        GstVideoFrame fo, fa, fp;
        ASSERT_TRUE(gst_video_frame_map(&fo, &info, out.get(), GST_MAP_READ));
        ASSERT_TRUE(gst_video_frame_map(&fa, &info, alone.get(), GST_MAP_READ));
        ASSERT_TRUE(gst_video_frame_map(&fp, &info, previous_out.get(), GST_MAP_READ));
        int worst = 0;
        for (guint c = 0; c < 3; ++c) {
          const auto co = component<iir2d::ConstVideoComponent>(&fo, c);
          const auto ca = component<iir2d::ConstVideoComponent>(&fa, c);
          const auto cp = component<iir2d::ConstVideoComponent>(&fp, c);
          for (int y = 0; y < co.height; ++y)
            for (int x = 0; x < co.width; ++x) {
              const double want = 0.5 * iir2d::ref::read_code(ca, x, y) + 0.5 * iir2d::ref::read_code(cp, x, y);
              worst = std::max(worst, static_cast<int>(std::ceil(std::abs(iir2d::ref::read_code(co, x, y) - want) - 1e-9)));
            }
        }
        gst_video_frame_unmap(&fp);
        gst_video_frame_unmap(&fa);
        gst_video_frame_unmap(&fo);
        EXPECT_LE(worst, 1) << "not blended with the previous output at the same pixel";
      }
      previous_out = std::move(out);
    }
  }
}

/* field-mode may change while PLAYING: from the next buffer on, and the
 * temporal state restarts (the frame and field layouts of interleaved caps
 * are different pictures). */
TEST(Iir2dFilterFieldTemporal, FieldModeChangeAppliesNextBufferAndRestarts) {
  REQUIRE_ELEMENT();
  const std::string caps_str = interlaced_caps("NV12", 30, 22, "interleaved");
  const GstVideoInfo info = video_info(caps_str);
  Harness h = field_harness(caps_str, 1, iir2d::Border::Mirror, true, 1.0);
  gst_util_set_object_arg(G_OBJECT(h->element), "temporal-mode", "fixed");
  g_object_set(h->element, "temporal-alpha", 0.5, nullptr);
  std::mt19937 rng(15);
  const char* modes[] = {"auto", "auto", "progressive", "progressive", "auto"};
  FieldReference ref(info, true);
  for (std::size_t n = 0; n < G_N_ELEMENTS(modes); ++n) {
    SCOPED_TRACE(std::string("buffer ") + std::to_string(n) + " " + modes[n]);
    if (n > 0 && std::string(modes[n]) != modes[n - 1]) ref.reset();
    gst_util_set_object_arg(G_OBJECT(h->element), "field-mode", modes[n]);
    Buffer in = random_buffer(info, rng, false);
    Buffer want = ref.next(in.get(), std::string(modes[n]) == "auto", params_for(1, iir2d::Border::Mirror), 1.0,
                           fixed_alpha(0.5));
    Buffer out = push_pull(h.get(), in.get());
    ASSERT_TRUE(out);
    ASSERT_EQ(compare_frames(info, out.get(), want.get()), "");
  }
}

/* A DISCONT restarts both parities: the next top and bottom fields are
 * their own filtered images. */
TEST(Iir2dFilterFieldTemporal, DiscontRestartsBothParities) {
  REQUIRE_ELEMENT();
  const std::string caps_str = interlaced_caps("GRAY8", 20, 30, "alternate");
  const GstVideoInfo picture = video_info(caps_str);
  Harness h = field_harness(caps_str, 1, iir2d::Border::Clamp, false, 1.0);
  gst_util_set_object_arg(G_OBJECT(h->element), "temporal-mode", "fixed");
  g_object_set(h->element, "temporal-alpha", 0.5, nullptr);
  std::mt19937 rng(10);
  for (int n = 0; n < 4; ++n) {
    Buffer in = random_buffer(picture, rng, false);
    GST_BUFFER_FLAG_SET(in.get(), n % 2 ? GST_VIDEO_BUFFER_FLAG_BOTTOM_FIELD : GST_VIDEO_BUFFER_FLAG_TOP_FIELD);
    if (n == 2) GST_BUFFER_FLAG_SET(in.get(), GST_BUFFER_FLAG_DISCONT);
    Buffer out = push_pull(h.get(), in.get());
    ASSERT_TRUE(out);
    if (n >= 2) {
      Buffer alone = expected_output(picture, in.get(), params_for(1, iir2d::Border::Clamp), 1.0, false);
      EXPECT_EQ(compare_frames(picture, out.get(), alone.get()), "") << "field " << n << " after the DISCONT";
    }
  }
}

/* ======================================================================= */
/* CUDA memory (on a GPU)                                                  */

/* `frames` buffers through cudaupload ! iir2dfilter ! cudadownload, each
 * against the field-by-field expectation (contract section 6). */
void expect_cuda_fields(const char* format, int width, int height, const char* interlace,
                        const std::function<bool(int)>& flagged, bool temporal) {
  const std::string caps_str = interlaced_caps(format, width, height, interlace);
  SCOPED_TRACE(caps_str + (temporal ? " temporal" : ""));
  const GstVideoInfo info = video_info(caps_str);
  Harness h(new_harness("cudaupload ! iir2dfilter name=f filter-id=6 planes=all ! cudadownload"));
  ASSERT_TRUE(h);
  GstElement* f = gst_bin_get_by_name(GST_BIN(h->element), "f");
  ASSERT_TRUE(f);
  if (temporal) {
    gst_util_set_object_arg(G_OBJECT(f), "temporal-mode", "fixed");
    g_object_set(f, "temporal-alpha", 0.5, nullptr);
  }
  gst_object_unref(f);
  gst_harness_set_src_caps_str(h.get(), caps_str.c_str());
  gst_harness_set_sink_caps_str(h.get(), caps_str.c_str());
  FieldReference fields(info, true), frames(info, true);
  std::mt19937 rng(11);
  for (int n = 0; n < 4; ++n) {
    Buffer in = random_buffer(info, rng, false);
    const bool is_fields = flagged(n);
    if (is_fields && std::string(interlace) == "mixed") GST_BUFFER_FLAG_SET(in.get(), GST_VIDEO_BUFFER_FLAG_INTERLACED);
    const TemporalParams t = temporal ? fixed_alpha(0.5) : TemporalParams{};
    Buffer want = (is_fields ? fields : frames).next(in.get(), is_fields, params_for(6, iir2d::Border::Mirror), 1.0, t);
    Buffer out = push_pull(h.get(), in.get());
    ASSERT_TRUE(out) << "buffer " << n;
    EXPECT_EQ(compare_within_contract(info, out.get(), want.get()), "") << "buffer " << n;
  }
}

TEST(Iir2dFilterFieldsCuda, InterleavedFieldsOnTheGpu) {
  SKIP_WITHOUT_CUDA();
  for (const char* format : {"I420", "NV12", "P010_10LE", "RGBA"}) {
    for (int height : {64, 63}) {
      expect_cuda_fields(format, 48, height, "interleaved", [](int) { return true; }, false);
      expect_cuda_fields(format, 48, height, "interleaved", [](int) { return true; }, true);
    }
  }
}

TEST(Iir2dFilterFieldsCuda, MixedOnTheGpu) {
  SKIP_WITHOUT_CUDA();
  for (int height : {36, 35}) expect_cuda_fields("NV12", 40, height, "mixed", [](int n) { return n % 2 == 0; }, false);
}

/* Interlaced 4:2:0 of height 4k+2 in CUDA memory: the allocator lays out
 * h/2 chroma rows where the two fields need h/2 + 1, so the filter refuses
 * the caps with the reason (formats.h) instead of filtering a bottom field
 * one chroma row short. Before, 40x34 mixed differed from the CPU path. */
TEST(Iir2dFilterFieldsCuda, Interlaced420At4kPlus2IsRefusedWithTheReason) {
  SKIP_WITHOUT_CUDA();
  for (const char* mode : {"interleaved", "mixed"})
    for (const char* format : {"NV12", "I420"})
      expect_cuda_caps_refused(interlaced_caps(format, 40, 34, mode), "bottom field's last chroma row");
}

/* Mixed with temporal smoothing: the state moved between frame and field
 * layouts on the GPU (cudaMemcpy2DAsync) against the CPU element's
 * (host memcpy), within contract section 6. */
TEST(Iir2dFilterFieldsCuda, MixedTemporalOnTheGpuMatchesTheCpu) {
  SKIP_WITHOUT_CUDA();
  for (const char* format : {"I420", "NV12"})
    for (int height : {36, 35}) {
      const std::string caps_str = interlaced_caps(format, 40, height, "mixed");
      SCOPED_TRACE(caps_str);
      const GstVideoInfo info = video_info(caps_str);
      std::vector<Buffer> outs[2];
      const char* descriptions[2] = {"cudaupload ! iir2dfilter name=f ! cudadownload",
                                     "identity ! iir2dfilter name=f ! identity"};
      for (int path = 0; path < 2; ++path) {
        Harness h(new_harness(descriptions[path]));
        ASSERT_TRUE(h);
        GstElement* f = gst_bin_get_by_name(GST_BIN(h->element), "f");
        ASSERT_TRUE(f);
        g_object_set(f, "filter-id", 4u, "temporal-alpha", 0.5, nullptr);
        gst_util_set_object_arg(G_OBJECT(f), "temporal-mode", "adaptive");
        gst_util_set_object_arg(G_OBJECT(f), "planes", "all");
        gst_object_unref(f);
        gst_harness_set_src_caps_str(h.get(), caps_str.c_str());
        gst_harness_set_sink_caps_str(h.get(), caps_str.c_str());
        std::mt19937 rng(14);
        for (int n = 0; n < 6; ++n) {
          Buffer in = random_buffer(info, rng, false);
          if (n % 3 != 2) GST_BUFFER_FLAG_SET(in.get(), GST_VIDEO_BUFFER_FLAG_INTERLACED);
          outs[path].push_back(push_pull(h.get(), in.get()));
          ASSERT_TRUE(outs[path].back()) << "buffer " << n;
        }
      }
      for (std::size_t n = 0; n < outs[0].size(); ++n)
        EXPECT_EQ(compare_within_contract(info, outs[0][n].get(), outs[1][n].get()), "") << "buffer " << n;
    }
}

}  // namespace
