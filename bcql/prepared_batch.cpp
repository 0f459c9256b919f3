#include "bcql/prepared_batch.hpp"

#include <cmath>
#include <limits>
#include <string>

#include "common/error.hpp"

namespace bcq::bcql {

bool ActionSets::contains(int s, int a) const {
  for (const int32_t* it = begin(s); it != end(s); ++it)
    if (*it == a) return true;
  return false;
}

ActionSets allowed_actions(const FiniteMdp& mdp, const BatchCounts& counts) {
  const int S = mdp.num_states();
  const int A = mdp.num_actions();
  if (counts.num_actions != A || counts.num_states > S) {
    throw InputError("allowed_actions: batch counts are " + std::to_string(counts.num_states) +
                     " x " + std::to_string(counts.num_actions) + " but the MDP is " +
                     std::to_string(S) + " x " + std::to_string(A));
  }
  ActionSets sets;
  sets.num_states = S;
  sets.num_actions = A;
  sets.offsets.assign(static_cast<size_t>(S) + 1, 0);
  for (int s = 0; s < S; ++s) {
    if (!mdp.is_terminal(s)) {
      bool in_batch = false;
      if (s < counts.num_states)
        for (int a = 0; a < A; ++a) in_batch = in_batch || counts.contains(s, a);
      for (int a = 0; a < A; ++a)
        if (!in_batch || counts.contains(s, a)) sets.ids.push_back(a);
    }
    sets.offsets[static_cast<size_t>(s) + 1] = static_cast<int32_t>(sets.ids.size());
  }
  return sets;
}

ActionSets all_actions(const FiniteMdp& mdp) {
  ActionSets sets;
  sets.num_states = mdp.num_states();
  sets.num_actions = mdp.num_actions();
  sets.offsets.assign(static_cast<size_t>(sets.num_states) + 1, 0);
  for (int s = 0; s < sets.num_states; ++s) {
    if (!mdp.is_terminal(s))
      for (int a = 0; a < sets.num_actions; ++a) sets.ids.push_back(a);
    sets.offsets[static_cast<size_t>(s) + 1] = static_cast<int32_t>(sets.ids.size());
  }
  return sets;
}

PreparedBatch prepare_batch(const FiniteMdp& mdp, const Batch& batch, const std::string& source) {
  validate_batch(batch, mdp, source);
  const int S = mdp.num_states();
  const int A = mdp.num_actions();
  // Compact ids are int32: S * A must fit.
  if (static_cast<int64_t>(S) * A >= std::numeric_limits<int32_t>::max()) {
    throw InputError(source + ": |S| x |A| = " + std::to_string(static_cast<int64_t>(S) * A) +
                     " exceeds the compact int32 layout");
  }
  if (batch.size() >= std::numeric_limits<uint32_t>::max()) {
    throw InputError(source + ": more than 2^32 - 1 transitions");
  }
  PreparedBatch prepared;
  prepared.num_states = S;
  prepared.num_actions = A;
  prepared.gamma = mdp.gamma();
  prepared.terminal.resize(static_cast<size_t>(S));
  for (int s = 0; s < S; ++s) prepared.terminal[static_cast<size_t>(s)] = mdp.is_terminal(s) ? 1 : 0;
  prepared.transitions.reserve(batch.size());
  for (const Transition& t : batch.transitions) {
    CompactTransition c;
    c.sa = static_cast<int32_t>(t.s * A + t.a);
    c.s_next = static_cast<int32_t>(t.s_next);
    c.r = t.r;
    prepared.transitions.push_back(c);
  }
  prepared.counts = count_batch(batch, S, A);
  EmpiricalModel& model = prepared.model;
  model.num_states = S;
  model.num_actions = A;
  model.pair_offsets.push_back(0);
  for (int sa = 0; sa < S * A; ++sa) {
    if (prepared.counts.n_sa[static_cast<size_t>(sa)] <= 0) continue;
    model.pair_sa.push_back(sa);
    for (const Outcome& o : prepared.counts.seen[static_cast<size_t>(sa)]) {
      model.next.push_back(o.next);
      model.prob.push_back(o.p);
      model.reward.push_back(o.r);
    }
    model.pair_offsets.push_back(static_cast<int32_t>(model.next.size()));
  }
  prepared.in_batch = allowed_actions(mdp, prepared.counts);
  return prepared;
}

QTable resolve_q_init(const FiniteMdp& mdp, const QTable& table, double fill) {
  const int S = mdp.num_states();
  const int A = mdp.num_actions();
  QTable q(S, A, fill);
  if (!table.values.empty()) {
    if (table.num_states != S || table.num_actions != A ||
        table.values.size() != static_cast<size_t>(S) * static_cast<size_t>(A)) {
      throw InputError("Q_init table is " + std::to_string(table.num_states) + " x " +
                       std::to_string(table.num_actions) + " but the MDP is " + std::to_string(S) +
                       " x " + std::to_string(A));
    }
    q = table;
  }
  for (int s = 0; s < S; ++s) {
    for (int a = 0; a < A; ++a) {
      if (!std::isfinite(q(s, a))) {
        throw InputError("Q_init(" + std::to_string(s) + "," + std::to_string(a) +
                         ") is not finite");
      }
      if (mdp.is_terminal(s)) q.at(s, a) = 0.0;
    }
  }
  return q;
}

}  // namespace bcq::bcql
