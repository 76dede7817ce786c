// SPDX-License-Identifier: MIT
/*
 * qualitymeter's measurement of one frame pair: PSNR and SSIM sums per
 * component and the temporal delta against the previous pair, on the CPU
 * (refcpu/quality.cpp, system memory) or on the GPU (cuda/quality.cu, CUDA
 * memory, built with CUDA only; only per-frame scalars come back). The
 * metrics are ffmpeg's (iir2d/quality.h).
 */
#pragma once

#include <gst/gst.h>
#include <gst/video/video.h>

#include <cstddef>
#include <string>
#include <vector>

#include "../common/cuda_session.h"
#include "iir2d/quality.h"

namespace iir2d::gst::meter {

enum PadRole { kReference = 0, kDistorted = 1 };
extern const char* const kRoleNames[2];

/* The component of the temporal delta: luma (or gray), G for RGB formats. */
guint temporal_component(const GstVideoInfo* info);

/* Measures frame pairs of one format (both inputs have it), keeping the
 * previous pair's temporal component for the temporal delta. */
class PairMeasure {
 public:
  /* The next pair starts the temporal delta afresh (0): after a flush, a
   * caps change or an error. */
  void forget() { have_prev_ = false; }

  /* System memory: maps both buffers for reading (each with its pad's
   * info; they have one format and size) and measures them with refcpu.
   * False with *error on failure. */
  bool measure_system(GstBuffer* ref, const GstVideoInfo* ref_info, GstBuffer* dist, const GstVideoInfo* dist_info,
                      iir2d::quality::FrameMetrics* m, std::string* error);

  /* One distorted input's share of a CUDA measurement (measure_cuda). */
  struct CudaPair {
    PairMeasure* measure;
    const char* name;                      // the pad's name, for error texts
    int index;                             // its part of the device memory (0..count-1)
    GstBuffer* dist;
    const GstVideoInfo* info;              // its pad's caps (the reference's format and size)
    iir2d::quality::FrameMetrics* metrics;  // out
  };

  /* CUDA memory, every distorted input paired with one reference frame at
   * once: maps the reference and every distorted buffer (one
   * CudaFrameScope, which makes the session's stream wait for each
   * buffer's pending work), and in one launch sequence on that stream
   * computes per component the reference's block sums once and every
   * pair's sums against them (iir2d::quality::cuda::compare_components),
   * then each pair's temporal sums against its own previous pair, and
   * copies every result back (one synchronisation). Device memory: slot 0
   * holds `count` parts, one per distorted input (its results and previous
   * luma), slot 1 the shared workspace. `*generation` counts slot 0's
   * reallocations (a reallocation loses every input's previous luma). False
   * with *error on failure (then every pair starts its temporal delta
   * afresh). */
  static bool measure_cuda(CudaSession& cuda, int count, guint64* generation, GstBuffer* ref,
                           const GstVideoInfo* ref_info, const std::vector<CudaPair>& pairs, std::string* error);

 private:
  /* A packed host copy of a frame's temporal component (CPU path). */
  struct HostPlane {
    std::vector<unsigned char> bytes;
    iir2d::ConstVideoComponent view;
  };
  /* Where the CUDA path keeps its part in the session's slot 0. */
  struct DeviceLayout {
    std::size_t prev_offset[2] = {0, 0}, total = 0;
  };
  static DeviceLayout device_layout(const GstVideoInfo* info);
  std::string enqueue_temporal(unsigned char* base, CUstream_st* stream, GstVideoFrame* rf, GstVideoFrame* df);

  bool have_prev_ = false;
  guint64 generation_ = 0;  // of the device memory the previous luma is in
  HostPlane prev_host_[2];
  DeviceLayout layout_;
  iir2d::ConstVideoComponent prev_device_[2];
};

/* Depths of the frame's components, and their number (at most
 * iir2d::quality::kMaxComponents). */
int component_depths(const GstVideoInfo* info, int* depths);

}  // namespace iir2d::gst::meter
