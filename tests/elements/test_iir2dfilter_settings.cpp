// SPDX-License-Identifier: MIT
/*
 * iir2dfilter's property checks across properties (issue 12): an
 * inconsistent temporal-alpha-min / temporal-alpha-max pair is refused with
 * a warning that names both values, and the old value stays.
 */
// The shared element helpers (gst_init, REQUIRE_ELEMENT); this suite needs
// only a few of them.
#pragma GCC diagnostic ignored "-Wunused-function"
#include "iir2dfilter_support.h"

namespace {

/* Collects the plugin's own GLib warnings (default log domain) while alive. */
class WarningLog {
 public:
  WarningLog() { id_ = g_log_set_handler(nullptr, G_LOG_LEVEL_WARNING, &WarningLog::handler, this); }
  ~WarningLog() { g_log_remove_handler(nullptr, id_); }
  const std::vector<std::string>& texts() const { return texts_; }

 private:
  static void handler(const gchar*, GLogLevelFlags, const gchar* message, gpointer self) {
    static_cast<WarningLog*>(self)->texts_.emplace_back(message ? message : "");
  }
  guint id_ = 0;
  std::vector<std::string> texts_;
};

struct ElementDeleter {
  void operator()(GstElement* e) const { gst_object_unref(e); }
};
using Element = std::unique_ptr<GstElement, ElementDeleter>;

Element new_filter() {
  GstElement* e = gst_element_factory_make("iir2dfilter", nullptr);
  if (e) gst_object_ref_sink(e);
  return Element(e);
}

double get_double(GstElement* e, const char* name) {
  gdouble v = -1;
  g_object_get(e, name, &v, nullptr);
  return v;
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

TEST(Iir2dFilterSettings, AlphaMinAboveMaxIsRefusedNamingBoth) {
  REQUIRE_ELEMENT();
  Element f = new_filter();
  ASSERT_TRUE(f);
  ASSERT_DOUBLE_EQ(get_double(f.get(), "temporal-alpha-max"), 0.95);  // the default
  WarningLog log;
  g_object_set(f.get(), "temporal-alpha-min", 0.97, nullptr);
  EXPECT_DOUBLE_EQ(get_double(f.get(), "temporal-alpha-min"), 0.10);  // the old value stays
  ASSERT_EQ(log.texts().size(), 1u);
  EXPECT_TRUE(contains(log.texts()[0], "temporal-alpha-min (0.97)")) << log.texts()[0];
  EXPECT_TRUE(contains(log.texts()[0], "temporal-alpha-max (0.95)")) << log.texts()[0];
}

TEST(Iir2dFilterSettings, AlphaMaxBelowMinIsRefusedNamingBoth) {
  REQUIRE_ELEMENT();
  Element f = new_filter();
  ASSERT_TRUE(f);
  g_object_set(f.get(), "temporal-alpha-min", 0.4, nullptr);
  WarningLog log;
  g_object_set(f.get(), "temporal-alpha-max", 0.25, nullptr);
  EXPECT_DOUBLE_EQ(get_double(f.get(), "temporal-alpha-max"), 0.95);
  EXPECT_DOUBLE_EQ(get_double(f.get(), "temporal-alpha-min"), 0.4);
  ASSERT_EQ(log.texts().size(), 1u);
  EXPECT_TRUE(contains(log.texts()[0], "temporal-alpha-min (0.4)")) << log.texts()[0];
  EXPECT_TRUE(contains(log.texts()[0], "temporal-alpha-max (0.25)")) << log.texts()[0];
}

/* Equal bounds and both raised (max first) are consistent: no warning. */
TEST(Iir2dFilterSettings, ConsistentAlphaBoundsAreTaken) {
  REQUIRE_ELEMENT();
  Element f = new_filter();
  ASSERT_TRUE(f);
  WarningLog log;
  g_object_set(f.get(), "temporal-alpha-max", 0.99, "temporal-alpha-min", 0.99, nullptr);
  EXPECT_DOUBLE_EQ(get_double(f.get(), "temporal-alpha-min"), 0.99);
  EXPECT_DOUBLE_EQ(get_double(f.get(), "temporal-alpha-max"), 0.99);
  g_object_set(f.get(), "temporal-alpha-min", 0.0, "temporal-alpha-max", 0.0, nullptr);
  EXPECT_DOUBLE_EQ(get_double(f.get(), "temporal-alpha-min"), 0.0);
  EXPECT_DOUBLE_EQ(get_double(f.get(), "temporal-alpha-max"), 0.0);
  EXPECT_TRUE(log.texts().empty()) << log.texts()[0];
}

/* gst-launch-1.0 sets properties in the order written: the same rule. */
TEST(Iir2dFilterSettings, LaunchLineWithInconsistentBoundsKeepsTheDefaults) {
  REQUIRE_ELEMENT();
  WarningLog log;
  GError* err = nullptr;
  GstElement* e = gst_parse_launch("iir2dfilter temporal-mode=adaptive temporal-alpha-min=0.9 temporal-alpha-max=0.3", &err);
  if (e) gst_object_ref_sink(e);
  Element f(e);
  ASSERT_TRUE(f) << (err ? err->message : "");
  if (err) g_error_free(err);
  EXPECT_DOUBLE_EQ(get_double(f.get(), "temporal-alpha-min"), 0.9);   // 0.9 <= 0.95: taken
  EXPECT_DOUBLE_EQ(get_double(f.get(), "temporal-alpha-max"), 0.95);  // 0.3 < 0.9: refused
  ASSERT_EQ(log.texts().size(), 1u);
  EXPECT_TRUE(contains(log.texts()[0], "temporal-alpha-min (0.9)")) << log.texts()[0];
  EXPECT_TRUE(contains(log.texts()[0], "temporal-alpha-max (0.3)")) << log.texts()[0];
}

}  // namespace
