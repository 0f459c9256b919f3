#include "bcql/batch_constrained_vi.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "common/error.hpp"
#include "mdp/solve.hpp"

namespace bcq::bcql {
namespace {

void check_sets(const FiniteMdp& mdp, const ActionSets& allowed) {
  if (allowed.num_states != mdp.num_states() || allowed.num_actions != mdp.num_actions() ||
      allowed.offsets.size() != static_cast<size_t>(mdp.num_states()) + 1) {
    throw InputError("batch-constrained solve: action sets are " +
                     std::to_string(allowed.num_states) + " x " +
                     std::to_string(allowed.num_actions) + " but the MDP is " +
                     std::to_string(mdp.num_states()) + " x " + std::to_string(mdp.num_actions()));
  }
  for (int s = 0; s < mdp.num_states(); ++s) {
    if (!mdp.is_terminal(s) && allowed.size(s) == 0)
      throw InputError("batch-constrained solve: non-terminal state " + std::to_string(s) +
                       " has no allowed action");
    for (const int32_t* a = allowed.begin(s); a != allowed.end(s); ++a)
      if (*a < 0 || *a >= mdp.num_actions())
        throw InputError("batch-constrained solve: action " + std::to_string(*a) +
                         " out of range in state " + std::to_string(s));
  }
}

// One-step lookahead Q(s,a) = sum_s' p(s'|s,a) (r + gamma V(s')) for every (s,a).
QTable lookahead(const FiniteMdp& mdp, const std::vector<double>& V) {
  QTable Q(mdp.num_states(), mdp.num_actions(), 0.0);
  for (int s = 0; s < mdp.num_states(); ++s) {
    if (mdp.is_terminal(s)) continue;
    for (int a = 0; a < mdp.num_actions(); ++a) {
      double q = 0.0;
      for (const Outcome& o : mdp.outcomes(s, a))
        q += o.p * (o.r + mdp.gamma() * V[static_cast<size_t>(o.next)]);
      Q.at(s, a) = q;
    }
  }
  return Q;
}

// argmax over allowed(s), lowest index among ties within 1e-12.
int best_allowed(const QTable& Q, const ActionSets& allowed, int s) {
  int best = -1;
  for (const int32_t* it = allowed.begin(s); it != allowed.end(s); ++it)
    if (best < 0 || Q(s, *it) > Q(s, best) + 1e-12) best = *it;
  return best < 0 ? 0 : best;
}

void finish(const FiniteMdp& mdp, const ActionSets& allowed, BatchConstrainedSolution& sol) {
  const int S = mdp.num_states();
  sol.actions.assign(static_cast<size_t>(S), 0);
  sol.V.assign(static_cast<size_t>(S), 0.0);
  for (int s = 0; s < S; ++s) {
    if (mdp.is_terminal(s)) continue;
    const int a = best_allowed(sol.Q, allowed, s);
    sol.actions[static_cast<size_t>(s)] = a;
    sol.V[static_cast<size_t>(s)] = sol.Q(s, a);
  }
  sol.policy.num_states = S;
  sol.policy.num_actions = mdp.num_actions();
  sol.policy.probs.assign(static_cast<size_t>(S) * static_cast<size_t>(mdp.num_actions()), 0.0);
  for (int s = 0; s < S; ++s) sol.policy.at(s, sol.actions[static_cast<size_t>(s)]) = 1.0;
}

}  // namespace

BatchConstrainedSolution batch_constrained_value_iteration(const FiniteMdp& mdp,
                                                           const ActionSets& allowed_in,
                                                           double tol, int max_iterations,
                                                           bool test_ignore_constraint) {
  const ActionSets allowed = test_ignore_constraint ? all_actions(mdp) : allowed_in;
  check_sets(mdp, allowed);
  if (!(tol > 0.0)) throw InputError("batch-constrained VI: tolerance must be > 0");
  const int S = mdp.num_states();
  const double gamma = mdp.gamma();
  const double factor = gamma / (1.0 - gamma);
  std::vector<double> V(static_cast<size_t>(S), 0.0), next(V);
  BatchConstrainedSolution sol;
  sol.error_bound = std::numeric_limits<double>::infinity();
  for (int k = 0; k < max_iterations; ++k) {
    double change = 0.0;
    for (int s = 0; s < S; ++s) {
      if (mdp.is_terminal(s)) continue;
      double best = -std::numeric_limits<double>::infinity();
      // Restricted Bellman optimality: max over a in allowed(s) only.
      for (const int32_t* it = allowed.begin(s); it != allowed.end(s); ++it) {
        double q = 0.0;
        for (const Outcome& o : mdp.outcomes(s, *it))
          q += o.p * (o.r + gamma * V[static_cast<size_t>(o.next)]);
        best = std::max(best, q);
      }
      next[static_cast<size_t>(s)] = best;
      change = std::max(change, std::fabs(best - V[static_cast<size_t>(s)]));
    }
    V.swap(next);
    ++sol.iterations;
    sol.error_bound = factor * change;
    if (sol.error_bound <= tol) {
      sol.converged = true;
      break;
    }
  }
  sol.Q = lookahead(mdp, V);
  finish(mdp, allowed, sol);
  return sol;
}

BatchConstrainedSolution batch_constrained_policy_iteration(const FiniteMdp& mdp,
                                                            const ActionSets& allowed,
                                                            int max_iterations) {
  check_sets(mdp, allowed);
  const int S = mdp.num_states();
  const int A = mdp.num_actions();
  std::vector<int> actions(static_cast<size_t>(S), 0);
  for (int s = 0; s < S; ++s)
    if (!mdp.is_terminal(s)) actions[static_cast<size_t>(s)] = *allowed.begin(s);
  BatchConstrainedSolution sol;
  for (int k = 0; k < max_iterations; ++k) {
    Policy pi;
    pi.num_states = S;
    pi.num_actions = A;
    pi.probs.assign(static_cast<size_t>(S) * static_cast<size_t>(A), 0.0);
    for (int s = 0; s < S; ++s) pi.at(s, actions[static_cast<size_t>(s)]) = 1.0;
    const ValueResult eval = evaluate_policy(mdp, pi);
    sol.Q = eval.Q;
    sol.error_bound = eval.error_bound;
    ++sol.iterations;
    bool changed = false;
    for (int s = 0; s < S; ++s) {
      if (mdp.is_terminal(s)) continue;
      const int current = actions[static_cast<size_t>(s)];
      const int best = best_allowed(eval.Q, allowed, s);
      // Switch only for a real gain, so ties cannot make it cycle.
      if (eval.Q(s, best) > eval.Q(s, current) + 1e-12) {
        actions[static_cast<size_t>(s)] = best;
        changed = true;
      }
    }
    if (!changed) {
      sol.converged = true;
      break;
    }
  }
  finish(mdp, allowed, sol);
  return sol;
}

}  // namespace bcq::bcql
