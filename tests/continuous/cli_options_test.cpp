// `bcq collect / train / eval` refuse out-of-range numeric options up front (docs/limits.md):
// exit 2 and one line naming the option and its bounds, before an environment, a network or a
// file is touched. Each case here ran, hung or crashed before the bounds existed.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "tests/test_util.hpp"

namespace {

using bcq::test::expect_refused;
using bcq::test::run_bcq;
using bcq::test::TempDir;

TEST(ContinuousCliOptions, OutOfRangeNumbersAreUsageErrorsNamingTheBounds) {
  TempDir dir;
  const std::vector<std::string> train = {"train", "--env", "inverted-pendulum", "--concurrent", "--out",
                                          dir.file("run"), "--quiet"};
  struct Case {
    std::vector<std::string> extra;
    std::vector<std::string> parts;
  };
  const std::vector<Case> cases = {
      {{"--threads", "-1"}, {"--threads", "[0, 1024]", "\"-1\""}},            // was accepted
      {{"--threads", "100000"}, {"--threads", "[0, 1024]"}},                 // hung
      {{"--iterations", "99999999999999999999999"}, {"--iterations", "[1, 100000000]"}},  // exit 3
      {{"--iterations", "0x10"}, {"--iterations"}},
      {{"--seed", "-1"}, {"--seed", "\"-1\""}},                              // wrapped to 2^64 - 1
      {{"--eval-episodes", "1000000000"}, {"--eval-episodes", "[1, 1000000]"}},  // ran without end
      {{"--eval-every", "0"}, {"--eval-every", "[1, 100000000]"}},
      {{"--start-steps", "1e3"}, {"--start-steps"}},
  };
  for (const auto& c : cases) {
    auto args = train;
    args.insert(args.end(), c.extra.begin(), c.extra.end());
    SCOPED_TRACE(c.extra[0] + " " + c.extra[1]);
    expect_refused(run_bcq(args, dir.path()), c.parts);
  }
  EXPECT_FALSE(bcq::test::file_exists(dir.file("run/config.json")));
  expect_refused(run_bcq({"collect", "--env", "hopper", "--steps", "2000000000", "-o", dir.file("b.h5")}, dir.path()),
                 {"--steps", "[1, 100000000]"});
  expect_refused(run_bcq({"collect", "--env", "hopper", "--threads", "-2", "-o", dir.file("b.h5")}, dir.path()),
                 {"--threads"});
  expect_refused(run_bcq({"eval", "--policy", dir.file("p.pt"), "--env", "hopper", "--episodes", "1000000000"},
                         dir.path()),
                 {"--episodes", "[1, 1000000]"});
  EXPECT_FALSE(bcq::test::file_exists(dir.file("b.h5")));
}

}  // namespace
