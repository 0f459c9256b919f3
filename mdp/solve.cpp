#include "mdp/solve.hpp"

#include <algorithm>
#include <cmath>

#include <Eigen/IterativeLinearSolvers>
#include <Eigen/SparseCore>
#include <Eigen/SparseLU>

namespace bcq {
namespace {

using SparseMatrix = Eigen::SparseMatrix<double>;

// Assembles (I - gamma P^pi) and r^pi over all states; terminal rows are the identity with
// right-hand side 0 (absorbing, value 0).
void assemble(const FiniteMdp& mdp, const Policy& pi, SparseMatrix& A, Eigen::VectorXd& b) {
  const int S = mdp.num_states();
  const double gamma = mdp.gamma();
  std::vector<Eigen::Triplet<double>> entries;
  entries.reserve(mdp.num_outcomes() + static_cast<size_t>(S));
  b.setZero(S);
  for (int s = 0; s < S; ++s) {
    entries.emplace_back(s, s, 1.0);
    if (mdp.is_terminal(s)) continue;
    double rhs = 0.0;
    for (int a = 0; a < mdp.num_actions(); ++a) {
      double w = pi(s, a);
      if (w == 0.0) continue;
      for (const Outcome& o : mdp.outcomes(s, a)) {
        rhs += w * o.p * o.r;
        if (!mdp.is_terminal(o.next)) entries.emplace_back(s, o.next, -gamma * w * o.p);
      }
    }
    b[s] = rhs;
  }
  A.resize(S, S);
  A.setFromTriplets(entries.begin(), entries.end());  // sums duplicates (s' = s, several a)
  A.makeCompressed();
}

double inf_norm(const Eigen::VectorXd& v) { return v.size() ? v.cwiseAbs().maxCoeff() : 0.0; }

}  // namespace

QTable q_from_v(const FiniteMdp& mdp, const std::vector<double>& V) {
  QTable Q(mdp.num_states(), mdp.num_actions());
  const double gamma = mdp.gamma();
  for (int s = 0; s < mdp.num_states(); ++s) {
    if (mdp.is_terminal(s)) continue;
    for (int a = 0; a < mdp.num_actions(); ++a) {
      double q = 0.0;
      for (const Outcome& o : mdp.outcomes(s, a)) q += o.p * (o.r + gamma * V[static_cast<size_t>(o.next)]);
      Q.at(s, a) = q;
    }
  }
  return Q;
}

ValueResult evaluate_policy(const FiniteMdp& mdp, const Policy& policy, LinearSolver solver) {
  policy.validate(mdp.num_states(), mdp.num_actions(), "policy");
  const int S = mdp.num_states();
  SparseMatrix A;
  Eigen::VectorXd b;
  assemble(mdp, policy, A, b);
  if (solver == LinearSolver::kAuto) solver = S <= 500 ? LinearSolver::kSparseLU : LinearSolver::kBiCGSTAB;

  ValueResult result;
  Eigen::VectorXd x;
  if (solver == LinearSolver::kSparseLU) {
    Eigen::SparseLU<SparseMatrix, Eigen::COLAMDOrdering<int>> lu;
    lu.compute(A);
    result.converged = lu.info() == Eigen::Success;
    x = result.converged ? Eigen::VectorXd(lu.solve(b)) : Eigen::VectorXd::Zero(S);
    result.iterations = 1;
  } else {
    Eigen::BiCGSTAB<SparseMatrix, Eigen::DiagonalPreconditioner<double>> krylov;
    krylov.setTolerance(1e-14);
    krylov.setMaxIterations(std::max(1000, 10 * S));
    krylov.compute(A);
    x = krylov.solve(b);
    result.iterations = static_cast<int>(krylov.iterations());
    // Refine from the last iterate if the Krylov solve stalled.
    for (int refine = 0; refine < 3 && krylov.info() != Eigen::Success; ++refine) {
      x = krylov.solveWithGuess(b, x);
      result.iterations += static_cast<int>(krylov.iterations());
    }
    result.converged = krylov.info() == Eigen::Success;
  }
  // Certified bound: ||x - V^pi||_inf <= ||b - A x||_inf / (1 - gamma).
  Eigen::VectorXd residual = b - A * x;
  result.error_bound = inf_norm(residual) / (1.0 - mdp.gamma());
  if (!std::isfinite(result.error_bound)) result.converged = false;

  result.V.assign(x.data(), x.data() + S);
  for (int s = 0; s < S; ++s)
    if (mdp.is_terminal(s)) result.V[static_cast<size_t>(s)] = 0.0;
  result.Q = q_from_v(mdp, result.V);
  return result;
}

ValueResult value_iteration(const FiniteMdp& mdp, double tol, int max_iterations) {
  const int S = mdp.num_states();
  const int A = mdp.num_actions();
  const double gamma = mdp.gamma();
  std::vector<double> V(static_cast<size_t>(S), 0.0), next(static_cast<size_t>(S), 0.0);
  ValueResult result;
  result.converged = false;
  for (int k = 1; k <= max_iterations; ++k) {
    double change = 0.0;
    for (int s = 0; s < S; ++s) {
      if (mdp.is_terminal(s)) continue;
      double best = -INFINITY;
      for (int a = 0; a < A; ++a) {
        double q = 0.0;
        for (const Outcome& o : mdp.outcomes(s, a)) q += o.p * (o.r + gamma * V[static_cast<size_t>(o.next)]);
        best = std::max(best, q);
      }
      next[static_cast<size_t>(s)] = best;
      change = std::max(change, std::abs(best - V[static_cast<size_t>(s)]));
    }
    V.swap(next);
    result.iterations = k;
    // ||V_k - V*|| <= gamma / (1 - gamma) ||V_k - V_{k-1}||.
    result.error_bound = gamma / (1.0 - gamma) * change;
    if (result.error_bound <= tol) {
      result.converged = true;
      break;
    }
  }
  result.V = V;
  result.Q = q_from_v(mdp, V);
  return result;
}

std::vector<int> greedy_actions(const FiniteMdp& mdp, const QTable& Q, double tie_tol) {
  std::vector<int> actions(static_cast<size_t>(mdp.num_states()), 0);
  for (int s = 0; s < mdp.num_states(); ++s) {
    if (mdp.is_terminal(s)) continue;
    int best = 0;
    for (int a = 1; a < mdp.num_actions(); ++a)
      if (Q(s, a) > Q(s, best) + tie_tol) best = a;
    actions[static_cast<size_t>(s)] = best;
  }
  return actions;
}

ValueResult policy_iteration(const FiniteMdp& mdp, int max_iterations) {
  const int S = mdp.num_states();
  std::vector<int> actions(static_cast<size_t>(S), 0);
  ValueResult result;
  result.converged = false;
  for (int k = 1; k <= max_iterations; ++k) {
    ValueResult eval = evaluate_policy(mdp, Policy::deterministic(actions, mdp.num_actions()));
    bool changed = false;
    for (int s = 0; s < S; ++s) {
      if (mdp.is_terminal(s)) continue;
      int current = actions[static_cast<size_t>(s)];
      int best = current;
      for (int a = 0; a < mdp.num_actions(); ++a)
        if (eval.Q(s, a) > eval.Q(s, best) + 1e-12 * (1.0 + std::abs(eval.Q(s, best)))) best = a;
      if (best != current) {
        actions[static_cast<size_t>(s)] = best;
        changed = true;
      }
    }
    result.V = std::move(eval.V);
    result.Q = std::move(eval.Q);
    result.error_bound = eval.error_bound;
    result.iterations = k;
    if (!changed) {
      result.converged = eval.converged;
      break;
    }
  }
  return result;
}

}  // namespace bcq
