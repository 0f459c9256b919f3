// Random and structured MDP generators. Same arguments and seed, same MDP, on every machine
// (they use bcq::Rng, never the standard library's distributions).
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "mdp/finite_mdp.hpp"

namespace bcq {

/// Garnet(|S|, |A|, branching) as in the SPIBB benchmark: every (s,a) has `branching` distinct
/// successors drawn uniformly, with probabilities from `branching - 1` uniform cut points of
/// [0, 1]. Rewards r(s,a,s') are uniform in [0, 1). d_0 = state 0. `num_terminal` states
/// (the last ones) are terminal. branching = 1 gives a deterministic MDP.
FiniteMdp garnet(int num_states, int num_actions, int branching, uint64_t seed,
                 double gamma = 0.9, int num_terminal = 0);

/// Chain of n states, actions {0: left, 1: right}. The intended move happens with probability
/// 1 - slip, otherwise the agent stays. Reaching the last state (terminal) pays 1; every other
/// step pays 0. d_0 = state 0. slip = 0 gives a deterministic MDP.
FiniteMdp chain(int n, double slip, double gamma = 0.9);

/// Gridworld w x h, actions {0: up, 1: right, 2: down, 3: left}. The intended move happens with
/// probability 1 - slip, otherwise the agent stays; moves into a wall or off the grid stay.
/// Start at cell (0,0) (state 0), goal at (w-1,h-1) (terminal, pays 1); each other step pays
/// -0.01. State id = y * w + x. `walls` lists blocked cells (x, y) (they stay in the state
/// space as terminal states never reached). slip = 0 gives a deterministic MDP.
FiniteMdp gridworld(int width, int height, double slip,
                    const std::vector<std::pair<int, int>>& walls, double gamma = 0.9);

/// The garnets of the SPIBB benchmark (Laroche et al. 2019): every (s,a) has `branching`
/// distinct successors drawn uniformly with probabilities from uniform cut points (as garnet()),
/// d_0 = state 0, and one goal state, terminal, that pays 1 on arrival (every other reward is
/// 0). As in SPIBB, the goal is the "farthest" state: among states 1..S-1, the one whose optimal
/// return from state 0 is lowest while still above gamma^horizon. branching = 1 gives a
/// deterministic garnet. Throws InputError when no state qualifies.
FiniteMdp spibb_garnet(int num_states, int num_actions, int branching, uint64_t seed,
                       double gamma = 0.95, int horizon = 50);

}  // namespace bcq
