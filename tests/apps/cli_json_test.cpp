// `--json [FILE]` means the same in every command that prints data (apps/cli_common.hpp
// JsonOutput): alone it prints the JSON on stdout instead of the text; with FILE the text is
// printed as usual and the same JSON is written to FILE; a FILE that is one of the command's
// inputs, or a folder, is refused before any work and the input is left as it was.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "tests/test_util.hpp"

namespace {

using bcq::test::CliResult;
using bcq::test::read_file;
using bcq::test::run_bcq;
using bcq::test::TempDir;
using bcq::test::write_file;

struct JsonCommand {
  std::string name;
  std::vector<std::string> args;  // the command line without --json
  std::string text_marker;        // a phrase of the text output, never in the JSON
  std::string json_key;           // a key of the JSON document
  std::string input;              // one input file of the command ("" when it has none)
};

// Runs `args` with "--json" appended, then with "--json FILE", then with FILE = an input and
// FILE = a folder.
void expect_one_meaning(const JsonCommand& c, const TempDir& dir) {
  SCOPED_TRACE(c.name);
  std::vector<std::string> alone = c.args;
  alone.push_back("--json");
  const CliResult to_stdout = run_bcq(alone, dir.path());
  ASSERT_EQ(to_stdout.exit_code, 0) << to_stdout.err;
  nlohmann::json printed;
  ASSERT_NO_THROW(printed = nlohmann::json::parse(to_stdout.out)) << "stdout is one JSON document:\n"
                                                                  << to_stdout.out;
  if (!c.json_key.empty()) {
    EXPECT_TRUE(printed.contains(c.json_key)) << to_stdout.out;
  }
  EXPECT_EQ(to_stdout.out.find(c.text_marker), std::string::npos) << "no text beside the JSON";

  std::vector<std::string> to_file = c.args;
  to_file.push_back("--json");
  to_file.push_back(dir.file(c.name + ".json"));
  const CliResult with_file = run_bcq(to_file, dir.path());
  ASSERT_EQ(with_file.exit_code, 0) << with_file.err;
  EXPECT_NE(with_file.out.find(c.text_marker), std::string::npos) << "the text as usual:\n" << with_file.out;
  nlohmann::json written;
  ASSERT_NO_THROW(written = nlohmann::json::parse(read_file(dir.file(c.name + ".json"))));
  // The same document either way (timings aside, which only verify puts in its JSON).
  if (written.contains("statements")) {
    for (auto* doc : {&written, &printed}) {
      for (auto& s : (*doc)["statements"]) {
        s.erase("seconds");
        s.erase("cases_per_second");
      }
    }
  }
  EXPECT_EQ(written, printed);

  if (!c.input.empty()) {
    const std::string before = read_file(c.input);
    std::vector<std::string> onto_input = c.args;
    onto_input.push_back("--json");
    onto_input.push_back(c.input);
    const CliResult refused = run_bcq(onto_input, dir.path());
    EXPECT_EQ(refused.exit_code, 2) << refused.err;
    EXPECT_NE(refused.err.find("is the same file as the input"), std::string::npos) << refused.err;
    EXPECT_EQ(read_file(c.input), before) << "the input is untouched";
  }
  std::vector<std::string> onto_folder = c.args;
  onto_folder.push_back("--json");
  onto_folder.push_back(dir.path());
  const CliResult folder = run_bcq(onto_folder, dir.path());
  EXPECT_EQ(folder.exit_code, 2) << folder.err;
  EXPECT_NE(folder.err.find("--json " + dir.path() + ": it is a directory"), std::string::npos) << folder.err;
}

TEST(JsonOption, TabularCommandsPrintJsonAloneAndWriteItBesideTheTextWithAFile) {
  TempDir dir;
  write_file(dir.file("m.json"), bcq::test::kTwoStepMdp);
  ASSERT_EQ(run_bcq({"batch", "collect", "--mdp", dir.file("m.json"), "--size", "200", "-o", dir.file("b.csv")},
                    dir.path()).exit_code, 0);
  ASSERT_EQ(run_bcq({"mdp", "solve", dir.file("m.json"), "--policy-out", dir.file("pi.json")}, dir.path()).exit_code,
            0);
  const std::vector<JsonCommand> commands = {
      {"solve", {"mdp", "solve", dir.file("m.json")}, "policy iteration", "greedy_policy", dir.file("m.json")},
      {"analyze", {"batch", "analyze", "--mdp", dir.file("m.json"), "--batch", dir.file("b.csv")}, "coherent  ",
       "coverage", dir.file("b.csv")},
      {"tabular", {"tabular", "--algo", "bcql", "--mode", "synchronous", "--mdp", dir.file("m.json"), "--batch",
                   dir.file("b.csv")},
       "Q(s,a) for a = 0..", "Q", dir.file("m.json")},
      {"spibb", {"tabular", "--algo", "spibb", "--mdp", dir.file("m.json"), "--batch", dir.file("b.csv"),
                 "--baseline", dir.file("pi.json")},
       "improvement steps", "policy", dir.file("pi.json")},
      {"error", {"error", "--mdp", dir.file("m.json"), "--batch", dir.file("b.csv"), "--policy", dir.file("pi.json")},
       "eps^pi_MDP (Eq. 5)", "eps_pi_mdp", dir.file("pi.json")},
      {"verify", {"verify", "--theorem", "theorem1", "--cases", "5", "--no-probes", "--quiet"}, "classification (cases per tag)",
       "statements", ""},
  };
  for (const JsonCommand& c : commands) expect_one_meaning(c, dir);
}

// A FILE equal to another output of the same command is refused before anything is written,
// whether or not that output exists yet.
TEST(JsonOption, AFileThatIsAnotherOutputOfTheCommandIsRefused) {
  TempDir dir;
  write_file(dir.file("m.json"), bcq::test::kTwoStepMdp);
  ASSERT_EQ(run_bcq({"batch", "collect", "--mdp", dir.file("m.json"), "--size", "50", "-o", dir.file("b.csv")},
                    dir.path()).exit_code, 0);
  const std::vector<std::vector<std::string>> commands = {
      {"mdp", "solve", dir.file("m.json"), "--policy-out", dir.file("o.json"), "--json", dir.file("o.json")},
      {"batch", "analyze", "--mdp", dir.file("m.json"), "--batch", dir.file("b.csv"), "--dot", dir.file("o.json"),
       "--json", dir.file("o.json")},
      {"tabular", "--algo", "bcql", "--mdp", dir.file("m.json"), "--batch", dir.file("b.csv"), "--policy-out",
       dir.file("o.json"), "--json", dir.file("o.json")},
  };
  for (const auto& args : commands) {
    SCOPED_TRACE(args[0] + " " + args[1]);
    const CliResult r = run_bcq(args, dir.path());
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_NE(r.err.find("--json " + dir.file("o.json") + " is the same file as "), std::string::npos) << r.err;
    EXPECT_FALSE(bcq::test::file_exists(dir.file("o.json")));
  }
}

// The commands of bcq-continuous and of the MuJoCo environments, where this build has them.
TEST(JsonOption, StudyAndEnvironmentCommandsMeanTheSame) {
#ifndef BCQ_TEST_HAS_CONTINUOUS
  GTEST_SKIP() << "built without LibTorch: no study or env commands";
#else
  TempDir dir;
  expect_one_meaning({"plan", {"study", "plan", "--profile", "smoke"}, "Slurm arrays", "cells", ""}, dir);
  expect_one_meaning({"env-list", {"env", "list"}, "mass(kg)", "", ""}, dir);
  expect_one_meaning({"rollout", {"env", "rollout", "--env", "inverted-pendulum", "--episodes", "2"},
                      "mean return", "mean_return", ""},
                     dir);
#endif
}

}  // namespace
