// `bcq collect / train / eval` (continuous/): thin wrappers over continuous/training.hpp.
#include <cmath>
#include <filesystem>
#include <iostream>
#include <memory>

#include <nlohmann/json.hpp>

#include "apps/cli_common.hpp"
#include "common/error.hpp"
#include "common/interrupt.hpp"
#include "continuous/training.hpp"

namespace bcq::cli {

namespace {

// Bounds of the numeric options (docs/limits.md). Steps and iterations: the buffer loader's
// 100,000,000 rows (333x the paper's 300k iterations); threads: more than any machine bcq
// runs on (0 means all cores); episodes: 1,000,000 (a Hopper episode is up to 1,000 steps).
constexpr std::uint64_t kMaxSteps = 100000000;
constexpr std::uint64_t kMaxThreads = 1024;
constexpr std::uint64_t kMaxEpisodes = 1000000;

}  // namespace

void add_continuous_commands(CLI::App& app) {
  namespace cont = bcq::continuous;

  // ---------------------------------------------------------------- collect
  auto collect_opt = std::make_shared<cont::CollectOptions>();
  auto* collect = app.add_subcommand(
      "collect", "Collect a batch (HDF5, D4RL keys) with a behavioural DDPG agent");
  collect->add_option("--env", collect_opt->env, "Environment (hopper, walker2d, halfcheetah, inverted-pendulum)")->required();
  collect->add_option("--kind", collect_opt->kind,
                      "final (N(0,0.5) noise, all transitions) | concurrent (N(0,0.1)) | "
                      "imitation (trained expert, no noise) | imperfect (expert, p=0.3 random, N(0,0.3))")
      ->capture_default_str();
  collect->add_option("--steps", collect_opt->steps, "Transitions to collect")
      ->capture_default_str()->check(whole_number(1, kMaxSteps));
  collect->add_option("--expert-steps", collect_opt->expert_steps,
                      "imitation/imperfect: DDPG training steps of the expert (default: --steps)")
      ->check(whole_number(0, kMaxSteps));
  collect->add_option("--start-steps", collect_opt->start_steps,
                      "Uniformly random steps before the behavioural actor acts")
      ->capture_default_str()->check(whole_number(0, kMaxSteps));
  collect->add_option("--seed", collect_opt->seed, "Random seed")->capture_default_str()->check(seed_number());
  collect->add_option("--threads", collect_opt->threads, "LibTorch threads (0: all cores)")
      ->capture_default_str()->check(whole_number(0, kMaxThreads));
  collect->add_option("-o,--out", collect_opt->out_path, "Output HDF5 file")->required();
  collect->add_option("--checkpoint-every", collect_opt->checkpoint_every,
                      "Checkpoint into <out>.checkpoint/ every K steps")
      ->capture_default_str()->check(whole_number(1, kMaxSteps));
  collect->add_flag("--resume", collect_opt->resume,
                    "Continue an interrupted collection from <out>.checkpoint/");
  collect->add_option("--expert-out", collect_opt->expert_out,
                      "imitation/imperfect: save the trained expert to this file for reuse");
  collect->add_option("--expert-in", collect_opt->expert_in,
                      "imitation/imperfect: act with this saved expert instead of training one");
  auto* collect_quiet = collect->add_flag("--quiet", "No progress output");
  collect->callback([collect_opt, collect_quiet] {
    collect_opt->progress = stderr_is_tty() && collect_quiet->count() == 0;
    catch_interrupts();  // Ctrl-C / SIGTERM: checkpoint, then one line with the resume hint
    auto r = cont::collect(*collect_opt);
    std::cout << "collected " << r.transitions << " transitions (" << r.episodes
              << " complete episodes, mean return " << r.behavioural_return << ") -> "
              << collect_opt->out_path << "\n";
  });

  // ---------------------------------------------------------------- train
  auto train_opt = std::make_shared<cont::TrainOptions>();
  auto* train = app.add_subcommand("train", "Train BCQ or a baseline offline on a batch");
  train->add_option("--algo", train_opt->algo, "bcq | ddpg | bc | vae-bc")->capture_default_str();
  train->add_option("--env", train_opt->env, "Environment the batch comes from")->required();
  train->add_option("--buffer", train_opt->buffer_path, "HDF5 batch (D4RL keys)");
  train->add_option("--iterations", train_opt->iterations, "Training iterations")
      ->capture_default_str()->check(whole_number(1, kMaxSteps));
  train->add_option("--eval-every", train_opt->eval_every,
                    "Evaluate (--eval-episodes episodes) and checkpoint every K iterations")
      ->capture_default_str()->check(whole_number(1, kMaxSteps));
  train->add_option("--eval-episodes", train_opt->eval_episodes, "Episodes per evaluation")
      ->capture_default_str()->check(whole_number(1, kMaxEpisodes));
  train->add_option("--seed", train_opt->seed, "Random seed")->capture_default_str()->check(seed_number());
  train->add_option("--out", train_opt->out_dir, "Run folder")->required();
  train->add_flag("--resume", train_opt->resume, "Continue the run in --out from its checkpoint");
  train->add_option("--device", train_opt->device, "cpu | cuda")->capture_default_str();
  train->add_option("--threads", train_opt->threads, "LibTorch threads (0: all cores)")
      ->capture_default_str()->check(whole_number(0, kMaxThreads));
  train->add_option("--precision", train_opt->precision,
                    "Hidden-layer matrix products: fp32 (the paper's) | bf16 (bcq; ~2x faster "
                    "matmuls on CPUs with AVX512_BF16)")->capture_default_str();
  train->add_flag("--concurrent", train_opt->concurrent,
                  "Concurrent setting: a behavioural DDPG collects while the agent trains");
  train->add_option("--start-steps", train_opt->start_steps,
                    "--concurrent: uniformly random behavioural steps first")
      ->capture_default_str()->check(whole_number(0, kMaxSteps));
  auto* train_quiet = train->add_flag("--quiet", "No progress output");
  train->callback([train_opt, train_quiet] {
    train_opt->progress = stderr_is_tty() && train_quiet->count() == 0;
    catch_interrupts();  // Ctrl-C / SIGTERM: checkpoint, then one line with the resume hint
    auto r = cont::train(*train_opt);
    if (r.diverged) {
      std::cerr << "bcq: " << r.message << "\n";
      set_failed_check();
      return;
    }
    std::cout << train_opt->algo << " on " << train_opt->env << ": " << r.iteration
              << " iterations, final mean return " << r.final_mean_return << "; run folder "
              << train_opt->out_dir << "\n";
  });

  // ---------------------------------------------------------------- eval
  auto eval_opt = std::make_shared<cont::EvalOptions>();
  auto* eval = app.add_subcommand("eval", "Run an exported TorchScript policy (policy.pt)");
  eval->add_option("--policy", eval_opt->policy_path, "TorchScript policy file")->required();
  eval->add_option("--env", eval_opt->env, "Environment")->required();
  eval->add_option("--episodes", eval_opt->episodes, "Episodes")
      ->capture_default_str()->check(whole_number(1, kMaxEpisodes));
  auto* eval_seed = eval->add_option(
      "--seed", eval_opt->seed,
      "Episode i (from 1) starts from reset(seed + i - 1) (default: the evaluation seed of the "
      "run folder holding the policy, so that eval repeats its eval.csv; else 0)")
      ->check(seed_number());
  eval->add_option("--threads", eval_opt->threads, "LibTorch threads (0: all cores)")
      ->capture_default_str()->check(whole_number(0, kMaxThreads));
  auto eval_json = std::make_shared<JsonOutput>();
  eval_json->add_to(eval, "the episodes and their mean");
  eval->callback([eval_opt, eval_json, eval_seed] {
    // Its inputs: the policy, and the run folder's config.json it takes the seed from.
    const std::filesystem::path folder = std::filesystem::path(eval_opt->policy_path).parent_path();
    eval_json->check({{"--policy", eval_opt->policy_path},
                      {"of the run", ((folder.empty() ? std::filesystem::path(".") : folder) / "config.json").string()}});
    if (eval_seed->count() == 0) eval_opt->seed = cont::run_eval_seed(eval_opt->policy_path).value_or(0);
    auto r = cont::evaluate_policy_file(*eval_opt);
    if (eval_json->requested()) {
      nlohmann::json out;
      out["episodes"] = nlohmann::json::array();
      for (std::size_t i = 0; i < r.returns.size(); ++i) {
        out["episodes"].push_back({{"return", r.returns[i]}, {"length", r.lengths[i]}});
      }
      out["seed"] = eval_opt->seed;
      out["mean_return"] = r.mean_return;
      out["std_return"] = r.std_return;
      eval_json->emit(out, 2);
      if (eval_json->replaces_text()) return;
    }
    for (std::size_t i = 0; i < r.returns.size(); ++i) {
      std::cout << "episode " << i + 1 << ": return " << r.returns[i] << ", length " << r.lengths[i] << "\n";
    }
    std::cout << "mean return " << r.mean_return << " (std " << r.std_return << ")\n";
  });
}

}  // namespace bcq::cli
