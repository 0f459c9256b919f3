// Shared pieces of the property files: drawing a whole case, tags, tolerances, references.
#pragma once

#include <rapidcheck.h>

#include <cmath>
#include <string>

#include "bcql/prepared_batch.hpp"
#include "bcql/sampled.hpp"
#include "mdp/analysis.hpp"
#include "mdp/batch_mdp.hpp"
#include "mdp/solve.hpp"
#include "proofs_checks/generators.hpp"
#include "proofs_checks/properties.hpp"

namespace bcq::proofs {

enum class PolicyKind { kRandom, kBatchConstrained, kEither };

struct DrawSpec {
  Determinism determinism = Determinism::kAny;
  BatchKind batch = BatchKind::kAny;
  PolicyKind policy = PolicyKind::kEither;
  bool sampled_gamma = false;  ///< gamma <= 0.9 (sampled algorithms)
  bool random_q_init = true;   ///< Q_init from kQInits, else 0
  bool exact_batch = false;    ///< ignore `batch`: every pair with exact frequencies
};

/// Draws MDP, batch, policy and Q_init, records the case and tags it.
Case draw_case(const DrawSpec& spec);

/// Q_init as an S x A table (terminal rows 0).
QTable q_init_table(const Case& c);

/// 1 + max |x|: the scale that relative tolerances multiply.
double scale_of(const QTable& q);

/// Sampled-run settings of the suite: Robbins-Monro steps alpha_n = 1 / n^0.8 (or a constant
/// step for the probes), and a budget that gives the rarest (s,a) of B about `visits` updates.
bcql::SampledOptions sampled_options(const Case& c, const bcql::PreparedBatch& pb, bcql::Algorithm algorithm,
                                     bool robbins_monro, uint64_t seed, long visits = 20000);

/// Statistical tolerance of a sampled run against its fixed point (README, "Verification"):
/// 6 V_max sqrt(alpha_min / 2), V_max = max(1, |r|, |Q_init|) / (1 - gamma) and alpha_min the
/// Robbins-Monro step of the least-visited pair of B at the end of the run. It shrinks as the
/// run gets longer.
double sampled_tolerance(const Case& c, const bcql::SampledResult& run);

/// Fails the case with `message` unless `condition` holds.
inline void require(bool condition, const std::string& message) {
  if (!condition) {
    record_failure_message(message);
    RC_FAIL(message);
  }
}

std::string fmt_pair(int s, int a);

}  // namespace bcq::proofs

namespace bcq::proofs {

/// eps_MDP = Q^pi (in M) - Q^pi_B (in M_B) by two exact policy evaluations (Eq. 3), over M's states.
QTable eps_direct(const FiniteMdp& mdp, const Batch& batch, const Policy& pi, double q_init);

/// Pairs (s,a) with s non-terminal, mu_pi(s) > 0 (reachability) and pi(a|s) > 0.
std::vector<std::pair<int, int>> relevant_pairs(const FiniteMdp& mdp, const Policy& pi);

/// Lemma 1's condition: p_B(.|s,a) = p_M(.|s,a) on every relevant pair (unseen pairs fail it).
bool lemma1_condition(const FiniteMdp& mdp, const Batch& batch, const std::vector<std::pair<int, int>>& relevant);

/// max over relevant pairs of |eps(s,a)|: zero exactly when eps^pi_MDP (Eq. 5) is zero, since
/// mu_pi(s) pi(a|s) > 0 there (docs/theory.md: only the support of mu_pi matters).
double max_relevant(const QTable& eps, const std::vector<std::pair<int, int>>& relevant);

}  // namespace bcq::proofs

namespace bcq::proofs {
/// 1 + max(|r|, |Q_init|) / (1 - gamma): a bound on the size of any value in the case.
double value_scale(const Case& c);
}  // namespace bcq::proofs

namespace bcq::proofs {
/// max over relevant pairs of |eps| for the case's own rewards and two generic reward functions
/// (with_generic_rewards, seeds 1 and 2). The first version whose error exceeds `tol` becomes
/// the recorded case, so that a saved counterexample replays with the rewards that expose it.
double max_relevant_eps_over_rewards(const Case& c, double tol);
}  // namespace bcq::proofs

namespace bcq::proofs {
/// Fails unless a sampled run ends within sampled_tolerance() of `reference` on every (s,a) of B
/// (pairs outside B never move and are checked by the exact properties). `what` names the two
/// sides in the message, e.g. "sampled BCQL vs Q*".
void require_sampled_close(const Case& c, const bcql::PreparedBatch& pb, const bcql::SampledResult& run,
                           const QTable& reference, const std::string& what, uint64_t seed);
}  // namespace bcq::proofs
