// Shared by the `bcq` and `bcq-continuous` programs: the exit-code convention and the one
// place where exceptions become one stderr line.
#include "apps/cli_common.hpp"

#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <iostream>
#include <limits>

#include <fmt/core.h>

#include "common/atomic_file.hpp"
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

void JsonOutput::add_to(CLI::App* command, const std::string& what) {
  option_ = command->add_option("--json", file_,
                                "print " + what + " as JSON instead of the text, or, given FILE, write it there as "
                                "well as printing the text")
                ->expected(0, 1)
                ->type_name("[FILE]");
}

bool JsonOutput::requested() const { return option_ != nullptr && option_->count() > 0; }

bool JsonOutput::replaces_text() const { return requested() && (file_.empty() || file_ == "-"); }

namespace {
// The path as it will be once written: symlinks and ".." resolved as far as the path exists.
std::string resolved(const std::string& path) {
  std::error_code ec;
  const std::filesystem::path p = std::filesystem::weakly_canonical(std::filesystem::absolute(path), ec);
  return ec ? path : p.lexically_normal().string();
}
}  // namespace

void JsonOutput::check(std::initializer_list<NamedInput> inputs, std::initializer_list<NamedInput> other_outputs) const {
  if (!requested() || replaces_text()) return;
  check_output_path("--json", file_, inputs);
  for (const NamedInput& out : other_outputs) {
    if (!out.path.empty() && resolved(out.path) == resolved(file_)) {
      throw InputError("--json " + file_ + " is the same file as " + out.option + " " + out.path +
                       "; give the two outputs different names");
    }
  }
  check_output_folder("--json", file_);
}

void JsonOutput::check_outside(const std::string& option, const std::string& folder) const {
  if (!requested() || replaces_text()) return;
  const std::string inside = resolved(folder) + "/";
  if (resolved(file_).rfind(inside, 0) == 0) {
    throw InputError("--json " + file_ + " is inside " + option + " " + folder +
                     ", whose files this command reads; write it elsewhere");
  }
}

void JsonOutput::emit(const std::string& json) const {
  if (!requested()) return;
  if (replaces_text()) {
    std::cout << json << "\n" << std::flush;
  } else {
    write_file_atomic(file_, json + "\n");
  }
}

void JsonOutput::emit(const nlohmann::json& doc, int indent) const {
  if (requested()) emit(doc.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace));
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
