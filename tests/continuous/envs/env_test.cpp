// Semantics of bcq::envs::Env (continuous/envs/env.cpp): dimensions, observation layout,
// reward = sum of its terms, each termination rule from a constructed state, truncation at
// 1,000 steps, reset noise, determinism, warnings. Values are recomputed here from qpos/qvel,
// not read back from the wrapper.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "continuous/envs/env.hpp"
#include "common/random.hpp"
#include "tests/continuous/envs/strict_fixture.hpp"

namespace bcq::envs {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

using EnvTest = testing::StrictMujocoTest;

std::vector<double> random_action(const Env& env, Rng& rng) {
  const Bounds b = env.action_bounds();
  std::vector<double> a(env.action_size());
  for (std::size_t i = 0; i < a.size(); ++i) a[i] = rng.uniform(b.low[i], b.high[i]);
  return a;
}

// --- dimensions and bounds ---------------------------------------------------------------

TEST_F(EnvTest, RegistryOrderAndDimensions) {
  EXPECT_EQ(env_names(), (std::vector<std::string>{"hopper", "walker2d", "halfcheetah",
                                                   "inverted-pendulum"}));
  struct Expected { const char* name; std::size_t obs, act, nq, nv; int skip; double dt; };
  for (const Expected& e : {Expected{"hopper", 11, 3, 6, 6, 4, 0.008},
                            Expected{"walker2d", 17, 6, 9, 9, 4, 0.008},
                            Expected{"halfcheetah", 17, 6, 9, 9, 5, 0.05},
                            Expected{"inverted-pendulum", 4, 1, 2, 2, 2, 0.04}}) {
    SCOPED_TRACE(e.name);
    Env& env = make_strict(e.name);
    EXPECT_EQ(env.name(), e.name);
    EXPECT_EQ(env.observation_size(), e.obs);
    EXPECT_EQ(env.action_size(), e.act);
    EXPECT_EQ(env.qpos_size(), e.nq);
    EXPECT_EQ(env.qvel_size(), e.nv);
    EXPECT_EQ(env.frame_skip(), e.skip);
    EXPECT_DOUBLE_EQ(env.dt(), e.dt);
    EXPECT_EQ(env.max_episode_steps(), 1000);
    EXPECT_EQ(env.reset(1).size(), e.obs);
    EXPECT_EQ(env.initial_observation().size(), e.obs);
    const StepResult r = env.step(std::vector<double>(e.act, 0.0));
    EXPECT_EQ(r.observation.size(), e.obs);
    EXPECT_EQ(env.observation_bounds().low.size(), e.obs);
    EXPECT_EQ(env.action_bounds().high.size(), e.act);
  }
}

TEST_F(EnvTest, BoundsFollowTheControlRangeAndVelocityClip) {
  Env& hopper = make_strict("hopper");
  const Bounds a = hopper.action_bounds();
  EXPECT_EQ(a.low, std::vector<double>(3, -1.0));
  EXPECT_EQ(a.high, std::vector<double>(3, 1.0));
  const Bounds o = hopper.observation_bounds();
  for (int i = 0; i < 5; ++i) EXPECT_EQ(o.high[i], kInf) << i;   // qpos[1:]
  for (int i = 5; i < 11; ++i) EXPECT_EQ(o.high[i], 10.0) << i;  // clipped qvel
  for (int i = 5; i < 11; ++i) EXPECT_EQ(o.low[i], -10.0) << i;
  EXPECT_EQ(make_strict("halfcheetah").observation_bounds().high, std::vector<double>(17, kInf));
  EXPECT_EQ(make_strict("inverted-pendulum").action_bounds().low, std::vector<double>{-3.0});
}

// --- observation layout --------------------------------------------------------------------

TEST_F(EnvTest, HopperObservationIsQposWithoutXThenClippedQvel) {
  Env& env = make_strict("hopper");
  env.reset(3);
  std::vector<double> qpos = {0.7, 1.2, 0.05, -0.3, -0.2, 0.1};
  std::vector<double> qvel = {50.0, -12.0, 0.5, 9.5, -0.25, 3.0};
  env.set_state(qpos, qvel);
  const std::vector<double> expected = {1.2, 0.05, -0.3, -0.2, 0.1,
                                        10.0, -10.0, 0.5, 9.5, -0.25, 3.0};
  EXPECT_EQ(env.observation(), expected);
  EXPECT_EQ(env.qpos(), qpos);
  EXPECT_EQ(env.qvel(), qvel);
}

TEST_F(EnvTest, HalfCheetahObservationIsNotClipped) {
  Env& env = make_strict("halfcheetah");
  env.reset(3);
  std::vector<double> qpos(9, 0.0);
  std::vector<double> qvel(9, 0.0);
  qpos[0] = 5.0;  // x is left out
  qpos[1] = -0.1;
  qvel[0] = 25.0;
  qvel[8] = -40.0;
  env.set_state(qpos, qvel);
  const std::vector<double> obs = env.observation();
  EXPECT_EQ(obs[0], -0.1);
  EXPECT_EQ(obs[8], 25.0);
  EXPECT_EQ(obs[16], -40.0);
}

TEST_F(EnvTest, InitialObservationIsWhatResetReturned) {
  Env& env = make_strict("walker2d");
  const std::vector<double> first = env.reset(11);
  EXPECT_EQ(env.initial_observation(), first);
  env.step(std::vector<double>(6, 0.3));
  EXPECT_EQ(env.initial_observation(), first);
  EXPECT_NE(env.observation(), first);
}

// --- reward --------------------------------------------------------------------------------

// reward = forward + alive - control_cost, and each term recomputed from the state and the
// clipped action.
void check_reward_terms(Env& env, double alive, double ctrl_weight, std::uint64_t seed) {
  SCOPED_TRACE(env.name());
  Rng rng(seed);
  env.reset(seed);
  for (int t = 0; t < 30; ++t) {
    std::vector<double> action = random_action(env, rng);
    action[0] *= 1.7;  // sometimes out of range: the cost uses the clipped value
    double clipped_sq = 0.0;
    for (std::size_t i = 0; i < action.size(); ++i) {
      const double c = std::clamp(action[i], env.action_bounds().low[i], env.action_bounds().high[i]);
      clipped_sq += c * c;
    }
    const double x_before = env.qpos()[0];
    const StepResult r = env.step(action);
    const double x_after = env.qpos()[0];
    EXPECT_EQ(r.reward, r.terms.forward + r.terms.alive - r.terms.control_cost);
    EXPECT_NEAR(r.terms.forward, (x_after - x_before) / env.dt(), 1e-12);
    EXPECT_EQ(r.terms.alive, alive);
    EXPECT_NEAR(r.terms.control_cost, ctrl_weight * clipped_sq, 1e-15);
    if (r.terminated || r.truncated) env.reset();
  }
}

TEST_F(EnvTest, RewardIsTheSumOfItsTerms) {
  check_reward_terms(make_strict("hopper"), 1.0, 1e-3, 1);
  check_reward_terms(make_strict("walker2d"), 1.0, 1e-3, 2);
  check_reward_terms(make_strict("halfcheetah"), 0.0, 0.1, 3);
}

TEST_F(EnvTest, InvertedPendulumPaysOnePerStep) {
  Env& env = make_strict("inverted-pendulum");
  env.reset(4);
  const StepResult r = env.step({2.5});
  EXPECT_EQ(r.reward, 1.0);
  EXPECT_EQ(r.terms.forward, 0.0);
  EXPECT_EQ(r.terms.control_cost, 0.0);
}

TEST_F(EnvTest, ActionsAreClippedToTheControlRange) {
  Env& a = make_strict("hopper");
  Env& b = make_strict("hopper");
  a.reset(5);
  b.reset(5);
  const StepResult wild = a.step({5.0, -7.0, 0.5});
  const StepResult tame = b.step({1.0, -1.0, 0.5});
  EXPECT_EQ(wild.observation, tame.observation);
  EXPECT_DOUBLE_EQ(wild.terms.control_cost, 1e-3 * (1.0 + 1.0 + 0.25));
}

// --- termination from constructed states ---------------------------------------------------

/// The standing pose (qpos0) with zero velocity.
void stand(Env& env) {
  env.reset(0);
  std::vector<double> qpos = env.qpos();
  std::fill(qpos.begin(), qpos.end(), 0.0);
  qpos[1] = 1.25;
  env.set_state(qpos, std::vector<double>(env.qvel_size(), 0.0));
}

/// Health of the standing pose with qpos[index] (or qvel[index]) changed to `value`.
bool healthy_with(Env& env, bool velocity, int index, double value) {
  stand(env);
  std::vector<double> qpos = env.qpos();
  std::vector<double> qvel = env.qvel();
  (velocity ? qvel : qpos)[index] = value;
  env.set_state(qpos, qvel);
  return env.is_healthy();
}

TEST(EnvTermination, HopperHealthBoundaries) {
  auto env = make_env("hopper");
  stand(*env);
  EXPECT_TRUE(env->is_healthy());
  // Height z = qpos[1] > 0.7 (strict).
  EXPECT_TRUE(healthy_with(*env, false, 1, 0.7001));
  EXPECT_FALSE(healthy_with(*env, false, 1, 0.7));
  // Torso angle |qpos[2]| < 0.2 (strict).
  EXPECT_TRUE(healthy_with(*env, false, 2, 0.1999));
  EXPECT_FALSE(healthy_with(*env, false, 2, 0.2));
  EXPECT_FALSE(healthy_with(*env, false, 2, -0.2));
  // Every entry of qpos[2:] and qvel within (-100, 100); x and z are exempt.
  EXPECT_FALSE(healthy_with(*env, false, 3, -100.0));
  EXPECT_TRUE(healthy_with(*env, false, 3, -99.0));
  EXPECT_FALSE(healthy_with(*env, true, 4, 100.0));
  EXPECT_TRUE(healthy_with(*env, true, 4, 99.9));
  EXPECT_FALSE(healthy_with(*env, true, 0, -100.5));  // x velocity counts too
  EXPECT_TRUE(healthy_with(*env, false, 0, 1000.0));  // x position does not
  // Not finite.
  EXPECT_FALSE(healthy_with(*env, true, 2, kNaN));
}

TEST(EnvTermination, Walker2dHealthBoundaries) {
  auto env = make_env("walker2d");
  stand(*env);
  EXPECT_TRUE(env->is_healthy());
  EXPECT_FALSE(healthy_with(*env, false, 1, 0.8));
  EXPECT_TRUE(healthy_with(*env, false, 1, 0.8001));
  EXPECT_TRUE(healthy_with(*env, false, 1, 1.9999));
  EXPECT_FALSE(healthy_with(*env, false, 1, 2.0));
  EXPECT_TRUE(healthy_with(*env, false, 2, 0.999));
  EXPECT_FALSE(healthy_with(*env, false, 2, 1.0));
  EXPECT_FALSE(healthy_with(*env, false, 2, -1.0));
  EXPECT_TRUE(healthy_with(*env, true, 3, 500.0));  // no velocity rule for Walker2d
}

TEST(EnvTermination, InvertedPendulumAngleBoundary) {
  auto env = make_env("inverted-pendulum");
  env->reset(0);
  env->set_state({0.0, 0.2}, {0.0, 0.0});
  EXPECT_TRUE(env->is_healthy());
  env->set_state({0.0, -0.2001}, {0.0, 0.0});
  EXPECT_FALSE(env->is_healthy());
}

// Each rule fires through step(): a state just past the limit stays past it for one step.
TEST_F(EnvTest, EachHopperRuleTerminatesAStep) {
  Env& env = make_strict("hopper");
  const std::vector<double> zero(3, 0.0);
  struct Case { const char* rule; bool velocity; int index; double value; };
  for (const Case& c : {Case{"too low", false, 1, 0.6}, Case{"tilted forward", false, 2, 0.3},
                        Case{"tilted back", false, 2, -0.3}, Case{"joint speed", true, 4, 150.0}}) {
    SCOPED_TRACE(c.rule);
    stand(env);
    const StepResult healthy_step = env.step(zero);
    EXPECT_FALSE(healthy_step.terminated);
    healthy_with(env, c.velocity, c.index, c.value);
    const StepResult r = env.step(zero);
    EXPECT_TRUE(r.terminated);
    EXPECT_FALSE(r.truncated);
    EXPECT_EQ(r.terms.alive, 1.0);  // gym v3: the healthy reward is paid on the last step too
    EXPECT_THROW(env.step(zero), std::logic_error);
  }
}

TEST_F(EnvTest, EachWalker2dRuleTerminatesAStep) {
  Env& env = make_strict("walker2d");
  const std::vector<double> zero(6, 0.0);
  struct Case { const char* rule; int index; double value; };
  for (const Case& c : {Case{"too low", 1, 0.7}, Case{"too high", 1, 2.1},
                        Case{"tilted", 2, 1.1}, Case{"tilted back", 2, -1.1}}) {
    SCOPED_TRACE(c.rule);
    healthy_with(env, false, c.index, c.value);
    EXPECT_TRUE(env.step(zero).terminated);
  }
}

TEST_F(EnvTest, ZeroActionHopperFallsBeforeTheTimeLimit) {
  Env& env = make_strict("hopper");
  env.reset(0);
  StepResult r;
  int steps = 0;
  do {
    r = env.step({0.0, 0.0, 0.0});
    ++steps;
  } while (!r.terminated && !r.truncated);
  EXPECT_TRUE(r.terminated);
  EXPECT_LT(steps, 1000);
  EXPECT_GT(steps, 20);  // it stands for a while before toppling
  EXPECT_EQ(env.elapsed_steps(), steps);
}

// --- truncation ----------------------------------------------------------------------------

TEST_F(EnvTest, HalfCheetahIsTruncatedAtExactlyOneThousandSteps) {
  Env& env = make_strict("halfcheetah");
  env.reset(6);
  for (int t = 1; t < 1000; ++t) {
    const StepResult r = env.step(std::vector<double>(6, 0.0));
    ASSERT_FALSE(r.terminated) << t;
    ASSERT_FALSE(r.truncated) << t;
  }
  const StepResult last = env.step(std::vector<double>(6, 0.0));
  EXPECT_TRUE(last.truncated);
  EXPECT_FALSE(last.terminated);  // a truncated transition is not terminal
  EXPECT_EQ(env.elapsed_steps(), 1000);
  EXPECT_THROW(env.step(std::vector<double>(6, 0.0)), std::logic_error);
  env.reset();
  EXPECT_EQ(env.elapsed_steps(), 0);
  EXPECT_FALSE(env.step(std::vector<double>(6, 0.0)).truncated);
}

TEST_F(EnvTest, HalfCheetahNeverTerminatesEvenUpsideDown) {
  Env& env = make_strict("halfcheetah");
  env.reset(0);
  std::vector<double> qpos(9, 0.0);
  qpos[1] = 0.5;
  qpos[2] = 3.1;  // on its back
  env.set_state(qpos, std::vector<double>(9, 0.0));
  for (int t = 0; t < 50; ++t) EXPECT_FALSE(env.step(std::vector<double>(6, 0.0)).terminated);
}

TEST_F(EnvTest, TerminationWinsOverTruncationOnTheSameStep) {
  Env& env = make_strict("hopper");
  env.reset(0);
  int fall = 0;
  for (StepResult r; !r.terminated; ++fall) r = env.step({0.0, 0.0, 0.0});
  env.set_max_episode_steps(fall);
  env.reset(0);
  StepResult r;
  for (int t = 0; t < fall; ++t) r = env.step({0.0, 0.0, 0.0});
  EXPECT_TRUE(r.terminated);
  EXPECT_FALSE(r.truncated);
  EXPECT_THROW(env.set_max_episode_steps(0), InputError);
}

TEST_F(EnvTest, ShorterTimeLimit) {
  Env& env = make_strict("inverted-pendulum");
  env.set_max_episode_steps(5);
  env.reset(0);
  for (int t = 1; t < 5; ++t) ASSERT_FALSE(env.step({0.0}).truncated);
  EXPECT_TRUE(env.step({0.0}).truncated);
}

// --- reset noise and determinism -------------------------------------------------------------

TEST_F(EnvTest, UniformResetNoiseStaysInItsBand) {
  for (const char* name : {"hopper", "walker2d"}) {
    Env& env = make_strict(name);
    for (std::uint64_t seed = 0; seed < 50; ++seed) {
      env.reset(seed);
      const auto qpos = env.qpos();
      const auto qvel = env.qvel();
      EXPECT_LE(std::abs(qpos[1] - 1.25), 0.005);
      for (std::size_t i = 0; i < qpos.size(); ++i) {
        if (i != 1) {
          EXPECT_LE(std::abs(qpos[i]), 0.005) << name << " qpos " << i;
        }
      }
      for (double v : qvel) EXPECT_LE(std::abs(v), 0.005) << name;
    }
  }
}

TEST_F(EnvTest, HalfCheetahResetNoise) {
  Env& env = make_strict("halfcheetah");
  double sum = 0.0, sum_sq = 0.0, max_qpos = 0.0;
  int n = 0;
  for (std::uint64_t seed = 0; seed < 300; ++seed) {
    env.reset(seed);
    for (double q : env.qpos()) max_qpos = std::max(max_qpos, std::abs(q));
    for (double v : env.qvel()) {
      sum += v;
      sum_sq += v * v;
      ++n;
    }
  }
  EXPECT_LE(max_qpos, 0.1);
  EXPECT_GT(max_qpos, 0.09);  // uniform over the whole band
  const double mean = sum / n;
  const double sd = std::sqrt(sum_sq / n - mean * mean);
  EXPECT_NEAR(mean, 0.0, 0.01);  // 2700 draws: standard error 0.002
  EXPECT_NEAR(sd, 0.1, 0.006);
}

std::vector<std::vector<double>> trajectory(Env& env, std::uint64_t seed, int steps) {
  std::vector<std::vector<double>> obs = {env.reset(seed)};
  Rng policy(seed + 1000);
  for (int t = 0; t < steps; ++t) {
    const StepResult r = env.step(random_action(env, policy));
    obs.push_back(r.observation);
    if (r.terminated || r.truncated) obs.push_back(env.reset());
  }
  return obs;
}

TEST_F(EnvTest, SameSeedSameTrajectory) {
  for (const auto& name : env_names()) {
    SCOPED_TRACE(name);
    Env& a = make_strict(name);
    Env& b = make_strict(name);
    const auto first = trajectory(a, 42, 200);
    EXPECT_EQ(first, trajectory(b, 42, 200));  // a second instance
    EXPECT_EQ(first, trajectory(a, 42, 200));  // the same instance, reseeded
    EXPECT_NE(first.front(), trajectory(b, 43, 1).front());
  }
}

TEST_F(EnvTest, UnseededResetContinuesTheStream) {
  Env& env = make_strict("hopper");
  const auto first = env.reset(7);
  const auto second = env.reset();
  EXPECT_NE(first, second);
  env.reset(7);
  EXPECT_EQ(env.reset(), second);
}

// Steps `steps` random actions from `rng`, resetting (from the noise stream) at episode ends;
// returns every observation, reward and end flag in order.
std::vector<double> continue_run(Env& env, Rng& rng, int steps) {
  std::vector<double> out;
  StepResult r;
  for (int t = 0; t < steps; ++t) {
    const auto a = random_action(env, rng);
    env.step(a.data(), r);
    out.insert(out.end(), r.observation.begin(), r.observation.end());
    out.push_back(r.reward);
    out.push_back(r.terminated ? 1.0 : r.truncated ? 2.0 : 0.0);
    if (r.terminated || r.truncated) {
      const auto o = env.reset();
      out.insert(out.end(), o.begin(), o.end());
    }
  }
  return out;
}

TEST_F(EnvTest, SnapshotRestoredInAFreshEnvContinuesBitForBit) {
  for (const auto& name : env_names()) {
    SCOPED_TRACE(name);
    Env& original = make_strict(name);
    original.set_max_episode_steps(60);  // episodes end (and reset from the stream) in the run
    Rng actions(5);
    original.reset(11);
    continue_run(original, actions, 137);  // mid-episode, after at least one reset
    const EnvSnapshot snap = original.snapshot();
    Rng actions_copy = actions;
    const auto expected = continue_run(original, actions, 300);

    Env& fresh = make_strict(name);
    fresh.restore(snap);
    EXPECT_EQ(fresh.elapsed_steps(), snap.elapsed_steps);
    EXPECT_EQ(fresh.max_episode_steps(), 60);
    EXPECT_EQ(fresh.initial_observation(), snap.initial_observation);
    EXPECT_EQ(continue_run(fresh, actions_copy, 300), expected);  // exact, not close
  }
}

TEST_F(EnvTest, SnapshotOfAnotherEnvironmentIsRefused) {
  Env& hopper = make_strict("hopper");
  hopper.reset(1);
  EnvSnapshot snap = hopper.snapshot();
  Env& walker = make_strict("walker2d");
  EXPECT_THROW(walker.restore(snap), InputError);
  snap.physics.pop_back();
  EXPECT_THROW(hopper.restore(snap), InputError);
}

// --- plausibility ----------------------------------------------------------------------------

TEST_F(EnvTest, RandomPolicyHalfCheetahReturnIsPlausible) {
  Env& env = make_strict("halfcheetah");
  Rng policy(2019);
  env.reset(2019);
  double total = 0.0;
  int steps = 0;
  for (StepResult r; !r.truncated; ++steps) {
    r = env.step(random_action(env, policy));
    total += r.reward;
  }
  EXPECT_EQ(steps, 1000);
  // The control cost alone is 0.1 * E|a|^2 = 0.1 * 6 / 3 = 0.2 per step, i.e. -200.
  EXPECT_LT(total, 0.0);
  EXPECT_GT(total, -1000.0);
}

// --- misuse and warnings -----------------------------------------------------------------------

TEST(EnvMisuse, StepBeforeResetWrongSizeAndNonFiniteAction) {
  auto env = make_env("inverted-pendulum");
  EXPECT_THROW(env->step({0.0}), std::logic_error);
  env->reset(0);
  EXPECT_THROW(env->step({0.0, 0.0}), InputError);
  EXPECT_THROW(env->step({kNaN}), InputError);
  EXPECT_THROW(env->set_state({0.0}, {0.0, 0.0}), InputError);
}

TEST(EnvWarnings, AnUnstableStateIsRecordedAndStrictModeThrows) {
  auto env = make_env("halfcheetah");
  env->reset(0);
  std::vector<double> qvel(9, 0.0);
  qvel[3] = kNaN;
  env->set_state(std::vector<double>(9, 0.0), qvel);
  env->step(std::vector<double>(6, 0.0));
  ASSERT_FALSE(env->warnings().empty());
  EXPECT_NE(env->warnings().front().find("QVEL"), std::string::npos) << env->warnings().front();

  env->set_strict_warnings(true);
  env->set_state(std::vector<double>(9, 0.0), qvel);
  EXPECT_THROW(env->step(std::vector<double>(6, 0.0)), SimulationWarning);
}

}  // namespace
}  // namespace bcq::envs
