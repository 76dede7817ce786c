// SPDX-License-Identifier: MIT
/*
 * iir2dfilter's properties: their values (Settings), defaults, GParamSpecs
 * and the enum types behind them, and how they become the filter's
 * parameters (iir2d::FilterParams, iir2d::TemporalParams).
 *
 * Settings are property values under the element's lock; the streaming
 * thread copies them once per frame (STYLE.md: settings vs state).
 */
#pragma once

#include <gst/gst.h>

#include "gstiir2dfilter.h"
#include "iir2d/filters.h"
#include "iir2d/frame_ops.h"

namespace iir2d::gst::filter {

/* Property ids (GObject's: 0 is reserved). */
enum Property : guint {
  PROP_0,
  PROP_FILTER_ID,
  PROP_BORDER,
  PROP_BORDER_CONSTANT,
  PROP_BORDER_INIT,
  PROP_PRECISION,
  PROP_STRENGTH,
  PROP_PLANES,
  PROP_CUDA_DEVICE_ID,
  PROP_SIGMA,
  PROP_UNITY_GAIN,
  PROP_TEMPORAL_MODE,
  PROP_TEMPORAL_ALPHA,
  PROP_TEMPORAL_ALPHA_MIN,
  PROP_TEMPORAL_ALPHA_MAX,
  PROP_MOTION_THRESHOLD,
  PROP_FIELD_MODE,
  PROP_N_THREADS,
};

/* Property values, with their defaults. */
struct Settings {
  guint filter_id = 1;
  GstIir2dBorder border = GST_IIR2D_BORDER_MIRROR;
  gdouble border_constant = 0.0;
  GstIir2dBorderInit border_init = GST_IIR2D_BORDER_INIT_EXACT;
  GstIir2dPrecision precision = GST_IIR2D_PRECISION_F32;
  gdouble strength = 1.0;
  GstIir2dPlanes planes = GST_IIR2D_PLANES_LUMA;
  gint cuda_device_id = -1;
  gdouble sigma = iir2d::kDericheSigma;
  bool unity_gain = false;
  GstIir2dTemporalMode temporal_mode = GST_IIR2D_TEMPORAL_OFF;
  gdouble temporal_alpha = 0.9;
  gdouble temporal_alpha_min = 0.10;
  gdouble temporal_alpha_max = 0.95;
  gdouble motion_threshold = 0.08;
  GstIir2dFieldMode field_mode = GST_IIR2D_FIELD_MODE_AUTO;
  guint n_threads = 0;  // system memory: threads of the CPU path, 0 = one per core

  bool temporal() const { return temporal_mode != GST_IIR2D_TEMPORAL_OFF; }
  /* Output == input: no copy, no kernel (gstvideobalance.c decides its
   * passthrough from its settings the same way). */
  bool passthrough() const { return strength == 0.0 && !temporal(); }
};

/* The contract's parameters of these settings (FILTER_CONTRACT.md). */
iir2d::FilterParams to_filter_params(const Settings& s);
iir2d::TemporalParams to_temporal_params(const Settings& s);

/* Installs every property with its range, default, blurb and flags. */
void install_properties(GObjectClass* klass);
/* GObject set/get of property `prop_id` on `s`; false for an unknown id. */
bool set_property(Settings& s, guint prop_id, const GValue* value);
bool get_property(const Settings& s, guint prop_id, GValue* value);

/* Marks the enum types as plugin API (documented with the element). */
void mark_enums_as_plugin_api();

}  // namespace iir2d::gst::filter
