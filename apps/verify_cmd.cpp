// Stub until its issue lands.
#include "apps/cli_common.hpp"
namespace bcq::cli {
void add_verify_commands(CLI::App&) {}
}  // namespace bcq::cli
