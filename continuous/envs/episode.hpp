// One episode of an environment under a policy, and the mean and spread of returns: the one
// episode loop behind training's evaluation, `bcq eval` and `bcq env rollout`.
#pragma once

#include <cmath>
#include <vector>

#include "continuous/envs/env.hpp"

namespace bcq::envs {

/// What one episode gave.
struct Episode {
  double total_return = 0.0;       ///< sum of rewards (undiscounted)
  double discounted_return = 0.0;  ///< sum_t discount^t r_t
  int length = 0;                  ///< steps taken
  bool terminated = false;         ///< ended by the task (true) or the time limit (false)
};

/// Runs `env` from the episode just started (`observation`: what reset returned) until it
/// terminates or is truncated. `act(observation, action)` fills `action` (action_size()
/// values) for the current observation.
template <typename Act>
Episode run_episode(Env& env, std::vector<double> observation, Act&& act, double discount = 1.0) {
  Episode episode;
  std::vector<double> action(env.action_size(), 0.0);
  StepResult step;
  double weight = 1.0;
  for (;;) {
    act(static_cast<const std::vector<double>&>(observation), action);
    env.step(action.data(), step);
    episode.total_return += step.reward;
    episode.discounted_return += weight * step.reward;
    weight *= discount;
    ++episode.length;
    observation = step.observation;
    if (step.terminated || step.truncated) break;
  }
  episode.terminated = step.terminated;
  return episode;
}

/// Mean and population standard deviation (divided by n, as numpy's default) of `values`.
struct MeanStd {
  double mean = 0.0;
  double std = 0.0;
};
inline MeanStd mean_std(const std::vector<double>& values) {
  MeanStd m;
  const double n = static_cast<double>(values.size());
  for (double v : values) m.mean += v / n;
  for (double v : values) m.std += (v - m.mean) * (v - m.mean) / n;
  m.std = std::sqrt(m.std);
  return m;
}

}  // namespace bcq::envs
