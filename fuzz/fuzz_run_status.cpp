// A run folder's status.json (common/run_files.hpp), read by bcq report and the study runner:
// either a RunStatus or an InputError; what the writer makes of it reads back the same.
#include "common/run_files.hpp"
#include "fuzz/fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  bcq::fuzz::expect_load_or_input_error([&] {
    const bcq::RunStatus s = bcq::parse_run_status(bcq::fuzz::as_text(data, size), "status.json");
    const nlohmann::json written = bcq::run_status_json(s);
    const bcq::RunStatus again = bcq::parse_run_status(written.dump(), "again");
    if (bcq::run_status_json(again) != written) __builtin_trap();
  });
  return 0;
}
