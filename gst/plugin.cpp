// SPDX-License-Identifier: MIT
/*
 * The iir2d plugin: recursive (IIR) 2-D image filters of the IIR2D family.
 */
#include <gst/gst.h>

#include "gstiir2dfilter.h"
#include "gstqualitymeter.h"

#ifdef HAVE_IIR2D_CUDA
#include <gst/cuda/gstcudaloader.h>
#include <gst/cuda/gstcudamemory.h>
#endif

static gboolean plugin_init(GstPlugin* plugin) {
#ifdef HAVE_IIR2D_CUDA
  /* Without libcuda (no NVIDIA driver) the element still registers: system
   * memory needs no GPU, and CUDA caps then fail with a clear error. */
  if (gst_cuda_load_library())
    gst_cuda_memory_init_once();
#endif
  gboolean ok = GST_ELEMENT_REGISTER(iir2dfilter, plugin);
  ok &= GST_ELEMENT_REGISTER(qualitymeter, plugin);
  return ok;
}

GST_PLUGIN_DEFINE(GST_VERSION_MAJOR, GST_VERSION_MINOR, iir2d, "Recursive (IIR) 2-D image filters of the IIR2D family",
                  plugin_init, IIR2D_VERSION, "MIT/X11", "gst-iir2d", "Unknown package origin")
