#include "proofs_checks/cases.hpp"

#include <algorithm>
#include <cmath>

#include "mdp/analysis.hpp"
#include "mdp/batch_mdp.hpp"
#include "common/random.hpp"

namespace bcq::proofs {
namespace {

// Weight (as in MdpChoices) of each successor of (s,a), recovered from the choices.
std::vector<std::pair<int, int>> successor_weights(const MdpChoices& c, int s, int a) {
  const size_t base = 3 * (static_cast<size_t>(s) * static_cast<size_t>(c.num_actions) + static_cast<size_t>(a));
  std::vector<std::pair<int, int>> out;
  out.emplace_back(c.next[base] % c.num_states, c.weight[base] + 1);
  if (!c.stochastic) return out;
  for (size_t i = 1; i < 3; ++i) {
    int next = c.next[base + i] % c.num_states;
    if (c.weight[base + i] <= 0) continue;
    bool seen = false;
    for (auto& [n, w] : out) seen = seen || n == next;
    if (!seen) out.emplace_back(next, c.weight[base + i]);
  }
  return out;
}

}  // namespace

FiniteMdp decode_mdp(const MdpChoices& c, bool sampled_gamma) {
  const int S = c.num_states, A = c.num_actions;
  MdpSpec spec;
  spec.name = "case";
  spec.num_states = S;
  spec.num_actions = A;
  spec.gamma = sampled_gamma ? kSampledGammas[c.gamma_index % 3] : kGammas[c.gamma_index % 4];
  spec.initial = {{0, 1.0}};
  const int T = c.num_terminal % S;  // at most S - 1: state 0 (d_0) is never terminal
  for (int s = S - T; s < S; ++s) spec.terminal.push_back(s);
  for (int s = 0; s < S - T; ++s) {
    for (int a = 0; a < A; ++a) {
      auto succ = successor_weights(c, s, a);
      int total = 0;
      for (auto& [n, w] : succ) total += w;
      const size_t base = 3 * (static_cast<size_t>(s) * static_cast<size_t>(A) + static_cast<size_t>(a));
      TransitionSpec t{s, a, {}};
      for (size_t i = 0; i < succ.size(); ++i) {
        // The reward of successor i comes from the first choice slot that names it.
        double r = 0.0;
        for (size_t j = 0; j < 3; ++j)
          if (c.next[base + j] % S == succ[i].first) {
            r = c.reward[base + j];
            break;
          }
        t.outcomes.push_back({succ[i].first, static_cast<double>(succ[i].second) / static_cast<double>(total), r});
      }
      spec.transitions.push_back(std::move(t));
    }
  }
  return FiniteMdp::build(spec, "generated case");
}

Batch decode_batch(const FiniteMdp& mdp, const BatchChoices& c) {
  const int S = mdp.num_states(), A = mdp.num_actions();
  Batch batch;
  auto add = [&](int s, int a, int idx) {
    auto outs = mdp.outcomes(s, a);
    const Outcome& o = *(outs.begin() + idx % static_cast<int>(outs.size()));
    batch.transitions.push_back({s, a, o.r, o.next, mdp.is_terminal(o.next)});
    return o.next;
  };
  if (c.trajectories) {
    int s = 0;
    for (int x : c.steps) {
      if (mdp.is_terminal(s)) s = 0;
      s = add(s, x % A, x / A);
    }
    if (c.close) {
      for (bool changed = true; changed;) {
        changed = false;
        std::vector<char> in_b(static_cast<size_t>(S), 0);
        for (const Transition& t : batch.transitions) in_b[static_cast<size_t>(t.s)] = 1;
        for (size_t i = 0; i < batch.size(); ++i) {
          int next = batch.transitions[i].s_next;
          if (!mdp.is_terminal(next) && !in_b[static_cast<size_t>(next)]) {
            add(next, 0, 0);
            in_b[static_cast<size_t>(next)] = 1;
            changed = true;
          }
        }
      }
    }
  } else {
    for (int s = 0; s < S; ++s) {
      if (mdp.is_terminal(s)) continue;
      for (int a = 0; a < A; ++a) {
        const size_t k = static_cast<size_t>(s) * static_cast<size_t>(A) + static_cast<size_t>(a);
        int mode = c.coverage[k];
        auto outs = mdp.outcomes(s, a);
        if (mode == 1) {
          // Exact frequencies: p_M = w / total with integer weights and total <= 10, so the
          // smallest t in 1..10 with every p * t integral gives counts with N(s,a,s') / N(s,a)
          // equal to p_M as the same rational, hence the same double.
          int t = 1;
          for (; t < 10; ++t) {
            bool integral = true;
            for (const Outcome& o : outs) integral = integral && std::abs(o.p * t - std::round(o.p * t)) < 1e-9;
            if (integral) break;
          }
          for (const Outcome& o : outs) {
            long copies = std::lround(o.p * t);
            for (long i = 0; i < copies; ++i) batch.transitions.push_back({s, a, o.r, o.next, mdp.is_terminal(o.next)});
          }
        } else if (mode == 2) {
          for (int i = 0; i < static_cast<int>(outs.size()); ++i) {
            int copies = c.counts[3 * k + static_cast<size_t>(i)];
            for (int j = 0; j < copies; ++j) add(s, a, i);
          }
        }
      }
    }
  }
  if (batch.empty()) add(0, 0, 0);
  return batch;
}

Batch exact_frequency_batch(const FiniteMdp& mdp, const MdpChoices&) {
  BatchChoices c;
  c.trajectories = false;
  c.coverage.assign(static_cast<size_t>(mdp.num_states()) * static_cast<size_t>(mdp.num_actions()), 1);
  c.counts.assign(3 * c.coverage.size(), 0);
  return decode_batch(mdp, c);
}

Policy decode_policy(const FiniteMdp& mdp, const Batch& batch, const PolicyChoices& c) {
  const int S = mdp.num_states(), A = mdp.num_actions();
  std::vector<double> w(static_cast<size_t>(S) * static_cast<size_t>(A));  // first S*A weights
  for (size_t i = 0; i < w.size(); ++i) w[i] = c.weight[i];  // weight may be longer
  if (c.batch_constrained) {
    BatchCounts counts = count_batch(batch, S, A);
    BatchConstrainedExistence e = find_batch_constrained_policy(mdp, batch);
    for (int s = 0; s < S; ++s) {
      for (int a = 0; a < A; ++a) {
        bool keep = e.exists ? e.witness(s, a) > 0.0 : (!counts.contains_state(s) || counts.contains(s, a));
        if (!keep) w[static_cast<size_t>(s * A + a)] = 0.0;
      }
      // A row whose chosen weights all vanished falls back to the allowed actions, uniformly.
      double sum = 0.0;
      for (int a = 0; a < A; ++a) sum += w[static_cast<size_t>(s * A + a)];
      if (sum == 0.0) {
        for (int a = 0; a < A; ++a) {
          bool allowed = e.exists ? e.witness(s, a) > 0.0 : (!counts.contains_state(s) || counts.contains(s, a));
          w[static_cast<size_t>(s * A + a)] = allowed ? 1.0 : 0.0;
        }
      }
    }
  }
  Policy pi;
  pi.num_states = S;
  pi.num_actions = A;
  pi.probs.assign(w.size(), 0.0);
  for (int s = 0; s < S; ++s) {
    double sum = 0.0;
    for (int a = 0; a < A; ++a) sum += w[static_cast<size_t>(s * A + a)];
    for (int a = 0; a < A; ++a) pi.at(s, a) = sum > 0.0 ? w[static_cast<size_t>(s * A + a)] / sum : 1.0 / A;
  }
  return pi;
}

std::pair<FiniteMdp, Batch> with_generic_rewards(const FiniteMdp& mdp, const Batch& batch, uint64_t seed) {
  MdpSpec spec = mdp.to_spec();
  Rng rng(seed);
  for (TransitionSpec& t : spec.transitions)
    for (Outcome& o : t.outcomes) o.r = 2.0 * rng.uniform() - 1.0;
  FiniteMdp m = FiniteMdp::build(spec, "generic rewards");
  Batch b = batch;
  for (Transition& t : b.transitions) {
    for (const Outcome& o : m.outcomes(t.s, t.a))
      if (o.next == t.s_next) t.r = o.r;
  }
  return {std::move(m), std::move(b)};
}

Policy extend_to_batch_mdp(const Policy& pi) {
  Policy out = pi;
  out.num_states = pi.num_states + 1;
  for (int a = 0; a < pi.num_actions; ++a) out.probs.push_back(1.0 / pi.num_actions);
  return out;
}

}  // namespace bcq::proofs
