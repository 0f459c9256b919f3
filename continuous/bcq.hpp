// Batch-Constrained deep Q-learning (BCQ, Algorithm 1 of Fujimoto, Meger, Precup 2019).
#pragma once

#include "continuous/agent.hpp"
#include "continuous/nets.hpp"

#include <array>
#include <memory>

namespace bcq::continuous {

// BcqConfig, the hyperparameters: continuous/config.hpp.

/// The networks of BCQ and their flat parameters.
struct BcqNetworks {
  PerturbationActor actor{nullptr}, actor_target{nullptr};
  TwinCritic critic{nullptr}, critic_target{nullptr};
  Vae vae{nullptr};
  FlatParameters actor_flat, actor_target_flat, critic_flat, critic_target_flat, vae_flat;
};

/// The critic target y = r + not_done * gamma * max_j [lambda min(Q1', Q2') + (1-lambda) max(Q1', Q2')]
/// over `samples` actions per next state, each decoded from the given latent rows of `z`
/// ([B * samples, latent], row b * samples + j belongs to next state b) and perturbed by the
/// target actor (Algorithm 1; Eq. 13). Returns [B, 1].
torch::Tensor bcq_critic_target(BcqNetworks& nets, const Batch& batch, const torch::Tensor& z,
                                int64_t samples, double discount, double lambda);

/// The generative model's loss on a batch: reconstruction MSE + kl_weight KL(N(mean, std) ||
/// N(0, 1)) (the reference implementation's weight: 0.5), with reparameterisation noise drawn
/// from `gen`.
torch::Tensor vae_loss(Vae& vae, const Batch& batch, at::Generator& gen, double kl_weight = 0.5);

/// BCQ's own layout of the networks for action selection (continuous/bcq_selection.hpp).
struct SelectionWeights;

class BcqAgent : public AgentWithConfig<BcqConfig> {
 public:
  BcqAgent(const ProblemShape& shape, uint64_t seed, torch::Device device, BcqConfig config = {});
  ~BcqAgent() override;
  Losses train_step(const Batch& batch) override;
  torch::Tensor select_action(const torch::Tensor& states, at::Generator& gen) override;
  torch::Tensor value_estimate(const torch::Tensor& states, at::Generator& gen) override;
  void export_policy(const std::string& path) const override;
  /// The base's, with the VAE's latent_dim.
  nlohmann::json config() const override;

  BcqNetworks& networks() { return nets_; }
  const BcqConfig& settings() const { return config_; }
  at::Generator& generator() { return gen_; }

 private:
  /// Eq. 11 for each state: the sampled, perturbed action with the highest Q1, and that Q1.
  std::pair<torch::Tensor, torch::Tensor> best_action(const torch::Tensor& states,
                                                      at::Generator& gen);
  /// selection_ for the current weights (rebuilt when a flat parameter tensor's version moves).
  const SelectionWeights& selection_weights();
  CheckpointEntries checkpoint_entries() override;
  BcqNetworks nets_;
  FlatAdam actor_opt_, critic_opt_, vae_opt_;
  at::Generator gen_;
  std::unique_ptr<SelectionWeights> selection_;
  std::array<int64_t, 3> selection_versions_{-1, -1, -1};  ///< vae, actor, critic
};

}  // namespace bcq::continuous
