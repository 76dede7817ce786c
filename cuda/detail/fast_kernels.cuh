// SPDX-License-Identifier: MIT
/**
 * @file fast_kernels.cuh
 * @brief The fast row and column passes: segment I/O on the GPU (second
 *        layer) and their thin __global__ entry points. The recursions are
 *        those of segment.cuh; this file only moves samples.
 *
 * Row pass: one warp per (32 rows, one segment). A chunk of 32 rows x 32
 * columns is read coalesced (lane j reads column cb+j of each row, so a warp
 * reads 32 consecutive samples of a row per instruction), transposed through
 * a 32x32 shared-memory tile swizzled in 16-byte units (conflict-free both
 * for the per-lane scalar writes and the row-wise 16-byte reads), after
 * which lane j owns row j's 32 samples in registers. Outputs go back the same
 * way. Integer video samples are normalised while loading (a shared-memory
 * table of v/max for depths up to 10 bits, the contract's division beyond).
 *
 * Column pass: one thread per (column, segment); consecutive threads on
 * consecutive columns, so every row access of a warp is coalesced. A chunk
 * is 32 rows loaded into registers one chunk ahead of its use. For video the
 * blend with the original sample and the quantisation are fused into the
 * final stores.
 *
 * Both passes stage the next chunk's loads before computing the current one,
 * so 32 independent loads per thread are in flight during the recursion.
 * Included by the fast_*.cu translation units only (needs nvcc).
 */
#pragma once

#include <cstddef>
#include <cstdint>

#include "detail/segment.cuh"
#include "detail/video_samples.cuh"

namespace iir2d::cuda::detail {

constexpr int kRowWarps = 4;                    ///< warps per block of the row pass
constexpr int kRowThreads = kRowWarps * 32;     ///< threads per block of the row pass
constexpr int kColThreads = 128;                ///< threads per block of the column pass
constexpr int kLutSize = 1024;                  ///< codes covered by the normalisation table (depth <= 10)

// ---------------------------------------------------------------------------
// Sample sources and sinks
// ---------------------------------------------------------------------------

/**
 * Row-pass input: a pitched plane of Store, staged in 16-byte units when the
 * plane is 16-byte aligned (`vec`).
 */
template <typename Store>
struct PlaneIn {
  static constexpr bool kCodes = false;
  static constexpr int kVec = 16 / static_cast<int>(sizeof(Store));
  const Store* base;
  std::ptrdiff_t pitch;  ///< elements
  bool vec;              ///< base and pitch 16-byte aligned
  __device__ __forceinline__ Store load(int row, int col) const {
    return base[static_cast<std::ptrdiff_t>(row) * pitch + col];
  }
};

/// Reads the storage word of a sample (U16: little-endian, 2-byte loads when aligned).
__device__ __forceinline__ unsigned load_word_rt(const unsigned char* p, SampleType type, bool aligned) {
  if (type == SampleType::U8) return *p;
  if (aligned) return *reinterpret_cast<const std::uint16_t*>(p);
  return static_cast<unsigned>(p[0]) | (static_cast<unsigned>(p[1]) << 8);
}

__device__ __forceinline__ void store_word_rt(unsigned char* p, SampleType type, unsigned word, bool aligned) {
  if (type == SampleType::U8) {
    *p = static_cast<unsigned char>(word);
  } else if (aligned) {
    *reinterpret_cast<std::uint16_t*>(p) = static_cast<std::uint16_t>(word);
  } else {
    p[0] = static_cast<unsigned char>(word & 0xffu);
    p[1] = static_cast<unsigned char>((word >> 8) & 0xffu);
  }
}

/// v / max (section 5) out of line: depths above 10 bits only (the table covers the rest).
template <typename Store>
__device__ __noinline__ Store normalise_code_call(unsigned code, Store max_code) {
  return normalise_code<Store>(code, max_code);
}

/**
 * Integer samples of a video component, normalised to Store (section 5).
 * The sample type is a run-time (warp-uniform) switch: one kernel serves U8
 * and U16 components.
 */
template <typename Store>
struct CodeSamples {
  const unsigned char* base;
  std::ptrdiff_t row_stride, pixel_stride;  ///< bytes
  SampleType type;
  int shift;
  unsigned mask;
  Store max_code;
  bool aligned;      ///< U16 words 2-byte aligned (base and both strides even)
  const Store* lut;  ///< v/max for v < kLutSize, in shared memory
  bool use_lut;      ///< mask < kLutSize (else the division, out of line)

  __device__ __forceinline__ const unsigned char* at(int row, int col) const {
    return base + static_cast<std::ptrdiff_t>(row) * row_stride + static_cast<std::ptrdiff_t>(col) * pixel_stride;
  }
  __device__ __forceinline__ Store normalise(unsigned word) const {
    const unsigned code = (word >> shift) & mask;
    return use_lut ? lut[code] : normalise_code_call<Store>(code, max_code);
  }
  __device__ __forceinline__ Store load(int row, int col) const { return normalise(load_word_rt(at(row, col), type, aligned)); }
};

/**
 * Row-pass input from a video component. Planar components whose base and
 * row stride are 16-byte aligned are staged in 16-byte units (`vec`).
 */
template <typename Store>
struct CodeIn : CodeSamples<Store> {
  static constexpr bool kCodes = true;
  bool vec;
};

/// Column-pass output: a pitched plane of Store.
template <typename Store, typename Acc>
struct PlaneOut {
  static constexpr bool kCodes = false;
  Store* base;
  std::ptrdiff_t pitch;  ///< elements
  /// Rows [lo, hi) of chunk cb of column col.
  __device__ __forceinline__ void store_chunk(int cb, int col, const Store (&v)[kChunk], int lo, int hi) const {
    Store* p = base + static_cast<std::ptrdiff_t>(cb) * pitch + col;
IIR2D_UNROLL
    for (int k = 0; k < kChunk; ++k)
      if (cb + k >= lo && cb + k < hi) p[k * pitch] = v[k];
  }
};

/**
 * Column-pass output to a video component: blend with the original sample
 * and quantise (section 5). A chunk's original samples are all loaded
 * before the first store, so their latencies overlap.
 */
template <typename Store, typename Acc>
struct CodeOut {
  static constexpr bool kCodes = true;
  CodeSamples<Store> src;  ///< the original samples (x of the blend)
  unsigned char* dst;
  std::ptrdiff_t dst_row_stride, dst_pixel_stride;  ///< bytes
  bool dst_aligned;
  double max_code_d;
  Acc strength, one_minus_strength;
  /// false at strength 1: o = 1·f + 0·x is f exactly (x is finite), so the
  /// original samples are not read and f is quantised directly.
  bool blend = true;

  __device__ __forceinline__ void store_chunk(int cb, int col, const Store (&v)[kChunk], int lo, int hi) const {
    if (!blend) {
IIR2D_UNROLL
      for (int k = 0; k < kChunk; ++k)
        if (cb + k >= lo && cb + k < hi) {
          const unsigned c = quantise_code(static_cast<double>(static_cast<Acc>(v[k])), max_code_d);
          unsigned char* p = dst + static_cast<std::ptrdiff_t>(cb + k) * dst_row_stride +
                             static_cast<std::ptrdiff_t>(col) * dst_pixel_stride;
          store_word_rt(p, src.type, c << src.shift, dst_aligned);
        }
      return;
    }
    unsigned words[kChunk];
IIR2D_UNROLL
    for (int k = 0; k < kChunk; ++k)
      words[k] = cb + k >= lo && cb + k < hi ? load_word_rt(src.at(cb + k, col), src.type, src.aligned) : 0u;
    Store xs[kChunk];
    if (src.use_lut) {
IIR2D_UNROLL
      for (int k = 0; k < kChunk; ++k) xs[k] = src.lut[(words[k] >> src.shift) & src.mask];
    } else {
IIR2D_UNROLL
      for (int k = 0; k < kChunk; ++k) xs[k] = src.normalise(words[k]);
    }
IIR2D_UNROLL
    for (int k = 0; k < kChunk; ++k) {
      if (cb + k >= lo && cb + k < hi) {
        const Store x = xs[k];
        const unsigned c = blend_and_quantise<Store, Acc>(v[k], x, strength, one_minus_strength, max_code_d);
        unsigned char* p = dst + static_cast<std::ptrdiff_t>(cb + k) * dst_row_stride +
                           static_cast<std::ptrdiff_t>(col) * dst_pixel_stride;
        store_word_rt(p, src.type, c << src.shift, dst_aligned);
      }
    }
  }
};

// ---------------------------------------------------------------------------
// Shared-memory tile, swizzled in 16-byte units
// ---------------------------------------------------------------------------

/// Element (r, c) of a 32x32 tile at r*32 + ((c/E) ^ (r%8))*E + c%E, E = elements per 16 bytes.
template <typename Store>
struct Swizzle {
  static constexpr int kE = 16 / static_cast<int>(sizeof(Store));
  __device__ __forceinline__ static int at(int r, int c) { return r * kChunk + (((c / kE) ^ (r & 7)) * kE) + (c % kE); }
  __device__ __forceinline__ static int unit(int r, int q) { return r * kChunk + ((q ^ (r & 7)) * kE); }
};

/// Row r of the tile into v (16-byte loads).
template <typename Store>
__device__ __forceinline__ void tile_read_row(const Store* tile, int r, Store (&v)[kChunk]) {
  constexpr int kE = Swizzle<Store>::kE;
IIR2D_UNROLL
  for (int q = 0; q < kChunk / kE; ++q) {
    const Store* p = tile + Swizzle<Store>::unit(r, q);
    if constexpr (sizeof(Store) == 4) {
      const float4 w = *reinterpret_cast<const float4*>(p);
      v[4 * q + 0] = w.x; v[4 * q + 1] = w.y; v[4 * q + 2] = w.z; v[4 * q + 3] = w.w;
    } else {
      const double2 w = *reinterpret_cast<const double2*>(p);
      v[2 * q + 0] = w.x; v[2 * q + 1] = w.y;
    }
  }
}

/// v into row r of the tile (16-byte stores).
template <typename Store>
__device__ __forceinline__ void tile_write_row(Store* tile, int r, const Store (&v)[kChunk]) {
  constexpr int kE = Swizzle<Store>::kE;
IIR2D_UNROLL
  for (int q = 0; q < kChunk / kE; ++q) {
    Store* p = tile + Swizzle<Store>::unit(r, q);
    if constexpr (sizeof(Store) == 4) {
      *reinterpret_cast<float4*>(p) = make_float4(v[4 * q], v[4 * q + 1], v[4 * q + 2], v[4 * q + 3]);
    } else {
      *reinterpret_cast<double2*>(p) = make_double2(v[2 * q], v[2 * q + 1]);
    }
  }
}

// ---------------------------------------------------------------------------
// Asynchronous copies to shared memory (sm_80+; plain copies before)
// ---------------------------------------------------------------------------

__device__ __forceinline__ unsigned smem_address(const void* p) {
  return static_cast<unsigned>(__cvta_generic_to_shared(p));
}

/// 16 bytes global -> shared, asynchronously (both 16-byte aligned).
__device__ __forceinline__ void cp_async16(void* dst, const void* src) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16;\n" ::"r"(smem_address(dst)), "l"(src) : "memory");
#else
  *reinterpret_cast<uint4*>(dst) = *reinterpret_cast<const uint4*>(src);
#endif
}

/// One Store element global -> shared, asynchronously.
template <typename Store>
__device__ __forceinline__ void cp_async_elem(Store* dst, const Store* src) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  if constexpr (sizeof(Store) == 4)
    asm volatile("cp.async.ca.shared.global [%0], [%1], 4;\n" ::"r"(smem_address(dst)), "l"(src) : "memory");
  else
    asm volatile("cp.async.ca.shared.global [%0], [%1], 8;\n" ::"r"(smem_address(dst)), "l"(src) : "memory");
#else
  *dst = *src;
#endif
}

__device__ __forceinline__ void cp_async_commit() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  asm volatile("cp.async.commit_group;\n" ::: "memory");
#endif
}

/// Waits until at most N of this thread's most recent groups are pending.
template <int N>
__device__ __forceinline__ void cp_async_wait() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  asm volatile("cp.async.wait_group %0;\n" ::"n"(N) : "memory");
#endif
}

/// Staging depth: chunks in flight per warp (row pass) or block (column pass) is kStages - 1.
template <typename Store>
inline constexpr int kStagesFor = sizeof(Store) == 4 ? 4 : 3;
/// The row pass keeps 3 tiles per warp (4 KB each in f32), so 4 blocks of 4 warps fit an SM.
inline constexpr int kRowStages = 3;

/// Asks L2 for the 128-byte line at p (no data returned; a hint).
__device__ __forceinline__ void prefetch_l2(const void* p) {
  asm volatile("prefetch.global.L2 [%0];\n" ::"l"(p));
}

/**
 * The row pass reads 32 rows per chunk, each only 32 samples wide: DRAM sees
 * many short pieces of different rows. Every `span` bytes of a row, the lane
 * owning that row asks L2 for the next `span` bytes (four 128-byte lines)
 * `ahead` bytes further, so each row arrives in longer contiguous runs.
 * span == 0 disables it.
 */
struct L2RowPrefetch {
  int span;   ///< bytes per burst (a multiple of 128), 0: off
  int ahead;  ///< distance in bytes
  /// Issues the burst for the row at `row_base` when chunk [cb, cb+32) starts a new span.
  __device__ __forceinline__ void at_chunk(const unsigned char* row_base, int cb, int bytes_per_sample,
                                           int row_bytes) const {
    if (span <= 0) return;
    const int b0 = cb * bytes_per_sample;
    if (b0 % span != 0) return;
    const int from = b0 + ahead;
#pragma unroll 1
    for (int o = 0; o < span; o += 128)
      if (from + o >= 0 && from + o < row_bytes) prefetch_l2(row_base + from + o);
  }
};

// ---------------------------------------------------------------------------
// Row pass I/O: a warp on 32 rows, chunks transposed through shared memory
// ---------------------------------------------------------------------------

/**
 * Global memory is accessed in a vector layout: with V samples per access,
 * a chunk row (32 samples) is 32/V units; lane j takes unit j % (32/V) of
 * rows j / (32/V) + V*t, t = 0..32/V-1 (a warp instruction covers V whole
 * chunk rows).
 */
template <typename Store, int V>
struct RowLayout {
  static constexpr int kUnits = kChunk / V;  ///< lanes per chunk row
  static constexpr int kRows = V;            ///< chunk rows per warp instruction
  static constexpr int kSteps = kChunk / V;  ///< accesses per lane per chunk
  __device__ __forceinline__ static int unit(int lane) { return lane % kUnits; }
  __device__ __forceinline__ static int row(int lane, int t) { return lane / kUnits + kRows * t; }
};

/**
 * What both row-pass I/Os share: the output and forward-result side, all
 * through a Store tile (the lane's row written with 16-byte stores, then the
 * vector layout to global memory).
 */
template <typename Store>
struct RowOut {
  static constexpr int kE = 16 / static_cast<int>(sizeof(Store));
  using Lay = RowLayout<Store, kE>;
  Store* out;                  ///< intermediate plane, 16-byte aligned rows (forward results park here too)
  std::ptrdiff_t out_pitch;    ///< elements
  Store* scratch;              ///< this segment's forward results from s1 on: row r at scratch + r*scratch_len
  int scratch_len;
  int r0;                      ///< first row of the warp
  int rows;                    ///< valid rows from r0 (<= 32)
  int lane;

  __device__ __forceinline__ Store* fwd_at(int i, int c, int s1) const {
    return c < s1 ? out + static_cast<std::ptrdiff_t>(r0 + i) * out_pitch + c
                  : scratch + static_cast<std::ptrdiff_t>(r0 + i) * scratch_len + (c - s1);
  }
  __device__ __forceinline__ bool whole_aux(int cb, int lo, int s1, int hi) const {
    return cb >= lo && cb + kChunk <= hi && cb + kChunk <= s1;
  }

  /// Forward results of chunk cb at [lo, hi) into `tile`: cp.async units when the chunk is wholly in
  /// the aux plane (async: the caller commits and waits), else scalar loads (synchronous).
  __device__ __forceinline__ void fill_fwd(Store* tile, int cb, int lo, int s1, int hi, bool async) const {
    const int u = Lay::unit(lane);
    if (whole_aux(cb, lo, s1, hi)) {
IIR2D_UNROLL
      for (int t = 0; t < Lay::kSteps; ++t) {
        const int i = Lay::row(lane, t);
        if (i < rows) {
          Store* d = tile + Swizzle<Store>::unit(i, u);
          const Store* g = out + static_cast<std::ptrdiff_t>(r0 + i) * out_pitch + cb + u * kE;
          if (async) {
            cp_async16(d, g);
          } else {
            *reinterpret_cast<uint4*>(d) = *reinterpret_cast<const uint4*>(g);
          }
        }
      }
    } else {
#pragma unroll 1
      for (int t = 0; t < Lay::kSteps; ++t) {
        const int i = Lay::row(lane, t);
IIR2D_UNROLL
        for (int e = 0; e < kE; ++e) {
          const int c = cb + u * kE + e;
          Store v = static_cast<Store>(0);
          if (i < rows && c >= lo && c < hi) v = *fwd_at(i, c, s1);
          tile[Swizzle<Store>::at(i, u * kE + e)] = v;
        }
      }
    }
  }

  /// v (the lane's row) through `tile` to the forward destinations at [lo, hi).
  __device__ __forceinline__ void store(Store* tile, int cb, const Store (&v)[kChunk], int lo, int s1, int hi) const {
    tile_write_row(tile, lane, v);
    __syncwarp();
    const int u = Lay::unit(lane);
    if (whole_aux(cb, lo, s1, hi)) {
IIR2D_UNROLL
      for (int t = 0; t < Lay::kSteps; ++t) {
        const int i = Lay::row(lane, t);
        if (i < rows) {
          const Store* q = tile + Swizzle<Store>::unit(i, u);
          Store* p = out + static_cast<std::ptrdiff_t>(r0 + i) * out_pitch + cb + u * kE;
          *reinterpret_cast<uint4*>(p) = *reinterpret_cast<const uint4*>(q);
        }
      }
    } else {
#pragma unroll 1
      for (int t = 0; t < Lay::kSteps; ++t) {
        const int i = Lay::row(lane, t);
        const Store* q = tile + Swizzle<Store>::unit(i, u);
IIR2D_UNROLL
        for (int e = 0; e < kE; ++e) {
          const int c = cb + u * kE + e;
          if (i < rows && c >= lo && c < hi) *fwd_at(i, c, s1) = q[e];
        }
      }
    }
    __syncwarp();
  }
};

/**
 * What both row-pass I/Os share (RowIOPlane, RowIOCodes; CRTP): the input
 * view, the output side, the border and the ring counters, and the members
 * of the segment driver's I/O interface (segment.cuh) that do not depend on
 * how input chunks are staged. `Derived::out_tile()` is the tile through
 * which outputs and forward results are stored.
 */
template <class Derived, typename Store, typename In, int kStages>
struct RowIOBase {
  static constexpr int kAhead = kStages - 1;
  In in;
  RowOut<Store> o;
  int n;        ///< row length
  Border border;
  Store constant;
  L2RowPrefetch pf;
  int put = 0, get = 0;

  __device__ __forceinline__ void drain() {
    cp_async_wait<0>();
    __syncwarp();
    get = put;
  }

  __device__ __forceinline__ Store input_at(int i) const {
    if (o.lane >= o.rows) return constant;
    const int m = seg_source_index(i, n, border);
    return m < 0 ? constant : in.load(o.r0 + o.lane, m);
  }

  __device__ __forceinline__ void store_fwd(int cb, const Store (&v)[kChunk], int lo, int s1, int hi) {
    o.store(self().out_tile(), cb, v, lo, s1, hi);
  }
  __device__ __forceinline__ void store_out(int cb, const Store (&v)[kChunk], int lo, int hi) {
    o.store(self().out_tile(), cb, v, lo, hi, hi);
  }

 private:
  __device__ __forceinline__ const Derived& self() const { return static_cast<const Derived&>(*this); }
};

/**
 * Row-pass I/O over a plane of Store: a ring of kStages swizzled tiles per
 * warp; interior chunks of 16-byte aligned planes arrive by cp.async
 * straight into their tile, edge chunks (border-mapped, unaligned) by
 * scalar loads. The tile of the chunk just taken doubles as the transpose
 * tile of its outputs (the next prefetch targets another slot).
 */
template <typename Store, int kStages>
struct RowIOPlane : RowIOBase<RowIOPlane<Store, kStages>, Store, PlaneIn<Store>, kStages> {
  using Base = RowIOBase<RowIOPlane, Store, PlaneIn<Store>, kStages>;
  using Base::kAhead, Base::in, Base::o, Base::n, Base::border, Base::constant, Base::pf, Base::put, Base::get;
  static constexpr int kE = 16 / static_cast<int>(sizeof(Store));
  using Lay = RowLayout<Store, kE>;
  Store* ring;  ///< kStages tiles of this warp

  __device__ __forceinline__ Store* tile(int k) const { return ring + (k % kStages) * (kChunk * kChunk); }
  __device__ __forceinline__ Store* current() const { return tile(get + kStages - 1); }
  __device__ __forceinline__ Store* out_tile() const { return current(); }

  __device__ __forceinline__ void prefetch_in(int cb, bool valid) {
    if (valid) {
      Store* t = tile(put);
      const int u = Lay::unit(o.lane);
      if (in.vec && cb >= 0 && cb + kChunk <= n) {
        if (o.lane < o.rows)
          pf.at_chunk(reinterpret_cast<const unsigned char*>(in.base + static_cast<std::ptrdiff_t>(o.r0 + o.lane) * in.pitch),
                      cb, static_cast<int>(sizeof(Store)), n * static_cast<int>(sizeof(Store)));
IIR2D_UNROLL
        for (int s = 0; s < Lay::kSteps; ++s) {
          const int i = Lay::row(o.lane, s);
          if (i < o.rows) cp_async16(t + Swizzle<Store>::unit(i, u), in.base + static_cast<std::ptrdiff_t>(o.r0 + i) * in.pitch + cb + u * kE);
        }
      } else {
        int m[kE];
IIR2D_UNROLL
        for (int e = 0; e < kE; ++e) {
          const int c = cb + u * kE + e;
          m[e] = c >= 0 && c < n ? c : seg_source_index(c, n, border);
        }
#pragma unroll 1
        for (int s = 0; s < Lay::kSteps; ++s) {
          const int i = Lay::row(o.lane, s);
IIR2D_UNROLL
          for (int e = 0; e < kE; ++e) {
            Store v = constant;
            if (i < o.rows && m[e] >= 0) v = in.load(o.r0 + i, m[e]);
            t[Swizzle<Store>::at(i, u * kE + e)] = v;
          }
        }
      }
    }
    cp_async_commit();
    ++put;
  }

  __device__ __forceinline__ void take(Store (&v)[kChunk]) {
    cp_async_wait<kAhead - 1>();
    __syncwarp();
    tile_read_row(tile(get), o.lane, v);
    ++get;
    __syncwarp();
  }
  __device__ __forceinline__ void take_in(int, Store (&v)[kChunk]) { take(v); }

  __device__ __forceinline__ void prefetch_fwd(int cb, int lo, int s1, int hi, bool valid) {
    if (valid) o.fill_fwd(tile(put), cb, lo, s1, hi, true);
    cp_async_commit();
    ++put;
  }
  __device__ __forceinline__ void take_fwd(int, int, int, int, Store (&v)[kChunk]) { take(v); }

  __device__ __forceinline__ void load_fwd(int cb, int lo, int s1, int hi, Store (&v)[kChunk]) {
    Store* t = current();
    o.fill_fwd(t, cb, lo, s1, hi, false);
    __syncwarp();
    tile_read_row(t, o.lane, v);
    __syncwarp();
  }
};

/// Bytes per row of a raw-code stage (32 U16 samples and 16 bytes of padding against bank conflicts).
constexpr int kRawPitch = 80;

/**
 * Row-pass I/O over integer samples: a ring of kStages raw-code stages per
 * warp (cp.async of 16-byte units when the component is planar and its rows
 * 16-byte aligned); lane j reads row j's 32 codes and normalises them
 * straight into its registers. Edge chunks are read at take time, each lane
 * its own row. One Store tile serves the outputs and forward results, which
 * the I/O reads synchronously.
 */
template <typename Store, int kStages>
struct RowIOCodes : RowIOBase<RowIOCodes<Store, kStages>, Store, CodeIn<Store>, kStages> {
  using Base = RowIOBase<RowIOCodes, Store, CodeIn<Store>, kStages>;
  using Base::kAhead, Base::in, Base::o, Base::n, Base::border, Base::constant, Base::pf, Base::put, Base::get;
  unsigned char* raw;  ///< kStages stages of 32 rows x kRawPitch bytes
  Store* tile;         ///< one Store tile

  __device__ __forceinline__ Store* out_tile() const { return tile; }

  __device__ __forceinline__ bool vector_chunk(int cb) const { return in.vec && cb >= 0 && cb + kChunk <= n; }
  __device__ __forceinline__ unsigned char* stage(int k) const { return raw + (k % kStages) * (kChunk * kRawPitch); }

  __device__ __forceinline__ void prefetch_in(int cb, bool valid) {
    if (valid && vector_chunk(cb)) {
      unsigned char* st = stage(put);
      const int bytes = in.type == SampleType::U8 ? 1 : 2;
      if (o.lane < o.rows) pf.at_chunk(in.at(o.r0 + o.lane, 0), cb, bytes, n * bytes);
      // U8: 2 units of 16 bytes per row, U16: 4.
      const int shift = in.type == SampleType::U8 ? 1 : 2;
      const int per_lane = 2 << (shift - 1);
#pragma unroll 4
      for (int q = 0; q < per_lane; ++q) {
        const int u = o.lane + 32 * q;
        const int i = u >> shift, part = u & ((1 << shift) - 1);
        if (i < o.rows) cp_async16(st + i * kRawPitch + 16 * part, in.at(o.r0 + i, cb) + 16 * part);
      }
    }
    cp_async_commit();
    ++put;
  }

  __device__ __forceinline__ void take_in(int cb, Store (&v)[kChunk]) {
    cp_async_wait<kAhead - 1>();
    __syncwarp();
    if (vector_chunk(cb)) {
      const unsigned char* r = stage(get) + o.lane * kRawPitch;
      if (in.type == SampleType::U8 && in.use_lut && in.shift == 0 && in.mask == 0xffu) {
        // 8-bit samples: the table alone.
IIR2D_UNROLL
        for (int q = 0; q < 2; ++q) {
          const uint4 w = *reinterpret_cast<const uint4*>(r + 16 * q);
          const unsigned ws[4] = {w.x, w.y, w.z, w.w};
IIR2D_UNROLL
          for (int h = 0; h < 4; ++h)
IIR2D_UNROLL
            for (int b = 0; b < 4; ++b) v[16 * q + 4 * h + b] = in.lut[(ws[h] >> (8 * b)) & 0xffu];
        }
      } else if (in.type == SampleType::U8) {
IIR2D_UNROLL
        for (int q = 0; q < 2; ++q) {
          const uint4 w = *reinterpret_cast<const uint4*>(r + 16 * q);
          const unsigned ws[4] = {w.x, w.y, w.z, w.w};
IIR2D_UNROLL
          for (int h = 0; h < 4; ++h)
IIR2D_UNROLL
            for (int b = 0; b < 4; ++b) v[16 * q + 4 * h + b] = in.normalise((ws[h] >> (8 * b)) & 0xffu);
        }
      } else {
IIR2D_UNROLL
        for (int q = 0; q < 4; ++q) {
          const uint4 w = *reinterpret_cast<const uint4*>(r + 16 * q);
          const unsigned ws[4] = {w.x, w.y, w.z, w.w};
IIR2D_UNROLL
          for (int h = 0; h < 4; ++h) {
            v[8 * q + 2 * h] = in.normalise(ws[h] & 0xffffu);
            v[8 * q + 2 * h + 1] = in.normalise(ws[h] >> 16);
          }
        }
      }
    } else {
      // Edge chunk: each lane its own row, border-mapped, synchronously.
IIR2D_UNROLL
      for (int k = 0; k < kChunk; ++k) {
        Store x = constant;
        if (o.lane < o.rows) {
          const int c = cb + k;
          const int m = c >= 0 && c < n ? c : seg_source_index(c, n, border);
          if (m >= 0) x = in.load(o.r0 + o.lane, m);
        }
        v[k] = x;
      }
    }
    ++get;
    __syncwarp();
  }

  __device__ __forceinline__ void load_fwd(int cb, int lo, int s1, int hi, Store (&v)[kChunk]) {
    o.fill_fwd(tile, cb, lo, s1, hi, false);
    __syncwarp();
    tile_read_row(tile, o.lane, v);
    __syncwarp();
  }
  // Forward results are read synchronously at take time (F1A1's backward sweep only).
  __device__ __forceinline__ void prefetch_fwd(int, int, int, int, bool) {}
  __device__ __forceinline__ void take_fwd(int cb, int lo, int s1, int hi, Store (&v)[kChunk]) { load_fwd(cb, lo, s1, hi, v); }
};

// ---------------------------------------------------------------------------
// Column pass I/O: a thread per column, a block-wide ring of chunks
// ---------------------------------------------------------------------------

/**
 * A block of kColThreads consecutive columns stages 32-row chunks of the
 * intermediate plane in a ring of kStages (cp.async of 16-byte units: the
 * plane is the workspace's, 16-byte aligned); thread t then reads column t
 * of the chunk (conflict-free). Forward results (F1A1's backward sweep) go
 * through the same ring, each thread its own column. Every thread of the
 * block runs the same segment, so the ring's barriers see all of them;
 * threads right of the plane only skip their global accesses.
 */
template <typename Store, typename Out, int kStages>
struct ColIO {
  static constexpr int kAhead = kStages - 1;
  static constexpr int kE = 16 / static_cast<int>(sizeof(Store));
  static constexpr int kUnitsPerRow = kColThreads / kE;
  const Store* in;            ///< intermediate plane
  std::ptrdiff_t in_pitch;    ///< elements
  Store* aux;                 ///< forward results [s0, s1) (the output plane, or plane B for video)
  std::ptrdiff_t aux_pitch;
  Store* scratch;             ///< this segment's forward results from s1 on: row k at scratch + k*scratch_pitch
  std::ptrdiff_t scratch_pitch;
  Out out;
  Store* ring;                ///< kStages chunks of 32 x kColThreads
  int n;                      ///< column length
  int width;
  int col0;                   ///< the block's first column
  int tid;
  int col;
  bool active;                ///< col < width
  Border border;
  Store constant;
  int put = 0, get = 0;

  __device__ __forceinline__ Store* stage(int k) const { return ring + (k % kStages) * (kChunk * kColThreads); }

  __device__ __forceinline__ void prefetch_in(int cb, bool valid) {
    if (valid) {
      Store* st = stage(put);
IIR2D_UNROLL
      for (int q = 0; q < kChunk * kUnitsPerRow / kColThreads; ++q) {
        const int u = tid + kColThreads * q;
        const int i = u / kUnitsPerRow, part = u % kUnitsPerRow;
        const int c = col0 + part * kE;
        if (c >= width) continue;
        int r = cb + i;
        if (r < 0 || r >= n) r = seg_source_index(r, n, border);
        Store* d = st + i * kColThreads + part * kE;
        if (r >= 0) {
          cp_async16(d, in + static_cast<std::ptrdiff_t>(r) * in_pitch + c);
        } else {
IIR2D_UNROLL
          for (int e = 0; e < kE; ++e) d[e] = constant;
        }
      }
    }
    cp_async_commit();
    ++put;
  }

  __device__ __forceinline__ void take(Store (&v)[kChunk]) {
    cp_async_wait<kAhead - 1>();
    __syncthreads();
    const Store* st = stage(get);
IIR2D_UNROLL
    for (int k = 0; k < kChunk; ++k) v[k] = st[k * kColThreads + tid];
    ++get;
  }
  __device__ __forceinline__ void take_in(int, Store (&v)[kChunk]) { take(v); }

  __device__ __forceinline__ const Store* fwd_ptr(int p, int s1) const {
    return p < s1 ? aux + static_cast<std::ptrdiff_t>(p) * aux_pitch + col
                  : scratch + static_cast<std::ptrdiff_t>(p - s1) * scratch_pitch + col;
  }
  __device__ __forceinline__ void prefetch_fwd(int cb, int lo, int s1, int hi, bool valid) {
    if (valid && active) {
      Store* st = stage(put);
IIR2D_UNROLL
      for (int k = 0; k < kChunk; ++k) {
        const int p = cb + k;
        if (p >= lo && p < hi) cp_async_elem(st + k * kColThreads + tid, fwd_ptr(p, s1));
      }
    }
    cp_async_commit();
    ++put;
  }
  __device__ __forceinline__ void take_fwd(int, int, int, int, Store (&v)[kChunk]) { take(v); }

  __device__ __forceinline__ void load_fwd(int cb, int lo, int s1, int hi, Store (&v)[kChunk]) const {
IIR2D_UNROLL
    for (int k = 0; k < kChunk; ++k) {
      const int p = cb + k;
      v[k] = active && p >= lo && p < hi ? *fwd_ptr(p, s1) : static_cast<Store>(0);
    }
  }

  __device__ __forceinline__ void drain() {
    cp_async_wait<0>();
    __syncthreads();
    get = put;
  }

  __device__ __forceinline__ Store input_at(int i) const {
    if (!active) return constant;
    const int m = seg_source_index(i, n, border);
    return m < 0 ? constant : in[static_cast<std::ptrdiff_t>(m) * in_pitch + col];
  }

  __device__ __forceinline__ void store_fwd(int cb, const Store (&v)[kChunk], int lo, int s1, int hi) {
    if (!active) return;
IIR2D_UNROLL
    for (int k = 0; k < kChunk; ++k) {
      const int p = cb + k;
      if (p >= lo && p < hi) *const_cast<Store*>(fwd_ptr(p, s1)) = v[k];
    }
  }
  __device__ __forceinline__ void store_out(int cb, const Store (&v)[kChunk], int lo, int hi) {
    if (active) out.store_chunk(cb, col, v, lo, hi);
  }
};

// ---------------------------------------------------------------------------
// Launch parameters and entry points
// ---------------------------------------------------------------------------

/// What both passes share: the program and how each segment runs.
template <typename Store, typename Acc>
struct SegmentLaunch {
  ProgramCoef<Acc> coef;
  Border border;
  Store constant;
  bool exact;
  int L;        ///< extension length (section 3a)
  int W;        ///< warm-up of an interior segment edge (>= L)
  int S;        ///< segment length (multiple of kChunk)
  int nseg;     ///< segments per sequence
  int scratch_len;  ///< scratch elements per sequence and segment (F1A1)
  int l2_span;      ///< row pass: L2 prefetch burst in bytes (0: off)
  int l2_ahead;     ///< row pass: its distance in bytes
};

template <typename Store, typename Acc, typename In>
struct FastRowParams {
  In in;
  Store* out;
  std::ptrdiff_t out_pitch;  ///< elements
  Store* scratch;
  int width;
  int height;
  int row_begin;  ///< rows [row_begin, row_end) run (a band of the plane, or all of it)
  int row_end;
  int items;  ///< warps with work: ceil((row_end - row_begin)/32) * nseg
  SegmentLaunch<Store, Acc> seg;
};

/// Fills a normalisation table v/max in shared memory (whole block).
template <typename Store>
__device__ __forceinline__ void fill_lut(Store* lut, Store max_code) {
  for (int i = static_cast<int>(threadIdx.x); i < kLutSize; i += static_cast<int>(blockDim.x))
    lut[i] = normalise_code<Store>(static_cast<unsigned>(i), max_code);
}

/**
 * Fills the block's normalisation table for `src` and points `src` at it
 * (whole block; a barrier follows). One table per kernel that calls this.
 */
template <typename Store>
__device__ __forceinline__ void bind_code_lut(CodeSamples<Store>& src) {
  __shared__ Store lut[kLutSize];
  fill_lut(lut, src.max_code);
  __syncthreads();
  src.lut = lut;
  src.use_lut = src.mask < static_cast<unsigned>(kLutSize);
}

/// Dynamic shared memory of the row pass per block.
template <typename Store, typename In>
constexpr std::size_t row_smem_bytes() {
  constexpr int kStages = kRowStages;
  if constexpr (In::kCodes)
    return static_cast<std::size_t>(kRowWarps) *
           (kStages * kChunk * kRawPitch + kChunk * kChunk * sizeof(Store));
  else
    return static_cast<std::size_t>(kRowWarps) * kStages * kChunk * kChunk * sizeof(Store);
}

/// Dynamic shared memory of the column pass per block.
template <typename Store>
constexpr std::size_t col_smem_bytes() {
  return static_cast<std::size_t>(kStagesFor<Store>) * kChunk * kColThreads * sizeof(Store);
}

template <FastShape SH, typename Store, typename Acc, typename In>
__global__ void __launch_bounds__(kRowThreads) fast_row_kernel(const FastRowParams<Store, Acc, In> p) {
  extern __shared__ __align__(16) unsigned char fast_smem[];
  constexpr int kStages = kRowStages;
  In in = p.in;
  if constexpr (In::kCodes) {
    __shared__ Store lut[kLutSize];
    fill_lut(lut, in.max_code);
    __syncthreads();
    in.lut = lut;
    in.use_lut = in.mask < static_cast<unsigned>(kLutSize);
  }
  const int warp = static_cast<int>(threadIdx.x) / 32;
  const long long item = static_cast<long long>(blockIdx.x) * kRowWarps + warp;
  if (item >= p.items) return;  // whole warps leave together; no block barrier follows
  const int rg = static_cast<int>(item / p.seg.nseg);
  const int sg = static_cast<int>(item % p.seg.nseg);
  const int s0 = sg * p.seg.S;
  const int s1 = imin(p.width, s0 + p.seg.S);
  const SegGeom g = segment_geometry(SH, p.width, s0, s1, p.seg.exact, p.seg.L, p.seg.W);

  RowOut<Store> o;
  o.out = p.out;
  o.out_pitch = p.out_pitch;
  o.scratch = p.scratch + static_cast<std::ptrdiff_t>(sg) * p.height * p.seg.scratch_len;
  o.scratch_len = p.seg.scratch_len;
  o.r0 = p.row_begin + rg * kChunk;
  o.rows = imin(kChunk, p.row_end - o.r0);
  o.lane = static_cast<int>(threadIdx.x) % 32;
  if constexpr (In::kCodes) {
    constexpr int kWarpBytes = kStages * kChunk * kRawPitch + kChunk * kChunk * static_cast<int>(sizeof(Store));
    unsigned char* mine = fast_smem + warp * kWarpBytes;
    RowIOCodes<Store, kStages> io;
    io.in = in;
    io.o = o;
    io.raw = mine;
    io.tile = reinterpret_cast<Store*>(mine + kStages * kChunk * kRawPitch);
    io.pf = L2RowPrefetch{p.seg.l2_span, p.seg.l2_ahead};
    io.n = p.width;
    io.border = p.seg.border;
    io.constant = p.seg.constant;
    run_segment<SH, Store, Acc>(p.seg.coef, g, p.seg.border, p.seg.constant, io);
  } else {
    RowIOPlane<Store, kStages> io;
    io.in = in;
    io.o = o;
    io.ring = reinterpret_cast<Store*>(fast_smem) + warp * kStages * kChunk * kChunk;
    io.pf = L2RowPrefetch{p.seg.l2_span, p.seg.l2_ahead};
    io.n = p.width;
    io.border = p.seg.border;
    io.constant = p.seg.constant;
    run_segment<SH, Store, Acc>(p.seg.coef, g, p.seg.border, p.seg.constant, io);
  }
}

template <typename Store, typename Acc, typename Out>
struct FastColParams {
  const Store* in;
  std::ptrdiff_t in_pitch;  ///< elements
  Store* aux;
  std::ptrdiff_t aux_pitch;
  Store* scratch;
  Out out;
  int width;
  int height;
  SegmentLaunch<Store, Acc> seg;
};

template <FastShape SH, typename Store, typename Acc, typename Out>
__global__ void __launch_bounds__(kColThreads) fast_col_kernel(const FastColParams<Store, Acc, Out> p) {
  extern __shared__ __align__(16) unsigned char fast_smem[];
  constexpr int kStages = kStagesFor<Store>;
  Out out = p.out;
  if constexpr (Out::kCodes) {
    if (out.blend) bind_code_lut(out.src);  // block-uniform; strength 1 reads no original sample
  }
  // Every thread stays to the end: the ring's barriers count the whole block.
  const int col0 = static_cast<int>(blockIdx.x) * kColThreads;
  const int sg = static_cast<int>(blockIdx.y);
  const int s0 = sg * p.seg.S;
  const int s1 = imin(p.height, s0 + p.seg.S);
  const SegGeom g = segment_geometry(SH, p.height, s0, s1, p.seg.exact, p.seg.L, p.seg.W);

  ColIO<Store, Out, kStages> io;
  io.in = p.in;
  io.in_pitch = p.in_pitch;
  io.aux = p.aux;
  io.aux_pitch = p.aux_pitch;
  io.scratch = p.scratch + static_cast<std::ptrdiff_t>(sg) * p.seg.scratch_len * p.width;
  io.scratch_pitch = p.width;
  io.out = out;
  io.ring = reinterpret_cast<Store*>(fast_smem);
  io.n = p.height;
  io.width = p.width;
  io.col0 = col0;
  io.tid = static_cast<int>(threadIdx.x);
  io.col = col0 + io.tid;
  io.active = io.col < p.width;
  io.border = p.seg.border;
  io.constant = p.seg.constant;
  run_segment<SH, Store, Acc>(p.seg.coef, g, p.seg.border, p.seg.constant, io);
}

}  // namespace iir2d::cuda::detail
