// SPDX-License-Identifier: MIT
// qualitymeter's pairing rule; see pairing.h.
#include "pairing.h"

#include <algorithm>

GST_DEBUG_CATEGORY_EXTERN(gst_quality_meter_debug);
#define GST_CAT_DEFAULT gst_quality_meter_debug

namespace iir2d::gst::meter {

bool is_gap(GstBuffer* buf) { return GST_BUFFER_FLAG_IS_SET(buf, GST_BUFFER_FLAG_GAP) && gst_buffer_get_size(buf) == 0; }

GstClockTime frame_duration(GstBuffer* buf, const GstVideoInfo* info) {
  if (GST_BUFFER_DURATION_IS_VALID(buf)) return GST_BUFFER_DURATION(buf);
  if (info && GST_VIDEO_INFO_FPS_N(info) > 0)
    return gst_util_uint64_scale_int(GST_SECOND, GST_VIDEO_INFO_FPS_D(info), GST_VIDEO_INFO_FPS_N(info));
  return GST_CLOCK_TIME_NONE;
}

Step pair_step(GstClockTime ref_rt, GstClockTime ref_dur, GstClockTime dist_rt, GstClockTime dist_dur,
               gint64 distorted_offset, const char** why) {
  if (!GST_CLOCK_TIME_IS_VALID(ref_rt)) {
    *why = "outside its segment or without a timestamp";
    return Step::UnpairedReference;
  }
  if (!GST_CLOCK_TIME_IS_VALID(dist_rt)) {
    *why = "outside its segment or without a timestamp";
    return Step::UnpairedDistorted;
  }
  /* Distorted running time shifted by distorted-offset, against the
   * reference's, in 128 bits: running times go up to 2^64 - 1 and the
   * offset spans the whole gint64 range, so 64 bits can overflow. */
  const __int128 delta = static_cast<__int128>(dist_rt) + distorted_offset - static_cast<__int128>(ref_rt);
  GstClockTime dur = GST_CLOCK_TIME_IS_VALID(dist_dur) ? dist_dur : ref_dur;
  if (GST_CLOCK_TIME_IS_VALID(dist_dur) && GST_CLOCK_TIME_IS_VALID(ref_dur)) dur = std::min(dist_dur, ref_dur);
  const __int128 tolerance = GST_CLOCK_TIME_IS_VALID(dur) ? static_cast<__int128>(dur / 2) : 0;
  const __int128 distance = delta < 0 ? -delta : delta;
  GST_LOG("reference %" GST_TIME_FORMAT " distorted %" GST_TIME_FORMAT " offset %" G_GINT64_FORMAT
          " tolerance %" G_GUINT64_FORMAT,
          GST_TIME_ARGS(ref_rt), GST_TIME_ARGS(dist_rt), distorted_offset, static_cast<guint64>(tolerance));
  if (tolerance > 0 ? distance < tolerance : delta == 0) return Step::Pair;
  *why = "no partner at its running time";
  return delta < 0 ? Step::UnpairedDistorted : Step::UnpairedReference;
}

}  // namespace iir2d::gst::meter
