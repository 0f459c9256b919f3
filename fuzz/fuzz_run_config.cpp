// A run folder's config.json (common/run_files.hpp), read by bcq report and train --resume:
// either a RunConfig or an InputError; a config read back from what the writer makes of it is
// the same config.
#include "common/run_files.hpp"
#include "fuzz/fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  bcq::fuzz::expect_load_or_input_error([&] {
    const bcq::RunConfig c = bcq::parse_run_config(bcq::fuzz::as_text(data, size), "config.json");
    const nlohmann::json written = bcq::run_config_json(c);
    const bcq::RunConfig again = bcq::parse_run_config(written.dump(), "again");
    if (bcq::run_config_json(again) != written) __builtin_trap();
  });
  return 0;
}
