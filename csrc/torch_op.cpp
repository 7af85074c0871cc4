// torch_op.cpp - the torch operators torch_poisson::sample_elimination and
// torch_poisson::sample_elimination_batched (padded (B, M, d) batches, items in
// parallel on torch's pool, each item serial inside).
//
// A thin shim over the C core (pds.h), built against LibTorch's stable ABI
// (torch >= 2.10) so one build loads on later torch releases: it checks the
// arguments (messages print what was given), converts tensors to contiguous
// float64 on the CPU, runs the core on torch's thread pool and returns int64
// indices on the input's device. The fake (meta) kernel lives in
// torch_poisson/ops.py.
#include <torch/csrc/stable/library.h>
#include <torch/csrc/stable/ops.h>
#include <torch/csrc/stable/tensor.h>
#include <torch/headeronly/core/ScalarType.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "interrupt.h"
#include "pds.h"

#if defined(__unix__) || defined(__APPLE__)
#include <unistd.h>
#endif

// STD_TORCH_CHECK prefixes each message with the C++ function and the build
// machine's source path and line; users get the message alone (it already
// names the operator, the argument and the value).
#ifndef STRIP_ERROR_MESSAGES
#undef STD_TORCH_CHECK
#define STD_TORCH_CHECK(cond, ...)                                               \
  if (!(cond)) {                                                                 \
    throw std::runtime_error(                                                    \
        torch::headeronly::detail::stdTorchCheckMsgImpl("", ##__VA_ARGS__));     \
  }
#endif

namespace {

using torch::headeronly::ScalarType;
using torch::stable::Tensor;

// Calls asked to be interruptible (the Python API's, on Python's main thread:
// Ctrl-C is the main thread's) with at least this many points (a few ms and
// up) take Ctrl-C (interrupt.h); smaller ones skip the two sigaction calls.
constexpr int64_t kInterruptiblePoints = 8192;

// The core's message, or what stopped a cancelled call.
const char* failure(pds_status st, const pds_error& err, const torch_poisson_interrupt::Scope& i) {
  return st == PDS_ERR_CANCELLED && i.interrupted() ? "interrupted (SIGINT, Ctrl-C)" : err.message;
}

std::string shape_of(const Tensor& t) {
  std::ostringstream s;
  s << "[";
  for (int64_t i = 0; i < t.dim(); ++i) s << (i ? ", " : "") << t.size(i);
  s << "]";
  return s.str();
}

const char* dtype_name(ScalarType t) {
  switch (t) {
    case ScalarType::Float: return "float32";
    case ScalarType::Double: return "float64";
    case ScalarType::Half: return "float16";
    case ScalarType::BFloat16: return "bfloat16";
    case ScalarType::Long: return "int64";
    case ScalarType::Int: return "int32";
    case ScalarType::Short: return "int16";
    case ScalarType::Char: return "int8";
    case ScalarType::Byte: return "uint8";
    case ScalarType::Bool: return "bool";
    case ScalarType::ComplexFloat: return "complex64";
    case ScalarType::ComplexDouble: return "complex128";
    default: return "an unsupported dtype";
  }
}

// the points' dtypes (the Python API's and the fake kernels' too)
bool is_points_dtype(ScalarType t) { return t == ScalarType::Float || t == ScalarType::Double; }

bool is_float(ScalarType t) {
  return t == ScalarType::Float || t == ScalarType::Double || t == ScalarType::Half ||
         t == ScalarType::BFloat16;
}

// Contiguous float64 CPU copy (or the tensor itself when it already is one).
Tensor as_cpu_double(const Tensor& t) {
  Tensor c = t;
  if (!t.is_cpu() || t.scalar_type() != ScalarType::Double)
    c = torch::stable::to(t, ScalarType::Double, std::nullopt,
                          torch::stable::Device(torch::headeronly::DeviceType::CPU));
  return torch::stable::contiguous(c);
}

// Bytes this process can still allocate without being killed: Linux's
// MemAvailable, capped by a cgroup v2 memory limit (containers); else the
// physical memory; 0 when unknown (no check).
uint64_t available_memory() {
  uint64_t avail = 0;
  std::ifstream info("/proc/meminfo");
  std::string key, unit;
  uint64_t kb = 0;
  while (info >> key >> kb) {
    std::getline(info, unit);
    if (key == "MemAvailable:") {
      avail = kb * 1024;
      break;
    }
  }
#if defined(_SC_PHYS_PAGES) && defined(_SC_PAGESIZE)
  if (!avail) {
    long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);
    if (pages > 0 && size > 0) avail = static_cast<uint64_t>(pages) * static_cast<uint64_t>(size);
  }
#endif
  uint64_t limit = 0, used = 0;
  std::ifstream max_file("/sys/fs/cgroup/memory.max"), cur_file("/sys/fs/cgroup/memory.current");
  if ((max_file >> limit) && (cur_file >> used) && limit > used && (!avail || limit - used < avail))
    avail = limit - used;  // "max" (no limit) does not parse as a number
  return avail;
}

// pds_parallel_for_fn over torch's intra-op thread pool, so
// torch.set_num_threads governs the core.
void torch_parallel_for(void* /*user*/, int64_t begin, int64_t end, int64_t grain,
                        pds_range_fn fn, void* task) {
  torch::stable::parallel_for(begin, end, grain,
                              [fn, task](int64_t b, int64_t e) { fn(task, b, e); });
}

pds_metric parse_metric(const char* op, const std::string& metric) {
  if (metric == "euclidean") return PDS_METRIC_EUCLIDEAN;
  if (metric == "so3") return PDS_METRIC_SO3;
  if (metric == "sphere") return PDS_METRIC_SPHERE;
  STD_TORCH_CHECK(false, op, ": metric must be \"euclidean\", \"so3\" or \"sphere\", got \"", metric,
                  "\"");
  return PDS_METRIC_EUCLIDEAN;
}

// Bytes of the float64 CPU copy as_cpu_double makes (0 when it needs none).
double copy_bytes(const Tensor& points) {
  const bool copy = !points.is_cpu() || points.scalar_type() != ScalarType::Double ||
                    !points.is_contiguous();
  return copy ? 8.0 * static_cast<double>(points.numel()) : 0.0;
}

// Refuses, before converting or allocating anything, a request the machine
// cannot hold (rather than be killed by the kernel halfway through); returns
// the bytes available (0: not checked). Reading /proc/meminfo costs ~20 us:
// skipped for requests under 64 MiB, which a 2,048-point batch, at ~0.45 ms
// a call, would otherwise pay each time.
uint64_t check_memory(const char* op, const Tensor& points, double need) {
  const uint64_t avail = need < double(64 << 20) ? 0 : available_memory();
  STD_TORCH_CHECK(!avail || need <= static_cast<double>(avail), op, ": points of shape ",
                  shape_of(points), " need about ", static_cast<int64_t>(need / (1 << 20)),
                  " MiB of working memory, more than the ", static_cast<int64_t>(avail >> 20),
                  " MiB this machine has available: pass fewer points");
  return avail;
}

// The options shared by the single and the batched form. `hold` keeps the
// float64 copy of bounds alive while opt points into it.
pds_options make_options(const char* op, int64_t d, const std::optional<Tensor>& bounds,
                         std::optional<double> radius,
                         bool periodic, double alpha, double beta, double gamma, bool weight_limiting,
                         bool progressive, const std::string& metric, std::optional<int64_t> dim,
                         std::optional<double> volume, bool auto_radius, std::optional<Tensor>& hold) {
  pds_options opt;
  pds_options_init(&opt);
  if (bounds.has_value()) {
    const Tensor& bt = *bounds;
    STD_TORCH_CHECK(bt.dim() == 2 && bt.size(0) == 2 && bt.size(1) == d,
                    op, ": bounds must have shape [2, d] = [2, ", d, "], got ",
                    shape_of(bt));
    STD_TORCH_CHECK(is_float(bt.scalar_type()) || bt.scalar_type() == ScalarType::Long ||
                        bt.scalar_type() == ScalarType::Int,
                    op, ": bounds must be a real tensor, got ",
                    dtype_name(bt.scalar_type()));
    hold = as_cpu_double(bt);
    opt.bounds = static_cast<const double*>(hold->const_data_ptr());
  }
  if (radius.has_value()) {
    STD_TORCH_CHECK(*radius > 0.0 && std::isfinite(*radius),
                    op, ": radius must be finite and > 0, got ", *radius);
    STD_TORCH_CHECK(!auto_radius, op, ": give radius=", *radius,
                    " or auto_radius=True, not both");
    opt.radius = *radius;
  }
  if (dim.has_value()) {
    STD_TORCH_CHECK(*dim >= 1 && *dim <= 1000000, op, ": dim must be in [1, 1000000], got dim=", *dim);
    opt.dim = static_cast<int>(*dim);
  }
  if (volume.has_value()) {
    STD_TORCH_CHECK(*volume > 0.0 && std::isfinite(*volume),
                    op, ": volume must be finite and > 0, got volume=", *volume);
    opt.volume = *volume;
  }
  opt.metric = parse_metric(op, metric);
  opt.auto_radius = auto_radius;
  opt.periodic = periodic;
  opt.alpha = alpha;
  opt.beta = beta;
  opt.gamma = gamma;
  opt.weight_limiting = weight_limiting;
  opt.progressive = progressive;
  // with one torch thread no parallel-for: then every level within the pair
  // budget takes the core's serial path (1.2x faster than the parallel one
  // run on one thread at 100k points)
  opt.parallel_for = torch::stable::get_num_threads() > 1 ? torch_parallel_for : nullptr;
  return opt;
}

// The calling thread's workspace (pds_workspace): repeated calls on small and
// mid-sized problems (up to ~64 MiB of buffers, e.g. SO(3) 8000 -> 200 with its
// 229 neighbours a point) reuse the core's buffers instead of faulting fresh
// pages in on every call (SO(3) 8000 -> 200: 72 -> 58 ms). Anything larger is
// released after the call, so an idle thread holds at most 64 MiB.
struct CallerWorkspace {
  static constexpr size_t kKeep = size_t(64) << 20;
  pds_workspace* ws = nullptr;
  ~CallerWorkspace() { pds_workspace_free(ws); }
  static CallerWorkspace& mine() {
    thread_local CallerWorkspace w;
    return w;
  }
  static pds_workspace* get() {
    CallerWorkspace& w = mine();
    if (!w.ws) w.ws = pds_workspace_new();  // NULL: the core allocates per call
    return w.ws;
  }
  static void trim() {
    CallerWorkspace& w = mine();
    if (w.ws && pds_workspace_bytes_held(w.ws) > kKeep) {
      pds_workspace_free(w.ws);
      w.ws = nullptr;
    }
  }
};

Tensor sample_elimination(Tensor points, int64_t n, std::optional<Tensor> bounds,
                          std::optional<double> radius, bool periodic, double alpha, double beta,
                          double gamma, bool weight_limiting, bool progressive, std::string metric,
                          std::optional<int64_t> dim, std::optional<double> volume,
                          bool auto_radius, bool interruptible) {
  STD_TORCH_CHECK(points.dim() == 2, "sample_elimination: points must be a 2-D tensor (M, d), got ",
                  points.dim(), "-D with shape ", shape_of(points));
  STD_TORCH_CHECK(is_points_dtype(points.scalar_type()),
                  "sample_elimination: points must be float32 or float64, got ",
                  dtype_name(points.scalar_type()));
  const int64_t m = points.size(0), d = points.size(1);
  STD_TORCH_CHECK(m >= 1, "sample_elimination: points must hold at least one point, got shape ",
                  shape_of(points));
  STD_TORCH_CHECK(d >= 1, "sample_elimination: points must have at least one coordinate, got shape ",
                  shape_of(points));
  STD_TORCH_CHECK(n >= 1 && n <= m, "sample_elimination: n must be in [1, M=", m, "], got n=", n);
  STD_TORCH_CHECK(d <= INT32_MAX, "sample_elimination: points may have at most ", INT32_MAX,
                  " coordinates per row, got shape ", shape_of(points));

  std::optional<Tensor> hold;
  pds_options opt = make_options("sample_elimination", d, bounds, radius, periodic, alpha, beta, gamma, weight_limiting,
                                 progressive, metric, dim, volume, auto_radius, hold);
  const double need = static_cast<double>(pds_workspace_bytes(m, static_cast<int>(d), n, &opt)) +
                      copy_bytes(points) + 8.0 * static_cast<double>(n);
  const uint64_t avail = check_memory("sample_elimination", points, need);
  if (avail) opt.max_memory = static_cast<size_t>(avail);
  Tensor x = as_cpu_double(points);

  Tensor out = torch::stable::empty({n}, ScalarType::Long, std::nullopt,
                                    torch::stable::Device(torch::headeronly::DeviceType::CPU));
  pds_error err;
  opt.workspace = CallerWorkspace::get();
  torch_poisson_interrupt::Scope interrupt(interruptible && m >= kInterruptiblePoints);
  opt.cancel = interrupt.cancel();
  pds_status st = pds_eliminate(static_cast<const double*>(x.const_data_ptr()), m,
                                static_cast<int>(d), n, &opt,
                                static_cast<int64_t*>(out.mutable_data_ptr()), &err);
  CallerWorkspace::trim();
  STD_TORCH_CHECK(st == PDS_OK, "sample_elimination: ", failure(st, err, interrupt));
  if (!points.is_cpu()) out = torch::stable::to(out, points.device());
  return out;
}

// (B,) int64 CPU copy of an integer tensor.
std::vector<int64_t> int_values(const Tensor& t, int64_t B, const char* name) {
  STD_TORCH_CHECK(t.dim() == 1 && t.size(0) == B, "sample_elimination: ", name,
                  " must have shape [B] = [", B, "], got ", shape_of(t));
  STD_TORCH_CHECK(t.scalar_type() == ScalarType::Long || t.scalar_type() == ScalarType::Int ||
                      t.scalar_type() == ScalarType::Short || t.scalar_type() == ScalarType::Byte ||
                      t.scalar_type() == ScalarType::Char,
                  "sample_elimination: ", name, " must be an integer tensor, got ",
                  dtype_name(t.scalar_type()));
  Tensor c = t;
  if (!t.is_cpu() || t.scalar_type() != ScalarType::Long)
    c = torch::stable::to(t, ScalarType::Long, std::nullopt,
                          torch::stable::Device(torch::headeronly::DeviceType::CPU));
  c = torch::stable::contiguous(c);
  const int64_t* p = static_cast<const int64_t*>(c.const_data_ptr());
  return std::vector<int64_t>(p, p + B);
}

struct BatchTask {
  const double* x;
  int64_t M, d;
  const int64_t* lengths;
  const int64_t* n;
  int64_t width;
  pds_options opt;
  int64_t* out;
  pds_status* status;
  pds_error* errors;
};

// Items b0..b1 on one thread, with one workspace for all of them (the core
// keeps its largest buffers there instead of allocating them per item).
void batch_items(BatchTask* t, int64_t b0, int64_t b1) {
  pds_options opt = t->opt;
  opt.workspace = pds_workspace_new();  // NULL (out of memory) just allocates per item
  for (int64_t b = b0; b < b1; ++b) {
    t->status[b] = PDS_OK;
    if (t->n[b] == 0) continue;
    t->status[b] = pds_eliminate(t->x + b * t->M * t->d, t->lengths[b], static_cast<int>(t->d),
                                 t->n[b], &opt, t->out + b * t->width, &t->errors[b]);
  }
  pds_workspace_free(opt.workspace);
}

Tensor sample_elimination_batched(Tensor points, std::optional<Tensor> lengths, Tensor n,
                                  int64_t max_n, std::optional<Tensor> bounds,
                                  std::optional<double> radius, bool periodic, double alpha,
                                  double beta, double gamma, bool weight_limiting,
                                  bool progressive, std::string metric, std::optional<int64_t> dim,
                                  std::optional<double> volume, bool auto_radius,
                                  bool interruptible) {
  STD_TORCH_CHECK(points.dim() == 3,
                  "sample_elimination: batched points must be a 3-D tensor (B, M, d), got ",
                  points.dim(), "-D with shape ", shape_of(points));
  STD_TORCH_CHECK(is_points_dtype(points.scalar_type()),
                  "sample_elimination: points must be float32 or float64, got ",
                  dtype_name(points.scalar_type()));
  const int64_t B = points.size(0), M = points.size(1), d = points.size(2);
  STD_TORCH_CHECK(d >= 1, "sample_elimination: points must have at least one coordinate, got shape ",
                  shape_of(points));
  std::vector<int64_t> len = lengths.has_value() ? int_values(*lengths, B, "lengths")
                                                 : std::vector<int64_t>(B, M);
  std::vector<int64_t> ns = int_values(n, B, "n");
  int64_t widest = 0;
  for (int64_t b = 0; b < B; ++b) {
    STD_TORCH_CHECK(len[b] >= 0 && len[b] <= M, "sample_elimination: lengths[", b,
                    "] must be in [0, M=", M, "], got ", len[b]);
    STD_TORCH_CHECK(ns[b] >= 0 && ns[b] <= M, "sample_elimination: n[", b, "] must be in [0, M=", M,
                    "], got ", ns[b]);
    widest = ns[b] > widest ? ns[b] : widest;
    // an item of fewer points keeps them all, its row padded (pytorch3d's
    // convention for K > lengths[b]); the width stays the largest n asked for
    ns[b] = ns[b] < len[b] ? ns[b] : len[b];
  }
  STD_TORCH_CHECK(max_n < 0 || max_n == widest || B == 0, "sample_elimination: max_n=", max_n,
                  " must be -1 or the largest n, ", widest);
  if (max_n >= 0) widest = max_n;  // B == 0: the static width

  std::optional<Tensor> hold;
  BatchTask t;
  t.opt = make_options("sample_elimination_batched", d, bounds, radius, periodic, alpha, beta, gamma, weight_limiting,
                       progressive, metric, dim, volume, auto_radius, hold);
  // the copy, the output, and a workspace per thread at work (items in
  // parallel), each for the largest item
  const double threads = static_cast<double>(std::max<int64_t>(
      1, std::min<int64_t>(B, static_cast<int64_t>(torch::stable::get_num_threads()))));
  const double need =
      copy_bytes(points) + 8.0 * static_cast<double>(B) * static_cast<double>(widest) +
      (B && widest ? threads * static_cast<double>(pds_workspace_bytes(M, static_cast<int>(d), widest, &t.opt))
                   : 0.0);
  const uint64_t avail = check_memory("sample_elimination", points, need);
  if (avail) t.opt.max_memory = static_cast<size_t>(avail / threads);
  Tensor x = as_cpu_double(points);
  Tensor out = torch::stable::empty({B, widest}, ScalarType::Long, std::nullopt,
                                    torch::stable::Device(torch::headeronly::DeviceType::CPU));
  torch::stable::fill_(out, -1.0);
  std::vector<pds_status> status(B, PDS_OK);
  std::vector<pds_error> errors(B);
  t.x = static_cast<const double*>(x.const_data_ptr());
  t.M = M;
  t.d = d;
  t.lengths = len.data();
  t.n = ns.data();
  t.width = widest;
  t.out = static_cast<int64_t*>(out.mutable_data_ptr());
  t.status = status.data();
  t.errors = errors.data();
  torch_poisson_interrupt::Scope interrupt(interruptible && B * M >= kInterruptiblePoints);
  t.opt.cancel = interrupt.cancel();
  if (B == 1) {
    batch_items(&t, 0, 1);  // one item: parallel inside it
  } else {
    t.opt.parallel_for = nullptr;  // items in parallel, each serial inside
    torch::stable::parallel_for(0, B, 1, [&t](int64_t b0, int64_t b1) { batch_items(&t, b0, b1); });
  }
  for (int64_t b = 0; b < B; ++b)
    STD_TORCH_CHECK(status[b] == PDS_OK, "sample_elimination: batch item ", b, ": ",
                    failure(status[b], errors[b], interrupt));
  if (!points.is_cpu()) out = torch::stable::to(out, points.device());
  return out;
}

// [r_max, D] of radius="auto" (pds_estimate_radius) as a (2,) float64 tensor.
Tensor estimate_radius(Tensor points, int64_t n, std::string metric, std::optional<int64_t> dim) {
  STD_TORCH_CHECK(points.dim() == 2, "estimate_radius: points must be a 2-D tensor (M, d), got ",
                  points.dim(), "-D with shape ", shape_of(points));
  STD_TORCH_CHECK(is_points_dtype(points.scalar_type()),
                  "estimate_radius: points must be float32 or float64, got ",
                  dtype_name(points.scalar_type()));
  const int64_t m = points.size(0), d = points.size(1);
  STD_TORCH_CHECK(m >= 1 && d >= 1, "estimate_radius: points must be non-empty, got shape ",
                  shape_of(points));
  STD_TORCH_CHECK(n >= 1 && n <= m, "estimate_radius: n must be in [1, M=", m, "], got n=", n);
  std::optional<Tensor> hold;
  pds_options opt = make_options("estimate_radius", d, std::nullopt, std::nullopt, false, 8.0, 0.65, 1.5, true, false,
                                 metric, dim, std::nullopt, true, hold);
  STD_TORCH_CHECK(opt.metric != PDS_METRIC_SO3 || d == 4,
                  "estimate_radius: metric=so3 needs points of shape (M, 4), got ", shape_of(points));
  STD_TORCH_CHECK(opt.metric != PDS_METRIC_SPHERE || d >= 2,
                  "estimate_radius: metric=sphere needs directions with d >= 2 coordinates, got shape ",
                  shape_of(points));
  Tensor x = as_cpu_double(points);
  double r = 0.0;
  int D = 0;
  pds_error err;
  pds_status st = pds_estimate_radius(static_cast<const double*>(x.const_data_ptr()), m,
                                      static_cast<int>(d), n, &opt, &r, &D, &err);
  STD_TORCH_CHECK(st == PDS_OK, "estimate_radius: ", err.message);
  Tensor out = torch::stable::empty({2}, ScalarType::Double, std::nullopt,
                                    torch::stable::Device(torch::headeronly::DeviceType::CPU));
  double* o = static_cast<double*>(out.mutable_data_ptr());
  o[0] = r;
  o[1] = D;
  return out;
}

}  // namespace

STABLE_TORCH_LIBRARY(torch_poisson, m) {
  m.def(
      "sample_elimination(Tensor points, int n, Tensor? bounds=None, float? radius=None, "
      "bool periodic=False, float alpha=8.0, float beta=0.65, float gamma=1.5, "
      "bool weight_limiting=True, bool progressive=False, str metric=\"euclidean\", "
      "int? dim=None, float? volume=None, bool auto_radius=False, bool interruptible=False) -> Tensor");
  m.def(
      "sample_elimination_batched(Tensor points, Tensor? lengths, Tensor n, int max_n=-1, "
      "Tensor? bounds=None, float? radius=None, bool periodic=False, float alpha=8.0, "
      "float beta=0.65, float gamma=1.5, bool weight_limiting=True, bool progressive=False, "
      "str metric=\"euclidean\", int? dim=None, float? volume=None, bool auto_radius=False, "
      "bool interruptible=False) "
      "-> Tensor");
  m.def("estimate_radius(Tensor points, int n, str metric=\"euclidean\", int? dim=None) -> Tensor");
}

STABLE_TORCH_LIBRARY_IMPL(torch_poisson, CPU, m) {
  m.impl("sample_elimination", TORCH_BOX(&sample_elimination));
  m.impl("sample_elimination_batched", TORCH_BOX(&sample_elimination_batched));
  m.impl("estimate_radius", TORCH_BOX(&estimate_radius));
}

// A CUDA input is computed on the CPU; the result goes back to its device.
STABLE_TORCH_LIBRARY_IMPL(torch_poisson, CUDA, m) {
  m.impl("sample_elimination", TORCH_BOX(&sample_elimination));
  m.impl("sample_elimination_batched", TORCH_BOX(&sample_elimination_batched));
}
