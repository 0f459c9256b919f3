// Shared by the libFuzzer targets: the contract they check is that a loader either returns or
// throws bcq::InputError (exit code 2 in the CLI). Any other exception, a crash, a sanitizer
// report, a leak or a hang is a finding (docs/limits.md, "Fuzzing").
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "common/error.hpp"

namespace bcq::fuzz {

inline std::string as_text(const uint8_t* data, size_t size) {
  return std::string(reinterpret_cast<const char*>(data), size);
}

/// Runs `load`; an InputError is the expected refusal, anything else escapes to libFuzzer.
template <typename Load>
void expect_load_or_input_error(Load&& load) {
  try {
    load();
  } catch (const bcq::InputError&) {
  }
}

}  // namespace bcq::fuzz
