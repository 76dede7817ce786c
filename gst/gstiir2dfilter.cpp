// SPDX-License-Identifier: MIT
/**
 * SECTION:element-iir2dfilter
 * @title: iir2dfilter
 * @short_description: recursive (IIR) 2-D smoothing filters of the IIR2D family
 *
 * Runs one of the eight recursive 2-D filters of IIR2D 1.0 (a horizontal then
 * a vertical pass of a short recursive program, see the project's
 * FILTER_CONTRACT.md) on the luma plane, or on every colour plane, of raw
 * video. Output caps are the input caps.
 *
 * Video in CUDA memory (`video/x-raw(memory:CUDAMemory)`) is filtered on the
 * GPU by the project's CUDA kernels, on the element's own CUDA stream in the
 * pipeline's shared #GstCudaContext. Video in system memory is filtered by
 * the CPU reference implementation (exact, but slow: meant for tests and
 * small frames). CUDA memory in and system memory out (or the reverse) is
 * never negotiated: put `cudaupload`/`cudadownload` around the element.
 *
 * Sample values are normalised to [0, 1] per plane (`v / (2^depth - 1)`),
 * filtered, blended with the input by #GstIir2dFilter:strength, rounded and
 * clamped. Planes that are not filtered are copied bit-exact; alpha is never
 * filtered. All properties except #GstIir2dFilter:cuda-device-id may be
 * changed while PLAYING; a change applies from the next buffer.
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 videotestsrc num-buffers=100 ! video/x-raw,format=NV12,width=320,height=240 ! iir2dfilter filter-id=6 ! videoconvert ! autovideosink
 * ]| Deriche smoothing (sigma 2) of the luma plane, on the CPU.
 * |[
 * gst-launch-1.0 videotestsrc num-buffers=100 ! video/x-raw,format=NV12,width=1920,height=1080 ! cudaupload ! iir2dfilter filter-id=2 planes=all border=clamp ! cudadownload ! videoconvert ! autovideosink
 * ]| Two first-order stages on all planes, on the GPU.
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
#include <cstddef>
#include <exception>
#include <mutex>
#include <string>

#include "iir2d/filters.h"
#include "iir2d/refcpu.h"

#ifdef HAVE_IIR2D_CUDA
#include <cuda_runtime_api.h>
#include <gst/cuda/gstcudabufferpool.h>
#include <gst/cuda/gstcudacontext.h>
#include <gst/cuda/gstcudaloader.h>
#include <gst/cuda/gstcudamemory.h>
#include <gst/cuda/gstcudautils.h>

#include "iir2d/cuda_filter.h"
#endif

GST_DEBUG_CATEGORY_STATIC(gst_iir2d_filter_debug);
#define GST_CAT_DEFAULT gst_iir2d_filter_debug

/* Formats and caps (IIR2D_CAPS): gstiir2dcudautils.h, shared with qualitymeter. */
static GstStaticPadTemplate sink_template =
    GST_STATIC_PAD_TEMPLATE("sink", GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS(IIR2D_CAPS));
static GstStaticPadTemplate src_template =
    GST_STATIC_PAD_TEMPLATE("src", GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS(IIR2D_CAPS));

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
};

#define DEFAULT_FILTER_ID 1u
#define DEFAULT_BORDER GST_IIR2D_BORDER_MIRROR
#define DEFAULT_BORDER_CONSTANT 0.0
#define DEFAULT_BORDER_INIT GST_IIR2D_BORDER_INIT_EXACT
#define DEFAULT_PRECISION GST_IIR2D_PRECISION_F32
#define DEFAULT_STRENGTH 1.0
#define DEFAULT_PLANES GST_IIR2D_PLANES_LUMA
#define DEFAULT_CUDA_DEVICE_ID (-1)

/* ------------------------------------------------------------------------ */
/* Enum types                                                               */

GType gst_iir2d_border_get_type(void) {
  static GType type = 0;
  static const GEnumValue values[] = {
      {GST_IIR2D_BORDER_CLAMP, "Repeat the edge sample", "clamp"},
      {GST_IIR2D_BORDER_MIRROR, "Reflect with the edge sample repeated", "mirror"},
      {GST_IIR2D_BORDER_WRAP, "Periodic extension", "wrap"},
      {GST_IIR2D_BORDER_CONSTANT, "The value of border-constant", "constant"},
      {0, nullptr, nullptr},
  };
  if (g_once_init_enter(&type)) {
    GType t = g_enum_register_static("GstIir2dBorder", values);
    g_once_init_leave(&type, t);
  }
  return type;
}

GType gst_iir2d_border_init_get_type(void) {
  static GType type = 0;
  static const GEnumValue values[] = {
      {GST_IIR2D_BORDER_INIT_EXACT, "Response to the infinite border extension", "exact"},
      {GST_IIR2D_BORDER_INIT_IIR2D, "IIR2D 1.0 warm-up from a few border samples", "iir2d"},
      {0, nullptr, nullptr},
  };
  if (g_once_init_enter(&type)) {
    GType t = g_enum_register_static("GstIir2dBorderInit", values);
    g_once_init_leave(&type, t);
  }
  return type;
}

GType gst_iir2d_precision_get_type(void) {
  static GType type = 0;
  static const GEnumValue values[] = {
      {GST_IIR2D_PRECISION_F32, "float32 storage and arithmetic", "f32"},
      {GST_IIR2D_PRECISION_MIXED, "float32 storage, float64 recursion", "mixed"},
      {GST_IIR2D_PRECISION_F64, "float64 storage and arithmetic", "f64"},
      {0, nullptr, nullptr},
  };
  if (g_once_init_enter(&type)) {
    GType t = g_enum_register_static("GstIir2dPrecision", values);
    g_once_init_leave(&type, t);
  }
  return type;
}

GType gst_iir2d_planes_get_type(void) {
  static GType type = 0;
  static const GEnumValue values[] = {
      {GST_IIR2D_PLANES_LUMA, "Luma (or gray) only, other planes copied", "luma"},
      {GST_IIR2D_PLANES_ALL, "Luma and chroma (never alpha)", "all"},
      {0, nullptr, nullptr},
  };
  if (g_once_init_enter(&type)) {
    GType t = g_enum_register_static("GstIir2dPlanes", values);
    g_once_init_leave(&type, t);
  }
  return type;
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
};

iir2d::FilterParams to_filter_params(const Settings& s) {
  iir2d::FilterParams p;
  p.filter_id = static_cast<int>(s.filter_id);
  p.border = static_cast<iir2d::Border>(s.border);
  p.border_constant = s.border_constant;
  p.border_init = static_cast<iir2d::BorderInit>(s.border_init);
  p.precision = static_cast<iir2d::Precision>(s.precision);
  return p;
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

#ifdef HAVE_IIR2D_CUDA
  GstCudaContext* context = nullptr;  // the pipeline's shared CUDA context
  cudaStream_t stream = nullptr;      // our own non-blocking stream in it
  void* workspace = nullptr;          // cudaMalloc'd in `context`
  std::size_t workspace_bytes = 0;
  std::size_t workspace_needed = 0;   // largest need for the current caps
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

/* Whether component `c` is filtered: luma/gray always, chroma with
 * planes=all, alpha never. */
bool component_is_filtered(const GstVideoInfo* info, guint c, GstIir2dPlanes planes) {
  if (GST_VIDEO_INFO_HAS_ALPHA(info) && c == GST_VIDEO_COMP_A) return false;
  if (c == 0) return true;  // GST_VIDEO_COMP_Y, or the gray component
  return planes == GST_IIR2D_PLANES_ALL;
}

}  // namespace

/* ------------------------------------------------------------------------ */
/* CUDA resources (context, stream, workspace)                              */

#ifdef HAVE_IIR2D_CUDA
namespace {

using iir2d::gst::cuda_error_text;

/* Frees the workspace; the caller has pushed the context it was made in. */
void free_workspace_pushed(GstIir2dFilterPrivate* priv) {
  iir2d::gst::cuda_free_allocation(&priv->workspace, &priv->workspace_bytes);
}

/* Destroys the stream and frees the workspace, with their context pushed. */
void release_stream_and_workspace(GstIir2dFilter* self) {
  GstIir2dFilterPrivate* priv = self->priv;
  iir2d::gst::cuda_release(GST_OBJECT(self), priv->context, &priv->stream, &priv->workspace, &priv->workspace_bytes);
}

/* Creates our non-blocking stream in priv->context. */
bool create_stream(GstIir2dFilter* self) {
  GstIir2dFilterPrivate* priv = self->priv;
  return iir2d::gst::cuda_create_stream(priv->context, &priv->stream, &priv->cuda_unavailable);
}

/* Opens (or finds in the pipeline) the CUDA context and creates our stream.
 * Failure is not fatal: the system-memory path needs no GPU. */
bool open_cuda(GstIir2dFilter* self, gint device_id) {
  GstIir2dFilterPrivate* priv = self->priv;
  priv->cuda_unavailable.clear();
  if (!iir2d::gst::cuda_open_context(GST_ELEMENT_CAST(self), device_id, &priv->context, &priv->cuda_unavailable))
    return false;
  if (priv->stream) return true;
  return create_stream(self);
}

bool cuda_ready(const GstIir2dFilterPrivate* priv) { return priv->context && priv->stream; }

/* Largest workspace any parameter combination needs for any component of
 * these caps, so that property changes while PLAYING never reallocate. */
std::size_t workspace_for_info(const GstVideoInfo* info) {
  std::size_t need = 0;
  for (guint c = 0; c < GST_VIDEO_INFO_N_COMPONENTS(info); ++c) {
    const int w = GST_VIDEO_INFO_COMP_WIDTH(info, c);
    const int h = GST_VIDEO_INFO_COMP_HEIGHT(info, c);
    iir2d::FilterParams p;
    for (int id = iir2d::kMinFilterId; id <= iir2d::kMaxFilterId; ++id)
      for (int prec = 0; prec <= 2; ++prec)
        for (int init = 0; init <= 1; ++init)
          for (int b = 0; b <= 3; ++b) {
            p.filter_id = id;
            p.precision = static_cast<iir2d::Precision>(prec);
            p.border_init = static_cast<iir2d::BorderInit>(init);
            p.border = static_cast<iir2d::Border>(b);
            need = std::max(need, iir2d::cuda::workspace_size(w, h, p));
          }
  }
  return need;
}

/* Makes the workspace at least `bytes` large; the caller has pushed the context. */
cudaError_t ensure_workspace_pushed(GstIir2dFilterPrivate* priv, std::size_t bytes) {
  return iir2d::gst::cuda_ensure_allocation(&priv->workspace, &priv->workspace_bytes, bytes);
}

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
#ifdef HAVE_IIR2D_CUDA
  const gint device_id = copy_settings(self).cuda_device_id;
  if (!open_cuda(self, device_id))
    GST_INFO_OBJECT(self, "CUDA unavailable (%s); only system memory can be filtered",
                    self->priv->cuda_unavailable.c_str());
#else
  (void)self;
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

  priv->have_info = false;
  if (!gst_video_info_from_caps(&in_info, incaps) || !gst_video_info_from_caps(&out_info, outcaps)) {
    GST_ERROR_OBJECT(self, "invalid caps %" GST_PTR_FORMAT " -> %" GST_PTR_FORMAT, incaps, outcaps);
    return FALSE;
  }
  const bool cuda_in = caps_are_cuda(incaps);
  if (cuda_in != caps_are_cuda(outcaps) || GST_VIDEO_INFO_FORMAT(&in_info) != GST_VIDEO_INFO_FORMAT(&out_info) ||
      in_info.width != out_info.width || in_info.height != out_info.height) {
    GST_ERROR_OBJECT(self, "input and output caps differ: %" GST_PTR_FORMAT " -> %" GST_PTR_FORMAT, incaps, outcaps);
    return FALSE;
  }

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
    /* Workspace once per caps, in the element's context, for the largest component. */
    priv->workspace_needed = workspace_for_info(&in_info);
    cudaError_t e = cudaErrorInvalidResourceHandle;
    if (gst_cuda_context_push(priv->context)) {
      free_workspace_pushed(priv);
      e = ensure_workspace_pushed(priv, priv->workspace_needed);
      gst_cuda_context_pop(nullptr);
    }
    if (e != cudaSuccess) {
      const std::string why = cuda_error_text(e);
      GST_ELEMENT_ERROR(self, RESOURCE, NO_SPACE_LEFT, ("Could not allocate the CUDA workspace."),
                        ("cudaMalloc of %zu bytes: %s", priv->workspace_needed, why.c_str()));
      return FALSE;
    }
    GST_DEBUG_OBJECT(self, "CUDA workspace: %zu bytes", priv->workspace_bytes);
  } else if (priv->workspace && gst_cuda_context_push(priv->context)) {
    free_workspace_pushed(priv);
    gst_cuda_context_pop(nullptr);
  }
#endif

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
      break;
  }
  return GST_BASE_TRANSFORM_CLASS(parent_class)->query(trans, direction, query);
}
#endif

static gboolean gst_iir2d_filter_propose_allocation(GstBaseTransform* trans, GstQuery* decide_query,
                                                    GstQuery* query) {
  if (!GST_BASE_TRANSFORM_CLASS(parent_class)->propose_allocation(trans, decide_query, query)) return FALSE;
  if (decide_query == nullptr) return TRUE;  // passthrough (never for this element)

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

static void gst_iir2d_filter_before_transform(GstBaseTransform* trans, GstBuffer* buffer) {
  GstIir2dFilter* self = GST_IIR2D_FILTER(trans);

  /* Controlled properties: bring them to this buffer's stream time. */
  const GstClockTime ts = GST_BUFFER_PTS(buffer);
  const GstClockTime stream_time = gst_segment_to_stream_time(&trans->segment, GST_FORMAT_TIME, ts);
  if (GST_CLOCK_TIME_IS_VALID(stream_time)) gst_object_sync_values(GST_OBJECT(self), stream_time);

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

  const iir2d::FilterParams params = to_filter_params(s);
  std::string error;
  guint failed_component = 0;
  try {
    for (guint c = 0; c < GST_VIDEO_FRAME_N_COMPONENTS(&in_frame); ++c) {
      failed_component = c;
      const auto in = frame_component<iir2d::ConstVideoComponent>(&in_frame, c);
      const auto out = frame_component<iir2d::VideoComponent>(&out_frame, c);
      if (s.strength > 0.0 && component_is_filtered(&priv->in_info, c, s.planes))
        iir2d::ref::filter_video_component(in, out, params, s.strength);
      else
        iir2d::ref::copy_video_component(in, out);
    }
  } catch (const std::exception& e) {
    error = e.what();
  } catch (...) {
    error = "unknown exception";
  }
  gst_video_frame_unmap(&out_frame);
  gst_video_frame_unmap(&in_frame);

  if (!error.empty()) {
    GST_ELEMENT_ERROR(self, STREAM, FAILED, ("Filtering failed."),
                      ("CPU filter, component %u: %s", failed_component, error.c_str()));
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

  const iir2d::FilterParams params = to_filter_params(s);
  std::string error;
  if (!gst_cuda_context_push(priv->context)) {
    error = "could not push the CUDA context";
  } else {
    /* Never needed (set_caps sized it for every parameter set), but cheap. */
    guint n = GST_VIDEO_FRAME_N_COMPONENTS(&in_frame);
    std::size_t need = 0;
    for (guint c = 0; c < n; ++c)
      need = std::max(need, iir2d::cuda::workspace_size(GST_VIDEO_FRAME_COMP_WIDTH(&in_frame, c),
                                                        GST_VIDEO_FRAME_COMP_HEIGHT(&in_frame, c), params));
    cudaError_t e = ensure_workspace_pushed(priv, need);
    if (e != cudaSuccess) error = "workspace cudaMalloc: " + cuda_error_text(e);

    for (guint c = 0; c < n && error.empty(); ++c) {
      const auto in = frame_component<iir2d::ConstVideoComponent>(&in_frame, c);
      const auto out = frame_component<iir2d::VideoComponent>(&out_frame, c);
      iir2d::cuda::Result r;
      if (s.strength > 0.0 && component_is_filtered(&priv->in_info, c, s.planes))
        r = iir2d::cuda::filter_video_component(in, out, params, s.strength, priv->workspace, priv->workspace_bytes,
                                                priv->stream);
      else
        r = iir2d::cuda::copy_video_component(in, out, priv->stream);
      if (!r.ok()) error = "component " + std::to_string(c) + ": " + r.message();
    }
    /* 1.22's CUDA memory carries no stream: the frame must be complete
     * before the buffer leaves the element. Synchronise on error too, so no
     * kernel still writes into a buffer that goes back to its pool. */
    e = cudaStreamSynchronize(priv->stream);
    if (e != cudaSuccess && error.empty()) error = "cudaStreamSynchronize: " + cuda_error_text(e);
    gst_cuda_context_pop(nullptr);
  }
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

  const GParamFlags live = GParamFlags(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_PLAYING |
                                       GST_PARAM_CONTROLLABLE);

  std::string ids = "Filter program (applied horizontally then vertically):";
  for (int id = iir2d::kMinFilterId; id <= iir2d::kMaxFilterId; ++id)
    ids += std::string(id == iir2d::kMinFilterId ? " " : "; ") + std::to_string(id) + " = " +
           iir2d::filter_description(id);
  g_object_class_install_property(
      gobject_class, PROP_FILTER_ID,
      g_param_spec_uint("filter-id", "Filter id", ids.c_str(), iir2d::kMinFilterId, iir2d::kMaxFilterId,
                        DEFAULT_FILTER_ID,
                        GParamFlags(G_PARAM_READWRITE | G_PARAM_STATIC_NAME | G_PARAM_STATIC_NICK |
                                    GST_PARAM_MUTABLE_PLAYING | GST_PARAM_CONTROLLABLE)));
  g_object_class_install_property(
      gobject_class, PROP_BORDER,
      g_param_spec_enum("border", "Border", "How samples outside the frame are taken", GST_TYPE_IIR2D_BORDER,
                        DEFAULT_BORDER, live));
  g_object_class_install_property(
      gobject_class, PROP_BORDER_CONSTANT,
      g_param_spec_double("border-constant", "Border constant",
                          "Sample value outside the frame with border=constant, normalised "
                          "(0 = black/minimum code, 1 = maximum code)",
                          0.0, 1.0, DEFAULT_BORDER_CONSTANT, live));
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
                          "Blend of filtered and input samples (0 = input unchanged, 1 = fully filtered)", 0.0,
                          1.0, DEFAULT_STRENGTH, live));
  g_object_class_install_property(
      gobject_class, PROP_PLANES,
      g_param_spec_enum("planes", "Planes",
                        "Components to filter: luma (Y or gray only, chroma copied bit-exact) or all "
                        "(luma and chroma; alpha is always copied)",
                        GST_TYPE_IIR2D_PLANES, DEFAULT_PLANES, live));
  iir2d::gst::install_cuda_device_id_property(gobject_class, PROP_CUDA_DEVICE_ID, DEFAULT_CUDA_DEVICE_ID);

  gst_element_class_set_static_metadata(element_class, "IIR2D recursive 2-D filter", "Filter/Effect/Video",
                                        "Recursive (IIR) 2-D smoothing filters of the IIR2D family, on the GPU "
                                        "for CUDA memory and on the CPU for system memory",
                                        "gst-iir2d developers");
  gst_element_class_add_static_pad_template(element_class, &sink_template);
  gst_element_class_add_static_pad_template(element_class, &src_template);

#ifdef HAVE_IIR2D_CUDA
  element_class->set_context = GST_DEBUG_FUNCPTR(gst_iir2d_filter_set_context);
  trans_class->query = GST_DEBUG_FUNCPTR(gst_iir2d_filter_query);
#endif

  /* A filter changes the samples even when the caps are the same. */
  trans_class->passthrough_on_same_caps = FALSE;
  trans_class->transform_ip_on_passthrough = FALSE;

  trans_class->start = GST_DEBUG_FUNCPTR(gst_iir2d_filter_start);
  trans_class->stop = GST_DEBUG_FUNCPTR(gst_iir2d_filter_stop);
  trans_class->transform_caps = GST_DEBUG_FUNCPTR(gst_iir2d_filter_transform_caps);
  trans_class->transform_size = GST_DEBUG_FUNCPTR(gst_iir2d_filter_transform_size);
  trans_class->set_caps = GST_DEBUG_FUNCPTR(gst_iir2d_filter_set_caps);
  trans_class->propose_allocation = GST_DEBUG_FUNCPTR(gst_iir2d_filter_propose_allocation);
  trans_class->decide_allocation = GST_DEBUG_FUNCPTR(gst_iir2d_filter_decide_allocation);
  trans_class->before_transform = GST_DEBUG_FUNCPTR(gst_iir2d_filter_before_transform);
  trans_class->transform = GST_DEBUG_FUNCPTR(gst_iir2d_filter_transform);

  gst_type_mark_as_plugin_api(GST_TYPE_IIR2D_BORDER, GstPluginAPIFlags(0));
  gst_type_mark_as_plugin_api(GST_TYPE_IIR2D_BORDER_INIT, GstPluginAPIFlags(0));
  gst_type_mark_as_plugin_api(GST_TYPE_IIR2D_PRECISION, GstPluginAPIFlags(0));
  gst_type_mark_as_plugin_api(GST_TYPE_IIR2D_PLANES, GstPluginAPIFlags(0));
}

static void gst_iir2d_filter_init(GstIir2dFilter* self) { self->priv = new GstIir2dFilterPrivate(); }
