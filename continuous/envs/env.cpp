// The MuJoCo environments behind bcq::envs::Env: one MujocoEnv class driven by a plain
// TaskSpec per environment (observation layout, reward weights, health rule, reset noise),
// after gym's v3 Hopper, Walker2d, HalfCheetah and v2 InvertedPendulum.
// Over 400 lines because it is one class: the simulator ownership, stepping, the task rules
// and the snapshot / restore of a mid-episode state all act on the same mjModel / mjData.
#include "continuous/envs/env.hpp"

#include <mujoco/mujoco.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <mutex>
#include <string>
#include <system_error>

#include "common/error.hpp"
#include "common/random.hpp"

#ifndef BCQ_BUILD_MODEL_DIR
#define BCQ_BUILD_MODEL_DIR ""
#endif

namespace bcq::envs {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

/// Which rule decides that an episode has terminated.
enum class HealthRule {
  kHopper,    // finite; |qpos[2:], qvel| < 100; z > 0.7; |angle| < 0.2 (gym Hopper-v3)
  kWalker2d,  // finite; 0.8 < z < 2.0; -1 < angle < 1 (gym Walker2d-v3)
  kNever,     // HalfCheetah never terminates
  kPendulum,  // finite; |pole angle| <= 0.2 rad (gym InvertedPendulum-v2)
};

/// Everything that distinguishes one environment from another (gym's v3 constructor defaults).
struct TaskSpec {
  const char* name;          // registry name
  const char* file;          // model file name under the model directory
  int frame_skip;            // physics steps per environment step
  int nq, nv, nu;            // sizes the model must have
  int obs_qpos_skip;         // leading qpos entries left out of the observation (torso x)
  double velocity_clip;      // qvel is clipped to [-clip, clip] in the observation
  double forward_weight;     // weight of the forward velocity term
  double alive_bonus;        // reward per step for staying alive
  double ctrl_cost_weight;   // weight of |a|^2
  double reset_qpos_noise;   // qpos += uniform[-n, n]
  double reset_qvel_noise;   // qvel += uniform[-n, n], or n * N(0, 1) when gaussian
  bool gaussian_qvel_noise;  // HalfCheetah draws velocity noise from a normal
  HealthRule health;
};

constexpr std::array<TaskSpec, 4> kTasks = {{
    {"hopper", "hopper.xml", 4, 6, 6, 3, 1, 10.0, 1.0, 1.0, 1e-3, 5e-3, 5e-3, false,
     HealthRule::kHopper},
    {"walker2d", "walker2d.xml", 4, 9, 9, 6, 1, 10.0, 1.0, 1.0, 1e-3, 5e-3, 5e-3, false,
     HealthRule::kWalker2d},
    {"halfcheetah", "halfcheetah.xml", 5, 9, 9, 6, 1, kInf, 1.0, 0.0, 0.1, 0.1, 0.1, true,
     HealthRule::kNever},
    {"inverted-pendulum", "inverted_pendulum.xml", 2, 2, 2, 1, 0, kInf, 0.0, 1.0, 0.0, 0.01,
     0.01, false, HealthRule::kPendulum},
}};

constexpr int kDefaultMaxEpisodeSteps = 1000;
constexpr std::size_t kMaxRecordedWarnings = 100;

const TaskSpec& find_task(const std::string& name) {
  for (const auto& task : kTasks) {
    if (name == task.name) return task;
  }
  std::string known;
  for (const auto& task : kTasks) known += (known.empty() ? "" : ", ") + std::string(task.name);
  throw InputError("unknown environment '" + name + "' (known: " + known + ")");
}

struct ModelDeleter {
  void operator()(mjModel* model) const { mj_deleteModel(model); }
};
struct DataDeleter {
  void operator()(mjData* data) const { mj_deleteData(data); }
};
using ModelPtr = std::unique_ptr<mjModel, ModelDeleter>;
using DataPtr = std::unique_ptr<mjData, DataDeleter>;

/// MuJoCo messages can span lines; our errors are one line.
std::string one_line(std::string text) {
  for (char& c : text) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  while (!text.empty() && text.back() == ' ') text.pop_back();
  return text;
}

// MuJoCo's default warning handler prints to stdout (corrupting `--json` output) and writes
// MUJOCO_LOG.TXT into the working directory. We send the text to stderr instead; the Env
// also records every warning from mjData's counters, so nothing is swallowed. A handler the
// application installed first is left alone.
void warning_to_stderr(const char* message) {
  std::fprintf(stderr, "bcq: MuJoCo warning: %s\n", message);
}
void install_warning_handler() {
  // Checked on every make_env (not once): a test fixture may have installed and removed its
  // own hook in between.
  static std::mutex mutex;
  const std::lock_guard<std::mutex> lock(mutex);
  if (mju_user_warning == nullptr) mju_user_warning = &warning_to_stderr;
}

class MujocoEnv final : public Env {
 public:
  MujocoEnv(const TaskSpec& task, const std::string& model_file) : task_(task), name_(task.name) {
    install_warning_handler();
    std::error_code ec;
    if (!std::filesystem::is_regular_file(model_file, ec)) {
      throw InputError("model file for environment '" + name_ + "' not found: " + model_file);
    }
    std::array<char, 1024> error{};
    {
      // The XML parser and compiler are not documented as thread-safe in MuJoCo 2.2.
      static std::mutex load_mutex;
      const std::lock_guard<std::mutex> lock(load_mutex);
      model_.reset(mj_loadXML(model_file.c_str(), nullptr, error.data(), error.size()));
    }
    if (!model_) {
      throw InputError("invalid model file " + model_file + ": " + one_line(error.data()));
    }
    if (error[0] != '\0') {
      warnings_.push_back("model " + model_file + ": " + one_line(error.data()));
    }
    const mjModel* m = model_.get();
    if (m->nq != task_.nq || m->nv != task_.nv || m->nu != task_.nu) {
      throw InputError("model file " + model_file + " does not fit environment '" + name_ +
                       "': expected nq=" + std::to_string(task_.nq) + " nv=" +
                       std::to_string(task_.nv) + " nu=" + std::to_string(task_.nu) +
                       ", found nq=" + std::to_string(m->nq) + " nv=" + std::to_string(m->nv) +
                       " nu=" + std::to_string(m->nu));
    }
    data_.reset(mj_makeData(m));
    if (!data_) throw std::runtime_error("MuJoCo could not allocate mjData for " + model_file);

    action_low_.resize(m->nu);
    action_high_.resize(m->nu);
    for (int i = 0; i < m->nu; ++i) {
      const bool limited = m->actuator_ctrllimited[i] != 0;
      action_low_[i] = limited ? m->actuator_ctrlrange[2 * i] : -kInf;
      action_high_[i] = limited ? m->actuator_ctrlrange[2 * i + 1] : kInf;
    }
    observation_size_ = static_cast<std::size_t>(m->nq - task_.obs_qpos_skip + m->nv);
    dt_ = m->opt.timestep * task_.frame_skip;
    total_mass_ = mj_getTotalmass(m);
    // A consistent state until the first reset (which step() requires).
    mj_forward(m, data_.get());
    record_new_warnings();
  }

  const std::string& name() const override { return name_; }
  std::size_t observation_size() const override { return observation_size_; }
  std::size_t action_size() const override { return action_low_.size(); }

  Bounds observation_bounds() const override {
    Bounds bounds;
    const std::size_t npos = static_cast<std::size_t>(model_->nq - task_.obs_qpos_skip);
    bounds.low.assign(observation_size_, -kInf);
    bounds.high.assign(observation_size_, kInf);
    for (std::size_t i = npos; i < observation_size_; ++i) {
      bounds.low[i] = -task_.velocity_clip;
      bounds.high[i] = task_.velocity_clip;
    }
    return bounds;
  }
  Bounds action_bounds() const override { return {action_low_, action_high_}; }

  int frame_skip() const override { return task_.frame_skip; }
  double dt() const override { return dt_; }
  int max_episode_steps() const override { return max_episode_steps_; }
  void set_max_episode_steps(int steps) override {
    if (steps < 1) {
      throw InputError("max episode steps must be >= 1, got " + std::to_string(steps));
    }
    max_episode_steps_ = steps;
  }

  std::vector<double> reset(std::uint64_t seed) override {
    rng_.reseed(seed);
    return reset();
  }

  std::vector<double> reset() override {
    const mjModel* m = model_.get();
    mjData* d = data_.get();
    mj_resetData(m, d);
    const double qpos_noise = task_.reset_qpos_noise;
    const double qvel_noise = task_.reset_qvel_noise;
    for (int i = 0; i < m->nq; ++i) d->qpos[i] = m->qpos0[i] + rng_.uniform(-qpos_noise, qpos_noise);
    for (int i = 0; i < m->nv; ++i) {
      d->qvel[i] = task_.gaussian_qvel_noise ? qvel_noise * rng_.normal()
                                             : rng_.uniform(-qvel_noise, qvel_noise);
    }
    mj_forward(m, d);
    check_warnings();
    elapsed_ = 0;
    started_ = true;
    live_ = true;
    initial_observation_.resize(observation_size_);
    write_observation(initial_observation_.data());
    return initial_observation_;
  }

  StepResult step(const std::vector<double>& action) override {
    if (action.size() != action_size()) {
      throw InputError("environment '" + name_ + "' expects an action of size " +
                       std::to_string(action_size()) + ", got " + std::to_string(action.size()));
    }
    StepResult result;
    step(action.data(), result);
    return result;
  }

  void step(const double* action, StepResult& out) override {
    if (!started_) throw std::logic_error("Env::step on '" + name_ + "' before reset()");
    if (!live_) {
      throw std::logic_error("Env::step on '" + name_ +
                             "' after the episode ended (terminated or truncated); call reset()");
    }
    const mjModel* m = model_.get();
    mjData* d = data_.get();
    // Clip to the control range; the control cost is charged on the applied action.
    double action_sq = 0.0;
    for (int i = 0; i < m->nu; ++i) {
      if (!std::isfinite(action[i])) {
        throw InputError("environment '" + name_ + "': action[" + std::to_string(i) +
                         "] is not finite");
      }
      const double a = std::clamp(action[i], action_low_[i], action_high_[i]);
      d->ctrl[i] = a;
      action_sq += a * a;
    }
    const double x_before = d->qpos[0];
    for (int k = 0; k < task_.frame_skip; ++k) mj_step(m, d);
    check_warnings();
    const double x_after = d->qpos[0];

    out.terms.forward = task_.forward_weight * (x_after - x_before) / dt_;
    out.terms.alive = task_.alive_bonus;
    out.terms.control_cost = task_.ctrl_cost_weight * action_sq;
    out.reward = out.terms.forward + out.terms.alive - out.terms.control_cost;
    out.observation.resize(observation_size_);
    write_observation(out.observation.data());
    ++elapsed_;
    out.terminated = !is_healthy();
    out.truncated = !out.terminated && elapsed_ >= max_episode_steps_;
    live_ = !(out.terminated || out.truncated);
  }

  const std::vector<double>& initial_observation() const override { return initial_observation_; }
  std::vector<double> observation() const override {
    std::vector<double> obs(observation_size_);
    write_observation(obs.data());
    return obs;
  }
  int elapsed_steps() const override { return elapsed_; }

  std::size_t qpos_size() const override { return static_cast<std::size_t>(model_->nq); }
  std::size_t qvel_size() const override { return static_cast<std::size_t>(model_->nv); }
  std::vector<double> qpos() const override {
    return std::vector<double>(data_->qpos, data_->qpos + model_->nq);
  }
  std::vector<double> qvel() const override {
    return std::vector<double>(data_->qvel, data_->qvel + model_->nv);
  }

  void set_state(const std::vector<double>& qpos, const std::vector<double>& qvel) override {
    if (qpos.size() != qpos_size() || qvel.size() != qvel_size()) {
      throw InputError("environment '" + name_ + "': set_state expects qpos of size " +
                       std::to_string(qpos_size()) + " and qvel of size " +
                       std::to_string(qvel_size()) + ", got " + std::to_string(qpos.size()) +
                       " and " + std::to_string(qvel.size()));
    }
    std::copy(qpos.begin(), qpos.end(), data_->qpos);
    std::copy(qvel.begin(), qvel.end(), data_->qvel);
    mj_forward(model_.get(), data_.get());
    check_warnings();
    started_ = true;
    live_ = true;
  }

  EnvSnapshot snapshot() const override {
    const mjModel* m = model_.get();
    const mjData* d = data_.get();
    EnvSnapshot snap;
    snap.env = name_;
    auto& p = snap.physics;
    p.reserve(physics_size());
    p.push_back(d->time);
    p.insert(p.end(), d->qpos, d->qpos + m->nq);
    p.insert(p.end(), d->qvel, d->qvel + m->nv);
    p.insert(p.end(), d->act, d->act + m->na);
    p.insert(p.end(), d->ctrl, d->ctrl + m->nu);
    p.insert(p.end(), d->qacc_warmstart, d->qacc_warmstart + m->nv);
    const auto words = rng_.state();
    snap.noise_stream.assign(words.begin(), words.end());
    snap.initial_observation = initial_observation_;
    snap.elapsed_steps = elapsed_;
    snap.max_episode_steps = max_episode_steps_;
    snap.started = started_;
    snap.live = live_;
    return snap;
  }

  void restore(const EnvSnapshot& snap) override {
    const mjModel* m = model_.get();
    mjData* d = data_.get();
    const std::string where = "environment '" + name_ + "': snapshot";
    if (snap.env != name_) throw InputError(where + " was taken from '" + snap.env + "'");
    if (snap.physics.size() != physics_size() || snap.noise_stream.size() != 6 ||
        (snap.started && snap.initial_observation.size() != observation_size_) ||
        snap.max_episode_steps < 1 || snap.elapsed_steps < 0) {
      throw InputError(where + " does not fit (physics " + std::to_string(snap.physics.size()) +
                       " values, expected " + std::to_string(physics_size()) + ")");
    }
    mj_resetData(m, d);
    const double* p = snap.physics.data();
    d->time = *p++;
    auto take = [&p](mjtNum* into, int n) {
      std::copy(p, p + n, into);
      p += n;
    };
    take(d->qpos, m->nq);
    take(d->qvel, m->nv);
    take(d->act, m->na);
    take(d->ctrl, m->nu);
    mj_forward(m, d);
    // After mj_forward: the warm start is an input of the next step's constraint solver.
    take(d->qacc_warmstart, m->nv);
    std::array<std::uint64_t, 6> words{};
    std::copy(snap.noise_stream.begin(), snap.noise_stream.end(), words.begin());
    rng_.set_state(words);
    initial_observation_ = snap.initial_observation;
    elapsed_ = snap.elapsed_steps;
    max_episode_steps_ = snap.max_episode_steps;
    started_ = snap.started;
    live_ = snap.live;
  }

  bool is_healthy() const override {
    const mjtNum* qpos = data_->qpos;
    const mjtNum* qvel = data_->qvel;
    const int nq = model_->nq;
    const int nv = model_->nv;
    auto all_finite = [&] {
      for (int i = 0; i < nq; ++i) {
        if (!std::isfinite(qpos[i])) return false;
      }
      for (int i = 0; i < nv; ++i) {
        if (!std::isfinite(qvel[i])) return false;
      }
      return true;
    };
    switch (task_.health) {
      case HealthRule::kHopper: {
        // gym Hopper-v3: state_vector()[2:] (qpos[2:] and unclipped qvel) in (-100, 100).
        for (int i = 2; i < nq; ++i) {
          if (!(qpos[i] > -100.0 && qpos[i] < 100.0)) return false;
        }
        for (int i = 0; i < nv; ++i) {
          if (!(qvel[i] > -100.0 && qvel[i] < 100.0)) return false;
        }
        const double z = qpos[1];
        const double angle = qpos[2];
        return all_finite() && z > 0.7 && angle > -0.2 && angle < 0.2;
      }
      case HealthRule::kWalker2d: {
        const double z = qpos[1];
        const double angle = qpos[2];
        return all_finite() && z > 0.8 && z < 2.0 && angle > -1.0 && angle < 1.0;
      }
      case HealthRule::kNever:
        return true;
      case HealthRule::kPendulum:
        return all_finite() && std::abs(qpos[1]) <= 0.2;
    }
    return true;
  }

  const std::vector<std::string>& warnings() const override { return warnings_; }
  void set_strict_warnings(bool strict) override { strict_warnings_ = strict; }
  double total_mass() const override { return total_mass_; }

 private:
  // Observation: qpos without its first obs_qpos_skip entries, then qvel clipped.
  void write_observation(double* obs) const {
    const int nq = model_->nq;
    const int nv = model_->nv;
    const double clip = task_.velocity_clip;
    double* out = obs;
    for (int i = task_.obs_qpos_skip; i < nq; ++i) *out++ = data_->qpos[i];
    for (int i = 0; i < nv; ++i) *out++ = std::clamp(data_->qvel[i], -clip, clip);
  }

  /// Records the warnings MuJoCo counted since the last check and clears mjData's counters
  /// (consuming them: MuJoCo's own resets inside mj_step, e.g. after a bad QACC, would
  /// otherwise hide a repeat). Returns how many kinds were raised.
  int record_new_warnings() {
    int raised = 0;
    for (int i = 0; i < mjNWARNING; ++i) {
      const int count = data_->warning[i].number;
      if (count == 0) continue;
      ++raised;
      if (warnings_.size() < kMaxRecordedWarnings) {
        warnings_.push_back(std::string(mju_warningText(i, data_->warning[i].lastinfo)) +
                            " (environment '" + name_ + "', step " + std::to_string(elapsed_) +
                            ", " + std::to_string(count) + " time(s))");
      }
      data_->warning[i].number = 0;
    }
    return raised;
  }

  std::size_t physics_size() const {
    const mjModel* m = model_.get();
    return static_cast<std::size_t>(1 + m->nq + 2 * m->nv + m->na + m->nu);
  }

  void check_warnings() {
    // Cheap in the common case: eight integer compares per step.
    if (record_new_warnings() > 0 && strict_warnings_) throw SimulationWarning(warnings_.back());
  }

  const TaskSpec& task_;
  std::string name_;
  ModelPtr model_;
  DataPtr data_;
  Rng rng_{0};
  std::vector<double> action_low_;
  std::vector<double> action_high_;
  std::vector<double> initial_observation_;
  std::vector<std::string> warnings_;
  std::size_t observation_size_ = 0;
  double dt_ = 0.0;
  double total_mass_ = 0.0;
  int max_episode_steps_ = kDefaultMaxEpisodeSteps;
  int elapsed_ = 0;
  bool started_ = false;
  bool live_ = false;
  bool strict_warnings_ = false;
};

/// Directory of the running program (Linux: /proc/self/exe), or empty.
std::filesystem::path executable_dir() {
  std::error_code ec;
  const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return {};
  return exe.parent_path();
}

}  // namespace

std::vector<std::string> env_names() {
  std::vector<std::string> names;
  for (const auto& task : kTasks) names.emplace_back(task.name);
  return names;
}

std::vector<std::string> model_search_dirs() {
  std::vector<std::string> dirs;
  if (const char* env_dir = std::getenv("BCQ_MODEL_DIR"); env_dir != nullptr && *env_dir != '\0') {
    dirs.emplace_back(env_dir);
  }
  if (*BCQ_BUILD_MODEL_DIR != '\0') dirs.emplace_back(BCQ_BUILD_MODEL_DIR);
  if (const auto exe_dir = executable_dir(); !exe_dir.empty()) {
    dirs.push_back((exe_dir.parent_path() / "share" / "bcq" / "models").string());
  }
  return dirs;
}

std::string model_path(const std::string& name) {
  const TaskSpec& task = find_task(name);
  const auto dirs = model_search_dirs();
  std::string tried;
  for (const auto& dir : dirs) {
    const auto candidate = std::filesystem::path(dir) / task.file;
    std::error_code ec;
    if (std::filesystem::is_regular_file(candidate, ec)) return candidate.string();
    tried += (tried.empty() ? "" : ", ") + candidate.string();
  }
  throw InputError("model file " + std::string(task.file) + " for environment '" + name +
                   "' not found; looked in: " + (tried.empty() ? "(no directories)" : tried) +
                   " (set BCQ_MODEL_DIR to the directory holding the models)");
}

std::unique_ptr<Env> make_env(const std::string& name) {
  const TaskSpec& task = find_task(name);
  return std::make_unique<MujocoEnv>(task, model_path(name));
}

std::unique_ptr<Env> make_env_from_file(const std::string& name, const std::string& model_file) {
  return std::make_unique<MujocoEnv>(find_task(name), model_file);
}

}  // namespace bcq::envs
