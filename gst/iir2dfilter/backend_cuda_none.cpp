// SPDX-License-Identifier: MIT
// iir2dfilter's CUDA backend in a plugin built without CUDA: CUDA caps are
// never offered there, so these only answer "no CUDA". See backends.h.
#include "backends.h"

namespace iir2d::gst::filter {

std::size_t cuda_workspace_for_info(const GstVideoInfo* /*info*/) { return 0; }

std::string run_plan_cuda(const FramePlan& /*plan*/, const GstVideoFrame* /*in*/, const GstVideoFrame* /*out*/,
                          const FrameJob& /*job*/, const GstVideoInfo* /*info*/, void* /*workspace*/,
                          std::size_t /*workspace_bytes*/, CUstream_st* /*stream*/, CUstream_st* /*copy_stream*/) {
  return "the plugin was built without CUDA";
}

}  // namespace iir2d::gst::filter
