// The error bounds the bcql solvers certify, checked against the truth (exact policy iteration)
// at gamma = 0.99 with a loose tolerance, where a stopping rule that lost its gamma / (1 - gamma)
// factor claims ~100x less than its real error. And the boundaries of the step-size rules.
#include <gtest/gtest.h>

#include <cmath>

#include "bcql/batch_constrained_vi.hpp"
#include "bcql/sampled.hpp"
#include "bcql/synchronous.hpp"
#include "mdp/batch.hpp"
#include "mdp/batch_mdp.hpp"
#include "mdp/generators.hpp"
#include "mdp/solve.hpp"

namespace bcq::bcql {
namespace {

struct Setting {
  FiniteMdp mdp;
  Batch batch;
};

// A garnet at gamma 0.99 and a batch that covers some pairs several times.
Setting near_one(uint64_t seed, int branching) {
  FiniteMdp mdp = garnet(8, 3, branching, seed, 0.99);
  Batch batch = collect_independent(mdp, Policy::uniform(8, 3), 60, seed + 10);
  return {std::move(mdp), std::move(batch)};
}

double error_on_batch(const QTable& q, const QTable& truth, const BatchCounts& counts) {
  double m = 0.0;
  for (int s = 0; s < q.num_states; ++s)
    for (int a = 0; a < q.num_actions; ++a)
      if (counts.contains(s, a)) m = std::max(m, std::abs(q(s, a) - truth(s, a)));
  return m;
}

TEST(CertifiedBounds, SynchronousQLearningAndBcqlAtGammaNearOne) {
  for (uint64_t seed : {1u, 2u, 3u}) {
    Setting st = near_one(seed, 2);
    PreparedBatch pb = prepare_batch(st.mdp, st.batch);
    const double tol = 1e-3;
    for (Algorithm algorithm : {Algorithm::kQLearning, Algorithm::kBcql}) {
      SynchronousOptions so;
      so.algorithm = algorithm;
      so.tolerance = tol;
      SynchronousResult r = run_synchronous(pb, so);
      ASSERT_TRUE(r.converged);
      // The truth: Q*_{M_B} (Theorem 1) or Q^{pi*}_B (Theorem 4), by exact policy iteration on M_B.
      FiniteMdp mb = batch_mdp(st.mdp, st.batch, QTable(8, 3, 0.0));
      QTable truth = algorithm == Algorithm::kQLearning
                         ? policy_iteration(mb).Q
                         : batch_constrained_policy_iteration(mb, allowed_actions(mb, pb.counts)).Q;
      const double error = error_on_batch(r.Q, truth, pb.counts);
      EXPECT_LE(error, r.error_bound) << to_string(algorithm) << " seed " << seed;
      EXPECT_LE(r.error_bound, tol);
      EXPECT_GT(error, 1e-3 * tol) << "the run should stop near its tolerance";
    }
  }
}

TEST(CertifiedBounds, BatchConstrainedValueIterationAtGammaNearOne) {
  for (uint64_t seed : {4u, 5u}) {
    Setting st = near_one(seed, 3);
    BatchCounts counts = count_batch(st.batch, 8, 3);
    ActionSets allowed = allowed_actions(st.mdp, counts);
    const double tol = 1e-3;
    BatchConstrainedSolution vi = batch_constrained_value_iteration(st.mdp, allowed, tol);
    BatchConstrainedSolution pi = batch_constrained_policy_iteration(st.mdp, allowed);
    ASSERT_TRUE(vi.converged);
    double error = 0.0;
    for (size_t s = 0; s < vi.V.size(); ++s) error = std::max(error, std::abs(vi.V[s] - pi.V[s]));
    EXPECT_LE(error, vi.error_bound) << "seed " << seed;
    EXPECT_LE(vi.error_bound, tol);
    EXPECT_GT(error, 1e-3 * tol);
  }
}

TEST(CertifiedBounds, SampledConvergenceDiagnosticAtGammaNearOne) {
  // Deterministic MDP, step 1: sampled BCQL is asynchronous batch-constrained VI, so the
  // diagnostic fires; its residual then bounds the distance to Q^{pi*}_B by residual / (1 - gamma).
  for (uint64_t seed : {6u, 7u}) {
    Setting st = near_one(seed, 1);
    PreparedBatch pb = prepare_batch(st.mdp, st.batch);
    SampledOptions so;
    so.algorithm = Algorithm::kBcql;
    so.step = StepSchedule::constant(1.0);
    so.seed = seed;
    so.max_updates = 20000000;
    so.check_every = 500;
    so.residual_tolerance = 1e-5;
    SampledResult r = run_sampled(pb, so);
    ASSERT_EQ(r.stop, StopReason::kConverged);
    FiniteMdp mb = batch_mdp(st.mdp, st.batch, QTable(8, 3, 0.0));
    QTable truth = batch_constrained_policy_iteration(mb, allowed_actions(mb, pb.counts)).Q;
    const double bound = r.residual / (1.0 - st.mdp.gamma());
    EXPECT_LE(r.residual, so.residual_tolerance);
    EXPECT_LE(error_on_batch(r.Q, truth, pb.counts), bound) << "seed " << seed;
    // The reported residual is the true one of the final Q.
    EXPECT_NEAR(r.residual, bellman_residual(pb, Algorithm::kBcql, r.Q), 1e-15);
  }
}

std::string step_error(const StepSchedule& step) {
  try {
    step.validate();
  } catch (const InputError& e) {
    return e.what();
  }
  return "accepted";
}

TEST(StepSizeBoundaries, ConstantAlphaInZeroOne) {
  EXPECT_EQ(step_error(StepSchedule::constant(1.0)), "accepted");
  EXPECT_EQ(step_error(StepSchedule::constant(1e-300)), "accepted");
  EXPECT_NE(step_error(StepSchedule::constant(std::nextafter(1.0, 2.0))), "accepted");
  EXPECT_NE(step_error(StepSchedule::constant(0.0)), "accepted");
  EXPECT_NE(step_error(StepSchedule::constant(std::nan(""))), "accepted");
}

TEST(StepSizeBoundaries, PolynomialExponentAndScale) {
  EXPECT_EQ(step_error(StepSchedule::polynomial(1.0, 1.0)), "accepted");
  EXPECT_NE(step_error(StepSchedule::polynomial(1.0, std::nextafter(1.0, 2.0))), "accepted");
  EXPECT_EQ(step_error(StepSchedule::polynomial(1.0, 1e-300)), "accepted");
  EXPECT_NE(step_error(StepSchedule::polynomial(1.0, 0.0)), "accepted");
  EXPECT_NE(step_error(StepSchedule::polynomial(0.0, 0.8)), "accepted");
  EXPECT_NE(step_error(StepSchedule::polynomial(INFINITY, 0.8)), "accepted");
  EXPECT_EQ(step_error(StepSchedule::polynomial(1e-300, 0.8)), "accepted");
}

TEST(StepSizeBoundaries, RobbinsMonroExactlyForExponentInHalfToOne) {
  // sum alpha_n = inf needs w <= 1; sum alpha_n^2 < inf needs w > 1/2 (THEORY.md).
  EXPECT_FALSE(StepSchedule::polynomial(1.0, 0.5).robbins_monro());
  EXPECT_TRUE(StepSchedule::polynomial(1.0, std::nextafter(0.5, 1.0)).robbins_monro());
  EXPECT_TRUE(StepSchedule::polynomial(1.0, 1.0).robbins_monro());
  EXPECT_FALSE(StepSchedule::polynomial(1.0, std::nextafter(1.0, 2.0)).robbins_monro());
  EXPECT_FALSE(StepSchedule::polynomial(0.0, 0.8).robbins_monro());
  EXPECT_FALSE(StepSchedule::constant(0.5).robbins_monro());
  // alpha_n = min(1, c / n^w).
  EXPECT_DOUBLE_EQ(StepSchedule::polynomial(1.0, 0.6).at(1), 1.0);
  EXPECT_DOUBLE_EQ(StepSchedule::polynomial(4.0, 1.0).at(2), 1.0);
  EXPECT_DOUBLE_EQ(StepSchedule::polynomial(1.0, 1.0).at(4), 0.25);
}

}  // namespace
}  // namespace bcq::bcql
