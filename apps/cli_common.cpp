// Shared by the `bcq` and `bcq-continuous` programs: the exit-code convention and the one
// place where exceptions become one stderr line.
#include "apps/cli_common.hpp"

#include <unistd.h>

#include <exception>
#include <iostream>

#include "common/error.hpp"

namespace bcq::cli {
namespace {
int g_exit_code = 0;
}  // namespace

void set_failed_check() { g_exit_code = 1; }
int exit_code() { return g_exit_code; }
bool stderr_is_tty() { return ::isatty(STDERR_FILENO) == 1; }

int run(CLI::App& app, int argc, char** argv) {
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
  } catch (const InputError& e) {
    std::cerr << "bcq: error: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "bcq: internal error: " << e.what() << "\n";
    return 3;
  }
  return exit_code();
}

}  // namespace bcq::cli
