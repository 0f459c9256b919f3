#include "reports/runs.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <type_traits>

#include <nlohmann/json.hpp>

#include "common/error.hpp"

namespace bcq::reports {

namespace fs = std::filesystem;

namespace {

bool read_text(const std::string& path, std::string& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream buf;
  buf << in.rdbuf();
  out = buf.str();
  return !in.bad();
}

nlohmann::json read_json(const std::string& path) {
  std::string text;
  if (!read_text(path, text)) throw InputError(path + ": missing or unreadable");
  auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) throw InputError(path + ": not a JSON object");
  return j;
}

std::string required_string(const nlohmann::json& j, const char* key, const std::string& where) {
  if (!j.contains(key) || !j[key].is_string() || j[key].get<std::string>().empty()) {
    throw InputError(where + ": missing or non-string \"" + key + "\"");
  }
  return j[key].get<std::string>();
}

template <typename T>
T required_integer(const nlohmann::json& j, const char* key, const std::string& where) {
  const bool ok = std::is_unsigned_v<T> ? j.contains(key) && j[key].is_number_unsigned()
                                        : j.contains(key) && j[key].is_number_integer();
  if (!ok) {
    throw InputError(where + ": missing or not a" + (std::is_unsigned_v<T> ? " non-negative" : "n") +
                     " integer \"" + key + "\"");
  }
  return j[key].get<T>();
}

// An optional string field: `fallback` when absent, an error when present with another type.
std::string optional_string(const nlohmann::json& j, const char* key, const std::string& fallback,
                            const std::string& where) {
  if (!j.contains(key)) return fallback;
  if (!j[key].is_string()) throw InputError(where + ": \"" + key + "\" is not a string");
  return j[key].get<std::string>();
}

bool optional_bool(const nlohmann::json& j, const char* key, const std::string& where) {
  if (!j.contains(key)) return false;
  if (!j[key].is_boolean()) throw InputError(where + ": \"" + key + "\" is not true or false");
  return j[key].get<bool>();
}

bool exists(const std::string& path) {
  std::error_code ec;
  return fs::exists(path, ec);  // unreadable counts as absent; reading it then names it
}

// "hopper_final.h5 (final, 1000000 steps, seed 0)", or the concurrent behavioural agent.
std::string describe_batch(const std::string& buffer, const nlohmann::json& attrs, bool concurrent, uint64_t seed) {
  if (concurrent) return "concurrent (behavioural DDPG, seed " + std::to_string(seed) + ")";
  std::string out = fs::path(buffer).filename().string();
  std::vector<std::string> parts;
  auto text = [&](const char* key) { return attrs.at(key).dump(); };
  if (attrs.contains("kind") && attrs["kind"].is_string()) parts.push_back(attrs["kind"].get<std::string>());
  if (attrs.contains("steps") && attrs["steps"].is_number()) parts.push_back(text("steps") + " steps");
  if (attrs.contains("seed") && attrs["seed"].is_number()) parts.push_back("seed " + text("seed"));
  if (attrs.contains("expert_steps") && attrs["expert_steps"].is_number()) {
    parts.push_back("expert " + text("expert_steps") + " steps");
  }
  if (attrs.contains("exploration_noise") && attrs["exploration_noise"].is_number()) {
    parts.push_back("noise " + text("exploration_noise"));
  }
  if (!parts.empty()) {
    out += " (";
    for (size_t i = 0; i < parts.size(); ++i) out += (i ? ", " : "") + parts[i];
    out += ")";
  }
  return out;
}

}  // namespace

RunRecord load_run(const std::string& dir, const std::string& name) {
  RunRecord run;
  run.dir = dir;
  run.name = name;
  const std::string config_path = dir + "/config.json";
  const auto c = read_json(config_path);
  if (optional_string(c, "format", "", config_path) != "bcq-run/1") {
    throw InputError(config_path + ": \"format\" is not \"bcq-run/1\"");
  }
  run.algo = required_string(c, "algo", config_path);
  run.env = required_string(c, "env", config_path);
  run.precision = optional_string(c, "precision", "fp32", config_path);
  run.seed = required_integer<uint64_t>(c, "seed", config_path);
  run.iterations = required_integer<int64_t>(c, "iterations", config_path);
  run.concurrent = optional_bool(c, "concurrent", config_path);
  const std::string buffer = optional_string(c, "buffer", "", config_path);
  nlohmann::json attrs = nlohmann::json::object();
  if (c.contains("buffer_attributes") && !c["buffer_attributes"].is_null()) {
    attrs = c["buffer_attributes"];
    if (!attrs.is_object()) throw InputError(config_path + ": \"buffer_attributes\" is not an object");
  }
  run.batch = describe_batch(buffer, attrs, run.concurrent, run.seed);
  // Runs share a batch when they read the same file with the same attributes (or, concurrent,
  // grew it with the same behavioural seed).
  run.batch_key = run.env + "\n" + (run.concurrent ? "concurrent " + std::to_string(run.seed) : buffer + "\n" + attrs.dump());
  run.buffer = buffer;
  run.behavioural_return = std::numeric_limits<double>::quiet_NaN();
  if (attrs.contains("behavioural_return") && attrs["behavioural_return"].is_number()) {
    run.behavioural_return = attrs["behavioural_return"].get<double>();
  }

  run.status = "unknown";
  const std::string status_path = dir + "/status.json";
  if (exists(status_path)) {
    const auto s = read_json(status_path);
    run.status = required_string(s, "status", status_path);
    if (s.contains("iteration") && s["iteration"].is_number_integer()) {
      run.status_iteration = s["iteration"].get<int64_t>();
    }
    run.diverged_loss = s.contains("loss") && s["loss"].is_string() ? s["loss"].get<std::string>() : "";
  }

  const std::string eval_path = dir + "/eval.csv";
  std::string text;
  if (exists(eval_path)) {
    if (!read_text(eval_path, text)) throw InputError(eval_path + ": unreadable");
    run.evals = bcq::parse_eval_csv(text, eval_path);
  }
  return run;
}

std::vector<RunRecord> find_runs(const std::string& root_arg) {
  // "runs/" and "runs" name runs alike; "." is named by the folder it is.
  std::string root = root_arg;
  while (root.size() > 1 && root.back() == '/') root.pop_back();
  std::error_code ec;
  if (!fs::is_directory(root, ec)) throw InputError(root_arg + ": no such folder");
  std::vector<std::string> dirs;
  if (exists(root + "/config.json")) dirs.push_back(root);
  for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    std::error_code type_ec;
    if (it->is_directory(type_ec) && exists((it->path() / "config.json").string())) dirs.push_back(it->path().string());
  }
  if (ec) throw InputError(root + ": cannot list: " + ec.message());
  std::sort(dirs.begin(), dirs.end());
  dirs.erase(std::unique(dirs.begin(), dirs.end()), dirs.end());
  if (dirs.empty()) throw InputError(root + ": no run folder (one holding config.json from bcq train)");
  std::vector<RunRecord> runs;
  for (const auto& d : dirs) {
    std::string name = d == root ? fs::absolute(root).lexically_normal().string() : fs::path(d).lexically_relative(root).string();
    if (d == root) {
      while (name.size() > 1 && name.back() == '/') name.pop_back();
      name = fs::path(name).filename().string();
    }
    if (name.empty()) name = d;
    runs.push_back(load_run(d, name));
  }
  return runs;
}

}  // namespace bcq::reports
