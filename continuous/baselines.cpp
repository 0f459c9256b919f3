#include "continuous/baselines.hpp"

#include <array>

#include "continuous/bcq.hpp"
#include "continuous/script_export.hpp"

namespace bcq::continuous {

namespace {

// A policy of three Linear layers, a = max_action tanh(L3 relu(L2 relu(L1 x))), as a
// TorchScript module whose layers are "<prefix>1".."<prefix>3". `setup` (TorchScript lines) runs
// after s, the state batch, is formed, and `input` is x: s for the deterministic actor (DDPG,
// BC), [s, z] for VAE-BC's decoder.
void export_three_layer_policy(const std::string& path, const std::string& class_name,
                               const std::string& prefix,
                               const std::array<torch::nn::Linear, 3>& layers,
                               const ProblemShape& shape, const std::string& setup,
                               const std::string& input) {
  NamedTensors t;
  for (int i = 0; i < 3; ++i) add_linear(t, prefix + std::to_string(i + 1), layers[i]);
  const std::string self = "self." + prefix;
  const std::string source = "\ndef forward(self, state: Tensor) -> Tensor:\n"
      "    single = state.dim() == 1\n"
      "    s = state.reshape(-1, " + std::to_string(shape.state_dim) + ").float()\n" + setup +
      "    h = torch.relu(torch.addmm(" + self + "1_bias, " + input + ", " + self + "1_weight.t()))\n"
      "    h = torch.relu(torch.addmm(" + self + "2_bias, h, " + self + "2_weight.t()))\n"
      "    a = " + script_float(shape.max_action) + " * torch.tanh(torch.addmm(" + self +
      "3_bias, h, " + self + "3_weight.t()))\n"
      "    if single:\n"
      "        return a[0]\n"
      "    return a\n";
  save_script_module(path, class_name, t, source);
}

void export_deterministic_actor(const std::string& path, const std::string& class_name,
                                const DeterministicActor& actor, const ProblemShape& shape) {
  export_three_layer_policy(path, class_name, "l", {actor->l1, actor->l2, actor->l3}, shape, "",
                            "s");
}

}  // namespace

// ---------------------------------------------------------------- DDPG

DdpgAgent::DdpgAgent(const ProblemShape& shape, uint64_t seed, torch::Device device,
                     DdpgConfig config)
    : AgentWithConfig("ddpg", shape, config, device) {
  torch::manual_seed(seed);
  actor_ = DeterministicActor(shape.state_dim, shape.action_dim, shape.max_action,
                              config.actor_hidden);
  actor_target_ = DeterministicActor(shape.state_dim, shape.action_dim, shape.max_action,
                                     config.actor_hidden);
  critic_ = Critic(shape.state_dim, shape.action_dim, config.critic_hidden);
  critic_target_ = Critic(shape.state_dim, shape.action_dim, config.critic_hidden);
  for (torch::nn::Module* m : std::initializer_list<torch::nn::Module*>{
           actor_.get(), actor_target_.get(), critic_.get(), critic_target_.get()}) {
    m->to(device);
  }
  actor_flat_ = flatten_parameters(*actor_);
  actor_target_flat_ = flatten_parameters(*actor_target_);
  critic_flat_ = flatten_parameters(*critic_);
  critic_target_flat_ = flatten_parameters(*critic_target_);
  start_target(*actor_target_, actor_target_flat_, actor_flat_);
  start_target(*critic_target_, critic_target_flat_, critic_flat_);
  actor_opt_ = FlatAdam(actor_flat_.values, config.learning_rate);
  critic_opt_ = FlatAdam(critic_flat_.values, config.learning_rate);
}

Losses DdpgAgent::train_step(const Batch& batch) {
  torch::Tensor target;
  {
    torch::NoGradGuard no_grad;
    auto next_q = critic_target_->forward(batch.next_state, actor_target_->forward(batch.next_state));
    target = batch.reward + batch.not_done * config_.discount * next_q;
  }
  const torch::Tensor critic_loss = gradient_step(
      torch::mse_loss(critic_->forward(batch.state, batch.action), target), critic_flat_,
      critic_opt_);

  set_requires_grad(*critic_, false);
  const torch::Tensor actor_loss = gradient_step(
      -critic_->forward(batch.state, actor_->forward(batch.state)).mean(), actor_flat_,
      actor_opt_);
  set_requires_grad(*critic_, true);

  polyak_update(critic_target_flat_.values, critic_flat_.values, config_.tau);
  polyak_update(actor_target_flat_.values, actor_flat_.values, config_.tau);
  return {{"critic_loss", critic_loss.item<double>()}, {"actor_loss", actor_loss.item<double>()}};
}

torch::Tensor DdpgAgent::select_action(const torch::Tensor& states, at::Generator&) {
  torch::NoGradGuard no_grad;
  return actor_->forward(states.to(device_, torch::kFloat));
}

torch::Tensor DdpgAgent::value_estimate(const torch::Tensor& states, at::Generator&) {
  torch::NoGradGuard no_grad;
  auto s = states.to(device_, torch::kFloat);
  return critic_->forward(s, actor_->forward(s)).reshape({-1});
}

CheckpointEntries DdpgAgent::checkpoint_entries() {
  return {{{"ddpg/actor", actor_flat_.values},
           {"ddpg/actor_target", actor_target_flat_.values},
           {"ddpg/critic", critic_flat_.values},
           {"ddpg/critic_target", critic_target_flat_.values}},
          {{"ddpg/actor_adam", &actor_opt_}, {"ddpg/critic_adam", &critic_opt_}},
          {}};
}

void DdpgAgent::export_policy(const std::string& path) const {
  export_deterministic_actor(path, "DdpgPolicy", actor_, shape_);
}

// ---------------------------------------------------------------- BC

BcAgent::BcAgent(const ProblemShape& shape, uint64_t seed, torch::Device device, BcConfig config)
    : AgentWithConfig("bc", shape, config, device) {
  torch::manual_seed(seed);
  actor_ = DeterministicActor(shape.state_dim, shape.action_dim, shape.max_action,
                              config.actor_hidden);
  actor_->to(device);
  actor_flat_ = flatten_parameters(*actor_);
  actor_opt_ = FlatAdam(actor_flat_.values, config.learning_rate);
}

Losses BcAgent::train_step(const Batch& batch) {
  return {{"actor_loss", gradient_step(torch::mse_loss(actor_->forward(batch.state), batch.action),
                                       actor_flat_, actor_opt_)
                             .item<double>()}};
}

torch::Tensor BcAgent::select_action(const torch::Tensor& states, at::Generator&) {
  torch::NoGradGuard no_grad;
  return actor_->forward(states.to(device_, torch::kFloat));
}

CheckpointEntries BcAgent::checkpoint_entries() {
  return {{{"bc/actor", actor_flat_.values}}, {{"bc/actor_adam", &actor_opt_}}, {}};
}

void BcAgent::export_policy(const std::string& path) const {
  export_deterministic_actor(path, "BcPolicy", actor_, shape_);
}

// ---------------------------------------------------------------- VAE-BC

VaeBcAgent::VaeBcAgent(const ProblemShape& shape, uint64_t seed, torch::Device device,
                       VaeBcConfig config)
    : AgentWithConfig("vae-bc", shape, config, device) {
  torch::manual_seed(seed);
  vae_ = Vae(shape.state_dim, shape.action_dim, 2 * shape.action_dim, shape.max_action,
             config.vae_hidden);
  vae_->to(device);
  vae_flat_ = flatten_parameters(*vae_);
  vae_opt_ = FlatAdam(vae_flat_.values, config.learning_rate);
  gen_ = make_generator(seed, device);
}

Losses VaeBcAgent::train_step(const Batch& batch) {
  return {{"vae_loss",
           gradient_step(vae_loss(vae_, batch, gen_, config_.vae_kl_weight), vae_flat_, vae_opt_)
               .item<double>()}};
}

torch::Tensor VaeBcAgent::select_action(const torch::Tensor& states, at::Generator& gen) {
  torch::NoGradGuard no_grad;
  auto s = states.to(device_, torch::kFloat);
  return vae_->decode(s, sample_clipped_latent(s.size(0), vae_->latent_dim, gen, s.options(),
                                              config_.latent_clip));
}

CheckpointEntries VaeBcAgent::checkpoint_entries() {
  return {{{"vae-bc/vae", vae_flat_.values}},
          {{"vae-bc/vae_adam", &vae_opt_}},
          {{"vae-bc/generator", gen_}}};
}

void VaeBcAgent::export_policy(const std::string& path) const {
  const std::string clip = script_float(config_.latent_clip);
  export_three_layer_policy(path, "VaeBcPolicy", "d", {vae_->d1, vae_->d2, vae_->d3}, shape_,
                            "    z = torch.randn(s.size(0), " + std::to_string(vae_->latent_dim) +
                                ").clamp(-" + clip + ", " + clip + ")\n",
                            "torch.cat([s, z], 1)");
}

nlohmann::json VaeBcAgent::config() const {
  auto j = AgentWithConfig::config();
  j["latent_dim"] = vae_->latent_dim;
  return j;
}

}  // namespace bcq::continuous
