// The policy loader (bcq-policy/1), checked against a 3-state, 2-action MDP's shape.
#include <nlohmann/json.hpp>

#include "fuzz/fuzz_common.hpp"
#include "mdp/io.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  bcq::fuzz::expect_load_or_input_error([&] {
    bcq::Policy pi = bcq::policy_from_json(bcq::parse_json_text(bcq::fuzz::as_text(data, size), "pi.json"), 3, 2,
                                           "pi.json");
    (void)pi.num_states;
  });
  return 0;
}
