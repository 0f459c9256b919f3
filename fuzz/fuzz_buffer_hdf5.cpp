// The HDF5 buffer loader (bcq-buffer/1, D4RL, Minari) on an in-memory file image.
#include "continuous/replay_buffer.hpp"
#include "fuzz/fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  bcq::fuzz::expect_load_or_input_error([&] {
    auto buffer = bcq::continuous::load_buffer_image(data, size, "fuzz.h5", {});
    (void)buffer.size();
  });
  return 0;
}
