#include "apps/cli_common.hpp"
namespace bcq::cli {
void add_batch_commands(CLI::App&) {}
}  // namespace bcq::cli
