// Graph questions about a batch (Boost.Graph): coherence, start-in-batch, reachability under a
// policy (the support of mu_pi), existence of a batch-constrained policy, and a Graphviz export.
#pragma once

#include <string>
#include <vector>

#include "mdp/batch.hpp"
#include "mdp/batch_mdp.hpp"
#include "mdp/finite_mdp.hpp"

namespace bcq {

/// States reached with positive probability from the support of d_0 following `policy` in
/// `mdp` (docs/theory.md convention for mu_pi(s) > 0): graph reachability over edges s -> s' with
/// pi(a|s) > 0 and p_M(s'|s,a) > 0. Returned as a 0/1 mask over states.
std::vector<char> reachable_states(const FiniteMdp& mdp, const Policy& policy);

/// (s, a, s') of B whose s' is neither terminal nor in B (empty: B is coherent).
std::vector<Transition> coherence_violations(const Batch& batch, const FiniteMdp& mdp);
bool is_coherent(const Batch& batch, const FiniteMdp& mdp);

/// Is pi batch-constrained: every (s,a) with mu_pi(s) > 0, pi(a|s) > 0 and s non-terminal is in B.
/// Convention: terminal states take no action, so they impose no constraint.
bool is_batch_constrained(const FiniteMdp& mdp, const Batch& batch, const Policy& policy);
/// The (s,a) pairs that break the constraint above.
std::vector<std::pair<int, int>> unconstrained_pairs(const FiniteMdp& mdp, const BatchCounts& counts,
                                                     const Policy& policy);

/// Outcome of the search for a batch-constrained policy.
struct BatchConstrainedExistence {
  bool exists = false;
  /// A witness when it exists: uniform over the "safe" in-batch actions where mu_pi may reach,
  /// uniform over all actions elsewhere.
  Policy witness;
  /// States from which the agent can stay inside B forever (or reach a terminal state) using
  /// only in-batch actions whose every successor in M stays there too.
  std::vector<char> safe_states;
};

/// Decides exactly whether a batch-constrained policy exists: the greatest set X of states in B
/// such that each s in X has an in-batch action whose M-successors are all in X or terminal;
/// one exists iff every non-terminal state in the support of d_0 is in X.
BatchConstrainedExistence find_batch_constrained_policy(const FiniteMdp& mdp, const Batch& batch);

/// Everything `bcq batch analyze` reports.
struct BatchAnalysis {
  size_t transitions = 0;
  size_t distinct_pairs = 0;       ///< |{(s,a) in B}|
  size_t non_terminal_pairs = 0;   ///< |S_nonterminal| * |A|
  size_t states_in_batch = 0;
  bool coherent = false;
  std::vector<Transition> coherence_violations;
  bool start_in_batch = false;     ///< every non-terminal state of supp(d_0) is in B
  bool start_any_in_batch = false; ///< some state of supp(d_0) is in B
  bool batch_constrained_policy_exists = false;
  size_t safe_states = 0;
  bool p_b_equals_p_m = false;     ///< p_B = p_M on every (s,a) in B (1e-12)
};
/// Validates B against M first (validate_batch), naming `source` in errors.
BatchAnalysis analyze_batch(const FiniteMdp& mdp, const Batch& batch, const std::string& source = "batch");

/// Graphviz DOT of the batch's state graph: one node per state seen in B (terminal states
/// double-circled, d_0 support bold), one edge s -> s' per (s,a,s') labelled "a (N)".
std::string batch_to_dot(const Batch& batch, const FiniteMdp& mdp);

}  // namespace bcq
