// SPDX-License-Identifier: MIT
/*
 * The CUDA route of an element, once for both elements (iir2dfilter,
 * qualitymeter), the way nvcodec's GstCudaBaseTransform holds it for its
 * elements: the pipeline's shared GstCudaContext, the element's own CUDA
 * streams, its device memory, the CONTEXT query and set_context, CUDA
 * buffer pools (proposed upstream, decided downstream), adopting the context
 * of a buffer that comes from another one, and a scoped mapping of frames
 * in CUDA memory.
 *
 * This header needs no CUDA header: streams are `CUstream_st*`, which is
 * what cudaStream_t is. In builds without CUDA, cuda_session_none.cpp
 * implements it as a session that never opens ("built without CUDA"), so
 * element code carries no #ifdef for it. Every GStreamer version check of
 * the CUDA path lives in cuda_session.cpp.
 *
 * Threading: open/close from start/stop (or set_caps), everything else from
 * the streaming thread, except set_context and the CONTEXT query, which only
 * read or fill the context pointer the way gst_cuda_handle_* expect.
 */
#pragma once

#include <gst/gst.h>
#include <gst/video/video.h>

#include <cstddef>
#include <string>

struct CUstream_st;
typedef struct _GstCudaContext GstCudaContext;

namespace iir2d::gst {

/* Whether the plugin was built with the CUDA path. */
bool cuda_built();

/* At plugin load: loads libcuda where it can be and registers GStreamer's
 * CUDA allocator. Without a driver (or a CUDA build) it does nothing: the
 * elements still work on system memory. */
void cuda_plugin_init();

class CudaSession {
 public:
  static constexpr int kMaxStreams = 2;
  static constexpr int kMaxAllocations = 2;

  /* For `owner` (not reffed; the session is a member of its private
   * data), with `n_streams` (1..kMaxStreams) non-blocking streams. */
  CudaSession(GstElement* owner, int n_streams);
  ~CudaSession();
  CudaSession(const CudaSession&) = delete;
  CudaSession& operator=(const CudaSession&) = delete;

  /* Loads libcuda, finds the pipeline's context (or opens one on
   * `device_id`, -1 = any) and creates the streams that are missing. False
   * with unavailable_reason() set when there is no usable driver or device;
   * not fatal for elements that also work in system memory. */
  bool open(int device_id);
  /* Frees the device memory, destroys the streams and drops the context. */
  void close();
  /* A context and all streams are there. */
  bool ready() const;
  /* Why open() failed ("no NVIDIA driver (libcuda not found)", …). */
  const std::string& unavailable_reason() const { return why_; }

  GstCudaContext* context() const { return context_; }
  /* Stream `i` (0 = the main one), null until open() created it. */
  CUstream_st* stream(int i = 0) const { return streams_[i]; }

  /* GstElement::set_context: takes the pipeline's context while there is none. */
  void set_context(GstContext* context, int device_id);
  /* A CONTEXT query: true if answered with our context. */
  bool handle_context_query(GstQuery* query) const;

  /* propose_allocation for CUDA `caps`: adds a CUDA buffer pool of our
   * context (with the pitched size it reports) when the query has no pool
   * yet. True when there is nothing to do. */
  bool propose_pool(GstQuery* query, GstCaps* caps);
  /* decide_allocation for CUDA `caps`: keeps downstream's pool only if it
   * is a CUDA pool of our context, else makes one; configures it with the
   * video-meta option and writes it back with its pitched size. False with
   * the reason logged if there is no context or the pool refuses. */
  bool decide_pool(GstQuery* query, GstCaps* caps);

  /* If `buf` is CUDA memory of another context that may be used (any
   * device with cuda-device-id -1, else the same device id), switches to
   * that context: device memory is freed and streams are made anew in it.
   * True if the session switched; the caller then rebuilds what it kept
   * in device memory (and renegotiates its pool). */
  bool adopt_context_of(GstBuffer* buf, int device_id);

  /* Makes device memory slot `slot` (0..kMaxAllocations-1) at least
   * `bytes` large, in our context (pushed here). It is kept while it is
   * large enough, so that its contents survive; else it is made anew and
   * *fresh (if given) is set: the old contents are gone. False with *why on
   * failure (the slot is then empty). */
  bool ensure_allocation(int slot, std::size_t bytes, std::string* why, bool* fresh = nullptr);
  /* Slot `slot`'s device memory (null if none) and its size in bytes. */
  void* allocation(int slot) const { return memory_[slot]; }
  std::size_t allocation_size(int slot) const { return sizes_[slot]; }
  /* Frees every slot. */
  void free_allocations();

 private:
  friend class CudaFrameScope;
  bool create_streams();
  void destroy_streams_and_memory();

  GstElement* owner_;
  int n_streams_;
  GstCudaContext* context_ = nullptr;
  CUstream_st* streams_[kMaxStreams] = {};
  void* memory_[kMaxAllocations] = {};
  std::size_t sizes_[kMaxAllocations] = {};
  std::string why_;
};

/* One frame's work in CUDA memory: maps the buffers with GST_MAP_CUDA in
 * their real (pitched) layout, pushes the session's context around the
 * caller's launches and, on every path, waits for the session's streams,
 * pops the context and unmaps. Error texts name the buffer and the step.
 *
 *   CudaFrameScope scope(session);
 *   if (!scope.map(in, &info, GST_MAP_READ, "input", &error) || !scope.enter(&error)) ...;
 *   ... enqueue kernels on session.stream() ...
 *   error = scope.finish();  // synchronised: the frames are complete
 */
class CudaFrameScope {
 public:
  static constexpr int kMaxFrames = 2;

  explicit CudaFrameScope(CudaSession& session) : session_(session) {}
  ~CudaFrameScope() { finish(); }
  CudaFrameScope(const CudaFrameScope&) = delete;
  CudaFrameScope& operator=(const CudaFrameScope&) = delete;

  /* Checks that `buf` is one CUDA memory our context can access and maps
   * it (`flags` | GST_MAP_CUDA) in the layout of its GstVideoMeta (through
   * `caps_info`) or, without one, of the memory itself. The frame is
   * frame(i) for the i-th successful map. False with *error ("the input
   * buffer is not CUDA memory") otherwise. */
  bool map(GstBuffer* buf, const GstVideoInfo* caps_info, GstMapFlags flags, const char* what, std::string* error);
  GstVideoFrame* frame(int i) { return &frames_[i]; }

  /* Pushes the session's context (once); false with *error if it cannot. */
  bool enter(std::string* error);

  /* Waits for every stream of the session (1.22's CUDA memory carries no
   * stream: a frame must be complete before its buffer moves on, also after
   * an error, so that no kernel still writes into a buffer that goes back
   * to its pool), pops the context and unmaps the frames. Returns the first
   * CUDA error, empty if none. Idempotent. */
  std::string finish();

 private:
  CudaSession& session_;
  GstVideoFrame frames_[kMaxFrames] = {};
  int mapped_ = 0;
  bool pushed_ = false;
};

}  // namespace iir2d::gst
