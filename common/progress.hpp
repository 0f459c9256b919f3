// Progress of a long command on a terminal (`bcq train`, `bcq collect`, `bcq report`): one line
// on stderr that rewrites itself in place, and the words it is made of (a duration, an ETA).
// Commands show it only when stderr is a terminal and --quiet was not given.
#pragma once

#include <cstdint>
#include <cstdio>
#include <iostream>
#include <string>

namespace bcq {

/// "12 s" / "4 min 05 s" / "2 h 07 min"; "?" when unknown (negative, NaN, over 10^8 s).
inline std::string format_duration(double seconds) {
  char text[32];
  if (!(seconds >= 0) || seconds > 1e8) return "?";
  const auto s = static_cast<std::int64_t>(seconds);
  if (seconds < 60) {
    std::snprintf(text, sizeof text, "%.0f s", seconds);
  } else if (s < 3600) {
    std::snprintf(text, sizeof text, "%lld min %02lld s", static_cast<long long>(s / 60),
                  static_cast<long long>(s % 60));
  } else {
    std::snprintf(text, sizeof text, "%lld h %02lld min", static_cast<long long>(s / 3600),
                  static_cast<long long>((s % 3600) / 60));
  }
  return text;
}

/// Estimated time left after `done` of `total` units in `elapsed` seconds, at the same rate.
inline std::string eta(std::int64_t done, std::int64_t total, double elapsed) {
  if (done <= 0) return "?";
  return format_duration(elapsed * static_cast<double>(total - done) / static_cast<double>(done));
}

/// A progress line on stderr that rewrites itself in place: each show() returns to the start
/// of the line and clears what a longer previous line left there. Off, it shows nothing.
class ProgressLine {
 public:
  explicit ProgressLine(bool on) : on_(on) {}
  void show(const std::string& text) {
    if (!on_) return;
    // "\r" returns to the line's start; "\033[K" erases the rest of a longer earlier line
    // (progress is shown on terminals only).
    std::cerr << "\r" << text << "\033[K" << std::flush;
    shown_ = true;
  }
  /// Ends the line (a newline) if anything was shown, so that what follows starts a line.
  void finish() {
    if (on_ && shown_) std::cerr << "\n";
    shown_ = false;
  }
  bool on() const { return on_; }

 private:
  bool on_;
  bool shown_ = false;
};

}  // namespace bcq
