// The networks of BCQ and its baselines (Fujimoto, Meger, Precup 2019, appendix D and the
// authors' reference implementation), plus the two pieces of training plumbing every agent
// shares: parameters flattened into one contiguous tensor (so Adam and the Polyak update are
// one fused pass instead of one small op per tensor) and a matching Adam.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <utility>

#include "continuous/config.hpp"

namespace bcq::continuous {

// MatmulPrecision, HiddenWidths and the per-algorithm configs: continuous/config.hpp.

/// y = layer(x) for a hidden-to-hidden layer, in `precision`.
torch::Tensor hidden_linear(const torch::nn::Linear& layer, const torch::Tensor& x,
                            MatmulPrecision precision);

/// Perturbation model xi_phi(s, a, Phi): (state+action) -> hidden (paper: 400 -> 300) ->
/// action_dim. Output Phi * max_action * tanh(.) added to `a` and clamped to
/// [-max_action, max_action].
struct PerturbationActorImpl : torch::nn::Module {
  PerturbationActorImpl(int64_t state_dim, int64_t action_dim, double max_action, double phi,
                        HiddenWidths hidden = {400, 300});
  /// Perturbed action for each row of (state, action).
  torch::Tensor forward(const torch::Tensor& state, const torch::Tensor& action);
  torch::nn::Linear l1{nullptr}, l2{nullptr}, l3{nullptr};
  double max_action;
  double phi;
  MatmulPrecision precision = MatmulPrecision::kFloat32;
};
TORCH_MODULE(PerturbationActor);

/// Two critics, each (state+action) -> hidden (paper: 400 -> 300) -> 1. Q1 drives the actor
/// loss and the action selection (Eq. 11); both enter the soft clipped double-Q target (Eq. 13).
struct TwinCriticImpl : torch::nn::Module {
  TwinCriticImpl(int64_t state_dim, int64_t action_dim, HiddenWidths hidden = {400, 300});
  std::pair<torch::Tensor, torch::Tensor> forward(const torch::Tensor& state,
                                                  const torch::Tensor& action);
  torch::Tensor q1(const torch::Tensor& state, const torch::Tensor& action);
  torch::nn::Linear l1{nullptr}, l2{nullptr}, l3{nullptr};
  torch::nn::Linear l4{nullptr}, l5{nullptr}, l6{nullptr};
  MatmulPrecision precision = MatmulPrecision::kFloat32;
};
TORCH_MODULE(TwinCritic);

/// Conditional VAE G_omega(a | s): encoder (state+action) -> hidden (paper: 750 -> 750) ->
/// mean, log-std (log-std clamped to [-4, 15], the reference's); decoder (state+z) -> hidden
/// -> max_action * tanh.
struct VaeImpl : torch::nn::Module {
  VaeImpl(int64_t state_dim, int64_t action_dim, int64_t latent_dim, double max_action,
          HiddenWidths hidden = {750, 750});
  struct Output {
    torch::Tensor reconstruction, mean, std;
  };
  /// Encodes, reparameterises with the given standard-normal noise `eps`, decodes.
  Output forward(const torch::Tensor& state, const torch::Tensor& action, const torch::Tensor& eps);
  /// Decodes latent `z` (rows matching `state`).
  torch::Tensor decode(const torch::Tensor& state, const torch::Tensor& z);
  torch::nn::Linear e1{nullptr}, e2{nullptr}, mean{nullptr}, log_std{nullptr};
  torch::nn::Linear d1{nullptr}, d2{nullptr}, d3{nullptr};
  int64_t latent_dim;
  double max_action;
  MatmulPrecision precision = MatmulPrecision::kFloat32;
};
TORCH_MODULE(Vae);

/// Samples decoder latents as the reference does: z ~ N(0, 1) clamped to [-clip, clip]
/// (reference: 0.5).
torch::Tensor sample_clipped_latent(int64_t rows, int64_t latent_dim, at::Generator& gen,
                                    const torch::TensorOptions& options, double clip = 0.5);

/// Deterministic actor of DDPG and BC: state -> hidden (paper: 400 -> 300) -> action_dim,
/// max_action * tanh.
struct DeterministicActorImpl : torch::nn::Module {
  DeterministicActorImpl(int64_t state_dim, int64_t action_dim, double max_action,
                         HiddenWidths hidden = {400, 300});
  torch::Tensor forward(const torch::Tensor& state);
  torch::nn::Linear l1{nullptr}, l2{nullptr}, l3{nullptr};
  double max_action;
};
TORCH_MODULE(DeterministicActor);

/// DDPG critic: (state+action) -> hidden (paper: 400 -> 300) -> 1.
struct CriticImpl : torch::nn::Module {
  CriticImpl(int64_t state_dim, int64_t action_dim, HiddenWidths hidden = {400, 300});
  torch::Tensor forward(const torch::Tensor& state, const torch::Tensor& action);
  torch::nn::Linear l1{nullptr}, l2{nullptr}, l3{nullptr};
};
TORCH_MODULE(Critic);

/// All parameters of a module stored in one contiguous tensor (`values`), each parameter a
/// view into it, and their gradients likewise in `grads` (autograd accumulates in place).
/// The parameters share `values`' version counter, as views of one tensor do: a write to any
/// of them, or an update by FlatAdam or polyak_update, bumps `values._version()`, so a copy
/// derived from the weights can tell when it is stale.
struct FlatParameters {
  torch::Tensor values;
  torch::Tensor grads;
};

/// Moves the parameters of `module` into one flat tensor (keeping their values) and binds
/// their gradients to a flat gradient tensor. Call once, before creating optimizers.
FlatParameters flatten_parameters(torch::nn::Module& module);

/// Adam (Kingma & Ba; the same update as torch.optim.Adam without weight decay or amsgrad)
/// over a flat parameter tensor, in one fused pass on CPU.
struct FlatAdam {
  double lr = 1e-3;      ///< learning rate (paper, all networks: 1e-3)
  double beta1 = 0.9;    ///< PyTorch default
  double beta2 = 0.999;  ///< PyTorch default
  double eps = 1e-8;     ///< PyTorch default
  int64_t step = 0;      ///< updates done so far (bias correction)
  torch::Tensor exp_avg, exp_avg_sq;

  FlatAdam() = default;
  FlatAdam(const torch::Tensor& like, double learning_rate);
  /// One Adam update of `params` with gradient `grads` (bumps `params._version()`).
  void update(torch::Tensor& params, const torch::Tensor& grads);
};

/// One gradient step of `loss` on the parameters `flat` (their gradients zeroed, `loss`
/// back-propagated, one Adam update); returns `loss`. Read its value (`item`) once the whole
/// training step is queued: on CUDA that waits for the device.
torch::Tensor gradient_step(const torch::Tensor& loss, FlatParameters& flat, FlatAdam& adam);

/// Writes an optimizer's moments and step count under `key` (a checkpoint's part).
void save_adam(torch::serialize::OutputArchive& archive, const std::string& key,
               const FlatAdam& adam);
/// Reads what save_adam wrote; throws bcq::InputError naming the entry if a tensor is missing
/// or has another size (a checkpoint of another agent or problem).
void load_adam(torch::serialize::InputArchive& archive, const std::string& key, FlatAdam& adam);
/// Copies the checkpoint tensor `key` into `dest`; throws bcq::InputError naming the entry if
/// its size differs from `dest`'s.
void read_checkpoint_tensor(torch::serialize::InputArchive& archive, const std::string& key,
                            torch::Tensor& dest);

/// Starts a target network as a copy of the online one (the reference's deepcopy) that
/// records no gradients; polyak_update then makes it trail.
void start_target(torch::nn::Module& target_module, FlatParameters& target,
                  const FlatParameters& online);

/// Polyak averaging of target networks: target <- tau * online + (1 - tau) * target
/// (bumps `target._version()`).
void polyak_update(torch::Tensor& target, const torch::Tensor& online, double tau);

/// Tunes glibc malloc so that freed activation tensors stay in the heap instead of going back
/// to the kernel and page-faulting on their next use (~10% of a BCQ iteration). Call once at
/// program start, before LibTorch allocates.
void keep_freed_memory_for_reuse();

/// Turns gradient recording on or off for all parameters of a module.
void set_requires_grad(torch::nn::Module& module, bool on);

}  // namespace bcq::continuous
