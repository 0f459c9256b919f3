// `bcq train` and `bcq collect` on a full disk, and `bcq eval` / `train --resume` on a damaged
// LibTorch archive, through the command line (docs/limits.md).
//
// A full disk: exit code 2, one stderr line naming the file that could not be written, no
// temporary file left, inputs and an earlier checkpoint untouched, and the run resumable once
// there is space. The
// disk fills mid-run: after the run folder's small files (config.json, eval.csv, a checkpoint's
// buffer) were written, at the first write larger than the limit (tests/test_util.hpp,
// run_bcq_on_full_disk). Before the fix LibTorch's file writer aborted the program with a
// stack trace (std::terminate: it threw again from its destructor).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "tests/test_util.hpp"

namespace {

namespace fs = std::filesystem;
using bcq::test::CliResult;
using bcq::test::expect_refused;
using bcq::test::read_file;
using bcq::test::run_bcq;
using bcq::test::run_bcq_on_full_disk;
using bcq::test::TempDir;

constexpr std::uint64_t kMiB = 1 << 20;

// Every file below `dir` (relative paths), to look for leftovers.
std::vector<std::string> files_below(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) out.push_back(fs::relative(e.path(), dir).string());
  std::sort(out.begin(), out.end());
  return out;
}

bool has_temporary(const std::string& dir) {
  for (const auto& f : files_below(dir))
    if (f.find(".tmp") != std::string::npos) return true;
  return false;
}

// One small InvertedPendulum buffer per test suite (1200 transitions, ~55 KB).
class SmallBuffer : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir;
    const CliResult r = run_bcq({"collect", "--env", "inverted-pendulum", "--kind", "final", "--steps", "1200",
                                 "--start-steps", "1100", "--seed", "3", "--threads", "1", "-o", buffer()},
                                dir_->path());
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  static std::string buffer() { return dir_->file("ip.h5"); }
  static std::vector<std::string> train(const std::string& algo, const std::string& iterations, const std::string& out) {
    return {"train", "--algo", algo, "--env", "inverted-pendulum", "--buffer", buffer(), "--iterations", iterations,
            "--eval-every", "10", "--eval-episodes", "1", "--seed", "1", "--threads", "1", "--quiet", "--out", out};
  }
  static std::vector<std::string> collect(const std::string& out, const std::string& checkpoint_every) {
    return {"collect", "--env", "inverted-pendulum", "--kind", "final", "--steps", "1200", "--start-steps", "1100",
            "--seed", "5", "--threads", "1", "--quiet", "--checkpoint-every", checkpoint_every, "-o", out};
  }
  static TempDir* dir_;
};
TempDir* SmallBuffer::dir_ = nullptr;

class ContinuousFullDisk : public SmallBuffer {};
class DamagedArchive : public SmallBuffer {};

// BCQ's checkpoint is ~20 MB: with files limited to 1 MiB, config.json, eval.csv and status.json
// are written, then the first checkpoint (iteration 10) fails. The run folder this run created
// holds nothing to resume and goes; the buffer is untouched.
TEST_F(ContinuousFullDisk, TrainFailsAtItsFirstCheckpointAndLeavesNothing) {
  TempDir t;
  const std::string before = read_file(buffer());
  const CliResult r = run_bcq_on_full_disk(train("bcq", "20", t.file("run")), kMiB);
  expect_refused(r, {"cannot write " + t.file("run") + "/checkpoint.pt (write): File too large"});
  EXPECT_EQ(r.err.find("frame #"), std::string::npos) << r.err;
  EXPECT_EQ(t.entries(), std::vector<std::string>{}) << "the new run folder is removed";
  EXPECT_TRUE(read_file(buffer()) == before) << "the input buffer is untouched";
}

// A run with a checkpoint (iteration 20, killed before it exported policy.pt): on a full disk the
// export fails, then (extended to 30 iterations) the next checkpoint; each time checkpoint.pt
// keeps its bytes, nothing temporary is left, and the run then resumes to the end.
TEST_F(ContinuousFullDisk, TrainKeepsItsLastCheckpointAndResumes) {
  TempDir t;
  const std::string run = t.file("run");
  std::string err;
  std::string args;
  for (const auto& a : train("bc", "20", run)) args += " " + bcq::test::shell_quote(a);
  EXPECT_NE(run_bcq(args, nullptr, &err, "BCQ_KILL_AFTER_CHECKPOINT=2"), 0);  // SIGKILL after iteration 20
  ASSERT_TRUE(fs::exists(run + "/checkpoint.pt")) << err;
  ASSERT_FALSE(fs::exists(run + "/policy.pt"));
  const std::string checkpoint = read_file(run + "/checkpoint.pt");
  ASSERT_GT(checkpoint.size(), 100000u);  // bc's checkpoint is ~1.5 MB, its policy.pt ~0.5 MB

  auto resume = [&](const std::string& iterations) {
    auto a = train("bc", iterations, run);
    a.push_back("--resume");
    return a;
  };
  CliResult r = run_bcq_on_full_disk(resume("20"), 64 * 1024);
  expect_refused(r, {"cannot write " + run + "/policy.pt (write): File too large"});
  EXPECT_FALSE(fs::exists(run + "/policy.pt"));
  EXPECT_TRUE(read_file(run + "/checkpoint.pt") == checkpoint) << "the checkpoint of iteration 20 is untouched";
  EXPECT_FALSE(has_temporary(t.path())) << testing::PrintToString(files_below(t.path()));

  r = run_bcq_on_full_disk(resume("30"), 64 * 1024);
  expect_refused(r, {"cannot write " + run + "/checkpoint.pt (write): File too large"});
  EXPECT_TRUE(read_file(run + "/checkpoint.pt") == checkpoint) << "the checkpoint of iteration 20 is untouched";
  EXPECT_FALSE(has_temporary(t.path())) << testing::PrintToString(files_below(t.path()));

  r = run_bcq(resume("30"), t.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(read_file(run + "/eval.csv").substr(read_file(run + "/eval.csv").find('\n') + 1, 3), "10,");
  EXPECT_NE(read_file(run + "/eval.csv").find("\n30,"), std::string::npos);
  EXPECT_TRUE(fs::exists(run + "/policy.pt"));
}

// A collection whose first checkpoint (step 1000) cannot be written: its buffer.h5 (~45 KB) is,
// state.pt (the behavioural DDPG, ~4 MB) is not. No output, no checkpoint folder is left.
TEST_F(ContinuousFullDisk, CollectFailsAtItsFirstCheckpointAndLeavesNothing) {
  TempDir t;
  const CliResult r = run_bcq_on_full_disk(collect(t.file("b.h5"), "1000"), kMiB);
  expect_refused(r, {"cannot write " + t.file("b.h5") + ".checkpoint/state.pt (write): File too large"});
  EXPECT_EQ(t.entries(), std::vector<std::string>{});
}

// Without a checkpoint, the last write is the buffer itself (~55 KB): it fails whole.
TEST_F(ContinuousFullDisk, CollectFailsAtItsOutputAndLeavesNothing) {
  TempDir t;
  const CliResult r = run_bcq_on_full_disk(collect(t.file("b.h5"), "100000"), 16 * 1024);
  expect_refused(r, {"cannot write " + t.file("b.h5") + " (write): File too large"});
  EXPECT_EQ(t.entries(), std::vector<std::string>{});
}

// A collection interrupted at step 700 (its checkpoint), resumed on a full disk: the checkpoint
// of step 1000 fails, the one of step 700 keeps its bytes, and the collection then resumes.
TEST_F(ContinuousFullDisk, CollectKeepsItsLastCheckpointAndResumes) {
  TempDir t;
  const std::string out = t.file("b.h5");
  std::string args, err;
  for (const auto& a : collect(out, "1000")) args += " " + bcq::test::shell_quote(a);
  ASSERT_EQ(run_bcq(args, nullptr, &err, "BCQ_INTERRUPT_AFTER_STEP=700"), 130) << err;
  const std::string state = read_file(out + ".checkpoint/state.pt");
  ASSERT_FALSE(state.empty());
  auto resume = collect(out, "1000");
  resume.push_back("--resume");
  const CliResult r = run_bcq_on_full_disk(resume, kMiB);
  expect_refused(r, {"cannot write " + out + ".checkpoint/state.pt (write): File too large"});
  EXPECT_TRUE(read_file(out + ".checkpoint/state.pt") == state) << "the checkpoint of step 700 is untouched";
  EXPECT_FALSE(fs::exists(out));
  EXPECT_FALSE(has_temporary(t.path())) << testing::PrintToString(files_below(t.path()));
  const CliResult done = run_bcq(resume, t.path());
  ASSERT_EQ(done.exit_code, 0) << done.err;
  EXPECT_NE(done.out.find("collected 1200 transitions"), std::string::npos) << done.out;
  EXPECT_FALSE(fs::exists(out + ".checkpoint"));
}

// No zip header (local or central) within 4 KB of `at`.
bool far_from_zip_headers(const std::string& bytes, std::size_t at) {
  const std::string around = bytes.substr(at - 4096, 8192);
  return around.find(std::string("PK\x03\x04", 4)) == std::string::npos &&
         around.find(std::string("PK\x01\x02", 4)) == std::string::npos;
}

// A policy.pt with one byte flipped in the middle of a stored tensor loaded and acted
// differently: LibTorch 1.13 does not check the CRC-32 of the archive's entries. bcq checks them
// before loading (common/zip_archive.hpp): exit 2 and one line naming the file; an intact copy
// still runs. The same for a damaged checkpoint.pt on --resume.
TEST_F(DamagedArchive, AFlippedByteInAPolicyOrCheckpointIsRefused) {
  TempDir t;
  const std::string run = t.file("run");
  CliResult r = run_bcq(train("bc", "10", run), t.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string policy = read_file(run + "/policy.pt");
  // bc's policy is ~494 KB, 480 KB of it the 400 x 300 weight matrix of its actor, stored
  // uncompressed: the middle of the file lies inside it, far from any zip header.
  const std::size_t middle = policy.size() / 2;
  ASSERT_GT(policy.size(), 400000u);
  ASSERT_TRUE(far_from_zip_headers(policy, middle)) << "the middle of policy.pt is inside a tensor";
  std::string damaged = policy;
  damaged[middle] = static_cast<char>(damaged[middle] ^ 0x40);
  bcq::test::write_file(t.file("damaged.pt"), damaged);
  bcq::test::write_file(t.file("intact.pt"), policy);
  const std::vector<std::string> eval = {"eval", "--env", "inverted-pendulum", "--episodes", "2", "--seed", "3",
                                         "--policy"};
  auto eval_of = [&](const std::string& file) {
    auto a = eval;
    a.push_back(file);
    return run_bcq(a, t.path());
  };
  r = eval_of(t.file("damaged.pt"));
  expect_refused(r, {t.file("damaged.pt") + ": damaged file: entry '", "' fails its CRC-32 check"});
  EXPECT_TRUE(read_file(t.file("damaged.pt")) == damaged) << "the input is untouched";
  const CliResult original = eval_of(run + "/policy.pt"), copy = eval_of(t.file("intact.pt"));
  ASSERT_EQ(original.exit_code, 0) << original.err;
  ASSERT_EQ(copy.exit_code, 0) << copy.err;
  EXPECT_EQ(copy.out, original.out);
  // A cut policy.pt is no zip archive at all.
  bcq::test::write_file(t.file("cut.pt"), policy.substr(0, policy.size() - 100));
  expect_refused(eval_of(t.file("cut.pt")), {t.file("cut.pt") + ": not a zip archive"});

  std::string checkpoint = read_file(run + "/checkpoint.pt");
  ASSERT_TRUE(far_from_zip_headers(checkpoint, checkpoint.size() / 2));
  checkpoint[checkpoint.size() / 2] = static_cast<char>(checkpoint[checkpoint.size() / 2] ^ 0x01);
  bcq::test::write_file(run + "/checkpoint.pt", checkpoint);
  auto resume = train("bc", "20", run);
  resume.push_back("--resume");
  r = run_bcq(resume, t.path());
  expect_refused(r, {run + "/checkpoint.pt: damaged file: entry '", "' fails its CRC-32 check"});
  EXPECT_TRUE(read_file(run + "/checkpoint.pt") == checkpoint) << "the damaged checkpoint is not resumed from, nor rewritten";
}

}  // namespace
