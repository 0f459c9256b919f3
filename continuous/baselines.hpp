// The baselines of the paper's continuous experiments, trained on the same batches as BCQ:
// offline DDPG (also the behavioural agent that collects the data), behaviour cloning (BC) and
// VAE-BC (BCQ's generative model alone).
#pragma once

#include "continuous/agent.hpp"
#include "continuous/nets.hpp"

namespace bcq::continuous {

// DdpgConfig, BcConfig, VaeBcConfig, the hyperparameters: continuous/config.hpp.

/// DDPG: deterministic actor, one critic, target networks. Trained on a fixed batch it is the
/// "offline DDPG" baseline; with exploration noise in the loop it is the behavioural agent.
class DdpgAgent : public Agent {
 public:
  DdpgAgent(const ProblemShape& shape, uint64_t seed, torch::Device device, DdpgConfig config = {});
  std::string algo() const override { return "ddpg"; }
  int64_t batch_size() const override { return config_.batch_size; }
  double discount() const override { return config_.discount; }
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
  BcAgent(const ProblemShape& shape, uint64_t seed, torch::Device device, BcConfig config = {});
  std::string algo() const override { return "bc"; }
  int64_t batch_size() const override { return config_.batch_size; }
  double discount() const override { return config_.discount; }
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
  BcConfig config_;
  torch::Device device_;
  DeterministicActor actor_{nullptr};
  FlatParameters actor_flat_;
  FlatAdam actor_opt_;
};

/// VAE-BC: BCQ's conditional VAE trained alone; actions are decoded from
/// z ~ clip(N(0,1), ±latent_clip).
class VaeBcAgent : public Agent {
 public:
  VaeBcAgent(const ProblemShape& shape, uint64_t seed, torch::Device device,
             VaeBcConfig config = {});
  std::string algo() const override { return "vae-bc"; }
  int64_t batch_size() const override { return config_.batch_size; }
  double discount() const override { return config_.discount; }
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
  VaeBcConfig config_;
  torch::Device device_;
  Vae vae_{nullptr};
  FlatParameters vae_flat_;
  FlatAdam vae_opt_;
  at::Generator gen_;
};

}  // namespace bcq::continuous
