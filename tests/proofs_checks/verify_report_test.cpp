// The reports of a verify run, on a hand-made report: a statement that failed, one that passed
// and a probe that found its counterexample.
#include "proofs_checks/verify_report.hpp"

#include <gtest/gtest.h>

#include <string>

namespace bcq::proofs {
namespace {

VerifyReport sample_report() {
  VerifyReport report;
  StatementReport failed;
  failed.name = "theorem1";
  failed.title = "Theorem 1: the claim";
  failed.cases_run = 4;
  failed.passed = 3;
  failed.seed = 7;
  failed.failing_case = 3;
  failed.failing_case_seed = 99;
  failed.seconds = 2.0;
  failed.failed = true;
  failed.failure = "Q != Q*";
  failed.counterexample = "first line\nsecond line\n";
  failed.saved_files = {"out/theorem1/mdp.json"};
  StatementReport passed;
  passed.name = "lemma1";
  passed.title = "Lemma 1: the claim";
  passed.cases_run = 20;
  passed.passed = 20;
  passed.seed = 7;
  passed.tags = {{"coherent", 12}, {"stochastic", 8}};
  StatementReport probe;
  probe.name = "probe:theorem2-stochastic";
  probe.probe = true;
  probe.dropped = "determinism";
  probe.explanation = "a stochastic M breaks it";
  probe.cases_run = 1;
  probe.seed = 7;
  probe.failing_case = 0;
  probe.failed = true;  // the counterexample it looks for
  report.statements = {failed, passed, probe};
  return report;
}

TEST(VerifyReport, JsonHasTheVerdictsAndTheFailingCase) {
  const nlohmann::json j = verify_json(sample_report(), 20, 7);
  EXPECT_EQ(j["format"], "bcq-verify/1");
  EXPECT_EQ(j["cases"], 20);
  EXPECT_EQ(j["seed"], 7);
  EXPECT_EQ(j["ok"], false);
  ASSERT_EQ(j["statements"].size(), 3u);
  const nlohmann::json& failed = j["statements"][0];
  EXPECT_EQ(failed["verdict"], "FAILED");
  EXPECT_EQ(failed["failing_case"], 3);
  EXPECT_EQ(failed["failing_case_seed"], 99);
  EXPECT_EQ(failed["failure"], "Q != Q*");
  EXPECT_DOUBLE_EQ(failed["cases_per_second"].get<double>(), 2.0);  // 4 cases in 2 s
  const nlohmann::json& passed = j["statements"][1];
  EXPECT_EQ(passed["verdict"], "passed");
  EXPECT_EQ(passed["classification"]["coherent"], 12);
  EXPECT_FALSE(passed.contains("failure"));
  EXPECT_DOUBLE_EQ(passed["cases_per_second"].get<double>(), 0.0);  // no time measured
  const nlohmann::json& probe = j["statements"][2];
  EXPECT_EQ(probe["verdict"], "counterexample found");
  EXPECT_EQ(probe["ok"], true);
  EXPECT_EQ(probe["dropped_condition"], "determinism");
}

TEST(VerifyReport, TextNamesTheReplayCommandOfTheFailingStatement) {
  const std::string text = verify_text(sample_report());
  EXPECT_NE(text.find("STATEMENT theorem1: FAILED (seed 7, case 3; replay: bcq verify --theorem theorem1 --seed 7)\n"
                      "  Q != Q*\n    first line\n    second line\n  saved out/theorem1/mdp.json\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("  lemma1                               12 coherent, 8 stochastic\n"), std::string::npos) << text;
  EXPECT_NE(text.find("probe probe:theorem2-stochastic: counterexample found (seed 7, case 0; replay: "
                      "bcq verify --theorem probe:theorem2-stochastic --seed 7)\n  dropped: determinism\n"),
            std::string::npos)
      << text;
  EXPECT_EQ(text.find("STATEMENT lemma1"), std::string::npos) << text;  // a passed statement has no section
}

TEST(VerifyReport, MarkdownListsEveryStatement) {
  const std::string md = demo_markdown(sample_report(), 20, 7);
  EXPECT_NE(md.find("(RapidCheck, 20 cases per statement, seed 7)"), std::string::npos) << md;
  EXPECT_NE(md.find("Overall: **SOMETHING FAILED, see below**"), std::string::npos) << md;
  EXPECT_NE(md.find("| theorem1 | Theorem 1: the claim | 4 | 0 | 2.00 | FAILED |\n"), std::string::npos) << md;
  EXPECT_NE(md.find("| lemma1 | Lemma 1: the claim | 20 | 0 | 0.00 | passed |\n"), std::string::npos) << md;
  EXPECT_NE(md.find("| probe:theorem2-stochastic | determinism | counterexample found | a stochastic M breaks it |\n"),
            std::string::npos)
      << md;
  EXPECT_NE(md.find("### theorem1\n\nQ != Q*\n\n```\nfirst line\nsecond line\n```\n"), std::string::npos) << md;
  EXPECT_NE(md.find("\nFiles: out/theorem1/mdp.json (and batch.csv"), std::string::npos) << md;
}

TEST(VerifyReport, DemoSummaryAddsUpTheTimeAndSaysWhereTheFilesAre) {
  const std::string out = demo_summary(sample_report(), "d", "d/counterexamples");
  EXPECT_NE(out.find("total 2.0 s. Report: d/report.md, JSON: d/verify.json, counterexamples: d/counterexamples/\n"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("theorem1                                    4     2.00  FAILED\n"), std::string::npos) << out;
  const std::string last = "SOME CHECKS FAILED: see the report.\n";
  EXPECT_EQ(out.compare(out.size() - last.size(), last.size(), last), 0) << out;
  VerifyReport all_ok = sample_report();
  all_ok.statements.erase(all_ok.statements.begin());
  EXPECT_NE(demo_summary(all_ok, "d", "d/c").find("All statements hold"), std::string::npos);
}

}  // namespace
}  // namespace bcq::proofs
