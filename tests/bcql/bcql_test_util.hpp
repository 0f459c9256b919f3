// Shared fixtures of the bcql/ tests: random stochastic garnets with terminal states, random
// policies and Q_init tables, small batches that leave pairs unseen, and hand-built MDPs.
#pragma once

#include <vector>

#include "bcql/prepared_batch.hpp"
#include "mdp/batch.hpp"
#include "mdp/batch_mdp.hpp"
#include "mdp/finite_mdp.hpp"
#include "mdp/generators.hpp"
#include "common/random.hpp"

namespace bcq::bcql::testing {

/// A policy with random weights, about a third of them zero (each row keeps one action).
inline Policy random_policy(int S, int A, Rng& rng) {
  Policy pi;
  pi.num_states = S;
  pi.num_actions = A;
  pi.probs.assign(static_cast<size_t>(S) * static_cast<size_t>(A), 0.0);
  for (int s = 0; s < S; ++s) {
    double sum = 0.0;
    const int keep = static_cast<int>(rng.below(static_cast<uint32_t>(A)));
    for (int a = 0; a < A; ++a) {
      const double w = (a == keep || rng.below(3) != 0) ? 0.05 + rng.uniform() : 0.0;
      pi.at(s, a) = w;
      sum += w;
    }
    for (int a = 0; a < A; ++a) pi.at(s, a) /= sum;
  }
  return pi;
}

inline QTable random_q_init(int S, int A, Rng& rng, double lo, double hi) {
  QTable q(S, A);
  for (double& v : q.values) v = lo + (hi - lo) * rng.uniform();
  return q;
}

/// Adds, for every non-terminal s' that B reaches but does not contain, one transition from s'
/// drawn from M with a random action, until B is coherent (THEORY.md "coherent").
inline void make_coherent(const FiniteMdp& mdp, Batch& batch, Rng& rng) {
  for (;;) {
    const BatchCounts counts = count_batch(batch, mdp.num_states(), mdp.num_actions());
    std::vector<int> missing;
    for (const Transition& t : batch.transitions)
      if (!mdp.is_terminal(t.s_next) && !counts.contains_state(t.s_next)) missing.push_back(t.s_next);
    if (missing.empty()) return;
    for (int s : missing) {
      if (count_batch(batch, mdp.num_states(), mdp.num_actions()).contains_state(s)) continue;
      Transition t;
      t.s = s;
      t.a = static_cast<int>(rng.below(static_cast<uint32_t>(mdp.num_actions())));
      const OutcomeSpan out = mdp.outcomes(s, t.a);
      std::vector<double> p;
      for (const Outcome& o : out) p.push_back(o.p);
      const Outcome& o = out.begin()[rng.categorical(p, static_cast<int>(p.size()))];
      t.s_next = o.next;
      t.r = o.r;
      t.done = mdp.is_terminal(o.next);
      batch.transitions.push_back(t);
    }
  }
}

/// Restricts a (S+1) x A table of M_B to M's S states.
inline QTable first_states(const QTable& q, int S) {
  QTable out(S, q.num_actions);
  for (int s = 0; s < S; ++s)
    for (int a = 0; a < q.num_actions; ++a) out.at(s, a) = q(s, a);
  return out;
}

/// MDP from a spec (throws on a bad spec).
inline FiniteMdp build(const MdpSpec& spec) { return FiniteMdp::build(spec, "test"); }

/// The cliff walk of docs/bcql.md: states 0..2 walk (action 0, reward -1) towards the goal 3;
/// action 1 jumps off the cliff into terminal 4 with reward -10. gamma 0.9.
inline FiniteMdp cliff_walk() {
  MdpSpec spec;
  spec.name = "cliff-walk";
  spec.num_states = 5;
  spec.num_actions = 2;
  spec.gamma = 0.9;
  spec.initial = {{0, 1.0}};
  spec.terminal = {3, 4};
  for (int s = 0; s < 3; ++s) {
    spec.transitions.push_back({s, 0, {{s + 1, 1.0, -1.0}}});
    spec.transitions.push_back({s, 1, {{4, 1.0, -10.0}}});
  }
  return build(spec);
}

/// Two trajectories of "always walk" in the cliff walk (action 1 never appears).
inline Batch walk_batch() {
  Batch b;
  for (int k = 0; k < 2; ++k)
    for (int s = 0; s < 3; ++s) b.transitions.push_back({s, 0, -1.0, s + 1, s == 2});
  return b;
}

// A stochastic hand example: (0,0) goes to 1 (reward 1) or terminal 2 (reward 0) with
// probability 1/2 each; the batch saw 3 of the first and 1 of the second, so p_B = 3/4.
inline FiniteMdp stochastic_example() {
  MdpSpec spec;
  spec.num_states = 3;
  spec.num_actions = 2;
  spec.gamma = 0.9;
  spec.initial = {{0, 1.0}};
  spec.terminal = {2};
  spec.transitions = {{0, 0, {{1, 0.5, 1.0}, {2, 0.5, 0.0}}},
                      {0, 1, {{2, 1.0, 0.5}}},
                      {1, 0, {{2, 1.0, 2.0}}},
                      {1, 1, {{2, 1.0, 0.0}}}};
  return build(spec);
}

inline Batch stochastic_example_batch() {
  Batch batch;
  for (int k = 0; k < 3; ++k) batch.transitions.push_back({0, 0, 1.0, 1, false});
  batch.transitions.push_back({0, 0, 0.0, 2, true});
  batch.transitions.push_back({1, 0, 2.0, 2, true});
  return batch;
}

}  // namespace bcq::bcql::testing
