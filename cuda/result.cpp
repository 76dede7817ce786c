// SPDX-License-Identifier: MIT
// Result::message() of iir2d/cuda_filter.h (host code, no kernels).
#include <string>

#include "iir2d/cuda_filter.h"

namespace iir2d::cuda {

std::string Result::message() const {
  const std::string at = where != nullptr ? where : "";
  switch (status) {
    case Status::Success:
      return "success";
    case Status::InvalidArgument:
      return "invalid argument: " + at;
    case Status::WorkspaceTooSmall:
      return "workspace too small: " + at;
    case Status::CudaError: {
      const char* text = cudaGetErrorString(cuda_error);
      const char* name = cudaGetErrorName(cuda_error);
      return at + ": " + (text != nullptr ? text : "unknown CUDA error") + " (" + (name != nullptr ? name : "?") + ")";
    }
  }
  return "unknown status " + std::to_string(static_cast<int>(status)) + (at.empty() ? "" : ": " + at);
}

}  // namespace iir2d::cuda
