#include "continuous/run_support.hpp"

#include <algorithm>

#include "common/error.hpp"

namespace bcq::continuous {

torch::Device parse_device(const std::string& name) {
  if (name == "cpu") return torch::kCPU;
  if (name == "cuda") {
    if (!torch::cuda::is_available()) {
      throw InputError("--device cuda: this LibTorch has no CUDA support or no GPU is visible");
    }
    return torch::kCUDA;
  }
  throw InputError("--device must be cpu or cuda, not '" + name + "'");
}

ProblemShape problem_shape(const envs::Env& env) {
  auto bounds = env.action_bounds();
  const double max_action = bounds.high.at(0);
  for (std::size_t i = 0; i < bounds.high.size(); ++i) {
    if (bounds.high[i] != max_action || bounds.low[i] != -max_action) {
      throw InputError("environment " + env.name() +
                       ": BCQ needs symmetric action bounds equal in every dimension");
    }
  }
  return {static_cast<int64_t>(env.observation_size()), static_cast<int64_t>(env.action_size()),
          max_action};
}

torch::Tensor obs_tensor(const std::vector<double>& obs) {
  auto t = torch::empty({1, static_cast<int64_t>(obs.size())});
  float* p = t.data_ptr<float>();
  for (std::size_t i = 0; i < obs.size(); ++i) p[i] = static_cast<float>(obs[i]);
  return t;
}

std::vector<double> to_action(const torch::Tensor& a) {
  auto c = a.to(torch::kCPU, torch::kDouble).contiguous().reshape({-1});
  return std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
}

std::vector<float> to_floats(const std::vector<double>& v) { return {v.begin(), v.end()}; }

std::string all_cores_hint(int requested_threads, const std::string& resolved_here, const std::string& run_had) {
  if (requested_threads > 0) return std::string();
  return "; --threads 0 means all cores, " + resolved_here + " here: pass --threads " + run_had;
}

std::vector<double> behavioural_action(Agent& actor, const std::vector<double>& obs,
                                       BehaviourMode mode, double noise_std,
                                       double random_probability, const ProblemShape& shape,
                                       std::mt19937_64& rng, at::Generator& gen) {
  std::vector<double> action(shape.action_dim);
  std::uniform_real_distribution<double> u(-shape.max_action, shape.max_action);
  std::uniform_real_distribution<double> coin(0.0, 1.0);
  if (mode == BehaviourMode::kUniform ||
      (mode == BehaviourMode::kImperfectExpert && coin(rng) < random_probability)) {
    for (auto& a : action) a = u(rng);
    return action;
  }
  action = to_action(actor.select_action(obs_tensor(obs), gen));
  if (noise_std > 0) {
    std::normal_distribution<double> noise(0.0, noise_std * shape.max_action);
    for (auto& a : action) a = std::clamp(a + noise(rng), -shape.max_action, shape.max_action);
  }
  return action;
}

}  // namespace bcq::continuous
