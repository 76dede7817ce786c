// SPDX-License-Identifier: MIT
/*
 * Tier 3, issue 11: what iir2dfilter leaves alone besides the samples.
 *
 *  - metas: a buffer carrying timecode, closed-caption, AFD, bar,
 *    region-of-interest and reference-timestamp metas (and a custom meta
 *    tagged "video") comes out with each of them, contents intact, when
 *    filtered on the CPU, in passthrough, on the CUDA path (skips without a
 *    GPU) and out of qualitymeter's src (the distorted stream it passes
 *    on); a custom meta tagged "colorspace" (not kept by the policy) is
 *    dropped when filtered, so the policy is not "copy everything";
 *  - HDR: caps with PQ/HLG colorimetry, mastering-display-info,
 *    content-light-level and chroma-site come out identical, and RGB
 *    planes=luma under bt2100-pq/-hlg uses the BT.2020 matrix (Kr 0.2627,
 *    Kb 0.0593, ITU-R BT.2020 table 4) on the code values.
 */
#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>

#include <mutex>
#include <tuple>

#include "iir2dfilter_support.h"

namespace {

const char kCaption[] = "\x94\x2c\x94\x20 iir2d";  // CEA-608 bytes, any payload will do

/* A custom meta with `tag` (GStreamer 1.20+: gst_meta_register_custom). */
const GstMetaInfo* custom_meta(const char* name, const char* tag) {
  static std::mutex lock;
  std::lock_guard<std::mutex> g(lock);
  if (const GstMetaInfo* info = gst_meta_get_info(name)) return info;
  const gchar* tags[] = {tag, nullptr};
  return gst_meta_register_custom(name, tags, nullptr, nullptr, nullptr);
}

/* Adds every meta of the test to `buf`. */
void add_metas(GstBuffer* buf) {
  GstVideoTimeCode* tc = gst_video_time_code_new(25, 1, nullptr, GST_VIDEO_TIME_CODE_FLAGS_NONE, 10, 20, 30, 12, 0);
  gst_buffer_add_video_time_code_meta(buf, tc);
  gst_video_time_code_free(tc);
  gst_buffer_add_video_caption_meta(buf, GST_VIDEO_CAPTION_TYPE_CEA608_RAW, reinterpret_cast<const guint8*>(kCaption),
                                    sizeof(kCaption) - 1);
  gst_buffer_add_video_afd_meta(buf, 0, GST_VIDEO_AFD_SPEC_SMPTE_ST2016_1, GST_VIDEO_AFD_16_9_TOP_ALIGNED);
  gst_buffer_add_video_bar_meta(buf, 0, TRUE, 12, 34);
  GstVideoRegionOfInterestMeta* roi = gst_buffer_add_video_region_of_interest_meta(buf, "face", 3, 4, 10, 8);
  roi->id = 7;
  gst_video_region_of_interest_meta_add_param(
      roi, gst_structure_new("detection", "confidence", G_TYPE_DOUBLE, 0.875, nullptr));
  GstCaps* ref = gst_caps_from_string("timestamp/x-ptp");
  gst_buffer_add_reference_timestamp_meta(buf, ref, 123456789, GST_SECOND / 25);
  gst_caps_unref(ref);
  GstCustomMeta* video_tagged = gst_buffer_add_custom_meta(buf, "Iir2dTestVideoMeta");
  gst_structure_set(gst_custom_meta_get_structure(video_tagged), "n", G_TYPE_INT, 42, nullptr);
  gst_buffer_add_custom_meta(buf, "Iir2dTestColorspaceMeta");
}

/* Every meta of add_metas() on `buf`, with its contents. */
void expect_metas(GstBuffer* buf, bool colorspace_kept, const char* where) {
  SCOPED_TRACE(where);
  ASSERT_TRUE(buf);
  GstVideoTimeCodeMeta* tc = gst_buffer_get_video_time_code_meta(buf);
  ASSERT_TRUE(tc) << "timecode meta dropped";
  gchar* tc_text = gst_video_time_code_to_string(&tc->tc);
  EXPECT_STREQ(tc_text, "10:20:30:12");
  g_free(tc_text);

  GstVideoCaptionMeta* cc = gst_buffer_get_video_caption_meta(buf);
  ASSERT_TRUE(cc) << "caption meta dropped";
  EXPECT_EQ(cc->caption_type, GST_VIDEO_CAPTION_TYPE_CEA608_RAW);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(cc->data), cc->size), std::string(kCaption));

  GstVideoAFDMeta* afd = gst_buffer_get_video_afd_meta(buf);
  ASSERT_TRUE(afd) << "AFD meta dropped";
  EXPECT_EQ(afd->spec, GST_VIDEO_AFD_SPEC_SMPTE_ST2016_1);
  EXPECT_EQ(afd->afd, GST_VIDEO_AFD_16_9_TOP_ALIGNED);

  GstVideoBarMeta* bar = gst_buffer_get_video_bar_meta(buf);
  ASSERT_TRUE(bar) << "bar meta dropped";
  EXPECT_TRUE(bar->is_letterbox);
  EXPECT_EQ(bar->bar_data1, 12u);
  EXPECT_EQ(bar->bar_data2, 34u);

  GstVideoRegionOfInterestMeta* roi = gst_buffer_get_video_region_of_interest_meta_id(buf, 7);
  ASSERT_TRUE(roi) << "region-of-interest meta dropped";
  EXPECT_EQ(roi->roi_type, g_quark_from_string("face"));
  EXPECT_EQ(roi->x, 3u);
  EXPECT_EQ(roi->y, 4u);
  EXPECT_EQ(roi->w, 10u);
  EXPECT_EQ(roi->h, 8u);
  GstStructure* det = gst_video_region_of_interest_meta_get_param(roi, "detection");
  double confidence = 0;
  EXPECT_TRUE(det && gst_structure_get_double(det, "confidence", &confidence));
  EXPECT_EQ(confidence, 0.875);

  GstCaps* ref = gst_caps_from_string("timestamp/x-ptp");
  GstReferenceTimestampMeta* ts = gst_buffer_get_reference_timestamp_meta(buf, ref);
  gst_caps_unref(ref);
  ASSERT_TRUE(ts) << "reference-timestamp meta dropped";
  EXPECT_EQ(ts->timestamp, 123456789u);
  EXPECT_EQ(ts->duration, GST_SECOND / 25);

  GstCustomMeta* video_tagged = gst_buffer_get_custom_meta(buf, "Iir2dTestVideoMeta");
  ASSERT_TRUE(video_tagged) << "a meta tagged only \"video\" was dropped";
  int n = 0;
  EXPECT_TRUE(gst_structure_get_int(gst_custom_meta_get_structure(video_tagged), "n", &n));
  EXPECT_EQ(n, 42);
  EXPECT_EQ(gst_buffer_get_custom_meta(buf, "Iir2dTestColorspaceMeta") != nullptr, colorspace_kept)
      << "the meta tagged \"colorspace\"";
}

class Iir2dFilterMeta : public ::testing::Test {
 protected:
  void SetUp() override {
    custom_meta("Iir2dTestVideoMeta", GST_META_TAG_VIDEO_STR);
    custom_meta("Iir2dTestColorspaceMeta", GST_META_TAG_VIDEO_COLORSPACE_STR);
  }
};

Buffer meta_buffer(const GstVideoInfo& info, std::mt19937& rng) {
  Buffer b = random_buffer(info, rng, false);
  add_metas(b.get());
  return b;
}

TEST_F(Iir2dFilterMeta, FilteredOnTheCpuKeepsEveryGeometryNeutralMeta) {
  REQUIRE_ELEMENT();
  for (const char* format : {"I420", "RGBA"}) {
    const std::string caps_str = caps_string(format, 32, 24);
    const GstVideoInfo info = video_info(caps_str);
    Harness h(new_harness());
    g_object_set(h->element, "filter-id", 6u, nullptr);
    gst_harness_set_src_caps_str(h.get(), caps_str.c_str());
    std::mt19937 rng(1);
    Buffer in = meta_buffer(info, rng);
    ASSERT_EQ(gst_harness_push(h.get(), gst_buffer_ref(in.get())), GST_FLOW_OK);
    Buffer out(gst_harness_pull(h.get()));
    ASSERT_NE(out.get(), in.get()) << "this case must filter, not pass through";
    EXPECT_NE(compare_frames(info, out.get(), in.get(), 0), "") << "the samples were not filtered";
    expect_metas(out.get(), false, format);
  }
}

TEST_F(Iir2dFilterMeta, PassthroughKeepsEveryMeta) {
  REQUIRE_ELEMENT();
  const std::string caps_str = caps_string("NV12", 32, 24);
  const GstVideoInfo info = video_info(caps_str);
  Harness h(new_harness());
  g_object_set(h->element, "strength", 0.0, nullptr);
  gst_harness_set_src_caps_str(h.get(), caps_str.c_str());
  std::mt19937 rng(2);
  Buffer in = meta_buffer(info, rng);
  ASSERT_EQ(gst_harness_push(h.get(), gst_buffer_ref(in.get())), GST_FLOW_OK);
  Buffer out(gst_harness_pull(h.get()));
  EXPECT_EQ(out.get(), in.get()) << "passthrough hands on the input buffer";
  expect_metas(out.get(), true, "passthrough");
}

/* Interlaced field filtering and temporal smoothing keep them too. */
TEST_F(Iir2dFilterMeta, InterlacedWithTemporalSmoothingKeepsThem) {
  REQUIRE_ELEMENT();
  const std::string caps_str = caps_string("I420", 32, 24) + ",interlace-mode=interleaved,field-order=top-field-first";
  const GstVideoInfo info = video_info(caps_str);
  Harness h(new_harness());
  gst_util_set_object_arg(G_OBJECT(h->element), "temporal-mode", "adaptive");
  gst_harness_set_src_caps_str(h.get(), caps_str.c_str());
  std::mt19937 rng(3);
  for (int n = 0; n < 3; ++n) {
    Buffer in = meta_buffer(info, rng);
    ASSERT_EQ(gst_harness_push(h.get(), gst_buffer_ref(in.get())), GST_FLOW_OK);
    Buffer out(gst_harness_pull(h.get()));
    expect_metas(out.get(), false, "interleaved, temporal");
  }
}

/* On CUDA memory: cudaupload and cudadownload copy the metas of their
 * input (GstBaseTransform's default keeps untagged ones only), so the
 * filter's own output is looked at, on its src pad. */
TEST_F(Iir2dFilterMeta, FilteredOnTheGpuKeepsThem) {
  SKIP_WITHOUT_CUDA();
  for (const char* strength : {"1.0", "0.0"}) {
    const std::string caps_str = caps_string("NV12", 64, 48);
    const GstVideoInfo info = video_info(caps_str);
    Harness h(new_harness(std::string("identity name=in ! cudaupload ! iir2dfilter name=f filter-id=6 strength=") +
                          strength + " ! cudadownload"));
    ASSERT_TRUE(h);
    GstElement* f = gst_bin_get_by_name(GST_BIN(h->element), "f");
    ASSERT_TRUE(f);
    GstPad* src = gst_element_get_static_pad(f, "src");
    GstPad* sink = gst_element_get_static_pad(f, "sink");
    struct Seen {
      std::vector<Buffer> in, out;
    } seen;
    auto keep = [](GstPad*, GstPadProbeInfo* pi, gpointer data) {
      static_cast<std::vector<Buffer>*>(data)->emplace_back(gst_buffer_ref(GST_PAD_PROBE_INFO_BUFFER(pi)));
      return GST_PAD_PROBE_OK;
    };
    gst_pad_add_probe(sink, GST_PAD_PROBE_TYPE_BUFFER, keep, &seen.in, nullptr);
    gst_pad_add_probe(src, GST_PAD_PROBE_TYPE_BUFFER, keep, &seen.out, nullptr);
    gst_harness_set_src_caps_str(h.get(), caps_str.c_str());
    gst_harness_set_sink_caps_str(h.get(), caps_str.c_str());
    std::mt19937 rng(4);
    Buffer in = meta_buffer(info, rng);
    ASSERT_EQ(gst_harness_push(h.get(), gst_buffer_ref(in.get())), GST_FLOW_OK);
    Buffer out(gst_harness_pull(h.get()));
    ASSERT_EQ(seen.out.size(), 1u);
    ASSERT_EQ(seen.in.size(), 1u);
    /* Whatever cudaupload kept reaches the filter; all of it leaves it. */
    GstBuffer* filter_in = seen.in[0].get();
    GstBuffer* filter_out = seen.out[0].get();
    gpointer state = nullptr;
    int metas_in = 0;
    while (GstMeta* m = gst_buffer_iterate_meta(filter_in, &state)) {
      if (m->info->api == GST_VIDEO_META_API_TYPE || gst_meta_info_is_custom(m->info)) continue;  // custom: below
      ++metas_in;
      EXPECT_TRUE(gst_buffer_get_meta(filter_out, m->info->api) != nullptr)
          << g_type_name(m->info->api) << " dropped by the filter on CUDA memory (strength " << strength << ")";
    }
    EXPECT_GT(metas_in, 0);
    if (gst_buffer_get_video_region_of_interest_meta(filter_in))
      expect_metas(filter_out, std::string(strength) == "0.0", "CUDA path, the filter's output");
    gst_object_unref(src);
    gst_object_unref(sink);
    gst_object_unref(f);
  }
}

/* qualitymeter passes the distorted stream on (its src): the metas of the
 * distorted buffers must survive it too (issue 11, 3). */
TEST_F(Iir2dFilterMeta, QualitymeterPassesTheDistortedMetasOn) {
  GstElementFactory* qm = gst_element_factory_find("qualitymeter");
  ASSERT_TRUE(qm) << "element qualitymeter not found: set GST_PLUGIN_PATH to <build>/gst";
  gst_object_unref(qm);
  const std::string caps_str = caps_string("GRAY8", 32, 24);
  const GstVideoInfo info = video_info(caps_str);
  GError* err = nullptr;
  GstElement* p = gst_parse_launch(("appsrc name=ref format=time caps=\"" + caps_str +
                                    "\" ! q.reference appsrc name=dist format=time caps=\"" + caps_str +
                                    "\" ! q.distorted qualitymeter name=q ! appsink name=out sync=false")
                                       .c_str(),
                                   &err);
  ASSERT_TRUE(p && !err) << (err ? err->message : "");
  GstElement* ref = gst_bin_get_by_name(GST_BIN(p), "ref");
  GstElement* dist = gst_bin_get_by_name(GST_BIN(p), "dist");
  GstElement* out = gst_bin_get_by_name(GST_BIN(p), "out");
  ASSERT_EQ(gst_element_set_state(p, GST_STATE_PLAYING) != GST_STATE_CHANGE_FAILURE, true);
  std::mt19937 rng(5);
  Buffer r = random_buffer(info, rng, false);
  Buffer d = meta_buffer(info, rng);
  GST_BUFFER_PTS(r.get()) = GST_BUFFER_PTS(d.get()) = 0;
  EXPECT_EQ(gst_app_src_push_buffer(GST_APP_SRC(ref), gst_buffer_ref(r.get())), GST_FLOW_OK);
  EXPECT_EQ(gst_app_src_push_buffer(GST_APP_SRC(dist), gst_buffer_ref(d.get())), GST_FLOW_OK);
  gst_app_src_end_of_stream(GST_APP_SRC(ref));
  gst_app_src_end_of_stream(GST_APP_SRC(dist));
  GstSample* s = gst_app_sink_try_pull_sample(GST_APP_SINK(out), 10 * GST_SECOND);
  ASSERT_TRUE(s) << "no buffer out of qualitymeter";
  expect_metas(gst_sample_get_buffer(s), true, "qualitymeter src");
  gst_sample_unref(s);
  gst_element_set_state(p, GST_STATE_NULL);
  gst_object_unref(ref);
  gst_object_unref(dist);
  gst_object_unref(out);
  gst_object_unref(p);
}

/* ======================================================================= */
/* HDR                                                                     */

const char kMastering[] = "35400:14600:8500:39850:6550:2300:15635:16450:10000000:50";
const char kLight[] = "1000:400";

std::string hdr_caps(const char* format, const char* colorimetry) {
  return caps_string(format, 40, 30) + ",colorimetry=" + colorimetry + ",chroma-site=mpeg2,mastering-display-info=(string)\"" +
         kMastering + "\",content-light-level=(string)\"" + kLight + "\"";
}

TEST(Iir2dFilterHdr, PqAndHlgCapsComeOutIdentical) {
  REQUIRE_ELEMENT();
  for (const char* colorimetry : {"bt2100-pq", "bt2100-hlg"})
    for (const char* strength : {"1.0", "0.0"}) {
      const std::string caps_str = hdr_caps("P010_10LE", colorimetry) + ",interlace-mode=interleaved,field-order=bottom-field-first";
      SCOPED_TRACE(caps_str + " strength " + strength);
      const GstVideoInfo info = video_info(caps_str);
      Harness h(new_harness());
      gst_util_set_object_arg(G_OBJECT(h->element), "strength", strength);
      gst_harness_set_src_caps_str(h.get(), caps_str.c_str());
      std::mt19937 rng(6);
      Buffer in = random_buffer(info, rng, false);
      ASSERT_EQ(gst_harness_push(h.get(), gst_buffer_ref(in.get())), GST_FLOW_OK);
      Buffer out(gst_harness_pull(h.get()));
      Caps sink_caps(gst_pad_get_current_caps(h->sinkpad));  // what the element's src pushed
      Caps want(gst_caps_from_string(caps_str.c_str()));
      ASSERT_TRUE(sink_caps);
      EXPECT_TRUE(gst_caps_is_equal(sink_caps.get(), want.get())) << gst_caps_to_string(sink_caps.get());
      const GstStructure* st = gst_caps_get_structure(sink_caps.get(), 0);
      EXPECT_STREQ(gst_structure_get_string(st, "mastering-display-info"), kMastering);
      EXPECT_STREQ(gst_structure_get_string(st, "content-light-level"), kLight);
      EXPECT_STREQ(gst_structure_get_string(st, "colorimetry"), colorimetry);
    }
}

/* PQ and HLG are filtered on their code values (no linearisation): the
 * luma of P010 equals refcpu on the codes, as for SDR. RGB with
 * planes=luma takes Y' of the BT.2020 matrix the colorimetry names. */
TEST(Iir2dFilterHdr, CodeValuesAndTheBt2020LumaMatrix) {
  REQUIRE_ELEMENT();
  iir2d::FilterParams p;
  p.filter_id = 6;
  {
    const std::string caps_str = hdr_caps("P010_10LE", "bt2100-pq");
    const GstVideoInfo info = video_info(caps_str);
    Harness h(new_harness());
    g_object_set(h->element, "filter-id", 6u, nullptr);
    gst_harness_set_src_caps_str(h.get(), caps_str.c_str());
    std::mt19937 rng(7);
    Buffer in = random_buffer(info, rng, false);
    ASSERT_EQ(gst_harness_push(h.get(), gst_buffer_ref(in.get())), GST_FLOW_OK);
    Buffer out(gst_harness_pull(h.get()));
    Buffer want = expected_output(info, in.get(), p, 1.0, false);
    EXPECT_EQ(compare_frames(info, out.get(), want.get()), "");
  }
  const iir2d::LumaWeights bt2020{0.2627, 0.0593};  // ITU-R BT.2020, table 4
  for (const char* colorimetry : {"bt2100-pq", "bt2100-hlg", "bt2020"}) {
    const std::string caps_str = hdr_caps("RGBA", colorimetry);
    SCOPED_TRACE(caps_str);
    const GstVideoInfo info = video_info(caps_str);
    Harness h(new_harness());
    g_object_set(h->element, "filter-id", 6u, nullptr);
    gst_harness_set_src_caps_str(h.get(), caps_str.c_str());
    std::mt19937 rng(8);
    Buffer in = random_buffer(info, rng, false);
    ASSERT_EQ(gst_harness_push(h.get(), gst_buffer_ref(in.get())), GST_FLOW_OK);
    Buffer out(gst_harness_pull(h.get()));
    Buffer want = expected_output(info, in.get(), p, 1.0, false, bt2020);
    EXPECT_EQ(compare_frames(info, out.get(), want.get()), "");
    Buffer bt709 = expected_output(info, in.get(), p, 1.0, false, iir2d::kLumaBt709);
    EXPECT_NE(compare_frames(info, out.get(), bt709.get()), "") << "BT.709 weights would give the same frame";
  }
}

/* Support functions this file does not need. */
[[maybe_unused]] const auto kUnused = std::make_tuple(&compare_within_contract, &expect_unfiltered_parts_unchanged);

}  // namespace
