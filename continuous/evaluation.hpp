// Internal: evaluation during training (the eval.csv row of docs/theory.md, "Evaluation").
// The public `bcq eval` entry point, evaluate_policy_file, is declared in training.hpp.
#pragma once

#include <cstdint>

#include "common/eval_csv.hpp"
#include "continuous/agent.hpp"
#include "continuous/envs/env.hpp"

namespace bcq::continuous {

/// Runs `episodes` episodes of `agent` in `env`, episode i from reset(seed + i), drawing the
/// agent's samples from one generator seeded with `seed`. Returns the row of eval.csv without
/// iteration and wall time: mean and std of the returns, the critic's mean estimate
/// Q(s_0, pi(s_0)) over the start states (NaN without a critic) and the mean true return
/// discounted with `discount`.
EvalRow evaluate_agent(Agent& agent, envs::Env& env, int episodes, uint64_t seed, double discount);

}  // namespace bcq::continuous
