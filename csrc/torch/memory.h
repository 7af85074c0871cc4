// memory.h - how many bytes this process can still allocate.
//
// The one implementation of the memory check's figure: the operators refuse
// a request larger than it before converting anything, and the Python
// package reads it through the operator torch_poisson::available_memory
// (poisson_disk's candidates, the samplers' copies of their features).
#pragma once

#include <cstdint>
#include <fstream>
#include <string>

#if defined(__unix__) || defined(__APPLE__)
#include <unistd.h>
#endif

namespace torch_poisson_memory {

// Linux's MemAvailable, capped by a cgroup v2 memory limit (containers);
// else the physical memory; 0 when unknown (no check).
inline uint64_t available() {
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

}  // namespace torch_poisson_memory
