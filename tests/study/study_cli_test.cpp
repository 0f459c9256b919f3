// `bcq study plan | run | status` end to end on the smoke profile: one worker, two MPI ranks,
// a run killed with SIGKILL and rerun, a corrupt buffer, a Slurm array task whose input is
// missing. The one-worker reference folder is made once by the ctest fixture
// study_smoke_reference (BCQ_STUDY_REFERENCE).
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "tests/test_util.hpp"

namespace bcq::test {
namespace {

namespace fs = std::filesystem;
const std::string kReference = BCQ_STUDY_REFERENCE;
constexpr std::size_t kSmokeCells = 10;  // 2 collections + 2 kinds x 4 algorithms

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

// summary.csv without its last column (wall seconds): the results a run must reproduce.
std::vector<std::string> results(const std::string& dir) {
  std::vector<std::string> out;
  for (std::string l : lines(read_file(dir + "/summary.csv"))) out.push_back(l.substr(0, l.rfind(',')));
  return out;
}

nlohmann::json cell_record(const std::string& dir, const std::string& name) {
  return nlohmann::json::parse(read_file(dir + "/cells/" + name + "/cell.json"));
}

std::vector<std::string> cell_names(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& c : nlohmann::json::parse(read_file(dir + "/study.json"))["cells"]) {
    names.push_back(c["name"].get<std::string>());
  }
  return names;
}

bool have_mpirun() { return std::system("command -v mpirun >/dev/null 2>&1") == 0; }

TEST(StudyCli, OneWorkerRunsEveryCellOnceAndWritesTheSummary) {
  const auto rows = lines(read_file(kReference + "/summary.csv"));
  ASSERT_EQ(rows.size(), 1 + 8u);
  EXPECT_EQ(rows[0],
            "env,kind,algo,seed,precision,iterations,final_return,best_return,behavioural_return,"
            "q_estimate,true_discounted_return,status,wall_seconds");
  for (std::size_t i = 1; i < rows.size(); ++i) {
    EXPECT_TRUE(rows[i].find(",done,") != std::string::npos || rows[i].find(",diverged,") != std::string::npos)
        << rows[i];
    EXPECT_EQ(rows[i].rfind("inverted-pendulum,", 0), 0u);
  }
  const auto study = nlohmann::json::parse(read_file(kReference + "/study.json"));
  EXPECT_EQ(study["format"], "bcq-study-run/1");
  EXPECT_EQ(study["profile"], "smoke");
  EXPECT_FALSE(study["versions"]["libtorch"].get<std::string>().empty());
  EXPECT_FALSE(study["machine"]["cpu"].get<std::string>().empty());
  ASSERT_EQ(study["cells"].size(), kSmokeCells);
  std::size_t folders = 0;
  for (const auto& e : fs::directory_iterator(kReference + "/cells")) folders += e.is_directory();
  EXPECT_EQ(folders, kSmokeCells);
  for (const auto& name : cell_names(kReference)) {
    EXPECT_EQ(cell_record(kReference, name)["attempts"], 1) << name;
  }
  // The imitation collection saved its expert; training runs are ordinary run folders.
  EXPECT_TRUE(file_exists(kReference + "/cells/1-inverted-pendulum-imitation-collect-s0/expert.pt"));
  EXPECT_TRUE(file_exists(kReference + "/cells/2-inverted-pendulum-final-bcq-s0/eval.csv"));
  EXPECT_TRUE(file_exists(kReference + "/cells/2-inverted-pendulum-final-bcq-s0/policy.pt"));
  // The behavioural return of a training row is its collection's.
  const auto collect = nlohmann::json::parse(
      read_file(kReference + "/cells/0-inverted-pendulum-final-collect-s0/collect.json"));
  const auto final_bcq = cell_record(kReference, "2-inverted-pendulum-final-bcq-s0");
  EXPECT_EQ(final_bcq["behavioural_return"], collect["behavioural_return"]);
}

TEST(StudyCli, RerunningAFinishedStudyRunsNothing) {
  TempDir scratch;
  const auto before = read_file(kReference + "/summary.csv");
  auto r = run_bcq({"study", "run", "--profile", "smoke", "--out", kReference, "--quiet"}, scratch.path());
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(results(kReference), [&] {
    std::vector<std::string> out;
    for (std::string l : lines(before)) out.push_back(l.substr(0, l.rfind(',')));
    return out;
  }());
  for (const auto& name : cell_names(kReference)) EXPECT_EQ(cell_record(kReference, name)["attempts"], 1);
  r = run_bcq({"study", "run", "--profile", "smoke", "--out", kReference, "--cell", "3"}, scratch.path());
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("already done"), std::string::npos) << r.out;
}

TEST(StudyCli, TwoMpiRanksRunEveryCellOnceWithTheSameResults) {
#ifndef BCQ_TEST_WITH_MPI
  GTEST_SKIP() << "bcq built without MPI";
#endif
  if (!have_mpirun()) GTEST_SKIP() << "mpirun not installed";
  TempDir dir;
  const std::string out = dir.file("mpi");
  const std::string cmd = "mpirun --allow-run-as-root --oversubscribe -np 2 " + shell_quote(BCQ_BINARY) +
                          " study run --profile smoke --out " + shell_quote(out) + " --quiet >" +
                          shell_quote(dir.file("log")) + " 2>&1";
  const int status = std::system(cmd.c_str());
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << read_file(dir.file("log"));
  EXPECT_EQ(nlohmann::json::parse(read_file(out + "/study.json"))["ranks"], 2);
  std::size_t folders = 0;
  for (const auto& e : fs::directory_iterator(out + "/cells")) folders += e.is_directory();
  EXPECT_EQ(folders, kSmokeCells);
  for (const auto& name : cell_names(out)) EXPECT_EQ(cell_record(out, name)["attempts"], 1) << name;
  EXPECT_EQ(results(out), results(kReference));
}

TEST(StudyCli, AKilledRunRerunFinishesOnlyTheMissingCells) {
  TempDir dir;
  const std::string out = dir.file("killed");
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::setpgid(0, 0);
    const std::string log = dir.file("log");
    std::freopen(log.c_str(), "w", stdout);
    std::freopen(log.c_str(), "a", stderr);
    ::setenv("BCQ_STUDY_HEARTBEAT_SECONDS", "1", 1);  // the running cell's wall time, each second
    ::execl(BCQ_BINARY, BCQ_BINARY, "study", "run", "--profile", "smoke", "--out", out.c_str(),
            "--workers", "1", "--quiet", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  // Kill it (SIGKILL: no cleanup) while the first BCQ run (the slowest cell) is between its
  // checkpoint at iteration 200 and its end at 400; the two collections are done by then.
  const std::string bcq_cell = "2-inverted-pendulum-final-bcq-s0";
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(15);  // generous: a loaded machine
  for (;;) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "the run never got far enough";
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (fs::exists(out + "/cells/" + bcq_cell + "/checkpoint.pt")) break;
  }
  ::kill(-pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status));
  std::map<std::string, int> done_before;
  for (const auto& e : fs::directory_iterator(out + "/cells")) {
    const auto rec = nlohmann::json::parse(read_file(e.path().string() + "/cell.json"), nullptr, false);
    if (rec.is_object() && rec["state"] == "done") done_before[e.path().filename().string()] = 1;
  }
  ASSERT_GE(done_before.size(), 2u);
  ASSERT_EQ(done_before.count(bcq_cell), 0u) << "the BCQ run ended before the kill";
  // The killed cell kept the time it ran (its heartbeat), and the resumed run adds to it.
  const double killed_seconds = cell_record(out, bcq_cell)["wall_seconds"].get<double>();
  EXPECT_GT(killed_seconds, 0.0);

  auto r = run_bcq({"study", "status", "--out", out}, dir.path());
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("interrupted; resumes from its checkpoint"), std::string::npos) << r.out;

  r = run_bcq({"study", "run", "--profile", "smoke", "--out", out, "--quiet"}, dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const auto& name : cell_names(out)) {
    const int attempts = cell_record(out, name)["attempts"].get<int>();
    if (done_before.count(name)) {
      EXPECT_EQ(attempts, 1) << name << " was run again";
    }
  }
  EXPECT_EQ(cell_record(out, bcq_cell)["attempts"], 2);  // killed mid-way, then resumed
  EXPECT_GT(cell_record(out, bcq_cell)["wall_seconds"].get<double>(), killed_seconds);
  EXPECT_EQ(results(out), results(kReference));  // bit for bit, resumed or not
}

// Ctrl-C on the terminal (SIGINT to the whole process group: the scheduler and its workers)
// stops the run cleanly: the running cell checkpoints, no new cell starts, exit 130 with one
// line saying how to continue; that cell then resumes to the numbers of an uninterrupted run.
TEST(StudyCli, CtrlCCheckpointsTheRunningCellsAndTheyResumeToTheSameNumbers) {
  TempDir dir;
  const std::string out = dir.file("sigint");
  const std::string log = dir.file("log");
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::setpgid(0, 0);
    std::freopen(log.c_str(), "w", stdout);
    std::freopen(log.c_str(), "a", stderr);
    ::execl(BCQ_BINARY, BCQ_BINARY, "study", "run", "--profile", "smoke", "--out", out.c_str(),
            "--workers", "1", "--quiet", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  const std::string bcq_cell = "2-inverted-pendulum-final-bcq-s0";
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(15);
  for (;;) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "the run never got far enough";
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (fs::exists(out + "/cells/" + bcq_cell + "/checkpoint.pt")) break;
  }
  ::kill(-pid, SIGINT);
  int status = 0;
  ::waitpid(pid, &status, 0);
  const std::string said = read_file(log);
  ASSERT_TRUE(WIFEXITED(status)) << said;
  EXPECT_EQ(WEXITSTATUS(status), 130) << said;
  EXPECT_NE(said.find("study interrupted by SIGINT"), std::string::npos) << said;
  EXPECT_NE(said.find("rerun the same command to continue"), std::string::npos) << said;
  const auto rec = cell_record(out, bcq_cell);
  EXPECT_EQ(rec["state"], "pending");
  EXPECT_EQ(rec["error"], nullptr);
  const auto run_status = nlohmann::json::parse(read_file(out + "/cells/" + bcq_cell + "/status.json"));
  EXPECT_EQ(run_status["status"], "interrupted") << run_status;
  // No cell after it was started.
  EXPECT_FALSE(fs::exists(out + "/cells/3-inverted-pendulum-final-ddpg-s0/cell.json"));

  auto r = run_bcq({"study", "run", "--profile", "smoke", "--out", out, "--cell", "2"}, dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(cell_record(out, bcq_cell)["attempts"], 2);
  const auto eval = lines(read_file(out + "/cells/" + bcq_cell + "/eval.csv"));
  const auto reference = lines(read_file(kReference + "/cells/" + bcq_cell + "/eval.csv"));
  ASSERT_EQ(eval.size(), reference.size());
  for (std::size_t i = 1; i < eval.size(); ++i) {  // all but the wall seconds
    EXPECT_EQ(eval[i].substr(0, eval[i].rfind(',')), reference[i].substr(0, reference[i].rfind(','))) << i;
  }
}

TEST(StudyCli, ACorruptBufferFailsItsCellsByIdWhileTheOthersComplete) {
  TempDir dir;
  const std::string out = dir.file("corrupt");
  auto r = run_bcq({"study", "run", "--profile", "smoke", "--out", out, "--cell", "0"}, dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string buffer = out + "/cells/0-inverted-pendulum-final-collect-s0/buffer.h5";
  ASSERT_TRUE(file_exists(buffer));
  write_file(buffer, "this is not an HDF5 file");
  r = run_bcq({"study", "run", "--profile", "smoke", "--out", out, "--quiet"}, dir.path());
  EXPECT_EQ(r.exit_code, 1) << r.err;
  for (const char* failed : {"2-inverted-pendulum-final-bcq-s0", "3-inverted-pendulum-final-ddpg-s0",
                             "4-inverted-pendulum-final-bc-s0", "5-inverted-pendulum-final-vae-bc-s0"}) {
    EXPECT_NE(r.err.find(std::string("cell ") + failed + " failed: "), std::string::npos) << r.err;
    EXPECT_EQ(cell_record(out, failed)["state"], "failed");
  }
  EXPECT_NE(r.err.find("buffer.h5"), std::string::npos) << r.err;
  for (const char* ok : {"1-inverted-pendulum-imitation-collect-s0", "6-inverted-pendulum-imitation-bcq-s0",
                         "9-inverted-pendulum-imitation-vae-bc-s0"}) {
    EXPECT_EQ(cell_record(out, ok)["state"], "done") << ok;
  }
  const auto summary = read_file(out + "/summary.csv");
  // A failed run's row: no evaluations; its batch's behavioural return is still known.
  const auto row = summary.find("\ninverted-pendulum,final,bcq,0,fp32,0,,,");
  ASSERT_NE(row, std::string::npos) << summary;
  EXPECT_NE(summary.substr(row + 1, summary.find('\n', row + 1) - row - 1).find(",,,failed,"), std::string::npos)
      << summary;
}

TEST(StudyCli, ASlurmTaskWhoseBufferIsMissingExits75) {
  TempDir dir;
  const std::string out = dir.file("slurm");
  auto r = run_bcq({"study", "run", "--profile", "smoke", "--out", out, "--cell", "2"}, dir.path());
  EXPECT_EQ(r.exit_code, 75) << r.err;
  EXPECT_EQ(lines(r.err).size(), 1u) << r.err;
  EXPECT_NE(r.err.find("not ready"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("0-inverted-pendulum-final-collect-s0"), std::string::npos) << r.err;
  EXPECT_FALSE(file_exists(out + "/cells/2-inverted-pendulum-final-bcq-s0/checkpoint.pt"));
  r = run_bcq({"study", "run", "--profile", "smoke", "--out", out, "--cell", "10"}, dir.path());
  EXPECT_EQ(r.exit_code, 2) << r.err;
}

TEST(StudyCli, AnotherSpecInTheSameFolderIsRefusedUnlessItOnlyAddsCells) {
  TempDir dir;
  const std::string out = dir.file("s");
  auto r = run_bcq({"study", "run", "--profile", "smoke", "--out", out, "--cell", "9"}, dir.path());
  ASSERT_EQ(r.exit_code, 75) << r.err;  // creates the folder with the smoke spec, runs nothing
  auto spec = nlohmann::json::parse(read_file(out + "/spec.json"));
  spec["iterations"] = 800;
  write_file(dir.file("longer.json"), spec.dump());
  r = run_bcq({"study", "run", "--spec", dir.file("longer.json"), "--out", out}, dir.path());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(lines(r.err).size(), 1u) << r.err;
  EXPECT_NE(r.err.find("'iterations'"), std::string::npos) << r.err;
  spec["iterations"] = 400;
  spec["seeds"] = {0, 1};
  write_file(dir.file("more.json"), spec.dump());
  r = run_bcq({"study", "plan", "--spec", dir.file("more.json"), "--json"}, dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["cells"].size(), 2 * kSmokeCells);
  r = run_bcq({"study", "run", "--spec", dir.file("more.json"), "--out", out, "--cell", "19"}, dir.path());
  EXPECT_EQ(r.exit_code, 75) << r.err;  // accepted: it only adds seed 1's cells
  EXPECT_NE(r.err.find("11-inverted-pendulum-imitation-collect-s1"), std::string::npos) << r.err;
}

TEST(StudyCli, PlanAndStatusPrintTheCells) {
  TempDir dir;
  auto r = run_bcq({"study", "plan", "--profile", "quick"}, dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("0-hopper-final-collect-s0"), std::string::npos);
  EXPECT_NE(r.out.find("sbatch --array="), std::string::npos);
  r = run_bcq({"study", "status", "--out", kReference, "--json"}, dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto status = nlohmann::json::parse(r.out);
  ASSERT_EQ(status["cells"].size(), kSmokeCells);
  for (const auto& c : status["cells"]) {
    EXPECT_TRUE(c["state"] == "done" || c["state"] == "diverged") << c.dump();
  }
  // --json FILE: the table as usual, the same JSON in FILE; FILE = the study's own study.json
  // is refused and left as it was.
  r = run_bcq({"study", "status", "--out", kReference, "--json", dir.file("status.json")}, dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("ETA"), std::string::npos) << r.out;
  EXPECT_EQ(nlohmann::json::parse(read_file(dir.file("status.json"))), status);
  const std::string study_json = std::string(kReference) + "/study.json";
  const std::string before = read_file(study_json);
  r = run_bcq({"study", "status", "--out", kReference, "--json", study_json}, dir.path());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("is inside --out"), std::string::npos) << r.err;
  EXPECT_EQ(read_file(study_json), before);
  r = run_bcq({"study", "run", "--out", dir.file("x")}, dir.path());
  EXPECT_EQ(r.exit_code, 2);
  r = run_bcq({"study", "run", "--profile", "smoke", "--spec", "y.json", "--out", dir.file("x")}, dir.path());
  EXPECT_EQ(r.exit_code, 2);
  r = run_bcq({"study", "status", "--out", dir.path()}, dir.path());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("not a study folder"), std::string::npos) << r.err;
  // A spec whose file name is not UTF-8: the plan names it in its sbatch line, with U+FFFD in
  // the JSON (the raw bytes made the plan exit 3, text or --json).
  const std::string odd = dir.file("spec-\xff.json");
  write_file(odd, read_file(std::string(kReference) + "/spec.json"));
  r = run_bcq({"study", "plan", "--spec", odd}, dir.path());
  EXPECT_EQ(r.exit_code, 0) << r.err;
  r = run_bcq({"study", "plan", "--spec", odd, "--json"}, dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(nlohmann::json::parse(r.out).dump().find("spec-\xef\xbf\xbd.json"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace bcq::test
