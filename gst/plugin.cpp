// SPDX-License-Identifier: MIT
/*
 * The iir2d plugin: recursive (IIR) 2-D image filters of the IIR2D family
 * (iir2dfilter) and the quality meter that measures them (qualitymeter).
 */
#include <gst/gst.h>

#include "common/cuda_session.h"
#include "iir2dfilter/gstiir2dfilter.h"
#include "qualitymeter/gstqualitymeter.h"

static gboolean plugin_init(GstPlugin* plugin) {
  /* Without libcuda (no NVIDIA driver) the elements still register: system
   * memory needs no GPU, and CUDA caps then fail with a clear error. */
  iir2d::gst::cuda_plugin_init();
  gboolean ok = GST_ELEMENT_REGISTER(iir2dfilter, plugin);
  ok &= GST_ELEMENT_REGISTER(qualitymeter, plugin);
  return ok;
}

/* Package name and origin come from meson options (package-name,
 * package-origin: meson_options.txt), so a distribution's build can say
 * whose package this is; the defaults say it is a local source build. */
GST_PLUGIN_DEFINE(GST_VERSION_MAJOR, GST_VERSION_MINOR, iir2d, "Recursive (IIR) 2-D image filters of the IIR2D family",
                  plugin_init, IIR2D_VERSION, "MIT/X11", IIR2D_PACKAGE_NAME, IIR2D_PACKAGE_ORIGIN)
