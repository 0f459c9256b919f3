// The MDP JSON loader (common/json_input.hpp rules, then bcq-mdp/1 validation and build).
#include <nlohmann/json.hpp>

#include "fuzz/fuzz_common.hpp"
#include "mdp/io.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  bcq::fuzz::expect_load_or_input_error([&] {
    bcq::FiniteMdp mdp = bcq::mdp_from_json(bcq::parse_json_text(bcq::fuzz::as_text(data, size), "fuzz.json"),
                                            "fuzz.json");
    (void)mdp.num_states();
  });
  return 0;
}
