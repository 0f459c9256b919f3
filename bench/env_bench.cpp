// Environment steps per second: the bcq::envs::Env wrapper against raw mj_step x frame_skip on
// the same model in the same run (issue 5; target: wrapper overhead under 5%).
//
// Both sides apply the same pre-drawn actions (10% of the control range, so that Hopper and
// Walker2d rarely fall) and start a new episode every kEpisode steps: the raw side with
// mj_resetData + mj_forward, the wrapper with reset() (time limit set to kEpisode). An episode
// that terminates early resets the wrapper sooner; the `resets` counter shows how often.
//
// BM_Overhead interleaves raw and wrapper chunks inside one benchmark so both see the same
// machine load (the build machine is shared), and reports overhead_pct directly.
#include <benchmark/benchmark.h>
#include <mujoco/mujoco.h>

#include <array>
#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "continuous/envs/env.hpp"
#include "common/random.hpp"

namespace {

using bcq::envs::Env;

constexpr int kEpisode = 50;
constexpr int kActionTable = 997;  // prime, so the action cycle does not align with episodes

struct ModelDeleter {
  void operator()(mjModel* m) const { mj_deleteModel(m); }
};
struct DataDeleter {
  void operator()(mjData* d) const { mj_deleteData(d); }
};

/// The same model, driven by hand.
struct RawSim {
  explicit RawSim(const std::string& name) {
    std::array<char, 1024> error{};
    model.reset(mj_loadXML(bcq::envs::model_path(name).c_str(), nullptr, error.data(), error.size()));
    if (!model) throw std::runtime_error(error.data());
    data.reset(mj_makeData(model.get()));
    mj_forward(model.get(), data.get());
  }
  std::unique_ptr<mjModel, ModelDeleter> model;
  std::unique_ptr<mjData, DataDeleter> data;
};

std::vector<double> action_table(const Env& env) {
  bcq::Rng rng(2019);
  const auto bounds = env.action_bounds();
  std::vector<double> table(kActionTable * env.action_size());
  for (std::size_t i = 0; i < table.size(); ++i) {
    const std::size_t j = i % env.action_size();
    table[i] = 0.1 * rng.uniform(bounds.low[j], bounds.high[j]);
  }
  return table;
}

/// Runs `steps` raw environment steps; returns them.
int raw_steps(RawSim& sim, int frame_skip, const std::vector<double>& actions, int& cursor,
              int& in_episode, int steps) {
  const mjModel* m = sim.model.get();
  mjData* d = sim.data.get();
  for (int s = 0; s < steps; ++s) {
    const double* a = actions.data() + static_cast<std::size_t>(cursor) * m->nu;
    for (int i = 0; i < m->nu; ++i) d->ctrl[i] = a[i];
    for (int k = 0; k < frame_skip; ++k) mj_step(m, d);
    cursor = (cursor + 1) % kActionTable;
    if (++in_episode == kEpisode) {
      mj_resetData(m, d);
      mj_forward(m, d);
      in_episode = 0;
    }
  }
  benchmark::DoNotOptimize(d->qpos[0]);
  return steps;
}

int env_steps(Env& env, const std::vector<double>& actions, int& cursor, int& resets, int steps,
              bcq::envs::StepResult& result) {
  const std::size_t nu = env.action_size();
  for (int s = 0; s < steps; ++s) {
    env.step(actions.data() + static_cast<std::size_t>(cursor) * nu, result);
    cursor = (cursor + 1) % kActionTable;
    if (result.terminated || result.truncated) {
      env.reset();
      ++resets;
    }
  }
  benchmark::DoNotOptimize(result.reward);
  return steps;
}

void BM_RawStep(benchmark::State& state, const char* name) {
  const auto env = bcq::envs::make_env(name);
  RawSim sim(name);
  const auto actions = action_table(*env);
  int cursor = 0, in_episode = 0;
  for (auto _ : state) raw_steps(sim, env->frame_skip(), actions, cursor, in_episode, 1);
  state.SetItemsProcessed(state.iterations());
  state.SetLabel("env steps (mj_step x " + std::to_string(env->frame_skip()) + ")");
}

void BM_EnvStep(benchmark::State& state, const char* name) {
  const auto env = bcq::envs::make_env(name);
  env->set_max_episode_steps(kEpisode);
  env->reset(0);
  const auto actions = action_table(*env);
  bcq::envs::StepResult result;
  int cursor = 0, resets = 0;
  for (auto _ : state) env_steps(*env, actions, cursor, resets, 1, result);
  state.SetItemsProcessed(state.iterations());
  state.counters["resets"] = benchmark::Counter(resets);
  state.counters["warnings"] = benchmark::Counter(static_cast<double>(env->warnings().size()));
}

// Alternating chunks of raw and wrapper steps, timed with steady_clock.
void BM_Overhead(benchmark::State& state, const char* name) {
  using Clock = std::chrono::steady_clock;
  const auto env = bcq::envs::make_env(name);
  env->set_max_episode_steps(kEpisode);
  env->reset(0);
  RawSim sim(name);
  const auto actions = action_table(*env);
  bcq::envs::StepResult result;
  int raw_cursor = 0, raw_in_episode = 0, env_cursor = 0, resets = 0;
  constexpr int kChunk = 200;
  double raw_seconds = 0.0, env_seconds = 0.0;
  long total = 0;
  for (auto _ : state) {
    const auto t0 = Clock::now();
    raw_steps(sim, env->frame_skip(), actions, raw_cursor, raw_in_episode, kChunk);
    const auto t1 = Clock::now();
    env_steps(*env, actions, env_cursor, resets, kChunk, result);
    const auto t2 = Clock::now();
    raw_seconds += std::chrono::duration<double>(t1 - t0).count();
    env_seconds += std::chrono::duration<double>(t2 - t1).count();
    total += kChunk;
  }
  state.counters["raw_steps_per_s"] = benchmark::Counter(total / raw_seconds);
  state.counters["env_steps_per_s"] = benchmark::Counter(total / env_seconds);
  state.counters["overhead_pct"] = benchmark::Counter(100.0 * (env_seconds / raw_seconds - 1.0));
  state.counters["resets"] = benchmark::Counter(resets);
}

BENCHMARK_CAPTURE(BM_RawStep, hopper, "hopper");
BENCHMARK_CAPTURE(BM_EnvStep, hopper, "hopper");
BENCHMARK_CAPTURE(BM_Overhead, hopper, "hopper")->MinTime(1.0);
BENCHMARK_CAPTURE(BM_RawStep, walker2d, "walker2d");
BENCHMARK_CAPTURE(BM_EnvStep, walker2d, "walker2d");
BENCHMARK_CAPTURE(BM_Overhead, walker2d, "walker2d")->MinTime(1.0);
BENCHMARK_CAPTURE(BM_RawStep, halfcheetah, "halfcheetah");
BENCHMARK_CAPTURE(BM_EnvStep, halfcheetah, "halfcheetah");
BENCHMARK_CAPTURE(BM_Overhead, halfcheetah, "halfcheetah")->MinTime(1.0);
BENCHMARK_CAPTURE(BM_RawStep, inverted_pendulum, "inverted-pendulum");
BENCHMARK_CAPTURE(BM_EnvStep, inverted_pendulum, "inverted-pendulum");
BENCHMARK_CAPTURE(BM_Overhead, inverted_pendulum, "inverted-pendulum")->MinTime(1.0);

}  // namespace
