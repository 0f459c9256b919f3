// The report's eval.csv reader (common/eval_csv.hpp), shared by bcq train --resume and bcq report.
#include "common/eval_csv.hpp"
#include "fuzz/fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  bcq::fuzz::expect_load_or_input_error([&] {
    auto rows = bcq::parse_eval_csv(bcq::fuzz::as_text(data, size), "eval.csv");
    (void)rows.size();
  });
  return 0;
}
