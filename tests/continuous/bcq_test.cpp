// BCQ's training step: the critic target against a slow loop-by-loop reference, action
// selection (Eq. 11), checkpoint/resume bit-identity for every agent, TorchScript export.
#include <gtest/gtest.h>

#include <torch/script.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <sstream>
#include <vector>

#include "continuous/agent.hpp"
#include "continuous/bcq.hpp"
#include "continuous/replay_buffer.hpp"
#include "continuous/sampling.hpp"
#include "continuous/selection_kernels.hpp"

namespace bcq::continuous {
namespace {

// A dense layer evaluated with explicit loops in double precision.
std::vector<double> dense(const torch::nn::Linear& layer, const std::vector<double>& x) {
  auto w = layer->weight.accessor<float, 2>();
  auto b = layer->bias.accessor<float, 1>();
  std::vector<double> y(static_cast<std::size_t>(w.size(0)));
  for (int64_t o = 0; o < w.size(0); ++o) {
    double sum = b[o];
    for (int64_t i = 0; i < w.size(1); ++i) sum += static_cast<double>(w[o][i]) * x[i];
    y[o] = sum;
  }
  return y;
}
std::vector<double> relu(std::vector<double> v) {
  for (auto& x : v) x = std::max(0.0, x);
  return v;
}
std::vector<double> concat(std::vector<double> a, const std::vector<double>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}
std::vector<double> row(const torch::Tensor& t, int64_t r) {
  auto a = t.accessor<float, 2>();
  std::vector<double> v(static_cast<std::size_t>(a.size(1)));
  for (int64_t i = 0; i < a.size(1); ++i) v[i] = a[r][i];
  return v;
}

ProblemShape hopper_like() { return {11, 3, 1.0}; }

Batch random_batch(int64_t rows, const ProblemShape& shape, uint64_t seed) {
  torch::manual_seed(seed);
  Batch b;
  b.state = torch::randn({rows, shape.state_dim});
  b.action = torch::rand({rows, shape.action_dim}) * 2 - 1;
  b.next_state = torch::randn({rows, shape.state_dim});
  b.reward = torch::randn({rows, 1});
  b.not_done = (torch::rand({rows, 1}) > 0.3).to(torch::kFloat);
  return b;
}

TEST(BcqTarget, MatchesLoopByLoopReference) {
  const ProblemShape shape{5, 2, 2.0};
  BcqAgent agent(shape, 11, torch::kCPU);
  auto& nets = agent.networks();
  // Perturb the target networks away from the online ones so that using the wrong set fails.
  {
    torch::NoGradGuard g;
    nets.actor_target_flat.values.add_(0.05 * torch::randn_like(nets.actor_target_flat.values));
    nets.critic_target_flat.values.add_(0.05 * torch::randn_like(nets.critic_target_flat.values));
  }
  const int64_t rows = 6, samples = 10;
  Batch batch = random_batch(rows, shape, 12);
  batch.not_done[0][0] = 0.0f;
  batch.not_done[1][0] = 1.0f;
  auto gen = make_generator(13, torch::kCPU);
  auto z = sample_clipped_latent(rows * samples, 4, gen, torch::TensorOptions());
  const double gamma = 0.99, lambda = 0.75;
  auto target = bcq_critic_target(nets, batch, z, samples, gamma, lambda);
  ASSERT_EQ(target.sizes(), (std::vector<int64_t>{rows, 1}));

  torch::NoGradGuard g;
  for (int64_t b = 0; b < rows; ++b) {
    const auto s2 = row(batch.next_state, b);
    double best = -1e300;
    for (int64_t j = 0; j < samples; ++j) {
      // decode(s', z)
      auto h = relu(dense(nets.vae->d1, concat(s2, row(z, b * samples + j))));
      h = relu(dense(nets.vae->d2, h));
      auto a = dense(nets.vae->d3, h);
      for (auto& x : a) x = shape.max_action * std::tanh(x);
      // target actor: a + Phi * max_action * tanh(.), clamped
      auto p = relu(dense(nets.actor_target->l1, concat(s2, a)));
      p = relu(dense(nets.actor_target->l2, p));
      auto xi = dense(nets.actor_target->l3, p);
      for (std::size_t k = 0; k < a.size(); ++k) {
        a[k] = std::clamp(a[k] + 0.05 * shape.max_action * std::tanh(xi[k]), -shape.max_action,
                          shape.max_action);
      }
      // both target critics
      const auto sa = concat(s2, a);
      const double q1 = dense(nets.critic_target->l3,
                              relu(dense(nets.critic_target->l2, relu(dense(nets.critic_target->l1, sa)))))[0];
      const double q2 = dense(nets.critic_target->l6,
                              relu(dense(nets.critic_target->l5, relu(dense(nets.critic_target->l4, sa)))))[0];
      const double soft = lambda * std::min(q1, q2) + (1 - lambda) * std::max(q1, q2);
      best = std::max(best, soft);
    }
    const double expected = batch.reward[b][0].item<double>() +
                            batch.not_done[b][0].item<double>() * gamma * best;
    EXPECT_NEAR(target[b][0].item<double>(), expected, 1e-5 * (1 + std::fabs(expected))) << "row " << b;
  }
  // A terminal transition's target is its reward.
  EXPECT_FLOAT_EQ(target[0][0].item<float>(), batch.reward[0][0].item<float>());
}

TEST(BcqAgentTest, SelectActionIsTheArgmaxOfQ1OverSamples) {
  const ProblemShape shape = hopper_like();
  BcqAgent agent(shape, 21, torch::kCPU);
  auto states = torch::randn({3, shape.state_dim});
  auto gen1 = make_generator(5, torch::kCPU);
  auto gen2 = make_generator(5, torch::kCPU);
  auto actions = agent.select_action(states, gen1);
  auto values = agent.value_estimate(states, gen2);
  ASSERT_EQ(actions.sizes(), (std::vector<int64_t>{3, 3}));
  EXPECT_LE(actions.abs().max().item<double>(), 1.0);
  torch::NoGradGuard g;
  auto q = agent.networks().critic->q1(states, actions).reshape({-1});
  EXPECT_TRUE(torch::allclose(q, values, 1e-5, 1e-5));
  // Independent check of the argmax: redo the 100 samples by hand with the same latents.
  auto gen3 = make_generator(5, torch::kCPU);
  auto s = states.repeat_interleave(100, 0);
  auto z = sample_clipped_latent(300, 6, gen3, torch::TensorOptions());
  auto& nets = agent.networks();
  auto cand = nets.actor->forward(s, nets.vae->decode(s, z));
  auto cq = nets.critic->q1(s, cand).reshape({3, 100});
  for (int64_t i = 0; i < 3; ++i) {
    int64_t best = 0;
    for (int64_t j = 1; j < 100; ++j) {
      if (cq[i][j].item<float>() > cq[i][best].item<float>()) best = j;
    }
    EXPECT_TRUE(torch::allclose(actions[i], cand[i * 100 + best], 1e-6, 1e-6)) << "state " << i;
  }
}

// The fused selection passes give exactly the values of the LibTorch operations they replace
// (those the exported TorchScript policy runs). The widths take every path of the kernels:
// 64 columns at a time, 16 at a time and single columns (750 = 11 x 64 + 2 x 16 + 14).
TEST(SelectionKernels, MatchTheLibTorchCompositesExactly) {
  torch::manual_seed(71);
  const int64_t n = 3, samples = 100;
  for (const int64_t inner : {1, 3, 6, 12}) {
    for (const int64_t cols : {400, 750, 1100}) {
      auto per_state = torch::randn({n, cols}) * 2;
      auto x = torch::randn({n * samples, inner});
      auto w_t = torch::randn({inner, cols});
      auto expected = per_state.unsqueeze(1).expand({n, samples, cols}).reshape({n * samples, cols});
      for (int64_t k = 0; k < inner; ++k) expected = expected + x.narrow(1, k, 1) * w_t[k];
      expected = expected.relu();
      auto out = torch::empty({n * samples, cols});
      kernels::sample_sum_relu(per_state.data_ptr<float>(), x.data_ptr<float>(),
                               w_t.data_ptr<float>(), n * samples, samples, inner, cols,
                               out.data_ptr<float>());
      EXPECT_TRUE(torch::equal(out, expected)) << "inner " << inner << ", cols " << cols;
      auto out_bf16 = torch::empty({n * samples, cols}, torch::kBFloat16);
      kernels::sample_sum_relu_bf16(per_state.data_ptr<float>(), x.data_ptr<float>(),
                                    w_t.data_ptr<float>(), n * samples, samples, inner, cols,
                                    reinterpret_cast<uint16_t*>(out_bf16.data_ptr()));
      EXPECT_TRUE(torch::equal(out_bf16, expected.to(torch::kBFloat16)))
          << "inner " << inner << ", cols " << cols;
    }
  }
  auto y = torch::randn({100, 750}).to(torch::kBFloat16);
  auto bias = torch::randn({750});
  auto out = torch::empty({100, 750});
  kernels::bias_relu_bf16(reinterpret_cast<const uint16_t*>(y.data_ptr()), bias.data_ptr<float>(),
                          100, 750, out.data_ptr<float>());
  EXPECT_TRUE(torch::equal(out, (bias + y).relu()));
}

// Action selection keeps its own copy of the weights (split input layers, bfloat16 hidden
// weights). It must follow every way the weights change: Adam and Polyak (raw-pointer
// writes), an in-place write to one parameter, and load(). Reference: an agent that reached
// the same weights without ever selecting before, so it has no copy to go stale.
class SelectionCacheTest : public ::testing::TestWithParam<MatmulPrecision> {};

TEST_P(SelectionCacheTest, SelectionFollowsEveryWeightChange) {
  const ProblemShape shape = hopper_like();
  BcqConfig config;
  config.precision = GetParam();
  const Batch batch = random_batch(100, shape, 61);
  auto states = torch::randn({2, shape.state_dim});
  auto select = [&](BcqAgent& agent) {
    auto gen = make_generator(62, torch::kCPU);
    return agent.select_action(states, gen);
  };
  BcqAgent selecting(shape, 63, torch::kCPU, config), fresh_reference(shape, 63, torch::kCPU, config);
  const auto before = select(selecting);
  selecting.train_step(batch);
  fresh_reference.train_step(batch);
  const auto after_step = select(selecting);
  EXPECT_FALSE(torch::equal(before, after_step)) << "training did not change the policy";
  BcqAgent trained(shape, 63, torch::kCPU, config);  // also the checkpoint for load() below
  trained.train_step(batch);
  EXPECT_TRUE(torch::equal(after_step, select(trained))) << "stale after a training step";
  // Parameters written in place: the decoder's input weight (copied, split, in both
  // precisions) and its hidden weight (copied as bfloat16 in bf16).
  auto scale = [](BcqAgent& agent) {
    torch::NoGradGuard no_grad;
    agent.networks().vae->d1->weight.mul_(-3.0);
    agent.networks().vae->d2->weight.mul_(-3.0);
  };
  scale(selecting);
  scale(fresh_reference);
  const auto after_write = select(selecting);
  EXPECT_FALSE(torch::equal(after_step, after_write));
  EXPECT_TRUE(torch::equal(after_write, select(fresh_reference))) << "stale after a write";
  // load() replaces every weight: back to the state after one training step.
  std::stringstream checkpoint;
  {
    torch::serialize::OutputArchive out;
    trained.save(out);
    out.save_to(checkpoint);
  }
  torch::serialize::InputArchive in;
  in.load_from(checkpoint);
  selecting.load(in);
  EXPECT_TRUE(torch::equal(select(selecting), after_step)) << "stale after load";
}

INSTANTIATE_TEST_SUITE_P(Precisions, SelectionCacheTest,
                         ::testing::Values(MatmulPrecision::kFloat32, MatmulPrecision::kBFloat16),
                         [](const auto& info) { return precision_name(info.param); });

TEST(BcqAgentTest, TrainingStepLowersTheLossesOnAFixedBatch) {
  const ProblemShape shape = hopper_like();
  BcqAgent agent(shape, 31, torch::kCPU);
  Batch batch = random_batch(100, shape, 32);
  auto first = agent.train_step(batch);
  Losses last;
  for (int i = 0; i < 30; ++i) last = agent.train_step(batch);
  EXPECT_LT(last["vae_loss"], first["vae_loss"]);
  EXPECT_LT(last["critic_loss"], first["critic_loss"]);
  // The target networks trail the online networks (Polyak with tau = 0.005).
  auto& n = agent.networks();
  EXPECT_FALSE(torch::equal(n.actor_flat.values, n.actor_target_flat.values));
  EXPECT_LT((n.critic_flat.values - n.critic_target_flat.values).abs().max().item<double>(), 0.1);
}

TEST(BcqAgentTest, Bf16TrainingLowersTheLossesLikeFloat32) {
  const ProblemShape shape = hopper_like();
  BcqConfig config;
  config.precision = MatmulPrecision::kBFloat16;
  BcqAgent fp32(shape, 31, torch::kCPU), bf16(shape, 31, torch::kCPU, config);
  ASSERT_TRUE(torch::equal(fp32.networks().vae_flat.values, bf16.networks().vae_flat.values));
  Batch batch = random_batch(100, shape, 32);
  auto first = bf16.train_step(batch);
  auto first32 = fp32.train_step(batch);
  // Same initial networks, same batch: the first losses differ only by bfloat16 rounding
  // (relative 2^-8 per product), far less than the losses themselves.
  for (const char* loss : {"vae_loss", "critic_loss", "actor_loss"}) {
    EXPECT_NEAR(first[loss], first32[loss], 0.02 * std::abs(first32[loss]) + 1e-3) << loss;
    EXPECT_NE(first[loss], first32[loss]) << loss << ": the bf16 path was not taken";
  }
  Losses last;
  for (int i = 0; i < 30; ++i) last = bf16.train_step(batch);
  EXPECT_LT(last["vae_loss"], first["vae_loss"]);
  EXPECT_LT(last["critic_loss"], first["critic_loss"]);
  EXPECT_EQ(bf16.config()["matmul_precision"], "bf16");
  EXPECT_EQ(bf16.networks().vae_flat.values.scalar_type(), torch::kFloat);  // master weights
}

ReplayBuffer random_buffer(const ProblemShape& shape, std::size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal;
  std::uniform_real_distribution<float> u(-1, 1);
  ReplayBuffer buffer(shape.state_dim, shape.action_dim);
  std::vector<float> s(shape.state_dim), a(shape.action_dim), s2(shape.state_dim);
  for (std::size_t i = 0; i < n; ++i) {
    for (auto& x : s) x = normal(rng);
    for (auto& x : a) x = u(rng);
    for (auto& x : s2) x = normal(rng);
    buffer.add(s.data(), a.data(), normal(rng), s2.data(), i % 17 == 0, i % 29 == 0);
  }
  return buffer;
}

// "algo" or "algo/precision" (e.g. "bcq/bf16") -> the agent.
std::unique_ptr<Agent> make_param_agent(const std::string& param, const ProblemShape& shape,
                                        uint64_t seed) {
  const auto slash = param.find('/');
  if (slash == std::string::npos) return make_agent(param, shape, seed, torch::kCPU);
  return make_agent(param.substr(0, slash), shape, seed, torch::kCPU, param.substr(slash + 1));
}

// A file name for the parameter ("bcq/bf16" -> "bcq_bf16").
std::string file_tag(std::string param) {
  std::replace(param.begin(), param.end(), '/', '_');
  return param;
}

class ResumeTest : public ::testing::TestWithParam<std::string> {};

// Train 6 steps straight; or 3 steps, checkpoint to a file, restore into an agent built from
// a different seed, 3 more steps: every parameter must be bit-identical.
TEST_P(ResumeTest, CheckpointResumeIsBitIdentical) {
  const ProblemShape shape = hopper_like();
  const auto buffer = random_buffer(shape, 500, 41);
  auto straight = make_param_agent(GetParam(), shape, 42);
  std::mt19937_64 rng_a(43);
  for (int i = 0; i < 6; ++i) straight->train_step(sample_batch(buffer, rng_a, 100, torch::kCPU));

  auto first = make_param_agent(GetParam(), shape, 42);
  std::mt19937_64 rng_b(43);
  for (int i = 0; i < 3; ++i) first->train_step(sample_batch(buffer, rng_b, 100, torch::kCPU));
  const std::string path = ::testing::TempDir() + "/resume_" + file_tag(GetParam()) + ".pt";
  {
    torch::serialize::OutputArchive out;
    first->save(out);
    out.save_to(path);
  }
  auto resumed = make_param_agent(GetParam(), shape, 999);
  {
    torch::serialize::InputArchive in;
    in.load_from(path);
    resumed->load(in);
  }
  for (int i = 0; i < 3; ++i) resumed->train_step(sample_batch(buffer, rng_b, 100, torch::kCPU));
  torch::serialize::OutputArchive a, b;
  straight->save(a);
  resumed->save(b);
  const std::string pa = path + ".a", pb = path + ".b";
  a.save_to(pa);
  b.save_to(pb);
  torch::serialize::InputArchive ia, ib;
  ia.load_from(pa);
  ib.load_from(pb);
  std::vector<std::string> keys = ia.keys();
  ASSERT_FALSE(keys.empty());
  for (const auto& key : keys) {
    torch::Tensor x, y;
    ia.read(key, x);
    ib.read(key, y);
    EXPECT_TRUE(torch::equal(x, y)) << GetParam() << ": " << key << " differs after resume";
  }
  // And the straight run differs from an untrained agent (the test is not vacuous).
  auto fresh = make_param_agent(GetParam(), shape, 42);
  auto gen = make_generator(1, torch::kCPU), gen2 = make_generator(1, torch::kCPU);
  auto s = torch::randn({4, shape.state_dim});
  EXPECT_FALSE(torch::equal(fresh->select_action(s, gen), straight->select_action(s, gen2)));
  std::remove(path.c_str());
  std::remove(pa.c_str());
  std::remove(pb.c_str());
}

INSTANTIATE_TEST_SUITE_P(AllAgents, ResumeTest,
                         ::testing::Values("bcq", "ddpg", "bc", "vae-bc", "bcq/bf16"));

class ExportTest : public ::testing::TestWithParam<std::string> {};

TEST_P(ExportTest, TorchScriptPolicyRunsAndMatches) {
  const ProblemShape shape{4, 1, 3.0};
  auto agent = make_param_agent(GetParam(), shape, 51);
  const auto buffer = random_buffer(shape, 300, 52);
  std::mt19937_64 rng(53);
  for (int i = 0; i < 3; ++i) agent->train_step(sample_batch(buffer, rng, 100, torch::kCPU));
  const std::string path = ::testing::TempDir() + "/policy_" + file_tag(GetParam()) + ".pt";
  agent->export_policy(path);
  auto module = torch::jit::load(path);
  auto state = torch::randn({4});
  auto action = module.forward({state}).toTensor();
  ASSERT_EQ(action.sizes(), (std::vector<int64_t>{1}));
  EXPECT_LE(action.abs().max().item<double>(), 3.0);
  auto batch_actions = module.forward({torch::randn({7, 4})}).toTensor();
  EXPECT_EQ(batch_actions.sizes(), (std::vector<int64_t>{7, 1}));
  if (GetParam() == "ddpg" || GetParam() == "bc") {  // deterministic policies: exact match
    auto gen = make_generator(0, torch::kCPU);
    auto expected = agent->select_action(state.reshape({1, 4}), gen).reshape({1});
    EXPECT_TRUE(torch::allclose(action, expected, 1e-6, 1e-6));
  }
  if (GetParam() == "bcq" || GetParam() == "bcq/bf16") {
    // With the same latents the script and the agent pick the same action, bit for bit: the
    // script holds the agent's selection weights and repeats its operations (bcq/bf16: with
    // the bfloat16 hidden weights, so the policy is the one evaluated). It draws z from the
    // global generator, so seed it identically for both.
    torch::manual_seed(77);
    auto scripted = module.forward({state}).toTensor();
    auto gen = make_generator(77, torch::kCPU);
    auto expected = agent->select_action(state.reshape({1, 4}), gen).reshape({1});
    EXPECT_TRUE(torch::equal(scripted, expected)) << scripted << " vs " << expected;
    // And for a batch of states.
    torch::manual_seed(78);
    auto batch = torch::randn({5, 4});
    torch::manual_seed(79);
    auto scripted_batch = module.forward({batch}).toTensor();
    auto gen_batch = make_generator(79, torch::kCPU);
    EXPECT_TRUE(torch::equal(scripted_batch, agent->select_action(batch, gen_batch)));
  }
  std::remove(path.c_str());
}

INSTANTIATE_TEST_SUITE_P(AllAgents, ExportTest,
                         ::testing::Values("bcq", "ddpg", "bc", "vae-bc", "bcq/bf16"));

}  // namespace
}  // namespace bcq::continuous
