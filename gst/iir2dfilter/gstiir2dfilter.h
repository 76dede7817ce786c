// SPDX-License-Identifier: MIT
/*
 * iir2dfilter: recursive (IIR) 2-D image filters of the IIR2D family on raw
 * video, in system memory (CPU reference) or CUDA memory (CUDA kernels).
 */
#pragma once

#include <gst/base/gstbasetransform.h>
#include <gst/gst.h>

G_BEGIN_DECLS

#define GST_TYPE_IIR2D_FILTER (gst_iir2d_filter_get_type())
G_DECLARE_FINAL_TYPE(GstIir2dFilter, gst_iir2d_filter, GST, IIR2D_FILTER, GstBaseTransform)

/**
 * GstIir2dBorder:
 * @GST_IIR2D_BORDER_CLAMP: repeat the edge sample
 * @GST_IIR2D_BORDER_MIRROR: reflect, edge sample repeated
 * @GST_IIR2D_BORDER_WRAP: periodic extension
 * @GST_IIR2D_BORDER_CONSTANT: the value of #GstIir2dFilter:border-constant
 *
 * Border sampling rule of the filter (FILTER_CONTRACT.md, section 2).
 *
 * Since: 0.1
 */
typedef enum {
  GST_IIR2D_BORDER_CLAMP = 0,
  GST_IIR2D_BORDER_MIRROR = 1,
  GST_IIR2D_BORDER_WRAP = 2,
  GST_IIR2D_BORDER_CONSTANT = 3,
} GstIir2dBorder;

/**
 * GstIir2dBorderInit:
 * @GST_IIR2D_BORDER_INIT_EXACT: response to the infinite border extension
 * @GST_IIR2D_BORDER_INIT_IIR2D: IIR2D 1.0's warm-up from a few border samples
 *
 * How each recursion starts at the border (FILTER_CONTRACT.md, section 3a).
 *
 * Since: 0.1
 */
typedef enum {
  GST_IIR2D_BORDER_INIT_EXACT = 0,
  GST_IIR2D_BORDER_INIT_IIR2D = 1,
} GstIir2dBorderInit;

/**
 * GstIir2dPrecision:
 * @GST_IIR2D_PRECISION_F32: float32 storage and arithmetic
 * @GST_IIR2D_PRECISION_MIXED: float32 storage, float64 recursion state
 * @GST_IIR2D_PRECISION_F64: float64 storage and arithmetic
 *
 * Arithmetic precision (FILTER_CONTRACT.md, section 4).
 *
 * Since: 0.1
 */
typedef enum {
  GST_IIR2D_PRECISION_F32 = 0,
  GST_IIR2D_PRECISION_MIXED = 1,
  GST_IIR2D_PRECISION_F64 = 2,
} GstIir2dPrecision;

/**
 * GstIir2dPlanes:
 * @GST_IIR2D_PLANES_LUMA: filter the luma (or gray) component only, copy the others;
 *   on RGB video filter Y' of the stream's Y'CbCr matrix and keep Cb and Cr
 * @GST_IIR2D_PLANES_ALL: filter luma and chroma, or R, G and B; alpha is always copied
 *
 * Which components of a frame are filtered.
 *
 * Since: 0.1
 */
typedef enum {
  GST_IIR2D_PLANES_LUMA = 0,
  GST_IIR2D_PLANES_ALL = 1,
} GstIir2dPlanes;

/**
 * GstIir2dTemporalMode:
 * @GST_IIR2D_TEMPORAL_OFF: no temporal smoothing
 * @GST_IIR2D_TEMPORAL_FIXED: out = α·filtered + (1−α)·previous output, α = #GstIir2dFilter:temporal-alpha
 * @GST_IIR2D_TEMPORAL_ADAPTIVE: α per pixel from the motion at that pixel, between
 *   #GstIir2dFilter:temporal-alpha-min (still) and #GstIir2dFilter:temporal-alpha-max (moving)
 *
 * Temporal smoothing of the filtered output.
 *
 * Since: 0.1
 */
typedef enum {
  GST_IIR2D_TEMPORAL_OFF = 0,
  GST_IIR2D_TEMPORAL_FIXED = 1,
  GST_IIR2D_TEMPORAL_ADAPTIVE = 2,
} GstIir2dTemporalMode;

/**
 * GstIir2dFieldMode:
 * @GST_IIR2D_FIELD_MODE_AUTO: follow the caps' interlace-mode and the buffer
 *   flags: each field of interlaced video is filtered as its own picture
 * @GST_IIR2D_FIELD_MODE_PROGRESSIVE: filter every buffer as one picture, as
 *   if it were progressive (the two fields of an interlaced frame are mixed)
 *
 * How interlaced video is filtered (element docs, "Interlaced video").
 *
 * Since: 0.2
 */
typedef enum {
  GST_IIR2D_FIELD_MODE_AUTO = 0,
  GST_IIR2D_FIELD_MODE_PROGRESSIVE = 1,
} GstIir2dFieldMode;

#define GST_TYPE_IIR2D_BORDER (gst_iir2d_border_get_type())
GType gst_iir2d_border_get_type(void);
#define GST_TYPE_IIR2D_BORDER_INIT (gst_iir2d_border_init_get_type())
GType gst_iir2d_border_init_get_type(void);
#define GST_TYPE_IIR2D_PRECISION (gst_iir2d_precision_get_type())
GType gst_iir2d_precision_get_type(void);
#define GST_TYPE_IIR2D_PLANES (gst_iir2d_planes_get_type())
GType gst_iir2d_planes_get_type(void);
#define GST_TYPE_IIR2D_TEMPORAL_MODE (gst_iir2d_temporal_mode_get_type())
GType gst_iir2d_temporal_mode_get_type(void);
#define GST_TYPE_IIR2D_FIELD_MODE (gst_iir2d_field_mode_get_type())
GType gst_iir2d_field_mode_get_type(void);

GST_ELEMENT_REGISTER_DECLARE(iir2dfilter);

G_END_DECLS
