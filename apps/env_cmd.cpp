// `bcq env list` and `bcq env rollout` (continuous/envs): thin wrappers over
// bcq::envs::make_env that print environment facts and fixed-policy episode returns.
#include <fmt/format.h>

#include <cstdint>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "apps/cli_common.hpp"
#include "common/error.hpp"
#include "continuous/envs/env.hpp"
#include "continuous/envs/episode.hpp"
#include "common/random.hpp"

namespace bcq::cli {
namespace {

struct RolloutOptions {
  std::string env;
  std::string policy = "random";
  int episodes = 1;
  std::uint64_t seed = 0;
  JsonOutput json;
};

void run_list(const JsonOutput& json) {
  json.check({});
  nlohmann::json out = nlohmann::json::array();
  for (const auto& name : envs::env_names()) {
    std::string path;
    try {
      path = envs::model_path(name);
    } catch (const InputError&) {
      path = "";  // listed as missing; `rollout` gives the full error
    }
    nlohmann::json row = {{"name", name}, {"model", path}};
    if (!path.empty()) {
      const auto env = envs::make_env(name);
      row["observation_size"] = env->observation_size();
      row["action_size"] = env->action_size();
      row["dt"] = env->dt();
      row["frame_skip"] = env->frame_skip();
      row["max_episode_steps"] = env->max_episode_steps();
      row["mass_kg"] = env->total_mass();
    }
    out.push_back(row);
  }
  json.emit(out, 2);
  if (json.replaces_text()) return;
  std::cout << fmt::format("{:<18} {:>4} {:>4} {:>7} {:>9}  {}\n", "name", "obs", "act", "dt",
                           "mass(kg)", "model");
  for (const auto& row : out) {
    if (!row.contains("dt")) {
      std::cout << fmt::format("{:<18} {:>4} {:>4} {:>7} {:>9}  {}\n",
                               row["name"].get<std::string>(), "-", "-", "-", "-",
                               "(model file not found)");
      continue;
    }
    std::cout << fmt::format("{:<18} {:>4} {:>4} {:>7.3f} {:>9.3f}  {}\n",
                             row["name"].get<std::string>(), row["observation_size"].get<int>(),
                             row["action_size"].get<int>(), row["dt"].get<double>(),
                             row["mass_kg"].get<double>(), row["model"].get<std::string>());
  }
}

void run_rollout(const RolloutOptions& options) {
  options.json.check({});
  const auto env = envs::make_env(options.env);
  const envs::Bounds bounds = env->action_bounds();
  // The policy's generator is independent of the reset-noise stream but fixed by --seed.
  std::uint64_t policy_seed_state = options.seed ^ 0x5DEECE66DULL;
  Rng policy_rng(splitmix64(policy_seed_state));
  const bool random_policy = options.policy == "random";

  std::vector<envs::Episode> episodes;
  std::vector<double> returns;
  double mean_length = 0.0;
  for (int e = 0; e < options.episodes; ++e) {
    // The first reset seeds the stream; later episodes continue it (gym's convention).
    auto observation = e == 0 ? env->reset(options.seed) : env->reset();
    episodes.push_back(envs::run_episode(
        *env, observation, [&](const std::vector<double>&, std::vector<double>& action) {
          if (!random_policy) return;  // zero: the action stays 0
          for (std::size_t i = 0; i < action.size(); ++i) {
            action[i] = policy_rng.uniform(bounds.low[i], bounds.high[i]);
          }
        }));
    returns.push_back(episodes.back().total_return);
    mean_length += static_cast<double>(episodes.back().length) / options.episodes;
  }
  const double mean_return = envs::mean_std(returns).mean;
  if (options.json.requested()) {
    nlohmann::json out;
    out["env"] = options.env;
    out["policy"] = options.policy;
    out["seed"] = options.seed;
    out["episodes"] = nlohmann::json::array();
    for (const auto& episode : episodes) {
      out["episodes"].push_back({{"return", episode.total_return},
                                 {"length", episode.length},
                                 {"terminated", episode.terminated}});
    }
    out["mean_return"] = mean_return;
    out["mean_length"] = mean_length;
    out["warnings"] = env->warnings();
    options.json.emit(out, 2);
  }
  if (!options.json.replaces_text()) {
    for (std::size_t e = 0; e < episodes.size(); ++e) {
      std::cout << fmt::format("episode {}: return {:.3f} length {} ({})\n", e + 1,
                               episodes[e].total_return, episodes[e].length,
                               episodes[e].terminated ? "terminated" : "truncated");
    }
    std::cout << fmt::format("mean return {:.3f} mean length {:.1f} over {} episode(s)\n",
                             mean_return, mean_length, episodes.size());
  }
  // Warnings also reached stderr through MuJoCo's hook as they happened; repeat the count.
  if (!env->warnings().empty()) {
    std::cerr << fmt::format("bcq: {} MuJoCo warning(s) during the rollout; first: {}\n",
                             env->warnings().size(), env->warnings().front());
  }
}

}  // namespace

void add_env_commands(CLI::App& app) {
  auto* env_cmd = app.add_subcommand("env", "MuJoCo environments (Hopper, Walker2d, HalfCheetah, "
                                            "InvertedPendulum): list them, roll out fixed policies");
  env_cmd->require_subcommand(1);

  auto* list = env_cmd->add_subcommand("list", "List the environments, their sizes and model files");
  auto list_json = std::make_shared<JsonOutput>();
  list_json->add_to(list, "the table");
  list->callback([list_json] { run_list(*list_json); });

  auto* rollout = env_cmd->add_subcommand(
      "rollout", "Run episodes with a random or zero policy and print each return and length");
  auto options = std::make_shared<RolloutOptions>();
  rollout->add_option("--env", options->env, "Environment name (see `bcq env list`)")->required();
  rollout->add_option("--policy", options->policy, "random (uniform in the control range) or zero")
      ->check(CLI::IsMember({"random", "zero"}))
      ->capture_default_str();
  rollout->add_option("--episodes", options->episodes, "Number of episodes")
      ->check(whole_number(1, 1000000))
      ->capture_default_str();
  rollout->add_option("--seed", options->seed, "Seed of the reset noise and the random policy")
      ->check(seed_number())
      ->capture_default_str();
  options->json.add_to(rollout, "the episodes ({episodes: [{return, length, terminated}], mean_return, ...})");
  rollout->callback([options] { run_rollout(*options); });
}

}  // namespace bcq::cli
