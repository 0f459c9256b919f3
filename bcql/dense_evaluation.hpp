// Exact policy evaluation for small MDPs by a dense LU factorisation (Eigen::PartialPivLU):
// the fast path of the safe-policy-improvement algorithms and the tabular study, where one run
// evaluates dozens of policies of a 50-state MDP. Same equations as bcq::evaluate_policy
// (a sparse solve), which the tests use as the independent reference.
#pragma once

#include <vector>

#include "mdp/finite_mdp.hpp"

namespace bcq::bcql {

/// V^pi and Q^pi of `pi` in `mdp`: (I - gamma P^pi) V = r^pi with V = 0 at terminal states,
/// then Q(s,a) = sum_s' p(s'|s,a) (r(s,a,s') + gamma V(s')). O(S^3); meant for S up to a few
/// hundred. Throws InputError when pi's shape does not match.
struct DensePolicyValue {
  std::vector<double> V;
  QTable Q;
};
DensePolicyValue evaluate_policy_dense(const FiniteMdp& mdp, const Policy& pi);

/// rho(pi) = sum_s d_0(s) V^pi(s) from the dense evaluation.
double expected_return_dense(const FiniteMdp& mdp, const Policy& pi);

/// The normalised discounted state-visitation distribution mu_pi of bcql::discounted_visitation
/// (terminal states absorbing, mu sums to 1), by a dense solve.
std::vector<double> discounted_visitation_dense(const FiniteMdp& mdp, const Policy& pi);

}  // namespace bcq::bcql
