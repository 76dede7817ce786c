// SPDX-License-Identifier: MIT
// CPU benchmark (issue 14; docs/PERFORMANCE.md "CPU path"): frames/s of the
// fast CPU path (iir2d::fastcpu) against the oracle (iir2d::ref), ffmpeg's
// gblur (sigma 2) and GStreamer's gaussianblur (sigma 2) on the same frames,
// in one run, as a table and optionally CSV.
//
//   cpu_bench [--csv FILE] [--frames N] [--quick] [--no-external]
//
// Frames: N synthetic I420 (8-bit) or I420_10LE frames (smooth gradients
// plus seeded noise), 1920x1080 and 3840x2160. Filtered: the luma plane
// (chroma copied), or all three planes.
//
// Timing:
//  - fast path and oracle: in this process, steady_clock around the calls
//    that filter each frame (the frames are in memory; the first frame is a
//    warm-up, not timed); the oracle runs on fewer frames (it is slow).
//  - ffmpeg: a subprocess reading the same frames from a raw file in /tmp
//    (`-f rawvideo`, output `-f null`), run twice, with `-vf gblur=...` and
//    with `-vf null`; the filter's time is the difference of the two
//    `-benchmark` real times (ffmpeg's own clock around its transcoding
//    loop), so reading, demuxing and the null sink cancel out.
//  - gaussianblur: gst-launch-1.0 reading the same raw file, run twice, with
//    `videoconvert ! gaussianblur sigma=2` and with `videoconvert` alone
//    (gaussianblur takes AYUV only, so the conversion is not counted); the
//    difference of the two wall times. 8-bit only (it has no 10-bit format).
// Each rate is given twice: frames per wall second, and frames per CPU
// second (user + system of all threads: getrusage of the children for the
// subprocesses, the process CPU clock in this one), which other load on a
// shared machine disturbs less. Ratios to gblur and to id 1 use wall rates;
// the ratio to refcpu (one thread each) uses CPU rates.
// Threads: "1" = one thread everywhere (ffmpeg -threads 1 -filter_threads 1);
// "all" = one per core (fastcpu threads 0, ffmpeg's default filter threads).
#include <sys/resource.h>

#include <chrono>
#include <ctime>
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
#include <vector>

#include "iir2d/fastcpu.h"
#include "iir2d/refcpu.h"

namespace {

using Clock = std::chrono::steady_clock;

/* CPU seconds (user + system) of this process, and of its waited-for children. */
double cpu_seconds() {
  timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return t.tv_sec + 1e-9 * t.tv_nsec;
}
double children_cpu_seconds() {
  rusage u;
  getrusage(RUSAGE_CHILDREN, &u);
  return u.ru_utime.tv_sec + 1e-6 * u.ru_utime.tv_usec + u.ru_stime.tv_sec + 1e-6 * u.ru_stime.tv_usec;
}

/* A rate measured two ways: frames per wall second, and frames per CPU
 * second of all threads together (less sensitive to other load on the
 * machine; for one thread, the single-core rate). */
struct Rate {
  double fps = -1.0;
  double cpu_fps = -1.0;
};

struct Frame {
  int w, h, depth;
  std::vector<std::uint16_t> y, u, v;  // one word per sample (8-bit frames use the low byte of U8 views below)
  std::vector<std::uint8_t> y8, u8, v8;
};

Frame make_frame(int w, int h, int depth, std::uint32_t seed) {
  Frame f{w, h, depth, {}, {}, {}, {}, {}, {}};
  std::mt19937 rng(seed);
  std::normal_distribution<double> noise(0.0, 0.05);
  const double maxv = std::ldexp(1.0, depth) - 1.0;
  auto fill = [&](int pw, int ph, double phase, std::vector<std::uint16_t>& words, std::vector<std::uint8_t>& bytes) {
    words.resize(static_cast<std::size_t>(pw) * ph);
    for (int yy = 0; yy < ph; ++yy)
      for (int xx = 0; xx < pw; ++xx) {
        double v = 0.5 + 0.3 * std::sin(xx * 0.01 + phase) * std::cos(yy * 0.013) + noise(rng);
        v = std::fmin(1.0, std::fmax(0.0, v));
        words[static_cast<std::size_t>(yy) * pw + xx] = static_cast<std::uint16_t>(std::lround(v * maxv));
      }
    if (depth == 8) bytes.assign(words.begin(), words.end());
  };
  fill(w, h, seed * 0.1, f.y, f.y8);
  fill(w / 2, h / 2, seed * 0.2, f.u, f.u8);
  fill(w / 2, h / 2, seed * 0.3, f.v, f.v8);
  return f;
}

/* Component views of one plane of a frame (packed rows). */
template <typename C, typename P>
C view(P data, int w, int h, int depth) {
  C c;
  c.data = data;
  c.width = w;
  c.height = h;
  const int bytes = depth > 8 ? 2 : 1;
  c.row_stride = static_cast<std::ptrdiff_t>(w) * bytes;
  c.pixel_stride = bytes;
  c.type = depth > 8 ? iir2d::SampleType::U16 : iir2d::SampleType::U8;
  c.depth = depth;
  c.shift = 0;
  return c;
}

struct Planes {
  iir2d::ConstVideoComponent in[3];
  iir2d::VideoComponent out[3];
};

Planes planes_of(const Frame& in, Frame& out) {
  Planes p;
  const int cw[3] = {in.w, in.w / 2, in.w / 2}, ch[3] = {in.h, in.h / 2, in.h / 2};
  for (int k = 0; k < 3; ++k) {
    const void* src;
    void* dst;
    if (in.depth == 8) {
      const std::vector<std::uint8_t>* s[3] = {&in.y8, &in.u8, &in.v8};
      std::vector<std::uint8_t>* d[3] = {&out.y8, &out.u8, &out.v8};
      src = s[k]->data();
      dst = d[k]->data();
    } else {
      const std::vector<std::uint16_t>* s[3] = {&in.y, &in.u, &in.v};
      std::vector<std::uint16_t>* d[3] = {&out.y, &out.u, &out.v};
      src = s[k]->data();
      dst = d[k]->data();
    }
    p.in[k] = view<iir2d::ConstVideoComponent>(src, cw[k], ch[k], in.depth);
    p.out[k] = view<iir2d::VideoComponent>(dst, cw[k], ch[k], in.depth);
  }
  return p;
}

iir2d::FilterParams params_for(int id) {
  iir2d::FilterParams p;
  p.filter_id = id;
  p.border = iir2d::Border::Mirror;
  p.border_init = iir2d::BorderInit::Exact;
  p.precision = iir2d::Precision::F32;
  return p;
}

/* Frames/s of `filter(planes)` over the frames (the first one untimed). */
template <typename F>
Rate time_frames(const std::vector<Frame>& frames, int count, F&& filter) {
  Frame out = frames[0];
  auto once = [&](const Frame& f) {
    const Planes p = planes_of(f, out);
    filter(p);
  };
  once(frames[0]);
  const double c0 = cpu_seconds();
  const auto t0 = Clock::now();
  for (int i = 0; i < count; ++i) once(frames[static_cast<std::size_t>(i) % frames.size()]);
  const double s = std::chrono::duration<double>(Clock::now() - t0).count();
  return {count / s, count / (cpu_seconds() - c0)};
}

/* Runs a shell command, returns its output (stdout and stderr) and wall seconds. */
std::string run(const std::string& cmd, double* seconds) {
  const auto t0 = Clock::now();
  std::string out;
  if (FILE* p = popen((cmd + " 2>&1").c_str(), "r")) {
    char buf[4096];
    std::size_t n;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    if (pclose(p) != 0) out = "FAILED: " + out;
  } else {
    out = "FAILED: popen";
  }
  *seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  return out;
}

/* ffmpeg's -benchmark real time ("rtime=1.234s"), or -1. */
double ffmpeg_rtime(const std::string& out) {
  const std::size_t at = out.rfind("rtime=");
  if (at == std::string::npos || out.rfind("FAILED", 0) == 0) return -1.0;
  return std::atof(out.c_str() + at + 6);
}

std::string write_raw(const std::vector<Frame>& frames, int count) {
  const Frame& f0 = frames[0];
  const std::string path = "/tmp/iir2d_cpu_bench_" + std::to_string(f0.w) + "x" + std::to_string(f0.h) + "_" +
                           std::to_string(f0.depth) + "_" + std::to_string(count) + ".yuv";
  std::ofstream o(path, std::ios::binary);
  for (int i = 0; i < count; ++i) {
    const Frame& f = frames[static_cast<std::size_t>(i) % frames.size()];
    if (f.depth == 8) {
      for (const auto* p : {&f.y8, &f.u8, &f.v8}) o.write(reinterpret_cast<const char*>(p->data()), static_cast<std::streamsize>(p->size()));
    } else {
      for (const auto* p : {&f.y, &f.u, &f.v}) o.write(reinterpret_cast<const char*>(p->data()), static_cast<std::streamsize>(p->size() * 2));
    }
  }
  return path;
}

/* Two runs of a subprocess command, with and without the filter: the
 * difference of `seconds` (wall) and of the children's CPU time. */
template <typename Wall>
Rate difference(const std::string& with_cmd, const std::string& without_cmd, int count, Wall&& wall) {
  double s = 0.0;
  const double c0 = children_cpu_seconds();
  const double with = wall(run(with_cmd, &s), s);
  const double c1 = children_cpu_seconds();
  const double without = wall(run(without_cmd, &s), s);
  const double c2 = children_cpu_seconds();
  Rate r;
  if (with > 0 && without > 0 && with > without) r.fps = count / (with - without);
  if (with > 0 && without > 0 && (c1 - c0) > (c2 - c1)) r.cpu_fps = count / ((c1 - c0) - (c2 - c1));
  return r;
}

Rate ffmpeg_fps(const std::string& raw, const Frame& f, int count, bool all_planes, bool one_thread) {
  const std::string fmt = f.depth == 8 ? "yuv420p" : "yuv420p10le";
  const std::string threads = one_thread ? " -threads 1 -filter_threads 1" : "";
  const std::string base = "ffmpeg -nostdin -hide_banner -benchmark" + threads + " -f rawvideo -pix_fmt " + fmt + " -s " +
                           std::to_string(f.w) + "x" + std::to_string(f.h) + " -i " + raw + " -vf ";
  return difference(base + "gblur=sigma=2:planes=" + (all_planes ? "7" : "1") + " -f null -", base + "null -f null -",
                    count, [](const std::string& out, double) { return ffmpeg_rtime(out); });
}

Rate gaussianblur_fps(const std::string& raw, const Frame& f, int count) {
  const std::string base = "gst-launch-1.0 -q filesrc location=" + raw + " ! rawvideoparse format=i420 width=" +
                           std::to_string(f.w) + " height=" + std::to_string(f.h) +
                           " framerate=30/1 ! videoconvert ! video/x-raw,format=AYUV ! ";
  return difference(base + "gaussianblur sigma=2 ! fakesink sync=false", base + "fakesink sync=false", count,
                    [](const std::string& out, double s) { return out.rfind("FAILED", 0) == 0 ? -1.0 : s; });
}

struct Row {
  std::string size, format, planes, threads, impl;
  int id;
  Rate rate;
};

}  // namespace

int main(int argc, char** argv) {
  std::string csv;
  int frames_n = 30;
  bool quick = false, external = true;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--csv" && i + 1 < argc) csv = argv[++i];
    else if (a == "--frames" && i + 1 < argc) frames_n = std::atoi(argv[++i]);
    else if (a == "--quick") quick = true;
    else if (a == "--no-external") external = false;
    else {
      std::fprintf(stderr, "usage: %s [--csv FILE] [--frames N] [--quick] [--no-external]\n", argv[0]);
      return 2;
    }
  }
  iir2d::fastcpu::Engine one(1), all(0);
  std::printf("CPU path benchmark: %u cores, kernels %s; %d frames per measurement\n", all.threads(), one.isa_name(),
              frames_n);
  std::vector<Row> rows;
  const std::pair<int, int> sizes[] = {{1920, 1080}, {3840, 2160}};
  for (const auto& [w, h] : sizes) {
    for (int depth : {8, 10}) {
      std::vector<Frame> frames;
      for (int i = 0; i < 4; ++i) frames.push_back(make_frame(w, h, depth, 11u + i));
      const std::string size = std::to_string(w) + "x" + std::to_string(h);
      const std::string format = depth == 8 ? "I420" : "I420_10LE";
      const int n = w > 1920 ? std::max(4, frames_n / 4) : frames_n;
      for (bool all_planes : {false, true}) {
        const std::string planes = all_planes ? "all" : "luma";
        auto filter_with = [&](auto&& one_component) {
          return [&, one_component](const Planes& p) {
            one_component(p.in[0], p.out[0]);
            for (int k = 1; k < 3; ++k) {
              if (all_planes)
                one_component(p.in[k], p.out[k]);
              else
                all.copy_video_component(p.in[k], p.out[k]);
            }
          };
        };
        const bool main_case = depth == 8 && w == 1920;
        for (int id = 1; id <= 8; ++id) {
          if (!main_case && id != 1 && id != 6) continue;
          if (quick && id != 1 && id != 6) continue;
          const iir2d::FilterParams p = params_for(id);
          for (auto* e : {&one, &all}) {
            const Rate fps = time_frames(frames, n, filter_with([&, e](const auto& in, const auto& out) {
              e->filter_video_component(in, out, p, 1.0);
            }));
            rows.push_back({size, format, planes, e == &one ? "1" : "all", "fastcpu", id, fps});
          }
          if (w == 1920 && (!quick || id == 6)) {
            const Rate fps = time_frames(frames, 2, filter_with([&](const auto& in, const auto& out) {
              iir2d::ref::filter_video_component(in, out, p, 1.0);
            }));
            rows.push_back({size, format, planes, "1", "refcpu", id, fps});
          }
        }
        if (external) {
          const std::string raw = write_raw(frames, n);
          for (bool one_thread : {true, false})
            rows.push_back({size, format, planes, one_thread ? "1" : "all", "ffmpeg gblur", 6,
                            ffmpeg_fps(raw, frames[0], n, all_planes, one_thread)});
          if (depth == 8 && all_planes)  // gaussianblur filters Y, U and V of AYUV
            rows.push_back({size, format, "all (AYUV)", "1", "gaussianblur", 6, gaussianblur_fps(raw, frames[0], n)});
          std::remove(raw.c_str());
        }
      }
    }
  }
  // Table, with the ratio to ffmpeg's gblur in the same configuration and threads.
  auto find = [&](const Row& r, const std::string& impl, const std::string& threads, int id) -> const Row* {
    for (const Row& o : rows)
      if (o.size == r.size && o.format == r.format && o.planes == r.planes && o.impl == impl && o.threads == threads &&
          o.id == id)
        return &o;
    return nullptr;
  };
  std::printf("\n| size | format | planes | threads | implementation | id | frames/s | frames/CPU-s | vs gblur | vs refcpu | vs id 1 |\n");
  std::printf("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n");
  std::FILE* c = csv.empty() ? nullptr : std::fopen(csv.c_str(), "w");
  if (c) std::fprintf(c, "size,format,planes,threads,implementation,id,fps,cpu_fps,vs_gblur,vs_refcpu,vs_id1\n");
  for (const Row& r : rows) {
    // Ratios of wall frames/s, except against refcpu (one thread both): CPU frames/s.
    auto ratio = [](double a, const Row* other, bool cpu) {
      if (!other) return -1.0;
      const double b = cpu ? other->rate.cpu_fps : other->rate.fps;
      return a > 0 && b > 0 ? a / b : -1.0;
    };
    const bool fast = r.impl == "fastcpu";
    const double g = fast ? ratio(r.rate.fps, find(r, "ffmpeg gblur", r.threads, 6), false) : -1.0;
    const double o = fast && r.threads == "1" ? ratio(r.rate.cpu_fps, find(r, "refcpu", "1", r.id), true) : -1.0;
    const double i1 = fast ? ratio(r.rate.fps, find(r, "fastcpu", r.threads, 1), false) : -1.0;
    auto cell = [](double v, const char* fmt) {
      if (v < 0) return std::string("–");
      char b[32];
      std::snprintf(b, sizeof b, fmt, v);
      return std::string(b);
    };
    std::printf("| %s | %s | %s | %s | %s | %d | %s | %s | %s | %s | %s |\n", r.size.c_str(), r.format.c_str(),
                r.planes.c_str(), r.threads.c_str(), r.impl.c_str(), r.id, cell(r.rate.fps, "%.1f").c_str(),
                cell(r.rate.cpu_fps, "%.1f").c_str(), cell(g, "%.2f").c_str(), cell(o, "%.1f").c_str(),
                cell(i1, "%.2f").c_str());
    if (c)
      std::fprintf(c, "%s,%s,%s,%s,%s,%d,%.3f,%.3f,%.3f,%.3f,%.3f\n", r.size.c_str(), r.format.c_str(),
                   r.planes.c_str(), r.threads.c_str(), r.impl.c_str(), r.id, r.rate.fps, r.rate.cpu_fps, g, o, i1);
  }
  if (c) std::fclose(c);
  return 0;
}
