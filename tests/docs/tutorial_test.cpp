// docs/tutorial.md cannot go stale: every command of its ```console blocks runs here, in order,
// in one scratch folder that starts with the files of bcql/examples/, and must print exactly
// what the tutorial shows (stdout and stderr together). In an expected output, a line "..."
// stands for any number of lines (for timings). On a mismatch the test prints the command's
// real output, ready to paste into the tutorial.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "tests/test_util.hpp"

namespace bcq::test {
namespace {

namespace fs = std::filesystem;

struct Step {
  int line = 0;  // of the command in docs/tutorial.md
  std::string command;
  std::vector<std::string> expected;
};

std::vector<Step> console_steps(const std::string& markdown) {
  std::vector<Step> steps;
  std::istringstream in(markdown);
  std::string line;
  bool in_console = false;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (!in_console) {
      in_console = line == "```console";
      continue;
    }
    if (line.rfind("```", 0) == 0) {
      in_console = false;
    } else if (line.rfind("$ ", 0) == 0) {
      steps.push_back({number, line.substr(2), {}});
    } else if (!steps.empty()) {
      steps.back().expected.push_back(line);
    }
  }
  return steps;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) lines.push_back(line);
  return lines;
}

// Whether `actual` matches `expected`, a line "..." matching any run of lines.
bool matches(const std::vector<std::string>& expected, std::size_t e,
             const std::vector<std::string>& actual, std::size_t a) {
  if (e == expected.size()) return a == actual.size();
  if (expected[e] == "...") {
    for (std::size_t skip = a; skip <= actual.size(); ++skip) {
      if (matches(expected, e + 1, actual, skip)) return true;
    }
    return false;
  }
  return a < actual.size() && expected[e] == actual[a] && matches(expected, e + 1, actual, a + 1);
}

TEST(Tutorial, EveryCommandPrintsWhatTheTutorialShows) {
  const std::string source = BCQ_SOURCE_DIR;
  const auto steps = console_steps(read_file(source + "/docs/tutorial.md"));
  ASSERT_GE(steps.size(), 10u) << "docs/tutorial.md lost its console blocks";
  TempDir dir;
  for (const auto& entry : fs::directory_iterator(source + "/bcql/examples")) {
    fs::copy(entry.path(), dir.path() + "/" + entry.path().filename().string());
  }
  // `bcq` in a command is the built program; everything runs in the scratch folder.
  const std::string bin = fs::path(BCQ_BINARY).parent_path().string();
  for (const Step& step : steps) {
    const std::string cmd = "cd " + shell_quote(dir.path()) + " && PATH=" + shell_quote(bin) +
                            ":\"$PATH\" sh -c " + shell_quote(step.command) + " >" +
                            shell_quote(dir.path() + "/.out") + " 2>&1";
    const int status = std::system(cmd.c_str());
    ASSERT_NE(status, -1);
    const std::string out = read_file(dir.path() + "/.out");
    fs::remove(dir.path() + "/.out");
    EXPECT_TRUE(matches(step.expected, 0, lines_of(out), 0))
        << "docs/tutorial.md:" << step.line << ": $ " << step.command << "\nprinted:\n" << out;
  }
}

}  // namespace
}  // namespace bcq::test
