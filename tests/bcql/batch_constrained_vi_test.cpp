// Batch-constrained value / policy iteration in the true M, and Theorem 4's fixed point:
// in a deterministic MDP with a coherent batch, synchronous BCQL equals Q^{pi*} of M on (s,a) in B.
#include "bcql/batch_constrained_vi.hpp"

#include <gtest/gtest.h>

#include "bcql/synchronous.hpp"
#include "bcql_test_util.hpp"
#include "mdp/analysis.hpp"
#include "mdp/solve.hpp"

namespace bcq::bcql {
namespace {

TEST(BatchConstrainedVi, ValueIterationMatchesPolicyIterationAndEvaluation) {
  for (uint64_t seed = 1; seed <= 30; ++seed) {
    Rng rng(seed);
    const int S = 5 + static_cast<int>(rng.below(10));
    const int A = 2 + static_cast<int>(rng.below(3));
    const FiniteMdp mdp = garnet(S, A, 1 + static_cast<int>(rng.below(3)), seed, 0.9, 1);
    const Batch batch = collect_independent(mdp, testing::random_policy(S, A, rng),
                                            3 + rng.below(30), seed + 5);
    const ActionSets allowed = allowed_actions(mdp, count_batch(batch, S, A));
    const auto vi = batch_constrained_value_iteration(mdp, allowed, 1e-12);
    const auto pi = batch_constrained_policy_iteration(mdp, allowed);
    ASSERT_TRUE(vi.converged);
    ASSERT_TRUE(pi.converged);
    EXPECT_LE(max_abs_difference(vi.Q, pi.Q), 1e-9) << "seed " << seed;
    // Q is the true value of pi* in M (exact linear solve of mdp/).
    EXPECT_LE(max_abs_difference(vi.Q, evaluate_policy(mdp, vi.policy).Q), 1e-9);
    // pi* only uses allowed actions.
    for (int s = 0; s < S; ++s)
      if (!mdp.is_terminal(s)) {
        EXPECT_TRUE(allowed.contains(s, vi.actions[static_cast<size_t>(s)]));
      }
  }
}

TEST(BatchConstrainedVi, SeamIgnoringTheConstraintIsPlainValueIteration) {
  int differing = 0;
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    Rng rng(seed);
    const FiniteMdp mdp = garnet(8, 3, 2, seed, 0.9, 1);
    const Batch batch =
        collect_independent(mdp, testing::random_policy(8, 3, rng), 10, seed + 9);
    const ActionSets allowed = allowed_actions(mdp, count_batch(batch, 8, 3));
    const auto planted = batch_constrained_value_iteration(mdp, allowed, 1e-12, 1000000, true);
    EXPECT_LE(max_abs_difference(planted.Q, value_iteration(mdp, 1e-12).Q), 1e-9);
    const auto real = batch_constrained_value_iteration(mdp, allowed, 1e-12);
    if (max_abs_difference(real.Q, planted.Q) > 1e-3) ++differing;
  }
  EXPECT_GE(differing, 10);  // the constraint matters, so a dropped constraint is caught
}

// Theorem 4 (with Theorem 2): deterministic MDP, coherent batch -> BCQL's fixed point equals
// Q^{pi*} of the true M on every (s,a) in B, and beats every batch-constrained policy there.
TEST(BatchConstrainedVi, Theorem4DeterministicCoherent) {
  int checked = 0;
  for (uint64_t seed = 1; seed <= 40; ++seed) {
    Rng rng(seed);
    const int S = 5 + static_cast<int>(rng.below(15));
    const int A = 2 + static_cast<int>(rng.below(3));
    const FiniteMdp mdp = garnet(S, A, 1, seed, 0.5 + 0.45 * rng.uniform(), 1);
    Batch batch = collect_independent(mdp, testing::random_policy(S, A, rng),
                                      2 + rng.below(20), seed + 3);
    testing::make_coherent(mdp, batch, rng);
    ASSERT_TRUE(is_coherent(batch, mdp));
    const PreparedBatch prepared = prepare_batch(mdp, batch);
    SynchronousOptions opt;
    opt.algorithm = Algorithm::kBcql;
    const QTable bcql = run_synchronous(prepared, opt).Q;
    const auto star = batch_constrained_value_iteration(mdp, prepared.in_batch, 1e-12);
    // A batch-constrained competitor: uniform over in-batch actions at states in B.
    Policy competitor = Policy::uniform(S, A);
    for (int s = 0; s < S; ++s) {
      if (!prepared.counts.contains_state(s)) continue;
      for (int a = 0; a < A; ++a)
        competitor.at(s, a) = prepared.counts.contains(s, a) ? 1.0 / prepared.in_batch.size(s) : 0.0;
    }
    const QTable q_competitor = evaluate_policy(mdp, competitor).Q;
    for (int s = 0; s < S; ++s)
      for (int a = 0; a < A; ++a) {
        if (!prepared.counts.contains(s, a)) continue;
        EXPECT_NEAR(bcql(s, a), star.Q(s, a), 1e-9) << "seed " << seed << " (" << s << "," << a << ")";
        EXPECT_GE(bcql(s, a), q_competitor(s, a) - 1e-9);
        ++checked;
      }
  }
  EXPECT_GT(checked, 200);
}

TEST(BatchConstrainedVi, CliffWalkHandWorked) {
  const FiniteMdp mdp = testing::cliff_walk();
  const ActionSets allowed = allowed_actions(mdp, count_batch(testing::walk_batch(), 5, 2));
  const auto sol = batch_constrained_value_iteration(mdp, allowed);
  EXPECT_NEAR(sol.Q(0, 0), -2.71, 1e-10);
  EXPECT_NEAR(sol.Q(0, 1), -10.0, 1e-10);  // true value of the jump, first step off pi*
  EXPECT_NEAR(sol.V[0], -2.71, 1e-10);
  EXPECT_EQ(sol.actions, (std::vector<int>{0, 0, 0, 0, 0}));
}

TEST(BatchConstrainedVi, AllowedActionSets) {
  const FiniteMdp mdp = testing::cliff_walk();
  Batch batch;
  batch.transitions.push_back({0, 0, -1.0, 1, false});
  const ActionSets sets = allowed_actions(mdp, count_batch(batch, 5, 2));
  EXPECT_EQ(sets.size(0), 1);  // in B: only the seen action
  EXPECT_TRUE(sets.contains(0, 0));
  EXPECT_FALSE(sets.contains(0, 1));
  EXPECT_EQ(sets.size(1), 2);  // not in B: every action
  EXPECT_EQ(sets.size(3), 0);  // terminal: none
  ActionSets broken = sets;  // state 1 left without actions
  broken.offsets = {0, 1, 1, 3, 3, 3};
  broken.ids = {0, 0, 1};
  EXPECT_THROW(batch_constrained_value_iteration(mdp, broken), InputError);
}

}  // namespace
}  // namespace bcq::bcql
