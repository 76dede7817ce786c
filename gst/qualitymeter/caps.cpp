// SPDX-License-Identifier: MIT
/*
 * qualitymeter's caps: what each sink pad accepts and prefers (the other
 * side's format and size first), the format each pad's frames come in
 * (compared per frame pair by aggregate.cpp), the allocation proposed
 * upstream, and the src caps (the distorted stream's, unchanged).
 */
#include <gst/video/video.h>

#include <string>
#include <vector>

#include "../common/formats.h"
#include "gstqualitymeterprivate.h"

#define GST_CAT_DEFAULT gst_quality_meter_debug

namespace iir2d::gst::meter {

/* "I420 320x240 in system memory" */
std::string describe(const PadState& p) {
  return iir2d::gst::describe_format(&p.info) + (p.cuda ? " in CUDA memory" : " in system memory");
}

bool same_input_layout(const PadState& a, const PadState& b) {
  return a.cuda == b.cuda && GST_VIDEO_INFO_FORMAT(&a.info) == GST_VIDEO_INFO_FORMAT(&b.info) &&
         GST_VIDEO_INFO_WIDTH(&a.info) == GST_VIDEO_INFO_WIDTH(&b.info) &&
         GST_VIDEO_INFO_HEIGHT(&a.info) == GST_VIDEO_INFO_HEIGHT(&b.info);
}

/* The caps the other pad must match: its format, size and memory feature only. */
static GstCaps* matching_caps(GstCaps* other) {
  GstCaps* caps = gst_caps_new_empty();
  GstStructure* o = gst_caps_get_structure(other, 0);
  GstStructure* s = gst_structure_new_empty(gst_structure_get_name(o));
  for (const char* field : {"format", "width", "height"})
    if (const GValue* v = gst_structure_get_value(o, field)) gst_structure_set_value(s, field, v);
  gst_caps_append_structure_full(caps, s, gst_caps_features_copy(gst_caps_get_features(other, 0)));
  return caps;
}

/* Sink CAPS query: the template (for the distorted pad, what downstream
 * accepts), with caps matching the reference first (for the reference: the
 * distorted pad's) when it has caps. The rest stays acceptable so that a
 * mismatch reaches the frames and fails there with an error naming both
 * sides. */
GstCaps* sink_caps(GstQualityMeter* self, GstAggregatorPad* pad, GstCaps* filter) {
  GstAggregator* agg = GST_AGGREGATOR(self);
  GstCaps* templ = gst_pad_get_pad_template_caps(GST_PAD(pad));
  GstCaps* base = templ;
  if (pad == GST_AGGREGATOR_PAD(self->priv->distorted)) {
    base = gst_pad_peer_query_caps(GST_AGGREGATOR_SRC_PAD(agg), templ);
    gst_caps_unref(templ);
  }
  GstCaps* result = base;
  GstPad* other = is_reference(self, pad) ? GST_PAD(self->priv->distorted) : GST_PAD(self->priv->reference);
  if (GstCaps* other_caps = gst_pad_get_current_caps(other)) {
    GstCaps* match = matching_caps(other_caps);
    GstCaps* preferred = gst_caps_intersect_full(match, base, GST_CAPS_INTERSECT_FIRST);
    result = gst_caps_merge(preferred, base);
    gst_caps_unref(match);
    gst_caps_unref(other_caps);
  }
  if (filter) {
    GstCaps* filtered = gst_caps_intersect_full(filter, result, GST_CAPS_INTERSECT_FIRST);
    gst_caps_unref(result);
    result = filtered;
  }
  GST_DEBUG_OBJECT(pad, "caps %" GST_PTR_FORMAT, result);
  return result;
}

/* A CAPS event on a sink pad (it reaches us when its frames come to the
 * head of the pad's queue): stores the format of the pad's next frames.
 * The pads are compared per frame pair, when a pair is measured (issue 10,
 * F1: a caps change of both inputs reaches the two pads at different
 * times). For the distorted pad it negotiates the same caps downstream
 * right away, so that its ALLOCATION query (forwarded downstream) finds
 * downstream configured. */
gboolean handle_sink_caps(GstQualityMeter* self, GstAggregatorPad* pad, GstCaps* caps) {
  GstQualityMeterPrivate* priv = self->priv;
  DistortedInput* in = input_of(pad);
  PadState& st = in ? in->state : priv->reference_state;
  GstVideoInfo info;
  if (!gst_video_info_from_caps(&info, caps)) {
    GST_ELEMENT_ERROR(self, CORE, NEGOTIATION, ("Invalid caps on the %s pad.", pad_name(pad)),
                      ("%" GST_PTR_FORMAT, caps));
    return FALSE;
  }
  if (!st.caps || !gst_video_info_is_equal(&st.info, &info)) {  // new frame size or format
    if (in) {
      in->measure.forget();
    } else {
      std::vector<GstQualityMeterPad*> pads = distorted_pads(self);
      for (GstQualityMeterPad* p : pads) p->input->measure.forget();
      unref_pads(pads);
    }
  }
  gst_caps_replace(&st.caps, caps);
  st.info = info;
  st.cuda = caps_are_cuda(caps);

  if (st.cuda && !priv->cuda.ready() && !priv->cuda.open(copy_settings(self).cuda_device_id)) {
    const std::string why = priv->cuda.unavailable_reason();
    GST_ELEMENT_ERROR(self, RESOURCE, NOT_FOUND, ("No CUDA context: %s.", why.c_str()),
                      ("CUDA memory caps %" GST_PTR_FORMAT " on the %s pad but no CUDA context could be opened. "
                       "Use system memory (drop cudaupload) or check the driver and cuda-device-id.",
                       caps, pad_name(pad)));
    return FALSE;
  }

  if (pad == GST_AGGREGATOR_PAD(priv->distorted)) {
    gst_pad_mark_reconfigure(GST_AGGREGATOR_SRC_PAD(self));
    if (!gst_aggregator_negotiate(GST_AGGREGATOR(self))) return FALSE;
  }
  GST_DEBUG_OBJECT(self, "%s pad: %s", pad_name(pad), describe(st).c_str());
  return TRUE;
}

gboolean handle_allocation(GstQualityMeter* self, GstAggregatorPad* pad, GstQuery* query) {
  /* The distorted buffers go downstream untouched: let downstream answer. */
  if (pad == GST_AGGREGATOR_PAD(self->priv->distorted) && gst_pad_peer_query(GST_AGGREGATOR_SRC_PAD(self), query))
    return TRUE;

  GstCaps* caps = nullptr;
  gst_query_parse_allocation(query, &caps, nullptr);
  GstVideoInfo info;
  if (!caps || !gst_video_info_from_caps(&info, caps)) return FALSE;
  if (caps_are_cuda(caps) && !self->priv->cuda.propose_pool(query, caps)) return FALSE;
  if (!gst_query_find_allocation_meta(query, GST_VIDEO_META_API_TYPE, nullptr))
    gst_query_add_allocation_meta(query, GST_VIDEO_META_API_TYPE, nullptr);
  return TRUE;
}

}  // namespace iir2d::gst::meter

/* Output caps: the distorted input's caps, unchanged. */
GstFlowReturn gst_quality_meter_update_src_caps(GstAggregator* agg, GstCaps* downstream, GstCaps** ret) {
  GstQualityMeter* self = GST_QUALITY_METER(agg);
  GstCaps* dist = self->priv->distorted->input->state.caps;
  if (!dist) return GST_AGGREGATOR_FLOW_NEED_DATA;
  if (!gst_caps_can_intersect(dist, downstream)) {
    GST_ELEMENT_ERROR(self, CORE, NEGOTIATION, ("Downstream does not accept the distorted stream's caps."),
                      ("distorted caps %" GST_PTR_FORMAT ", downstream accepts %" GST_PTR_FORMAT, dist, downstream));
    return GST_FLOW_NOT_NEGOTIATED;
  }
  *ret = gst_caps_ref(dist);
  return GST_FLOW_OK;
}
