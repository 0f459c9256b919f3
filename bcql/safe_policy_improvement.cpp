#include "bcql/safe_policy_improvement.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <memory>
#include <numeric>
#include <string>

#include "bcql/dense_evaluation.hpp"
#include "common/error.hpp"
#include "mdp/solve.hpp"

namespace bcq::bcql {
namespace {

// A policy over M's S states extended to M_B's S+1 states (s_init is terminal: its row is
// ignored, uniform keeps it a valid distribution).
Policy extend_to_batch_mdp(const Policy& pi) {
  Policy out = pi;
  out.num_states = pi.num_states + 1;
  out.probs.resize(static_cast<size_t>(out.num_states) * static_cast<size_t>(pi.num_actions),
                   1.0 / pi.num_actions);
  return out;
}

QTable first_states(const QTable& q, int S) {
  QTable out(S, q.num_actions);
  std::copy(q.values.begin(), q.values.begin() + static_cast<long>(out.values.size()),
            out.values.begin());
  return out;
}

std::vector<double> first_states(const std::vector<double>& v, int S) {
  return std::vector<double>(v.begin(), v.begin() + S);
}

// Exact solution of an MDP with S+1 states (M_B or a reward-shifted copy) as an ImprovedPolicy
// over the first S states: policy iteration, greedy deterministic policy.
ImprovedPolicy solve_exactly(const FiniteMdp& mdp, int S) {
  const ValueResult r = policy_iteration(mdp);
  ImprovedPolicy out;
  std::vector<int> actions = greedy_actions(mdp, r.Q);
  actions.resize(static_cast<size_t>(S));
  out.policy = Policy::deterministic(actions, mdp.num_actions());
  out.Q = first_states(r.Q, S);
  out.V = first_states(r.V, S);
  out.iterations = r.iterations;
  out.converged = r.converged;
  return out;
}

// Greedy step of one state: writes the candidate row pi'(.|s) from Q(s,.), pi_b(.|s) and the
// bootstrapped mask of s.
using GreedyStep = std::function<void(const double* q, const double* pi_b, const bool* bootstrapped,
                                      int A, double* row)>;

// Policy iteration in M_B over a constrained policy class (SPIBB): start at pi_b, evaluate
// exactly, apply `step` at every non-terminal state, keep the old row unless the new one gains
// more than 1e-12 in the one-step lookahead (no cycling on ties). A changed row strictly raises
// that state's value, so the loop ends when no row changes.
ImprovedPolicy constrained_policy_iteration(const MaximumLikelihoodModel& model, const Policy& pi_b,
                                            long n_wedge, int max_iterations,
                                            const GreedyStep& step) {
  const int S = model.num_states();
  const int A = model.num_actions();
  pi_b.validate(S, A, "baseline policy");
  if (n_wedge < 0) throw InputError("N_wedge must be >= 0, got " + std::to_string(n_wedge));
  if (max_iterations < 1) throw InputError("max_iterations must be >= 1");
  const FiniteMdp& mb = model.batch_mdp;
  Policy pi = pi_b;
  std::unique_ptr<bool[]> mask(new bool[static_cast<size_t>(A)]);
  std::vector<double> row(static_cast<size_t>(A));
  ImprovedPolicy out;
  DensePolicyValue value = evaluate_policy_dense(mb, extend_to_batch_mdp(pi));
  for (;;) {
    bool changed = false;
    for (int s = 0; s < S; ++s) {
      if (mb.is_terminal(s)) continue;
      const double* q = &value.Q.values[static_cast<size_t>(s) * static_cast<size_t>(A)];
      const double* b = &pi_b.probs[static_cast<size_t>(s) * static_cast<size_t>(A)];
      for (int a = 0; a < A; ++a) mask[static_cast<size_t>(a)] = model.count(s, a) < n_wedge;
      step(q, b, mask.get(), A, row.data());
      double old_value = 0.0, new_value = 0.0;
      for (int a = 0; a < A; ++a) {
        old_value += pi(s, a) * q[a];
        new_value += row[static_cast<size_t>(a)] * q[a];
      }
      if (new_value > old_value + 1e-12) {
        for (int a = 0; a < A; ++a) pi.at(s, a) = row[static_cast<size_t>(a)];
        changed = true;
      }
    }
    if (!changed) {
      out.converged = true;
      break;
    }
    if (out.iterations >= max_iterations) break;
    ++out.iterations;
    value = evaluate_policy_dense(mb, extend_to_batch_mdp(pi));
  }
  out.policy = pi;
  out.Q = first_states(value.Q, S);
  out.V = first_states(value.V, S);
  return out;
}

}  // namespace

MaximumLikelihoodModel maximum_likelihood_model(const FiniteMdp& mdp, const Batch& batch,
                                                double q_init, const std::string& source) {
  if (!std::isfinite(q_init)) throw InputError("Q_init must be finite");
  QTable init(mdp.num_states(), mdp.num_actions(), q_init);
  for (int s = 0; s < mdp.num_states(); ++s)
    if (mdp.is_terminal(s))
      for (int a = 0; a < mdp.num_actions(); ++a) init.at(s, a) = 0.0;
  FiniteMdp mb = batch_mdp(mdp, batch, init, source);  // validates B against M
  return {std::move(mb), count_batch(batch, mdp.num_states(), mdp.num_actions()), init};
}

ImprovedPolicy basic_rl(const MaximumLikelihoodModel& model) {
  return solve_exactly(model.batch_mdp, model.num_states());
}

ImprovedPolicy pi_b_spibb(const MaximumLikelihoodModel& model, const Policy& pi_b, long n_wedge,
                          int max_iterations) {
  return constrained_policy_iteration(
      model, pi_b, n_wedge, max_iterations,
      [](const double* q, const double* b, const bool* bootstrapped, int A, double* row) {
        // pi_b on B_wedge(s); its remaining mass to the best non-bootstrapped action.
        double free_mass = 0.0;
        int best = -1;
        for (int a = 0; a < A; ++a) {
          if (bootstrapped[a]) {
            row[a] = b[a];
          } else {
            row[a] = 0.0;
            free_mass += b[a];
            if (best < 0 || q[a] > q[best]) best = a;
          }
        }
        if (best >= 0) row[best] = free_mass;
      });
}

ImprovedPolicy pi_leq_b_spibb(const MaximumLikelihoodModel& model, const Policy& pi_b,
                              long n_wedge, int max_iterations) {
  return constrained_policy_iteration(
      model, pi_b, n_wedge, max_iterations,
      [](const double* q, const double* b, const bool* bootstrapped, int A, double* row) {
        // Actions by decreasing Q (stable: lower index first among ties).
        std::vector<int> order(static_cast<size_t>(A));
        std::iota(order.begin(), order.end(), 0);
        std::stable_sort(order.begin(), order.end(), [q](int x, int y) { return q[x] > q[y]; });
        double remaining = 1.0;
        for (int a = 0; a < A; ++a) row[a] = 0.0;
        for (int a : order) {
          if (!bootstrapped[a]) {
            row[a] = remaining;
            remaining = 0.0;
            break;
          }
          const double take = std::min(b[a], remaining);
          row[a] = take;
          remaining -= take;
        }
      });
}

ImprovedPolicy ramdp(const MaximumLikelihoodModel& model, double kappa) {
  if (!(kappa >= 0.0) || !std::isfinite(kappa))
    throw InputError("RaMDP kappa must be finite and >= 0");
  MdpSpec spec = model.batch_mdp.to_spec();
  for (TransitionSpec& t : spec.transitions) {
    if (t.s >= model.num_states()) continue;
    const long n = model.count(t.s, t.a);
    const double penalty = kappa / std::sqrt(n > 0 ? static_cast<double>(n) : kRamdpUnseenCount);
    for (Outcome& o : t.outcomes) o.r -= penalty;
  }
  spec.name += "-ramdp";
  return solve_exactly(FiniteMdp::build(spec, "RaMDP model"), model.num_states());
}

RewardRange reward_range(const MaximumLikelihoodModel& model) {
  RewardRange range;
  for (const auto& outcomes : model.counts.seen)
    for (const Outcome& o : outcomes) {
      range.r_min = std::min(range.r_min, o.r);
      range.r_max = std::max(range.r_max, o.r);
    }
  const double horizon = 1.0 / (1.0 - model.batch_mdp.gamma());
  range.v_min = range.r_min * horizon;
  range.v_max = std::max(std::abs(range.r_min), std::abs(range.r_max)) * horizon;
  return range;
}

ImprovedPolicy vi_lcb(const MaximumLikelihoodModel& model, const VilcbOptions& options) {
  if (!(options.c >= 0.0) || !std::isfinite(options.c))
    throw InputError("VI-LCB constant c must be finite and >= 0");
  if (!(options.tolerance > 0.0)) throw InputError("VI-LCB tolerance must be > 0");
  const int S = model.num_states();
  const int A = model.num_actions();
  const double gamma = model.batch_mdp.gamma();
  const RewardRange range = reward_range(model);
  // Per seen pair: expected reward minus the bonus; unseen pairs sit at V_min.
  std::vector<double> base(static_cast<size_t>(S) * static_cast<size_t>(A), range.v_min);
  for (int s = 0; s < S; ++s)
    for (int a = 0; a < A; ++a) {
      const long n = model.count(s, a);
      if (n == 0) continue;
      double r = 0.0;
      for (const Outcome& o : model.counts.seen[static_cast<size_t>(s) * static_cast<size_t>(A) +
                                                static_cast<size_t>(a)])
        r += o.p * o.r;
      base[static_cast<size_t>(s) * static_cast<size_t>(A) + static_cast<size_t>(a)] =
          r - options.c * range.v_max / std::sqrt(static_cast<double>(n));
    }
  std::vector<double> V(static_cast<size_t>(S) + 1, 0.0), next(V);
  QTable Q(S, A, 0.0);
  ImprovedPolicy out;
  const double factor = gamma / (1.0 - gamma);
  for (;;) {
    double change = 0.0;
    for (int s = 0; s < S; ++s) {
      if (model.batch_mdp.is_terminal(s)) continue;
      double best = -std::numeric_limits<double>::infinity();
      for (int a = 0; a < A; ++a) {
        const size_t i = static_cast<size_t>(s) * static_cast<size_t>(A) + static_cast<size_t>(a);
        double q = range.v_min;
        if (model.count(s, a) > 0) {
          double future = 0.0;
          for (const Outcome& o : model.counts.seen[i]) future += o.p * V[static_cast<size_t>(o.next)];
          q = std::max(range.v_min, base[i] + gamma * future);
        }
        Q.values[i] = q;
        best = std::max(best, q);
      }
      next[static_cast<size_t>(s)] = best;
      change = std::max(change, std::abs(best - V[static_cast<size_t>(s)]));
    }
    V.swap(next);
    ++out.iterations;
    if (factor * change <= options.tolerance) {
      out.converged = true;
      break;
    }
    if (out.iterations >= options.max_iterations) break;
  }
  std::vector<int> actions(static_cast<size_t>(S), 0);
  for (int s = 0; s < S; ++s) {
    if (model.batch_mdp.is_terminal(s)) continue;
    int best = 0;
    for (int a = 1; a < A; ++a)
      if (Q(s, a) > Q(s, best) + 1e-12) best = a;
    actions[static_cast<size_t>(s)] = best;
  }
  out.policy = Policy::deterministic(actions, A);
  out.Q = Q;
  out.V = first_states(V, S);
  return out;
}

QTable q_in_batch_mdp(const MaximumLikelihoodModel& model, const Policy& pi) {
  return first_states(evaluate_policy_dense(model.batch_mdp, extend_to_batch_mdp(pi)).Q,
                      model.num_states());
}

}  // namespace bcq::bcql
