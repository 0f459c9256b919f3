// Synchronous (expected-update) forms of Q-learning and BCQL on a batch: the exact fixed points
// the sampled forms converge to (Theorem 1 and Theorem 4).
//   Q-learning: (T Q)(s,a) = sum_s' p_B(s'|s,a) (r_B(s,a,s') + gamma max_{a'} Q(s',a')),
//               the Bellman optimality operator of M_B, whose fixed point is Q*_{M_B}.
//   BCQL:       the same with max_{a' : (s',a') in B} (Eq. 6 in expectation); fixed point
//               Q^{pi*}_B.
// Pairs (s,a) outside B are fixed at Q_init(s,a) (M_B sends them to s_init with that reward);
// terminal states are 0. Iterated from Q_init (Jacobi sweeps) until the change certifies the
// requested distance to the fixed point.
#pragma once

#include "bcql/prepared_batch.hpp"
#include "bcql/sampled.hpp"
#include "mdp/batch.hpp"
#include "mdp/finite_mdp.hpp"

namespace bcq::bcql {

struct SynchronousOptions {
  Algorithm algorithm = Algorithm::kBcql;
  double q_init = 0.0;     ///< Q_init for every pair (as SampledOptions)
  QTable q_init_table;     ///< when non-empty, overrides q_init (S x A)
  /// Stop when gamma / (1 - gamma) * ||Q_{k+1} - Q_k||_inf <= tolerance, which bounds
  /// ||Q_{k+1} - Q_fixed||_inf by `tolerance` (contraction with modulus gamma).
  double tolerance = 1e-11;
  int max_sweeps = 1000000;
  /// Test-only seam: BCQL maxes over all actions (see SampledOptions).
  bool test_unconstrained_max = false;
};

struct SynchronousResult {
  QTable Q;                  ///< S x A over M's states
  int sweeps = 0;
  bool converged = false;    ///< "did it converge" is a value, not an exception
  double error_bound = 0.0;  ///< certified bound on ||Q - Q_fixed||_inf
};

/// Iterates the synchronous operator of `options.algorithm` to its fixed point.
SynchronousResult run_synchronous(const PreparedBatch& batch, const SynchronousOptions& options);
/// Convenience: prepare_batch(mdp, batch) then run_synchronous.
SynchronousResult run_synchronous(const FiniteMdp& mdp, const Batch& batch,
                                  const SynchronousOptions& options);

/// One application of the operator: returns T Q (pairs outside B are set to q_init).
QTable apply_operator(const PreparedBatch& batch, Algorithm algorithm, const QTable& Q,
                      const QTable& q_init, bool test_unconstrained_max = false);

}  // namespace bcq::bcql
