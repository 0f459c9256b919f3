// Shared by the `bcq` and `bcq-continuous` programs: the exit-code convention and the one
// place where exceptions become one stderr line.
#include "apps/cli_common.hpp"

#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <limits>

#include <fmt/core.h>

#include "common/error.hpp"
#include "common/input_file.hpp"
#include "common/interrupt.hpp"

namespace bcq::cli {
namespace {
int g_exit_code = 0;
}  // namespace

void set_failed_check() { g_exit_code = 1; }
void set_exit_code(int code) { g_exit_code = code; }
int exit_code() { return g_exit_code; }
bool stderr_is_tty() { return ::isatty(STDERR_FILENO) == 1; }

CLI::Validator whole_number(std::uint64_t lo, std::uint64_t hi) {
  const std::string bounds = fmt::format("[{}, {}]", lo, hi);
  return CLI::Validator(
      [lo, hi, bounds](std::string& text) -> std::string {
        bool digits = !text.empty() && text.size() <= 20;
        for (char c : text) digits = digits && c >= '0' && c <= '9';
        errno = 0;
        const unsigned long long v = digits ? std::strtoull(text.c_str(), nullptr, 10) : 0;
        if (!digits || errno == ERANGE || v < lo || v > hi) {
          return "must be a whole number in " + bounds + ", got \"" + quote_for_message(text) + "\"";
        }
        return std::string();
      },
      "INT in " + bounds);
}

CLI::Validator seed_number() { return whole_number(0, std::numeric_limits<std::uint64_t>::max()); }

CLI::Validator real_above(double lo, double hi) {
  const std::string bounds = fmt::format("({:g}, {:g}]", lo, hi);
  return CLI::Validator(
      [lo, hi, bounds](std::string& text) -> std::string {
        char* end = nullptr;
        errno = 0;
        const double v = text.empty() ? 0.0 : std::strtod(text.c_str(), &end);
        if (text.empty() || end != text.c_str() + text.size() || errno == ERANGE ||
            !std::isfinite(v) || !(v > lo && v <= hi)) {
          return "must be a finite number in " + bounds + ", got \"" + quote_for_message(text) + "\"";
        }
        return std::string();
      },
      "REAL in " + bounds);
}

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
  } catch (const Interrupted& e) {
    std::cerr << "bcq: " << e.what() << "\n";
    return 128 + e.signal();
  } catch (const std::exception& e) {
    std::cerr << "bcq: internal error: " << e.what() << "\n";
    return 3;
  }
  return exit_code();
}

}  // namespace bcq::cli
