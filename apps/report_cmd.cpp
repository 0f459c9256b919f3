// `bcq report`: Markdown + HTML with plots from the run folders `bcq train` writes.
#include <fmt/core.h>

#include <iostream>
#include <memory>

#include "apps/cli_common.hpp"
#include "reports/report.hpp"
#include "reports/runs.hpp"

namespace bcq::cli {
namespace {

struct ReportCliOptions {
  std::string runs_dir = "runs";
  std::string out_dir = "report";
  std::string title = "BCQ runs";
  bool no_plots = false;
  bool quiet = false;
};

void report_command(const ReportCliOptions& o) {
  const auto runs = reports::find_runs(o.runs_dir);
  reports::ReportOptions options;
  options.title = o.title;
  options.source = o.runs_dir;
  options.plots = !o.no_plots;
  const auto written = reports::write_report(runs, o.out_dir, options);
  if (!o.quiet) {
    size_t plots = 0;
    for (const auto& f : written.files) plots += f.rfind("plots/", 0) == 0;
    std::cout << fmt::format("{} run{}: wrote {}/report.md, {}/report.html and {} plot{}\n", runs.size(),
                             runs.size() == 1 ? "" : "s", o.out_dir, o.out_dir, plots, plots == 1 ? "" : "s");
  }
}

}  // namespace

void add_report_commands(CLI::App& app) {
  auto o = std::make_shared<ReportCliOptions>();
  CLI::App* report = app.add_subcommand(
      "report", "HTML + Markdown report with plots of the run folders written by `bcq train`");
  report->add_option("--runs", o->runs_dir,
                     "a run folder, or a folder searched for run folders (those holding config.json); default runs");
  report->add_option("-o,--out", o->out_dir, "report folder: report.md, report.html, plots/ (default report)");
  report->add_option("--title", o->title, "the report's title");
  report->add_flag("--no-plots", o->no_plots, "tables only (no gnuplot needed)");
  report->add_flag("--quiet", o->quiet, "print nothing on success");
  report->callback([o] { report_command(*o); });
}

}  // namespace bcq::cli
