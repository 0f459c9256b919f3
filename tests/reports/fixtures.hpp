// Result files for the report tests, written from the formats' contracts (docs/report.md): a
// continuous study on Hopper (four batch kinds, four algorithms, four seeds), a verification
// run with one saved counterexample, a tabular study, and one malformed study.
#pragma once

#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include <fmt/core.h>

#include "tests/test_util.hpp"

namespace bcq::test::fixtures {

inline const std::vector<std::string> kKinds = {"final", "concurrent", "imitation", "imperfect"};
inline const std::vector<std::string> kAlgos = {"bcq", "ddpg", "bc", "vae-bc"};
constexpr int kSeeds = 4;

/// The behavioural return of a kind's buffers (the same for every seed).
inline double behavioural_return(size_t kind) { return std::vector<double>{1500, 1400, 3000, 1200}[kind]; }

/// The final return of one cell. BCQ reaches the behavioural return except on imperfect (a
/// failing claim); DDPG stays below; BC does well on imitation only; VAE-BC close to BC.
inline double final_return(size_t kind, size_t algo, int seed) {
  static const double base[4][4] = {{1700, 300, 800, 850},     // final
                                    {1600, 200, 700, 760},     // concurrent
                                    {3100, 150, 2950, 2900},   // imitation
                                    {600, 100, 500, 520}};     // imperfect
  static const double spread[4] = {-40.5, 12.25, 61, 3};
  return base[kind][algo] + spread[seed] * static_cast<double>(algo + 1);
}
inline double best_return(size_t kind, size_t algo, int seed) { return final_return(kind, algo, seed) + 25.5 + seed; }
/// DDPG overestimates; the others' critics are near the truth; BC and VAE-BC have none.
inline double q_estimate(size_t kind, size_t algo, int seed) {
  if (algo == 1) return 1.5e6 * (seed + 1) + static_cast<double>(kind);
  if (algo == 0) return 310 + seed + static_cast<double>(kind);
  return std::nan("");
}
inline double true_discounted(size_t kind, size_t algo, int seed) {
  return 300 + 2.0 * seed + static_cast<double>(kind) + 10.0 * static_cast<double>(algo);
}

inline std::string csv_number(double x) { return std::isnan(x) ? "" : fmt::format("{}", x); }

inline std::string cell_name(int id, size_t kind, const std::string& algo, int seed) {
  return fmt::format("{}-hopper-{}-{}-s{}", id, kKinds[kind], algo, seed);
}

/// DIR/study.json, spec.json, summary.csv and the cells' run folders.
inline void write_study(const std::string& dir) {
  namespace fs = std::filesystem;
  fs::create_directories(dir + "/cells");
  std::string summary =
      "env,kind,algo,seed,precision,iterations,final_return,best_return,behavioural_return,q_estimate,"
      "true_discounted_return,status,wall_seconds\n";
  std::string cells;
  int id = 0;
  for (size_t k = 0; k < kKinds.size(); ++k) {
    for (int s = 0; s < kSeeds; ++s) {
      int collect_id = -1;
      if (kKinds[k] != "concurrent") {
        collect_id = id++;
        const std::string name = fmt::format("{}-hopper-{}-collect-s{}", collect_id, kKinds[k], s);
        fs::create_directories(dir + "/cells/" + name);
        write_file(dir + "/cells/" + name + "/collect.json",
                   fmt::format(R"({{"transitions": 10000, "episodes": 12, "behavioural_return": {}}})", behavioural_return(k)));
        cells += fmt::format(R"({}{{"id": {}, "name": "{}", "type": "collect", "env": "hopper", "kind": "{}", "algo": "collect",
          "seed": {}, "depends": [], "state": "done", "error": null, "wall_seconds": 10.5, "folder": "cells/{}"}})",
                             cells.empty() ? "" : ",\n", collect_id, name, kKinds[k], s, name);
      }
      for (size_t a = 0; a < kAlgos.size(); ++a) {
        const int cid = id++;
        const std::string name = cell_name(cid, k, kAlgos[a], s);
        cells += fmt::format(R"(,
        {{"id": {}, "name": "{}", "type": "train", "env": "hopper", "kind": "{}", "algo": "{}", "seed": {},
          "depends": [{}], "state": "done", "error": null, "wall_seconds": 100.25, "folder": "cells/{}"}})",
                             cid, name, kKinds[k], kAlgos[a], s, collect_id < 0 ? "" : std::to_string(collect_id), name);
        const double fin = final_return(k, a, s), best = best_return(k, a, s);
        const double q = q_estimate(k, a, s), truth = true_discounted(k, a, s);
        summary += fmt::format("hopper,{},{},{},fp32,3000,{},{},{},{},{},done,100.25\n", kKinds[k], kAlgos[a], s,
                               csv_number(fin), csv_number(best), behavioural_return(k), csv_number(q), csv_number(truth));
        const std::string run = dir + "/cells/" + name;
        fs::create_directories(run);
        write_file(run + "/config.json",
                   fmt::format(R"({{"format": "bcq-run/1", "algo": "{}", "env": "hopper", "buffer": "/data/{}-s{}.h5",
                     "buffer_attributes": {{"kind": "{}", "behavioural_return": {}}}, "concurrent": {},
                     "iterations": 3000, "seed": {}}})",
                               kAlgos[a], kKinds[k], s, kKinds[k], behavioural_return(k),
                               kKinds[k] == "concurrent" ? "true" : "false", s));
        const std::string qs = std::isnan(q) ? "nan" : csv_number(q);
        write_file(run + "/eval.csv",
                   "iteration,mean_return,std_return,q_estimate,true_discounted_return,wall_seconds\n" +
                       fmt::format("1000,{},10,{},{},30\n2000,{},12,{},{},60\n3000,{},11,{},{},90\n", fin - 100, qs, truth,
                                   best, qs, truth, fin, qs, truth));
        write_file(run + "/status.json", R"({"status": "completed", "iteration": 3000})");
      }
    }
  }
  const std::string spec = R"({"format": "bcq-study/1", "envs": ["hopper"], "kinds": ["final", "concurrent", "imitation", "imperfect"], "seeds": 4})";
  write_file(dir + "/spec.json", spec);
  write_file(dir + "/summary.csv", summary);
  write_file(dir + "/study.json",
             R"({"format": "bcq-study-run/1", "spec": )" + spec +
                 R"(, "profile": "quick", "git_commit": "0123abcd", "versions": {"bcq": "0.4.0", "libtorch": "2.1.0",
                 "mujoco": "3.1.1", "compiler": "GCC 12.2.0"}, "machine": {"cpu": "Test CPU @ 2.0GHz",
                 "hardware_threads": 2, "hostname": "fixture-host"}, "wall_seconds": 4321.5, "cells": [)" +
                 cells + "]}");
}

/// DIR/verify.json (bcq-verify/1) with one probe whose counterexample is saved in
/// DIR/counterexamples/theorem2-stochastic/.
inline void write_verification(const std::string& dir) {
  namespace fs = std::filesystem;
  const std::string cx = dir + "/counterexamples/theorem2-stochastic";
  fs::create_directories(cx);
  write_file(cx + "/mdp.json", R"({"format": "bcq-mdp/1", "name": "cx", "num_states": 3, "num_actions": 2, "gamma": 0.9,
    "initial": [[0, 1.0]], "terminal": [2],
    "transitions": [
      {"s": 0, "a": 0, "outcomes": [{"next": 1, "p": 0.5, "r": 1.0}, {"next": 2, "p": 0.5, "r": 0.0}]},
      {"s": 0, "a": 1, "outcomes": [{"next": 2, "p": 1.0, "r": 0.25}]},
      {"s": 1, "a": 0, "outcomes": [{"next": 2, "p": 1.0, "r": 2.0}]},
      {"s": 1, "a": 1, "outcomes": [{"next": 2, "p": 1.0, "r": -1.0}]}]})");
  write_file(cx + "/batch.csv", "s,a,r,s_next,done\n0,0,1,1,0\n1,0,2,2,1\n1,0,2,2,1\n");
  write_file(cx + "/policy.json", R"({"format": "bcq-policy/1", "probs": [[1, 0], [1, 0], [0.5, 0.5]]})");
  write_file(cx + "/case.txt",
             "theorem2:stochastic: eps = 0.45 at (0,0) although pi is batch-constrained\n\n"
             "gamma 0.9, 3 states x 2 actions, terminal {2}\nbatch: (0,0,1,1) (1,0,2,2) (1,0,2,2)\n\n"
             "Replay:\n  bcq error --mdp mdp.json --batch batch.csv --policy policy.json --q-init 0\n  bcq mdp solve mdp.json\n");
  write_file(dir + "/verify.json", R"({"format": "bcq-verify/1", "cases": 200, "seed": 7, "ok": true, "statements": [
    {"name": "theorem1", "title": "Q-learning on B converges to Q* of M_B", "probe": false, "verdict": "passed",
     "ok": true, "cases_run": 200, "passed": 200, "discarded": 3, "classification": {"deterministic": 57, "stochastic": 143},
     "seed": 7, "seconds": 1.25, "cases_per_second": 160.0},
    {"name": "theorem2:stochastic", "title": "Theorem 2 without determinism", "probe": true,
     "verdict": "counterexample found", "ok": true, "cases_run": 14, "passed": 13, "discarded": 0, "classification": {},
     "seed": 8, "seconds": 0.5, "cases_per_second": 28.0, "dropped_condition": "deterministic MDP",
     "counterexample_expected": true, "explanation": "a stochastic transition seen once has p_B != p_M",
     "failure": "eps = 0.45 at (0,0) although pi is batch-constrained",
     "counterexample": "gamma 0.9 ...", "saved_files": ["elsewhere/counterexamples/theorem2-stochastic/mdp.json"]}]})");
}

/// The tabular study's mean normalised performance of one cell.
inline double tabular_mean(int det, int size_index, int algo) { return 0.1 * size_index + 0.05 * algo - 0.2 * det + 0.0125; }

/// DIR/tabular_summary.csv, tabular.csv and tabular_study.json.
inline void write_tabular(const std::string& dir) {
  std::filesystem::create_directories(dir);
  const char* algos[] = {"q-learning", "bcql", "pi-b-spibb"};
  const int sizes[] = {10, 100, 1000};
  std::string summary =
      "mdp,deterministic,behaviour,dataset_size,algo,runs,mean_normalised,cvar1_normalised,cvar10_normalised,p_improve,"
      "mean_extrapolation_error,mean_return\n";
  std::string runs =
      "mdp,deterministic,behaviour,dataset_size,dataset,algo,return,normalised,extrapolation_error,batch_constrained,"
      "behaviour_return,optimal_return\n";
  for (int det = 0; det < 2; ++det)
    for (int i = 0; i < 3; ++i)
      for (int a = 0; a < 3; ++a) {
        const double mean = tabular_mean(det, i, a);
        summary += fmt::format("gridworld,{},softmax,{},{},2,{},{},{},{},{},{}\n", det, sizes[i], algos[a], mean, mean - 0.5,
                               mean - 0.25, 0.5 + 0.1 * a, a == 2 ? "" : csv_number(1.0 / (i + 1) + a), 3.5 + mean);
        for (int d = 0; d < 2; ++d) {
          runs += fmt::format("gridworld,{},softmax,{},{},{},{},{},{},1,3,5\n", det, sizes[i], d, algos[a], 3.5 + mean, mean,
                              a == 2 ? "" : csv_number(1.0 / (i + 1) + a));
        }
      }
  write_file(dir + "/tabular_summary.csv", summary);
  write_file(dir + "/tabular.csv", runs);
  write_file(dir + "/tabular_study.json", R"({"format": "bcq-tabular-study/1", "runs_per_cell": 2})");
}

/// Everything above under DIR/results, plus DIR/results/broken/study.json (malformed).
inline void write_all(const std::string& dir) {
  write_study(dir + "/results/hopper-quick");
  // What an investigation of the failing claim found (shown under the claims table).
  write_file(dir + "/results/hopper-quick/findings.md",
             "BCQ on the imperfect buffer: the scale, not a defect.\n"
             "A longer run closes the gap.\n\n"
             "- 20k iterations: 608.9 <below> 1200\n"
             "- 100k iterations: 1190,\n  within the interval\n");
  write_verification(dir + "/results/demo");
  write_tabular(dir + "/results/tabular");
  std::filesystem::create_directories(dir + "/results/broken");
  write_file(dir + "/results/broken/study.json", R"({"format": "bcq-study-run/1", "spec": {}, "cells": 5})");
}

}  // namespace bcq::test::fixtures
