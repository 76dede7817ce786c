// SPDX-License-Identifier: MIT
// iir2dfilter's system-memory backend: refcpu; see backends.h.
#include <cstring>
#include <exception>

#include "backends.h"
#include "iir2d/refcpu.h"

namespace iir2d::gst::filter {

namespace {

/* The system-memory backend: the CPU reference (throws on bad arguments). */
struct CpuBackend {
  template <typename F>
  static std::string guarded(F&& f) {
    try {
      f();
    } catch (const std::exception& e) {
      return e.what();
    } catch (...) {
      return "unknown exception";
    }
    return {};
  }
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
  /* Temporal state moved between a mixed stream's layouts (host memory). */
  std::string copy_state(const std::vector<StateCopy>& copies, const float* from, float* to) {
    for (const StateCopy& c : copies)
      for (int r = 0; r < c.rows; ++r)
        std::memcpy(to + c.dst + static_cast<std::size_t>(r) * c.dst_pitch,
                    from + c.src + static_cast<std::size_t>(r) * c.src_pitch,
                    static_cast<std::size_t>(c.width) * sizeof(float));
    return {};
  }
  std::string rgb_luma(const iir2d::ConstVideoComponent* in, const iir2d::VideoComponent* out, const FrameJob& j,
                       float* state) {
    return guarded([&] {
      iir2d::ref::filter_rgb_luma(in, out, j.weights, j.params, j.strength, j.temporal, state, j.state_valid);
    });
  }
};

}  // namespace

std::string run_plan_cpu(const FramePlan& plan, const GstVideoFrame* in, const GstVideoFrame* out,
                         const FrameJob& job) {
  CpuBackend backend;
  return run_plan(plan, in, out, job, backend);
}

}  // namespace iir2d::gst::filter
