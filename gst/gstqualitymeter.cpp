// SPDX-License-Identifier: MIT
/**
 * SECTION:element-qualitymeter
 * @title: qualitymeter
 * @short_description: PSNR, SSIM and temporal stability of a video stream against its reference
 *
 * Measures how far the frames on the `distorted` pad are from the frames on
 * the `reference` pad, per frame and per plane, and passes the distorted
 * stream through unchanged on `src` (so the meter can sit inline before an
 * encoder or a sink):
 *
 * - PSNR exactly as ffmpeg's `psnr` filter defines it: per-plane MSE over the
 *   code values with peak `2^depth - 1`; `psnr-avg` from the plane-size
 *   weighted MSE; identical planes give infinity.
 * - SSIM exactly as ffmpeg's `ssim` filter (x264's SSIM): 8×8 windows made of
 *   2×2 groups of complete 4×4 blocks on a 4-sample grid; the plane's mean
 *   over its windows; `ssim-all` weighted by plane size.
 * - temporal delta, on the luma (or gray) plane normalised to [0, 1] (the G
 *   plane stands in for luma in RGB formats):
 *   `| mean|dist_t - dist_t-1| - mean|ref_t - ref_t-1| |` between consecutive
 *   measured pairs; 0 on the first.
 *
 * Planes are reported as y, u, v (a) for YUV and gray formats and r, g, b (a)
 * for RGB formats; alpha counts in the averages, as in ffmpeg's psnr.
 *
 * Frames are paired by running time: a distorted frame and a reference frame
 * pair when their running times, the distorted one shifted by
 * #GstQualityMeter:distorted-offset, differ by less than half a frame (the
 * buffer duration, else the caps' frame rate; exact equality when neither is
 * known). A frame that finds no partner is counted for its pad and never
 * measured against a repeated frame; unpaired distorted frames still pass
 * through. When one pad reaches EOS the other pad's remaining frames are
 * counted as unpaired; the element sends EOS once both pads are at EOS.
 *
 * Both inputs must have the same format and size, both in CUDA memory
 * (`video/x-raw(memory:CUDAMemory)`, measured by CUDA kernels on the
 * element's own stream in the pipeline's CUDA context; only per-frame
 * scalars come back to the host) or both in system memory (measured on the
 * CPU). Anything else fails negotiation with an error naming both sides.
 *
 * Outputs: an element message `qualitymeter` per frame while
 * #GstQualityMeter:post-messages is true; a row per frame in
 * #GstQualityMeter:stats-file (CSV or JSON Lines, first line naming the
 * format version, flushed row by row); at EOS an element message
 * `qualitymeter-summary` and a log line (category `qualitymeter`, level INFO)
 * per metric with min, p50, p95, mean, harmonic mean and max, plus the
 * unpaired-frame counts; the same summary in the read-only
 * #GstQualityMeter:summary property. With #GstQualityMeter:min-psnr,
 * #GstQualityMeter:min-ssim or #GstQualityMeter:max-temporal-delta set, a
 * warning message names the metric, value and frame when it crosses its
 * threshold, and an element message `qualitymeter-recovered` follows when it
 * comes back (one message per edge, not per frame). The message fields are
 * listed in the project's docs/qualitymeter.md.
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 videotestsrc num-buffers=60 ! video/x-raw,format=I420,width=640,height=360 ! tee name=t \
 *   t. ! queue ! q.reference \
 *   t. ! queue ! iir2dfilter filter-id=6 ! q.distorted \
 *   qualitymeter name=q stats-file=quality.csv ! fakesink
 * ]| Cost of a Deriche smoothing in PSNR/SSIM, on the CPU, one CSV row per frame.
 * |[
 * gst-launch-1.0 filesrc location=in.mp4 ! qtdemux ! h264parse ! nvh264dec ! tee name=t \
 *   t. ! queue ! q.reference \
 *   t. ! queue ! iir2dfilter filter-id=4 ! q.distorted \
 *   qualitymeter name=q post-messages=false min-psnr=35 ! cudadownload ! autovideosink
 * ]| On the GPU, warning when PSNR drops below 35 dB.
 *
 * Since: 0.1
 */

#include "gstqualitymeter.h"

#include <gst/video/video.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <exception>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "gstiir2dcudautils.h"
#include "gstqualitymetermessages.h"
#include "iir2d/quality.h"

#ifdef HAVE_IIR2D_CUDA
#include <gst/cuda/gstcudacontext.h>
#include <gst/cuda/gstcudamemory.h>
#include <gst/cuda/gstcudautils.h>

#include "iir2d/cuda_quality.h"
#endif

GST_DEBUG_CATEGORY_STATIC(gst_quality_meter_debug);
#define GST_CAT_DEFAULT gst_quality_meter_debug

using iir2d::ConstVideoComponent;
using iir2d::qm::FrameReport;
using iir2d::qm::MetricSummary;
using iir2d::qm::Summary;
using iir2d::qm::ThresholdEvent;
namespace quality = iir2d::quality;

static GstStaticPadTemplate reference_template =
    GST_STATIC_PAD_TEMPLATE("reference", GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS(IIR2D_CAPS));
static GstStaticPadTemplate distorted_template =
    GST_STATIC_PAD_TEMPLATE("distorted", GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS(IIR2D_CAPS));
static GstStaticPadTemplate src_template =
    GST_STATIC_PAD_TEMPLATE("src", GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS(IIR2D_CAPS));

enum {
  PROP_0,
  PROP_DISTORTED_OFFSET,
  PROP_POST_MESSAGES,
  PROP_STATS_FILE,
  PROP_STATS_FORMAT,
  PROP_MIN_PSNR,
  PROP_MIN_SSIM,
  PROP_MAX_TEMPORAL_DELTA,
  PROP_SUMMARY,
  PROP_CUDA_DEVICE_ID,
};

#define DEFAULT_DISTORTED_OFFSET 0
#define DEFAULT_POST_MESSAGES TRUE
#define DEFAULT_STATS_FORMAT GST_QUALITY_METER_STATS_FORMAT_AUTO
#define DEFAULT_MIN_PSNR 0.0            /* off: PSNR is never below 0 dB */
#define DEFAULT_MIN_SSIM (-1.0)         /* off: SSIM is never below -1 */
#define DEFAULT_MAX_TEMPORAL_DELTA 1.0  /* off: the delta is never above 1 */
#define DEFAULT_CUDA_DEVICE_ID (-1)

GType gst_quality_meter_stats_format_get_type(void) {
  static GType type = 0;
  static const GEnumValue values[] = {
      {GST_QUALITY_METER_STATS_FORMAT_AUTO, "From the file name (.json/.jsonl/.ndjson: JSON Lines, else CSV)",
       "auto"},
      {GST_QUALITY_METER_STATS_FORMAT_CSV, "Comma-separated values", "csv"},
      {GST_QUALITY_METER_STATS_FORMAT_JSON, "JSON Lines", "json"},
      {0, nullptr, nullptr},
  };
  if (g_once_init_enter(&type)) {
    GType t = g_enum_register_static("GstQualityMeterStatsFormat", values);
    g_once_init_leave(&type, t);
  }
  return type;
}

/* ------------------------------------------------------------------------ */
/* Instance                                                                 */

namespace {

enum PadRole { kReference = 0, kDistorted = 1 };
const char* const kRoleNames[2] = {"reference", "distorted"};

/* Property values, guarded by GstQualityMeterPrivate::lock; the streaming
 * thread copies them once per frame. */
struct Settings {
  gint64 distorted_offset = DEFAULT_DISTORTED_OFFSET;
  bool post_messages = DEFAULT_POST_MESSAGES;
  std::string stats_file;
  GstQualityMeterStatsFormat stats_format = DEFAULT_STATS_FORMAT;
  double min_psnr = DEFAULT_MIN_PSNR;
  double min_ssim = DEFAULT_MIN_SSIM;
  double max_temporal_delta = DEFAULT_MAX_TEMPORAL_DELTA;
  gint cuda_device_id = DEFAULT_CUDA_DEVICE_ID;
};

/* Negotiated state of one sink pad (streaming thread only). */
struct PadState {
  GstCaps* caps = nullptr;
  GstVideoInfo info{};
  bool cuda = false;
};

/* Per-frame values of every metric, for the summary (guarded by stats_lock). */
struct Collected {
  guint64 frames = 0;
  guint64 unpaired[2] = {0, 0};
  std::vector<std::pair<std::string, std::vector<double>>> values;  // in message field order

  void add(const std::string& metric, double v) {
    for (auto& m : values)
      if (m.first == metric) {
        m.second.push_back(v);
        return;
      }
    values.emplace_back(metric, std::vector<double>{v});
  }
};

/* Min, nearest-rank p50/p95, mean, harmonic mean and max of the non-NaN
 * values. The harmonic mean is 0 when a value is 0 (its limit) and NaN when
 * a value is negative. */
MetricSummary summarise(const std::string& metric, std::vector<double> v) {
  MetricSummary m;
  m.metric = metric;
  v.erase(std::remove_if(v.begin(), v.end(), [](double x) { return std::isnan(x); }), v.end());
  m.count = v.size();
  if (v.empty()) return m;
  std::sort(v.begin(), v.end());
  auto rank = [&](double p) { return v[std::max<std::size_t>(1, std::ceil(p / 100.0 * v.size())) - 1]; };
  m.min = v.front();
  m.max = v.back();
  m.p50 = rank(50);
  m.p95 = rank(95);
  double sum = 0.0, inv = 0.0;
  bool zero = false, negative = false;
  for (double x : v) {
    sum += x;
    if (x == 0.0) zero = true;
    if (x < 0.0) negative = true;
    inv += 1.0 / x;
  }
  m.mean = sum / static_cast<double>(v.size());
  m.harmonic_mean = negative ? iir2d::qm::nan_value() : zero ? 0.0 : static_cast<double>(v.size()) / inv;
  return m;
}

Summary summarise(const Collected& c) {
  Summary s;
  s.frames = c.frames;
  s.unpaired_reference = c.unpaired[kReference];
  s.unpaired_distorted = c.unpaired[kDistorted];
  for (const auto& m : c.values) s.metrics.push_back(summarise(m.first, m.second));
  return s;
}

/* "inf", "-inf", "nan" or the value with 12 significant digits. */
std::string format_number(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.12g", v);
  return buf;
}

/* The stats file: a first line naming the format and its version, then one
 * row per frame, flushed as it goes. */
class StatsWriter {
 public:
  static constexpr int kVersion = 1;

  ~StatsWriter() { close(); }

  /* Opens (truncates) `path`, or standard output for "-". */
  bool open(const std::string& path, GstQualityMeterStatsFormat format, std::string* why) {
    close();
    if (format == GST_QUALITY_METER_STATS_FORMAT_AUTO) {
      auto ends_with = [&](const char* ext) {
        const std::size_t n = std::strlen(ext);
        return path.size() >= n && g_ascii_strcasecmp(path.c_str() + path.size() - n, ext) == 0;
      };
      format = ends_with(".json") || ends_with(".jsonl") || ends_with(".ndjson") ? GST_QUALITY_METER_STATS_FORMAT_JSON
                                                                                 : GST_QUALITY_METER_STATS_FORMAT_CSV;
    }
    json_ = format == GST_QUALITY_METER_STATS_FORMAT_JSON;
    if (path == "-") {
      file_ = stdout;
      owned_ = false;
    } else {
      file_ = std::fopen(path.c_str(), "w");
      if (!file_) {
        *why = std::strerror(errno);
        return false;
      }
      owned_ = true;
    }
    if (json_)
      std::fprintf(file_, "{\"format\":\"qualitymeter-stats\",\"version\":%d,\"encoding\":\"jsonl\"}\n", kVersion);
    else
      std::fprintf(file_, "# qualitymeter-stats version=%d format=csv\n", kVersion);
    std::fflush(file_);
    header_ = -1;
    return true;
  }

  bool is_open() const { return file_ != nullptr; }

  /* One row; planes the format lacks are empty (CSV) or null (JSON). The
   * CSV header comes with the first row (y, u, v or r, g, b columns) and
   * again if the format family changes. */
  void write(const FrameReport& r) {
    if (!file_) return;
    auto plane = [&](const double* v, int c) -> std::string {
      if (c >= r.components) return json_ ? "null" : "";
      return value(v[c]);
    };
    auto time = [&](GstClockTime t) -> std::string {
      return GST_CLOCK_TIME_IS_VALID(t) ? std::to_string(t) : (json_ ? "null" : "");
    };
    const std::string fields[] = {std::to_string(r.frame), time(r.pts),       time(r.running_time),
                                  plane(r.psnr, 0),        plane(r.psnr, 1),  plane(r.psnr, 2),
                                  value(r.psnr_avg),       plane(r.ssim, 0),  plane(r.ssim, 1),
                                  plane(r.ssim, 2),        value(r.ssim_all), value(r.temporal_delta)};
    std::string names[] = {"frame", "pts", "running-time", "psnr-", "psnr-", "psnr-", "psnr-avg",
                           "ssim-", "ssim-", "ssim-", "ssim-all", "temporal-delta"};
    for (int c = 0; c < 3; ++c) {
      names[3 + c] += r.plane_name(c);
      names[7 + c] += r.plane_name(c);
    }
    std::string line;
    if (!json_ && header_ != static_cast<int>(r.rgb)) {
      for (std::size_t i = 0; i < G_N_ELEMENTS(names); ++i) line += (i ? "," : "") + names[i];
      line += "\n";
      header_ = r.rgb;
    }
    line += json_ ? "{" : "";
    for (std::size_t i = 0; i < G_N_ELEMENTS(names); ++i) {
      if (i) line += ",";
      if (json_) line += std::string("\"") + names[i] + "\":";
      line += fields[i];
    }
    line += json_ ? "}\n" : "\n";
    std::fputs(line.c_str(), file_);
    std::fflush(file_);
  }

  void close() {
    if (file_ && owned_) std::fclose(file_);
    if (file_ && !owned_) std::fflush(file_);
    file_ = nullptr;
  }

 private:
  /* Non-finite values are written as inf/nan (CSV) or the strings "inf"/"nan" (JSON). */
  std::string value(double v) const {
    const std::string s = format_number(v);
    return json_ && !std::isfinite(v) ? "\"" + s + "\"" : s;
  }

  FILE* file_ = nullptr;
  bool owned_ = false;
  bool json_ = false;
  int header_ = -1;  // CSV header written for: -1 none yet, 0 YUV/gray, 1 RGB
};

/* A copy of a frame's luma plane for the temporal delta (CPU path). */
struct HostLuma {
  std::vector<unsigned char> bytes;
  ConstVideoComponent view;
};

/* Copies a component's storage words into packed rows. */
void copy_luma(const ConstVideoComponent& c, HostLuma* out) {
  const std::size_t sample = c.type == iir2d::SampleType::U16 ? 2 : 1;
  const std::size_t row = static_cast<std::size_t>(c.width) * sample;
  out->bytes.resize(row * static_cast<std::size_t>(c.height));
  const auto* src = static_cast<const unsigned char*>(c.data);
  for (int y = 0; y < c.height; ++y)
    for (int x = 0; x < c.width; ++x)
      std::memcpy(&out->bytes[y * row + x * sample], src + y * c.row_stride + x * c.pixel_stride, sample);
  out->view = c;
  out->view.data = out->bytes.data();
  out->view.row_stride = static_cast<std::ptrdiff_t>(row);
  out->view.pixel_stride = static_cast<std::ptrdiff_t>(sample);
}

#ifdef HAVE_IIR2D_CUDA
/* What one frame pair's kernels write; copied back to the host in one go. */
struct DeviceResults {
  quality::ComponentSums sums[quality::kMaxComponents];
  unsigned long long abs_diff[2];  // Σ|Δ| of the distorted and reference luma against the previous pair
};
#endif

}  // namespace

struct GstQualityMeterPrivate {
  std::mutex lock;  // guards settings
  Settings settings;

  std::mutex stats_lock;  // guards collected (read by the summary property)
  Collected collected;

  GstAggregatorPad* pads[2] = {nullptr, nullptr};  // reference, distorted (children of the element)

  /* State: streaming thread only; reset in start/stop. */
  PadState pad_state[2];
  StatsWriter stats;
  guint64 next_frame = 0;
  bool alarm[3] = {false, false, false};  // psnr-avg, ssim-all, temporal-delta beyond their threshold
  bool finished = false;                  // summary posted
  bool have_prev = false;                 // previous pair's luma kept (temporal delta)
  HostLuma prev_host[2];

#ifdef HAVE_IIR2D_CUDA
  GstCudaContext* context = nullptr;  // the pipeline's shared CUDA context
  cudaStream_t stream = nullptr;      // our own non-blocking stream in it
  void* device = nullptr;             // DeviceResults, workspace, previous luma ×2 (one cudaMalloc)
  std::size_t device_bytes = 0;
  std::size_t workspace_offset = 0, workspace_bytes = 0, prev_offset[2] = {0, 0};
  ConstVideoComponent prev_device[2];
  std::string cuda_unavailable;  // why there is no usable context, for errors
#endif
};

struct _GstQualityMeter {
  GstAggregator parent;
  GstQualityMeterPrivate* priv;
};

#define gst_quality_meter_parent_class parent_class
G_DEFINE_TYPE(GstQualityMeter, gst_quality_meter, GST_TYPE_AGGREGATOR);
GST_ELEMENT_REGISTER_DEFINE(qualitymeter, "qualitymeter", GST_RANK_NONE, GST_TYPE_QUALITY_METER);

static Settings copy_settings(GstQualityMeter* self) {
  std::lock_guard<std::mutex> guard(self->priv->lock);
  return self->priv->settings;
}

static int pad_role(GstQualityMeter* self, GstAggregatorPad* pad) {
  return pad == self->priv->pads[kDistorted] ? kDistorted : kReference;
}

/* The component of the temporal delta: luma (or gray), G for RGB formats. */
static guint temporal_component(const GstVideoInfo* info) {
  return GST_VIDEO_INFO_IS_RGB(info) ? GST_VIDEO_COMP_G : 0;
}

/* ------------------------------------------------------------------------ */
/* CUDA resources (context, stream, device memory)                          */

#ifdef HAVE_IIR2D_CUDA
namespace {

void release_device_memory(GstQualityMeter* self) {
  GstQualityMeterPrivate* priv = self->priv;
  iir2d::gst::cuda_release(GST_OBJECT(self), priv->context, &priv->stream, &priv->device, &priv->device_bytes);
  priv->have_prev = false;
}

bool open_cuda(GstQualityMeter* self, gint device_id) {
  GstQualityMeterPrivate* priv = self->priv;
  priv->cuda_unavailable.clear();
  if (!iir2d::gst::cuda_open_context(GST_ELEMENT_CAST(self), device_id, &priv->context, &priv->cuda_unavailable))
    return false;
  return priv->stream || iir2d::gst::cuda_create_stream(priv->context, &priv->stream, &priv->cuda_unavailable);
}

bool cuda_ready(const GstQualityMeterPrivate* priv) { return priv->context && priv->stream; }

std::size_t align_up(std::size_t n) { return (n + 255) / 256 * 256; }

/* Bytes of one row of component `c` from its first sample to the end of its last. */
std::size_t prev_row_bytes(const GstVideoInfo* info, guint c) {
  const std::size_t sample = GST_VIDEO_FORMAT_INFO_BITS(info->finfo) > 8 ? 2 : 1;
  const std::size_t width = static_cast<std::size_t>(GST_VIDEO_INFO_COMP_WIDTH(info, c));
  return width ? (width - 1) * static_cast<std::size_t>(GST_VIDEO_INFO_COMP_PSTRIDE(info, c)) + sample : 0;
}

/* Lays out (and if needed reallocates) the device memory for frames of
 * `info`; the caller has pushed the context. */
cudaError_t ensure_device_memory(GstQualityMeterPrivate* priv, const GstVideoInfo* info) {
  std::size_t workspace = 0;
  for (guint c = 0; c < GST_VIDEO_INFO_N_COMPONENTS(info); ++c)
    workspace = std::max(workspace, quality::cuda::workspace_size(GST_VIDEO_INFO_COMP_WIDTH(info, c),
                                                                  GST_VIDEO_INFO_COMP_HEIGHT(info, c)));
  /* The temporal component's rows, from its first sample to its last (any pixel stride). */
  const guint t = temporal_component(info);
  const std::size_t luma = prev_row_bytes(info, t) * static_cast<std::size_t>(GST_VIDEO_INFO_COMP_HEIGHT(info, t));
  priv->workspace_offset = align_up(sizeof(DeviceResults));
  priv->workspace_bytes = workspace;
  priv->prev_offset[kReference] = priv->workspace_offset + align_up(workspace);
  priv->prev_offset[kDistorted] = priv->prev_offset[kReference] + align_up(luma);
  const std::size_t need = priv->prev_offset[kDistorted] + align_up(luma);
  void* before = priv->device;
  const cudaError_t e = iir2d::gst::cuda_ensure_allocation(&priv->device, &priv->device_bytes, need);
  if (priv->device != before || e != cudaSuccess) priv->have_prev = false;  // the previous luma is gone
  return e;
}

}  // namespace
#endif  // HAVE_IIR2D_CUDA

/* ------------------------------------------------------------------------ */
/* GObject                                                                  */

static GstStructure* current_summary(GstQualityMeter* self) {
  std::lock_guard<std::mutex> guard(self->priv->stats_lock);
  return summarise(self->priv->collected).to_structure();
}

static void gst_quality_meter_set_property(GObject* object, guint prop_id, const GValue* value, GParamSpec* pspec) {
  GstQualityMeter* self = GST_QUALITY_METER(object);
  std::lock_guard<std::mutex> guard(self->priv->lock);
  Settings& s = self->priv->settings;
  switch (prop_id) {
    case PROP_DISTORTED_OFFSET: s.distorted_offset = g_value_get_int64(value); break;
    case PROP_POST_MESSAGES: s.post_messages = g_value_get_boolean(value); break;
    case PROP_STATS_FILE: {
      const gchar* path = g_value_get_string(value);
      s.stats_file = path ? path : "";
      break;
    }
    case PROP_STATS_FORMAT: s.stats_format = static_cast<GstQualityMeterStatsFormat>(g_value_get_enum(value)); break;
    case PROP_MIN_PSNR: s.min_psnr = g_value_get_double(value); break;
    case PROP_MIN_SSIM: s.min_ssim = g_value_get_double(value); break;
    case PROP_MAX_TEMPORAL_DELTA: s.max_temporal_delta = g_value_get_double(value); break;
    case PROP_CUDA_DEVICE_ID: s.cuda_device_id = g_value_get_int(value); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec); break;
  }
}

static void gst_quality_meter_get_property(GObject* object, guint prop_id, GValue* value, GParamSpec* pspec) {
  GstQualityMeter* self = GST_QUALITY_METER(object);
  if (prop_id == PROP_SUMMARY) {
    g_value_take_boxed(value, current_summary(self));
    return;
  }
  std::lock_guard<std::mutex> guard(self->priv->lock);
  const Settings& s = self->priv->settings;
  switch (prop_id) {
    case PROP_DISTORTED_OFFSET: g_value_set_int64(value, s.distorted_offset); break;
    case PROP_POST_MESSAGES: g_value_set_boolean(value, s.post_messages); break;
    case PROP_STATS_FILE: g_value_set_string(value, s.stats_file.empty() ? nullptr : s.stats_file.c_str()); break;
    case PROP_STATS_FORMAT: g_value_set_enum(value, s.stats_format); break;
    case PROP_MIN_PSNR: g_value_set_double(value, s.min_psnr); break;
    case PROP_MIN_SSIM: g_value_set_double(value, s.min_ssim); break;
    case PROP_MAX_TEMPORAL_DELTA: g_value_set_double(value, s.max_temporal_delta); break;
    case PROP_CUDA_DEVICE_ID: g_value_set_int(value, s.cuda_device_id); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec); break;
  }
}

static void clear_pad_state(GstQualityMeterPrivate* priv) {
  for (PadState& p : priv->pad_state) {
    gst_clear_caps(&p.caps);
    p = PadState();
  }
}

static void gst_quality_meter_dispose(GObject* object) {
  GstQualityMeter* self = GST_QUALITY_METER(object);
#ifdef HAVE_IIR2D_CUDA
  release_device_memory(self);
  gst_clear_object(&self->priv->context);
#endif
  clear_pad_state(self->priv);
  G_OBJECT_CLASS(parent_class)->dispose(object);
}

static void gst_quality_meter_finalize(GObject* object) {
  GstQualityMeter* self = GST_QUALITY_METER(object);
  delete self->priv;
  self->priv = nullptr;
  G_OBJECT_CLASS(parent_class)->finalize(object);
}

/* ------------------------------------------------------------------------ */
/* GstElement                                                               */

#ifdef HAVE_IIR2D_CUDA
static void gst_quality_meter_set_context(GstElement* element, GstContext* context) {
  GstQualityMeter* self = GST_QUALITY_METER(element);
  const gint device_id = copy_settings(self).cuda_device_id;
  /* Takes the pipeline's context only while we have none (never replaces). */
  gst_cuda_handle_set_context(element, context, device_id, &self->priv->context);
  GST_ELEMENT_CLASS(parent_class)->set_context(element, context);
}
#endif

/* ------------------------------------------------------------------------ */
/* Start / stop                                                             */

static gboolean gst_quality_meter_start(GstAggregator* agg) {
  GstQualityMeter* self = GST_QUALITY_METER(agg);
  GstQualityMeterPrivate* priv = self->priv;
  const Settings s = copy_settings(self);

  /* A stats file that cannot be written is an error now, not at EOS. */
  if (!s.stats_file.empty()) {
    std::string why;
    if (!priv->stats.open(s.stats_file, s.stats_format, &why)) {
      GST_ELEMENT_ERROR(self, RESOURCE, OPEN_WRITE,
                        ("Could not open stats-file \"%s\" for writing: %s.", s.stats_file.c_str(), why.c_str()),
                        ("The file's directory must exist and be writable; use \"-\" for standard output."));
      return FALSE;
    }
  }
  {
    std::lock_guard<std::mutex> guard(priv->stats_lock);
    priv->collected = Collected();
  }
  priv->next_frame = 0;
  std::fill(std::begin(priv->alarm), std::end(priv->alarm), false);
  priv->finished = false;
  priv->have_prev = false;

#ifdef HAVE_IIR2D_CUDA
  if (!open_cuda(self, s.cuda_device_id))
    GST_INFO_OBJECT(self, "CUDA unavailable (%s); only system memory can be measured",
                    priv->cuda_unavailable.c_str());
#endif
  return TRUE;
}

static gboolean gst_quality_meter_stop(GstAggregator* agg) {
  GstQualityMeter* self = GST_QUALITY_METER(agg);
  GstQualityMeterPrivate* priv = self->priv;
  priv->stats.close();
#ifdef HAVE_IIR2D_CUDA
  release_device_memory(self);
  gst_clear_object(&priv->context);
#endif
  clear_pad_state(priv);
  priv->have_prev = false;
  return TRUE;
}

static GstFlowReturn gst_quality_meter_flush(GstAggregator* agg) {
  GstQualityMeter* self = GST_QUALITY_METER(agg);
  /* After a seek the next pair does not follow the previous one, and the
   * next EOS gets its own summary. */
  self->priv->have_prev = false;
  self->priv->finished = false;
  return GST_FLOW_OK;
}

/* ------------------------------------------------------------------------ */
/* Caps                                                                     */

/* "I420 320x240 in system memory" */
static std::string describe(const PadState& p) {
  return std::string(GST_VIDEO_INFO_NAME(&p.info)) + " " + std::to_string(GST_VIDEO_INFO_WIDTH(&p.info)) + "x" +
         std::to_string(GST_VIDEO_INFO_HEIGHT(&p.info)) + (p.cuda ? " in CUDA memory" : " in system memory");
}

static bool same_input_layout(const PadState& a, const PadState& b) {
  return a.cuda == b.cuda && GST_VIDEO_INFO_FORMAT(&a.info) == GST_VIDEO_INFO_FORMAT(&b.info) &&
         GST_VIDEO_INFO_WIDTH(&a.info) == GST_VIDEO_INFO_WIDTH(&b.info) &&
         GST_VIDEO_INFO_HEIGHT(&a.info) == GST_VIDEO_INFO_HEIGHT(&b.info);
}

/* The caps the other pad must match: its format, size and memory feature only. */
static GstCaps* matching_caps(GstCaps* other) {
  GstCaps* caps = gst_caps_new_empty();
  GstStructure* o = gst_caps_get_structure(other, 0);
  GstStructure* s = gst_structure_new_empty(gst_structure_get_name(o));
  for (const char* field : {"format", "width", "height"})
    if (const GValue* v = gst_structure_get_value(o, field)) gst_structure_set_value(s, field, v);
  gst_caps_append_structure_full(caps, s, gst_caps_features_copy(gst_caps_get_features(other, 0)));
  return caps;
}

/* Sink CAPS query: the template (for the distorted pad, what downstream
 * accepts), with caps matching the other input first when it has caps. The
 * rest stays acceptable so that a mismatch reaches the CAPS event and fails
 * there with an error naming both sides. */
static GstCaps* sink_caps(GstQualityMeter* self, GstAggregatorPad* pad, GstCaps* filter) {
  GstAggregator* agg = GST_AGGREGATOR(self);
  GstCaps* templ = gst_pad_get_pad_template_caps(GST_PAD(pad));
  GstCaps* base = templ;
  if (pad_role(self, pad) == kDistorted) {
    base = gst_pad_peer_query_caps(GST_AGGREGATOR_SRC_PAD(agg), templ);
    gst_caps_unref(templ);
  }
  GstCaps* result = base;
  GstPad* other = GST_PAD(self->priv->pads[1 - pad_role(self, pad)]);
  if (GstCaps* other_caps = gst_pad_get_current_caps(other)) {
    GstCaps* match = matching_caps(other_caps);
    GstCaps* preferred = gst_caps_intersect_full(match, base, GST_CAPS_INTERSECT_FIRST);
    result = gst_caps_merge(preferred, base);
    gst_caps_unref(match);
    gst_caps_unref(other_caps);
  }
  if (filter) {
    GstCaps* filtered = gst_caps_intersect_full(filter, result, GST_CAPS_INTERSECT_FIRST);
    gst_caps_unref(result);
    result = filtered;
  }
  GST_DEBUG_OBJECT(pad, "caps %" GST_PTR_FORMAT, result);
  return result;
}

/* A CAPS event on a sink pad (streaming thread): stores the pad's format,
 * checks it against the other input, and for the distorted pad negotiates the
 * same caps downstream right away, so that its ALLOCATION query (forwarded
 * downstream) finds downstream configured. */
static gboolean handle_sink_caps(GstQualityMeter* self, GstAggregatorPad* pad, GstCaps* caps) {
  GstQualityMeterPrivate* priv = self->priv;
  const int role = pad_role(self, pad);
  PadState& st = priv->pad_state[role];
  GstVideoInfo info;
  if (!gst_video_info_from_caps(&info, caps)) {
    GST_ELEMENT_ERROR(self, CORE, NEGOTIATION, ("Invalid caps on the %s pad.", kRoleNames[role]),
                      ("%" GST_PTR_FORMAT, caps));
    return FALSE;
  }
  if (!st.caps || !gst_video_info_is_equal(&st.info, &info)) priv->have_prev = false;  // new frame size or format
  gst_caps_replace(&st.caps, caps);
  st.info = info;
  st.cuda = iir2d::gst::caps_are_cuda(caps);

#ifdef HAVE_IIR2D_CUDA
  if (st.cuda && !cuda_ready(priv) && !open_cuda(self, copy_settings(self).cuda_device_id)) {
    const std::string why = priv->cuda_unavailable;
    GST_ELEMENT_ERROR(self, RESOURCE, NOT_FOUND, ("No CUDA context: %s.", why.c_str()),
                      ("CUDA memory caps %" GST_PTR_FORMAT " on the %s pad but no CUDA context could be opened. "
                       "Use system memory (drop cudaupload) or check the driver and cuda-device-id.",
                       caps, kRoleNames[role]));
    return FALSE;
  }
#endif

  const PadState& other = priv->pad_state[1 - role];
  if (other.caps && !same_input_layout(st, other)) {
    const PadState& ref = priv->pad_state[kReference];
    const PadState& dist = priv->pad_state[kDistorted];
    const std::string text = "The reference and distorted inputs must have the same format and size, both in CUDA "
                             "memory or both in system memory: reference is " +
                             describe(ref) + ", distorted is " + describe(dist) + ".";
    GST_ELEMENT_ERROR(self, CORE, NEGOTIATION, ("%s", text.c_str()),
                      ("reference caps %" GST_PTR_FORMAT ", distorted caps %" GST_PTR_FORMAT, ref.caps, dist.caps));
    return FALSE;
  }

  if (role == kDistorted) {
    gst_pad_mark_reconfigure(GST_AGGREGATOR_SRC_PAD(self));
    if (!gst_aggregator_negotiate(GST_AGGREGATOR(self))) return FALSE;
  }
  GST_DEBUG_OBJECT(self, "%s pad: %s", kRoleNames[role], describe(st).c_str());
  return TRUE;
}

/* Output caps: the distorted input's caps, unchanged. */
static GstFlowReturn gst_quality_meter_update_src_caps(GstAggregator* agg, GstCaps* downstream, GstCaps** ret) {
  GstQualityMeter* self = GST_QUALITY_METER(agg);
  GstCaps* dist = self->priv->pad_state[kDistorted].caps;
  if (!dist) return GST_AGGREGATOR_FLOW_NEED_DATA;
  if (!gst_caps_can_intersect(dist, downstream)) {
    GST_ELEMENT_ERROR(self, CORE, NEGOTIATION, ("Downstream does not accept the distorted stream's caps."),
                      ("distorted caps %" GST_PTR_FORMAT ", downstream accepts %" GST_PTR_FORMAT, dist, downstream));
    return GST_FLOW_NOT_NEGOTIATED;
  }
  *ret = gst_caps_ref(dist);
  return GST_FLOW_OK;
}

static gboolean gst_quality_meter_sink_event(GstAggregator* agg, GstAggregatorPad* pad, GstEvent* event) {
  GstQualityMeter* self = GST_QUALITY_METER(agg);
  switch (GST_EVENT_TYPE(event)) {
    case GST_EVENT_CAPS: {
      GstCaps* caps = nullptr;
      gst_event_parse_caps(event, &caps);
      const gboolean ok = handle_sink_caps(self, pad, caps);
      gst_event_unref(event);
      return ok;
    }
    case GST_EVENT_SEGMENT: {
      const gboolean ok = GST_AGGREGATOR_CLASS(parent_class)->sink_event(agg, pad, event);
      if (ok && pad_role(self, pad) == kDistorted) {
        /* The output keeps the distorted stream's timeline. */
        GST_OBJECT_LOCK(pad);
        GstSegment segment = pad->segment;
        GST_OBJECT_UNLOCK(pad);
        gst_aggregator_update_segment(agg, &segment);
      }
      return ok;
    }
    default:
      return GST_AGGREGATOR_CLASS(parent_class)->sink_event(agg, pad, event);
  }
}

static gboolean handle_allocation(GstQualityMeter* self, GstAggregatorPad* pad, GstQuery* query) {
  /* The distorted buffers go downstream untouched: let downstream answer. */
  if (pad_role(self, pad) == kDistorted && gst_pad_peer_query(GST_AGGREGATOR_SRC_PAD(self), query)) return TRUE;

  GstCaps* caps = nullptr;
  gst_query_parse_allocation(query, &caps, nullptr);
  if (!caps) return FALSE;
  GstVideoInfo info;
  if (!gst_video_info_from_caps(&info, caps)) return FALSE;
#ifdef HAVE_IIR2D_CUDA
  if (iir2d::gst::caps_are_cuda(caps) && self->priv->context && gst_query_get_n_allocation_pools(query) == 0 &&
      !iir2d::gst::cuda_propose_pool(GST_OBJECT(self), self->priv->context, query, caps, &info))
    return FALSE;
#endif
  if (!gst_query_find_allocation_meta(query, GST_VIDEO_META_API_TYPE, nullptr))
    gst_query_add_allocation_meta(query, GST_VIDEO_META_API_TYPE, nullptr);
  return TRUE;
}

static gboolean gst_quality_meter_sink_query(GstAggregator* agg, GstAggregatorPad* pad, GstQuery* query) {
  GstQualityMeter* self = GST_QUALITY_METER(agg);
  switch (GST_QUERY_TYPE(query)) {
    case GST_QUERY_CAPS: {
      GstCaps* filter = nullptr;
      gst_query_parse_caps(query, &filter);
      GstCaps* caps = sink_caps(self, pad, filter);
      gst_query_set_caps_result(query, caps);
      gst_caps_unref(caps);
      return TRUE;
    }
    case GST_QUERY_ACCEPT_CAPS: {
      GstCaps* caps = nullptr;
      gst_query_parse_accept_caps(query, &caps);
      GstCaps* templ = gst_pad_get_pad_template_caps(GST_PAD(pad));
      gst_query_set_accept_caps_result(query, gst_caps_can_intersect(caps, templ));
      gst_caps_unref(templ);
      return TRUE;
    }
    case GST_QUERY_ALLOCATION:
      return handle_allocation(self, pad, query);
#ifdef HAVE_IIR2D_CUDA
    case GST_QUERY_CONTEXT:
      if (gst_cuda_handle_context_query(GST_ELEMENT_CAST(self), query, self->priv->context)) return TRUE;
      break;
#endif
    default:
      break;
  }
  return GST_AGGREGATOR_CLASS(parent_class)->sink_query(agg, pad, query);
}

static gboolean gst_quality_meter_src_query(GstAggregator* agg, GstQuery* query) {
  GstQualityMeter* self = GST_QUALITY_METER(agg);
  switch (GST_QUERY_TYPE(query)) {
    case GST_QUERY_CAPS: {
      /* Whatever the distorted input can produce (it comes out unchanged). */
      GstCaps* filter = nullptr;
      gst_query_parse_caps(query, &filter);
      GstCaps* caps = gst_pad_peer_query_caps(GST_PAD(self->priv->pads[kDistorted]), filter);
      GstCaps* templ = gst_pad_get_pad_template_caps(GST_AGGREGATOR_SRC_PAD(agg));
      GstCaps* result = gst_caps_intersect_full(caps, templ, GST_CAPS_INTERSECT_FIRST);
      gst_query_set_caps_result(query, result);
      gst_caps_unref(result);
      gst_caps_unref(templ);
      gst_caps_unref(caps);
      return TRUE;
    }
#ifdef HAVE_IIR2D_CUDA
    case GST_QUERY_CONTEXT:
      if (gst_cuda_handle_context_query(GST_ELEMENT_CAST(self), query, self->priv->context)) return TRUE;
      break;
#endif
    default:
      break;
  }
  return GST_AGGREGATOR_CLASS(parent_class)->src_query(agg, query);
}

/* ------------------------------------------------------------------------ */
/* Measuring one pair                                                       */

/* Depths of the frame's components, and their number. */
static int component_depths(const GstVideoInfo* info, int* depths) {
  const int n = std::min<int>(GST_VIDEO_INFO_N_COMPONENTS(info), quality::kMaxComponents);
  for (int c = 0; c < n; ++c) depths[c] = GST_VIDEO_FORMAT_INFO_DEPTH(info->finfo, c);
  return n;
}

/* System memory: the CPU reference. */
static bool measure_system(GstQualityMeter* self, GstBuffer* ref, GstBuffer* dist, quality::FrameMetrics* m,
                           std::string* error) {
  GstQualityMeterPrivate* priv = self->priv;
  GstVideoFrame rf, df;
  if (!gst_video_frame_map(&rf, &priv->pad_state[kReference].info, ref, GST_MAP_READ)) {
    *error = "could not map the reference buffer";
    return false;
  }
  if (!gst_video_frame_map(&df, &priv->pad_state[kDistorted].info, dist, GST_MAP_READ)) {
    gst_video_frame_unmap(&rf);
    *error = "could not map the distorted buffer";
    return false;
  }
  bool ok = true;
  try {
    int depths[quality::kMaxComponents];
    const int n = component_depths(&priv->pad_state[kDistorted].info, depths);
    quality::ComponentSums sums[quality::kMaxComponents];
    for (int c = 0; c < n; ++c)
      sums[c] = quality::compare_component(iir2d::gst::frame_component<ConstVideoComponent>(&rf, c),
                                           iir2d::gst::frame_component<ConstVideoComponent>(&df, c));
    *m = quality::frame_metrics(sums, depths, n);
    const guint t = temporal_component(&priv->pad_state[kDistorted].info);
    const auto r0 = iir2d::gst::frame_component<ConstVideoComponent>(&rf, t);
    const auto d0 = iir2d::gst::frame_component<ConstVideoComponent>(&df, t);
    if (priv->have_prev)
      m->temporal_delta = quality::temporal_delta(quality::sum_abs_diff(d0, priv->prev_host[kDistorted].view),
                                                  quality::sum_abs_diff(r0, priv->prev_host[kReference].view),
                                                  sums[t].samples, depths[t]);
    copy_luma(r0, &priv->prev_host[kReference]);
    copy_luma(d0, &priv->prev_host[kDistorted]);
    priv->have_prev = true;
  } catch (const std::exception& e) {
    *error = e.what();
    ok = false;
  }
  gst_video_frame_unmap(&df);
  gst_video_frame_unmap(&rf);
  return ok;
}

#ifdef HAVE_IIR2D_CUDA
/* Enqueues the kernels of one pair and the copy of the previous luma; the
 * caller has pushed the context and synchronises the stream. */
static std::string enqueue_cuda(GstQualityMeterPrivate* priv, GstVideoFrame* rf, GstVideoFrame* df, int n) {
  auto* results = static_cast<DeviceResults*>(priv->device);
  auto* base = static_cast<unsigned char*>(priv->device);
  for (int c = 0; c < n; ++c) {
    const auto r = quality::cuda::compare_component(iir2d::gst::frame_component<ConstVideoComponent>(rf, c),
                                                    iir2d::gst::frame_component<ConstVideoComponent>(df, c),
                                                    &results->sums[c], base + priv->workspace_offset,
                                                    priv->workspace_bytes, priv->stream);
    if (!r.ok()) return "component " + std::to_string(c) + ": " + r.message();
  }
  GstVideoFrame* frames[2] = {rf, df};
  const guint t = temporal_component(&df->info);
  for (int role : {kDistorted, kReference}) {
    const auto cur = iir2d::gst::frame_component<ConstVideoComponent>(frames[role], t);
    if (priv->have_prev) {
      const auto r = quality::cuda::sum_abs_diff(cur, priv->prev_device[role],
                                                 &results->abs_diff[role == kDistorted ? 0 : 1], priv->stream);
      if (!r.ok()) return std::string("temporal delta: ") + r.message();
    }
    /* Keep this component for the next pair: its rows, from the first
     * sample to the last, with the pixel stride they have (packed RGB too). */
    const std::size_t sample = cur.type == iir2d::SampleType::U16 ? 2 : 1;
    const std::size_t row =
        cur.width ? static_cast<std::size_t>(cur.width - 1) * static_cast<std::size_t>(cur.pixel_stride) + sample : 0;
    cudaError_t e = cudaMemcpy2DAsync(base + priv->prev_offset[role], row, cur.data, cur.row_stride, row, cur.height,
                                      cudaMemcpyDeviceToDevice, priv->stream);
    if (e != cudaSuccess) return "previous luma copy: " + iir2d::gst::cuda_error_text(e);
    ConstVideoComponent prev = cur;
    prev.data = base + priv->prev_offset[role];
    prev.row_stride = static_cast<std::ptrdiff_t>(row);
    priv->prev_device[role] = prev;
  }
  return "";
}

/* CUDA memory: the CUDA kernels; only the DeviceResults come back. */
static bool measure_cuda(GstQualityMeter* self, GstBuffer* ref, GstBuffer* dist, quality::FrameMetrics* m,
                         std::string* error) {
  GstQualityMeterPrivate* priv = self->priv;
  if (!cuda_ready(priv)) {
    *error = "no CUDA context: " + priv->cuda_unavailable;
    return false;
  }
  GstBuffer* bufs[2] = {ref, dist};
  for (int role : {kReference, kDistorted}) {
    std::string why;
    if (!iir2d::gst::cuda_buffer_usable(priv->context, bufs[role], &why)) {
      *error = std::string("the ") + kRoleNames[role] + " buffer " + why;
      return false;
    }
  }
  const GstVideoInfo* info = &priv->pad_state[kDistorted].info;
  GstVideoFrame rf, df;
  const GstMapFlags flags = GstMapFlags(GST_MAP_READ | GST_MAP_CUDA);
  if (!gst_video_frame_map(&rf, iir2d::gst::cuda_buffer_layout(ref, &priv->pad_state[kReference].info), ref, flags)) {
    *error = "could not map the reference buffer (GST_MAP_READ | GST_MAP_CUDA)";
    return false;
  }
  if (!gst_video_frame_map(&df, iir2d::gst::cuda_buffer_layout(dist, info), dist, flags)) {
    gst_video_frame_unmap(&rf);
    *error = "could not map the distorted buffer (GST_MAP_READ | GST_MAP_CUDA)";
    return false;
  }

  int depths[quality::kMaxComponents];
  const int n = component_depths(info, depths);
  bool diffed = false;  // the temporal sums were computed against a previous pair
  DeviceResults host{};
  if (!gst_cuda_context_push(priv->context)) {
    *error = "could not push the CUDA context";
  } else {
    cudaError_t e = ensure_device_memory(priv, info);  // forgets the previous pair when it reallocates
    if (e != cudaSuccess) {
      *error = "device memory cudaMalloc: " + iir2d::gst::cuda_error_text(e);
    } else {
      diffed = priv->have_prev;
      *error = enqueue_cuda(priv, &rf, &df, n);
      if (error->empty()) {
        e = cudaMemcpyAsync(&host, priv->device, sizeof host, cudaMemcpyDeviceToHost, priv->stream);
        if (e != cudaSuccess) *error = "results copy: " + iir2d::gst::cuda_error_text(e);
      }
    }
    /* 1.22's CUDA memory carries no stream: finish before the buffers move on. */
    e = cudaStreamSynchronize(priv->stream);
    if (e != cudaSuccess && error->empty()) *error = "cudaStreamSynchronize: " + iir2d::gst::cuda_error_text(e);
    gst_cuda_context_pop(nullptr);
  }
  gst_video_frame_unmap(&df);
  gst_video_frame_unmap(&rf);
  priv->have_prev = error->empty();
  if (!error->empty()) return false;
  *m = quality::frame_metrics(host.sums, depths, n);
  if (diffed)
    m->temporal_delta = quality::temporal_delta(host.abs_diff[0], host.abs_diff[1],
                                                host.sums[temporal_component(info)].samples,
                                                depths[temporal_component(info)]);
  return true;
}
#endif  // HAVE_IIR2D_CUDA

/* ------------------------------------------------------------------------ */
/* Outputs                                                                  */

static void post_element_message(GstQualityMeter* self, GstStructure* s) {
  gst_element_post_message(GST_ELEMENT_CAST(self), gst_message_new_element(GST_OBJECT_CAST(self), s));
}

/* One threshold: a warning when the metric goes beyond it, an element
 * message when it comes back; nothing in between. NaN changes nothing. */
static void check_threshold(GstQualityMeter* self, int index, const char* metric, double value, double threshold,
                            bool enabled, bool beyond, const FrameReport& r) {
  bool& alarm = self->priv->alarm[index];
  if (!enabled || std::isnan(value) || beyond == alarm) return;
  alarm = beyond;
  ThresholdEvent ev;
  ev.metric = metric;
  ev.value = value;
  ev.threshold = threshold;
  ev.frame = r.frame;
  ev.pts = r.pts;
  ev.recovered = !beyond;
  if (ev.recovered) {
    GST_INFO_OBJECT(self, "%s recovered: %s at frame %" G_GUINT64_FORMAT, metric, format_number(value).c_str(),
                    r.frame);
    post_element_message(self, ev.to_structure());
    return;
  }
  gchar* text = g_strdup_printf("Quality threshold crossed: %s = %s (threshold %s) at frame %" G_GUINT64_FORMAT
                                ", pts %" GST_TIME_FORMAT ".",
                                metric, format_number(value).c_str(), format_number(threshold).c_str(), r.frame,
                                GST_TIME_ARGS(r.pts));
  gchar* debug = g_strdup_printf("%s went %s its threshold; a %s message follows when it comes back", metric,
                                 index == 2 ? "above" : "below", iir2d::qm::kRecoveredMessage);
  gst_element_message_full_with_details(GST_ELEMENT_CAST(self), GST_MESSAGE_WARNING, GST_STREAM_ERROR,
                                        GST_STREAM_ERROR_FAILED, text, debug, __FILE__, GST_FUNCTION, __LINE__,
                                        ev.to_structure());
}

static void record(GstQualityMeter* self, const FrameReport& r, const Settings& s) {
  GstQualityMeterPrivate* priv = self->priv;
  {
    std::lock_guard<std::mutex> guard(priv->stats_lock);
    Collected& c = priv->collected;
    c.frames++;
    for (int i = 0; i < r.components; ++i) c.add(std::string("psnr-") + r.plane_name(i), r.psnr[i]);
    c.add("psnr-avg", r.psnr_avg);
    for (int i = 0; i < r.components; ++i) c.add(std::string("ssim-") + r.plane_name(i), r.ssim[i]);
    c.add("ssim-all", r.ssim_all);
    c.add("temporal-delta", r.temporal_delta);
  }
  priv->stats.write(r);
  if (s.post_messages) post_element_message(self, r.to_structure());
  check_threshold(self, 0, "psnr-avg", r.psnr_avg, s.min_psnr, s.min_psnr > DEFAULT_MIN_PSNR, r.psnr_avg < s.min_psnr,
                  r);
  check_threshold(self, 1, "ssim-all", r.ssim_all, s.min_ssim, s.min_ssim > DEFAULT_MIN_SSIM, r.ssim_all < s.min_ssim,
                  r);
  check_threshold(self, 2, "temporal-delta", r.temporal_delta, s.max_temporal_delta,
                  s.max_temporal_delta < DEFAULT_MAX_TEMPORAL_DELTA, r.temporal_delta > s.max_temporal_delta, r);
}

/* At EOS: the summary message and one log line per metric. */
static void finish(GstQualityMeter* self) {
  GstQualityMeterPrivate* priv = self->priv;
  if (priv->finished) return;
  priv->finished = true;
  Summary summary;
  {
    std::lock_guard<std::mutex> guard(priv->stats_lock);
    summary = summarise(priv->collected);
  }
  GST_INFO_OBJECT(self, "summary: %" G_GUINT64_FORMAT " frames measured, %" G_GUINT64_FORMAT
                        " unpaired reference frames, %" G_GUINT64_FORMAT " unpaired distorted frames",
                  summary.frames, summary.unpaired_reference, summary.unpaired_distorted);
  for (const MetricSummary& m : summary.metrics)
    GST_INFO_OBJECT(self, "summary: %-14s min %s p50 %s p95 %s mean %s harmonic-mean %s max %s", m.metric.c_str(),
                    format_number(m.min).c_str(), format_number(m.p50).c_str(), format_number(m.p95).c_str(),
                    format_number(m.mean).c_str(), format_number(m.harmonic_mean).c_str(),
                    format_number(m.max).c_str());
  post_element_message(self, summary.to_structure());
}

/* ------------------------------------------------------------------------ */
/* Pairing                                                                  */

static GstClockTime running_time(GstAggregatorPad* pad, GstBuffer* buf) {
  GST_OBJECT_LOCK(pad);
  const GstClockTime rt = gst_segment_to_running_time(&pad->segment, GST_FORMAT_TIME, GST_BUFFER_PTS(buf));
  GST_OBJECT_UNLOCK(pad);
  return rt;
}

static GstClockTime frame_duration(GstBuffer* buf, const PadState& st) {
  if (GST_BUFFER_DURATION_IS_VALID(buf)) return GST_BUFFER_DURATION(buf);
  if (st.caps && GST_VIDEO_INFO_FPS_N(&st.info) > 0)
    return gst_util_uint64_scale_int(GST_SECOND, GST_VIDEO_INFO_FPS_D(&st.info), GST_VIDEO_INFO_FPS_N(&st.info));
  return GST_CLOCK_TIME_NONE;
}

/* Sends the distorted head buffer downstream unchanged. */
static GstFlowReturn push_distorted(GstQualityMeter* self) {
  GstAggregator* agg = GST_AGGREGATOR(self);
  GstBuffer* buf = gst_aggregator_pad_pop_buffer(self->priv->pads[kDistorted]);
  if (!buf) return GST_FLOW_OK;
  gst_aggregator_selected_samples(agg, GST_BUFFER_PTS(buf), GST_BUFFER_DTS(buf), GST_BUFFER_DURATION(buf), nullptr);
  if (GST_BUFFER_PTS_IS_VALID(buf)) {
    GST_OBJECT_LOCK(agg);
    GST_AGGREGATOR_PAD(agg->srcpad)->segment.position =
        GST_BUFFER_PTS(buf) + (GST_BUFFER_DURATION_IS_VALID(buf) ? GST_BUFFER_DURATION(buf) : 0);
    GST_OBJECT_UNLOCK(agg);
  }
  return gst_aggregator_finish_buffer(agg, buf);
}

/* Measures a pair (the buffers stay queued) and records the results. */
static GstFlowReturn measure_pair(GstQualityMeter* self, GstBuffer* ref, GstBuffer* dist, GstClockTime dist_rt,
                                  const Settings& s) {
  GstQualityMeterPrivate* priv = self->priv;
  quality::FrameMetrics m;
  std::string error;
  bool ok;
#ifdef HAVE_IIR2D_CUDA
  if (priv->pad_state[kDistorted].cuda)
    ok = measure_cuda(self, ref, dist, &m, &error);
  else
#endif
    ok = measure_system(self, ref, dist, &m, &error);
  if (!ok) {
    GST_ELEMENT_ERROR(self, STREAM, FAILED, ("Could not measure frame %" G_GUINT64_FORMAT ".", priv->next_frame),
                      ("%s (%s memory)", error.c_str(), priv->pad_state[kDistorted].cuda ? "CUDA" : "system"));
    return GST_FLOW_ERROR;
  }
  FrameReport r;
  r.frame = priv->next_frame++;
  r.pts = GST_BUFFER_PTS(dist);
  r.running_time = dist_rt;
  r.components = m.components;
  r.rgb = GST_VIDEO_INFO_IS_RGB(&priv->pad_state[kDistorted].info);
  std::copy(std::begin(m.psnr), std::end(m.psnr), std::begin(r.psnr));
  std::copy(std::begin(m.ssim), std::end(m.ssim), std::begin(r.ssim));
  r.psnr_avg = m.psnr_avg;
  r.ssim_all = m.ssim_all;
  r.temporal_delta = m.temporal_delta;
  record(self, r, s);
  return GST_FLOW_OK;
}

/* What to do with the head buffers of the two pads. */
enum class Step { Pair, UnpairedReference, UnpairedDistorted, DropGapReference, DropGapDistorted };

static bool is_gap(GstBuffer* buf) {
  return GST_BUFFER_FLAG_IS_SET(buf, GST_BUFFER_FLAG_GAP) && gst_buffer_get_size(buf) == 0;
}

/* Pairs the head buffers by running time (both present). */
static Step decide(GstQualityMeter* self, GstBuffer* ref, GstBuffer* dist, const Settings& s, GstClockTime* dist_rt,
                   const char** why) {
  GstQualityMeterPrivate* priv = self->priv;
  if (is_gap(ref)) return Step::DropGapReference;
  if (is_gap(dist)) return Step::DropGapDistorted;
  const GstClockTime rrt = running_time(priv->pads[kReference], ref);
  const GstClockTime drt = running_time(priv->pads[kDistorted], dist);
  *dist_rt = drt;
  if (!GST_CLOCK_TIME_IS_VALID(rrt)) {
    *why = "outside its segment or without a timestamp";
    return Step::UnpairedReference;
  }
  if (!GST_CLOCK_TIME_IS_VALID(drt)) {
    *why = "outside its segment or without a timestamp";
    return Step::UnpairedDistorted;
  }
  /* Distorted running time shifted by distorted-offset, against the reference's. */
  const gint64 delta = static_cast<gint64>(drt) + s.distorted_offset - static_cast<gint64>(rrt);
  const GstClockTime dd = frame_duration(dist, priv->pad_state[kDistorted]);
  const GstClockTime rd = frame_duration(ref, priv->pad_state[kReference]);
  GstClockTime dur = GST_CLOCK_TIME_IS_VALID(dd) ? dd : rd;
  if (GST_CLOCK_TIME_IS_VALID(dd) && GST_CLOCK_TIME_IS_VALID(rd)) dur = std::min(dd, rd);
  const gint64 tolerance = GST_CLOCK_TIME_IS_VALID(dur) ? static_cast<gint64>(dur / 2) : 0;
  GST_LOG_OBJECT(self,
                 "reference %" GST_TIME_FORMAT " distorted %" GST_TIME_FORMAT " delta %" G_GINT64_FORMAT
                 " tolerance %" G_GINT64_FORMAT,
                 GST_TIME_ARGS(rrt), GST_TIME_ARGS(drt), delta, tolerance);
  if (tolerance > 0 ? std::llabs(delta) < tolerance : delta == 0) return Step::Pair;
  *why = "no partner at its running time";
  return delta < 0 ? Step::UnpairedDistorted : Step::UnpairedReference;
}

static void count_unpaired(GstQualityMeter* self, int role, const char* why) {
  {
    std::lock_guard<std::mutex> guard(self->priv->stats_lock);
    self->priv->collected.unpaired[role]++;
  }
  GST_DEBUG_OBJECT(self, "unpaired %s frame: %s", kRoleNames[role], why);
}

static GstFlowReturn gst_quality_meter_aggregate(GstAggregator* agg, gboolean timeout) {
  GstQualityMeter* self = GST_QUALITY_METER(agg);
  GstQualityMeterPrivate* priv = self->priv;
  GstAggregatorPad* rpad = priv->pads[kReference];
  GstAggregatorPad* dpad = priv->pads[kDistorted];
  GstBuffer* ref = gst_aggregator_pad_peek_buffer(rpad);
  GstBuffer* dist = gst_aggregator_pad_peek_buffer(dpad);

  Step step;
  const char* why = "";
  GstClockTime dist_rt = GST_CLOCK_TIME_NONE;
  GstFlowReturn ret = GST_FLOW_OK;
  if (!ref && !dist) {
    if (gst_aggregator_pad_is_eos(rpad) && gst_aggregator_pad_is_eos(dpad)) {
      finish(self);
      return GST_FLOW_EOS;
    }
    return GST_AGGREGATOR_FLOW_NEED_DATA;
  } else if (!dist) {
    /* The distorted stream ended (or, live, is late): no partner for this reference frame. */
    step = Step::UnpairedReference;
    why = gst_aggregator_pad_is_eos(dpad) ? "the distorted pad is at EOS" : "timeout";
  } else if (!ref) {
    step = Step::UnpairedDistorted;
    why = gst_aggregator_pad_is_eos(rpad) ? "the reference pad is at EOS" : "timeout";
  } else {
    const Settings s = copy_settings(self);
    step = decide(self, ref, dist, s, &dist_rt, &why);
    if (step == Step::Pair) ret = measure_pair(self, ref, dist, dist_rt, s);
  }
  (void)timeout;
  /* Our peeked references go first, so the distorted buffer leaves writable. */
  gst_clear_buffer(&ref);
  gst_clear_buffer(&dist);
  if (ret != GST_FLOW_OK) return ret;

  switch (step) {
    case Step::Pair:
      gst_aggregator_pad_drop_buffer(rpad);
      return push_distorted(self);
    case Step::UnpairedReference:
      count_unpaired(self, kReference, why);
      gst_aggregator_pad_drop_buffer(rpad);
      return GST_FLOW_OK;
    case Step::UnpairedDistorted:
      count_unpaired(self, kDistorted, why);
      return push_distorted(self);
    case Step::DropGapReference:
      gst_aggregator_pad_drop_buffer(rpad);
      return GST_FLOW_OK;
    case Step::DropGapDistorted:
      gst_aggregator_pad_drop_buffer(dpad);
      return GST_FLOW_OK;
  }
  return GST_FLOW_OK;
}

/* ------------------------------------------------------------------------ */
/* Class                                                                    */

static void gst_quality_meter_class_init(GstQualityMeterClass* klass) {
  GObjectClass* gobject_class = G_OBJECT_CLASS(klass);
  GstElementClass* element_class = GST_ELEMENT_CLASS(klass);
  GstAggregatorClass* agg_class = GST_AGGREGATOR_CLASS(klass);

  GST_DEBUG_CATEGORY_INIT(gst_quality_meter_debug, "qualitymeter", 0, "PSNR/SSIM/temporal quality meter");

  gobject_class->set_property = gst_quality_meter_set_property;
  gobject_class->get_property = gst_quality_meter_get_property;
  gobject_class->dispose = gst_quality_meter_dispose;
  gobject_class->finalize = gst_quality_meter_finalize;

  const GParamFlags live = GParamFlags(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_PLAYING);
  const GParamFlags ready = GParamFlags(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY);

  g_object_class_install_property(
      gobject_class, PROP_DISTORTED_OFFSET,
      g_param_spec_int64("distorted-offset", "Distorted offset",
                         "Nanoseconds added to the distorted stream's running times before pairing (e.g. "
                         "-100000000 when the distorted stream's timestamps are 100 ms late)",
                         G_MININT64, G_MAXINT64, DEFAULT_DISTORTED_OFFSET, live));
  g_object_class_install_property(
      gobject_class, PROP_POST_MESSAGES,
      g_param_spec_boolean("post-messages", "Post messages",
                           "Post a \"qualitymeter\" element message with the metrics of every frame",
                           DEFAULT_POST_MESSAGES, live));
  g_object_class_install_property(
      gobject_class, PROP_STATS_FILE,
      g_param_spec_string("stats-file", "Stats file",
                          "File that receives one row of metrics per frame (\"-\" for standard output; none when "
                          "unset); opened when the element starts",
                          nullptr, ready));
  g_object_class_install_property(
      gobject_class, PROP_STATS_FORMAT,
      g_param_spec_enum("stats-format", "Stats format", "Format of stats-file",
                        GST_TYPE_QUALITY_METER_STATS_FORMAT, DEFAULT_STATS_FORMAT, ready));
  g_object_class_install_property(
      gobject_class, PROP_MIN_PSNR,
      g_param_spec_double("min-psnr", "Minimum PSNR",
                          "Warn when psnr-avg drops below this many dB (0 = off)", 0.0, G_MAXDOUBLE,
                          DEFAULT_MIN_PSNR, live));
  g_object_class_install_property(
      gobject_class, PROP_MIN_SSIM,
      g_param_spec_double("min-ssim", "Minimum SSIM", "Warn when ssim-all drops below this value (-1 = off)", -1.0,
                          1.0, DEFAULT_MIN_SSIM, live));
  g_object_class_install_property(
      gobject_class, PROP_MAX_TEMPORAL_DELTA,
      g_param_spec_double("max-temporal-delta", "Maximum temporal delta",
                          "Warn when temporal-delta rises above this value (1 = off)", 0.0, 1.0,
                          DEFAULT_MAX_TEMPORAL_DELTA, live));
  g_object_class_install_property(
      gobject_class, PROP_SUMMARY,
      g_param_spec_boxed("summary", "Summary",
                         "Summary so far: frames measured, unpaired frames per pad, and min/p50/p95/mean/"
                         "harmonic-mean/max of every metric (a \"qualitymeter-summary\" structure)",
                         GST_TYPE_STRUCTURE, GParamFlags(G_PARAM_READABLE | G_PARAM_STATIC_STRINGS)));
  iir2d::gst::install_cuda_device_id_property(gobject_class, PROP_CUDA_DEVICE_ID, DEFAULT_CUDA_DEVICE_ID);

  gst_element_class_set_static_metadata(element_class, "Video quality meter", "Filter/Analyzer/Video",
                                        "PSNR and SSIM (as ffmpeg defines them) and temporal stability of a "
                                        "distorted stream against its reference, on the GPU for CUDA memory and "
                                        "on the CPU for system memory; the distorted stream passes through",
                                        "gst-iir2d developers");
  gst_element_class_add_static_pad_template_with_gtype(element_class, &reference_template, GST_TYPE_AGGREGATOR_PAD);
  gst_element_class_add_static_pad_template_with_gtype(element_class, &distorted_template, GST_TYPE_AGGREGATOR_PAD);
  gst_element_class_add_static_pad_template_with_gtype(element_class, &src_template, GST_TYPE_AGGREGATOR_PAD);

#ifdef HAVE_IIR2D_CUDA
  element_class->set_context = GST_DEBUG_FUNCPTR(gst_quality_meter_set_context);
#endif

  agg_class->start = GST_DEBUG_FUNCPTR(gst_quality_meter_start);
  agg_class->stop = GST_DEBUG_FUNCPTR(gst_quality_meter_stop);
  agg_class->flush = GST_DEBUG_FUNCPTR(gst_quality_meter_flush);
  agg_class->sink_event = GST_DEBUG_FUNCPTR(gst_quality_meter_sink_event);
  agg_class->sink_query = GST_DEBUG_FUNCPTR(gst_quality_meter_sink_query);
  agg_class->src_query = GST_DEBUG_FUNCPTR(gst_quality_meter_src_query);
  agg_class->update_src_caps = GST_DEBUG_FUNCPTR(gst_quality_meter_update_src_caps);
  agg_class->aggregate = GST_DEBUG_FUNCPTR(gst_quality_meter_aggregate);
  agg_class->get_next_time = gst_aggregator_simple_get_next_time;

  gst_type_mark_as_plugin_api(GST_TYPE_QUALITY_METER_STATS_FORMAT, GstPluginAPIFlags(0));
}

static void gst_quality_meter_init(GstQualityMeter* self) {
  self->priv = new GstQualityMeterPrivate();
  GstElementClass* klass = GST_ELEMENT_GET_CLASS(self);
  for (int role : {kReference, kDistorted}) {
    GstPadTemplate* templ = gst_element_class_get_pad_template(klass, kRoleNames[role]);
    GstPad* pad = GST_PAD(g_object_new(GST_TYPE_AGGREGATOR_PAD, "name", kRoleNames[role], "direction",
                                       GST_PAD_SINK, "template", templ, nullptr));
    self->priv->pads[role] = GST_AGGREGATOR_PAD(pad);
    gst_element_add_pad(GST_ELEMENT(self), pad);
  }
}
