// SPDX-License-Identifier: MIT
/*
 * What the iir2dfilter element suites share (tier 3): harnesses around the
 * element (sharing one CUDA context), caps and buffers of random codes, the
 * test's own frame -> component mapping, refcpu expectations, frame
 * comparisons (exact, and within contract section 6), property sets.
 *
 * Included by exactly one file of each test executable (it registers the
 * gst_init environment and holds the shared CUDA context).
 */
#pragma once

#include <gst/base/gstbasetransform.h>
#include <gst/check/gstharness.h>
#include <gst/gst.h>
#include <gst/video/video.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "iir2d/filters.h"
#include "iir2d/frame.h"
#include "iir2d/frame_ops.h"
#include "iir2d/refcpu.h"

namespace {


/* gst_init once per process, before any test. */
class GstEnvironment : public ::testing::Environment {
 public:
  void SetUp() override { gst_init(nullptr, nullptr); }
};
::testing::Environment* const kGstEnvironment = ::testing::AddGlobalTestEnvironment(new GstEnvironment);

bool element_available() {
  GstElementFactory* f = gst_element_factory_find("iir2dfilter");
  if (!f) return false;
  gst_object_unref(f);
  return true;
}

/* Our own element: a test that cannot find it fails (it never skips). */
#define REQUIRE_ELEMENT()                                                                                 \
  do {                                                                                                    \
    if (!element_available())                                                                             \
      FAIL() << "element iir2dfilter not found: build the plugin and set GST_PLUGIN_PATH to "             \
                "<build>/gst (meson test does)";                                                          \
  } while (0)

struct HarnessDeleter {
  void operator()(GstHarness* h) const { gst_harness_teardown(h); }
};
using Harness = std::unique_ptr<GstHarness, HarnessDeleter>;

struct BufferDeleter {
  void operator()(GstBuffer* b) const { gst_buffer_unref(b); }
};
using Buffer = std::unique_ptr<GstBuffer, BufferDeleter>;

struct CapsDeleter {
  void operator()(GstCaps* c) const { gst_caps_unref(c); }
};
using Caps = std::unique_ptr<GstCaps, CapsDeleter>;

/* A harness around a fresh iir2dfilter. On a CUDA build with a driver the
 * element opens a CUDA context in start(); the first one is kept (from its
 * have-context message) and handed to every later element, as a pipeline
 * would, so the suite does not create hundreds of CUDA contexts. Without
 * CUDA no such message comes and this is a plain gst_harness_new(). */
GstContext* g_cuda_context = nullptr;

/* `description` is empty for a lone iir2dfilter, else a gst-launch bin
 * description whose unlinked pads become the harness's "sink" and "src". */
GstHarness* new_harness(const std::string& description = "") {
  GstElement* e = nullptr;
  if (description.empty()) {
    e = gst_element_factory_make("iir2dfilter", nullptr);
  } else {
    GError* err = nullptr;
    e = gst_parse_bin_from_description(description.c_str(), TRUE, &err);
    if (err) {
      ADD_FAILURE() << description << ": " << err->message;
      g_error_free(err);
    }
  }
  if (!e) return nullptr;
  gst_object_ref_sink(e);
  if (g_cuda_context) gst_element_set_context(e, g_cuda_context);  // a bin hands it to its children
  GstBus* bus = nullptr;
  if (!g_cuda_context) {
    bus = gst_bus_new();
    gst_element_set_bus(e, bus);
  }
  GstHarness* h = gst_harness_new_with_element(e, "sink", "src");
  if (bus) {
    while (GstMessage* m = gst_bus_pop_filtered(bus, GST_MESSAGE_HAVE_CONTEXT)) {
      GstContext* ctx = nullptr;
      gst_message_parse_have_context(m, &ctx);
      if (ctx && !g_cuda_context && std::string(gst_context_get_context_type(ctx)) == "gst.cuda.context")
        g_cuda_context = gst_context_ref(ctx);
      if (ctx) gst_context_unref(ctx);
      gst_message_unref(m);
    }
    gst_element_set_bus(e, nullptr);
    gst_object_unref(bus);
  }
  gst_object_unref(e);
  return h;
}

std::string caps_string(const std::string& format, int width, int height) {
  std::ostringstream s;
  s << "video/x-raw,format=" << format << ",width=" << width << ",height=" << height
    << ",framerate=30/1,pixel-aspect-ratio=1/1";
  return s.str();
}

GstVideoInfo video_info(const std::string& caps_str) {
  Caps caps(gst_caps_from_string(caps_str.c_str()));
  GstVideoInfo info;
  EXPECT_TRUE(caps && gst_video_info_from_caps(&info, caps.get())) << caps_str;
  return info;
}

/* ---- the test's own frame → component mapping (contract section 5) ---- */

template <typename Component>
Component component(const GstVideoFrame* f, guint c) {
  const GstVideoFormatInfo* fi = f->info.finfo;
  Component comp;
  comp.data = GST_VIDEO_FRAME_COMP_DATA(f, c);
  comp.width = GST_VIDEO_FRAME_COMP_WIDTH(f, c);
  comp.height = GST_VIDEO_FRAME_COMP_HEIGHT(f, c);
  comp.row_stride = GST_VIDEO_FRAME_COMP_STRIDE(f, c);
  comp.pixel_stride = GST_VIDEO_FRAME_COMP_PSTRIDE(f, c);
  comp.type = GST_VIDEO_FORMAT_INFO_BITS(fi) > 8 ? iir2d::SampleType::U16 : iir2d::SampleType::U8;
  comp.depth = GST_VIDEO_FORMAT_INFO_DEPTH(fi, c);
  comp.shift = GST_VIDEO_FORMAT_INFO_SHIFT(fi, c);
  return comp;
}

bool filtered_component(const GstVideoInfo& info, guint c, bool all_planes) {
  if (GST_VIDEO_INFO_HAS_ALPHA(&info) && c == GST_VIDEO_COMP_A) return false;
  return c == 0 || all_planes;
}

/* A buffer of random code values. With `padded`, the planes get wider
 * strides than the default layout, described by a GstVideoMeta, and the
 * padding holds junk. */
Buffer random_buffer(const GstVideoInfo& info, std::mt19937& rng, bool padded) {
  GstVideoInfo layout = info;
  if (padded) {
    GstVideoAlignment align;
    gst_video_alignment_reset(&align);
    align.padding_right = 5;
    align.padding_bottom = 1;
    for (guint i = 0; i < GST_VIDEO_MAX_PLANES; ++i) align.stride_align[i] = 15;
    EXPECT_TRUE(gst_video_info_align(&layout, &align));
  }
  GstBuffer* buf = gst_buffer_new_allocate(nullptr, GST_VIDEO_INFO_SIZE(&layout), nullptr);
  {
    GstMapInfo map;
    gst_buffer_map(buf, &map, GST_MAP_WRITE);
    for (gsize i = 0; i < map.size; ++i) map.data[i] = static_cast<guint8>(rng());
    gst_buffer_unmap(buf, &map);
  }
  if (padded)
    gst_buffer_add_video_meta_full(buf, GST_VIDEO_FRAME_FLAG_NONE, GST_VIDEO_INFO_FORMAT(&layout),
                                   GST_VIDEO_INFO_WIDTH(&layout), GST_VIDEO_INFO_HEIGHT(&layout),
                                   GST_VIDEO_INFO_N_PLANES(&layout), layout.offset, layout.stride);
  GstVideoFrame frame;
  EXPECT_TRUE(gst_video_frame_map(&frame, &info, buf, GST_MAP_WRITE));
  for (guint c = 0; c < GST_VIDEO_FRAME_N_COMPONENTS(&frame); ++c) {
    const auto comp = component<iir2d::VideoComponent>(&frame, c);
    std::uniform_int_distribution<unsigned> code(0, (1u << comp.depth) - 1);
    for (int y = 0; y < comp.height; ++y)
      for (int x = 0; x < comp.width; ++x) iir2d::ref::write_code(comp, x, y, code(rng));
  }
  gst_video_frame_unmap(&frame);
  GST_BUFFER_PTS(buf) = 0;
  GST_BUFFER_DURATION(buf) = GST_SECOND / 30;
  return Buffer(buf);
}

/* Expected output: refcpu on each component of `in` (default layout); RGB
 * with planes=luma through refcpu's luma route with `weights` (BT.709 unless
 * the caps say otherwise). No temporal smoothing. */
Buffer expected_output(const GstVideoInfo& info, GstBuffer* in, const iir2d::FilterParams& params,
                       double strength, bool all_planes, const iir2d::LumaWeights& weights = iir2d::kLumaBt709) {
  GstBuffer* out = gst_buffer_new_allocate(nullptr, GST_VIDEO_INFO_SIZE(&info), nullptr);
  GstVideoFrame fi, fo;
  EXPECT_TRUE(gst_video_frame_map(&fi, &info, in, GST_MAP_READ));
  EXPECT_TRUE(gst_video_frame_map(&fo, &info, out, GST_MAP_WRITE));
  const bool rgb_luma = GST_VIDEO_INFO_IS_RGB(&info) && !all_planes;
  if (rgb_luma) {
    iir2d::ConstVideoComponent ci[3];
    iir2d::VideoComponent co[3];
    for (guint c = 0; c < 3; ++c) {
      ci[c] = component<iir2d::ConstVideoComponent>(&fi, c);
      co[c] = component<iir2d::VideoComponent>(&fo, c);
    }
    iir2d::ref::filter_rgb_luma(ci, co, weights, params, strength, iir2d::TemporalParams{}, nullptr, false);
  }
  for (guint c = rgb_luma ? 3 : 0; c < GST_VIDEO_FRAME_N_COMPONENTS(&fi); ++c) {
    const auto ci = component<iir2d::ConstVideoComponent>(&fi, c);
    const auto co = component<iir2d::VideoComponent>(&fo, c);
    if (filtered_component(info, c, all_planes))
      iir2d::ref::filter_video_component(ci, co, params, strength);
    else
      iir2d::ref::copy_video_component(ci, co);
  }
  gst_video_frame_unmap(&fo);
  gst_video_frame_unmap(&fi);
  return Buffer(out);
}

/* The padding byte of 4-byte packed RGB (the x of RGBx/BGRx): its offset in
 * the pixel, or -1 when the format has none. */
int padding_offset(const GstVideoInfo& info) {
  const GstVideoFormatInfo* fi = info.finfo;
  if (GST_VIDEO_INFO_N_PLANES(&info) != 1 || GST_VIDEO_INFO_N_COMPONENTS(&info) != 3 ||
      GST_VIDEO_FORMAT_INFO_PSTRIDE(fi, 0) != 4)
    return -1;
  int used = 0;
  for (guint c = 0; c < 3; ++c) used |= 1 << GST_VIDEO_FORMAT_INFO_POFFSET(fi, c);
  for (int b = 0; b < 4; ++b)
    if (!(used & (1 << b))) return b;
  return -1;
}

/* Whether the padding bytes of `got` equal those of `in` (true without padding). */
bool padding_unchanged(const GstVideoInfo& info, GstBuffer* got, GstBuffer* in) {
  const int pad = padding_offset(info);
  if (pad < 0) return true;
  GstVideoFrame fg, fi;
  if (!gst_video_frame_map(&fg, &info, got, GST_MAP_READ)) return false;
  if (!gst_video_frame_map(&fi, &info, in, GST_MAP_READ)) {
    gst_video_frame_unmap(&fg);
    return false;
  }
  bool same = true;
  for (int y = 0; y < info.height && same; ++y) {
    const auto* a = static_cast<const guint8*>(GST_VIDEO_FRAME_PLANE_DATA(&fg, 0)) + y * GST_VIDEO_FRAME_PLANE_STRIDE(&fg, 0);
    const auto* b = static_cast<const guint8*>(GST_VIDEO_FRAME_PLANE_DATA(&fi, 0)) + y * GST_VIDEO_FRAME_PLANE_STRIDE(&fi, 0);
    for (int x = 0; x < info.width; ++x) same = same && a[4 * x + pad] == b[4 * x + pad];
  }
  gst_video_frame_unmap(&fi);
  gst_video_frame_unmap(&fg);
  return same;
}

std::string compare_frames(const GstVideoInfo& info, GstBuffer* got, GstBuffer* want, int only = -1);

/* What the element never filters is the input, bit for bit: the chroma of
 * YUV with planes=luma, alpha, and the padding byte of RGBx/BGRx. */
[[maybe_unused]] void expect_unfiltered_parts_unchanged(const GstVideoInfo& info, GstBuffer* out, GstBuffer* in,
                                                        bool all_planes) {
  for (guint c = 1; c < GST_VIDEO_INFO_N_COMPONENTS(&info); ++c) {
    const bool alpha = GST_VIDEO_INFO_HAS_ALPHA(&info) && c == GST_VIDEO_COMP_A;
    const bool chroma_kept = !all_planes && !GST_VIDEO_INFO_IS_RGB(&info);
    if (alpha || chroma_kept) {
      EXPECT_EQ(compare_frames(info, out, in, static_cast<int>(c)), "") << "component " << c;
    }
  }
  EXPECT_TRUE(padding_unchanged(info, out, in)) << "padding bytes changed";
}

/* How the codes of one component of two buffers differ. */
struct CodeDiff {
  long samples = 0, differ = 0;
  unsigned max = 0;
  int x = -1, y = -1;              // the first difference
  unsigned got = 0, want = 0;      // its codes
};

/* Code-by-code differences of every component of two buffers (default
 * layout of `info`); empty when a buffer cannot be mapped. */
std::vector<CodeDiff> diff_codes(const GstVideoInfo& info, GstBuffer* got, GstBuffer* want) {
  std::vector<CodeDiff> diffs;
  GstVideoFrame fg, fw;
  if (!gst_video_frame_map(&fg, &info, got, GST_MAP_READ)) return diffs;
  if (!gst_video_frame_map(&fw, &info, want, GST_MAP_READ)) {
    gst_video_frame_unmap(&fg);
    return diffs;
  }
  for (guint c = 0; c < GST_VIDEO_FRAME_N_COMPONENTS(&fg); ++c) {
    const auto cg = component<iir2d::ConstVideoComponent>(&fg, c);
    const auto cw = component<iir2d::ConstVideoComponent>(&fw, c);
    CodeDiff d;
    for (int y = 0; y < cg.height; ++y)
      for (int x = 0; x < cg.width; ++x, ++d.samples) {
        const unsigned a = iir2d::ref::read_code(cg, x, y), b = iir2d::ref::read_code(cw, x, y);
        if (a == b) continue;
        if (d.differ++ == 0) {
          d.x = x;
          d.y = y;
          d.got = a;
          d.want = b;
        }
        d.max = std::max(d.max, a > b ? a - b : b - a);
      }
    diffs.push_back(d);
  }
  gst_video_frame_unmap(&fw);
  gst_video_frame_unmap(&fg);
  return diffs;
}

/* Compares component `only` (all components if < 0) of two buffers code by
 * code; returns a description of the first mismatch, empty if equal. */
std::string compare_frames(const GstVideoInfo& info, GstBuffer* got, GstBuffer* want, int only) {
  const std::vector<CodeDiff> diffs = diff_codes(info, got, want);
  if (diffs.empty()) return "cannot map the buffers";
  std::ostringstream msg;
  for (std::size_t c = 0; c < diffs.size(); ++c) {
    const CodeDiff& d = diffs[c];
    if ((only >= 0 && c != static_cast<std::size_t>(only)) || d.differ == 0) continue;
    msg << "component " << c << " (" << d.x << "," << d.y << "): got " << d.got << ", want " << d.want << "; "
        << d.differ << " mismatching samples in component " << c << ". ";
  }
  return msg.str();
}

/* ---- element properties ----------------------------------------------- */

struct Combo {
  const char* name;
  guint filter_id;
  const char* border;
  double border_constant;
  const char* border_init;
  const char* precision;
  double strength;
  const char* planes;
};

[[maybe_unused]] iir2d::FilterParams params_of(const Combo& k) {
  iir2d::FilterParams p;
  p.filter_id = static_cast<int>(k.filter_id);
  const std::string b = k.border, i = k.border_init, q = k.precision;
  p.border = b == "clamp" ? iir2d::Border::Clamp
             : b == "mirror" ? iir2d::Border::Mirror
             : b == "wrap" ? iir2d::Border::Wrap
                           : iir2d::Border::Constant;
  p.border_constant = k.border_constant;
  p.border_init = i == "iir2d" ? iir2d::BorderInit::Iir2d : iir2d::BorderInit::Exact;
  p.precision = q == "f64" ? iir2d::Precision::F64 : q == "mixed" ? iir2d::Precision::Mixed : iir2d::Precision::F32;
  return p;
}

[[maybe_unused]] void apply(GstElement* e, const Combo& k) {
  g_object_set(e, "filter-id", k.filter_id, "border-constant", k.border_constant, "strength", k.strength, nullptr);
  gst_util_set_object_arg(G_OBJECT(e), "border", k.border);
  gst_util_set_object_arg(G_OBJECT(e), "border-init", k.border_init);
  gst_util_set_object_arg(G_OBJECT(e), "precision", k.precision);
  gst_util_set_object_arg(G_OBJECT(e), "planes", k.planes);
}

[[maybe_unused]] bool all_planes(const Combo& k) { return std::string(k.planes) == "all"; }

[[maybe_unused]] std::string enum_nick(GObject* o, const char* prop) {
  GValue v = G_VALUE_INIT;
  GParamSpec* ps = g_object_class_find_property(G_OBJECT_GET_CLASS(o), prop);
  g_value_init(&v, ps->value_type);
  g_object_get_property(o, prop, &v);
  GEnumValue* ev = g_enum_get_value(G_ENUM_CLASS(g_type_class_peek(ps->value_type)), g_value_get_enum(&v));
  g_value_unset(&v);
  return ev ? ev->value_nick : "<invalid>";
}

/* ======================================================================= */
/* CUDA path: cudaupload ! iir2dfilter ! cudadownload, against refcpu      */

[[maybe_unused]] bool have_factory(const char* name) {
  GstElementFactory* f = gst_element_factory_find(name);
  if (f) gst_object_unref(f);
  return f != nullptr;
}

/* Whether this build of the element accepts CUDA memory. */
[[maybe_unused]] bool element_has_cuda_caps() {
  GstElement* e = gst_element_factory_make("iir2dfilter", nullptr);
  if (!e) return false;
  gst_object_ref_sink(e);
  Caps tcaps(gst_pad_template_get_caps(gst_element_get_pad_template(e, "sink")));
  Caps cuda(gst_caps_from_string("video/x-raw(memory:CUDAMemory),format=NV12,width=16,height=16"));
  const bool yes = gst_caps_can_intersect(tcaps.get(), cuda.get());
  gst_object_unref(e);
  return yes;
}

/* Contract section 6 for integer video: at most 1 code from refcpu and
 * identical for at least 99.9 % of the samples. Returns "" when within. */
std::string compare_within_contract(const GstVideoInfo& info, GstBuffer* got, GstBuffer* want) {
  const std::vector<CodeDiff> diffs = diff_codes(info, got, want);
  if (diffs.empty()) return "cannot map the buffers";
  std::ostringstream msg;
  for (std::size_t c = 0; c < diffs.size(); ++c) {
    const CodeDiff& d = diffs[c];
    if (d.max > 1 || d.differ > d.samples / 1000)
      msg << "component " << c << ": max difference " << d.max << " codes, " << d.differ << " of " << d.samples
          << " samples differ. ";
  }
  return msg.str();
}

/* Caps that the running GStreamer's CUDA memory cannot carry (NV21 of odd
 * height on 1.26, interlaced 4:2:0 of height 4k+2: formats.h,
 * cuda_caps_limitation) fail negotiation at the filter, with a warning whose
 * debug text contains `reason`, before any frame is copied. */
[[maybe_unused]] void expect_cuda_caps_refused(const std::string& caps_str, const char* reason) {
  SCOPED_TRACE(caps_str);
  Harness h(new_harness("cudaupload ! iir2dfilter name=f ! cudadownload"));
  ASSERT_TRUE(h);
  GstBus* bus = gst_bus_new();
  gst_element_set_bus(h->element, bus);
  gst_harness_set_src_caps_str(h.get(), caps_str.c_str());
  const GstVideoInfo info = video_info(caps_str);
  GstBuffer* buf = gst_buffer_new_allocate(nullptr, GST_VIDEO_INFO_SIZE(&info), nullptr);
  gst_buffer_memset(buf, 0, 0x80, GST_VIDEO_INFO_SIZE(&info));
  /* Not negotiated, or (1.26.2, seen on the device) cudaupload turning our
   * refusal into a flow error: either way nothing is filtered, and ours says why. */
  const GstFlowReturn ret = gst_harness_push(h.get(), buf);
  EXPECT_TRUE(ret == GST_FLOW_NOT_NEGOTIATED || ret == GST_FLOW_ERROR) << gst_flow_get_name(ret);
  GstMessage* msg = gst_bus_pop_filtered(bus, GST_MESSAGE_WARNING);
  ASSERT_TRUE(msg) << "the refusal must say why";
  GError* err = nullptr;
  gchar* debug = nullptr;
  gst_message_parse_warning(msg, &err, &debug);
  EXPECT_NE(std::string(debug ? debug : "").find(reason), std::string::npos) << debug;
  g_clear_error(&err);
  g_free(debug);
  gst_message_unref(msg);
  gst_element_set_bus(h->element, nullptr);
  gst_object_unref(bus);
}

}  // namespace

/* The GPU cases skip, with the reason, where the element offers no CUDA caps
 * (a build without CUDA, or no libcuda: formats.h) or nothing can carry
 * frames into CUDA memory. */
#define SKIP_WITHOUT_CUDA()                                                                                   \
  do {                                                                                                        \
    REQUIRE_ELEMENT();                                                                                        \
    if (!element_has_cuda_caps())                                                                             \
      GTEST_SKIP() << "iir2dfilter offers no CUDA caps (built without CUDA, or libcuda not found)";          \
    if (!have_factory("cudaupload") || !have_factory("cudadownload"))                                         \
      GTEST_SKIP() << "cudaupload/cudadownload are not registered (no NVIDIA driver, or no nvcodec plugin)"; \
  } while (0)
