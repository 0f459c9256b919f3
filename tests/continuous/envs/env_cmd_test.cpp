// `bcq env list` / `bcq env rollout` end to end (apps/env_cmd.cpp), through the built program.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "tests/test_util.hpp"

namespace {

using CommandRun = bcq::test::CliResult;

/// `bcq <args>` after the environment assignments `env` (tests/test_util.hpp).
CommandRun run_bcq(const std::string& args, const std::string& env = "") {
  return bcq::test::run_bcq_command(args, env);
}

TEST(EnvCli, ListShowsEveryEnvironment) {
  const CommandRun run = run_bcq("env list");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  for (const char* name : {"hopper", "walker2d", "halfcheetah", "inverted-pendulum"}) {
    EXPECT_NE(run.out.find(name), std::string::npos) << name;
  }
  const CommandRun json = run_bcq("env list --json");
  ASSERT_EQ(json.exit_code, 0) << json.err;
  const auto rows = nlohmann::json::parse(json.out);
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[0]["name"], "hopper");
  EXPECT_EQ(rows[0]["observation_size"], 11);
  EXPECT_EQ(rows[2]["action_size"], 6);
}

TEST(EnvCli, RolloutJsonHasEpisodesAndTheirMean) {
  const CommandRun run = run_bcq("env rollout --env inverted-pendulum --policy zero --episodes 3 --seed 5 --json");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const auto out = nlohmann::json::parse(run.out);
  ASSERT_EQ(out["episodes"].size(), 3u);
  double sum = 0.0;
  for (const auto& episode : out["episodes"]) {
    // InvertedPendulum pays 1 per step, so the return equals the length.
    EXPECT_EQ(episode["return"].get<double>(), episode["length"].get<double>());
    EXPECT_GT(episode["length"].get<int>(), 0);
    sum += episode["return"].get<double>();
  }
  EXPECT_NEAR(out["mean_return"].get<double>(), sum / 3.0, 1e-9);
  EXPECT_TRUE(out["warnings"].empty());
  // Same seed, same output.
  EXPECT_EQ(run_bcq("env rollout --env inverted-pendulum --policy zero --episodes 3 --seed 5 --json").out,
            run.out);
}

TEST(EnvCli, RolloutTextPrintsEachEpisodeAndTheMean) {
  const CommandRun run = run_bcq("env rollout --env hopper --policy random --episodes 2 --seed 1");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.out.find("episode 1: return"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("episode 2: return"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("mean return"), std::string::npos) << run.out;
  EXPECT_TRUE(run.err.empty()) << run.err;
}

TEST(EnvCli, BadInputExitsTwoWithOneLine) {
  const CommandRun unknown = run_bcq("env rollout --env ant --episodes 1");
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_NE(unknown.err.find("unknown environment 'ant'"), std::string::npos) << unknown.err;
  EXPECT_EQ(std::count(unknown.err.begin(), unknown.err.end(), '\n'), 1) << unknown.err;

  EXPECT_EQ(run_bcq("env rollout --env hopper --policy clever").exit_code, 2);
  EXPECT_EQ(run_bcq("env rollout --env hopper --episodes 0").exit_code, 2);

  // A broken model file found through BCQ_MODEL_DIR.
  const auto dir = std::filesystem::temp_directory_path() /
                   ("bcq_env_cmd_models_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "hopper.xml") << "<mujoco><worldbody>";
  const CommandRun broken = run_bcq("env rollout --env hopper", "BCQ_MODEL_DIR=" + dir.string());
  std::filesystem::remove_all(dir);
  EXPECT_EQ(broken.exit_code, 2);
  EXPECT_NE(broken.err.find("invalid model file"), std::string::npos) << broken.err;
  EXPECT_EQ(std::count(broken.err.begin(), broken.err.end(), '\n'), 1) << broken.err;
}

}  // namespace
