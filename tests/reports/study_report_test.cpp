// The whole report from fixture results (tests/reports/fixtures.hpp: a Hopper study, a
// verification run with a counterexample, a tabular study, one malformed study): every number
// in report.md's tables equals what the test computes from the inputs, plots and graphs are
// SVG, the malformed input is listed under "Not included", index.html is self-contained, and
// a rerun gives the same bytes.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <regex>

#include "reports/discover.hpp"
#include "reports/report.hpp"
#include "reports/stats.hpp"
#include "tests/reports/fixtures.hpp"
#include "tests/reports/md_tables.hpp"
#include "tests/test_util.hpp"

namespace {

namespace fs = std::filesystem;
namespace fx = bcq::test::fixtures;
using bcq::test::MdTable;
using bcq::test::read_file;
using bcq::test::TempDir;

// Half a unit of the last printed decimal (one decimal): a printed number equals its input
// when within this (a tie such as 315.25 may print either way).
constexpr double kHalfDigit = 0.05 + 1e-9;
constexpr double kHalfThirdDecimal = 5e-4 + 1e-9;  // the tabular table prints 3 decimals

// The numbers in a cell ("1708.9 ± 44.1", "[1650.2, 1760.0]", "4 of 4").
std::vector<double> numbers_in(const std::string& cell) {
  std::vector<double> out;
  static const std::regex number(R"(-?[0-9]+(\.[0-9]+)?(e[+-]?[0-9]+)?)");
  for (auto it = std::sregex_iterator(cell.begin(), cell.end(), number); it != std::sregex_iterator(); ++it) {
    out.push_back(std::stod(it->str()));
  }
  return out;
}

double mean(const std::vector<double>& x) {
  double s = 0;
  for (double v : x) s += v;
  return s / static_cast<double>(x.size());
}

double std_dev(const std::vector<double>& x) {
  const double m = mean(x);
  double ss = 0;
  for (double v : x) ss += (v - m) * (v - m);
  return std::sqrt(ss / static_cast<double>(x.size() - 1));
}

// IQM of 4 values worked directly: the mean of the middle two.
double iqm4(std::vector<double> x) {
  std::sort(x.begin(), x.end());
  return (x[1] + x[2]) / 2;
}

// The exact bootstrap quantiles of the IQM of 4 values: all 256 resamples.
double exact_iqm_quantile(const std::vector<double>& x, double p) {
  std::vector<double> stats;
  for (int i = 0; i < 256; ++i) stats.push_back(iqm4({x[i & 3], x[(i >> 2) & 3], x[(i >> 4) & 3], x[(i >> 6) & 3]}));
  std::sort(stats.begin(), stats.end());
  const size_t k = static_cast<size_t>(std::ceil(p * 256 - 1e-9));
  return stats[std::max<size_t>(k, 1) - 1];
}

struct Rendered {
  TempDir t;
  bcq::reports::Results results;
  std::string md, html;
  std::vector<MdTable> tables;
  bcq::reports::ReportFiles files;
  explicit Rendered(bool plots) {
    fx::write_all(t.path());
    // Found from a relative path, as `bcq report --runs results` would: the report names what
    // it read by the paths it was given.
    const fs::path before = fs::current_path();
    fs::current_path(t.path());
    results = bcq::reports::discover({"results"});
    fs::current_path(before);
    bcq::reports::ReportOptions options;
    options.title = "Fixture report";
    options.plots = plots;
    files = bcq::reports::write_report(results, t.file("out"), options);
    md = read_file(t.file("out/report.md"));
    html = read_file(t.file("out/index.html"));
    tables = bcq::test::md_tables(md);
  }
};

// Tables only (no gnuplot or dot runs: ctest runs each test in its own process), or the whole
// report with its plots and graphs.
const Rendered& rendered(bool plots = false) {
  if (plots) {
    static Rendered whole(true);
    return whole;
  }
  static Rendered tables(false);
  return tables;
}

TEST(StudyReport, FindsEveryKindOfResultAndListsTheMalformedOne) {
  const auto& r = rendered();
  ASSERT_EQ(r.results.studies.size(), 1u);
  ASSERT_EQ(r.results.verifications.size(), 1u);
  ASSERT_EQ(r.results.tabular.size(), 1u);
  EXPECT_TRUE(r.results.runs.empty());  // the study's cells are not single runs
  const MdTable* missing = bcq::test::table_under(r.tables, "Not included");
  ASSERT_NE(missing, nullptr) << r.md;
  ASSERT_EQ(missing->rows.size(), 1u);
  EXPECT_NE(missing->rows[0][0].find("broken"), std::string::npos);
  EXPECT_NE(missing->rows[0][1].find("study.json"), std::string::npos) << missing->rows[0][1];
}

TEST(StudyReport, BatchTablesEqualTheInputs) {
  const auto& r = rendered();
  for (size_t k = 0; k < fx::kKinds.size(); ++k) {
    const MdTable* t = bcq::test::table_under(r.tables, "hopper - " + fx::kKinds[k] + " buffer");
    ASSERT_NE(t, nullptr) << fx::kKinds[k];
    std::vector<double> bcq_final;
    for (int s = 0; s < fx::kSeeds; ++s) bcq_final.push_back(fx::final_return(k, 0, s));
    for (size_t a = 0; a < fx::kAlgos.size(); ++a) {
      const std::string& algo = fx::kAlgos[a];
      std::vector<double> fin, best, q, truth;
      for (int s = 0; s < fx::kSeeds; ++s) {
        fin.push_back(fx::final_return(k, a, s));
        best.push_back(fx::best_return(k, a, s));
        q.push_back(fx::q_estimate(k, a, s));
        truth.push_back(fx::true_discounted(k, a, s));
      }
      SCOPED_TRACE(fx::kKinds[k] + " " + algo);
      EXPECT_EQ(t->cell(algo, "runs"), "4 of 4");
      // One decimal printed: equal within half a unit of the last digit.
      const auto ms = numbers_in(t->cell(algo, "final return (mean ± std)"));
      ASSERT_EQ(ms.size(), 2u);
      EXPECT_NEAR(ms[0], mean(fin), kHalfDigit);
      EXPECT_NEAR(ms[1], std_dev(fin), kHalfDigit);
      EXPECT_NEAR(numbers_in(t->cell(algo, "final IQM"))[0], iqm4(fin), kHalfDigit);
      const auto bs = numbers_in(t->cell(algo, "best return (mean ± std)"));
      EXPECT_NEAR(bs[0], mean(best), kHalfDigit);
      EXPECT_NEAR(bs[1], std_dev(best), kHalfDigit);
      EXPECT_NEAR(numbers_in(t->cell(algo, "best IQM"))[0], iqm4(best), kHalfDigit);
      // The interval against the exact bootstrap distribution (256 resamples), with the slack
      // of 50,000 Monte Carlo resamples (5 standard errors of the quantile level).
      const auto ci = numbers_in(t->cell(algo, "final IQM 95% CI"));
      ASSERT_EQ(ci.size(), 2u);
      const double se = 5 * std::sqrt(0.025 * 0.975 / bcq::reports::kBootstrapReps);
      EXPECT_GE(ci[0], exact_iqm_quantile(fin, 0.025 - se) - kHalfDigit);
      EXPECT_LE(ci[0], exact_iqm_quantile(fin, 0.025 + se) + kHalfDigit);
      EXPECT_GE(ci[1], exact_iqm_quantile(fin, 0.975 - se) - kHalfDigit);
      EXPECT_LE(ci[1], exact_iqm_quantile(fin, 0.975 + se) + kHalfDigit);
      // D4RL: hopper random -20.272305, expert 3234.3.
      EXPECT_NEAR(numbers_in(t->cell(algo, "D4RL-normalised final IQM"))[0],
                  100 * (iqm4(fin) + 20.272305) / (3234.3 + 20.272305), kHalfDigit);
      if (a == 0 || a == 1) {
        EXPECT_NEAR(numbers_in(t->cell(algo, "estimated Q (mean)"))[0], mean(q), std::max(kHalfDigit, 5e-3 * mean(q)));
        EXPECT_NEAR(numbers_in(t->cell(algo, "true discounted return (mean)"))[0], mean(truth), kHalfDigit);
      } else {
        EXPECT_EQ(t->cell(algo, "estimated Q (mean)"), "-");
      }
      if (a == 0) {
        EXPECT_EQ(t->cell(algo, "P(bcq > algorithm)"), "-");
      } else {
        double wins = 0;
        for (double x : bcq_final)
          for (double y : fin) wins += x > y ? 1 : x == y ? 0.5 : 0;
        EXPECT_NEAR(numbers_in(t->cell(algo, "P(bcq > algorithm)"))[0], wins / 16, 0.005);
      }
    }
  }
}

TEST(StudyReport, ClaimsShowTheFailingOneFailingWithItsNumbers) {
  const auto& r = rendered();
  const MdTable* t = bcq::test::table_under(r.tables, "The paper's claims, checked");
  ASSERT_NE(t, nullptr) << r.md;
  ASSERT_EQ(t->rows.size(), 6u);
  const std::string bcq_claim = "BCQ matches or beats the behavioural policy on every batch kind";
  // Imperfect: BCQ's returns 559.5-661 against a behavioural 1200.
  EXPECT_EQ(t->cell(bcq_claim, "verdict"), "not supported");
  const std::string numbers = t->cell(bcq_claim, "numbers (final returns unless stated)");
  EXPECT_NE(numbers.find("hopper imperfect: mean 608.9"), std::string::npos) << numbers;
  EXPECT_NE(numbers.find("vs behavioural 1200.0 (fails)"), std::string::npos) << numbers;
  EXPECT_EQ(numbers.find("final: mean 1708.9 (95% CI upper 1761.0) vs behavioural 1500.0 (fails)"), std::string::npos);
  EXPECT_EQ(t->cell("Offline DDPG's value estimate exceeds its true return", "verdict"), "supported");
  EXPECT_EQ(t->cell("Offline DDPG's return stays below the behavioural return", "verdict"), "supported");
  EXPECT_EQ(t->cell("BC does poorly on the noisy buffers", "verdict"), "supported");
  EXPECT_EQ(t->cell("VAE-BC behaves like BC", "verdict"), "supported");
}

TEST(StudyReport, FindingsAboutTheClaimsFollowTheClaimsTableAsWritten) {
  const auto& r = rendered();
  const auto claims = r.md.find("### The paper's claims, checked");
  const auto findings = r.md.find("#### What was found about the claims not supported");
  ASSERT_NE(claims, std::string::npos);
  ASSERT_NE(findings, std::string::npos) << r.md;
  EXPECT_LT(claims, findings);
  // A paragraph joins its lines; each "- " line starts a list item, an indented line continues it.
  EXPECT_NE(r.md.find("BCQ on the imperfect buffer: the scale, not a defect. A longer run closes the gap.\n"),
            std::string::npos) << r.md;
  EXPECT_NE(r.md.find("- 100k iterations: 1190, within the interval\n"), std::string::npos) << r.md;
  EXPECT_NE(r.html.find("<li>20k iterations: 608.9 &lt;below&gt; 1200</li>"), std::string::npos);
  EXPECT_NE(r.html.find("<p>BCQ on the imperfect buffer: the scale, not a defect. A longer run closes the gap.</p>"),
            std::string::npos);
}

// findings.md goes through the one input reader: a device (read forever before) or a
// directory is listed under "Not included" and the study is still reported.
TEST(StudyReport, AFindingsFileThatIsADeviceOrAFolderIsNotIncludedNotRead) {
  for (const bool device : {true, false}) {
    TempDir t;
    fx::write_all(t.path());
    const std::string findings = t.file("results/hopper-quick/findings.md");
    fs::remove(findings);
    if (device) fs::create_symlink("/dev/zero", findings);
    else fs::create_directory(findings);
    const auto results = bcq::reports::discover({t.file("results")});
    bcq::reports::ReportOptions options;
    options.plots = false;
    bcq::reports::write_report(results, t.file("out"), options);
    const std::string md = read_file(t.file("out/report.md"));
    EXPECT_NE(md.find(device ? "it is a device, not a regular file" : "it is a directory"), std::string::npos) << md;
    EXPECT_NE(md.find("### The paper's claims, checked"), std::string::npos);
    EXPECT_EQ(md.find("What was found about the claims not supported"), std::string::npos);
  }
}

TEST(StudyReport, VerificationTableAndCounterexampleGraph) {
  const auto& r = rendered(/*plots=*/true);
  const MdTable* t = nullptr;
  for (const auto& table : r.tables)
    if (table.heading.rfind("Verification: ", 0) == 0) t = &table;
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->cell("theorem1", "cases"), "200");
  EXPECT_EQ(t->cell("theorem1", "passed"), "200");
  EXPECT_EQ(t->cell("theorem1", "discarded"), "3");
  EXPECT_EQ(t->cell("theorem1", "seed"), "7");
  EXPECT_EQ(t->cell("theorem1", "seconds"), "1.25");
  EXPECT_EQ(t->cell("theorem1", "classification (cases per tag)"), "57 deterministic, 143 stochastic");
  EXPECT_EQ(t->cell("theorem2:stochastic", "verdict"), "counterexample found");
  // The graph: found beside verify.json although saved elsewhere; s_init for the unseen pairs.
  const auto& s = r.results.verifications[0].statements[1];
  ASSERT_TRUE(s.has_counterexample);
  EXPECT_NE(s.drawn.dot.find("s0 -> s1 [label=\"a0 p=0.5 r=1 (B: 1x)\""), std::string::npos) << s.drawn.dot;
  EXPECT_NE(s.drawn.dot.find("s1 -> s2 [label=\"a0 p=1 r=2 (B: 2x)\""), std::string::npos);
  EXPECT_NE(s.drawn.dot.find("s0 -> s_init [label=\"a1 not in B\""), std::string::npos);
  EXPECT_NE(s.drawn.dot.find("s2 [label=\"s2\", shape=doublecircle"), std::string::npos);
  EXPECT_NE(r.md.find("bcq error --mdp mdp.json --batch batch.csv --policy policy.json --q-init 0"), std::string::npos);
  EXPECT_NE(r.html.find("s_init"), std::string::npos);
}

TEST(StudyReport, TabularTableEqualsTheSummary) {
  const auto& r = rendered();
  const MdTable* t = nullptr;
  for (const auto& table : r.tables)
    if (!table.header.empty() && table.header[0] == "mdp") t = &table;
  ASSERT_NE(t, nullptr) << r.md;
  ASSERT_EQ(t->rows.size(), 18u);
  const char* algos[] = {"q-learning", "bcql", "pi-b-spibb"};
  size_t row = 0;
  for (int det = 0; det < 2; ++det)
    for (int i = 0; i < 3; ++i)
      for (int a = 0; a < 3; ++a, ++row) {
        const auto& cells = t->rows[row];
        EXPECT_EQ(cells[1], det ? "yes" : "no");
        EXPECT_EQ(cells[4], algos[a]);
        EXPECT_NEAR(std::stod(cells[6]), fx::tabular_mean(det, i, a), kHalfThirdDecimal);
        EXPECT_NEAR(std::stod(cells[8]), fx::tabular_mean(det, i, a) - 0.25, kHalfThirdDecimal);
      }
}

TEST(StudyReport, PlotsAreSvgAndThePageIsSelfContained) {
  const auto& r = rendered(/*plots=*/true);
  size_t plots = 0;
  for (const auto& f : r.files.files) {
    if (f.rfind("plots/", 0) != 0) continue;
    ++plots;
    const std::string svg = read_file(r.t.file("out/" + f));
    EXPECT_FALSE(svg.empty()) << f;
    EXPECT_NE(svg.find("<svg"), std::string::npos) << f;
    EXPECT_NE(svg.find("</svg>"), std::string::npos) << f;
    EXPECT_NE(r.md.find("](" + f + ")"), std::string::npos) << f;
  }
  // 4 batch kinds x (return, value), 1 graph, tabular 1 panel x 2 measures x 2 sides.
  EXPECT_EQ(plots, 4u * 2 + 1 + 4);
  EXPECT_EQ(r.html.find("<script"), std::string::npos);
  EXPECT_EQ(r.html.find(" src="), std::string::npos);
  EXPECT_EQ(r.html.find("<link"), std::string::npos);
  // The only URLs are XML namespace names, which nothing fetches.
  const std::string without_namespaces = std::regex_replace(r.html, std::regex(R"(xmlns(:[a-z]+)?="[^"]*")"), "");
  EXPECT_EQ(without_namespaces.find("http://"), std::string::npos);
  EXPECT_EQ(without_namespaces.find("https://"), std::string::npos);
  // No absolute path of the machine that wrote it.
  EXPECT_EQ(r.html.find(r.t.path()), std::string::npos);
}

TEST(StudyReport, HowItWasMade) {
  const auto& r = rendered();
  const MdTable* t = nullptr;
  for (const auto& table : r.tables)
    if (table.heading.rfind("Study ", 0) == 0) t = &table;
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->cell("libtorch version", "value"), "2.1.0");
  EXPECT_EQ(t->cell("mujoco version", "value"), "3.1.1");
  EXPECT_EQ(t->cell("compiler version", "value"), "GCC 12.2.0");
  EXPECT_EQ(t->cell("git commit", "value"), "0123abcd");
  EXPECT_EQ(t->cell("machine", "value"), "Test CPU @ 2.0GHz");
  EXPECT_EQ(t->cell("hardware threads", "value"), "2");
  EXPECT_EQ(t->cell("wall time", "value"), "4322 s");
  EXPECT_NE(r.md.find("\"format\": \"bcq-study/1\""), std::string::npos);
}

TEST(StudyReport, SameInputsSameBytes) {
  const auto& r = rendered(/*plots=*/true);
  bcq::reports::ReportOptions options;
  options.title = "Fixture report";
  const auto again = bcq::reports::write_report(r.results, r.t.file("again"), options);
  ASSERT_EQ(again.files, r.files.files);
  for (const auto& f : again.files) EXPECT_EQ(read_file(r.t.file("again/" + f)), read_file(r.t.file("out/" + f))) << f;
}

}  // namespace
