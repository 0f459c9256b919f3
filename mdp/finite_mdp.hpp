// The finite MDP model M = (S, A, p_M, r, gamma, d_0) of docs/theory.md, "Objects".
// Built and validated once, then immutable (the MuJoCo mjModel habit): solvers keep their
// working data elsewhere.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "common/error.hpp"

namespace bcq {

/// One successor of a state-action pair: s' = next with probability p and reward r(s,a,s').
struct Outcome {
  int next = 0;
  double p = 0.0;
  double r = 0.0;
};

/// The outcomes listed for one (s,a) in an MdpSpec.
struct TransitionSpec {
  int s = 0;
  int a = 0;
  std::vector<Outcome> outcomes;
};

/// Everything needed to build a FiniteMdp, in the shape of the bcq-mdp/1 JSON format.
struct MdpSpec {
  std::string name = "mdp";
  int num_states = 0;
  int num_actions = 0;
  double gamma = 0.9;
  std::vector<std::pair<int, double>> initial;  ///< (state, probability) pairs of d_0
  std::vector<int> terminal;                    ///< absorbing states with value 0
  std::vector<TransitionSpec> transitions;
};

/// A read-only view of contiguous outcomes.
struct OutcomeSpan {
  const Outcome* first = nullptr;
  const Outcome* last = nullptr;
  const Outcome* begin() const { return first; }
  const Outcome* end() const { return last; }
  size_t size() const { return static_cast<size_t>(last - first); }
  bool empty() const { return first == last; }
};

/// A validated finite MDP with sparse transitions (compressed rows, one row per (s,a)).
/// Terminal states are absorbing with value 0 and have no outcomes. Outcomes with p = 0 are
/// dropped; the outcomes of one (s,a) are sorted by next state.
class FiniteMdp {
 public:
  /// Validates `spec` and builds the model. Throws ValidationError naming the broken rule and
  /// the (s,a) or field: probabilities-sum (1e-9), probability-range (negative or NaN p),
  /// reward-finite, state-range, action-range, missing-outcomes (non-terminal (s,a) without
  /// outcomes), duplicate-transition, duplicate-outcome, terminal-transition, gamma-range
  /// ([0,1)), initial-empty, initial-sum, sizes. `source` prefixes locations (e.g. a file).
  static FiniteMdp build(const MdpSpec& spec, const std::string& source = "mdp");

  const std::string& name() const { return name_; }
  int num_states() const { return num_states_; }
  int num_actions() const { return num_actions_; }
  double gamma() const { return gamma_; }
  bool is_terminal(int s) const { return terminal_[static_cast<size_t>(s)] != 0; }
  /// d_0 as a dense vector over states.
  const std::vector<double>& initial() const { return initial_; }
  /// Outcomes of (s,a); empty exactly when s is terminal.
  OutcomeSpan outcomes(int s, int a) const {
    size_t row = static_cast<size_t>(s) * static_cast<size_t>(num_actions_) +
                 static_cast<size_t>(a);
    return {outcomes_.data() + offsets_[row], outcomes_.data() + offsets_[row + 1]};
  }
  /// p_M(s'|s,a) (0 when s' is not a successor).
  double probability(int s, int a, int next) const;
  /// True when every non-terminal (s,a) has exactly one successor.
  bool is_deterministic() const;
  /// Number of stored (s,a,s') outcomes.
  size_t num_outcomes() const { return outcomes_.size(); }
  /// The spec this model was built from (normalised: sorted, zero-probability outcomes removed).
  MdpSpec to_spec() const;

 private:
  FiniteMdp() = default;
  std::string name_;
  int num_states_ = 0;
  int num_actions_ = 0;
  double gamma_ = 0.0;
  std::vector<uint8_t> terminal_;
  std::vector<double> initial_;
  std::vector<size_t> offsets_;  // size S*A+1
  std::vector<Outcome> outcomes_;
};

/// A stochastic policy pi(a|s), row-major S x A. Rows of terminal states are ignored by
/// every computation (no action is taken in an absorbing state).
struct Policy {
  int num_states = 0;
  int num_actions = 0;
  std::vector<double> probs;

  double operator()(int s, int a) const {
    return probs[static_cast<size_t>(s) * static_cast<size_t>(num_actions) +
                 static_cast<size_t>(a)];
  }
  double& at(int s, int a) {
    return probs[static_cast<size_t>(s) * static_cast<size_t>(num_actions) +
                 static_cast<size_t>(a)];
  }
  /// pi(.|s) = uniform over all actions, for every s.
  static Policy uniform(int num_states, int num_actions);
  /// pi(a|s) = 1 for a = actions[s].
  static Policy deterministic(const std::vector<int>& actions, int num_actions);
  /// Throws ValidationError unless shapes match (S, A), entries are finite and in [0,1] and
  /// each row sums to 1 (1e-9). `source` prefixes the location.
  void validate(int expected_states, int expected_actions, const std::string& source) const;
};

/// Dense Q table (S x A, row-major) with helpers.
struct QTable {
  int num_states = 0;
  int num_actions = 0;
  std::vector<double> values;

  QTable() = default;
  QTable(int s, int a, double fill = 0.0)
      : num_states(s), num_actions(a),
        values(static_cast<size_t>(s) * static_cast<size_t>(a), fill) {}
  double operator()(int s, int a) const {
    return values[static_cast<size_t>(s) * static_cast<size_t>(num_actions) +
                  static_cast<size_t>(a)];
  }
  double& at(int s, int a) {
    return values[static_cast<size_t>(s) * static_cast<size_t>(num_actions) +
                  static_cast<size_t>(a)];
  }
};

/// max_a |x(s,a) - y(s,a)|; shapes must match.
double max_abs_difference(const QTable& x, const QTable& y);

}  // namespace bcq
