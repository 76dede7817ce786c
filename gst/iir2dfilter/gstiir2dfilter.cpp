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
 * the project's fast CPU path (vectorised, on #GstIir2dFilter:n-threads
 * threads, checked against the CPU reference); the environment variable
 * `IIR2D_CPU_PATH=reference` runs the one-thread CPU reference itself
 * instead, for debugging (the element's INFO log says which one runs).
 * CUDA memory in and system memory out (or the reverse) is
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
 * a DISCONT buffer, a change of #GstIir2dFilter:filter-id,
 * #GstIir2dFilter:planes or #GstIir2dFilter:field-mode, and whenever
 * temporal smoothing was off.
 *
 * ## Interlaced video
 *
 * With #GstIir2dFilter:field-mode `auto` (the default) each field of
 * interlaced video, the rows of one parity, is filtered as a picture of its
 * own: the top field is rows 0, 2, 4, ... (⌈h/2⌉ rows), the bottom field
 * rows 1, 3, 5, ... (⌊h/2⌋ rows), each with its borders at its own first and
 * last rows (a field view: the plane from row 0 or 1, two rows apart, no
 * copy, the same kernels). The two fields of a frame were captured 20 ms
 * apart (1080i50); filtering them together smears each moving edge with the
 * other instant, which no deinterlacer undoes. What a buffer is follows the
 * caps and flags:
 *
 * - `interlace-mode=interleaved`: every buffer is two fields;
 * - `mixed`: two fields where the buffer has
 *   GST_VIDEO_BUFFER_FLAG_INTERLACED, else one progressive frame;
 * - `alternate` (caps `video/x-raw(format:Interlaced)`, system memory only:
 *   no CUDA element of GStreamer produces it): each buffer is one field,
 *   flagged GST_VIDEO_BUFFER_FLAG_TOP_FIELD or _BOTTOM_FIELD, filtered as
 *   the picture it is; the caps' height is the frame's and GstVideoInfo maps
 *   each field with GST_VIDEO_INFO_FIELD_HEIGHT = ⌈h/2⌉ rows (GStreamer
 *   1.16 to 1.26 alike);
 * - `interlace-mode=fields` is refused (not negotiated by any raw-video
 *   element).
 *
 * Chroma of 4:2:0 interlaced video alternates fields row by row too, as
 * GStreamer packs it (video-format.c: luma row y has chroma row
 * ((y & ~3) >> 1) + (y & 1)); with `planes=all` each field's chroma is
 * filtered with that field: ⌈rows/2⌉ chroma rows of a field of `rows` luma
 * rows. At a frame height of 2 mod 4 the bottom field's last chroma row lies
 * one past the frame's chroma height, in the row GStreamer's interlaced
 * I420/NV12 layouts add; P010/P016 layouts have none, and the field then
 * keeps to the rows its memory holds.
 *
 * Temporal smoothing blends each field with the previous output of the same
 * parity: for interleaved video the previous frame's field, for alternate
 * video the field two buffers back (a state per parity). In a mixed stream
 * every buffer blends with the previous output at the same pixel, frame or
 * field pair alike: where one follows the other the state is moved into the
 * other layout (row y of the frame is row y/2 of field y%2; on the GPU by
 * cudaMemcpy2DAsync on the filter's stream). A change of field-mode
 * restarts it.
 * `field-mode=progressive` filters every buffer as one picture, as before
 * this mode existed; progressive caps are the same in both modes.
 *
 * ## Metadata and HDR
 *
 * The filter changes sample values and nothing else, so every meta whose
 * API tags say it survives that at the same geometry goes on with the
 * output: no tags (timecode, closed captions, reference timestamps) or only
 * `video`, `orientation` and `size` (AFD, bar data, region of interest,
 * crop); metas of memory or colour (GstVideoMeta) stay behind. Passthrough
 * pushes the input buffer itself. Caps pass unchanged, colorimetry,
 * `mastering-display-info`, `content-light-level`, `chroma-site` and
 * `field-order` included. PQ and HLG video is filtered on its code values
 * (no linearisation), and RGB with `planes=luma` under `bt2100-pq`,
 * `bt2100-hlg` or `bt2020` caps uses the BT.2020 matrix (see "RGB").
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
 * |[
 * gst-launch-1.0 videotestsrc pattern=ball ! video/x-raw,format=I420,width=1920,height=1080,framerate=50/1 ! interlace field-pattern=1:1 ! iir2dfilter filter-id=6 planes=all ! deinterlace ! videoconvert ! autovideosink
 * ]| 1080i50 filtered field by field (field-mode=auto), then deinterlaced.
 *
 * Since: 0.1
 */

#include "gstiir2dfilter.h"

#include <gst/video/video.h>

#include <algorithm>
#include <cstddef>
#include <cstdlib>
#include <iterator>
#include <string>
#include <utility>

#include "../common/callback_guard.h"
#include "../common/cuda_session.h"
#include "../common/formats.h"
#include "backends.h"
#include "frame_plan.h"
#include "gstiir2dfilterprivate.h"
#include "settings.h"

GST_DEBUG_CATEGORY(gst_iir2d_filter_debug);
#define GST_CAT_DEFAULT gst_iir2d_filter_debug

using iir2d::gst::caps_are_cuda;
using namespace iir2d::gst::filter;

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
  const char* cpu_path = g_getenv("IIR2D_CPU_PATH");
  self->priv->cpu_reference = cpu_path && g_strcmp0(cpu_path, "reference") == 0;
  if (cpu_path && !self->priv->cpu_reference && *cpu_path)
    GST_WARNING_OBJECT(self, "IIR2D_CPU_PATH=%s is not 'reference'; using the fast CPU path", cpu_path);
  if (self->priv->cpu_reference)
    GST_INFO_OBJECT(self, "system memory: the CPU reference (IIR2D_CPU_PATH=reference), one thread");
  if (iir2d::gst::cuda_built() && !self->priv->cuda.open(s.cuda_device_id))
    GST_INFO_OBJECT(self, "CUDA unavailable (%s); only system memory can be filtered",
                    self->priv->cuda.unavailable_reason().c_str());
  return TRUE;
}

static gboolean gst_iir2d_filter_stop(GstBaseTransform* trans) {
  GstIir2dFilterPrivate* priv = GST_IIR2D_FILTER(trans)->priv;
  priv->cuda.close();
  priv->fast_cpu.reset();
  priv->have_info = false;
  priv->cuda_caps = false;
  priv->temporal_valid[0] = priv->temporal_valid[1] = false;
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
  if (cuda_in) {
    const std::string why = iir2d::gst::cuda_caps_limitation(&in_info);
    if (!why.empty()) {
      GST_ELEMENT_WARNING(self, CORE, NEGOTIATION, ("Cannot filter these caps in CUDA memory."), ("%s", why.c_str()));
      priv->have_info = false;
      return FALSE;
    }
  }
  if (GST_VIDEO_INFO_INTERLACE_MODE(&in_info) == GST_VIDEO_INTERLACE_MODE_FIELDS) {
    /* Each field behind its own GstVideoMeta id: no element of GStreamer
     * produces it in raw video, and mapping one frame would see one field. */
    GST_ELEMENT_ERROR(self, STREAM, FORMAT, ("interlace-mode=fields is not supported."),
                      ("caps %" GST_PTR_FORMAT ": use interleaved or alternate interlacing", incaps));
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
  priv->temporal_valid[0] = priv->temporal_valid[1] = false;
  const std::size_t bank_floats = max_state_floats(&in_info);
  const bool mixed = GST_VIDEO_INFO_INTERLACE_MODE(&in_info) == GST_VIDEO_INTERLACE_MODE_MIXED;
  const std::size_t state_floats = bank_floats * (mixed ? 2 : 1);

  /* The host state is allocated by the first frame that smooths over time
   * (gst_iir2d_filter_ensure_host_state()): none with temporal-mode=off or
   * in passthrough. */
  priv->host_state.clear();
  priv->host_state.shrink_to_fit();
  if (cuda_in) {
    if (!gst_iir2d_filter_prepare_cuda(self, incaps, &in_info, state_floats)) return FALSE;
  } else {
    priv->cuda.free_allocations();
  }
  priv->state_capacity = bank_floats;
  priv->state_bank = 0;

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

/* System memory: the fast CPU path, or the CPU reference. */
static GstFlowReturn transform_system(GstIir2dFilter* self, GstBuffer* inbuf, GstBuffer* outbuf,
                                      const Settings& s) {
  GstIir2dFilterPrivate* priv = self->priv;
  if (!gst_iir2d_filter_ensure_host_state(self, s)) return GST_FLOW_ERROR;
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
  const std::pair<const GstVideoFrame*, const char*> mapped[] = {{&in_frame, "input"}, {&out_frame, "output"}};
  for (const auto& [frame, what] : mapped) {
    const std::string extent = iir2d::gst::frame_extent_error(frame);
    if (extent.empty()) continue;
    gst_video_frame_unmap(&out_frame);
    gst_video_frame_unmap(&in_frame);
    GST_ELEMENT_ERROR(self, STREAM, FAILED, ("The %s buffer does not hold its frame.", what),
                      ("%s: its GstVideoMeta declares more than the buffer holds", extent.c_str()));
    return GST_FLOW_ERROR;
  }

  std::string error = priv->cpu_reference ? std::string() : gst_iir2d_filter_ensure_fast_cpu(self, s);
  FrameJob job;
  Picture picture = Picture::Frame;
  const FramePlan plan = gst_iir2d_filter_prepare_frame(self, inbuf, s, priv->host_state.data(), &job, &picture);
  if (error.empty()) error = run_plan_cpu(plan, &in_frame, &out_frame, job, priv->fast_cpu.get());
  gst_iir2d_filter_finish_frame(self, s, job, picture, error.empty());
  gst_video_frame_unmap(&out_frame);
  gst_video_frame_unmap(&in_frame);

  if (!error.empty()) {
    GST_ELEMENT_ERROR(self, STREAM, FAILED, ("Filtering failed."), ("CPU filter, %s", error.c_str()));
    return GST_FLOW_ERROR;
  }
  return GST_FLOW_OK;
}

/* Metas of the input on the output (issue 11): a filter changes sample
 * values and nothing else, so every meta whose API tags say it survives
 * that at the same geometry goes on: none (timecode, captions,
 * reference-timestamp), or only "video", "orientation" and "size" (AFD,
 * bar, region-of-interest, crop). Metas that describe memory or colour
 * ("memory", "colorspace": GstVideoMeta, which the base class handles)
 * stay behind. Passthrough pushes the input buffer itself, so nothing is
 * lost there either. */
static gboolean gst_iir2d_filter_transform_meta(GstBaseTransform* trans, GstBuffer* outbuf, GstMeta* meta,
                                                GstBuffer* inbuf) {
  (void)outbuf;
  (void)inbuf;
  static const char* const kKept[] = {GST_META_TAG_VIDEO_STR, GST_META_TAG_VIDEO_ORIENTATION_STR,
                                      GST_META_TAG_VIDEO_SIZE_STR};
  const gchar* const* tags = gst_meta_api_type_get_tags(meta->info->api);
  for (const gchar* const* tag = tags; tag && *tag; ++tag)
    if (std::none_of(std::begin(kKept), std::end(kKept), [tag](const char* k) { return g_str_equal(*tag, k); })) {
      GST_LOG_OBJECT(trans, "not copying %s (tag %s)", g_type_name(meta->info->api), *tag);
      return FALSE;
    }
  return TRUE;
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
  return self->priv->cuda_caps ? gst_iir2d_filter_transform_cuda(self, inbuf, outbuf, s)
                                : transform_system(self, inbuf, outbuf, s);
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
static gboolean guarded_transform_meta(GstBaseTransform* t, GstBuffer* out, GstMeta* meta, GstBuffer* in) {
  return guard_callback(IIR2D_SELF(t), "transform_meta", FALSE,
                        [&] { return gst_iir2d_filter_transform_meta(t, out, meta, in); });
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
                                        IIR2D_AUTHOR);  // meson option package-author
  gst_element_class_add_pad_template(element_class,
                                     iir2d::gst::element_pad_template("sink", GST_PAD_SINK, GST_PAD_ALWAYS,
                                                                      G_TYPE_NONE, true));
  gst_element_class_add_pad_template(element_class,
                                     iir2d::gst::element_pad_template("src", GST_PAD_SRC, GST_PAD_ALWAYS,
                                                                      G_TYPE_NONE, true));

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
  trans_class->transform_meta = GST_DEBUG_FUNCPTR(guarded_transform_meta);

  mark_enums_as_plugin_api();
}

static void gst_iir2d_filter_init(GstIir2dFilter* self) {
  self->priv = new GstIir2dFilterPrivate(GST_ELEMENT(self));
  /* Late buffers are dropped and counted, as GstVideoFilter elements do. */
  gst_base_transform_set_qos_enabled(GST_BASE_TRANSFORM(self), TRUE);
}
