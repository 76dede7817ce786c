// SPDX-License-Identifier: MIT
// The fast row and column passes for Store = double, Acc = double (one translation
// unit per precision, so that they compile in parallel).
#include "detail/fast_launch.cuh"

namespace iir2d::cuda::detail {
template Result run_fast_plane<double, double>(const FastPlaneJob<double, double>&, cudaStream_t);
template Result run_fast_video<double, double>(const FastVideoJob<double, double>&, cudaStream_t);
}  // namespace iir2d::cuda::detail
