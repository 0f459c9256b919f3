// The baselines of the paper's continuous experiments, trained on the same batches as BCQ:
// offline DDPG (also the behavioural agent that collects the data), behaviour cloning (BC) and
// VAE-BC (BCQ's generative model alone).
#pragma once

#include "continuous/agent.hpp"
#include "continuous/nets.hpp"

namespace bcq::continuous {

/// Hyperparameters of DDPG (Lillicrap et al. 2015 as configured in the BCQ paper's
/// appendix D: 400-300 networks, Adam 1e-3, tau 0.005, batch 100).
struct DdpgConfig {
  int64_t batch_size = 100;     ///< mini-batch size (paper: 100)
  double discount = 0.99;       ///< gamma (paper: 0.99)
  double tau = 0.005;           ///< target network update rate (paper: 0.005)
  double learning_rate = 1e-3;  ///< Adam, actor and critic (paper: 1e-3)
};

/// DDPG: deterministic actor, one critic, target networks. Trained on a fixed batch it is the
/// "offline DDPG" baseline; with exploration noise in the loop it is the behavioural agent.
class DdpgAgent : public Agent {
 public:
  DdpgAgent(const ProblemShape& shape, uint64_t seed, torch::Device device, DdpgConfig config = {});
  std::string algo() const override { return "ddpg"; }
  Losses train_step(const Batch& batch) override;
  torch::Tensor select_action(const torch::Tensor& states, at::Generator& gen) override;
  torch::Tensor value_estimate(const torch::Tensor& states, at::Generator& gen) override;
  void save(torch::serialize::OutputArchive& archive) const override;
  void load(torch::serialize::InputArchive& archive) override;
  void export_policy(const std::string& path) const override;
  nlohmann::json config() const override;
  torch::Device device() const override { return device_; }

 private:
  ProblemShape shape_;
  DdpgConfig config_;
  torch::Device device_;
  DeterministicActor actor_{nullptr}, actor_target_{nullptr};
  Critic critic_{nullptr}, critic_target_{nullptr};
  FlatParameters actor_flat_, actor_target_flat_, critic_flat_, critic_target_flat_;
  FlatAdam actor_opt_, critic_opt_;
};

/// Behaviour cloning: the deterministic actor regressed (MSE) onto the batch actions.
class BcAgent : public Agent {
 public:
  BcAgent(const ProblemShape& shape, uint64_t seed, torch::Device device, double learning_rate = 1e-3);
  std::string algo() const override { return "bc"; }
  Losses train_step(const Batch& batch) override;
  torch::Tensor select_action(const torch::Tensor& states, at::Generator& gen) override;
  torch::Tensor value_estimate(const torch::Tensor& states, at::Generator& gen) override;
  void save(torch::serialize::OutputArchive& archive) const override;
  void load(torch::serialize::InputArchive& archive) override;
  void export_policy(const std::string& path) const override;
  nlohmann::json config() const override;
  torch::Device device() const override { return device_; }

 private:
  ProblemShape shape_;
  double learning_rate_;
  torch::Device device_;
  DeterministicActor actor_{nullptr};
  FlatParameters actor_flat_;
  FlatAdam actor_opt_;
};

/// VAE-BC: BCQ's conditional VAE trained alone; actions are decoded from z ~ clip(N(0,1), ±0.5).
class VaeBcAgent : public Agent {
 public:
  VaeBcAgent(const ProblemShape& shape, uint64_t seed, torch::Device device, double learning_rate = 1e-3);
  std::string algo() const override { return "vae-bc"; }
  Losses train_step(const Batch& batch) override;
  torch::Tensor select_action(const torch::Tensor& states, at::Generator& gen) override;
  torch::Tensor value_estimate(const torch::Tensor& states, at::Generator& gen) override;
  void save(torch::serialize::OutputArchive& archive) const override;
  void load(torch::serialize::InputArchive& archive) override;
  void export_policy(const std::string& path) const override;
  nlohmann::json config() const override;
  torch::Device device() const override { return device_; }
  Vae& vae() { return vae_; }

 private:
  ProblemShape shape_;
  double learning_rate_;
  torch::Device device_;
  Vae vae_{nullptr};
  FlatParameters vae_flat_;
  FlatAdam vae_opt_;
  at::Generator gen_;
};

}  // namespace bcq::continuous
