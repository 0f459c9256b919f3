// The verify runner: statements pass, probes find (only) the counterexamples they should,
// a planted bug is reported, and saved counterexamples replay through the CLI.
#include "proofs_checks/verify.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <rapidcheck.h>

#include "bcql/synchronous.hpp"
#include "mdp/batch.hpp"
#include "mdp/io.hpp"
#include "tests/test_util.hpp"

namespace {

using bcq::proofs::VerifyOptions;
using bcq::proofs::VerifyReport;

const bcq::proofs::StatementReport& find(const VerifyReport& r, const std::string& name) {
  for (const auto& s : r.statements)
    if (s.name == name) return s;
  throw std::runtime_error("missing " + name);
}

TEST(Verify, AllStatementsPassAndNecessaryConditionsHaveCounterexamples) {
  VerifyOptions o;
  o.cases = 300;
  o.seed = 7;
  VerifyReport r = bcq::proofs::verify(o);
  ASSERT_EQ(r.statements.size(), bcq::proofs::statements().size());
  for (const auto& s : r.statements) {
    EXPECT_TRUE(s.ok()) << s.name << ": " << s.failure << "\n" << s.counterexample;
    if (!s.probe) {
      EXPECT_EQ(s.passed, 300) << s.name;
      EXPECT_FALSE(s.tags.empty()) << s.name << " has no classification";
    }
  }
  EXPECT_TRUE(r.ok());
  // The probe whose dropped condition is not necessary finds nothing; the others find one.
  EXPECT_FALSE(find(r, "probe:theorem4-constant-step").failed);
  EXPECT_TRUE(find(r, "probe:theorem2-stochastic").failed);
  EXPECT_TRUE(find(r, "probe:theorem4-q-learning").failed);
}

TEST(Verify, ClassificationCoversBothSidesOfEachIff) {
  VerifyOptions o;
  o.cases = 300;
  o.theorem = "lemma1";
  VerifyReport r = bcq::proofs::verify(o);
  const auto& tags = r.statements.at(0).tags;
  EXPECT_GT(tags.at("condition holds"), 30);
  EXPECT_GT(tags.at("condition fails"), 30);
  EXPECT_GT(tags.at("stochastic"), 30);
  o.theorem = "theorem2";
  o.include_probes = false;
  r = bcq::proofs::verify(o);
  EXPECT_GT(find(r, "theorem2").tags.at("batch-constrained"), 30);
  EXPECT_GT(find(r, "theorem2").tags.at("not batch-constrained"), 30);
}

TEST(Verify, PlantedBugInBcqlIsReported) {
  // Test-only seam: BCQL maxes over all actions. Theorem 4 must fail and say so.
  VerifyOptions o;
  o.cases = 500;
  o.theorem = "theorem4";
  o.include_probes = false;
  o.config.plant = bcq::proofs::PlantedBug::kUnconstrainedBcql;
  bcq::test::TempDir dir;
  o.out_dir = dir.path();
  VerifyReport r = bcq::proofs::verify(o);
  const auto& t4 = find(r, "theorem4");
  EXPECT_TRUE(t4.failed);
  EXPECT_FALSE(t4.ok());
  EXPECT_FALSE(r.ok());
  EXPECT_NE(t4.failure.find("BCQL"), std::string::npos) << t4.failure;
  // The shrunk counterexample is saved and shows the bug through the real (unplanted) code:
  // synchronous Q-learning and BCQL disagree on it.
  ASSERT_EQ(t4.saved_files.size(), 4u);
  bcq::FiniteMdp mdp = bcq::load_mdp(t4.saved_files[0]);
  bcq::Batch batch = bcq::load_batch(t4.saved_files[1]);
  EXPECT_LE(mdp.num_states(), 3) << "shrinking should give a small case:\n" << t4.counterexample;
  bcq::bcql::SynchronousOptions q, b;
  q.algorithm = bcq::bcql::Algorithm::kQLearning;
  b.algorithm = bcq::bcql::Algorithm::kBcql;
  std::string txt = bcq::test::read_file(t4.saved_files[3]);
  auto pos = txt.find("Q_init ");
  ASSERT_NE(pos, std::string::npos);
  q.q_init = b.q_init = std::stod(txt.substr(pos + 7));
  EXPECT_GT(bcq::max_abs_difference(bcq::bcql::run_synchronous(mdp, batch, q).Q, bcq::bcql::run_synchronous(mdp, batch, b).Q),
            1e-6);
}

TEST(Verify, PlantedBugIsCaughtByTheSampledCheckToo) {
  // The statistical tolerance of the sampled check is not so wide that it hides a wrong fixed
  // point: sampled BCQL with the planted unconstrained max must fail theorem4-sampled.
  VerifyOptions o;
  o.cases = 500;
  o.theorem = "theorem4-sampled";
  o.include_probes = false;
  o.config.plant = bcq::proofs::PlantedBug::kUnconstrainedBcql;
  VerifyReport r = bcq::proofs::verify(o);
  EXPECT_TRUE(find(r, "theorem4-sampled").failed);
  EXPECT_NE(find(r, "theorem4-sampled").failure.find("sampled BCQL vs Q^{pi*}"), std::string::npos);
}

TEST(Verify, PlantedBugWithoutTheSeamPasses) {
  // Same run without the seam: the failure above comes from the bug, not from the setup.
  VerifyOptions o;
  o.cases = 500;
  o.theorem = "theorem4";
  o.include_probes = false;
  VerifyReport r = bcq::proofs::verify(o);
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.statements.size(), 2u);  // theorem4 and theorem4-sampled
}

// --- One verdict: ok, verdict text and exit code come from verdict_of. ---

bcq::proofs::StatementReport outcome(bool probe, bool expected, bool failed, bool gave_up, bool errored = false) {
  bcq::proofs::StatementReport r;
  r.probe = probe;
  r.counterexample_expected = expected;
  r.failed = failed;
  r.gave_up = gave_up;
  r.errored = errored;
  return r;
}

TEST(Verdict, EveryOutcomeOfStatementsAndProbes) {
  using bcq::proofs::verdict_of;
  // Statements.
  EXPECT_TRUE(verdict_of(outcome(false, true, false, false)).ok);
  EXPECT_EQ(verdict_of(outcome(false, true, false, false)).text, "passed");
  EXPECT_FALSE(verdict_of(outcome(false, true, true, false)).ok);
  EXPECT_EQ(verdict_of(outcome(false, true, true, false)).text, "FAILED");
  // Probes: ok exactly when a counterexample is found where one is expected.
  EXPECT_TRUE(verdict_of(outcome(true, true, true, false)).ok);
  EXPECT_FALSE(verdict_of(outcome(true, true, false, false)).ok);
  EXPECT_EQ(verdict_of(outcome(true, true, false, false)).text, "NOT FOUND (expected one)");
  EXPECT_TRUE(verdict_of(outcome(true, false, false, false)).ok);
  EXPECT_FALSE(verdict_of(outcome(true, false, true, false)).ok);
  EXPECT_EQ(verdict_of(outcome(true, false, true, false)).text, "UNEXPECTED counterexample");
  // Giving up or an error is never ok, for statements and probes of either kind.
  for (bool probe : {false, true})
    for (bool expected : {false, true}) {
      EXPECT_FALSE(verdict_of(outcome(probe, expected, false, true)).ok) << probe << expected;
      EXPECT_EQ(verdict_of(outcome(probe, expected, false, true)).text, "GAVE UP");
      EXPECT_FALSE(verdict_of(outcome(probe, expected, false, false, true)).ok);
      EXPECT_EQ(verdict_of(outcome(probe, expected, false, false, true)).text, "ERROR");
    }
  // The report and its exit code follow the statements' verdicts.
  VerifyReport report;
  report.statements = {outcome(false, true, false, false), outcome(true, true, true, false)};
  EXPECT_TRUE(report.ok());
  EXPECT_EQ(report.exit_code(), 0);
  report.statements.push_back(outcome(true, false, false, true));
  EXPECT_FALSE(report.ok());
  EXPECT_EQ(report.exit_code(), 1);
}

TEST(Verify, AStatementOrProbeThatGivesUpIsNotOk) {
  // Test-only seam: every case is discarded, so RapidCheck's discard limit is reached.
  VerifyOptions o;
  o.cases = 20;
  o.theorem = "theorem2";  // theorem2, theorem2-existence and four probes
  o.config.plant = bcq::proofs::PlantedBug::kDiscardEverything;
  VerifyReport r = bcq::proofs::verify(o);
  ASSERT_EQ(r.statements.size(), 6u);
  for (const auto& s : r.statements) {
    EXPECT_TRUE(s.gave_up) << s.name;
    EXPECT_FALSE(s.failed) << s.name;
    EXPECT_FALSE(s.ok()) << s.name;
    EXPECT_EQ(bcq::proofs::verdict_of(s).text, "GAVE UP");
    EXPECT_EQ(s.passed, 0);
    EXPECT_GE(s.discarded, bcq::proofs::kMaxDiscardRatio * o.cases) << s.name;
  }
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.exit_code(), 1);
}

TEST(VerifyCli, GaveUpIsExit1AndNotOkInTheJson) {
  bcq::test::TempDir dir;
  auto r = bcq::test::run_bcq({"verify", "--theorem", "lemma1", "--cases", "10", "--plant-bug", "discard-everything",
                               "--json", dir.file("v.json")},
                              dir.path());
  EXPECT_EQ(r.exit_code, 1) << r.err << r.out;
  EXPECT_NE(r.out.find("GAVE UP"), std::string::npos) << r.out;
  auto j = nlohmann::json::parse(bcq::test::read_file(dir.file("v.json")));
  EXPECT_FALSE(j["ok"].get<bool>());
  ASSERT_EQ(j["statements"].size(), 1u);
  EXPECT_FALSE(j["statements"][0]["ok"].get<bool>());
  EXPECT_EQ(j["statements"][0]["verdict"], "GAVE UP");
}

// --- A planted bug for every statement: `bcq verify` fails with a shrunk, replayable case. ---

struct Planted {
  const char* theorem;  // --theorem selection
  const char* bug;      // --plant-bug
  std::vector<std::string> failing;  // statements that must fail
};

class PlantedBugCli : public ::testing::TestWithParam<Planted> {};

TEST_P(PlantedBugCli, VerifyFailsWithAShrunkReplayableCounterexample) {
  const Planted& p = GetParam();
  bcq::test::TempDir dir;
  auto r = bcq::test::run_bcq({"verify", "--theorem", p.theorem, "--no-probes", "--cases", "300", "--seed", "5",
                               "--plant-bug", p.bug, "--json", dir.file("v.json"), "--out", dir.file("cx"), "--quiet"},
                              dir.path());
  EXPECT_EQ(r.exit_code, 1) << r.err << r.out;
  auto j = nlohmann::json::parse(bcq::test::read_file(dir.file("v.json")));
  EXPECT_FALSE(j["ok"].get<bool>());
  for (const std::string& name : p.failing) {
    const nlohmann::json* st = nullptr;
    for (const auto& s : j["statements"])
      if (s["name"] == name) st = &s;
    ASSERT_NE(st, nullptr) << name;
    EXPECT_EQ((*st)["verdict"], "FAILED") << name;
    EXPECT_FALSE((*st)["ok"].get<bool>());
    EXPECT_FALSE((*st)["failure"].get<std::string>().empty());
    EXPECT_GE((*st)["failing_case"].get<int>(), 0);
    // Saved, small (shrunk) and loadable by the other subcommands.
    const std::string folder = dir.file("cx/" + name);
    bcq::FiniteMdp mdp = bcq::load_mdp(folder + "/mdp.json");
    EXPECT_LE(mdp.num_states(), 4) << name << " did not shrink:\n" << (*st)["counterexample"].get<std::string>();
    auto e = bcq::test::run_bcq({"error", "--mdp", folder + "/mdp.json", "--batch", folder + "/batch.csv", "--policy",
                                 folder + "/policy.json"},
                                dir.path());
    EXPECT_EQ(e.exit_code, 0) << e.err;
    std::string txt = bcq::test::read_file(folder + "/case.txt");
    EXPECT_NE(txt.find("--theorem " + name + " --seed 5"), std::string::npos) << txt;
  }
}

INSTANTIATE_TEST_SUITE_P(
    EveryStatement, PlantedBugCli,
    ::testing::Values(Planted{"theorem1", "q-learning-batch-max", {"theorem1", "theorem1-sampled"}},
                      Planted{"lemma1", "lemma1-ignores-reachability", {"lemma1"}},
                      Planted{"remark1", "remark1-wrong-values", {"remark1"}},
                      Planted{"theorem2", "theorem2-ignores-reachability", {"theorem2"}},
                      Planted{"theorem2-existence", "existence-uniform-witness", {"theorem2-existence"}},
                      Planted{"theorem3", "drop-last-transition", {"theorem3", "theorem3-sampled"}},
                      Planted{"theorem4", "unconstrained-bcql", {"theorem4", "theorem4-sampled"}},
                      Planted{"theorem3", "loose-stopping-rule", {"theorem3"}},
                      Planted{"theorem4", "greedy-over-all-actions", {"theorem4"}}),
    [](const ::testing::TestParamInfo<Planted>& info) {
      std::string n = std::string(info.param.theorem) + "_" + info.param.bug;
      for (char& ch : n)
        if (ch == '-') ch = '_';
      return n;
    });

TEST(PlantedBugs, EachExactPropertyFailsUnderItsSeamInRapidCheck) {
  // The same seams, one level down: RapidCheck itself (not the runner, not the CLI) finds the
  // exact properties false. A property that compared a computation with itself would pass.
  using bcq::proofs::PlantedBug;
  const std::pair<const char*, PlantedBug> pairs[] = {
      {"theorem1", PlantedBug::kQLearningBatchMax},        {"lemma1", PlantedBug::kLemma1IgnoresReachability},
      {"remark1", PlantedBug::kRemark1WrongValues},        {"theorem2", PlantedBug::kTheorem2IgnoresReachability},
      {"theorem2-existence", PlantedBug::kExistenceUniformWitness}, {"theorem3", PlantedBug::kDropLastTransition},
      {"theorem4", PlantedBug::kUnconstrainedBcql},        {"theorem3", PlantedBug::kLooseStoppingRule},
      {"theorem4", PlantedBug::kGreedyOverAllActions}};
  for (const auto& [name, bug] : pairs) {
    bcq::proofs::CheckConfig cfg;
    cfg.plant = bug;
    const bcq::proofs::Statement& st = bcq::proofs::statement(name);
    rc::detail::TestParams params;
    params.seed = 3;
    params.maxSuccess = 300;
    auto result = rc::detail::checkTestable([&] { st.property(cfg); }, rc::detail::TestMetadata{}, params);
    rc::detail::FailureResult failure;
    EXPECT_TRUE(result.match(failure)) << name << " holds under " << bcq::proofs::to_string(bug);
    // And without the seam it holds.
    result = rc::detail::checkTestable([&] { st.property(bcq::proofs::CheckConfig{}); }, rc::detail::TestMetadata{}, params);
    rc::detail::SuccessResult success;
    EXPECT_TRUE(result.match(success)) << name;
  }
}

TEST(Verify, EachPlantedBugBreaksOnlyWhatItShould) {
  // Without its seam each statement above passes (AllStatementsPass...); with a seam meant for
  // another statement, Lemma 1 and Remark 1 still pass: the seams do not leak.
  VerifyOptions o;
  o.cases = 100;
  o.include_probes = false;
  o.theorem = "remark1";
  o.config.plant = bcq::proofs::PlantedBug::kLemma1IgnoresReachability;
  EXPECT_TRUE(bcq::proofs::verify(o).ok());
  o.theorem = "lemma1";
  o.config.plant = bcq::proofs::PlantedBug::kRemark1WrongValues;
  EXPECT_TRUE(bcq::proofs::verify(o).ok());
}

TEST(Verify, AFailureReplaysFromTheSeedForAnyNumberOfCases) {
  // Case k has its own seed: the same first failing case and the same shrunk counterexample
  // whether 200 or 400 cases are asked for.
  VerifyOptions o;
  o.theorem = "theorem4";
  o.include_probes = false;
  o.seed = 9;
  o.config.plant = bcq::proofs::PlantedBug::kUnconstrainedBcql;
  o.cases = 200;
  auto a = find(bcq::proofs::verify(o), "theorem4");
  o.cases = 400;
  auto b = find(bcq::proofs::verify(o), "theorem4");
  ASSERT_TRUE(a.failed);
  EXPECT_EQ(a.failing_case, b.failing_case);
  EXPECT_EQ(a.failing_case_seed, b.failing_case_seed);
  EXPECT_EQ(a.counterexample, b.counterexample);
  EXPECT_EQ(a.failure, b.failure);
  EXPECT_EQ(a.passed, a.failing_case);
}

// --- Each probe's counterexamples come from its dropped condition. ---

TEST(Verify, ProbesWithTheirConditionPutBackFindNothing) {
  VerifyOptions o;
  o.cases = 100;
  o.config.restore_dropped_condition = true;
  int probes = 0;
  for (const auto& st : bcq::proofs::statements()) {
    if (!st.probe) continue;
    ++probes;
    o.theorem = st.name;
    VerifyReport r = bcq::proofs::verify(o);
    ASSERT_EQ(r.statements.size(), 1u);
    const auto& p = r.statements[0];
    EXPECT_FALSE(p.failed) << p.name << " found a counterexample in the theorem's own setting:\n" << p.failure;
    EXPECT_FALSE(p.gave_up) << p.name;
    EXPECT_EQ(p.passed, 100) << p.name;
    EXPECT_EQ(p.ok(), !p.counterexample_expected) << p.name;
  }
  EXPECT_EQ(probes, 10);
}

// --- The runner reads the properties' own messages, not RapidCheck's output text. ---

TEST(Verify, FailureMessageIsThePropertysOwn) {
  VerifyOptions o;
  o.cases = 100;
  o.theorem = "probe:theorem2-existence-no-start";
  VerifyReport r = bcq::proofs::verify(o);
  const auto& p = r.statements.at(0);
  ASSERT_TRUE(p.failed);
  // Exactly the text given to require() in theorem2.cpp, without RapidCheck's preamble.
  EXPECT_EQ(p.failure.rfind("no batch-constrained policy exists (", 0), 0u) << p.failure;
  EXPECT_EQ(p.failure.find("RC_FAIL"), std::string::npos) << p.failure;
}

TEST(Verify, UnknownStatementIsInputError) {
  VerifyOptions o;
  o.theorem = "theorem9";
  EXPECT_THROW(bcq::proofs::verify(o), bcq::InputError);
}

TEST(VerifyCli, JsonReportCountsAndReplayableCounterexamples) {
  bcq::test::TempDir dir;
  auto r = bcq::test::run_bcq({"verify", "--theorem", "theorem2", "--cases", "200", "--seed", "3", "--json",
                               dir.file("v.json"), "--out", dir.file("cx")},
                              dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  auto j = nlohmann::json::parse(bcq::test::read_file(dir.file("v.json")));
  EXPECT_EQ(j["format"], "bcq-verify/1");
  EXPECT_TRUE(j["ok"].get<bool>());
  EXPECT_EQ(j["ranks"], 1);
  bool saw_probe = false;
  for (const auto& s : j["statements"]) {
    if (!s["probe"].get<bool>()) {
      EXPECT_EQ(s["passed"], 200) << s["name"];
      continue;
    }
    saw_probe = true;
    EXPECT_EQ(s["verdict"], "counterexample found") << s["name"];
    // Each saved counterexample replays through the other subcommands.
    std::string folder = dir.file("cx/" + std::string(s["name"]).replace(5, 1, "-"));
    auto a = bcq::test::run_bcq({"batch", "analyze", "--mdp", folder + "/mdp.json", "--batch", folder + "/batch.csv"},
                                dir.path());
    EXPECT_EQ(a.exit_code, 0) << a.err;
    auto e = bcq::test::run_bcq({"error", "--mdp", folder + "/mdp.json", "--batch", folder + "/batch.csv", "--policy",
                                 folder + "/policy.json"},
                                dir.path());
    EXPECT_EQ(e.exit_code, 0) << e.err;
  }
  EXPECT_TRUE(saw_probe);
}

TEST(VerifyCli, BadArgumentsExit2) {
  bcq::test::TempDir dir;
  auto r = bcq::test::run_bcq({"verify", "--theorem", "nope"}, dir.path());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("no such statement"), std::string::npos) << r.err;
  r = bcq::test::run_bcq({"verify", "--cases", "0"}, dir.path());
  EXPECT_EQ(r.exit_code, 2);
}

TEST(DemoCli, WritesReportAndSummary) {
  bcq::test::TempDir dir;
  auto r = bcq::test::run_bcq({"demo", "--cases", "50", "-o", dir.file("demo")}, dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  EXPECT_NE(r.out.find("All statements hold"), std::string::npos) << r.out;
  std::string md = bcq::test::read_file(dir.file("demo/report.md"));
  EXPECT_NE(md.find("| theorem4 |"), std::string::npos);
  EXPECT_NE(md.find("probe:theorem2-existence-no-start"), std::string::npos);
  EXPECT_TRUE(bcq::test::file_exists(dir.file("demo/verify.json")));
  EXPECT_TRUE(bcq::test::file_exists(dir.file("demo/counterexamples/probe-theorem4-incoherent/mdp.json")));
}

}  // namespace
