// `bcq collect`: the paper's batches, collected by a behavioural DDPG agent in phases (train
// with exploration noise; or train an expert, then act with it), checkpointed so that a
// killed collection resumes to the same file.
#include "continuous/training.hpp"

#include <torch/torch.h>

#include <cmath>
#include <filesystem>
#include <limits>
#include <string>

#include <nlohmann/json.hpp>

#include "common/build_info.hpp"
#include "common/error.hpp"
#include "common/input_file.hpp"
#include "common/interrupt.hpp"
#include "continuous/baselines.hpp"
#include "continuous/checkpoint_io.hpp"
#include "continuous/envs/env.hpp"
#include "continuous/replay_buffer.hpp"
#include "continuous/run_support.hpp"
#include "continuous/sampling.hpp"

namespace bcq::continuous {

namespace fs = std::filesystem;

CollectResult collect(const CollectOptions& opt) {
  if (opt.steps <= 0) throw InputError("--steps must be positive");
  if (opt.expert_steps < 0) throw InputError("--expert-steps must not be negative");
  if (opt.start_steps < 0) throw InputError("--start-steps must not be negative");
  if (opt.checkpoint_every <= 0) throw InputError("--checkpoint-every must be positive");
  if (opt.out_path.empty()) throw InputError("-o is required");
  const BehaviourConfig& noise = opt.behaviour;
  double noise_std = 0;
  bool expert = false;
  if (opt.kind == "final") {
    noise_std = noise.final_noise;
  } else if (opt.kind == "concurrent") {
    noise_std = noise.concurrent_noise;
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
  // The outputs, before any work: not an input, not a directory or device, in a folder that exists.
  check_output_path("-o", opt.out_path, {{"--expert-in", opt.expert_in}});
  check_output_path("--expert-out", opt.expert_out, {{"-o", opt.out_path}});
  if (!opt.expert_out.empty() && fs::absolute(opt.expert_out) == fs::absolute(opt.out_path)) {
    throw InputError("--expert-out " + opt.expert_out + " is the same file as -o");
  }
  check_output_folder("-o", opt.out_path);
  if (!opt.expert_out.empty()) check_output_folder("--expert-out", opt.expert_out);
  const bool reuse_expert = !opt.expert_in.empty();
  const int64_t expert_steps = reuse_expert ? 0 : opt.expert_steps > 0 ? opt.expert_steps : opt.steps;
  const int threads = configure_torch(opt.threads);
  const torch::Device device = torch::kCPU;
  auto env = envs::make_env(opt.env);
  const ProblemShape shape = problem_shape(*env);
  const BufferExpectations expect{shape.state_dim, shape.action_dim, shape.max_action, opt.env};
  DdpgAgent agent(shape, opt.seed, device, opt.agent);
  std::mt19937_64 rng(opt.seed);
  at::Generator unused = make_generator(opt.seed, device);

  // The run as phases, each with its behaviour (uniform for the first start_steps of a phase
  // that trains the agent).
  ReplayBuffer buffer(shape.state_dim, shape.action_dim);
  ReplayBuffer training(shape.state_dim, shape.action_dim);
  struct Phase {
    const char* name;
    int64_t steps;
    BehaviourMode mode;
    double sd;
    bool learn;          // train the agent (after start_steps uniform steps)
    bool keep;           // the transitions go into the output buffer and count for its return
    ReplayBuffer* into;
  };
  std::vector<Phase> phases;
  if (!expert) {
    phases.push_back({"behavioural", opt.steps, BehaviourMode::kNoisyActor, noise_std, true, true,
                      &buffer});
  } else {
    if (!reuse_expert) phases.push_back({"expert training", expert_steps, BehaviourMode::kNoisyActor,
                                         noise.expert_training_noise, true, false, &training});
    if (opt.kind == "imitation") phases.push_back({"imitation", opt.steps, BehaviourMode::kNoisyActor, 0.0, false, true,
                                        &buffer});
    else phases.push_back({"imperfect", opt.steps, BehaviourMode::kImperfectExpert, noise.imperfect_noise,
                          false, true, &buffer});
  }

  // Interrupted runs continue from <out>.checkpoint/ (state.pt, then the buffers as HDF5).
  const std::string ckpt_dir = opt.out_path + ".checkpoint";
  const std::string state_path = ckpt_dir + "/state.pt";
  nlohmann::json identity = {{"env", opt.env}, {"kind", opt.kind}, {"steps", opt.steps},
                             {"expert_steps", expert ? expert_steps : 0},
                             {"start_steps", opt.start_steps},
                             {"seed", static_cast<int64_t>(opt.seed)},
                             {"threads", threads}};  // LibTorch's sums depend on it
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
        if (key == "threads" && !saved.is_discarded() && !saved.contains(key)) continue;  // older checkpoints
        if (saved.is_discarded() || saved.value(key, nlohmann::json()) != value) {
          const std::string before = saved.is_discarded() ? "?" : saved.value(key, nlohmann::json()).dump();
          const std::string hint = key == "threads" ? all_cores_hint(opt.threads, value.dump(), before) : std::string();
          throw InputError("--resume with a different --" + key + " (the interrupted run has " + before + hint + ")");
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
    // Without state.pt the folder holds nothing to resume from: if this first checkpoint cannot
    // be written (a full disk), the folder goes, so the failed run leaves nothing behind. Later
    // ones keep the last good checkpoint (its buffers are rewritten first, and only grow).
    const bool first = !fs::exists(state_path, ec);
    fs::create_directories(ckpt_dir, ec);
    if (ec) throw InputError("cannot create " + ckpt_dir + ": " + ec.message());
    struct RemoveIfFirst {
      const std::string& dir;
      bool armed;
      ~RemoveIfFirst() {
        std::error_code remove_ec;
        if (armed) fs::remove_all(dir, remove_ec);
      }
    } cleanup{ckpt_dir, first};
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
    cleanup.armed = false;
  };

  int64_t total_steps = 0, steps_before = 0;  // steps_before: of the phases before this one
  for (std::size_t p = 0; p < phases.size(); ++p) {
    total_steps += phases[p].steps;
    if (p < phase) steps_before += phases[p].steps;
  }
  const int64_t resumed_at = steps_before + t;
  const auto t0 = Clock::now();
  ProgressLine progress(opt.progress);
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
      const BehaviourMode mode =
          (ph.learn && t < opt.start_steps) ? BehaviourMode::kUniform : ph.mode;
      auto action = behavioural_action(agent, obs, mode, ph.sd, noise.imperfect_random_probability,
                                       shape, rng, unused);
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
        const Losses losses = agent.train_step(sample_batch(*ph.into, rng, agent.batch_size(), device));
        for (const auto& [name, value] : losses) {
          if (!std::isfinite(value)) {
            throw InputError("the behavioural DDPG agent diverged at step " + std::to_string(t + 1) +
                             " of " + ph.name + ": " + name + " = " + std::to_string(value));
          }
        }
      }
      const int64_t done = steps_before + t + 1;
      interrupt_after_step_for_tests(done);
      const int sig = interrupt_signal();
      if (((t + 1) % opt.checkpoint_every == 0 || sig != 0) && done < total_steps) {
        write_checkpoint(t + 1);  // resumes after this step; on a signal nothing done is lost
        if (sig != 0) {
          progress.finish();
          throw Interrupted(sig, "collect interrupted by " + signal_name(sig) + " after step " +
                                     std::to_string(done) + " of " + std::to_string(total_steps) + "; " +
                                     ckpt_dir + " holds it: rerun the same command with --resume to continue");
        }
      }
      if (progress.on() && (t + 1) % 1000 == 0) {
        const double elapsed = std::chrono::duration<double>(Clock::now() - t0).count();
        progress.show("[collect " + opt.kind + "] " + ph.name + " " + std::to_string(t + 1) + "/" +
                      std::to_string(ph.steps) + "  ETA " +
                      eta(done - resumed_at, total_steps - resumed_at, elapsed));
      }
    }
    steps_before += ph.steps;
  }
  progress.finish();
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
                          {"git_commit", bcq::git_commit()}};
  if (expert) attrs["expert_steps"] = expert_steps;
  else attrs["exploration_noise"] = noise_std;
  if (reuse_expert) attrs["expert"] = fs::absolute(opt.expert_in).string();
  save_buffer(opt.out_path, buffer, attrs);
  std::error_code ec;
  fs::remove_all(ckpt_dir, ec);  // the output is complete; a leftover folder would only confuse
  return result;
}

}  // namespace bcq::continuous
