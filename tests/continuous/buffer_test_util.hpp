// Shared by the buffer tests (replay_buffer_test, replay_buffer_fuzz_findings_test).
#pragma once

#include <string>

#include "common/error.hpp"
#include "continuous/replay_buffer.hpp"

namespace bcq::continuous::test_buffers {

/// load_buffer's refusal of `path` (the InputError's message), or "" if it loads.
inline std::string error_of(const std::string& path, const BufferExpectations& e) {
  try {
    load_buffer(path, e);
  } catch (const InputError& err) {
    return err.what();
  }
  return "";
}

}  // namespace bcq::continuous::test_buffers
