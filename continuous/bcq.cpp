#include "continuous/bcq.hpp"

#include "continuous/script_export.hpp"

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

std::pair<torch::Tensor, torch::Tensor> BcqAgent::best_action(const torch::Tensor& states,
                                                              at::Generator& gen) {
  torch::NoGradGuard no_grad;
  const int64_t n = states.size(0);
  const int64_t k = config_.select_samples;
  auto s = states.to(device_, torch::kFloat).repeat_interleave(k, 0);
  auto z = sample_clipped_latent(n * k, nets_.vae->latent_dim, gen, s.options());
  auto actions = nets_.actor->forward(s, nets_.vae->decode(s, z));
  auto q = nets_.critic->q1(s, actions).reshape({n, k});
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
  NamedTensors t;
  add_linear(t, "d1", nets_.vae->d1);
  add_linear(t, "d2", nets_.vae->d2);
  add_linear(t, "d3", nets_.vae->d3);
  add_linear(t, "a1", nets_.actor->l1);
  add_linear(t, "a2", nets_.actor->l2);
  add_linear(t, "a3", nets_.actor->l3);
  add_linear(t, "q1", nets_.critic->l1);
  add_linear(t, "q2", nets_.critic->l2);
  add_linear(t, "q3", nets_.critic->l3);
  const std::string sd = std::to_string(shape_.state_dim);
  const std::string ad = std::to_string(shape_.action_dim);
  const std::string ld = std::to_string(nets_.vae->latent_dim);
  const std::string k = std::to_string(config_.select_samples);
  const std::string ma = script_float(shape_.max_action);
  const std::string pm = script_float(config_.phi * shape_.max_action);
  // Hidden-to-hidden layers as in training (hidden_linear), so the policy is the one evaluated.
  auto hidden = [&](const std::string& layer) {
    if (config_.precision == MatmulPrecision::kFloat32) {
      return "torch.addmm(self." + layer + "_bias, h, self." + layer + "_weight.t())";
    }
    // 15 is ScalarType BFloat16 (this script's scope has no torch.bfloat16 name).
    return "self." + layer + "_bias + torch.mm(h.to(15), self." + layer + "_weight.to(15).t())";
  };
  // Eq. 11: sample k actions from the decoder, perturb, keep the one with the highest Q1.
  const std::string src = R"(
def forward(self, state: Tensor) -> Tensor:
    single = state.dim() == 1
    s = state.reshape(-1, )" + sd + R"().float()
    n = s.size(0)
    s = s.repeat_interleave()" + k + R"(, 0)
    z = torch.randn(n * )" + k + ", " + ld + R"().clamp(-0.5, 0.5)
    h = torch.relu(torch.addmm(self.d1_bias, torch.cat([s, z], 1), self.d1_weight.t()))
    h = torch.relu()" + hidden("d2") + R"()
    a = )" + ma + R"( * torch.tanh(torch.addmm(self.d3_bias, h, self.d3_weight.t()))
    h = torch.relu(torch.addmm(self.a1_bias, torch.cat([s, a], 1), self.a1_weight.t()))
    h = torch.relu()" + hidden("a2") + R"()
    a = (a + )" + pm + R"( * torch.tanh(torch.addmm(self.a3_bias, h, self.a3_weight.t()))).clamp(-)" +
                          ma + ", " + ma + R"()
    h = torch.relu(torch.addmm(self.q1_bias, torch.cat([s, a], 1), self.q1_weight.t()))
    h = torch.relu()" + hidden("q2") + R"()
    q = torch.addmm(self.q3_bias, h, self.q3_weight.t()).reshape(n, )" + k + R"()
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
