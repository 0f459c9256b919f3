// How far `bcq report` got, for its progress line, and where it stops on Ctrl-C: reading (bytes
// of the eval.csv files, the inputs that grow large), then drawing (plots drawn of those
// planned), then writing. The library calls a hook the command line gives it, and polls the
// interrupt flag (common/interrupt.hpp) at the same points.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "common/interrupt.hpp"

namespace bcq::reports {

/// Called with the stage ("reading", "drawing", "writing") and `done` of `total` units (bytes,
/// plots; total 0 when there is nothing to count). May be empty.
using ProgressHook = std::function<void(const std::string& stage, std::uint64_t done, std::uint64_t total)>;

/// Throws bcq::Interrupted if SIGINT or SIGTERM arrived (once the command line installed its
/// handlers): nothing is written, and write_report removes what it made.
inline void stop_if_interrupted() {
  if (const int signal = interrupt_signal()) {
    throw Interrupted(signal, "report interrupted by " + signal_name(signal) + "; nothing was written");
  }
}

/// The reading stage: the bytes of the eval.csv files to read and read so far.
struct ReadProgress {
  ProgressHook hook;
  std::uint64_t total = 0;
  std::uint64_t done = 0;
  /// Polls Ctrl-C, then tells the hook that `now` bytes are read.
  void show(std::uint64_t now) {
    stop_if_interrupted();
    if (hook) hook("reading", now, total);
  }
};

}  // namespace bcq::reports
