// The batch CSV loader with an MDP: parse, then validate_batch against DESIGN.md's two-step
// MDP (ids in range, done consistency, impossible transitions).
#include <nlohmann/json.hpp>

#include "fuzz/fuzz_common.hpp"
#include "mdp/batch.hpp"
#include "mdp/io.hpp"

namespace {
const char* kTwoStep = R"({ "format": "bcq-mdp/1", "name": "two-step", "num_states": 3, "num_actions": 2,
  "gamma": 0.9, "initial": [[0, 1.0]], "terminal": [2], "transitions": [
    {"s": 0, "a": 0, "outcomes": [{"next": 1, "p": 1.0, "r": 0.0}]},
    {"s": 0, "a": 1, "outcomes": [{"next": 1, "p": 0.5, "r": 1.0}, {"next": 2, "p": 0.5, "r": 0.0}]},
    {"s": 1, "a": 0, "outcomes": [{"next": 2, "p": 1.0, "r": 2.0}]},
    {"s": 1, "a": 1, "outcomes": [{"next": 2, "p": 1.0, "r": -1.0}]} ] })";
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bcq::FiniteMdp mdp = bcq::mdp_from_json(bcq::parse_json_text(kTwoStep, "two-step"), "two-step");
  bcq::fuzz::expect_load_or_input_error([&] {
    bcq::Batch batch = bcq::batch_from_csv(bcq::fuzz::as_text(data, size), "fuzz.csv");
    bcq::validate_batch(batch, mdp, "fuzz.csv");
  });
  return 0;
}
