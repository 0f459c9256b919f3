// Exact solvers against each other and against values worked out by hand.
#include "mdp/solve.hpp"

#include <gtest/gtest.h>

#include "mdp/generators.hpp"
#include "mdp/io.hpp"
#include "tests/test_util.hpp"

#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <tuple>

namespace {

bcq::FiniteMdp two_step() {
  return bcq::mdp_from_json(nlohmann::json::parse(bcq::test::kTwoStepMdp), "two-step");
}

TEST(HandWorked, TwoStepOptimalValues) {
  // V*(1) = max(2, -1) = 2; Q*(0,0) = 0 + 0.9 * 2 = 1.8;
  // Q*(0,1) = 0.5 (1 + 0.9 * 2) + 0.5 (0 + 0) = 1.4; V*(0) = 1.8; V*(2) = 0 (terminal).
  for (const bcq::ValueResult& r : {bcq::value_iteration(two_step(), 1e-12), bcq::policy_iteration(two_step())}) {
    EXPECT_NEAR(r.V[0], 1.8, 1e-10);
    EXPECT_NEAR(r.V[1], 2.0, 1e-10);
    EXPECT_EQ(r.V[2], 0.0);
    EXPECT_NEAR(r.Q(0, 0), 1.8, 1e-10);
    EXPECT_NEAR(r.Q(0, 1), 1.4, 1e-10);
    EXPECT_NEAR(r.Q(1, 0), 2.0, 1e-10);
    EXPECT_NEAR(r.Q(1, 1), -1.0, 1e-10);
    EXPECT_TRUE(r.converged);
  }
  EXPECT_EQ(bcq::greedy_actions(two_step(), bcq::policy_iteration(two_step()).Q), (std::vector<int>{0, 0, 0}));
}

TEST(HandWorked, TwoStepUniformPolicy) {
  // V(1) = 0.5 * 2 + 0.5 * (-1) = 0.5; Q(0,0) = 0.9 * 0.5 = 0.45;
  // Q(0,1) = 0.5 (1 + 0.45) = 0.725; V(0) = (0.45 + 0.725) / 2 = 0.5875.
  for (auto solver : {bcq::LinearSolver::kSparseLU, bcq::LinearSolver::kBiCGSTAB}) {
    bcq::ValueResult r = bcq::evaluate_policy(two_step(), bcq::Policy::uniform(3, 2), solver);
    EXPECT_NEAR(r.V[0], 0.5875, 1e-12);
    EXPECT_NEAR(r.V[1], 0.5, 1e-12);
    EXPECT_NEAR(r.Q(0, 0), 0.45, 1e-12);
    EXPECT_NEAR(r.Q(0, 1), 0.725, 1e-12);
    EXPECT_LT(r.error_bound, 1e-12);
  }
}

TEST(HandWorked, ChainGeometricValues) {
  // Deterministic chain of 5: from state k, going right reaches the goal in 4 - k steps and the
  // last step pays 1, so V*(k) = gamma^(3 - k).
  bcq::FiniteMdp c = bcq::chain(5, 0.0, 0.9);
  bcq::ValueResult r = bcq::policy_iteration(c);
  for (int k = 0; k < 4; ++k) EXPECT_NEAR(r.V[static_cast<size_t>(k)], std::pow(0.9, 3 - k), 1e-12);
}

class ThreeWays : public ::testing::TestWithParam<int> {};

TEST_P(ThreeWays, ValueIterationPolicyIterationAndLinearSolveAgree) {
  const int seed = GetParam();
  bcq::FiniteMdp mdp = bcq::garnet(20 + seed * 7, 3, 1 + seed % 4, static_cast<uint64_t>(seed), 0.9, seed % 3);
  bcq::ValueResult vi = bcq::value_iteration(mdp, 1e-11);
  bcq::ValueResult pi = bcq::policy_iteration(mdp);
  ASSERT_TRUE(vi.converged);
  ASSERT_TRUE(pi.converged);
  EXPECT_LE(bcq::max_abs_difference(vi.Q, pi.Q), 1e-8);
  // The linear solve of the greedy policy reproduces Q*, with both linear solvers.
  bcq::Policy greedy = bcq::Policy::deterministic(bcq::greedy_actions(mdp, pi.Q), mdp.num_actions());
  for (auto solver : {bcq::LinearSolver::kSparseLU, bcq::LinearSolver::kBiCGSTAB}) {
    bcq::ValueResult ev = bcq::evaluate_policy(mdp, greedy, solver);
    EXPECT_LE(bcq::max_abs_difference(ev.Q, vi.Q), 1e-8);
  }
  // Bellman optimality residual of Q* is ~0 (an equation-level check independent of both solvers).
  for (int s = 0; s < mdp.num_states(); ++s) {
    if (mdp.is_terminal(s)) continue;
    double best = -1e300;
    for (int a = 0; a < mdp.num_actions(); ++a) best = std::max(best, pi.Q(s, a));
    EXPECT_NEAR(best, pi.V[static_cast<size_t>(s)], 1e-9);
  }
}

INSTANTIATE_TEST_SUITE_P(Garnets, ThreeWays, ::testing::Range(0, 12));

TEST(PolicyEvaluation, StochasticPolicyLinearSolversAgreeOnLargeGarnet) {
  bcq::FiniteMdp mdp = bcq::garnet(800, 4, 5, 99, 0.95);
  bcq::Policy pi = bcq::Policy::uniform(800, 4);
  bcq::ValueResult lu = bcq::evaluate_policy(mdp, pi, bcq::LinearSolver::kSparseLU);
  bcq::ValueResult kr = bcq::evaluate_policy(mdp, pi, bcq::LinearSolver::kBiCGSTAB);
  EXPECT_LE(bcq::max_abs_difference(lu.Q, kr.Q), 1e-8);
  EXPECT_LE(kr.error_bound, 1e-8);
}

TEST(ValueIteration, StoppingRuleBoundsTheError) {
  // With a loose tolerance, the reported bound must still hold against the exact answer.
  bcq::FiniteMdp mdp = bcq::garnet(50, 3, 3, 5, 0.95);
  bcq::ValueResult exact = bcq::policy_iteration(mdp);
  for (double tol : {1e-1, 1e-3, 1e-6}) {
    bcq::ValueResult vi = bcq::value_iteration(mdp, tol);
    double err = 0.0;
    for (size_t s = 0; s < vi.V.size(); ++s) err = std::max(err, std::abs(vi.V[s] - exact.V[s]));
    EXPECT_LE(err, vi.error_bound + 1e-12);
    EXPECT_LE(vi.error_bound, tol);
  }
}

TEST(ValueIteration, ReportsNonConvergenceAsAValue) {
  bcq::FiniteMdp mdp = bcq::garnet(30, 2, 2, 3, 0.99);
  bcq::ValueResult vi = bcq::value_iteration(mdp, 1e-12, 5);
  EXPECT_FALSE(vi.converged);
  EXPECT_EQ(vi.iterations, 5);
}

}  // namespace
