// The per-algorithm configs (continuous/config.hpp) are read by the agents: a changed field
// changes the networks, the training step, action selection or the exported policy, and the
// defaults are the paper's. References: the exported policy's tensor shapes, Adam's first step
// (exactly lr in every coordinate with a nonzero gradient), the latent clip at 0 making the
// decoder deterministic.
#include <gtest/gtest.h>

#include <torch/script.h>
#include <torch/torch.h>

#include <map>
#include <string>

#include "continuous/agent.hpp"
#include "continuous/baselines.hpp"
#include "continuous/bcq.hpp"
#include "tests/test_util.hpp"

namespace bcq::continuous {
namespace {

const ProblemShape kShape{5, 2, 1.0};

Batch random_batch(int64_t rows, uint64_t seed) {
  torch::manual_seed(seed);
  Batch b;
  b.state = torch::randn({rows, kShape.state_dim});
  b.action = torch::rand({rows, kShape.action_dim}) * 2 - 1;
  b.next_state = torch::randn({rows, kShape.state_dim});
  b.reward = torch::randn({rows, 1});
  b.not_done = (torch::rand({rows, 1}) > 0.3).to(torch::kFloat);
  return b;
}

// Shapes of the exported policy's tensors, by name.
std::map<std::string, std::vector<int64_t>> exported_shapes(const Agent& agent) {
  test::TempDir dir;
  agent.export_policy(dir.file("policy.pt"));
  auto module = torch::jit::load(dir.file("policy.pt"));
  std::map<std::string, std::vector<int64_t>> shapes;
  for (const auto& p : module.named_parameters()) shapes[p.name] = p.value.sizes().vec();
  return shapes;
}

// One tensor of an agent's checkpoint state.
torch::Tensor saved(const Agent& agent, const std::string& key) {
  std::stringstream bytes;
  torch::serialize::OutputArchive out;
  agent.save(out);
  out.save_to(bytes);
  torch::serialize::InputArchive in;
  in.load_from(bytes);
  torch::Tensor t;
  in.read(key, t);
  return t;
}

TEST(ConfigTest, DefaultsAreThePapers) {
  const AgentConfigs c;
  EXPECT_EQ(c.bcq.batch_size, 100);
  EXPECT_EQ(c.bcq.discount, 0.99);
  EXPECT_EQ(c.bcq.tau, 0.005);
  EXPECT_EQ(c.bcq.lambda, 0.75);
  EXPECT_EQ(c.bcq.phi, 0.05);
  EXPECT_EQ(c.bcq.target_samples, 10);
  EXPECT_EQ(c.bcq.select_samples, 100);
  EXPECT_EQ(c.bcq.learning_rate, 1e-3);
  EXPECT_EQ(c.bcq.actor_hidden, (HiddenWidths{400, 300}));
  EXPECT_EQ(c.bcq.critic_hidden, (HiddenWidths{400, 300}));
  EXPECT_EQ(c.bcq.vae_hidden, (HiddenWidths{750, 750}));
  for (int64_t batch : {c.ddpg.batch_size, c.bc.batch_size, c.vae_bc.batch_size}) EXPECT_EQ(batch, 100);
  for (double lr : {c.ddpg.learning_rate, c.bc.learning_rate, c.vae_bc.learning_rate}) EXPECT_EQ(lr, 1e-3);
}

TEST(ConfigTest, WidthsShapeEveryNetworkOfEveryAgent) {
  AgentConfigs c;
  // Distinct widths per network, so that one network built with another's would show.
  c.bcq.actor_hidden = {32, 16};
  c.bcq.critic_hidden = {48, 8};
  c.bcq.vae_hidden = {24, 12};
  c.ddpg.actor_hidden = {20, 10};
  c.ddpg.critic_hidden = {30, 6};
  c.bc.actor_hidden = {28, 14};
  c.vae_bc.vae_hidden = {36, 18};
  const int64_t sd = kShape.state_dim;
  auto bcq = exported_shapes(*make_agent("bcq", kShape, 1, torch::kCPU, c));
  EXPECT_EQ(bcq["d1_state_weight"], (std::vector<int64_t>{24, sd}));
  EXPECT_EQ(bcq["d2_weight"], (std::vector<int64_t>{12, 24}));
  EXPECT_EQ(bcq["a1_state_weight"], (std::vector<int64_t>{32, sd}));
  EXPECT_EQ(bcq["a2_weight"], (std::vector<int64_t>{16, 32}));
  EXPECT_EQ(bcq["q1_state_weight"], (std::vector<int64_t>{48, sd}));
  EXPECT_EQ(bcq["q2_weight"], (std::vector<int64_t>{8, 48}));
  auto ddpg = exported_shapes(*make_agent("ddpg", kShape, 1, torch::kCPU, c));
  EXPECT_EQ(ddpg["l1_weight"], (std::vector<int64_t>{20, sd}));
  EXPECT_EQ(ddpg["l2_weight"], (std::vector<int64_t>{10, 20}));
  auto bc = exported_shapes(*make_agent("bc", kShape, 1, torch::kCPU, c));
  EXPECT_EQ(bc["l1_weight"], (std::vector<int64_t>{28, sd}));
  EXPECT_EQ(bc["l2_weight"], (std::vector<int64_t>{14, 28}));
  auto vae_bc = exported_shapes(*make_agent("vae-bc", kShape, 1, torch::kCPU, c));
  EXPECT_EQ(vae_bc["d1_weight"], (std::vector<int64_t>{36, sd + 2 * kShape.action_dim}));
  EXPECT_EQ(vae_bc["d2_weight"], (std::vector<int64_t>{18, 36}));
  // The DDPG critic is not exported: its flat parameter count must be the 30-6 network's.
  const int64_t in = sd + kShape.action_dim;
  EXPECT_EQ(saved(*make_agent("ddpg", kShape, 1, torch::kCPU, c), "ddpg/critic").numel(),
            in * 30 + 30 + 30 * 6 + 6 + 6 + 1);
}

// Adam's first update is lr * m / (sqrt(v) + eps) with m = g, v = g^2 bias-corrected: lr in
// every coordinate whose gradient is well above eps.
TEST(ConfigTest, LearningRateIsTheSizeOfAdamsFirstStep) {
  for (const char* algo : {"bc", "ddpg"}) {
    AgentConfigs c;
    c.bc.learning_rate = 3e-4;
    c.ddpg.learning_rate = 3e-4;
    auto agent = make_agent(algo, kShape, 2, torch::kCPU, c);
    const std::string key = std::string(algo) + "/actor";
    auto before = saved(*agent, key);
    agent->train_step(random_batch(64, 3));
    auto step = (saved(*agent, key) - before).abs().max().item<double>();
    EXPECT_NEAR(step, 3e-4, 3e-4 * 1e-3) << algo;
  }
}

TEST(ConfigTest, BatchSizeAndDiscountAreTheConfigs) {
  AgentConfigs c;
  c.bcq.batch_size = 7;
  c.ddpg.batch_size = 8;
  c.bc.batch_size = 9;
  c.vae_bc.batch_size = 10;
  c.bcq.discount = 0.5;
  c.ddpg.discount = 0.6;
  c.bc.discount = 0.7;
  c.vae_bc.discount = 0.8;
  int64_t batch = 7;
  double discount = 0.5;
  for (const char* algo : {"bcq", "ddpg", "bc", "vae-bc"}) {
    auto agent = make_agent(algo, kShape, 1, torch::kCPU, c);
    EXPECT_EQ(agent->batch_size(), batch++) << algo;
    EXPECT_DOUBLE_EQ(agent->discount(), discount) << algo;
    discount += 0.1;
  }
}

// Each BCQ field moves the result of one training step (or of selection) away from the
// default agent's; the default agent twice gives the same numbers (the control).
TEST(ConfigTest, EveryBcqFieldChangesTheRun) {
  const Batch batch = random_batch(32, 4);
  auto step = [&](const BcqConfig& config) {
    BcqAgent agent(kShape, 5, torch::kCPU, config);
    Losses losses = agent.train_step(batch);
    auto gen = make_generator(6, torch::kCPU);
    auto action = agent.select_action(batch.state.narrow(0, 0, 3), gen);
    return std::make_tuple(losses, action, agent.networks().critic_target_flat.values.clone());
  };
  const auto [losses0, action0, target0] = step(BcqConfig{});
  {
    const auto [losses, action, target] = step(BcqConfig{});
    EXPECT_EQ(losses, losses0);
    EXPECT_TRUE(torch::equal(action, action0));
    EXPECT_TRUE(torch::equal(target, target0));
  }
  struct Change {
    const char* field;
    void (*apply)(BcqConfig&);
  };
  const Change changes[] = {
      {"discount", [](BcqConfig& c) { c.discount = 0.5; }},
      {"lambda", [](BcqConfig& c) { c.lambda = 0.0; }},
      {"target_samples", [](BcqConfig& c) { c.target_samples = 3; }},
      {"vae_kl_weight", [](BcqConfig& c) { c.vae_kl_weight = 2.0; }},
      {"latent_clip", [](BcqConfig& c) { c.latent_clip = 0.1; }},
      {"learning_rate", [](BcqConfig& c) { c.learning_rate = 1e-2; }},
      {"tau", [](BcqConfig& c) { c.tau = 0.5; }},
      {"phi", [](BcqConfig& c) { c.phi = 0.5; }},
      {"select_samples", [](BcqConfig& c) { c.select_samples = 5; }},
  };
  for (const Change& change : changes) {
    BcqConfig config;
    change.apply(config);
    const auto [losses, action, target] = step(config);
    EXPECT_FALSE(losses == losses0 && torch::equal(action, action0) && torch::equal(target, target0))
        << change.field << " changed nothing";
  }
}

// latent_clip = 0: every latent is 0, so VAE-BC's action no longer depends on the generator.
TEST(ConfigTest, LatentClipBoundsTheDecoderLatents) {
  AgentConfigs c;
  auto states = torch::randn({4, kShape.state_dim});
  auto act = [&](Agent& agent, uint64_t seed) {
    auto gen = make_generator(seed, torch::kCPU);
    return agent.select_action(states, gen);
  };
  auto sampling = make_agent("vae-bc", kShape, 1, torch::kCPU, c);
  EXPECT_FALSE(torch::equal(act(*sampling, 1), act(*sampling, 2)));
  c.vae_bc.latent_clip = 0.0;
  auto deterministic = make_agent("vae-bc", kShape, 1, torch::kCPU, c);
  EXPECT_TRUE(torch::equal(act(*deterministic, 1), act(*deterministic, 2)));
  // The exported policy clips its own latents the same way.
  test::TempDir dir;
  deterministic->export_policy(dir.file("policy.pt"));
  auto policy = torch::jit::load(dir.file("policy.pt"));
  torch::manual_seed(1);
  auto scripted = policy.forward({states}).toTensor();
  torch::manual_seed(2);
  EXPECT_TRUE(torch::equal(scripted, policy.forward({states}).toTensor()));
  // The script's layers are addmm, the agent's Linear: equal up to float32 rounding.
  EXPECT_TRUE(torch::allclose(scripted, act(*deterministic, 3), 0.0, 1e-6));
}

}  // namespace
}  // namespace bcq::continuous
