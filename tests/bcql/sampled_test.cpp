// Sampled Q-learning / BCQL (Eq. 2 / Eq. 6): hand-worked limits, the statistical approach to the
// synchronous fixed points (tolerance derived from the visit counts), determinism, the
// convergence diagnostic and the step schedules.
#include "bcql/sampled.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "bcql/synchronous.hpp"
#include "bcql_test_util.hpp"

namespace bcq::bcql {
namespace {

// A tolerance for max |Q_sampled - Q_fixed| after a run, derived from the run itself.
// Rewards in [0, 1) and Q_init in [0, 1/(1-gamma)] keep every target within a range of
// 1 + gamma/(1-gamma) = 1/(1-gamma), so its standard deviation is at most sigma = 1/(2(1-gamma)).
// With steps alpha_n = c/n^w the iterate of a pair averages over an effective window of about
// 1/alpha_n targets, so its noise has standard deviation at most sigma sqrt(alpha_n) at
// n = n_min (the least-visited seen pair); errors propagate through the max with gain
// 1/(1-gamma). The initial error (at most 1/(1-gamma)) decays at least like
// exp(-(1-gamma) sum_{k<=n_min} alpha_k). Six standard deviations cover every pair.
double derived_tolerance(const SampledResult& r, const PreparedBatch& b, const StepSchedule& step) {
  int64_t n_min = INT64_MAX;
  for (int32_t sa : b.model.pair_sa) n_min = std::min(n_min, r.visits[static_cast<size_t>(sa)]);
  const double g = b.gamma;
  const double sigma = 1.0 / (2.0 * (1.0 - g));
  double sum_alpha = 0.0;
  for (int64_t k = 1; k <= n_min; ++k) sum_alpha += step.at(k);
  const double noise = 6.0 * sigma * std::sqrt(step.at(n_min)) / (1.0 - g);
  const double transient = std::exp(-(1.0 - g) * sum_alpha) / (1.0 - g);
  return noise + transient;
}

struct Case {
  FiniteMdp mdp;
  Batch batch;
};

Case small_case(uint64_t seed) {
  Rng rng(seed);
  FiniteMdp mdp = garnet(6, 2, 3, seed, 0.6, 1);
  Batch batch = collect_independent(mdp, testing::random_policy(6, 2, rng), 40, seed + 11);
  return {std::move(mdp), std::move(batch)};
}

TEST(Sampled, ApproachesTheSynchronousFixedPointWithinDerivedTolerance) {
  for (Algorithm algorithm : {Algorithm::kQLearning, Algorithm::kBcql}) {
    for (uint64_t seed = 1; seed <= 3; ++seed) {
      const Case c = small_case(seed);
      const PreparedBatch b = prepare_batch(c.mdp, c.batch);
      SampledOptions opt;
      opt.algorithm = algorithm;
      opt.step = StepSchedule::polynomial(1.0, 0.8);
      opt.q_init = 1.0;
      opt.seed = 100 + seed;
      opt.max_updates = 8000000;
      const SampledResult r = run_sampled(b, opt);
      SynchronousOptions sync;
      sync.algorithm = algorithm;
      sync.q_init = 1.0;
      const QTable fixed = run_synchronous(b, sync).Q;
      const double tol = derived_tolerance(r, b, opt.step);
      ASSERT_LT(tol, 0.2) << "run too short for a meaningful check";
      EXPECT_LE(max_abs_difference(r.Q, fixed), tol)
          << to_string(algorithm) << " seed " << seed;
    }
  }
}

// The check above can fail: the planted bug (BCQL maxing over all actions, with an optimistic
// Q_init that Q-learning's max then picks up) lands outside the same tolerance.
TEST(Sampled, PlantedUnconstrainedMaxIsCaughtByTheSameTolerance) {
  int caught = 0;
  for (uint64_t seed = 1; seed <= 3; ++seed) {
    const Case c = small_case(seed);
    const PreparedBatch b = prepare_batch(c.mdp, c.batch);
    SampledOptions opt;
    opt.algorithm = Algorithm::kBcql;
    opt.q_init = 1.0 / (1.0 - c.mdp.gamma());  // 2.5, the top of the allowed Q_init range
    opt.seed = seed;
    opt.max_updates = 8000000;
    opt.test_unconstrained_max = true;
    const SampledResult r = run_sampled(b, opt);
    SynchronousOptions sync;
    sync.q_init = opt.q_init;
    const QTable fixed = run_synchronous(b, sync).Q;
    if (max_abs_difference(r.Q, fixed) > derived_tolerance(r, b, opt.step)) ++caught;
  }
  EXPECT_GE(caught, 2);
}

TEST(Sampled, CliffWalkHandWorked) {
  const PreparedBatch b = prepare_batch(testing::cliff_walk(), testing::walk_batch());
  SampledOptions opt;
  opt.max_updates = 20000;
  opt.algorithm = Algorithm::kQLearning;
  const SampledResult q = run_sampled(b, opt);
  opt.algorithm = Algorithm::kBcql;
  const SampledResult bc = run_sampled(b, opt);
  // Deterministic data: the residual certifies the distance to the fixed point.
  EXPECT_LE(bellman_residual(b, Algorithm::kQLearning, q.Q), 1e-9);
  EXPECT_LE(bellman_residual(b, Algorithm::kBcql, bc.Q), 1e-9);
  for (int s = 0; s < 3; ++s) {
    EXPECT_NEAR(q.Q(s, 0), -1.0, 1e-8);
    EXPECT_EQ(q.Q(s, 1), 0.0);  // unseen: never updated, stays Q_init
    EXPECT_EQ(q.visits[static_cast<size_t>(s) * 2 + 1], 0);
  }
  EXPECT_NEAR(bc.Q(0, 0), -2.71, 1e-8);
  EXPECT_NEAR(bc.Q(1, 0), -1.9, 1e-8);
  EXPECT_NEAR(bc.Q(2, 0), -1.0, 1e-8);
  int64_t total = 0;
  for (int64_t v : bc.visits) total += v;
  EXPECT_EQ(total, 20000);
}

TEST(Sampled, FirstUpdateWithUnitStepCopiesTheTarget) {
  // c = 1, w = 1: alpha_1 = 1, so one update sets Q(s,a) to r + gamma max Q(s',.).
  const PreparedBatch b = prepare_batch(testing::cliff_walk(), testing::walk_batch());
  SampledOptions opt;
  opt.step = StepSchedule::polynomial(1.0, 1.0);
  opt.q_init = 7.0;
  opt.max_updates = 1;
  opt.algorithm = Algorithm::kBcql;
  const SampledResult r = run_sampled(b, opt);
  int updated = -1;
  for (int s = 0; s < 3; ++s)
    if (r.visits[static_cast<size_t>(s) * 2] == 1) updated = s;
  ASSERT_GE(updated, 0);
  const double expected = updated == 2 ? -1.0 : -1.0 + 0.9 * 7.0;  // BCQL's max over {walk}
  EXPECT_DOUBLE_EQ(r.Q(updated, 0), expected);
}

TEST(Sampled, SameSeedSameRunAndChunkingDoesNotChangeIt) {
  const Case c = small_case(5);
  const PreparedBatch b = prepare_batch(c.mdp, c.batch);
  SampledOptions opt;
  opt.max_updates = 100000;
  opt.seed = 9;
  const SampledResult a = run_sampled(b, opt);
  const SampledResult again = run_sampled(b, opt);
  EXPECT_EQ(a.Q.values, again.Q.values);
  opt.check_every = 777;
  opt.residual_tolerance = 0.0;  // never fires: the diagnostic only slices the run
  const SampledResult chunked = run_sampled(b, opt);
  EXPECT_EQ(a.Q.values, chunked.Q.values);
  EXPECT_EQ(chunked.stop, StopReason::kMaxUpdates);
  EXPECT_EQ(chunked.residual_checks, (100000 + 776) / 777);
  opt.check_every = 0;
  opt.seed = 10;
  EXPECT_NE(a.Q.values, run_sampled(b, opt).Q.values);
}

TEST(Sampled, ConvergenceDiagnosticStopsEarly) {
  const Case c = small_case(2);
  const PreparedBatch b = prepare_batch(c.mdp, c.batch);
  SampledOptions opt;
  opt.max_updates = 50000000;
  opt.check_every = 10000;
  opt.residual_tolerance = 1e-2;
  const SampledResult r = run_sampled(b, opt);
  EXPECT_EQ(r.stop, StopReason::kConverged);
  EXPECT_LT(r.updates, opt.max_updates);
  EXPECT_EQ(r.updates % 10000, 0);
  EXPECT_LE(r.residual, 1e-2);
  EXPECT_DOUBLE_EQ(r.residual, bellman_residual(b, opt.algorithm, r.Q));
}

TEST(Sampled, LargeActionCountUsesTheGenericLoop) {
  // |A| = 11 has no unrolled kernel: the generic loop must give the same limit.
  Rng rng(3);
  const FiniteMdp mdp = garnet(5, 11, 1, 3, 0.5, 1);
  const Batch batch = collect_independent(mdp, Policy::uniform(5, 11), 200, 4);
  const PreparedBatch b = prepare_batch(mdp, batch);
  SampledOptions opt;
  opt.max_updates = 2000000;
  opt.algorithm = Algorithm::kQLearning;
  const SampledResult r = run_sampled(b, opt);
  SynchronousOptions sync;
  sync.algorithm = Algorithm::kQLearning;
  EXPECT_LE(max_abs_difference(r.Q, run_synchronous(b, sync).Q), 1e-6);  // deterministic data
}

TEST(StepSchedule, ValuesAndValidation) {
  EXPECT_DOUBLE_EQ(StepSchedule::constant(0.3).at(1000), 0.3);
  EXPECT_DOUBLE_EQ(StepSchedule::polynomial(1.0, 1.0).at(4), 0.25);
  EXPECT_DOUBLE_EQ(StepSchedule::polynomial(2.0, 0.5).at(16), 0.5);
  EXPECT_DOUBLE_EQ(StepSchedule::polynomial(3.0, 1.0).at(2), 1.0);  // capped at 1
  EXPECT_TRUE(StepSchedule::polynomial(1.0, 0.8).robbins_monro());
  EXPECT_TRUE(StepSchedule::polynomial(1.0, 1.0).robbins_monro());
  EXPECT_FALSE(StepSchedule::polynomial(1.0, 0.5).robbins_monro());
  EXPECT_FALSE(StepSchedule::constant(0.1).robbins_monro());
  EXPECT_THROW(StepSchedule::constant(0.0).validate(), InputError);
  EXPECT_THROW(StepSchedule::constant(1.5).validate(), InputError);
  EXPECT_THROW(StepSchedule::polynomial(0.0, 0.8).validate(), InputError);
  EXPECT_THROW(StepSchedule::polynomial(1.0, 1.2).validate(), InputError);
  EXPECT_THROW(StepSchedule::polynomial(NAN, 0.8).validate(), InputError);
}

// A naive reference of Eq. 2 / Eq. 6, written from THEORY.md without the fast loop's layout,
// lookahead or step table: draw i uniformly with the same generator, apply the update.
QTable naive_run(const FiniteMdp& mdp, const Batch& batch, Algorithm algorithm, double q_init,
                 const StepSchedule& step, uint64_t seed, int64_t updates) {
  const int S = mdp.num_states(), A = mdp.num_actions();
  const BatchCounts counts = count_batch(batch, S, A);
  QTable Q(S, A, q_init);
  for (int s = 0; s < S; ++s)
    for (int a = 0; a < A; ++a)
      if (mdp.is_terminal(s)) Q.at(s, a) = 0.0;
  std::vector<int64_t> n(static_cast<size_t>(S * A), 0);
  Rng rng(seed);
  for (int64_t t = 0; t < updates; ++t) {
    const Transition& tr =
        batch.transitions[rng.below(static_cast<uint32_t>(batch.transitions.size()))];
    double m = 0.0;  // terminal s'
    if (!mdp.is_terminal(tr.s_next)) {
      const bool s_next_in_batch = counts.contains_state(tr.s_next);
      m = -INFINITY;
      for (int a = 0; a < A; ++a)
        if (algorithm == Algorithm::kQLearning || !s_next_in_batch || counts.contains(tr.s_next, a))
          m = std::max(m, Q(tr.s_next, a));
    }
    const size_t sa = static_cast<size_t>(tr.s * A + tr.a);
    const double target = tr.r + mdp.gamma() * m;
    Q.values[sa] += step.at(++n[sa]) * (target - Q.values[sa]);
  }
  return Q;
}

TEST(Sampled, FastLoopEqualsNaiveReferenceBitForBit) {
  // 1,500,000 updates over few pairs: visit counts pass the 2^16 step table, so both the table
  // and the computed steps beyond it are exercised; |A| = 2 (unrolled) and 11 (generic loop).
  struct Setup { FiniteMdp mdp; Batch batch; };
  std::vector<Setup> setups;
  {
    const Case c = small_case(4);
    setups.push_back({c.mdp, c.batch});
  }
  {
    const FiniteMdp mdp = garnet(5, 11, 2, 3, 0.5, 1);
    setups.push_back({mdp, collect_independent(mdp, Policy::uniform(5, 11), 30, 4)});
  }
  for (const Setup& setup : setups) {
    for (Algorithm algorithm : {Algorithm::kQLearning, Algorithm::kBcql}) {
      for (const StepSchedule& step :
           {StepSchedule::polynomial(1.0, 0.7), StepSchedule::constant(0.05)}) {
        SampledOptions opt;
        opt.algorithm = algorithm;
        opt.step = step;
        opt.q_init = 0.75;
        opt.seed = 21;
        opt.max_updates = 1500000;
        const SampledResult fast = run_sampled(setup.mdp, setup.batch, opt);
        if (&setup == &setups[0]) {
          EXPECT_GT(*std::max_element(fast.visits.begin(), fast.visits.end()), 65536);
        }
        const QTable naive =
            naive_run(setup.mdp, setup.batch, algorithm, 0.75, step, 21, opt.max_updates);
        EXPECT_EQ(fast.Q.values, naive.values) << to_string(algorithm);
      }
    }
  }
}

TEST(Sampled, BadInput) {
  const FiniteMdp mdp = testing::cliff_walk();
  SampledOptions opt;
  EXPECT_THROW(run_sampled(mdp, Batch{}, opt), ValidationError);  // empty batch
  Batch out_of_range;
  out_of_range.transitions.push_back({0, 0, -1.0, 9, false});  // s' beyond the MDP
  EXPECT_THROW(run_sampled(mdp, out_of_range, opt), ValidationError);
  Batch bad_action;
  bad_action.transitions.push_back({0, 2, -1.0, 1, false});
  EXPECT_THROW(run_sampled(mdp, bad_action, opt), ValidationError);
  opt.max_updates = -1;
  EXPECT_THROW(run_sampled(mdp, testing::walk_batch(), opt), InputError);
  opt = {};
  opt.q_init = NAN;
  EXPECT_THROW(run_sampled(mdp, testing::walk_batch(), opt), InputError);
  EXPECT_EQ(algorithm_from_string("bcql"), Algorithm::kBcql);
  EXPECT_THROW(algorithm_from_string("sarsa"), InputError);
}

}  // namespace
}  // namespace bcq::bcql
