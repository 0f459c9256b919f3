// A batch B: a multiset of transitions (s, a, r, s', done) (docs/theory.md, "Objects"), its
// collection from a policy, and CSV I/O (header `s,a,r,s_next,done`).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "mdp/finite_mdp.hpp"

namespace bcq {

struct Transition {
  int s = 0;
  int a = 0;
  double r = 0.0;
  int s_next = 0;
  bool done = false;  ///< s_next is terminal
};

struct Batch {
  std::vector<Transition> transitions;
  size_t size() const { return transitions.size(); }
  bool empty() const { return transitions.empty(); }
};

/// Whole trajectories from d_0 following `policy`, each of at most `horizon` steps (ended early
/// by a terminal state), until `size` transitions are collected (the last one may be cut).
/// Such batches are coherent when no trajectory is cut by the horizon or the size.
Batch collect_trajectories(const FiniteMdp& mdp, const Policy& policy, size_t size, int horizon,
                           uint64_t seed);

/// `size` independent draws: s uniform over non-terminal states, a ~ policy(.|s), s' ~ p_M.
/// Such batches are often incoherent.
Batch collect_independent(const FiniteMdp& mdp, const Policy& policy, size_t size, uint64_t seed);

/// Parses CSV text with header `s,a,r,s_next,done`; `source` names it in errors
/// (line numbers are 1-based and count the header).
Batch batch_from_csv(const std::string& text, const std::string& source);
std::string batch_to_csv(const Batch& batch);
Batch load_batch(const std::string& path);
void save_batch(const Batch& batch, const std::string& path);

/// Checks the batch against an MDP: ids in range, s not terminal, reward finite, `done`
/// equal to "s_next is terminal", and p_M(s_next|s,a) > 0. Throws ValidationError naming the
/// row. An empty batch is refused (rule batch-empty).
void validate_batch(const Batch& batch, const FiniteMdp& mdp, const std::string& source);

}  // namespace bcq
