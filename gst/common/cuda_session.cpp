// SPDX-License-Identifier: MIT
// The CUDA session of both elements (GStreamer's CUDA library and the CUDA
// runtime); see cuda_session.h. Built only with CUDA; cuda_session_none.cpp
// stands in for it otherwise.
#include "cuda_session.h"

#include "formats.h"

#include <cuda_runtime_api.h>
#include <gst/cuda/gstcudabufferpool.h>
#include <gst/cuda/gstcudacontext.h>
#include <gst/cuda/gstcudaloader.h>
#include <gst/cuda/gstcudamemory.h>
#include <gst/cuda/gstcudautils.h>

#include "iir2d/cuda_filter.h"

/* GStreamer 1.24 gave CUDA memory a stream (GstCudaStream) and producers a
 * way to leave work pending on it (GST_CUDA_MEMORY_TRANSFER_NEED_SYNC).
 * Every version check of the plugin's CUDA path is in this file. */
#if GST_CHECK_VERSION(1, 24, 0)
#include <gst/cuda/gstcudastream.h>
#define IIR2D_MEMORY_STREAMS 1
#else
#define IIR2D_MEMORY_STREAMS 0
#endif
/* 1.26: stream-ordered allocation (cuMemAllocAsync) of CUDA memory, asked
 * for by the context or a pool's config. */
#define IIR2D_STREAM_ORDERED_ALLOC GST_CHECK_VERSION(1, 26, 0)

GST_DEBUG_CATEGORY_STATIC(iir2d_cuda_session_debug);
#define GST_CAT_DEFAULT iir2d_cuda_session_debug

namespace iir2d::gst {

namespace {

using iir2d::cuda::error_text;

void init_debug() {
  static gsize once = 0;
  if (g_once_init_enter(&once)) {
    GST_DEBUG_CATEGORY_INIT(iir2d_cuda_session_debug, "iir2dcuda", 0, "CUDA session of the iir2d elements");
    g_once_init_leave(&once, 1);
  }
}

/* Pushes `context` for the life of the object (if it can). */
class ContextPush {
 public:
  explicit ContextPush(GstCudaContext* context) : ok_(context && gst_cuda_context_push(context)) {}
  ~ContextPush() {
    if (ok_) gst_cuda_context_pop(nullptr);
  }
  bool ok() const { return ok_; }

 private:
  bool ok_;
};

}  // namespace

bool cuda_built() { return true; }
bool cuda_usable() { return gst_cuda_load_library(); }

void cuda_plugin_init() {
  if (gst_cuda_load_library()) gst_cuda_memory_init_once();
}

CudaSession::CudaSession(GstElement* owner, int n_streams)
    : owner_(owner), n_streams_(n_streams < 1 ? 1 : n_streams > kMaxStreams ? kMaxStreams : n_streams) {
  init_debug();
}

CudaSession::~CudaSession() { close(); }

bool CudaSession::open(int device_id) {
  why_.clear();
  if (!gst_cuda_load_library()) {
    why_ = "no NVIDIA driver (libcuda not found)";
    return false;
  }
  gst_cuda_memory_init_once();
  host_wait_inputs_ = g_strcmp0(g_getenv("IIR2D_CUDA_INPUT_WAIT"), "host") == 0;
  if (!gst_cuda_ensure_element_context(owner_, device_id, &context_)) {
    why_ = device_id < 0 ? std::string("no CUDA device could be opened (cuda-device-id=-1 tries device 0)")
                         : "CUDA device " + std::to_string(device_id) + " could not be opened";
    return false;
  }
  return create_streams();
}

bool CudaSession::create_streams() {
  ContextPush push(context_);
  if (!push.ok()) {
    why_ = "the CUDA context could not be made current";
    return false;
  }
#if IIR2D_MEMORY_STREAMS
  /* The main stream as a GstCudaStream, so that it can travel in pools. */
  if (!streams_[0]) {
    GstCudaStream* gs = gst_cuda_stream_new(context_);
    if (gs) {
      gst_stream_ = gs;
      streams_[0] = reinterpret_cast<CUstream_st*>(gst_cuda_stream_get_handle(gs));
    }
  }
#endif
  for (int i = 0; i < n_streams_; ++i) {
    if (streams_[i]) continue;
    cudaStream_t s = nullptr;
    const cudaError_t e = cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking);
    if (e != cudaSuccess) {
      why_ = "could not create a CUDA stream: " + error_text(e);
      return false;
    }
    streams_[i] = s;
  }
  for (CUevent_st*& ev : events_) {
    if (ev) continue;
    cudaEvent_t e = nullptr;
    const cudaError_t r = cudaEventCreateWithFlags(&e, cudaEventDisableTiming);
    if (r != cudaSuccess) {
      why_ = "could not create a CUDA event: " + error_text(r);
      return false;
    }
    ev = e;
  }
  frame_done_pending_ = false;
  return true;
}

void CudaSession::destroy_streams_and_memory() {
  free_allocations();
  bool held = false;
  for (int i = 0; i < n_streams_; ++i) held = held || streams_[i];
  for (CUevent_st* ev : events_) held = held || ev;
  if (held) {
    ContextPush push(context_);
    if (!push.ok()) GST_WARNING_OBJECT(owner_, "could not push the CUDA context to destroy its streams");
    for (CUevent_st* ev : events_)
      if (ev && push.ok()) cudaEventDestroy(ev);
    for (int i = 0; i < n_streams_; ++i)
      if (streams_[i] && push.ok() && !(i == 0 && gst_stream_)) cudaStreamDestroy(streams_[i]);
  }
#if IIR2D_MEMORY_STREAMS
  if (gst_stream_) gst_cuda_stream_unref(static_cast<GstCudaStream*>(gst_stream_));
#endif
  gst_stream_ = nullptr;
  for (CUevent_st*& ev : events_) ev = nullptr;
  for (int i = 0; i < kMaxStreams; ++i) streams_[i] = nullptr;
  frame_done_pending_ = false;
}

void CudaSession::close() {
  destroy_streams_and_memory();
  gst_clear_object(&context_);
}

bool CudaSession::ready() const {
  if (!context_) return false;
  for (int i = 0; i < n_streams_; ++i)
    if (!streams_[i]) return false;
  return true;
}

bool CudaSession::stream_ordered() const {
#if IIR2D_STREAM_ORDERED_ALLOC
  if (!context_) return false;
  gboolean prefer = FALSE;
  g_object_get(context_, "prefer-stream-ordered-alloc", &prefer, nullptr);
  return prefer;
#else
  return false;
#endif
}

void CudaSession::set_context(GstContext* context, int device_id) {
  gst_cuda_handle_set_context(owner_, context, device_id, &context_);
}

bool CudaSession::handle_context_query(GstQuery* query) const {
  return gst_cuda_handle_context_query(owner_, query, context_);
}

bool CudaSession::propose_pool(GstQuery* query, GstCaps* caps) {
  if (!context_ || gst_query_get_n_allocation_pools(query) > 0) return true;
  GstVideoInfo info;
  if (!gst_video_info_from_caps(&info, caps)) return false;
  GstBufferPool* pool = gst_cuda_buffer_pool_new(context_);
  GstStructure* config = gst_buffer_pool_get_config(pool);
  gst_buffer_pool_config_add_option(config, GST_BUFFER_POOL_OPTION_VIDEO_META);
  gst_buffer_pool_config_set_params(config, caps, GST_VIDEO_INFO_SIZE(&info), 0, 0);
#if IIR2D_MEMORY_STREAMS
  /* Upstream (a decoder) writes on our stream: nothing to wait for. */
  if (gst_stream_) gst_buffer_pool_config_set_cuda_stream(config, static_cast<GstCudaStream*>(gst_stream_));
#endif
#if IIR2D_STREAM_ORDERED_ALLOC
  if (stream_ordered()) gst_buffer_pool_config_set_cuda_stream_ordered_alloc(config, TRUE);
#endif
  if (!gst_buffer_pool_set_config(pool, config)) {
    GST_ERROR_OBJECT(owner_, "CUDA buffer pool refused its config");
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

bool CudaSession::decide_pool(GstQuery* query, GstCaps* caps) {
  if (!context_) {
    GST_ERROR_OBJECT(owner_, "CUDA caps without a CUDA context");
    return false;
  }
  GstBufferPool* pool = nullptr;
  guint size = 0, min = 0, max = 0;
  const bool update = gst_query_get_n_allocation_pools(query) > 0;
  if (update) {
    gst_query_parse_nth_allocation_pool(query, 0, &pool, &size, &min, &max);
    /* Only a CUDA pool of our own context will do. */
    if (pool && (!GST_IS_CUDA_BUFFER_POOL(pool) || GST_CUDA_BUFFER_POOL(pool)->context != context_)) {
      GST_DEBUG_OBJECT(owner_, "ignoring downstream pool %" GST_PTR_FORMAT, pool);
      gst_clear_object(&pool);
    }
  } else {
    GstVideoInfo vinfo;
    if (!gst_video_info_from_caps(&vinfo, caps)) return false;
    size = GST_VIDEO_INFO_SIZE(&vinfo);
  }
  if (!pool) pool = gst_cuda_buffer_pool_new(context_);

  GstStructure* config = gst_buffer_pool_get_config(pool);
  gst_buffer_pool_config_add_option(config, GST_BUFFER_POOL_OPTION_VIDEO_META);
  gst_buffer_pool_config_set_params(config, caps, size, min, max);
#if IIR2D_MEMORY_STREAMS
  /* Our outputs carry a stream: downstream's, where its pool has one, else
   * ours; the frames then run on it and only flag their outputs. */
  if (GstCudaStream* theirs = gst_buffer_pool_config_get_cuda_stream(config))
    gst_cuda_stream_unref(theirs);
  else if (gst_stream_)
    gst_buffer_pool_config_set_cuda_stream(config, static_cast<GstCudaStream*>(gst_stream_));
#endif
#if IIR2D_STREAM_ORDERED_ALLOC
  /* Downstream's pool may have chosen already; else the context's wish. */
  gboolean ordered = FALSE;
  if (!gst_buffer_pool_config_get_cuda_stream_ordered_alloc(config, &ordered) && stream_ordered())
    gst_buffer_pool_config_set_cuda_stream_ordered_alloc(config, TRUE);
#endif
  if (!gst_buffer_pool_set_config(pool, config)) {
    /* The pool may have adjusted the config (e.g. the buffer count): take
     * it if it still fits our caps. */
    config = gst_buffer_pool_get_config(pool);
    bool accepted = false;
    if (gst_buffer_pool_config_validate_params(config, caps, size, min, max))
      accepted = gst_buffer_pool_set_config(pool, config);
    else
      gst_structure_free(config);
    if (!accepted) {
      GST_ERROR_OBJECT(owner_, "CUDA buffer pool refused its config for %" GST_PTR_FORMAT, caps);
      gst_object_unref(pool);
      return false;
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
  return true;
}

bool CudaSession::adopt_context_of(GstBuffer* buf, int device_id) {
  if (!context_) return false;
  GstMemory* mem = gst_buffer_n_memory(buf) > 0 ? gst_buffer_peek_memory(buf, 0) : nullptr;
  if (!mem || !gst_is_cuda_memory(mem)) return false;
  GstCudaContext* other = GST_CUDA_MEMORY_CAST(mem)->context;
  if (other == context_) return false;
  if (device_id >= 0) {
    guint other_id = 0;
    g_object_get(other, "cuda-device-id", &other_id, nullptr);
    if (other_id != static_cast<guint>(device_id)) return false;  // map() reports it if not accessible
  }
  GST_INFO_OBJECT(owner_, "buffers come from CUDA context %" GST_PTR_FORMAT ", switching from %" GST_PTR_FORMAT,
                  other, context_);
  destroy_streams_and_memory();
  gst_object_unref(context_);
  context_ = GST_CUDA_CONTEXT(gst_object_ref(other));
  if (!create_streams()) GST_WARNING_OBJECT(owner_, "%s", why_.c_str());
  return true;
}

bool CudaSession::ensure_allocation(int slot, std::size_t bytes, std::string* why, bool* fresh) {
  if (fresh) *fresh = false;
  if (sizes_[slot] >= bytes && (memory_[slot] || bytes == 0)) return true;
  ContextPush push(context_);
  if (!push.ok()) {
    *why = "could not push the CUDA context";
    return false;
  }
  if (memory_[slot]) cudaFree(memory_[slot]);
  memory_[slot] = nullptr;
  sizes_[slot] = 0;
  if (fresh) *fresh = true;
  void* p = nullptr;
  /* Stream-ordered where the context asks for it (1.26+). The allocation
   * is waited for at once, so any stream may use it (allocations are made
   * once per caps, not per frame); cudaFree, which synchronises, frees
   * either kind. */
  const bool ordered = stream_ordered() && streams_[0];
  cudaError_t e = ordered ? cudaMallocAsync(&p, bytes, streams_[0]) : cudaMalloc(&p, bytes);
  if (e == cudaSuccess && ordered) e = cudaStreamSynchronize(streams_[0]);
  if (e != cudaSuccess) {
    if (p) cudaFree(p);
    *why = std::string(ordered ? "cudaMallocAsync" : "cudaMalloc") + " of " + std::to_string(bytes) +
           " bytes: " + error_text(e);
    return false;
  }
  GST_DEBUG_OBJECT(owner_, "device memory slot %d: %zu bytes%s", slot, bytes, ordered ? ", stream-ordered" : "");
  memory_[slot] = p;
  sizes_[slot] = bytes;
  return true;
}

void CudaSession::free_allocations() {
  bool held = false;
  for (int i = 0; i < kMaxAllocations; ++i) held = held || memory_[i];
  if (!held) return;
  ContextPush push(context_);
  if (!push.ok()) GST_WARNING_OBJECT(owner_, "could not push the CUDA context to free device memory");
  for (int i = 0; i < kMaxAllocations; ++i) {
    if (memory_[i] && push.ok()) cudaFree(memory_[i]);
    memory_[i] = nullptr;
    sizes_[i] = 0;
  }
}

/* ---- CudaFrameScope ------------------------------------------------------ */

bool CudaFrameScope::map(GstBuffer* buf, const GstVideoInfo* caps_info, GstMapFlags flags, const char* what,
                         std::string* error) {
  const std::string name = std::string("the ") + what + " buffer";
  if (!session_.ready()) {
    *error = "no CUDA context: " + session_.unavailable_reason();
    return false;
  }
  if (gst_buffer_n_memory(buf) != 1) {
    *error = name + " has " + std::to_string(gst_buffer_n_memory(buf)) + " memories, expected one";
    return false;
  }
  GstMemory* mem = gst_buffer_peek_memory(buf, 0);
  if (!gst_is_cuda_memory(mem)) {
    *error = name + " is not CUDA memory";
    return false;
  }
  GstCudaContext* other = GST_CUDA_MEMORY_CAST(mem)->context;
  if (other != session_.context_ && !gst_cuda_context_can_access_peer(session_.context_, other)) {
    *error = name + " belongs to a CUDA context this element cannot access (check cuda-device-id)";
    return false;
  }
  /* CUDA planes are pitched: a CUDA pool's buffers carry a GstVideoMeta
   * with the real layout (gst_video_frame_map follows it); without one,
   * take the memory's own. */
  const GstVideoInfo* layout = gst_buffer_get_video_meta(buf) ? caps_info : &GST_CUDA_MEMORY_CAST(mem)->info;
  const GstMapFlags all = GstMapFlags(flags | GST_MAP_CUDA);
  Mapped m{};
  if (!gst_video_frame_map(&m.frame, layout, buf, all)) {
    *error = "could not map " + name + ((flags & GST_MAP_WRITE) ? " (GST_MAP_WRITE | GST_MAP_CUDA)"
                                                                : " (GST_MAP_READ | GST_MAP_CUDA)");
    return false;
  }
  const std::string extent = frame_extent_error(&m.frame);
  if (!extent.empty()) {
    gst_video_frame_unmap(&m.frame);
    *error = name + " does not hold its frame: " + extent;
    return false;
  }
  m.buffer = buf;
  m.write = (flags & GST_MAP_WRITE) != 0;
  try {
    maps_.push_back(m);
  } catch (...) {
    gst_video_frame_unmap(&m.frame);
    throw;
  }
  return true;
}

namespace {

/* The pending-work stream of a mapped buffer's memory, if it has one (1.24+). */
CUstream_st* memory_stream(GstBuffer* buf, GstCudaContext* ours, bool* foreign_context) {
  *foreign_context = false;
#if IIR2D_MEMORY_STREAMS
  GstCudaMemory* cmem = GST_CUDA_MEMORY_CAST(gst_buffer_peek_memory(buf, 0));
  GstCudaStream* s = gst_cuda_memory_get_stream(cmem);
  if (!s) return nullptr;
  *foreign_context = cmem->context != ours;
  return reinterpret_cast<CUstream_st*>(gst_cuda_stream_get_handle(s));
#else
  (void)buf;
  (void)ours;
  return nullptr;
#endif
}

}  // namespace

bool CudaFrameScope::enter(std::string* error) {
  if (pushed_) return true;
  if (!session_.ready()) {
    *error = "no CUDA context: " + session_.unavailable_reason();
    return false;
  }
  pushed_ = gst_cuda_context_push(session_.context_);
  if (!pushed_) {
    *error = "could not push the CUDA context";
    return false;
  }
  ++session_.frames_;
  /* The frame's stream: the outputs' own (then they are only flagged), else ours. */
  work_ = session_.streams_[0];
  async_ = false;
  for (const Mapped& m : maps_) {
    bool foreign = false;
    CUstream_st* s = m.write ? memory_stream(m.buffer, session_.context_, &foreign) : nullptr;
    if (s && !foreign) {
      work_ = s;
      async_ = true;
    }
  }
  cudaEvent_t* ev = session_.events_;
  cudaError_t e = cudaSuccess;
  auto step = [&](cudaError_t r, const char* what) {
    if (r != cudaSuccess && e == cudaSuccess) {
      e = r;
      *error = std::string(what) + ": " + error_text(r);
    }
  };
  /* Our device memory (workspace, temporal state) was last used by the
   * previous frame, maybe on another stream. */
  if (session_.frame_done_pending_) step(cudaStreamWaitEvent(work_, ev[CudaSession::kFrameDone], 0), "wait for the previous frame");
  /* Every input's pending work (a decoder's copy on its own stream). */
  bool waited = false;
  for (const Mapped& m : maps_) {
    if (m.write) continue;
    bool foreign = false;
    CUstream_st* s = memory_stream(m.buffer, session_.context_, &foreign);
    if (!s || s == work_) continue;
    if (foreign || session_.host_wait_inputs_) {
#if IIR2D_MEMORY_STREAMS
      /* Another context (or IIR2D_CUDA_INPUT_WAIT=host): on the host. */
      gst_cuda_memory_sync(GST_CUDA_MEMORY_CAST(gst_buffer_peek_memory(m.buffer, 0)));
#endif
      continue;
    }
    step(cudaEventRecord(ev[CudaSession::kInputOnItsStream], s), "record an input's pending work");
    step(cudaStreamWaitEvent(work_, ev[CudaSession::kInputOnItsStream], 0), "wait for an input's pending work");
    waited = true;
  }
  /* The copy stream starts where the work stream is. */
  if ((async_ || waited || session_.frame_done_pending_) && session_.n_streams_ > 1) {
    step(cudaEventRecord(ev[CudaSession::kInputsReady], work_), "record the inputs ready");
    step(cudaStreamWaitEvent(session_.streams_[1], ev[CudaSession::kInputsReady], 0), "start the copy stream");
  }
  return e == cudaSuccess;
}

std::string CudaFrameScope::finish() {
  std::string error;
  auto step = [&](cudaError_t r, const char* what) {
    if (r != cudaSuccess && error.empty()) error = std::string(what) + ": " + error_text(r);
  };
  if (pushed_) {
    cudaEvent_t* ev = session_.events_;
    if (async_) {
      /* The outputs' stream holds the whole frame: join the copies, mark
       * the frame, let the inputs' streams not overwrite what we still
       * read, and flag the outputs for downstream. */
      if (session_.n_streams_ > 1) {
        step(cudaEventRecord(ev[CudaSession::kCopiesDone], session_.streams_[1]), "record the copies");
        step(cudaStreamWaitEvent(work_, ev[CudaSession::kCopiesDone], 0), "join the copies");
      }
      step(cudaEventRecord(ev[CudaSession::kFrameDone], work_), "record the frame");
      session_.frame_done_pending_ = true;
      for (const Mapped& m : maps_) {
        bool foreign = false;
        CUstream_st* s = m.write ? nullptr : memory_stream(m.buffer, session_.context_, &foreign);
        if (s && !foreign && s != work_) step(cudaStreamWaitEvent(s, ev[CudaSession::kFrameDone], 0), "hand the input back");
      }
    } else {
      for (int i = 0; i < session_.n_streams_; ++i) step(cudaStreamSynchronize(session_.streams_[i]), "cudaStreamSynchronize");
      session_.frame_done_pending_ = false;
      ++session_.host_syncs_;
    }
    gst_cuda_context_pop(nullptr);
    pushed_ = false;
    GST_LOG_OBJECT(session_.owner_, "frame %s (%" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT " frames host-synchronised)",
                   async_ ? "left on its output's stream" : "synchronised on the host", session_.host_syncs_,
                   session_.frames_);
  }
  while (!maps_.empty()) {
    Mapped& m = maps_.back();
    gst_video_frame_unmap(&m.frame);
#if IIR2D_MEMORY_STREAMS
    if (m.write) {
      GstMemory* mem = gst_buffer_peek_memory(m.buffer, 0);
      if (async_)
        GST_MINI_OBJECT_FLAG_SET(mem, GST_CUDA_MEMORY_TRANSFER_NEED_SYNC);
      else
        GST_MINI_OBJECT_FLAG_UNSET(mem, GST_CUDA_MEMORY_TRANSFER_NEED_SYNC);
    }
#endif
    maps_.pop_back();
  }
  async_ = false;
  return error;
}

}  // namespace iir2d::gst
