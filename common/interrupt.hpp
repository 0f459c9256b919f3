// Ending a long run cleanly on Ctrl-C (SIGINT) or a scheduler's SIGTERM (Slurm at the end of an
// allocation, `kill`): the handler only records the signal; `bcq train`, `bcq collect` and the
// study runner poll it at a safe point, checkpoint what they have, and say how to resume. A
// second signal of the same kind ends the process at once (the default action is restored).
#pragma once

#include <atomic>
#include <csignal>
#include <stdexcept>
#include <string>

namespace bcq {

namespace detail {
// Written by the handler, read by any thread (training, the study's heartbeat): a lock-free
// atomic is both async-signal-safe and free of data races.
inline std::atomic<int> g_interrupt_signal{0};
static_assert(std::atomic<int>::is_always_lock_free, "the signal flag must be lock-free");
inline void record_interrupt(int signal) { g_interrupt_signal.store(signal, std::memory_order_relaxed); }
}  // namespace detail

/// Installs the recording handlers for SIGINT and SIGTERM (restarting system calls). With
/// `one_shot` the second signal ends the process at once; the study's cell workers install
/// them without, since both the terminal and their scheduler may signal them.
inline void catch_interrupts(bool one_shot = true) {
  struct sigaction action {};
  action.sa_handler = detail::record_interrupt;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART | (one_shot ? SA_RESETHAND : 0);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

/// The signal that asked this process to stop (SIGINT, SIGTERM), or 0.
inline int interrupt_signal() { return detail::g_interrupt_signal.load(std::memory_order_relaxed); }

/// "SIGINT" / "SIGTERM" / "signal N".
inline std::string signal_name(int signal) {
  if (signal == SIGINT) return "SIGINT";
  if (signal == SIGTERM) return "SIGTERM";
  return "signal " + std::to_string(signal);
}

/// Thrown by a loop that stopped on interrupt_signal(): what(), one line, says what was kept and
/// how to resume. The command line turns it into that line and exit code 128 + signal.
class Interrupted : public std::runtime_error {
 public:
  Interrupted(int signal, const std::string& what) : std::runtime_error(what), signal_(signal) {}
  int signal() const { return signal_; }

 private:
  int signal_;
};

}  // namespace bcq
