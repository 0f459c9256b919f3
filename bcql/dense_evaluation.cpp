#include "bcql/dense_evaluation.hpp"

#include <Eigen/Dense>

#include <algorithm>

#include "common/error.hpp"

namespace bcq::bcql {
namespace {

void check_shape(const FiniteMdp& mdp, const Policy& pi) {
  if (pi.num_states != mdp.num_states() || pi.num_actions != mdp.num_actions() ||
      pi.probs.size() != static_cast<size_t>(pi.num_states) * static_cast<size_t>(pi.num_actions))
    throw InputError("policy shape does not match the MDP (" + std::to_string(mdp.num_states()) +
                     " x " + std::to_string(mdp.num_actions()) + ")");
}

// I - gamma P^pi; with `absorbing`, terminal states loop on themselves (visitation), otherwise
// their rows are the identity (V = 0 there).
Eigen::MatrixXd system_matrix(const FiniteMdp& mdp, const Policy& pi, bool absorbing) {
  const int S = mdp.num_states();
  Eigen::MatrixXd m = Eigen::MatrixXd::Identity(S, S);
  for (int s = 0; s < S; ++s) {
    if (mdp.is_terminal(s)) {
      if (absorbing) m(s, s) -= mdp.gamma();
      continue;
    }
    for (int a = 0; a < mdp.num_actions(); ++a) {
      const double w = pi(s, a);
      if (w == 0.0) continue;
      for (const Outcome& o : mdp.outcomes(s, a)) m(s, o.next) -= mdp.gamma() * w * o.p;
    }
  }
  return m;
}

}  // namespace

DensePolicyValue evaluate_policy_dense(const FiniteMdp& mdp, const Policy& pi) {
  check_shape(mdp, pi);
  const int S = mdp.num_states();
  const int A = mdp.num_actions();
  Eigen::VectorXd r = Eigen::VectorXd::Zero(S);
  for (int s = 0; s < S; ++s) {
    if (mdp.is_terminal(s)) continue;
    for (int a = 0; a < A; ++a) {
      const double w = pi(s, a);
      if (w == 0.0) continue;
      for (const Outcome& o : mdp.outcomes(s, a)) r(s) += w * o.p * o.r;
    }
  }
  const Eigen::VectorXd v = system_matrix(mdp, pi, false).partialPivLu().solve(r);
  DensePolicyValue out;
  out.V.assign(v.data(), v.data() + S);
  out.Q = QTable(S, A, 0.0);
  for (int s = 0; s < S; ++s) {
    if (mdp.is_terminal(s)) continue;
    for (int a = 0; a < A; ++a) {
      double q = 0.0;
      for (const Outcome& o : mdp.outcomes(s, a)) q += o.p * (o.r + mdp.gamma() * v(o.next));
      out.Q.at(s, a) = q;
    }
  }
  return out;
}

double expected_return_dense(const FiniteMdp& mdp, const Policy& pi) {
  const std::vector<double> V = evaluate_policy_dense(mdp, pi).V;
  double rho = 0.0;
  for (int s = 0; s < mdp.num_states(); ++s) rho += mdp.initial()[static_cast<size_t>(s)] * V[static_cast<size_t>(s)];
  return rho;
}

std::vector<double> discounted_visitation_dense(const FiniteMdp& mdp, const Policy& pi) {
  check_shape(mdp, pi);
  const int S = mdp.num_states();
  // mu^T (I - gamma P^pi) = (1 - gamma) d_0^T.
  Eigen::VectorXd rhs(S);
  for (int s = 0; s < S; ++s) rhs(s) = (1.0 - mdp.gamma()) * mdp.initial()[static_cast<size_t>(s)];
  const Eigen::MatrixXd mt = system_matrix(mdp, pi, true).transpose();
  const Eigen::VectorXd mu = mt.partialPivLu().solve(rhs);
  std::vector<double> out(static_cast<size_t>(S));
  for (int s = 0; s < S; ++s) out[static_cast<size_t>(s)] = std::max(0.0, mu(s));
  return out;
}

}  // namespace bcq::bcql
