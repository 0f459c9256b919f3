// A batch laid out for the learning algorithms of bcql/: the raw multiset B in compact
// 16-byte records for uniform sampling (Eq. 2 / Eq. 6), the empirical model of M_B
// (p_B and mean rewards per seen (s,a), docs/theory.md "Batch MDP M_B") for the synchronous forms,
// and the per-state action sets that BCQL's max runs over.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "mdp/batch.hpp"
#include "mdp/batch_mdp.hpp"
#include "mdp/finite_mdp.hpp"

namespace bcq::bcql {

/// One transition of B in compact form. 16 bytes, so that a uniformly drawn index costs a
/// single cache-line access (the sampled loop is bound by memory latency, not arithmetic).
struct CompactTransition {
  int32_t sa = 0;      ///< s * |A| + a
  int32_t s_next = 0;  ///< s'
  double r = 0.0;      ///< r recorded in B
};
static_assert(sizeof(CompactTransition) == 16, "CompactTransition must stay 16 bytes");

/// Per-state lists of actions in compressed-row form: actions(s) = ids[offsets[s] .. offsets[s+1]).
struct ActionSets {
  int num_states = 0;
  int num_actions = 0;
  std::vector<int32_t> offsets;  ///< size num_states + 1
  std::vector<int32_t> ids;      ///< action ids, increasing within a state
  int size(int s) const { return offsets[static_cast<size_t>(s) + 1] - offsets[static_cast<size_t>(s)]; }
  const int32_t* begin(int s) const { return ids.data() + offsets[static_cast<size_t>(s)]; }
  const int32_t* end(int s) const { return ids.data() + offsets[static_cast<size_t>(s) + 1]; }
  bool contains(int s, int a) const;
};

/// The actions BCQL's max (Eq. 6) and batch-constrained VI may use in each state:
///   terminal s          -> none (value 0);
///   s in B              -> { a : (s,a) in B };
///   s non-terminal, not in B -> all actions (docs/theory.md convention: the max is then taken over
///                          Q_init(s,.), which is what M_B assigns; for batch-constrained VI in
///                          the true M no batch-constrained choice exists there, so any action may
///                          be taken).
/// `mdp` may have more states than `counts` (e.g. M_B with its extra s_init); the extra states
/// count as "not in B".
ActionSets allowed_actions(const FiniteMdp& mdp, const BatchCounts& counts);

/// Every action in every non-terminal state (the unconstrained max of Q-learning, Eq. 2).
ActionSets all_actions(const FiniteMdp& mdp);

/// One seen (s,a) of the empirical model: outcomes[begin, end) of EmpiricalModel.
struct EmpiricalModel {
  int num_states = 0;
  int num_actions = 0;
  std::vector<int32_t> pair_sa;        ///< seen pairs s * |A| + a, increasing
  std::vector<int32_t> pair_offsets;   ///< size pair_sa.size() + 1, into next/prob/reward
  std::vector<int32_t> next;           ///< s'
  std::vector<double> prob;            ///< p_B(s'|s,a) = N(s,a,s') / N(s,a)
  std::vector<double> reward;          ///< mean reward recorded for (s,a,s')
};

/// B prepared once for many runs. Build with `prepare_batch`.
struct PreparedBatch {
  int num_states = 0;   ///< |S| of M (s_init is not stored: unseen pairs never change)
  int num_actions = 0;
  double gamma = 0.0;
  std::vector<uint8_t> terminal;            ///< terminal[s] of M
  std::vector<CompactTransition> transitions;  ///< B in its original order (multiset)
  BatchCounts counts;                       ///< N(s,a), p_B, mean rewards
  EmpiricalModel model;                     ///< p_B in compressed rows (synchronous forms)
  ActionSets in_batch;                      ///< allowed_actions(M, counts)
};

/// Validates B against M (bcq::validate_batch: ids in range, s not terminal, done flags,
/// p_M(s'|s,a) > 0; an empty batch is refused) and builds the prepared form. Throws
/// ValidationError naming `source` and the row at fault.
PreparedBatch prepare_batch(const FiniteMdp& mdp, const Batch& batch,
                            const std::string& source = "batch");

/// Q_init as a full S x A table: `table` when non-empty (shape checked, finite), else `fill`
/// everywhere. Rows of terminal states are set to 0 (terminal values are 0 in M and M_B).
QTable resolve_q_init(const FiniteMdp& mdp, const QTable& table, double fill);

}  // namespace bcq::bcql
