#include "mdp/batch_mdp.hpp"

#include <algorithm>
#include <map>

namespace bcq {

bool BatchCounts::contains_state(int s) const {
  for (int a = 0; a < num_actions; ++a)
    if (contains(s, a)) return true;
  return false;
}

BatchCounts count_batch(const Batch& batch, int num_states, int num_actions) {
  BatchCounts counts;
  counts.num_states = num_states;
  counts.num_actions = num_actions;
  const size_t rows = static_cast<size_t>(num_states) * static_cast<size_t>(num_actions);
  counts.n_sa.assign(rows, 0);
  counts.seen.assign(rows, {});
  // Per (s,a): s' -> (count, reward sum).
  std::vector<std::map<int, std::pair<long, double>>> tally(rows);
  for (const Transition& t : batch.transitions) {
    if (t.s < 0 || t.s >= num_states || t.a < 0 || t.a >= num_actions || t.s_next < 0 ||
        t.s_next >= num_states) {
      throw InputError("count_batch: transition (" + std::to_string(t.s) + "," + std::to_string(t.a) +
                       "," + std::to_string(t.s_next) + ") is outside the MDP");
    }
    size_t row = static_cast<size_t>(t.s) * static_cast<size_t>(num_actions) + static_cast<size_t>(t.a);
    counts.n_sa[row] += 1;
    auto& cell = tally[row][t.s_next];
    cell.first += 1;
    cell.second += t.r;
  }
  for (size_t row = 0; row < rows; ++row) {
    if (counts.n_sa[row] == 0) continue;
    const double n = static_cast<double>(counts.n_sa[row]);
    for (const auto& [next, cell] : tally[row]) {
      // Convention (docs/theory.md): repeated (s,a,s') with different rewards use their mean.
      counts.seen[row].push_back({next, static_cast<double>(cell.first) / n,
                                  cell.second / static_cast<double>(cell.first)});
    }
  }
  return counts;
}

FiniteMdp batch_mdp(const FiniteMdp& mdp, const Batch& batch, const QTable& q_init, const std::string& source) {
  validate_batch(batch, mdp, source);
  const int S = mdp.num_states(), A = mdp.num_actions();
  if (!q_init.values.empty() && (q_init.num_states != S || q_init.num_actions != A)) {
    throw InputError("batch_mdp: Q_init has shape " + std::to_string(q_init.num_states) + " x " +
                     std::to_string(q_init.num_actions) + ", the MDP needs " + std::to_string(S) + " x " +
                     std::to_string(A));
  }
  BatchCounts counts = count_batch(batch, S, A);
  const int s_init = s_init_of(S);
  MdpSpec spec;
  spec.name = mdp.name() + "-batch";
  spec.num_states = S + 1;
  spec.num_actions = A;
  spec.gamma = mdp.gamma();
  for (int s = 0; s < S; ++s) {
    double p0 = mdp.initial()[static_cast<size_t>(s)];
    if (p0 > 0.0) spec.initial.emplace_back(s, p0);
    if (mdp.is_terminal(s)) spec.terminal.push_back(s);
  }
  spec.terminal.push_back(s_init);
  for (int s = 0; s < S; ++s) {
    if (mdp.is_terminal(s)) continue;
    for (int a = 0; a < A; ++a) {
      TransitionSpec t{s, a, {}};
      size_t row = static_cast<size_t>(s) * static_cast<size_t>(A) + static_cast<size_t>(a);
      if (counts.n_sa[row] > 0) {
        t.outcomes = counts.seen[row];  // p_B(s'|s,a) = N(s,a,s') / N(s,a)
      } else {
        // Unseen pair: p_B(s_init|s,a) = 1 with reward Q_init(s,a).
        double r = q_init.values.empty() ? 0.0 : q_init(s, a);
        t.outcomes.push_back({s_init, 1.0, r});
      }
      spec.transitions.push_back(std::move(t));
    }
  }
  return FiniteMdp::build(spec, spec.name);
}

}  // namespace bcq
