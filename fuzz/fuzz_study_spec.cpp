// The study spec loader (bcq study plan|run --spec F, and a study folder's spec.json): the JSON
// rules of common/json_input.hpp, then bcq-study/1 validation (study/spec.hpp), then planning
// the cells and their estimates, which every valid spec must survive.
#include <nlohmann/json.hpp>

#include "common/json_input.hpp"
#include "fuzz/fuzz_common.hpp"
#include "study/spec.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  bcq::fuzz::expect_load_or_input_error([&] {
    const bcq::study::StudySpec spec =
        bcq::study::parse_spec(bcq::parse_json_input(bcq::fuzz::as_text(data, size), "spec.json"), "spec.json");
    // A valid spec plans without throwing, every cell has a finite, non-negative estimate, and
    // the spec reads back as itself.
    for (const bcq::study::Cell& cell : bcq::study::plan_cells(spec)) {
      const double seconds = bcq::study::estimate_seconds(spec, cell);
      if (!(seconds >= 0 && seconds < 1e300)) __builtin_trap();
    }
    const bcq::study::StudySpec again = bcq::study::parse_spec(bcq::study::to_json(spec), "again");
    if (bcq::study::to_json(again) != bcq::study::to_json(spec)) __builtin_trap();
  });
  return 0;
}
