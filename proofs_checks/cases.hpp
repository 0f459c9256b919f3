// Test cases of the verification suite, built from plain integer choices so that RapidCheck
// shrinks them to small, readable cases (fewer states, fewer steps, ids and rewards toward 0).
// Decoding is deterministic and free of RapidCheck, so a saved case replays anywhere.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "mdp/batch.hpp"
#include "mdp/finite_mdp.hpp"

namespace bcq::proofs {

/// The discounts a case may use (index 0 is what shrinking goes to).
inline constexpr double kGammas[] = {0.5, 0.0, 0.9, 0.95};
/// The discounts of cases that run sampled algorithms (docs/theory.md: gamma <= 0.9).
inline constexpr double kSampledGammas[] = {0.5, 0.0, 0.9};
/// Q_init values a case may use (index 0 = 0, the default).
inline constexpr double kQInits[] = {0.0, 10.0, -10.0};

/// Choices that define a finite MDP with 1-8 states and 1-4 actions. d_0 = state 0; the last
/// (num_terminal mod S) states are terminal. (s,a) draws up to three successors:
/// next[3k+i], with integer weight weight[3k+i] (+1 for the first), p = weight / sum, and reward
/// reward[3k+i]; deterministic MDPs keep only the first. k = s * A + a.
struct MdpChoices {
  int num_states = 1;
  int num_actions = 1;
  bool stochastic = false;
  int gamma_index = 0;
  int num_terminal = 0;
  std::vector<int> next;    ///< at least 3 S A entries in [0, 8) (taken mod S)
  std::vector<int> weight;  ///< at least 3 S A entries in [0, 3]
  std::vector<int> reward;  ///< at least 3 S A entries in [-4, 4]
};

/// How a batch is drawn from the MDP.
struct BatchChoices {
  bool trajectories = true;
  /// Trajectory mode: one entry per step from s_0 (restart at s_0 after a terminal state):
  /// a = x mod A, successor index = (x / A) mod (number of successors).
  std::vector<int> steps;
  /// Trajectory mode: append transitions (action 0, first successor) from every state that is
  /// reached but not in B until B is coherent.
  bool close = true;
  /// Pair mode, per (s,a): 0 absent, 1 exact frequencies (weight copies of each successor, so
  /// p_B = p_M), 2 counts[3k+i] copies of successor i.
  std::vector<int> coverage;  ///< at least S A entries in [0, 2], index s A + a
  std::vector<int> counts;    ///< at least 3 S A entries in [0, 2]
};

/// A stochastic policy from integer weights (at least S A entries in [0, 3], index s A + a); an
/// all-zero row is uniform.
struct PolicyChoices {
  std::vector<int> weight;
  /// Restrict the policy to the batch where possible (see decode_policy).
  bool batch_constrained = false;
};

/// One decoded case.
struct Case {
  std::optional<FiniteMdp> mdp;
  Batch batch;
  Policy policy;
  double q_init = 0.0;
  std::string description;  ///< one line: sizes and kinds, for tags and reports
};

FiniteMdp decode_mdp(const MdpChoices& choices, bool sampled_gamma = false);
/// Never empty: a batch with no transition gets (s_0, 0, first successor).
Batch decode_batch(const FiniteMdp& mdp, const BatchChoices& choices);
/// With `batch_constrained`: where a batch-constrained policy exists, the weights are kept on
/// the safe in-batch actions of find_batch_constrained_policy's witness (so the policy is
/// batch-constrained by construction); otherwise rows of states in B keep only in-batch actions.
Policy decode_policy(const FiniteMdp& mdp, const Batch& batch, const PolicyChoices& choices);

/// The batch that "standard sampling from the environment" converges to: every non-terminal
/// (s,a) with successors in exact proportion (integer weights), so p_B = p_M everywhere.
Batch exact_frequency_batch(const FiniteMdp& mdp, const MdpChoices& choices);

/// A copy of M and B with new rewards r'(s,a,s') (B's rewards replaced by r' of its transitions),
/// used to check "for all reward functions" with generic rewards. `seed` draws r' uniformly in
/// [-1, 1) with 53-bit resolution (exact cancellations then have probability ~0).
std::pair<FiniteMdp, Batch> with_generic_rewards(const FiniteMdp& mdp, const Batch& batch, uint64_t seed);

/// Extends a policy over M's states to M_B's (s_init gets a uniform row; it is terminal).
Policy extend_to_batch_mdp(const Policy& pi);

}  // namespace bcq::proofs
