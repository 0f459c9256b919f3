// common/run_files.hpp: config.json and status.json are read under the project's JSON rules
// (common/json_input.hpp), and what the writer makes reads back as itself.
#include <gtest/gtest.h>

#include <string>

#include "common/run_files.hpp"

namespace bcq {
namespace {

RunConfig example_config() {
  RunConfig c;
  c.algo = "bcq";
  c.env = "hopper";
  c.buffer = "/data/hopper_final.h5";
  c.buffer_attributes = {{"kind", "final"}, {"steps", 100000}};
  c.buffer_size = 100000;
  c.iterations = 20000;
  c.eval_every = 2000;
  c.eval_episodes = 5;
  c.eval_seed = 18446744073709551615ULL;  // 2^64 - 1 survives as an unsigned number
  c.seed = 7;
  c.threads = 1;
  c.precision = "bf16";
  c.git_commit = "abc1234";
  c.hyperparameters = {{"batch_size", 100}, {"lambda", 0.75}};
  return c;
}

TEST(RunFiles, AConfigReadsBackAsWritten) {
  const nlohmann::json written = run_config_json(example_config());
  const RunConfig again = parse_run_config(written.dump(), "config.json");
  EXPECT_EQ(run_config_json(again), written);
  EXPECT_EQ(again.eval_seed, 18446744073709551615ULL);
  EXPECT_EQ(again.hyperparameters["lambda"], 0.75);
}

TEST(RunFiles, AStatusReadsBackAsWritten) {
  RunStatus s;
  s.status = "diverged";
  s.iteration = 1234;
  s.loss = "critic";
  s.checkpoint_iteration = 1000;
  const nlohmann::json written = run_status_json(s);
  EXPECT_EQ(run_status_json(parse_run_status(written.dump(), "status.json")), written);
}

// The JSON rules every input of the project follows: a duplicated key would silently take the
// last value, deep nesting would exhaust the stack, 1e400 would read as infinity.
TEST(RunFiles, DuplicateKeysDeepNestingAndHugeNumbersAreRefusedNamingTheFile) {
  std::string config = run_config_json(example_config()).dump();
  config.insert(1, "\"algo\": \"ddpg\", ");
  try {
    parse_run_config(config, "runs/a/config.json");
    FAIL() << "a duplicated key was accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("runs/a/config.json"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("algo"), std::string::npos) << e.what();
  }
  const std::string deep = "{\"status\": \"running\", \"x\": " + std::string(100, '[') + std::string(100, ']') + "}";
  EXPECT_THROW(parse_run_status(deep, "status.json"), InputError);
  EXPECT_THROW(parse_run_status("{\"status\": \"running\", \"iteration\": 1e400}", "status.json"), InputError);
  // A byte order mark is skipped, as in every JSON input.
  EXPECT_EQ(parse_run_status("\xEF\xBB\xBF{\"status\": \"completed\", \"iteration\": 5}", "status.json").iteration, 5);
}

}  // namespace
}  // namespace bcq
