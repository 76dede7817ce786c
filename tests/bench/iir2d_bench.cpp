// SPDX-License-Identifier: MIT
// iir2d_bench: the speed of the CUDA kernels and of iir2dfilter (not a test).
//
// Kernel mode: for each filter id x precision x plane type (u8, u16 video
// components; f32, f64 planes) x size (1920x1080, 3840x2160, 7680x4320), the
// median time of one filter call over --runs runs (CUDA events around each
// call, all calls queued back to back after a warm-up), its throughput in
// Gpix/s, and its ratio to a device-to-device copy of the same input and
// output bytes (cudaMemcpy2DAsync, timed the same way in the same run, just
// before). Inputs and outputs rotate over enough buffer sets to exceed the L2
// cache several times, so neither the filter nor the copy reads a warm cache;
// the workspace is one buffer, as in the element. Inputs are random.
//
// Element mode: 1920x1080, 3840x2160 and 7680x4320 NV12 frames in CUDA
// memory, uploaded once, pushed through a GstHarness around iir2dfilter
// (luma filtered, chroma copied, the element's defaults otherwise) and,
// for the baseline, around identity: wall time of each push (the element
// synchronises its stream before the buffer leaves) gives per-frame latency
// p50/p95, added latency (filter minus baseline at the same percentile) and
// frames/s.
//
// Prints tables; --csv FILE writes every measurement with the GPU name,
// driver and CUDA versions. Method and results: docs/PERFORMANCE.md.
#include <cuda_runtime_api.h>

#include <algorithm>
#include <chrono>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "detail/tuning.h"
#include "iir2d/cuda_filter.h"
#include "iir2d/filters.h"

#if defined(IIR2D_BENCH_ELEMENT)
#include <gst/check/gstharness.h>
#include <gst/cuda/gstcudabufferpool.h>
#include <gst/cuda/gstcudacontext.h>
#include <gst/cuda/gstcudaloader.h>
#include <gst/cuda/gstcudamemory.h>
#include <gst/cuda/gstcudautils.h>
#include <gst/gst.h>
#include <gst/video/video.h>
#endif

namespace {

namespace cu = iir2d::cuda;
using iir2d::Border;
using iir2d::BorderInit;
using iir2d::FilterParams;
using iir2d::Precision;
using iir2d::SampleType;

// --- Options --------------------------------------------------------------------

struct Size {
  const char* name;
  int w, h;
};
const Size kAllSizes[] = {{"1080p", 1920, 1080}, {"4K", 3840, 2160}, {"8K", 7680, 4320}};

enum class PlaneType { U8, U16, F32, F64 };
const char* type_name(PlaneType t) {
  switch (t) {
    case PlaneType::U8: return "u8";
    case PlaneType::U16: return "u16";
    case PlaneType::F32: return "f32";
    case PlaneType::F64: return "f64";
  }
  return "?";
}
std::size_t type_bytes(PlaneType t) {
  switch (t) {
    case PlaneType::U8: return 1;
    case PlaneType::U16: return 2;
    case PlaneType::F32: return 4;
    case PlaneType::F64: return 8;
  }
  return 0;
}
const char* precision_name(Precision p) {
  return p == Precision::F32 ? "f32" : p == Precision::Mixed ? "mixed" : "f64";
}

struct Options {
  std::string csv;
  double strength = 1.0;  ///< video planes: the blend's strength (1: filtered samples only)
  int runs = 50;
  int warmup = 5;
  bool kernels = true;
  bool element = true;
  bool baseline = false;  // also time the correctness-first kernels (4K f32 and u8)
  bool compare = false;   // also time the tiled row pass and CUDA-graph replays (4K f32 and u8, f32)
  bool before = false;    // also time path 'before': the tiled column pass everywhere (issue 15's starting point)
  bool host_sync = false; // also time path 'sync': host wall time of one call and cudaStreamSynchronize
  std::vector<Size> sizes{std::begin(kAllSizes), std::end(kAllSizes)};
  std::vector<int> ids{1, 2, 3, 4, 5, 6, 7, 8};
  std::vector<PlaneType> types{PlaneType::U8, PlaneType::U16, PlaneType::F32, PlaneType::F64};
  Border border = Border::Mirror;
  BorderInit init = BorderInit::Exact;
  int element_frames = 200;
  iir2d::cuda::detail::Tuning tuning;
};

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, sep))
    if (!item.empty()) out.push_back(item);
  return out;
}

void usage() {
  std::printf(
      "usage: iir2d_bench [--csv FILE] [--runs N] [--mode all|kernel|element] [--baseline] [--compare]\n"
      "                   [--sizes 1080p,4K,8K] [--ids 1,...,8] [--types u8,u16,f32,f64]\n"
      "                   [--init exact|iir2d] [--border clamp|mirror|wrap|constant] [--frames N]\n"
      "                   [--row-warps N] [--col-warps N] [--f1a1-warps N] [--min-seg X] [--seg-rows N]\n"
      "                   [--seg-cols N] [--l2-span BYTES] [--l2-ahead BYTES] [--no-scan]\n"
      "                   [--scan-shapes MASK (bit k: FastShape k takes the scan row pass; -1: measured table)]\n"
      "                   [--no-col-scan] [--col-bps N] [--col-shapes MASK] [--before] [--band-mb MB]\n"
      "                   [--col-min-segs N] [--strength S]\n"
      "                   [--row-scan-warps N] [--host-sync]\n"
      "  --host-sync: every configuration also as path 'sync': host wall time from issuing one\n"
      "  call to the return of cudaStreamSynchronize, one call at a time (copy: the same), so\n"
      "  sync - fast is the launch and wake-up latency that any synchronous caller pays.\n"
      "  --before: every configuration also as path 'before' (the tiled column pass everywhere, as\n"
      "  before the scan column pass of issue 15); --no-col-scan: that for the default path too;\n"
      "  --col-bps: blocks per SM that the scan column pass's segments aim at.\n"
      "  --row-scan-warps: cut the scan row pass's rows into segments up to N warps per SM, planes\n"
      "  and video, every precision (0: off; default 48 for planes, 32 for video components at f32\n"
      "  and 0 for them with float64 sums).\n"
      "  --strength: blend strength of the u8/u16 video cases (default 1: no original sample is read).\n"
      "  --col-min-segs: at least N scan column segments per column (ids 5 and 6 excepted).\n"
      "  --band-mb: planes whose float intermediate is larger run in bands of about MB MiB of it\n"
      "  (row pass, then that band's column segments; 0: whole planes).\n"
      "  --compare: at 4K (f32 planes and u8, precision f32) also time path 'tiles' (the tiled\n"
      "  row pass of segments with warm-ups instead of the scan row pass) and 'graph' (the\n"
      "  default path captured once per buffer set in a CUDA graph and replayed).\n");
}

bool parse(int argc, char** argv, Options& o) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--csv") o.csv = next();
    else if (a == "--runs") o.runs = std::max(1, std::atoi(next().c_str()));
    else if (a == "--frames") o.element_frames = std::max(1, std::atoi(next().c_str()));
    else if (a == "--baseline") o.baseline = true;
    else if (a == "--compare") o.compare = true;
    else if (a == "--no-scan") o.tuning.row_scan = false;
    else if (a == "--no-col-scan") o.tuning.col_scan = false;
    else if (a == "--col-bps") o.tuning.col_scan_blocks_per_sm = std::atoi(next().c_str());
    else if (a == "--row-scan-warps")
      o.tuning.row_scan_warps_per_sm = o.tuning.row_scan_warps_per_sm_video = o.tuning.row_scan_warps_per_sm_video_f64 =
          std::atoi(next().c_str());
    else if (a == "--strength") o.strength = std::atof(next().c_str());
    else if (a == "--col-min-segs") o.tuning.col_scan_min_segments = std::atoi(next().c_str());
    else if (a == "--band-mb") o.tuning.band_bytes = static_cast<long long>(std::atof(next().c_str()) * 1048576.0);
    else if (a == "--col-shapes") o.tuning.col_scan_shapes = static_cast<int>(std::strtol(next().c_str(), nullptr, 0));
    else if (a == "--before") o.before = true;
    else if (a == "--host-sync") o.host_sync = true;
    else if (a == "--scan-shapes") o.tuning.scan_shapes = static_cast<int>(std::strtol(next().c_str(), nullptr, 0));
    else if (a == "--mode") {
      const std::string m = next();
      o.kernels = m == "all" || m == "kernel";
      o.element = m == "all" || m == "element";
    } else if (a == "--sizes") {
      o.sizes.clear();
      for (const auto& s : split(next(), ','))
        for (const Size& z : kAllSizes)
          if (s == z.name) o.sizes.push_back(z);
    } else if (a == "--ids") {
      o.ids.clear();
      for (const auto& s : split(next(), ',')) o.ids.push_back(std::atoi(s.c_str()));
    } else if (a == "--types") {
      o.types.clear();
      for (const auto& s : split(next(), ','))
        for (PlaneType t : {PlaneType::U8, PlaneType::U16, PlaneType::F32, PlaneType::F64})
          if (s == type_name(t)) o.types.push_back(t);
    } else if (a == "--init") {
      o.init = next() == "iir2d" ? BorderInit::Iir2d : BorderInit::Exact;
    } else if (a == "--border") {
      const std::string b = next();
      o.border = b == "clamp" ? Border::Clamp : b == "wrap" ? Border::Wrap : b == "constant" ? Border::Constant : Border::Mirror;
    } else if (a == "--row-warps") o.tuning.row_warps_per_sm = std::atoi(next().c_str());
    else if (a == "--col-warps") o.tuning.col_warps_per_sm = std::atoi(next().c_str());
    else if (a == "--min-seg") o.tuning.min_segment_over_warmup = std::atof(next().c_str());
    else if (a == "--seg-rows") o.tuning.fixed_row_segment = std::atoi(next().c_str());
    else if (a == "--seg-cols") o.tuning.fixed_col_segment = std::atoi(next().c_str());
    else if (a == "--f1a1-warps") o.tuning.f1a1_warps_per_sm = std::atoi(next().c_str());
    else if (a == "--l2-span") o.tuning.l2_span = std::atoi(next().c_str());
    else if (a == "--l2-ahead") o.tuning.l2_ahead = std::atoi(next().c_str());
    else {
      usage();
      return false;
    }
  }
  return true;
}

// --- Reporting ------------------------------------------------------------------

struct DeviceInfo {
  std::string name, driver;
  int runtime = 0, driver_api = 0, sms = 0, l2_mb = 0;
};

/// The kernel module's driver version (e.g. 580.159.04), if readable.
std::string nvidia_driver_version() {
  std::ifstream f("/proc/driver/nvidia/version");
  std::string line;
  if (!std::getline(f, line)) return "unknown";
  // "NVRM version: NVIDIA UNIX [Open ]Kernel Module for x86_64  580.159.04  Release Build ...":
  // the first word of the form digits.digits.
  std::stringstream ss(line);
  std::string w;
  while (ss >> w)
    if (!w.empty() && std::isdigit(static_cast<unsigned char>(w[0])) && w.find('.') != std::string::npos) return w;
  return "unknown";
}

std::string csv_escape(const std::string& s) { return "\"" + s + "\""; }

double percentile(std::vector<double> v, double q) {
  if (v.empty()) return 0.0;
  std::sort(v.begin(), v.end());
  const double pos = q * static_cast<double>(v.size() - 1);
  const auto lo = static_cast<std::size_t>(std::floor(pos));
  const auto hi = std::min(v.size() - 1, lo + 1);
  return v[lo] + (v[hi] - v[lo]) * (pos - static_cast<double>(lo));
}

#define CHECK_CUDA(expr)                                                                              \
  do {                                                                                                \
    const cudaError_t e_ = (expr);                                                                    \
    if (e_ != cudaSuccess) {                                                                          \
      std::fprintf(stderr, "%s:%d: %s: %s\n", __FILE__, __LINE__, #expr, cudaGetErrorString(e_));     \
      std::exit(1);                                                                                   \
    }                                                                                                 \
  } while (0)

// --- Kernel mode ------------------------------------------------------------------

struct Buffers {
  std::vector<void*> in, out;
  std::size_t pitch = 0;
  void* ws = nullptr;
  std::size_t ws_bytes = 0;
  ~Buffers() {
    for (void* p : in) cudaFree(p);
    for (void* p : out) cudaFree(p);
    if (ws) cudaFree(ws);
  }
};

/// Events around each of `runs` calls queued back to back; returns per-call milliseconds.
template <typename Fn>
std::vector<double> time_calls(cudaStream_t s, int warmup, int runs, Fn&& call) {
  for (int i = 0; i < warmup; ++i) call(i);
  std::vector<cudaEvent_t> ev(static_cast<std::size_t>(runs) + 1);
  for (auto& e : ev) CHECK_CUDA(cudaEventCreate(&e));
  CHECK_CUDA(cudaStreamSynchronize(s));
  CHECK_CUDA(cudaEventRecord(ev[0], s));
  for (int i = 0; i < runs; ++i) {
    call(warmup + i);
    CHECK_CUDA(cudaEventRecord(ev[static_cast<std::size_t>(i) + 1], s));
  }
  CHECK_CUDA(cudaEventSynchronize(ev.back()));
  std::vector<double> ms(static_cast<std::size_t>(runs));
  for (int i = 0; i < runs; ++i) {
    float t = 0.0f;
    CHECK_CUDA(cudaEventElapsedTime(&t, ev[static_cast<std::size_t>(i)], ev[static_cast<std::size_t>(i) + 1]));
    ms[static_cast<std::size_t>(i)] = t;
  }
  for (auto& e : ev) cudaEventDestroy(e);
  return ms;
}

/// Host wall time of each of `runs` calls, each followed by cudaStreamSynchronize
/// before the next is issued; returns per-call milliseconds.
template <typename Fn>
std::vector<double> time_synced_calls(cudaStream_t s, int warmup, int runs, Fn&& call) {
  using clock = std::chrono::steady_clock;
  for (int i = 0; i < warmup; ++i) call(i);
  CHECK_CUDA(cudaStreamSynchronize(s));
  std::vector<double> ms(static_cast<std::size_t>(runs));
  for (int i = 0; i < runs; ++i) {
    const auto t0 = clock::now();
    call(warmup + i);
    CHECK_CUDA(cudaStreamSynchronize(s));
    ms[static_cast<std::size_t>(i)] = std::chrono::duration<double, std::milli>(clock::now() - t0).count();
  }
  return ms;
}

struct Row {
  std::string size;
  int w, h;
  PlaneType type;
  Precision precision;
  int id;
  std::string path;  // fast, generic, tiles, graph, before or sync
  double ms, p10, p90, copy_ms;
};

void fill_random(Buffers& b, PlaneType t, int w, int h, std::mt19937_64& rng, cudaStream_t s) {
  const std::size_t bytes = b.pitch * static_cast<std::size_t>(h);
  std::vector<unsigned char> host(bytes);
  std::uniform_real_distribution<double> u01(0.0, 1.0);
  for (int y = 0; y < h; ++y) {
    unsigned char* row = host.data() + static_cast<std::size_t>(y) * b.pitch;
    for (int x = 0; x < w; ++x) {
      switch (t) {
        case PlaneType::U8: row[x] = static_cast<unsigned char>(rng()); break;
        case PlaneType::U16: {
          const auto v = static_cast<std::uint16_t>(rng());
          std::memcpy(row + 2 * x, &v, 2);
          break;
        }
        case PlaneType::F32: {
          const auto v = static_cast<float>(u01(rng));
          std::memcpy(row + 4 * x, &v, 4);
          break;
        }
        case PlaneType::F64: {
          const double v = u01(rng);
          std::memcpy(row + 8 * x, &v, 8);
          break;
        }
      }
    }
  }
  for (void* p : b.in) CHECK_CUDA(cudaMemcpyAsync(p, host.data(), bytes, cudaMemcpyHostToDevice, s));
  for (void* p : b.out) CHECK_CUDA(cudaMemsetAsync(p, 0, bytes, s));
  CHECK_CUDA(cudaStreamSynchronize(s));
}

cu::Result filter_once(const Buffers& b, int set, PlaneType t, int w, int h, const FilterParams& p, double strength,
                       cudaStream_t s) {
  void* in = b.in[static_cast<std::size_t>(set)];
  void* out = b.out[static_cast<std::size_t>(set)];
  switch (t) {
    case PlaneType::F32:
      return cu::filter_plane_f32(static_cast<const float*>(in), b.pitch, static_cast<float*>(out), b.pitch, w, h, p,
                                  b.ws, b.ws_bytes, s);
    case PlaneType::F64:
      return cu::filter_plane_f64(static_cast<const double*>(in), b.pitch, static_cast<double*>(out), b.pitch, w, h,
                                  p, b.ws, b.ws_bytes, s);
    default: {
      iir2d::ConstVideoComponent ci;
      ci.data = in;
      ci.width = w;
      ci.height = h;
      ci.row_stride = static_cast<std::ptrdiff_t>(b.pitch);
      ci.type = t == PlaneType::U8 ? SampleType::U8 : SampleType::U16;
      ci.pixel_stride = t == PlaneType::U8 ? 1 : 2;
      ci.depth = t == PlaneType::U8 ? 8 : 16;
      iir2d::VideoComponent co;
      co.data = out;
      co.width = w;
      co.height = h;
      co.row_stride = ci.row_stride;
      co.type = ci.type;
      co.pixel_stride = ci.pixel_stride;
      co.depth = ci.depth;
      return cu::filter_video_component(ci, co, p, strength, b.ws, b.ws_bytes, s);
    }
  }
}

std::vector<Precision> precisions_for(PlaneType t) {
  if (t == PlaneType::F32) return {Precision::F32, Precision::Mixed};
  if (t == PlaneType::F64) return {Precision::F64};
  return {Precision::F32, Precision::Mixed, Precision::F64};
}

std::vector<Row> run_kernels(const Options& o, const DeviceInfo& dev) {
  std::vector<Row> rows;
  cudaStream_t s = nullptr;
  CHECK_CUDA(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
  std::mt19937_64 rng(12345);
  for (const Size& z : o.sizes)
    for (PlaneType t : o.types) {
      Buffers b;
      // Rows packed (every size here is a multiple of 16 bytes wide), so that
      // a 1-D cudaMemcpyAsync copies exactly the plane's bytes.
      b.pitch = (static_cast<std::size_t>(z.w) * type_bytes(t) + 15) / 16 * 16;
      const std::size_t plane = b.pitch * static_cast<std::size_t>(z.h);
      // Rotate over enough sets that in+out exceed the L2 about four times.
      const std::size_t l2 = static_cast<std::size_t>(std::max(dev.l2_mb, 50)) << 20;
      const std::size_t sets = std::min<std::size_t>(32, std::max<std::size_t>(2, (4 * l2) / (2 * plane) + 1));
      for (std::size_t k = 0; k < sets; ++k) {
        void* p = nullptr;
        CHECK_CUDA(cudaMalloc(&p, plane));
        b.in.push_back(p);
        CHECK_CUDA(cudaMalloc(&p, plane));
        b.out.push_back(p);
      }
      b.ws_bytes = cu::max_workspace_size(z.w, z.h);
      CHECK_CUDA(cudaMalloc(&b.ws, b.ws_bytes));
      fill_random(b, t, z.w, z.h, rng, s);
      const int nsets = static_cast<int>(sets);
      for (Precision prec : precisions_for(t))
        for (int id : o.ids) {
          FilterParams p;
          p.filter_id = id;
          p.border = o.border;
          p.border_init = o.init;
          p.precision = prec;
          std::vector<const char*> paths{"fast"};
          if (o.before) paths.push_back("before");
          if (o.host_sync) paths.push_back("sync");
          const bool at4k = z.w == 3840 && (t == PlaneType::F32 || t == PlaneType::U8) && prec == Precision::F32;
          if (o.baseline && at4k) paths.push_back("generic");
          if (o.compare && at4k) {
            paths.push_back("tiles");
            paths.push_back("graph");
          }
          for (const char* path : paths) {
            iir2d::cuda::detail::Tuning tun = o.tuning;
            tun.generic_only = std::string(path) == "generic";
            if (std::string(path) == "tiles") tun.row_scan = false;
            if (std::string(path) == "before") tun.col_scan = false;
            const bool graph = std::string(path) == "graph";
            const bool synced = std::string(path) == "sync";
            auto timer = [&](int warm, int n, auto&& fn) {
              return synced ? time_synced_calls(s, warm, n, fn) : time_calls(s, warm, n, fn);
            };
            iir2d::cuda::detail::set_tuning(tun);
            const int runs = tun.generic_only ? std::min(o.runs, 10) : o.runs;
            // Copy of the same bytes (the faster of a 1-D and a 2-D copy), then
            // the filter, each in rotation.
            const auto copy1 = timer(o.warmup, runs, [&](int i) {
              const auto k = static_cast<std::size_t>(i % nsets);
              CHECK_CUDA(cudaMemcpyAsync(b.out[k], b.in[k], plane, cudaMemcpyDeviceToDevice, s));
            });
            const auto copy2 = timer(o.warmup, runs, [&](int i) {
              const auto k = static_cast<std::size_t>(i % nsets);
              CHECK_CUDA(cudaMemcpy2DAsync(b.out[k], b.pitch, b.in[k], b.pitch, static_cast<std::size_t>(z.w) * type_bytes(t),
                                           static_cast<std::size_t>(z.h), cudaMemcpyDeviceToDevice, s));
            });
            const auto& copy = percentile(copy1, 0.5) <= percentile(copy2, 0.5) ? copy1 : copy2;
            auto once = [&](int set) {
              const cu::Result r = filter_once(b, set, t, z.w, z.h, p, o.strength, s);
              if (!r.ok()) {
                std::fprintf(stderr, "filter failed: %s\n", r.message().c_str());
                std::exit(1);
              }
            };
            std::vector<cudaGraphExec_t> execs;
            if (graph) {
              once(0);  // first-call work (attributes, occupancy) outside the capture
              CHECK_CUDA(cudaStreamSynchronize(s));
              for (int k = 0; k < nsets; ++k) {
                cudaGraph_t g = nullptr;
                CHECK_CUDA(cudaStreamBeginCapture(s, cudaStreamCaptureModeThreadLocal));
                once(k);
                CHECK_CUDA(cudaStreamEndCapture(s, &g));
                cudaGraphExec_t ge = nullptr;
                CHECK_CUDA(cudaGraphInstantiate(&ge, g, 0));
                CHECK_CUDA(cudaGraphDestroy(g));
                execs.push_back(ge);
              }
            }
            const auto ms = timer(tun.generic_only ? 1 : o.warmup, runs, [&](int i) {
              if (graph)
                CHECK_CUDA(cudaGraphLaunch(execs[static_cast<std::size_t>(i % nsets)], s));
              else
                once(i % nsets);
            });
            for (cudaGraphExec_t ge : execs) cudaGraphExecDestroy(ge);
            Row row{z.name, z.w, z.h, t, prec, id, path, percentile(ms, 0.5), percentile(ms, 0.1),
                    percentile(ms, 0.9), percentile(copy, 0.5)};
            rows.push_back(row);
          }
        }
      iir2d::cuda::detail::set_tuning(o.tuning);
    }
  cudaStreamDestroy(s);
  return rows;
}

void print_kernel_table(std::vector<Row> rows, const Options& o) {
  // One line per (size, type, precision, path), ids in order.
  auto key = [](const Row& r) {
    return std::make_tuple(r.w, static_cast<int>(r.type), static_cast<int>(r.precision), r.path);
  };
  std::stable_sort(rows.begin(), rows.end(), [&](const Row& a, const Row& b) { return key(a) < key(b); });
  std::printf("\nKernel time per call (median of %d, ms) and throughput relative to a device copy of the same bytes\n",
              o.runs);
  std::printf("(border %s, init %s, video strength %g; ratio = copy time / filter time)\n",
              o.border == Border::Mirror ? "mirror" : o.border == Border::Clamp ? "clamp" : o.border == Border::Wrap ? "wrap" : "constant",
              o.init == BorderInit::Exact ? "exact" : "iir2d", o.strength);
  std::printf("%-6s %-4s %-6s %-7s %8s |", "size", "type", "prec", "path", "copy ms");
  for (int id : o.ids) std::printf("      id%d      ", id);
  std::printf("\n");
  std::size_t i = 0;
  while (i < rows.size()) {
    const Row& r0 = rows[i];
    std::printf("%-6s %-4s %-6s %-7s %8.4f |", r0.size.c_str(), type_name(r0.type), precision_name(r0.precision),
                r0.path.c_str(), r0.copy_ms);
    std::size_t j = i;
    for (; j < rows.size() && rows[j].size == r0.size && rows[j].type == r0.type &&
           rows[j].precision == r0.precision && rows[j].path == r0.path;
         ++j)
      std::printf(" %7.4f %5.3f", rows[j].ms, rows[j].copy_ms / rows[j].ms);
    std::printf("\n");
    i = j;
  }
}

void print_targets(const std::vector<Row>& rows) {
  std::printf("\nTargets at 3840x2160 (issue 15): ratio per id, MISS marks a miss\n");
  struct T {
    const char* what;
    PlaneType type;
    Precision prec;
    double min;
  };
  const T targets[] = {{"f32 planes, f32   >= 0.50", PlaneType::F32, Precision::F32, 0.5},
                       {"u8 video,   f32   >= 0.35", PlaneType::U8, Precision::F32, 0.35},
                       {"u16 video,  f32   >= 0.35", PlaneType::U16, Precision::F32, 0.35},
                       {"u16 video,  mixed >= 0.35", PlaneType::U16, Precision::Mixed, 0.35},
                       {"f32 planes, mixed >= 0.25", PlaneType::F32, Precision::Mixed, 0.25},
                       {"f64 planes, f64   >= 0.25", PlaneType::F64, Precision::F64, 0.25}};
  for (const T& t : targets) {
    std::printf("  %-28s", t.what);
    double id1 = 0.0;
    std::string slow;
    for (const Row& r : rows)
      if (r.w == 3840 && r.type == t.type && r.precision == t.prec && r.path == "fast") {
        const double ratio = r.copy_ms / r.ms;
        std::printf(" id%d %.2f%s", r.id, ratio, ratio >= t.min ? "" : " MISS");
        if (r.id == 1) id1 = r.ms;
        if ((r.id == 5 || r.id == 6) && id1 > 0.0) {
          char b[64];
          std::snprintf(b, sizeof b, " id%d/id1 %.2f%s", r.id, r.ms / id1, r.ms <= 1.3 * id1 ? "" : " MISS");
          slow += b;
        }
      }
    std::printf(" |%s\n", slow.c_str());
  }
}

// --- Element mode -------------------------------------------------------------------

struct ElementRow {
  std::string size;
  int w, h;
  int id;
  double p50, p95, base_p50, base_p95, fps, base_fps;
};

#if defined(IIR2D_BENCH_ELEMENT)

struct HarnessDeleter {
  void operator()(GstHarness* h) const { gst_harness_teardown(h); }
};

/// Wall time (ms) of each push through the harness; the output is pulled and dropped.
std::vector<double> push_frames(GstHarness* h, const std::vector<GstBuffer*>& frames, int warmup, int count,
                                double* fps) {
  std::vector<double> ms;
  ms.reserve(static_cast<std::size_t>(count));
  using clock = std::chrono::steady_clock;
  clock::time_point first{};
  for (int i = 0; i < warmup + count; ++i) {
    GstBuffer* in = gst_buffer_ref(frames[static_cast<std::size_t>(i) % frames.size()]);
    GST_BUFFER_PTS(in) = static_cast<GstClockTime>(i) * (GST_SECOND / 30);
    GST_BUFFER_DURATION(in) = GST_SECOND / 30;
    const auto t0 = clock::now();
    if (i == warmup) first = t0;
    const GstFlowReturn fr = gst_harness_push(h, in);
    GstBuffer* out = gst_harness_pull(h);
    const auto t1 = clock::now();
    if (fr != GST_FLOW_OK || out == nullptr) {
      std::fprintf(stderr, "element mode: push returned %s\n", gst_flow_get_name(fr));
      std::exit(1);
    }
    gst_buffer_unref(out);
    if (i >= warmup) ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
  }
  const double total = std::chrono::duration<double>(clock::now() - first).count();
  *fps = static_cast<double>(count) / total;
  return ms;
}

std::vector<ElementRow> run_element(const Options& o) {
  std::vector<ElementRow> rows;
  gst_init(nullptr, nullptr);
  if (!gst_cuda_load_library()) {
    std::printf("element mode: the CUDA library of GStreamer could not be loaded; skipped\n");
    return rows;
  }
  gst_cuda_memory_init_once();  // registers the CUDA allocator (nvcodec's plugin_init does it otherwise)
  GstElementFactory* f = gst_element_factory_find("iir2dfilter");
  if (!f) {
    std::printf("element mode: iir2dfilter is not registered (GST_PLUGIN_PATH?); skipped\n");
    return rows;
  }
  gst_object_unref(f);
  GstCudaContext* ctx = gst_cuda_context_new(0);
  if (!ctx) {
    std::printf("element mode: no CUDA context; skipped\n");
    return rows;
  }
  GstContext* gctx = gst_context_new_cuda_context(ctx);
  for (const Size& z : o.sizes) {
    char caps_str[256];
    std::snprintf(caps_str, sizeof caps_str,
                  "video/x-raw(memory:CUDAMemory),format=NV12,width=%d,height=%d,framerate=30/1", z.w, z.h);
    GstCaps* caps = gst_caps_from_string(caps_str);
    GstVideoInfo info;
    gst_video_info_from_caps(&info, caps);
    // Frames: a CUDA pool of this context, filled once with random codes and uploaded.
    GstBufferPool* pool = gst_cuda_buffer_pool_new(ctx);
    GstStructure* config = gst_buffer_pool_get_config(pool);
    gst_buffer_pool_config_set_params(config, caps, static_cast<guint>(GST_VIDEO_INFO_SIZE(&info)), 4, 4);
    gst_buffer_pool_config_add_option(config, GST_BUFFER_POOL_OPTION_VIDEO_META);
    if (!gst_buffer_pool_set_config(pool, config)) {
      // The pool adjusted the config (pitched size): take its version.
      config = gst_buffer_pool_get_config(pool);
      if (!gst_buffer_pool_config_validate_params(config, caps, static_cast<guint>(GST_VIDEO_INFO_SIZE(&info)), 4, 4))
        std::fprintf(stderr, "element mode: pool changed the config\n");
      if (!gst_buffer_pool_set_config(pool, config)) {
        std::fprintf(stderr, "element mode: CUDA buffer pool refuses its own config\n");
        std::exit(1);
      }
    }
    if (!gst_buffer_pool_set_active(pool, TRUE)) {
      std::fprintf(stderr, "element mode: CUDA buffer pool setup failed\n");
      std::exit(1);
    }
    std::vector<GstBuffer*> frames;
    std::mt19937_64 rng(777);
    for (int k = 0; k < 4; ++k) {
      GstBuffer* buf = nullptr;
      if (gst_buffer_pool_acquire_buffer(pool, &buf, nullptr) != GST_FLOW_OK) {
        std::fprintf(stderr, "element mode: no buffer\n");
        std::exit(1);
      }
      GstVideoFrame vf;
      if (!gst_video_frame_map(&vf, &info, buf, GST_MAP_WRITE)) {
        std::fprintf(stderr, "element mode: map for writing failed\n");
        std::exit(1);
      }
      for (guint p = 0; p < GST_VIDEO_FRAME_N_PLANES(&vf); ++p) {
        auto* d = static_cast<unsigned char*>(GST_VIDEO_FRAME_PLANE_DATA(&vf, p));
        const int stride = GST_VIDEO_FRAME_PLANE_STRIDE(&vf, p);
        const int rows_p = GST_VIDEO_FRAME_COMP_HEIGHT(&vf, p);
        for (int y = 0; y < rows_p; ++y)
          for (int x = 0; x < stride; ++x) d[static_cast<std::size_t>(y) * stride + x] = static_cast<unsigned char>(rng());
      }
      gst_video_frame_unmap(&vf);
      // Map on the device once, so that the upload happens now, not in the loop.
      GstMapInfo mi;
      if (gst_buffer_map(buf, &mi, static_cast<GstMapFlags>(GST_MAP_READ | GST_MAP_CUDA))) gst_buffer_unmap(buf, &mi);
      frames.push_back(buf);
    }

    // Baseline: the same harness with identity instead of the filter.
    double base_fps = 0.0;
    std::vector<double> base;
    {
      std::unique_ptr<GstHarness, HarnessDeleter> h(gst_harness_new("identity"));
      gst_harness_set_src_caps(h.get(), gst_caps_ref(caps));
      base = push_frames(h.get(), frames, 20, o.element_frames, &base_fps);
    }
    {
      GstElement* e = gst_element_factory_make("iir2dfilter", nullptr);
      gst_object_ref_sink(e);
      gst_element_set_context(e, gctx);
      std::unique_ptr<GstHarness, HarnessDeleter> h(gst_harness_new_with_element(e, "sink", "src"));
      gst_object_unref(e);
      gst_harness_set_src_caps(h.get(), gst_caps_ref(caps));
      for (int id : o.ids) {
        g_object_set(h->element, "filter-id", static_cast<guint>(id), nullptr);
        double fps = 0.0;
        const auto ms = push_frames(h.get(), frames, 20, o.element_frames, &fps);
        rows.push_back({z.name, z.w, z.h, id, percentile(ms, 0.5), percentile(ms, 0.95), percentile(base, 0.5),
                        percentile(base, 0.95), fps, base_fps});
      }
    }
    for (GstBuffer* b : frames) gst_buffer_unref(b);
    gst_buffer_pool_set_active(pool, FALSE);
    gst_object_unref(pool);
    gst_caps_unref(caps);
  }
  gst_context_unref(gctx);
  gst_object_unref(ctx);
  return rows;
}

#else

std::vector<ElementRow> run_element(const Options&) {
  std::printf("element mode: not built (needs gstreamer-check and gstreamer-cuda)\n");
  return {};
}

#endif

void print_element_table(const std::vector<ElementRow>& rows) {
  if (rows.empty()) return;
  std::printf("\niir2dfilter on NV12 CUDA frames (luma filtered, chroma copied): per-frame wall time of a push, ms\n");
  std::printf("%-6s %-3s %9s %9s %9s %9s %10s %10s %9s %9s\n", "size", "id", "p50", "p95", "base p50", "base p95",
              "added p50", "added p95", "fps", "base fps");
  for (const ElementRow& r : rows)
    std::printf("%-6s %-3d %9.4f %9.4f %9.4f %9.4f %10.4f %10.4f %9.1f %9.1f\n", r.size.c_str(), r.id, r.p50, r.p95,
                r.base_p50, r.base_p95, r.p50 - r.base_p50, r.p95 - r.base_p95, r.fps, r.base_fps);
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  if (!parse(argc, argv, o)) return 2;
  iir2d::cuda::detail::set_tuning(o.tuning);

  DeviceInfo dev;
  cudaDeviceProp prop{};
  CHECK_CUDA(cudaGetDeviceProperties(&prop, 0));
  dev.name = prop.name;
  dev.sms = prop.multiProcessorCount;
  dev.l2_mb = prop.l2CacheSize >> 20;
  CHECK_CUDA(cudaRuntimeGetVersion(&dev.runtime));
  CHECK_CUDA(cudaDriverGetVersion(&dev.driver_api));
  dev.driver = nvidia_driver_version();
  std::printf("GPU %s, %d SMs, L2 %d MB; driver %s (CUDA driver API %d), CUDA runtime %d\n", dev.name.c_str(),
              dev.sms, dev.l2_mb, dev.driver.c_str(), dev.driver_api, dev.runtime);

  std::vector<Row> rows;
  if (o.kernels) {
    rows = run_kernels(o, dev);
    print_kernel_table(rows, o);
    print_targets(rows);
  }
  std::vector<ElementRow> erows;
  if (o.element) {
    erows = run_element(o);
    print_element_table(erows);
  }

  if (!o.csv.empty()) {
    std::ofstream f(o.csv);
    const std::string gpu = csv_escape(dev.name), drv = csv_escape(dev.driver);
    f << "mode,gpu,driver,cuda_driver_api,cuda_runtime,size,width,height,plane_type,precision,filter_id,border,init,"
         "path,runs,median_ms,p10_ms,p90_ms,gpix_per_s,copy_median_ms,ratio_to_copy,p50_ms,p95_ms,baseline_p50_ms,"
         "baseline_p95_ms,added_p50_ms,added_p95_ms,fps,baseline_fps\n";
    const char* border = o.border == Border::Mirror ? "mirror" : o.border == Border::Clamp ? "clamp" : o.border == Border::Wrap ? "wrap" : "constant";
    const char* init = o.init == BorderInit::Exact ? "exact" : "iir2d";
    for (const Row& r : rows)
      f << "kernel," << gpu << "," << drv << "," << dev.driver_api << "," << dev.runtime << "," << r.size << "," << r.w
        << "," << r.h << "," << type_name(r.type) << "," << precision_name(r.precision) << "," << r.id << "," << border
        << "," << init << "," << r.path << "," << o.runs << "," << r.ms << "," << r.p10 << "," << r.p90 << ","
        << static_cast<double>(r.w) * r.h / (r.ms * 1e6) << "," << r.copy_ms << "," << r.copy_ms / r.ms
        << ",,,,,,,,\n";
    for (const ElementRow& r : erows)
      f << "element," << gpu << "," << drv << "," << dev.driver_api << "," << dev.runtime << "," << r.size << "," << r.w
        << "," << r.h << ",nv12,f32," << r.id << ",mirror,exact,element," << o.element_frames << ",,,,,,,"
        << r.p50 << "," << r.p95 << "," << r.base_p50 << "," << r.base_p95 << "," << r.p50 - r.base_p50 << ","
        << r.p95 - r.base_p95 << "," << r.fps << "," << r.base_fps << "\n";
    std::printf("\nCSV: %s\n", o.csv.c_str());
  }
  return 0;
}
