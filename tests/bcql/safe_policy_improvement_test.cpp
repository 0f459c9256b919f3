// Safe policy improvement baselines (bcql/safe_policy_improvement.hpp), the dense evaluator
// and SPIBB's baseline construction: a hand-worked 3-state example per algorithm, and second
// computations (N_wedge = 0 is basic RL, N_wedge above every count is pi_b, a zero VI-LCB
// penalty is basic RL, synchronous Q-learning is basic RL, BCQL's policy is batch-constrained).
#include <gtest/gtest.h>

#include <cmath>

#include "bcql/baseline_policy.hpp"
#include "bcql/dense_evaluation.hpp"
#include "bcql/extrapolation_error.hpp"
#include "bcql/safe_policy_improvement.hpp"
#include "bcql/sampled.hpp"
#include "bcql/synchronous.hpp"
#include "bcql_test_util.hpp"
#include "mdp/analysis.hpp"
#include "mdp/solve.hpp"

namespace bcq::bcql {
namespace {

using testing::build;
using testing::random_policy;

// State 0 moves to state 1 whatever the action (reward 0); state 1 ends the episode (terminal
// 2) with reward 1, 0.5 or 2 for actions 0, 1, 2. gamma 0.9.
FiniteMdp hand_mdp() {
  MdpSpec spec;
  spec.num_states = 3;
  spec.num_actions = 3;
  spec.gamma = 0.9;
  spec.initial = {{0, 1.0}};
  spec.terminal = {2};
  for (int a = 0; a < 3; ++a) spec.transitions.push_back({0, a, {{1, 1.0, 0.0}}});
  spec.transitions.push_back({1, 0, {{2, 1.0, 1.0}}});
  spec.transitions.push_back({1, 1, {{2, 1.0, 0.5}}});
  spec.transitions.push_back({1, 2, {{2, 1.0, 2.0}}});
  return build(spec);
}

// N(0,0) = 7, N(1,0) = 5, N(1,1) = 1, N(1,2) = 1; (0,1) and (0,2) unseen.
Batch hand_batch() {
  Batch b;
  for (int k = 0; k < 7; ++k) b.transitions.push_back({0, 0, 0.0, 1, false});
  for (int k = 0; k < 5; ++k) b.transitions.push_back({1, 0, 1.0, 2, true});
  b.transitions.push_back({1, 1, 0.5, 2, true});
  b.transitions.push_back({1, 2, 2.0, 2, true});
  return b;
}

Policy hand_baseline() {
  Policy pi = Policy::uniform(3, 3);
  for (int s = 0; s < 2; ++s) {
    pi.at(s, 0) = 0.5;
    pi.at(s, 1) = 0.3;
    pi.at(s, 2) = 0.2;
  }
  return pi;
}

void expect_row(const Policy& pi, int s, std::vector<double> row) {
  for (int a = 0; a < pi.num_actions; ++a)
    EXPECT_NEAR(pi(s, a), row[static_cast<size_t>(a)], 1e-12) << "state " << s << " action " << a;
}

TEST(SafePolicyImprovementHand, BasicRlTakesTheBestSeenAction) {
  const auto model = maximum_likelihood_model(hand_mdp(), hand_batch());
  const ImprovedPolicy r = basic_rl(model);
  expect_row(r.policy, 1, {0, 0, 1});
  expect_row(r.policy, 0, {1, 0, 0});
  EXPECT_NEAR(r.V[1], 2.0, 1e-12);
  EXPECT_NEAR(r.V[0], 1.8, 1e-12);
  EXPECT_TRUE(r.converged);
}

TEST(SafePolicyImprovementHand, PiBSpibbKeepsTheBaselineOnBootstrappedPairs) {
  // N_wedge = 2: B_wedge = {(0,1), (0,2), (1,1), (1,2)}. The free mass pi_b(0|s) = 0.5 goes to
  // action 0, the only free action, so pi = pi_b; V_B(1) = 0.5 + 0.15 + 0.4 = 1.05 and
  // V_B(0) = 0.5 * 0.9 * 1.05 (unseen pairs are worth Q_init = 0).
  const auto model = maximum_likelihood_model(hand_mdp(), hand_batch());
  const ImprovedPolicy r = pi_b_spibb(model, hand_baseline(), 2);
  expect_row(r.policy, 1, {0.5, 0.3, 0.2});
  expect_row(r.policy, 0, {0.5, 0.3, 0.2});
  EXPECT_NEAR(r.V[1], 1.05, 1e-12);
  EXPECT_NEAR(r.V[0], 0.4725, 1e-12);
  // With N_wedge = 1 only the unseen pairs are bootstrapped: state 1 is free and goes greedy.
  const ImprovedPolicy r1 = pi_b_spibb(model, hand_baseline(), 1);
  expect_row(r1.policy, 1, {0, 0, 1});
  expect_row(r1.policy, 0, {0.5, 0.3, 0.2});
  EXPECT_NEAR(r1.V[0], 0.5 * 0.9 * 2.0, 1e-12);
}

TEST(SafePolicyImprovementHand, PiLeqBSpibbDropsBadBootstrappedActions) {
  // State 1 by decreasing Q: a2 (2, bootstrapped) takes pi_b = 0.2, then a0 (1, free) takes the
  // remaining 0.8: V_B(1) = 0.8 + 0.4 = 1.2. State 0: a0 (free, Q = 0.9 * 1.2) takes all.
  const auto model = maximum_likelihood_model(hand_mdp(), hand_batch());
  const ImprovedPolicy r = pi_leq_b_spibb(model, hand_baseline(), 2);
  expect_row(r.policy, 1, {0.8, 0.0, 0.2});
  expect_row(r.policy, 0, {1.0, 0.0, 0.0});
  EXPECT_NEAR(r.V[1], 1.2, 1e-12);
  EXPECT_NEAR(r.V[0], 1.08, 1e-12);
}

TEST(SafePolicyImprovementHand, RamdpPenaltyTurnsThePolicyToTheWellSeenAction) {
  const auto model = maximum_likelihood_model(hand_mdp(), hand_batch());
  // kappa = 0.1: 2 - 0.1 beats 1 - 0.1 / sqrt(5).
  expect_row(ramdp(model, 0.1).policy, 1, {0, 0, 1});
  // kappa = 2: 1 - 2 / sqrt(5) = 0.1056 beats 2 - 2 = 0 and 0.5 - 2.
  const ImprovedPolicy r = ramdp(model, 2.0);
  expect_row(r.policy, 1, {1, 0, 0});
  EXPECT_NEAR(r.V[1], 1.0 - 2.0 / std::sqrt(5.0), 1e-12);
  // State 0: a0 costs 2 / sqrt(7); unseen a1, a2 cost 2 / sqrt(1e-5).
  expect_row(r.policy, 0, {1, 0, 0});
  EXPECT_NEAR(r.V[0], -2.0 / std::sqrt(7.0) + 0.9 * r.V[1], 1e-12);
}

TEST(SafePolicyImprovementHand, ViLcbSubtractsTheBonusAndClipsAtVmin) {
  const auto model = maximum_likelihood_model(hand_mdp(), hand_batch());
  const RewardRange range = reward_range(model);
  EXPECT_DOUBLE_EQ(range.r_min, 0.0);
  EXPECT_DOUBLE_EQ(range.r_max, 2.0);
  EXPECT_NEAR(range.v_max, 20.0, 1e-12);
  EXPECT_NEAR(range.v_min, 0.0, 1e-12);
  VilcbOptions o;
  o.c = 0.05;  // bonus 1 / sqrt(N): a2 = 2 - 1 = 1 beats a0 = 1 - 1 / sqrt(5) = 0.553
  ImprovedPolicy r = vi_lcb(model, o);
  expect_row(r.policy, 1, {0, 0, 1});
  EXPECT_NEAR(r.V[1], 1.0, 1e-9);
  EXPECT_NEAR(r.Q(1, 1), 0.0, 1e-12);  // 0.5 - 1 clipped at V_min = 0
  // State 0: 0 - 1 / sqrt(7) + 0.9 * 1 = 0.522 for a0; unseen pairs sit at V_min.
  EXPECT_NEAR(r.V[0], 0.9 - 1.0 / std::sqrt(7.0), 1e-9);
  EXPECT_NEAR(r.Q(0, 1), 0.0, 1e-12);
  o.c = 0.1;  // bonus 2 / sqrt(N): a0 = 1 - 2 / sqrt(5) beats a2 = 0
  r = vi_lcb(model, o);
  expect_row(r.policy, 1, {1, 0, 0});
  EXPECT_NEAR(r.V[1], 1.0 - 2.0 / std::sqrt(5.0), 1e-9);
}

// ---------------------------------------------------------------- second computations

struct RandomCase {
  FiniteMdp mdp;
  Batch batch;
  Policy pi_b;
};

// A stochastic garnet with terminal states, a random behaviour policy and a small batch of
// trajectories that leaves many pairs unseen and counts between 1 and a few dozen.
RandomCase random_case(uint64_t seed, int branching = 3) {
  Rng rng(seed);
  FiniteMdp mdp = garnet(8, 3, branching, seed, 0.9, 2);
  Policy pi_b = random_policy(8, 3, rng);
  Batch batch = collect_trajectories(mdp, pi_b, 60 + rng.below(100), 30, seed + 1);
  return {std::move(mdp), std::move(batch), std::move(pi_b)};
}

TEST(SafePolicyImprovement, DenseEvaluationMatchesTheSparseSolver) {
  for (uint64_t seed = 0; seed < 20; ++seed) {
    const RandomCase c = random_case(seed);
    Rng rng(seed + 100);
    const Policy pi = random_policy(8, 3, rng);
    const ValueResult sparse = evaluate_policy(c.mdp, pi);
    const DensePolicyValue dense = evaluate_policy_dense(c.mdp, pi);
    EXPECT_LT(max_abs_difference(sparse.Q, dense.Q), 1e-10) << "seed " << seed;
    const std::vector<double> mu = discounted_visitation(c.mdp, pi);
    const std::vector<double> mu_dense = discounted_visitation_dense(c.mdp, pi);
    for (size_t s = 0; s < mu.size(); ++s) EXPECT_NEAR(mu[s], mu_dense[s], 1e-10);
  }
}

TEST(SafePolicyImprovement, SpibbWithZeroNWedgeIsBasicRl) {
  for (uint64_t seed = 0; seed < 30; ++seed) {
    const RandomCase c = random_case(seed);
    const auto model = maximum_likelihood_model(c.mdp, c.batch, 0.25);
    const ImprovedPolicy basic = basic_rl(model);
    for (const ImprovedPolicy& r :
         {pi_b_spibb(model, c.pi_b, 0), pi_leq_b_spibb(model, c.pi_b, 0)}) {
      ASSERT_TRUE(r.converged);
      for (int s = 0; s < 8; ++s)
        EXPECT_NEAR(r.V[static_cast<size_t>(s)], basic.V[static_cast<size_t>(s)], 1e-9)
            << "seed " << seed << " state " << s;
    }
  }
}

TEST(SafePolicyImprovement, SpibbWithNWedgeAboveEveryCountReturnsTheBaseline) {
  for (uint64_t seed = 0; seed < 30; ++seed) {
    const RandomCase c = random_case(seed);
    const auto model = maximum_likelihood_model(c.mdp, c.batch);
    const long above = static_cast<long>(c.batch.size()) + 1;
    for (const ImprovedPolicy& r :
         {pi_b_spibb(model, c.pi_b, above), pi_leq_b_spibb(model, c.pi_b, above)})
      for (int s = 0; s < 8; ++s)
        if (!c.mdp.is_terminal(s)) {
          for (int a = 0; a < 3; ++a) EXPECT_DOUBLE_EQ(r.policy(s, a), c.pi_b(s, a));
        }
  }
}

TEST(SafePolicyImprovement, SpibbImprovesOnTheBaselineInTheModel) {
  // Policy iteration in the constrained class never loses value in M_B, at any state.
  for (uint64_t seed = 0; seed < 30; ++seed) {
    const RandomCase c = random_case(seed);
    const auto model = maximum_likelihood_model(c.mdp, c.batch);
    const QTable q_b = q_in_batch_mdp(model, c.pi_b);
    for (long n_wedge : {2L, 5L}) {
      for (const ImprovedPolicy& r :
           {pi_b_spibb(model, c.pi_b, n_wedge), pi_leq_b_spibb(model, c.pi_b, n_wedge)}) {
        for (int s = 0; s < 8; ++s) {
          double v_b = 0.0;
          for (int a = 0; a < 3; ++a) v_b += c.pi_b(s, a) * q_b(s, a);
          EXPECT_GE(r.V[static_cast<size_t>(s)], v_b - 1e-10) << "seed " << seed;
          // The constraint itself: pi = pi_b (Pi_b) or pi <= pi_b (Pi_<=b) on B_wedge.
          for (int a = 0; a < 3; ++a)
            if (!c.mdp.is_terminal(s) && model.count(s, a) < n_wedge) {
              EXPECT_LE(r.policy(s, a), c.pi_b(s, a) + 1e-15);
            }
        }
      }
      const ImprovedPolicy exact = pi_b_spibb(model, c.pi_b, n_wedge);
      for (int s = 0; s < 8; ++s)
        for (int a = 0; a < 3; ++a)
          if (!c.mdp.is_terminal(s) && model.count(s, a) < n_wedge) {
            EXPECT_DOUBLE_EQ(exact.policy(s, a), c.pi_b(s, a));
          }
    }
  }
}

TEST(SafePolicyImprovement, ZeroPenaltiesAreBasicRl) {
  for (uint64_t seed = 0; seed < 30; ++seed) {
    const RandomCase c = random_case(seed);
    // garnet rewards lie in [0, 1), so V_min = 0 and basic RL's Q_init is 0 as well.
    const auto model = maximum_likelihood_model(c.mdp, c.batch, 0.0);
    ASSERT_DOUBLE_EQ(reward_range(model).v_min, 0.0);
    const ImprovedPolicy basic = basic_rl(model);
    VilcbOptions o;
    o.c = 0.0;
    const ImprovedPolicy lcb = vi_lcb(model, o);
    const ImprovedPolicy ra = ramdp(model, 0.0);
    EXPECT_LT(max_abs_difference(lcb.Q, basic.Q), 1e-9) << "seed " << seed;
    EXPECT_LT(max_abs_difference(ra.Q, basic.Q), 1e-9) << "seed " << seed;
  }
}

TEST(SafePolicyImprovement, SynchronousQLearningIsBasicRlWithQinitOnUnseenPairs) {
  for (uint64_t seed = 0; seed < 30; ++seed) {
    const RandomCase c = random_case(seed);
    const double q_init = -0.5 + 0.1 * static_cast<double>(seed % 10);
    SynchronousOptions o;
    o.algorithm = Algorithm::kQLearning;
    o.q_init = q_init;
    o.tolerance = 1e-11;
    const SynchronousResult q = run_synchronous(c.mdp, c.batch, o);
    const ImprovedPolicy basic = basic_rl(maximum_likelihood_model(c.mdp, c.batch, q_init));
    EXPECT_LT(max_abs_difference(q.Q, basic.Q), 1e-9) << "seed " << seed;
  }
}

TEST(SafePolicyImprovement, BcqlPolicyIsBatchConstrained) {
  // Theorem 2's setting: a deterministic MDP, a coherent batch, the start state in B (in a
  // stochastic MDP M may reach a successor B never saw, and no such policy need exist).
  for (uint64_t seed = 0; seed < 30; ++seed) {
    RandomCase c = random_case(seed, 1);
    Rng rng(seed + 7);
    testing::make_coherent(c.mdp, c.batch, rng);
    const PreparedBatch prepared = prepare_batch(c.mdp, c.batch);
    if (!prepared.counts.contains_state(0)) continue;  // start state in B (Theorem 2's condition)
    SynchronousOptions o;
    o.algorithm = Algorithm::kBcql;
    const SynchronousResult r = run_synchronous(prepared, o);
    const Policy pi =
        Policy::deterministic(learned_policy(prepared, Algorithm::kBcql, r.Q), c.mdp.num_actions());
    EXPECT_TRUE(unconstrained_pairs(c.mdp, prepared.counts, pi).empty()) << "seed " << seed;
  }
}

TEST(SafePolicyImprovement, RejectsBadParameters) {
  const auto model = maximum_likelihood_model(hand_mdp(), hand_batch());
  EXPECT_THROW(pi_b_spibb(model, hand_baseline(), -1), InputError);
  EXPECT_THROW(ramdp(model, -0.1), InputError);
  VilcbOptions o;
  o.c = -1;
  EXPECT_THROW(vi_lcb(model, o), InputError);
  Policy bad = hand_baseline();
  bad.at(0, 0) = 0.9;  // row sums to 1.4
  EXPECT_THROW(pi_b_spibb(model, bad, 2), InputError);
}

// ---------------------------------------------------------------- baselines and garnets

TEST(BaselinePolicy, SpibbBaselineReachesItsTargetRatio) {
  const FiniteMdp mdp = spibb_garnet(20, 4, 4, 3, 0.95, 50);
  for (double target : {0.1, 0.5, 0.9}) {
    BaselineOptions o;
    o.target_ratio = target;
    o.seed = 11;
    const BaselinePolicy b = spibb_baseline(mdp, o);
    b.policy.validate(20, 4, "baseline");
    // Second computation of the ratio with the sparse solver and policy iteration.
    const double rho = expected_return(mdp, b.policy);
    const ValueResult star = policy_iteration(mdp);
    const double rho_uniform = expected_return(mdp, Policy::uniform(20, 4));
    const double ratio = (rho - rho_uniform) / (star.V[0] - rho_uniform);
    EXPECT_NEAR(ratio, b.ratio, 1e-9);
    EXPECT_LE(ratio, target + 1e-12);
    // One perturbation step moves the ratio by little: it stops just below the target.
    EXPECT_GT(ratio, target - 0.1) << "target " << target;
    EXPECT_NEAR(b.rho_star, star.V[0], 1e-9);
  }
}

TEST(BaselinePolicy, ExpertNeverTriesTheWorstActions) {
  const FiniteMdp mdp = spibb_garnet(20, 4, 4, 5, 0.95, 50);
  const BaselinePolicy b = expert_baseline(mdp, 0.8);
  const ValueResult star = policy_iteration(mdp);
  for (int s = 0; s < 20; ++s) {
    if (mdp.is_terminal(s)) continue;
    int zeros = 0;
    for (int a = 0; a < 4; ++a) zeros += b.policy(s, a) == 0.0 ? 1 : 0;
    EXPECT_EQ(zeros, 2);
    const std::vector<int> best = greedy_actions(mdp, star.Q);
    EXPECT_DOUBLE_EQ(b.policy(s, best[static_cast<size_t>(s)]), 0.8);
  }
  EXPECT_LT(b.rho, b.rho_star);
}

TEST(SpibbGarnet, OneReachableGoalThatPaysOnArrival) {
  for (uint64_t seed = 0; seed < 4; ++seed) {
    for (int branching : {4, 1}) {
      const FiniteMdp mdp = spibb_garnet(15, 4, branching, seed, 0.95, 50);
      EXPECT_EQ(mdp.is_deterministic(), branching == 1);
      int goal = -1;
      for (int s = 0; s < 15; ++s)
        if (mdp.is_terminal(s)) goal = s;
      ASSERT_GT(goal, 0);
      const double chosen = policy_iteration(mdp).V[0];
      EXPECT_GT(chosen, std::pow(0.95, 50));
      // Rewards: 1 exactly on arrival at the goal.
      for (int s = 0; s < 15; ++s)
        if (s != goal) {
          for (int a = 0; a < 4; ++a)
            for (const Outcome& o : mdp.outcomes(s, a)) EXPECT_EQ(o.r, o.next == goal ? 1.0 : 0.0);
        }
    }
  }
}

}  // namespace
}  // namespace bcq::bcql
