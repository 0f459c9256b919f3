// `bcq report`: one Markdown + HTML report of everything found below the given folders.
#include <fmt/core.h>

#include <iostream>
#include <memory>

#include "apps/cli_common.hpp"
#include "reports/discover.hpp"
#include "reports/report.hpp"

namespace bcq::cli {
namespace {

struct ReportCliOptions {
  std::vector<std::string> runs_dirs = {"runs"};
  std::string out_dir = "report";
  std::string title = "bcq report";
  bool no_plots = false;
  bool quiet = false;
};

void report_command(const ReportCliOptions& o) {
  const auto results = reports::discover(o.runs_dirs);
  reports::ReportOptions options;
  options.title = o.title;
  options.sources = o.runs_dirs;
  options.plots = !o.no_plots;
  const auto written = reports::write_report(results, o.out_dir, options);
  if (!o.quiet) {
    size_t plots = 0;
    for (const auto& f : written.files) plots += f.rfind("plots/", 0) == 0;
    std::string what;
    auto count = [&](size_t n, const char* one, const char* many) {
      if (n) what += (what.empty() ? "" : ", ") + fmt::format("{} {}", n, n == 1 ? one : many);
    };
    count(results.verifications.size(), "verification run", "verification runs");
    count(results.studies.size(), "study", "studies");
    count(results.tabular.size(), "tabular study", "tabular studies");
    count(results.runs.size(), "run", "runs");
    count(results.not_included.size(), "result not included", "results not included");
    std::cout << fmt::format("{}: wrote {}/index.html, {}/report.md and {} plot{}\n", what, o.out_dir, o.out_dir, plots,
                             plots == 1 ? "" : "s");
  }
}

}  // namespace

void add_report_commands(CLI::App& app) {
  auto o = std::make_shared<ReportCliOptions>();
  CLI::App* report = app.add_subcommand(
      "report",
      "One HTML + Markdown report of verification runs, studies, tabular studies and run folders");
  report->add_option("--runs", o->runs_dirs,
                     "folders (or bcq-verify/1 files) searched for results: bcq verify --json files, study folders "
                     "(study.json), tabular studies (tabular_summary.csv), bcq train run folders (config.json); "
                     "default runs")
      ->expected(1, -1);
  report->add_option("-o,--out", o->out_dir, "report folder: index.html, report.md, plots/ (default report)");
  report->add_option("--title", o->title, "the report's title (default \"bcq report\")");
  report->add_flag("--no-plots", o->no_plots, "tables only (no gnuplot or dot needed)");
  report->add_flag("--quiet", o->quiet, "print nothing on success");
  report->callback([o] { report_command(*o); });
}

}  // namespace bcq::cli
