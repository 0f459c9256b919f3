// common/build_info.hpp: the commit a binary reports is the source tree's at build time,
// checked against git itself (the build refreshes it on every build, not only on configure).
#include <gtest/gtest.h>

#include <cstdio>
#include <regex>
#include <string>

#include "common/build_info.hpp"

namespace {

std::string command_output(const std::string& cmd) {
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return out;
  char buf[256];
  while (std::fgets(buf, sizeof buf, p) != nullptr) out += buf;
  ::pclose(p);
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

TEST(BuildInfo, GitCommitIsTheSourceTreesCommit) {
  const std::string commit = bcq::git_commit();
  const std::string head = command_output("git -C '" BCQ_SOURCE_DIR "' rev-parse --short=12 HEAD 2>/dev/null");
  if (head.empty()) {
    EXPECT_EQ(commit, "unknown");  // built outside a git checkout (a source archive)
    return;
  }
  EXPECT_TRUE(std::regex_match(commit, std::regex("[0-9a-f]{12}(-dirty)?"))) << commit;
  // A commit made after this binary was built would differ; the suite runs right after the build.
  EXPECT_EQ(commit.substr(0, 12), head);
}

}  // namespace
