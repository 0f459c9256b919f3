#include "continuous/baselines.hpp"

#include <limits>

#include "continuous/bcq.hpp"
#include "continuous/script_export.hpp"

namespace bcq::continuous {

namespace {

// The deterministic actor (DDPG, BC) as a TorchScript policy.
void export_deterministic_actor(const std::string& path, const std::string& class_name,
                                const DeterministicActor& actor, const ProblemShape& shape) {
  NamedTensors t;
  add_linear(t, "l1", actor->l1);
  add_linear(t, "l2", actor->l2);
  add_linear(t, "l3", actor->l3);
  const std::string ma = script_float(shape.max_action);
  const std::string source = R"(
def forward(self, state: Tensor) -> Tensor:
    single = state.dim() == 1
    s = state.reshape(-1, )" + std::to_string(shape.state_dim) + R"().float()
    h = torch.relu(torch.addmm(self.l1_bias, s, self.l1_weight.t()))
    h = torch.relu(torch.addmm(self.l2_bias, h, self.l2_weight.t()))
    a = )" + ma + R"( * torch.tanh(torch.addmm(self.l3_bias, h, self.l3_weight.t()))
    if single:
        return a[0]
    return a
)";
  save_script_module(path, class_name, t, source);
}

torch::Tensor nan_values(const torch::Tensor& states) {
  return torch::full({states.size(0)}, std::numeric_limits<float>::quiet_NaN());
}

}  // namespace

// ---------------------------------------------------------------- DDPG

DdpgAgent::DdpgAgent(const ProblemShape& shape, uint64_t seed, torch::Device device,
                     DdpgConfig config)
    : shape_(shape), config_(config), device_(device) {
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
  auto critic_loss = torch::mse_loss(critic_->forward(batch.state, batch.action), target);
  critic_flat_.grads.zero_();
  critic_loss.backward();
  critic_opt_.update(critic_flat_.values, critic_flat_.grads);

  set_requires_grad(*critic_, false);
  auto actor_loss = -critic_->forward(batch.state, actor_->forward(batch.state)).mean();
  actor_flat_.grads.zero_();
  actor_loss.backward();
  set_requires_grad(*critic_, true);
  actor_opt_.update(actor_flat_.values, actor_flat_.grads);

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

void DdpgAgent::save(torch::serialize::OutputArchive& archive) const {
  archive.write("ddpg/actor", actor_flat_.values);
  archive.write("ddpg/actor_target", actor_target_flat_.values);
  archive.write("ddpg/critic", critic_flat_.values);
  archive.write("ddpg/critic_target", critic_target_flat_.values);
  save_adam(archive, "ddpg/actor_adam", actor_opt_);
  save_adam(archive, "ddpg/critic_adam", critic_opt_);
}

void DdpgAgent::load(torch::serialize::InputArchive& archive) {
  read_checkpoint_tensor(archive, "ddpg/actor", actor_flat_.values);
  read_checkpoint_tensor(archive, "ddpg/actor_target", actor_target_flat_.values);
  read_checkpoint_tensor(archive, "ddpg/critic", critic_flat_.values);
  read_checkpoint_tensor(archive, "ddpg/critic_target", critic_target_flat_.values);
  load_adam(archive, "ddpg/actor_adam", actor_opt_);
  load_adam(archive, "ddpg/critic_adam", critic_opt_);
}

void DdpgAgent::export_policy(const std::string& path) const {
  export_deterministic_actor(path, "DdpgPolicy", actor_, shape_);
}

nlohmann::json DdpgAgent::config() const {
  auto j = config_.to_json();
  j["algo"] = "ddpg";
  j["max_action"] = shape_.max_action;
  return j;
}

// ---------------------------------------------------------------- BC

BcAgent::BcAgent(const ProblemShape& shape, uint64_t seed, torch::Device device, BcConfig config)
    : shape_(shape), config_(config), device_(device) {
  torch::manual_seed(seed);
  actor_ = DeterministicActor(shape.state_dim, shape.action_dim, shape.max_action,
                              config.actor_hidden);
  actor_->to(device);
  actor_flat_ = flatten_parameters(*actor_);
  actor_opt_ = FlatAdam(actor_flat_.values, config.learning_rate);
}

Losses BcAgent::train_step(const Batch& batch) {
  auto loss = torch::mse_loss(actor_->forward(batch.state), batch.action);
  actor_flat_.grads.zero_();
  loss.backward();
  actor_opt_.update(actor_flat_.values, actor_flat_.grads);
  return {{"actor_loss", loss.item<double>()}};
}

torch::Tensor BcAgent::select_action(const torch::Tensor& states, at::Generator&) {
  torch::NoGradGuard no_grad;
  return actor_->forward(states.to(device_, torch::kFloat));
}

torch::Tensor BcAgent::value_estimate(const torch::Tensor& states, at::Generator&) {
  return nan_values(states);
}

void BcAgent::save(torch::serialize::OutputArchive& archive) const {
  archive.write("bc/actor", actor_flat_.values);
  save_adam(archive, "bc/actor_adam", actor_opt_);
}

void BcAgent::load(torch::serialize::InputArchive& archive) {
  read_checkpoint_tensor(archive, "bc/actor", actor_flat_.values);
  load_adam(archive, "bc/actor_adam", actor_opt_);
}

void BcAgent::export_policy(const std::string& path) const {
  export_deterministic_actor(path, "BcPolicy", actor_, shape_);
}

nlohmann::json BcAgent::config() const {
  auto j = config_.to_json();
  j["algo"] = "bc";
  j["max_action"] = shape_.max_action;
  return j;
}

// ---------------------------------------------------------------- VAE-BC

VaeBcAgent::VaeBcAgent(const ProblemShape& shape, uint64_t seed, torch::Device device,
                       VaeBcConfig config)
    : shape_(shape), config_(config), device_(device) {
  torch::manual_seed(seed);
  vae_ = Vae(shape.state_dim, shape.action_dim, 2 * shape.action_dim, shape.max_action,
             config.vae_hidden);
  vae_->to(device);
  vae_flat_ = flatten_parameters(*vae_);
  vae_opt_ = FlatAdam(vae_flat_.values, config.learning_rate);
  gen_ = make_generator(seed, device);
}

Losses VaeBcAgent::train_step(const Batch& batch) {
  auto loss = vae_loss(vae_, batch, gen_, config_.vae_kl_weight);
  vae_flat_.grads.zero_();
  loss.backward();
  vae_opt_.update(vae_flat_.values, vae_flat_.grads);
  return {{"vae_loss", loss.item<double>()}};
}

torch::Tensor VaeBcAgent::select_action(const torch::Tensor& states, at::Generator& gen) {
  torch::NoGradGuard no_grad;
  auto s = states.to(device_, torch::kFloat);
  return vae_->decode(s, sample_clipped_latent(s.size(0), vae_->latent_dim, gen, s.options(),
                                              config_.latent_clip));
}

torch::Tensor VaeBcAgent::value_estimate(const torch::Tensor& states, at::Generator&) {
  return nan_values(states);
}

void VaeBcAgent::save(torch::serialize::OutputArchive& archive) const {
  archive.write("vae-bc/vae", vae_flat_.values);
  save_adam(archive, "vae-bc/vae_adam", vae_opt_);
  save_generator(archive, "vae-bc/generator", gen_);
}

void VaeBcAgent::load(torch::serialize::InputArchive& archive) {
  read_checkpoint_tensor(archive, "vae-bc/vae", vae_flat_.values);
  load_adam(archive, "vae-bc/vae_adam", vae_opt_);
  load_generator(archive, "vae-bc/generator", gen_);
}

void VaeBcAgent::export_policy(const std::string& path) const {
  NamedTensors t;
  add_linear(t, "d1", vae_->d1);
  add_linear(t, "d2", vae_->d2);
  add_linear(t, "d3", vae_->d3);
  const std::string ma = script_float(shape_.max_action);
  const std::string clip = script_float(config_.latent_clip);
  const std::string src = R"(
def forward(self, state: Tensor) -> Tensor:
    single = state.dim() == 1
    s = state.reshape(-1, )" + std::to_string(shape_.state_dim) + R"().float()
    z = torch.randn(s.size(0), )" + std::to_string(vae_->latent_dim) + R"().clamp(-)" + clip + ", " +
                          clip + R"()
    h = torch.relu(torch.addmm(self.d1_bias, torch.cat([s, z], 1), self.d1_weight.t()))
    h = torch.relu(torch.addmm(self.d2_bias, h, self.d2_weight.t()))
    a = )" + ma + R"( * torch.tanh(torch.addmm(self.d3_bias, h, self.d3_weight.t()))
    if single:
        return a[0]
    return a
)";
  save_script_module(path, "VaeBcPolicy", t, src);
}

nlohmann::json VaeBcAgent::config() const {
  auto j = config_.to_json();
  j["algo"] = "vae-bc";
  j["latent_dim"] = vae_->latent_dim;
  j["max_action"] = shape_.max_action;
  return j;
}

}  // namespace bcq::continuous
