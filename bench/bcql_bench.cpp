// Sampled Q-learning (Eq. 2) and BCQL (Eq. 6) updates per second on the workload: a
// 1,000-state, 4-action garnet (branching 5) with a 1,000,000-transition batch drawn
// independently from a behaviour policy that never takes action 3 in odd states (so BCQL's
// in-batch max differs from Q-learning's). One thread. items_per_second = updates per second.
#include <benchmark/benchmark.h>

#include "bcql/sampled.hpp"
#include "bcql/synchronous.hpp"
#include "mdp/batch.hpp"
#include "mdp/generators.hpp"

namespace {

const bcq::bcql::PreparedBatch& workload() {
  static const bcq::bcql::PreparedBatch prepared = [] {
    const bcq::FiniteMdp mdp = bcq::garnet(1000, 4, 5, 42, 0.95);
    bcq::Policy behaviour = bcq::Policy::uniform(1000, 4);
    for (int s = 1; s < 1000; s += 2) {
      for (int a = 0; a < 3; ++a) behaviour.at(s, a) = 1.0 / 3.0;
      behaviour.at(s, 3) = 0.0;
    }
    const bcq::Batch batch = bcq::collect_independent(mdp, behaviour, 1000000, 7);
    return bcq::bcql::prepare_batch(mdp, batch);
  }();
  return prepared;
}

void run(benchmark::State& state, bcq::bcql::Algorithm algorithm, bcq::bcql::StepSchedule step) {
  const auto& batch = workload();
  bcq::bcql::SampledOptions options;
  options.algorithm = algorithm;
  options.step = step;
  options.max_updates = 10000000;
  uint64_t seed = 1;
  for (auto _ : state) {
    options.seed = seed++;
    auto result = bcq::bcql::run_sampled(batch, options);
    benchmark::DoNotOptimize(result.Q.values.data());
  }
  state.SetItemsProcessed(state.iterations() * options.max_updates);
}

void BM_QLearning_Constant(benchmark::State& state) {
  run(state, bcq::bcql::Algorithm::kQLearning, bcq::bcql::StepSchedule::constant(0.1));
}
void BM_Bcql_Constant(benchmark::State& state) {
  run(state, bcq::bcql::Algorithm::kBcql, bcq::bcql::StepSchedule::constant(0.1));
}
void BM_QLearning_RobbinsMonro(benchmark::State& state) {
  run(state, bcq::bcql::Algorithm::kQLearning, bcq::bcql::StepSchedule::polynomial(1.0, 0.8));
}
void BM_Bcql_RobbinsMonro(benchmark::State& state) {
  run(state, bcq::bcql::Algorithm::kBcql, bcq::bcql::StepSchedule::polynomial(1.0, 0.8));
}

// One synchronous sweep over the batch's empirical model (items = distinct (s,a,s')).
void BM_Bcql_SynchronousSweep(benchmark::State& state) {
  const auto& batch = workload();
  bcq::QTable q(batch.num_states, batch.num_actions, 0.0);
  for (auto _ : state) {
    q = bcq::bcql::apply_operator(batch, bcq::bcql::Algorithm::kBcql, q, {});
    benchmark::DoNotOptimize(q.values.data());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(batch.model.next.size()));
}

BENCHMARK(BM_QLearning_Constant)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Bcql_Constant)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_QLearning_RobbinsMonro)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Bcql_RobbinsMonro)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Bcql_SynchronousSweep)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
