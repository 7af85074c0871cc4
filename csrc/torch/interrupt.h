// interrupt.h - Ctrl-C during a long operator call.
//
// The operators run with the GIL released, and Python's SIGINT handler only
// marks the signal for the main thread to handle once the call returns: left
// alone, an elimination of minutes would ignore Ctrl-C until its end. While a call that may
// take long runs, this installs a SIGINT handler that raises the call's
// cancel flag (pds_options.cancel: the core stops within 256 removals or a
// point of its weight pass); the call then fails with "interrupted". Where the
// replaced handler is the default action, the handler takes it (the
// process ends); a handler function is not called from here: the Python
// wrapper raises SIGINT again once the call has returned, so Python's
// handler (KeyboardInterrupt) runs then, after the operator's error, instead
// of in the middle of handling it. SIGINT ignored: nothing is installed.
// The last call to finish puts the previous handler back. Up to kSlots
// calls at once are interruptible; more simply run to their end.
//
// POSIX only (sigaction); elsewhere a call is not interruptible.
#pragma once

#include <atomic>
#include <mutex>

#if defined(__unix__) || defined(__APPLE__)
#include <signal.h>
#define TORCH_POISSON_SIGINT 1
#endif

namespace torch_poisson_interrupt {

#ifdef TORCH_POISSON_SIGINT
constexpr int kSlots = 64;

struct State {
  std::mutex mu;
  int active = 0;                 // calls holding a slot (under mu)
  struct sigaction previous;      // the handler replaced (valid while active > 0)
  std::atomic<volatile int*> slot[kSlots];
};

inline State& state() {
  static State s;  // constructed before any handler can run: the first call builds it
  return s;
}

extern "C" inline void on_sigint(int sig, siginfo_t* info, void* context) {
  State& s = state();
  for (auto& f : s.slot) {
    volatile int* flag = f.load(std::memory_order_relaxed);
    if (flag) *flag = 1;
  }
  const struct sigaction& p = s.previous;
  if (!(p.sa_flags & SA_SIGINFO) && p.sa_handler == SIG_DFL) {
    sigaction(SIGINT, &p, nullptr);  // the default action: end the process
    raise(SIGINT);
  }
  (void)sig, (void)info, (void)context;
}
#endif

// Scope of one call: cancel() is its flag for pds_options.cancel (NULL when
// the call is not interruptible); interrupted() says whether Ctrl-C raised it.
class Scope {
 public:
  explicit Scope(bool wanted) {
#ifdef TORCH_POISSON_SIGINT
    if (!wanted) return;
    State& s = state();
    std::lock_guard<std::mutex> lock(s.mu);
    for (auto& f : s.slot) {
      volatile int* none = nullptr;
      if (f.compare_exchange_strong(none, &flag_)) {
        held_ = &f;
        break;
      }
    }
    if (!held_) return;
    if (s.active++ == 0) {
      struct sigaction now;
      sigaction(SIGINT, nullptr, &now);
      if (!(now.sa_flags & SA_SIGINFO) && now.sa_handler == SIG_IGN) {
        // SIGINT is ignored: leave it so, and this call uninterruptible
        s.active--;
        held_->store(nullptr);
        held_ = nullptr;
        return;
      }
      s.previous = now;
      struct sigaction ours;
      sigemptyset(&ours.sa_mask);
      ours.sa_flags = SA_SIGINFO | SA_RESTART;
      ours.sa_sigaction = on_sigint;
      sigaction(SIGINT, &ours, nullptr);
    }
#else
    (void)wanted;
#endif
  }
  ~Scope() {
#ifdef TORCH_POISSON_SIGINT
    if (!held_) return;
    State& s = state();
    std::lock_guard<std::mutex> lock(s.mu);
    held_->store(nullptr);
    if (--s.active == 0) sigaction(SIGINT, &s.previous, nullptr);
#endif
  }
  Scope(const Scope&) = delete;
  Scope& operator=(const Scope&) = delete;

  const volatile int* cancel() const { return held_ ? &flag_ : nullptr; }
  bool interrupted() const { return flag_ != 0; }

 private:
  volatile int flag_ = 0;
#ifdef TORCH_POISSON_SIGINT
  std::atomic<volatile int*>* held_ = nullptr;
#else
  void* held_ = nullptr;
#endif
};

}  // namespace torch_poisson_interrupt
