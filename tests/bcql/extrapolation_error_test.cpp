// Extrapolation error: Remark 1's linear solve (Eq. 16) against the direct difference (Eq. 3)
// on random stochastic garnets, hand-worked numbers, the visitation of Eq. 5, Lemma 1 pairs.
#include "bcql/extrapolation_error.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "bcql_test_util.hpp"
#include "mdp/batch_mdp.hpp"
#include "mdp/solve.hpp"

namespace bcq::bcql {
namespace {

TEST(ExtrapolationError, Remark1EqualsDirectDifferenceOnStochasticGarnets) {
  for (uint64_t seed = 1; seed <= 40; ++seed) {
    Rng rng(seed);
    const int S = 4 + static_cast<int>(rng.below(20));
    const int A = 2 + static_cast<int>(rng.below(3));
    const FiniteMdp mdp =
        garnet(S, A, 2 + static_cast<int>(rng.below(3)), seed, 0.5 + 0.49 * rng.uniform(),
               static_cast<int>(rng.below(3)));
    const Batch batch = collect_independent(mdp, testing::random_policy(S, A, rng),
                                            5 + rng.below(60), seed + 2);
    const Policy pi = testing::random_policy(S, A, rng);
    ExtrapolationOptions opt;
    opt.q_init_table = testing::random_q_init(S, A, rng, -3.0, 3.0);
    const ExtrapolationError e = extrapolation_error(mdp, batch, pi, opt);
    EXPECT_LE(e.max_difference, 1e-9) << "seed " << seed;
    EXPECT_LE(max_abs_difference(e.direct, e.remark1), 1e-9);
    EXPECT_NEAR(e.eps_pi_mdp, e.eps_pi_mdp_remark1, 1e-9);
    // The direct difference is built from two exact evaluations (mdp/ solver).
    const FiniteMdp mb = batch_mdp(mdp, batch, resolve_q_init(mdp, opt.q_init_table, 0.0));
    EXPECT_LE(max_abs_difference(e.direct, extrapolation_error_direct(mdp, mb, pi)), 1e-12);
    // Stochastic M with a small B: the error is genuinely nonzero, so agreement means something.
    EXPECT_GT(e.eps_pi_mdp, 1e-6) << "seed " << seed;
  }
}

// The agreement above can fail: propagating with p_B instead of p_M (a planted bug) breaks it.
TEST(ExtrapolationError, PlantedPropagationBugIsCaught) {
  int caught = 0;
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    Rng rng(seed);
    const FiniteMdp mdp = garnet(8, 3, 3, seed, 0.9, 1);
    const Batch batch = collect_independent(mdp, Policy::uniform(8, 3), 30, seed);
    ExtrapolationOptions opt;
    opt.test_propagate_with_p_b = true;
    if (extrapolation_error(mdp, batch, testing::random_policy(8, 3, rng), opt).max_difference > 1e-6)
      ++caught;
  }
  EXPECT_GE(caught, 15);
}

TEST(ExtrapolationError, VisitationMatchesPowerSeries) {
  for (uint64_t seed = 1; seed <= 10; ++seed) {
    Rng rng(seed);
    const FiniteMdp mdp = garnet(10, 3, 3, seed, 0.8, 2);
    const Policy pi = testing::random_policy(10, 3, rng);
    const std::vector<double> mu = discounted_visitation(mdp, pi);
    // (1 - gamma) sum_t gamma^t d_t with terminal states absorbing, summed to gamma^t < 1e-15.
    std::vector<double> d = mdp.initial(), ref(10, 0.0);
    double w = 1.0 - mdp.gamma();
    for (int t = 0; t < 200; ++t, w *= mdp.gamma()) {
      std::vector<double> next(10, 0.0);
      for (int s = 0; s < 10; ++s) {
        ref[static_cast<size_t>(s)] += w * d[static_cast<size_t>(s)];
        if (mdp.is_terminal(s)) {
          next[static_cast<size_t>(s)] += d[static_cast<size_t>(s)];
          continue;
        }
        for (int a = 0; a < 3; ++a)
          for (const Outcome& o : mdp.outcomes(s, a))
            next[static_cast<size_t>(o.next)] += d[static_cast<size_t>(s)] * pi(s, a) * o.p;
      }
      d = next;
    }
    double total = 0.0;
    for (int s = 0; s < 10; ++s) {
      EXPECT_NEAR(mu[static_cast<size_t>(s)], ref[static_cast<size_t>(s)], 1e-12);
      total += mu[static_cast<size_t>(s)];
    }
    EXPECT_NEAR(total, 1.0, 1e-12);
  }
}

TEST(ExtrapolationError, CliffWalkHandWorked) {
  const FiniteMdp mdp = testing::cliff_walk();
  const Batch batch = testing::walk_batch();
  // Q-learning's greedy policy jumps: the jump was never seen, M_B values it at Q_init = 0.
  const Policy jump = Policy::deterministic({1, 1, 1, 0, 0}, 2);
  const ExtrapolationError e = extrapolation_error(mdp, batch, jump);
  EXPECT_NEAR(e.direct(0, 1), -10.0, 1e-12);
  EXPECT_NEAR(e.remark1(0, 1), -10.0, 1e-12);
  EXPECT_NEAR(e.visitation[0], 0.1, 1e-12);  // one step at state 0, then absorbed in the cliff
  EXPECT_NEAR(e.visitation[4], 0.9, 1e-12);
  EXPECT_NEAR(e.eps_pi_mdp, 1.0, 1e-12);     // 0.1 * |-10|
  ASSERT_EQ(e.relevant.size(), 1u);
  ASSERT_EQ(e.lemma1_violations.size(), 1u);
  EXPECT_EQ(e.lemma1_violations[0].s, 0);
  EXPECT_EQ(e.lemma1_violations[0].a, 1);
  EXPECT_FALSE(e.lemma1_violations[0].in_batch);
  EXPECT_NEAR(e.lemma1_violations[0].p_distance, 2.0, 1e-12);
  // The behaviour policy (walk) is batch-constrained in a deterministic MDP: no error
  // (Theorem 2), even though the unseen jump still carries eps = -10 off the policy.
  const ExtrapolationError w = extrapolation_error(mdp, batch, Policy::deterministic({0, 0, 0, 0, 0}, 2));
  EXPECT_NEAR(w.eps_pi_mdp, 0.0, 1e-12);
  EXPECT_TRUE(w.lemma1_violations.empty());
  EXPECT_EQ(w.relevant.size(), 3u);
  EXPECT_NEAR(w.direct(1, 1), -10.0, 1e-12);
}

TEST(ExtrapolationError, StochasticHandWorked) {
  const FiniteMdp mdp = testing::stochastic_example();
  const Batch batch = testing::stochastic_example_batch();
  const ExtrapolationError e = extrapolation_error(mdp, batch, Policy::deterministic({0, 0, 0}, 2));
  EXPECT_NEAR(e.q_pi(0, 0), 0.5 * 2.8, 1e-12);         // 1.4
  EXPECT_NEAR(e.q_pi_batch(0, 0), 0.75 * 2.8, 1e-12);  // 2.1
  EXPECT_NEAR(e.direct(0, 0), -0.7, 1e-12);
  EXPECT_NEAR(e.remark1(0, 0), -0.7, 1e-12);
  EXPECT_NEAR(e.direct(1, 0), 0.0, 1e-12);
  EXPECT_NEAR(e.visitation[0], 0.1, 1e-12);
  EXPECT_NEAR(e.visitation[1], 0.1 * 0.9 * 0.5, 1e-12);
  EXPECT_NEAR(e.eps_pi_mdp, 0.07, 1e-12);
  ASSERT_EQ(e.lemma1_violations.size(), 1u);  // (0,0): p_B = 3/4 vs p_M = 1/2
  EXPECT_TRUE(e.lemma1_violations[0].in_batch);
  EXPECT_NEAR(e.lemma1_violations[0].p_distance, 0.5, 1e-12);
}

// Lemma 1 / Theorem 2 both ways on deterministic garnets with random rewards: a policy that
// stays inside B has eps^pi = 0; one that leaves it has eps^pi > 0.
TEST(ExtrapolationError, Lemma1BothDirectionsOnDeterministicGarnets) {
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    Rng rng(seed);
    const FiniteMdp mdp = garnet(12, 3, 1, seed, 0.9, 1);
    const Policy behaviour = testing::random_policy(12, 3, rng);
    // Whole trajectories long enough to cover what the policy reaches, many times over.
    const Batch batch = collect_trajectories(mdp, behaviour, 20000, 400, seed);
    const ExtrapolationError e = extrapolation_error(mdp, batch, behaviour);
    if (e.lemma1_violations.empty()) {
      EXPECT_LE(e.eps_pi_mdp, 1e-9) << "seed " << seed;
    } else {
      EXPECT_GT(e.eps_pi_mdp, 1e-9) << "seed " << seed;
    }
    // Now leave the batch on purpose: at the start state take an action never seen there.
    const BatchCounts counts = count_batch(batch, 12, 3);
    for (int a = 0; a < 3; ++a) {
      if (counts.contains(0, a)) continue;
      Policy leave = behaviour;
      for (int b = 0; b < 3; ++b) leave.at(0, b) = b == a ? 1.0 : 0.0;
      const ExtrapolationError f = extrapolation_error(mdp, batch, leave);
      EXPECT_FALSE(f.lemma1_violations.empty());
      EXPECT_GT(f.eps_pi_mdp, 1e-9) << "seed " << seed;
      break;
    }
  }
}

TEST(ExtrapolationError, BadInput) {
  const FiniteMdp mdp = testing::cliff_walk();
  const Batch batch = testing::walk_batch();
  Policy wrong_shape = Policy::uniform(4, 2);
  EXPECT_THROW(extrapolation_error(mdp, batch, wrong_shape), ValidationError);
  Policy not_normalised = Policy::uniform(5, 2);
  not_normalised.at(1, 0) = 0.9;
  EXPECT_THROW(extrapolation_error(mdp, batch, not_normalised), ValidationError);
  Policy nan = Policy::uniform(5, 2);
  nan.at(2, 1) = NAN;
  EXPECT_THROW(extrapolation_error(mdp, batch, nan), ValidationError);
  EXPECT_THROW(extrapolation_error(mdp, Batch{}, Policy::uniform(5, 2)), ValidationError);
  Batch beyond = batch;
  beyond.transitions.push_back({7, 0, -1.0, 1, false});
  EXPECT_THROW(extrapolation_error(mdp, beyond, Policy::uniform(5, 2)), ValidationError);
  ExtrapolationOptions opt;
  opt.q_init_table = QTable(5, 3, 0.0);
  EXPECT_THROW(extrapolation_error(mdp, batch, Policy::uniform(5, 2), opt), InputError);
}

}  // namespace
}  // namespace bcq::bcql
