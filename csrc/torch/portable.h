// TORCH_POISSON_PORTABLE: the environment variable that keeps every call of
// this process on the core's portable kernels (pds_options.portable), so a
// CPU without AVX-512 can be reproduced on one with it. Read once, on first
// use; shared by the operator and the samplers' engine.
#pragma once

#include <cstdlib>
#include <string>

namespace torch_poisson {

constexpr const char* kPortableVariable = "TORCH_POISSON_PORTABLE";

// The variable as read on first use: its value ("" when unset) and the
// setting it gives: 1 for "1", "true", "yes" or "on"; 0 when unset or "",
// "0", "false", "no", "off"; -1 for anything else (refused by name).
struct PortableVariable {
  std::string value;
  int setting;
};

inline const PortableVariable& portable_variable() {
  static const PortableVariable read = [] {
    const char* v = std::getenv(kPortableVariable);
    PortableVariable r{v ? v : "", v ? -1 : 0};
    for (const char* on : {"1", "true", "yes", "on"})
      if (r.value == on) r.setting = 1;
    for (const char* off : {"", "0", "false", "no", "off"})
      if (r.value == off) r.setting = 0;
    return r;
  }();
  return read;
}

inline int portable_setting() { return portable_variable().setting; }

inline std::string portable_error() {
  return std::string(kPortableVariable) + " must be 1 or 0 (true/false, yes/no, on/off), got " +
         kPortableVariable + "=\"" + portable_variable().value + "\"";
}

}  // namespace torch_poisson
