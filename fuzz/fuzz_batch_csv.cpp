// The batch CSV loader alone (syntax, header, columns, numbers).
#include "fuzz/fuzz_common.hpp"
#include "mdp/batch.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  bcq::fuzz::expect_load_or_input_error([&] {
    bcq::Batch batch = bcq::batch_from_csv(bcq::fuzz::as_text(data, size), "fuzz.csv");
    (void)batch.size();
  });
  return 0;
}
