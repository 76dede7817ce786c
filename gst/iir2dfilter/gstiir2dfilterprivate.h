// SPDX-License-Identifier: MIT
/*
 * iir2dfilter's insides, shared by the files of the element:
 * gstiir2dfilter.cpp (GObject, properties, caps and allocation, the
 * transform vfuncs and system memory), frame_job.cpp (each frame's plan and
 * job, the temporal-state bookkeeping, the fast CPU engine and the host
 * state) and transform_cuda.cpp (CUDA memory: the device memory per caps
 * and the frame on the GPU).
 */
#pragma once

#include <gst/base/gstbasetransform.h>
#include <gst/gst.h>
#include <gst/video/video.h>

#include <atomic>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "../common/cuda_session.h"
#include "../common/locked_settings.h"
#include "backends.h"
#include "frame_plan.h"
#include "gstiir2dfilter.h"
#include "iir2d/fastcpu.h"
#include "settings.h"

GST_DEBUG_CATEGORY_EXTERN(gst_iir2d_filter_debug);

namespace iir2d::gst::filter {
/* The CUDA session's device memory slots. */
inline constexpr int kWorkspaceSlot = 0;
inline constexpr int kStateSlot = 1;
}  // namespace iir2d::gst::filter

struct GstIir2dFilterPrivate {
  explicit GstIir2dFilterPrivate(GstElement* self) : cuda(self, 2) {}

  iir2d::gst::LockedSettings<iir2d::gst::filter::Settings> settings;  // property values

  /* State: built in set_caps, dropped in stop, used by the streaming thread. */
  GstVideoInfo in_info{};
  GstVideoInfo out_info{};
  bool have_info = false;
  bool cuda_caps = false;                 // memory:CUDAMemory negotiated (both sides)
  std::vector<iir2d::gst::filter::PaddingByte> paddings;  // padding bytes of packed planes
  iir2d::LumaWeights luma_weights{};      // RGB planes=luma
  std::size_t state_capacity = 0;         // floats of temporal state any plan of these caps needs
                                          // (host_state is allocated on the first temporal frame)
  /* Mixed caps keep two banks of state_capacity floats: a switch between
   * frames and field pairs moves the state into the other bank in the new
   * layout (state_relayout()). Other caps have bank 0 only. */
  int state_bank = 0;

  /* Temporal recursion (streaming thread, but reset_pending also from
   * FLUSH_STOP, which may come from another thread). */
  std::vector<float> host_state;          // system memory path
  /* Per state set (the second: the bottom fields of alternate caps). */
  bool temporal_valid[2] = {false, false};
  bool temporal_fields = false;           // the state is of two interleaved fields (Picture::Fields)
  guint temporal_filter_id = 0;
  GstIir2dPlanes temporal_planes = GST_IIR2D_PLANES_LUMA;
  GstIir2dFieldMode temporal_field_mode = GST_IIR2D_FIELD_MODE_AUTO;
  std::atomic<bool> reset_pending{false};

  /* System memory: the fast CPU path's engine (its threads and buffers),
   * made on the first frame and again when n-threads changes; or the CPU
   * reference where IIR2D_CPU_PATH=reference (read in start()). */
  std::unique_ptr<iir2d::fastcpu::Engine> fast_cpu;
  bool cpu_reference = false;

  /* CUDA memory: the pipeline's context, our stream and a second one for
   * plane copies beside the filter; device memory slots kWorkspaceSlot and
   * kStateSlot (temporal state). */
  iir2d::gst::CudaSession cuda;
};

struct _GstIir2dFilter {
  GstBaseTransform parent;
  GstIir2dFilterPrivate* priv;
};

namespace iir2d::gst::filter {

inline Settings copy_settings(GstIir2dFilter* self) { return self->priv->settings.copy(); }

}  // namespace iir2d::gst::filter

/* ------------------------------------------------------------------------ */
/* frame_job.cpp                                                            */

/* Builds this frame's plan and job; decides whether the temporal state
 * carries over from the previous frame (of the same parity, for fields).
 * `state` is the host or device state; *picture what the buffer is. */
iir2d::gst::filter::FramePlan gst_iir2d_filter_prepare_frame(GstIir2dFilter* self, GstBuffer* inbuf,
                                                             const iir2d::gst::filter::Settings& s, float* state,
                                                             iir2d::gst::filter::FrameJob* job,
                                                             iir2d::gst::filter::Picture* picture_out);
/* After a frame: its state set is valid for the next picture of its kind
 * only if this frame ran the recursion; without temporal smoothing no set
 * is. */
void gst_iir2d_filter_finish_frame(GstIir2dFilter* self, const iir2d::gst::filter::Settings& s,
                                   const iir2d::gst::filter::FrameJob& job, iir2d::gst::filter::Picture picture,
                                   bool ok);
/* The fast CPU path's engine for these settings' n-threads, made on the
 * first filtered frame; an error text if it cannot be made. */
std::string gst_iir2d_filter_ensure_fast_cpu(GstIir2dFilter* self, const iir2d::gst::filter::Settings& s);
/* System memory: the temporal state on the host, allocated when a frame
 * first smooths over time and released when smoothing is off; false after
 * posting the element error when it cannot be allocated. */
bool gst_iir2d_filter_ensure_host_state(GstIir2dFilter* self, const iir2d::gst::filter::Settings& s);

/* ------------------------------------------------------------------------ */
/* transform_cuda.cpp                                                       */

/* CUDA caps (set_caps): the context, and the workspace and temporal state
 * (`state_floats` floats) for these caps; FALSE after posting the error. */
gboolean gst_iir2d_filter_prepare_cuda(GstIir2dFilter* self, GstCaps* incaps, const GstVideoInfo* info,
                                       std::size_t state_floats);
/* CUDA memory: one frame through the CUDA kernels (the transform vfunc). */
GstFlowReturn gst_iir2d_filter_transform_cuda(GstIir2dFilter* self, GstBuffer* inbuf, GstBuffer* outbuf,
                                              const iir2d::gst::filter::Settings& s);
