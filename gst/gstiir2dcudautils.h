// SPDX-License-Identifier: MIT
/*
 * Helpers shared by the plugin's elements (iir2dfilter, qualitymeter): the
 * formats they accept, caps features, mapped frames as iir2d video
 * components, and the CUDA plumbing of GStreamer 1.22 (context, stream,
 * buffer checks, CUDA pool proposal). Compiled without CUDA too; the CUDA
 * parts exist where HAVE_IIR2D_CUDA is defined.
 */
#pragma once

#include <gst/gst.h>
#include <gst/video/video.h>

#include <cstddef>
#include <string>

#include "iir2d/filters.h"

#ifdef HAVE_IIR2D_CUDA
#include <cuda_runtime_api.h>
#include <gst/cuda/gstcudacontext.h>
#endif

/* Formats of qualitymeter: those iir2dfilter accepts (gstiir2dfilter.cpp
 * spells the same list as IIR2D_FILTER_*_FORMATS; keep the two equal).
 * Integer samples in host (little endian) order. The CUDA list is the subset
 * GStreamer 1.22's CUDA allocator can lay out (no GRAY8, GRAY16, A420 or
 * Y444_10LE layout: it asserts on them). */
#define IIR2D_SYSTEM_FORMATS                                                                          \
  "{ GRAY8, GRAY16_LE, NV12, NV21, I420, YV12, Y42B, Y444, A420, I420_10LE, I422_10LE, Y444_10LE, " \
  "P010_10LE, P016_LE, Y444_16LE, RGBA, BGRA, RGBx, BGRx, ARGB, ABGR, RGB, BGR, RGBP, BGRP, GBR, GBRA }"
#define IIR2D_CUDA_FORMATS                                                                                 \
  "{ NV12, NV21, I420, YV12, Y42B, Y444, I420_10LE, I422_10LE, P010_10LE, P016_LE, Y444_16LE, RGBA, BGRA, " \
  "RGBx, BGRx, ARGB, ABGR, RGB, BGR, RGBP, BGRP, GBR, GBRA }"

/* Caps of both sides of an element: CUDA memory first where built with CUDA. */
#ifdef HAVE_IIR2D_CUDA
#define IIR2D_CAPS                                                                                \
  GST_VIDEO_CAPS_MAKE_WITH_FEATURES(GST_CAPS_FEATURE_MEMORY_CUDA_MEMORY, IIR2D_CUDA_FORMATS) "; " \
  GST_VIDEO_CAPS_MAKE(IIR2D_SYSTEM_FORMATS)
#else
#define IIR2D_CAPS GST_VIDEO_CAPS_MAKE(IIR2D_SYSTEM_FORMATS)
#endif

namespace iir2d::gst {

/* Component `c` of a mapped frame as a strided array of integer samples.
 * With GST_MAP_CUDA the data pointer is a device pointer. */
template <typename Component>
Component frame_component(const GstVideoFrame* frame, guint c) {
  const GstVideoFormatInfo* finfo = frame->info.finfo;
  Component comp;
  comp.data = GST_VIDEO_FRAME_COMP_DATA(frame, c);
  comp.width = GST_VIDEO_FRAME_COMP_WIDTH(frame, c);
  comp.height = GST_VIDEO_FRAME_COMP_HEIGHT(frame, c);
  comp.row_stride = GST_VIDEO_FRAME_COMP_STRIDE(frame, c);
  comp.pixel_stride = GST_VIDEO_FRAME_COMP_PSTRIDE(frame, c);
  comp.type = GST_VIDEO_FORMAT_INFO_BITS(finfo) > 8 ? iir2d::SampleType::U16 : iir2d::SampleType::U8;
  comp.depth = GST_VIDEO_FORMAT_INFO_DEPTH(finfo, c);
  comp.shift = GST_VIDEO_FORMAT_INFO_SHIFT(finfo, c);
  return comp;
}

/* Whether the first structure of `caps` has the memory:CUDAMemory feature
 * (always false in a build without CUDA). */
bool caps_are_cuda(GstCaps* caps);

/* Installs the elements' common "cuda-device-id" property (int, -1 = any,
 * changeable in NULL/READY), in builds without CUDA too. */
void install_cuda_device_id_property(GObjectClass* klass, guint prop_id, gint default_id);

#ifdef HAVE_IIR2D_CUDA

/* "text (name)" of a CUDA runtime error. */
std::string cuda_error_text(cudaError_t e);

/* Loads libcuda, registers the CUDA allocator and finds (from the pipeline)
 * or opens the element's CUDA context in *context. False with the reason in
 * *why when there is no usable driver or device; not fatal for elements that
 * also work in system memory. */
bool cuda_open_context(GstElement* element, gint device_id, GstCudaContext** context, std::string* why);

/* Creates a non-blocking CUDA stream in `context`; false with the reason in *why. */
bool cuda_create_stream(GstCudaContext* context, cudaStream_t* stream, std::string* why);

/* Grows a device allocation (*ptr, *bytes) to at least `need` bytes (freeing
 * it for 0); keeps it when it is large enough. The caller has pushed the
 * allocation's context. On failure *ptr is null. */
cudaError_t cuda_ensure_allocation(void** ptr, std::size_t* bytes, std::size_t need);

/* Frees (*ptr, *bytes) if set; the caller has pushed its context. */
void cuda_free_allocation(void** ptr, std::size_t* bytes);

/* Frees a device allocation and destroys a stream of `context`, pushing it
 * (warns on `element` if it cannot); all handles are cleared either way. */
void cuda_release(GstObject* element, GstCudaContext* context, cudaStream_t* stream, void** ptr, std::size_t* bytes);

/* Whether `buf` is one CUDA memory this context can read; the reason in *why if not. */
bool cuda_buffer_usable(GstCudaContext* context, GstBuffer* buf, std::string* why);

/* The layout to map a CUDA buffer with: the caps' info when the buffer has a
 * GstVideoMeta (gst_video_frame_map then follows the meta), else the memory's
 * own pitched layout. */
const GstVideoInfo* cuda_buffer_layout(GstBuffer* buf, const GstVideoInfo* caps_info);

/* Adds a CUDA buffer pool of `context` for `caps` to an ALLOCATION query
 * (with the pitched buffer size the pool reports). False if the pool refuses
 * its configuration. */
bool cuda_propose_pool(GstObject* element, GstCudaContext* context, GstQuery* query, GstCaps* caps,
                       const GstVideoInfo* info);

#endif  // HAVE_IIR2D_CUDA

}  // namespace iir2d::gst
