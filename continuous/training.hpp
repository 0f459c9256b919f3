// Offline training with periodic evaluation and checkpoints (`bcq train`, training.cpp), batch
// collection with a behavioural DDPG agent (`bcq collect`, collection.cpp), and evaluation of
// an exported TorchScript policy (`bcq eval`, evaluation.cpp). No LibTorch in this header: the
// CLI and the study runner include it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "continuous/config.hpp"

namespace bcq::continuous {

/// Sets LibTorch's intra-op thread count (0: one per hardware thread) and flushes denormal
/// floats (they slow BCQ ~17% after a few hundred iterations). Returns the thread count.
int configure_torch(int threads);

/// Options of `bcq train`.
struct TrainOptions {
  std::string algo = "bcq";       ///< bcq | ddpg | bc | vae-bc
  std::string env;                ///< environment name (continuous/envs registry)
  std::string buffer_path;        ///< HDF5 buffer (D4RL keys); unused with concurrent
  std::string out_dir;            ///< run folder: config.json, eval.csv, checkpoint.pt, policy.pt
  int64_t iterations = 300000;    ///< training iterations (paper: 300k)
  int64_t eval_every = 5000;      ///< evaluate + checkpoint every K iterations (paper: 5k)
  int eval_episodes = 10;         ///< evaluation episodes (paper: 10)
  uint64_t seed = 0;              ///< seeds networks, batch sampling; evaluation uses seed + 100
  bool resume = false;            ///< continue the run in out_dir from its checkpoint
  std::string device = "cpu";     ///< cpu | cuda
  int threads = 0;                ///< LibTorch intra-op threads (0: hardware threads)
  /// Hidden-layer matrix products: fp32 (the paper's) or bf16 (bcq only; see MatmulPrecision).
  std::string precision = "fp32";
  bool progress = false;          ///< progress line on stderr
  /// Concurrent setting: a behavioural DDPG (N(0, 0.1) noise) collects into a growing buffer
  /// while the offline agent trains on it; one environment step per iteration.
  bool concurrent = false;
  int64_t start_steps = 25000;    ///< concurrent: uniformly random behavioural steps first
  /// Every hyperparameter of the agent trained (the config of `algo`) and, with concurrent,
  /// of the behavioural DDPG (`ddpg`); defaults the paper's. `precision` above overrides
  /// hyperparameters.bcq.precision.
  AgentConfigs hyperparameters;
  /// concurrent: the behavioural agent's exploration noise (concurrent_noise).
  BehaviourConfig behaviour;
};

/// How a training run ended.
struct TrainResult {
  bool diverged = false;          ///< a loss became NaN/Inf; the last good checkpoint is kept
  int64_t iteration = 0;          ///< iterations completed
  int64_t checkpoint_iteration = 0;  ///< iteration of the last checkpoint written
  std::string message;            ///< for diverged runs: which loss, where
  double final_mean_return = 0.0; ///< mean return of the last evaluation (NaN if none)
};

/// Runs `bcq train`. Throws bcq::InputError for bad input (unknown algorithm or
/// environment, a buffer that does not fit, a run folder in use without --resume).
TrainResult train(const TrainOptions& options);

/// Options of `bcq collect`.
struct CollectOptions {
  std::string env;
  std::string kind = "final";      ///< final | concurrent | imitation | imperfect
  int64_t steps = 1000000;         ///< transitions to keep (paper: 1M; imperfect 100k)
  int64_t expert_steps = 0;        ///< imitation/imperfect: expert training steps (0: = steps)
  int64_t start_steps = 25000;     ///< uniformly random steps before the behavioural actor acts
  uint64_t seed = 0;
  std::string out_path;            ///< HDF5 file
  int threads = 0;
  bool progress = false;
  /// Checkpoint (agent, generators, environment, buffers) into `<out_path>.checkpoint/` every
  /// K environment steps; removed when the output is written.
  int64_t checkpoint_every = 50000;
  bool resume = false;             ///< continue an interrupted run from its checkpoint
  /// imitation/imperfect: write the trained expert (DDPG agent state) to this file once its
  /// training ends, so that another batch can reuse it (empty: not written).
  std::string expert_out;
  /// imitation/imperfect: act with the expert saved in this file (by expert_out) instead of
  /// training one; expert_steps is then ignored. The file must be for the same environment.
  std::string expert_in;
  DdpgConfig agent;                ///< the behavioural DDPG's hyperparameters (paper defaults)
  BehaviourConfig behaviour;       ///< its exploration noise per kind (paper defaults)
};

struct CollectResult {
  int64_t transitions = 0;
  int64_t episodes = 0;
  double behavioural_return = 0.0;  ///< mean return of the complete episodes in the buffer
};

CollectResult collect(const CollectOptions& options);

/// Options of `bcq eval`.
struct EvalOptions {
  std::string policy_path;  ///< TorchScript policy.pt
  std::string env;
  int episodes = 10;
  uint64_t seed = 0;        ///< episode i (from 0) resets with seed + i
  int threads = 0;
};

/// The evaluation seed of the run whose folder holds `policy_path` (config.json's eval_seed,
/// written by `bcq train`), so that `bcq eval` can repeat the run's evaluations; nullopt when
/// the policy is not in a run folder.
std::optional<uint64_t> run_eval_seed(const std::string& policy_path);

struct EvalResult {
  std::vector<double> returns;
  std::vector<int> lengths;
  double mean_return = 0.0;
  double std_return = 0.0;
};

EvalResult evaluate_policy_file(const EvalOptions& options);

}  // namespace bcq::continuous
