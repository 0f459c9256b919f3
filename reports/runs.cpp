#include "reports/runs.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <limits>

#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "common/input_file.hpp"
#include "common/run_files.hpp"

namespace bcq::reports {

namespace fs = std::filesystem;

namespace {

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

// The one input reader (common/input_file.hpp): a directory, a device such as /dev/zero or a
// file over 1 GiB is refused by name before a byte is read, never read without end.
std::string read_text_file(const std::string& path) { return read_input_file(path); }

RunRecord load_run(const std::string& dir, const std::string& name, ReadProgress* progress) {
  RunRecord run;
  run.dir = dir;
  run.name = name;
  const std::string config_path = dir + "/config.json";
  std::string text = read_text_file(config_path);
  const RunConfig c = parse_run_config(text, config_path);
  run.algo = c.algo;
  run.env = c.env;
  run.precision = c.precision;
  run.seed = c.seed;
  run.iterations = c.iterations;
  run.concurrent = c.concurrent;
  const nlohmann::json& attrs = c.buffer_attributes;
  run.batch = describe_batch(c.buffer, attrs, run.concurrent, run.seed);
  // Runs share a batch when they read the same file with the same attributes (or, concurrent,
  // grew it with the same behavioural seed).
  run.batch_key = run.env + "\n" + (run.concurrent ? "concurrent " + std::to_string(run.seed) : c.buffer + "\n" + attrs.dump());
  run.buffer = c.buffer;
  run.behavioural_return = std::numeric_limits<double>::quiet_NaN();
  if (attrs.contains("behavioural_return") && attrs["behavioural_return"].is_number()) {
    run.behavioural_return = attrs["behavioural_return"].get<double>();
  }

  run.status = "unknown";
  const std::string status_path = dir + "/status.json";
  if (exists(status_path)) {
    text = read_text_file(status_path);
    const RunStatus s = parse_run_status(text, status_path);
    run.status = s.status;
    run.status_iteration = s.iteration;
    run.diverged_loss = s.loss;
  }

  const std::string eval_path = dir + "/eval.csv";
  if (exists(eval_path)) {
    text = read_text_file(eval_path);
    if (progress) {
      const std::uint64_t before = progress->done;
      run.evals = bcq::parse_eval_csv(text, eval_path, [&](std::size_t bytes) { progress->show(before + bytes); });
      progress->done = before + text.size();
      progress->show(progress->done);
    } else {
      run.evals = bcq::parse_eval_csv(text, eval_path);
    }
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
