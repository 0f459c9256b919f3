#include "mdp/finite_mdp.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <sstream>

namespace bcq {
namespace {

constexpr double kProbabilityTolerance = 1e-9;

std::string sa_where(const std::string& source, size_t index, int s, int a) {
  std::ostringstream out;
  out << source << ": transitions[" << index << "] (s=" << s << ",a=" << a << ")";
  return out.str();
}

// Shortest text that reads back as the same double.
std::string fmt_double(double x) {
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, x);
  return std::string(buf, res.ptr);
}

}  // namespace

FiniteMdp FiniteMdp::build(const MdpSpec& spec, const std::string& source) {
  const int S = spec.num_states;
  const int A = spec.num_actions;
  if (S <= 0) {
    throw ValidationError("sizes", source + ".num_states",
                          "num_states must be positive, got " + std::to_string(S));
  }
  if (A <= 0) {
    throw ValidationError("sizes", source + ".num_actions",
                          "num_actions must be positive, got " + std::to_string(A));
  }
  if (!(spec.gamma >= 0.0 && spec.gamma < 1.0)) {
    throw ValidationError("gamma-range", source + ".gamma",
                          "gamma must be in [0, 1), got " + fmt_double(spec.gamma));
  }

  FiniteMdp mdp;
  mdp.name_ = spec.name;
  mdp.num_states_ = S;
  mdp.num_actions_ = A;
  mdp.gamma_ = spec.gamma;

  mdp.terminal_.assign(static_cast<size_t>(S), 0);
  for (size_t i = 0; i < spec.terminal.size(); ++i) {
    int t = spec.terminal[i];
    if (t < 0 || t >= S) {
      throw ValidationError("state-range", source + ".terminal[" + std::to_string(i) + "]",
                            "state " + std::to_string(t) + " is outside [0, " +
                                std::to_string(S) + ")");
    }
    mdp.terminal_[static_cast<size_t>(t)] = 1;
  }

  if (spec.initial.empty()) {
    throw ValidationError("initial-empty", source + ".initial",
                          "the initial distribution is empty");
  }
  mdp.initial_.assign(static_cast<size_t>(S), 0.0);
  double initial_sum = 0.0;
  for (size_t i = 0; i < spec.initial.size(); ++i) {
    auto [s, p] = spec.initial[i];
    std::string where = source + ".initial[" + std::to_string(i) + "]";
    if (s < 0 || s >= S) {
      throw ValidationError("state-range", where,
                            "state " + std::to_string(s) + " is outside [0, " +
                                std::to_string(S) + ")");
    }
    if (!(p >= 0.0 && p <= 1.0 + kProbabilityTolerance)) {
      throw ValidationError("probability-range", where,
                            "probability must be in [0, 1], got " + fmt_double(p));
    }
    mdp.initial_[static_cast<size_t>(s)] += p;
    initial_sum += p;
  }
  if (std::abs(initial_sum - 1.0) > kProbabilityTolerance) {
    throw ValidationError("initial-sum", source + ".initial",
                          "initial probabilities sum to " + fmt_double(initial_sum) +
                              ", not 1 (tolerance 1e-9)");
  }

  // Place each (s,a) row; check ids, duplicates, probabilities and rewards.
  const size_t rows = static_cast<size_t>(S) * static_cast<size_t>(A);
  std::vector<long> row_of_entry(rows, -1);
  for (size_t i = 0; i < spec.transitions.size(); ++i) {
    const TransitionSpec& t = spec.transitions[i];
    std::string where = sa_where(source, i, t.s, t.a);
    if (t.s < 0 || t.s >= S) {
      throw ValidationError("state-range", where,
                            "state " + std::to_string(t.s) + " is outside [0, " +
                                std::to_string(S) + ")");
    }
    if (t.a < 0 || t.a >= A) {
      throw ValidationError("action-range", where,
                            "action " + std::to_string(t.a) + " is outside [0, " +
                                std::to_string(A) + ")");
    }
    if (mdp.terminal_[static_cast<size_t>(t.s)]) {
      throw ValidationError("terminal-transition", where,
                            "state " + std::to_string(t.s) +
                                " is terminal (absorbing) and must have no transitions");
    }
    size_t row = static_cast<size_t>(t.s) * static_cast<size_t>(A) + static_cast<size_t>(t.a);
    if (row_of_entry[row] >= 0) {
      throw ValidationError("duplicate-transition", where,
                            "(s,a) already listed at transitions[" +
                                std::to_string(row_of_entry[row]) + "]");
    }
    row_of_entry[row] = static_cast<long>(i);
    if (t.outcomes.empty()) {
      throw ValidationError("missing-outcomes", where, "non-terminal (s,a) has no outcomes");
    }
    double sum = 0.0;
    std::vector<int> nexts;
    for (size_t k = 0; k < t.outcomes.size(); ++k) {
      const Outcome& o = t.outcomes[k];
      std::string owhere = where + " outcomes[" + std::to_string(k) + "]";
      if (o.next < 0 || o.next >= S) {
        throw ValidationError("state-range", owhere,
                              "next state " + std::to_string(o.next) + " is outside [0, " +
                                  std::to_string(S) + ")");
      }
      if (!(o.p >= 0.0 && o.p <= 1.0 + kProbabilityTolerance)) {
        throw ValidationError("probability-range", owhere,
                              "probability must be in [0, 1], got " + fmt_double(o.p));
      }
      if (!std::isfinite(o.r)) {
        throw ValidationError("reward-finite", owhere, "reward is " + fmt_double(o.r));
      }
      sum += o.p;
      nexts.push_back(o.next);
    }
    std::sort(nexts.begin(), nexts.end());
    auto dup = std::adjacent_find(nexts.begin(), nexts.end());
    if (dup != nexts.end()) {
      throw ValidationError("duplicate-outcome", where,
                            "next state " + std::to_string(*dup) + " is listed twice");
    }
    if (std::abs(sum - 1.0) > kProbabilityTolerance) {
      throw ValidationError("probabilities-sum", where,
                            "probabilities sum to " + fmt_double(sum) +
                                ", not 1 (tolerance 1e-9)");
    }
  }
  for (int s = 0; s < S; ++s) {
    if (mdp.terminal_[static_cast<size_t>(s)]) continue;
    for (int a = 0; a < A; ++a) {
      if (row_of_entry[static_cast<size_t>(s) * static_cast<size_t>(A) +
                       static_cast<size_t>(a)] < 0) {
        throw ValidationError("missing-outcomes",
                              source + ": (s=" + std::to_string(s) + ",a=" +
                                  std::to_string(a) + ")",
                              "non-terminal (s,a) has no transitions entry");
      }
    }
  }

  // Compressed rows, outcomes sorted by next state, zero-probability outcomes dropped.
  mdp.offsets_.assign(rows + 1, 0);
  for (size_t row = 0; row < rows; ++row) {
    long entry = row_of_entry[row];
    size_t count = 0;
    if (entry >= 0) {
      for (const Outcome& o : spec.transitions[static_cast<size_t>(entry)].outcomes)
        if (o.p > 0.0) ++count;
    }
    mdp.offsets_[row + 1] = mdp.offsets_[row] + count;
  }
  mdp.outcomes_.resize(mdp.offsets_[rows]);
  for (size_t row = 0; row < rows; ++row) {
    long entry = row_of_entry[row];
    if (entry < 0) continue;
    size_t at = mdp.offsets_[row];
    for (const Outcome& o : spec.transitions[static_cast<size_t>(entry)].outcomes)
      if (o.p > 0.0) mdp.outcomes_[at++] = o;
    std::sort(mdp.outcomes_.begin() + static_cast<long>(mdp.offsets_[row]),
              mdp.outcomes_.begin() + static_cast<long>(mdp.offsets_[row + 1]),
              [](const Outcome& x, const Outcome& y) { return x.next < y.next; });
  }
  return mdp;
}

double FiniteMdp::probability(int s, int a, int next) const {
  for (const Outcome& o : outcomes(s, a))
    if (o.next == next) return o.p;
  return 0.0;
}

bool FiniteMdp::is_deterministic() const {
  for (int s = 0; s < num_states_; ++s) {
    if (is_terminal(s)) continue;
    for (int a = 0; a < num_actions_; ++a)
      if (outcomes(s, a).size() != 1) return false;
  }
  return true;
}

MdpSpec FiniteMdp::to_spec() const {
  MdpSpec spec;
  spec.name = name_;
  spec.num_states = num_states_;
  spec.num_actions = num_actions_;
  spec.gamma = gamma_;
  for (int s = 0; s < num_states_; ++s) {
    if (initial_[static_cast<size_t>(s)] > 0.0)
      spec.initial.emplace_back(s, initial_[static_cast<size_t>(s)]);
    if (is_terminal(s)) {
      spec.terminal.push_back(s);
      continue;
    }
    for (int a = 0; a < num_actions_; ++a) {
      TransitionSpec t;
      t.s = s;
      t.a = a;
      for (const Outcome& o : outcomes(s, a)) t.outcomes.push_back(o);
      spec.transitions.push_back(std::move(t));
    }
  }
  return spec;
}

Policy Policy::uniform(int num_states, int num_actions) {
  Policy pi;
  pi.num_states = num_states;
  pi.num_actions = num_actions;
  pi.probs.assign(static_cast<size_t>(num_states) * static_cast<size_t>(num_actions),
                  1.0 / num_actions);
  return pi;
}

Policy Policy::deterministic(const std::vector<int>& actions, int num_actions) {
  Policy pi;
  pi.num_states = static_cast<int>(actions.size());
  pi.num_actions = num_actions;
  pi.probs.assign(actions.size() * static_cast<size_t>(num_actions), 0.0);
  for (size_t s = 0; s < actions.size(); ++s) pi.at(static_cast<int>(s), actions[s]) = 1.0;
  return pi;
}

void Policy::validate(int expected_states, int expected_actions, const std::string& source) const {
  if (num_states != expected_states || num_actions != expected_actions ||
      probs.size() != static_cast<size_t>(num_states) * static_cast<size_t>(num_actions)) {
    throw ValidationError("policy-shape", source + ".probs",
                          "policy has shape " + std::to_string(num_states) + " x " +
                              std::to_string(num_actions) + ", the MDP needs " +
                              std::to_string(expected_states) + " x " +
                              std::to_string(expected_actions));
  }
  for (int s = 0; s < num_states; ++s) {
    double sum = 0.0;
    for (int a = 0; a < num_actions; ++a) {
      double p = (*this)(s, a);
      if (!(p >= 0.0 && p <= 1.0 + kProbabilityTolerance)) {
        throw ValidationError("probability-range",
                              source + ".probs[" + std::to_string(s) + "][" +
                                  std::to_string(a) + "]",
                              "probability must be in [0, 1], got " + fmt_double(p));
      }
      sum += p;
    }
    if (std::abs(sum - 1.0) > kProbabilityTolerance) {
      throw ValidationError("probabilities-sum", source + ".probs[" + std::to_string(s) + "]",
                            "row sums to " + fmt_double(sum) + ", not 1 (tolerance 1e-9)");
    }
  }
}

double max_abs_difference(const QTable& x, const QTable& y) {
  if (x.values.size() != y.values.size()) {
    throw InputError("max_abs_difference: Q tables of different shapes");
  }
  double m = 0.0;
  for (size_t i = 0; i < x.values.size(); ++i) m = std::max(m, std::abs(x.values[i] - y.values[i]));
  return m;
}

}  // namespace bcq
