// `bcq study run` on a full disk (docs/study.md, "Results"; docs/limits.md): the cell whose write
// fails is recorded as failed with its error, no further cell starts, summary.csv and study.json
// are still written, and the run exits 2 with one line naming the cell and the file; rerun with
// space, it finishes. A spec of three small cells (a 300-step collection, BCQ and BC for 20
// iterations) instead of the smoke profile, which takes minutes.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/test_util.hpp"

namespace bcq::test {
namespace {

namespace fs = std::filesystem;

const char* kSpec = R"({"format": "bcq-study/1", "name": "full-disk", "envs": ["inverted-pendulum"],
  "kinds": ["final"], "algos": ["bcq", "bc"], "seeds": [0], "collection_steps": 300, "start_steps": 200,
  "expert_steps": 300, "imperfect_steps": 300, "iterations": 20, "eval_every": 10, "eval_episodes": 1,
  "checkpoint_every": 1000})";

nlohmann::json cell_record(const std::string& dir, const std::string& name) {
  return nlohmann::json::parse(read_file(dir + "/cells/" + name + "/cell.json"));
}

TEST(StudyFullDisk, TheCellIsRecordedFailedNothingElseStartsAndTheRunExits2) {
  TempDir t;
  write_file(t.file("spec.json"), kSpec);
  const std::string out = t.file("study");
  const std::vector<std::string> run = {"study", "run", "--spec", t.file("spec.json"), "--out", out, "--workers", "1",
                                        "--quiet"};
  // Files up to 1 MiB: the collection's buffer (~14 KB), cell.json, eval.csv, summary.csv and
  // study.json are written; BCQ's first checkpoint (~20 MB) is not.
  const CliResult r = run_bcq_on_full_disk(run, 1 << 20);
  const std::string bcq_cell = "1-inverted-pendulum-final-bcq-s0";
  const std::string checkpoint = out + "/cells/" + bcq_cell + "/checkpoint.pt";
  expect_refused(r, {"cell " + bcq_cell + " failed on a full disk", "cannot write " + checkpoint + " (write)",
                     "no further cell was started", "rerun the same command"});
  EXPECT_EQ(r.err.find("frame #"), std::string::npos) << r.err;
  EXPECT_EQ(cell_record(out, "0-inverted-pendulum-final-collect-s0")["state"], "done");
  const auto failed = cell_record(out, bcq_cell);
  EXPECT_EQ(failed["state"], "failed");
  EXPECT_NE(failed["error"].get<std::string>().find("cannot write " + checkpoint), std::string::npos) << failed;
  EXPECT_FALSE(fs::exists(out + "/cells/2-inverted-pendulum-final-bc-s0/cell.json")) << "no cell after it started";
  const std::string summary = read_file(out + "/summary.csv");
  EXPECT_NE(summary.find("inverted-pendulum,final,bcq,0,fp32,"), std::string::npos) << summary;
  EXPECT_NE(summary.find(",failed,"), std::string::npos) << summary;
  for (const auto& e : fs::recursive_directory_iterator(out)) {
    EXPECT_EQ(e.path().filename().string().find(".tmp"), std::string::npos) << e.path();
  }
  // With space again the failed cell runs again and the study finishes.
  const CliResult again = run_bcq(run, t.path());
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(cell_record(out, bcq_cell)["state"], "done");
  EXPECT_EQ(cell_record(out, bcq_cell)["attempts"], 2);
  EXPECT_EQ(cell_record(out, "2-inverted-pendulum-final-bc-s0")["state"], "done");
}

// `--cell K` (a Slurm array task) likewise: exit 2 and one line.
TEST(StudyFullDisk, OneCellOnAFullDiskExits2) {
  TempDir t;
  write_file(t.file("spec.json"), kSpec);
  const std::string out = t.file("study");
  auto cell = [&](const char* id) {
    return std::vector<std::string>{"study", "run", "--spec", t.file("spec.json"), "--out", out, "--cell", id};
  };
  ASSERT_EQ(run_bcq(cell("0"), t.path()).exit_code, 0);
  const CliResult r = run_bcq_on_full_disk(cell("1"), 1 << 20);
  expect_refused(r, {"cell 1-inverted-pendulum-final-bcq-s0 failed on a full disk",
                     "cannot write " + out + "/cells/1-inverted-pendulum-final-bcq-s0/checkpoint.pt"});
  EXPECT_EQ(cell_record(out, "1-inverted-pendulum-final-bcq-s0")["state"], "failed");
}

}  // namespace
}  // namespace bcq::test
