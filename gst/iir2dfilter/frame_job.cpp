// SPDX-License-Identifier: MIT
/*
 * iir2dfilter's frame job: each frame's plan and job from the settings,
 * and the temporal state's bookkeeping across frames (which state set a
 * picture uses, when the recursion restarts, the move between frame and
 * field layouts of mixed caps); the fast CPU path's engine and the host
 * state of system memory.
 */
#include <gst/video/video.h>

#include <cstddef>
#include <exception>
#include <memory>
#include <new>
#include <string>

#include "../common/formats.h"
#include "gstiir2dfilterprivate.h"

#define GST_CAT_DEFAULT gst_iir2d_filter_debug

using namespace iir2d::gst::filter;

/* The temporal state set of a picture: the second for the bottom fields of
 * alternate caps (state_offset_of()), the first for all others. */
static int state_set_of(Picture picture) { return picture == Picture::BottomField ? 1 : 0; }

/* Builds this frame's plan and job; decides whether the temporal state
 * carries over from the previous frame (of the same parity, for fields).
 * `state` is the host or device state; *picture what the buffer is. */
FramePlan gst_iir2d_filter_prepare_frame(GstIir2dFilter* self, GstBuffer* inbuf, const Settings& s, float* state,
                                         FrameJob* job, Picture* picture_out) {
  GstIir2dFilterPrivate* priv = self->priv;
  const bool reset = priv->reset_pending.exchange(false);
  const Picture picture = picture_of_buffer(&priv->in_info, inbuf, s.field_mode);
  *picture_out = picture;
  const bool fields = picture == Picture::Fields;
  const int slot = state_set_of(picture);
  FramePlan plan = plan_frame(&priv->in_info, priv->paddings, s, fields);
  job->params = to_filter_params(s);
  job->strength = s.strength;
  job->temporal = to_temporal_params(s);
  job->weights = priv->luma_weights;
  /* Whatever restarts the recursion restarts both parities' state. */
  const bool any_state = priv->temporal_valid[0] || priv->temporal_valid[1];
  const char* restart = !s.temporal() || !any_state                   ? nullptr
                        : reset                                       ? "flushed"
                        : GST_BUFFER_IS_DISCONT(inbuf)                ? "discont"
                        : s.filter_id != priv->temporal_filter_id     ? "filter-id changed"
                        : s.planes != priv->temporal_planes           ? "planes changed"
                        : s.field_mode != priv->temporal_field_mode   ? "field-mode changed"
                        : fields != priv->temporal_fields &&
                                  GST_VIDEO_INFO_INTERLACE_MODE(&priv->in_info) != GST_VIDEO_INTERLACE_MODE_MIXED
                            ? "fields and frames alternate"
                            : nullptr;
  if (restart) priv->temporal_valid[0] = priv->temporal_valid[1] = false;
  float* bank = state ? state + static_cast<std::size_t>(priv->state_bank) * priv->state_capacity : nullptr;
  if (s.temporal() && any_state && !restart && fields != priv->temporal_fields && bank) {
    /* Mixed: from frames to a field pair or back. The state carries on,
     * moved into the other bank in this plan's layout (the previous plan is
     * the same settings' with the previous kind of picture). */
    const FramePlan previous = plan_frame(&priv->in_info, priv->paddings, s, priv->temporal_fields);
    job->relayout = state_relayout(&priv->in_info, previous, plan);
    job->relayout_from = bank;
    priv->state_bank ^= 1;
    bank = state + static_cast<std::size_t>(priv->state_bank) * priv->state_capacity;
    GST_LOG_OBJECT(self, "temporal state moved to the %s layout (%zu copies)", fields ? "field" : "frame",
                   job->relayout.size());
  }
  job->state = bank ? bank + state_offset_of(&priv->in_info, picture) : nullptr;
  job->state_valid = s.temporal() && priv->temporal_valid[slot];
  if (s.temporal() && !job->state_valid)
    GST_DEBUG_OBJECT(self, "temporal state starts from this %s (%s)", slot ? "bottom field" : "picture",
                     restart ? restart : "none yet");
  if (plan.state_floats > priv->state_capacity) {
    /* Cannot happen (the capacity covers every plan of these caps). */
    GST_ERROR_OBJECT(self, "temporal state of %zu floats for %zu needed", priv->state_capacity, plan.state_floats);
    job->temporal.mode = iir2d::TemporalMode::Off;
  }
  return plan;
}

/* After a frame: its state set is valid for the next picture of its kind
 * only if this frame ran the recursion; without temporal smoothing no set
 * is. */
void gst_iir2d_filter_finish_frame(GstIir2dFilter* self, const Settings& s, const FrameJob& job, Picture picture,
                                   bool ok) {
  GstIir2dFilterPrivate* priv = self->priv;
  const bool ran = ok && job.temporal.mode != iir2d::TemporalMode::Off;
  if (!ran) priv->temporal_valid[0] = priv->temporal_valid[1] = false;
  priv->temporal_valid[state_set_of(picture)] = ran;
  priv->temporal_fields = picture == Picture::Fields;
  priv->temporal_filter_id = s.filter_id;
  priv->temporal_planes = s.planes;
  priv->temporal_field_mode = s.field_mode;
}

/* The fast CPU path's engine for these settings' n-threads, made on the
 * first filtered frame (never in passthrough); an error text if it cannot
 * be made. Threads that cannot all be made (an address-space or thread
 * limit) are a warning: the engine runs on those that started, with the
 * same results. */
std::string gst_iir2d_filter_ensure_fast_cpu(GstIir2dFilter* self, const Settings& s) {
  GstIir2dFilterPrivate* priv = self->priv;
  const unsigned threads = s.n_threads == 0 ? iir2d::fastcpu::default_threads() : s.n_threads;
  if (priv->fast_cpu && priv->fast_cpu->threads_requested() == threads) return {};
  priv->fast_cpu.reset();
  try {
    priv->fast_cpu = std::make_unique<iir2d::fastcpu::Engine>(threads);
  } catch (const std::exception& e) {
    return std::string("cannot start the CPU path (") + e.what() + ")";
  }
  const iir2d::fastcpu::Engine& engine = *priv->fast_cpu;
  if (engine.threads() < threads)
    GST_ELEMENT_WARNING(self, RESOURCE, FAILED, ("Could start only %u of %u CPU threads.", engine.threads(), threads),
                        ("%s; filtering on %u threads, with the same results (n-threads=%u asked for %u)",
                         engine.threads_error().c_str(), engine.threads(), s.n_threads, threads));
  GST_INFO_OBJECT(self, "system memory: the fast CPU path, %u threads, %s kernels", engine.threads(),
                  engine.isa_name());
  return {};
}

/* System memory: the temporal state on the host, allocated when a frame
 * first smooths over time (temporal-mode may be switched on while PLAYING)
 * and released when smoothing is off, so that temporal-mode=off costs no
 * frame-sized memory. An allocation that fails is an element error. */
bool gst_iir2d_filter_ensure_host_state(GstIir2dFilter* self, const Settings& s) {
  GstIir2dFilterPrivate* priv = self->priv;
  if (!s.temporal()) {
    if (!priv->host_state.empty()) {
      priv->host_state.clear();
      priv->host_state.shrink_to_fit();
    }
    return true;
  }
  /* Mixed caps keep two banks (state_bank). */
  const std::size_t floats =
      priv->state_capacity * (GST_VIDEO_INFO_INTERLACE_MODE(&priv->in_info) == GST_VIDEO_INTERLACE_MODE_MIXED ? 2 : 1);
  if (priv->host_state.size() >= floats) return true;
  try {
    priv->host_state.assign(floats, 0.0f);
  } catch (const std::bad_alloc&) {
    priv->host_state.clear();
    priv->host_state.shrink_to_fit();
    GST_ELEMENT_ERROR(self, RESOURCE, NO_SPACE_LEFT, ("Not enough memory for the temporal state."),
                      ("%zu bytes of temporal state for %s could not be allocated; use temporal-mode=off, a "
                       "smaller frame or CUDA memory",
                       floats * sizeof(float), iir2d::gst::describe_format(&priv->in_info).c_str()));
    return false;
  }
  priv->temporal_valid[0] = priv->temporal_valid[1] = false;  // fresh state: the recursion starts from this frame
  return true;
}
