// Exact solvers on a FiniteMdp: policy evaluation by a sparse linear solve (Eigen), value
// iteration with an error-bounding stopping rule, and policy iteration (docs/theory.md, "How to
// check them": three independent references for the same values).
#pragma once

#include <vector>

#include "mdp/finite_mdp.hpp"

namespace bcq {

/// V and Q of one policy or of the optimum. V and Q are 0 at terminal states.
struct ValueResult {
  std::vector<double> V;
  QTable Q;
  int iterations = 0;        ///< sweeps (VI), improvement steps (PI), solver iterations
  bool converged = true;     ///< "did it converge" is a value, not an exception
  double error_bound = 0.0;  ///< certified bound on max |V - V_true| (inf-norm)
};

enum class LinearSolver {
  kAuto,       ///< sparse LU up to 2,000 states, BiCGSTAB above
  kSparseLU,   ///< direct factorisation (Eigen::SparseLU)
  kBiCGSTAB,   ///< Krylov iteration, residual driven to 1e-13 relative
};

/// Q^pi and V^pi by solving (I - gamma P^pi) V = r^pi over all states. The error bound is
/// ||residual||_inf / (1 - gamma), which bounds ||V - V^pi||_inf because
/// ||(I - gamma P^pi)^{-1}||_inf <= 1 / (1 - gamma).
ValueResult evaluate_policy(const FiniteMdp& mdp, const Policy& policy,
                            LinearSolver solver = LinearSolver::kAuto);

/// Q* and V* by value iteration. Stops when gamma/(1-gamma) * ||V_{k+1} - V_k||_inf <= tol,
/// which bounds ||V_{k+1} - V*||_inf by tol; error_bound reports that bound.
ValueResult value_iteration(const FiniteMdp& mdp, double tol = 1e-10, int max_iterations = 1000000);

/// Q* and V* by policy iteration (exact evaluation, greedy improvement that switches action
/// only for a gain above 1e-12 so it cannot cycle on ties).
ValueResult policy_iteration(const FiniteMdp& mdp, int max_iterations = 10000);

/// Deterministic greedy policy of Q (lowest action index among ties within `tie_tol`).
/// Terminal states get action 0.
std::vector<int> greedy_actions(const FiniteMdp& mdp, const QTable& Q, double tie_tol = 1e-12);

/// One-step lookahead: Q(s,a) = sum_s' p(s'|s,a) (r + gamma V(s')).
QTable q_from_v(const FiniteMdp& mdp, const std::vector<double>& V);

}  // namespace bcq
