// reports/: reading run folders, what the report computes from them (checked against values
// worked by hand from the files below), and the files it writes.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <string>

#include "common/error.hpp"
#include "reports/report.hpp"
#include "reports/runs.hpp"
#include "tests/test_util.hpp"

namespace {

namespace fs = std::filesystem;
using bcq::InputError;
using bcq::reports::find_runs;
using bcq::reports::parse_eval_csv;
using bcq::test::read_file;
using bcq::test::TempDir;
using bcq::test::write_file;

std::vector<std::string> entries_of(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

const std::string kHeader = "iteration,mean_return,std_return,q_estimate,true_discounted_return,wall_seconds\n";

std::string config(const std::string& algo, int seed, const std::string& precision = "fp32") {
  return R"({"format": "bcq-run/1", "algo": ")" + algo + R"(", "env": "inverted-pendulum", "buffer": "/data/ip.h5",
  "buffer_attributes": {"kind": "imitation", "steps": 20000, "seed": 0, "behavioural_return": 800.0},
  "concurrent": false, "iterations": 3000, "seed": )" + std::to_string(seed) + R"(, "precision": ")" + precision + R"("})";
}

// `text` with its first `from` replaced by `to`.
std::string with(std::string text, const std::string& from, const std::string& to) {
  text.replace(text.find(from), from.size(), to);
  return text;
}

// A run folder with config.json, eval.csv and (unless empty) status.json.
void make_run(const std::string& dir, const std::string& config_text, const std::string& eval_rows,
              const std::string& status = R"({"status": "completed", "iteration": 3000})") {
  fs::create_directories(dir);
  write_file(dir + "/config.json", config_text);
  write_file(dir + "/eval.csv", kHeader + eval_rows);
  if (!status.empty()) write_file(dir + "/status.json", status);
}

// Two BCQ seeds, offline DDPG overestimating, BC without a critic, on one batch.
void make_runs(const TempDir& t) {
  make_run(t.file("runs/bcq_s0"), config("bcq", 0),
           "1000,400,10,50,40,1.5\n2000,700,20,60,55,3\n3000,800,30,70,66,4.5\n");
  make_run(t.file("runs/bcq_s1"), config("bcq", 1),
           "1000,600,12,30,35,1.4\n2000,900,22,62,61,2.9\n3000,760,31,68,64,4.4\n");
  make_run(t.file("runs/ddpg"), config("ddpg", 0), "1000,5,1,200,3,1\n2000,4,1,25000,3,2\n3000,3,0,2700000,3,3\n");
  make_run(t.file("runs/bc"), config("bc", 0), "1000,100,5,nan,99,0.5\n3000,820,5,nan,80,1.5\n");
}

TEST(ReportEvalCsv, ParsesRowsAndMissingEstimates) {
  const auto points = parse_eval_csv(kHeader + "1500,3,4.4408921e-16,23.4763214,2.9701,5.26\n3000,1000,0,nan,95.5,9\n",
                                     "eval.csv");
  ASSERT_EQ(points.size(), 2u);
  EXPECT_EQ(points[0].iteration, 1500);
  EXPECT_DOUBLE_EQ(points[0].q_estimate, 23.4763214);
  EXPECT_DOUBLE_EQ(points[0].true_discounted, 2.9701);
  EXPECT_DOUBLE_EQ(points[1].mean_return, 1000);
  EXPECT_TRUE(std::isnan(points[1].q_estimate));
  EXPECT_DOUBLE_EQ(points[1].wall_seconds, 9);
}

TEST(ReportEvalCsv, TinyValuesAreNumbers) {
  const auto points = parse_eval_csv(kHeader + "1000,1e-310,0,1e-320,4,5\n", "F");
  ASSERT_EQ(points.size(), 1u);
  EXPECT_GT(points[0].mean_return, 0);
  EXPECT_LT(points[0].mean_return, 1e-300);
}

TEST(ReportEvalCsv, RefusesMalformedFilesNamingTheLine) {
  struct Case {
    std::string content, message;
  };
  const Case cases[] = {
      {"", "F: empty"},
      {"iteration,mean_return\n", "F:1: header"},
      {kHeader + "1000,1,2,3,4\n", "F:2: 5 fields, expected 6"},
      {kHeader + "1000,1,2,3,4,5,6\n", "F:2: 7 fields"},
      {kHeader + "1000,1,2,3,4,5\n2000,abc,2,3,4,5\n", "F:3: mean_return 'abc' is not a number"},
      {kHeader + "1000,1e999,2,3,4,5\n", "F:2: mean_return '1e999' is not a number"},
      {kHeader + "1000,1,2,3,4,\n", "F:2: wall_seconds '' is not a number"},
      {kHeader + "1000,nan,2,3,4,5\n", "F:2: mean_return is not finite"},
      {kHeader + "1000,1,inf,3,4,5\n", "F:2: std_return is not finite"},
      {kHeader + "1000,1,2,3,nan,5\n", "F:2: true_discounted_return is not finite"},
      {kHeader + "1000,1,-2,3,4,5\n", "F:2: std_return is negative"},
      {kHeader + "10.5,1,2,3,4,5\n", "F:2: iteration '10.5'"},
      {kHeader + "-1,1,2,3,4,5\n", "F:2: iteration '-1'"},
      {kHeader + "2000,1,2,3,4,5\n2000,1,2,3,4,5\n", "F:3: iteration 2000 does not follow 2000"},
      {kHeader + "2000,1,2,3,4,5\n1000,1,2,3,4,5\n", "F:3: iteration 1000 does not follow 2000"},
  };
  for (const auto& c : cases) {
    try {
      parse_eval_csv(c.content, "F");
      ADD_FAILURE() << "accepted: " << c.content;
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find(c.message), std::string::npos) << e.what() << "\nexpected: " << c.message;
    }
  }
}

TEST(ReportRuns, FindsRunFoldersAndReadsThem) {
  TempDir t;
  make_runs(t);
  fs::create_directories(t.file("runs/notes"));  // not a run: no config.json
  make_run(t.file("runs/nested/deeper/ddpg_cheetah"),
           R"({"format": "bcq-run/1", "algo": "ddpg", "env": "halfcheetah", "concurrent": true, "iterations": 10,
               "seed": 4, "buffer": ""})",
           "", R"({"status": "diverged", "iteration": 7, "loss": "critic_loss", "checkpoint_iteration": 5})");
  const auto runs = find_runs(t.file("runs"));
  ASSERT_EQ(runs.size(), 5u);
  EXPECT_EQ(runs[0].name, "bc");
  EXPECT_EQ(runs[1].name, "bcq_s0");
  EXPECT_EQ(runs[4].name, "nested/deeper/ddpg_cheetah");
  EXPECT_EQ(runs[1].batch, "ip.h5 (imitation, 20000 steps, seed 0)");
  EXPECT_DOUBLE_EQ(runs[1].behavioural_return, 800.0);
  EXPECT_EQ(runs[1].evals.size(), 3u);
  EXPECT_EQ(runs[1].status, "completed");
  const auto& d = runs[4];
  EXPECT_TRUE(d.concurrent);
  EXPECT_EQ(d.batch, "concurrent (behavioural DDPG, seed 4)");
  EXPECT_TRUE(std::isnan(d.behavioural_return));
  EXPECT_EQ(d.status, "diverged");
  EXPECT_EQ(d.status_iteration, 7);
  EXPECT_EQ(d.diverged_loss, "critic_loss");
  EXPECT_TRUE(d.evals.empty());
  EXPECT_EQ(d.precision, "fp32");  // runs written before --precision existed

  // A single run folder is a run too, named by its folder however it is written.
  for (const std::string& path : {t.file("runs/ddpg"), t.file("runs/ddpg/"), t.file("runs/ddpg/.")}) {
    const auto one = find_runs(path);
    ASSERT_EQ(one.size(), 1u);
    EXPECT_EQ(one[0].name, "ddpg") << path;
  }
  EXPECT_EQ(find_runs(t.file("runs/"))[1].name, "bcq_s0");
}

TEST(ReportRuns, RefusesBadFolders) {
  TempDir t;
  EXPECT_THROW(find_runs(t.file("missing")), InputError);
  fs::create_directories(t.file("empty"));
  try {
    find_runs(t.file("empty"));
    ADD_FAILURE();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("no run folder"), std::string::npos) << e.what();
  }
  make_run(t.file("a/run"), R"({"format": "bcq-run/2", "algo": "bcq", "env": "hopper", "seed": 0, "iterations": 1})", "");
  make_run(t.file("b/run"), R"({"format": "bcq-run/1", "env": "hopper", "seed": 0, "iterations": 1})", "");
  make_run(t.file("c/run"), "{not json", "");
  make_run(t.file("d/run"), config("bcq", 0), "1000,1,2,3,4\n");
  make_run(t.file("e/run"), config("bcq", 0), "", "[1, 2]");
  make_run(t.file("f/run"), with(config("bcq", 0), "\"precision\": \"fp32\"", "\"precision\": null"), "");
  make_run(t.file("g/run"), with(config("bcq", 0), "\"concurrent\": false", "\"concurrent\": 1"), "");
  make_run(t.file("h/run"), with(config("bcq", 0), "\"format\": \"bcq-run/1\"", "\"format\": 1"), "");
  make_run(t.file("i/run"), with(config("bcq", 0), "\"seed\": 0, \"precision\"", "\"seed\": -1, \"precision\""), "");
  make_run(t.file("j/run"), with(config("bcq", 0), "\"buffer\": \"/data/ip.h5\"", "\"buffer\": null"), "");
  make_run(t.file("k/run"), with(config("bcq", 0), "\"buffer_attributes\": {", "\"buffer_attributes\": 5, \"x\": {"), "");
  const std::pair<const char*, const char*> cases[] = {
      {"a", "a/run/config.json: \"format\" is not \"bcq-run/1\""},
      {"b", "b/run/config.json: missing \"algo\""},
      {"c", "c/run/config.json:1:3: malformed JSON"},  // the JSON rules name line:column
      {"d", "d/run/eval.csv:2: 5 fields"},
      {"e", "e/run/status.json: not a JSON object"},
      {"f", "f/run/config.json: \"precision\" is not a string"},
      {"g", "g/run/config.json: \"concurrent\" is not true or false"},
      {"h", "h/run/config.json: \"format\" is not a string"},
      {"i", "i/run/config.json: \"seed\" is not a non-negative integer"},
      {"j", "j/run/config.json: \"buffer\" is not a string"},
      {"k", "k/run/config.json: \"buffer_attributes\" is not an object"}};
  for (const auto& [dir, message] : cases) {
    try {
      find_runs(t.file(dir));
      ADD_FAILURE() << dir;
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find(message), std::string::npos) << e.what();
    }
  }
}

TEST(ReportSummary, LastBestBehaviouralShareAndValueGap) {
  TempDir t;
  make_runs(t);
  const auto runs = find_runs(t.file("runs"));
  const auto bcq1 = bcq::reports::summarize(runs[2]);  // bcq_s1
  EXPECT_EQ(bcq1.last.iteration, 3000);
  EXPECT_EQ(bcq1.best.iteration, 2000);  // 900 > 760
  EXPECT_DOUBLE_EQ(bcq1.percent_of_behavioural, 100.0 * 760 / 800);
  EXPECT_DOUBLE_EQ(bcq1.value_gap, 68 - 64);
  const auto ddpg = bcq::reports::summarize(runs[3]);
  EXPECT_DOUBLE_EQ(ddpg.value_gap, 2700000 - 3);
  EXPECT_EQ(ddpg.best.iteration, 1000);
  const auto bc = bcq::reports::summarize(runs[0]);
  EXPECT_TRUE(std::isnan(bc.value_gap));
  EXPECT_DOUBLE_EQ(bc.percent_of_behavioural, 100.0 * 820 / 800);
  auto negative = runs[0];
  negative.behavioural_return = -150;
  EXPECT_TRUE(std::isnan(bcq::reports::summarize(negative).percent_of_behavioural));
}

TEST(ReportCurves, MeanAndSpreadOverSeedsAtSharedIterations) {
  TempDir t;
  make_runs(t);
  const auto runs = find_runs(t.file("runs"));
  const auto c = bcq::reports::return_curve("bcq", {&runs[1], &runs[2]});
  ASSERT_EQ(c.iteration.size(), 3u);
  EXPECT_EQ(c.runs, 2);
  // Iteration 1000: returns 400 and 600: mean 500, sample std sqrt(2 * 100^2 / 1) = 141.42...
  EXPECT_DOUBLE_EQ(c.mean[0], 500);
  EXPECT_NEAR(c.spread[0], 100 * std::sqrt(2.0), 1e-12);
  EXPECT_DOUBLE_EQ(c.mean[2], 780);
  EXPECT_NEAR(c.spread[2], 20 * std::sqrt(2.0), 1e-12);
  // One run: the band is the spread over its evaluation episodes.
  const auto one = bcq::reports::return_curve("bcq", {&runs[1]});
  EXPECT_DOUBLE_EQ(one.spread[1], 20);
  // Only iterations every run evaluated at: bc has no 2000.
  const auto mixed = bcq::reports::return_curve("x", {&runs[1], &runs[0]});
  ASSERT_EQ(mixed.iteration.size(), 2u);
  EXPECT_EQ(mixed.iteration[1], 3000);
  EXPECT_DOUBLE_EQ(mixed.mean[1], (800 + 820) / 2.0);

  // A seed that has not evaluated yet is left out instead of emptying the curve.
  bcq::reports::RunRecord fresh = runs[1];
  fresh.evals.clear();
  const auto with_fresh = bcq::reports::return_curve("bcq", {&runs[1], &fresh, &runs[2]});
  EXPECT_EQ(with_fresh.runs, 2);
  EXPECT_EQ(with_fresh.mean, c.mean);
  EXPECT_EQ(bcq::reports::value_curve("bcq", {&fresh, &runs[1]}).iteration.size(), 3u);

  // A seed still running, one evaluation in, is left out while other seeds have ended; it
  // would otherwise cut the curve to that one iteration (a study exported mid-run).
  bcq::reports::RunRecord ended_a = runs[1], ended_b = runs[2], going = runs[2];
  ended_a.status = ended_b.status = "completed";
  going.status = "running";
  going.evals.resize(1);
  const auto with_going = bcq::reports::return_curve("bcq", {&ended_a, &going, &ended_b});
  EXPECT_EQ(with_going.runs, 2);
  EXPECT_EQ(with_going.mean, c.mean);
  EXPECT_EQ(bcq::reports::value_curve("bcq", {&going, &ended_a}).iteration.size(), 3u);
  // With no run ended yet, the curve is over those still going, at the iterations they share.
  bcq::reports::RunRecord also_going = runs[1];
  also_going.status = "interrupted";
  EXPECT_EQ(bcq::reports::return_curve("bcq", {&going, &also_going}).iteration.size(), 1u);

  const auto v = bcq::reports::value_curve("bcq", {&runs[1], &runs[2]});
  ASSERT_EQ(v.iteration.size(), 3u);
  EXPECT_DOUBLE_EQ(v.estimate[1], (60 + 62) / 2.0);
  EXPECT_DOUBLE_EQ(v.truth[1], (55 + 61) / 2.0);
  EXPECT_TRUE(bcq::reports::value_curve("bc", {&runs[0]}).iteration.empty());  // no critic
}

// A long evaluation log (a run evaluated every iteration): the curve goes through 1,000 of the
// evaluations the runs share, evenly spaced, the first and the last included, each one's numbers
// those of that iteration; a log in order is walked once (2,000,000 rows: well under a second).
TEST(ReportCurves, LongLogsAreDrawnThroughAThousandSharedEvaluations) {
  bcq::reports::RunRecord a, b;
  a.status = b.status = "completed";
  for (int64_t i = 1; i <= 200000; ++i) {
    a.evals.push_back({i, static_cast<double>(i), 1, static_cast<double>(2 * i), 0, 0});
    if (i % 2 == 0) b.evals.push_back({i, static_cast<double>(i) + 2, 1, static_cast<double>(2 * i), 0, 0});
  }
  const auto c = bcq::reports::return_curve("bcq", {&a, &b});
  ASSERT_EQ(c.iteration.size(), 1000u);
  EXPECT_EQ(c.iteration.front(), 2);
  EXPECT_EQ(c.iteration.back(), 200000);
  for (std::size_t k = 0; k < c.iteration.size(); ++k) {
    EXPECT_EQ(c.iteration[k] % 2, 0) << k;
    if (k > 0) {
      EXPECT_GT(c.iteration[k], c.iteration[k - 1]) << k;
    }
    EXPECT_DOUBLE_EQ(c.mean[k], static_cast<double>(c.iteration[k]) + 1) << k;
  }
  EXPECT_NEAR(static_cast<double>(c.iteration[500] - c.iteration[499]), 200.0, 2.0);  // even spacing
  const auto v = bcq::reports::value_curve("bcq", {&a, &b});
  ASSERT_EQ(v.iteration.size(), 1000u);
  EXPECT_EQ(v.iteration, c.iteration);
  // Short logs keep every evaluation.
  a.evals.resize(999);
  EXPECT_EQ(bcq::reports::return_curve("bcq", {&a}).iteration.size(), 999u);
}

TEST(ReportWrite, MarkdownHtmlAndPlots) {
  TempDir t;
  make_runs(t);
  const auto runs = find_runs(t.file("runs"));
  bcq::reports::ReportOptions options;
  options.title = "Pendulum | imitation";
  options.sources = {"runs"};
  const auto files = bcq::reports::write_report(runs, t.file("out"), options);
  const std::string stem = "plots/inverted-pendulum-ip-";
  EXPECT_EQ(files.files, (std::vector<std::string>{stem + "return.svg", stem + "value.svg", "report.md", "index.html"}));
  const std::string md = read_file(t.file("out/report.md"));
  EXPECT_EQ(md.rfind("# Pendulum \\| imitation\n", 0), 0u) << md.substr(0, 80);
  EXPECT_NE(md.find("4 single runs from runs, read by bcq report."), std::string::npos) << md;
  EXPECT_NE(md.find("4 runs on 1 batch."), std::string::npos);
  EXPECT_NE(md.find("## inverted-pendulum - ip.h5 (imitation, 20000 steps, seed 0)"), std::string::npos);
  EXPECT_NE(md.find("Behavioural return (mean over the buffer's complete episodes): 800.0."), std::string::npos);
  // Series in the paper's order (bcq, ddpg, bc), seeds in path order; numbers from the files.
  const std::string bcq0 = "| bcq\\_s0 | bcq | 0 | 3,000 / 3,000 | completed | 800.0 ± 30.0 | 800.0 (3,000) | 100% | 70.0 | 66.0 | +4.0 |";
  const std::string bcq1 = "| bcq\\_s1 | bcq | 1 | 3,000 / 3,000 | completed | 760.0 ± 31.0 | 900.0 (2,000) | 95% | 68.0 | 64.0 | +4.0 |";
  const std::string ddpg = "| ddpg | ddpg | 0 | 3,000 / 3,000 | completed | 3.0 ± 0.0 | 5.0 (1,000) | 0% | 2.7e+06 | 3.0 | +2.7e+06 |";
  const std::string bc = "| bc | bc | 0 | 3,000 / 3,000 | completed | 820.0 ± 5.0 | 820.0 (3,000) | 102% | - | - | - |";
  for (const auto& row : {bcq0, bcq1, ddpg, bc}) EXPECT_NE(md.find(row), std::string::npos) << row << "\n" << md;
  EXPECT_LT(md.find(bcq0), md.find(bcq1));
  EXPECT_LT(md.find(bcq1), md.find(ddpg));
  EXPECT_LT(md.find(ddpg), md.find(bc));
  EXPECT_NE(md.find("- Highest return at the last evaluation: 820.0, by bc (bc, seed 0); the behavioural policy's is "
                    "800.0."),
            std::string::npos);
  EXPECT_NE(md.find("- Largest overestimate: ddpg (ddpg, seed 0) estimates 2.7e+06 for the start states, whose true "
                    "discounted return was 3.0."),
            std::string::npos);
  EXPECT_NE(md.find("](" + stem + "return.svg)"), std::string::npos);
  EXPECT_NE(md.find("](" + stem + "value.svg)"), std::string::npos);

  const std::string ret = read_file(t.file("out/" + stem + "return.svg"));
  const std::string val = read_file(t.file("out/" + stem + "value.svg"));
  EXPECT_NE(ret.find("<svg"), std::string::npos);
  EXPECT_NE(ret.find("bcq (2 seeds)"), std::string::npos);
  EXPECT_NE(ret.find("behavioural"), std::string::npos);
  EXPECT_EQ(ret.find("vae-bc"), std::string::npos);
  EXPECT_NE(val.find("ddpg: estimated Q"), std::string::npos);
  EXPECT_NE(val.find("bcq: true discounted return"), std::string::npos);
  EXPECT_EQ(val.find("bc: estimated Q"), std::string::npos);  // no critic, no curve
  EXPECT_NE(val.find(">1e6<"), std::string::npos) << "a 2.7e6 estimate against returns of ~60: log-scale ticks";

  const std::string html = read_file(t.file("out/index.html"));
  EXPECT_NE(html.find("<title>Pendulum | imitation</title>"), std::string::npos);
  EXPECT_NE(html.find("<td>bcq_s1</td><td>bcq</td><td>1</td>"), std::string::npos);
  size_t inline_svgs = 0;
  for (size_t p = html.find("<svg"); p != std::string::npos; p = html.find("<svg", p + 1)) ++inline_svgs;
  EXPECT_EQ(inline_svgs, 2u);
  EXPECT_EQ(html.find("<?xml"), std::string::npos);
  EXPECT_EQ(html.find("<title>Gnuplot</title>"), std::string::npos);
  EXPECT_NE(ret.find("<title>Gnuplot</title>"), std::string::npos);  // the stand-alone files keep it
  // Nothing but the report is left in the folder.
  auto entries = entries_of(t.file("out"));
  EXPECT_EQ(entries, (std::vector<std::string>{"index.html", "plots", "report.md"}));
}

TEST(ReportWrite, OneSectionPerBatch) {
  TempDir t;
  make_run(t.file("runs/a"), config("bcq", 0), "1000,400,10,50,40,1.5\n");
  // The same file name with other attributes is another batch; its plots get their own names.
  make_run(t.file("runs/b"), with(config("bcq", 0), "\"steps\": 20000", "\"steps\": 5000"), "1000,300,10,50,40,1.5\n");
  const auto files = bcq::reports::write_report(find_runs(t.file("runs")), t.file("out"), {});
  EXPECT_EQ(files.files, (std::vector<std::string>{"plots/inverted-pendulum-ip-return.svg", "plots/inverted-pendulum-ip-value.svg",
                                                   "plots/inverted-pendulum-ip-2-return.svg",
                                                   "plots/inverted-pendulum-ip-2-value.svg", "report.md", "index.html"}));
  const std::string md = read_file(t.file("out/report.md"));
  EXPECT_NE(md.find("2 runs on 2 batches"), std::string::npos);
  const auto first = md.find("## inverted-pendulum - ip.h5 (imitation, 20000 steps, seed 0)");
  const auto second = md.find("## inverted-pendulum - ip.h5 (imitation, 5000 steps, seed 0)");
  ASSERT_NE(first, std::string::npos);
  ASSERT_NE(second, std::string::npos);
  EXPECT_LT(first, md.find("| a | bcq |"));
  EXPECT_LT(md.find("| a | bcq |"), second);
  EXPECT_LT(second, md.find("| b | bcq |"));
}

TEST(ReportWrite, PlotNamesNeverCollide) {
  TempDir t;
  // ip.h5 twice (other steps), then ip-2.h5, whose own name is what the second would get.
  make_run(t.file("runs/a"), config("bcq", 0), "1000,400,10,50,40,1.5\n");
  make_run(t.file("runs/b"), with(config("bcq", 0), "\"steps\": 20000", "\"steps\": 5000"), "1000,300,10,50,40,1.5\n");
  make_run(t.file("runs/c"), with(config("bcq", 0), "/data/ip.h5", "/data/ip-2.h5"), "1000,200,10,50,40,1.5\n");
  // The same name and attributes in another folder: another batch, told apart by its path.
  make_run(t.file("runs/d"), with(config("bcq", 0), "/data/ip.h5", "/other/ip.h5"), "1000,100,10,50,40,1.5\n");
  const auto files = bcq::reports::write_report(find_runs(t.file("runs")), t.file("out"), {});
  EXPECT_EQ(files.files.size(), 10u);
  for (const auto& f : files.files) EXPECT_TRUE(fs::exists(t.file("out/" + f))) << f;
  const std::string md = read_file(t.file("out/report.md"));
  EXPECT_NE(md.find("4 runs on 4 batches"), std::string::npos);
  EXPECT_NE(md.find("## inverted-pendulum - ip.h5 (imitation, 20000 steps, seed 0) at /data/ip.h5\n"), std::string::npos) << md;
  EXPECT_NE(md.find("## inverted-pendulum - ip.h5 (imitation, 20000 steps, seed 0) at /other/ip.h5\n"), std::string::npos);
  EXPECT_NE(md.find("## inverted-pendulum - ip-2.h5 (imitation, 20000 steps, seed 0)\n"), std::string::npos);
}

TEST(ReportWrite, TablesOnlyWithoutPlots) {
  TempDir t;
  make_runs(t);
  bcq::reports::ReportOptions options;
  options.plots = false;
  options.gnuplot = "/nonexistent/gnuplot";  // never run
  bcq::reports::write_report(find_runs(t.file("runs")), t.file("out"), options);
  EXPECT_FALSE(fs::exists(t.file("out/plots")));
  const std::string md = read_file(t.file("out/report.md"));
  EXPECT_NE(md.find("| ddpg | ddpg | 0 |"), std::string::npos);
  EXPECT_EQ(md.find("!["), std::string::npos);
}

TEST(ReportWrite, MissingGnuplotLeavesNothing) {
  TempDir t;
  make_runs(t);
  bcq::reports::ReportOptions options;
  options.gnuplot = "/nonexistent/gnuplot";
  try {
    bcq::reports::write_report(find_runs(t.file("runs")), t.file("out"), options);
    ADD_FAILURE();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/gnuplot not found"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(t.file("out")));
  // An existing folder keeps what it had, and only that.
  fs::create_directories(t.file("kept"));
  write_file(t.file("kept/notes.txt"), "mine");
  EXPECT_THROW(bcq::reports::write_report(find_runs(t.file("runs")), t.file("kept"), options), InputError);
  EXPECT_EQ(entries_of(t.file("kept")), std::vector<std::string>{"notes.txt"});
  // A failing gnuplot: its last line names the problem.
  write_file(t.file("fake-gnuplot"), "#!/bin/sh\necho '    plot x'\necho '         ^'\necho 'line 3: boom' >&2\nexit 1\n");
  fs::permissions(t.file("fake-gnuplot"), fs::perms::owner_all);
  options.gnuplot = t.file("fake-gnuplot");
  try {
    bcq::reports::write_report(find_runs(t.file("runs")), t.file("kept"), options);
    ADD_FAILURE();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("gnuplot failed on plots/inverted-pendulum-ip-return.svg: line 3: boom"),
              std::string::npos)
        << e.what();
  }
  EXPECT_EQ(entries_of(t.file("kept")), std::vector<std::string>{"notes.txt"});
  // Folders it had to create on the way to the report are removed too.
  EXPECT_THROW(bcq::reports::write_report(find_runs(t.file("runs")), t.file("x/y/z"), options), InputError);
  EXPECT_FALSE(fs::exists(t.file("x")));
}

TEST(ReportWrite, RunsWithoutEvaluationsAndDivergedRuns) {
  TempDir t;
  fs::create_directories(t.file("runs/new"));
  write_file(t.file("runs/new/config.json"), config("bcq", 3));
  write_file(t.file("runs/new/status.json"), R"({"status": "running", "iteration": 0})");
  make_run(t.file("runs/ddpg"), config("ddpg", 0), "1000,5,1,200,3,1\n",
           R"({"status": "diverged", "iteration": 1234, "loss": "critic_loss", "checkpoint_iteration": 1000})");
  bcq::reports::write_report(find_runs(t.file("runs")), t.file("out"), {});
  const std::string md = read_file(t.file("out/report.md"));
  EXPECT_NE(md.find("| new | bcq | 3 | - | running or interrupted | no evaluation yet |"), std::string::npos) << md;
  EXPECT_NE(md.find("| 1,000 / 3,000 | diverged at iteration 1,234 (critic\\_loss) |"), std::string::npos) << md;
  // Ties for the highest return are all named.
  make_run(t.file("runs/z_bc"), config("bc", 5), "1000,5,0,nan,4,1\n");
  bcq::reports::write_report(find_runs(t.file("runs")), t.file("out"), {});
  EXPECT_NE(read_file(t.file("out/report.md"))
                .find("Highest return at the last evaluation: 5.0, by ddpg (ddpg, seed 0) and bc (z\\_bc, seed 5);"),
            std::string::npos);
}

}  // namespace

// config.json and status.json have one definition (common/run_files.hpp): what the writer
// produces, the reader gives back field for field.
#include "common/run_files.hpp"

namespace {

TEST(RunFiles, ConfigAndStatusRoundTrip) {
  bcq::RunConfig c;
  c.algo = "bcq";
  c.env = "hopper";
  c.buffer = "/data/hopper_final.h5";
  c.buffer_attributes = {{"kind", "final"}, {"behavioural_return", 1234.5}};
  c.buffer_size = 100000;
  c.iterations = 300000;
  c.eval_every = 5000;
  c.eval_episodes = 10;
  c.eval_seed = 103;
  c.seed = 3;
  c.threads = 2;
  c.precision = "bf16";
  c.git_commit = "abc";
  c.hyperparameters = {{"batch_size", 100}};
  const auto j = bcq::run_config_json(c);
  EXPECT_EQ(j["format"], "bcq-run/1");
  EXPECT_FALSE(j.contains("behavioural"));  // only concurrent runs have a behavioural agent
  const auto back = bcq::parse_run_config(j.dump(2), "config.json");
  EXPECT_EQ(bcq::run_config_json(back), j);
  EXPECT_EQ(back.buffer_size, 100000);

  c.concurrent = true;
  c.buffer = "";
  c.buffer_size = -1;  // grows: written as null
  c.behavioural = {{"algo", "ddpg"}};
  const auto jc = bcq::run_config_json(c);
  EXPECT_TRUE(jc["buffer_size"].is_null());
  EXPECT_EQ(bcq::run_config_json(bcq::parse_run_config(jc.dump(), "config.json")), jc);

  const bcq::RunStatus diverged{"diverged", 7, "critic_loss", 5};
  const auto s = bcq::run_status_json(diverged);
  EXPECT_EQ(s.dump(), R"({"checkpoint_iteration":5,"iteration":7,"loss":"critic_loss","status":"diverged"})");
  const auto sb = bcq::parse_run_status(s.dump(), "status.json");
  EXPECT_EQ(bcq::run_status_json(sb), s);
  EXPECT_EQ(bcq::run_status_json({"completed", 300000, "", -1}).dump(), R"({"iteration":300000,"status":"completed"})");
  EXPECT_THROW(bcq::parse_run_status(R"({"status": "finished"})", "status.json"), InputError);
}

}  // namespace
