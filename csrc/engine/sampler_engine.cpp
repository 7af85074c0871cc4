// sampler_engine.cpp - the samplers' native batch engine (torch_poisson._engine).
//
// PoissonBatchSampler's batches are computed here, ahead of the training loop,
// by a small pool of std::threads. Batch b of epoch e is a pure function of
// (seed, epoch, b, rank):
//
//   1. draw pool_size distinct dataset indices without replacement (Floyd's
//      algorithm over a counter-based splitmix64 stream keyed on the four
//      numbers; no permutation of the data set), sorted ascending;
//   2. gather their feature rows;
//   3. pds_eliminate them (serially: the parallelism is across batches) to
//      exactly batch_size, and map the survivors back to dataset indices.
//
// Results are stored by batch number and handed out in order, so what a
// caller sees does not depend on the number of threads, the prefetch depth or
// the timing. The engine touches no torch type (pybind11 + numpy only), so it
// does not tie the build to a torch version.
//
// Threads: started lazily by start()/next(), at a lower scheduling priority
// (nice +10 on Linux) than the thread that consumes the batches: on a machine
// with as many busy threads as cores, the training loop's wakeups (e.g. after
// waiting on the GPU) would otherwise queue behind a batch in progress
// (benchmarks/bench_loader.py measures it). stop() (and the destructor)
// raises the core's cancel flag and joins them, keeping every finished batch.
// Python stops all engines before fork() (os.register_at_fork), so a child
// never inherits a live thread; the parent restarts them lazily.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <new>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "pds.h"
#include "../torch/portable.h"

#if defined(__linux__)
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

namespace py = pybind11;

namespace {

// ------------------------------------------------------------------ RNG --

inline uint64_t splitmix64(uint64_t &state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

// One stream per (seed, epoch, batch, rank): each number is mixed in turn.
uint64_t stream_key(uint64_t seed, uint64_t epoch, uint64_t batch, uint64_t rank) {
  uint64_t s = 0x243F6A8885A308D3ULL;  // pi's digits: an arbitrary start
  uint64_t k = splitmix64(s) ^ seed;
  k = splitmix64(k) ^ epoch;
  k = splitmix64(k) ^ batch;
  k = splitmix64(k) ^ rank;
  return splitmix64(k);
}

// Uniform in [0, bound): Lemire's multiply-shift with rejection (unbiased).
inline uint64_t uniform_below(uint64_t &state, uint64_t bound) {
  uint64_t x = splitmix64(state);
  __uint128_t m = static_cast<__uint128_t>(x) * bound;
  uint64_t low = static_cast<uint64_t>(m);
  if (low < bound) {
    uint64_t threshold = (0 - bound) % bound;
    while (low < threshold) {
      x = splitmix64(state);
      m = static_cast<__uint128_t>(x) * bound;
      low = static_cast<uint64_t>(m);
    }
  }
  return static_cast<uint64_t>(m >> 64);
}

// Sorts values uniform over [0, n) ascending: a counting sort on v * m / n
// (about one value a bucket) and an insertion sort of what is left out of
// order, O(m), cheaper than std::sort on a batch's pool.
void sort_uniform(std::vector<int64_t> &out, int64_t n, std::vector<int64_t> &table) {
  const size_t m = out.size();
  if (m < 2) return;
  table.assign(2 * m + 1, 0);
  int64_t *count = table.data(), *sorted = table.data() + m + 1;
  // v * m / n in doubles (a 128-bit division is a library call a value):
  // monotone in v, which is all the buckets need; clamped against rounding
  const double scale = static_cast<double>(m) / static_cast<double>(n);
  auto bucket = [&](int64_t v) {
    size_t b = static_cast<size_t>(static_cast<double>(v) * scale);
    return b < m ? b : m - 1;
  };
  for (int64_t v : out) count[bucket(v) + 1]++;
  for (size_t b = 0; b < m; ++b) count[b + 1] += count[b];
  for (int64_t v : out) sorted[count[bucket(v)]++] = v;
  for (size_t i = 1; i < m; ++i) {
    int64_t v = sorted[i];
    size_t j = i;
    for (; j > 0 && sorted[j - 1] > v; --j) sorted[j] = sorted[j - 1];
    sorted[j] = v;
  }
  std::copy(sorted, sorted + m, out.begin());
}

// k distinct values of [0, n), ascending, uniform over the k-subsets.
// Sparse draws (k <= n / 16, the samplers' pools): the first k distinct
// values of an i.i.d. uniform stream (any k-subset as likely as any other),
// found by drawing k, sorting, dropping repeats and drawing single values
// until k are distinct (about k^2 / 2n repeats: 2 for 2048 of 1M); no hash
// set, so cheaper than Floyd's below. Denser
// draws: Floyd's algorithm, with an open-addressing hash set of a power of
// two >= 2k slots. Both O(k) expected, independent of n.
void draw_distinct(uint64_t key, int64_t n, int64_t k, std::vector<int64_t> &out,
                   std::vector<int64_t> &table) {
  out.clear();
  if (k >= n) {
    for (int64_t i = 0; i < n; ++i) out.push_back(i);
    return;
  }
  uint64_t state = key;
  if (k <= n / 16) {
    out.resize(static_cast<size_t>(k));
    for (int64_t i = 0; i < k; ++i) out[static_cast<size_t>(i)] = static_cast<int64_t>(uniform_below(state, static_cast<uint64_t>(n)));
    sort_uniform(out, n, table);
    out.erase(std::unique(out.begin(), out.end()), out.end());
    while (static_cast<int64_t>(out.size()) < k) {
      int64_t v = static_cast<int64_t>(uniform_below(state, static_cast<uint64_t>(n)));
      auto at = std::lower_bound(out.begin(), out.end(), v);
      if (at == out.end() || *at != v) out.insert(at, v);
    }
    return;
  }
  size_t cap = 16;
  while (cap < static_cast<size_t>(2 * k)) cap <<= 1;
  table.assign(cap, -1);
  const size_t mask = cap - 1;
  auto insert = [&](int64_t v) -> bool {  // false when already present
    size_t h = static_cast<size_t>((static_cast<uint64_t>(v) * 0x9E3779B97F4A7C15ULL) >> 17) & mask;
    while (table[h] != -1) {
      if (table[h] == v) return false;
      h = (h + 1) & mask;
    }
    table[h] = v;
    return true;
  };
  for (int64_t j = n - k; j < n; ++j) {
    int64_t t = static_cast<int64_t>(uniform_below(state, static_cast<uint64_t>(j) + 1));
    if (insert(t))
      out.push_back(t);
    else {
      insert(j);
      out.push_back(j);
    }
  }
  sort_uniform(out, n, table);
}

// ---------------------------------------------------------------- engine --

struct Result {
  std::vector<int64_t> indices;
  int code = 0;  // pds_status
  std::string message;
};

class Engine {
 public:
  Engine(py::array_t<double, py::array::c_style> features, int64_t batch_size, int64_t pool_size,
         int64_t num_batches, uint64_t seed, int64_t rank, int prefetch, int num_threads,
         double alpha, double beta, double gamma, bool weight_limiting, bool progressive,
         bool periodic, py::object bounds, double radius, int metric, double volume, int dim,
         bool auto_radius)
      : features_(features),
        batch_size_(batch_size),
        pool_size_(pool_size),
        num_batches_(num_batches),
        seed_(seed),
        rank_(rank),
        prefetch_(prefetch),
        num_threads_(num_threads) {
    if (features.ndim() != 2)
      throw py::value_error("features must be 2-D (N, d), got " + std::to_string(features.ndim()) + "-D");
    n_ = features.shape(0);
    d_ = static_cast<int>(features.shape(1));
    data_ = features.data();
    if (n_ < 1 || d_ < 1) throw py::value_error("features must be non-empty, got shape (" +
                                                std::to_string(n_) + ", " + std::to_string(d_) + ")");
    if (batch_size < 1 || batch_size > n_)
      throw py::value_error("batch_size must be in [1, " + std::to_string(n_) + "], got " +
                            std::to_string(batch_size));
    if (pool_size < batch_size || pool_size > n_)
      throw py::value_error("pool_size must be in [batch_size, N], got " + std::to_string(pool_size));
    if (num_batches < 0) throw py::value_error("num_batches must be >= 0, got " + std::to_string(num_batches));
    if (prefetch < 1) throw py::value_error("prefetch must be >= 1, got " + std::to_string(prefetch));
    if (num_threads < 1) throw py::value_error("num_threads must be >= 1, got " + std::to_string(num_threads));
    // as many as leave every worker a batch of the window to go on with, at
    // most 16 (the group is checked batch by batch)
    group_ = std::min<int64_t>(16, std::max<int64_t>(1, prefetch_ - num_threads_));
    pds_options_init(&opt_);
    if (torch_poisson::portable_setting() < 0) throw py::value_error(torch_poisson::portable_error());
    opt_.portable = torch_poisson::portable_setting();
    opt_.alpha = alpha;
    opt_.beta = beta;
    opt_.gamma = gamma;
    opt_.weight_limiting = weight_limiting ? 1 : 0;
    opt_.progressive = progressive ? 1 : 0;
    opt_.periodic = periodic ? 1 : 0;
    opt_.radius = radius;
    opt_.metric = static_cast<pds_metric>(metric);
    opt_.volume = volume;
    opt_.dim = dim;
    opt_.auto_radius = auto_radius ? 1 : 0;
    if (!bounds.is_none()) {
      auto b = py::array_t<double, py::array::c_style | py::array::forcecast>::ensure(bounds);
      if (!b || b.ndim() != 2 || b.shape(0) != 2 || b.shape(1) != d_)
        throw py::value_error("bounds must be a (2, d) float64 array with d = " + std::to_string(d_));
      bounds_.assign(b.data(), b.data() + 2 * d_);
    }
    // (pointers into bounds_ are set per call: opt_ is copied by workers)
  }

  ~Engine() { stop(); }

  Engine(const Engine &) = delete;
  Engine &operator=(const Engine &) = delete;

  // Computes batch b of epoch e now, in the calling thread (GIL released).
  py::array_t<int64_t> compute(int64_t epoch, int64_t b) {
    Result r;
    {
      py::gil_scoped_release nogil;
      Scratch s;
      compute_into(epoch, b, s, nullptr, r);
    }
    return to_array(r);
  }

  // Begins epoch `epoch` at batch `first`: drops queued batches of any other
  // position and lets the workers compute ahead from there.
  void start(int64_t epoch, int64_t first) {
    if (first < 0 || first > num_batches_)
      throw py::value_error("first batch must be in [0, num_batches], got " + std::to_string(first));
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++generation_;  // work in flight for the old position is dropped when it lands
      epoch_ = epoch;
      next_ = first;
      ready_.clear();
      inflight_.clear();
      spawn_locked();
    }
    cv_work_.notify_all();
  }

  // The next batch of the current epoch, in order (waits, GIL released).
  // Raises IndexError when the epoch is exhausted.
  py::array_t<int64_t> next() {
    Result r;
    bool exhausted = false;
    {
      py::gil_scoped_release nogil;
      std::unique_lock<std::mutex> lock(mu_);
      if (next_ >= num_batches_) {
        exhausted = true;
      } else {
        const int64_t want = next_;
        // When it has to wait (the workers are behind), it waits for a group
        // of batches, not one: each sleep and wakeup costs this thread CPU
        // time on a core the workers need. The group leaves the workers room
        // to go on (prefetch - num_threads batches), so they never idle while
        // it sleeps; a batch that is ready is returned at once.
        const int64_t group_end = group_end_locked();
        bool waited = false;
        while (!group_ready_locked(want, waited ? group_end : want + 1)) {
          spawn_locked();  // lazily, e.g. after a fork; not while paused
          cv_work_.notify_all();
          waiting_ = true;
          cv_ready_.wait(lock);
          waiting_ = false;
          waited = true;
        }
        r = std::move(ready_[want]);
        ready_.erase(want);
        ++next_;
      }
    }
    if (exhausted) throw py::index_error("the epoch has no more batches");
    // one slot opened: wake one worker (waking all of them makes the idle
    // ones queue, runnable, behind a busy one on its core, and the batch
    // waits for that)
    cv_work_.notify_one();
    return to_array(r);
  }

  // Stops and joins the threads; finished batches are kept. With pause, no
  // thread is started again until resume() (the fork handlers use this);
  // otherwise they come back at the next start()/next(). Safe to call many
  // times. Workers never take the GIL, so joining with it held is safe.
  void stop(bool pause = false) {
    std::vector<std::thread> threads;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (pause) paused_ = true;
      if (threads_.empty()) return;
      stopping_ = true;
      cancel_flag_.store(1);
      threads.swap(threads_);
    }
    cv_work_.notify_all();
    for (auto &t : threads) t.join();
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = false;
      cancel_flag_.store(0);
      inflight_.clear();
    }
    cv_ready_.notify_all();  // a waiting next() restarts them (unless paused)
  }

  void resume() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      paused_ = false;
    }
    cv_ready_.notify_all();
  }

  int threads_running() {
    std::lock_guard<std::mutex> lock(mu_);
    return static_cast<int>(threads_.size());
  }

  int64_t num_batches() const { return num_batches_; }
  int64_t position() {
    std::lock_guard<std::mutex> lock(mu_);
    return next_;
  }

 private:
  struct Scratch {
    std::vector<int64_t> pool, table, out;
    std::vector<double> x;
    // the core's buffers, kept from batch to batch (NULL: allocated per call)
    pds_workspace *ws = pds_workspace_new();
    Scratch() = default;
    Scratch(const Scratch &) = delete;
    Scratch &operator=(const Scratch &) = delete;
    ~Scratch() { pds_workspace_free(ws); }
  };

  // Under mu_: starts the workers unless they run, are stopping or paused.
  void spawn_locked() {
    if (!threads_.empty() || stopping_ || paused_) return;
    for (int i = 0; i < num_threads_; ++i) threads_.emplace_back([this] { worker(); });
  }

  // Lowers the calling thread's priority below the consumer's (best effort).
  static void lower_priority() {
#if defined(__linux__)
    const id_t tid = static_cast<id_t>(syscall(SYS_gettid));
    errno = 0;
    const int now = getpriority(PRIO_PROCESS, tid);
    if (errno == 0) setpriority(PRIO_PROCESS, tid, std::min(now + 10, 19));
#endif
  }

  void worker() {
    lower_priority();
    Scratch s;
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
      int64_t b = -1;
      cv_work_.wait(lock, [&] { return stopping_ || (b = pick()) >= 0; });
      if (stopping_) return;
      const uint64_t gen = generation_;
      const int64_t epoch = epoch_;
      inflight_.insert(b);
      lock.unlock();
      Result r;
      try {
        compute_into(epoch, b, s, &cancel_flag_, r);
      } catch (const std::bad_alloc &) {  // nothing may escape a thread
        r.code = PDS_ERR_OUT_OF_MEMORY;
        r.message = "out of memory while preparing a batch";
      }
      lock.lock();
      if (gen != generation_) continue;  // a start() moved on: drop it
      inflight_.erase(b);
      if (r.code == PDS_ERR_CANCELLED) continue;  // stop(): recomputed later
      ready_[b] = std::move(r);
      // only the group next() waits for wakes it, when complete (batches
      // finish out of order; each needless wakeup costs the consumer a trip
      // through the scheduler on a core a worker is using)
      if (waiting_) {
        const int64_t end = group_end_locked();
        if (b >= next_ && b < end && group_ready_locked(next_, end)) cv_ready_.notify_all();
      }
    }
  }

  // Under mu_: the end of the group next() waits for when it has to wait.
  int64_t group_end_locked() const { return std::min(num_batches_, next_ + group_); }

  // Under mu_: whether next() may stop waiting for the batches [b, end):
  // batch b is ready, and each of the others is ready or no worker will
  // bring it (none is on it and none runs: stopped or paused). Running
  // workers take every batch of the window, so then each one comes.
  bool group_ready_locked(int64_t b, int64_t end) const {
    if (!ready_.count(b)) return false;
    const bool working = !threads_.empty() && !stopping_ && !paused_;
    for (int64_t c = b + 1; c < end; ++c)
      if (!ready_.count(c) && (working || inflight_.count(c))) return false;
    return true;
  }

  // Under mu_: the first batch in [next_, next_ + prefetch_) neither ready nor
  // being computed, or -1.
  int64_t pick() {
    const int64_t end = std::min(num_batches_, next_ + prefetch_);
    for (int64_t b = next_; b < end; ++b)
      if (!ready_.count(b) && !inflight_.count(b)) return b;
    return -1;
  }

  void compute_into(int64_t epoch, int64_t b, Scratch &s, const std::atomic<int> *cancel,
                    Result &r) const {
    const uint64_t key = stream_key(seed_, static_cast<uint64_t>(epoch), static_cast<uint64_t>(b),
                                    static_cast<uint64_t>(rank_));
    draw_distinct(key, n_, pool_size_, s.pool, s.table);
    const int64_t m = static_cast<int64_t>(s.pool.size());
    s.x.resize(static_cast<size_t>(m) * d_);
    // the rows, with the copy of a few coordinates inlined (std::copy of 16
    // bytes is a memmove call a row)
    double *dst = s.x.data();
    const int64_t *pool = s.pool.data();
    if (d_ == 2) {
      for (int64_t i = 0; i < m; ++i) {
        if (i + 64 < m) __builtin_prefetch(data_ + pool[i + 64] * 2);
        const double *src = data_ + pool[i] * 2;
        dst[2 * i] = src[0];
        dst[2 * i + 1] = src[1];
      }
    } else if (d_ == 3) {
      for (int64_t i = 0; i < m; ++i) {
        const double *src = data_ + pool[i] * 3;
        dst[3 * i] = src[0];
        dst[3 * i + 1] = src[1];
        dst[3 * i + 2] = src[2];
      }
    } else {
      for (int64_t i = 0; i < m; ++i) std::copy(data_ + pool[i] * d_, data_ + (pool[i] + 1) * d_, dst + i * d_);
    }
    pds_options opt = opt_;
    opt.bounds = bounds_.empty() ? nullptr : bounds_.data();
    static_assert(sizeof(std::atomic<int>) == sizeof(int), "atomic<int> must be a plain int");
    opt.cancel = cancel ? reinterpret_cast<const volatile int *>(cancel) : nullptr;
    opt.workspace = s.ws;
    s.out.resize(static_cast<size_t>(batch_size_));
    pds_error err;
    pds_status st = pds_eliminate(s.x.data(), m, d_, batch_size_, &opt, s.out.data(), &err);
    r.code = st;
    if (st != PDS_OK) {
      r.message = err.message;
      r.indices.clear();
      return;
    }
    r.indices.resize(static_cast<size_t>(batch_size_));
    for (int64_t i = 0; i < batch_size_; ++i) r.indices[i] = s.pool[s.out[i]];
  }

  static py::array_t<int64_t> to_array(Result &r) {
    if (r.code != PDS_OK) {
      if (r.code == PDS_ERR_INVALID_ARGUMENT || r.code == PDS_ERR_NONFINITE)
        throw py::value_error(r.message);
      throw std::runtime_error(std::string(pds_status_name(static_cast<pds_status>(r.code))) + ": " +
                               r.message);
    }
    py::array_t<int64_t> a(static_cast<py::ssize_t>(r.indices.size()));
    std::copy(r.indices.begin(), r.indices.end(), a.mutable_data());
    return a;
  }

  // configuration (immutable after construction)
  py::array_t<double, py::array::c_style> features_;  // keeps the data alive
  const double *data_ = nullptr;
  int64_t n_ = 0;
  int d_ = 0;
  int64_t batch_size_, pool_size_, num_batches_;
  uint64_t seed_;
  int64_t rank_;
  int64_t prefetch_;
  int num_threads_;
  int64_t group_;  // how many batches next() waits for when it has to wait
  pds_options opt_;
  std::vector<double> bounds_;

  // state, under mu_
  std::mutex mu_;
  std::condition_variable cv_work_, cv_ready_;
  std::vector<std::thread> threads_;
  bool stopping_ = false;
  bool paused_ = false;
  uint64_t generation_ = 0;
  int64_t epoch_ = 0;
  int64_t next_ = 0;
  std::map<int64_t, Result> ready_;
  std::set<int64_t> inflight_;
  bool waiting_ = false;  // next() sleeps, waiting for [next_, group_end_locked())
  std::atomic<int> cancel_flag_{0};
};

// Floyd's draw, exposed for tests and for PoissonSampler's candidate pool.
py::array_t<int64_t> draw_pool(int64_t n, int64_t k, uint64_t seed, int64_t epoch, int64_t b,
                               int64_t rank) {
  if (n < 1) throw py::value_error("n must be >= 1, got " + std::to_string(n));
  if (k < 0 || k > n) throw py::value_error("k must be in [0, n], got " + std::to_string(k));
  std::vector<int64_t> out, table;
  draw_distinct(stream_key(seed, static_cast<uint64_t>(epoch), static_cast<uint64_t>(b),
                           static_cast<uint64_t>(rank)),
                n, k, out, table);
  py::array_t<int64_t> a(static_cast<py::ssize_t>(out.size()));
  std::copy(out.begin(), out.end(), a.mutable_data());
  return a;
}

}  // namespace

PYBIND11_MODULE(_engine, m) {
  m.doc() = "torch_poisson's native batch engine for PoissonBatchSampler (no torch types).";
  py::class_<Engine>(m, "Engine")
      .def(py::init<py::array_t<double, py::array::c_style>, int64_t, int64_t, int64_t, uint64_t,
                    int64_t, int, int, double, double, double, bool, bool, bool, py::object, double,
                    int, double, int, bool>(),
           py::arg("features"), py::arg("batch_size"), py::arg("pool_size"), py::arg("num_batches"),
           py::arg("seed"), py::arg("rank"), py::arg("prefetch"), py::arg("num_threads"),
           py::arg("alpha") = 8.0, py::arg("beta") = 0.65, py::arg("gamma") = 1.5,
           py::arg("weight_limiting") = true, py::arg("progressive") = false,
           py::arg("periodic") = false, py::arg("bounds") = py::none(), py::arg("radius") = 0.0,
           py::arg("metric") = 0, py::arg("volume") = 0.0, py::arg("dim") = 0,
           py::arg("auto_radius") = false)
      .def("compute", &Engine::compute, py::arg("epoch"), py::arg("batch"),
           "Batch `batch` of epoch `epoch`, computed now: (batch_size,) int64 dataset indices.")
      .def("start", &Engine::start, py::arg("epoch"), py::arg("first") = 0)
      .def("next", &Engine::next)
      .def("stop", &Engine::stop, py::arg("pause") = false,
           py::call_guard<py::gil_scoped_release>(),
           "Stops and joins the threads (pause=True: keep them off until resume()).")
      .def("resume", &Engine::resume)
      .def_property_readonly("threads_running", &Engine::threads_running)
      .def_property_readonly("num_batches", &Engine::num_batches)
      .def_property_readonly("position", &Engine::position);
  m.def(
      "cpu_path",
      [] {
        if (torch_poisson::portable_setting() < 0) throw py::value_error(torch_poisson::portable_error());
        pds_options opt;
        pds_options_init(&opt);
        opt.portable = torch_poisson::portable_setting();
        return std::string(pds_cpu_path(&opt));
      },
      "The core's kernels on this CPU for this process: \"avx512\" or \"portable\" "
      "(TORCH_POISSON_PORTABLE=1 forces the portable ones).");
  m.def("draw_pool", &draw_pool, py::arg("n"), py::arg("k"), py::arg("seed"), py::arg("epoch"),
        py::arg("batch"), py::arg("rank"),
        "k distinct indices of [0, n), ascending, a pure function of (seed, epoch, batch, rank).");
}
