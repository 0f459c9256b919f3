// `bcq collect / train / eval` end to end on InvertedPendulum, small sizes: the run folder's
// files, resume after an interrupted run giving bit-identical parameters and the same
// evaluation numbers, the NaN/Inf stop, and exit codes.
#include <gtest/gtest.h>

#include <unistd.h>

#include <torch/torch.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "continuous/config.hpp"
#include "continuous/replay_buffer.hpp"
#include "continuous/training.hpp"
#include "tests/test_util.hpp"

namespace bcq::continuous {
namespace {

namespace fs = std::filesystem;

// This process's folder for every file and run the suite makes (the process id keeps
// concurrent runs of this suite apart); TrainingCli creates it and removes it at the end.
fs::path suite_dir() { return fs::path(::testing::TempDir()) / ("bcq_training_" + std::to_string(::getpid())); }

std::string temp_path(const std::string& name) { return (suite_dir() / name).string(); }

using test::run_bcq;  // tests/test_util.hpp

std::vector<std::vector<std::string>> read_csv(const std::string& path) {
  std::vector<std::vector<std::string>> rows;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    std::vector<std::string> fields;
    std::stringstream ls(line);
    std::string f;
    while (std::getline(ls, f, ',')) fields.push_back(f);
    rows.push_back(fields);
  }
  return rows;
}

// One buffer shared by the tests of this file (collected once).
class TrainingCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    fs::create_directories(suite_dir());
    buffer_ = new std::string(temp_path("ip_final.h5"));
    std::string err;
    ASSERT_EQ(run_bcq("collect --env inverted-pendulum --kind final --steps 1500 --start-steps 500 "
                      "--seed 3 --threads 1 -o " + *buffer_, nullptr, &err), 0) << err;
  }
  static void TearDownTestSuite() {
    std::error_code ec;
    fs::remove_all(suite_dir(), ec);  // checkpoints are ~20 MB each
    delete buffer_;
  }
  static std::string* buffer_;
};
std::string* TrainingCli::buffer_ = nullptr;

TEST_F(TrainingCli, CollectWritesAD4rlBufferWithAttributes) {
  nlohmann::json attrs;
  auto b = load_buffer(*buffer_, {4, 1, 3.0, "inverted-pendulum"}, &attrs);
  EXPECT_EQ(b.size(), 1500u);
  EXPECT_EQ(attrs["kind"], "final");
  EXPECT_EQ(attrs["steps"], 1500);
  EXPECT_EQ(attrs["seed"], 3);
  EXPECT_TRUE(attrs.contains("behavioural_return"));
  // Episodes end: some transitions are terminal; next_observation of row i is the
  // observation of row i+1 unless the episode ended there.
  int terminals = 0, mismatches = 0;
  for (std::size_t i = 0; i + 1 < b.size(); ++i) {
    terminals += b.terminals[i];
    if (!b.terminals[i] && !b.timeouts[i]) {
      for (int k = 0; k < 4; ++k) mismatches += b.next_observations[i * 4 + k] != b.observations[(i + 1) * 4 + k];
    }
  }
  EXPECT_GT(terminals, 0);
  EXPECT_EQ(mismatches, 0);
  std::string err;
  EXPECT_EQ(run_bcq("collect --env inverted-pendulum --kind sloppy --steps 10 -o " + temp_path("x.h5"),
                    nullptr, &err), 2);
  EXPECT_NE(err.find("--kind must be"), std::string::npos) << err;
}

TEST_F(TrainingCli, TrainWritesRunFolderAndEvalRunsThePolicy) {
  const auto dir = temp_path("run_files");
  fs::remove_all(dir);
  std::string out, err;
  ASSERT_EQ(run_bcq("train --algo bcq --env inverted-pendulum --buffer " + *buffer_ +
                        " --iterations 40 --eval-every 20 --eval-episodes 2 --seed 4 --threads 1 --out " + dir,
                    &out, &err), 0) << err;
  auto rows = read_csv(dir + "/eval.csv");
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0], (std::vector<std::string>{"iteration", "mean_return", "std_return", "q_estimate",
                                               "true_discounted_return", "wall_seconds"}));
  EXPECT_EQ(rows[1][0], "20");
  EXPECT_EQ(rows[2][0], "40");
  std::ifstream cin(dir + "/config.json");
  auto config = nlohmann::json::parse(cin);
  EXPECT_EQ(config["algo"], "bcq");
  EXPECT_EQ(config["seed"], 4);
  EXPECT_EQ(config["hyperparameters"]["lambda"], 0.75);
  EXPECT_EQ(config["hyperparameters"]["phi"], 0.05);
  EXPECT_TRUE(config.contains("git_commit"));
  ASSERT_TRUE(fs::exists(dir + "/policy.pt"));
  ASSERT_TRUE(fs::exists(dir + "/checkpoint.pt"));
  // bcq eval runs the exported TorchScript policy.
  ASSERT_EQ(run_bcq("eval --policy " + dir + "/policy.pt --env inverted-pendulum --episodes 2 --json",
                    &out, &err), 0) << err;
  auto j = nlohmann::json::parse(out);
  EXPECT_EQ(j["episodes"].size(), 2u);
  EXPECT_GT(j["mean_return"].get<double>(), 0.0);
  // Without --seed, eval starts its episodes from the evaluation seeds of the run the policy
  // belongs to (config.json's eval_seed), so it repeats the last row of eval.csv.
  EXPECT_EQ(j["seed"], config["eval_seed"]);
  auto as_in_eval_csv = [](double v) {  // common/eval_csv.hpp writes 9 significant digits
    std::ostringstream text;
    text.precision(9);
    text << v;
    return text.str();
  };
  EXPECT_EQ(as_in_eval_csv(j["mean_return"].get<double>()), rows[2][1]);
  EXPECT_EQ(as_in_eval_csv(j["std_return"].get<double>()), rows[2][2]);
  ASSERT_EQ(run_bcq("eval --policy " + dir + "/policy.pt --env inverted-pendulum --episodes 2 --seed 1",
                    &out, &err), 0) << err;
  EXPECT_EQ(out.rfind("episode 1: return ", 0), 0u) << out;  // numbered from 1, as env rollout
  EXPECT_NE(out.find("\nepisode 2: return "), std::string::npos) << out;
  // A training checkpoint given as the policy is named as such, in one line.
  EXPECT_EQ(run_bcq("eval --policy " + dir + "/checkpoint.pt --env inverted-pendulum --episodes 1", &out, &err), 2);
  EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
  EXPECT_NE(err.find("no forward method; a training checkpoint?"), std::string::npos) << err;
  EXPECT_EQ(err.find("frame #"), std::string::npos) << err;
  // A policy for another environment is refused with exit 2.
  EXPECT_EQ(run_bcq("eval --policy " + dir + "/policy.pt --env hopper --episodes 1", &out, &err), 2);
  EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
  // The run folder is not overwritten without --resume.
  EXPECT_EQ(run_bcq("train --env inverted-pendulum --buffer " + *buffer_ + " --out " + dir, &out, &err), 2);
  EXPECT_NE(err.find("already holds a run"), std::string::npos) << err;
}

TEST_F(TrainingCli, ResumeEndsWithTheSameNumbersAsAnUninterruptedRun) {
  for (const std::string algo : {"bcq", "ddpg"}) {
    const auto straight = temp_path("straight_" + algo), split = temp_path("split_" + algo);
    fs::remove_all(straight);
    fs::remove_all(split);
    const std::string common = "train --algo " + algo + " --env inverted-pendulum --buffer " + *buffer_ +
                               " --eval-every 15 --eval-episodes 2 --seed 9 --threads 1 ";
    std::string err;
    ASSERT_EQ(run_bcq(common + "--iterations 45 --out " + straight, nullptr, &err), 0) << err;
    // The "killed" run stopped after its checkpoint at 15 (an iteration count that the
    // resumed run continues past).
    ASSERT_EQ(run_bcq(common + "--iterations 15 --out " + split, nullptr, &err), 0) << err;
    ASSERT_EQ(run_bcq(common + "--iterations 45 --resume --out " + split, nullptr, &err), 0) << err;
    torch::serialize::InputArchive a, b;
    a.load_from(straight + "/checkpoint.pt");
    b.load_from(split + "/checkpoint.pt");
    for (const auto& key : a.keys()) {
      torch::Tensor x, y;
      a.read(key, x);
      b.read(key, y);
      EXPECT_TRUE(torch::equal(x, y)) << algo << ": " << key;
    }
    auto ra = read_csv(straight + "/eval.csv"), rb = read_csv(split + "/eval.csv");
    ASSERT_EQ(ra.size(), 4u);
    ASSERT_EQ(rb.size(), 4u);
    for (std::size_t i = 1; i < ra.size(); ++i) {
      for (std::size_t c = 0; c < 5; ++c) EXPECT_EQ(ra[i][c], rb[i][c]) << algo << " row " << i << " col " << c;
    }
    // A damaged eval.csv is refused on resume (it would otherwise be rewritten with zeros).
    if (algo == "ddpg") {
      std::string csv;
      {
        std::ifstream in(split + "/eval.csv");
        std::getline(in, csv);
      }
      csv += "\n15,3,0,x7,2.9,1\n";
      std::ofstream(split + "/eval.csv") << csv;
      EXPECT_EQ(run_bcq(common + "--iterations 60 --resume --out " + split, nullptr, &err), 2);
      EXPECT_NE(err.find(split + "/eval.csv:2: q_estimate 'x7' is not a number"), std::string::npos) << err;
    }
  }
}

// The hyperparameters a run uses are its config's (continuous/config.hpp), set in-process
// through TrainOptions as the study runner does: the batch size changes what is trained, and
// the evaluation discount is the agent's (rewards are 1 per step on InvertedPendulum, so with
// gamma = 0.5 the true discounted return is below 1 / (1 - 0.5) = 2).
TEST_F(TrainingCli, HyperparametersOfTheConfigAreTheOnesTheRunUses) {
  auto run = [&](const std::string& name, const AgentConfigs& configs) {
    TrainOptions o;
    o.algo = "bcq";
    o.env = "inverted-pendulum";
    o.buffer_path = *buffer_;
    o.out_dir = temp_path(name);
    fs::remove_all(o.out_dir);
    o.iterations = 4;
    o.eval_every = 4;
    o.eval_episodes = 2;
    o.seed = 6;
    o.threads = 1;
    o.hyperparameters = configs;
    train(o);
    torch::serialize::InputArchive a;
    a.load_from(o.out_dir + "/checkpoint.pt");
    torch::Tensor critic;
    a.read("bcq/critic", critic);
    std::ifstream in(o.out_dir + "/config.json");
    return std::make_tuple(critic, read_csv(o.out_dir + "/eval.csv"), nlohmann::json::parse(in));
  };
  const auto [critic0, eval0, config0] = run("default", AgentConfigs{});
  const auto [critic1, eval1, config1] = run("default_again", AgentConfigs{});
  EXPECT_TRUE(torch::equal(critic0, critic1));  // the control: same config, same run
  AgentConfigs small_batch;
  small_batch.bcq.batch_size = 10;
  const auto [critic2, eval2, config2] = run("small_batch", small_batch);
  EXPECT_FALSE(torch::equal(critic0, critic2));
  EXPECT_EQ(config2["hyperparameters"]["batch_size"], 10);
  EXPECT_EQ(config0["hyperparameters"]["batch_size"], 100);
  AgentConfigs short_sighted;
  short_sighted.bcq.discount = 0.5;
  const auto [critic3, eval3, config3] = run("discount", short_sighted);
  ASSERT_EQ(eval3.size(), 2u);
  EXPECT_LT(std::stod(eval3[1][4]), 2.0);
  EXPECT_GT(std::stod(eval0[1][4]), std::stod(eval3[1][4]));
  EXPECT_EQ(config3["hyperparameters"]["discount"], 0.5);
}

// A checkpoint whose tensor does not fit the agent (another problem's, or damaged) is bad
// input: exit 2 and one line naming the file and the entry, not an internal error.
TEST_F(TrainingCli, CheckpointTensorOfTheWrongSizeIsRefusedNamingIt) {
  const auto dir = temp_path("wrong_size");
  fs::remove_all(dir);
  const std::string common = "train --algo ddpg --env inverted-pendulum --buffer " + *buffer_ +
                             " --eval-every 5 --eval-episodes 1 --seed 2 --threads 1 --out " + dir;
  std::string err;
  ASSERT_EQ(run_bcq(common + " --iterations 5", nullptr, &err), 0) << err;
  {
    torch::serialize::InputArchive in;
    in.load_from(dir + "/checkpoint.pt");
    torch::serialize::OutputArchive out;
    for (const auto& key : in.keys()) {
      torch::Tensor t;
      in.read(key, t);
      out.write(key, key == "ddpg/critic" ? torch::zeros({3}) : t);
    }
    out.save_to(dir + "/checkpoint.pt");
  }
  EXPECT_EQ(run_bcq(common + " --iterations 10 --resume", nullptr, &err), 2);
  EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
  EXPECT_NE(err.find(dir + "/checkpoint.pt"), std::string::npos) << err;
  EXPECT_NE(err.find("ddpg/critic has size [3]"), std::string::npos) << err;
}

// --version of both programs is project(VERSION) of the top-level CMakeLists.txt.
TEST(VersionCli, BothProgramsPrintTheProjectVersion) {
  std::ifstream in(std::string(BCQ_SOURCE_DIR) + "/CMakeLists.txt");
  std::string line, version;
  while (std::getline(in, line) && version.empty()) {
    const auto at = line.find("project(bcq VERSION ");
    if (at != std::string::npos) {
      version = line.substr(at + 20);
      version = version.substr(0, version.find(' '));
    }
  }
  ASSERT_FALSE(version.empty());
  std::string out, err;
  ASSERT_EQ(run_bcq("--version", &out, &err), 0) << err;
  EXPECT_EQ(out, "bcq " + version + "\n");
  const std::string continuous = (fs::path(BCQ_BINARY).parent_path() / "bcq-continuous").string();
  test::TempDir dir;
  const int status = std::system((test::shell_quote(continuous) + " --version > " +
                                  test::shell_quote(dir.file("version.txt"))).c_str());
  ASSERT_EQ(status, 0);
  EXPECT_EQ(test::read_file(dir.file("version.txt")), "bcq " + version + "\n");
}

TEST_F(TrainingCli, ExpertKindsRecordTheirSettings) {
  for (const std::string kind : {"imitation", "imperfect"}) {
    const auto path = temp_path(kind + ".h5");
    std::string err;
    ASSERT_EQ(run_bcq("collect --env inverted-pendulum --kind " + kind +
                          " --steps 300 --expert-steps 250 --start-steps 200 --seed 2 --threads 1 -o " + path,
                      nullptr, &err), 0) << err;
    nlohmann::json attrs;
    auto b = load_buffer(path, {4, 1, 3.0, "inverted-pendulum"}, &attrs);
    EXPECT_EQ(b.size(), 300u);
    EXPECT_EQ(attrs["kind"], kind);
    EXPECT_EQ(attrs["expert_steps"], 250);
    std::remove(path.c_str());
  }
}

TEST_F(TrainingCli, ConcurrentTrainingSavesTheGrowingBuffer) {
  const auto dir = temp_path("concurrent");
  fs::remove_all(dir);
  std::string err;
  ASSERT_EQ(run_bcq("train --concurrent --algo bc --env inverted-pendulum --iterations 300 "
                    "--start-steps 100 --eval-every 150 --eval-episodes 1 --seed 1 --threads 1 --out " + dir,
                    nullptr, &err), 0) << err;
  nlohmann::json attrs;
  auto b = load_buffer(dir + "/buffer.h5", {4, 1, 3.0, "inverted-pendulum"}, &attrs);
  EXPECT_EQ(b.size(), 300u);
  EXPECT_EQ(attrs["kind"], "concurrent");
  EXPECT_EQ(read_csv(dir + "/eval.csv").size(), 3u);
  EXPECT_TRUE(fs::exists(dir + "/policy.pt"));
}

// Every tensor of two checkpoints (nested archives included) is equal.
void expect_same_archives(torch::serialize::InputArchive& a, torch::serialize::InputArchive& b,
                          const std::string& where) {
  ASSERT_EQ(a.keys(), b.keys()) << where;
  for (const auto& key : a.keys()) {
    torch::Tensor x, y;
    if (a.try_read(key, x)) {
      ASSERT_TRUE(b.try_read(key, y)) << where << ": " << key;
      EXPECT_TRUE(x.sizes() == y.sizes() && torch::equal(x, y)) << where << ": " << key;
    } else {
      torch::serialize::InputArchive na, nb;
      a.read(key, na);
      b.read(key, nb);
      expect_same_archives(na, nb, where + "/" + key);
    }
  }
}

void expect_same_buffers(const ReplayBuffer& x, const ReplayBuffer& y) {
  EXPECT_EQ(x.observations, y.observations);
  EXPECT_EQ(x.actions, y.actions);
  EXPECT_EQ(x.rewards, y.rewards);
  EXPECT_EQ(x.next_observations, y.next_observations);
  EXPECT_EQ(x.terminals, y.terminals);
  EXPECT_EQ(x.timeouts, y.timeouts);
}

// A process killed right after its N-th checkpoint (SIGKILL, no cleanup), as a crash would.
int run_bcq_killed_after_checkpoint(int n, const std::string& args, std::string* err) {
  return run_bcq(args, nullptr, err, "BCQ_KILL_AFTER_CHECKPOINT=" + std::to_string(n));
}

TEST_F(TrainingCli, KilledConcurrentRunResumesBitIdentically) {
  const auto straight = temp_path("conc_straight"), killed = temp_path("conc_killed");
  fs::remove_all(straight);
  fs::remove_all(killed);
  const std::string common = "train --concurrent --algo bcq --env inverted-pendulum --start-steps 60 "
                             "--iterations 180 --eval-every 60 --eval-episodes 1 --seed 4 --threads 1 --out ";
  std::string err;
  ASSERT_EQ(run_bcq(common + straight, nullptr, &err), 0) << err;
  EXPECT_NE(run_bcq_killed_after_checkpoint(2, common + killed, &err), 0);
  {
    std::ifstream in(killed + "/status.json");
    EXPECT_EQ(nlohmann::json::parse(in)["status"], "running");  // it never finished
    EXPECT_FALSE(fs::exists(killed + "/policy.pt"));
  }
  ASSERT_EQ(run_bcq(common + killed + " --resume", nullptr, &err), 0) << err;
  torch::serialize::InputArchive a, b;
  a.load_from(straight + "/checkpoint.pt");
  b.load_from(killed + "/checkpoint.pt");
  expect_same_archives(a, b, "checkpoint.pt");
  const BufferExpectations expect{4, 1, 3.0, "inverted-pendulum"};
  auto x = load_buffer(straight + "/buffer.h5", expect), y = load_buffer(killed + "/buffer.h5", expect);
  EXPECT_EQ(x.size(), 180u);
  expect_same_buffers(x, y);
  auto ra = read_csv(straight + "/eval.csv"), rb = read_csv(killed + "/eval.csv");
  ASSERT_EQ(ra.size(), 4u);
  ASSERT_EQ(rb.size(), 4u);
  for (std::size_t i = 1; i < ra.size(); ++i) {
    for (std::size_t c = 0; c < 5; ++c) EXPECT_EQ(ra[i][c], rb[i][c]) << "row " << i << " col " << c;
  }
}

// Ctrl-C (SIGINT, here sent by the process to itself after iteration 33 through the
// BCQ_INTERRUPT_AFTER_STEP seam) checkpoints between two iterations, so that nothing done is
// lost, and exits 130 with one line saying how to resume; the resumed run ends with the same
// parameters and evaluations as one never interrupted. A resume that would change the run
// (fewer iterations, another thread count) is refused.
TEST_F(TrainingCli, CtrlCCheckpointsMidIntervalAndTheResumedRunIsBitIdentical) {
  const auto straight = temp_path("sigint_straight"), split = temp_path("sigint_split");
  fs::remove_all(straight);
  fs::remove_all(split);
  const std::string common = "train --algo ddpg --env inverted-pendulum --buffer " + *buffer_ +
                             " --eval-every 20 --eval-episodes 1 --seed 6 --quiet ";
  std::string err;
  ASSERT_EQ(run_bcq(common + "--threads 1 --iterations 60 --out " + straight, nullptr, &err), 0) << err;
  EXPECT_EQ(run_bcq(common + "--threads 1 --iterations 60 --out " + split, nullptr, &err,
                    "BCQ_INTERRUPT_AFTER_STEP=33"), 130)
      << err;
  EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
  EXPECT_NE(err.find("interrupted by SIGINT at iteration 33 of 60"), std::string::npos) << err;
  EXPECT_NE(err.find("--resume"), std::string::npos) << err;
  {
    std::ifstream in(split + "/status.json");
    const auto status = nlohmann::json::parse(in);
    EXPECT_EQ(status["status"], "interrupted");
    EXPECT_EQ(status["iteration"], 33);
    EXPECT_EQ(status["checkpoint_iteration"], 33);
    EXPECT_FALSE(fs::exists(split + "/policy.pt"));
    // The checkpoint is of iteration 33 itself, not the periodic one of iteration 20.
    torch::serialize::InputArchive ckpt;
    ckpt.load_from(split + "/checkpoint.pt");
    torch::Tensor iteration;
    ckpt.read("iteration", iteration);
    EXPECT_EQ(iteration.item<int64_t>(), 33);
  }
  EXPECT_EQ(run_bcq(common + "--threads 1 --iterations 50 --resume --out " + split, nullptr, &err), 2);
  EXPECT_NE(err.find("fewer iterations (50) than the run has (60)"), std::string::npos) << err;
  EXPECT_EQ(run_bcq(common + "--threads 2 --iterations 60 --resume --out " + split, nullptr, &err), 2);
  EXPECT_NE(err.find("different threads"), std::string::npos) << err;
  if (std::thread::hardware_concurrency() > 1) {  // --threads 0 resolves to all cores: not 1 here
    EXPECT_EQ(run_bcq(common + "--threads 0 --iterations 60 --resume --out " + split, nullptr, &err), 2);
    EXPECT_NE(err.find("--threads 0 means all cores, " + std::to_string(std::thread::hardware_concurrency()) +
                       " here: pass --threads 1"),
              std::string::npos)
        << err;
  }
  ASSERT_EQ(run_bcq(common + "--threads 1 --iterations 60 --resume --out " + split, nullptr, &err), 0) << err;
  // Interrupted before its first iteration, a run has nothing to resume and says so.
  const auto early = temp_path("sigint_early");
  fs::remove_all(early);
  EXPECT_EQ(run_bcq(common + "--threads 1 --iterations 60 --out " + early, nullptr, &err, "BCQ_INTERRUPT_AFTER_STEP=0"),
            130) << err;
  EXPECT_NE(err.find("before its first iteration; rerun the same command (without --resume)"), std::string::npos)
      << err;
  EXPECT_FALSE(fs::exists(early + "/checkpoint.pt"));
  ASSERT_EQ(run_bcq(common + "--threads 1 --iterations 20 --out " + early, nullptr, &err), 0) << err;
  torch::serialize::InputArchive a, b;
  a.load_from(straight + "/checkpoint.pt");
  b.load_from(split + "/checkpoint.pt");
  expect_same_archives(a, b, "checkpoint.pt");
  auto ra = read_csv(straight + "/eval.csv"), rb = read_csv(split + "/eval.csv");
  ASSERT_EQ(ra.size(), 4u);
  ASSERT_EQ(rb.size(), 4u);
  for (std::size_t i = 1; i < ra.size(); ++i) {
    for (std::size_t c = 0; c < 5; ++c) EXPECT_EQ(ra[i][c], rb[i][c]) << "row " << i << " col " << c;
  }
}

// The same for a collection: checkpointed after the interrupted step, resumed to the buffer an
// uninterrupted collection writes. Its output path is checked before any step is taken.
TEST_F(TrainingCli, CtrlCDuringACollectionResumesToTheSameBuffer) {
  const auto straight = temp_path("sigint_collect_straight.h5"), split = temp_path("sigint_collect_split.h5");
  fs::remove_all(split + ".checkpoint");
  const std::string common = "collect --env inverted-pendulum --kind final --steps 300 --start-steps 100 "
                             "--checkpoint-every 1000 --seed 8 --threads 1 --quiet -o ";
  std::string err;
  ASSERT_EQ(run_bcq(common + straight, nullptr, &err), 0) << err;
  EXPECT_EQ(run_bcq(common + split, nullptr, &err, "BCQ_INTERRUPT_AFTER_STEP=170"), 130) << err;
  EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
  EXPECT_NE(err.find("collect interrupted by SIGINT after step 170 of 300"), std::string::npos) << err;
  EXPECT_FALSE(fs::exists(split));
  {
    torch::serialize::InputArchive state;  // written after step 170 (no periodic one was due)
    state.load_from(split + ".checkpoint/state.pt");
    torch::Tensor step;
    state.read("step", step);
    EXPECT_EQ(step.item<int64_t>(), 170);
  }
  std::string other_threads = common;
  other_threads.replace(other_threads.find("--threads 1"), 11, "--threads 2");
  EXPECT_EQ(run_bcq(other_threads + split + " --resume", nullptr, &err), 2);
  EXPECT_NE(err.find("different --threads"), std::string::npos) << err;
  if (std::thread::hardware_concurrency() > 1) {
    std::string all_cores = common;
    all_cores.replace(all_cores.find("--threads 1"), 11, "--threads 0");
    EXPECT_EQ(run_bcq(all_cores + split + " --resume", nullptr, &err), 2);
    EXPECT_NE(err.find("--threads 0 means all cores, " + std::to_string(std::thread::hardware_concurrency()) +
                       " here: pass --threads 1"),
              std::string::npos)
        << err;
  }
  ASSERT_EQ(run_bcq(common + split + " --resume", nullptr, &err), 0) << err;
  const BufferExpectations expect{4, 1, 3.0, "inverted-pendulum"};
  auto x = load_buffer(straight, expect), y = load_buffer(split, expect);
  EXPECT_EQ(x.size(), 300u);
  expect_same_buffers(x, y);
  // Outputs that could not be written are refused before the collection starts.
  EXPECT_EQ(run_bcq(common + temp_path("no-such-folder/b.h5"), nullptr, &err), 2);
  EXPECT_NE(err.find("does not exist"), std::string::npos) << err;
  EXPECT_EQ(run_bcq(common + suite_dir().string(), nullptr, &err), 2);
  EXPECT_NE(err.find("it is a directory"), std::string::npos) << err;
  EXPECT_EQ(run_bcq("train --env inverted-pendulum --buffer " + *buffer_ + " --out " + *buffer_, nullptr, &err), 2);
  EXPECT_NE(err.find("is the --buffer file, not a run folder"), std::string::npos) << err;
}

TEST_F(TrainingCli, KilledCollectionResumesAcrossPhasesToTheSameBuffer) {
  const auto straight = temp_path("collect_straight.h5"), killed = temp_path("collect_killed.h5");
  fs::remove_all(killed + ".checkpoint");
  // Checkpoints at expert-training steps 150, 300, 450 and imperfect-data steps 150, 300.
  const std::string common = "collect --env inverted-pendulum --kind imperfect --steps 400 --expert-steps 500 "
                             "--start-steps 200 --checkpoint-every 150 --seed 5 --threads 1 -o ";
  std::string err;
  ASSERT_EQ(run_bcq(common + straight, nullptr, &err), 0) << err;
  EXPECT_FALSE(fs::exists(straight + ".checkpoint"));
  // Killed in expert training (after 300 steps), then again after the switch to the data phase.
  EXPECT_NE(run_bcq_killed_after_checkpoint(2, common + killed, &err), 0);
  EXPECT_FALSE(fs::exists(killed));
  EXPECT_TRUE(fs::exists(killed + ".checkpoint/state.pt"));
  // Without --resume the interrupted collection is not overwritten; other options are refused.
  EXPECT_EQ(run_bcq(common + killed, nullptr, &err), 2);
  EXPECT_NE(err.find("--resume"), std::string::npos) << err;
  std::string other_steps = common;
  other_steps.replace(other_steps.find("--steps 400"), 11, "--steps 401");
  EXPECT_EQ(run_bcq(other_steps + killed + " --resume", nullptr, &err), 2);
  EXPECT_NE(err.find("different --steps"), std::string::npos) << err;
  EXPECT_NE(run_bcq_killed_after_checkpoint(2, common + killed + " --resume", &err), 0);
  ASSERT_EQ(run_bcq(common + killed + " --resume", nullptr, &err), 0) << err;
  EXPECT_FALSE(fs::exists(killed + ".checkpoint"));
  nlohmann::json attrs_x, attrs_y;
  const BufferExpectations expect{4, 1, 3.0, "inverted-pendulum"};
  auto x = load_buffer(straight, expect, &attrs_x), y = load_buffer(killed, expect, &attrs_y);
  EXPECT_EQ(x.size(), 400u);
  expect_same_buffers(x, y);
  EXPECT_EQ(attrs_x["behavioural_return"], attrs_y["behavioural_return"]);
  EXPECT_EQ(attrs_x["behavioural_episodes"], attrs_y["behavioural_episodes"]);
  std::remove(straight.c_str());
  std::remove(killed.c_str());
}

TEST_F(TrainingCli, Bf16PrecisionIsRecordedAndOnlyForBcq) {
  const auto dir = temp_path("bf16");
  fs::remove_all(dir);
  std::string out, err;
  ASSERT_EQ(run_bcq("train --algo bcq --precision bf16 --env inverted-pendulum --buffer " + *buffer_ +
                        " --iterations 20 --eval-every 20 --eval-episodes 1 --seed 4 --threads 1 --out " + dir,
                    &out, &err), 0) << err;
  std::ifstream cin(dir + "/config.json");
  auto config = nlohmann::json::parse(cin);
  EXPECT_EQ(config["precision"], "bf16");
  EXPECT_EQ(config["hyperparameters"]["matmul_precision"], "bf16");
  // Resuming in another precision would mix two numerics in one run.
  EXPECT_EQ(run_bcq("train --algo bcq --env inverted-pendulum --buffer " + *buffer_ +
                        " --iterations 40 --eval-every 20 --eval-episodes 1 --seed 4 --threads 1 --resume --out " + dir,
                    &out, &err), 2);
  EXPECT_NE(err.find("different precision"), std::string::npos) << err;
  EXPECT_EQ(run_bcq("train --algo ddpg --precision bf16 --env inverted-pendulum --buffer " + *buffer_ +
                        " --iterations 2 --out " + dir + "_ddpg", &out, &err), 2);
  EXPECT_NE(err.find("bcq only"), std::string::npos) << err;
  EXPECT_EQ(run_bcq("train --algo bcq --precision fp16 --env inverted-pendulum --buffer " + *buffer_ +
                        " --iterations 2 --out " + dir + "_fp16", &out, &err), 2);
  EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
}

// One transition in 5,000 has a reward of 1e30, so the critic's squared error overflows
// float32 the first time a mini-batch of 100 draws it: with seed 1 that is well after the first
// checkpoint (iteration 5), so the run stops naming a checkpoint that exists and holds the last
// evaluated iteration. A buffer where every other reward is 1e30 diverges at iteration 1,
// before any checkpoint: the message then says that none was written.
TEST_F(TrainingCli, NonFiniteLossStopsTheRunAndKeepsTheLastCheckpoint) {
  ReplayBuffer rare(4, 1), every_other(4, 1);
  const float s[4] = {0, 0, 0, 0}, a[1] = {0};
  for (int i = 0; i < 5000; ++i) rare.add(s, a, i == 2500 ? 1e30f : 0.0f, s, false, false);
  for (int i = 0; i < 200; ++i) every_other.add(s, a, i % 2 ? 1e30f : 0.0f, s, false, false);
  const auto rare_path = temp_path("rare_huge.h5"), every_path = temp_path("huge.h5");
  save_buffer(rare_path, rare, {{"env", "inverted-pendulum"}});
  save_buffer(every_path, every_other, {{"env", "inverted-pendulum"}});
  const auto dir = temp_path("diverged"), early = temp_path("diverged_early");
  fs::remove_all(dir);
  fs::remove_all(early);
  std::string err;
  EXPECT_EQ(run_bcq("train --algo ddpg --env inverted-pendulum --buffer " + rare_path +
                        " --iterations 2000 --eval-every 5 --eval-episodes 1 --seed 1 --threads 1 --out " + dir,
                    nullptr, &err), 1);
  EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
  EXPECT_NE(err.find("diverged at iteration"), std::string::npos) << err;
  EXPECT_NE(err.find("critic_loss"), std::string::npos) << err;
  std::ifstream in(dir + "/status.json");
  auto status = nlohmann::json::parse(in);
  EXPECT_EQ(status["status"], "diverged");
  EXPECT_FALSE(fs::exists(dir + "/policy.pt"));
  const int last_good = status["checkpoint_iteration"].get<int>();
  ASSERT_GT(last_good, 0) << "diverged before the first checkpoint: " << err;
  EXPECT_NE(err.find("last good checkpoint " + dir + "/checkpoint.pt (iteration " +
                     std::to_string(last_good) + ")"), std::string::npos) << err;
  torch::serialize::InputArchive ckpt;
  ckpt.load_from(dir + "/checkpoint.pt");
  torch::Tensor it;
  ckpt.read("iteration", it);
  EXPECT_EQ(it.item<int64_t>(), last_good);
  EXPECT_EQ(read_csv(dir + "/eval.csv").back()[0], std::to_string(last_good));

  EXPECT_EQ(run_bcq("train --algo ddpg --env inverted-pendulum --buffer " + every_path +
                        " --iterations 50 --eval-every 5 --eval-episodes 1 --seed 1 --threads 1 --out " + early,
                    nullptr, &err), 1);
  EXPECT_NE(err.find("diverged at iteration 1:"), std::string::npos) << err;
  EXPECT_NE(err.find("no checkpoint was written"), std::string::npos) << err;
  EXPECT_FALSE(fs::exists(early + "/checkpoint.pt"));
  std::remove(rare_path.c_str());
  std::remove(every_path.c_str());
}

}  // namespace
}  // namespace bcq::continuous
