// The `bcq` command line program: parse, dispatch to a library, print. Exit codes follow
// DESIGN.md: 0 success, 1 a failed check, 2 bad input or usage (one line on stderr).
#include <unistd.h>

#include <exception>
#include <iostream>

#include "apps/cli_common.hpp"
#include "common/error.hpp"

namespace bcq::cli {
namespace {
int g_exit_code = 0;
}
void set_failed_check() { g_exit_code = 1; }
int exit_code() { return g_exit_code; }
bool stderr_is_tty() { return ::isatty(STDERR_FILENO) == 1; }
}  // namespace bcq::cli

int main(int argc, char** argv) {
  CLI::App app{"bcq: a workbench for batch-constrained reinforcement learning "
               "(Fujimoto, Meger, Precup, ICML 2019)"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "bcq 0.1.0");
  bcq::cli::add_mdp_commands(app);
  bcq::cli::add_batch_commands(app);
  bcq::cli::add_tabular_commands(app);
  bcq::cli::add_verify_commands(app);
#ifdef BCQ_HAVE_MUJOCO
  bcq::cli::add_env_commands(app);
#endif
#ifdef BCQ_HAVE_TORCH
  bcq::cli::add_continuous_commands(app);
#endif
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "bcq: usage error: " << e.what() << " (see --help)\n";
    return 2;
  } catch (const bcq::InputError& e) {
    std::cerr << "bcq: error: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "bcq: internal error: " << e.what() << "\n";
    return 3;
  }
  return bcq::cli::exit_code();
}
