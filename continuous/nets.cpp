#include "continuous/nets.hpp"

#include "common/error.hpp"
#include "continuous/cpu_dispatch.hpp"

#include <malloc.h>

#include <cmath>
#include <sstream>

namespace bcq::continuous {

namespace nn = torch::nn;

torch::Tensor hidden_linear(const torch::nn::Linear& layer, const torch::Tensor& x,
                            MatmulPrecision precision) {
  if (precision == MatmulPrecision::kFloat32) return torch::linear(x, layer->weight, layer->bias);
  // The product in bfloat16 (float32 accumulation inside oneDNN, rounded once to bfloat16),
  // the bias added in float32 (float + bfloat16 promotes: LibTorch widens the product first).
  return layer->bias + torch::linear(x.to(torch::kBFloat16), layer->weight.to(torch::kBFloat16));
}

PerturbationActorImpl::PerturbationActorImpl(int64_t state_dim, int64_t action_dim,
                                             double max_action_, double phi_,
                                             HiddenWidths hidden)
    : max_action(max_action_), phi(phi_) {
  l1 = register_module("l1", nn::Linear(state_dim + action_dim, hidden.first));
  l2 = register_module("l2", nn::Linear(hidden.first, hidden.second));
  l3 = register_module("l3", nn::Linear(hidden.second, action_dim));
}

torch::Tensor PerturbationActorImpl::forward(const torch::Tensor& state,
                                             const torch::Tensor& action) {
  auto x = torch::relu(l1(torch::cat({state, action}, 1)));
  x = torch::relu(hidden_linear(l2, x, precision));
  // Eq. 10/11: a + xi_phi(s, a, Phi), xi in [-Phi * max_action, Phi * max_action].
  x = (phi * max_action) * torch::tanh(l3(x));
  return (x + action).clamp(-max_action, max_action);
}

TwinCriticImpl::TwinCriticImpl(int64_t state_dim, int64_t action_dim, HiddenWidths hidden) {
  l1 = register_module("l1", nn::Linear(state_dim + action_dim, hidden.first));
  l2 = register_module("l2", nn::Linear(hidden.first, hidden.second));
  l3 = register_module("l3", nn::Linear(hidden.second, 1));
  l4 = register_module("l4", nn::Linear(state_dim + action_dim, hidden.first));
  l5 = register_module("l5", nn::Linear(hidden.first, hidden.second));
  l6 = register_module("l6", nn::Linear(hidden.second, 1));
}

std::pair<torch::Tensor, torch::Tensor> TwinCriticImpl::forward(const torch::Tensor& state,
                                                                const torch::Tensor& action) {
  auto sa = torch::cat({state, action}, 1);
  auto q1 = l3(torch::relu(hidden_linear(l2, torch::relu(l1(sa)), precision)));
  auto q2 = l6(torch::relu(hidden_linear(l5, torch::relu(l4(sa)), precision)));
  return {q1, q2};
}

torch::Tensor TwinCriticImpl::q1(const torch::Tensor& state, const torch::Tensor& action) {
  auto sa = torch::cat({state, action}, 1);
  return l3(torch::relu(hidden_linear(l2, torch::relu(l1(sa)), precision)));
}

VaeImpl::VaeImpl(int64_t state_dim, int64_t action_dim, int64_t latent_dim_, double max_action_,
                 HiddenWidths hidden)
    : latent_dim(latent_dim_), max_action(max_action_) {
  e1 = register_module("e1", nn::Linear(state_dim + action_dim, hidden.first));
  e2 = register_module("e2", nn::Linear(hidden.first, hidden.second));
  mean = register_module("mean", nn::Linear(hidden.second, latent_dim));
  log_std = register_module("log_std", nn::Linear(hidden.second, latent_dim));
  d1 = register_module("d1", nn::Linear(state_dim + latent_dim, hidden.first));
  d2 = register_module("d2", nn::Linear(hidden.first, hidden.second));
  d3 = register_module("d3", nn::Linear(hidden.second, action_dim));
}

VaeImpl::Output VaeImpl::forward(const torch::Tensor& state, const torch::Tensor& action,
                                 const torch::Tensor& eps) {
  auto h = torch::relu(e1(torch::cat({state, action}, 1)));
  h = torch::relu(hidden_linear(e2, h, precision));
  auto mu = mean(h);
  auto std = torch::exp(log_std(h).clamp(-4, 15));
  auto z = mu + std * eps;
  return {decode(state, z), mu, std};
}

torch::Tensor VaeImpl::decode(const torch::Tensor& state, const torch::Tensor& z) {
  auto h = torch::relu(d1(torch::cat({state, z}, 1)));
  h = torch::relu(hidden_linear(d2, h, precision));
  return max_action * torch::tanh(d3(h));
}

torch::Tensor sample_clipped_latent(int64_t rows, int64_t latent_dim, at::Generator& gen,
                                    const torch::TensorOptions& options, double clip) {
  return at::randn({rows, latent_dim}, gen, options).clamp_(-clip, clip);
}

DeterministicActorImpl::DeterministicActorImpl(int64_t state_dim, int64_t action_dim,
                                               double max_action_, HiddenWidths hidden)
    : max_action(max_action_) {
  l1 = register_module("l1", nn::Linear(state_dim, hidden.first));
  l2 = register_module("l2", nn::Linear(hidden.first, hidden.second));
  l3 = register_module("l3", nn::Linear(hidden.second, action_dim));
}

torch::Tensor DeterministicActorImpl::forward(const torch::Tensor& state) {
  auto x = torch::relu(l1(state));
  x = torch::relu(l2(x));
  return max_action * torch::tanh(l3(x));
}

CriticImpl::CriticImpl(int64_t state_dim, int64_t action_dim, HiddenWidths hidden) {
  l1 = register_module("l1", nn::Linear(state_dim + action_dim, hidden.first));
  l2 = register_module("l2", nn::Linear(hidden.first, hidden.second));
  l3 = register_module("l3", nn::Linear(hidden.second, 1));
}

torch::Tensor CriticImpl::forward(const torch::Tensor& state, const torch::Tensor& action) {
  auto x = torch::relu(l1(torch::cat({state, action}, 1)));
  x = torch::relu(l2(x));
  return l3(x);
}

FlatParameters flatten_parameters(torch::nn::Module& module) {
  auto params = module.parameters();
  int64_t total = 0;
  for (const auto& p : params) total += p.numel();
  auto options = params.empty() ? torch::TensorOptions() : params.front().options();
  FlatParameters flat{torch::empty({total}, options.requires_grad(false)),
                      torch::zeros({total}, options.requires_grad(false))};
  int64_t offset = 0;
  torch::NoGradGuard no_grad;
  for (auto& p : params) {
    const int64_t n = p.numel();
    auto value_view = flat.values.narrow(0, offset, n).view(p.sizes());
    value_view.copy_(p);
    p.set_data(value_view);
    // set_data keeps the parameter's own version counter; share the flat tensor's instead.
    p.unsafeGetTensorImpl()->set_version_counter(
        flat.values.unsafeGetTensorImpl()->version_counter());
    p.mutable_grad() = flat.grads.narrow(0, offset, n).view(p.sizes());
    offset += n;
  }
  return flat;
}

namespace {

// The fused loops below are compiled twice (AVX2 and baseline x86-64) and picked at load
// time; -fno-math-errno (CMakeLists) lets sqrt vectorise.
struct AdamScalars {
  float b1, one_minus_b1, b2, one_minus_b2, bc2_sqrt, eps, neg_step;
};

BCQ_CPU_CLONES("avx2", "default") void adam_kernel(
    float* __restrict p, const float* __restrict g, float* __restrict m, float* __restrict v,
    int64_t begin, int64_t end, AdamScalars c) {
  for (int64_t i = begin; i < end; ++i) {
    const float gi = g[i];
    const float mi = m[i] * c.b1 + gi * c.one_minus_b1;
    const float vi = v[i] * c.b2 + (gi * gi) * c.one_minus_b2;
    m[i] = mi;
    v[i] = vi;
    const float denom = std::sqrt(vi) / c.bc2_sqrt + c.eps;
    p[i] = p[i] + c.neg_step * (mi / denom);
  }
}

BCQ_CPU_CLONES("avx2", "default") void polyak_kernel(
    float* __restrict t, const float* __restrict o, int64_t begin, int64_t end, float tau,
    float keep) {
  for (int64_t i = begin; i < end; ++i) t[i] = tau * o[i] + keep * t[i];
}

}  // namespace

FlatAdam::FlatAdam(const torch::Tensor& like, double learning_rate)
    : lr(learning_rate), exp_avg(torch::zeros_like(like)), exp_avg_sq(torch::zeros_like(like)) {}

void FlatAdam::update(torch::Tensor& params, const torch::Tensor& grads) {
  torch::NoGradGuard no_grad;
  ++step;
  const double bias_correction1 = 1.0 - std::pow(beta1, static_cast<double>(step));
  const double bias_correction2 = 1.0 - std::pow(beta2, static_cast<double>(step));
  const double step_size = lr / bias_correction1;
  const double bias_correction2_sqrt = std::sqrt(bias_correction2);
  if (!params.device().is_cpu() || params.scalar_type() != torch::kFloat) {
    exp_avg.mul_(beta1).add_(grads, 1 - beta1);
    exp_avg_sq.mul_(beta2).addcmul_(grads, grads, 1 - beta2);
    auto denom = (exp_avg_sq.sqrt() / bias_correction2_sqrt).add_(eps);
    params.addcdiv_(exp_avg, denom, -step_size);
    return;
  }
  // The same arithmetic as torch.optim.Adam's single-tensor CPU path, element by element, in
  // one pass over memory instead of six.
  float* p = params.data_ptr<float>();
  const float* g = grads.data_ptr<float>();
  float* m = exp_avg.data_ptr<float>();
  float* v = exp_avg_sq.data_ptr<float>();
  const AdamScalars c{static_cast<float>(beta1),        static_cast<float>(1 - beta1),
                      static_cast<float>(beta2),        static_cast<float>(1 - beta2),
                      static_cast<float>(bias_correction2_sqrt), static_cast<float>(eps),
                      static_cast<float>(-step_size)};
  // One thread: the pass is memory-bound, and waking a second OpenMP thread measured 4x slower
  // than doing it alone (bench_bcq, 2 threads).
  adam_kernel(p, g, m, v, 0, params.numel(), c);
  params.unsafeGetTensorImpl()->bump_version();  // written through a raw pointer
}

torch::Tensor gradient_step(const torch::Tensor& loss, FlatParameters& flat, FlatAdam& adam) {
  flat.grads.zero_();
  loss.backward();
  adam.update(flat.values, flat.grads);
  return loss;
}

void save_adam(torch::serialize::OutputArchive& archive, const std::string& key,
               const FlatAdam& adam) {
  archive.write(key + "/exp_avg", adam.exp_avg);
  archive.write(key + "/exp_avg_sq", adam.exp_avg_sq);
  archive.write(key + "/step", torch::tensor(adam.step, torch::kInt64));
}

void load_adam(torch::serialize::InputArchive& archive, const std::string& key, FlatAdam& adam) {
  read_checkpoint_tensor(archive, key + "/exp_avg", adam.exp_avg);
  read_checkpoint_tensor(archive, key + "/exp_avg_sq", adam.exp_avg_sq);
  torch::Tensor step;
  archive.read(key + "/step", step);
  if (step.numel() != 1) throw InputError("checkpoint entry " + key + "/step is not one number");
  adam.step = step.item<int64_t>();
}

void read_checkpoint_tensor(torch::serialize::InputArchive& archive, const std::string& key,
                            torch::Tensor& dest) {
  torch::NoGradGuard no_grad;
  torch::Tensor t;
  archive.read(key, t);
  if (t.sizes() != dest.sizes()) {
    std::ostringstream why;
    why << "checkpoint entry " << key << " has size " << t.sizes() << ", this agent needs "
        << dest.sizes();
    throw InputError(why.str());
  }
  dest.copy_(t);
}

void start_target(torch::nn::Module& target_module, FlatParameters& target,
                  const FlatParameters& online) {
  target.values.copy_(online.values);
  set_requires_grad(target_module, false);
}

void polyak_update(torch::Tensor& target, const torch::Tensor& online, double tau) {
  torch::NoGradGuard no_grad;
  if (!target.device().is_cpu() || target.scalar_type() != torch::kFloat) {
    target.copy_(tau * online + (1 - tau) * target);
    return;
  }
  float* t = target.data_ptr<float>();
  const float* o = online.data_ptr<float>();
  const float tau_f = static_cast<float>(tau), keep = static_cast<float>(1 - tau);
  polyak_kernel(t, o, 0, target.numel(), tau_f, keep);
  target.unsafeGetTensorImpl()->bump_version();  // written through a raw pointer
}

void set_requires_grad(torch::nn::Module& module, bool on) {
  for (auto& p : module.parameters()) p.requires_grad_(on);
}

}  // namespace bcq::continuous

namespace bcq::continuous {

void keep_freed_memory_for_reuse() {
  // glibc returns large freed blocks to the kernel (mmap / heap trim), so every iteration's
  // 3 MB activations page-fault afresh: relu on a 1000 x 750 tensor took 1.3 ms instead of
  // 0.2 ms. Keep them in the heap instead. (Setting any of these turns off glibc's dynamic
  // threshold, so the mmap threshold must be raised explicitly.)
  mallopt(M_MMAP_THRESHOLD, 32 << 20);  // the largest value glibc accepts on 64-bit
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  mallopt(M_TOP_PAD, 64 << 20);
}

}  // namespace bcq::continuous
