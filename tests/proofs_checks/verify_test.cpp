// The verify runner: statements pass, probes find (only) the counterexamples they should,
// a planted bug is reported, and saved counterexamples replay through the CLI.
#include "proofs_checks/verify.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

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
  o.config.plant_unconstrained_bcql = true;
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
  o.config.plant_unconstrained_bcql = true;
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
