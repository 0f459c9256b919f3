// The interface shared by BCQ and its baselines (offline DDPG, BC, VAE-BC, behavioural DDPG):
// one training step on a sampled mini-batch, action selection, the critic's value estimate,
// checkpoint state and TorchScript export.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "continuous/config.hpp"

namespace bcq::continuous {

/// A sampled mini-batch (rows = transitions). reward and not_done are [B, 1].
struct Batch {
  torch::Tensor state, action, next_state, reward, not_done;
};

/// Sizes and bounds of the problem an agent solves.
struct ProblemShape {
  int64_t state_dim = 0;
  int64_t action_dim = 0;
  double max_action = 1.0;  ///< actions lie in [-max_action, max_action] in every dimension
};

/// Losses of one training step (NaN for a loss the agent does not have).
using Losses = std::map<std::string, double>;

struct FlatAdam;  // continuous/nets.hpp

/// What an agent's checkpoint holds, entry by entry: its flat parameter tensors, then its Adam
/// optimizers, then its random generators, written in this order and read back in place.
/// Tensors and generators are handles to the agent's own (loading writes through them).
struct CheckpointEntries {
  std::vector<std::pair<std::string, torch::Tensor>> tensors;
  std::vector<std::pair<std::string, FlatAdam*>> optimizers;
  std::vector<std::pair<std::string, at::Generator>> generators;
};

class Agent {
 public:
  virtual ~Agent() = default;
  /// "bcq", "ddpg", "bc", "vae-bc".
  virtual std::string algo() const = 0;
  /// Transitions per training step (the config's batch_size).
  virtual int64_t batch_size() const = 0;
  /// gamma: of the critic, and of the true discounted return evaluation reports next to the
  /// critic's estimate (the config's discount).
  virtual double discount() const = 0;
  /// One gradient step on `batch`; returns the losses (the caller checks them for NaN/Inf).
  virtual Losses train_step(const Batch& batch) = 0;
  /// Actions for a batch of states [N, state_dim] -> [N, action_dim], using `gen` for any
  /// sampling so that evaluation never disturbs the training random stream.
  virtual torch::Tensor select_action(const torch::Tensor& states, at::Generator& gen) = 0;
  /// The critic's estimate Q(s, pi(s)) for each state [N]; NaN (this default) when the agent
  /// has no critic.
  virtual torch::Tensor value_estimate(const torch::Tensor& states, at::Generator& gen);
  /// Writes every number needed to continue training bit-identically (parameters, target
  /// networks, optimizer moments and steps, the training random generator): the entries of
  /// checkpoint_entries().
  void save(torch::serialize::OutputArchive& archive) const;
  /// Reads what save wrote; throws bcq::InputError naming an entry that is missing or has
  /// another size (a checkpoint of another agent or problem).
  void load(torch::serialize::InputArchive& archive);
  /// Writes the policy as a TorchScript module: forward(state [state_dim] or [N, state_dim])
  /// -> action(s).
  virtual void export_policy(const std::string& path) const = 0;
  /// Hyperparameters, for config.json.
  virtual nlohmann::json config() const = 0;
  virtual torch::Device device() const = 0;

 protected:
  /// The agent's checkpoint state, for save and load.
  virtual CheckpointEntries checkpoint_entries() = 0;
};

/// What BCQ and every baseline hold alike: the problem's shape, the hyperparameters (one of
/// continuous/config.hpp's structs) and the device, and the members of Agent that only read
/// them.
template <class Config>
class AgentWithConfig : public Agent {
 public:
  std::string algo() const final { return algo_; }
  int64_t batch_size() const final { return config_.batch_size; }
  double discount() const final { return config_.discount; }
  torch::Device device() const final { return device_; }
  /// The hyperparameters, the algorithm's name and max_action.
  nlohmann::json config() const override {
    auto j = config_.to_json();
    j["algo"] = algo_;
    j["max_action"] = shape_.max_action;
    return j;
  }

 protected:
  AgentWithConfig(std::string algo, const ProblemShape& shape, const Config& config,
                  torch::Device device)
      : algo_(std::move(algo)), shape_(shape), config_(config), device_(device) {}

  const std::string algo_;
  const ProblemShape shape_;
  const Config config_;
  const torch::Device device_;
};

/// Creates an agent by name ("bcq", "ddpg", "bc", "vae-bc") from its config in `configs`,
/// initialised from `seed`. Throws bcq::InputError for an unknown name, or a bfloat16
/// precision asked of another agent than bcq.
std::unique_ptr<Agent> make_agent(const std::string& algo, const ProblemShape& shape,
                                  uint64_t seed, torch::Device device,
                                  const AgentConfigs& configs);

/// The same with the paper's defaults; `precision` ("fp32", or "bf16" for bcq: see
/// MatmulPrecision) is the hidden layers' matrix product format.
std::unique_ptr<Agent> make_agent(const std::string& algo, const ProblemShape& shape,
                                  uint64_t seed, torch::Device device,
                                  const std::string& precision = "fp32");

/// A fresh random generator on `device`, seeded with `seed`.
at::Generator make_generator(uint64_t seed, torch::Device device);

/// Saves / restores a generator's state under `key`.
void save_generator(torch::serialize::OutputArchive& archive, const std::string& key,
                    const at::Generator& gen);
void load_generator(torch::serialize::InputArchive& archive, const std::string& key,
                    at::Generator& gen);

}  // namespace bcq::continuous
