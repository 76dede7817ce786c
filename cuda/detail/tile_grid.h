// SPDX-License-Identifier: MIT
/**
 * @file tile_grid.h
 * @brief The 2-D grids of the per-sample kernels (blend, copy, the frame
 *        kernels), shared by dispatch.cu and video_frame.cu.
 */
#pragma once

#include <cuda_runtime_api.h>

#include "iir2d/cuda_layout.h"

namespace iir2d::cuda::detail {

constexpr unsigned kTileX = 32;  ///< block width of a per-sample kernel
constexpr unsigned kTileY = 8;   ///< block height of a per-sample kernel

/// Blocks of kTileX × kTileY over width × height (>= 0), at most kMaxGridY high: the kernels loop over the rest.
inline dim3 tile_grid(int width, int height) {
  const unsigned gx = (static_cast<unsigned>(width) + kTileX - 1) / kTileX;
  unsigned gy = (static_cast<unsigned>(height) + kTileY - 1) / kTileY;
  if (gy > kMaxGridY) gy = kMaxGridY;
  return dim3(gx, gy, 1);
}

/// The block of tile_grid().
inline dim3 tile_block() { return dim3(kTileX, kTileY, 1); }

}  // namespace iir2d::cuda::detail
