// SPDX-License-Identifier: MIT
// iir2dfilter's system-memory backend: the fast CPU path (iir2d/fastcpu.h)
// or the CPU reference (refcpu); see backends.h.
#include <cstring>
#include <exception>

#include "backends.h"
#include "iir2d/fastcpu.h"
#include "iir2d/refcpu.h"

namespace iir2d::gst::filter {

namespace {

/* Both throw std::invalid_argument on bad arguments; the text is the error. */
template <typename F>
std::string guarded(F&& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
    return "unknown exception";
  }
  return {};
}

/* Temporal state moved between a mixed stream's layouts (host memory). */
std::string copy_state_host(const std::vector<StateCopy>& copies, const float* from, float* to) {
  for (const StateCopy& c : copies)
    for (int r = 0; r < c.rows; ++r)
      std::memcpy(to + c.dst + static_cast<std::size_t>(r) * c.dst_pitch,
                  from + c.src + static_cast<std::size_t>(r) * c.src_pitch,
                  static_cast<std::size_t>(c.width) * sizeof(float));
  return {};
}

/* The CPU reference, one thread. */
struct RefBackend {
  std::string copy(const iir2d::ConstVideoComponent& in, const iir2d::VideoComponent& out, bool /*plane_alone*/) {
    return guarded([&] { iir2d::ref::copy_video_component(in, out); });
  }
  std::string filter(const iir2d::ConstVideoComponent& in, const iir2d::VideoComponent& out, const FrameJob& j) {
    return guarded([&] { iir2d::ref::filter_video_component(in, out, j.params, j.strength); });
  }
  std::string group(const iir2d::ConstVideoComponent* in, const iir2d::VideoComponent* out, int count,
                    const FrameJob& j, float* state) {
    return guarded([&] {
      iir2d::ref::filter_component_group(in, out, count, j.params, j.strength, j.temporal, state, j.state_valid);
    });
  }
  std::string copy_state(const std::vector<StateCopy>& copies, const float* from, float* to) {
    return copy_state_host(copies, from, to);
  }
  std::string rgb_luma(const iir2d::ConstVideoComponent* in, const iir2d::VideoComponent* out, const FrameJob& j,
                       float* state) {
    return guarded([&] {
      iir2d::ref::filter_rgb_luma(in, out, j.weights, j.params, j.strength, j.temporal, state, j.state_valid);
    });
  }
};

/* The fast CPU path on the element's engine (its thread pool and buffers). */
struct FastBackend {
  iir2d::fastcpu::Engine& e;
  std::string copy(const iir2d::ConstVideoComponent& in, const iir2d::VideoComponent& out, bool /*plane_alone*/) {
    return guarded([&] { e.copy_video_component(in, out); });
  }
  std::string filter(const iir2d::ConstVideoComponent& in, const iir2d::VideoComponent& out, const FrameJob& j) {
    return guarded([&] { e.filter_video_component(in, out, j.params, j.strength); });
  }
  std::string group(const iir2d::ConstVideoComponent* in, const iir2d::VideoComponent* out, int count,
                    const FrameJob& j, float* state) {
    return guarded(
        [&] { e.filter_component_group(in, out, count, j.params, j.strength, j.temporal, state, j.state_valid); });
  }
  std::string copy_state(const std::vector<StateCopy>& copies, const float* from, float* to) {
    return copy_state_host(copies, from, to);
  }
  std::string rgb_luma(const iir2d::ConstVideoComponent* in, const iir2d::VideoComponent* out, const FrameJob& j,
                       float* state) {
    return guarded(
        [&] { e.filter_rgb_luma(in, out, j.weights, j.params, j.strength, j.temporal, state, j.state_valid); });
  }
};

}  // namespace

std::string run_plan_cpu(const FramePlan& plan, const GstVideoFrame* in, const GstVideoFrame* out,
                         const FrameJob& job, iir2d::fastcpu::Engine* fast) {
  if (fast) {
    FastBackend backend{*fast};
    return run_plan(plan, in, out, job, backend);
  }
  RefBackend backend;
  return run_plan(plan, in, out, job, backend);
}

}  // namespace iir2d::gst::filter
