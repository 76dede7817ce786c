// SPDX-License-Identifier: MIT
// qualitymeter's CPU measurement (refcpu); see measure.h.
#include <algorithm>
#include <cstring>
#include <exception>
#include <utility>

#include "../common/formats.h"
#include "measure.h"

namespace iir2d::gst::meter {

namespace quality = iir2d::quality;
using iir2d::ConstVideoComponent;

const char* const kRoleNames[2] = {"reference", "distorted"};

guint temporal_component(const GstVideoInfo* info) { return GST_VIDEO_INFO_IS_RGB(info) ? GST_VIDEO_COMP_G : 0; }

int component_depths(const GstVideoInfo* info, int* depths) {
  const int n = std::min<int>(GST_VIDEO_INFO_N_COMPONENTS(info), quality::kMaxComponents);
  for (int c = 0; c < n; ++c) depths[c] = GST_VIDEO_FORMAT_INFO_DEPTH(info->finfo, c);
  return n;
}

namespace {

/* Copies a component's storage words into packed rows. */
template <typename Plane>
void copy_plane(const ConstVideoComponent& c, Plane* out) {
  const std::size_t sample = c.type == iir2d::SampleType::U16 ? 2 : 1;
  const std::size_t row = static_cast<std::size_t>(c.width) * sample;
  out->bytes.resize(row * static_cast<std::size_t>(c.height));
  const auto* src = static_cast<const unsigned char*>(c.data);
  for (int y = 0; y < c.height; ++y)
    for (int x = 0; x < c.width; ++x)
      std::memcpy(&out->bytes[y * row + x * sample], src + y * c.row_stride + x * c.pixel_stride, sample);
  out->view = c;
  out->view.data = out->bytes.data();
  out->view.row_stride = static_cast<std::ptrdiff_t>(row);
  out->view.pixel_stride = static_cast<std::ptrdiff_t>(sample);
}

}  // namespace

bool PairMeasure::measure_system(GstBuffer* ref, const GstVideoInfo* ref_info, GstBuffer* dist,
                                 const GstVideoInfo* dist_info, quality::FrameMetrics* m, std::string* error) {
  const GstVideoInfo* info = dist_info;
  GstVideoFrame rf, df;
  if (!gst_video_frame_map(&rf, ref_info, ref, GST_MAP_READ)) {
    *error = "could not map the reference buffer";
    return false;
  }
  if (!gst_video_frame_map(&df, info, dist, GST_MAP_READ)) {
    gst_video_frame_unmap(&rf);
    *error = "could not map the distorted buffer";
    return false;
  }
  const std::pair<const GstVideoFrame*, PadRole> mapped[] = {{&rf, kReference}, {&df, kDistorted}};
  for (const auto& [frame, role] : mapped) {
    const std::string extent = frame_extent_error(frame);
    if (extent.empty()) continue;
    gst_video_frame_unmap(&df);
    gst_video_frame_unmap(&rf);
    *error = std::string("the ") + kRoleNames[role] + " buffer does not hold its frame: " + extent;
    return false;
  }
  bool ok = true;
  try {
    int depths[quality::kMaxComponents];
    const int n = component_depths(info, depths);
    quality::ComponentSums sums[quality::kMaxComponents];
    for (int c = 0; c < n; ++c)
      sums[c] = quality::compare_component(frame_component<ConstVideoComponent>(&rf, c),
                                           frame_component<ConstVideoComponent>(&df, c));
    *m = quality::frame_metrics(sums, depths, n);
    const guint t = temporal_component(info);
    const auto r0 = frame_component<ConstVideoComponent>(&rf, t);
    const auto d0 = frame_component<ConstVideoComponent>(&df, t);
    if (have_prev_)
      m->temporal_delta = quality::temporal_delta(quality::sum_abs_diff(d0, prev_host_[kDistorted].view),
                                                  quality::sum_abs_diff(r0, prev_host_[kReference].view),
                                                  sums[t].samples, depths[t]);
    copy_plane(r0, &prev_host_[kReference]);
    copy_plane(d0, &prev_host_[kDistorted]);
    have_prev_ = true;
  } catch (const std::exception& e) {
    *error = e.what();
    ok = false;
  }
  gst_video_frame_unmap(&df);
  gst_video_frame_unmap(&rf);
  return ok;
}

}  // namespace iir2d::gst::meter
