// Batch-constrained value iteration and policy iteration in an MDP (normally the true M):
// the optimal batch-constrained policy pi* of Theorem 4 and its value Q^{pi*}.
//
// The MDP is solved with the action set of each state restricted to `allowed` (see
// allowed_actions(): in-batch actions where s is in B, all actions where s is outside B and
// non-terminal, none at terminal states):
//   Q(s,a) = sum_s' p(s'|s,a) (r(s,a,s') + gamma max_{a' in allowed(s')} Q(s',a'))  for all (s,a).
// pi*(s) = argmax_{a in allowed(s)} Q(s,a) (lowest index among ties within 1e-12). Q is the
// value of pi* in the given MDP (Q^{pi*}), defined for every (s,a), in or out of B.
// Run on M_B itself with allowed_actions(M_B, counts), the fixed point equals the synchronous
// BCQL fixed point on B (an independent reference); run on M with a deterministic MDP and a
// coherent batch it equals it on every (s,a) in B (Theorem 4 with Theorem 2).
#pragma once

#include <vector>

#include "bcql/prepared_batch.hpp"
#include "mdp/finite_mdp.hpp"

namespace bcq::bcql {

struct BatchConstrainedSolution {
  QTable Q;                    ///< Q^{pi*}(s,a), S x A
  std::vector<double> V;       ///< V^{pi*}(s) = max over allowed(s); 0 at terminal states
  std::vector<int> actions;    ///< pi*(s); 0 at terminal states
  Policy policy;               ///< pi* as a deterministic Policy
  int iterations = 0;          ///< sweeps (VI) or improvement steps (PI)
  bool converged = false;
  double error_bound = 0.0;    ///< certified bound on ||V - V^{pi*}||_inf (VI); residual bound (PI)
};

/// Value iteration over the restricted action sets. Stops when
/// gamma / (1 - gamma) * ||V_{k+1} - V_k||_inf <= tol. `allowed` must match mdp's states and
/// actions; a non-terminal state with an empty set throws InputError.
/// Test-only seam: `test_ignore_constraint` uses all actions everywhere (plain VI).
BatchConstrainedSolution batch_constrained_value_iteration(const FiniteMdp& mdp,
                                                           const ActionSets& allowed,
                                                           double tol = 1e-11,
                                                           int max_iterations = 1000000,
                                                           bool test_ignore_constraint = false);

/// Policy iteration over the same restricted action sets: exact evaluation with
/// bcq::evaluate_policy, greedy improvement within allowed(s) switching only for a gain above
/// 1e-12 (no cycling on ties). An independent reference for the value iteration above.
BatchConstrainedSolution batch_constrained_policy_iteration(const FiniteMdp& mdp,
                                                            const ActionSets& allowed,
                                                            int max_iterations = 10000);

}  // namespace bcq::bcql
