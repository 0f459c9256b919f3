// The one episode loop (continuous/envs/episode.hpp) against a loop written out by hand, and
// mean_std against a hand-worked example.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "continuous/envs/env.hpp"
#include "continuous/envs/episode.hpp"

namespace bcq::envs {
namespace {

TEST(Episode, MatchesAHandWrittenLoopWithDiscountedReturn) {
  auto env = make_env("inverted-pendulum");
  auto act = [](const std::vector<double>& obs, std::vector<double>& action) {
    action[0] = obs[1] > 0 ? 0.5 : -0.5;  // any policy that reads the observation
  };
  const Episode episode = run_episode(*env, env->reset(7), act, 0.9);
  auto reference_env = make_env("inverted-pendulum");
  std::vector<double> obs = reference_env->reset(7), action(1);
  double total = 0, discounted = 0, weight = 1;
  int length = 0;
  StepResult step;
  do {
    act(obs, action);
    step = reference_env->step(action);
    total += step.reward;
    discounted += weight * step.reward;
    weight *= 0.9;
    ++length;
    obs = step.observation;
  } while (!step.terminated && !step.truncated);
  EXPECT_EQ(episode.total_return, total);
  EXPECT_EQ(episode.discounted_return, discounted);
  EXPECT_EQ(episode.length, length);
  EXPECT_EQ(episode.terminated, step.terminated);
  EXPECT_LT(episode.discounted_return, episode.total_return);  // rewards of 1 per step
}

TEST(Episode, MeanStdIsThePopulationStatistic) {
  const MeanStd m = mean_std({1.0, 2.0, 3.0, 4.0});
  EXPECT_DOUBLE_EQ(m.mean, 2.5);
  EXPECT_DOUBLE_EQ(m.std, std::sqrt(1.25));  // (2.25 + 0.25 + 0.25 + 2.25) / 4
  EXPECT_EQ(mean_std({5.0}).std, 0.0);
}

}  // namespace
}  // namespace bcq::envs
