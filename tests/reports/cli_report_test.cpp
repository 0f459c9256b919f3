// `bcq report` through the command line: a report from run folders, and bad input refused with
// exit code 2, one stderr line naming the file, and no report folder left behind.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
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

}  // namespace
