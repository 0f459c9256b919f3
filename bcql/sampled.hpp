// Sampled Q-learning (Eq. 2) and BCQL (Eq. 6) on a fixed batch: draw (s,a,r,s') uniformly
// from B (with replacement, bcq::Rng) and apply
//   Q(s,a) <- (1 - alpha) Q(s,a) + alpha (r + gamma max_{a'} Q(s',a'))
// where the max runs over all actions (Q-learning) or over {a' : (s',a') in B} (BCQL; docs/theory.md
// convention: 0 for terminal s', max_a' Q_init(s',a') for a non-terminal s' outside B).
// Theorem 1: Q-learning converges to Q*_{M_B}; Theorem 4: BCQL converges to Q^{pi*}_B. The
// synchronous forms (synchronous.hpp) compute those fixed points exactly.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "bcql/prepared_batch.hpp"
#include "mdp/batch.hpp"
#include "mdp/finite_mdp.hpp"

namespace bcq::bcql {

enum class Algorithm {
  kQLearning,  ///< Eq. 2: max over all actions
  kBcql,       ///< Eq. 6: max over in-batch actions
};
const char* to_string(Algorithm algorithm);
/// "q-learning" or "bcql"; anything else throws InputError.
Algorithm algorithm_from_string(const std::string& name);

/// Step size per (s,a) as a function of n = number of updates of that pair so far (1 on the first).
struct StepSchedule {
  enum class Kind {
    kConstant,    ///< alpha_n = alpha. Not Robbins-Monro: the iterate keeps fluctuating.
    kPolynomial,  ///< alpha_n = min(1, c / n^w). Robbins-Monro for w in (0.5, 1] (docs/theory.md).
  };
  Kind kind = Kind::kPolynomial;
  double alpha = 0.1;  ///< constant step (kConstant)
  double c = 1.0;      ///< scale (kPolynomial); c = 1, w = 1 gives the running mean of targets
  double w = 0.8;      ///< exponent (kPolynomial); 0.8 sits inside (0.5, 1] with a margin

  static StepSchedule constant(double alpha);
  static StepSchedule polynomial(double c, double w);
  /// alpha_n for n >= 1.
  double at(int64_t n) const;
  /// True for kPolynomial with w in (0.5, 1] and c > 0.
  bool robbins_monro() const;
  /// Throws InputError on alpha outside (0, 1], c <= 0, w outside (0, 1] or a non-finite field.
  void validate() const;
};

/// Why a sampled run stopped.
enum class StopReason {
  kMaxUpdates,  ///< the update budget was spent without the diagnostic firing
  kConverged,   ///< the Bellman residual fell below `residual_tolerance`
};
const char* to_string(StopReason reason);

/// Options of a sampled run (one config struct per algorithm, STYLE.md).
struct SampledOptions {
  Algorithm algorithm = Algorithm::kBcql;
  StepSchedule step;            ///< per-(s,a) step schedule
  double q_init = 0.0;          ///< Q_init(s,a) for every pair (paper: Q initialised arbitrarily)
  QTable q_init_table;          ///< when non-empty, overrides q_init pair by pair (S x A)
  uint64_t seed = 0;            ///< bcq::Rng seed for the uniform draws
  int64_t max_updates = 1000000;  ///< update budget
  /// Convergence diagnostic: every `check_every` updates compute the Bellman residual
  /// max_{(s,a) in B} |T Q(s,a) - Q(s,a)| of the synchronous operator T that the algorithm
  /// targets (M_B's optimality operator or the batch-constrained one); stop when it is at most
  /// `residual_tolerance`. Then ||Q - Q_fixed||_inf <= residual / (1 - gamma).
  /// 0 disables the diagnostic (run exactly max_updates).
  int64_t check_every = 0;
  double residual_tolerance = 1e-6;
  /// Test-only seam: BCQL takes its max over ALL actions (turns Eq. 6 back into Eq. 2), so the
  /// verification suite can plant a bug and see a property fail. Never set outside tests.
  bool test_unconstrained_max = false;
};

/// Result of a sampled run. Q is S x A over M's states: pairs outside B keep Q_init (no
/// sample ever updates them), terminal rows are 0.
struct SampledResult {
  QTable Q;
  int64_t updates = 0;            ///< updates applied
  StopReason stop = StopReason::kMaxUpdates;
  double residual = -1.0;         ///< last Bellman residual computed (-1: never computed)
  int64_t residual_checks = 0;    ///< how many times the diagnostic ran
  std::vector<int64_t> visits;    ///< n(s,a): updates per pair, S x A row-major
};

/// Runs sampled Q-learning or BCQL on a prepared batch. Throws InputError on invalid options.
SampledResult run_sampled(const PreparedBatch& batch, const SampledOptions& options);
/// Convenience: prepare_batch(mdp, batch) then run_sampled.
SampledResult run_sampled(const FiniteMdp& mdp, const Batch& batch, const SampledOptions& options);

/// The Bellman residual used by the diagnostic: max over seen (s,a) of |(T Q)(s,a) - Q(s,a)|,
/// T the synchronous operator of `algorithm` (see synchronous.hpp).
double bellman_residual(const PreparedBatch& batch, Algorithm algorithm, const QTable& Q,
                        bool test_unconstrained_max = false);

/// The policy a learned Q table implies: argmax over all actions (Q-learning) or over
/// allowed(s) (BCQL: in-batch actions where s is in B), lowest index among ties within 1e-12;
/// 0 at terminal states. For BCQL this policy is batch-constrained wherever it can be.
std::vector<int> learned_policy(const PreparedBatch& batch, Algorithm algorithm, const QTable& Q);

}  // namespace bcq::bcql
