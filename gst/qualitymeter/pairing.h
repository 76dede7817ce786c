// SPDX-License-Identifier: MIT
/*
 * qualitymeter's pairing rule: which of the two head buffers (reference,
 * distorted) is measured, passed on unpaired or dropped. Frames pair when
 * their running times, the distorted one shifted by distorted-offset,
 * differ by less than half a frame (the shorter of the two buffer
 * durations, else the caps' frame rate; exact equality when neither is
 * known). Pure functions of times, so that the rule is testable alone.
 */
#pragma once

#include <gst/gst.h>
#include <gst/video/video.h>

namespace iir2d::gst::meter {

/* What to do with the head buffers of the two pads. A 0-byte GAP buffer is
 * a missing frame: on the reference pad it is dropped, on the distorted
 * pad passed through (the src pad carries the distorted stream unchanged);
 * neither is measured or counted. */
enum class Step { Pair, UnpairedReference, UnpairedDistorted, DropGapReference, PassGapDistorted };

/* A 0-byte GAP buffer: no frame to measure. */
bool is_gap(GstBuffer* buf);

/* The buffer's duration, else one frame of `info`'s rate (if known), else
 * GST_CLOCK_TIME_NONE. */
GstClockTime frame_duration(GstBuffer* buf, const GstVideoInfo* info);

/* The step for two frames at running times `ref_rt` and `dist_rt` (NONE:
 * outside the segment or without a timestamp) with durations `ref_dur`
 * and `dist_dur` (NONE if unknown). *why says why a frame is unpaired. */
Step pair_step(GstClockTime ref_rt, GstClockTime ref_dur, GstClockTime dist_rt, GstClockTime dist_dur,
               gint64 distorted_offset, const char** why);

}  // namespace iir2d::gst::meter
