// SPDX-License-Identifier: MIT
/*
 * The video formats both elements (iir2dfilter, qualitymeter) accept, the
 * caps of their pads, and mapped frames seen as iir2d video components.
 * Compiled the same way with and without CUDA: whether the CUDA-memory caps
 * are offered is decided at run time (cuda_usable(), common/cuda_session.h).
 */
#pragma once

#include <gst/gst.h>
#include <gst/video/video.h>

#include <string>
#include <vector>

#include "iir2d/filters.h"

/* Integer samples in host (little endian) order, on every supported
 * GStreamer (1.22+). The CUDA list is the subset GStreamer 1.22's CUDA
 * allocator can lay out: it has no GRAY8, GRAY16, A420, Y444_10LE or 12-bit
 * layout and asserts on them. element_caps() adds, at run time, what the
 * running GStreamer has beyond these (IIR2D_FORMATS_SINCE_1_24). */
#define IIR2D_SYSTEM_FORMATS                                                                          \
  "{ GRAY8, GRAY16_LE, NV12, NV21, I420, YV12, Y42B, Y444, A420, I420_10LE, I422_10LE, Y444_10LE, " \
  "I420_12LE, I422_12LE, Y444_12LE, P010_10LE, P012_LE, P016_LE, Y444_16LE, RGBA, BGRA, RGBx, BGRx, "  \
  "ARGB, ABGR, RGB, BGR, RGBP, BGRP, GBR, GBRA, GBR_10LE, GBR_12LE }"
#define IIR2D_CUDA_FORMATS                                                                                 \
  "{ NV12, NV21, I420, YV12, Y42B, Y444, I420_10LE, I422_10LE, P010_10LE, P016_LE, Y444_16LE, RGBA, BGRA, " \
  "RGBx, BGRx, ARGB, ABGR, RGB, BGR, RGBP, BGRP, GBR, GBRA }"
/* Since 1.24: GBR_16LE exists (both memories), and the CUDA allocator lays
 * out these too (gst-libs/gst/cuda/gstcudamemory.cpp at 1.24). */
#define IIR2D_SYSTEM_FORMATS_SINCE_1_24 "GBR_16LE"
#define IIR2D_CUDA_FORMATS_SINCE_1_24 \
  "Y444_10LE", "Y444_12LE", "I420_12LE", "P012_LE", "GBR_10LE", "GBR_12LE", "GBR_16LE"

/* GST_CAPS_FEATURE_MEMORY_CUDA_MEMORY, spelled here so that CPU-only
 * builds need no CUDA header. */
#define IIR2D_CAPS_FEATURE_CUDA_MEMORY "memory:CUDAMemory"
/* GST_CAPS_FEATURE_FORMAT_INTERLACED: mandatory on interlace-mode=alternate. */
#define IIR2D_CAPS_FEATURE_FORMAT_INTERLACED "format:Interlaced"

namespace iir2d::gst {

/* The caps of every pad of both elements: CUDA memory first (where the
 * plugin was built with CUDA and libcuda loads: cuda_usable()), then system
 * memory; with `alternate`, also system-memory `interlace-mode=alternate`
 * video, which GStreamer only negotiates with the format:Interlaced caps
 * feature (no CUDA element of GStreamer 1.22-1.26 produces it). The format
 * lists are IIR2D_*_FORMATS plus, when the running GStreamer (gst_version(),
 * not the one built against) is 1.24 or newer, IIR2D_*_FORMATS_SINCE_1_24.
 * Caller owns the result. */
GstCaps* element_caps(bool alternate = false);

/* The formats of element_caps()'s CUDA (`cuda` true) or system-memory
 * structure, as GStreamer format names. */
std::vector<std::string> element_formats(bool cuda);

/* A pad template of element_caps(alternate) whose pads are of `pad_type`
 * (G_TYPE_NONE: GstPad). Floating reference, for gst_element_class_add_pad_template(). */
GstPadTemplate* element_pad_template(const char* name, GstPadDirection direction, GstPadPresence presence,
                                     GType pad_type = G_TYPE_NONE, bool alternate = false);

/* Why frames of `info` cannot be carried in the running GStreamer's CUDA
 * memory although the format is listed, or empty. Known: on 1.26 (seen on
 * 1.26.2) the CUDA memory copy of NV21 at an odd height fails
 * (CUDA_ERROR_INVALID_VALUE in cudaupload, tests/device/gpu-checks.sh), so
 * such caps are refused at negotiation with this reason instead. On every
 * version, interleaved or mixed video whose system-memory layout has more
 * chroma rows than the component height: GStreamer gives I420, YV12, NV12
 * and NV21 (not P010/P012/P016) of height 4k+2 (h+2)/2 rows so that each
 * field has its own (video-info.c, fill_planes), but the CUDA allocator
 * lays out ⌈h/2⌉, one short: the field-aware filter would lose the bottom
 * field's last chroma row (seen on the H200 with 1.22 and 1.26,
 * test_iir2dfilter_fields). */
std::string cuda_caps_limitation(const GstVideoInfo* info);

/* Whether the first structure of `caps` has the memory:CUDAMemory feature. */
bool caps_are_cuda(GstCaps* caps);

/* "I420 320x240" */
std::string describe_format(const GstVideoInfo* info);

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

/* Whether every plane of a mapped frame lies inside the memory it was
 * mapped from: its first row at the plane's data, its rows a stride apart,
 * its last row's last sample inside the map. A GstVideoMeta may declare
 * any stride and offset, so this is checked before any sample is read or
 * written. Empty if it fits, else which plane needs how many bytes. */
std::string frame_extent_error(const GstVideoFrame* frame);

/* Installs the elements' common "cuda-device-id" property (int, -1 = any,
 * changeable in NULL/READY), in builds without CUDA too. */
void install_cuda_device_id_property(GObjectClass* klass, guint prop_id, gint default_id);

/* Registers a static enum type once (thread-safe); returns it. */
GType register_enum_once(GType* type, const char* name, const GEnumValue* values);

}  // namespace iir2d::gst
