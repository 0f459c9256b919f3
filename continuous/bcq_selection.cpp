// BCQ action selection (Eq. 11) on its own layout of the networks; see bcq_selection.hpp.
#include "continuous/bcq_selection.hpp"

#include "continuous/selection_kernels.hpp"

namespace bcq::continuous {

namespace {

// The two column blocks of W are copied (a column block is not contiguous); the bias is the
// parameter itself: selection only reads it, and a change of weights rebuilds the layout.
SplitInputLayer split_input(const torch::nn::Linear& layer, int64_t state_dim) {
  auto w = layer->weight.detach();
  return {w.narrow(1, 0, state_dim).contiguous(),
          w.narrow(1, state_dim, w.size(1) - state_dim).t().contiguous(), layer->bias.detach()};
}

// The parameters themselves, but for a weight converted to another type (bfloat16).
DenseLayer dense(const torch::nn::Linear& layer, torch::ScalarType weight_type) {
  return {layer->weight.detach().to(weight_type), layer->bias.detach()};
}

bool plain_cpu_float(const torch::Tensor& t) {
  return t.is_cpu() && t.scalar_type() == torch::kFloat && t.is_contiguous();
}

// relu(W_s s + b + W_x x) for `samples` consecutive rows of x per state: the state part once
// per state, the sample part term by term (kernels::sample_sum_relu: the exported policy's
// operations in one pass), rounded to bfloat16 when the next product takes it.
// Every layer of selection is mm then + bias, never addmm: TorchScript's optimizer rewrites
// addmm into exactly that, and for K > ~500 OpenBLAS's addmm rounds differently.
torch::Tensor split_input_relu(const SplitInputLayer& layer, const torch::Tensor& states,
                               const torch::Tensor& x, int64_t samples, bool to_bf16) {
  const int64_t n = states.size(0), out = layer.bias.size(0), inner = x.size(1);
  auto per_state = torch::mm(states, layer.state_weight.t()).add_(layer.bias);
  if (plain_cpu_float(per_state) && plain_cpu_float(x) && plain_cpu_float(layer.sample_weight_t)) {
    auto h = torch::empty({n * samples, out},
                          per_state.options().dtype(to_bf16 ? torch::kBFloat16 : torch::kFloat));
    if (to_bf16) {
      kernels::sample_sum_relu_bf16(per_state.data_ptr<float>(), x.data_ptr<float>(),
                                    layer.sample_weight_t.data_ptr<float>(), n * samples, samples,
                                    inner, out, reinterpret_cast<uint16_t*>(h.data_ptr()));
    } else {
      kernels::sample_sum_relu(per_state.data_ptr<float>(), x.data_ptr<float>(),
                               layer.sample_weight_t.data_ptr<float>(), n * samples, samples,
                               inner, out, h.data_ptr<float>());
    }
    return h;
  }
  // Other devices: the same operations one by one.
  auto h = per_state.unsqueeze(1).expand({n, samples, out}).reshape({n * samples, out});
  for (int64_t k = 0; k < inner; ++k) h = h + x.narrow(1, k, 1) * layer.sample_weight_t[k];
  h = h.relu();
  return to_bf16 ? h.to(torch::kBFloat16) : h;
}

// relu(W h + b) in the matmul precision: the same products as hidden_linear (in bf16, h
// arrives in bfloat16 and the bias is added to the bfloat16 product in float32).
torch::Tensor hidden_relu(const DenseLayer& layer, const torch::Tensor& h,
                          MatmulPrecision precision) {
  if (precision == MatmulPrecision::kFloat32) {
    return torch::mm(h, layer.weight.t()).add_(layer.bias).relu_();
  }
  auto y = torch::mm(h, layer.weight.t());
  if (y.is_cpu() && y.is_contiguous() && plain_cpu_float(layer.bias)) {
    auto out = torch::empty(y.sizes(), layer.bias.options());
    kernels::bias_relu_bf16(reinterpret_cast<const uint16_t*>(y.data_ptr()),
                            layer.bias.data_ptr<float>(), y.size(0), y.size(1),
                            out.data_ptr<float>());
    return out;
  }
  return (layer.bias + y).relu();
}

torch::Tensor output(const DenseLayer& layer, const torch::Tensor& h) {
  return torch::mm(h, layer.weight.t()).add_(layer.bias);
}

}  // namespace

SelectionWeights SelectionWeights::from(const BcqNetworks& nets, MatmulPrecision precision) {
  torch::NoGradGuard no_grad;
  const int64_t state_dim =
      nets.vae->d1->weight.size(1) - nets.vae->latent_dim;  // d1 takes (state, z)
  const auto hidden_type =
      precision == MatmulPrecision::kBFloat16 ? torch::kBFloat16 : torch::kFloat;
  SelectionWeights w;
  w.d1 = split_input(nets.vae->d1, state_dim);
  w.d2 = dense(nets.vae->d2, hidden_type);
  w.d3 = dense(nets.vae->d3, torch::kFloat);
  w.a1 = split_input(nets.actor->l1, state_dim);
  w.a2 = dense(nets.actor->l2, hidden_type);
  w.a3 = dense(nets.actor->l3, torch::kFloat);
  w.q1 = split_input(nets.critic->l1, state_dim);
  w.q2 = dense(nets.critic->l2, hidden_type);
  w.q3 = dense(nets.critic->l3, torch::kFloat);
  return w;
}

std::pair<torch::Tensor, torch::Tensor> select_best_action(const SelectionWeights& w,
                                                           const torch::Tensor& s,
                                                           const torch::Tensor& z,
                                                           const BcqConfig& config,
                                                           const ProblemShape& shape) {
  torch::NoGradGuard no_grad;
  const auto precision = config.precision;
  const int64_t n = s.size(0);
  const int64_t k = config.select_samples;
  const double max_action = shape.max_action;
  const bool bf16 = precision == MatmulPrecision::kBFloat16;
  // Eq. 11: k actions per state from the decoder of G_omega ...
  auto h = hidden_relu(w.d2, split_input_relu(w.d1, s, z, k, bf16), precision);
  auto sampled = max_action * torch::tanh(output(w.d3, h));
  // ... each perturbed by xi_phi within [-Phi max_action, Phi max_action], clamped ...
  h = hidden_relu(w.a2, split_input_relu(w.a1, s, sampled, k, bf16), precision);
  auto actions = (sampled + (config.phi * max_action) * torch::tanh(output(w.a3, h)))
                     .clamp(-max_action, max_action);
  // ... and the one with the highest Q1 kept.
  h = hidden_relu(w.q2, split_input_relu(w.q1, s, actions, k, bf16), precision);
  auto q = output(w.q3, h).reshape({n, k});
  auto [best_q, index] = q.max(1);
  auto chosen = actions.reshape({n, k, shape.action_dim})
                    .gather(1, index.view({n, 1, 1}).expand({n, 1, shape.action_dim}))
                    .squeeze(1);
  return {chosen, best_q};
}

}  // namespace bcq::continuous
