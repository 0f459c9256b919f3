#include "mdp/generators.hpp"

#include <algorithm>
#include <cmath>
#include <set>
#include <string>

#include "common/random.hpp"
#include "mdp/solve.hpp"

namespace bcq {

FiniteMdp garnet(int num_states, int num_actions, int branching, uint64_t seed, double gamma,
                 int num_terminal) {
  if (num_states <= 0 || num_actions <= 0) {
    throw InputError("garnet: num_states and num_actions must be positive");
  }
  if (branching < 1 || branching > num_states) {
    throw InputError("garnet: branching must be in [1, num_states], got " + std::to_string(branching));
  }
  if (num_terminal < 0 || num_terminal >= num_states) {
    throw InputError("garnet: num_terminal must be in [0, num_states), got " +
                     std::to_string(num_terminal));
  }
  Rng rng(seed);
  MdpSpec spec;
  spec.name = "garnet-" + std::to_string(num_states) + "x" + std::to_string(num_actions) + "-b" +
              std::to_string(branching) + "-seed" + std::to_string(seed);
  spec.num_states = num_states;
  spec.num_actions = num_actions;
  spec.gamma = gamma;
  spec.initial = {{0, 1.0}};
  const int first_terminal = num_states - num_terminal;
  for (int s = first_terminal; s < num_states; ++s) spec.terminal.push_back(s);

  std::vector<int> pool(static_cast<size_t>(num_states));
  std::vector<double> cuts(static_cast<size_t>(branching) + 1);
  for (int s = 0; s < first_terminal; ++s) {
    for (int a = 0; a < num_actions; ++a) {
      // Distinct successors: a partial Fisher-Yates shuffle of 0..S-1.
      for (int i = 0; i < num_states; ++i) pool[static_cast<size_t>(i)] = i;
      for (int i = 0; i < branching; ++i) {
        int j = i + static_cast<int>(rng.below(static_cast<uint32_t>(num_states - i)));
        std::swap(pool[static_cast<size_t>(i)], pool[static_cast<size_t>(j)]);
      }
      // Probabilities: gaps between sorted uniform cut points of [0, 1].
      cuts[0] = 0.0;
      cuts[static_cast<size_t>(branching)] = 1.0;
      for (int i = 1; i < branching; ++i) cuts[static_cast<size_t>(i)] = rng.uniform();
      std::sort(cuts.begin() + 1, cuts.begin() + branching);
      TransitionSpec t;
      t.s = s;
      t.a = a;
      double assigned = 0.0;
      for (int i = 0; i < branching; ++i) {
        double p = cuts[static_cast<size_t>(i) + 1] - cuts[static_cast<size_t>(i)];
        if (i == branching - 1) p = 1.0 - assigned;  // exact sum despite rounding
        assigned += p;
        t.outcomes.push_back({pool[static_cast<size_t>(i)], p, rng.uniform()});
      }
      spec.transitions.push_back(std::move(t));
    }
  }
  return FiniteMdp::build(spec, spec.name);
}

FiniteMdp chain(int n, double slip, double gamma) {
  if (n < 2) throw InputError("chain: n must be at least 2, got " + std::to_string(n));
  if (!(slip >= 0.0 && slip < 1.0)) throw InputError("chain: slip must be in [0, 1)");
  MdpSpec spec;
  spec.name = "chain-" + std::to_string(n);
  spec.num_states = n;
  spec.num_actions = 2;
  spec.gamma = gamma;
  spec.initial = {{0, 1.0}};
  spec.terminal = {n - 1};
  for (int s = 0; s < n - 1; ++s) {
    for (int a = 0; a < 2; ++a) {
      int target = a == 0 ? std::max(0, s - 1) : s + 1;
      double r = target == n - 1 ? 1.0 : 0.0;
      TransitionSpec t{s, a, {}};
      if (slip == 0.0 || target == s) {
        t.outcomes.push_back({target, 1.0, r});
      } else {
        t.outcomes.push_back({target, 1.0 - slip, r});
        t.outcomes.push_back({s, slip, 0.0});
      }
      spec.transitions.push_back(std::move(t));
    }
  }
  return FiniteMdp::build(spec, spec.name);
}

FiniteMdp gridworld(int width, int height, double slip, const std::vector<std::pair<int, int>>& walls,
                    double gamma) {
  if (width < 1 || height < 1 || width * height < 2) {
    throw InputError("gridworld: needs at least 2 cells");
  }
  if (!(slip >= 0.0 && slip < 1.0)) throw InputError("gridworld: slip must be in [0, 1)");
  const int S = width * height;
  const int goal = S - 1;
  std::set<int> wall_set;
  for (auto [x, y] : walls) {
    if (x < 0 || x >= width || y < 0 || y >= height) {
      throw InputError("gridworld: wall (" + std::to_string(x) + "," + std::to_string(y) +
                       ") is outside the grid");
    }
    int id = y * width + x;
    if (id == 0 || id == goal) throw InputError("gridworld: a wall cannot cover the start or goal");
    wall_set.insert(id);
  }
  MdpSpec spec;
  spec.name = "grid-" + std::to_string(width) + "x" + std::to_string(height);
  spec.num_states = S;
  spec.num_actions = 4;
  spec.gamma = gamma;
  spec.initial = {{0, 1.0}};
  spec.terminal.push_back(goal);
  for (int w : wall_set) spec.terminal.push_back(w);
  const int dx[4] = {0, 1, 0, -1};
  const int dy[4] = {-1, 0, 1, 0};
  for (int s = 0; s < S; ++s) {
    if (s == goal || wall_set.count(s)) continue;
    int x = s % width, y = s / width;
    for (int a = 0; a < 4; ++a) {
      int nx = x + dx[a], ny = y + dy[a];
      int target = s;
      if (nx >= 0 && nx < width && ny >= 0 && ny < height && !wall_set.count(ny * width + nx))
        target = ny * width + nx;
      double r = target == goal ? 1.0 : -0.01;
      TransitionSpec t{s, a, {}};
      if (slip == 0.0 || target == s) {
        t.outcomes.push_back({target, 1.0, r});
      } else {
        t.outcomes.push_back({target, 1.0 - slip, r});
        t.outcomes.push_back({s, slip, -0.01});
      }
      spec.transitions.push_back(std::move(t));
    }
  }
  return FiniteMdp::build(spec, spec.name);
}

FiniteMdp spibb_garnet(int num_states, int num_actions, int branching, uint64_t seed, double gamma,
                       int horizon) {
  if (num_states < 2 || num_actions <= 0) {
    throw InputError("spibb_garnet: needs at least 2 states and 1 action");
  }
  if (branching < 1 || branching > num_states) {
    throw InputError("spibb_garnet: branching must be in [1, num_states], got " +
                     std::to_string(branching));
  }
  if (horizon < 1) throw InputError("spibb_garnet: horizon must be >= 1");
  // The successors and probabilities of every (s,a), drawn once; the goal is chosen after.
  Rng rng(seed);
  std::vector<std::vector<std::pair<int, double>>> successors(
      static_cast<size_t>(num_states) * static_cast<size_t>(num_actions));
  std::vector<int> pool(static_cast<size_t>(num_states));
  std::vector<double> cuts(static_cast<size_t>(branching) + 1);
  for (auto& row : successors) {
    for (int i = 0; i < num_states; ++i) pool[static_cast<size_t>(i)] = i;
    for (int i = 0; i < branching; ++i) {
      int j = i + static_cast<int>(rng.below(static_cast<uint32_t>(num_states - i)));
      std::swap(pool[static_cast<size_t>(i)], pool[static_cast<size_t>(j)]);
    }
    cuts[0] = 0.0;
    cuts[static_cast<size_t>(branching)] = 1.0;
    for (int i = 1; i < branching; ++i) cuts[static_cast<size_t>(i)] = rng.uniform();
    std::sort(cuts.begin() + 1, cuts.begin() + branching);
    double assigned = 0.0;
    for (int i = 0; i < branching; ++i) {
      double p = cuts[static_cast<size_t>(i) + 1] - cuts[static_cast<size_t>(i)];
      if (i == branching - 1) p = 1.0 - assigned;  // exact sum despite rounding
      assigned += p;
      row.emplace_back(pool[static_cast<size_t>(i)], p);
    }
  }
  const std::string name = "spibb-garnet-" + std::to_string(num_states) + "x" +
                           std::to_string(num_actions) + "-b" + std::to_string(branching) +
                           "-seed" + std::to_string(seed);
  auto with_goal = [&](int goal) {
    MdpSpec spec;
    spec.name = name;
    spec.num_states = num_states;
    spec.num_actions = num_actions;
    spec.gamma = gamma;
    spec.initial = {{0, 1.0}};
    spec.terminal = {goal};
    for (int s = 0; s < num_states; ++s) {
      if (s == goal) continue;
      for (int a = 0; a < num_actions; ++a) {
        TransitionSpec t{s, a, {}};
        for (auto [next, p] : successors[static_cast<size_t>(s) * static_cast<size_t>(num_actions) +
                                         static_cast<size_t>(a)])
          if (p > 0.0) t.outcomes.push_back({next, p, next == goal ? 1.0 : 0.0});
        spec.transitions.push_back(std::move(t));
      }
    }
    return FiniteMdp::build(spec, name);
  };
  // The hardest goal that is still reachable within about `horizon` steps (SPIBB's
  // "farther state": lowest V*(s_0) above gamma^horizon).
  const double floor_value = std::pow(gamma, horizon);
  int best_goal = -1;
  double best_value = 0.0;
  for (int goal = 1; goal < num_states; ++goal) {
    const double v0 = value_iteration(with_goal(goal), 1e-8).V[0];
    if (v0 > floor_value && (best_goal < 0 || v0 < best_value)) {
      best_goal = goal;
      best_value = v0;
    }
  }
  if (best_goal < 0) {
    throw InputError("spibb_garnet: no goal state is reachable from state 0 within the horizon "
                     "(seed " + std::to_string(seed) + ")");
  }
  return with_goal(best_goal);
}

}  // namespace bcq
