#include "mdp/analysis.hpp"

#include <cmath>
#include <map>
#include <sstream>
#include <tuple>

#include <boost/graph/adjacency_list.hpp>
#include <boost/graph/breadth_first_search.hpp>

namespace bcq {
namespace {

using Graph = boost::adjacency_list<boost::vecS, boost::vecS, boost::directedS>;

// Marks every vertex that BFS discovers.
struct DiscoverRecorder : boost::default_bfs_visitor {
  std::vector<char>* seen;
  explicit DiscoverRecorder(std::vector<char>* s) : seen(s) {}
  template <typename Vertex, typename G>
  void discover_vertex(Vertex v, const G&) const {
    (*seen)[v] = 1;
  }
};

}  // namespace

std::vector<char> reachable_states(const FiniteMdp& mdp, const Policy& policy) {
  policy.validate(mdp.num_states(), mdp.num_actions(), "policy");
  const int S = mdp.num_states();
  // Vertex S is a virtual root with an edge to every state in the support of d_0.
  Graph g(static_cast<size_t>(S) + 1);
  for (int s = 0; s < S; ++s) {
    if (mdp.initial()[static_cast<size_t>(s)] > 0.0) boost::add_edge(static_cast<size_t>(S), static_cast<size_t>(s), g);
    if (mdp.is_terminal(s)) continue;
    for (int a = 0; a < mdp.num_actions(); ++a) {
      if (policy(s, a) <= 0.0) continue;
      for (const Outcome& o : mdp.outcomes(s, a)) boost::add_edge(static_cast<size_t>(s), static_cast<size_t>(o.next), g);
    }
  }
  std::vector<char> seen(static_cast<size_t>(S) + 1, 0);
  boost::breadth_first_search(g, boost::vertex(static_cast<size_t>(S), g),
                              boost::visitor(DiscoverRecorder(&seen)));
  seen.pop_back();
  return seen;
}

std::vector<Transition> coherence_violations(const Batch& batch, const FiniteMdp& mdp) {
  std::vector<char> in_batch(static_cast<size_t>(mdp.num_states()), 0);
  for (const Transition& t : batch.transitions) in_batch[static_cast<size_t>(t.s)] = 1;
  std::vector<Transition> bad;
  for (const Transition& t : batch.transitions)
    if (!mdp.is_terminal(t.s_next) && !in_batch[static_cast<size_t>(t.s_next)]) bad.push_back(t);
  return bad;
}

bool is_coherent(const Batch& batch, const FiniteMdp& mdp) { return coherence_violations(batch, mdp).empty(); }

std::vector<std::pair<int, int>> unconstrained_pairs(const FiniteMdp& mdp, const BatchCounts& counts,
                                                     const Policy& policy) {
  std::vector<char> mu = reachable_states(mdp, policy);
  std::vector<std::pair<int, int>> bad;
  for (int s = 0; s < mdp.num_states(); ++s) {
    if (!mu[static_cast<size_t>(s)] || mdp.is_terminal(s)) continue;
    for (int a = 0; a < mdp.num_actions(); ++a)
      if (policy(s, a) > 0.0 && !counts.contains(s, a)) bad.emplace_back(s, a);
  }
  return bad;
}

bool is_batch_constrained(const FiniteMdp& mdp, const Batch& batch, const Policy& policy) {
  return unconstrained_pairs(mdp, count_batch(batch, mdp.num_states(), mdp.num_actions()), policy).empty();
}

BatchConstrainedExistence find_batch_constrained_policy(const FiniteMdp& mdp, const Batch& batch) {
  const int S = mdp.num_states(), A = mdp.num_actions();
  BatchCounts counts = count_batch(batch, S, A);
  // Greatest fixed point: start from the states in B, drop states with no in-batch action whose
  // every M-successor is safe or terminal, until nothing changes.
  std::vector<char> safe(static_cast<size_t>(S), 0);
  for (int s = 0; s < S; ++s) safe[static_cast<size_t>(s)] = !mdp.is_terminal(s) && counts.contains_state(s);
  auto action_is_safe = [&](int s, int a) {
    if (!counts.contains(s, a)) return false;
    for (const Outcome& o : mdp.outcomes(s, a))
      if (!mdp.is_terminal(o.next) && !safe[static_cast<size_t>(o.next)]) return false;
    return true;
  };
  for (bool changed = true; changed;) {
    changed = false;
    for (int s = 0; s < S; ++s) {
      if (!safe[static_cast<size_t>(s)]) continue;
      bool any = false;
      for (int a = 0; a < A && !any; ++a) any = action_is_safe(s, a);
      if (!any) {
        safe[static_cast<size_t>(s)] = 0;
        changed = true;
      }
    }
  }
  BatchConstrainedExistence result;
  result.safe_states = safe;
  result.exists = true;
  for (int s = 0; s < S; ++s)
    if (mdp.initial()[static_cast<size_t>(s)] > 0.0 && !mdp.is_terminal(s) && !safe[static_cast<size_t>(s)])
      result.exists = false;
  result.witness = Policy::uniform(S, A);
  for (int s = 0; s < S; ++s) {
    if (!safe[static_cast<size_t>(s)]) continue;
    int n = 0;
    for (int a = 0; a < A; ++a) n += action_is_safe(s, a);
    for (int a = 0; a < A; ++a) result.witness.at(s, a) = action_is_safe(s, a) ? 1.0 / n : 0.0;
  }
  return result;
}

BatchAnalysis analyze_batch(const FiniteMdp& mdp, const Batch& batch, const std::string& source) {
  validate_batch(batch, mdp, source);
  const int S = mdp.num_states(), A = mdp.num_actions();
  BatchCounts counts = count_batch(batch, S, A);
  BatchAnalysis out;
  out.transitions = batch.size();
  for (int s = 0; s < S; ++s) {
    if (mdp.is_terminal(s)) continue;
    out.non_terminal_pairs += static_cast<size_t>(A);
    if (counts.contains_state(s)) ++out.states_in_batch;
    for (int a = 0; a < A; ++a) out.distinct_pairs += counts.contains(s, a);
  }
  out.coherence_violations = coherence_violations(batch, mdp);
  out.coherent = out.coherence_violations.empty();
  out.start_in_batch = true;
  for (int s = 0; s < S; ++s) {
    if (mdp.initial()[static_cast<size_t>(s)] <= 0.0) continue;
    if (mdp.is_terminal(s)) continue;
    if (counts.contains_state(s)) {
      out.start_any_in_batch = true;
    } else {
      out.start_in_batch = false;
    }
  }
  BatchConstrainedExistence existence = find_batch_constrained_policy(mdp, batch);
  out.batch_constrained_policy_exists = existence.exists;
  for (char c : existence.safe_states) out.safe_states += c != 0;
  out.p_b_equals_p_m = true;
  for (int s = 0; s < S && out.p_b_equals_p_m; ++s) {
    for (int a = 0; a < A; ++a) {
      size_t row = static_cast<size_t>(s) * static_cast<size_t>(A) + static_cast<size_t>(a);
      if (counts.n_sa[row] == 0) continue;
      if (counts.seen[row].size() != mdp.outcomes(s, a).size()) {
        out.p_b_equals_p_m = false;
        break;
      }
      for (const Outcome& o : counts.seen[row])
        if (std::abs(o.p - mdp.probability(s, a, o.next)) > 1e-12) out.p_b_equals_p_m = false;
    }
  }
  return out;
}

std::string batch_to_dot(const Batch& batch, const FiniteMdp& mdp) {
  std::map<std::tuple<int, int, int>, long> edges;
  std::vector<char> node(static_cast<size_t>(mdp.num_states()), 0);
  for (const Transition& t : batch.transitions) {
    edges[{t.s, t.s_next, t.a}] += 1;
    node[static_cast<size_t>(t.s)] = node[static_cast<size_t>(t.s_next)] = 1;
  }
  std::ostringstream out;
  out << "digraph batch {\n  rankdir=LR;\n  node [shape=circle];\n";
  for (int s = 0; s < mdp.num_states(); ++s) {
    if (!node[static_cast<size_t>(s)]) continue;
    out << "  s" << s << " [label=\"" << s << "\"";
    if (mdp.is_terminal(s)) out << ", shape=doublecircle";
    if (mdp.initial()[static_cast<size_t>(s)] > 0.0) out << ", style=bold";
    out << "];\n";
  }
  for (const auto& [key, n] : edges) {
    auto [s, next, a] = key;
    out << "  s" << s << " -> s" << next << " [label=\"a" << a << " (" << n << ")\"];\n";
  }
  out << "}\n";
  return out.str();
}

}  // namespace bcq
