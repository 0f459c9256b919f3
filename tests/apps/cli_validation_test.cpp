// Every validation rule of the bcq-mdp/1 format and of batch CSV files, fed through the CLI:
// exit code 2, one stderr line naming the rule and the place, and no output file.
#include <gtest/gtest.h>

#include <functional>
#include <nlohmann/json.hpp>

#include "tests/test_util.hpp"

namespace {

using bcq::test::CliResult;
using bcq::test::TempDir;
using nlohmann::json;

struct BadMdpCase {
  const char* name;
  std::function<void(json&)> mutate;
  const char* rule;
  const char* where;  // substring of the location in the message
};

json base_mdp() { return json::parse(bcq::test::kTwoStepMdp); }

const std::vector<BadMdpCase>& bad_mdp_cases() {
  static const std::vector<BadMdpCase> cases = {
      {"ProbabilitiesSum", [](json& d) { d["transitions"][1]["outcomes"][0]["p"] = 0.4; }, "probabilities-sum",
       "transitions[1] (s=0,a=1)"},
      {"NegativeProbability",
       [](json& d) {
         d["transitions"][1]["outcomes"][0]["p"] = -0.5;
         d["transitions"][1]["outcomes"][1]["p"] = 1.5;
       },
       "probability-range", "transitions[1] (s=0,a=1) outcomes[0]"},
      {"NaNProbability", [](json& d) { d["transitions"][0]["outcomes"][0]["p"] = "NaN"; }, "probability-range",
       "transitions[0] (s=0,a=0) outcomes[0]"},
      {"NaNReward", [](json& d) { d["transitions"][2]["outcomes"][0]["r"] = "NaN"; }, "reward-finite",
       "transitions[2] (s=1,a=0) outcomes[0]"},
      {"InfiniteReward", [](json& d) { d["transitions"][3]["outcomes"][0]["r"] = "Infinity"; }, "reward-finite",
       "transitions[3] (s=1,a=1)"},
      {"StateOutOfRange", [](json& d) { d["transitions"][0]["s"] = 7; }, "state-range", "transitions[0] (s=7,a=0)"},
      {"NextStateOutOfRange", [](json& d) { d["transitions"][0]["outcomes"][0]["next"] = 3; }, "state-range",
       "transitions[0] (s=0,a=0) outcomes[0]"},
      {"ActionOutOfRange", [](json& d) { d["transitions"][0]["a"] = 2; }, "action-range", "transitions[0] (s=0,a=2)"},
      {"MissingOutcomes", [](json& d) { d["transitions"].erase(3); }, "missing-outcomes", "(s=1,a=1)"},
      {"EmptyOutcomes", [](json& d) { d["transitions"][3]["outcomes"] = json::array(); }, "missing-outcomes",
       "transitions[3] (s=1,a=1)"},
      {"DuplicateTransition", [](json& d) { d["transitions"][3]["a"] = 0; }, "duplicate-transition",
       "transitions[3] (s=1,a=0)"},
      {"DuplicateOutcome",
       [](json& d) {
         d["transitions"][1]["outcomes"][1]["next"] = 1;
       },
       "duplicate-outcome", "transitions[1] (s=0,a=1)"},
      {"GammaOne", [](json& d) { d["gamma"] = 1.0; }, "gamma-range", ".gamma"},
      {"GammaNegative", [](json& d) { d["gamma"] = -0.1; }, "gamma-range", ".gamma"},
      {"InitialEmpty", [](json& d) { d["initial"] = json::array(); }, "initial-empty", ".initial"},
      {"InitialNotNormalised", [](json& d) { d["initial"] = json::parse("[[0, 0.5], [1, 0.4]]"); }, "initial-sum",
       ".initial"},
      {"InitialStateOutOfRange", [](json& d) { d["initial"] = json::parse("[[5, 1.0]]"); }, "state-range",
       "initial[0]"},
      {"UnknownFormat", [](json& d) { d["format"] = "bcq-mdp/9"; }, "format-tag", ".format"},
      {"TerminalWithTransitions", [](json& d) { d["terminal"] = json::parse("[1, 2]"); }, "terminal-transition",
       "transitions[2] (s=1,a=0)"},
      {"WrongType", [](json& d) { d["num_states"] = "three"; }, "json-type", ".num_states"},
      {"MissingField", [](json& d) { d.erase("transitions"); }, "missing-field", ".transitions"},
  };
  return cases;
}

class BadMdp : public ::testing::TestWithParam<size_t> {};

TEST_P(BadMdp, RefusedWithExitCode2AndNoOutput) {
  const BadMdpCase& c = bad_mdp_cases()[GetParam()];
  TempDir dir;
  json doc = base_mdp();
  c.mutate(doc);
  bcq::test::write_file(dir.file("bad.json"), doc.dump());
  CliResult r = bcq::test::run_bcq({"mdp", "solve", dir.file("bad.json"), "--policy-out", dir.file("pi.json")},
                                   dir.path());
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find(std::string("[rule: ") + c.rule + "]"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(c.where), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(dir.file("bad.json")), std::string::npos) << "message must name the file: " << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << "one line: " << r.err;
  EXPECT_FALSE(bcq::test::file_exists(dir.file("pi.json")));
  EXPECT_TRUE(r.out.empty());
}

INSTANTIATE_TEST_SUITE_P(AllRules, BadMdp, ::testing::Range<size_t>(0, bad_mdp_cases().size()),
                         [](const ::testing::TestParamInfo<size_t>& info) {
                           return std::string(bad_mdp_cases()[info.param].name);
                         });

TEST(BadMdpFile, MalformedJsonNamesLineAndColumn) {
  TempDir dir;
  bcq::test::write_file(dir.file("bad.json"), "{\n  \"format\": \"bcq-mdp/1\",\n  \"num_states\": 3,,\n}");
  CliResult r = bcq::test::run_bcq({"mdp", "solve", dir.file("bad.json")}, dir.path());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("bad.json:3:"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("json-syntax"), std::string::npos) << r.err;
}

TEST(BadMdpFile, MissingFile) {
  TempDir dir;
  CliResult r = bcq::test::run_bcq({"mdp", "solve", dir.file("nope.json")}, dir.path());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("nope.json"), std::string::npos) << r.err;
}

TEST(GoodMdpFile, ValidBaseCaseSolves) {
  // The base document used above is valid: the failures come from the mutations alone.
  TempDir dir;
  bcq::test::write_file(dir.file("ok.json"), base_mdp().dump());
  CliResult r = bcq::test::run_bcq({"mdp", "solve", dir.file("ok.json"), "--policy-out", dir.file("pi.json")},
                                   dir.path());
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(bcq::test::file_exists(dir.file("pi.json")));
}

struct BadBatchCase {
  const char* name;
  const char* csv;
  const char* rule;
  const char* where;
};

const std::vector<BadBatchCase>& bad_batch_cases() {
  static const std::vector<BadBatchCase> cases = {
      {"BadHeader", "s,a,reward,s_next,done\n0,0,0,1,0\n", "csv-header", ":1"},
      {"EmptyFile", "", "csv-header", "batch.csv"},
      {"TooFewColumns", "s,a,r,s_next,done\n0,0,0,1\n", "csv-columns", ":2"},
      {"NotANumber", "s,a,r,s_next,done\n0,0,abc,1,0\n", "csv-number", ":2 column r"},
      {"NotAnInteger", "s,a,r,s_next,done\n0,0.5,0,1,0\n", "csv-number", ":2 column a"},
      {"NaNReward", "s,a,r,s_next,done\n0,0,nan,1,0\n", "reward-finite", ":2 column r"},
      {"StateOutOfRange", "s,a,r,s_next,done\n0,0,0,1,0\n5,0,0,1,0\n", "state-range", "row 2 (line 3) column s"},
      {"NextOutOfRange", "s,a,r,s_next,done\n0,0,0,9,0\n", "state-range", "column s_next"},
      {"ActionOutOfRange", "s,a,r,s_next,done\n0,3,0,1,0\n", "action-range", "column a"},
      {"NegativeId", "s,a,r,s_next,done\n-1,0,0,1,0\n", "state-range", ":2 column s"},
      {"DoneInconsistent", "s,a,r,s_next,done\n1,0,2,2,0\n", "done-consistency", "row 1 (line 2) column done"},
      {"DoneNotBinary", "s,a,r,s_next,done\n1,0,2,2,2\n", "csv-done", "column done"},
      {"FromTerminal", "s,a,r,s_next,done\n2,0,0,2,1\n", "terminal-transition", "column s"},
      {"Impossible", "s,a,r,s_next,done\n0,0,0,2,1\n", "impossible-transition", "row 1"},
      {"Empty", "s,a,r,s_next,done\n", "batch-empty", "batch.csv"},
  };
  return cases;
}

class BadBatch : public ::testing::TestWithParam<size_t> {};

TEST_P(BadBatch, RefusedWithExitCode2AndNoOutput) {
  const BadBatchCase& c = bad_batch_cases()[GetParam()];
  TempDir dir;
  bcq::test::write_file(dir.file("m.json"), bcq::test::kTwoStepMdp);
  bcq::test::write_file(dir.file("batch.csv"), c.csv);
  CliResult r = bcq::test::run_bcq(
      {"batch", "mdp", "--mdp", dir.file("m.json"), "--batch", dir.file("batch.csv"), "-o", dir.file("mb.json")},
      dir.path());
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find(std::string("[rule: ") + c.rule + "]"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(c.where), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_FALSE(bcq::test::file_exists(dir.file("mb.json")));
}

INSTANTIATE_TEST_SUITE_P(AllRules, BadBatch, ::testing::Range<size_t>(0, bad_batch_cases().size()),
                         [](const ::testing::TestParamInfo<size_t>& info) {
                           return std::string(bad_batch_cases()[info.param].name);
                         });

TEST(Output, UnwritableOutputIsExit2AndLeavesNothing) {
  TempDir dir;
  CliResult r = bcq::test::run_bcq({"mdp", "generate", "chain", "--n", "4", "-o", dir.file("missing/dir/c.json")},
                                   dir.path());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("cannot write"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("missing/dir/c.json"), std::string::npos) << r.err;
}

TEST(Output, ReadOnlyTargetIsExit2) {
  // /proc is not writable: the temp file cannot be created, the error names the target.
  TempDir dir;
  CliResult r = bcq::test::run_bcq({"mdp", "generate", "chain", "--n", "4", "-o", "/proc/bcq-test.json"}, dir.path());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("cannot write /proc/bcq-test.json"), std::string::npos) << r.err;
}

TEST(Usage, UnknownOptionIsExit2) {
  TempDir dir;
  CliResult r = bcq::test::run_bcq({"mdp", "solve", "--frobnicate"}, dir.path());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("usage"), std::string::npos) << r.err;
}

// `bcq help [COMMAND [SUBCOMMAND]]` prints what `bcq [COMMAND [SUBCOMMAND]] --help` prints,
// for the commands of bcq itself and for those that run in bcq-continuous.
TEST(Usage, HelpIsACommand) {
  TempDir dir;
  const CliResult top = bcq::test::run_bcq({"help"}, dir.path());
  EXPECT_EQ(top.exit_code, 0) << top.err;
  EXPECT_NE(top.out.find("Usage: bcq"), std::string::npos) << top.out;
  EXPECT_NE(top.out.find("bcq help COMMAND"), std::string::npos) << top.out;
  for (const std::vector<std::string>& cmd : {std::vector<std::string>{"mdp", "solve"},
                                              std::vector<std::string>{"verify"}}) {
    std::vector<std::string> help = {"help"}, flag = cmd;
    help.insert(help.end(), cmd.begin(), cmd.end());
    flag.push_back("--help");
    const CliResult a = bcq::test::run_bcq(help, dir.path()), b = bcq::test::run_bcq(flag, dir.path());
    EXPECT_EQ(a.exit_code, 0) << a.err;
    EXPECT_EQ(a.out, b.out);
    EXPECT_NE(a.out.find("Usage: bcq " + cmd[0]), std::string::npos) << a.out;
  }
  const CliResult unknown = bcq::test::run_bcq({"help", "no-such-command"}, dir.path());
  EXPECT_EQ(unknown.exit_code, 2) << unknown.out;
}

// The help of the generators and of batch collect says the defaults and what the generated
// MDPs' states, actions and rewards are.
TEST(Usage, HelpShowsDefaultsAndWhatEachGeneratorMakes) {
  TempDir dir;
  const CliResult gen = bcq::test::run_bcq({"mdp", "generate", "--help"}, dir.path());
  ASSERT_EQ(gen.exit_code, 0) << gen.err;
  for (const char* part : {"]=10", "]=4", "]=3", "=0.9", "actions 0 = left, 1 = right",
                           "actions 0 = up, 1 = right, 2 = down, 3 = left", "r(s,a,s') uniform",
                           "An option of another generator is refused"}) {
    EXPECT_NE(gen.out.find(part), std::string::npos) << part << " in:\n" << gen.out;
  }
  const CliResult collect = bcq::test::run_bcq({"batch", "collect", "--help"}, dir.path());
  ASSERT_EQ(collect.exit_code, 0) << collect.err;
  for (const char* part : {"=uniform", "]=1000", "=trajectories", "]=100"}) {
    EXPECT_NE(collect.out.find(part), std::string::npos) << part << " in:\n" << collect.out;
  }
}

}  // namespace
