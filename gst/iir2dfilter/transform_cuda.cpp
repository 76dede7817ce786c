// SPDX-License-Identifier: MIT
/*
 * iir2dfilter on CUDA memory: the context and the device memory (workspace
 * and temporal state) once per caps, and each frame through the CUDA
 * kernels on the frame's streams. It needs no CUDA header (the CUDA
 * session and the CUDA backend stand in with their *_none.cpp files in
 * builds without CUDA, where CUDA caps are never negotiated), so it is
 * built, and compile-checked, in both.
 */
#include <gst/video/video.h>

#include <cstddef>
#include <string>

#include "../common/cuda_session.h"
#include "gstiir2dfilterprivate.h"

#define GST_CAT_DEFAULT gst_iir2d_filter_debug

using iir2d::gst::CudaFrameScope;
using iir2d::gst::CudaSession;
using namespace iir2d::gst::filter;

/* CUDA caps: the context (opened now if start() could not), and the
 * workspace and temporal state once per caps, for the largest need of any
 * settings. */
gboolean gst_iir2d_filter_prepare_cuda(GstIir2dFilter* self, GstCaps* incaps, const GstVideoInfo* info,
                                       std::size_t state_floats) {
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

/* CUDA memory: the CUDA kernels on the frame's streams; the output is
 * complete, or flagged for downstream, when it leaves (CudaFrameScope). */
GstFlowReturn gst_iir2d_filter_transform_cuda(GstIir2dFilter* self, GstBuffer* inbuf, GstBuffer* outbuf,
                                              const Settings& s) {
  GstIir2dFilterPrivate* priv = self->priv;
  CudaSession& cuda = priv->cuda;
  std::string error;
  FrameJob job;
  Picture picture = Picture::Frame;
  bool ran = false;
  {
    CudaFrameScope scope(cuda);
    if (scope.map(inbuf, &priv->in_info, GST_MAP_READ, "input", &error) &&
        scope.map(outbuf, &priv->out_info, GST_MAP_WRITE, "output", &error) && scope.enter(&error)) {
      float* state = static_cast<float*>(cuda.allocation(kStateSlot));
      const FramePlan plan = gst_iir2d_filter_prepare_frame(self, inbuf, s, state, &job, &picture);
      error = run_plan_cuda(plan, scope.frame(0), scope.frame(1), job, &priv->in_info,
                            cuda.allocation(kWorkspaceSlot), cuda.allocation_size(kWorkspaceSlot), scope.stream(0),
                            scope.stream(1));
      ran = true;
    }
    const std::string sync_error = scope.finish();
    if (error.empty()) error = sync_error;
  }
  if (ran) gst_iir2d_filter_finish_frame(self, s, job, picture, error.empty());
  if (!error.empty()) {
    GST_ELEMENT_ERROR(self, STREAM, FAILED, ("CUDA filtering failed."), ("%s", error.c_str()));
    return GST_FLOW_ERROR;
  }
  return GST_FLOW_OK;
}
