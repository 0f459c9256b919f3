#include "apps/cli_common.hpp"
namespace bcq::cli {
void add_mdp_commands(CLI::App&) {}
}  // namespace bcq::cli
