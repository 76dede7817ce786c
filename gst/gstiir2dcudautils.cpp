// SPDX-License-Identifier: MIT
// Helpers shared by the plugin's elements; see gstiir2dcudautils.h.
#include "gstiir2dcudautils.h"

#ifdef HAVE_IIR2D_CUDA
#include <gst/cuda/gstcudabufferpool.h>
#include <gst/cuda/gstcudaloader.h>
#include <gst/cuda/gstcudamemory.h>
#include <gst/cuda/gstcudautils.h>
#endif

namespace iir2d::gst {

bool caps_are_cuda(GstCaps* caps) {
#ifdef HAVE_IIR2D_CUDA
  GstCapsFeatures* f = caps && !gst_caps_is_empty(caps) ? gst_caps_get_features(caps, 0) : nullptr;
  return f && gst_caps_features_contains(f, GST_CAPS_FEATURE_MEMORY_CUDA_MEMORY);
#else
  (void)caps;
  return false;
#endif
}

void install_cuda_device_id_property(GObjectClass* klass, guint prop_id, gint default_id) {
  g_object_class_install_property(
      klass, prop_id,
      g_param_spec_int("cuda-device-id", "CUDA device id",
                       "CUDA device for CUDA-memory video (-1 = any: the pipeline's context, else device 0)", -1,
                       G_MAXINT, default_id,
                       GParamFlags(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY)));
}

#ifdef HAVE_IIR2D_CUDA

cudaError_t cuda_ensure_allocation(void** ptr, std::size_t* bytes, std::size_t need) {
  if (*ptr && *bytes >= need) return cudaSuccess;
  cuda_free_allocation(ptr, bytes);
  if (need == 0) return cudaSuccess;
  cudaError_t e = cudaMalloc(ptr, need);
  if (e != cudaSuccess) {
    *ptr = nullptr;
    return e;
  }
  *bytes = need;
  return cudaSuccess;
}

void cuda_free_allocation(void** ptr, std::size_t* bytes) {
  if (*ptr) cudaFree(*ptr);
  *ptr = nullptr;
  *bytes = 0;
}

void cuda_release(GstObject* element, GstCudaContext* context, cudaStream_t* stream, void** ptr, std::size_t* bytes) {
  if (!*stream && !*ptr) return;
  if (context && gst_cuda_context_push(context)) {
    cuda_free_allocation(ptr, bytes);
    if (*stream) cudaStreamDestroy(*stream);
    gst_cuda_context_pop(nullptr);
  } else {
    GST_WARNING_OBJECT(element, "could not push the CUDA context to release a stream and device memory");
  }
  *stream = nullptr;
  *ptr = nullptr;
  *bytes = 0;
}

std::string cuda_error_text(cudaError_t e) {
  return std::string(cudaGetErrorString(e)) + " (" + cudaGetErrorName(e) + ")";
}

bool cuda_open_context(GstElement* element, gint device_id, GstCudaContext** context, std::string* why) {
  if (!gst_cuda_load_library()) {
    *why = "libcuda could not be loaded (no NVIDIA driver?)";
    return false;
  }
  gst_cuda_memory_init_once();
  if (!gst_cuda_ensure_element_context(element, device_id, context)) {
    *why = device_id < 0 ? std::string("no CUDA device could be opened (cuda-device-id=-1 tries device 0)")
                         : "CUDA device " + std::to_string(device_id) + " could not be opened";
    return false;
  }
  return true;
}

bool cuda_create_stream(GstCudaContext* context, cudaStream_t* stream, std::string* why) {
  if (!gst_cuda_context_push(context)) {
    *why = "the CUDA context could not be made current";
    return false;
  }
  cudaError_t e = cudaStreamCreateWithFlags(stream, cudaStreamNonBlocking);
  gst_cuda_context_pop(nullptr);
  if (e != cudaSuccess) {
    *stream = nullptr;
    *why = "could not create a CUDA stream: " + cuda_error_text(e);
    return false;
  }
  return true;
}

bool cuda_buffer_usable(GstCudaContext* context, GstBuffer* buf, std::string* why) {
  if (gst_buffer_n_memory(buf) != 1) {
    *why = "has " + std::to_string(gst_buffer_n_memory(buf)) + " memories, expected one";
    return false;
  }
  GstMemory* mem = gst_buffer_peek_memory(buf, 0);
  if (!gst_is_cuda_memory(mem)) {
    *why = "is not CUDA memory";
    return false;
  }
  GstCudaContext* other = GST_CUDA_MEMORY_CAST(mem)->context;
  if (other != context && !gst_cuda_context_can_access_peer(context, other)) {
    *why = "belongs to a CUDA context this element cannot access (check cuda-device-id)";
    return false;
  }
  return true;
}

const GstVideoInfo* cuda_buffer_layout(GstBuffer* buf, const GstVideoInfo* caps_info) {
  if (gst_buffer_get_video_meta(buf)) return caps_info;
  return &GST_CUDA_MEMORY_CAST(gst_buffer_peek_memory(buf, 0))->info;
}

bool cuda_propose_pool(GstObject* element, GstCudaContext* context, GstQuery* query, GstCaps* caps,
                       const GstVideoInfo* info) {
  GstBufferPool* pool = gst_cuda_buffer_pool_new(context);
  GstStructure* config = gst_buffer_pool_get_config(pool);
  gst_buffer_pool_config_add_option(config, GST_BUFFER_POOL_OPTION_VIDEO_META);
  gst_buffer_pool_config_set_params(config, caps, GST_VIDEO_INFO_SIZE(info), 0, 0);
  if (!gst_buffer_pool_set_config(pool, config)) {
    GST_ERROR_OBJECT(element, "CUDA buffer pool refused its config");
    gst_object_unref(pool);
    return false;
  }
  /* The pool pitches the planes: read the real buffer size back. */
  guint size = 0;
  config = gst_buffer_pool_get_config(pool);
  gst_buffer_pool_config_get_params(config, nullptr, &size, nullptr, nullptr);
  gst_structure_free(config);
  gst_query_add_allocation_pool(query, pool, size, 0, 0);
  gst_object_unref(pool);
  return true;
}

#endif  // HAVE_IIR2D_CUDA

}  // namespace iir2d::gst
