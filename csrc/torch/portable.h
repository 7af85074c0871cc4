// TORCH_POISSON_PORTABLE: the environment variable that keeps every call of
// this process on the core's portable kernels (pds_options.portable), so a
// CPU without AVX-512 can be reproduced on one with it. Read once, on first
// use; shared by the operator and the samplers' engine.
#pragma once

#include <cstdlib>
#include <cstring>
#include <string>

namespace torch_poisson {

constexpr const char* kPortableVariable = "TORCH_POISSON_PORTABLE";

// 1 for "1", "true", "yes" or "on"; 0 when unset or "", "0", "false", "no",
// "off"; -1 for anything else (the caller raises an error naming the value).
inline int portable_setting() {
  static const int setting = [] {
    const char* v = std::getenv(kPortableVariable);
    if (v == nullptr) return 0;
    for (const char* on : {"1", "true", "yes", "on"})
      if (std::strcmp(v, on) == 0) return 1;
    for (const char* off : {"", "0", "false", "no", "off"})
      if (std::strcmp(v, off) == 0) return 0;
    return -1;
  }();
  return setting;
}

inline std::string portable_error() {
  const char* v = std::getenv(kPortableVariable);
  return std::string(kPortableVariable) + " must be 1 or 0 (true/false, yes/no, on/off), got " +
         kPortableVariable + "=\"" + (v ? v : "") + "\"";
}

}  // namespace torch_poisson
