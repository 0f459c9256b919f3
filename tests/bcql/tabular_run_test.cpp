// One tabular run and one extrapolation error measurement with their reports, on a two-state
// MDP whose numbers are worked by hand: state 0 starts, state 1 is terminal; (0,0) reaches it
// with reward 1, (0,1) with reward 0; the batch holds (0,0) once.
#include "bcql/tabular_run.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "bcql_test_util.hpp"
#include "common/error.hpp"

namespace bcq::bcql {
namespace {

FiniteMdp two_states() {
  MdpSpec spec;
  spec.num_states = 2;
  spec.num_actions = 2;
  spec.gamma = 0.5;
  spec.initial = {{0, 1.0}};
  spec.terminal = {1};
  spec.transitions = {{0, 0, {{1, 1.0, 1.0}}}, {0, 1, {{1, 1.0, 0.0}}}};
  return testing::build(spec);
}

Batch one_transition() {
  Batch b;
  b.transitions.push_back({0, 0, 1.0, 1, true});
  return b;
}

std::vector<std::string> keys(const nlohmann::ordered_json& j) {
  std::vector<std::string> out;
  for (const auto& item : j.items()) out.push_back(item.key());
  return out;
}

TEST(TabularRun, SynchronousBcqlOnTwoStates) {
  TabularRequest request;
  request.algorithm = "bcql";
  request.mode = "synchronous";
  request.mdp_path = "m.json";
  request.batch_path = "b.csv";
  const TabularRun run = run_tabular(two_states(), one_transition(), request);
  const nlohmann::ordered_json& j = run.json;
  EXPECT_EQ(keys(j), (std::vector<std::string>{"format", "algorithm", "mode", "mdp", "batch", "num_states",
                                               "num_actions", "gamma", "batch_size", "q_init", "sweeps", "updates",
                                               "stop", "convergence", "Q", "greedy_policy", "in_batch_actions"}));
  EXPECT_EQ(j["format"], "bcq-tabular/1");
  EXPECT_EQ(j["algorithm"], "bcql");
  EXPECT_EQ(j["mdp"], "m.json");
  EXPECT_EQ(j["batch_size"], 1);
  EXPECT_EQ(j["stop"], "converged");
  // Q(0,0) = 1 (reward 1 into the terminal); (0,1) is not in B and keeps Q_init = 0.
  EXPECT_DOUBLE_EQ(j["Q"][0][0].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(j["Q"][0][1].get<double>(), 0.0);
  EXPECT_EQ(j["greedy_policy"][0], 0);
  EXPECT_EQ(j["in_batch_actions"], nlohmann::ordered_json::parse("[[0], []]"));
  EXPECT_TRUE(run.converged);
  EXPECT_DOUBLE_EQ(run.policy(0, 0), 1.0);
  EXPECT_NE(run.text.find("bcql synchronous: "), std::string::npos) << run.text;
  EXPECT_NE(run.text.find("     0       0    1.000000     0.000000~\n"), std::string::npos) << run.text;
  EXPECT_NE(run.text.find("     1       -"), std::string::npos) << run.text;
  EXPECT_NE(run.text.find("(terminal)\n"), std::string::npos) << run.text;
}

TEST(TabularRun, SampledRecordsTheStepSchedule) {
  TabularRequest request;
  request.algorithm = "q-learning";
  request.iterations = 50;
  request.seed = 3;
  request.step = StepSchedule::constant(0.5);
  const TabularRun run = run_tabular(two_states(), one_transition(), request);
  EXPECT_EQ(run.json["mode"], "sampled");
  EXPECT_EQ(run.json["updates"], 50);
  EXPECT_EQ(run.json["step"], nlohmann::ordered_json::parse(R"({"kind":"constant","alpha":0.5,"robbins_monro":false})"));
  EXPECT_EQ(run.json["stop"], "max-updates");
  EXPECT_TRUE(run.converged);  // a sampled run is never a failed check
  EXPECT_EQ(run.text.rfind("q-learning sampled: 50 updates, stopped by max-updates", 0), 0u) << run.text;
}

TEST(TabularRun, BehaviourValuesTheBaselineInTheModelAndInM) {
  TabularRequest request;
  request.algorithm = "behaviour";
  request.baseline_path = "pi.json";
  request.baseline = Policy::uniform(2, 2);
  const TabularRun run = run_tabular(two_states(), one_transition(), request);
  const nlohmann::ordered_json& j = run.json;
  EXPECT_EQ(j["baseline"], "pi.json");
  // V(0) = (1 + 0) / 2 in both: the unseen (0,1) is worth Q_init = 0 in M_B and 0 in M.
  EXPECT_DOUBLE_EQ(j["return_estimated"].get<double>(), 0.5);
  EXPECT_DOUBLE_EQ(j["return_true"].get<double>(), 0.5);
  EXPECT_EQ(j["batch_constrained"], false);
  EXPECT_EQ(j["policy"], nlohmann::ordered_json::parse("[[0.5, 0.5], [0.5, 0.5]]"));
  EXPECT_NE(run.text.find("return from d_0: 0.500000 estimated (model), 0.500000 true (MDP); not batch-constrained"),
            std::string::npos)
      << run.text;
  EXPECT_NE(run.text.find("  0.5000   0.5000~\n"), std::string::npos) << run.text;
  request.baseline = Policy::uniform(3, 2);  // not the MDP's shape
  EXPECT_THROW(run_tabular(two_states(), one_transition(), request), ValidationError);
}

TEST(TabularRun, CheckRequestNamesTheOption) {
  TabularRequest request;
  request.algorithm = "spibb";
  try {
    check_request(request);
    FAIL() << "spibb without a baseline was accepted";
  } catch (const InputError& e) {
    EXPECT_STREQ(e.what(), "--algo spibb needs --baseline P (the behaviour policy, bcq-policy/1)");
  }
  request.algorithm = "ramdp";
  request.kappa = -1.0;
  EXPECT_THROW(check_request(request), InputError);
  request.algorithm = "bcql";  // --kappa is not bcql's
  EXPECT_NO_THROW(check_request(request));
  request.check_every = -1;
  EXPECT_THROW(check_request(request), InputError);
  EXPECT_TRUE(is_safe_policy_improvement("vi-lcb"));
  EXPECT_FALSE(is_safe_policy_improvement("q-learning"));
}

TEST(ExtrapolationRun, UnseenPairBreaksLemma1ByItsQInit) {
  ExtrapolationRequest request;
  request.mdp_path = "m.json";
  request.batch_path = "b.csv";
  request.policy_path = "pi.json";
  request.q_init = 2.0;
  const ExtrapolationRun run = run_extrapolation_error(two_states(), one_transition(), Policy::uniform(2, 2), request);
  const nlohmann::ordered_json& j = run.json;
  EXPECT_EQ(j["format"], "bcq-error/1");
  EXPECT_EQ(j["policy"], "pi.json");
  // eps = Q^pi - Q^pi_B: (0,0) is seen with p_B = p_M (0); (0,1) is worth 0 in M and Q_init = 2 in M_B.
  EXPECT_NEAR(j["eps_direct"][0][0].get<double>(), 0.0, 1e-12);
  EXPECT_NEAR(j["eps_direct"][0][1].get<double>(), -2.0, 1e-12);
  EXPECT_TRUE(run.methods_agree);
  EXPECT_EQ(j["methods_agree"], true);
  ASSERT_EQ(j["lemma1_violations"].size(), 1u);
  EXPECT_EQ(j["lemma1_violations"][0]["a"], 1);
  EXPECT_EQ(j["lemma1_violations"][0]["reason"], "missing from batch");
  EXPECT_EQ(j["lemma1_condition_holds"], false);
  EXPECT_EQ(run.text.rfind("extrapolation error of pi.json on m.json with batch b.csv (1 transitions), gamma 0.5\n", 0),
            0u)
      << run.text;
  EXPECT_NE(run.text.find("2 relevant pairs, 1 break Lemma 1's condition"), std::string::npos) << run.text;
}

}  // namespace
}  // namespace bcq::bcql
