// Internal: BCQ's action selection (Eq. 11) on a layout of the networks made for it, and the
// TorchScript policy that repeats it. BcqAgent (continuous/bcq.hpp) owns one such layout and
// rebuilds it when its weights change.
#pragma once

#include <torch/torch.h>

#include <string>
#include <utility>

#include "continuous/agent.hpp"
#include "continuous/bcq.hpp"

namespace bcq::continuous {

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

/// Eq. 11 for each state of `states` [N, state_dim] (float32 on the weights' device): decodes
/// config.select_samples actions per state from the latents `z` [N * samples, latent],
/// perturbs them, and returns the one with the highest Q1 [N, action_dim] and that Q1 [N].
std::pair<torch::Tensor, torch::Tensor> select_best_action(const SelectionWeights& weights,
                                                           const torch::Tensor& states,
                                                           const torch::Tensor& z,
                                                           const BcqConfig& config,
                                                           const ProblemShape& shape);

/// Writes the TorchScript policy that runs select_best_action with weights `w`, drawing its
/// latents with torch.randn (continuous/bcq_script.cpp).
void export_bcq_policy(const std::string& path, const SelectionWeights& w,
                       const BcqConfig& config, const ProblemShape& shape, int64_t latent_dim);

}  // namespace bcq::continuous
