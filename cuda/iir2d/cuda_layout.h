// SPDX-License-Identifier: MIT
/**
 * @file cuda_layout.h
 * @brief How the CUDA library lays out device memory and launch grids: the
 *        alignment of workspace parts and plane pitches, and CUDA's limit on
 *        a grid's height. One copy for the dispatch files of cuda/ and for
 *        callers that carve device memory of their own next to a workspace
 *        (gst/).
 *
 * Plain C++17 (no CUDA headers), so that code built without nvcc can include it.
 */
#pragma once

#include <cstddef>

namespace iir2d::cuda {

/**
 * Alignment, in bytes, of the parts of a workspace and of the pitches of the
 * planes carved from it (the offsets every workspace_size() counts on).
 */
constexpr std::size_t kAlign = 256;

/// CUDA's limit on gridDim.y: taller work is capped there and the kernels loop over the rest.
constexpr unsigned kMaxGridY = 65535;

/// `n` rounded up to a multiple of `a` (bytes; `a` > 0).
constexpr std::size_t align_up(std::size_t n, std::size_t a = kAlign) { return (n + a - 1) / a * a; }

}  // namespace iir2d::cuda
