// `bcq train`: offline training of BCQ or a baseline on a fixed batch (or, --concurrent, on
// the growing buffer of a behavioural DDPG), with evaluation and a checkpoint every
// eval_every iterations (docs/theory.md, "Evaluation"; docs/continuous.md, the run folder).
#include "continuous/training.hpp"

#include <torch/torch.h>

#include <cmath>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>
#include <sstream>
#include <thread>
#include <utility>

#include <nlohmann/json.hpp>

#include "common/atomic_file.hpp"
#include "common/build_info.hpp"
#include "common/error.hpp"
#include "common/eval_csv.hpp"
#include "common/input_file.hpp"
#include "common/interrupt.hpp"
#include "common/json_input.hpp"
#include "common/run_files.hpp"
#include "continuous/agent.hpp"
#include "continuous/baselines.hpp"
#include "continuous/checkpoint_io.hpp"
#include "continuous/envs/env.hpp"
#include "continuous/evaluation.hpp"
#include "continuous/nets.hpp"
#include "continuous/replay_buffer.hpp"
#include "continuous/run_support.hpp"
#include "continuous/sampling.hpp"

namespace bcq::continuous {

namespace fs = std::filesystem;

int configure_torch(int threads) {
  if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  torch::set_num_threads(threads);
  at::globalContext().setFlushDenormal(true);
  keep_freed_memory_for_reuse();
  return threads;
}

namespace {

// eval.csv of a run being resumed (common/eval_csv.hpp): a damaged file is refused naming its
// line, as it would otherwise be rewritten; a missing or empty one has no rows yet.
std::vector<EvalRow> read_eval_csv(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str().empty() ? std::vector<EvalRow>{} : parse_eval_csv(text.str(), path);
}

void write_status(const std::string& dir, const RunStatus& status) {
  write_file_atomic(dir + "/status.json", run_status_json(status).dump(2) + "\n");
}

// Removes `dir` when an exception leaves the scope while `checkpoint` does not exist, unless
// keep() was called (or `armed` was false).
class RemoveFolderOnError {
 public:
  RemoveFolderOnError(std::string dir, std::string checkpoint, bool armed)
      : dir_(std::move(dir)), checkpoint_(std::move(checkpoint)), armed_(armed) {}
  ~RemoveFolderOnError() {
    std::error_code ec;
    if (armed_ && std::uncaught_exceptions() > 0 && !fs::exists(checkpoint_, ec)) fs::remove_all(dir_, ec);
  }
  RemoveFolderOnError(const RemoveFolderOnError&) = delete;
  RemoveFolderOnError& operator=(const RemoveFolderOnError&) = delete;
  void keep() { armed_ = false; }

 private:
  std::string dir_, checkpoint_;
  bool armed_;
};

}  // namespace

TrainResult train(const TrainOptions& opt) {
  if (opt.iterations <= 0) throw InputError("--iterations must be positive");
  if (opt.eval_every <= 0) throw InputError("--eval-every must be positive");
  if (opt.eval_episodes <= 0) throw InputError("--eval-episodes must be positive");
  if (opt.out_dir.empty()) throw InputError("--out is required");
  {
    std::error_code ec;
    if (fs::exists(opt.out_dir, ec) && !fs::is_directory(opt.out_dir, ec)) {
      const bool is_buffer = !opt.buffer_path.empty() && fs::equivalent(opt.out_dir, opt.buffer_path, ec);
      throw InputError("--out " + opt.out_dir + " is " + (is_buffer ? "the --buffer file" : "a file") +
                       ", not a run folder");
    }
  }
  const torch::Device device = parse_device(opt.device);
  const int threads = configure_torch(opt.threads);
  auto env = envs::make_env(opt.env);
  auto eval_env = envs::make_env(opt.env);
  const ProblemShape shape = problem_shape(*env);
  const BufferExpectations expect{shape.state_dim, shape.action_dim, shape.max_action, opt.env};

  ReplayBuffer buffer(shape.state_dim, shape.action_dim);
  nlohmann::json buffer_attrs = nlohmann::json::object();
  if (!opt.concurrent) {
    if (opt.buffer_path.empty()) throw InputError("--buffer is required (or --concurrent)");
    buffer = load_buffer(opt.buffer_path, expect, &buffer_attrs);
  }
  AgentConfigs configs = opt.hyperparameters;
  configs.bcq.precision = parse_precision(opt.precision);
  auto agent = make_agent(opt.algo, shape, opt.seed, device, configs);

  std::error_code ec;
  const bool new_folder = !fs::exists(opt.out_dir, ec);
  fs::create_directories(opt.out_dir, ec);
  if (ec) throw InputError("cannot create run folder " + opt.out_dir + ": " + ec.message());
  const std::string ckpt = opt.out_dir + "/checkpoint.pt";
  // A run folder this call created goes again if an error ends the run before a checkpoint was
  // written (a full disk at the first checkpoint): the failed run leaves nothing behind. One
  // with a checkpoint stays, to resume; an interrupted run keeps its status.json.
  RemoveFolderOnError cleanup(opt.out_dir, ckpt, new_folder);
  // Concurrent runs: the growing buffer up to the last checkpoint (complete at the end).
  const std::string growing_path = opt.out_dir + "/buffer.h5";
  nlohmann::json config = {
      {"format", "bcq-run/1"},
      {"algo", opt.algo},
      {"env", opt.env},
      {"buffer", opt.concurrent ? "" : fs::absolute(opt.buffer_path).string()},
      {"buffer_attributes", buffer_attrs},
      {"buffer_size", buffer.size()},
      {"concurrent", opt.concurrent},
      {"iterations", opt.iterations},
      {"eval_every", opt.eval_every},
      {"eval_episodes", opt.eval_episodes},
      {"eval_seed", opt.seed + 100},
      {"seed", opt.seed},
      {"device", opt.device},
      {"threads", threads},
      {"precision", opt.precision},
      {"git_commit", bcq::git_commit()},
      {"hyperparameters", agent->config()}};
  if (opt.concurrent) {
    config["buffer_size"] = nullptr;  // it grows; see buffer.h5
    config["behavioural"] = {{"algo", "ddpg"}, {"exploration_noise", opt.behaviour.concurrent_noise},
                             {"start_steps", opt.start_steps}};
  }

  // Concurrent setting: the behavioural agent and its environment.
  std::unique_ptr<DdpgAgent> behavioural;
  std::mt19937_64 behaviour_rng(opt.seed + 1);
  std::vector<double> obs;
  if (opt.concurrent) {
    behavioural = std::make_unique<DdpgAgent>(shape, opt.seed + 1, device, configs.ddpg);
    buffer.reserve(static_cast<std::size_t>(opt.iterations));
    obs = env->reset(opt.seed);
  }

  std::mt19937_64 sampler(opt.seed);
  int64_t start = 0;
  std::vector<EvalRow> rows;
  if (opt.resume) {
    const std::string config_path = opt.out_dir + "/config.json";
    const nlohmann::json old = load_json_input(config_path);  // names the file when unreadable
    if (!old.is_object()) throw InputError(config_path + ": not a JSON object");
    // Everything that decides the numbers must be what the run started with (its buffer by
    // content, not by path: a moved file is the same batch).
    for (const char* key : {"algo", "env", "seed", "eval_every", "eval_episodes", "concurrent",
                            "behavioural", "precision", "threads", "device", "buffer_size",
                            "buffer_attributes"}) {
      nlohmann::json before = old.value(key, nlohmann::json());
      if (std::string(key) == "precision" && before.is_null()) before = "fp32";  // older runs
      if (before != config.value(key, nlohmann::json())) {
        const std::string hint = std::string(key) == "threads"
                                     ? all_cores_hint(opt.threads, config.value(key, nlohmann::json()).dump(), before.dump())
                                     : std::string();
        throw InputError(config_path + ": --resume with a different " + std::string(key) + " (run has " +
                         before.dump() + hint + ")");
      }
    }
    // More iterations extend the run (config.json then says from how many); fewer would end
    // it short of what it was started for.
    const nlohmann::json old_iterations = old.value("iterations", nlohmann::json());
    if (old_iterations.is_number_integer() && old_iterations.get<int64_t>() != opt.iterations) {
      if (old_iterations.get<int64_t>() > opt.iterations) {
        throw InputError(opt.out_dir + "/config.json: --resume with fewer iterations (" +
                         std::to_string(opt.iterations) + ") than the run has (" + old_iterations.dump() + ")");
      }
      config["extended_from_iterations"] = old.value("extended_from_iterations", old_iterations);
    } else if (old.contains("extended_from_iterations")) {  // extended by an earlier resume
      config["extended_from_iterations"] = old["extended_from_iterations"];
    }
    int64_t growing_size = 0;
    load_checkpoint(ckpt, [&](InputArchive& a) {
      agent->load(a);
      start = read_int(a, "iteration");
      read_rng(a, "sampler", sampler);
      if (opt.concurrent) {
        InputArchive b;
        a.read("behavioural", b);
        behavioural->load(b);
        read_rng(a, "behaviour_rng", behaviour_rng);
        read_env(a, *env);
        obs = read_doubles(a, "observation");
        growing_size = read_int(a, "buffer_size");
      }
    });
    if (opt.concurrent) {
      // The buffer file is written before checkpoint.pt and only grows: a run killed between
      // the two has rows past the checkpoint, which are dropped here.
      buffer = load_buffer(growing_path, expect);
      if (static_cast<int64_t>(buffer.size()) < growing_size) {
        throw InputError(growing_path + ": " + std::to_string(buffer.size()) +
                         " transitions, but the checkpoint was taken at " + std::to_string(growing_size));
      }
      buffer.truncate(static_cast<std::size_t>(growing_size));
      buffer.reserve(static_cast<std::size_t>(std::max<int64_t>(opt.iterations, growing_size)));
    }
    rows = read_eval_csv(opt.out_dir + "/eval.csv");
    while (!rows.empty() && rows.back().iteration > start) rows.pop_back();
    write_file_atomic(opt.out_dir + "/eval.csv", format_eval_csv(rows));
  } else if (fs::exists(ckpt)) {
    throw InputError(opt.out_dir + " already holds a run (checkpoint.pt); use --resume or another --out");
  }
  write_file_atomic(opt.out_dir + "/config.json", config.dump(2) + "\n");
  write_status(opt.out_dir, {"running", start, "", start > 0 ? start : -1});

  auto behavioural_step = [&](int64_t t) {
    at::Generator unused = make_generator(0, device);
    const BehaviourMode mode =
        t < opt.start_steps ? BehaviourMode::kUniform : BehaviourMode::kNoisyActor;
    auto action = behavioural_action(*behavioural, obs, mode, opt.behaviour.concurrent_noise, 0.0,
                                     shape, behaviour_rng, unused);
    envs::StepResult step;
    env->step(action.data(), step);
    auto s = to_floats(obs), a = to_floats(action), s2 = to_floats(step.observation);
    buffer.add(s.data(), a.data(), static_cast<float>(step.reward), s2.data(), step.terminated,
               step.truncated);
    obs = (step.terminated || step.truncated) ? env->reset() : step.observation;
    if (t >= opt.start_steps) behavioural->train_step(
        sample_batch(buffer, behaviour_rng, behavioural->batch_size(), device));
  };
  auto growing_attrs = [&] {
    return nlohmann::json{{"env", opt.env}, {"kind", "concurrent"},
                          {"steps", static_cast<int64_t>(buffer.size())},
                          {"seed", static_cast<int64_t>(opt.seed)}, {"exploration_noise", opt.behaviour.concurrent_noise},
                          {"git_commit", bcq::git_commit()}};
  };
  auto write_checkpoint = [&](int64_t iteration) {
    if (opt.concurrent) save_buffer(growing_path, buffer, growing_attrs());
    save_checkpoint(ckpt, [&](OutputArchive& a) {
      agent->save(a);
      write_int(a, "iteration", iteration);
      write_rng(a, "sampler", sampler);
      if (opt.concurrent) {
        OutputArchive b;
        behavioural->save(b);
        a.write("behavioural", b);
        write_rng(a, "behaviour_rng", behaviour_rng);
        write_env(a, *env);
        write_doubles(a, "observation", obs);
        write_int(a, "buffer_size", static_cast<int64_t>(buffer.size()));
      }
    });
  };

  TrainResult result;
  result.checkpoint_iteration = start;
  result.final_mean_return = rows.empty() ? std::numeric_limits<double>::quiet_NaN() : rows.back().mean_return;
  const double discount = agent->discount();  // docs/theory.md, "Evaluation"
  const auto t0 = Clock::now();
  const double wall_before = rows.empty() ? 0.0 : rows.back().wall_seconds;
  ProgressLine progress(opt.progress);
  auto progress_head = [&](int64_t done) {
    const double elapsed = std::chrono::duration<double>(Clock::now() - t0).count();
    std::ostringstream line;
    line << "[" << opt.algo << "] iteration " << done << "/" << opt.iterations << "  ETA "
         << eta(done - start, opt.iterations - start, elapsed);
    return line.str();
  };
  interrupt_after_step_for_tests(start);  // N = 0: before the first iteration
  for (int64_t it = start; it < opt.iterations; ++it) {
    if (const int sig = interrupt_signal()) {
      progress.finish();
      cleanup.keep();
      if (it == 0) {  // nothing done, nothing to resume
        write_status(opt.out_dir, {"interrupted", 0, "", -1});
        throw Interrupted(sig, opt.algo + " interrupted by " + signal_name(sig) +
                                   " before its first iteration; rerun the same command (without --resume)");
      }
      // Checkpoint here, between two iterations, so that nothing done is lost.
      if (it > result.checkpoint_iteration) write_checkpoint(it);
      write_status(opt.out_dir, {"interrupted", it, "", it});
      throw Interrupted(sig, opt.algo + " interrupted by " + signal_name(sig) + " at iteration " +
                                 std::to_string(it) + " of " + std::to_string(opt.iterations) + "; " + ckpt +
                                 " holds it: rerun the same command with --resume to continue");
    }
    if (opt.concurrent) behavioural_step(it);
    Losses losses = agent->train_step(sample_batch(buffer, sampler, agent->batch_size(), device));
    for (const auto& [name, value] : losses) {
      if (!std::isfinite(value)) {
        std::ostringstream msg;
        msg << opt.algo << " diverged at iteration " << it + 1 << ": " << name << " = " << value;
        if (result.checkpoint_iteration > 0) {
          msg << "; last good checkpoint " << ckpt << " (iteration " << result.checkpoint_iteration
              << ")";
        } else {
          msg << "; no checkpoint was written yet";
        }
        result.diverged = true;
        result.iteration = it;
        result.message = msg.str();
        write_status(opt.out_dir, {"diverged", it + 1, name, result.checkpoint_iteration});
        progress.finish();
        return result;
      }
    }
    interrupt_after_step_for_tests(it + 1);
    if ((it + 1) % opt.eval_every == 0 || it + 1 == opt.iterations) {
      EvalRow row = evaluate_agent(*agent, *eval_env, opt.eval_episodes, opt.seed + 100, discount);
      row.iteration = it + 1;
      row.wall_seconds = wall_before + std::chrono::duration<double>(Clock::now() - t0).count();
      rows.push_back(row);
      write_file_atomic(opt.out_dir + "/eval.csv", format_eval_csv(rows));
      write_checkpoint(it + 1);
      result.checkpoint_iteration = it + 1;
      result.final_mean_return = row.mean_return;
      write_status(opt.out_dir, {"running", it + 1, "", it + 1});
      if (progress.on()) {
        std::ostringstream line;
        line << progress_head(it + 1) << "  return " << row.mean_return << "  Q(s0) "
             << row.q_estimate << "  true " << row.true_discounted;
        progress.show(line.str());
      }
    } else if (progress.on() && (it + 1) % 100 == 0) {
      progress.show(progress_head(it + 1));
    }
  }
  progress.finish();
  agent->export_policy(opt.out_dir + "/policy.pt");
  result.iteration = opt.iterations;
  write_status(opt.out_dir, {"completed", opt.iterations, "", -1});
  return result;
}

}  // namespace bcq::continuous
