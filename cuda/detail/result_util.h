// SPDX-License-Identifier: MIT
/**
 * @file result_util.h
 * @brief Building Results and checking launches, shared by every dispatch
 *        file of cuda/ (dispatch.cu, video_frame.cu, quality.cu and the fast
 *        passes' launchers, detail/fast_launch.cuh).
 */
#pragma once

#include <cuda_runtime_api.h>

#include "iir2d/cuda_filter.h"

namespace iir2d::cuda::detail {

inline Result fail(Status status, const char* where, cudaError_t err = cudaSuccess) {
  Result r;
  r.status = status;
  r.cuda_error = err;
  r.where = where;
  return r;
}

inline Result invalid(const char* where) { return fail(Status::InvalidArgument, where); }

/**
 * Error handling after a launch: cudaPeekAtLastError (a failed launch's
 * error is then cleared, since the Result reports it), and while
 * set_debug_sync(true) (or IIR2D_CUDA_DEBUG_SYNC) a synchronisation of the
 * caller's stream, so that errors name their kernel. Defined in dispatch.cu.
 */
Result check_launch(cudaStream_t stream, const char* where);

}  // namespace iir2d::cuda::detail
