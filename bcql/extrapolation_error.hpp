// Extrapolation error of a policy pi (Section 4.1 of the paper, docs/theory.md "Quantities"):
//   Eq. 3:  eps_MDP(s,a) = Q^pi(s,a) - Q^pi_B(s,a)   (value of pi in M minus its value in M_B);
//   Eq. 4 / Remark 1 (Eq. 16): the same eps as the solution of the linear system
//     eps(s,a) = sum_s' (p_M(s'|s,a) r_M(s,a,s') - p_B(s'|s,a) r_B(s,a,s'))
//              + gamma sum_s' (p_M(s'|s,a) - p_B(s'|s,a)) V^pi_B(s')
//              + gamma sum_s' p_M(s'|s,a) sum_a' pi(a'|s') eps(s',a'),
//     s' over S plus s_init (p_M(s_init|.) = 0, V^pi_B(s_init) = 0).
//     Convention: the reward of a seen (s,a,s') in M_B is the mean recorded in B (r_B), the
//     reward of an unseen (s,a) is Q_init(s,a); with consistent data r_B = r_M and this is the
//     paper's equation. Solved at state level: e(s) = sum_a pi(a|s) eps(s,a) satisfies
//     (I - gamma P^pi_M) e = b^pi, then eps(s,a) = b(s,a) + gamma sum_s' p_M(s'|s,a) e(s').
//   Eq. 5:  eps^pi_MDP = sum_s mu_pi(s) sum_a pi(a|s) |eps_MDP(s,a)|, mu_pi the normalised
//     discounted state-visitation distribution of pi in M from d_0 (docs/theory.md convention).
// "Relevant" pairs (Lemma 1): non-terminal s with mu_pi(s) > 0 (graph reachability,
// bcq::reachable_states) and pi(a|s) > 0.
#pragma once

#include <vector>

#include "mdp/batch.hpp"
#include "mdp/finite_mdp.hpp"

namespace bcq::bcql {

struct ExtrapolationOptions {
  double q_init = 0.0;   ///< Q_init of M_B's unseen pairs (reward of the step to s_init)
  QTable q_init_table;   ///< when non-empty, overrides q_init (S x A)
  /// |p_B(s'|s,a) - p_M(s'|s,a)| above this counts as "p_B != p_M" for a seen pair.
  double p_tolerance = 1e-12;
  /// Names the batch in validation errors (e.g. its file).
  std::string batch_source = "batch";
  /// Test-only seam: Remark 1 propagates eps with p_B instead of p_M (a planted bug).
  bool test_propagate_with_p_b = false;
};

/// One relevant pair (mu_pi(s) > 0, pi(a|s) > 0) and how it stands against Lemma 1's condition.
struct RelevantPair {
  int s = 0;
  int a = 0;
  double mu = 0.0;              ///< mu_pi(s) (discounted visitation; 0 is possible when gamma = 0)
  double pi = 0.0;              ///< pi(a|s)
  bool in_batch = false;        ///< (s,a) in B
  double p_distance = 0.0;      ///< sum_s' |p_B(s'|s,a) - p_M(s'|s,a)| over S plus s_init (2 if unseen)
  bool breaks_lemma1 = false;   ///< missing from B, or some |p_B - p_M| > p_tolerance
  double eps = 0.0;             ///< eps_MDP(s,a) (direct)
};

struct ExtrapolationError {
  QTable q_pi;        ///< Q^pi in M (S x A)
  QTable q_pi_batch;  ///< Q^pi_B in M_B, restricted to M's states (S x A)
  QTable direct;      ///< Eq. 3
  QTable remark1;     ///< Eq. 4 / 16 linear solve
  double max_difference = 0.0;       ///< max |direct - remark1|
  std::vector<double> visitation;    ///< mu_pi, sums to 1
  std::vector<char> reachable;       ///< mu_pi(s) > 0 by the reachability convention
  double eps_pi_mdp = 0.0;           ///< Eq. 5 from the direct eps
  double eps_pi_mdp_remark1 = 0.0;   ///< Eq. 5 from the Remark 1 eps
  std::vector<RelevantPair> relevant;          ///< all relevant pairs, by (s,a)
  std::vector<RelevantPair> lemma1_violations; ///< the relevant pairs with breaks_lemma1
};

/// Everything `bcq error` reports. Validates pi's shape and rows (Policy::validate) and B
/// against M (validate_batch; an empty batch is refused); throws ValidationError / InputError.
ExtrapolationError extrapolation_error(const FiniteMdp& mdp, const Batch& batch, const Policy& pi,
                                       const ExtrapolationOptions& options = {});

/// Eq. 3 alone: Q^pi in `mdp` minus Q^pi in `batch_mdp` (S+1 states, as bcq::batch_mdp builds),
/// restricted to mdp's states. Uses bcq::evaluate_policy for both.
QTable extrapolation_error_direct(const FiniteMdp& mdp, const FiniteMdp& batch_mdp,
                                  const Policy& pi);

/// Eq. 4 / 16 alone, given Q^pi_B (S+1 x A or S x A; s_init's value is 0). Own sparse LU solve
/// (Eigen), independent of bcq::evaluate_policy.
QTable extrapolation_error_remark1(const FiniteMdp& mdp, const FiniteMdp& batch_mdp,
                                   const Policy& pi, const QTable& q_pi_batch,
                                   bool test_propagate_with_p_b = false);

/// mu_pi: the normalised discounted state-visitation distribution of pi in `mdp` from d_0,
/// mu(s) = (1 - gamma) sum_t gamma^t P(s_t = s), i.e. (1 - gamma) d_0^T (I - gamma P^pi)^{-1}.
/// Terminal states are absorbing (the process stays there and takes no action), so mu sums to 1
/// and eps^pi_MDP = (1 - gamma) E[sum_t gamma^t sum_a pi(a|s_t) |eps(s_t,a)|].
std::vector<double> discounted_visitation(const FiniteMdp& mdp, const Policy& pi);

/// Eq. 5 for a given eps table and mu.
double eps_pi_mdp(const QTable& eps, const Policy& pi, const std::vector<double>& mu);

}  // namespace bcq::bcql
