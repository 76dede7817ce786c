// SPDX-License-Identifier: MIT
// Result::message() of iir2d/cuda_filter.h (host code, no kernels).
#include <string>

#include "iir2d/cuda_filter.h"

namespace iir2d::cuda {

std::string error_text(cudaError_t e) {
  const char* text = cudaGetErrorString(e);
  const char* name = cudaGetErrorName(e);
  return std::string(text != nullptr ? text : "unknown CUDA error") + " (" + (name != nullptr ? name : "?") + ")";
}

std::string Result::message() const {
  const std::string at = where != nullptr ? where : "";
  switch (status) {
    case Status::Success:
      return "success";
    case Status::InvalidArgument:
      return "invalid argument: " + at;
    case Status::WorkspaceTooSmall:
      return "workspace too small: " + at;
    case Status::CudaError:
      return at + ": " + error_text(cuda_error);
  }
  return "unknown status " + std::to_string(static_cast<int>(status)) + (at.empty() ? "" : ": " + at);
}

}  // namespace iir2d::cuda
