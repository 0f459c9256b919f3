#include "continuous/bcq.hpp"

#include "continuous/script_export.hpp"
#include "continuous/selection_kernels.hpp"

namespace bcq::continuous {

nlohmann::json BcqConfig::to_json() const {
  return {{"batch_size", batch_size},         {"discount", discount},
          {"tau", tau},                       {"lambda", lambda},
          {"phi", phi},                       {"target_samples", target_samples},
          {"select_samples", select_samples}, {"learning_rate", learning_rate},
          {"actor_hidden", {400, 300}},       {"critic_hidden", {400, 300}},
          {"vae_hidden", {750, 750}},         {"vae_kl_weight", 0.5},
          {"vae_log_std_clamp", {-4, 15}},    {"latent_clamp", {-0.5, 0.5}},
          {"matmul_precision", precision_name(precision)}};
}

torch::Tensor bcq_critic_target(BcqNetworks& nets, const Batch& batch, const torch::Tensor& z,
                                int64_t samples, double discount, double lambda) {
  torch::NoGradGuard no_grad;
  const int64_t rows = batch.next_state.size(0);
  // Algorithm 1: repeat each next state `samples` times, decode, perturb (target actor).
  auto next_state = batch.next_state.repeat_interleave(samples, 0);
  auto sampled = nets.vae->decode(next_state, z);
  auto perturbed = nets.actor_target->forward(next_state, sampled);
  auto [q1, q2] = nets.critic_target->forward(next_state, perturbed);
  // Eq. 13: soft clipped double Q-learning.
  auto q = lambda * torch::min(q1, q2) + (1.0 - lambda) * torch::max(q1, q2);
  auto best = std::get<0>(q.reshape({rows, samples}).max(1)).reshape({rows, 1});
  return batch.reward + batch.not_done * discount * best;
}

torch::Tensor vae_loss(Vae& vae, const Batch& batch, at::Generator& gen) {
  auto eps = at::randn({batch.state.size(0), vae->latent_dim}, gen, batch.state.options());
  auto out = vae->forward(batch.state, batch.action, eps);
  auto recon_loss = torch::mse_loss(out.reconstruction, batch.action);
  auto kl_loss =
      -0.5 * (1 + torch::log(out.std.pow(2)) - out.mean.pow(2) - out.std.pow(2)).mean();
  return recon_loss + 0.5 * kl_loss;
}

BcqAgent::BcqAgent(const ProblemShape& shape, uint64_t seed, torch::Device device,
                   BcqConfig config)
    : shape_(shape), config_(config), device_(device) {
  torch::manual_seed(seed);
  const int64_t latent = 2 * shape.action_dim;
  auto make_actor = [&] {
    auto a = PerturbationActor(shape.state_dim, shape.action_dim, shape.max_action, config.phi);
    a->to(device);
    return a;
  };
  auto make_critic = [&] {
    auto c = TwinCritic(shape.state_dim, shape.action_dim);
    c->to(device);
    return c;
  };
  nets_.actor = make_actor();
  nets_.actor_target = make_actor();
  nets_.critic = make_critic();
  nets_.critic_target = make_critic();
  nets_.vae = Vae(shape.state_dim, shape.action_dim, latent, shape.max_action);
  nets_.vae->to(device);
  for (auto* actor : {&nets_.actor, &nets_.actor_target}) (*actor)->precision = config.precision;
  for (auto* critic : {&nets_.critic, &nets_.critic_target}) (*critic)->precision = config.precision;
  nets_.vae->precision = config.precision;
  nets_.actor_flat = flatten_parameters(*nets_.actor);
  nets_.actor_target_flat = flatten_parameters(*nets_.actor_target);
  nets_.critic_flat = flatten_parameters(*nets_.critic);
  nets_.critic_target_flat = flatten_parameters(*nets_.critic_target);
  nets_.vae_flat = flatten_parameters(*nets_.vae);
  // Targets start as copies of the online networks (the reference's deepcopy).
  nets_.actor_target_flat.values.copy_(nets_.actor_flat.values);
  nets_.critic_target_flat.values.copy_(nets_.critic_flat.values);
  set_requires_grad(*nets_.actor_target, false);
  set_requires_grad(*nets_.critic_target, false);
  actor_opt_ = FlatAdam(nets_.actor_flat.values, config.learning_rate);
  critic_opt_ = FlatAdam(nets_.critic_flat.values, config.learning_rate);
  vae_opt_ = FlatAdam(nets_.vae_flat.values, config.learning_rate);
  gen_ = make_generator(seed, device);
}

Losses BcqAgent::train_step(const Batch& batch) {
  const auto options = batch.state.options();
  const int64_t rows = batch.state.size(0);
  const int64_t latent = nets_.vae->latent_dim;

  // Generative model G_omega: reconstruction + 0.5 KL (the reference implementation).
  auto generative_loss = vae_loss(nets_.vae, batch, gen_);
  nets_.vae_flat.grads.zero_();
  generative_loss.backward();
  vae_opt_.update(nets_.vae_flat.values, nets_.vae_flat.grads);

  // Critics: regress both onto the shared target (Algorithm 1, Eq. 13).
  auto z = sample_clipped_latent(rows * config_.target_samples, latent, gen_, options);
  auto target = bcq_critic_target(nets_, batch, z, config_.target_samples, config_.discount,
                                  config_.lambda);
  auto [q1, q2] = nets_.critic->forward(batch.state, batch.action);
  auto critic_loss = torch::mse_loss(q1, target) + torch::mse_loss(q2, target);
  nets_.critic_flat.grads.zero_();
  critic_loss.backward();
  critic_opt_.update(nets_.critic_flat.values, nets_.critic_flat.grads);

  // Perturbation model: maximise Q1(s, xi(s, a)) for a ~ G_omega(s). The decoder and the
  // critic are not updated here, so their weight gradients are not computed.
  torch::Tensor sampled;
  {
    torch::NoGradGuard no_grad;
    sampled = nets_.vae->decode(batch.state, sample_clipped_latent(rows, latent, gen_, options));
  }
  set_requires_grad(*nets_.critic, false);
  auto perturbed = nets_.actor->forward(batch.state, sampled);
  auto actor_loss = -nets_.critic->q1(batch.state, perturbed).mean();
  nets_.actor_flat.grads.zero_();
  actor_loss.backward();
  set_requires_grad(*nets_.critic, true);
  actor_opt_.update(nets_.actor_flat.values, nets_.actor_flat.grads);

  polyak_update(nets_.critic_target_flat.values, nets_.critic_flat.values, config_.tau);
  polyak_update(nets_.actor_target_flat.values, nets_.actor_flat.values, config_.tau);

  return {{"vae_loss", generative_loss.item<double>()},
          {"critic_loss", critic_loss.item<double>()},
          {"actor_loss", actor_loss.item<double>()}};
}

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

const SelectionWeights& BcqAgent::selection_weights() {
  // Adam, Polyak, load() and any in-place write to a parameter bump its flat tensor's version.
  const std::array<int64_t, 3> now{nets_.vae_flat.values._version(),
                                   nets_.actor_flat.values._version(),
                                   nets_.critic_flat.values._version()};
  if (now != selection_versions_) {
    selection_ = SelectionWeights::from(nets_, config_.precision);
    selection_versions_ = now;
  }
  return selection_;
}

std::pair<torch::Tensor, torch::Tensor> BcqAgent::best_action(const torch::Tensor& states,
                                                              at::Generator& gen) {
  torch::NoGradGuard no_grad;
  const auto& w = selection_weights();
  const auto precision = config_.precision;
  const int64_t n = states.size(0);
  const int64_t k = config_.select_samples;
  const double max_action = shape_.max_action;
  auto s = states.to(device_, torch::kFloat);
  auto z = sample_clipped_latent(n * k, nets_.vae->latent_dim, gen, s.options());
  const bool bf16 = precision == MatmulPrecision::kBFloat16;
  // Eq. 11: k actions per state from the decoder of G_omega ...
  auto h = hidden_relu(w.d2, split_input_relu(w.d1, s, z, k, bf16), precision);
  auto sampled = max_action * torch::tanh(output(w.d3, h));
  // ... each perturbed by xi_phi within [-Phi max_action, Phi max_action], clamped ...
  h = hidden_relu(w.a2, split_input_relu(w.a1, s, sampled, k, bf16), precision);
  auto actions = (sampled + (config_.phi * max_action) * torch::tanh(output(w.a3, h)))
                     .clamp(-max_action, max_action);
  // ... and the one with the highest Q1 kept.
  h = hidden_relu(w.q2, split_input_relu(w.q1, s, actions, k, bf16), precision);
  auto q = output(w.q3, h).reshape({n, k});
  auto [best_q, index] = q.max(1);
  auto chosen = actions.reshape({n, k, shape_.action_dim})
                    .gather(1, index.view({n, 1, 1}).expand({n, 1, shape_.action_dim}))
                    .squeeze(1);
  return {chosen, best_q};
}

torch::Tensor BcqAgent::select_action(const torch::Tensor& states, at::Generator& gen) {
  return best_action(states, gen).first;
}

torch::Tensor BcqAgent::value_estimate(const torch::Tensor& states, at::Generator& gen) {
  return best_action(states, gen).second;
}

void BcqAgent::save(torch::serialize::OutputArchive& archive) const {
  archive.write("bcq/actor", nets_.actor_flat.values);
  archive.write("bcq/actor_target", nets_.actor_target_flat.values);
  archive.write("bcq/critic", nets_.critic_flat.values);
  archive.write("bcq/critic_target", nets_.critic_target_flat.values);
  archive.write("bcq/vae", nets_.vae_flat.values);
  auto save_opt = [&](const std::string& key, const FlatAdam& opt) {
    archive.write(key + "/exp_avg", opt.exp_avg);
    archive.write(key + "/exp_avg_sq", opt.exp_avg_sq);
    archive.write(key + "/step", torch::tensor(opt.step, torch::kInt64));
  };
  save_opt("bcq/actor_adam", actor_opt_);
  save_opt("bcq/critic_adam", critic_opt_);
  save_opt("bcq/vae_adam", vae_opt_);
  save_generator(archive, "bcq/generator", gen_);
}

void BcqAgent::load(torch::serialize::InputArchive& archive) {
  torch::NoGradGuard no_grad;
  auto read_into = [&](const std::string& key, torch::Tensor& dest) {
    torch::Tensor t;
    archive.read(key, t);
    if (t.sizes() != dest.sizes()) {
      throw std::runtime_error("checkpoint tensor " + key + " has the wrong size");
    }
    dest.copy_(t);
  };
  read_into("bcq/actor", nets_.actor_flat.values);
  read_into("bcq/actor_target", nets_.actor_target_flat.values);
  read_into("bcq/critic", nets_.critic_flat.values);
  read_into("bcq/critic_target", nets_.critic_target_flat.values);
  read_into("bcq/vae", nets_.vae_flat.values);
  auto load_opt = [&](const std::string& key, FlatAdam& opt) {
    read_into(key + "/exp_avg", opt.exp_avg);
    read_into(key + "/exp_avg_sq", opt.exp_avg_sq);
    torch::Tensor step;
    archive.read(key + "/step", step);
    opt.step = step.item<int64_t>();
  };
  load_opt("bcq/actor_adam", actor_opt_);
  load_opt("bcq/critic_adam", critic_opt_);
  load_opt("bcq/vae_adam", vae_opt_);
  load_generator(archive, "bcq/generator", gen_);
}

void BcqAgent::export_policy(const std::string& path) const {
  // The tensors and the operations of best_action, so the script picks the same actions.
  const auto w = SelectionWeights::from(nets_, config_.precision);
  NamedTensors t;
  auto cpu = [](const torch::Tensor& x) { return x.to(torch::kCPU); };
  for (const auto& [name, layer] : {std::pair{"d1", &w.d1}, {"a1", &w.a1}, {"q1", &w.q1}}) {
    t.emplace_back(std::string(name) + "_state_weight", cpu(layer->state_weight));
    t.emplace_back(std::string(name) + "_sample_weight_t", cpu(layer->sample_weight_t));
    t.emplace_back(std::string(name) + "_bias", cpu(layer->bias));
  }
  for (const auto& [name, layer] : {std::pair{"d2", &w.d2}, {"d3", &w.d3}, {"a2", &w.a2},
                                    {"a3", &w.a3}, {"q2", &w.q2}, {"q3", &w.q3}}) {
    t.emplace_back(std::string(name) + "_weight", cpu(layer->weight));
    t.emplace_back(std::string(name) + "_bias", cpu(layer->bias));
  }
  const std::string sd = std::to_string(shape_.state_dim);
  const std::string ad = std::to_string(shape_.action_dim);
  const std::string ld = std::to_string(nets_.vae->latent_dim);
  const std::string k = std::to_string(config_.select_samples);
  const std::string ma = script_float(shape_.max_action);
  const std::string pm = script_float(config_.phi * shape_.max_action);
  // hidden_relu: float32, or the bfloat16 weight stored as such (15 is ScalarType BFloat16;
  // this script's scope has no torch.bfloat16 name).
  auto hidden = [&](const std::string& layer) {
    if (config_.precision == MatmulPrecision::kFloat32) {
      return "(torch.mm(h, self." + layer + "_weight.t()) + self." + layer + "_bias).relu()";
    }
    return "(self." + layer + "_bias + torch.mm(h.to(15), self." + layer + "_weight.t())).relu()";
  };
  // split_input_relu, then Eq. 11: sample k actions from the decoder, perturb, keep the one
  // with the highest Q1.
  const std::string src = R"(
def split_input_relu(self, bias: Tensor, state_weight: Tensor, sample_weight_t: Tensor,
                     s: Tensor, x: Tensor) -> Tensor:
    n = s.size(0)
    out = bias.size(0)
    h = (torch.mm(s, state_weight.t()) + bias).unsqueeze(1).expand(n, )" + k + R"(, out)
    h = h.reshape(n * )" + k + R"(, out)
    for i in range(sample_weight_t.size(0)):
        h = h + x[:, i:i + 1] * sample_weight_t[i]
    return h.relu()

def forward(self, state: Tensor) -> Tensor:
    single = state.dim() == 1
    s = state.reshape(-1, )" + sd + R"().float()
    n = s.size(0)
    z = torch.randn(n * )" + k + ", " + ld + R"().clamp(-0.5, 0.5)
    h = self.split_input_relu(self.d1_bias, self.d1_state_weight, self.d1_sample_weight_t, s, z)
    h = )" + hidden("d2") + R"(
    a = )" + ma + R"( * torch.tanh(torch.mm(h, self.d3_weight.t()) + self.d3_bias)
    h = self.split_input_relu(self.a1_bias, self.a1_state_weight, self.a1_sample_weight_t, s, a)
    h = )" + hidden("a2") + R"(
    a = (a + )" + pm + R"( * torch.tanh(torch.mm(h, self.a3_weight.t()) + self.a3_bias)).clamp(-)" +
                          ma + ", " + ma + R"()
    h = self.split_input_relu(self.q1_bias, self.q1_state_weight, self.q1_sample_weight_t, s, a)
    h = )" + hidden("q2") + R"(
    q = (torch.mm(h, self.q3_weight.t()) + self.q3_bias).reshape(n, )" + k + R"()
    index = q.argmax(1)
    best = a.reshape(n, )" + k + ", " + ad + R"().gather(1, index.view(n, 1, 1).expand(n, 1, )" + ad +
                          R"()).squeeze(1)
    if single:
        return best[0]
    return best
)";
  save_script_module(path, "BcqPolicy", t, src);
}

nlohmann::json BcqAgent::config() const {
  auto j = config_.to_json();
  j["algo"] = "bcq";
  j["latent_dim"] = nets_.vae->latent_dim;
  j["max_action"] = shape_.max_action;
  return j;
}

}  // namespace bcq::continuous
