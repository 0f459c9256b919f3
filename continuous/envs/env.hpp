// The MuJoCo locomotion environments of the paper's continuous experiments (Hopper,
// Walker2d, HalfCheetah) plus InvertedPendulum for fast tests and smoke runs.
//
// Semantics follow gym's v3 definitions so that returns are comparable with published
// numbers: observation layout, reward terms, termination rules, reset noise, and a
// 1,000-step time limit reported as `truncated`, apart from `terminated`.
//
// Numbers: observations, actions and rewards are `double` in `std::vector<double>`.
// Callers that want float32 (LibTorch, HDF5) convert at their own edge.
//
// Thread safety: one Env per thread. Each Env owns its own mjModel and mjData.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace bcq::envs {

/// The reward of one step split into its terms. reward = forward + alive - control_cost
/// (exactly; tests check it).
struct RewardTerms {
  double forward = 0.0;       ///< forward velocity: torso x displacement over the step / dt
  double alive = 0.0;         ///< healthy bonus (1 for Hopper, Walker2d, InvertedPendulum; 0 for HalfCheetah)
  double control_cost = 0.0;  ///< weight * |a|^2 on the clipped action (1e-3 Hopper/Walker2d, 0.1 HalfCheetah)
};

/// The outcome of one environment step.
struct StepResult {
  std::vector<double> observation;  ///< observation after the step (size observation_size())
  double reward = 0.0;              ///< forward + alive - control_cost
  RewardTerms terms;                ///< the terms of `reward`
  /// The next state is terminal (the agent fell / left the healthy range): do not bootstrap.
  bool terminated = false;
  /// The episode hit the time limit (max_episode_steps) without terminating: the next state
  /// is NOT terminal for bootstrapping. Never true together with `terminated`.
  bool truncated = false;
};

/// Lower and upper bounds per dimension (same size).
struct Bounds {
  std::vector<double> low;
  std::vector<double> high;
};

/// Everything a fresh Env of the same kind needs to continue where another one stands,
/// bit for bit: the simulator state (time, qpos, qvel, act, ctrl and the constraint solver's
/// warm start), the episode counters and the reset-noise stream. Long runs (`bcq collect`,
/// `bcq train --concurrent`) checkpoint it to resume mid-episode.
struct EnvSnapshot {
  std::string env;                          ///< name() of the Env it was taken from
  std::vector<double> physics;              ///< time, qpos, qvel, act, ctrl, qacc_warmstart
  std::vector<std::uint64_t> noise_stream;  ///< reset-noise generator state (6 words)
  std::vector<double> initial_observation;  ///< what the episode's reset returned
  int elapsed_steps = 0;
  int max_episode_steps = 0;
  bool started = false;                     ///< reset() was called
  bool live = false;                        ///< the episode has not ended
};

/// Thrown (only in strict mode, see set_strict_warnings) when MuJoCo raises a warning
/// during a step, e.g. an unstable simulation. Not an InputError: the input was valid.
class SimulationWarning : public std::runtime_error {
 public:
  explicit SimulationWarning(const std::string& message) : std::runtime_error(message) {}
};

/// A simulated environment. Create one with make_env(name).
class Env {
 public:
  virtual ~Env() = default;

  /// Registry name ("hopper", "walker2d", "halfcheetah", "inverted-pendulum").
  virtual const std::string& name() const = 0;

  /// Observation dimension (11 Hopper, 17 Walker2d, 17 HalfCheetah, 4 InvertedPendulum).
  virtual std::size_t observation_size() const = 0;
  /// Action dimension (3, 6, 6, 1).
  virtual std::size_t action_size() const = 0;
  /// Observation bounds. The observation is qpos without the torso x (all of qpos for
  /// InvertedPendulum) followed by qvel; Hopper and Walker2d clip the qvel part to [-10, 10]
  /// (bounds +-10 there), everything else is unbounded (+-inf).
  virtual Bounds observation_bounds() const = 0;
  /// Action bounds: the actuators' control range ([-1, 1]; InvertedPendulum [-3, 3]).
  virtual Bounds action_bounds() const = 0;

  /// Physics steps per environment step (4 Hopper/Walker2d, 5 HalfCheetah, 2 InvertedPendulum).
  virtual int frame_skip() const = 0;
  /// Seconds of simulated time per environment step: model timestep * frame_skip.
  virtual double dt() const = 0;
  /// Steps after which an episode is truncated (1,000 by default).
  virtual int max_episode_steps() const = 0;
  /// Changes the time limit (>= 1); takes effect from the next step.
  virtual void set_max_episode_steps(int steps) = 0;

  /// Seeds the reset-noise generator with `seed` and starts an episode; returns its first
  /// observation. The same seed gives the same trajectory for the same actions.
  virtual std::vector<double> reset(std::uint64_t seed) = 0;
  /// Starts a new episode drawing noise from the generator's current stream (seeded by the
  /// last reset(seed); seed 0 if never seeded).
  virtual std::vector<double> reset() = 0;

  /// Applies `action` (clipped to action_bounds()) for frame_skip() physics steps.
  /// Throws std::logic_error if the episode has ended (terminated or truncated) or reset()
  /// was never called, and bcq::InputError if action.size() != action_size().
  virtual StepResult step(const std::vector<double>& action) = 0;
  /// The same without allocating: `action` points at action_size() values; `out` is reused.
  virtual void step(const double* action, StepResult& out) = 0;

  /// The observation at the start of the current episode (what the last reset returned).
  virtual const std::vector<double>& initial_observation() const = 0;
  /// The current observation.
  virtual std::vector<double> observation() const = 0;
  /// Steps taken in the current episode.
  virtual int elapsed_steps() const = 0;

  /// Generalised position size (MuJoCo nq) and velocity size (nv).
  virtual std::size_t qpos_size() const = 0;
  virtual std::size_t qvel_size() const = 0;
  /// The full simulator state.
  virtual std::vector<double> qpos() const = 0;
  virtual std::vector<double> qvel() const = 0;
  /// Sets the full simulator state (for tests and analysis), recomputes derived quantities
  /// and makes the episode live again with elapsed_steps() unchanged. Throws
  /// bcq::InputError on a size mismatch.
  virtual void set_state(const std::vector<double>& qpos, const std::vector<double>& qvel) = 0;
  /// The complete state (see EnvSnapshot).
  virtual EnvSnapshot snapshot() const = 0;
  /// Continues from `snapshot`: afterwards this Env steps exactly as the one it was taken
  /// from would have. Throws bcq::InputError if it comes from another environment or its
  /// sizes do not fit.
  virtual void restore(const EnvSnapshot& snapshot) = 0;
  /// True when the current state is healthy (always true for HalfCheetah).
  virtual bool is_healthy() const = 0;

  /// MuJoCo warnings raised since the Env was made (model compiler warnings included), one
  /// message per new kind per step, at most 100 kept (e.g. "Nan, Inf or huge value in QACC at
  /// DOF 2 ..."). Empty in a sound simulation. They are also printed to stderr by MuJoCo's
  /// warning hook (installed by make_env unless the application set mju_user_warning).
  virtual const std::vector<std::string>& warnings() const = 0;
  /// When true, a MuJoCo warning during step() throws SimulationWarning (default false:
  /// the warning is recorded in warnings()).
  virtual void set_strict_warnings(bool strict) = 0;

  /// Total mass of the model in kg (sum of body masses).
  virtual double total_mass() const = 0;
};

/// Registry names, in a fixed order: hopper, walker2d, halfcheetah, inverted-pendulum.
std::vector<std::string> env_names();

/// Creates the named environment, loading its model file (see model_path).
/// Throws bcq::InputError for an unknown name or a missing or invalid model file.
std::unique_ptr<Env> make_env(const std::string& name);

/// Creates an environment of kind `name` from an explicit MJCF file (tests, custom models).
/// Throws bcq::InputError if the file is missing, invalid, or does not fit the kind
/// (e.g. wrong number of joints or actuators).
std::unique_ptr<Env> make_env_from_file(const std::string& name, const std::string& model_file);

/// The model file of a registered environment: the first of $BCQ_MODEL_DIR/<file>,
/// the build tree's models/ directory, and <prefix>/share/bcq/models/<file> next to the
/// installed program. Throws bcq::InputError (listing the places tried) when none exists.
std::string model_path(const std::string& name);

/// The directories model_path searches, in order (for error messages and `bcq env list`).
std::vector<std::string> model_search_dirs();

}  // namespace bcq::envs
