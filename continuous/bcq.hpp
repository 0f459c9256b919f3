// Batch-Constrained deep Q-learning (BCQ, Algorithm 1 of Fujimoto, Meger, Precup 2019).
#pragma once

#include "continuous/agent.hpp"
#include "continuous/nets.hpp"

#include <array>

namespace bcq::continuous {

/// Hyperparameters of BCQ; defaults from the paper (section 6 and appendix D).
struct BcqConfig {
  int64_t batch_size = 100;     ///< mini-batch size N (paper: 100)
  double discount = 0.99;       ///< gamma (paper: 0.99)
  double tau = 0.005;           ///< target network update rate (paper: 0.005)
  double lambda = 0.75;         ///< soft clipped double-Q weight, Eq. 13 (paper: 0.75)
  double phi = 0.05;            ///< perturbation range Phi (paper: 0.05)
  int64_t target_samples = 10;  ///< actions sampled per next state for the target (paper: 10)
  int64_t select_samples = 100; ///< actions sampled for action selection, Eq. 11 (paper: 100)
  double learning_rate = 1e-3;  ///< Adam, all networks (paper: 1e-3)
  /// Hidden-layer matrix products (see MatmulPrecision); the paper's is float32.
  MatmulPrecision precision = MatmulPrecision::kFloat32;
  nlohmann::json to_json() const;
};

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

/// The generative model's loss on a batch: reconstruction MSE + 0.5 KL(N(mean, std) || N(0, 1))
/// (the reference implementation), with reparameterisation noise drawn from `gen`.
torch::Tensor vae_loss(Vae& vae, const Batch& batch, at::Generator& gen);

/// An input layer y = W [s; x] + b split by its two inputs, W = [W_s W_x]: in action selection
/// every sample of a state shares s, so W_s s + b is computed once per state.
struct SplitInputLayer {
  torch::Tensor state_weight;     ///< W_s, [out, state_dim]
  torch::Tensor sample_weight_t;  ///< W_x transposed, [sample_dim, out]
  torch::Tensor bias;             ///< b, [out]
};

/// A layer y = W x + b; for a hidden-to-hidden layer W is stored in the matmul precision.
struct DenseLayer {
  torch::Tensor weight;  ///< [out, in]
  torch::Tensor bias;    ///< [out], float32
};

/// The networks that action selection (Eq. 11) runs, laid out for it: the decoder of G_omega,
/// the perturbation model xi_phi and Q1. Built from BcqNetworks: the split input weights and
/// bfloat16 hidden weights are copies, every other tensor is the parameter itself (read only).
/// Selection computes each input layer as (W_s s + b) once per state plus x_1 W_x[:, 1] + ...
/// term by term per sample (continuous/selection_kernels.hpp), every other layer as a product
/// and then + b; the exported TorchScript policy holds these tensors and runs the same
/// operations, so for the same latents it picks bit-identical actions.
struct SelectionWeights {
  SplitInputLayer d1, a1, q1;  ///< decoder (state, z), actor (state, a), critic (state, a)
  DenseLayer d2, d3, a2, a3, q2, q3;
  static SelectionWeights from(const BcqNetworks& nets, MatmulPrecision precision);
};

class BcqAgent : public Agent {
 public:
  BcqAgent(const ProblemShape& shape, uint64_t seed, torch::Device device, BcqConfig config = {});
  std::string algo() const override { return "bcq"; }
  Losses train_step(const Batch& batch) override;
  torch::Tensor select_action(const torch::Tensor& states, at::Generator& gen) override;
  torch::Tensor value_estimate(const torch::Tensor& states, at::Generator& gen) override;
  void save(torch::serialize::OutputArchive& archive) const override;
  void load(torch::serialize::InputArchive& archive) override;
  void export_policy(const std::string& path) const override;
  nlohmann::json config() const override;
  torch::Device device() const override { return device_; }

  BcqNetworks& networks() { return nets_; }
  const BcqConfig& settings() const { return config_; }
  at::Generator& generator() { return gen_; }

 private:
  /// Eq. 11 for each state: the sampled, perturbed action with the highest Q1, and that Q1.
  std::pair<torch::Tensor, torch::Tensor> best_action(const torch::Tensor& states,
                                                      at::Generator& gen);
  /// selection_ for the current weights (rebuilt when a flat parameter tensor's version moves).
  const SelectionWeights& selection_weights();
  ProblemShape shape_;
  BcqConfig config_;
  torch::Device device_;
  BcqNetworks nets_;
  FlatAdam actor_opt_, critic_opt_, vae_opt_;
  at::Generator gen_;
  SelectionWeights selection_;
  std::array<int64_t, 3> selection_versions_{-1, -1, -1};  ///< vae, actor, critic
};

}  // namespace bcq::continuous
