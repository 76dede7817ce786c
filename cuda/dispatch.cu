// SPDX-License-Identifier: MIT
/**
 * @file dispatch.cu
 * @brief Dispatch layer: argument validation, workspace layout and carving,
 *        grid choice, kernel launches on the caller's stream and error
 *        handling. Implements the public API of iir2d/cuda_filter.h.
 *
 * Nothing here allocates, synchronises the device or selects a device. The
 * only synchronisation is the opt-in debug switch (cudaStreamSynchronize on
 * the caller's stream after each launch).
 *
 * Two routes: the fast passes (detail/fast_launch.cuh: segmented row and
 * column passes, integer conversion, blend and quantisation fused) for every
 * program that make_program() builds, and the correctness-first kernels of
 * detail/kernels.cuh (one thread per sequence) for what the fast passes do
 * not cover (detail::fast_supported: the iir2d initialisation of two-stage
 * programs with wrap borders) and as the benchmark's baseline.
 */
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <type_traits>

#include "detail/component_check.h"
#include "detail/fast_launch.cuh"
#include "detail/kernels.cuh"
#include "detail/result_util.h"
#include "detail/tile_grid.h"
#include "detail/tuning.h"
#include "detail/video_plane.h"
#include "iir2d/cuda_filter.h"
#include "iir2d/cuda_layout.h"

namespace iir2d::cuda {
namespace {

using detail::ExactShape;
using detail::FastShape;

#if defined(IIR2D_CUDA_DEBUG_SYNC)
constexpr bool kDebugSyncDefault = true;
#else
constexpr bool kDebugSyncDefault = false;
#endif
std::atomic<bool> g_debug_sync{kDebugSyncDefault};

constexpr int kPassBlock = 64;           ///< threads per block of a 1-D pass (one per sequence)

using detail::check_component;
using detail::check_extent;
using detail::check_launch;
using detail::fail;
using detail::invalid;
using detail::sample_bytes;
using detail::tile_block;
using detail::tile_grid;

// --- Argument checks ---------------------------------------------------------

/// What a valid FilterParams runs: its program and how.
struct Plan {
  Program program;
  ExactShape shape = ExactShape::Unsupported;
  int extension = 0;    ///< L of section 3a (exact only)
  int scratch_len = 0;  ///< scratch elements per sequence
  FastShape fast = FastShape::None;  ///< the fast passes' shape (None: generic kernels only)
  int fast_L = 0;       ///< L of section 3a at this precision (both initialisations)
  int fast_W = 0;       ///< warm-up of an interior segment edge: L rounded up to a chunk
  /// Warm-up where the output must match refcpu's float32 rounding (deep
  /// video at f32): the f64 extension length rounded up to a chunk, since
  /// the contract's L bounds rho^L but a double pole (Deriche) decays as
  /// (k+1) rho^k. Why and at what cost: docs/PERFORMANCE.md, "Tuning notes".
  int fast_W_codes = 0;
};

Result plan_filter(const FilterParams& params, Plan& plan) {
  if (!is_valid_filter_id(params.filter_id)) return invalid("filter id outside 1..8");
  if (!(params.sigma > 0.0)) return invalid("sigma must be > 0");
  switch (params.border) {
    case Border::Clamp: case Border::Mirror: case Border::Wrap: case Border::Constant: break;
    default: return invalid("unknown border mode");
  }
  switch (params.border_init) {
    case BorderInit::Exact: case BorderInit::Iir2d: break;
    default: return invalid("unknown border initialisation");
  }
  switch (params.precision) {
    case Precision::F32: case Precision::Mixed: case Precision::F64: break;
    default: return invalid("unknown precision");
  }
  plan.program = make_program(params);
  if (params.border_init == BorderInit::Exact) {
    plan.shape = detail::exact_shape(plan.program);
    if (plan.shape == ExactShape::Unsupported) return invalid("program shape not supported by the exact initialisation");
    plan.extension = extension_length(plan.program, params.precision);
  } else if (!detail::iir2d_supported(plan.program)) {
    return invalid("program shape not supported by the iir2d initialisation");
  }
  plan.scratch_len = detail::scratch_per_sequence(plan.program, params.border_init, plan.extension);
  plan.fast = detail::fast_shape(plan.program);
  plan.fast_L = extension_length(plan.program, params.precision);
  auto chunks = [](int v) { return v < detail::kChunk ? detail::kChunk : (v + detail::kChunk - 1) / detail::kChunk * detail::kChunk; };
  plan.fast_W = chunks(plan.fast_L);
  plan.fast_W_codes = std::max(plan.fast_W, chunks(extension_length(plan.program, Precision::F64)));
  return Result{};
}

/**
 * Whether the fast passes take the scan row pass (detail/scan_row.cuh) for
 * this program, else the tiled row pass: every first-order shape; biquads
 * except float32 planes at f32; the two-biquad cascade and the Deriche pair
 * only for video at f64. The measurements behind this table:
 * docs/PERFORMANCE.md, "Tuning notes". fast_launch.cuh builds the scan row
 * pass for exactly these combinations (kScanBuilt).
 */
bool scan_rows(const Plan& plan, const FilterParams& params, bool video, const detail::Tuning& t) {
  if (!t.row_scan) return false;
  if (t.scan_shapes >= 0) return ((static_cast<unsigned>(t.scan_shapes) >> static_cast<unsigned>(plan.fast)) & 1u) != 0;
  switch (plan.fast) {
    case FastShape::F1:
    case FastShape::F1F1:
    case FastShape::F1A1:
      return true;
    case FastShape::F2:
      return video || params.precision != Precision::F32;
    case FastShape::F2F2:
    case FastShape::Deriche:
      return video && params.precision == Precision::F64;
    case FastShape::None:
      break;
  }
  return false;
}

/**
 * Whether the fast passes take the scan column pass (detail/scan_col.cuh)
 * for this program, else the tiled column pass: the first-order shapes of
 * ids 1, 7 and 5 everywhere; the first-order cascade (id 2) on float64
 * planes and video at f64; the biquad (ids 3, 8) for video at f64; the
 * Deriche pair (id 6) where the planes are float32 (f32 and mixed) and
 * sigma is at most Tuning::col_scan_deriche_max_sigma; never
 * the two-biquad cascade (id 4), whose 2×2 folds cost more than the tiled
 * pass's warm-ups. Measured on the H200 at 4K: docs/PERFORMANCE.md, "Round 4".
 */
bool scan_cols(const Plan& plan, const FilterParams& params, bool video, const detail::Tuning& t) {
  if (!t.col_scan) return false;
  if (t.col_scan_shapes >= 0) return ((static_cast<unsigned>(t.col_scan_shapes) >> static_cast<unsigned>(plan.fast)) & 1u) != 0;
  const bool f64 = params.precision == Precision::F64;
  switch (plan.fast) {
    case FastShape::F1:
    case FastShape::F1A1:
      return true;
    case FastShape::F1F1:
      return f64;
    case FastShape::F2:
      return video && f64;
    case FastShape::Deriche:
      /* The scan folds the carries of 64-row chunks in float32; the fold's
       * rounding grows with the poles' radius. On 8-bit video it moved
       * 0.001-0.014 % of codes by 1 up to sigma 16 and 0.26-0.48 % at sigma
       * 48 (the contract allows 0.1 %), where the tiled pass matched refcpu
       * exactly (H200, docs/PERFORMANCE.md "Round 5"). */
      return !f64 && params.sigma <= t.col_scan_deriche_max_sigma;
    case FastShape::F2F2:
    case FastShape::None:
      break;
  }
  return false;
}

/**
 * Whether the scan row pass keeps the codes of samples quantised to `depth`
 * bits afterwards (0: a plain plane, no codes): its float32 sums are
 * reordered, which moves round(o * max) across a half for deep samples.
 */
bool scan_keeps_codes(const FilterParams& params, int depth, const detail::Tuning& t) {
  return depth == 0 || params.precision != Precision::F32 || depth <= t.scan_f32_max_depth;
}

/// The plan with the segment warm-up for this call: Plan::fast_W_codes
/// where the codes need refcpu's float32 rounding (see scan_keeps_codes).
Plan warmup_for(const Plan& plan, const FilterParams& params, int depth, const detail::Tuning& t) {
  Plan p = plan;
  if (!scan_keeps_codes(params, depth, t)) p.fast_W = plan.fast_W_codes;
  return p;
}

/// Whether this call takes the fast passes.
bool use_fast(const Plan& plan, const FilterParams& params) {
  return detail::fast_supported(plan.fast, params.border_init, params.border) && !detail::tuning().generic_only;
}

bool aligned_to(const void* p, std::size_t a) {
  return reinterpret_cast<std::uintptr_t>(p) % a == 0;
}

template <typename T>
Result check_plane(const T* data, std::size_t pitch, int width, const char* null_msg, const char* pitch_msg,
                   const char* align_msg) {
  if (data == nullptr) return invalid(null_msg);
  if (pitch < static_cast<std::size_t>(width) * sizeof(T) || pitch % sizeof(T) != 0) return invalid(pitch_msg);
  if (!aligned_to(data, sizeof(T))) return invalid(align_msg);
  return Result{};
}

// --- Workspace -----------------------------------------------------------------

/// Workspace parts: [alignment slack][plane A][plane B][scratch].
struct Layout {
  std::size_t pitch = 0;        ///< bytes between rows of planes A and B
  std::size_t plane_bytes = 0;  ///< bytes of one plane
  std::size_t scratch_bytes = 0;
  std::size_t total = 0;
};

/**
 * Scratch elements of the fast passes: F1A1 parks the forward results of the
 * W samples beyond each segment, per sequence and segment. Segments of F1A1
 * are at least W long, so there are at most ceil(n / W) of them.
 */
std::size_t fast_scratch_elems(int width, int height, const Plan& plan) {
  if (plan.fast != FastShape::F1A1) return 0;
  const auto w = static_cast<std::size_t>(width), h = static_cast<std::size_t>(height);
  std::size_t most = 0;  // for either warm-up (warmup_for() picks one per call)
  for (int warm : {plan.fast_W, plan.fast_W_codes}) {
    const auto W = static_cast<std::size_t>(warm);
    most = std::max({most, (w + W - 1) / W * h * W, (h + W - 1) / W * w * W});
  }
  return most;
}

Layout layout_for(int width, int height, std::size_t store_bytes, const Plan& plan) {
  Layout l;
  const auto w = static_cast<std::size_t>(width), h = static_cast<std::size_t>(height);
  l.pitch = align_up(w * store_bytes, kAlign);
  l.plane_bytes = l.pitch * h;
  const std::size_t generic = static_cast<std::size_t>(plan.scratch_len) * (w > h ? w : h);
  const std::size_t fast = fast_scratch_elems(width, height, plan);
  l.scratch_bytes = align_up((generic > fast ? generic : fast) * store_bytes, kAlign);
  l.total = kAlign + 2 * l.plane_bytes + l.scratch_bytes;
  return l;
}

std::size_t store_bytes_of(Precision p) { return p == Precision::F64 ? sizeof(double) : sizeof(float); }

/// Carved workspace, typed for one run.
template <typename Store>
struct Carved {
  Store* plane_a;
  Store* plane_b;
  Store* scratch;
  std::ptrdiff_t pitch_elems;
};

template <typename Store>
Carved<Store> carve(void* workspace, const Layout& l) {
  const std::uintptr_t base = align_up(reinterpret_cast<std::uintptr_t>(workspace), kAlign);
  auto* bytes = reinterpret_cast<unsigned char*>(base);
  Carved<Store> c;
  c.plane_a = reinterpret_cast<Store*>(bytes);
  c.plane_b = reinterpret_cast<Store*>(bytes + l.plane_bytes);
  c.scratch = reinterpret_cast<Store*>(bytes + 2 * l.plane_bytes);
  c.pitch_elems = static_cast<std::ptrdiff_t>(l.pitch / sizeof(Store));
  return c;
}

Result check_workspace(const void* workspace, std::size_t workspace_bytes, std::size_t needed) {
  if (workspace == nullptr) return invalid("null workspace");
  if (workspace_bytes < needed) return fail(Status::WorkspaceTooSmall, "workspace smaller than workspace_size()");
  return Result{};
}

// --- Tuning and the device's size ------------------------------------------------

std::mutex g_tuning_mutex;
detail::Tuning g_tuning;

constexpr int kMaxDevices = 64;
std::atomic<int> g_sm_count[kMaxDevices];

/// Multiprocessors of the current device (cached per device; 132 if unknown).
int sm_count() {
  int dev = 0;
  if (cudaGetDevice(&dev) != cudaSuccess) {
    (void)cudaGetLastError();
    return 132;
  }
  if (dev < 0 || dev >= kMaxDevices) return 132;
  int n = g_sm_count[dev].load(std::memory_order_relaxed);
  if (n > 0) return n;
  if (cudaDeviceGetAttribute(&n, cudaDevAttrMultiProcessorCount, dev) != cudaSuccess || n <= 0) {
    (void)cudaGetLastError();
    return 132;
  }
  g_sm_count[dev].store(n, std::memory_order_relaxed);
  return n;
}

template <typename Store, typename Acc>
detail::SegmentLaunch<Store, Acc> segment_launch(const Plan& plan, const FilterParams& params) {
  detail::SegmentLaunch<Store, Acc> s;
  s.coef = detail::make_program_coef<Acc>(plan.program);
  s.border = params.border;
  s.constant = static_cast<Store>(params.border_constant);
  s.exact = params.border_init == BorderInit::Exact;
  s.L = plan.fast_L;
  s.W = plan.fast_W;
  s.S = 0;
  s.nseg = 0;
  s.scratch_len = plan.fast == FastShape::F1A1 ? plan.fast_W : 0;
  const detail::Tuning t = detail::tuning();
  s.l2_span = t.l2_span > 0 ? (t.l2_span + 127) / 128 * 128 : 0;
  s.l2_ahead = t.l2_ahead;
  return s;
}

/// How the launchers split rows and columns into segments (detail::pick_segments).
void plan_segments(detail::SegmentPolicy& rows, detail::SegmentPolicy& cols, const Plan& plan) {
  const detail::Tuning t = detail::tuning();
  const bool f1a1 = plan.fast == FastShape::F1A1;
  rows.sm_count = cols.sm_count = sm_count();
  rows.warps_per_sm = f1a1 ? t.f1a1_warps_per_sm : t.row_warps_per_sm;
  cols.warps_per_sm = f1a1 ? t.f1a1_warps_per_sm : t.col_warps_per_sm;
  rows.fixed = t.fixed_row_segment;
  cols.fixed = t.fixed_col_segment;
  rows.min_over_w = cols.min_over_w = t.min_segment_over_warmup;
  rows.W = cols.W = plan.fast_W;
  rows.at_least_w = cols.at_least_w = f1a1;  // its scratch holds W values per segment
}

// --- Launches ------------------------------------------------------------------

template <typename Store, typename Acc>
detail::ProgramLaunch<Store, Acc> program_launch(const Plan& plan, const FilterParams& params) {
  detail::ProgramLaunch<Store, Acc> p;
  p.program = detail::make_program_coef<Acc>(plan.program);
  p.init = params.border_init;
  p.shape = plan.shape;
  p.border = params.border;
  p.constant = static_cast<Store>(params.border_constant);
  p.extension = plan.extension;
  return p;
}

unsigned pass_blocks(int count) { return static_cast<unsigned>((count + kPassBlock - 1) / kPassBlock); }

template <typename Store, typename Acc>
Result launch_plane_pass(const detail::PlanePassParams<Store, Acc>& p, cudaStream_t stream, const char* where) {
  detail::plane_pass_kernel<Store, Acc><<<pass_blocks(p.count), kPassBlock, 0, stream>>>(p);
  return check_launch(stream, where);
}

/// What plane and video jobs share: the intermediate, the segments and, from the
/// tuning knobs, the choice of passes (`depth`: the bits a video component is
/// quantised to, 0 for float planes).
template <typename Store, typename Acc>
void fill_passes(detail::FastPasses<Store, Acc>& j, const Plan& plan, const FilterParams& params, int depth, bool video,
                 const Carved<Store>& ws, int width, int height) {
  j.shape = plan.fast;
  j.mid = ws.plane_a;
  j.mid_pitch = ws.pitch_elems;
  j.scratch = ws.scratch;
  j.width = width;
  j.height = height;
  const detail::Tuning t = detail::tuning();
  const Plan warm = warmup_for(plan, params, depth, t);
  j.rows = segment_launch<Store, Acc>(warm, params);
  j.cols = j.rows;
  plan_segments(j.row_policy, j.col_policy, warm);
  j.row_scan = scan_rows(plan, params, video, t) && scan_keeps_codes(params, depth, t);
  j.col_scan = scan_cols(plan, params, video, t) && scan_keeps_codes(params, depth, t);
  j.col_scan_blocks_per_sm = t.col_scan_blocks_per_sm;
  j.col_scan_min_segments = t.col_scan_min_segments;
  j.row_scan_warps_per_sm = !video                          ? t.row_scan_warps_per_sm
                             : std::is_same_v<Acc, float> ? t.row_scan_warps_per_sm_video
                                                          : t.row_scan_warps_per_sm_video_f64;
  j.row_scan_segments = t.row_scan_segments;
  j.band_bytes = t.band_bytes;
  j.band_segments = t.band_segments;
}

// --- Plane filter ----------------------------------------------------------------

template <typename Store, typename Acc>
Result filter_plane_impl(const Store* in, std::size_t in_pitch, Store* out, std::size_t out_pitch, int width, int height,
                         const FilterParams& params, const Plan& plan, int depth, void* workspace,
                         std::size_t workspace_bytes, cudaStream_t stream) {
  Result r = check_extent(width, height);
  if (!r) return r;
  if (width == 0 || height == 0) return Result{};
  r = check_plane(in, in_pitch, width, "null input plane", "bad input pitch", "misaligned input plane");
  if (!r) return r;
  r = check_plane<Store>(out, out_pitch, width, "null output plane", "bad output pitch", "misaligned output plane");
  if (!r) return r;
  const Layout layout = layout_for(width, height, sizeof(Store), plan);
  r = check_workspace(workspace, workspace_bytes, layout.total);
  if (!r) return r;
  const Carved<Store> ws = carve<Store>(workspace, layout);

  if (use_fast(plan, params)) {
    detail::FastPlaneJob<Store, Acc> job;
    fill_passes(job, plan, params, depth, false, ws, width, height);
    job.in = in;
    job.in_pitch = static_cast<std::ptrdiff_t>(in_pitch / sizeof(Store));
    job.in_vec = aligned_to(in, 16) && in_pitch % 16 == 0;
    job.out = out;
    job.out_pitch = static_cast<std::ptrdiff_t>(out_pitch / sizeof(Store));
    return detail::run_fast_plane<Store, Acc>(job, stream);
  }

  const auto launch = program_launch<Store, Acc>(plan, params);

  // Horizontal pass: rows of `in` into plane A.
  detail::PlanePassParams<Store, Acc> h;
  h.src = in;
  h.src_seq_stride = static_cast<std::ptrdiff_t>(in_pitch / sizeof(Store));
  h.src_elem_stride = 1;
  h.dst = ws.plane_a;
  h.dst_seq_stride = ws.pitch_elems;
  h.dst_elem_stride = 1;
  h.scratch = ws.scratch;
  h.n = width;
  h.count = height;
  h.prog = launch;
  r = launch_plane_pass(h, stream, "horizontal pass launch");
  if (!r) return r;

  // Vertical pass: columns of plane A into `out`.
  detail::PlanePassParams<Store, Acc> v;
  v.src = ws.plane_a;
  v.src_seq_stride = 1;
  v.src_elem_stride = ws.pitch_elems;
  v.dst = out;
  v.dst_seq_stride = 1;
  v.dst_elem_stride = static_cast<std::ptrdiff_t>(out_pitch / sizeof(Store));
  v.scratch = ws.scratch;
  v.n = height;
  v.count = width;
  v.prog = launch;
  return launch_plane_pass(v, stream, "vertical pass launch");
}

// --- Video component filter ------------------------------------------------------

template <typename Store, typename Acc>
Result filter_video_impl(const ConstVideoComponent& in, const VideoComponent& out, const FilterParams& params,
                         const Plan& plan, double strength, void* workspace, std::size_t workspace_bytes,
                         cudaStream_t stream) {
  const int width = in.width, height = in.height;
  const Layout layout = layout_for(width, height, sizeof(Store), plan);
  Result r = check_workspace(workspace, workspace_bytes, layout.total);
  if (!r) return r;
  const Carved<Store> ws = carve<Store>(workspace, layout);
  const auto launch = program_launch<Store, Acc>(plan, params);

  detail::SampleFormat format;
  format.type = in.type;
  format.shift = in.shift;
  format.mask = (1u << in.depth) - 1u;
  const double max_d = code_max(in.depth);
  const auto max_s = static_cast<Store>(max_d);

  if (use_fast(plan, params)) {
    auto even = [](std::uintptr_t v) { return v % 2 == 0; };
    detail::FastVideoJob<Store, Acc> job;
    fill_passes(job, plan, params, in.depth, true, ws, width, height);
    job.type = in.type;
    job.src = static_cast<const unsigned char*>(in.data);
    job.src_row_stride = in.row_stride;
    job.src_pixel_stride = in.pixel_stride;
    job.src_aligned = even(reinterpret_cast<std::uintptr_t>(in.data)) && even(static_cast<std::uintptr_t>(in.row_stride)) &&
                      even(static_cast<std::uintptr_t>(in.pixel_stride));
    {
      const std::size_t bytes = static_cast<std::size_t>(sample_bytes(in.type));
      job.src_vec = in.pixel_stride == static_cast<std::ptrdiff_t>(bytes) && aligned_to(in.data, 16) &&
                    static_cast<std::size_t>(in.row_stride) % 16 == 0;
    }
    job.dst = static_cast<unsigned char*>(out.data);
    job.dst_row_stride = out.row_stride;
    job.dst_pixel_stride = out.pixel_stride;
    job.dst_aligned = even(reinterpret_cast<std::uintptr_t>(out.data)) &&
                      even(static_cast<std::uintptr_t>(out.row_stride)) &&
                      even(static_cast<std::uintptr_t>(out.pixel_stride));
    job.shift = in.shift;
    job.mask = format.mask;
    job.max_code = max_s;
    job.max_code_d = max_d;
    job.strength = static_cast<Acc>(strength);
    job.one_minus_strength = static_cast<Acc>(1) - job.strength;
    job.aux = ws.plane_b;
    return detail::run_fast_video<Store, Acc>(job, stream);
  }

  // Horizontal pass: normalised samples of `in` into plane A.
  detail::VideoRowPassParams<Store, Acc> h;
  h.src = static_cast<const unsigned char*>(in.data);
  h.src_row_stride = in.row_stride;
  h.src_pixel_stride = in.pixel_stride;
  h.format = format;
  h.max_code = max_s;
  h.dst = ws.plane_a;
  h.dst_row_stride = ws.pitch_elems;
  h.scratch = ws.scratch;
  h.width = width;
  h.height = height;
  h.prog = launch;
  detail::video_row_pass_kernel<Store, Acc><<<pass_blocks(height), kPassBlock, 0, stream>>>(h);
  r = check_launch(stream, "video horizontal pass launch");
  if (!r) return r;

  // Vertical pass: columns of plane A into plane B.
  detail::PlanePassParams<Store, Acc> v;
  v.src = ws.plane_a;
  v.src_seq_stride = 1;
  v.src_elem_stride = ws.pitch_elems;
  v.dst = ws.plane_b;
  v.dst_seq_stride = 1;
  v.dst_elem_stride = ws.pitch_elems;
  v.scratch = ws.scratch;
  v.n = height;
  v.count = width;
  v.prog = launch;
  r = launch_plane_pass(v, stream, "video vertical pass launch");
  if (!r) return r;

  // Blend with the input and quantise into `out`.
  detail::VideoBlendParams<Store, Acc> b;
  b.filtered = ws.plane_b;
  b.filtered_row_stride = ws.pitch_elems;
  b.src = static_cast<const unsigned char*>(in.data);
  b.src_row_stride = in.row_stride;
  b.src_pixel_stride = in.pixel_stride;
  b.dst = static_cast<unsigned char*>(out.data);
  b.dst_row_stride = out.row_stride;
  b.dst_pixel_stride = out.pixel_stride;
  b.format = format;
  b.max_code = max_s;
  b.max_code_d = max_d;
  b.strength = static_cast<Acc>(strength);
  b.one_minus_strength = static_cast<Acc>(1) - b.strength;
  b.width = width;
  b.height = height;
  detail::video_blend_kernel<Store, Acc><<<tile_grid(width, height), tile_block(), 0, stream>>>(b);
  return check_launch(stream, "video blend launch");
}

}  // namespace

// --- Public API ------------------------------------------------------------------

void set_debug_sync(bool enabled) { g_debug_sync.store(enabled, std::memory_order_relaxed); }

namespace detail {

Tuning tuning() {
  std::lock_guard<std::mutex> lock(g_tuning_mutex);
  return g_tuning;
}

void set_tuning(const Tuning& t) {
  std::lock_guard<std::mutex> lock(g_tuning_mutex);
  g_tuning = t;
}

}  // namespace detail

std::size_t workspace_size(int width, int height, const FilterParams& params) {
  if (width <= 0 || height <= 0) return 0;
  Plan plan;
  if (!plan_filter(params, plan)) plan = Plan{};
  return layout_for(width, height, store_bytes_of(params.precision), plan).total;
}

std::size_t max_workspace_size(int width, int height) {
  std::size_t most = 0;
  const Precision precisions[] = {Precision::F32, Precision::Mixed, Precision::F64};
  const BorderInit inits[] = {BorderInit::Exact, BorderInit::Iir2d};
  for (int id = kMinFilterId; id <= kMaxFilterId; ++id)
    for (Precision p : precisions)
      for (BorderInit init : inits) {
        FilterParams fp;
        fp.filter_id = id;
        fp.precision = p;
        fp.border_init = init;
        const std::size_t s = workspace_size(width, height, fp);
        if (s > most) most = s;
      }
  return most;
}

namespace {

Result filter_f32(const float* in, std::size_t in_pitch, float* out, std::size_t out_pitch, int width, int height,
                  const FilterParams& params, int depth, void* workspace, std::size_t workspace_bytes,
                  cudaStream_t stream) {
  Plan plan;
  Result r = plan_filter(params, plan);
  if (!r) return r;
  if (params.precision == Precision::F32)
    return filter_plane_impl<float, float>(in, in_pitch, out, out_pitch, width, height, params, plan, depth, workspace,
                                           workspace_bytes, stream);
  if (params.precision == Precision::Mixed)
    return filter_plane_impl<float, double>(in, in_pitch, out, out_pitch, width, height, params, plan, depth,
                                            workspace, workspace_bytes, stream);
  return invalid("float32 planes need precision f32 or mixed");
}

Result filter_f64(const double* in, std::size_t in_pitch, double* out, std::size_t out_pitch, int width, int height,
                  const FilterParams& params, int depth, void* workspace, std::size_t workspace_bytes,
                  cudaStream_t stream) {
  Plan plan;
  Result r = plan_filter(params, plan);
  if (!r) return r;
  if (params.precision != Precision::F64) return invalid("float64 planes need precision f64");
  return filter_plane_impl<double, double>(in, in_pitch, out, out_pitch, width, height, params, plan, depth, workspace,
                                           workspace_bytes, stream);
}

}  // namespace

Result filter_plane_f32(const float* in, std::size_t in_pitch, float* out, std::size_t out_pitch, int width,
                        int height, const FilterParams& params, void* workspace, std::size_t workspace_bytes,
                        cudaStream_t stream) {
  return filter_f32(in, in_pitch, out, out_pitch, width, height, params, 0, workspace, workspace_bytes, stream);
}

Result filter_plane_f64(const double* in, std::size_t in_pitch, double* out, std::size_t out_pitch, int width,
                        int height, const FilterParams& params, void* workspace, std::size_t workspace_bytes,
                        cudaStream_t stream) {
  return filter_f64(in, in_pitch, out, out_pitch, width, height, params, 0, workspace, workspace_bytes, stream);
}

namespace detail {

Result filter_video_plane_f32(const float* in, std::size_t in_pitch, float* out, std::size_t out_pitch, int width,
                              int height, const FilterParams& params, int depth, void* workspace,
                              std::size_t workspace_bytes, cudaStream_t stream) {
  if (depth < 1) return invalid("video plane depth must be >= 1");
  return filter_f32(in, in_pitch, out, out_pitch, width, height, params, depth, workspace, workspace_bytes, stream);
}

Result filter_video_plane_f64(const double* in, std::size_t in_pitch, double* out, std::size_t out_pitch, int width,
                              int height, const FilterParams& params, int depth, void* workspace,
                              std::size_t workspace_bytes, cudaStream_t stream) {
  if (depth < 1) return invalid("video plane depth must be >= 1");
  return filter_f64(in, in_pitch, out, out_pitch, width, height, params, depth, workspace, workspace_bytes, stream);
}

}  // namespace detail

Result filter_video_component(const ConstVideoComponent& in, const VideoComponent& out, const FilterParams& params,
                              double strength, void* workspace, std::size_t workspace_bytes, cudaStream_t stream) {
  Plan plan;
  Result r = plan_filter(params, plan);
  if (!r) return r;
  r = check_component(in);
  if (!r) return r;
  r = check_component(out);
  if (!r) return r;
  if (in.width != out.width || in.height != out.height || in.type != out.type || in.depth != out.depth ||
      in.shift != out.shift)
    return invalid("input and output components differ in size or sample format");
  if (!(strength >= 0.0 && strength <= 1.0)) return invalid("strength outside [0, 1]");
  if (in.width == 0 || in.height == 0) return Result{};
  switch (params.precision) {
    case Precision::F32:
      return filter_video_impl<float, float>(in, out, params, plan, strength, workspace, workspace_bytes, stream);
    case Precision::Mixed:
      return filter_video_impl<float, double>(in, out, params, plan, strength, workspace, workspace_bytes, stream);
    case Precision::F64:
      return filter_video_impl<double, double>(in, out, params, plan, strength, workspace, workspace_bytes, stream);
  }
  return invalid("unknown precision");
}

Result copy_video_component(const ConstVideoComponent& in, const VideoComponent& out, cudaStream_t stream) {
  Result r = check_component(in);
  if (!r) return r;
  r = check_component(out);
  if (!r) return r;
  if (in.width != out.width || in.height != out.height || in.type != out.type)
    return invalid("input and output components differ in size or sample type");
  if (in.width == 0 || in.height == 0) return Result{};
  const int bytes = sample_bytes(in.type);
  if (in.pixel_stride == bytes && out.pixel_stride == bytes) {
    const cudaError_t err = cudaMemcpy2DAsync(out.data, static_cast<std::size_t>(out.row_stride), in.data,
                                              static_cast<std::size_t>(in.row_stride),
                                              static_cast<std::size_t>(in.width) * static_cast<std::size_t>(bytes),
                                              static_cast<std::size_t>(in.height), cudaMemcpyDeviceToDevice, stream);
    if (err != cudaSuccess) {
      (void)cudaGetLastError();
      return fail(Status::CudaError, "copy_video_component cudaMemcpy2DAsync", err);
    }
    if (g_debug_sync.load(std::memory_order_relaxed)) {
      const cudaError_t s = cudaStreamSynchronize(stream);
      if (s != cudaSuccess) return fail(Status::CudaError, "copy_video_component cudaMemcpy2DAsync", s);
    }
    return Result{};
  }
  detail::CopySamplesParams p;
  p.src = static_cast<const unsigned char*>(in.data);
  p.src_row_stride = in.row_stride;
  p.src_pixel_stride = in.pixel_stride;
  p.dst = static_cast<unsigned char*>(out.data);
  p.dst_row_stride = out.row_stride;
  p.dst_pixel_stride = out.pixel_stride;
  p.sample_bytes = bytes;
  p.width = in.width;
  p.height = in.height;
  detail::copy_samples_kernel<<<tile_grid(in.width, in.height), tile_block(), 0, stream>>>(p);
  return check_launch(stream, "copy kernel launch");
}

namespace detail {

Result check_launch(cudaStream_t stream, const char* where) {
  cudaError_t err = cudaPeekAtLastError();
  if (err == cudaSuccess && g_debug_sync.load(std::memory_order_relaxed)) err = cudaStreamSynchronize(stream);
  if (err != cudaSuccess) {
    (void)cudaGetLastError();
    return fail(Status::CudaError, where, err);
  }
  return Result{};
}

}  // namespace detail

}  // namespace iir2d::cuda
