#include "continuous/training.hpp"

#include <torch/script.h>
#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "common/atomic_file.hpp"
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

struct EvalRow {
  int64_t iteration = 0;
  double mean_return = 0, std_return = 0, q_estimate = 0, true_discounted = 0, wall = 0;
};

constexpr const char* kEvalHeader =
    "iteration,mean_return,std_return,q_estimate,true_discounted_return,wall_seconds";

std::string eval_csv(const std::vector<EvalRow>& rows) {
  std::ostringstream out;
  out << kEvalHeader << "\n";
  out.precision(9);
  for (const auto& r : rows) {
    out << r.iteration << "," << r.mean_return << "," << r.std_return << "," << r.q_estimate
        << "," << r.true_discounted << "," << r.wall << "\n";
  }
  return out.str();
}

std::vector<EvalRow> read_eval_csv(const std::string& path) {
  std::vector<EvalRow> rows;
  std::ifstream in(path);
  std::string line;
  if (!std::getline(in, line)) return rows;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    EvalRow r;
    char c;
    std::istringstream ls(line);
    std::string field;
    std::vector<double> v;
    while (std::getline(ls, field, ',')) v.push_back(std::strtod(field.c_str(), nullptr));
    (void)c;
    if (v.size() != 6) throw InputError(path + ": malformed row '" + line + "'");
    r.iteration = static_cast<int64_t>(v[0]);
    r.mean_return = v[1];
    r.std_return = v[2];
    r.q_estimate = v[3];
    r.true_discounted = v[4];
    r.wall = v[5];
    rows.push_back(r);
  }
  return rows;
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

std::string rng_state(const std::mt19937_64& rng) {
  std::ostringstream out;
  out << rng;
  return out.str();
}

void save_checkpoint(const std::string& dir, const Agent& agent, int64_t iteration,
                     const std::mt19937_64& sampler, const ReplayBuffer* growing) {
  torch::serialize::OutputArchive archive;
  agent.save(archive);
  archive.write("iteration", torch::tensor(iteration, torch::kInt64));
  const std::string s = rng_state(sampler);
  archive.write("sampler", torch::from_blob(const_cast<char*>(s.data()),
                                            {static_cast<int64_t>(s.size())}, torch::kUInt8)
                               .clone());
  if (growing != nullptr) archive.write("buffer_size", torch::tensor(static_cast<int64_t>(growing->size())));
  const std::string path = dir + "/checkpoint.pt";
  const std::string tmp = path + ".tmp";
  archive.save_to(tmp);
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    throw InputError("cannot write " + path + " (rename)");
  }
}

int64_t load_checkpoint(const std::string& dir, Agent& agent, std::mt19937_64& sampler) {
  const std::string path = dir + "/checkpoint.pt";
  if (!fs::exists(path)) throw InputError(path + ": no checkpoint to resume from");
  torch::serialize::InputArchive archive;
  try {
    archive.load_from(path);
    agent.load(archive);
    torch::Tensor it, s;
    archive.read("iteration", it);
    archive.read("sampler", s);
    std::string state(reinterpret_cast<const char*>(s.data_ptr<uint8_t>()), s.numel());
    std::istringstream in(state);
    in >> sampler;
    return it.item<int64_t>();
  } catch (const c10::Error& e) {
    throw InputError(path + ": unreadable checkpoint (" + e.what_without_backtrace() + ")");
  }
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

  ReplayBuffer buffer(shape.state_dim, shape.action_dim);
  nlohmann::json buffer_attrs = nlohmann::json::object();
  if (!opt.concurrent) {
    if (opt.buffer_path.empty()) throw InputError("--buffer is required (or --concurrent)");
    buffer = load_buffer(opt.buffer_path,
                         {shape.state_dim, shape.action_dim, shape.max_action, opt.env},
                         &buffer_attrs);
  }
  auto agent = make_agent(opt.algo, shape, opt.seed, device);

  std::error_code ec;
  fs::create_directories(opt.out_dir, ec);
  if (ec) throw InputError("cannot create run folder " + opt.out_dir + ": " + ec.message());
  const std::string ckpt = opt.out_dir + "/checkpoint.pt";
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
      {"git_commit", BCQ_GIT_COMMIT},
      {"hyperparameters", agent->config()}};
  if (opt.concurrent) {
    config["behavioural"] = {{"algo", "ddpg"}, {"exploration_noise", 0.1},
                             {"start_steps", opt.start_steps}};
  }

  std::mt19937_64 sampler(opt.seed);
  int64_t start = 0;
  std::vector<EvalRow> rows;
  if (opt.resume) {
    std::ifstream in(opt.out_dir + "/config.json");
    nlohmann::json old = nlohmann::json::parse(in, nullptr, false);
    if (old.is_discarded()) throw InputError(opt.out_dir + "/config.json: missing or unreadable");
    for (const char* key : {"algo", "env", "seed", "eval_every", "eval_episodes", "concurrent"}) {
      if (old.value(key, nlohmann::json()) != config[key]) {
        throw InputError(opt.out_dir + "/config.json: --resume with a different " +
                         std::string(key) + " (run has " + old.value(key, nlohmann::json()).dump() + ")");
      }
    }
    if (opt.concurrent) throw InputError("--resume is not supported for --concurrent runs");
    start = load_checkpoint(opt.out_dir, *agent, sampler);
    rows = read_eval_csv(opt.out_dir + "/eval.csv");
    while (!rows.empty() && rows.back().iteration > start) rows.pop_back();
    write_file_atomic(opt.out_dir + "/eval.csv", eval_csv(rows));
  } else if (fs::exists(ckpt)) {
    throw InputError(opt.out_dir + " already holds a run (checkpoint.pt); use --resume or another --out");
  }
  write_file_atomic(opt.out_dir + "/config.json", config.dump(2) + "\n");
  write_status(opt.out_dir, {{"status", "running"}, {"iteration", start}});

  // Concurrent setting: the behavioural agent and its environment.
  std::unique_ptr<DdpgAgent> behavioural;
  std::mt19937_64 behaviour_rng(opt.seed + 1);
  std::vector<double> obs;
  if (opt.concurrent) {
    behavioural = std::make_unique<DdpgAgent>(shape, opt.seed + 1, device);
    buffer.reserve(static_cast<std::size_t>(opt.iterations));
    obs = env->reset(opt.seed);
  }
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

  TrainResult result;
  result.checkpoint_iteration = start;
  result.final_mean_return = rows.empty() ? std::numeric_limits<double>::quiet_NaN() : rows.back().mean_return;
  const double discount = 0.99;
  const auto t0 = Clock::now();
  const double wall_before = rows.empty() ? 0.0 : rows.back().wall;
  const bool progress = opt.progress;
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
      row.wall = wall_before + std::chrono::duration<double>(Clock::now() - t0).count();
      rows.push_back(row);
      write_file_atomic(opt.out_dir + "/eval.csv", eval_csv(rows));
      if (!opt.concurrent) save_checkpoint(opt.out_dir, *agent, it + 1, sampler, nullptr);
      result.checkpoint_iteration = it + 1;
      result.final_mean_return = row.mean_return;
      if (progress) {
        std::cerr << "\r[" << opt.algo << "] iteration " << it + 1 << "/" << opt.iterations
                  << "  return " << row.mean_return << "  Q(s0) " << row.q_estimate
                  << "  true " << row.true_discounted << "          " << std::flush;
      }
    } else if (progress && (it + 1) % 100 == 0) {
      std::cerr << "\r[" << opt.algo << "] iteration " << it + 1 << "/" << opt.iterations << std::flush;
    }
  }
  if (progress) std::cerr << "\n";
  agent->export_policy(opt.out_dir + "/policy.pt");
  if (opt.concurrent) {
    nlohmann::json attrs = {{"env", opt.env}, {"kind", "concurrent"}, {"steps", static_cast<int64_t>(buffer.size())},
                            {"seed", static_cast<int64_t>(opt.seed)}};
    save_buffer(opt.out_dir + "/buffer.h5", buffer, attrs);
  }
  result.iteration = opt.iterations;
  write_status(opt.out_dir, {{"status", "completed"}, {"iteration", opt.iterations}});
  return result;
}

CollectResult collect(const CollectOptions& opt) {
  if (opt.steps <= 0) throw InputError("--steps must be positive");
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
  configure_torch(opt.threads);
  const torch::Device device = torch::kCPU;
  auto env = envs::make_env(opt.env);
  const ProblemShape shape = problem_shape(*env);
  DdpgAgent agent(shape, opt.seed, device);
  std::mt19937_64 rng(opt.seed);
  at::Generator unused = make_generator(opt.seed, device);

  ReplayBuffer buffer(shape.state_dim, shape.action_dim);
  CollectResult result;
  double episode_return = 0, return_sum = 0;
  int64_t complete_episodes = 0;
  auto obs = env->reset(opt.seed);

  // One environment step; `mode` 0: uniform random, 1: actor + Gaussian noise (std `sd`),
  // 2: imperfect expert (p = 0.3 uniform, else noise 0.3). Returns the transition's parts.
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
  ReplayBuffer training(shape.state_dim, shape.action_dim);
  auto run = [&](ReplayBuffer& into, int64_t steps, int mode_after_start, double sd, bool learn,
                 bool count_returns, const char* phase) {
    episode_return = 0;
    for (int64_t t = 0; t < steps; ++t) {
      const int mode = (learn && t < opt.start_steps) ? 0 : mode_after_start;
      auto action = act(mode, sd);
      envs::StepResult step;
      env->step(action.data(), step);
      auto s = to_floats(obs), a = to_floats(action), s2 = to_floats(step.observation);
      into.add(s.data(), a.data(), static_cast<float>(step.reward), s2.data(), step.terminated,
               step.truncated);
      episode_return += step.reward;
      if (step.terminated || step.truncated) {
        if (count_returns) {
          return_sum += episode_return;
          ++complete_episodes;
        }
        episode_return = 0;
        obs = env->reset();
      } else {
        obs = step.observation;
      }
      if (learn && t >= opt.start_steps) agent.train_step(sample_batch(into, rng, 100, device));
      if (opt.progress && (t + 1) % 1000 == 0) {
        std::cerr << "\r[collect " << opt.kind << "] " << phase << " " << t + 1 << "/" << steps << std::flush;
      }
    }
  };
  if (!expert) {
    buffer.reserve(opt.steps);
    run(buffer, opt.steps, 1, noise_std, true, true, "behavioural");
  } else {
    const int64_t expert_steps = opt.expert_steps > 0 ? opt.expert_steps : opt.steps;
    training.reserve(expert_steps);
    run(training, expert_steps, 1, 0.1, true, false, "expert training");
    training = ReplayBuffer();
    obs = env->reset();
    buffer.reserve(opt.steps);
    if (opt.kind == "imitation") {
      run(buffer, opt.steps, 1, 0.0, false, true, "imitation");
    } else {
      run(buffer, opt.steps, 2, 0.3, false, true, "imperfect");
    }
  }
  if (opt.progress) std::cerr << "\n";
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
  if (expert) attrs["expert_steps"] = opt.expert_steps > 0 ? opt.expert_steps : opt.steps;
  else attrs["exploration_noise"] = noise_std;
  save_buffer(opt.out_path, buffer, attrs);
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
