// bench_tabular_study: how many tabular-study runs (dataset, M_B, every algorithm, exact
// evaluation in the true MDP) one process does per second on SPIBB's 50-state garnets, and
// what one run costs as a multiple of one exact policy evaluation of the same garnet, measured
// in the same process (the baseline). Usage: bench_tabular_study [--runs N] [--size T]
// [--threads K]
#include <fmt/core.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "bcql/baseline_policy.hpp"
#include "mdp/solve.hpp"
#include "study/tabular/tabular_study.hpp"

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

int positive(const char* text, const char* name) {
  char* end = nullptr;
  const long v = std::strtol(text, &end, 10);
  if (*text == '\0' || *end != '\0' || v < 1 || v > 1000000) {
    fmt::print(stderr, "bench_tabular_study: {} needs a whole number in [1, 1000000], got '{}'\n",
               name, text);
    std::exit(2);
  }
  return static_cast<int>(v);
}

}  // namespace

int main(int argc, char** argv) {
  int runs = 40, size = 100, threads = 1;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if ((arg == "--runs" || arg == "--size" || arg == "--threads") && i + 1 < argc) {
      const int v = positive(argv[++i], arg.c_str());
      (arg == "--runs" ? runs : arg == "--size" ? size : threads) = v;
    } else {
      fmt::print(stderr, "usage: bench_tabular_study [--runs N] [--size T] [--threads K]\n");
      return 2;
    }
  }
  using namespace bcq::tabular_study;
  StudySpec spec = profile_spec("quick");
  const Cell cell{"garnet", false, "ratio-0.9", size};

  // Baseline: one exact policy evaluation (sparse LU) of the garnet of run 0.
  const bcq::FiniteMdp mdp = study_mdp(spec, "garnet", false, 0);
  const bcq::Policy uniform = bcq::Policy::uniform(mdp.num_states(), mdp.num_actions());
  auto t0 = std::chrono::steady_clock::now();
  int evaluations = 0;
  double sink = 0.0;
  while (seconds_since(t0) < 0.5) {
    sink += bcq::evaluate_policy(mdp, uniform).V[0];
    ++evaluations;
  }
  const double evaluation_s = seconds_since(t0) / evaluations;

  // Instance construction (garnet goal search + SPIBB baseline), once per run index.
  t0 = std::chrono::steady_clock::now();
  for (int k = 0; k < 3; ++k) sink += run_one(spec, cell, k).front().ret;
  const double first_runs_s = seconds_since(t0) / 3;

  // Steady state of the study: the instances of `runs` run indices are built once (a cell of
  // another dataset size), then timed runs reuse them, one cell per thread.
  spec.datasets = runs;
  auto cache = make_instance_cache();
  t0 = std::chrono::steady_clock::now();
  run_cell(spec, Cell{"garnet", false, "ratio-0.9", 10}, cache.get());
  const double build_s = (seconds_since(t0)) / runs;
  std::vector<Cell> cells;
  for (int t = 0; t < threads; ++t) cells.push_back(Cell{"garnet", false, "ratio-0.9", size + t});
  t0 = std::chrono::steady_clock::now();
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&, t] { run_cell(spec, cells[static_cast<size_t>(t)], cache.get()); });
  for (auto& th : pool) th.join();
  const double cell_s = seconds_since(t0);
  const double per_second = static_cast<double>(runs) * threads / cell_s;

  fmt::print("garnet {}x{} branching {}, behaviour ratio 0.9, {} trajectories per dataset, {} algorithms\n",
             spec.garnet_states, spec.garnet_actions, spec.garnet_branching, size,
             spec.algorithms.size());
  fmt::print("baseline: one exact policy evaluation = {:.1f} us\n", evaluation_s * 1e6);
  fmt::print("run with a fresh instance (garnet + baseline built): {:.2f} ms = {:.0f} evaluations\n",
             first_runs_s * 1e3, first_runs_s / evaluation_s);
  fmt::print("instance build + a 10-trajectory run: {:.2f} ms per run index\n", build_s * 1e3);
  fmt::print("{} thread(s), instances built: {:.1f} runs/s; one run = {:.2f} ms = {:.0f} "
             "evaluations\n",
             threads, per_second, threads / per_second * 1e3, threads / per_second / evaluation_s);
  if (sink == 12345.678) fmt::print(" ");
  return 0;
}
