#include "continuous/training.hpp"

#include <torch/script.h>
#include <torch/torch.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "common/atomic_file.hpp"
#include "common/eval_csv.hpp"
#include "common/error.hpp"
#include "continuous/agent.hpp"
#include "continuous/baselines.hpp"
#include "continuous/nets.hpp"
#include "continuous/envs/env.hpp"
#include "continuous/replay_buffer.hpp"
#include "continuous/sampling.hpp"

#ifndef BCQ_GIT_COMMIT
#define BCQ_GIT_COMMIT "unknown"
#endif

namespace bcq::continuous {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

int configure_torch(int threads) {
  if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  torch::set_num_threads(threads);
  at::globalContext().setFlushDenormal(true);
  keep_freed_memory_for_reuse();
  return threads;
}

namespace {

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

// eval.csv of a run being resumed (common/eval_csv.hpp): a damaged file is refused naming its
// line, as it would otherwise be rewritten; a missing or empty one has no rows yet.
std::vector<EvalRow> read_eval_csv(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str().empty() ? std::vector<EvalRow>{} : parse_eval_csv(text.str(), path);
}

// Runs `episodes` episodes from reset(seed + i); returns the row (without iteration / wall).
EvalRow evaluate_agent(Agent& agent, envs::Env& env, int episodes, uint64_t seed,
                       double discount) {
  auto gen = make_generator(seed, agent.device());
  std::vector<double> returns, discounted;
  std::vector<torch::Tensor> starts;
  for (int e = 0; e < episodes; ++e) {
    auto obs = env.reset(seed + static_cast<uint64_t>(e));
    starts.push_back(obs_tensor(obs));
    double total = 0, disc = 0, g = 1;
    envs::StepResult step;
    for (;;) {
      auto action = to_action(agent.select_action(obs_tensor(obs), gen));
      env.step(action.data(), step);
      total += step.reward;
      disc += g * step.reward;
      g *= discount;
      obs = step.observation;
      if (step.terminated || step.truncated) break;
    }
    returns.push_back(total);
    discounted.push_back(disc);
  }
  EvalRow row;
  for (double r : returns) row.mean_return += r / episodes;
  for (double r : returns) row.std_return += (r - row.mean_return) * (r - row.mean_return) / episodes;
  row.std_return = std::sqrt(row.std_return);
  for (double d : discounted) row.true_discounted += d / episodes;
  auto q = agent.value_estimate(torch::cat(starts, 0), gen).to(torch::kCPU, torch::kDouble);
  row.q_estimate = q.mean().item<double>();
  return row;
}

// --- checkpoint archives -------------------------------------------------------------------

using torch::serialize::InputArchive;
using torch::serialize::OutputArchive;

void write_bytes(OutputArchive& a, const std::string& key, const std::string& bytes) {
  a.write(key, torch::from_blob(const_cast<char*>(bytes.data()), {static_cast<int64_t>(bytes.size())},
                                torch::kUInt8).clone());
}
std::string read_bytes(InputArchive& a, const std::string& key) {
  torch::Tensor t;
  a.read(key, t);
  return {reinterpret_cast<const char*>(t.data_ptr<uint8_t>()), static_cast<std::size_t>(t.numel())};
}
void write_int(OutputArchive& a, const std::string& key, int64_t v) {
  a.write(key, torch::tensor(v, torch::kInt64));
}
int64_t read_int(InputArchive& a, const std::string& key) {
  torch::Tensor t;
  a.read(key, t);
  return t.item<int64_t>();
}
void write_doubles(OutputArchive& a, const std::string& key, const std::vector<double>& v) {
  a.write(key, torch::tensor(at::ArrayRef<double>(v), torch::kDouble).clone());
}
std::vector<double> read_doubles(InputArchive& a, const std::string& key) {
  torch::Tensor t;
  a.read(key, t);
  t = t.contiguous();
  return {t.data_ptr<double>(), t.data_ptr<double>() + t.numel()};
}
void write_rng(OutputArchive& a, const std::string& key, const std::mt19937_64& rng) {
  std::ostringstream out;
  out << rng;
  write_bytes(a, key, out.str());
}
void read_rng(InputArchive& a, const std::string& key, std::mt19937_64& rng) {
  std::istringstream in(read_bytes(a, key));
  in >> rng;
  if (!in) throw InputError("checkpoint entry " + key + " is not a generator state");
}

// An environment mid-episode (see envs::EnvSnapshot).
void write_env(OutputArchive& a, const envs::Env& env) {
  const envs::EnvSnapshot snap = env.snapshot();
  write_bytes(a, "env/name", snap.env);
  write_doubles(a, "env/physics", snap.physics);
  std::vector<int64_t> words(snap.noise_stream.begin(), snap.noise_stream.end());
  a.write("env/noise_stream", torch::tensor(words, torch::kInt64));
  write_doubles(a, "env/initial_observation", snap.initial_observation);
  a.write("env/counters", torch::tensor(std::vector<int64_t>{snap.elapsed_steps, snap.max_episode_steps,
                                                             snap.started, snap.live}, torch::kInt64));
}
void read_env(InputArchive& a, envs::Env& env) {
  envs::EnvSnapshot snap;
  snap.env = read_bytes(a, "env/name");
  snap.physics = read_doubles(a, "env/physics");
  torch::Tensor words, counters;
  a.read("env/noise_stream", words);
  for (int64_t i = 0; i < words.numel(); ++i) {
    snap.noise_stream.push_back(static_cast<uint64_t>(words[i].item<int64_t>()));
  }
  snap.initial_observation = read_doubles(a, "env/initial_observation");
  a.read("env/counters", counters);
  if (counters.numel() != 4) throw InputError("checkpoint entry env/counters has the wrong size");
  snap.elapsed_steps = static_cast<int>(counters[0].item<int64_t>());
  snap.max_episode_steps = static_cast<int>(counters[1].item<int64_t>());
  snap.started = counters[2].item<int64_t>() != 0;
  snap.live = counters[3].item<int64_t>() != 0;
  env.restore(snap);
}

// For tests of --resume: BCQ_KILL_AFTER_CHECKPOINT=N makes the process SIGKILL itself right
// after writing its N-th checkpoint, as a crash or `kill -9` would, with no cleanup.
void kill_after_checkpoint_for_tests() {
  static int written = 0;
  static const char* limit = std::getenv("BCQ_KILL_AFTER_CHECKPOINT");
  if (limit != nullptr && ++written == std::atoi(limit)) std::raise(SIGKILL);
}

// Writes the archive filled by `fill` to `path` atomically (temporary file + rename).
template <typename Fill>
void save_checkpoint(const std::string& path, Fill fill) {
  OutputArchive archive;
  fill(archive);
  const std::string tmp = path + ".tmp";
  try {
    archive.save_to(tmp);
  } catch (const c10::Error& e) {
    std::remove(tmp.c_str());
    throw InputError("cannot write " + path + " (" + e.what_without_backtrace() + ")");
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    throw InputError("cannot write " + path + " (rename)");
  }
  kill_after_checkpoint_for_tests();
}

// Reads `path` and hands the archive to `read`; any inconsistency is an InputError naming it.
template <typename Read>
void load_checkpoint(const std::string& path, Read read) {
  if (!fs::exists(path)) throw InputError(path + ": no checkpoint to resume from");
  InputArchive archive;
  try {
    archive.load_from(path);
    read(archive);
  } catch (const c10::Error& e) {
    throw InputError(path + ": unreadable checkpoint (" + e.what_without_backtrace() + ")");
  } catch (const InputError& e) {
    throw InputError(path + ": " + e.what());
  }
}

// "12.3 s" / "4 min 05 s" / "2 h 07 min" for progress lines.
std::string format_duration(double seconds) {
  char text[32];
  if (!(seconds >= 0) || seconds > 1e7) return "?";
  const auto s = static_cast<int64_t>(seconds);
  if (seconds < 60) std::snprintf(text, sizeof text, "%.0f s", seconds);
  else if (s < 3600) std::snprintf(text, sizeof text, "%lld min %02lld s", static_cast<long long>(s / 60), static_cast<long long>(s % 60));
  else std::snprintf(text, sizeof text, "%lld h %02lld min", static_cast<long long>(s / 3600), static_cast<long long>((s % 3600) / 60));
  return text;
}

// Estimated time left after `done` of `total` units in `elapsed` seconds (this process only).
std::string eta(int64_t done, int64_t total, double elapsed) {
  if (done <= 0) return "?";
  return format_duration(elapsed * static_cast<double>(total - done) / static_cast<double>(done));
}

void write_status(const std::string& dir, const nlohmann::json& status) {
  write_file_atomic(dir + "/status.json", status.dump(2) + "\n");
}

}  // namespace

TrainResult train(const TrainOptions& opt) {
  if (opt.iterations <= 0) throw InputError("--iterations must be positive");
  if (opt.eval_every <= 0) throw InputError("--eval-every must be positive");
  if (opt.eval_episodes <= 0) throw InputError("--eval-episodes must be positive");
  if (opt.out_dir.empty()) throw InputError("--out is required");
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
  auto agent = make_agent(opt.algo, shape, opt.seed, device, opt.precision);

  std::error_code ec;
  fs::create_directories(opt.out_dir, ec);
  if (ec) throw InputError("cannot create run folder " + opt.out_dir + ": " + ec.message());
  const std::string ckpt = opt.out_dir + "/checkpoint.pt";
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
      {"git_commit", BCQ_GIT_COMMIT},
      {"hyperparameters", agent->config()}};
  if (opt.concurrent) {
    config["buffer_size"] = nullptr;  // it grows; see buffer.h5
    config["behavioural"] = {{"algo", "ddpg"}, {"exploration_noise", 0.1},
                             {"start_steps", opt.start_steps}};
  }

  // Concurrent setting: the behavioural agent and its environment.
  std::unique_ptr<DdpgAgent> behavioural;
  std::mt19937_64 behaviour_rng(opt.seed + 1);
  std::vector<double> obs;
  if (opt.concurrent) {
    behavioural = std::make_unique<DdpgAgent>(shape, opt.seed + 1, device);
    buffer.reserve(static_cast<std::size_t>(opt.iterations));
    obs = env->reset(opt.seed);
  }

  std::mt19937_64 sampler(opt.seed);
  int64_t start = 0;
  std::vector<EvalRow> rows;
  if (opt.resume) {
    std::ifstream in(opt.out_dir + "/config.json");
    nlohmann::json old = nlohmann::json::parse(in, nullptr, false);
    if (old.is_discarded()) throw InputError(opt.out_dir + "/config.json: missing or unreadable");
    for (const char* key : {"algo", "env", "seed", "eval_every", "eval_episodes", "concurrent", "behavioural",
                            "precision"}) {
      nlohmann::json before = old.value(key, nlohmann::json());
      if (std::string(key) == "precision" && before.is_null()) before = "fp32";  // older runs
      if (before != config.value(key, nlohmann::json())) {
        throw InputError(opt.out_dir + "/config.json: --resume with a different " +
                         std::string(key) + " (run has " + before.dump() + ")");
      }
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
  write_status(opt.out_dir, {{"status", "running"}, {"iteration", start}});

  auto behavioural_step = [&](int64_t t) {
    std::vector<double> action(shape.action_dim);
    if (t < opt.start_steps) {
      std::uniform_real_distribution<double> u(-shape.max_action, shape.max_action);
      for (auto& a : action) a = u(behaviour_rng);
    } else {
      at::Generator unused = make_generator(0, device);
      action = to_action(behavioural->select_action(obs_tensor(obs), unused));
      std::normal_distribution<double> noise(0.0, 0.1 * shape.max_action);
      for (auto& a : action) a = std::clamp(a + noise(behaviour_rng), -shape.max_action, shape.max_action);
    }
    envs::StepResult step;
    env->step(action.data(), step);
    auto s = to_floats(obs), a = to_floats(action), s2 = to_floats(step.observation);
    buffer.add(s.data(), a.data(), static_cast<float>(step.reward), s2.data(), step.terminated,
               step.truncated);
    obs = (step.terminated || step.truncated) ? env->reset() : step.observation;
    if (t >= opt.start_steps) behavioural->train_step(sample_batch(buffer, behaviour_rng, 100, device));
  };
  auto growing_attrs = [&] {
    return nlohmann::json{{"env", opt.env}, {"kind", "concurrent"},
                          {"steps", static_cast<int64_t>(buffer.size())},
                          {"seed", static_cast<int64_t>(opt.seed)}, {"exploration_noise", 0.1},
                          {"git_commit", BCQ_GIT_COMMIT}};
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
  const double discount = 0.99;
  const auto t0 = Clock::now();
  const double wall_before = rows.empty() ? 0.0 : rows.back().wall_seconds;
  const bool progress = opt.progress;
  auto progress_head = [&](int64_t done) {
    const double elapsed = std::chrono::duration<double>(Clock::now() - t0).count();
    std::ostringstream line;
    line << "\r[" << opt.algo << "] iteration " << done << "/" << opt.iterations << "  ETA "
         << eta(done - start, opt.iterations - start, elapsed);
    return line.str();
  };
  for (int64_t it = start; it < opt.iterations; ++it) {
    if (opt.concurrent) behavioural_step(it);
    Losses losses = agent->train_step(sample_batch(buffer, sampler, 100, device));
    for (const auto& [name, value] : losses) {
      if (!std::isfinite(value)) {
        std::ostringstream msg;
        msg << opt.algo << " diverged at iteration " << it + 1 << ": " << name << " = " << value
            << "; last good checkpoint " << ckpt << " (iteration " << result.checkpoint_iteration
            << ")";
        result.diverged = true;
        result.iteration = it;
        result.message = msg.str();
        write_status(opt.out_dir, {{"status", "diverged"},
                                   {"iteration", it + 1},
                                   {"loss", name},
                                   {"checkpoint_iteration", result.checkpoint_iteration}});
        if (progress) std::cerr << "\n";
        return result;
      }
    }
    if ((it + 1) % opt.eval_every == 0 || it + 1 == opt.iterations) {
      EvalRow row = evaluate_agent(*agent, *eval_env, opt.eval_episodes, opt.seed + 100, discount);
      row.iteration = it + 1;
      row.wall_seconds = wall_before + std::chrono::duration<double>(Clock::now() - t0).count();
      rows.push_back(row);
      write_file_atomic(opt.out_dir + "/eval.csv", format_eval_csv(rows));
      write_checkpoint(it + 1);
      result.checkpoint_iteration = it + 1;
      result.final_mean_return = row.mean_return;
      if (progress) {
        std::cerr << progress_head(it + 1) << "  return " << row.mean_return << "  Q(s0) "
                  << row.q_estimate << "  true " << row.true_discounted << "      " << std::flush;
      }
    } else if (progress && (it + 1) % 100 == 0) {
      std::cerr << progress_head(it + 1) << std::flush;
    }
  }
  if (progress) std::cerr << "\n";
  agent->export_policy(opt.out_dir + "/policy.pt");
  result.iteration = opt.iterations;
  write_status(opt.out_dir, {{"status", "completed"}, {"iteration", opt.iterations}});
  return result;
}

CollectResult collect(const CollectOptions& opt) {
  if (opt.steps <= 0) throw InputError("--steps must be positive");
  if (opt.expert_steps < 0) throw InputError("--expert-steps must not be negative");
  if (opt.start_steps < 0) throw InputError("--start-steps must not be negative");
  if (opt.checkpoint_every <= 0) throw InputError("--checkpoint-every must be positive");
  if (opt.out_path.empty()) throw InputError("-o is required");
  double noise_std = 0;
  bool expert = false;
  if (opt.kind == "final") {
    noise_std = 0.5;
  } else if (opt.kind == "concurrent") {
    noise_std = 0.1;
  } else if (opt.kind == "imitation" || opt.kind == "imperfect") {
    expert = true;
  } else {
    throw InputError("--kind must be final, concurrent, imitation or imperfect, not '" + opt.kind + "'");
  }
  if (!expert && (!opt.expert_in.empty() || !opt.expert_out.empty())) {
    throw InputError("--expert-in / --expert-out apply to --kind imitation or imperfect only");
  }
  if (!opt.expert_in.empty() && !opt.expert_out.empty()) {
    throw InputError("--expert-in and --expert-out exclude each other (the expert is not trained)");
  }
  const bool reuse_expert = !opt.expert_in.empty();
  const int64_t expert_steps = reuse_expert ? 0 : opt.expert_steps > 0 ? opt.expert_steps : opt.steps;
  configure_torch(opt.threads);
  const torch::Device device = torch::kCPU;
  auto env = envs::make_env(opt.env);
  const ProblemShape shape = problem_shape(*env);
  const BufferExpectations expect{shape.state_dim, shape.action_dim, shape.max_action, opt.env};
  DdpgAgent agent(shape, opt.seed, device);
  std::mt19937_64 rng(opt.seed);
  at::Generator unused = make_generator(opt.seed, device);

  // The run as phases. Modes: 0 uniform random, 1 actor + Gaussian noise (std `sd`),
  // 2 imperfect expert (p = 0.3 uniform, else noise `sd`).
  ReplayBuffer buffer(shape.state_dim, shape.action_dim);
  ReplayBuffer training(shape.state_dim, shape.action_dim);
  struct Phase {
    const char* name;
    int64_t steps;
    int mode;
    double sd;
    bool learn;          // train the agent (after start_steps uniform steps)
    bool keep;           // the transitions go into the output buffer and count for its return
    ReplayBuffer* into;
  };
  std::vector<Phase> phases;
  if (!expert) {
    phases.push_back({"behavioural", opt.steps, 1, noise_std, true, true, &buffer});
  } else {
    if (!reuse_expert) phases.push_back({"expert training", expert_steps, 1, 0.1, true, false, &training});
    if (opt.kind == "imitation") phases.push_back({"imitation", opt.steps, 1, 0.0, false, true, &buffer});
    else phases.push_back({"imperfect", opt.steps, 2, 0.3, false, true, &buffer});
  }

  // Interrupted runs continue from <out>.checkpoint/ (state.pt, then the buffers as HDF5).
  const std::string ckpt_dir = opt.out_path + ".checkpoint";
  const std::string state_path = ckpt_dir + "/state.pt";
  nlohmann::json identity = {{"env", opt.env}, {"kind", opt.kind}, {"steps", opt.steps},
                             {"expert_steps", expert ? expert_steps : 0},
                             {"start_steps", opt.start_steps},
                             {"seed", static_cast<int64_t>(opt.seed)}};
  if (reuse_expert) identity["expert_in"] = fs::absolute(opt.expert_in).string();
  // The expert file: the agent's state and what it was trained for.
  const nlohmann::json expert_identity = {{"env", opt.env}, {"seed", static_cast<int64_t>(opt.seed)},
                                          {"expert_steps", expert_steps},
                                          {"start_steps", opt.start_steps}};
  if (reuse_expert) {
    load_checkpoint(opt.expert_in, [&](InputArchive& a) {
      const auto saved = nlohmann::json::parse(read_bytes(a, "expert"), nullptr, false);
      if (saved.is_discarded() || saved.value("env", std::string()) != opt.env) {
        throw InputError("not an expert for " + opt.env + " (written by collect --expert-out)");
      }
      InputArchive b;
      a.read("agent", b);
      agent.load(b);
    });
  }
  auto save_expert = [&] {
    if (opt.expert_out.empty()) return;
    save_checkpoint(opt.expert_out, [&](OutputArchive& a) {
      write_bytes(a, "expert", expert_identity.dump());
      OutputArchive b;
      agent.save(b);
      a.write("agent", b);
    });
  };
  std::size_t phase = 0;
  int64_t t = 0;
  double episode_return = 0, return_sum = 0;
  int64_t complete_episodes = 0;
  std::vector<double> obs = env->reset(opt.seed);
  if (opt.resume) {
    int64_t buffer_rows = 0, training_rows = 0;
    load_checkpoint(state_path, [&](InputArchive& a) {
      const auto saved = nlohmann::json::parse(read_bytes(a, "options"), nullptr, false);
      for (const auto& [key, value] : identity.items()) {
        if (saved.is_discarded() || saved.value(key, nlohmann::json()) != value) {
          throw InputError("--resume with a different --" + key + " (the interrupted run has " +
                           (saved.is_discarded() ? "?" : saved.value(key, nlohmann::json()).dump()) + ")");
        }
      }
      InputArchive b;
      a.read("agent", b);
      agent.load(b);
      read_rng(a, "rng", rng);
      read_env(a, *env);
      obs = read_doubles(a, "observation");
      phase = static_cast<std::size_t>(read_int(a, "phase"));
      t = read_int(a, "step");
      episode_return = read_doubles(a, "returns").at(0);
      return_sum = read_doubles(a, "returns").at(1);
      complete_episodes = read_int(a, "complete_episodes");
      buffer_rows = read_int(a, "buffer_rows");
      training_rows = read_int(a, "training_rows");
      if (phase >= phases.size() || t < 0 || t > phases[phase].steps) {
        throw InputError("phase/step out of range");
      }
    });
    // Buffers are written before state.pt and only grow: rows past the checkpoint are dropped.
    auto reload = [&](ReplayBuffer& into, const std::string& path, int64_t rows) {
      if (rows == 0) return;
      into = load_buffer(path, expect);
      if (static_cast<int64_t>(into.size()) < rows) {
        throw InputError(path + ": " + std::to_string(into.size()) +
                         " transitions, but the checkpoint was taken at " + std::to_string(rows));
      }
      into.truncate(static_cast<std::size_t>(rows));
    };
    reload(buffer, ckpt_dir + "/buffer.h5", buffer_rows);
    if (phases[phase].into == &training) reload(training, ckpt_dir + "/training.h5", training_rows);
  } else if (fs::exists(state_path)) {
    throw InputError(ckpt_dir + " holds an interrupted collection into " + opt.out_path +
                     "; add --resume to continue it, or remove that folder");
  }
  auto write_checkpoint = [&](int64_t next_step) {
    std::error_code ec;
    fs::create_directories(ckpt_dir, ec);
    if (ec) throw InputError("cannot create " + ckpt_dir + ": " + ec.message());
    const nlohmann::json attrs = {{"env", opt.env}, {"kind", opt.kind}, {"partial", 1}};
    if (phases[phase].into == &training) save_buffer(ckpt_dir + "/training.h5", training, attrs);
    if (buffer.size() > 0) save_buffer(ckpt_dir + "/buffer.h5", buffer, attrs);
    save_checkpoint(state_path, [&](OutputArchive& a) {
      write_bytes(a, "options", identity.dump());
      OutputArchive b;
      agent.save(b);
      a.write("agent", b);
      write_rng(a, "rng", rng);
      write_env(a, *env);
      write_doubles(a, "observation", obs);
      write_int(a, "phase", static_cast<int64_t>(phase));
      write_int(a, "step", next_step);
      write_doubles(a, "returns", {episode_return, return_sum});
      write_int(a, "complete_episodes", complete_episodes);
      write_int(a, "buffer_rows", static_cast<int64_t>(buffer.size()));
      write_int(a, "training_rows", phases[phase].into == &training ? static_cast<int64_t>(training.size()) : 0);
    });
  };

  auto act = [&](int mode, double sd) {
    std::vector<double> action(shape.action_dim);
    std::uniform_real_distribution<double> u(-shape.max_action, shape.max_action);
    std::uniform_real_distribution<double> coin(0.0, 1.0);
    if (mode == 0 || (mode == 2 && coin(rng) < 0.3)) {
      for (auto& a : action) a = u(rng);
      return action;
    }
    action = to_action(agent.select_action(obs_tensor(obs), unused));
    if (sd > 0) {
      std::normal_distribution<double> noise(0.0, sd * shape.max_action);
      for (auto& a : action) a = std::clamp(a + noise(rng), -shape.max_action, shape.max_action);
    }
    return action;
  };
  int64_t total_steps = 0, steps_before = 0;  // steps_before: of the phases before this one
  for (std::size_t p = 0; p < phases.size(); ++p) {
    total_steps += phases[p].steps;
    if (p < phase) steps_before += phases[p].steps;
  }
  const int64_t resumed_at = steps_before + t;
  const auto t0 = Clock::now();
  for (; phase < phases.size(); ++phase, t = 0) {
    const Phase& ph = phases[phase];
    if (t == 0) {
      episode_return = 0;
      if (phase > 0) {  // the expert is trained: collect from a fresh episode
        training = ReplayBuffer();
        obs = env->reset();
        save_expert();
      }
      ph.into->reserve(static_cast<std::size_t>(ph.steps));
    }
    for (; t < ph.steps; ++t) {
      const int mode = (ph.learn && t < opt.start_steps) ? 0 : ph.mode;
      auto action = act(mode, ph.sd);
      envs::StepResult step;
      env->step(action.data(), step);
      auto s = to_floats(obs), a = to_floats(action), s2 = to_floats(step.observation);
      ph.into->add(s.data(), a.data(), static_cast<float>(step.reward), s2.data(), step.terminated,
                   step.truncated);
      episode_return += step.reward;
      if (step.terminated || step.truncated) {
        if (ph.keep) {
          return_sum += episode_return;
          ++complete_episodes;
        }
        episode_return = 0;
        obs = env->reset();
      } else {
        obs = step.observation;
      }
      if (ph.learn && t >= opt.start_steps) {
        for (const auto& [name, value] : agent.train_step(sample_batch(*ph.into, rng, 100, device))) {
          if (!std::isfinite(value)) {
            throw InputError("the behavioural DDPG agent diverged at step " + std::to_string(t + 1) +
                             " of " + ph.name + ": " + name + " = " + std::to_string(value));
          }
        }
      }
      const int64_t done = steps_before + t + 1;
      if ((t + 1) % opt.checkpoint_every == 0 && done < total_steps) {
        write_checkpoint(t + 1);  // resumes after this step
      }
      if (opt.progress && (t + 1) % 1000 == 0) {
        const double elapsed = std::chrono::duration<double>(Clock::now() - t0).count();
        std::cerr << "\r[collect " << opt.kind << "] " << ph.name << " " << t + 1 << "/" << ph.steps
                  << "  ETA " << eta(done - resumed_at, total_steps - resumed_at, elapsed) << "   "
                  << std::flush;
      }
    }
    steps_before += ph.steps;
  }
  if (opt.progress) std::cerr << "\n";
  CollectResult result;
  result.transitions = static_cast<int64_t>(buffer.size());
  result.episodes = complete_episodes;
  result.behavioural_return =
      complete_episodes > 0 ? return_sum / complete_episodes : std::numeric_limits<double>::quiet_NaN();
  nlohmann::json attrs = {{"env", opt.env},
                          {"kind", opt.kind},
                          {"steps", opt.steps},
                          {"seed", static_cast<int64_t>(opt.seed)},
                          {"behavioural_return", result.behavioural_return},
                          {"behavioural_episodes", complete_episodes},
                          {"git_commit", BCQ_GIT_COMMIT}};
  if (expert) attrs["expert_steps"] = expert_steps;
  if (reuse_expert) attrs["expert"] = fs::absolute(opt.expert_in).string();
  else attrs["exploration_noise"] = noise_std;
  save_buffer(opt.out_path, buffer, attrs);
  std::error_code ec;
  fs::remove_all(ckpt_dir, ec);  // the output is complete; a leftover folder would only confuse
  return result;
}

EvalResult evaluate_policy_file(const EvalOptions& opt) {
  if (opt.episodes <= 0) throw InputError("--episodes must be positive");
  configure_torch(opt.threads);
  auto env = envs::make_env(opt.env);
  torch::jit::Module policy;
  try {
    policy = torch::jit::load(opt.policy_path);
  } catch (const c10::Error& e) {
    throw InputError(opt.policy_path + ": not a TorchScript policy (" + e.what_without_backtrace() + ")");
  }
  torch::manual_seed(opt.seed);
  torch::NoGradGuard no_grad;
  EvalResult result;
  for (int e = 0; e < opt.episodes; ++e) {
    auto obs = env->reset(opt.seed + static_cast<uint64_t>(e));
    double total = 0;
    int length = 0;
    envs::StepResult step;
    for (;;) {
      torch::Tensor a;
      try {
        a = policy.forward({obs_tensor(obs).reshape({-1})}).toTensor();
      } catch (const std::exception& err) {
        // The interpreter's message spans lines; keep its last line (the cause).
        std::string why = err.what();
        while (!why.empty() && why.back() == '\n') why.pop_back();
        why = why.substr(why.find_last_of('\n') + 1);
        throw InputError(opt.policy_path + ": policy failed on a " + std::to_string(obs.size()) +
                         "-dimensional observation of " + opt.env + " (" + why + ")");
      }
      auto action = to_action(a);
      if (action.size() != env->action_size()) {
        throw InputError(opt.policy_path + ": policy returns " + std::to_string(action.size()) +
                         " action values but " + opt.env + " needs " + std::to_string(env->action_size()));
      }
      env->step(action.data(), step);
      total += step.reward;
      ++length;
      obs = step.observation;
      if (step.terminated || step.truncated) break;
    }
    result.returns.push_back(total);
    result.lengths.push_back(length);
  }
  for (double r : result.returns) result.mean_return += r / opt.episodes;
  for (double r : result.returns) result.std_return += (r - result.mean_return) * (r - result.mean_return) / opt.episodes;
  result.std_return = std::sqrt(result.std_return);
  return result;
}

}  // namespace bcq::continuous
