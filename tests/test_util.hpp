// Helpers shared by the test suites: temporary folders, writing files, running the `bcq`
// binary (also as on a full disk) and capturing its exit code, stdout and stderr, and the
// contract for refused input.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#ifdef BCQ_BINARY
#include <gtest/gtest.h>  // expect_refused
#endif

namespace bcq::test {

/// A fresh folder under $TMPDIR, removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "bcq-test-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data()) ? tmpl : std::string();
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string file(const std::string& name) const { return path_ + "/" + name; }
  const std::string& path() const { return path_; }
  /// Names of the entries in the folder (to check that nothing half-written was left).
  std::vector<std::string> entries() const {
    std::vector<std::string> out;
    for (const auto& e : std::filesystem::directory_iterator(path_)) out.push_back(e.path().filename().string());
    return out;
  }

 private:
  std::string path_;
};

inline void write_file(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary);
  out << content;
}

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

inline bool file_exists(const std::string& path) { return std::filesystem::exists(path); }

struct CliResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

inline std::string shell_quote(const std::string& arg) {
  std::string q = "'";
  for (char c : arg) {
    if (c == '\'') q += "'\\''";
    else q += c;
  }
  return q + "'";
}

#ifdef BCQ_BINARY
// BCQ_BINARY is defined for the tests that run the program (bcq_add_test sees run_bcq in their
// sources and makes them depend on the bcq target, so they never run a stale binary).

/// `err` without the line ASan adds under the asan preset when a huge allocation returns NULL
/// as in a normal build (allocator_may_return_null): that note is the sanitizer's, not bcq's.
inline std::string without_sanitizer_notes(std::string err) {
  for (std::size_t at; (at = err.find("WARNING: AddressSanitizer failed to allocate")) != std::string::npos;) {
    const std::size_t newline = err.rfind('\n', at);
    const std::size_t begin = newline == std::string::npos ? 0 : newline + 1;
    const std::size_t end = err.find('\n', at);
    err.erase(begin, end == std::string::npos ? std::string::npos : end - begin + 1);
  }
  return err;
}

/// Runs the built `bcq` with the command line `args` (shell words: quote what needs it; see
/// shell_quote), after the environment assignments `env` ("NAME=value ..."), capturing stdout
/// and stderr through temporary files.
inline CliResult run_bcq_command(const std::string& args, const std::string& env = "") {
  TempDir capture;
  const std::string out_path = capture.file("stdout"), err_path = capture.file("stderr");
  std::string cmd = env.empty() ? "" : "env " + env + " ";
  cmd += shell_quote(BCQ_BINARY) + " " + args + " >" + shell_quote(out_path) + " 2>" +
         shell_quote(err_path);
  const int status = std::system(cmd.c_str());
  CliResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = read_file(out_path);
  r.err = without_sanitizer_notes(read_file(err_path));
  return r;
}

/// Runs the built `bcq` with `args` (each one word); `dir` is unused, kept for the callers.
inline CliResult run_bcq(const std::vector<std::string>& args, const std::string& /*dir*/) {
  std::string line;
  for (const std::string& a : args) line += (line.empty() ? "" : " ") + shell_quote(a);
  return run_bcq_command(line);
}

/// run_bcq_command returning the exit code, with stdout and stderr into `out` / `err`.
inline int run_bcq(const std::string& args, std::string* out = nullptr, std::string* err = nullptr,
                   const std::string& env = "") {
  CliResult r = run_bcq_command(args, env);
  if (out) *out = r.out;
  if (err) *err = r.err;
  return r.exit_code;
}

/// Runs the built `bcq` with `args` (each one word) as on a full disk, without root: RLIMIT_FSIZE
/// is `limit_bytes` and SIGXFSZ is ignored, so a write that would take any file past the limit
/// fails with EFBIG, which the writers handle as ENOSPC. The limit is per file, and holds for what
/// the program starts too (bcq-continuous, study workers, gnuplot): choose it between the size of
/// the files that should still be written and the one that should fail. stdout and stderr go to
/// files in a folder of their own (not the one under test).
inline CliResult run_bcq_on_full_disk(const std::vector<std::string>& args, std::uint64_t limit_bytes = 1024) {
  TempDir capture;
  const std::string out_path = capture.file("stdout"), err_path = capture.file("stderr");
  std::vector<std::string> words = {BCQ_BINARY};
  words.insert(words.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& w : words) argv.push_back(w.data());
  argv.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid == 0) {
    const int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (out < 0 || err < 0 || ::dup2(out, 1) < 0 || ::dup2(err, 2) < 0) ::_exit(126);
    ::signal(SIGXFSZ, SIG_IGN);  // ignored signals stay ignored across exec
    const struct rlimit limit = {static_cast<rlim_t>(limit_bytes), static_cast<rlim_t>(limit_bytes)};
    if (::setrlimit(RLIMIT_FSIZE, &limit) != 0) ::_exit(126);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  CliResult r;
  int status = 0;
  if (pid > 0 && ::waitpid(pid, &status, 0) == pid) r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = read_file(out_path);
  r.err = without_sanitizer_notes(read_file(err_path));
  return r;
}

/// The contract for bad input and failed writes (docs/limits.md): exit code 2 and exactly one
/// line on stderr, which contains every one of `parts`.
inline void expect_refused(const CliResult& r, const std::vector<std::string>& parts) {
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << "one line: " << r.err;
  for (const std::string& p : parts) EXPECT_NE(r.err.find(p), std::string::npos) << "'" << p << "' in: " << r.err;
}
#endif

/// The DESIGN.md example MDP (3 states, state 2 terminal, gamma 0.9).
inline const char* kTwoStepMdp = R"({ "format": "bcq-mdp/1", "name": "two-step", "num_states": 3, "num_actions": 2, "gamma": 0.9,
  "initial": [[0, 1.0]],
  "terminal": [2],
  "transitions": [
    {"s": 0, "a": 0, "outcomes": [{"next": 1, "p": 1.0, "r": 0.0}]},
    {"s": 0, "a": 1, "outcomes": [{"next": 1, "p": 0.5, "r": 1.0}, {"next": 2, "p": 0.5, "r": 0.0}]},
    {"s": 1, "a": 0, "outcomes": [{"next": 2, "p": 1.0, "r": 2.0}]},
    {"s": 1, "a": 1, "outcomes": [{"next": 2, "p": 1.0, "r": -1.0}]} ] })";

}  // namespace bcq::test
