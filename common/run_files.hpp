// config.json and status.json, the two JSON files of a `bcq train` run folder (beside eval.csv,
// common/eval_csv.hpp): one definition of each, for the writer (the training code) and every
// reader (reports/, --resume). Header-only; needs nlohmann/json (header-only too).
#pragma once

#include <cstdint>
#include <string>
#include <type_traits>

#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "common/json_input.hpp"

namespace bcq {

inline constexpr const char* kRunConfigFormat = "bcq-run/1";

/// config.json: what a run was asked to do. Written once when the run starts.
struct RunConfig {
  std::string algo;                 ///< bcq | ddpg | bc | vae-bc
  std::string env;                  ///< environment name (continuous/envs)
  std::string buffer;               ///< the buffer's absolute path; empty for a concurrent run
  nlohmann::json buffer_attributes = nlohmann::json::object();  ///< the buffer's HDF5 attributes
  int64_t buffer_size = -1;         ///< transitions in the buffer; -1 (null) while it grows
  bool concurrent = false;          ///< the batch grows beside a behavioural agent
  int64_t iterations = 0;           ///< training iterations asked for
  int64_t eval_every = 0;           ///< iterations between evaluations
  int64_t eval_episodes = 0;        ///< episodes per evaluation
  uint64_t eval_seed = 0;           ///< seed of the first evaluation episode
  uint64_t seed = 0;
  std::string device = "cpu";
  int64_t threads = 0;
  std::string precision = "fp32";   ///< fp32 | bf16
  std::string git_commit;
  nlohmann::json hyperparameters = nlohmann::json::object();  ///< the algorithm's config struct
  nlohmann::json behavioural;       ///< concurrent runs: the behavioural agent; null otherwise
};

/// config.json's content as the training code writes it.
inline nlohmann::json run_config_json(const RunConfig& c) {
  nlohmann::json j = {{"format", kRunConfigFormat},
                      {"algo", c.algo},
                      {"env", c.env},
                      {"buffer", c.buffer},
                      {"buffer_attributes", c.buffer_attributes},
                      {"buffer_size", c.buffer_size < 0 ? nlohmann::json() : nlohmann::json(c.buffer_size)},
                      {"concurrent", c.concurrent},
                      {"iterations", c.iterations},
                      {"eval_every", c.eval_every},
                      {"eval_episodes", c.eval_episodes},
                      {"eval_seed", c.eval_seed},
                      {"seed", c.seed},
                      {"device", c.device},
                      {"threads", c.threads},
                      {"precision", c.precision},
                      {"git_commit", c.git_commit},
                      {"hyperparameters", c.hyperparameters}};
  if (!c.behavioural.is_null()) j["behavioural"] = c.behavioural;
  return j;
}

namespace detail {

inline void run_file_type_error(const std::string& where, const char* key, const char* expected) {
  throw InputError(where + ": \"" + key + "\" is not " + expected);
}

// Reads `key` into `out` when present (an error when present with another type); `required`
// makes absence an error too, `nullable` lets null stand for absent.
template <typename T>
void read_run_field(const nlohmann::json& j, const char* key, T& out, const std::string& where, bool required,
                    bool nullable = false) {
  if (!j.contains(key) || (nullable && j[key].is_null())) {
    if (required) throw InputError(where + ": missing \"" + key + "\"");
    return;
  }
  const auto& v = j[key];
  if constexpr (std::is_same_v<T, std::string>) {
    if (!v.is_string()) run_file_type_error(where, key, "a string");
  } else if constexpr (std::is_same_v<T, bool>) {
    if (!v.is_boolean()) run_file_type_error(where, key, "true or false");
  } else if constexpr (std::is_unsigned_v<T>) {
    if (!v.is_number_unsigned()) run_file_type_error(where, key, "a non-negative integer");
  } else {
    if (!v.is_number_integer()) run_file_type_error(where, key, "an integer");
  }
  out = v.get<T>();
}

// The project's JSON rules (common/json_input.hpp: no duplicate keys, nesting at most 64 deep,
// numbers in range, a BOM skipped), then an object.
inline nlohmann::json read_run_object(const std::string& text, const std::string& where) {
  auto j = parse_json_input(text, where);
  if (!j.is_object()) throw InputError(where + ": not a JSON object");
  return j;
}

}  // namespace detail

/// config.json's content, parsed; `where` names the file. Throws InputError naming the field:
/// another format, a missing algo / env / seed / iterations, a field of the wrong type. Fields
/// older runs lack keep their defaults.
inline RunConfig run_config_from_json(const nlohmann::json& j, const std::string& where) {
  if (!j.is_object()) throw InputError(where + ": not a JSON object");
  std::string format;
  detail::read_run_field(j, "format", format, where, false);
  if (format != kRunConfigFormat) throw InputError(where + ": \"format\" is not \"" + kRunConfigFormat + "\"");
  RunConfig c;
  detail::read_run_field(j, "algo", c.algo, where, true);
  detail::read_run_field(j, "env", c.env, where, true);
  if (c.algo.empty()) throw InputError(where + ": \"algo\" is empty");
  if (c.env.empty()) throw InputError(where + ": \"env\" is empty");
  detail::read_run_field(j, "seed", c.seed, where, true);
  detail::read_run_field(j, "iterations", c.iterations, where, true);
  detail::read_run_field(j, "buffer", c.buffer, where, false);
  detail::read_run_field(j, "buffer_size", c.buffer_size, where, false, /*nullable=*/true);
  detail::read_run_field(j, "concurrent", c.concurrent, where, false);
  detail::read_run_field(j, "eval_every", c.eval_every, where, false);
  detail::read_run_field(j, "eval_episodes", c.eval_episodes, where, false);
  detail::read_run_field(j, "eval_seed", c.eval_seed, where, false);
  detail::read_run_field(j, "device", c.device, where, false);
  detail::read_run_field(j, "threads", c.threads, where, false);
  detail::read_run_field(j, "precision", c.precision, where, false);
  detail::read_run_field(j, "git_commit", c.git_commit, where, false);
  if (j.contains("buffer_attributes") && !j["buffer_attributes"].is_null()) {
    if (!j["buffer_attributes"].is_object()) detail::run_file_type_error(where, "buffer_attributes", "an object");
    c.buffer_attributes = j["buffer_attributes"];
  }
  if (j.contains("hyperparameters") && !j["hyperparameters"].is_null()) {
    if (!j["hyperparameters"].is_object()) detail::run_file_type_error(where, "hyperparameters", "an object");
    c.hyperparameters = j["hyperparameters"];
  }
  if (j.contains("behavioural")) c.behavioural = j["behavioural"];
  return c;
}

/// run_config_from_json of config.json's text, read under the project's JSON rules.
inline RunConfig parse_run_config(const std::string& text, const std::string& where) {
  return run_config_from_json(detail::read_run_object(text, where), where);
}

/// status.json: where a run stands. Rewritten when it starts, at each checkpoint, and when it
/// is interrupted (Ctrl-C, SIGTERM), diverges or completes.
struct RunStatus {
  std::string status;                 ///< "running", "interrupted", "diverged" or "completed"
  int64_t iteration = -1;             ///< iterations done (diverged: the iteration that failed)
  std::string loss;                   ///< diverged: the loss that became non-finite
  int64_t checkpoint_iteration = -1;  ///< the iteration of the last (diverged: last good) checkpoint
};

/// status.json's content as the training code writes it (loss and checkpoint only when set).
inline nlohmann::json run_status_json(const RunStatus& s) {
  nlohmann::json j = {{"status", s.status}, {"iteration", s.iteration}};
  if (!s.loss.empty()) j["loss"] = s.loss;
  if (s.checkpoint_iteration >= 0) j["checkpoint_iteration"] = s.checkpoint_iteration;
  return j;
}

/// Parses status.json content. Throws InputError naming the file: a missing or unknown
/// status, a field of the wrong type.
inline RunStatus parse_run_status(const std::string& text, const std::string& where) {
  const auto j = detail::read_run_object(text, where);
  RunStatus s;
  detail::read_run_field(j, "status", s.status, where, true);
  if (s.status != "running" && s.status != "interrupted" && s.status != "diverged" && s.status != "completed") {
    throw InputError(where + ": \"status\" is '" + s.status +
                     "', expected running, interrupted, diverged or completed");
  }
  detail::read_run_field(j, "iteration", s.iteration, where, false);
  detail::read_run_field(j, "loss", s.loss, where, false);
  detail::read_run_field(j, "checkpoint_iteration", s.checkpoint_iteration, where, false);
  return s;
}

}  // namespace bcq
