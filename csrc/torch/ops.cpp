// ops.cpp - the torch operators over the C core (pds.h), on LibTorch's stable
// ABI (torch >= 2.10: one build loads on later releases).
//
//   sample_elimination(points (M, d), n, ..., keep (K,) indices or (M,) bool?)
//       -> (n,) int64
//   sample_elimination_batched(points (B, M, d), lengths (B,)?, n (B,), max_n, ...,
//       keep (B, K) indices padded with -1 or (B, M) bool?)
//       -> (B, width) int64, row b item b's indices padded with -1
//   estimate_radius(points (M, d), n, metric, dim) -> (2,) float64 [r_max, D]
//   max_radius(n, volume, dim) -> float, pds_max_radius (0 out of its range)
//   available_memory() -> int, the bytes the memory check allows (0: unknown)
//   check_options(d, ...) -> (), the core's option check without points
//
// The operators check tensor facts only (dimensions, dtypes, shapes, the
// padded batch's layout) and convert: points (float16, bfloat16, float32 or
// float64) to contiguous float64 on the CPU, the schema's options to
// pds_options. The core checks every value and its message becomes the
// error, prefixed with the operator's name (and the batch item's). Results
// return on the input's device. The fake kernels live in torch_poisson/ops.py.
#include <torch/csrc/stable/library.h>
#include <torch/csrc/stable/ops.h>
#include <torch/csrc/stable/tensor.h>
#include <torch/headeronly/core/ScalarType.h>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "interrupt.h"
#include "memory.h"
#include "portable.h"
#include "pds.h"

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

// A bad argument value or shape: the message reads "<op>: invalid argument:
// <what>", the form the core's refusals take too (fail_with_status), which the
// Python API turns into ValueError.
#define ARG_CHECK(cond, op, ...) STD_TORCH_CHECK(cond, op, ": invalid argument: ", ##__VA_ARGS__)

namespace {

using torch::headeronly::ScalarType;
using torch::stable::Tensor;

// Calls asked to be interruptible (the Python API's, on Python's main thread:
// Ctrl-C is the main thread's) with at least this many points (a few ms and
// up) take Ctrl-C (interrupt.h); smaller ones skip the two sigaction calls.
constexpr int64_t kInterruptiblePoints = 8192;

// Requests below this many bytes skip the memory check: reading
// /proc/meminfo costs ~20 us, a sizeable part of a 2,048-point call.
constexpr double kUncheckedBytes = double(64 << 20);

torch::stable::Device cpu() { return torch::stable::Device(torch::headeronly::DeviceType::CPU); }

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

bool is_real(ScalarType t) {
  return t == ScalarType::Float || t == ScalarType::Double || t == ScalarType::Half ||
         t == ScalarType::BFloat16 || t == ScalarType::Long || t == ScalarType::Int;
}

bool is_integer(ScalarType t) {
  return t == ScalarType::Long || t == ScalarType::Int || t == ScalarType::Short ||
         t == ScalarType::Byte || t == ScalarType::Char;
}

// The points' dtypes: every one converts exactly to the float64 the core
// computes in (as_cpu_double), so float16 and bfloat16 points give the
// indices of the same points up-cast.
bool is_point_dtype(ScalarType t) {
  return t == ScalarType::Half || t == ScalarType::BFloat16 || t == ScalarType::Float ||
         t == ScalarType::Double;
}

// points: a `dims`-D float16, bfloat16, float32 or float64 tensor with at
// least one coordinate (and, unless `may_be_empty`, at least one point per item).
void check_points(const char* op, const Tensor& points, int64_t dims, const char* layout,
                  bool may_be_empty) {
  ARG_CHECK(points.dim() == dims, op, "points must be a ", dims, "-D tensor ", layout,
                  ", got ", points.dim(), "-D with shape ", shape_of(points));
  STD_TORCH_CHECK(is_point_dtype(points.scalar_type()), op,
                  ": points must be float16, bfloat16, float32 or float64, got ",
                  dtype_name(points.scalar_type()));
  ARG_CHECK(may_be_empty || points.size(dims - 2) >= 1, op,
                  "points must hold at least one point, got shape ", shape_of(points));
  ARG_CHECK(points.size(dims - 1) >= 1, op,
                  "points must have at least one coordinate, got shape ", shape_of(points));
  ARG_CHECK(points.size(dims - 1) <= INT_MAX, op, "points may have at most ", INT_MAX,
                  " coordinates per row, got shape ", shape_of(points));
}

// Contiguous float64 CPU copy (or the tensor itself when it already is one).
Tensor as_cpu_double(const Tensor& t) {
  Tensor c = t;
  if (!t.is_cpu() || t.scalar_type() != ScalarType::Double)
    c = torch::stable::to(t, ScalarType::Double, std::nullopt, cpu());
  return torch::stable::contiguous(c);
}

// Bytes of the float64 CPU copy as_cpu_double makes (0 when it needs none).
double copy_bytes(const Tensor& points) {
  const bool copy = !points.is_cpu() || points.scalar_type() != ScalarType::Double ||
                    !points.is_contiguous();
  return copy ? 8.0 * static_cast<double>(points.numel()) : 0.0;
}

// Refuses, before converting or allocating anything, a request the machine
// cannot hold (rather than be killed by the kernel halfway through); returns
// the bytes available (0: not checked).
uint64_t check_memory(const char* op, const Tensor& points, double need) {
  const uint64_t avail = need < kUncheckedBytes ? 0 : torch_poisson_memory::available();
  STD_TORCH_CHECK(!avail || need <= static_cast<double>(avail), op, ": points of shape ",
                  shape_of(points), " need about ", static_cast<int64_t>(need / (1 << 20)),
                  " MiB of working memory, more than the ", static_cast<int64_t>(avail >> 20),
                  " MiB this machine has available: pass fewer points");
  return avail;
}

// The core's refusal as the operator's error: "<op>: [batch item b: ]<status
// name>: <message>", e.g. "sample_elimination: invalid argument: alpha must be
// finite and > 0, got alpha=0".
[[noreturn]] void fail_with_status(const char* op, const std::string& item, pds_status st,
                                   const pds_error& err) {
  STD_TORCH_CHECK(false, op, ": ", item, pds_status_name(st), ": ", err.message);
  throw std::logic_error("unreachable");
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
  ARG_CHECK(false, op, "metric must be \"euclidean\", \"so3\" or \"sphere\", got metric=\"", metric,
                  "\"");
  return PDS_METRIC_EUCLIDEAN;
}

// The schema's options as pds_options (the core checks their values).
// pds_options reads 0 as "not given" for radius, volume and dim, so a given
// 0 is refused here rather than read as automatic; dim must fit its int.
// `hold` keeps the float64 copy of bounds alive while opt points into it.
pds_options make_options(const char* op, int64_t d, const std::optional<Tensor>& bounds,
                         std::optional<double> radius, bool periodic, double alpha, double beta,
                         double gamma, bool weight_limiting, bool progressive,
                         const std::string& metric, std::optional<int64_t> dim,
                         std::optional<double> volume, bool auto_radius,
                         std::optional<Tensor>& hold) {
  pds_options opt;
  pds_options_init(&opt);
  if (bounds.has_value()) {
    const Tensor& bt = *bounds;
    ARG_CHECK(bt.dim() == 2 && bt.size(0) == 2 && bt.size(1) == d, op,
                    "bounds must have shape [2, d] = [2, ", d, "], got ", shape_of(bt));
    STD_TORCH_CHECK(is_real(bt.scalar_type()), op, ": bounds must be a real tensor, got ",
                    dtype_name(bt.scalar_type()));
    hold = as_cpu_double(bt);
    opt.bounds = static_cast<const double*>(hold->const_data_ptr());
  }
  if (radius.has_value()) {
    ARG_CHECK(*radius != 0.0, op, "radius must be > 0, got radius=0");
    opt.radius = *radius;
  }
  if (volume.has_value()) {
    ARG_CHECK(*volume != 0.0, op, "volume must be > 0, got volume=0");
    opt.volume = *volume;
  }
  if (dim.has_value()) {
    ARG_CHECK(*dim >= 1 && *dim <= INT_MAX, op, "dim must be in [1, ", INT_MAX,
                    "], got dim=", *dim);
    opt.dim = static_cast<int>(*dim);
  }
  opt.metric = parse_metric(op, metric);
  opt.auto_radius = auto_radius;
  opt.periodic = periodic;
  opt.alpha = alpha;
  opt.beta = beta;
  opt.gamma = gamma;
  opt.weight_limiting = weight_limiting;
  opt.progressive = progressive;
  // with one torch thread no parallel-for: every level within the pair
  // budget then takes the core's serial path, faster than the parallel one
  // run on one thread
  opt.parallel_for = torch::stable::get_num_threads() > 1 ? torch_parallel_for : nullptr;
  const int portable = torch_poisson::portable_setting();
  STD_TORCH_CHECK(portable >= 0, op, ": ", torch_poisson::portable_error());
  opt.portable = portable;
  return opt;
}

// The calling thread's workspace (pds_workspace): repeated calls on small and
// mid-sized problems (up to 64 MiB of buffers) reuse the core's buffers
// instead of faulting fresh pages in on every call. Anything larger is
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

// keep as one index list per item (none when keep is None): indices as
// given (the core checks their values), -1 entries of a batch's padded rows
// dropped, a boolean mask's true positions. `dims` is 1 (one item) or 2.
std::vector<std::vector<int64_t>> keep_lists(const char* op, const std::optional<Tensor>& keep,
                                             int64_t dims, int64_t B, int64_t M) {
  std::vector<std::vector<int64_t>> lists;
  if (!keep.has_value()) return lists;
  const Tensor& k = *keep;
  const char* layout = dims == 1 ? "(K,) indices or an (M,) boolean mask"
                                 : "(B, K) indices padded with -1 or a (B, M) boolean mask";
  const ScalarType t = k.scalar_type();
  ARG_CHECK(t == ScalarType::Bool || is_integer(t), op,
            "keep must be integer indices or a boolean mask, got ", dtype_name(t));
  ARG_CHECK(k.dim() == dims && (dims == 1 || k.size(0) == B), op, "keep must be ", layout,
            dims == 2 ? " with B=" : "", dims == 2 ? std::to_string(B) : "", ", got shape ", shape_of(k));
  const bool mask = t == ScalarType::Bool;
  ARG_CHECK(!mask || k.size(dims - 1) == M, op, "keep as a boolean mask must have ",
            dims == 1 ? "shape [M] = [" : "shape [B, M] = [", dims == 1 ? "" : std::to_string(B),
            dims == 1 ? "" : ", ", M, "], got ", shape_of(k));
  Tensor c = torch::stable::contiguous(torch::stable::to(k, ScalarType::Long, std::nullopt, cpu()));
  const int64_t* p = static_cast<const int64_t*>(c.const_data_ptr());
  const int64_t K = k.size(dims - 1);
  lists.resize(static_cast<size_t>(B));
  for (int64_t b = 0; b < B; ++b) {
    for (int64_t i = 0; i < K; ++i) {
      const int64_t v = p[b * K + i];
      if (mask && v) lists[b].push_back(i);
      else if (!mask && !(dims == 2 && v == -1)) lists[b].push_back(v);
    }
  }
  return lists;
}

// The items of one call: item b is rows [0, lengths[b]) of x's b-th (M, d)
// block and keeps n[b] indices (0: none) in row b of out (width columns),
// among them keep[b] (when keep is not empty).
struct Items {
  const double* x;
  int64_t M, d, width;
  const int64_t* lengths;
  const int64_t* n;
  const std::vector<std::vector<int64_t>>* keep;
  pds_options opt;
  int64_t* out;
  pds_status* status;
  pds_error* errors;
};

void run_items(const Items& t, int64_t b0, int64_t b1, pds_workspace* ws) {
  pds_options opt = t.opt;
  opt.workspace = ws;
  for (int64_t b = b0; b < b1; ++b) {
    t.status[b] = PDS_OK;
    if (t.n[b] == 0) continue;
    if (!t.keep->empty()) {
      opt.keep = (*t.keep)[b].data();
      opt.keep_count = static_cast<int64_t>((*t.keep)[b].size());
    }
    t.status[b] = pds_eliminate(t.x + b * t.M * t.d, t.lengths[b], static_cast<int>(t.d), t.n[b],
                                &opt, t.out + b * t.width, &t.errors[b]);
  }
}

// The body of both elimination operators: points is (M, d) (one item,
// `batched` false: the result is (n,)) or (B, M, d) (the result (B, width),
// padded with -1). One item runs on the calling thread, parallel inside;
// several run in parallel on torch's pool, each serial inside.
Tensor eliminate(const char* op, bool batched, const Tensor& points, int64_t B,
                 const std::vector<int64_t>& lengths, const std::vector<int64_t>& n,
                 const std::vector<std::vector<int64_t>>& keep, int64_t width, pds_options opt,
                 bool interruptible) {
  const int64_t M = points.size(points.dim() - 2), d = points.size(points.dim() - 1);
  // the copy, the output, and a workspace per thread at work, each for the
  // largest item
  const int64_t threads =
      std::max<int64_t>(1, std::min<int64_t>(B, torch::stable::get_num_threads()));
  const double need =
      copy_bytes(points) + 8.0 * static_cast<double>(B) * static_cast<double>(width) +
      (B && width ? static_cast<double>(threads) *
                        static_cast<double>(pds_workspace_bytes(M, static_cast<int>(d), width, &opt))
                  : 0.0);
  const uint64_t avail = check_memory(op, points, need);
  if (avail) opt.max_memory = static_cast<size_t>(avail / static_cast<uint64_t>(threads));
  Tensor x = as_cpu_double(points);
  Tensor out = batched ? torch::stable::empty({B, width}, ScalarType::Long, std::nullopt, cpu())
                       : torch::stable::empty({width}, ScalarType::Long, std::nullopt, cpu());
  if (batched) torch::stable::fill_(out, -1.0);
  std::vector<pds_status> status(B, PDS_OK);
  std::vector<pds_error> errors(B);
  torch_poisson_interrupt::Scope interrupt(interruptible && B * M >= kInterruptiblePoints);
  opt.cancel = interrupt.cancel();
  Items t{static_cast<const double*>(x.const_data_ptr()), M, d, width, lengths.data(), n.data(),
          &keep, opt, static_cast<int64_t*>(out.mutable_data_ptr()), status.data(), errors.data()};
  if (B == 1) {
    run_items(t, 0, 1, CallerWorkspace::get());
    CallerWorkspace::trim();
  } else {
    t.opt.parallel_for = nullptr;
    // one workspace a chunk of items: the core keeps its largest buffers
    // there instead of allocating them per item (NULL: per item)
    torch::stable::parallel_for(0, B, 1, [&t](int64_t b0, int64_t b1) {
      pds_workspace* ws = pds_workspace_new();
      run_items(t, b0, b1, ws);
      pds_workspace_free(ws);
    });
  }
  for (int64_t b = 0; b < B; ++b) {
    if (status[b] == PDS_OK) continue;
    const std::string item = batched ? "batch item " + std::to_string(b) + ": " : "";
    STD_TORCH_CHECK(!(status[b] == PDS_ERR_CANCELLED && interrupt.interrupted()), op, ": ", item,
                    "interrupted (SIGINT, Ctrl-C)");
    fail_with_status(op, item, status[b], errors[b]);
  }
  if (!points.is_cpu()) out = torch::stable::to(out, points.device());
  return out;
}

Tensor sample_elimination(Tensor points, int64_t n, std::optional<Tensor> bounds,
                          std::optional<double> radius, bool periodic, double alpha, double beta,
                          double gamma, bool weight_limiting, bool progressive, std::string metric,
                          std::optional<int64_t> dim, std::optional<double> volume,
                          bool auto_radius, bool interruptible, std::optional<Tensor> keep) {
  const char* op = "sample_elimination";
  check_points(op, points, 2, "(M, d)", false);
  const int64_t m = points.size(0), d = points.size(1);
  // n is the result's length: checked before it is allocated
  ARG_CHECK(n >= 1 && n <= m, op, "n must be in [1, M=", m, "], got n=", n);
  std::optional<Tensor> hold;
  pds_options opt = make_options(op, d, bounds, radius, periodic, alpha, beta, gamma,
                                 weight_limiting, progressive, metric, dim, volume, auto_radius,
                                 hold);
  return eliminate(op, false, points, 1, {m}, {n}, keep_lists(op, keep, 1, 1, m), n, opt,
                   interruptible);
}

// (B,) int64 CPU copy of an integer tensor.
std::vector<int64_t> int_values(const char* op, const Tensor& t, int64_t B, const char* name) {
  ARG_CHECK(t.dim() == 1 && t.size(0) == B, op, name, " must have shape [B] = [", B,
                  "], got ", shape_of(t));
  ARG_CHECK(is_integer(t.scalar_type()), op, name, " must be an integer tensor, got ",
                  dtype_name(t.scalar_type()));
  Tensor c = t;
  if (!t.is_cpu() || t.scalar_type() != ScalarType::Long)
    c = torch::stable::to(t, ScalarType::Long, std::nullopt, cpu());
  c = torch::stable::contiguous(c);
  const int64_t* p = static_cast<const int64_t*>(c.const_data_ptr());
  return std::vector<int64_t>(p, p + B);
}

Tensor sample_elimination_batched(Tensor points, std::optional<Tensor> lengths, Tensor n,
                                  int64_t max_n, std::optional<Tensor> bounds,
                                  std::optional<double> radius, bool periodic, double alpha,
                                  double beta, double gamma, bool weight_limiting,
                                  bool progressive, std::string metric, std::optional<int64_t> dim,
                                  std::optional<double> volume, bool auto_radius,
                                  bool interruptible, std::optional<Tensor> keep) {
  const char* op = "sample_elimination_batched";
  check_points(op, points, 3, "(B, M, d)", true);
  const int64_t B = points.size(0), M = points.size(1), d = points.size(2);
  std::vector<int64_t> len = lengths.has_value() ? int_values(op, *lengths, B, "lengths")
                                                 : std::vector<int64_t>(B, M);
  std::vector<int64_t> ns = int_values(op, n, B, "n");
  int64_t width = 0;
  for (int64_t b = 0; b < B; ++b) {
    ARG_CHECK(len[b] >= 0 && len[b] <= M, op, "lengths[", b, "] must be in [0, M=", M,
                    "], got ", len[b]);
    ARG_CHECK(ns[b] >= 0 && ns[b] <= M, op, "n[", b, "] must be in [0, M=", M, "], got ",
                    ns[b]);
    width = std::max(width, ns[b]);
    // an item of fewer points keeps them all, its row padded (pytorch3d's
    // convention for K > lengths[b]); the width stays the largest n asked for
    ns[b] = std::min(ns[b], len[b]);
  }
  ARG_CHECK(max_n < 0 || max_n == width || B == 0, op, "max_n=", max_n,
                  " must be -1 or the largest n, ", width);
  if (max_n >= 0) width = max_n;  // B == 0: the static width
  std::optional<Tensor> hold;
  pds_options opt = make_options(op, d, bounds, radius, periodic, alpha, beta, gamma,
                                 weight_limiting, progressive, metric, dim, volume, auto_radius,
                                 hold);
  return eliminate(op, true, points, B, len, ns, keep_lists(op, keep, 2, B, M), width, opt,
                   interruptible);
}

// [r_max, D] of radius="auto" (pds_estimate_radius) as a (2,) float64 tensor.
Tensor estimate_radius(Tensor points, int64_t n, std::string metric, std::optional<int64_t> dim) {
  const char* op = "estimate_radius";
  check_points(op, points, 2, "(M, d)", false);
  const int64_t m = points.size(0), d = points.size(1);
  std::optional<Tensor> hold;
  pds_options opt = make_options(op, d, std::nullopt, std::nullopt, false, 8.0, 0.65, 1.5, true,
                                 false, metric, dim, std::nullopt, true, hold);
  Tensor x = as_cpu_double(points);
  double r = 0.0;
  int D = 0;
  pds_error err;
  pds_status st = pds_estimate_radius(static_cast<const double*>(x.const_data_ptr()), m,
                                      static_cast<int>(d), n, &opt, &r, &D, &err);
  if (st != PDS_OK) fail_with_status(op, "", st, err);
  Tensor out = torch::stable::empty({2}, ScalarType::Double, std::nullopt, cpu());
  double* o = static_cast<double*>(out.mutable_data_ptr());
  o[0] = r;
  o[1] = D;
  return out;
}

// The core's check of the options for d-dimensional points (pds_check_options),
// without points: the samplers call it at construction.
void check_options(int64_t d, std::optional<Tensor> bounds, std::optional<double> radius,
                   bool periodic, double alpha, double beta, double gamma, bool weight_limiting,
                   bool progressive, std::string metric, std::optional<int64_t> dim,
                   std::optional<double> volume, bool auto_radius) {
  const char* op = "check_options";
  ARG_CHECK(d >= 1 && d <= INT_MAX, op, "d must be in [1, ", INT_MAX, "], got d=", d);
  std::optional<Tensor> hold;
  pds_options opt = make_options(op, d, bounds, radius, periodic, alpha, beta, gamma,
                                 weight_limiting, progressive, metric, dim, volume, auto_radius,
                                 hold);
  pds_error err;
  pds_status st = pds_check_options(1, static_cast<int>(d), 1, &opt, &err);
  if (st != PDS_OK) fail_with_status(op, "", st, err);
}

// r_max of n points in a domain of the given volume and dimension, as the
// elimination computes it (pds_max_radius: 0 out of range).
double max_radius(int64_t n, double volume, int64_t dim) {
  STD_TORCH_CHECK(dim >= 1 && dim <= INT_MAX, "max_radius: dim must be in [1, ", INT_MAX,
                  "], got dim=", dim);
  return pds_max_radius(static_cast<int>(dim), volume, n);
}

int64_t available_memory() { return static_cast<int64_t>(torch_poisson_memory::available()); }

}  // namespace

STABLE_TORCH_LIBRARY(torch_poisson, m) {
  m.def(
      "sample_elimination(Tensor points, int n, Tensor? bounds=None, float? radius=None, "
      "bool periodic=False, float alpha=8.0, float beta=0.65, float gamma=1.5, "
      "bool weight_limiting=True, bool progressive=False, str metric=\"euclidean\", "
      "int? dim=None, float? volume=None, bool auto_radius=False, bool interruptible=False, "
      "Tensor? keep=None) -> Tensor");
  m.def(
      "sample_elimination_batched(Tensor points, Tensor? lengths, Tensor n, int max_n=-1, "
      "Tensor? bounds=None, float? radius=None, bool periodic=False, float alpha=8.0, "
      "float beta=0.65, float gamma=1.5, bool weight_limiting=True, bool progressive=False, "
      "str metric=\"euclidean\", int? dim=None, float? volume=None, bool auto_radius=False, "
      "bool interruptible=False, Tensor? keep=None) "
      "-> Tensor");
  m.def("estimate_radius(Tensor points, int n, str metric=\"euclidean\", int? dim=None) -> Tensor");
  m.def("max_radius(int n, float volume, int dim) -> float");
  m.def(
      "check_options(int d, Tensor? bounds=None, float? radius=None, bool periodic=False, "
      "float alpha=8.0, float beta=0.65, float gamma=1.5, bool weight_limiting=True, "
      "bool progressive=False, str metric=\"euclidean\", int? dim=None, float? volume=None, "
      "bool auto_radius=False) -> ()");
  m.def("available_memory() -> int");
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

// No tensor argument to dispatch on: one kernel for every backend.
STABLE_TORCH_LIBRARY_IMPL(torch_poisson, CompositeExplicitAutograd, m) {
  m.impl("max_radius", TORCH_BOX(&max_radius));
  m.impl("check_options", TORCH_BOX(&check_options));
  m.impl("available_memory", TORCH_BOX(&available_memory));
}
