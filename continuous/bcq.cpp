// BCQ's training step (Algorithm 1), value estimate and checkpoint state. Action selection
// and its TorchScript export: bcq_selection.cpp, bcq_script.cpp.
#include "continuous/bcq.hpp"

#include "continuous/bcq_selection.hpp"

namespace bcq::continuous {

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

torch::Tensor vae_loss(Vae& vae, const Batch& batch, at::Generator& gen, double kl_weight) {
  auto eps = at::randn({batch.state.size(0), vae->latent_dim}, gen, batch.state.options());
  auto out = vae->forward(batch.state, batch.action, eps);
  auto recon_loss = torch::mse_loss(out.reconstruction, batch.action);
  auto kl_loss =
      -0.5 * (1 + torch::log(out.std.pow(2)) - out.mean.pow(2) - out.std.pow(2)).mean();
  return recon_loss + kl_weight * kl_loss;
}

BcqAgent::~BcqAgent() = default;

BcqAgent::BcqAgent(const ProblemShape& shape, uint64_t seed, torch::Device device,
                   BcqConfig config)
    : AgentWithConfig("bcq", shape, config, device) {
  torch::manual_seed(seed);
  const int64_t latent = 2 * shape.action_dim;
  auto make_actor = [&] {
    auto a = PerturbationActor(shape.state_dim, shape.action_dim, shape.max_action, config.phi,
                               config.actor_hidden);
    a->to(device);
    return a;
  };
  auto make_critic = [&] {
    auto c = TwinCritic(shape.state_dim, shape.action_dim, config.critic_hidden);
    c->to(device);
    return c;
  };
  nets_.actor = make_actor();
  nets_.actor_target = make_actor();
  nets_.critic = make_critic();
  nets_.critic_target = make_critic();
  nets_.vae = Vae(shape.state_dim, shape.action_dim, latent, shape.max_action, config.vae_hidden);
  nets_.vae->to(device);
  for (auto* actor : {&nets_.actor, &nets_.actor_target}) (*actor)->precision = config.precision;
  for (auto* critic : {&nets_.critic, &nets_.critic_target}) (*critic)->precision = config.precision;
  nets_.vae->precision = config.precision;
  nets_.actor_flat = flatten_parameters(*nets_.actor);
  nets_.actor_target_flat = flatten_parameters(*nets_.actor_target);
  nets_.critic_flat = flatten_parameters(*nets_.critic);
  nets_.critic_target_flat = flatten_parameters(*nets_.critic_target);
  nets_.vae_flat = flatten_parameters(*nets_.vae);
  start_target(*nets_.actor_target, nets_.actor_target_flat, nets_.actor_flat);
  start_target(*nets_.critic_target, nets_.critic_target_flat, nets_.critic_flat);
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
  const torch::Tensor generative_loss = gradient_step(
      vae_loss(nets_.vae, batch, gen_, config_.vae_kl_weight), nets_.vae_flat, vae_opt_);

  // Critics: regress both onto the shared target (Algorithm 1, Eq. 13).
  auto z = sample_clipped_latent(rows * config_.target_samples, latent, gen_, options,
                                 config_.latent_clip);
  auto target = bcq_critic_target(nets_, batch, z, config_.target_samples, config_.discount,
                                  config_.lambda);
  auto [q1, q2] = nets_.critic->forward(batch.state, batch.action);
  const torch::Tensor critic_loss = gradient_step(
      torch::mse_loss(q1, target) + torch::mse_loss(q2, target), nets_.critic_flat, critic_opt_);

  // Perturbation model: maximise Q1(s, xi(s, a)) for a ~ G_omega(s). The decoder and the
  // critic are not updated here, so their weight gradients are not computed.
  torch::Tensor sampled;
  {
    torch::NoGradGuard no_grad;
    sampled = nets_.vae->decode(
        batch.state, sample_clipped_latent(rows, latent, gen_, options, config_.latent_clip));
  }
  set_requires_grad(*nets_.critic, false);
  auto perturbed = nets_.actor->forward(batch.state, sampled);
  const torch::Tensor actor_loss =
      gradient_step(-nets_.critic->q1(batch.state, perturbed).mean(), nets_.actor_flat, actor_opt_);
  set_requires_grad(*nets_.critic, true);

  polyak_update(nets_.critic_target_flat.values, nets_.critic_flat.values, config_.tau);
  polyak_update(nets_.actor_target_flat.values, nets_.actor_flat.values, config_.tau);

  return {{"vae_loss", generative_loss.item<double>()},
          {"critic_loss", critic_loss.item<double>()},
          {"actor_loss", actor_loss.item<double>()}};
}

const SelectionWeights& BcqAgent::selection_weights() {
  // Adam, Polyak, load() and any in-place write to a parameter bump its flat tensor's version.
  const std::array<int64_t, 3> now{nets_.vae_flat.values._version(),
                                   nets_.actor_flat.values._version(),
                                   nets_.critic_flat.values._version()};
  if (!selection_ || now != selection_versions_) {
    selection_ = std::make_unique<SelectionWeights>(SelectionWeights::from(nets_, config_.precision));
    selection_versions_ = now;
  }
  return *selection_;
}

std::pair<torch::Tensor, torch::Tensor> BcqAgent::best_action(const torch::Tensor& states,
                                                              at::Generator& gen) {
  torch::NoGradGuard no_grad;
  const auto& weights = selection_weights();
  auto s = states.to(device_, torch::kFloat);
  auto z = sample_clipped_latent(s.size(0) * config_.select_samples, nets_.vae->latent_dim, gen,
                                 s.options(), config_.latent_clip);
  return select_best_action(weights, s, z, config_, shape_);
}

torch::Tensor BcqAgent::select_action(const torch::Tensor& states, at::Generator& gen) {
  return best_action(states, gen).first;
}

torch::Tensor BcqAgent::value_estimate(const torch::Tensor& states, at::Generator& gen) {
  return best_action(states, gen).second;
}

CheckpointEntries BcqAgent::checkpoint_entries() {
  return {{{"bcq/actor", nets_.actor_flat.values},
           {"bcq/actor_target", nets_.actor_target_flat.values},
           {"bcq/critic", nets_.critic_flat.values},
           {"bcq/critic_target", nets_.critic_target_flat.values},
           {"bcq/vae", nets_.vae_flat.values}},
          {{"bcq/actor_adam", &actor_opt_},
           {"bcq/critic_adam", &critic_opt_},
           {"bcq/vae_adam", &vae_opt_}},
          {{"bcq/generator", gen_}}};
}

void BcqAgent::export_policy(const std::string& path) const {
  export_bcq_policy(path, SelectionWeights::from(nets_, config_.precision), config_, shape_,
                    nets_.vae->latent_dim);
}

nlohmann::json BcqAgent::config() const {
  auto j = AgentWithConfig::config();
  j["latent_dim"] = nets_.vae->latent_dim;
  return j;
}

}  // namespace bcq::continuous
