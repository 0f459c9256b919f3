// Policy evaluation and value iteration on garnets (|A| = 4, branching 5) of 100, 1,000 and
// 10,000 states, one thread. Issue target: a 10,000-state policy evaluation under 50 ms.
#include <benchmark/benchmark.h>

#include "mdp/generators.hpp"
#include "mdp/solve.hpp"

namespace {

void BM_PolicyEvaluation(benchmark::State& state) {
  const int S = static_cast<int>(state.range(0));
  bcq::FiniteMdp mdp = bcq::garnet(S, 4, 5, 42, 0.95);
  bcq::Policy pi = bcq::Policy::uniform(S, 4);
  for (auto _ : state) {
    bcq::ValueResult r = bcq::evaluate_policy(mdp, pi);
    benchmark::DoNotOptimize(r.V.data());
    state.counters["error_bound"] = r.error_bound;
  }
  state.counters["states"] = S;
}
BENCHMARK(BM_PolicyEvaluation)->Arg(100)->Arg(1000)->Arg(10000)->Unit(benchmark::kMillisecond);

void BM_PolicyEvaluationSparseLU(benchmark::State& state) {
  const int S = static_cast<int>(state.range(0));
  bcq::FiniteMdp mdp = bcq::garnet(S, 4, 5, 42, 0.95);
  bcq::Policy pi = bcq::Policy::uniform(S, 4);
  for (auto _ : state) {
    bcq::ValueResult r = bcq::evaluate_policy(mdp, pi, bcq::LinearSolver::kSparseLU);
    benchmark::DoNotOptimize(r.V.data());
  }
}
BENCHMARK(BM_PolicyEvaluationSparseLU)->Arg(100)->Arg(1000)->Unit(benchmark::kMillisecond);

void BM_ValueIteration(benchmark::State& state) {
  const int S = static_cast<int>(state.range(0));
  bcq::FiniteMdp mdp = bcq::garnet(S, 4, 5, 42, 0.95);
  for (auto _ : state) {
    bcq::ValueResult r = bcq::value_iteration(mdp, 1e-8);
    benchmark::DoNotOptimize(r.V.data());
    state.counters["sweeps"] = r.iterations;
  }
}
BENCHMARK(BM_ValueIteration)->Arg(100)->Arg(1000)->Arg(10000)->Unit(benchmark::kMillisecond);

}  // namespace
