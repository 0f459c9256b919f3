// Internal: checkpoint files of `bcq train` and `bcq collect` (LibTorch archives written
// atomically) and the typed entries they hold beyond an agent's own state: bytes, integers,
// doubles, a std::mt19937_64, an environment mid-episode.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "continuous/envs/env.hpp"

namespace bcq::continuous {

using torch::serialize::InputArchive;
using torch::serialize::OutputArchive;

void write_bytes(OutputArchive& archive, const std::string& key, const std::string& bytes);
std::string read_bytes(InputArchive& archive, const std::string& key);
void write_int(OutputArchive& archive, const std::string& key, int64_t value);
int64_t read_int(InputArchive& archive, const std::string& key);
void write_doubles(OutputArchive& archive, const std::string& key, const std::vector<double>& values);
std::vector<double> read_doubles(InputArchive& archive, const std::string& key);
void write_rng(OutputArchive& archive, const std::string& key, const std::mt19937_64& rng);
/// Throws bcq::InputError if the entry is not a generator state.
void read_rng(InputArchive& archive, const std::string& key, std::mt19937_64& rng);
/// The environment mid-episode (envs::EnvSnapshot) under "env/...".
void write_env(OutputArchive& archive, const envs::Env& env);
void read_env(InputArchive& archive, envs::Env& env);

/// For tests of Ctrl-C: BCQ_INTERRUPT_AFTER_STEP=N makes the process send itself SIGINT when
/// a training iteration or collection step numbered N (from 1) is done, as a user would
/// (N = 0: as training starts, before its first iteration).
void interrupt_after_step_for_tests(int64_t step);

/// Writes the archive that `fill` builds to `path` atomically (common/atomic_file.hpp).
/// Throws bcq::InputError naming `path` if it cannot be written.
void save_checkpoint(const std::string& path, const std::function<void(OutputArchive&)>& fill);

/// Reads `path` and hands the archive to `read`. A missing file, an unreadable archive or an
/// entry that `read` finds wrong is a bcq::InputError naming `path` (and the entry).
void load_checkpoint(const std::string& path, const std::function<void(InputArchive&)>& read);

}  // namespace bcq::continuous
