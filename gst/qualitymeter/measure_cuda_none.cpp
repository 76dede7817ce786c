// SPDX-License-Identifier: MIT
// qualitymeter's CUDA measurement in a plugin built without CUDA: CUDA caps
// are never offered there, so it only answers "no CUDA". See measure.h.
#include "measure.h"

namespace iir2d::gst::meter {

bool PairMeasure::measure_cuda(CudaSession& /*cuda*/, int /*count*/, guint64* /*generation*/, GstBuffer* /*ref*/,
                               const GstVideoInfo* /*ref_info*/, const std::vector<CudaPair>& /*pairs*/,
                               std::string* error) {
  *error = "the plugin was built without CUDA";
  return false;
}

}  // namespace iir2d::gst::meter
