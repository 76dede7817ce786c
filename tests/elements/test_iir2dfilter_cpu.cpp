// SPDX-License-Identifier: MIT
// Tier 3: iir2dfilter's CPU path in system memory (issue 14): the n-threads
// property (range, default, change while PLAYING), the fast path against
// refcpu at 1, 2 and 7 threads (and bit-identical between them), and
// IIR2D_CPU_PATH=reference selecting the CPU reference, as the log says.
#include <gst/gst.h>
#include <gst/video/video.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include "iir2dfilter_support.h"

namespace {

/* INFO messages of the iir2dfilter category while alive. */
class LogCapture {
 public:
  LogCapture() {
    gst_debug_set_threshold_for_name("iir2dfilter", GST_LEVEL_INFO);
    gst_debug_add_log_function(&LogCapture::log, this, nullptr);
  }
  ~LogCapture() {
    gst_debug_remove_log_function_by_data(this);
    gst_debug_set_threshold_for_name("iir2dfilter", GST_LEVEL_WARNING);
  }
  std::string text() {
    std::lock_guard<std::mutex> lock(m_);
    return text_;
  }

 private:
  static void log(GstDebugCategory* cat, GstDebugLevel, const gchar*, const gchar*, gint, GObject*,
                  GstDebugMessage* message, gpointer data) {
    auto* self = static_cast<LogCapture*>(data);
    if (std::string(gst_debug_category_get_name(cat)) != "iir2dfilter") return;
    std::lock_guard<std::mutex> lock(self->m_);
    self->text_ += gst_debug_message_get(message);
    self->text_ += "\n";
  }
  std::mutex m_;
  std::string text_;
};

TEST(Iir2dFilterCpu, NThreadsProperty) {
  REQUIRE_ELEMENT();
  GstElement* e = gst_element_factory_make("iir2dfilter", nullptr);
  ASSERT_NE(e, nullptr);
  GParamSpec* spec = g_object_class_find_property(G_OBJECT_GET_CLASS(e), "n-threads");
  ASSERT_NE(spec, nullptr) << "iir2dfilter has no n-threads property";
  ASSERT_EQ(G_PARAM_SPEC_VALUE_TYPE(spec), G_TYPE_UINT);
  EXPECT_EQ(G_PARAM_SPEC_UINT(spec)->minimum, 0u);
  EXPECT_EQ(G_PARAM_SPEC_UINT(spec)->default_value, 0u);
  EXPECT_TRUE(spec->flags & GST_PARAM_MUTABLE_PLAYING);
  g_object_set(e, "n-threads", 3u, nullptr);
  guint n = 0;
  g_object_get(e, "n-threads", &n, nullptr);
  EXPECT_EQ(n, 3u);
  gst_object_unref(e);
}

/* One frame through the element at 1, 2 and 7 threads (changed while
 * PLAYING): within the contract of refcpu, and the same bits each time. */
TEST(Iir2dFilterCpu, FastPathAtEveryThreadCount) {
  REQUIRE_ELEMENT();
  LogCapture log;
  for (const char* format : {"I420", "P010_10LE", "RGBA"}) {
    SCOPED_TRACE(format);
    const std::string caps_str = caps_string(format, 321, 179);
    const GstVideoInfo info = video_info(caps_str);
    Harness h(new_harness());
    g_object_set(h->element, "filter-id", 6u, "planes", 1 /* all */, "strength", 0.8, nullptr);
    gst_harness_set_src_caps_str(h.get(), caps_str.c_str());
    std::mt19937 rng(7);
    Buffer in = random_buffer(info, rng, true);
    iir2d::FilterParams p;
    p.filter_id = 6;
    Buffer want = expected_output(info, in.get(), p, 0.8, true);
    std::vector<Buffer> outs;
    for (guint threads : {1u, 2u, 7u}) {
      g_object_set(h->element, "n-threads", threads, nullptr);
      ASSERT_EQ(gst_harness_push(h.get(), gst_buffer_ref(in.get())), GST_FLOW_OK);
      outs.emplace_back(gst_harness_pull(h.get()));
      ASSERT_TRUE(outs.back());
      EXPECT_EQ(compare_within_contract(info, outs.back().get(), want.get()), "") << threads << " threads";
    }
    EXPECT_EQ(compare_frames(info, outs[1].get(), outs[0].get()), "") << "2 threads vs 1";
    EXPECT_EQ(compare_frames(info, outs[2].get(), outs[0].get()), "") << "7 threads vs 1";
  }
  const std::string text = log.text();
  for (const char* n : {"the fast CPU path, 1 threads", "the fast CPU path, 2 threads", "the fast CPU path, 7 threads"})
    EXPECT_NE(text.find(n), std::string::npos) << "log lacks '" << n << "':\n" << text;
}

/* IIR2D_CPU_PATH=reference: the CPU reference runs (bit-exact to refcpu)
 * and the log says so; no fast-path engine is made. */
TEST(Iir2dFilterCpu, EnvironmentSelectsTheReference) {
  REQUIRE_ELEMENT();
  LogCapture log;
  g_setenv("IIR2D_CPU_PATH", "reference", TRUE);
  {
    const std::string caps_str = caps_string("I420", 64, 48);
    const GstVideoInfo info = video_info(caps_str);
    Harness h(new_harness());
    gst_harness_set_src_caps_str(h.get(), caps_str.c_str());
    std::mt19937 rng(8);
    Buffer in = random_buffer(info, rng, false);
    iir2d::FilterParams p;
    Buffer want = expected_output(info, in.get(), p, 1.0, false);
    ASSERT_EQ(gst_harness_push(h.get(), gst_buffer_ref(in.get())), GST_FLOW_OK);
    Buffer out(gst_harness_pull(h.get()));
    ASSERT_TRUE(out);
    EXPECT_EQ(compare_frames(info, out.get(), want.get()), "");
  }
  g_unsetenv("IIR2D_CPU_PATH");
  const std::string text = log.text();
  EXPECT_NE(text.find("the CPU reference (IIR2D_CPU_PATH=reference)"), std::string::npos) << text;
  EXPECT_EQ(text.find("the fast CPU path"), std::string::npos) << text;
}

}  // namespace
