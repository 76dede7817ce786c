// SPDX-License-Identifier: MIT
// qualitymeter's sink pads; see pads.h.
#include "pads.h"

#include <algorithm>
#include <cstring>

#include "gstqualitymeterprivate.h"

#define GST_CAT_DEFAULT gst_quality_meter_debug

using namespace iir2d::gst::meter;

enum { PROP_PAD_0, PROP_PAD_DISTORTED_OFFSET, PROP_PAD_SUMMARY };

G_DEFINE_TYPE(GstQualityMeterPad, gst_quality_meter_pad, GST_TYPE_AGGREGATOR_PAD);

static GstQualityMeter* pad_meter(GstPad* pad) {
  GstObject* parent = gst_object_get_parent(GST_OBJECT(pad));
  if (parent && !GST_IS_QUALITY_METER(parent)) gst_clear_object(&parent);
  return parent ? GST_QUALITY_METER(parent) : nullptr;  // caller unrefs
}

/* ------------------------------------------------------------------------ */
/* GstQualityMeterPad                                                       */

static void gst_quality_meter_pad_set_property(GObject* object, guint prop_id, const GValue* value,
                                               GParamSpec* pspec) {
  GstQualityMeterPad* pad = GST_QUALITY_METER_PAD(object);
  switch (prop_id) {
    case PROP_PAD_DISTORTED_OFFSET:
      GST_OBJECT_LOCK(pad);
      pad->input->offset = g_value_get_int64(value);
      pad->input->offset_set = true;
      GST_OBJECT_UNLOCK(pad);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
  }
}

namespace iir2d::gst::meter {

/* The offset this pad pairs with: its own, else the element's distorted-offset. */
gint64 pad_offset(GstQualityMeterPad* pad, const Settings* s) {
  GST_OBJECT_LOCK(pad);
  const bool set = pad->input->offset_set;
  const gint64 own = pad->input->offset;
  GST_OBJECT_UNLOCK(pad);
  if (set) return own;
  if (s) return s->distorted_offset;
  GstQualityMeter* self = pad_meter(GST_PAD(pad));
  if (!self) return 0;
  const gint64 v = guarded<gint64>(GST_ELEMENT(self), "reading distorted-offset", 0,
                                   [&] { return copy_settings(self).distorted_offset; });
  gst_object_unref(self);
  return v;
}

}  // namespace iir2d::gst::meter

static void gst_quality_meter_pad_get_property(GObject* object, guint prop_id, GValue* value, GParamSpec* pspec) {
  GstQualityMeterPad* pad = GST_QUALITY_METER_PAD(object);
  switch (prop_id) {
    case PROP_PAD_DISTORTED_OFFSET:
      g_value_set_int64(value, pad_offset(pad, nullptr));
      break;
    case PROP_PAD_SUMMARY: {
      GstQualityMeter* self = pad_meter(GST_PAD(pad));
      if (!self || !pad->input->report) {
        g_value_set_boxed(value, nullptr);
      } else {
        GstStructure* s = guarded<GstStructure*>(GST_ELEMENT(self), "the pad's summary property", nullptr, [&] {
          return Reporter::pad_summary(*pad->input->report, self->priv->reporter.registry_lock());
        });
        g_value_take_boxed(value, s);
      }
      if (self) gst_object_unref(self);
      break;
    }
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
  }
}

static void gst_quality_meter_pad_finalize(GObject* object) {
  GstQualityMeterPad* pad = GST_QUALITY_METER_PAD(object);
  pad->input->state.clear();
  delete pad->input;
  G_OBJECT_CLASS(gst_quality_meter_pad_parent_class)->finalize(object);
}

static void gst_quality_meter_pad_class_init(GstQualityMeterPadClass* klass) {
  GObjectClass* gobject_class = G_OBJECT_CLASS(klass);
  gobject_class->set_property = gst_quality_meter_pad_set_property;
  gobject_class->get_property = gst_quality_meter_pad_get_property;
  gobject_class->finalize = gst_quality_meter_pad_finalize;
  g_object_class_install_property(
      gobject_class, PROP_PAD_DISTORTED_OFFSET,
      g_param_spec_int64("distorted-offset", "Distorted offset",
                         "Nanoseconds added to this pad's running times before pairing; until set, the "
                         "element's distorted-offset (which it reads back)",
                         G_MININT64, G_MAXINT64, 0,
                         GParamFlags(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_PLAYING)));
  g_object_class_install_property(
      gobject_class, PROP_PAD_SUMMARY,
      g_param_spec_boxed("summary", "Summary",
                         "This pad's summary so far (a \"qualitymeter-summary\" structure with its pad name)",
                         GST_TYPE_STRUCTURE, GParamFlags(G_PARAM_READABLE | G_PARAM_STATIC_STRINGS)));
}

static void gst_quality_meter_pad_init(GstQualityMeterPad* pad) { pad->input = new DistortedInput(); }

/* ------------------------------------------------------------------------ */
/* Pads of the element                                                      */

namespace iir2d::gst::meter {

bool is_reference(GstQualityMeter* self, GstAggregatorPad* pad) { return pad == self->priv->reference; }

DistortedInput* input_of(GstAggregatorPad* pad) {
  return GST_IS_QUALITY_METER_PAD(pad) ? GST_QUALITY_METER_PAD(pad)->input : nullptr;
}

const char* pad_name(GstAggregatorPad* pad) { return GST_OBJECT_NAME(pad); }

/* The distorted pads, reffed, the always pad first. */
std::vector<GstQualityMeterPad*> distorted_pads(GstQualityMeter* self) {
  std::vector<GstQualityMeterPad*> pads;
  pads.reserve(8);
  GST_OBJECT_LOCK(self);
  for (GList* l = GST_ELEMENT(self)->sinkpads; l; l = l->next)
    if (GST_IS_QUALITY_METER_PAD(l->data)) pads.push_back(GST_QUALITY_METER_PAD(gst_object_ref(l->data)));
  GST_OBJECT_UNLOCK(self);
  std::stable_partition(pads.begin(), pads.end(), [&](GstQualityMeterPad* p) { return p == self->priv->distorted; });
  return pads;
}

void unref_pads(std::vector<GstQualityMeterPad*>& pads) {
  for (GstQualityMeterPad* p : pads) gst_object_unref(p);
  pads.clear();
}

/* Counts buffers and EOS for the timeout. */
static GstPadProbeReturn activity_probe(GstPad*, GstPadProbeInfo* info, gpointer user_data) {
  auto* a = static_cast<Activity*>(user_data);
  if (GST_PAD_PROBE_INFO_TYPE(info) & GST_PAD_PROBE_TYPE_BUFFER) {
    a->last_us = g_get_monotonic_time();
    a->arrived++;
  } else if (GstEvent* e = GST_PAD_PROBE_INFO_EVENT(info)) {
    if (GST_EVENT_TYPE(e) == GST_EVENT_EOS) a->eos = true;
    if (GST_EVENT_TYPE(e) == GST_EVENT_FLUSH_STOP) a->restart(true);
  }
  return GST_PAD_PROBE_OK;
}

void watch_pad(GstPad* pad, Activity* activity) {
  gst_pad_add_probe(pad, GstPadProbeType(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM),
                    activity_probe, activity, nullptr);
}

/* A distorted pad's part of the element: its report and device memory index. */
void attach_input(GstQualityMeter* self, GstQualityMeterPad* pad, bool late) {
  GstQualityMeterPrivate* priv = self->priv;
  DistortedInput* in = pad->input;
  GST_OBJECT_LOCK(self);
  int index = 0;
  while (index < static_cast<int>(priv->device_index_used.size()) && priv->device_index_used[index]) ++index;
  if (index == static_cast<int>(priv->device_index_used.size())) priv->device_index_used.push_back(true);
  priv->device_index_used[index] = true;
  GST_OBJECT_UNLOCK(self);
  in->device_index = index;
  in->joined_late = late;
  in->activity.restart(true);
  in->report = priv->reporter.add_pad(GST_OBJECT_NAME(pad));
  watch_pad(GST_PAD(pad), &in->activity);
}

static void detach_input(GstQualityMeter* self, GstQualityMeterPad* pad) {
  GstQualityMeterPrivate* priv = self->priv;
  DistortedInput* in = pad->input;
  GST_OBJECT_LOCK(self);
  if (in->device_index < static_cast<int>(priv->device_index_used.size()))
    priv->device_index_used[in->device_index] = false;
  GST_OBJECT_UNLOCK(self);
  if (in->report) priv->reporter.remove_pad(in->report);
}

void release_input(GstQualityMeter* self, GstQualityMeterPad* pad) {
  /* Its summary so far goes out with it. */
  GST_OBJECT_LOCK(self);
  const bool started = self->priv->started;
  GST_OBJECT_UNLOCK(self);
  DistortedInput* in = pad->input;
  if (started && in->report) self->priv->reporter.finish(GST_ELEMENT(self), *in->report, copy_settings(self));
  detach_input(self, pad);
}

/* Device memory indices in use: the CUDA path sizes its allocation by it. */
int device_index_count(GstQualityMeter* self) {
  GST_OBJECT_LOCK(self);
  const int n = static_cast<int>(self->priv->device_index_used.size());
  GST_OBJECT_UNLOCK(self);
  return std::max(1, n);
}

}  // namespace iir2d::gst::meter

GstAggregatorPad* gst_quality_meter_create_new_pad(GstAggregator* agg, GstPadTemplate* templ, const gchar* req_name,
                                                   const GstCaps*) {
  GstQualityMeter* self = GST_QUALITY_METER(agg);
  if (templ->direction != GST_PAD_SINK || templ->presence != GST_PAD_REQUEST) return nullptr;
  return guarded<GstAggregatorPad*>(GST_ELEMENT(self), "requesting a pad", nullptr, [&]() -> GstAggregatorPad* {
    GstQualityMeterPrivate* priv = self->priv;
    guint serial = 0;
    GST_OBJECT_LOCK(self);
    gchar* end = nullptr;
    if (req_name && g_str_has_prefix(req_name, "distorted_") && !strchr(req_name, '%')) {
      serial = static_cast<guint>(g_ascii_strtoull(req_name + 10, &end, 10));
      if (!end || *end || end == req_name + 10) end = nullptr;
    }
    if (!end) serial = priv->next_serial;
    /* A name in use is refused (GstElement would refuse to add the pad). */
    gchar* name = g_strdup_printf("distorted_%u", serial);
    bool taken = false;
    for (GList* l = GST_ELEMENT(self)->sinkpads; l; l = l->next)
      taken = taken || g_strcmp0(GST_OBJECT_NAME(l->data), name) == 0;
    if (!taken) priv->next_serial = std::max(priv->next_serial, serial + 1);
    const bool late = priv->started;
    GST_OBJECT_UNLOCK(self);
    if (taken) {
      GST_WARNING_OBJECT(self, "pad %s exists already", name);
      g_free(name);
      return nullptr;
    }
    auto* pad = GST_QUALITY_METER_PAD(g_object_new(GST_TYPE_QUALITY_METER_PAD, "name", name, "direction",
                                                   GST_PAD_SINK, "template", templ, nullptr));
    g_free(name);
    attach_input(self, pad, late);
    GST_INFO_OBJECT(self, "new pad %s%s", GST_OBJECT_NAME(pad), late ? " (starts at its first pair)" : "");
    return GST_AGGREGATOR_PAD(pad);
  });
}

/* GstChildProxy over the sink pads. */
static GObject* gst_quality_meter_child_by_index(GstChildProxy* proxy, guint index) {
  GObject* child = nullptr;
  GST_OBJECT_LOCK(proxy);
  if (gpointer pad = g_list_nth_data(GST_ELEMENT(proxy)->sinkpads, index)) child = G_OBJECT(gst_object_ref(pad));
  GST_OBJECT_UNLOCK(proxy);
  return child;
}

static guint gst_quality_meter_children_count(GstChildProxy* proxy) {
  GST_OBJECT_LOCK(proxy);
  const guint n = GST_ELEMENT(proxy)->numsinkpads;
  GST_OBJECT_UNLOCK(proxy);
  return n;
}

void gst_quality_meter_child_proxy_init(gpointer g_iface, gpointer) {
  auto* iface = static_cast<GstChildProxyInterface*>(g_iface);
  iface->get_child_by_index = gst_quality_meter_child_by_index;
  iface->get_children_count = gst_quality_meter_children_count;
}
