// Safe policy improvement baselines on a batch (docs/theory.md, "Safe policy improvement
// baselines"; docs/tabular_study.md). Every algorithm works on the maximum-likelihood model,
// which is the batch MDP M_B (p_B, mean recorded rewards; unseen pairs go to s_init with
// reward Q_init), plus the counts N(s,a):
//   basic RL        the optimal policy of M_B, solved exactly (policy iteration);
//   Pi_b-SPIBB      policy iteration restricted to pi(a|s) = pi_b(a|s) on the bootstrapped set
//                   B_wedge = {(s,a) : N(s,a) < N_wedge};
//   Pi_<=b-SPIBB    the same with pi(a|s) <= pi_b(a|s) on B_wedge;
//   RaMDP           M_B with rewards r(s,a,s') - kappa / sqrt(N(s,a)), solved exactly;
//   VI-LCB          pessimistic value iteration with the bonus b(s,a) = c V_max / sqrt(N(s,a)).
// Policies are S x A over M's states (terminal rows are ignored); Q and V are in M_B's terms.
#pragma once

#include <string>
#include <vector>

#include "mdp/batch.hpp"
#include "mdp/batch_mdp.hpp"
#include "mdp/finite_mdp.hpp"

namespace bcq::bcql {

/// The maximum-likelihood model of a batch: M_B (S+1 states, s_init = S) and N(s,a).
struct MaximumLikelihoodModel {
  FiniteMdp batch_mdp;  ///< M_B as bcq::batch_mdp builds it
  BatchCounts counts;   ///< N(s,a), p_B and mean rewards per seen pair
  QTable q_init;        ///< Q_init(s,a) of unseen pairs (S x A; terminal rows 0)
  int num_states() const { return counts.num_states; }
  int num_actions() const { return counts.num_actions; }
  /// N(s,a).
  long count(int s, int a) const {
    return counts.n_sa[static_cast<size_t>(s) * static_cast<size_t>(counts.num_actions) +
                       static_cast<size_t>(a)];
  }
};

/// Validates B against M (bcq::validate_batch, naming `source`) and builds M_B with Q_init =
/// `q_init` on every unseen pair.
MaximumLikelihoodModel maximum_likelihood_model(const FiniteMdp& mdp, const Batch& batch,
                                                double q_init = 0.0,
                                                const std::string& source = "batch");

/// The result of one safe-policy-improvement algorithm.
struct ImprovedPolicy {
  Policy policy;           ///< pi(a|s), S x A over M's states
  QTable Q;                ///< the algorithm's own Q of `policy` (S x A; in M_B or its variant)
  std::vector<double> V;   ///< its V over M's states
  int iterations = 0;      ///< improvement steps (policy iteration) or sweeps (value iteration)
  bool converged = false;  ///< "did it converge" is a value, not an exception
};

/// Basic RL: the optimal policy of M_B by policy iteration (deterministic; lowest index among
/// ties).
ImprovedPolicy basic_rl(const MaximumLikelihoodModel& model);

/// Pi_b-SPIBB with parameter N_wedge >= 0. Starts from pi_b; greedy step at s: pi_b(a|s) on
/// B_wedge(s), the rest of the mass on the argmax of Q(s,a) over the pairs outside B_wedge(s).
/// Stops when no state's value rises by more than 1e-12. N_wedge = 0 gives basic RL's values;
/// N_wedge above every count returns pi_b. pi_b is validated (S x A, rows sum to 1).
ImprovedPolicy pi_b_spibb(const MaximumLikelihoodModel& model, const Policy& pi_b, long n_wedge,
                          int max_iterations = 1000);

/// Pi_<=b-SPIBB: greedy step at s goes through the actions by decreasing Q(s,a); an action
/// outside B_wedge takes all the remaining mass and ends the step, a bootstrapped action takes
/// min(pi_b(a|s), remaining mass). Same stopping rule as pi_b_spibb.
ImprovedPolicy pi_leq_b_spibb(const MaximumLikelihoodModel& model, const Policy& pi_b,
                              long n_wedge, int max_iterations = 1000);

/// N(s,a) used by RaMDP for a pair the batch never saw (SPIBB's reference code adds 1e-5 to
/// every count, so an unseen pair's penalty is kappa / sqrt(1e-5), about 316 kappa).
constexpr double kRamdpUnseenCount = 1e-5;

/// RaMDP: M_B with every reward of (s,a) lowered by kappa / sqrt(N(s,a)) (N = kRamdpUnseenCount
/// for unseen pairs), solved exactly by policy iteration. kappa >= 0; kappa = 0 is basic RL.
ImprovedPolicy ramdp(const MaximumLikelihoodModel& model, double kappa);

/// Options of pessimistic value iteration (VI-LCB).
struct VilcbOptions {
  /// Bonus constant c of b(s,a) = c V_max / sqrt(N(s,a)). Default 0.01: with gamma = 0.95 and
  /// rewards in [0, 1] (V_max = 20) a pair seen 4 times loses 0.1, about the return gap between
  /// SPIBB's baselines and pi* (docs/tabular_study.md). c = 0 is basic RL with Q_init = V_min.
  double c = 0.01;
  /// Stop when gamma / (1 - gamma) * ||V_{k+1} - V_k||_inf <= tolerance.
  double tolerance = 1e-10;
  int max_iterations = 1000000;
};

/// The reward range VI-LCB uses: r_min / r_max over the rewards recorded in B and 0 (the value
/// of terminal states); V_min = r_min / (1 - gamma), V_max = max(|r_min|, |r_max|) / (1 - gamma).
struct RewardRange {
  double r_min = 0.0;
  double r_max = 0.0;
  double v_min = 0.0;
  double v_max = 0.0;
};
RewardRange reward_range(const MaximumLikelihoodModel& model);

/// VI-LCB: Q(s,a) = max(V_min, sum_s' p_B(s'|s,a) (r_B(s,a,s') + gamma V(s')) - b(s,a)) for
/// seen pairs, Q(s,a) = V_min for unseen pairs, V(s) = max_a Q(s,a); greedy policy (lowest index
/// among ties). The clip at V_min keeps the iterate inside the value range (Rashidinejad et al.
/// clip at 0 with rewards in [0, 1]); it never binds when c = 0.
ImprovedPolicy vi_lcb(const MaximumLikelihoodModel& model, const VilcbOptions& options = {});

/// Value of `pi` (S x A over M's states) in M_B: Q^pi_B restricted to M's states, by exact
/// policy evaluation (evaluate_policy_dense).
QTable q_in_batch_mdp(const MaximumLikelihoodModel& model, const Policy& pi);

}  // namespace bcq::bcql
