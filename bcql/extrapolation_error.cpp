#include "bcql/extrapolation_error.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include <Eigen/SparseCore>
#include <Eigen/SparseLU>

#include "bcql/prepared_batch.hpp"
#include "common/error.hpp"
#include "mdp/analysis.hpp"
#include "mdp/batch_mdp.hpp"
#include "mdp/solve.hpp"

namespace bcq::bcql {
namespace {

using SparseMatrix = Eigen::SparseMatrix<double>;

// pi over the states of `mdp` (which may have extra states, e.g. s_init): rows beyond pi's are
// uniform; they belong to terminal states and are ignored.
Policy extend_policy(const Policy& pi, int num_states) {
  Policy out;
  out.num_states = num_states;
  out.num_actions = pi.num_actions;
  out.probs.assign(static_cast<size_t>(num_states) * static_cast<size_t>(pi.num_actions),
                   1.0 / pi.num_actions);
  std::copy(pi.probs.begin(), pi.probs.end(), out.probs.begin());
  return out;
}

// I - gamma P^pi over the states of `mdp`; a terminal row is the identity row (value 0), or
// with `absorbing_terminals` a self-loop row (1 - gamma), as the visitation needs.
SparseMatrix system_matrix(const FiniteMdp& mdp, const Policy& pi, bool absorbing_terminals) {
  const int S = mdp.num_states();
  std::vector<Eigen::Triplet<double>> entries;
  entries.reserve(mdp.num_outcomes() + static_cast<size_t>(S));
  for (int s = 0; s < S; ++s) {
    if (mdp.is_terminal(s)) {
      entries.emplace_back(s, s, absorbing_terminals ? 1.0 - mdp.gamma() : 1.0);
      continue;
    }
    entries.emplace_back(s, s, 1.0);
    for (int a = 0; a < mdp.num_actions(); ++a) {
      const double w = pi(s, a);
      if (w == 0.0) continue;
      for (const Outcome& o : mdp.outcomes(s, a))
        entries.emplace_back(s, o.next, -mdp.gamma() * w * o.p);
    }
  }
  SparseMatrix m(S, S);
  m.setFromTriplets(entries.begin(), entries.end());  // duplicates are summed
  m.makeCompressed();
  return m;
}

Eigen::VectorXd solve(const SparseMatrix& m, const Eigen::VectorXd& rhs, const char* what) {
  Eigen::SparseLU<SparseMatrix> lu;
  lu.compute(m);
  if (lu.info() != Eigen::Success)
    throw InputError(std::string(what) + ": sparse LU factorisation failed");
  Eigen::VectorXd x = lu.solve(rhs);
  if (lu.info() != Eigen::Success) throw InputError(std::string(what) + ": sparse LU solve failed");
  return x;
}

double state_value(const QTable& q, const Policy& pi, int s) {
  double v = 0.0;
  for (int a = 0; a < pi.num_actions; ++a) v += pi(s, a) * q(s, a);
  return v;
}

}  // namespace

QTable extrapolation_error_direct(const FiniteMdp& mdp, const FiniteMdp& batch_mdp,
                                  const Policy& pi) {
  const int S = mdp.num_states();
  const int A = mdp.num_actions();
  const QTable q_pi = evaluate_policy(mdp, pi).Q;
  const QTable q_pi_b = evaluate_policy(batch_mdp, extend_policy(pi, batch_mdp.num_states())).Q;
  QTable eps(S, A, 0.0);
  for (int s = 0; s < S; ++s)
    for (int a = 0; a < A; ++a) eps.at(s, a) = q_pi(s, a) - q_pi_b(s, a);  // Eq. 3
  return eps;
}

QTable extrapolation_error_remark1(const FiniteMdp& mdp, const FiniteMdp& batch_mdp,
                                   const Policy& pi, const QTable& q_pi_batch,
                                   bool test_propagate_with_p_b) {
  const int S = mdp.num_states();
  const int A = mdp.num_actions();
  const int SB = batch_mdp.num_states();
  if (SB != S + 1 || batch_mdp.num_actions() != A)
    throw InputError("extrapolation_error_remark1: M_B must have |S| + 1 states and |A| actions");
  if (q_pi_batch.num_actions != A || q_pi_batch.num_states < S)
    throw InputError("extrapolation_error_remark1: Q^pi_B has the wrong shape");
  const Policy pi_b = extend_policy(pi, SB);
  // V^pi_B over S plus s_init (0 at s_init and at terminal states).
  std::vector<double> v_b(static_cast<size_t>(SB), 0.0);
  for (int s = 0; s < S; ++s)
    if (!mdp.is_terminal(s)) v_b[static_cast<size_t>(s)] = state_value(q_pi_batch, pi, s);
  const double gamma = mdp.gamma();

  // Eq. 16, first sum: b(s,a) = sum_s' (p_M r_M - p_B r_B) + gamma sum_s' (p_M - p_B) V^pi_B(s').
  QTable b(S, A, 0.0);
  for (int s = 0; s < S; ++s) {
    if (mdp.is_terminal(s)) continue;
    for (int a = 0; a < A; ++a) {
      double under_m = 0.0, under_b = 0.0;
      for (const Outcome& o : mdp.outcomes(s, a))
        under_m += o.p * (o.r + gamma * v_b[static_cast<size_t>(o.next)]);
      for (const Outcome& o : batch_mdp.outcomes(s, a))
        under_b += o.p * (o.r + gamma * v_b[static_cast<size_t>(o.next)]);
      b.at(s, a) = under_m - under_b;
    }
  }
  // Eq. 16, second sum: eps(s,a) = b(s,a) + gamma sum_s' p_M(s'|s,a) e(s'), e(s') = sum_a' pi eps.
  // At state level: (I - gamma P^pi_M) e = b^pi. (Seam: propagate with p_B instead.)
  const FiniteMdp& propagate = test_propagate_with_p_b ? batch_mdp : mdp;
  const int SP = propagate.num_states();
  Eigen::VectorXd rhs = Eigen::VectorXd::Zero(SP);
  for (int s = 0; s < S; ++s)
    if (!mdp.is_terminal(s)) rhs(s) = state_value(b, pi, s);
  const Eigen::VectorXd e =
      solve(system_matrix(propagate, pi_b, false), rhs, "extrapolation error (Remark 1)");
  QTable eps(S, A, 0.0);
  for (int s = 0; s < S; ++s) {
    if (mdp.is_terminal(s)) continue;
    for (int a = 0; a < A; ++a) {
      double next = 0.0;
      for (const Outcome& o : propagate.outcomes(s, a)) next += o.p * e(o.next);
      eps.at(s, a) = b(s, a) + gamma * next;
    }
  }
  return eps;
}

std::vector<double> discounted_visitation(const FiniteMdp& mdp, const Policy& pi) {
  const int S = mdp.num_states();
  // mu^T (I - gamma P^pi) = (1 - gamma) d_0^T, terminal states absorbing.
  const SparseMatrix m = system_matrix(mdp, pi, true);
  Eigen::VectorXd rhs(S);
  for (int s = 0; s < S; ++s) rhs(s) = (1.0 - mdp.gamma()) * mdp.initial()[static_cast<size_t>(s)];
  const SparseMatrix mt = m.transpose();
  const Eigen::VectorXd mu = solve(mt, rhs, "discounted visitation");
  std::vector<double> out(static_cast<size_t>(S));
  for (int s = 0; s < S; ++s) out[static_cast<size_t>(s)] = std::max(0.0, mu(s));
  return out;
}

double eps_pi_mdp(const QTable& eps, const Policy& pi, const std::vector<double>& mu) {
  double total = 0.0;  // Eq. 5
  for (int s = 0; s < eps.num_states; ++s) {
    double inner = 0.0;
    for (int a = 0; a < eps.num_actions; ++a) inner += pi(s, a) * std::fabs(eps(s, a));
    total += mu[static_cast<size_t>(s)] * inner;
  }
  return total;
}

ExtrapolationError extrapolation_error(const FiniteMdp& mdp, const Batch& batch, const Policy& pi,
                                       const ExtrapolationOptions& options) {
  const int S = mdp.num_states();
  const int A = mdp.num_actions();
  pi.validate(S, A, "policy");
  const QTable q_init = resolve_q_init(mdp, options.q_init_table, options.q_init);
  const FiniteMdp mb = batch_mdp(mdp, batch, q_init, options.batch_source);  // validates B
  const BatchCounts counts = count_batch(batch, S, A);

  ExtrapolationError out;
  out.q_pi = evaluate_policy(mdp, pi).Q;
  const QTable q_b_full = evaluate_policy(mb, extend_policy(pi, mb.num_states())).Q;
  out.q_pi_batch = QTable(S, A, 0.0);
  out.direct = QTable(S, A, 0.0);
  for (int s = 0; s < S; ++s)
    for (int a = 0; a < A; ++a) {
      out.q_pi_batch.at(s, a) = q_b_full(s, a);
      out.direct.at(s, a) = out.q_pi(s, a) - q_b_full(s, a);  // Eq. 3
    }
  out.remark1 = extrapolation_error_remark1(mdp, mb, pi, out.q_pi_batch,
                                            options.test_propagate_with_p_b);
  out.max_difference = max_abs_difference(out.direct, out.remark1);
  out.visitation = discounted_visitation(mdp, pi);
  out.reachable = reachable_states(mdp, pi);
  out.eps_pi_mdp = eps_pi_mdp(out.direct, pi, out.visitation);
  out.eps_pi_mdp_remark1 = eps_pi_mdp(out.remark1, pi, out.visitation);

  for (int s = 0; s < S; ++s) {
    if (mdp.is_terminal(s) || !out.reachable[static_cast<size_t>(s)]) continue;
    for (int a = 0; a < A; ++a) {
      if (!(pi(s, a) > 0.0)) continue;
      RelevantPair r;
      r.s = s;
      r.a = a;
      r.mu = out.visitation[static_cast<size_t>(s)];
      r.pi = pi(s, a);
      r.in_batch = counts.contains(s, a);
      r.eps = out.direct(s, a);
      // sum_s' |p_B - p_M| over S plus s_init, from M_B's outcomes and M's.
      std::vector<double> diff(static_cast<size_t>(S) + 1, 0.0);
      for (const Outcome& o : mdp.outcomes(s, a)) diff[static_cast<size_t>(o.next)] += o.p;
      for (const Outcome& o : mb.outcomes(s, a)) diff[static_cast<size_t>(o.next)] -= o.p;
      double largest = 0.0;
      for (double d : diff) {
        r.p_distance += std::fabs(d);
        largest = std::max(largest, std::fabs(d));
      }
      r.breaks_lemma1 = !r.in_batch || largest > options.p_tolerance;
      out.relevant.push_back(r);
      if (r.breaks_lemma1) out.lemma1_violations.push_back(r);
    }
  }
  return out;
}

}  // namespace bcq::bcql
