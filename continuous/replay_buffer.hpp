// Transitions of a continuous-control batch and their HDF5 files in D4RL's key layout
// (`observations`, `actions`, `rewards`, `next_observations`, `terminals`, `timeouts`), so that
// D4RL-style files load too. No LibTorch here: the CLI and the collectors use it directly.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace bcq::continuous {

/// A growing set of transitions (s, a, r, s', terminal, timeout), float32 row-major.
/// `terminal`: s' is a terminal state (do not bootstrap). `timeout`: the episode was cut by
/// the time limit after this transition; it is NOT terminal (issue 5).
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
    observations.reserve(n * state_dim);
    next_observations.reserve(n * state_dim);
    actions.reserve(n * action_dim);
    rewards.reserve(n);
    terminals.reserve(n);
    timeouts.reserve(n);
  }
  /// Keeps the first `n` transitions (n <= size()).
  void truncate(std::size_t n) {
    observations.resize(n * state_dim);
    next_observations.resize(n * state_dim);
    actions.resize(n * action_dim);
    rewards.resize(n);
    terminals.resize(n);
    timeouts.resize(n);
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
};

/// What a file must fit to be used for a given environment (0 / NaN: not checked).
struct BufferExpectations {
  int64_t state_dim = 0;
  int64_t action_dim = 0;
  double max_action = 0.0;   ///< actions must lie in [-max_action, max_action] (+1e-6)
  std::string env;           ///< if the file names an environment, it must be this one
};

/// Writes `buffer` as HDF5 (D4RL keys; float32 data, terminals/timeouts as numpy-style bool)
/// with `attributes` (string, integer or floating values) on the root group, plus
/// format = "bcq-buffer/1". Atomic: a temporary file renamed over `path`.
/// Throws bcq::InputError if the file cannot be written.
void save_buffer(const std::string& path, const ReplayBuffer& buffer,
                 const nlohmann::json& attributes);

/// Reads and validates an HDF5 buffer: all six keys present, consistent lengths, dimensions
/// as expected, every value finite, actions within bounds. Throws bcq::InputError naming the
/// file, key and row at fault. `attributes` receives the root attributes (may be null).
ReplayBuffer load_buffer(const std::string& path, const BufferExpectations& expect,
                         nlohmann::json* attributes = nullptr);

}  // namespace bcq::continuous
