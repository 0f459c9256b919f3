// The tabular study runner (study/tabular): CVaR and summaries on hand-worked numbers, the
// per-run quantities against a second computation, and the runner's contract: results do not
// depend on --workers, a killed study resumes to the same files, a folder of another spec is
// refused.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "bcql/baseline_policy.hpp"
#include "bcql/extrapolation_error.hpp"
#include "common/error.hpp"
#include "bcql/synchronous.hpp"
#include "mdp/analysis.hpp"
#include "mdp/solve.hpp"
#include "study/tabular/tabular_study.hpp"
#include "test_util.hpp"

namespace bcq::tabular_study {
namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A study small enough for the default suite: 12-state garnets, two sizes, three runs.
StudySpec tiny_spec() {
  StudySpec s;
  s.profile = "spec";
  s.mdps = {"garnet"};
  s.deterministic = {false, true};
  s.behaviours = {"ratio-0.5"};
  s.dataset_sizes = {5, 20};
  s.datasets = 3;
  s.garnet_states = 12;
  s.garnet_actions = 3;
  s.garnet_branching = 3;
  s.horizon = 30;
  s.n_wedge = 3;
  return s;
}

TEST(TabularStudy, CvarIsTheMeanOfTheWorstFraction) {
  EXPECT_DOUBLE_EQ(cvar({5, 1, 3, 2, 4}, 0.10), 1.0);  // ceil(0.5) = 1 worst value
  EXPECT_DOUBLE_EQ(cvar({5, 1, 3, 2, 4}, 0.50), 2.0);  // ceil(2.5) = 3: (1 + 2 + 3) / 3
  EXPECT_DOUBLE_EQ(cvar({5, 1, 3, 2, 4}, 1.00), 3.0);
  std::vector<double> hundred;
  for (int i = 0; i < 100; ++i) hundred.push_back(i);
  EXPECT_DOUBLE_EQ(cvar(hundred, 0.01), 0.0);
  EXPECT_DOUBLE_EQ(cvar(hundred, 0.10), 4.5);  // mean of 0..9
}

TEST(TabularStudy, SummaryOfHandMadeRows) {
  StudySpec spec = tiny_spec();
  spec.algorithms = {"behaviour", "spibb"};
  const Cell cell{"garnet", false, "ratio-0.5", 5};
  std::vector<RunRow> rows;
  const double rets[4] = {0.2, 0.6, 0.4, 0.5};  // spibb's returns; behaviour returns 0.4
  for (int k = 0; k < 4; ++k) {
    RunRow b{"garnet", false, "ratio-0.5", 5, k, "behaviour", 0.4, 0.0, 0.01, true, 0.4, 0.8};
    RunRow s{"garnet", false, "ratio-0.5", 5, k, "spibb", rets[k], (rets[k] - 0.4) / 0.4, 0.03,
             true, 0.4, 0.8};
    rows.push_back(b);
    rows.push_back(s);
  }
  const std::vector<SummaryRow> sum = summarise(spec, cell, rows);
  ASSERT_EQ(sum.size(), 2u);
  EXPECT_EQ(sum[0].algo, "behaviour");
  EXPECT_DOUBLE_EQ(sum[0].p_improve, 0.0);
  EXPECT_EQ(sum[1].runs, 4);
  EXPECT_NEAR(sum[1].mean_normalised, (-0.5 + 0.5 + 0.0 + 0.25) / 4, 1e-12);
  EXPECT_NEAR(sum[1].cvar1_normalised, -0.5, 1e-12);
  EXPECT_NEAR(sum[1].cvar10_normalised, -0.5, 1e-12);
  EXPECT_DOUBLE_EQ(sum[1].p_improve, 0.5);  // 0.6 and 0.5 beat 0.4; 0.4 itself does not
  EXPECT_NEAR(sum[1].mean_return, 0.425, 1e-12);
  EXPECT_NEAR(sum[1].mean_extrapolation_error, 0.03, 1e-12);
  EXPECT_EQ(summary_to_csv(sum).substr(0, summary_to_csv(sum).find('\n')), kSummaryHeader);
}

TEST(TabularStudy, RunQuantitiesMatchASecondComputation) {
  const StudySpec spec = tiny_spec();
  const Cell cell{"garnet", false, "ratio-0.5", 20};
  const std::vector<RunRow> rows = run_one(spec, cell, 1);
  ASSERT_EQ(rows.size(), spec.algorithms.size());
  const FiniteMdp mdp = study_mdp(spec, "garnet", false, 1);
  const double rho_star = policy_iteration(mdp).V[0];
  for (const RunRow& r : rows) {
    EXPECT_NEAR(r.optimal_return, rho_star, 1e-9);
    EXPECT_NEAR(r.normalised,
                (r.ret - r.behaviour_return) / (r.optimal_return - r.behaviour_return), 1e-9);
    EXPECT_LE(r.ret, rho_star + 1e-9) << r.algo;
    EXPECT_GE(r.extrapolation_error, 0.0);
    if (r.algo == "behaviour") {
      EXPECT_NEAR(r.ret, r.behaviour_return, 1e-12);
      EXPECT_NEAR(r.normalised, 0.0, 1e-12);
    }
  }
  // The behaviour policy's ratio between uniform and optimal is the target (just below it).
  bcql::BaselineOptions o;
  const double rho_uniform = bcql::expected_return(mdp, Policy::uniform(12, 3));
  const double ratio = (rows[0].behaviour_return - rho_uniform) / (rho_star - rho_uniform);
  EXPECT_LE(ratio, 0.5 + 1e-12);
  EXPECT_GT(ratio, 0.3);
  (void)o;
}

TEST(TabularStudy, ExtrapolationErrorAndConstraintColumnsMatchASecondComputation) {
  // bcql::extrapolation_error (sparse solves, cross-checked against Remark 1) and
  // bcq::is_batch_constrained on the run's own inputs.
  const StudySpec spec = tiny_spec();
  for (bool deterministic : {false, true}) {
    const Cell cell{"garnet", deterministic, "ratio-0.5", 20};
    const std::vector<RunRow> rows = run_one(spec, cell, 2);
    const RunInputs in = run_inputs(spec, cell, 2);
    for (const RunRow& r : rows) {
      if (r.algo != "behaviour" && r.algo != "q-learning") continue;
      const Policy pi = r.algo == "behaviour" ? in.behaviour.policy : Policy{};
      if (r.algo == "behaviour") {
        bcql::ExtrapolationOptions o;
        const bcql::ExtrapolationError e = bcql::extrapolation_error(in.mdp, in.batch, pi, o);
        EXPECT_NEAR(r.extrapolation_error, e.eps_pi_mdp, 1e-9);
        EXPECT_EQ(r.batch_constrained, is_batch_constrained(in.mdp, in.batch, pi));
        EXPECT_NEAR(r.ret, bcql::expected_return(in.mdp, pi), 1e-12);
      }
    }
    // Q-learning from Q_init = spec.q_init: its M_B uses the same Q_init (Eq. 3).
    bcql::SynchronousOptions so;
    so.algorithm = bcql::Algorithm::kQLearning;
    so.q_init = spec.q_init;
    so.tolerance = 1e-10;
    const bcql::PreparedBatch prepared = bcql::prepare_batch(in.mdp, in.batch);
    const Policy q_pi = Policy::deterministic(
        bcql::learned_policy(prepared, bcql::Algorithm::kQLearning,
                             bcql::run_synchronous(prepared, so).Q),
        in.mdp.num_actions());
    bcql::ExtrapolationOptions o;
    o.q_init = spec.q_init;
    const bcql::ExtrapolationError e = bcql::extrapolation_error(in.mdp, in.batch, q_pi, o);
    EXPECT_NEAR(rows[2].extrapolation_error, e.eps_pi_mdp, 1e-9);
    EXPECT_EQ(rows[2].algo, "q-learning");
  }
}

TEST(TabularStudy, WorkersAndResumeGiveTheSameFiles) {
  const StudySpec spec = tiny_spec();
  test::TempDir one, two;
  RunOptions o;
  o.out_dir = one.path();
  const StudyOutcome a = run_study(spec, o);
  EXPECT_EQ(a.cells, 4);
  EXPECT_EQ(a.cells_run, 4);
  o.out_dir = two.path();
  o.workers = 2;
  run_study(spec, o);
  const std::string runs = slurp(one.file("tabular.csv"));
  EXPECT_EQ(runs, slurp(two.file("tabular.csv")));
  EXPECT_EQ(slurp(one.file("tabular_summary.csv")), slurp(two.file("tabular_summary.csv")));
  EXPECT_EQ(runs.substr(0, runs.find('\n')), kRunsHeader);
  // 4 cells x 3 runs x 8 algorithms + header.
  EXPECT_EQ(std::count(runs.begin(), runs.end(), '\n'), 4 * 3 * 8 + 1);

  // A killed run: one cell file gone, the others kept. The resumed study recomputes only it.
  std::filesystem::remove(two.file("cells/garnet-deterministic-ratio-0.5-n5.csv"));
  std::filesystem::remove(two.file("tabular.csv"));
  o.workers = 1;
  const StudyOutcome resumed = run_study(spec, o);
  EXPECT_EQ(resumed.cells_run, 1);
  EXPECT_EQ(resumed.cells_resumed, 3);
  EXPECT_EQ(runs, slurp(two.file("tabular.csv")));
  const nlohmann::json state = nlohmann::json::parse(slurp(two.file("tabular_study.json")));
  EXPECT_EQ(state["status"], "done");
  EXPECT_EQ(state["cells_done"], 4);

  // Another spec in the same folder is refused, and nothing there changes.
  StudySpec other = spec;
  other.datasets = 4;
  EXPECT_THROW(run_study(other, o), InputError);
  EXPECT_EQ(runs, slurp(two.file("tabular.csv")));
}

TEST(TabularStudy, SpecValidationNamesTheField) {
  auto refused = [](const std::string& text, const std::string& needle) {
    try {
      spec_from_json(nlohmann::json::parse(text), "s.json");
      ADD_FAILURE() << "accepted " << text;
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  refused(R"({"datasets": 0})", "'datasets'");
  refused(R"({"behaviours": ["ratio-1.5"]})", "ratio-1.5");
  refused(R"({"algorithms": ["dqn"]})", "dqn");
  refused(R"({"dataset_sizes": "ten"})", "'dataset_sizes'");
  refused(R"({"colour": 1})", "'colour'");
  refused(R"({"gamma": 1.0})", "'gamma'");
  const StudySpec s = spec_from_json(nlohmann::json::parse(R"({"datasets": 7})"), "s.json");
  EXPECT_EQ(s.datasets, 7);
  EXPECT_EQ(s.profile, "spec");
  EXPECT_EQ(profile_spec("paper").datasets, 1000);
  EXPECT_THROW(profile_spec("huge"), InputError);
}

}  // namespace
}  // namespace bcq::tabular_study
