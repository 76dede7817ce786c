// SPDX-License-Identifier: MIT
// The CUDA session of a plugin built without CUDA: it never opens, so CUDA
// caps are never offered and nothing below runs past its first check. See
// cuda_session.h.
#include "cuda_session.h"

namespace iir2d::gst {

namespace {
const char kNoCuda[] = "the plugin was built without CUDA";
}

bool cuda_built() { return false; }
bool cuda_usable() { return false; }
void cuda_plugin_init() {}

CudaSession::CudaSession(GstElement* owner, int n_streams) : owner_(owner), n_streams_(n_streams) {}
CudaSession::~CudaSession() = default;

bool CudaSession::open(int /*device_id*/) {
  why_ = kNoCuda;
  return false;
}
void CudaSession::close() {}
bool CudaSession::ready() const { return false; }
bool CudaSession::stream_ordered() const { return false; }
void CudaSession::set_context(GstContext* /*context*/, int /*device_id*/) {}
bool CudaSession::handle_context_query(GstQuery* /*query*/) const { return false; }
bool CudaSession::propose_pool(GstQuery* /*query*/, GstCaps* /*caps*/) { return true; }
bool CudaSession::decide_pool(GstQuery* /*query*/, GstCaps* /*caps*/) {
  GST_ERROR_OBJECT(owner_, "CUDA caps in a plugin built without CUDA");
  return false;
}
bool CudaSession::adopt_context_of(GstBuffer* /*buf*/, int /*device_id*/) { return false; }
bool CudaSession::ensure_allocation(int /*slot*/, std::size_t /*bytes*/, std::string* why, bool* fresh) {
  if (fresh) *fresh = false;
  *why = kNoCuda;
  return false;
}
void CudaSession::free_allocations() {}

bool CudaFrameScope::map(GstBuffer* /*buf*/, const GstVideoInfo* /*caps_info*/, GstMapFlags /*flags*/,
                         const char* /*what*/, std::string* error) {
  *error = kNoCuda;
  return false;
}
bool CudaFrameScope::enter(std::string* error) {
  *error = kNoCuda;
  return false;
}
std::string CudaFrameScope::finish() { return {}; }

}  // namespace iir2d::gst
