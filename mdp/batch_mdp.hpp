// The batch MDP M_B of docs/theory.md: same states and actions plus one terminal state s_init;
// p_B(s'|s,a) = N(s,a,s') / N(s,a); unseen (s,a) go to s_init with reward Q_init(s,a).
#pragma once

#include <string>
#include <vector>

#include "mdp/batch.hpp"
#include "mdp/finite_mdp.hpp"

namespace bcq {

/// Counts of a batch: N(s,a) and, per (s,a), the distinct s' with their counts and mean reward.
struct BatchCounts {
  int num_states = 0;
  int num_actions = 0;
  std::vector<long> n_sa;                  ///< N(s,a), S x A row-major
  std::vector<std::vector<Outcome>> seen;  ///< per (s,a): next, p = N(s,a,s')/N(s,a), r = mean
  bool contains(int s, int a) const {
    return n_sa[static_cast<size_t>(s) * static_cast<size_t>(num_actions) +
                static_cast<size_t>(a)] > 0;
  }
  /// "s in B": some (s,a) in B.
  bool contains_state(int s) const;
};

BatchCounts count_batch(const Batch& batch, int num_states, int num_actions);

/// The id of s_init in a batch MDP built over an MDP with `num_states` states.
inline int s_init_of(int num_states) { return num_states; }

/// M_B over `mdp` (its states, actions, gamma, d_0 and terminal set) with S+1 states; state S is
/// s_init (terminal). q_init is S x A (the value Q is initialised with), or empty for 0.
/// Convention (docs/theory.md): an (s,a,s') recorded with different rewards uses their mean.
/// Validates B against M first (validate_batch), naming `source` in errors.
FiniteMdp batch_mdp(const FiniteMdp& mdp, const Batch& batch, const QTable& q_init = {},
                    const std::string& source = "batch");

}  // namespace bcq
