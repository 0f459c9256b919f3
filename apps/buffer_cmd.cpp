// `bcq buffer info F [--json]`: what a continuous-control buffer holds (bcq-buffer/1, D4RL or
// Minari HDF5, docs/datasets.md): rows, dimensions, dtypes, flag counts, episodes and their
// returns, and the D4RL-normalised score when the environment has reference returns.
// A thin wrapper over continuous/replay_buffer (no LibTorch).
#include <fmt/core.h>

#include <algorithm>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>

#include "apps/cli_common.hpp"
#include "continuous/replay_buffer.hpp"

namespace bcq::cli {
namespace {

struct BufferInfoOptions {
  std::string path;
  std::string env;
  JsonOutput json;
};

void run_info(const BufferInfoOptions& o) {
  namespace cont = bcq::continuous;
  o.json.check({{"file", o.path}});
  nlohmann::json attrs;
  cont::BufferFileInfo info;
  const cont::ReplayBuffer b = cont::load_buffer(o.path, {}, &attrs, &info);
  const std::string env = !o.env.empty()                                  ? o.env
                          : attrs.contains("env") && attrs["env"].is_string() ? attrs["env"].get<std::string>()
                                                                              : std::string();
  std::size_t terminals = 0, timeouts = 0;
  for (std::size_t i = 0; i < b.size(); ++i) {
    terminals += b.terminals[i];
    timeouts += b.timeouts[i];
  }
  const std::vector<cont::BufferEpisode> episodes = cont::buffer_episodes(b);
  std::size_t complete = 0;
  double sum = 0.0, lo = 0.0, hi = 0.0;
  for (const cont::BufferEpisode& e : episodes) {
    if (!e.complete) continue;
    lo = complete == 0 ? e.episode_return : std::min(lo, e.episode_return);
    hi = complete == 0 ? e.episode_return : std::max(hi, e.episode_return);
    sum += e.episode_return;
    ++complete;
  }
  const double mean = complete > 0 ? sum / double(complete) : 0.0;
  double random_return = 0.0, expert_return = 0.0;
  const bool has_reference = complete > 0 && cont::d4rl_reference_returns(env, &random_return, &expert_return);
  const double normalised = has_reference ? 100.0 * (mean - random_return) / (expert_return - random_return) : 0.0;

  if (o.json.requested()) {
    nlohmann::json out;
    out["file"] = o.path;
    out["layout"] = info.layout;
    out["rows"] = b.size();
    out["rows_in_file"] = info.file_rows;
    out["dropped"] = info.dropped;
    out["derived_next_observations"] = info.derived_next_observations;
    out["derived_timeouts"] = info.derived_timeouts;
    out["state_dim"] = b.state_dim;
    out["action_dim"] = b.action_dim;
    out["dtypes"] = info.dtypes;
    out["terminals"] = terminals;
    out["timeouts"] = timeouts;
    out["terminal_and_timeout"] = info.terminal_and_timeout;
    out["episodes"] = episodes.size();
    out["complete_episodes"] = complete;
    out["returns"] = complete > 0 ? nlohmann::json{{"mean", mean}, {"min", lo}, {"max", hi}} : nlohmann::json();
    out["env"] = env.empty() ? nlohmann::json() : nlohmann::json(env);
    out["d4rl_normalised_score"] = has_reference ? nlohmann::json(normalised) : nlohmann::json();
    nlohmann::json returns = nlohmann::json::array();
    for (const cont::BufferEpisode& e : episodes)
      returns.push_back({{"begin", e.begin}, {"length", e.length}, {"return", e.episode_return},
                         {"terminal", e.terminal}, {"complete", e.complete}});
    out["episode_returns"] = returns;
    out["attributes"] = attrs;
    o.json.emit(out, 1);
    if (o.json.replaces_text()) return;
  }
  std::string dtypes;
  for (const auto& [key, type] : info.dtypes) dtypes += fmt::format("{}{} {}", dtypes.empty() ? "" : ", ", key, type);
  std::cout << fmt::format("file          {} ({} layout)\n", o.path, info.layout);
  std::cout << fmt::format("transitions   {}", b.size());
  if (info.dropped > 0)
    std::cout << fmt::format(" ({} in the file; {} dropped: successor unknown without next_observations)",
                             info.file_rows, info.dropped);
  std::cout << "\n";
  std::cout << fmt::format("dimensions    observation {}, action {}\n", b.state_dim, b.action_dim);
  std::cout << fmt::format("dtypes        {}\n", dtypes);
  std::cout << fmt::format("flags         {} terminals, {} timeouts", terminals, timeouts);
  if (info.terminal_and_timeout > 0)
    std::cout << fmt::format(" ({} steps flagged both: counted terminal)", info.terminal_and_timeout);
  if (info.derived_timeouts) std::cout << " (no timeouts dataset: episodes cut every 1000 steps)";
  std::cout << "\n";
  std::cout << fmt::format("episodes      {} ({} complete{})\n", episodes.size(), complete,
                           !episodes.empty() && !episodes.back().complete ? ", the last one cut by the end of the file" : "");
  if (complete > 0)
    std::cout << fmt::format("returns       mean {:.3f}, min {:.3f}, max {:.3f} over complete episodes\n", mean, lo, hi);
  if (has_reference)
    std::cout << fmt::format("D4RL score    {:.1f} (normalised: 0 random {}, 100 expert {}, env {})\n", normalised,
                             random_return, expert_return, env);
}

}  // namespace

void add_buffer_commands(CLI::App& app) {
  CLI::App* buffer = app.add_subcommand("buffer", "Continuous-control buffers (bcq-buffer/1, D4RL, Minari HDF5)");
  buffer->require_subcommand(1);
  auto o = std::make_shared<BufferInfoOptions>();
  CLI::App* info = buffer->add_subcommand(
      "info", "Rows, dimensions, dtypes, flags, episodes and returns of a buffer file");
  info->add_option("file", o->path, "HDF5 buffer (bcq collect, D4RL, or Minari's main_data.hdf5)")->required();
  info->add_option("--env", o->env,
                   "environment for the D4RL-normalised score (default: the file's env attribute)");
  o->json.add_to(info, "every figure");
  info->callback([o] { run_info(*o); });
}

}  // namespace bcq::cli
