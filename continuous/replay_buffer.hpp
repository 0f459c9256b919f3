// Transitions of a continuous-control batch and their HDF5 files in D4RL's key layout
// (`observations`, `actions`, `rewards`, `next_observations`, `terminals`, `timeouts`). The
// loader also reads D4RL files as published (v0 files without `timeouts` or
// `next_observations`, float64 datasets, nested groups ignored) and Minari datasets
// (`episode_<id>` groups), docs/datasets.md; its limits are in docs/limits.md. No LibTorch
// here: `bcq buffer info`, the collectors and the fuzz targets use it directly.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace bcq::continuous {

/// A growing set of transitions (s, a, r, s', terminal, timeout), float32 row-major.
/// `terminal`: s' is a terminal state (do not bootstrap). `timeout`: the episode was cut by
/// the time limit after this transition; it is NOT terminal (the episode could go on).
struct ReplayBuffer {
  int64_t state_dim = 0;
  int64_t action_dim = 0;
  std::vector<float> observations;       ///< size() x state_dim
  std::vector<float> actions;            ///< size() x action_dim
  std::vector<float> rewards;            ///< size()
  std::vector<float> next_observations;  ///< size() x state_dim
  std::vector<std::uint8_t> terminals;   ///< size(), 0 or 1
  std::vector<std::uint8_t> timeouts;    ///< size(), 0 or 1

  ReplayBuffer() = default;
  ReplayBuffer(int64_t state_dim_, int64_t action_dim_) : state_dim(state_dim_), action_dim(action_dim_) {}
  std::size_t size() const { return rewards.size(); }
  void reserve(std::size_t n) {
    for_each_column([n](auto& column, std::size_t width) { column.reserve(n * width); });
  }
  /// Keeps the first `n` transitions (n <= size()).
  void truncate(std::size_t n) {
    for_each_column([n](auto& column, std::size_t width) { column.resize(n * width); });
  }
  /// Appends one transition (`state`, `next_state` have state_dim values, `action` action_dim).
  void add(const float* state, const float* action, float reward, const float* next_state,
           bool terminal, bool timeout) {
    observations.insert(observations.end(), state, state + state_dim);
    actions.insert(actions.end(), action, action + action_dim);
    rewards.push_back(reward);
    next_observations.insert(next_observations.end(), next_state, next_state + state_dim);
    terminals.push_back(terminal ? 1 : 0);
    timeouts.push_back(timeout ? 1 : 0);
  }

 private:
  /// Calls f(column, values per transition) on each of the six columns.
  template <class F>
  void for_each_column(F f) {
    f(observations, static_cast<std::size_t>(state_dim));
    f(next_observations, static_cast<std::size_t>(state_dim));
    f(actions, static_cast<std::size_t>(action_dim));
    f(rewards, std::size_t{1});
    f(terminals, std::size_t{1});
    f(timeouts, std::size_t{1});
  }
};

/// Limits of load_buffer (docs/limits.md), checked on the shapes a file declares before
/// anything is allocated or read.
inline constexpr std::uint64_t kMaxBufferRows = 100000000;        ///< transitions (D4RL's largest: 2e6)
inline constexpr std::uint64_t kMaxBufferColumns = 65536;         ///< observation / action size
inline constexpr std::uint64_t kMaxBufferBytes = std::uint64_t{32} << 30;  ///< in memory, float32
inline constexpr std::uint64_t kMaxBufferFileBytes = std::uint64_t{64} << 30;
inline constexpr std::uint64_t kMaxBufferEpisodes = 10000000;     ///< Minari episode groups

/// What a file must fit to be used for a given environment (0 / NaN: not checked).
struct BufferExpectations {
  int64_t state_dim = 0;
  int64_t action_dim = 0;
  double max_action = 0.0;   ///< actions must lie in [-max_action, max_action] (+1e-6)
  std::string env;           ///< if the file names an environment, it must be this one
  /// Files without `timeouts` (D4RL v0): an episode is cut after this many steps, as
  /// d4rl.qlearning_dataset does with the environment's time limit (gym MuJoCo: 1000).
  int64_t max_episode_steps = 1000;
};

/// What load_buffer found in a file and what it did to it (for `bcq buffer info` and notes).
struct BufferFileInfo {
  std::string layout;                          ///< "bcq-buffer/1", "d4rl" or "minari"
  std::map<std::string, std::string> dtypes;   ///< dataset -> float32, float64, bool, uint8, ...
  std::size_t file_rows = 0;                   ///< transitions in the file
  std::size_t dropped = 0;                     ///< left out: successor unknown (no next_observations)
  bool derived_next_observations = false;      ///< from the following row of the same episode
  bool derived_timeouts = false;               ///< from max_episode_steps (no `timeouts` dataset)
  std::size_t terminal_and_timeout = 0;        ///< steps flagged both: terminal wins
  std::size_t episodes_in_file = 0;            ///< Minari: episode groups
};

/// One episode of a loaded buffer: rows [begin, begin + length).
struct BufferEpisode {
  std::size_t begin = 0;
  std::size_t length = 0;
  double episode_return = 0.0;  ///< undiscounted sum of rewards
  bool terminal = false;        ///< ended in a terminal state
  bool complete = false;        ///< ended by a terminal or a timeout (the last one may be cut)
};

/// Splits a buffer into episodes after every terminal or timeout; rows after the last such
/// flag form a final incomplete episode.
std::vector<BufferEpisode> buffer_episodes(const ReplayBuffer& buffer);

/// D4RL's reference returns of `env` (bcq's names: hopper, walker2d, halfcheetah), the
/// random and expert scores of d4rl/infos.py; false when it has none (inverted-pendulum).
/// Normalised score = 100 (R - random) / (expert - random).
bool d4rl_reference_returns(const std::string& env, double* random_return, double* expert_return);

/// Writes `buffer` as HDF5 (D4RL keys; float32 data, terminals/timeouts as numpy-style bool)
/// with `attributes` (string, integer or floating values) on the root group, plus
/// format = "bcq-buffer/1". Atomic: a temporary file renamed over `path`.
/// Throws bcq::InputError if the file cannot be written.
void save_buffer(const std::string& path, const ReplayBuffer& buffer,
                 const nlohmann::json& attributes);

/// Reads and validates an HDF5 buffer (bcq-buffer/1, D4RL or Minari layout): consistent
/// lengths, dimensions as expected, every value finite, flags 0 or 1, actions within bounds,
/// sizes within the limits above. The file must be a regular file. Throws bcq::InputError
/// naming the file, key and row at fault. `attributes` receives the root attributes and
/// `info` what was found (both may be null).
ReplayBuffer load_buffer(const std::string& path, const BufferExpectations& expect,
                         nlohmann::json* attributes = nullptr, BufferFileInfo* info = nullptr);

/// load_buffer on an HDF5 file image in memory (`source` names it in errors).
ReplayBuffer load_buffer_image(const void* data, std::size_t size, const std::string& source,
                               const BufferExpectations& expect,
                               nlohmann::json* attributes = nullptr, BufferFileInfo* info = nullptr);

}  // namespace bcq::continuous
