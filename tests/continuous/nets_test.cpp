// Networks: shapes and output bounds, flat parameters, Adam against torch::optim::Adam, the
// Polyak update against an element-by-element reference, and the VAE on a toy distribution.
#include <gtest/gtest.h>

#include <torch/torch.h>

#include <cmath>

#include "continuous/agent.hpp"
#include "continuous/bcq.hpp"
#include "common/error.hpp"
#include "continuous/nets.hpp"

namespace bcq::continuous {
namespace {

TEST(Nets, PerturbationActorShapeAndBounds) {
  torch::manual_seed(1);
  const double max_action = 3.0, phi = 0.05;
  PerturbationActor actor(11, 3, max_action, phi);
  auto s = torch::randn({64, 11}) * 5;
  auto a = torch::rand({64, 3}) * 2 * max_action - max_action;
  a[0] = torch::full({3}, max_action);  // at the bound: the clamp must hold
  auto out = actor->forward(s, a);
  ASSERT_EQ(out.sizes(), (std::vector<int64_t>{64, 3}));
  EXPECT_LE(out.abs().max().item<double>(), max_action);
  // xi in [-Phi * max_action, Phi * max_action].
  EXPECT_LE((out - a).abs().max().item<double>(), phi * max_action + 1e-6);
  EXPECT_GT((out - a).abs().max().item<double>(), 0.0);
}

TEST(Nets, CriticAndActorShapes) {
  torch::manual_seed(2);
  TwinCritic critic(17, 6);
  auto s = torch::randn({5, 17});
  auto a = torch::randn({5, 6});
  auto [q1, q2] = critic->forward(s, a);
  EXPECT_EQ(q1.sizes(), (std::vector<int64_t>{5, 1}));
  EXPECT_EQ(q2.sizes(), (std::vector<int64_t>{5, 1}));
  EXPECT_TRUE(torch::equal(critic->q1(s, a), q1));
  EXPECT_FALSE(torch::allclose(q1, q2));  // two independently initialised critics
  DeterministicActor actor(17, 6, 0.4);
  auto out = actor->forward(s * 100);
  EXPECT_EQ(out.sizes(), (std::vector<int64_t>{5, 6}));
  EXPECT_LE(out.abs().max().item<double>(), static_cast<double>(0.4f));  // float32 bound
  EXPECT_EQ(critic->l1->weight.sizes(), (std::vector<int64_t>{400, 23}));
  EXPECT_EQ(critic->l2->weight.sizes(), (std::vector<int64_t>{300, 400}));
}

TEST(Nets, VaeShapesBoundsAndStdClamp) {
  torch::manual_seed(3);
  Vae vae(11, 3, 6, 2.0);
  EXPECT_EQ(vae->e2->weight.sizes(), (std::vector<int64_t>{750, 750}));
  EXPECT_EQ(vae->d1->weight.sizes(), (std::vector<int64_t>{750, 17}));
  auto s = torch::randn({8, 11});
  auto a = torch::rand({8, 3}) * 4 - 2;
  auto out = vae->forward(s, a, torch::randn({8, 6}));
  EXPECT_EQ(out.reconstruction.sizes(), (std::vector<int64_t>{8, 3}));
  EXPECT_EQ(out.mean.sizes(), (std::vector<int64_t>{8, 6}));
  EXPECT_LE(out.reconstruction.abs().max().item<double>(), 2.0);
  // Make log-std huge and tiny: std must stay within [exp(-4), exp(15)].
  {
    torch::NoGradGuard g;
    vae->log_std->bias.fill_(100.0);
  }
  EXPECT_NEAR(vae->forward(s, a, torch::randn({8, 6})).std.max().item<double>(), std::exp(15.0), 1e2);
  {
    torch::NoGradGuard g;
    vae->log_std->bias.fill_(-100.0);
  }
  EXPECT_NEAR(vae->forward(s, a, torch::randn({8, 6})).std.min().item<double>(), std::exp(-4.0), 1e-6);
  auto gen = make_generator(4, torch::kCPU);
  auto z = sample_clipped_latent(1000, 6, gen, torch::TensorOptions());
  EXPECT_LE(z.abs().max().item<double>(), 0.5);
  EXPECT_NEAR(z.abs().max().item<double>(), 0.5, 1e-9);  // clamping happened
}

// bf16: the product of the bfloat16-rounded input and weight, accumulated in float32 and
// rounded once to bfloat16, plus the float32 bias. Reference: the same product in double.
TEST(HiddenLinear, Bf16IsTheRoundedProductPlusTheFloatBias) {
  torch::manual_seed(5);
  torch::nn::Linear layer(300, 200);
  auto x = torch::randn({50, 300});
  auto y = hidden_linear(layer, x, MatmulPrecision::kBFloat16);
  ASSERT_EQ(y.scalar_type(), torch::kFloat);
  ASSERT_EQ(y.sizes(), (std::vector<int64_t>{50, 200}));
  auto xr = x.to(torch::kBFloat16).to(torch::kDouble);
  auto wr = layer->weight.to(torch::kBFloat16).to(torch::kDouble);
  auto product = torch::mm(xr, wr.t());
  auto magnitude = torch::mm(xr.abs(), wr.abs().t());
  auto error = (y.to(torch::kDouble) - layer->bias.to(torch::kDouble) - product).abs();
  // One bfloat16 rounding of the result (2^-9 relative, 2^-8 allowed for the float32
  // accumulation's own rounding) plus the float32 bias addition.
  auto bound = product.abs() * std::ldexp(1.0, -8) + magnitude * 1e-6 + 1e-6;
  EXPECT_TRUE((error <= bound).all().item<bool>()) << (error - bound).max().item<double>();
  // And it is not the float32 product: most entries differ.
  auto y32 = hidden_linear(layer, x, MatmulPrecision::kFloat32);
  EXPECT_TRUE(torch::equal(y32, layer->forward(x)));
  EXPECT_GT((y != y32).to(torch::kDouble).mean().item<double>(), 0.9);
}

TEST(HiddenLinear, Bf16GradientsReachTheFloatParameters) {
  torch::manual_seed(6);
  torch::nn::Linear layer(400, 300);
  auto x = torch::randn({100, 400}, torch::requires_grad());
  auto upstream = torch::randn({100, 300});
  (hidden_linear(layer, x, MatmulPrecision::kBFloat16) * upstream).sum().backward();
  auto gw = layer->weight.grad().clone(), gb = layer->bias.grad().clone(), gx = x.grad().clone();
  layer->zero_grad();
  x.grad().zero_();
  (hidden_linear(layer, x, MatmulPrecision::kFloat32) * upstream).sum().backward();
  EXPECT_EQ(gw.scalar_type(), torch::kFloat);
  EXPECT_TRUE(torch::equal(gb, layer->bias.grad()));  // the bias stays in float32
  auto relative = [](const torch::Tensor& a, const torch::Tensor& b) {
    return ((a - b).norm() / b.norm()).item<double>();
  };
  EXPECT_LT(relative(gw, layer->weight.grad()), 1e-2);
  EXPECT_LT(relative(gx, x.grad()), 1e-2);
  EXPECT_GT(relative(gw, layer->weight.grad()), 0.0);
}

TEST(HiddenLinear, PrecisionNames) {
  EXPECT_EQ(parse_precision("bf16"), MatmulPrecision::kBFloat16);
  EXPECT_EQ(precision_name(parse_precision("fp32")), "fp32");
  EXPECT_THROW(parse_precision("fp16"), InputError);
}

TEST(FlatParameters, KeepsValuesAndCollectsGradients) {
  torch::manual_seed(5);
  TwinCritic flat_net(4, 2), plain(4, 2);
  {
    torch::NoGradGuard g;
    auto a = flat_net->parameters(), b = plain->parameters();
    for (std::size_t i = 0; i < a.size(); ++i) b[i].copy_(a[i]);
  }
  auto flat = flatten_parameters(*flat_net);
  int64_t total = 0;
  for (auto& p : plain->parameters()) total += p.numel();
  ASSERT_EQ(flat.values.numel(), total);
  auto s = torch::randn({7, 4}), a = torch::randn({7, 2});
  auto [x1, x2] = flat_net->forward(s, a);
  auto [y1, y2] = plain->forward(s, a);
  EXPECT_TRUE(torch::equal(x1, y1));
  (x1.sum() + 2 * x2.sum()).backward();
  (y1.sum() + 2 * y2.sum()).backward();
  std::vector<torch::Tensor> grads;
  for (auto& p : plain->parameters()) grads.push_back(p.grad().reshape({-1}));
  EXPECT_TRUE(torch::allclose(flat.grads, torch::cat(grads), 1e-6, 1e-6));
  // Writing through the flat tensor changes the module.
  {
    torch::NoGradGuard g;
    flat.values.zero_();
  }
  EXPECT_EQ(flat_net->forward(s, a).first.abs().sum().item<double>(), 0.0);
}

TEST(FlatAdam, MatchesTorchAdam) {
  torch::manual_seed(6);
  Critic mine(3, 2), ref(3, 2);
  {
    torch::NoGradGuard g;
    auto a = mine->parameters(), b = ref->parameters();
    for (std::size_t i = 0; i < a.size(); ++i) b[i].copy_(a[i]);
  }
  auto flat = flatten_parameters(*mine);
  const auto initial = flat.values.clone();
  FlatAdam adam(flat.values, 1e-3);
  torch::optim::Adam torch_adam(ref->parameters(), torch::optim::AdamOptions(1e-3));
  for (int step = 0; step < 20; ++step) {
    auto s = torch::randn({10, 3}), a = torch::randn({10, 2});
    flat.grads.zero_();
    mine->forward(s, a).pow(2).mean().backward();
    adam.update(flat.values, flat.grads);
    torch_adam.zero_grad();
    ref->forward(s, a).pow(2).mean().backward();
    torch_adam.step();
  }
  std::vector<torch::Tensor> ref_values;
  for (auto& p : ref->parameters()) ref_values.push_back(p.detach().reshape({-1}));
  auto expected = torch::cat(ref_values);
  EXPECT_EQ(adam.step, 20);
  EXPECT_LT((flat.values - expected).abs().max().item<double>(), 1e-6);
  // The parameters did move (20 steps of lr 1e-3 move most of them by ~1e-2).
  EXPECT_GT((flat.values - initial).abs().max().item<double>(), 5e-3);
}

TEST(Polyak, MatchesElementwiseReference) {
  torch::manual_seed(7);
  auto target = torch::randn({100003});
  auto online = torch::randn({100003});
  auto before = target.clone();
  const double tau = 0.005;
  polyak_update(target, online, tau);
  auto t = target.accessor<float, 1>();
  auto o = online.accessor<float, 1>();
  auto b = before.accessor<float, 1>();
  double worst = 0;
  for (int64_t i = 0; i < target.numel(); ++i) {
    const double expected = tau * static_cast<double>(o[i]) + (1 - tau) * static_cast<double>(b[i]);
    worst = std::max(worst, std::fabs(expected - t[i]));
  }
  EXPECT_LT(worst, 1e-6);
  // tau = 1 copies, tau = 0 keeps.
  auto keep = before.clone();
  polyak_update(keep, online, 0.0);
  EXPECT_TRUE(torch::equal(keep, before));
  polyak_update(keep, online, 1.0);
  EXPECT_TRUE(torch::equal(keep, online));
}

// The VAE learns a fixed toy conditional distribution: state +1 -> actions near (0.6, -0.3),
// state -1 -> actions near (-0.5, 0.2), each with noise of std 0.05.
TEST(Vae, ReconstructsToyActionDistribution) {
  torch::manual_seed(8);
  torch::set_num_threads(1);
  Vae vae(2, 2, 4, 1.0);
  auto flat = flatten_parameters(*vae);
  FlatAdam adam(flat.values, 1e-3);
  auto gen = make_generator(9, torch::kCPU);
  const auto mode_a = torch::tensor({0.6f, -0.3f}), mode_b = torch::tensor({-0.5f, 0.2f});
  auto make_batch = [&](int64_t n) {
    auto which = torch::randint(0, 2, {n, 1}, gen).to(torch::kFloat);
    auto state = torch::cat({which * 2 - 1, torch::zeros({n, 1})}, 1);
    auto action = which * mode_a + (1 - which) * mode_b + 0.05 * torch::randn({n, 2}, gen);
    Batch b;
    b.state = state;
    b.action = action;
    return b;
  };
  for (int step = 0; step < 300; ++step) {
    auto loss = vae_loss(vae, make_batch(100), gen);
    flat.grads.zero_();
    loss.backward();
    adam.update(flat.values, flat.grads);
  }
  torch::NoGradGuard no_grad;
  for (int side : {1, -1}) {
    auto state = torch::tensor({static_cast<float>(side), 0.0f}).repeat({500, 1});
    auto decoded = vae->decode(state, sample_clipped_latent(500, 4, gen, torch::TensorOptions()));
    auto mean = decoded.mean(0);
    auto expected = side == 1 ? mode_a : mode_b;
    EXPECT_LT((mean - expected).abs().max().item<double>(), 0.05) << "state " << side << ": " << mean;
    EXPECT_LT(decoded.std(0).max().item<double>(), 0.15);
  }
}

}  // namespace
}  // namespace bcq::continuous
