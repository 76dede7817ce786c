// SPDX-License-Identifier: MIT
/**
 * SECTION:element-iir2dfilter
 * @title: iir2dfilter
 * @short_description: recursive (IIR) 2-D smoothing filters of the IIR2D family
 *
 * Runs one of the eight recursive 2-D filters of IIR2D 1.0 (a horizontal then
 * a vertical pass of a short recursive program, see the project's
 * FILTER_CONTRACT.md) on the luma plane, or on every colour plane, of raw
 * video, optionally smoothed over time. Output caps are the input caps.
 *
 * Video in CUDA memory (`video/x-raw(memory:CUDAMemory)`) is filtered on the
 * GPU by the project's CUDA kernels, on the element's own CUDA stream in the
 * pipeline's shared #GstCudaContext. Video in system memory is filtered by
 * the CPU reference implementation (exact, but slow: meant for tests and
 * small frames). CUDA memory in and system memory out (or the reverse) is
 * never negotiated: put `cudaupload`/`cudadownload` around the element.
 *
 * Sample values are normalised to [0, 1] per component with the format's
 * real bit depth (`v / (2^depth - 1)`: P010_10LE is MSB-aligned in 16-bit
 * words and I420_10LE LSB-aligned, both with peak 1023), filtered, blended
 * with the input by #GstIir2dFilter:strength, smoothed over time where
 * #GstIir2dFilter:temporal-mode says so, rounded and clamped. Components
 * that are not filtered are copied bit-exact; alpha and the padding byte of
 * RGBx/BGRx are never filtered.
 *
 * ## Formats
 *
 * YUV and gray: GRAY8, GRAY16_LE, NV12, NV21, I420, YV12, Y42B, Y444, A420,
 * I420_10LE, I422_10LE, Y444_10LE, P010_10LE, P016_LE, Y444_16LE. Packed RGB:
 * RGBA, BGRA, RGBx, BGRx, ARGB, ABGR, RGB, BGR. Planar RGB: RGBP, BGRP, GBR,
 * GBRA. GStreamer 1.22's CUDA allocator (gst_cuda_allocator_alloc) has a
 * memory layout for all of them except GRAY8, GRAY16_LE, A420 and Y444_10LE,
 * and asserts on those: they are offered in system memory only (convert to
 * Y444_16LE, I420 or NV12 to filter them on the GPU).
 *
 * ## RGB
 *
 * `planes=all` filters R', G' and B' independently. `planes=luma` filters
 * Y' = Kr·R' + Kg·G' + Kb·B' of the stream's Y'CbCr matrix and keeps Cb and
 * Cr: converting back gives exactly R' + (Y'' − Y') (and the same for G'
 * and B'), where Y'' is the filtered, blended (and smoothed) luma, so the
 * chroma is never computed. The matrix is the one the caps' `colorimetry`
 * names where it names a Y'CbCr matrix (GStreamer forces the RGB matrix on
 * RGB formats, so the field is read as written), else the one of the
 * primaries (BT.2020 → BT.2020, BT.601/SMPTE 170M → BT.601, SMPTE 240M →
 * SMPTE 240M), else BT.709.
 *
 * ## Temporal smoothing
 *
 * With #GstIir2dFilter:temporal-mode `fixed` or `adaptive` each output is
 * `out_t = α·o_t + (1−α)·out_{t−1}`, `o_t` the strength-blended filtered
 * value before quantisation and `out_{t−1}` the previous output, kept in
 * float32 per filtered sample (on the GPU for CUDA memory). `adaptive` takes
 * α per pixel: the mean absolute difference between `o_t` and `out_{t−1}`
 * over the pixel's filtered components (components of one sampling grid:
 * R', G', B'; Y, U, V of 4:4:4; U and V of 4:2:0 and 4:2:2; Y alone), divided
 * by #GstIir2dFilter:motion-threshold, clipped to [0, 1] and mapped linearly
 * onto [#GstIir2dFilter:temporal-alpha-min, #GstIir2dFilter:temporal-alpha-max].
 * The state restarts from the next frame after a FLUSH_STOP, a caps change,
 * a DISCONT buffer, a change of #GstIir2dFilter:filter-id or
 * #GstIir2dFilter:planes, and whenever temporal smoothing was off.
 *
 * ## Live control
 *
 * Every property but #GstIir2dFilter:cuda-device-id may be set while
 * PLAYING and applies from the next buffer; #GstIir2dFilter:strength,
 * #GstIir2dFilter:border-constant and #GstIir2dFilter:temporal-alpha are
 * also controllable (GstController), synchronised to each buffer's stream
 * time. With `strength=0` and `temporal-mode=off` the element is in
 * passthrough (the input buffer is pushed on, no copy, no kernel); leaving
 * or entering it renegotiates, so the CUDA buffer pool is set up again. QoS
 * is enabled: buffers that are already late are dropped and counted (QoS
 * messages). The element adds no latency and answers latency queries with
 * upstream's.
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 videotestsrc num-buffers=100 ! video/x-raw,format=NV12,width=320,height=240 ! iir2dfilter filter-id=6 ! videoconvert ! autovideosink
 * ]| Deriche smoothing (sigma 2) of the luma plane, on the CPU.
 * |[
 * gst-launch-1.0 videotestsrc num-buffers=100 ! video/x-raw,format=NV12,width=1920,height=1080 ! cudaupload ! iir2dfilter filter-id=2 planes=all border=clamp ! cudadownload ! videoconvert ! autovideosink
 * ]| Two first-order stages on all planes, on the GPU.
 * |[
 * gst-launch-1.0 videotestsrc num-buffers=100 ! video/x-raw,format=P010_10LE,width=1920,height=1080 ! cudaupload ! iir2dfilter filter-id=6 sigma=3 temporal-mode=adaptive ! cudadownload ! videoconvert ! autovideosink
 * ]| 10-bit 4:2:0 on the GPU, with motion-adaptive temporal smoothing.
 * |[
 * gst-launch-1.0 videotestsrc num-buffers=100 ! video/x-raw,format=RGBA,width=1280,height=720 ! cudaupload ! iir2dfilter filter-id=4 unity-gain=true ! cudadownload ! videoconvert ! autovideosink
 * ]| RGBA graphics smoothed through their BT.709 luma; alpha untouched.
 * |[
 * gst-launch-1.0 filesrc location=in.mp4 ! qtdemux ! h264parse ! nvh264dec ! iir2dfilter filter-id=4 border-init=iir2d precision=mixed ! cudadownload ! videoconvert ! autovideosink
 * ]| Decoded frames stay in GPU memory; IIR2D 1.0's border warm-up is reproduced.
 *
 * Since: 0.1
 */

#include "gstiir2dfilter.h"

#include "gstiir2dcudautils.h"

#include <gst/video/video.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstddef>
#include <exception>
#include <mutex>
#include <string>
#include <vector>

#include "iir2d/filters.h"
#include "iir2d/frame.h"
#include "iir2d/frame_ops.h"
#include "iir2d/refcpu.h"

#ifdef HAVE_IIR2D_CUDA
#include <cuda_runtime_api.h>
#include <gst/cuda/gstcudabufferpool.h>
#include <gst/cuda/gstcudacontext.h>
#include <gst/cuda/gstcudaloader.h>
#include <gst/cuda/gstcudamemory.h>
#include <gst/cuda/gstcudautils.h>

#include "iir2d/cuda_filter.h"
#include "iir2d/cuda_video.h"
#endif

GST_DEBUG_CATEGORY_STATIC(gst_iir2d_filter_debug);
#define GST_CAT_DEFAULT gst_iir2d_filter_debug

/* Formats: integer samples in host (little endian) order. The CUDA list is
 * the subset GStreamer 1.22's CUDA allocator can lay out (it has no GRAY8,
 * GRAY16, A420 or Y444_10LE layout and asserts on them). qualitymeter keeps
 * its own list (IIR2D_CAPS in gstiir2dcudautils.h). */
#define IIR2D_FILTER_SYSTEM_FORMATS                                                                       \
  "{ GRAY8, GRAY16_LE, NV12, NV21, I420, YV12, Y42B, Y444, A420, I420_10LE, I422_10LE, Y444_10LE, "     \
  "P010_10LE, P016_LE, Y444_16LE, RGBA, BGRA, RGBx, BGRx, ARGB, ABGR, RGB, BGR, RGBP, BGRP, GBR, GBRA }"
#define IIR2D_FILTER_CUDA_FORMATS                                                                          \
  "{ NV12, NV21, I420, YV12, Y42B, Y444, I420_10LE, I422_10LE, P010_10LE, P016_LE, Y444_16LE, RGBA, BGRA, " \
  "RGBx, BGRx, ARGB, ABGR, RGB, BGR, RGBP, BGRP, GBR, GBRA }"

#ifdef HAVE_IIR2D_CUDA
#define IIR2D_FILTER_CAPS                                                                                      \
  GST_VIDEO_CAPS_MAKE_WITH_FEATURES(GST_CAPS_FEATURE_MEMORY_CUDA_MEMORY, IIR2D_FILTER_CUDA_FORMATS) "; " \
  GST_VIDEO_CAPS_MAKE(IIR2D_FILTER_SYSTEM_FORMATS)
#else
#define IIR2D_FILTER_CAPS GST_VIDEO_CAPS_MAKE(IIR2D_FILTER_SYSTEM_FORMATS)
#endif

static GstStaticPadTemplate sink_template =
    GST_STATIC_PAD_TEMPLATE("sink", GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS(IIR2D_FILTER_CAPS));
static GstStaticPadTemplate src_template =
    GST_STATIC_PAD_TEMPLATE("src", GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS(IIR2D_FILTER_CAPS));

enum {
  PROP_0,
  PROP_FILTER_ID,
  PROP_BORDER,
  PROP_BORDER_CONSTANT,
  PROP_BORDER_INIT,
  PROP_PRECISION,
  PROP_STRENGTH,
  PROP_PLANES,
  PROP_CUDA_DEVICE_ID,
  PROP_SIGMA,
  PROP_UNITY_GAIN,
  PROP_TEMPORAL_MODE,
  PROP_TEMPORAL_ALPHA,
  PROP_TEMPORAL_ALPHA_MIN,
  PROP_TEMPORAL_ALPHA_MAX,
  PROP_MOTION_THRESHOLD,
};

#define DEFAULT_FILTER_ID 1u
#define DEFAULT_BORDER GST_IIR2D_BORDER_MIRROR
#define DEFAULT_BORDER_CONSTANT 0.0
#define DEFAULT_BORDER_INIT GST_IIR2D_BORDER_INIT_EXACT
#define DEFAULT_PRECISION GST_IIR2D_PRECISION_F32
#define DEFAULT_STRENGTH 1.0
#define DEFAULT_PLANES GST_IIR2D_PLANES_LUMA
#define DEFAULT_CUDA_DEVICE_ID (-1)
#define DEFAULT_SIGMA iir2d::kDericheSigma
#define DEFAULT_UNITY_GAIN FALSE
#define DEFAULT_TEMPORAL_MODE GST_IIR2D_TEMPORAL_OFF
#define DEFAULT_TEMPORAL_ALPHA 0.9
#define DEFAULT_TEMPORAL_ALPHA_MIN 0.10
#define DEFAULT_TEMPORAL_ALPHA_MAX 0.95
#define DEFAULT_MOTION_THRESHOLD 0.08

/* ------------------------------------------------------------------------ */
/* Enum types                                                               */

/* Registers a static enum type once (thread-safe). */
static GType register_enum(GType* type, const char* name, const GEnumValue* values) {
  if (g_once_init_enter(type)) {
    GType t = g_enum_register_static(name, values);
    g_once_init_leave(type, t);
  }
  return *type;
}

GType gst_iir2d_border_get_type(void) {
  static GType type = 0;
  static const GEnumValue values[] = {
      {GST_IIR2D_BORDER_CLAMP, "Repeat the edge sample", "clamp"},
      {GST_IIR2D_BORDER_MIRROR, "Reflect with the edge sample repeated", "mirror"},
      {GST_IIR2D_BORDER_WRAP, "Periodic extension", "wrap"},
      {GST_IIR2D_BORDER_CONSTANT, "The value of border-constant", "constant"},
      {0, nullptr, nullptr},
  };
  return register_enum(&type, "GstIir2dBorder", values);
}

GType gst_iir2d_border_init_get_type(void) {
  static GType type = 0;
  static const GEnumValue values[] = {
      {GST_IIR2D_BORDER_INIT_EXACT, "Response to the infinite border extension", "exact"},
      {GST_IIR2D_BORDER_INIT_IIR2D, "IIR2D 1.0 warm-up from a few border samples", "iir2d"},
      {0, nullptr, nullptr},
  };
  return register_enum(&type, "GstIir2dBorderInit", values);
}

GType gst_iir2d_precision_get_type(void) {
  static GType type = 0;
  static const GEnumValue values[] = {
      {GST_IIR2D_PRECISION_F32, "float32 storage and arithmetic", "f32"},
      {GST_IIR2D_PRECISION_MIXED, "float32 storage, float64 recursion", "mixed"},
      {GST_IIR2D_PRECISION_F64, "float64 storage and arithmetic", "f64"},
      {0, nullptr, nullptr},
  };
  return register_enum(&type, "GstIir2dPrecision", values);
}

GType gst_iir2d_planes_get_type(void) {
  static GType type = 0;
  static const GEnumValue values[] = {
      {GST_IIR2D_PLANES_LUMA, "Luma (or gray) only, other planes copied; RGB through its Y'", "luma"},
      {GST_IIR2D_PLANES_ALL, "Luma and chroma, or R, G and B (never alpha)", "all"},
      {0, nullptr, nullptr},
  };
  return register_enum(&type, "GstIir2dPlanes", values);
}

GType gst_iir2d_temporal_mode_get_type(void) {
  static GType type = 0;
  static const GEnumValue values[] = {
      {GST_IIR2D_TEMPORAL_OFF, "No temporal smoothing", "off"},
      {GST_IIR2D_TEMPORAL_FIXED, "One alpha (temporal-alpha) for every pixel", "fixed"},
      {GST_IIR2D_TEMPORAL_ADAPTIVE, "Alpha per pixel from its motion (temporal-alpha-min..max)", "adaptive"},
      {0, nullptr, nullptr},
  };
  return register_enum(&type, "GstIir2dTemporalMode", values);
}

/* ------------------------------------------------------------------------ */
/* Instance                                                                 */

namespace {

/* Property values. Guarded by GstIir2dFilterPrivate::lock; the streaming
 * thread copies them once per frame. */
struct Settings {
  guint filter_id = DEFAULT_FILTER_ID;
  GstIir2dBorder border = DEFAULT_BORDER;
  gdouble border_constant = DEFAULT_BORDER_CONSTANT;
  GstIir2dBorderInit border_init = DEFAULT_BORDER_INIT;
  GstIir2dPrecision precision = DEFAULT_PRECISION;
  gdouble strength = DEFAULT_STRENGTH;
  GstIir2dPlanes planes = DEFAULT_PLANES;
  gint cuda_device_id = DEFAULT_CUDA_DEVICE_ID;
  gdouble sigma = DEFAULT_SIGMA;
  gboolean unity_gain = DEFAULT_UNITY_GAIN;
  GstIir2dTemporalMode temporal_mode = DEFAULT_TEMPORAL_MODE;
  gdouble temporal_alpha = DEFAULT_TEMPORAL_ALPHA;
  gdouble temporal_alpha_min = DEFAULT_TEMPORAL_ALPHA_MIN;
  gdouble temporal_alpha_max = DEFAULT_TEMPORAL_ALPHA_MAX;
  gdouble motion_threshold = DEFAULT_MOTION_THRESHOLD;

  bool temporal() const { return temporal_mode != GST_IIR2D_TEMPORAL_OFF; }
  /* Output == input: no copy, no kernel (gstvideobalance.c decides its
   * passthrough from its settings the same way). */
  bool passthrough() const { return strength == 0.0 && !temporal(); }
};

iir2d::FilterParams to_filter_params(const Settings& s) {
  iir2d::FilterParams p;
  p.filter_id = static_cast<int>(s.filter_id);
  p.border = static_cast<iir2d::Border>(s.border);
  p.border_constant = s.border_constant;
  p.border_init = static_cast<iir2d::BorderInit>(s.border_init);
  p.precision = static_cast<iir2d::Precision>(s.precision);
  p.sigma = s.sigma;
  p.unity_gain = s.unity_gain != FALSE;
  return p;
}

iir2d::TemporalParams to_temporal_params(const Settings& s) {
  iir2d::TemporalParams t;
  t.mode = static_cast<iir2d::TemporalMode>(s.temporal_mode);
  t.alpha = s.temporal_alpha;
  t.alpha_min = s.temporal_alpha_min;
  t.alpha_max = s.temporal_alpha_max;
  t.motion_threshold = s.motion_threshold;
  return t;
}

/* ---- frame plan: what happens to each component ----------------------- */

enum class OpKind {
  Copy,     // component copied bit-exact (unfiltered chroma, alpha)
  CopyPad,  // a padding byte of a packed plane (the x of RGBx), copied
  Filter,   // one component filtered (contract section 5)
  Group,    // 1..3 components of one pixel grid, filtered with temporal smoothing
  RgbLuma,  // R, G, B through Y' of the stream's matrix
};

struct FrameOp {
  OpKind kind = OpKind::Copy;
  int count = 1;                               // components in comp[] (Group, RgbLuma)
  guint comp[iir2d::kMaxGroupComponents] = {};  // CopyPad: the plane in comp[0]
  guint pad_offset = 0;                        // CopyPad: byte offset in the pixel
  std::size_t state_offset = 0;                // floats into the temporal state
  bool plane_alone = false;                    // Copy: no other op writes its plane
};

/* At most 4 components plus padding bytes: fixed storage, no allocation per frame. */
struct FramePlan {
  std::array<FrameOp, 8> ops{};
  int n = 0;
  std::size_t state_floats = 0;  // temporal state the plan uses
  void add(const FrameOp& op) { ops[static_cast<std::size_t>(n++)] = op; }
};

/* A padding byte of a packed plane. */
struct PadByte {
  guint plane = 0;
  guint offset = 0;
};

/* Per caps: which bytes of packed planes belong to no component (RGBx's x). */
std::vector<PadByte> padding_bytes(const GstVideoInfo* info) {
  std::vector<PadByte> pads;
  const GstVideoFormatInfo* finfo = info->finfo;
  for (guint p = 0; p < GST_VIDEO_INFO_N_PLANES(info); ++p) {
    gint pstride = 0;
    std::vector<bool> covered;
    for (guint c = 0; c < GST_VIDEO_INFO_N_COMPONENTS(info); ++c) {
      if (GST_VIDEO_FORMAT_INFO_PLANE(finfo, c) != p) continue;
      pstride = GST_VIDEO_FORMAT_INFO_PSTRIDE(finfo, c);
      covered.resize(static_cast<std::size_t>(std::max(pstride, 0)), false);
      const guint bytes = GST_VIDEO_FORMAT_INFO_BITS(finfo) > 8 ? 2 : 1;
      for (guint b = 0; b < bytes; ++b) {
        const guint at = GST_VIDEO_FORMAT_INFO_POFFSET(finfo, c) + b;
        if (at < covered.size()) covered[at] = true;
      }
    }
    for (std::size_t b = 0; b < covered.size(); ++b)
      if (!covered[b]) pads.push_back(PadByte{p, static_cast<guint>(b)});
  }
  return pads;
}

/* Whether YUV/gray component `c` is filtered: luma/gray always, chroma with
 * planes=all, alpha never. */
bool component_is_filtered(const GstVideoInfo* info, guint c, GstIir2dPlanes planes) {
  if (GST_VIDEO_INFO_HAS_ALPHA(info) && c == GST_VIDEO_COMP_A) return false;
  if (c == 0) return true;  // GST_VIDEO_COMP_Y, or the gray component
  return planes == GST_IIR2D_PLANES_ALL;
}

std::size_t comp_samples(const GstVideoInfo* info, guint c) {
  return static_cast<std::size_t>(GST_VIDEO_INFO_COMP_WIDTH(info, c)) *
         static_cast<std::size_t>(GST_VIDEO_INFO_COMP_HEIGHT(info, c));
}

/* The ops of one frame for these caps and settings. Without temporal
 * smoothing, components are filtered one by one (Filter) except RGB's luma;
 * with it, the filtered components of one sampling grid form a Group so that
 * adaptive mode sees the pixel's motion over all of them. */
FramePlan plan_frame(const GstVideoInfo* info, const std::vector<PadByte>& pads, const Settings& s) {
  FramePlan plan;
  const bool temporal = s.temporal();
  const bool active = s.strength > 0.0 || temporal;
  const guint n = GST_VIDEO_INFO_N_COMPONENTS(info);
  auto add_filtered = [&](const guint* comps, int count, bool rgb_luma) {
    FrameOp op;
    if (!active) {
      for (int k = 0; k < count; ++k) {
        op.kind = OpKind::Copy;
        op.comp[0] = comps[k];
        plan.add(op);
      }
      return;
    }
    if (rgb_luma || (temporal && count > 0)) {
      op.kind = rgb_luma ? OpKind::RgbLuma : OpKind::Group;
      op.count = count;
      for (int k = 0; k < count; ++k) op.comp[k] = comps[k];
      if (temporal) {
        op.state_offset = plan.state_floats;
        plan.state_floats += comp_samples(info, comps[0]) * static_cast<std::size_t>(rgb_luma ? 1 : count);
      }
      plan.add(op);
      return;
    }
    for (int k = 0; k < count; ++k) {
      op.kind = OpKind::Filter;
      op.comp[0] = comps[k];
      plan.add(op);
    }
  };

  std::vector<bool> done(n, false);
  if (GST_VIDEO_INFO_IS_RGB(info)) {
    const guint rgb[3] = {GST_VIDEO_COMP_R, GST_VIDEO_COMP_G, GST_VIDEO_COMP_B};
    add_filtered(rgb, 3, s.planes == GST_IIR2D_PLANES_LUMA);
    for (guint c : rgb) done[c] = true;
  } else {
    /* Filtered components grouped by size, in component order. */
    for (guint c = 0; c < n; ++c) {
      if (done[c] || !component_is_filtered(info, c, s.planes)) continue;
      guint group[iir2d::kMaxGroupComponents];
      int count = 0;
      for (guint d = c; d < n && count < iir2d::kMaxGroupComponents; ++d)
        if (!done[d] && component_is_filtered(info, d, s.planes) &&
            GST_VIDEO_INFO_COMP_WIDTH(info, d) == GST_VIDEO_INFO_COMP_WIDTH(info, c) &&
            GST_VIDEO_INFO_COMP_HEIGHT(info, d) == GST_VIDEO_INFO_COMP_HEIGHT(info, c)) {
          group[count++] = d;
          done[d] = true;
        }
      add_filtered(group, count, false);
    }
  }
  for (guint c = 0; c < n; ++c) {
    if (done[c]) continue;
    FrameOp op;
    op.kind = OpKind::Copy;
    op.comp[0] = c;
    plan.add(op);
  }
  for (const PadByte& pad : pads) {
    FrameOp op;
    op.kind = OpKind::CopyPad;
    op.comp[0] = pad.plane;
    op.pad_offset = pad.offset;
    plan.add(op);
  }
  /* A copy whose plane no other op writes may run beside the filters (the
   * CUDA backend puts it on a second stream); one that shares its plane
   * with a filtered component (RGBA's alpha, NV12's V beside a filtered U)
   * stays in order with them. */
  auto plane_of = [info](guint c) { return GST_VIDEO_FORMAT_INFO_PLANE(info->finfo, c); };
  for (int i = 0; i < plan.n; ++i) {
    FrameOp& op = plan.ops[static_cast<std::size_t>(i)];
    if (op.kind != OpKind::Copy) continue;
    op.plane_alone = true;
    for (int j = 0; j < plan.n && op.plane_alone; ++j) {
      const FrameOp& other = plan.ops[static_cast<std::size_t>(j)];
      if (j == i || other.kind == OpKind::Copy) continue;
      if (other.kind == OpKind::CopyPad) {
        op.plane_alone = other.comp[0] != plane_of(op.comp[0]);
        continue;
      }
      for (int k = 0; k < other.count; ++k)
        if (plane_of(other.comp[k]) == plane_of(op.comp[0])) op.plane_alone = false;
    }
  }
  return plan;
}

/* Temporal state any settings may need for these caps: one float per
 * sample of every component that can be filtered. */
std::size_t max_state_floats(const GstVideoInfo* info) {
  std::size_t total = 0;
  for (guint c = 0; c < GST_VIDEO_INFO_N_COMPONENTS(info); ++c)
    if (!(GST_VIDEO_INFO_HAS_ALPHA(info) && c == GST_VIDEO_COMP_A)) total += comp_samples(info, c);
  return total;
}

/* Y' weights of RGB caps (element docs, "RGB"): the matrix the caps'
 * colorimetry field names, else the primaries' matrix, else BT.709.
 * GstVideoInfo cannot tell: it forces the RGB matrix on RGB formats. */
iir2d::LumaWeights luma_weights_for_caps(GstCaps* caps, const GstVideoInfo* info, const char** name) {
  GstVideoColorMatrix matrix = GST_VIDEO_COLOR_MATRIX_UNKNOWN;
  const gchar* text = gst_structure_get_string(gst_caps_get_structure(caps, 0), "colorimetry");
  GstVideoColorimetry written;
  if (text && gst_video_colorimetry_from_string(&written, text)) matrix = written.matrix;
  if (matrix == GST_VIDEO_COLOR_MATRIX_RGB || matrix == GST_VIDEO_COLOR_MATRIX_UNKNOWN) {
    switch (info->colorimetry.primaries) {
      case GST_VIDEO_COLOR_PRIMARIES_BT2020: matrix = GST_VIDEO_COLOR_MATRIX_BT2020; break;
      case GST_VIDEO_COLOR_PRIMARIES_BT470BG:
      case GST_VIDEO_COLOR_PRIMARIES_SMPTE170M: matrix = GST_VIDEO_COLOR_MATRIX_BT601; break;
      case GST_VIDEO_COLOR_PRIMARIES_SMPTE240M: matrix = GST_VIDEO_COLOR_MATRIX_SMPTE240M; break;
      default: matrix = GST_VIDEO_COLOR_MATRIX_BT709; break;
    }
  }
  iir2d::LumaWeights w = iir2d::kLumaBt709;
  if (!gst_video_color_matrix_get_Kr_Kb(matrix, &w.kr, &w.kb)) {
    w = iir2d::kLumaBt709;
    matrix = GST_VIDEO_COLOR_MATRIX_BT709;
  }
  switch (matrix) {
    case GST_VIDEO_COLOR_MATRIX_BT601: *name = "BT.601"; break;
    case GST_VIDEO_COLOR_MATRIX_BT2020: *name = "BT.2020"; break;
    case GST_VIDEO_COLOR_MATRIX_SMPTE240M: *name = "SMPTE 240M"; break;
    case GST_VIDEO_COLOR_MATRIX_FCC: *name = "FCC"; break;
    default: *name = "BT.709"; break;
  }
  return w;
}

}  // namespace

struct GstIir2dFilterPrivate {
  std::mutex lock;  // guards settings only
  Settings settings;

  /* State: built in set_caps, dropped in stop, used by the streaming thread. */
  GstVideoInfo in_info{};
  GstVideoInfo out_info{};
  bool have_info = false;
  bool cuda_caps = false;  // memory:CUDAMemory negotiated (both sides)
  std::vector<PadByte> pads;             // padding bytes of packed planes
  iir2d::LumaWeights luma_weights{};     // RGB planes=luma
  std::size_t state_capacity = 0;        // floats of temporal state for these caps

  /* Temporal recursion (streaming thread, but reset_pending also from
   * FLUSH_STOP, which may come from another thread). */
  std::vector<float> host_state;         // system memory path
  bool temporal_valid = false;
  guint temporal_filter_id = 0;
  GstIir2dPlanes temporal_planes = DEFAULT_PLANES;
  std::atomic<bool> reset_pending{false};

#ifdef HAVE_IIR2D_CUDA
  GstCudaContext* context = nullptr;  // the pipeline's shared CUDA context
  cudaStream_t stream = nullptr;      // our own non-blocking stream in it
  cudaStream_t copy_stream = nullptr; // a second one: plane copies beside the filter
  void* workspace = nullptr;          // cudaMalloc'd in `context`
  std::size_t workspace_bytes = 0;
  std::size_t workspace_needed = 0;   // largest need for the current caps
  void* device_state = nullptr;       // temporal state, cudaMalloc'd in `context`
  std::size_t device_state_bytes = 0;
  std::string cuda_unavailable;       // why there is no usable context, for errors
#endif
};

struct _GstIir2dFilter {
  GstBaseTransform parent;
  GstIir2dFilterPrivate* priv;
};

#define gst_iir2d_filter_parent_class parent_class
G_DEFINE_TYPE(GstIir2dFilter, gst_iir2d_filter, GST_TYPE_BASE_TRANSFORM);
GST_ELEMENT_REGISTER_DEFINE(iir2dfilter, "iir2dfilter", GST_RANK_NONE, GST_TYPE_IIR2D_FILTER);

/* ------------------------------------------------------------------------ */
/* Video component descriptors                                              */

namespace {

/* Component `c` of a mapped frame as a strided array of integer samples
 * (with GST_MAP_CUDA the data pointer is a device pointer), and whether caps
 * carry memory:CUDAMemory: gstiir2dcudautils.h. */
using iir2d::gst::caps_are_cuda;
using iir2d::gst::frame_component;

/* A padding byte of a packed plane as a component of 8-bit samples. */
template <typename Component>
Component pad_component(const GstVideoFrame* frame, guint plane, guint offset) {
  Component comp;
  guint c0 = 0;  // a component of that plane, for its size and pixel stride
  for (guint c = 0; c < GST_VIDEO_FRAME_N_COMPONENTS(frame); ++c)
    if (GST_VIDEO_FORMAT_INFO_PLANE(frame->info.finfo, c) == plane) {
      c0 = c;
      break;
    }
  comp.data = static_cast<guint8*>(GST_VIDEO_FRAME_PLANE_DATA(frame, plane)) + offset;
  comp.width = GST_VIDEO_FRAME_COMP_WIDTH(frame, c0);
  comp.height = GST_VIDEO_FRAME_COMP_HEIGHT(frame, c0);
  comp.row_stride = GST_VIDEO_FRAME_PLANE_STRIDE(frame, plane);
  comp.pixel_stride = GST_VIDEO_FRAME_COMP_PSTRIDE(frame, c0);
  comp.type = iir2d::SampleType::U8;
  comp.depth = 8;
  comp.shift = 0;
  return comp;
}

/* What one frame's ops need besides the components. */
struct FrameJob {
  iir2d::FilterParams params;
  double strength = 1.0;
  iir2d::TemporalParams temporal;
  iir2d::LumaWeights weights;
  float* state = nullptr;  // host or device, plan.state_floats floats
  bool state_valid = false;
};

/* Runs a plan's ops through a backend (refcpu or the CUDA kernels) that
 * returns an error text, empty on success. Stops at the first error and
 * names the op's first component. */
template <typename Backend>
std::string run_plan(const FramePlan& plan, const GstVideoFrame* in, const GstVideoFrame* out, const FrameJob& job,
                     Backend& backend) {
  for (int i = 0; i < plan.n; ++i) {
    const FrameOp& op = plan.ops[static_cast<std::size_t>(i)];
    iir2d::ConstVideoComponent ins[iir2d::kMaxGroupComponents];
    iir2d::VideoComponent outs[iir2d::kMaxGroupComponents];
    std::string error;
    if (op.kind == OpKind::CopyPad) {
      error = backend.copy(pad_component<iir2d::ConstVideoComponent>(in, op.comp[0], op.pad_offset),
                           pad_component<iir2d::VideoComponent>(out, op.comp[0], op.pad_offset), false);
      if (!error.empty()) return "padding byte " + std::to_string(op.pad_offset) + ": " + error;
      continue;
    }
    for (int k = 0; k < op.count; ++k) {
      ins[k] = frame_component<iir2d::ConstVideoComponent>(in, op.comp[k]);
      outs[k] = frame_component<iir2d::VideoComponent>(out, op.comp[k]);
    }
    float* state = job.state ? job.state + op.state_offset : nullptr;
    switch (op.kind) {
      case OpKind::Copy: error = backend.copy(ins[0], outs[0], op.plane_alone); break;
      case OpKind::Filter: error = backend.filter(ins[0], outs[0], job); break;
      case OpKind::Group: error = backend.group(ins, outs, op.count, job, state); break;
      case OpKind::RgbLuma: error = backend.rgb_luma(ins, outs, job, state); break;
      case OpKind::CopyPad: break;
    }
    if (!error.empty()) return "component " + std::to_string(op.comp[0]) + ": " + error;
  }
  return {};
}

/* The system-memory backend: the CPU reference (throws on bad arguments). */
struct CpuBackend {
  template <typename F>
  static std::string guarded(F&& f) {
    try {
      f();
    } catch (const std::exception& e) {
      return e.what();
    } catch (...) {
      return "unknown exception";
    }
    return {};
  }
  std::string copy(const iir2d::ConstVideoComponent& in, const iir2d::VideoComponent& out, bool /*plane_alone*/) {
    return guarded([&] { iir2d::ref::copy_video_component(in, out); });
  }
  std::string filter(const iir2d::ConstVideoComponent& in, const iir2d::VideoComponent& out, const FrameJob& j) {
    return guarded([&] { iir2d::ref::filter_video_component(in, out, j.params, j.strength); });
  }
  std::string group(const iir2d::ConstVideoComponent* in, const iir2d::VideoComponent* out, int count,
                    const FrameJob& j, float* state) {
    return guarded([&] {
      iir2d::ref::filter_component_group(in, out, count, j.params, j.strength, j.temporal, state, j.state_valid);
    });
  }
  std::string rgb_luma(const iir2d::ConstVideoComponent* in, const iir2d::VideoComponent* out, const FrameJob& j,
                       float* state) {
    return guarded([&] {
      iir2d::ref::filter_rgb_luma(in, out, j.weights, j.params, j.strength, j.temporal, state, j.state_valid);
    });
  }
};

}  // namespace

/* ------------------------------------------------------------------------ */
/* CUDA resources (context, stream, workspace, temporal state)              */

#ifdef HAVE_IIR2D_CUDA
namespace {

using iir2d::gst::cuda_error_text;

/* Frees the workspace and the temporal state; the caller has pushed the
 * context they were made in. */
void free_device_buffers_pushed(GstIir2dFilterPrivate* priv) {
  iir2d::gst::cuda_free_allocation(&priv->workspace, &priv->workspace_bytes);
  iir2d::gst::cuda_free_allocation(&priv->device_state, &priv->device_state_bytes);
}

/* Destroys the stream and frees the device buffers, with their context pushed. */
void release_stream_and_workspace(GstIir2dFilter* self) {
  GstIir2dFilterPrivate* priv = self->priv;
  if (priv->device_state && priv->context && gst_cuda_context_push(priv->context)) {
    iir2d::gst::cuda_free_allocation(&priv->device_state, &priv->device_state_bytes);
    gst_cuda_context_pop(nullptr);
  }
  priv->device_state = nullptr;
  priv->device_state_bytes = 0;
  iir2d::gst::cuda_release(GST_OBJECT(self), priv->context, &priv->stream, &priv->workspace, &priv->workspace_bytes);
  void* none = nullptr;
  std::size_t zero = 0;
  iir2d::gst::cuda_release(GST_OBJECT(self), priv->context, &priv->copy_stream, &none, &zero);
}

/* Creates whichever of our two non-blocking streams is missing, in priv->context. */
bool create_stream(GstIir2dFilter* self) {
  GstIir2dFilterPrivate* priv = self->priv;
  return (priv->stream || iir2d::gst::cuda_create_stream(priv->context, &priv->stream, &priv->cuda_unavailable)) &&
         (priv->copy_stream ||
          iir2d::gst::cuda_create_stream(priv->context, &priv->copy_stream, &priv->cuda_unavailable));
}

/* Opens (or finds in the pipeline) the CUDA context and creates our stream.
 * Failure is not fatal: the system-memory path needs no GPU. */
bool open_cuda(GstIir2dFilter* self, gint device_id) {
  GstIir2dFilterPrivate* priv = self->priv;
  priv->cuda_unavailable.clear();
  if (!iir2d::gst::cuda_open_context(GST_ELEMENT_CAST(self), device_id, &priv->context, &priv->cuda_unavailable))
    return false;
  if (priv->stream && priv->copy_stream) return true;
  return create_stream(self);
}

bool cuda_ready(const GstIir2dFilterPrivate* priv) { return priv->context && priv->stream && priv->copy_stream; }

/* Largest workspace any settings need for these caps (every filter id,
 * border, initialisation, precision and sigma; components one by one or in
 * groups of one size), so that property changes while PLAYING never
 * reallocate. */
std::size_t workspace_for_info(const GstVideoInfo* info) {
  std::size_t need = 0;
  const guint n = GST_VIDEO_INFO_N_COMPONENTS(info);
  for (guint c = 0; c < n; ++c) {
    const int w = GST_VIDEO_INFO_COMP_WIDTH(info, c);
    const int h = GST_VIDEO_INFO_COMP_HEIGHT(info, c);
    int same_size = 0;
    for (guint d = 0; d < n; ++d)
      if (GST_VIDEO_INFO_COMP_WIDTH(info, d) == w && GST_VIDEO_INFO_COMP_HEIGHT(info, d) == h) ++same_size;
    need = std::max(need, iir2d::cuda::max_group_workspace_size(
                              w, h, std::min(same_size, static_cast<int>(iir2d::kMaxGroupComponents))));
  }
  return need;
}

/* What a plan's ops need of the workspace with these parameters. */
std::size_t workspace_for_plan(const FramePlan& plan, const GstVideoInfo* info, const iir2d::FilterParams& params) {
  std::size_t need = 0;
  for (int i = 0; i < plan.n; ++i) {
    const FrameOp& op = plan.ops[static_cast<std::size_t>(i)];
    const int w = GST_VIDEO_INFO_COMP_WIDTH(info, op.comp[0]);
    const int h = GST_VIDEO_INFO_COMP_HEIGHT(info, op.comp[0]);
    if (op.kind == OpKind::Filter) need = std::max(need, iir2d::cuda::workspace_size(w, h, params));
    if (op.kind == OpKind::Group) need = std::max(need, iir2d::cuda::group_workspace_size(w, h, op.count, params));
    if (op.kind == OpKind::RgbLuma) need = std::max(need, iir2d::cuda::group_workspace_size(w, h, 1, params));
  }
  return need;
}

/* The CUDA backend: the kernels on the element's stream, in its workspace;
 * copies of planes that nothing else writes on the copy stream, beside them
 * (the caller synchronises both). */
struct CudaBackend {
  void* workspace;
  std::size_t workspace_bytes;
  cudaStream_t stream;
  cudaStream_t copy_stream;

  static std::string text(const iir2d::cuda::Result& r) { return r.ok() ? std::string() : r.message(); }
  std::string copy(const iir2d::ConstVideoComponent& in, const iir2d::VideoComponent& out, bool plane_alone) {
    return text(iir2d::cuda::copy_video_component(in, out, plane_alone ? copy_stream : stream));
  }
  std::string filter(const iir2d::ConstVideoComponent& in, const iir2d::VideoComponent& out, const FrameJob& j) {
    return text(iir2d::cuda::filter_video_component(in, out, j.params, j.strength, workspace, workspace_bytes, stream));
  }
  std::string group(const iir2d::ConstVideoComponent* in, const iir2d::VideoComponent* out, int count,
                    const FrameJob& j, float* state) {
    return text(iir2d::cuda::filter_component_group(in, out, count, j.params, j.strength, j.temporal, state,
                                                    j.state_valid, workspace, workspace_bytes, stream));
  }
  std::string rgb_luma(const iir2d::ConstVideoComponent* in, const iir2d::VideoComponent* out, const FrameJob& j,
                       float* state) {
    return text(iir2d::cuda::filter_rgb_luma(in, out, j.weights, j.params, j.strength, j.temporal, state,
                                             j.state_valid, workspace, workspace_bytes, stream));
  }
};

}  // namespace
#endif  // HAVE_IIR2D_CUDA

/* ------------------------------------------------------------------------ */
/* GObject                                                                  */

static void gst_iir2d_filter_set_property(GObject* object, guint prop_id, const GValue* value, GParamSpec* pspec) {
  GstIir2dFilter* self = GST_IIR2D_FILTER(object);
  std::lock_guard<std::mutex> guard(self->priv->lock);
  Settings& s = self->priv->settings;
  switch (prop_id) {
    case PROP_FILTER_ID: s.filter_id = g_value_get_uint(value); break;
    case PROP_BORDER: s.border = static_cast<GstIir2dBorder>(g_value_get_enum(value)); break;
    case PROP_BORDER_CONSTANT: s.border_constant = g_value_get_double(value); break;
    case PROP_BORDER_INIT: s.border_init = static_cast<GstIir2dBorderInit>(g_value_get_enum(value)); break;
    case PROP_PRECISION: s.precision = static_cast<GstIir2dPrecision>(g_value_get_enum(value)); break;
    case PROP_STRENGTH: s.strength = g_value_get_double(value); break;
    case PROP_PLANES: s.planes = static_cast<GstIir2dPlanes>(g_value_get_enum(value)); break;
    case PROP_CUDA_DEVICE_ID: s.cuda_device_id = g_value_get_int(value); break;
    case PROP_SIGMA: s.sigma = g_value_get_double(value); break;
    case PROP_UNITY_GAIN: s.unity_gain = g_value_get_boolean(value); break;
    case PROP_TEMPORAL_MODE: s.temporal_mode = static_cast<GstIir2dTemporalMode>(g_value_get_enum(value)); break;
    case PROP_TEMPORAL_ALPHA: s.temporal_alpha = g_value_get_double(value); break;
    case PROP_TEMPORAL_ALPHA_MIN: s.temporal_alpha_min = g_value_get_double(value); break;
    case PROP_TEMPORAL_ALPHA_MAX: s.temporal_alpha_max = g_value_get_double(value); break;
    case PROP_MOTION_THRESHOLD: s.motion_threshold = g_value_get_double(value); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec); break;
  }
}

static void gst_iir2d_filter_get_property(GObject* object, guint prop_id, GValue* value, GParamSpec* pspec) {
  GstIir2dFilter* self = GST_IIR2D_FILTER(object);
  std::lock_guard<std::mutex> guard(self->priv->lock);
  const Settings& s = self->priv->settings;
  switch (prop_id) {
    case PROP_FILTER_ID: g_value_set_uint(value, s.filter_id); break;
    case PROP_BORDER: g_value_set_enum(value, s.border); break;
    case PROP_BORDER_CONSTANT: g_value_set_double(value, s.border_constant); break;
    case PROP_BORDER_INIT: g_value_set_enum(value, s.border_init); break;
    case PROP_PRECISION: g_value_set_enum(value, s.precision); break;
    case PROP_STRENGTH: g_value_set_double(value, s.strength); break;
    case PROP_PLANES: g_value_set_enum(value, s.planes); break;
    case PROP_CUDA_DEVICE_ID: g_value_set_int(value, s.cuda_device_id); break;
    case PROP_SIGMA: g_value_set_double(value, s.sigma); break;
    case PROP_UNITY_GAIN: g_value_set_boolean(value, s.unity_gain); break;
    case PROP_TEMPORAL_MODE: g_value_set_enum(value, s.temporal_mode); break;
    case PROP_TEMPORAL_ALPHA: g_value_set_double(value, s.temporal_alpha); break;
    case PROP_TEMPORAL_ALPHA_MIN: g_value_set_double(value, s.temporal_alpha_min); break;
    case PROP_TEMPORAL_ALPHA_MAX: g_value_set_double(value, s.temporal_alpha_max); break;
    case PROP_MOTION_THRESHOLD: g_value_set_double(value, s.motion_threshold); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec); break;
  }
}

static void gst_iir2d_filter_dispose(GObject* object) {
#ifdef HAVE_IIR2D_CUDA
  GstIir2dFilter* self = GST_IIR2D_FILTER(object);
  release_stream_and_workspace(self);
  gst_clear_object(&self->priv->context);
#endif
  G_OBJECT_CLASS(parent_class)->dispose(object);
}

static void gst_iir2d_filter_finalize(GObject* object) {
  GstIir2dFilter* self = GST_IIR2D_FILTER(object);
  delete self->priv;
  self->priv = nullptr;
  G_OBJECT_CLASS(parent_class)->finalize(object);
}

static Settings copy_settings(GstIir2dFilter* self) {
  std::lock_guard<std::mutex> guard(self->priv->lock);
  return self->priv->settings;
}

/* ------------------------------------------------------------------------ */
/* GstElement                                                               */

#ifdef HAVE_IIR2D_CUDA
static void gst_iir2d_filter_set_context(GstElement* element, GstContext* context) {
  GstIir2dFilter* self = GST_IIR2D_FILTER(element);
  const gint device_id = copy_settings(self).cuda_device_id;
  /* Takes the pipeline's context only while we have none (never replaces). */
  gst_cuda_handle_set_context(element, context, device_id, &self->priv->context);
  GST_ELEMENT_CLASS(parent_class)->set_context(element, context);
}
#endif

/* ------------------------------------------------------------------------ */
/* GstBaseTransform                                                         */

static gboolean gst_iir2d_filter_start(GstBaseTransform* trans) {
  GstIir2dFilter* self = GST_IIR2D_FILTER(trans);
  const Settings s = copy_settings(self);
  gst_base_transform_set_passthrough(trans, s.passthrough());
#ifdef HAVE_IIR2D_CUDA
  if (!open_cuda(self, s.cuda_device_id))
    GST_INFO_OBJECT(self, "CUDA unavailable (%s); only system memory can be filtered",
                    self->priv->cuda_unavailable.c_str());
#endif
  return TRUE;
}

static gboolean gst_iir2d_filter_stop(GstBaseTransform* trans) {
  GstIir2dFilter* self = GST_IIR2D_FILTER(trans);
  GstIir2dFilterPrivate* priv = self->priv;
#ifdef HAVE_IIR2D_CUDA
  release_stream_and_workspace(self);
  gst_clear_object(&priv->context);
  priv->workspace_needed = 0;
#endif
  priv->have_info = false;
  priv->cuda_caps = false;
  priv->temporal_valid = false;
  priv->host_state.clear();
  priv->host_state.shrink_to_fit();
  priv->state_capacity = 0;
  return TRUE;
}

/* Same caps on both sides, caps features included: never CUDA in and
 * system memory out (or the reverse). */
static GstCaps* gst_iir2d_filter_transform_caps(GstBaseTransform* trans, GstPadDirection direction, GstCaps* caps,
                                                GstCaps* filter) {
  GstCaps* result;
  if (filter)
    result = gst_caps_intersect_full(filter, caps, GST_CAPS_INTERSECT_FIRST);
  else
    result = gst_caps_ref(caps);
  GST_DEBUG_OBJECT(trans, "%s caps %" GST_PTR_FORMAT " -> %" GST_PTR_FORMAT,
                   direction == GST_PAD_SINK ? "sink" : "src", caps, result);
  return result;
}

static gboolean gst_iir2d_filter_transform_size(GstBaseTransform* trans, GstPadDirection direction, GstCaps* caps,
                                                gsize size, GstCaps* othercaps, gsize* othersize) {
  (void)direction;
  (void)caps;
  (void)size;
  GstVideoInfo info;
  if (!gst_video_info_from_caps(&info, othercaps)) {
    GST_WARNING_OBJECT(trans, "cannot parse caps %" GST_PTR_FORMAT, othercaps);
    return FALSE;
  }
  *othersize = GST_VIDEO_INFO_SIZE(&info);
  return TRUE;
}

static gboolean gst_iir2d_filter_set_caps(GstBaseTransform* trans, GstCaps* incaps, GstCaps* outcaps) {
  GstIir2dFilter* self = GST_IIR2D_FILTER(trans);
  GstIir2dFilterPrivate* priv = self->priv;
  GstVideoInfo in_info, out_info;

  if (!gst_video_info_from_caps(&in_info, incaps) || !gst_video_info_from_caps(&out_info, outcaps)) {
    GST_ERROR_OBJECT(self, "invalid caps %" GST_PTR_FORMAT " -> %" GST_PTR_FORMAT, incaps, outcaps);
    priv->have_info = false;
    return FALSE;
  }
  const bool cuda_in = caps_are_cuda(incaps);
  if (cuda_in != caps_are_cuda(outcaps) || GST_VIDEO_INFO_FORMAT(&in_info) != GST_VIDEO_INFO_FORMAT(&out_info) ||
      in_info.width != out_info.width || in_info.height != out_info.height) {
    GST_ERROR_OBJECT(self, "input and output caps differ: %" GST_PTR_FORMAT " -> %" GST_PTR_FORMAT, incaps, outcaps);
    priv->have_info = false;
    return FALSE;
  }

  /* RGB luma weights from the caps as written (GstVideoInfo forces the RGB
   * matrix on RGB formats, so two caps may differ only there). */
  const char* matrix = "";
  priv->luma_weights = iir2d::kLumaBt709;
  if (GST_VIDEO_INFO_IS_RGB(&in_info)) {
    priv->luma_weights = luma_weights_for_caps(incaps, &in_info, &matrix);
    GST_INFO_OBJECT(self, "RGB luma: %s matrix, Kr %.4f Kb %.4f", matrix, priv->luma_weights.kr,
                    priv->luma_weights.kb);
  }

  /* Renegotiation with the same caps (leaving passthrough, a reconfigure
   * from downstream) keeps the buffers and the temporal state. */
  bool same = priv->have_info && priv->cuda_caps == cuda_in && gst_video_info_is_equal(&in_info, &priv->in_info) &&
              gst_video_info_is_equal(&out_info, &priv->out_info);
#ifdef HAVE_IIR2D_CUDA
  if (cuda_in) same = same && priv->workspace && priv->device_state && cuda_ready(priv);
#endif
  if (same) {
    GST_DEBUG_OBJECT(self, "caps unchanged, keeping buffers and temporal state");
    return TRUE;
  }
  priv->have_info = false;
  priv->temporal_valid = false;
  const std::size_t state_floats = max_state_floats(&in_info);

#ifdef HAVE_IIR2D_CUDA
  if (cuda_in) {
    if (!cuda_ready(priv)) {
      /* start() could not open CUDA; try once more (a context may have
       * been handed to us since), then refuse the CUDA caps. */
      const gint device_id = copy_settings(self).cuda_device_id;
      if (!open_cuda(self, device_id)) {
        const std::string why = priv->cuda_unavailable;
        GST_ELEMENT_ERROR(self, RESOURCE, NOT_FOUND, ("No CUDA context: %s.", why.c_str()),
                          ("CUDA memory caps %" GST_PTR_FORMAT " were negotiated but no CUDA context could be "
                           "opened. Use system memory (drop cudaupload) or check the driver and cuda-device-id.",
                           incaps));
        return FALSE;
      }
    }
    /* Workspace and temporal state once per caps, in the element's context,
     * for the largest need of any settings. */
    priv->workspace_needed = workspace_for_info(&in_info);
    const std::size_t state_bytes = state_floats * sizeof(float);
    cudaError_t e = cudaErrorInvalidResourceHandle;
    std::size_t failed_bytes = priv->workspace_needed;
    if (gst_cuda_context_push(priv->context)) {
      free_device_buffers_pushed(priv);
      e = iir2d::gst::cuda_ensure_allocation(&priv->workspace, &priv->workspace_bytes, priv->workspace_needed);
      if (e == cudaSuccess) {
        failed_bytes = state_bytes;
        e = iir2d::gst::cuda_ensure_allocation(&priv->device_state, &priv->device_state_bytes, state_bytes);
      }
      if (e != cudaSuccess) free_device_buffers_pushed(priv);
      gst_cuda_context_pop(nullptr);
    }
    if (e != cudaSuccess) {
      const std::string why = cuda_error_text(e);
      GST_ELEMENT_ERROR(self, RESOURCE, NO_SPACE_LEFT, ("Could not allocate the CUDA workspace."),
                        ("cudaMalloc of %zu bytes: %s", failed_bytes, why.c_str()));
      return FALSE;
    }
    GST_DEBUG_OBJECT(self, "CUDA workspace: %zu bytes, temporal state: %zu bytes", priv->workspace_bytes,
                     priv->device_state_bytes);
  } else if ((priv->workspace || priv->device_state) && gst_cuda_context_push(priv->context)) {
    free_device_buffers_pushed(priv);
    gst_cuda_context_pop(nullptr);
  }
#endif
  if (cuda_in) {
    priv->host_state.clear();
    priv->host_state.shrink_to_fit();
  } else {
    priv->host_state.assign(state_floats, 0.0f);
  }
  priv->state_capacity = state_floats;

  priv->pads = padding_bytes(&in_info);
  priv->in_info = in_info;
  priv->out_info = out_info;
  priv->cuda_caps = cuda_in;
  priv->have_info = true;
  GST_DEBUG_OBJECT(self, "configured %s %dx%d in %s memory", GST_VIDEO_INFO_NAME(&in_info), in_info.width,
                   in_info.height, cuda_in ? "CUDA" : "system");
  return TRUE;
}

#ifdef HAVE_IIR2D_CUDA
/* A copy of `caps` with the CUDA-memory structures moved before the others,
 * each group in its original order. */
static GstCaps* cuda_structures_first(GstCaps* caps) {
  GstCaps* cuda = gst_caps_new_empty();
  GstCaps* other = gst_caps_new_empty();
  for (guint i = 0; i < gst_caps_get_size(caps); i++) {
    GstCapsFeatures* f = gst_caps_get_features(caps, i);
    GstCaps* target = (f && gst_caps_features_contains(f, GST_CAPS_FEATURE_MEMORY_CUDA_MEMORY)) ? cuda : other;
    gst_caps_append_structure_full(target, gst_structure_copy(gst_caps_get_structure(caps, i)),
                                   f ? gst_caps_features_copy(f) : nullptr);
  }
  gst_caps_append(cuda, other);
  return cuda;
}

static gboolean gst_iir2d_filter_query(GstBaseTransform* trans, GstPadDirection direction, GstQuery* query) {
  GstIir2dFilter* self = GST_IIR2D_FILTER(trans);
  switch (GST_QUERY_TYPE(query)) {
    case GST_QUERY_CONTEXT:
      if (gst_cuda_handle_context_query(GST_ELEMENT_CAST(self), query, self->priv->context)) return TRUE;
      break;
    case GST_QUERY_CAPS: {
      /* Neighbours that can do both (cudaupload, cudadownload) list system
       * memory first and fixate the first structure of our answer, which
       * would keep `cudaupload ! iir2dfilter` on the CPU. We prefer CUDA
       * memory: list its structures first. */
      if (!GST_BASE_TRANSFORM_CLASS(parent_class)->query(trans, direction, query)) return FALSE;
      GstCaps* caps = nullptr;
      gst_query_parse_caps_result(query, &caps);
      if (caps && !gst_caps_is_any(caps) && !gst_caps_is_empty(caps)) {
        GstCaps* sorted = cuda_structures_first(caps);
        gst_query_set_caps_result(query, sorted);
        gst_caps_unref(sorted);
      }
      return TRUE;
    }
    default:
      /* LATENCY included: the base class asks the peer and we add nothing
       * (each output buffer leaves before the next input arrives). */
      break;
  }
  return GST_BASE_TRANSFORM_CLASS(parent_class)->query(trans, direction, query);
}
#endif

static gboolean gst_iir2d_filter_propose_allocation(GstBaseTransform* trans, GstQuery* decide_query,
                                                    GstQuery* query) {
  if (!GST_BASE_TRANSFORM_CLASS(parent_class)->propose_allocation(trans, decide_query, query)) return FALSE;
  if (decide_query == nullptr) return TRUE;  // passthrough: downstream answered

  GstCaps* caps = nullptr;
  gst_query_parse_allocation(query, &caps, nullptr);
  if (!caps) return FALSE;
  GstVideoInfo info;
  if (!gst_video_info_from_caps(&info, caps)) return FALSE;

#ifdef HAVE_IIR2D_CUDA
  GstIir2dFilter* self = GST_IIR2D_FILTER(trans);
  if (caps_are_cuda(caps) && self->priv->context && gst_query_get_n_allocation_pools(query) == 0 &&
      !iir2d::gst::cuda_propose_pool(GST_OBJECT(self), self->priv->context, query, caps, &info))
    return FALSE;
#endif

  if (!gst_query_find_allocation_meta(query, GST_VIDEO_META_API_TYPE, nullptr))
    gst_query_add_allocation_meta(query, GST_VIDEO_META_API_TYPE, nullptr);
  return TRUE;
}

static gboolean gst_iir2d_filter_decide_allocation(GstBaseTransform* trans, GstQuery* query) {
#ifdef HAVE_IIR2D_CUDA
  GstIir2dFilter* self = GST_IIR2D_FILTER(trans);
  GstCaps* outcaps = nullptr;
  gst_query_parse_allocation(query, &outcaps, nullptr);
  if (!outcaps) return FALSE;

  if (caps_are_cuda(outcaps)) {
    GstCudaContext* ctx = self->priv->context;
    if (!ctx) {
      GST_ERROR_OBJECT(self, "CUDA caps without a CUDA context");
      return FALSE;
    }
    GstBufferPool* pool = nullptr;
    guint size = 0, min = 0, max = 0;
    const bool update = gst_query_get_n_allocation_pools(query) > 0;
    if (update) {
      gst_query_parse_nth_allocation_pool(query, 0, &pool, &size, &min, &max);
      /* Only a CUDA pool of our own context will do. */
      if (pool && (!GST_IS_CUDA_BUFFER_POOL(pool) || GST_CUDA_BUFFER_POOL(pool)->context != ctx)) {
        GST_DEBUG_OBJECT(self, "ignoring downstream pool %" GST_PTR_FORMAT, pool);
        gst_clear_object(&pool);
      }
    } else {
      GstVideoInfo vinfo;
      if (!gst_video_info_from_caps(&vinfo, outcaps)) return FALSE;
      size = GST_VIDEO_INFO_SIZE(&vinfo);
    }
    if (!pool) pool = gst_cuda_buffer_pool_new(ctx);

    GstStructure* config = gst_buffer_pool_get_config(pool);
    gst_buffer_pool_config_add_option(config, GST_BUFFER_POOL_OPTION_VIDEO_META);
    gst_buffer_pool_config_set_params(config, outcaps, size, min, max);
    if (!gst_buffer_pool_set_config(pool, config)) {
      /* The pool may have adjusted the config (e.g. the buffer count): take
       * it if it still fits our caps. */
      config = gst_buffer_pool_get_config(pool);
      bool accepted = false;
      if (gst_buffer_pool_config_validate_params(config, outcaps, size, min, max))
        accepted = gst_buffer_pool_set_config(pool, config);
      else
        gst_structure_free(config);
      if (!accepted) {
        GST_ERROR_OBJECT(self, "CUDA buffer pool refused its config for %" GST_PTR_FORMAT, outcaps);
        gst_object_unref(pool);
        return FALSE;
      }
    }
    /* The pool pitches the planes: read the real buffer size back. */
    config = gst_buffer_pool_get_config(pool);
    gst_buffer_pool_config_get_params(config, nullptr, &size, nullptr, nullptr);
    gst_structure_free(config);

    if (update)
      gst_query_set_nth_allocation_pool(query, 0, pool, size, min, max);
    else
      gst_query_add_allocation_pool(query, pool, size, min, max);
    gst_object_unref(pool);
  }
#endif
  return GST_BASE_TRANSFORM_CLASS(parent_class)->decide_allocation(trans, query);
}

static gboolean gst_iir2d_filter_sink_event(GstBaseTransform* trans, GstEvent* event) {
  if (GST_EVENT_TYPE(event) == GST_EVENT_FLUSH_STOP) {
    /* A seek or flush: the next frame does not follow the previous one. */
    GST_IIR2D_FILTER(trans)->priv->reset_pending = true;
  }
  return GST_BASE_TRANSFORM_CLASS(parent_class)->sink_event(trans, event);
}

static void gst_iir2d_filter_before_transform(GstBaseTransform* trans, GstBuffer* buffer) {
  GstIir2dFilter* self = GST_IIR2D_FILTER(trans);

  /* Controlled properties: bring them to this buffer's stream time. */
  const GstClockTime ts = GST_BUFFER_PTS(buffer);
  const GstClockTime stream_time = gst_segment_to_stream_time(&trans->segment, GST_FORMAT_TIME, ts);
  if (GST_CLOCK_TIME_IS_VALID(stream_time)) gst_object_sync_values(GST_OBJECT(self), stream_time);

  /* Passthrough follows the settings, per buffer. Switching asks for a
   * renegotiation (done by the base class before this buffer is handled,
   * with no lock of ours held), so that leaving passthrough sets up our
   * CUDA pool again instead of writing into whatever buffers come. */
  const bool passthrough = copy_settings(self).passthrough();
  if (passthrough != static_cast<bool>(gst_base_transform_is_passthrough(trans))) {
    GST_DEBUG_OBJECT(self, "%s passthrough", passthrough ? "entering" : "leaving");
    gst_base_transform_set_passthrough(trans, passthrough);
    gst_base_transform_reconfigure_src(trans);
  }

#ifdef HAVE_IIR2D_CUDA
  GstIir2dFilterPrivate* priv = self->priv;
  if (!priv->cuda_caps || !priv->context) return;
  GstMemory* mem = gst_buffer_peek_memory(buffer, 0);
  if (!mem || !gst_is_cuda_memory(mem)) return;
  GstCudaMemory* cmem = GST_CUDA_MEMORY_CAST(mem);
  if (cmem->context == priv->context) return;

  const gint device_id = copy_settings(self).cuda_device_id;
  bool update = device_id < 0;
  if (!update) {
    guint other = 0;
    g_object_get(cmem->context, "cuda-device-id", &other, nullptr);
    update = other == static_cast<guint>(device_id);
  }
  if (!update) return;  // transform() reports it if the memory is not accessible

  GST_INFO_OBJECT(self, "buffers come from CUDA context %" GST_PTR_FORMAT ", switching from %" GST_PTR_FORMAT,
                  cmem->context, priv->context);
  GstCaps* in_caps = gst_pad_get_current_caps(GST_BASE_TRANSFORM_SINK_PAD(trans));
  GstCaps* out_caps = gst_pad_get_current_caps(GST_BASE_TRANSFORM_SRC_PAD(trans));
  release_stream_and_workspace(self);
  gst_object_unref(priv->context);
  priv->context = GST_CUDA_CONTEXT(gst_object_ref(cmem->context));
  if (!create_stream(self))
    GST_WARNING_OBJECT(self, "%s", priv->cuda_unavailable.c_str());
  /* Workspace in the new context, then a new output pool of that context. */
  if (in_caps && out_caps) gst_iir2d_filter_set_caps(trans, in_caps, out_caps);
  gst_clear_caps(&in_caps);
  gst_clear_caps(&out_caps);
  gst_base_transform_reconfigure_src(trans);
#endif
}

/* ---- the frame job: settings, plan, temporal state --------------------- */

/* Builds this frame's plan and job; decides whether the temporal state
 * carries over from the previous frame. `state` is the host or device state. */
static FramePlan prepare_frame(GstIir2dFilter* self, GstBuffer* inbuf, const Settings& s, float* state,
                               FrameJob* job) {
  GstIir2dFilterPrivate* priv = self->priv;
  const bool reset = priv->reset_pending.exchange(false);
  FramePlan plan = plan_frame(&priv->in_info, priv->pads, s);
  job->params = to_filter_params(s);
  job->strength = s.strength;
  job->temporal = to_temporal_params(s);
  job->weights = priv->luma_weights;
  job->state = state;
  job->state_valid = s.temporal() && priv->temporal_valid && !reset && !GST_BUFFER_IS_DISCONT(inbuf) &&
                     s.filter_id == priv->temporal_filter_id && s.planes == priv->temporal_planes;
  if (s.temporal() && !job->state_valid)
    GST_DEBUG_OBJECT(self, "temporal state starts from this frame (%s)",
                     !priv->temporal_valid ? "none yet"
                     : reset                ? "flushed"
                     : GST_BUFFER_IS_DISCONT(inbuf) ? "discont"
                                                    : "filter-id or planes changed");
  if (plan.state_floats > priv->state_capacity) {
    /* Cannot happen (the capacity covers every plan of these caps). */
    GST_ERROR_OBJECT(self, "temporal state of %zu floats for %zu needed", priv->state_capacity, plan.state_floats);
    job->temporal.mode = iir2d::TemporalMode::Off;
  }
  return plan;
}

/* After a frame: the state is valid for the next one only if this frame ran
 * the recursion. */
static void finish_frame(GstIir2dFilter* self, const Settings& s, const FrameJob& job, bool ok) {
  GstIir2dFilterPrivate* priv = self->priv;
  priv->temporal_valid = ok && job.temporal.mode != iir2d::TemporalMode::Off;
  priv->temporal_filter_id = s.filter_id;
  priv->temporal_planes = s.planes;
}

/* ---- system memory: the CPU reference ---------------------------------- */

static GstFlowReturn transform_system(GstIir2dFilter* self, GstBuffer* inbuf, GstBuffer* outbuf,
                                      const Settings& s) {
  GstIir2dFilterPrivate* priv = self->priv;
  GstVideoFrame in_frame, out_frame;
  if (!gst_video_frame_map(&in_frame, &priv->in_info, inbuf, GST_MAP_READ)) {
    GST_ELEMENT_ERROR(self, STREAM, FAILED, ("Could not map the input buffer."), (nullptr));
    return GST_FLOW_ERROR;
  }
  if (!gst_video_frame_map(&out_frame, &priv->out_info, outbuf, GST_MAP_WRITE)) {
    gst_video_frame_unmap(&in_frame);
    GST_ELEMENT_ERROR(self, STREAM, FAILED, ("Could not map the output buffer."), (nullptr));
    return GST_FLOW_ERROR;
  }

  FrameJob job;
  const FramePlan plan = prepare_frame(self, inbuf, s, priv->host_state.data(), &job);
  CpuBackend backend;
  const std::string error = run_plan(plan, &in_frame, &out_frame, job, backend);
  finish_frame(self, s, job, error.empty());
  gst_video_frame_unmap(&out_frame);
  gst_video_frame_unmap(&in_frame);

  if (!error.empty()) {
    GST_ELEMENT_ERROR(self, STREAM, FAILED, ("Filtering failed."), ("CPU filter, %s", error.c_str()));
    return GST_FLOW_ERROR;
  }
  return GST_FLOW_OK;
}

/* ---- CUDA memory: the CUDA kernels ------------------------------------- */

#ifdef HAVE_IIR2D_CUDA
static bool is_usable_cuda_buffer(GstIir2dFilter* self, GstBuffer* buf, std::string* why) {
  return iir2d::gst::cuda_buffer_usable(self->priv->context, buf, why);
}

static const GstVideoInfo* cuda_layout(GstBuffer* buf, const GstVideoInfo* caps_info) {
  return iir2d::gst::cuda_buffer_layout(buf, caps_info);
}

static GstFlowReturn transform_cuda(GstIir2dFilter* self, GstBuffer* inbuf, GstBuffer* outbuf, const Settings& s) {
  GstIir2dFilterPrivate* priv = self->priv;
  std::string why;
  if (!cuda_ready(priv)) {
    why = priv->cuda_unavailable;
    GST_ELEMENT_ERROR(self, RESOURCE, FAILED, ("No CUDA context: %s.", why.c_str()), (nullptr));
    return GST_FLOW_ERROR;
  }
  if (!is_usable_cuda_buffer(self, inbuf, &why)) {
    GST_ELEMENT_ERROR(self, STREAM, FAILED, ("Invalid input buffer."), ("The input buffer %s.", why.c_str()));
    return GST_FLOW_ERROR;
  }
  if (!is_usable_cuda_buffer(self, outbuf, &why)) {
    GST_ELEMENT_ERROR(self, STREAM, FAILED, ("Invalid output buffer."), ("The output buffer %s.", why.c_str()));
    return GST_FLOW_ERROR;
  }

  /* The planes of CUDA memory are pitched: a CUDA pool's buffers carry a
   * GstVideoMeta with the real layout; without one, take the memory's own. */
  const GstVideoInfo* in_layout = cuda_layout(inbuf, &priv->in_info);
  const GstVideoInfo* out_layout = cuda_layout(outbuf, &priv->out_info);
  GstVideoFrame in_frame, out_frame;
  if (!gst_video_frame_map(&in_frame, in_layout, inbuf, GstMapFlags(GST_MAP_READ | GST_MAP_CUDA))) {
    GST_ELEMENT_ERROR(self, STREAM, FAILED, ("Could not map the input buffer."), ("GST_MAP_READ | GST_MAP_CUDA"));
    return GST_FLOW_ERROR;
  }
  if (!gst_video_frame_map(&out_frame, out_layout, outbuf, GstMapFlags(GST_MAP_WRITE | GST_MAP_CUDA))) {
    gst_video_frame_unmap(&in_frame);
    GST_ELEMENT_ERROR(self, STREAM, FAILED, ("Could not map the output buffer."), ("GST_MAP_WRITE | GST_MAP_CUDA"));
    return GST_FLOW_ERROR;
  }

  FrameJob job;
  const FramePlan plan = prepare_frame(self, inbuf, s, static_cast<float*>(priv->device_state), &job);
  std::string error;
  if (!gst_cuda_context_push(priv->context)) {
    error = "could not push the CUDA context";
  } else {
    /* Never needed (set_caps sized it for every parameter set), but cheap. */
    cudaError_t e = iir2d::gst::cuda_ensure_allocation(&priv->workspace, &priv->workspace_bytes,
                                                       workspace_for_plan(plan, &priv->in_info, job.params));
    if (e != cudaSuccess) error = "workspace cudaMalloc: " + cuda_error_text(e);
    if (error.empty()) {
      CudaBackend backend{priv->workspace, priv->workspace_bytes, priv->stream, priv->copy_stream};
      error = run_plan(plan, &in_frame, &out_frame, job, backend);
    }
    /* 1.22's CUDA memory carries no stream: the frame must be complete
     * before the buffer leaves the element. Synchronise on error too, so no
     * kernel still writes into a buffer that goes back to its pool. */
    for (cudaStream_t st : {priv->stream, priv->copy_stream}) {
      e = cudaStreamSynchronize(st);
      if (e != cudaSuccess && error.empty()) error = "cudaStreamSynchronize: " + cuda_error_text(e);
    }
    gst_cuda_context_pop(nullptr);
  }
  finish_frame(self, s, job, error.empty());
  gst_video_frame_unmap(&out_frame);
  gst_video_frame_unmap(&in_frame);

  if (!error.empty()) {
    GST_ELEMENT_ERROR(self, STREAM, FAILED, ("CUDA filtering failed."), ("%s", error.c_str()));
    return GST_FLOW_ERROR;
  }
  return GST_FLOW_OK;
}
#endif

static GstFlowReturn gst_iir2d_filter_transform(GstBaseTransform* trans, GstBuffer* inbuf, GstBuffer* outbuf) {
  GstIir2dFilter* self = GST_IIR2D_FILTER(trans);
  if (!self->priv->have_info) {
    GST_ELEMENT_ERROR(self, CORE, NEGOTIATION, (nullptr), ("transform before caps were set"));
    return GST_FLOW_NOT_NEGOTIATED;
  }
  const Settings s = copy_settings(self);  // once per frame
#ifdef HAVE_IIR2D_CUDA
  if (self->priv->cuda_caps) return transform_cuda(self, inbuf, outbuf, s);
#endif
  return transform_system(self, inbuf, outbuf, s);
}

/* ------------------------------------------------------------------------ */
/* Class                                                                    */

static void gst_iir2d_filter_class_init(GstIir2dFilterClass* klass) {
  GObjectClass* gobject_class = G_OBJECT_CLASS(klass);
  GstElementClass* element_class = GST_ELEMENT_CLASS(klass);
  GstBaseTransformClass* trans_class = GST_BASE_TRANSFORM_CLASS(klass);

  GST_DEBUG_CATEGORY_INIT(gst_iir2d_filter_debug, "iir2dfilter", 0, "IIR2D recursive 2-D video filter");

  gobject_class->set_property = gst_iir2d_filter_set_property;
  gobject_class->get_property = gst_iir2d_filter_get_property;
  gobject_class->dispose = gst_iir2d_filter_dispose;
  gobject_class->finalize = gst_iir2d_filter_finalize;

  /* Every property but cuda-device-id may change while PLAYING; the three
   * continuous blends are also controllable (GstController). */
  const GParamFlags live = GParamFlags(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_PLAYING);
  const GParamFlags controllable = GParamFlags(live | GST_PARAM_CONTROLLABLE);

  std::string ids = "Filter program (applied horizontally then vertically):";
  for (int id = iir2d::kMinFilterId; id <= iir2d::kMaxFilterId; ++id)
    ids += std::string(id == iir2d::kMinFilterId ? " " : "; ") + std::to_string(id) + " = " +
           iir2d::filter_description(id);
  ids += ". Id 6's width is the sigma property. A change restarts temporal smoothing";
  g_object_class_install_property(
      gobject_class, PROP_FILTER_ID,
      g_param_spec_uint("filter-id", "Filter id", ids.c_str(), iir2d::kMinFilterId, iir2d::kMaxFilterId,
                        DEFAULT_FILTER_ID,
                        GParamFlags(G_PARAM_READWRITE | G_PARAM_STATIC_NAME | G_PARAM_STATIC_NICK |
                                    GST_PARAM_MUTABLE_PLAYING)));
  g_object_class_install_property(
      gobject_class, PROP_BORDER,
      g_param_spec_enum("border", "Border", "How samples outside the frame are taken", GST_TYPE_IIR2D_BORDER,
                        DEFAULT_BORDER, live));
  g_object_class_install_property(
      gobject_class, PROP_BORDER_CONSTANT,
      g_param_spec_double("border-constant", "Border constant",
                          "Sample value outside the frame with border=constant, normalised "
                          "(0 = black/minimum code, 1 = maximum code)",
                          0.0, 1.0, DEFAULT_BORDER_CONSTANT, controllable));
  g_object_class_install_property(
      gobject_class, PROP_BORDER_INIT,
      g_param_spec_enum("border-init", "Border initialisation",
                        "How each recursion starts at the border: exact (flat areas stay flat) or "
                        "iir2d (reproduces IIR2D 1.0's warm-up, edges darken)",
                        GST_TYPE_IIR2D_BORDER_INIT, DEFAULT_BORDER_INIT, live));
  g_object_class_install_property(
      gobject_class, PROP_PRECISION,
      g_param_spec_enum("precision", "Precision", "Storage and arithmetic precision of the filter",
                        GST_TYPE_IIR2D_PRECISION, DEFAULT_PRECISION, live));
  g_object_class_install_property(
      gobject_class, PROP_STRENGTH,
      g_param_spec_double("strength", "Strength",
                          "Blend of filtered and input samples (0 = input unchanged, 1 = fully filtered); "
                          "0 with temporal-mode=off is passthrough",
                          0.0, 1.0, DEFAULT_STRENGTH, controllable));
  g_object_class_install_property(
      gobject_class, PROP_PLANES,
      g_param_spec_enum("planes", "Planes",
                        "Components to filter: luma (Y or gray only, chroma copied bit-exact; RGB through Y' of "
                        "the stream's matrix, BT.709 by default) or all (luma and chroma, or R, G and B); alpha "
                        "is always copied",
                        GST_TYPE_IIR2D_PLANES, DEFAULT_PLANES, live));
  iir2d::gst::install_cuda_device_id_property(gobject_class, PROP_CUDA_DEVICE_ID, DEFAULT_CUDA_DEVICE_ID);
  g_object_class_install_property(
      gobject_class, PROP_SIGMA,
      g_param_spec_double("sigma", "Sigma",
                          "Width of filter id 6's Deriche smoothing in samples (2 is IIR2D's and the contract's; "
                          "an extension over IIR2D)",
                          iir2d::kMinSigma, iir2d::kMaxSigma, DEFAULT_SIGMA, live));
  g_object_class_install_property(
      gobject_class, PROP_UNITY_GAIN,
      g_param_spec_boolean("unity-gain", "Unity gain",
                           "Divide each pass by its DC gain so flat areas keep their level (ids 3, 4 and 8 darken "
                           "them otherwise; an extension over IIR2D)",
                           DEFAULT_UNITY_GAIN, live));
  g_object_class_install_property(
      gobject_class, PROP_TEMPORAL_MODE,
      g_param_spec_enum("temporal-mode", "Temporal mode",
                        "Temporal smoothing of the filtered output: off, fixed (out = a*filtered + (1-a)*previous "
                        "output, a = temporal-alpha) or adaptive (a per pixel from its motion)",
                        GST_TYPE_IIR2D_TEMPORAL_MODE, DEFAULT_TEMPORAL_MODE, live));
  g_object_class_install_property(
      gobject_class, PROP_TEMPORAL_ALPHA,
      g_param_spec_double("temporal-alpha", "Temporal alpha",
                          "Weight of the current frame in temporal-mode=fixed (1 = no smoothing)", 0.0, 1.0,
                          DEFAULT_TEMPORAL_ALPHA, controllable));
  g_object_class_install_property(
      gobject_class, PROP_TEMPORAL_ALPHA_MIN,
      g_param_spec_double("temporal-alpha-min", "Temporal alpha min",
                          "Weight of the current frame where a pixel does not move (temporal-mode=adaptive)", 0.0,
                          1.0, DEFAULT_TEMPORAL_ALPHA_MIN, live));
  g_object_class_install_property(
      gobject_class, PROP_TEMPORAL_ALPHA_MAX,
      g_param_spec_double("temporal-alpha-max", "Temporal alpha max",
                          "Weight of the current frame where a pixel moves by motion-threshold or more "
                          "(temporal-mode=adaptive)",
                          0.0, 1.0, DEFAULT_TEMPORAL_ALPHA_MAX, live));
  g_object_class_install_property(
      gobject_class, PROP_MOTION_THRESHOLD,
      g_param_spec_double("motion-threshold", "Motion threshold",
                          "Mean absolute difference (normalised, over the pixel's filtered components) between "
                          "the filtered frame and the previous output that counts as full motion "
                          "(temporal-mode=adaptive)",
                          0.0, 1.0, DEFAULT_MOTION_THRESHOLD, live));

  gst_element_class_set_static_metadata(element_class, "IIR2D recursive 2-D filter", "Filter/Effect/Video",
                                        "Recursive (IIR) 2-D smoothing filters of the IIR2D family, with temporal "
                                        "smoothing, on the GPU for CUDA memory and on the CPU for system memory",
                                        "gst-iir2d developers");
  gst_element_class_add_static_pad_template(element_class, &sink_template);
  gst_element_class_add_static_pad_template(element_class, &src_template);

#ifdef HAVE_IIR2D_CUDA
  element_class->set_context = GST_DEBUG_FUNCPTR(gst_iir2d_filter_set_context);
  trans_class->query = GST_DEBUG_FUNCPTR(gst_iir2d_filter_query);
#endif

  /* A filter changes the samples even when the caps are the same;
   * passthrough is decided from the settings (before_transform). */
  trans_class->passthrough_on_same_caps = FALSE;
  trans_class->transform_ip_on_passthrough = FALSE;

  trans_class->start = GST_DEBUG_FUNCPTR(gst_iir2d_filter_start);
  trans_class->stop = GST_DEBUG_FUNCPTR(gst_iir2d_filter_stop);
  trans_class->transform_caps = GST_DEBUG_FUNCPTR(gst_iir2d_filter_transform_caps);
  trans_class->transform_size = GST_DEBUG_FUNCPTR(gst_iir2d_filter_transform_size);
  trans_class->set_caps = GST_DEBUG_FUNCPTR(gst_iir2d_filter_set_caps);
  trans_class->propose_allocation = GST_DEBUG_FUNCPTR(gst_iir2d_filter_propose_allocation);
  trans_class->decide_allocation = GST_DEBUG_FUNCPTR(gst_iir2d_filter_decide_allocation);
  trans_class->sink_event = GST_DEBUG_FUNCPTR(gst_iir2d_filter_sink_event);
  trans_class->before_transform = GST_DEBUG_FUNCPTR(gst_iir2d_filter_before_transform);
  trans_class->transform = GST_DEBUG_FUNCPTR(gst_iir2d_filter_transform);

  gst_type_mark_as_plugin_api(GST_TYPE_IIR2D_BORDER, GstPluginAPIFlags(0));
  gst_type_mark_as_plugin_api(GST_TYPE_IIR2D_BORDER_INIT, GstPluginAPIFlags(0));
  gst_type_mark_as_plugin_api(GST_TYPE_IIR2D_PRECISION, GstPluginAPIFlags(0));
  gst_type_mark_as_plugin_api(GST_TYPE_IIR2D_PLANES, GstPluginAPIFlags(0));
  gst_type_mark_as_plugin_api(GST_TYPE_IIR2D_TEMPORAL_MODE, GstPluginAPIFlags(0));
}

static void gst_iir2d_filter_init(GstIir2dFilter* self) {
  self->priv = new GstIir2dFilterPrivate();
  /* Late buffers are dropped and counted, as GstVideoFilter elements do. */
  gst_base_transform_set_qos_enabled(GST_BASE_TRANSFORM(self), TRUE);
}
