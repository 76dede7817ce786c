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
 * On GStreamer 1.24+ a frame waits on the GPU for its input's pending work
 * (a decoder's copy), runs on its output memory's stream and leaves the
 * output flagged for downstream, so a chain of CUDA elements never blocks
 * the CPU per frame; on 1.22 each frame is complete when it leaves.
 * A 0-byte GAP buffer (a missing frame) passes on unchanged.
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

#include <gst/video/video.h>

#include <atomic>
#include <new>
#include <string>
#include <vector>

#include "../common/callback_guard.h"
#include "../common/cuda_session.h"
#include "../common/formats.h"
#include "../common/locked_settings.h"
#include "backends.h"
#include "frame_plan.h"
#include "settings.h"

GST_DEBUG_CATEGORY_STATIC(gst_iir2d_filter_debug);
#define GST_CAT_DEFAULT gst_iir2d_filter_debug

using iir2d::gst::caps_are_cuda;
using iir2d::gst::CudaFrameScope;
using iir2d::gst::CudaSession;
using namespace iir2d::gst::filter;

namespace {
/* The CUDA session's device memory slots. */
constexpr int kWorkspaceSlot = 0;
constexpr int kStateSlot = 1;
}  // namespace

struct GstIir2dFilterPrivate {
  explicit GstIir2dFilterPrivate(GstElement* self) : cuda(self, 2) {}

  iir2d::gst::LockedSettings<Settings> settings;  // property values

  /* State: built in set_caps, dropped in stop, used by the streaming thread. */
  GstVideoInfo in_info{};
  GstVideoInfo out_info{};
  bool have_info = false;
  bool cuda_caps = false;                 // memory:CUDAMemory negotiated (both sides)
  std::vector<PaddingByte> paddings;      // padding bytes of packed planes
  iir2d::LumaWeights luma_weights{};      // RGB planes=luma
  std::size_t state_capacity = 0;         // floats of temporal state for these caps
                                          // (host_state is allocated on the first temporal frame)

  /* Temporal recursion (streaming thread, but reset_pending also from
   * FLUSH_STOP, which may come from another thread). */
  std::vector<float> host_state;          // system memory path
  bool temporal_valid = false;
  guint temporal_filter_id = 0;
  GstIir2dPlanes temporal_planes = GST_IIR2D_PLANES_LUMA;
  std::atomic<bool> reset_pending{false};

  /* CUDA memory: the pipeline's context, our stream and a second one for
   * plane copies beside the filter; device memory slots kWorkspaceSlot and
   * kStateSlot (temporal state). */
  CudaSession cuda;
};

struct _GstIir2dFilter {
  GstBaseTransform parent;
  GstIir2dFilterPrivate* priv;
};

#define gst_iir2d_filter_parent_class parent_class
G_DEFINE_TYPE(GstIir2dFilter, gst_iir2d_filter, GST_TYPE_BASE_TRANSFORM);
GST_ELEMENT_REGISTER_DEFINE(iir2dfilter, "iir2dfilter", GST_RANK_NONE, GST_TYPE_IIR2D_FILTER);

/* ------------------------------------------------------------------------ */
/* GObject                                                                  */

static void gst_iir2d_filter_set_property(GObject* object, guint prop_id, const GValue* value, GParamSpec* pspec) {
  GST_IIR2D_FILTER(object)->priv->settings.set(object, prop_id, value, pspec);
}

static void gst_iir2d_filter_get_property(GObject* object, guint prop_id, GValue* value, GParamSpec* pspec) {
  GST_IIR2D_FILTER(object)->priv->settings.get(object, prop_id, value, pspec);
}

static void gst_iir2d_filter_dispose(GObject* object) {
  GST_IIR2D_FILTER(object)->priv->cuda.close();
  G_OBJECT_CLASS(parent_class)->dispose(object);
}

static void gst_iir2d_filter_finalize(GObject* object) {
  delete GST_IIR2D_FILTER(object)->priv;
  G_OBJECT_CLASS(parent_class)->finalize(object);
}

static Settings copy_settings(GstIir2dFilter* self) { return self->priv->settings.copy(); }

/* ------------------------------------------------------------------------ */
/* GstElement                                                               */

static void gst_iir2d_filter_set_context(GstElement* element, GstContext* context) {
  GstIir2dFilter* self = GST_IIR2D_FILTER(element);
  self->priv->cuda.set_context(context, copy_settings(self).cuda_device_id);
  GST_ELEMENT_CLASS(parent_class)->set_context(element, context);
}

/* ------------------------------------------------------------------------ */
/* GstBaseTransform                                                         */

static gboolean gst_iir2d_filter_start(GstBaseTransform* trans) {
  GstIir2dFilter* self = GST_IIR2D_FILTER(trans);
  const Settings s = copy_settings(self);
  gst_base_transform_set_passthrough(trans, s.passthrough());
  if (iir2d::gst::cuda_built() && !self->priv->cuda.open(s.cuda_device_id))
    GST_INFO_OBJECT(self, "CUDA unavailable (%s); only system memory can be filtered",
                    self->priv->cuda.unavailable_reason().c_str());
  return TRUE;
}

static gboolean gst_iir2d_filter_stop(GstBaseTransform* trans) {
  GstIir2dFilterPrivate* priv = GST_IIR2D_FILTER(trans)->priv;
  priv->cuda.close();
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

/* CUDA caps: the context (opened now if start() could not), and the
 * workspace and temporal state once per caps, for the largest need of any
 * settings. */
static gboolean prepare_cuda(GstIir2dFilter* self, GstCaps* incaps, const GstVideoInfo* info, std::size_t state_floats) {
  CudaSession& cuda = self->priv->cuda;
  if (!cuda.ready() && !cuda.open(copy_settings(self).cuda_device_id)) {
    /* A context may have been handed to us since start(); there is none. */
    const std::string why = cuda.unavailable_reason();
    GST_ELEMENT_ERROR(self, RESOURCE, NOT_FOUND, ("No CUDA context: %s.", why.c_str()),
                      ("CUDA memory caps %" GST_PTR_FORMAT " were negotiated but no CUDA context could be "
                       "opened. Use system memory (drop cudaupload) or check the driver and cuda-device-id.",
                       incaps));
    return FALSE;
  }
  cuda.free_allocations();
  std::string why;
  if (!cuda.ensure_allocation(kWorkspaceSlot, cuda_workspace_for_info(info), &why) ||
      !cuda.ensure_allocation(kStateSlot, state_floats * sizeof(float), &why)) {
    cuda.free_allocations();
    GST_ELEMENT_ERROR(self, RESOURCE, NO_SPACE_LEFT, ("Could not allocate the CUDA workspace."), ("%s", why.c_str()));
    return FALSE;
  }
  GST_DEBUG_OBJECT(self, "CUDA workspace: %zu bytes, temporal state: %zu bytes", cuda.allocation_size(kWorkspaceSlot),
                   cuda.allocation_size(kStateSlot));
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
  if (cuda_in)
    same = same && priv->cuda.ready() && priv->cuda.allocation(kWorkspaceSlot) && priv->cuda.allocation(kStateSlot);
  if (same) {
    GST_DEBUG_OBJECT(self, "caps unchanged, keeping buffers and temporal state");
    return TRUE;
  }
  priv->have_info = false;
  priv->temporal_valid = false;
  const std::size_t state_floats = max_state_floats(&in_info);

  /* The host state is allocated by the first frame that smooths over time
   * (ensure_host_state): none with temporal-mode=off or in passthrough. */
  priv->host_state.clear();
  priv->host_state.shrink_to_fit();
  if (cuda_in) {
    if (!prepare_cuda(self, incaps, &in_info, state_floats)) return FALSE;
  } else {
    priv->cuda.free_allocations();
  }
  priv->state_capacity = state_floats;

  priv->paddings = padding_bytes(&in_info);
  priv->in_info = in_info;
  priv->out_info = out_info;
  priv->cuda_caps = cuda_in;
  priv->have_info = true;
  GST_DEBUG_OBJECT(self, "configured %s %dx%d in %s memory", GST_VIDEO_INFO_NAME(&in_info), in_info.width,
                   in_info.height, cuda_in ? "CUDA" : "system");
  return TRUE;
}

/* A copy of `caps` with the CUDA-memory structures moved before the others,
 * each group in its original order. */
static GstCaps* cuda_structures_first(GstCaps* caps) {
  GstCaps* cuda = gst_caps_new_empty();
  GstCaps* other = gst_caps_new_empty();
  for (guint i = 0; i < gst_caps_get_size(caps); i++) {
    GstCapsFeatures* f = gst_caps_get_features(caps, i);
    GstCaps* target = (f && gst_caps_features_contains(f, IIR2D_CAPS_FEATURE_CUDA_MEMORY)) ? cuda : other;
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
      if (self->priv->cuda.handle_context_query(query)) return TRUE;
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

static gboolean gst_iir2d_filter_propose_allocation(GstBaseTransform* trans, GstQuery* decide_query,
                                                    GstQuery* query) {
  if (!GST_BASE_TRANSFORM_CLASS(parent_class)->propose_allocation(trans, decide_query, query)) return FALSE;
  if (decide_query == nullptr) return TRUE;  // passthrough: downstream answered

  GstCaps* caps = nullptr;
  gst_query_parse_allocation(query, &caps, nullptr);
  GstVideoInfo info;
  if (!caps || !gst_video_info_from_caps(&info, caps)) return FALSE;
  if (caps_are_cuda(caps) && !GST_IIR2D_FILTER(trans)->priv->cuda.propose_pool(query, caps)) return FALSE;
  if (!gst_query_find_allocation_meta(query, GST_VIDEO_META_API_TYPE, nullptr))
    gst_query_add_allocation_meta(query, GST_VIDEO_META_API_TYPE, nullptr);
  return TRUE;
}

static gboolean gst_iir2d_filter_decide_allocation(GstBaseTransform* trans, GstQuery* query) {
  GstCaps* outcaps = nullptr;
  gst_query_parse_allocation(query, &outcaps, nullptr);
  if (!outcaps) return FALSE;
  if (caps_are_cuda(outcaps) && !GST_IIR2D_FILTER(trans)->priv->cuda.decide_pool(query, outcaps)) return FALSE;
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
  GstIir2dFilterPrivate* priv = self->priv;

  /* Controlled properties: bring them to this buffer's stream time. */
  const GstClockTime ts = GST_BUFFER_PTS(buffer);
  const GstClockTime stream_time = gst_segment_to_stream_time(&trans->segment, GST_FORMAT_TIME, ts);
  if (GST_CLOCK_TIME_IS_VALID(stream_time)) gst_object_sync_values(GST_OBJECT(self), stream_time);

  /* Passthrough follows the settings, per buffer. Switching asks for a
   * renegotiation (done by the base class before this buffer is handled,
   * with no lock of ours held), so that leaving passthrough sets up our
   * CUDA pool again instead of writing into whatever buffers come. */
  const Settings s = copy_settings(self);
  if (s.passthrough() != static_cast<bool>(gst_base_transform_is_passthrough(trans))) {
    GST_DEBUG_OBJECT(self, "%s passthrough", s.passthrough() ? "entering" : "leaving");
    gst_base_transform_set_passthrough(trans, s.passthrough());
    gst_base_transform_reconfigure_src(trans);
  }

  /* A buffer from another CUDA context: follow it, with our workspace and
   * a new output pool in that context. */
  if (!priv->cuda_caps || !priv->cuda.adopt_context_of(buffer, s.cuda_device_id)) return;
  GstCaps* in_caps = gst_pad_get_current_caps(GST_BASE_TRANSFORM_SINK_PAD(trans));
  GstCaps* out_caps = gst_pad_get_current_caps(GST_BASE_TRANSFORM_SRC_PAD(trans));
  if (in_caps && out_caps) gst_iir2d_filter_set_caps(trans, in_caps, out_caps);
  gst_clear_caps(&in_caps);
  gst_clear_caps(&out_caps);
  gst_base_transform_reconfigure_src(trans);
}

/* ---- the frame job: settings, plan, temporal state --------------------- */

/* Builds this frame's plan and job; decides whether the temporal state
 * carries over from the previous frame. `state` is the host or device state. */
static FramePlan prepare_frame(GstIir2dFilter* self, GstBuffer* inbuf, const Settings& s, float* state,
                               FrameJob* job) {
  GstIir2dFilterPrivate* priv = self->priv;
  const bool reset = priv->reset_pending.exchange(false);
  FramePlan plan = plan_frame(&priv->in_info, priv->paddings, s);
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

/* System memory: the temporal state on the host, allocated when a frame
 * first smooths over time (temporal-mode may be switched on while PLAYING)
 * and released when smoothing is off, so that temporal-mode=off costs no
 * frame-sized memory. An allocation that fails is an element error. */
static bool ensure_host_state(GstIir2dFilter* self, const Settings& s) {
  GstIir2dFilterPrivate* priv = self->priv;
  if (!s.temporal()) {
    if (!priv->host_state.empty()) {
      priv->host_state.clear();
      priv->host_state.shrink_to_fit();
    }
    return true;
  }
  if (priv->host_state.size() >= priv->state_capacity) return true;
  try {
    priv->host_state.assign(priv->state_capacity, 0.0f);
  } catch (const std::bad_alloc&) {
    priv->host_state.clear();
    priv->host_state.shrink_to_fit();
    GST_ELEMENT_ERROR(self, RESOURCE, NO_SPACE_LEFT, ("Not enough memory for the temporal state."),
                      ("%zu bytes of temporal state for %s could not be allocated; use temporal-mode=off, a "
                       "smaller frame or CUDA memory",
                       priv->state_capacity * sizeof(float), iir2d::gst::describe_format(&priv->in_info).c_str()));
    return false;
  }
  priv->temporal_valid = false;  // fresh state: the recursion starts from this frame
  return true;
}

/* System memory: the CPU reference. */
static GstFlowReturn transform_system(GstIir2dFilter* self, GstBuffer* inbuf, GstBuffer* outbuf,
                                      const Settings& s) {
  GstIir2dFilterPrivate* priv = self->priv;
  if (!ensure_host_state(self, s)) return GST_FLOW_ERROR;
  GstVideoFrame in_frame, out_frame;
  if (!gst_video_frame_map(&in_frame, &priv->in_info, inbuf, GST_MAP_READ)) {
    GST_ELEMENT_ERROR(self, STREAM, FAILED, ("Could not map the input buffer."),
                      ("%zu bytes for %s, which needs %zu", gst_buffer_get_size(inbuf),
                       iir2d::gst::describe_format(&priv->in_info).c_str(), GST_VIDEO_INFO_SIZE(&priv->in_info)));
    return GST_FLOW_ERROR;
  }
  if (!gst_video_frame_map(&out_frame, &priv->out_info, outbuf, GST_MAP_WRITE)) {
    gst_video_frame_unmap(&in_frame);
    GST_ELEMENT_ERROR(self, STREAM, FAILED, ("Could not map the output buffer."),
                      ("%zu bytes for %s, which needs %zu", gst_buffer_get_size(outbuf),
                       iir2d::gst::describe_format(&priv->out_info).c_str(), GST_VIDEO_INFO_SIZE(&priv->out_info)));
    return GST_FLOW_ERROR;
  }
  for (const auto& [frame, what] : {std::make_pair(&in_frame, "input"), std::make_pair(&out_frame, "output")}) {
    const std::string extent = iir2d::gst::frame_extent_error(frame);
    if (extent.empty()) continue;
    gst_video_frame_unmap(&out_frame);
    gst_video_frame_unmap(&in_frame);
    GST_ELEMENT_ERROR(self, STREAM, FAILED, ("The %s buffer does not hold its frame.", what),
                      ("%s: its GstVideoMeta declares more than the buffer holds", extent.c_str()));
    return GST_FLOW_ERROR;
  }

  FrameJob job;
  const FramePlan plan = prepare_frame(self, inbuf, s, priv->host_state.data(), &job);
  const std::string error = run_plan_cpu(plan, &in_frame, &out_frame, job);
  finish_frame(self, s, job, error.empty());
  gst_video_frame_unmap(&out_frame);
  gst_video_frame_unmap(&in_frame);

  if (!error.empty()) {
    GST_ELEMENT_ERROR(self, STREAM, FAILED, ("Filtering failed."), ("CPU filter, %s", error.c_str()));
    return GST_FLOW_ERROR;
  }
  return GST_FLOW_OK;
}

/* CUDA memory: the CUDA kernels on the frame's streams; the output is
 * complete, or flagged for downstream, when it leaves (CudaFrameScope). */
static GstFlowReturn transform_cuda(GstIir2dFilter* self, GstBuffer* inbuf, GstBuffer* outbuf, const Settings& s) {
  GstIir2dFilterPrivate* priv = self->priv;
  CudaSession& cuda = priv->cuda;
  std::string error;
  FrameJob job;
  bool ran = false;
  {
    CudaFrameScope scope(cuda);
    if (scope.map(inbuf, &priv->in_info, GST_MAP_READ, "input", &error) &&
        scope.map(outbuf, &priv->out_info, GST_MAP_WRITE, "output", &error) && scope.enter(&error)) {
      const FramePlan plan =
          prepare_frame(self, inbuf, s, static_cast<float*>(cuda.allocation(kStateSlot)), &job);
      error = run_plan_cuda(plan, scope.frame(0), scope.frame(1), job, &priv->in_info,
                            cuda.allocation(kWorkspaceSlot), cuda.allocation_size(kWorkspaceSlot), scope.stream(0),
                            scope.stream(1));
      ran = true;
    }
    const std::string sync_error = scope.finish();
    if (error.empty()) error = sync_error;
  }
  if (ran) finish_frame(self, s, job, error.empty());
  if (!error.empty()) {
    GST_ELEMENT_ERROR(self, STREAM, FAILED, ("CUDA filtering failed."), ("%s", error.c_str()));
    return GST_FLOW_ERROR;
  }
  return GST_FLOW_OK;
}

/* A 0-byte GAP buffer stands for a missing frame: it has no samples to
 * filter and goes on as it is (as through videoconvert); temporal smoothing
 * carries on from the last real frame. */
static bool is_empty_gap(GstBuffer* buf) {
  return GST_BUFFER_FLAG_IS_SET(buf, GST_BUFFER_FLAG_GAP) && gst_buffer_get_size(buf) == 0;
}

static GstFlowReturn gst_iir2d_filter_prepare_output_buffer(GstBaseTransform* trans, GstBuffer* inbuf,
                                                            GstBuffer** outbuf) {
  if (is_empty_gap(inbuf)) {
    *outbuf = inbuf;  // the base class pushes it on unchanged
    return GST_FLOW_OK;
  }
  return GST_BASE_TRANSFORM_CLASS(parent_class)->prepare_output_buffer(trans, inbuf, outbuf);
}

static GstFlowReturn gst_iir2d_filter_transform(GstBaseTransform* trans, GstBuffer* inbuf, GstBuffer* outbuf) {
  GstIir2dFilter* self = GST_IIR2D_FILTER(trans);
  if (!self->priv->have_info) {
    GST_ELEMENT_ERROR(self, CORE, NEGOTIATION, (nullptr), ("transform before caps were set"));
    return GST_FLOW_NOT_NEGOTIATED;
  }
  if (outbuf == inbuf && is_empty_gap(inbuf)) return GST_FLOW_OK;
  const Settings s = copy_settings(self);  // once per frame
  return self->priv->cuda_caps ? transform_cuda(self, inbuf, outbuf, s) : transform_system(self, inbuf, outbuf, s);
}

/* ------------------------------------------------------------------------ */
/* Class                                                                    */

/* The GStreamer callbacks as installed: an exception (std::bad_alloc above
 * all) becomes an element error, never an abort (callback_guard.h). */
using iir2d::gst::guard_callback;
#define IIR2D_SELF(obj) GST_ELEMENT(obj)

static void guarded_set_property(GObject* o, guint id, const GValue* v, GParamSpec* p) {
  guard_callback(IIR2D_SELF(o), "set_property", 0, [&] { return gst_iir2d_filter_set_property(o, id, v, p), 0; });
}
static void guarded_set_context(GstElement* e, GstContext* c) {
  guard_callback(e, "set_context", 0, [&] { return gst_iir2d_filter_set_context(e, c), 0; });
}
static gboolean guarded_start(GstBaseTransform* t) {
  return guard_callback(IIR2D_SELF(t), "start", FALSE, [&] { return gst_iir2d_filter_start(t); });
}
static gboolean guarded_query(GstBaseTransform* t, GstPadDirection d, GstQuery* q) {
  return guard_callback(IIR2D_SELF(t), "query", FALSE, [&] { return gst_iir2d_filter_query(t, d, q); });
}
static GstCaps* guarded_transform_caps(GstBaseTransform* t, GstPadDirection d, GstCaps* c, GstCaps* f) {
  return guard_callback(IIR2D_SELF(t), "transform_caps", static_cast<GstCaps*>(nullptr),
                        [&] { return gst_iir2d_filter_transform_caps(t, d, c, f); });
}
static gboolean guarded_set_caps(GstBaseTransform* t, GstCaps* in, GstCaps* out) {
  return guard_callback(IIR2D_SELF(t), "set_caps", FALSE, [&] { return gst_iir2d_filter_set_caps(t, in, out); });
}
static gboolean guarded_propose_allocation(GstBaseTransform* t, GstQuery* d, GstQuery* q) {
  return guard_callback(IIR2D_SELF(t), "propose_allocation", FALSE,
                        [&] { return gst_iir2d_filter_propose_allocation(t, d, q); });
}
static gboolean guarded_decide_allocation(GstBaseTransform* t, GstQuery* q) {
  return guard_callback(IIR2D_SELF(t), "decide_allocation", FALSE,
                        [&] { return gst_iir2d_filter_decide_allocation(t, q); });
}
static gboolean guarded_sink_event(GstBaseTransform* t, GstEvent* e) {
  return guard_callback(IIR2D_SELF(t), "sink_event", FALSE, [&] { return gst_iir2d_filter_sink_event(t, e); });
}
static void guarded_before_transform(GstBaseTransform* t, GstBuffer* b) {
  guard_callback(IIR2D_SELF(t), "before_transform", 0, [&] { return gst_iir2d_filter_before_transform(t, b), 0; });
}
static GstFlowReturn guarded_prepare_output_buffer(GstBaseTransform* t, GstBuffer* in, GstBuffer** out) {
  return guard_callback(IIR2D_SELF(t), "prepare_output_buffer", GST_FLOW_ERROR,
                        [&] { return gst_iir2d_filter_prepare_output_buffer(t, in, out); });
}
static GstFlowReturn guarded_transform(GstBaseTransform* t, GstBuffer* in, GstBuffer* out) {
  return guard_callback(IIR2D_SELF(t), "transform", GST_FLOW_ERROR,
                        [&] { return gst_iir2d_filter_transform(t, in, out); });
}
#undef IIR2D_SELF

static void gst_iir2d_filter_class_init(GstIir2dFilterClass* klass) {
  GObjectClass* gobject_class = G_OBJECT_CLASS(klass);
  GstElementClass* element_class = GST_ELEMENT_CLASS(klass);
  GstBaseTransformClass* trans_class = GST_BASE_TRANSFORM_CLASS(klass);

  GST_DEBUG_CATEGORY_INIT(gst_iir2d_filter_debug, "iir2dfilter", 0, "IIR2D recursive 2-D video filter");

  gobject_class->set_property = guarded_set_property;
  gobject_class->get_property = gst_iir2d_filter_get_property;
  gobject_class->dispose = gst_iir2d_filter_dispose;
  gobject_class->finalize = gst_iir2d_filter_finalize;
  install_properties(gobject_class);

  gst_element_class_set_static_metadata(element_class, "IIR2D recursive 2-D filter", "Filter/Effect/Video",
                                        "Recursive (IIR) 2-D smoothing filters of the IIR2D family, with temporal "
                                        "smoothing, on the GPU for CUDA memory and on the CPU for system memory",
                                        "gst-iir2d developers");
  gst_element_class_add_pad_template(element_class,
                                     iir2d::gst::element_pad_template("sink", GST_PAD_SINK, GST_PAD_ALWAYS));
  gst_element_class_add_pad_template(element_class,
                                     iir2d::gst::element_pad_template("src", GST_PAD_SRC, GST_PAD_ALWAYS));

  element_class->set_context = GST_DEBUG_FUNCPTR(guarded_set_context);

  /* A filter changes the samples even when the caps are the same;
   * passthrough is decided from the settings (before_transform). */
  trans_class->passthrough_on_same_caps = FALSE;
  trans_class->transform_ip_on_passthrough = FALSE;

  trans_class->start = GST_DEBUG_FUNCPTR(guarded_start);
  trans_class->stop = GST_DEBUG_FUNCPTR(gst_iir2d_filter_stop);
  trans_class->query = GST_DEBUG_FUNCPTR(guarded_query);
  trans_class->transform_caps = GST_DEBUG_FUNCPTR(guarded_transform_caps);
  trans_class->transform_size = GST_DEBUG_FUNCPTR(gst_iir2d_filter_transform_size);
  trans_class->set_caps = GST_DEBUG_FUNCPTR(guarded_set_caps);
  trans_class->propose_allocation = GST_DEBUG_FUNCPTR(guarded_propose_allocation);
  trans_class->decide_allocation = GST_DEBUG_FUNCPTR(guarded_decide_allocation);
  trans_class->sink_event = GST_DEBUG_FUNCPTR(guarded_sink_event);
  trans_class->before_transform = GST_DEBUG_FUNCPTR(guarded_before_transform);
  trans_class->prepare_output_buffer = GST_DEBUG_FUNCPTR(guarded_prepare_output_buffer);
  trans_class->transform = GST_DEBUG_FUNCPTR(guarded_transform);

  mark_enums_as_plugin_api();
}

static void gst_iir2d_filter_init(GstIir2dFilter* self) {
  self->priv = new GstIir2dFilterPrivate(GST_ELEMENT(self));
  /* Late buffers are dropped and counted, as GstVideoFilter elements do. */
  gst_base_transform_set_qos_enabled(GST_BASE_TRANSFORM(self), TRUE);
}
