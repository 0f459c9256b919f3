// Internal: what `bcq train`, `bcq collect` and `bcq eval` share: the device and problem
// shape of a run, conversions between environment vectors and tensors, the behavioural
// agent's action with exploration noise, and progress lines.
#pragma once

#include <torch/torch.h>

#include <chrono>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

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

/// "12.3 s" / "4 min 05 s" / "2 h 07 min"; "?" when unknown.
std::string format_duration(double seconds);
/// Estimated time left after `done` of `total` units in `elapsed` seconds (this process only).
std::string eta(int64_t done, int64_t total, double elapsed);

/// A progress line on stderr that rewrites itself in place: each show() returns to the start
/// of the line and clears what a longer previous line left there.
class ProgressLine {
 public:
  explicit ProgressLine(bool on) : on_(on) {}
  void show(const std::string& text);
  /// Ends the line (a newline) if anything was shown.
  void finish();
  bool on() const { return on_; }

 private:
  bool on_;
  bool shown_ = false;
};

using Clock = std::chrono::steady_clock;

}  // namespace bcq::continuous
