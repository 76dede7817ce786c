// SPDX-License-Identifier: MIT
// The fast CPU path's orchestration (iir2d/fastcpu.h): argument checks, the
// thread pool, the buffers, the choice of kernels, and the per-pixel last
// step of component groups (temporal smoothing) and RGB luma. The passes
// themselves are in fastcpu_kernels.cpp.
#include "iir2d/fastcpu.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <pthread.h>
#include <sys/resource.h>
#include <unistd.h>

#include "fastcpu_detail.h"

namespace iir2d::fastcpu {
namespace {

using detail::Job;
using detail::Samples;

// ---- the thread pool ---------------------------------------------------------

/* Up to `size` workers, the caller being worker 0 and the others threads
 * created once. run(tasks, fn) calls fn(task, worker) for every task in
 * [0, tasks), handing tasks out in order to whichever worker is free, and
 * returns when all are done.
 *
 * Each thread has a stack of kWorkerStack bytes, not the process default
 * (RLIMIT_STACK, 8 MiB on most systems): the kernels keep their buffers in
 * the engine's memory and need little stack, and under an address-space
 * limit (RLIMIT_AS) 16 default stacks took 128 MiB of it. A thread that
 * cannot be made (that limit, or a limit on threads) is no error: the pool
 * runs on those made before it, size() says how many, error() why. Under
 * an address-space limit the stacks take at most a quarter of the room it
 * leaves (stack_room()), so that the frames and buffers keep the rest. */
class ThreadPool {
 public:
  static constexpr std::size_t kWorkerStack = std::size_t(1) << 20;

  explicit ThreadPool(unsigned size) : size_(1) {
    unsigned want = std::max(1u, size);
    const std::size_t stack = std::max<std::size_t>(kWorkerStack, PTHREAD_STACK_MIN);
    std::size_t room = 0;
    if (stack_room(&room) && room / stack + 1 < want) {
      error_ = "an address-space limit (RLIMIT_AS) leaves " + std::to_string(room * 4 >> 20) +
               " MiB, a quarter of it for thread stacks of " + std::to_string(stack >> 10) + " KiB";
      want = static_cast<unsigned>(room / stack + 1);
    }
    starts_.reserve(want - 1);  // stable addresses for the threads' arguments
    threads_.reserve(want - 1);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, stack);
    int rc = 0;
    for (unsigned w = 1; w < want && rc == 0; ++w) {
      starts_.push_back(Start{this, w});
      pthread_t t;
      rc = pthread_create(&t, &attr, &ThreadPool::entry, &starts_.back());
      if (rc != 0) {
        starts_.pop_back();
      } else {
        threads_.push_back(t);
        size_ = w + 1;
      }
    }
    pthread_attr_destroy(&attr);
    if (rc == 0) return;
    /* Threads run now: nothing may leave this constructor by an exception
     * (no destructor would stop them); the text is only a report. */
    try {
      error_ = (error_.empty() ? "" : error_ + "; ") + "thread " + std::to_string(size_ + 1) + " of " +
               std::to_string(want) + " could not be made: " + std::strerror(rc);
    } catch (...) {
      error_.clear();
    }
  }
  ~ThreadPool() {
    {
      std::lock_guard<std::mutex> lock(m_);
      stop_ = true;
    }
    start_.notify_all();
    for (pthread_t t : threads_) pthread_join(t, nullptr);
  }
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;
  unsigned size() const { return size_; }
  const std::string& error() const { return error_; }

  void run(int tasks, const std::function<void(int, unsigned)>& fn) {
    if (tasks <= 0) return;
    if (size_ == 1 || tasks == 1) {
      for (int t = 0; t < tasks; ++t) fn(t, 0);
      return;
    }
    {
      std::lock_guard<std::mutex> lock(m_);
      fn_ = &fn;
      tasks_ = tasks;
      next_.store(0);
      busy_ = size_ - 1;
      ++generation_;
    }
    start_.notify_all();
    work(0);
    std::unique_lock<std::mutex> lock(m_);
    done_.wait(lock, [this] { return busy_ == 0; });
    fn_ = nullptr;
  }

 private:
  /* Under a finite RLIMIT_AS: a quarter of the address space it leaves. */
  static bool stack_room(std::size_t* room) {
    rlimit lim{};
    if (getrlimit(RLIMIT_AS, &lim) != 0 || lim.rlim_cur == RLIM_INFINITY) return false;
    unsigned long pages = 0;
    if (FILE* f = std::fopen("/proc/self/statm", "r")) {
      if (std::fscanf(f, "%lu", &pages) != 1) pages = 0;
      std::fclose(f);
    }
    const std::size_t used = static_cast<std::size_t>(pages) * static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
    *room = lim.rlim_cur > used ? static_cast<std::size_t>(lim.rlim_cur - used) / 4 : 0;
    return true;
  }
  struct Start {
    ThreadPool* pool;
    unsigned worker;
  };
  static void* entry(void* arg) {
    const Start* s = static_cast<const Start*>(arg);
    s->pool->loop(s->worker);
    return nullptr;
  }
  void work(unsigned worker) {
    for (int t = next_.fetch_add(1); t < tasks_; t = next_.fetch_add(1)) (*fn_)(t, worker);
  }
  void loop(unsigned worker) {
    unsigned long seen = 0;
    for (;;) {
      {
        std::unique_lock<std::mutex> lock(m_);
        start_.wait(lock, [&] { return stop_ || generation_ != seen; });
        if (stop_) return;
        seen = generation_;
      }
      work(worker);
      std::lock_guard<std::mutex> lock(m_);
      if (--busy_ == 0) done_.notify_one();
    }
  }

  unsigned size_;
  std::string error_;
  std::vector<Start> starts_;
  std::vector<pthread_t> threads_;
  std::mutex m_;
  std::condition_variable start_, done_;
  const std::function<void(int, unsigned)>* fn_ = nullptr;
  int tasks_ = 0;
  std::atomic<int> next_{0};
  unsigned busy_ = 0;
  unsigned long generation_ = 0;
  bool stop_ = false;
};

/* A 64-byte aligned buffer that only grows. */
struct Buffer {
  void* data = nullptr;
  std::size_t bytes = 0;
  Buffer() = default;
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  Buffer(Buffer&& o) noexcept : data(o.data), bytes(o.bytes) { o.data = nullptr, o.bytes = 0; }
  ~Buffer() { std::free(data); }
  void* ensure(std::size_t need) {
    if (need <= bytes && data) return data;
    std::free(data);
    bytes = (std::max<std::size_t>(need, 64) + 63) / 64 * 64;
    data = std::aligned_alloc(64, bytes);
    if (!data) {
      bytes = 0;
      throw std::bad_alloc();
    }
    return data;
  }
};

// ---- argument checks (the oracle's rules, refcpu.h) -----------------------------

[[noreturn]] void fail(const std::string& what) { throw std::invalid_argument("fastcpu: " + what); }

void check_params(const FilterParams& p) {
  if (!is_valid_filter_id(p.filter_id)) fail("filter id " + std::to_string(p.filter_id) + " is outside 1..8");
  if (!(p.sigma > 0.0)) fail("sigma must be > 0");
  switch (p.border) {
    case Border::Clamp: case Border::Mirror: case Border::Wrap: case Border::Constant: break;
    default: fail("unknown border mode");
  }
  switch (p.border_init) {
    case BorderInit::Exact: case BorderInit::Iir2d: break;
    default: fail("unknown border initialisation");
  }
  switch (p.precision) {
    case Precision::F32: case Precision::Mixed: case Precision::F64: break;
    default: fail("unknown precision");
  }
}

template <typename T>
void check_plane(const Plane<T>& p, const char* name) {
  if (p.width < 0 || p.height < 0) fail(std::string("negative size of ") + name);
  if (p.width > 0 && p.height > 0) {
    if (p.data == nullptr) fail(std::string("null data for ") + name);
    if (p.stride < static_cast<std::ptrdiff_t>(p.width * sizeof(T))) fail(std::string("stride of ") + name + " is smaller than a row");
    if (p.stride % static_cast<std::ptrdiff_t>(sizeof(T)) != 0)
      fail(std::string("stride of ") + name + " is not a multiple of the sample size");
  }
}

template <typename Ptr>
void check_component(const VideoComponentT<Ptr>& c, const char* name) {
  const std::string n(name);
  if (c.width < 0 || c.height < 0) fail("negative size of " + n);
  if (c.type != SampleType::U8 && c.type != SampleType::U16) fail("unknown sample type of " + n);
  const int bytes = c.type == SampleType::U8 ? 1 : 2;
  if (c.depth < 1 || c.shift < 0 || c.depth + c.shift > 8 * bytes) fail("depth/shift of " + n + " do not fit its sample type");
  if (c.width > 0 && c.height > 0) {
    if (c.data == nullptr) fail("null data for " + n);
    if (c.pixel_stride < bytes) fail("pixel stride of " + n + " is smaller than a sample");
    if (c.row_stride < c.pixel_stride * (c.width - 1) + bytes) fail("row stride of " + n + " is smaller than a row");
  }
}

void check_pair(const ConstVideoComponent& in, const VideoComponent& out) {
  check_component(in, "input");
  check_component(out, "output");
  if (in.width != out.width || in.height != out.height || in.type != out.type || in.depth != out.depth ||
      in.shift != out.shift)
    fail("input and output components differ in size or sample format");
}

void check_strength(double s) {
  if (!(s >= 0.0 && s <= 1.0)) fail("strength outside [0, 1]");
}

void check_group(const ConstVideoComponent* in, const VideoComponent* out, int count, const FilterParams& params,
                 double strength, const TemporalParams& temporal, const float* state) {
  if (count < 1 || count > kMaxGroupComponents) fail("group of 1..3 components");
  if (in == nullptr || out == nullptr) fail("null component array");
  check_params(params);
  check_strength(strength);
  for (int k = 0; k < count; ++k) {
    if (in[k].width != in[0].width || in[k].height != in[0].height) fail("the components of a group differ in size");
    check_pair(in[k], out[k]);
  }
  if (!temporal_params_valid(temporal)) fail("temporal parameters out of range");
  if (temporal.mode != TemporalMode::Off && state == nullptr && in[0].width > 0 && in[0].height > 0)
    fail("temporal smoothing needs a state");
}

Samples samples_of(const ConstVideoComponent& in, const VideoComponent* out) {
  Samples s;
  s.in = static_cast<const unsigned char*>(in.data);
  s.in_row = in.row_stride;
  s.in_px = in.pixel_stride;
  if (out) {
    s.out = static_cast<unsigned char*>(out->data);
    s.out_row = out->row_stride;
    s.out_px = out->pixel_stride;
  }
  s.u16 = in.type == SampleType::U16;
  s.depth = in.depth;
  s.shift = in.shift;
  return s;
}

std::size_t store_bytes(Precision p) { return p == Precision::F64 ? 8 : 4; }

/* One step of the temporal recursion of iir2d/frame.h, per pixel, in double. */
void temporal_step(const double* o, double* t, int count, const TemporalParams& temporal, float* state,
                   std::size_t plane, bool state_valid) {
  if (temporal.mode == TemporalMode::Off || !state_valid) {
    for (int k = 0; k < count; ++k) t[k] = o[k];
  } else {
    double sum = 0.0;
    for (int k = 0; k < count; ++k) {
      const double p = static_cast<double>(state[k * plane]);
      sum += o[k] > p ? o[k] - p : p - o[k];
    }
    const double a = temporal_alpha(temporal, sum / count);
    for (int k = 0; k < count; ++k) t[k] = a * o[k] + (1.0 - a) * static_cast<double>(state[k * plane]);
  }
  if (temporal.mode == TemporalMode::Off) return;
  for (int k = 0; k < count; ++k) state[k * plane] = static_cast<float>(t[k]);
}

constexpr int kRowsPerTask = 16;  // rows of the per-pixel passes per task

}  // namespace

unsigned default_threads() { return std::max(1u, std::thread::hardware_concurrency()); }

struct Engine::Impl {
  ThreadPool pool;
  const detail::Kernels* kernels;
  std::vector<Buffer> scratch_a, scratch_b;
  std::vector<detail::Scratch> scratch;
  /* Per worker: the rows of the per-pixel passes (row_lines()). */
  std::vector<Buffer> lines;
  Buffer mid, luma, planes[kMaxGroupComponents];
  unsigned requested;

  Impl(unsigned threads, Isa isa)
      : pool(threads == 0 ? default_threads() : threads), kernels(choose(isa)),
        requested(threads == 0 ? default_threads() : threads) {
    scratch_a.resize(pool.size());
    scratch_b.resize(pool.size());
    scratch.resize(pool.size());
    lines.resize(pool.size());
  }

  /* Every buffer a worker uses is allocated here, on the caller's thread,
   * before the work is handed out: a thread that calls malloc gets a glibc
   * arena of its own, which reserves 64 MiB of address space (16 threads:
   * 1 GiB), and once a size has run nothing is allocated per call. */
  template <typename Store>
  struct Lines {
    Store* x;    // `count` rows of w samples
    int* codes;  // `count` rows of w codes
  };
  static std::size_t lines_offset(std::size_t store, int w, int count) {
    return (store * static_cast<std::size_t>(w) * static_cast<std::size_t>(count) + 63) / 64 * 64;
  }
  template <typename Store>
  void ensure_lines(int w, int count) {
    const std::size_t bytes =
        lines_offset(sizeof(Store), w, count) + sizeof(int) * static_cast<std::size_t>(w) * static_cast<std::size_t>(count);
    for (Buffer& b : lines) b.ensure(bytes);
  }
  template <typename Store>
  Lines<Store> row_lines(unsigned worker, int w, int count) {
    unsigned char* base = static_cast<unsigned char*>(lines[worker].data);
    return {reinterpret_cast<Store*>(base), reinterpret_cast<int*>(base + lines_offset(sizeof(Store), w, count))};
  }

  static const detail::Kernels* choose(Isa isa) {
#if defined(IIR2D_FASTCPU_HAVE_AVX2)
    if (isa != Isa::Generic && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
      return &detail::avx2::kKernels;
#else
    (void)isa;
#endif
    return &detail::generic::kKernels;
  }

  /* The job's program and extension from the parameters. */
  static Job job_for(const FilterParams& params, int w, int h) {
    Job job;
    const Program prog = make_program(params);
    job.precision = params.precision;
    job.width = w;
    job.height = h;
    job.num_sections = prog.num_sections;
    for (int k = 0; k < prog.num_sections; ++k) job.sections[k] = prog.sections[k];
    job.border = params.border;
    job.constant = params.border_constant;
    job.init = params.border_init;
    job.ext = params.border_init == BorderInit::Exact ? extension_length(prog, params.precision) : 0;
    return job;
  }

  /* Both passes of one job on the pool; the intermediate in `mid`. */
  void run(Job& job) {
    if (job.width <= 0 || job.height <= 0) return;
    const std::size_t sb = store_bytes(job.precision);
    const std::size_t lanes = static_cast<std::size_t>(detail::lanes_for(job.precision));
    job.mid_stride = static_cast<std::ptrdiff_t>(static_cast<std::size_t>(job.width) * lanes * sb);
    job.mid = mid.ensure(static_cast<std::size_t>(job.mid_stride) * static_cast<std::size_t>(detail::horizontal_tasks(job)));
    const std::size_t bytes = detail::scratch_bytes(job);
    for (unsigned w = 0; w < pool.size(); ++w) {
      scratch[w].a = scratch_a[w].ensure(bytes);
      scratch[w].b = scratch_b[w].ensure(bytes);
      scratch[w].bytes = bytes;
    }
    const detail::Kernels* k = kernels;
    pool.run(detail::horizontal_tasks(job), [&](int t, unsigned w) { k->horizontal(job, t, scratch[w]); });
    pool.run(detail::vertical_tasks(job), [&](int t, unsigned w) { k->vertical(job, t, scratch[w]); });
  }

  /* fn(y0, y1, worker) over bands of rows, on the pool. */
  void rows(int h, const std::function<void(int, int, unsigned)>& fn) {
    pool.run((h + kRowsPerTask - 1) / kRowsPerTask,
             [&](int t, unsigned w) { fn(t * kRowsPerTask, std::min(h, (t + 1) * kRowsPerTask), w); });
  }

  /* The packed Store plane `k` of w×h (stride in bytes). */
  void* plane(Buffer& b, int w, int h, Precision p, std::ptrdiff_t* stride) {
    *stride = static_cast<std::ptrdiff_t>((static_cast<std::size_t>(w) * store_bytes(p) + 63) / 64 * 64);
    return b.ensure(static_cast<std::size_t>(*stride) * static_cast<std::size_t>(h));
  }

  template <typename T>
  void plane_job(const Plane<const T>& in, const Plane<T>& out, const FilterParams& params) {
    check_params(params);
    check_plane(in, "input");
    check_plane(out, "output");
    if (in.width != out.width || in.height != out.height) fail("input and output sizes differ");
    Job job = job_for(params, in.width, in.height);
    job.src_plane = in.data;
    job.src_stride = in.stride;
    job.dst_plane = out.data;
    job.dst_stride = out.stride;
    run(job);
  }

  template <typename Store, typename Acc>
  void group(const ConstVideoComponent* in, const VideoComponent* out, int count, const FilterParams& params,
             double strength, const TemporalParams& temporal, float* state, bool state_valid) {
    const int w = in[0].width, h = in[0].height;
    std::ptrdiff_t stride = 0;
    Samples smp[kMaxGroupComponents];
    Store* f[kMaxGroupComponents];
    for (int k = 0; k < count; ++k) {
      Job job = job_for(params, w, h);
      smp[k] = samples_of(in[k], &out[k]);
      job.src_video = true;
      job.video = smp[k];
      f[k] = static_cast<Store*>(plane(planes[k], w, h, params.precision, &stride));
      job.dst_plane = f[k];
      job.dst_stride = stride;
      run(job);
    }
    const Acc s = static_cast<Acc>(strength);
    const Acc one_minus_s = static_cast<Acc>(1) - s;
    const std::size_t plane_floats = static_cast<std::size_t>(w) * static_cast<std::size_t>(h);
    ensure_lines<Store>(w, count);
    rows(h, [&](int y0, int y1, unsigned worker) {
      const Lines<Store> l = row_lines<Store>(worker, w, count);
      Store* const x = l.x;
      int* const codes = l.codes;
      double o[kMaxGroupComponents], t[kMaxGroupComponents];
      for (int yy = y0; yy < y1; ++yy) {
        for (int k = 0; k < count; ++k)
          detail::load_codes<Store>(smp[k], smp[k].in + yy * smp[k].in_row, w, x + static_cast<std::size_t>(k) * w);
        for (int xx = 0; xx < w; ++xx) {
          const std::size_t i = static_cast<std::size_t>(yy) * w + xx;
          for (int k = 0; k < count; ++k) {
            const Store fk = reinterpret_cast<const Store*>(reinterpret_cast<const unsigned char*>(f[k]) + yy * stride)[xx];
            o[k] = static_cast<double>(s * static_cast<Acc>(fk) +
                                       one_minus_s * static_cast<Acc>(x[static_cast<std::size_t>(k) * w + xx]));
          }
          temporal_step(o, t, count, temporal, state ? state + i : nullptr, plane_floats, state_valid);
          for (int k = 0; k < count; ++k)
            codes[static_cast<std::size_t>(k) * w + xx] =
                detail::quantize_code(t[k], static_cast<double>((1u << smp[k].depth) - 1u));
        }
        for (int k = 0; k < count; ++k)
          detail::store_codes(smp[k], smp[k].out + yy * smp[k].out_row, w, codes + static_cast<std::size_t>(k) * w);
      }
    });
  }

  template <typename Store, typename Acc>
  void rgb_luma(const ConstVideoComponent* in, const VideoComponent* out, const LumaWeights& weights,
                const FilterParams& params, double strength, const TemporalParams& temporal, float* state,
                bool state_valid) {
    const int w = in[0].width, h = in[0].height;
    Samples smp[3];
    for (int c = 0; c < 3; ++c) smp[c] = samples_of(in[c], &out[c]);
    std::ptrdiff_t stride = 0;
    Store* y = static_cast<Store*>(plane(luma, w, h, params.precision, &stride));
    Store* f = static_cast<Store*>(plane(planes[0], w, h, params.precision, &stride));
    auto row = [stride](Store* p, int yy) {
      return reinterpret_cast<Store*>(reinterpret_cast<unsigned char*>(p) + yy * stride);
    };
    // y = (Store) luma_of(r, g, b), r, g, b normalised in Store.
    ensure_lines<Store>(w, 3);
    rows(h, [&](int y0, int y1, unsigned worker) {
      Store* const rgb = row_lines<Store>(worker, w, 3).x;
      for (int yy = y0; yy < y1; ++yy) {
        for (int c = 0; c < 3; ++c)
          detail::load_codes<Store>(smp[c], smp[c].in + yy * smp[c].in_row, w, rgb + static_cast<std::size_t>(c) * w);
        Store* d = row(y, yy);
        for (int xx = 0; xx < w; ++xx)
          d[xx] = static_cast<Store>(luma_of(static_cast<double>(rgb[xx]), static_cast<double>(rgb[w + xx]),
                                             static_cast<double>(rgb[2 * static_cast<std::size_t>(w) + xx]), weights));
      }
    });
    Job job = job_for(params, w, h);
    job.src_plane = y;
    job.src_stride = stride;
    job.dst_plane = f;
    job.dst_stride = stride;
    run(job);
    const Acc s = static_cast<Acc>(strength);
    const Acc one_minus_s = static_cast<Acc>(1) - s;
    rows(h, [&](int y0, int y1, unsigned worker) {
      const Lines<Store> l = row_lines<Store>(worker, w, 3);
      Store* const rgb = l.x;
      int* const codes = l.codes;
      for (int yy = y0; yy < y1; ++yy) {
        for (int c = 0; c < 3; ++c)
          detail::load_codes<Store>(smp[c], smp[c].in + yy * smp[c].in_row, w, rgb + static_cast<std::size_t>(c) * w);
        const Store* yr = row(y, yy);
        const Store* fr = row(f, yy);
        for (int xx = 0; xx < w; ++xx) {
          const std::size_t i = static_cast<std::size_t>(yy) * w + xx;
          const double o = static_cast<double>(s * static_cast<Acc>(fr[xx]) + one_minus_s * static_cast<Acc>(yr[xx]));
          double t;
          temporal_step(&o, &t, 1, temporal, state ? state + i : nullptr, 0, state_valid);
          const double delta = t - static_cast<double>(yr[xx]);
          for (int c = 0; c < 3; ++c)
            codes[static_cast<std::size_t>(c) * w + xx] =
                detail::quantize_code(static_cast<double>(rgb[static_cast<std::size_t>(c) * w + xx]) + delta,
                                      static_cast<double>((1u << smp[c].depth) - 1u));
        }
        for (int c = 0; c < 3; ++c)
          detail::store_codes(smp[c], smp[c].out + yy * smp[c].out_row, w, codes + static_cast<std::size_t>(c) * w);
      }
    });
  }
};

Engine::Engine(unsigned threads, Isa isa) : impl_(std::make_unique<Impl>(threads, isa)) {}
Engine::~Engine() = default;

unsigned Engine::threads() const { return impl_->pool.size(); }
unsigned Engine::threads_requested() const { return impl_->requested; }
const std::string& Engine::threads_error() const { return impl_->pool.error(); }
const char* Engine::isa_name() const { return impl_->kernels->name; }


void Engine::filter_plane(const Plane<const float>& in, const Plane<float>& out, const FilterParams& params) {
  if (params.precision != Precision::F32 && params.precision != Precision::Mixed)
    fail("float32 planes need precision f32 or mixed");
  impl_->plane_job(in, out, params);
}

void Engine::filter_plane(const Plane<const double>& in, const Plane<double>& out, const FilterParams& params) {
  if (params.precision != Precision::F64) fail("float64 planes need precision f64");
  impl_->plane_job(in, out, params);
}

void Engine::filter_video_component(const ConstVideoComponent& in, const VideoComponent& out,
                                    const FilterParams& params, double strength) {
  check_params(params);
  check_pair(in, out);
  check_strength(strength);
  Job job = Impl::job_for(params, in.width, in.height);
  job.src_video = true;
  job.video = samples_of(in, &out);
  job.sink_video = true;
  job.strength = strength;
  impl_->run(job);
}

void Engine::copy_video_component(const ConstVideoComponent& in, const VideoComponent& out) {
  check_component(in, "input");
  check_component(out, "output");
  if (in.width != out.width || in.height != out.height || in.type != out.type)
    fail("input and output components differ in size or sample type");
  const std::size_t bytes = in.type == SampleType::U8 ? 1 : 2;
  const auto* src = static_cast<const unsigned char*>(in.data);
  auto* dst = static_cast<unsigned char*>(out.data);
  if (src == dst && in.row_stride == out.row_stride && in.pixel_stride == out.pixel_stride) return;
  const bool rows_packed = in.pixel_stride == static_cast<std::ptrdiff_t>(bytes) && out.pixel_stride == in.pixel_stride;
  for (int yy = 0; yy < in.height; ++yy) {
    const unsigned char* s = src + yy * in.row_stride;
    unsigned char* d = dst + yy * out.row_stride;
    if (rows_packed) {
      std::memmove(d, s, static_cast<std::size_t>(in.width) * bytes);
    } else {
      for (int xx = 0; xx < in.width; ++xx) std::memcpy(d + xx * out.pixel_stride, s + xx * in.pixel_stride, bytes);
    }
  }
}

void Engine::filter_component_group(const ConstVideoComponent* in, const VideoComponent* out, int count,
                                    const FilterParams& params, double strength, const TemporalParams& temporal,
                                    float* state, bool state_valid) {
  check_group(in, out, count, params, strength, temporal, state);
  if (in[0].width == 0 || in[0].height == 0) return;
  switch (params.precision) {
    case Precision::F32: impl_->group<float, float>(in, out, count, params, strength, temporal, state, state_valid); break;
    case Precision::Mixed: impl_->group<float, double>(in, out, count, params, strength, temporal, state, state_valid); break;
    case Precision::F64: impl_->group<double, double>(in, out, count, params, strength, temporal, state, state_valid); break;
  }
}

void Engine::filter_rgb_luma(const ConstVideoComponent* in, const VideoComponent* out, const LumaWeights& weights,
                             const FilterParams& params, double strength, const TemporalParams& temporal,
                             float* state, bool state_valid) {
  check_group(in, out, 3, params, strength, temporal, state);
  if (in[0].width == 0 || in[0].height == 0) return;
  switch (params.precision) {
    case Precision::F32: impl_->rgb_luma<float, float>(in, out, weights, params, strength, temporal, state, state_valid); break;
    case Precision::Mixed: impl_->rgb_luma<float, double>(in, out, weights, params, strength, temporal, state, state_valid); break;
    case Precision::F64: impl_->rgb_luma<double, double>(in, out, weights, params, strength, temporal, state, state_valid); break;
  }
}

}  // namespace iir2d::fastcpu
