// Internal: what `bcq train`, `bcq collect` and `bcq eval` share: the device and problem
// shape of a run, conversions between environment vectors and tensors, the behavioural
// agent's action with exploration noise, and progress lines (common/progress.hpp).
#pragma once

#include <torch/torch.h>

#include <chrono>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "common/progress.hpp"
#include "continuous/agent.hpp"
#include "continuous/envs/env.hpp"

namespace bcq::continuous {

/// "cpu" or "cuda" (when this LibTorch has CUDA and a GPU is visible); else bcq::InputError.
torch::Device parse_device(const std::string& name);

/// The environment's state and action sizes and its action bound; bcq::InputError unless
/// the bounds are symmetric and equal in every dimension (as BCQ's tanh outputs assume).
ProblemShape problem_shape(const envs::Env& env);

/// One observation as a [1, size] float32 tensor.
torch::Tensor obs_tensor(const std::vector<double>& obs);
/// A tensor's values (any device, any shape) as doubles.
std::vector<double> to_action(const torch::Tensor& a);
std::vector<float> to_floats(const std::vector<double>& v);

/// For a --resume refused over the thread count: when the run asked for --threads 0 (all
/// cores, resolved per machine, and LibTorch's sums depend on the resolved count), what 0 gave
/// here and the --threads to pass instead ("; --threads 0 means all cores, 2 here: pass
/// --threads 1"); empty otherwise.
std::string all_cores_hint(int requested_threads, const std::string& resolved_here, const std::string& run_had);

/// How the behavioural agent picks an action.
enum class BehaviourMode {
  kUniform,          ///< uniformly random in the action bounds (the first start_steps)
  kNoisyActor,       ///< the actor's action + N(0, noise_std * max_action), clamped
  kImperfectExpert,  ///< with probability random_probability uniform, else kNoisyActor
};

/// The behavioural action for `obs` (paper, section 6: the batches' behavioural DDPG). Draws
/// the uniform action, the coin and the noise from `rng`; noise_std 0 draws no noise.
std::vector<double> behavioural_action(Agent& actor, const std::vector<double>& obs,
                                       BehaviourMode mode, double noise_std,
                                       double random_probability, const ProblemShape& shape,
                                       std::mt19937_64& rng, at::Generator& gen);

// The progress line and its words (common/progress.hpp, shared with `bcq report`).
using bcq::eta;
using bcq::format_duration;
using bcq::ProgressLine;

using Clock = std::chrono::steady_clock;

}  // namespace bcq::continuous
