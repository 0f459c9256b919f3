// Synchronous Q-learning / BCQL against independent references: value iteration on M_B
// (Theorem 1's fixed point) and batch-constrained VI / PI on M_B (Theorem 4's fixed point).
#include "bcql/synchronous.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "bcql/batch_constrained_vi.hpp"
#include "bcql_test_util.hpp"
#include "mdp/solve.hpp"

namespace bcq::bcql {
namespace {

using testing::first_states;

struct Case {
  FiniteMdp mdp;
  Batch batch;
  QTable q_init;
};

// Stochastic garnets with terminal states, batches small enough to leave pairs and states
// unseen, random Q_init tables.
Case random_case(uint64_t seed) {
  Rng rng(seed);
  const int S = 4 + static_cast<int>(rng.below(9));
  const int A = 2 + static_cast<int>(rng.below(3));
  const int branching = 1 + static_cast<int>(rng.below(3));
  const double gamma = 0.5 + 0.45 * rng.uniform();
  FiniteMdp mdp = garnet(S, A, branching, seed, gamma, 1 + static_cast<int>(rng.below(2)));
  const Policy pi = testing::random_policy(S, A, rng);
  Batch batch = collect_independent(mdp, pi, 5 + rng.below(40), seed + 1);
  QTable q_init = testing::random_q_init(S, A, rng, -2.0, 12.0);
  return {std::move(mdp), std::move(batch), std::move(q_init)};
}

TEST(Synchronous, QLearningMatchesValueIterationOnBatchMdp) {
  for (uint64_t seed = 1; seed <= 40; ++seed) {
    const Case c = random_case(seed);
    SynchronousOptions opt;
    opt.algorithm = Algorithm::kQLearning;
    opt.q_init_table = c.q_init;
    const SynchronousResult r = run_synchronous(c.mdp, c.batch, opt);
    ASSERT_TRUE(r.converged);
    // Theorem 1's limit: Q*_{M_B}, by an independent solver (mdp/ value iteration and PI).
    const FiniteMdp mb = batch_mdp(c.mdp, c.batch, resolve_q_init(c.mdp, c.q_init, 0.0));
    const QTable vi = first_states(value_iteration(mb, 1e-12).Q, c.mdp.num_states());
    const QTable pi = first_states(policy_iteration(mb).Q, c.mdp.num_states());
    EXPECT_LE(max_abs_difference(r.Q, vi), 1e-9) << "seed " << seed;
    EXPECT_LE(max_abs_difference(r.Q, pi), 1e-9) << "seed " << seed;
  }
}

TEST(Synchronous, BcqlMatchesBatchConstrainedViAndPiOnBatchMdp) {
  for (uint64_t seed = 1; seed <= 40; ++seed) {
    const Case c = random_case(seed);
    const PreparedBatch prepared = prepare_batch(c.mdp, c.batch);
    SynchronousOptions opt;
    opt.algorithm = Algorithm::kBcql;
    opt.q_init_table = c.q_init;
    const SynchronousResult r = run_synchronous(prepared, opt);
    ASSERT_TRUE(r.converged);
    const FiniteMdp mb = batch_mdp(c.mdp, c.batch, resolve_q_init(c.mdp, c.q_init, 0.0));
    const ActionSets allowed = allowed_actions(mb, prepared.counts);
    const QTable vi =
        first_states(batch_constrained_value_iteration(mb, allowed, 1e-12).Q, c.mdp.num_states());
    const QTable pi =
        first_states(batch_constrained_policy_iteration(mb, allowed).Q, c.mdp.num_states());
    EXPECT_LE(max_abs_difference(r.Q, vi), 1e-9) << "seed " << seed;
    EXPECT_LE(max_abs_difference(r.Q, pi), 1e-9) << "seed " << seed;
  }
}

// The comparisons above can fail: with an optimistic Q_init the unconstrained max (the planted
// bug of the test seam) moves the fixed point far from the batch-constrained one.
TEST(Synchronous, SeamUnconstrainedMaxTurnsBcqlIntoQLearning) {
  int differing = 0;
  for (uint64_t seed = 1; seed <= 40; ++seed) {
    const Case c = random_case(seed);
    SynchronousOptions opt;
    opt.q_init = 50.0;  // above every true value (rewards in [0,1), gamma <= 0.95)
    opt.algorithm = Algorithm::kQLearning;
    const QTable q = run_synchronous(c.mdp, c.batch, opt).Q;
    opt.algorithm = Algorithm::kBcql;
    const QTable bcql = run_synchronous(c.mdp, c.batch, opt).Q;
    opt.test_unconstrained_max = true;
    const QTable planted = run_synchronous(c.mdp, c.batch, opt).Q;
    EXPECT_LE(max_abs_difference(planted, q), 1e-12);
    if (max_abs_difference(bcql, q) > 1.0) ++differing;
  }
  EXPECT_GE(differing, 20);
}

TEST(Synchronous, CliffWalkHandWorked) {
  const FiniteMdp mdp = testing::cliff_walk();
  const Batch batch = testing::walk_batch();
  SynchronousOptions opt;
  opt.algorithm = Algorithm::kQLearning;
  const QTable q = run_synchronous(mdp, batch, opt).Q;
  // Q-learning: the unseen jump keeps Q_init = 0 > every walking value, so each walk is worth
  // -1 + 0.9 * 0 (state 2: -1 to the goal).
  for (int s = 0; s < 3; ++s) {
    EXPECT_NEAR(q(s, 0), -1.0, 1e-12);
    EXPECT_NEAR(q(s, 1), 0.0, 1e-12);
  }
  opt.algorithm = Algorithm::kBcql;
  const QTable b = run_synchronous(mdp, batch, opt).Q;
  EXPECT_NEAR(b(2, 0), -1.0, 1e-12);
  EXPECT_NEAR(b(1, 0), -1.9, 1e-12);
  EXPECT_NEAR(b(0, 0), -2.71, 1e-12);
  const PreparedBatch prepared = prepare_batch(mdp, batch);
  EXPECT_EQ(learned_policy(prepared, Algorithm::kQLearning, q), (std::vector<int>{1, 1, 1, 0, 0}));
  EXPECT_EQ(learned_policy(prepared, Algorithm::kBcql, b), (std::vector<int>{0, 0, 0, 0, 0}));
}

// A stochastic hand example: (0,0) goes to 1 (reward 1) or terminal 2 (reward 0) with
// probability 1/2 each; the batch saw 3 of the first and 1 of the second, so p_B = 3/4.
TEST(Synchronous, StochasticHandWorked) {
  const FiniteMdp mdp = testing::stochastic_example();
  const Batch batch = testing::stochastic_example_batch();
  SynchronousOptions opt;
  opt.algorithm = Algorithm::kBcql;
  opt.q_init = 0.25;
  const QTable b = run_synchronous(mdp, batch, opt).Q;
  EXPECT_NEAR(b(1, 0), 2.0, 1e-12);
  EXPECT_NEAR(b(0, 0), 0.75 * (1.0 + 0.9 * 2.0), 1e-12);  // 2.1
  EXPECT_NEAR(b(0, 1), 0.25, 1e-12);                      // unseen: Q_init
  EXPECT_NEAR(b(1, 1), 0.25, 1e-12);
  opt.algorithm = Algorithm::kQLearning;
  opt.q_init = 3.0;  // now the unseen (1,1) wins Q-learning's max at state 1
  const QTable q = run_synchronous(mdp, batch, opt).Q;
  EXPECT_NEAR(q(0, 0), 0.75 * (1.0 + 0.9 * 3.0), 1e-12);
  opt.algorithm = Algorithm::kBcql;
  const QTable b3 = run_synchronous(mdp, batch, opt).Q;
  EXPECT_NEAR(b3(0, 0), 2.1, 1e-12);
}

TEST(Synchronous, OperatorIsOneSweep) {
  const Case c = random_case(7);
  const PreparedBatch prepared = prepare_batch(c.mdp, c.batch);
  SynchronousOptions opt;
  opt.q_init_table = c.q_init;
  const QTable fixed = run_synchronous(prepared, opt).Q;
  const QTable again = apply_operator(prepared, Algorithm::kBcql, fixed, c.q_init);
  EXPECT_LE(max_abs_difference(fixed, again), 1e-10);
  EXPECT_LE(bellman_residual(prepared, Algorithm::kBcql, fixed), 1e-10);
  EXPECT_GT(bellman_residual(prepared, Algorithm::kBcql, QTable(c.mdp.num_states(),
                                                                c.mdp.num_actions(), 100.0)),
            1.0);
}

// A terminal successor is worth 0 whatever the table holds in its row (theory.md: terminal
// states have value 0): the operator and the Bellman residual never read a terminal row.
TEST(Synchronous, TerminalSuccessorsAreWorthZeroWhateverTheTableHolds) {
  const FiniteMdp mdp = testing::stochastic_example();
  const PreparedBatch prepared = prepare_batch(mdp, testing::stochastic_example_batch());
  SynchronousOptions opt;
  opt.algorithm = Algorithm::kBcql;
  opt.q_init = 0.25;
  QTable b = run_synchronous(prepared, opt).Q;
  ASSERT_TRUE(mdp.is_terminal(2));
  for (int a = 0; a < mdp.num_actions(); ++a) b.at(2, a) = 7.0;  // garbage in the terminal row
  const QTable next = apply_operator(prepared, Algorithm::kBcql, b, QTable(mdp.num_states(), mdp.num_actions(), 0.25));
  EXPECT_NEAR(next(1, 0), 2.0, 1e-12);                          // 2 + 0.9 * 0, not 2 + 0.9 * 7
  EXPECT_NEAR(next(0, 0), 0.75 * (1.0 + 0.9 * 2.0), 1e-12);     // the terminal quarter adds 0
  EXPECT_LE(bellman_residual(prepared, Algorithm::kBcql, b), 1e-12);
}

TEST(Synchronous, RejectsBadOptions) {
  const Case c = random_case(3);
  SynchronousOptions opt;
  opt.tolerance = 0.0;
  EXPECT_THROW(run_synchronous(c.mdp, c.batch, opt), InputError);
  opt = {};
  opt.q_init_table = QTable(1, 1, 0.0);
  EXPECT_THROW(run_synchronous(c.mdp, c.batch, opt), InputError);
  opt = {};
  EXPECT_THROW(run_synchronous(c.mdp, Batch{}, opt), InputError);
}

}  // namespace
}  // namespace bcq::bcql
