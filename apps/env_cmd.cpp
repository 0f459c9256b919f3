// `bcq env ...` (continuous/envs). Filled in by the environments work (issue 5).
#include "apps/cli_common.hpp"
namespace bcq::cli {
void add_env_commands(CLI::App&) {}
}  // namespace bcq::cli
