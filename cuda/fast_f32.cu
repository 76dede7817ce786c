// SPDX-License-Identifier: MIT
// The fast row and column passes for Store = float, Acc = float (one translation
// unit per precision, so that they compile in parallel).
#include "detail/fast_launch.cuh"

namespace iir2d::cuda::detail {
template Result run_fast_plane<float, float>(const FastPlaneJob<float, float>&, cudaStream_t);
template Result run_fast_video<float, float>(const FastVideoJob<float, float>&, cudaStream_t);
}  // namespace iir2d::cuda::detail
