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
class DdpgAgent : public AgentWithConfig<DdpgConfig> {
 public:
  DdpgAgent(const ProblemShape& shape, uint64_t seed, torch::Device device, DdpgConfig config = {});
  Losses train_step(const Batch& batch) override;
  torch::Tensor select_action(const torch::Tensor& states, at::Generator& gen) override;
  torch::Tensor value_estimate(const torch::Tensor& states, at::Generator& gen) override;
  void export_policy(const std::string& path) const override;

 private:
  CheckpointEntries checkpoint_entries() override;
  DeterministicActor actor_{nullptr}, actor_target_{nullptr};
  Critic critic_{nullptr}, critic_target_{nullptr};
  FlatParameters actor_flat_, actor_target_flat_, critic_flat_, critic_target_flat_;
  FlatAdam actor_opt_, critic_opt_;
};

/// Behaviour cloning: the deterministic actor regressed (MSE) onto the batch actions. It has
/// no critic (value_estimate: NaN).
class BcAgent : public AgentWithConfig<BcConfig> {
 public:
  BcAgent(const ProblemShape& shape, uint64_t seed, torch::Device device, BcConfig config = {});
  Losses train_step(const Batch& batch) override;
  torch::Tensor select_action(const torch::Tensor& states, at::Generator& gen) override;
  void export_policy(const std::string& path) const override;

 private:
  CheckpointEntries checkpoint_entries() override;
  DeterministicActor actor_{nullptr};
  FlatParameters actor_flat_;
  FlatAdam actor_opt_;
};

/// VAE-BC: BCQ's conditional VAE trained alone; actions are decoded from
/// z ~ clip(N(0,1), ±latent_clip). It has no critic (value_estimate: NaN).
class VaeBcAgent : public AgentWithConfig<VaeBcConfig> {
 public:
  VaeBcAgent(const ProblemShape& shape, uint64_t seed, torch::Device device,
             VaeBcConfig config = {});
  Losses train_step(const Batch& batch) override;
  torch::Tensor select_action(const torch::Tensor& states, at::Generator& gen) override;
  void export_policy(const std::string& path) const override;
  /// The base's, with the VAE's latent_dim.
  nlohmann::json config() const override;
  Vae& vae() { return vae_; }

 private:
  CheckpointEntries checkpoint_entries() override;
  Vae vae_{nullptr};
  FlatParameters vae_flat_;
  FlatAdam vae_opt_;
  at::Generator gen_;
};

}  // namespace bcq::continuous
