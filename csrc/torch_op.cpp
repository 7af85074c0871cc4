// torch_op.cpp - the torch operator torch_poisson::sample_elimination.
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

#include <cmath>
#include <cstdint>
#include <fstream>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

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

Tensor sample_elimination(Tensor points, int64_t n, std::optional<Tensor> bounds,
                          std::optional<double> radius, bool periodic, double alpha, double beta,
                          double gamma, bool weight_limiting, bool progressive) {
  STD_TORCH_CHECK(points.dim() == 2, "sample_elimination: points must be a 2-D tensor (M, d), got ",
                  points.dim(), "-D with shape ", shape_of(points));
  STD_TORCH_CHECK(is_float(points.scalar_type()),
                  "sample_elimination: points must be float32 or float64, got ",
                  dtype_name(points.scalar_type()));
  const int64_t m = points.size(0), d = points.size(1);
  STD_TORCH_CHECK(m >= 1, "sample_elimination: points must hold at least one point, got shape ",
                  shape_of(points));
  STD_TORCH_CHECK(d >= 1, "sample_elimination: points must have at least one coordinate, got shape ",
                  shape_of(points));
  STD_TORCH_CHECK(n >= 1 && n <= m, "sample_elimination: n must be in [1, M=", m, "], got n=", n);

  pds_options opt;
  pds_options_init(&opt);
  // Refuse, before converting or allocating anything, a request the machine
  // cannot hold (rather than be killed by the kernel halfway through).
  const uint64_t avail = available_memory();
  const bool copy = !points.is_cpu() || points.scalar_type() != ScalarType::Double ||
                    !points.is_contiguous();
  const double need = static_cast<double>(pds_workspace_bytes(m, static_cast<int>(d), n, &opt)) +
                      (copy ? 8.0 * static_cast<double>(m) * static_cast<double>(d) : 0.0) +
                      8.0 * static_cast<double>(n);
  STD_TORCH_CHECK(!avail || need <= static_cast<double>(avail),
                  "sample_elimination: points of shape ", shape_of(points), " need about ",
                  static_cast<int64_t>(need / (1 << 20)), " MiB of working memory, more than the ",
                  static_cast<int64_t>(avail >> 20),
                  " MiB this machine has available: pass fewer points");
  if (avail) opt.max_memory = static_cast<size_t>(avail);

  Tensor x = as_cpu_double(points);
  std::optional<Tensor> b;
  if (bounds.has_value()) {
    const Tensor& bt = *bounds;
    STD_TORCH_CHECK(bt.dim() == 2 && bt.size(0) == 2 && bt.size(1) == d,
                    "sample_elimination: bounds must have shape [2, d] = [2, ", d, "], got ",
                    shape_of(bt));
    STD_TORCH_CHECK(is_float(bt.scalar_type()) || bt.scalar_type() == ScalarType::Long ||
                        bt.scalar_type() == ScalarType::Int,
                    "sample_elimination: bounds must be a real tensor, got ",
                    dtype_name(bt.scalar_type()));
    b = as_cpu_double(bt);
    opt.bounds = static_cast<const double*>(b->const_data_ptr());
  }
  if (radius.has_value()) {
    STD_TORCH_CHECK(*radius > 0.0 && std::isfinite(*radius),
                    "sample_elimination: radius must be finite and > 0, got ", *radius);
    opt.radius = *radius;
  }
  opt.periodic = periodic;
  opt.alpha = alpha;
  opt.beta = beta;
  opt.gamma = gamma;
  opt.weight_limiting = weight_limiting;
  opt.progressive = progressive;
  opt.parallel_for = torch_parallel_for;

  Tensor out = torch::stable::empty({n}, ScalarType::Long, std::nullopt,
                                    torch::stable::Device(torch::headeronly::DeviceType::CPU));
  pds_error err;
  pds_status st = pds_eliminate(static_cast<const double*>(x.const_data_ptr()), m,
                                static_cast<int>(d), n, &opt,
                                static_cast<int64_t*>(out.mutable_data_ptr()), &err);
  STD_TORCH_CHECK(st == PDS_OK, "sample_elimination: ", err.message);
  if (!points.is_cpu()) out = torch::stable::to(out, points.device());
  return out;
}

}  // namespace

STABLE_TORCH_LIBRARY(torch_poisson, m) {
  m.def(
      "sample_elimination(Tensor points, int n, Tensor? bounds=None, float? radius=None, "
      "bool periodic=False, float alpha=8.0, float beta=0.65, float gamma=1.5, "
      "bool weight_limiting=True, bool progressive=False) -> Tensor");
}

STABLE_TORCH_LIBRARY_IMPL(torch_poisson, CPU, m) {
  m.impl("sample_elimination", TORCH_BOX(&sample_elimination));
}

// A CUDA input is computed on the CPU; the result goes back to its device.
STABLE_TORCH_LIBRARY_IMPL(torch_poisson, CUDA, m) {
  m.impl("sample_elimination", TORCH_BOX(&sample_elimination));
}
