// SPDX-License-Identifier: MIT
/*
 * iir2dfilter's backends: a frame plan (frame_plan.h) run on mapped frames,
 * on the CPU (refcpu, system memory) or on the GPU (the CUDA kernels of
 * cuda/, CUDA memory, built with CUDA only). Each returns an error text,
 * empty on success, that names the op's first component.
 */
#pragma once

#include <gst/video/video.h>

#include <algorithm>
#include <cstddef>
#include <string>
#include <type_traits>
#include <vector>

#include "../common/formats.h"
#include "frame_plan.h"
#include "iir2d/filters.h"
#include "iir2d/frame.h"
#include "iir2d/frame_ops.h"

struct CUstream_st;

namespace iir2d::fastcpu {
class Engine;
}

namespace iir2d::gst::filter {

/* A padding byte of a packed plane as a component of 8-bit samples. */
template <typename Component>
Component padding_component(const GstVideoFrame* frame, guint plane, guint offset) {
  Component comp;
  guint c0 = 0;  // a component of that plane, for its size and pixel stride
  for (guint c = 0; c < GST_VIDEO_FRAME_N_COMPONENTS(frame); ++c)
    if (GST_VIDEO_FORMAT_INFO_PLANE(frame->info.finfo, c) == plane) {
      c0 = c;
      break;
    }
  comp.data = static_cast<guint8*>(GST_VIDEO_FRAME_PLANE_DATA(frame, plane)) + offset;
  comp.width = GST_VIDEO_FRAME_COMP_WIDTH(frame, c0);
  comp.height = GST_VIDEO_FRAME_COMP_HEIGHT(frame, c0);
  comp.row_stride = GST_VIDEO_FRAME_PLANE_STRIDE(frame, plane);
  comp.pixel_stride = GST_VIDEO_FRAME_COMP_PSTRIDE(frame, c0);
  comp.type = iir2d::SampleType::U8;
  comp.depth = 8;
  comp.shift = 0;
  return comp;
}

/* The `rows` rows of field `field` (0 top, 1 bottom) of a frame's
 * component, as a picture of its own: from row `field`, two rows apart.
 * No copy: both backends take any row pitch. */
template <typename Component>
Component field_view(Component comp, int field, int rows) {
  using Byte = std::conditional_t<std::is_const_v<std::remove_pointer_t<decltype(comp.data)>>, const guint8, guint8>;
  comp.data = static_cast<Byte*>(comp.data) + field * comp.row_stride;
  comp.row_stride *= 2;
  comp.height = rows;
  return comp;
}

/* What one frame's ops need besides the components. */
struct FrameJob {
  iir2d::FilterParams params;
  double strength = 1.0;
  iir2d::TemporalParams temporal;
  iir2d::LumaWeights weights;
  float* state = nullptr;  // host or device, plan.state_floats floats
  bool state_valid = false;
  /* A mixed stream switching between frames and field pairs: before the
   * ops, the previous state (relayout_from, same memory kind as `state`)
   * is moved into this plan's layout at `state` by these copies. */
  const float* relayout_from = nullptr;
  std::vector<StateCopy> relayout;
};

/* Runs a plan's ops through a backend (refcpu or the CUDA kernels) that
 * returns an error text, empty on success. Stops at the first error and
 * names the op's first component. */
template <typename Backend>
std::string run_plan(const FramePlan& plan, const GstVideoFrame* in, const GstVideoFrame* out, const FrameJob& job,
                     Backend& backend) {
  if (!job.relayout.empty() && job.relayout_from && job.state) {
    const std::string error = backend.copy_state(job.relayout, job.relayout_from, job.state);
    if (!error.empty()) return "temporal state: " + error;
  }
  for (int i = 0; i < plan.n; ++i) {
    const FrameOp& op = plan.ops[static_cast<std::size_t>(i)];
    iir2d::ConstVideoComponent ins[iir2d::kMaxGroupComponents];
    iir2d::VideoComponent outs[iir2d::kMaxGroupComponents];
    std::string error;
    if (op.kind == OpKind::CopyPadding) {
      error = backend.copy(padding_component<iir2d::ConstVideoComponent>(in, op.comp[0], op.padding_offset),
                           padding_component<iir2d::VideoComponent>(out, op.comp[0], op.padding_offset), false);
      if (!error.empty()) return "padding byte " + std::to_string(op.padding_offset) + ": " + error;
      continue;
    }
    /* op.count is at most kMaxGroupComponents (frame_plan.cpp); the bound
     * here also tells the compiler so (GCC 14's -Wstringop-overflow). */
    const int count = std::min(op.count, iir2d::kMaxGroupComponents);
    for (int k = 0; k < count; ++k) {
      ins[k] = frame_component<iir2d::ConstVideoComponent>(in, op.comp[k]);
      outs[k] = frame_component<iir2d::VideoComponent>(out, op.comp[k]);
      if (op.field >= 0) {
        /* The rows both frames hold (field_rows_held()). */
        const int rows = std::min(field_rows_held(op, in), field_rows_held(op, out));
        ins[k] = field_view(ins[k], op.field, rows);
        outs[k] = field_view(outs[k], op.field, rows);
      }
    }
    float* state = job.state ? job.state + op.state_offset : nullptr;
    switch (op.kind) {
      case OpKind::Copy: error = backend.copy(ins[0], outs[0], op.plane_alone); break;
      case OpKind::Filter: error = backend.filter(ins[0], outs[0], job); break;
      case OpKind::Group: error = backend.group(ins, outs, count, job, state); break;
      case OpKind::RgbLuma: error = backend.rgb_luma(ins, outs, job, state); break;
      case OpKind::CopyPadding: break;
    }
    if (!error.empty())
      return "component " + std::to_string(op.comp[0]) +
             (op.field < 0 ? std::string() : op.field == 0 ? " (top field)" : " (bottom field)") + ": " + error;
  }
  return {};
}

/* System memory, on frames mapped for reading and writing: the fast CPU
 * path on `fast` (iir2d/fastcpu.h), or the CPU reference (refcpu) where
 * `fast` is null. */
std::string run_plan_cpu(const FramePlan& plan, const GstVideoFrame* in, const GstVideoFrame* out,
                         const FrameJob& job, iir2d::fastcpu::Engine* fast);

/* ---- CUDA (backend_cuda.cpp, in builds with CUDA only) ------------------ */

/* Largest workspace any settings need for these caps (every filter id,
 * border, initialisation, precision and sigma; components one by one or in
 * groups of one size), so that property changes while PLAYING never
 * reallocate. */
std::size_t cuda_workspace_for_info(const GstVideoInfo* info);

/* CUDA memory: the kernels on `stream`, in `workspace`; copies of planes
 * that nothing else writes on `copy_stream`, beside them. Frames mapped
 * with GST_MAP_CUDA, context pushed; the caller synchronises both streams. */
std::string run_plan_cuda(const FramePlan& plan, const GstVideoFrame* in, const GstVideoFrame* out,
                          const FrameJob& job, const GstVideoInfo* info, void* workspace, std::size_t workspace_bytes,
                          CUstream_st* stream, CUstream_st* copy_stream);

}  // namespace iir2d::gst::filter
