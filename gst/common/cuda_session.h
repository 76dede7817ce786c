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
 * Streams (GStreamer 1.24+, where CUDA memory carries a GstCudaStream and
 * producers such as nvh264dec flag pending work with
 * GST_CUDA_MEMORY_TRANSFER_NEED_SYNC instead of waiting): the session's
 * main stream is a GstCudaStream, set in the pools it proposes upstream and
 * decides downstream (a downstream pool's own stream is kept), so that a
 * chain of CUDA elements shares one stream. A frame runs on its output
 * memory's stream where it has one, else on the session's; it first waits,
 * on the device, for every input memory's stream; an output on its own
 * stream is flagged NEED_SYNC and nothing blocks the CPU. Only where the
 * result must reach the host (no output stream: qualitymeter's scalars,
 * 1.22's stream-less memory) does the frame end in a host synchronisation,
 * as it always does on 1.22.
 *
 * Threading: open/close from start/stop (or set_caps), everything else from
 * the streaming thread, except set_context and the CONTEXT query, which only
 * read or fill the context pointer the way gst_cuda_handle_* expect.
 */
#pragma once

#include <gst/gst.h>
#include <gst/video/video.h>

#include <cstddef>
#include <deque>
#include <string>

struct CUstream_st;
struct CUevent_st;
typedef struct _GstCudaContext GstCudaContext;

namespace iir2d::gst {

/* Whether the plugin was built with the CUDA path. */
bool cuda_built();

/* Whether CUDA memory can be offered at all: built with CUDA and libcuda
 * loads (gst_cuda_load_library(), which caches its answer). Without it the
 * pad templates carry no memory:CUDAMemory caps, so auto-plugging never
 * picks a path that can only fail. */
bool cuda_usable();

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
  /* Stream `i` (0 = the main one), null until open() created it. A frame's
   * work goes on CudaFrameScope::stream(), which may be another one. */
  CUstream_st* stream(int i = 0) const { return streams_[i]; }
  /* Frames run through a CudaFrameScope, and how many of them ended in a
   * host synchronisation (the others left flagged outputs). */
  guint64 frames() const { return frames_; }
  guint64 host_syncs() const { return host_syncs_; }

  /* Whether the context asks for stream-ordered allocation (1.26+: its
   * "prefer-stream-ordered-alloc" property, which GST_CUDA_ENABLE_STREAM_ORDERED_ALLOC
   * sets too); false before 1.26 and without a context. Where it does, the
   * pools we propose or configure ask for it, and ensure_allocation()
   * allocates with cudaMallocAsync. */
  bool stream_ordered() const;

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

  enum Event { kInputsReady, kCopiesDone, kFrameDone, kInputOnItsStream, kEvents };

  GstElement* owner_;
  int n_streams_;
  GstCudaContext* context_ = nullptr;
  CUstream_st* streams_[kMaxStreams] = {};
  void* gst_stream_ = nullptr;  // GstCudaStream of streams_[0] (1.24+), else null
  CUevent_st* events_[kEvents] = {};
  bool frame_done_pending_ = false;  // kFrameDone recorded and not waited for by a host sync
  /* IIR2D_CUDA_INPUT_WAIT=host at open(): wait for inputs' pending work
   * with gst_cuda_memory_sync (on the host) instead of an event on the GPU;
   * for measuring the two (tests/bench/graph_bench.cpp), not for use. */
  bool host_wait_inputs_ = false;
  guint64 frames_ = 0, host_syncs_ = 0;
  void* memory_[kMaxAllocations] = {};
  std::size_t sizes_[kMaxAllocations] = {};
  std::string why_;
};

/* One frame's work in CUDA memory: maps the buffers with GST_MAP_CUDA in
 * their real (pitched) layout, pushes the session's context, picks the
 * frame's streams and makes them wait for the inputs (enter()), and, on
 * every path, ends the frame (finish(): flags the outputs or waits on the
 * host), pops the context and unmaps. Error texts name the buffer and the
 * step.
 *
 *   CudaFrameScope scope(session);
 *   if (!scope.map(in, &info, GST_MAP_READ, "input", &error) ||
 *       !scope.map(out, &info, GST_MAP_WRITE, "output", &error) || !scope.enter(&error)) ...;
 *   ... enqueue kernels on scope.stream(0) (and copies on scope.stream(1)) ...
 *   error = scope.finish();
 */
class CudaFrameScope {
 public:
  explicit CudaFrameScope(CudaSession& session) : session_(session) {}
  ~CudaFrameScope() { finish(); }
  CudaFrameScope(const CudaFrameScope&) = delete;
  CudaFrameScope& operator=(const CudaFrameScope&) = delete;

  /* Checks that `buf` is one CUDA memory our context can access and maps
   * it (`flags` | GST_MAP_CUDA) in the layout of its GstVideoMeta (through
   * `caps_info`) or, without one, of the memory itself. The frame is
   * frame(i) for the i-th successful map; any number of frames may be
   * mapped (qualitymeter: the reference and every distorted input). False
   * with *error ("the input buffer is not CUDA memory") otherwise. */
  bool map(GstBuffer* buf, const GstVideoInfo* caps_info, GstMapFlags flags, const char* what, std::string* error);
  GstVideoFrame* frame(int i) { return &maps_[static_cast<std::size_t>(i)].frame; }
  int mapped() const { return static_cast<int>(maps_.size()); }

  /* After the maps: pushes the session's context, picks the frame's stream
   * (the output memory's, else the session's) and makes it wait for the
   * previous frame and for every input's pending work. False with *error. */
  bool enter(std::string* error);
  /* The stream for the frame's work (0) and for copies beside it (1). */
  CUstream_st* stream(int i = 0) const { return i == 0 ? work_ : session_.streams_[i]; }

  /* Ends the frame. Where the outputs are on their own stream, the copy
   * stream is joined to the work stream, the outputs are flagged
   * GST_CUDA_MEMORY_TRANSFER_NEED_SYNC and nothing waits. Otherwise the
   * session's streams are synchronised on the host (1.22's CUDA memory
   * carries no stream: a frame must be complete before its buffer moves
   * on, also after an error, so that no kernel still writes into a buffer
   * that goes back to its pool). Then pops the context and unmaps the
   * frames. Returns the first CUDA error, empty if none. Idempotent. */
  std::string finish();

 private:
  CudaSession& session_;
  struct Mapped {
    GstVideoFrame frame;
    GstBuffer* buffer;
    bool write;
  };
  std::deque<Mapped> maps_;  // a deque: frame(i) stays valid while more are mapped
  bool pushed_ = false;
  bool async_ = false;  // the outputs' own stream carries the work: flag, don't wait
  CUstream_st* work_ = nullptr;
};

}  // namespace iir2d::gst
