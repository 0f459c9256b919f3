// Evaluation of an agent during training and of an exported policy (`bcq eval`), both through
// the one episode loop of continuous/envs/episode.hpp.
#include "continuous/evaluation.hpp"

#include <torch/script.h>
#include <torch/torch.h>

#include <filesystem>
#include <sstream>

#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "common/input_file.hpp"
#include "common/json_input.hpp"
#include "common/run_files.hpp"
#include "common/zip_archive.hpp"
#include "continuous/envs/episode.hpp"
#include "continuous/run_support.hpp"
#include "continuous/training.hpp"

namespace bcq::continuous {

EvalRow evaluate_agent(Agent& agent, envs::Env& env, int episodes, uint64_t seed, double discount) {
  auto gen = make_generator(seed, agent.device());
  std::vector<double> returns, discounted;
  std::vector<torch::Tensor> starts;
  for (int e = 0; e < episodes; ++e) {
    auto obs = env.reset(seed + static_cast<uint64_t>(e));
    starts.push_back(obs_tensor(obs));
    const envs::Episode episode = envs::run_episode(
        env, obs,
        [&](const std::vector<double>& o, std::vector<double>& action) {
          action = to_action(agent.select_action(obs_tensor(o), gen));
        },
        discount);
    returns.push_back(episode.total_return);
    discounted.push_back(episode.discounted_return);
  }
  EvalRow row;
  const envs::MeanStd stats = envs::mean_std(returns);
  row.mean_return = stats.mean;
  row.std_return = stats.std;
  row.true_discounted = envs::mean_std(discounted).mean;
  auto q = agent.value_estimate(torch::cat(starts, 0), gen).to(torch::kCPU, torch::kDouble);
  row.q_estimate = q.mean().item<double>();
  return row;
}

std::optional<uint64_t> run_eval_seed(const std::string& policy_path) {
  const std::filesystem::path folder = std::filesystem::path(policy_path).parent_path();
  const std::string config_path = ((folder.empty() ? std::filesystem::path(".") : folder) / "config.json").string();
  // No config.json, or one that is not a bcq run's (a folder, a device, another tool's JSON):
  // no default seed. A bcq run's config.json is read as every reader does (common/run_files.hpp),
  // so a damaged one is refused naming its field.
  nlohmann::json config;
  try {
    config = parse_json_input(read_input_file(config_path), config_path);
  } catch (const InputError&) {
    return std::nullopt;
  }
  if (!config.is_object() || !config.contains("format") || config["format"] != kRunConfigFormat) return std::nullopt;
  return run_config_from_json(config, config_path).eval_seed;
}

EvalResult evaluate_policy_file(const EvalOptions& opt) {
  if (opt.episodes <= 0) throw InputError("--episodes must be positive");
  configure_torch(opt.threads);
  auto env = envs::make_env(opt.env);
  torch::jit::Module policy;
  {
    // Checked whole first: LibTorch does not check the archive's CRC-32s, and a policy with a
    // flipped byte in a weight would load and act differently (common/zip_archive.hpp).
    std::istringstream bytes(read_checked_zip_archive(opt.policy_path));
    try {
      policy = torch::jit::load(bytes);
    } catch (const c10::Error& e) {
      throw InputError(opt.policy_path + ": not a TorchScript policy (" + e.what_without_backtrace() + ")");
    }
  }
  // A training checkpoint is a TorchScript archive too, of tensors only.
  if (!policy.find_method("forward")) {
    throw InputError(opt.policy_path + ": not a policy (it has no forward method; a training checkpoint? "
                     "a run's policy is its policy.pt)");
  }
  // The policy's own sampling (BCQ's and VAE-BC's latents) draws from LibTorch's default
  // generator: seeded as training's evaluation seeds its generator, it draws the same latents.
  torch::manual_seed(opt.seed);
  torch::NoGradGuard no_grad;
  EvalResult result;
  for (int e = 0; e < opt.episodes; ++e) {
    auto obs = env->reset(opt.seed + static_cast<uint64_t>(e));
    const envs::Episode episode = envs::run_episode(
        *env, obs, [&](const std::vector<double>& o, std::vector<double>& action) {
          torch::Tensor a;
          try {
            a = policy.forward({obs_tensor(o).reshape({-1})}).toTensor();
          } catch (const std::exception& err) {
            // The interpreter's message spans lines; keep its last line (the cause), never
            // LibTorch's stack frames.
            const auto* c10_error = dynamic_cast<const c10::Error*>(&err);
            std::string why = c10_error ? c10_error->what_without_backtrace() : err.what();
            while (!why.empty() && why.back() == '\n') why.pop_back();
            why = why.substr(why.find_last_of('\n') + 1);
            throw InputError(opt.policy_path + ": policy failed on a " + std::to_string(o.size()) +
                             "-dimensional observation of " + opt.env + " (" + why + ")");
          }
          auto values = to_action(a);
          if (values.size() != env->action_size()) {
            throw InputError(opt.policy_path + ": policy returns " + std::to_string(values.size()) +
                             " action values but " + opt.env + " needs " +
                             std::to_string(env->action_size()));
          }
          action = values;
        });
    result.returns.push_back(episode.total_return);
    result.lengths.push_back(episode.length);
  }
  const envs::MeanStd stats = envs::mean_std(result.returns);
  result.mean_return = stats.mean;
  result.std_return = stats.std;
  return result;
}

}  // namespace bcq::continuous
