// SPDX-License-Identifier: MIT
// Whether the CUDA tier can use a device, and if not why: the one check its
// suites skip on (the skip reason is the returned text).
//
// Where no NVIDIA driver is installed the statically linked CUDA runtime
// only says "CUDA driver version is insufficient for CUDA runtime version",
// which reads like a version mismatch; so libcuda is looked for first.
#pragma once

#include <cuda_runtime_api.h>
#include <dlfcn.h>

#include <string>

namespace iir2d::test {

/// Empty if a CUDA device can be used, else why not: "no NVIDIA driver
/// (libcuda not found)", the CUDA runtime's error, or "no CUDA device".
/// Checked once per process (the first call creates the CUDA context).
inline const std::string& cuda_device_problem() {
  static const std::string problem = [] {
    // Left open: the CUDA runtime opens the same library next.
    if (!dlopen("libcuda.so.1", RTLD_LAZY)) return std::string("no NVIDIA driver (libcuda not found)");
    int count = 0;
    cudaError_t err = cudaGetDeviceCount(&count);
    if (err != cudaSuccess) {
      (void)cudaGetLastError();
      return std::string("cudaGetDeviceCount: ") + cudaGetErrorName(err) + ": " + cudaGetErrorString(err);
    }
    if (count <= 0) return std::string("no CUDA device");
    err = cudaFree(nullptr);  // creates the primary context: a device that cannot be used shows here
    if (err != cudaSuccess) {
      (void)cudaGetLastError();
      return std::string("cudaFree(0): ") + cudaGetErrorName(err) + ": " + cudaGetErrorString(err);
    }
    return std::string();
  }();
  return problem;
}

}  // namespace iir2d::test
