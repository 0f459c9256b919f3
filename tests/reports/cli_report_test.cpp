// `bcq report` through the command line: a report from run folders, and bad input refused with
// exit code 2, one stderr line naming the file, and no report folder left behind.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>
#include <string>
#include <vector>

#include "tests/test_util.hpp"

namespace {

namespace fs = std::filesystem;
using bcq::test::run_bcq;
using bcq::test::TempDir;
using bcq::test::write_file;

void make_run(const std::string& dir, const std::string& eval) {
  fs::create_directories(dir);
  write_file(dir + "/config.json", R"({"format": "bcq-run/1", "algo": "ddpg", "env": "hopper", "buffer": "/b/h.h5",
      "buffer_attributes": {"kind": "final", "behavioural_return": 1200.5}, "iterations": 2000, "seed": 2})");
  write_file(dir + "/eval.csv",
             "iteration,mean_return,std_return,q_estimate,true_discounted_return,wall_seconds\n" + eval);
  write_file(dir + "/status.json", R"({"status": "completed", "iteration": 2000})");
}

size_t lines(const std::string& s) {
  size_t n = 0;
  for (char c : s) n += c == '\n';
  return n;
}

TEST(CliReport, WritesTheReport) {
  TempDir t;
  make_run(t.file("runs/a"), "1000,300,12,400,250,2\n2000,350,10,9000,260,4\n");
  const auto r = run_bcq({"report", "--runs", t.file("runs"), "-o", t.file("rep"), "--title", "Hopper"}, t.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "1 run: wrote " + t.file("rep") + "/index.html, " + t.file("rep") + "/report.md and 2 plots\n");
  const std::string md = bcq::test::read_file(t.file("rep/report.md"));
  EXPECT_NE(md.find("| a | ddpg | 2 | 2,000 / 2,000 | completed | 350.0 ± 10.0 | 350.0 (2,000) | 29% | 9000.0 | 260.0 | "
                    "+8740.0 |"),
            std::string::npos)
      << md;
  EXPECT_TRUE(fs::exists(t.file("rep/plots/hopper-h-return.svg")));
  EXPECT_TRUE(fs::exists(t.file("rep/plots/hopper-h-value.svg")));
  const auto quiet = run_bcq({"report", "--runs", t.file("runs/a"), "-o", t.file("rep2"), "--no-plots", "--quiet"}, t.path());
  ASSERT_EQ(quiet.exit_code, 0) << quiet.err;
  EXPECT_EQ(quiet.out, "");
  EXPECT_FALSE(fs::exists(t.file("rep2/plots")));
}

TEST(CliReport, BadInputExitsTwoWithOneLineAndNoOutput) {
  TempDir t;
  make_run(t.file("bad_row/a"), "1000,300,12,400,250,2\n2000,350,oops,9000,260,4\n");
  make_run(t.file("nan_return/a"), "1000,nan,12,400,250,2\n");
  fs::create_directories(t.file("empty"));
  write_file(t.file("a_file"), "x");
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  const Case cases[] = {
      {{"--runs", t.file("missing")}, t.file("missing") + ": no such file or folder"},
      {{"--runs", t.file("empty")}, "no results to report"},
      {{"--runs", t.file("bad_row")}, t.file("bad_row/a/eval.csv") + ":3: std_return 'oops' is not a number"},
      {{"--runs", t.file("nan_return")}, t.file("nan_return/a/eval.csv") + ":2: mean_return is not finite"},
  };
  for (const auto& c : cases) {
    auto args = c.args;
    args.insert(args.begin(), "report");
    args.insert(args.end(), {"-o", t.file("rep")});
    const auto r = run_bcq(args, t.path());
    EXPECT_EQ(r.exit_code, 2) << c.message;
    EXPECT_NE(r.err.find(c.message), std::string::npos) << r.err;
    EXPECT_EQ(lines(r.err), 1u) << r.err;
    EXPECT_FALSE(fs::exists(t.file("rep"))) << c.message;
  }
  make_run(t.file("runs/a"), "1000,300,12,400,250,2\n");
  make_run(t.file("typed/a"), "1000,300,12,400,250,2\n");
  write_file(t.file("typed/a/status.json"), R"({"status": 3})");
  const auto typed = run_bcq({"report", "--runs", t.file("typed"), "-o", t.file("rep")}, t.path());
  EXPECT_EQ(typed.exit_code, 2);
  EXPECT_NE(typed.err.find(t.file("typed/a/status.json") + ": \"status\" is not a string"), std::string::npos)
      << typed.err;
  const auto r = run_bcq({"report", "--runs", t.file("runs"), "-o", t.file("a_file")}, t.path());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find(t.file("a_file") + ": exists and is not a folder"), std::string::npos) << r.err;
}

// One readable result and one malformed: the report is written (exit 0) and names the
// malformed one, with its reason, under "Not included".
TEST(CliReport, MalformedResultIsListedNotFatal) {
  TempDir t;
  make_run(t.file("runs/good"), "1000,300,12,400,250,2\n");
  make_run(t.file("runs/bad"), "1000,300,12,400,250,2\n2000,350,oops,9000,260,4\n");
  const auto r = run_bcq({"report", "--runs", t.file("runs"), "-o", t.file("rep"), "--no-plots"}, t.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "1 run, 1 result not included: wrote " + t.file("rep") + "/index.html, " + t.file("rep") +
                       "/report.md and 0 plots\n");
  const std::string md = bcq::test::read_file(t.file("rep/report.md"));
  const auto at = md.find("## Not included");
  ASSERT_NE(at, std::string::npos) << md;
  EXPECT_NE(md.find("bad/eval.csv:3: std\\_return 'oops' is not a number", at), std::string::npos) << md.substr(at);
  EXPECT_NE(md.find("| good | ddpg | 2 |"), std::string::npos);
}

// gnuplot failing half way through the report (a stand-in first on PATH): exit 2 with gnuplot's
// own message, and neither the report folder nor the folders created for it are left.
TEST(CliReport, FailingGnuplotLeavesNothing) {
  TempDir t;
  make_run(t.file("runs/a"), "1000,300,12,400,250,2\n");
  fs::create_directories(t.file("bin"));
  write_file(t.file("bin/gnuplot"), "#!/bin/sh\ncat > /dev/null\necho 'line 7: all out of ink' >&2\nexit 1\n");
  fs::permissions(t.file("bin/gnuplot"), fs::perms::owner_all);
  const std::string saved = std::getenv("PATH") ? std::getenv("PATH") : "";
  ::setenv("PATH", (t.file("bin") + ":" + saved).c_str(), 1);
  const auto r = run_bcq({"report", "--runs", t.file("runs"), "-o", t.file("new/deeper/rep")}, t.path());
  ::setenv("PATH", saved.c_str(), 1);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("gnuplot failed on plots/hopper-h-return.svg: line 7: all out of ink"), std::string::npos) << r.err;
  EXPECT_EQ(lines(r.err), 1u) << r.err;
  EXPECT_FALSE(fs::exists(t.file("new")));
}

// A full disk (tests/test_util.hpp, run_bcq_on_full_disk: files limited to a size) mid-report:
// at index.html (the largest file, holding both plots), or earlier, at a plot, which gnuplot
// writes cut short and still exits 0. Exit 2 and one line naming the report's file; an earlier
// report in the same folder keeps its bytes, a new folder is not left, nor the work folder.
TEST(CliReport, AFullDiskLeavesTheEarlierReportAndNoTemporaryFolder) {
  TempDir t;
  make_run(t.file("runs/a"), "1000,300,12,400,250,2\n2000,350,10,9000,260,4\n");
  const std::vector<std::string> report = {"report", "--runs", t.file("runs"), "-o", t.file("rep")};
  ASSERT_EQ(run_bcq(report, t.path()).exit_code, 0);
  const std::vector<std::string> files = {"index.html", "report.md", "plots/hopper-h-return.svg",
                                          "plots/hopper-h-value.svg"};
  std::vector<std::string> before;
  for (const auto& f : files) before.push_back(bcq::test::read_file(t.file("rep/" + f)));
  // The plots are ~25 KB each, report.md 2 KB, index.html ~50 KB.
  ASSERT_LT(before[2].size(), 40000u);
  ASSERT_GT(before[0].size(), 40000u);
  struct Case {
    std::uint64_t limit;
    std::string file;
  };
  for (const Case& c : {Case{40000, "index.html"}, Case{15000, "plots/hopper-h-return.svg"}}) {
    SCOPED_TRACE(c.file);
    bcq::test::expect_refused(bcq::test::run_bcq_on_full_disk(report, c.limit), {"cannot write " + t.file("rep/" + c.file)});
    for (size_t i = 0; i < files.size(); ++i) EXPECT_EQ(bcq::test::read_file(t.file("rep/" + files[i])), before[i]) << files[i];
    size_t entries = 0;
    for (const auto& e : fs::directory_iterator(t.file("rep"))) entries += e.path().filename() != "plots";
    EXPECT_EQ(entries, 2u) << "index.html and report.md only: no .bcq-report.* work folder";
    const auto fresh = bcq::test::run_bcq_on_full_disk({"report", "--runs", t.file("runs"), "-o", t.file("new/rep")}, c.limit);
    bcq::test::expect_refused(fresh, {"cannot write " + t.file("new/rep/" + c.file)});
    EXPECT_FALSE(fs::exists(t.file("new")));
  }
}

// Ctrl-C once the first plot is drawn (BCQ_INTERRUPT_AFTER_STEP=1: the report sends itself
// SIGINT, as a user would): exit 130 and one line; neither the work folder nor the folders the
// report created are left, and an earlier report in the same folder keeps its bytes.
TEST(CliReport, InterruptedWhileDrawingLeavesNothing) {
  TempDir t;
  make_run(t.file("runs/a"), "1000,300,12,400,250,2\n2000,350,10,9000,260,4\n");
  const std::string report = "report --runs " + t.file("runs") + " -o ";
  std::string out, err;
  EXPECT_EQ(bcq::test::run_bcq(report + t.file("new/deeper/rep"), &out, &err, "BCQ_INTERRUPT_AFTER_STEP=1"), 130) << err;
  EXPECT_EQ(err, "bcq: report interrupted by SIGINT; nothing was written\n");
  EXPECT_FALSE(fs::exists(t.file("new")));
  ASSERT_EQ(bcq::test::run_bcq(report + t.file("rep"), &out, &err), 0) << err;
  const std::string before = bcq::test::read_file(t.file("rep/index.html"));
  EXPECT_EQ(bcq::test::run_bcq(report + t.file("rep"), &out, &err, "BCQ_INTERRUPT_AFTER_STEP=2"), 130) << err;
  EXPECT_EQ(bcq::test::read_file(t.file("rep/index.html")), before);
  std::vector<std::string> entries;
  for (const auto& e : fs::directory_iterator(t.file("rep"))) entries.push_back(e.path().filename().string());
  std::sort(entries.begin(), entries.end());
  EXPECT_EQ(entries, (std::vector<std::string>{"index.html", "plots", "report.md"})) << "no .bcq-report.* work folder";
}

// An eval.csv of 2,000,000 rows (~100 MB, as a 2M-iteration run evaluated every iteration
// writes): SIGTERM while the report reads it (sent once the process has read the file's bytes,
// /proc/PID/io) stops it with exit 143 and one line, leaving no report folder.
TEST(CliReport, SigtermWhileReadingAHugeEvalCsvLeavesNothing) {
  TempDir t;
  {
    fs::create_directories(t.file("runs/a"));
    make_run(t.file("runs/a"), "");
    std::ofstream eval(t.file("runs/a/eval.csv"), std::ios::app);
    for (int i = 1; i <= 2000000; ++i) eval << i << ',' << 300 + i % 97 << ",10.5,400.25,250.125," << i / 100 << '\n';
  }
  const std::uint64_t size = fs::file_size(t.file("runs/a/eval.csv"));
  const std::string err_path = t.file("stderr");
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    std::freopen(err_path.c_str(), "w", stderr);
    std::freopen("/dev/null", "w", stdout);
    ::execl(BCQ_BINARY, BCQ_BINARY, "report", "--runs", t.file("runs").c_str(), "-o", t.file("rep").c_str(),
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  // rchar: the bytes the process has read so far.
  auto bytes_read = [&]() -> std::uint64_t {
    std::ifstream io("/proc/" + std::to_string(pid) + "/io");
    std::string key;
    std::uint64_t value = 0;
    while (io >> key >> value)
      if (key == "rchar:") return value;
    return 0;
  };
  bool signalled = false;
  for (int i = 0; i < 6000 && !signalled; ++i) {  // up to 60 s
    if (bytes_read() > size) {
      ::kill(pid, SIGTERM);
      signalled = true;
    }
    int status = 0;
    if (!signalled && ::waitpid(pid, &status, WNOHANG) == pid) FAIL() << "the report ended before it was signalled";
    if (!signalled) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (!signalled) ::kill(pid, SIGKILL);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(signalled) << "/proc/PID/io never showed the file read";
  const std::string err = bcq::test::read_file(err_path);
  ASSERT_TRUE(WIFEXITED(status)) << err;
  EXPECT_EQ(WEXITSTATUS(status), 143) << err;
  EXPECT_EQ(err, "bcq: report interrupted by SIGTERM; nothing was written\n");
  EXPECT_FALSE(fs::exists(t.file("rep")));
}

// On a terminal (script(1) gives the command one) a progress line shows each stage with an
// ETA; --quiet, or a stderr that is not a terminal, shows none.
TEST(CliReport, ProgressOnATerminalOnly) {
  if (std::system("command -v script >/dev/null 2>&1") != 0) GTEST_SKIP() << "script(1) not installed";
  TempDir t;
  make_run(t.file("runs/a"), "1000,300,12,400,250,2\n2000,350,10,9000,260,4\n");
  auto on_terminal = [&](const std::string& extra) {
    const std::string command = bcq::test::shell_quote(BCQ_BINARY) + " report --runs " + t.file("runs") + " -o " +
                                t.file("rep") + extra;
    const std::string shell = "script -qec " + bcq::test::shell_quote(command) + " /dev/null > " + t.file("typescript");
    EXPECT_EQ(std::system(shell.c_str()), 0);
    return bcq::test::read_file(t.file("typescript"));
  };
  const std::string shown = on_terminal("");
  EXPECT_NE(shown.find("[report] reading eval.csv files: 100%"), std::string::npos) << shown;
  EXPECT_NE(shown.find("[report] drawing plots: 1 of 2 done  ETA "), std::string::npos) << shown;
  EXPECT_NE(shown.find("[report] writing index.html and report.md"), std::string::npos) << shown;
  EXPECT_EQ(on_terminal(" --quiet").find("[report]"), std::string::npos);
  const auto piped = run_bcq({"report", "--runs", t.file("runs"), "-o", t.file("rep")}, t.path());
  ASSERT_EQ(piped.exit_code, 0) << piped.err;
  EXPECT_EQ(piped.err, "");
}

}  // namespace
