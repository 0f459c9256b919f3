// `bcq collect / train / eval` (continuous/). Filled in by the BCQ work (issue 6).
#include "apps/cli_common.hpp"
namespace bcq::cli {
void add_continuous_commands(CLI::App&) {}
}  // namespace bcq::cli
