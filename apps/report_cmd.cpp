// `bcq report`: one Markdown + HTML report of everything found below the given folders.
#include <fmt/core.h>

#include <chrono>
#include <cstdint>
#include <iostream>
#include <memory>
#include <string>

#include "apps/cli_common.hpp"
#include "common/interrupt.hpp"
#include "common/progress.hpp"
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

// The progress line on a terminal: the stage, how far it got, and its ETA (at the rate so far
// in that stage); while reading, at most ten times a second.
class ReportProgress {
 public:
  explicit ReportProgress(bool on) : line_(on) {}
  void operator()(const std::string& stage, std::uint64_t done, std::uint64_t total) {
    if (!line_.on()) return;
    const auto now = Clock::now();
    if (stage != stage_) {
      stage_ = stage;
      start_ = now;
    } else if (stage == "reading" && now - shown_ < std::chrono::milliseconds(100) && done < total) {
      return;
    }
    shown_ = now;
    std::string text = "[report] " + stage;
    if (stage == "reading" && total > 0) {
      text += fmt::format(" eval.csv files: {:.0f}% ({:.1f} of {:.1f} MB)", 100.0 * static_cast<double>(done) / static_cast<double>(total),
                          static_cast<double>(done) / 1e6, static_cast<double>(total) / 1e6);
    } else if (stage == "drawing") {
      text += fmt::format(" plots: {} of {} done", done, total);
    } else if (stage == "writing") {
      text += " index.html and report.md";
    }
    if (total > 0) {
      const double elapsed = std::chrono::duration<double>(now - start_).count();
      text += "  ETA " + eta(static_cast<std::int64_t>(done), static_cast<std::int64_t>(total), elapsed);
    }
    line_.show(text);
  }
  void finish() { line_.finish(); }

 private:
  using Clock = std::chrono::steady_clock;
  ProgressLine line_;
  std::string stage_;
  Clock::time_point start_, shown_;
};

void report_command(const ReportCliOptions& o) {
  // Ctrl-C / SIGTERM: the report stops at its next plot or every 65,536 rows it reads, removes
  // its work folder and any folder it created, and exits 130 / 143 with one line.
  catch_interrupts();
  auto progress = std::make_shared<ReportProgress>(stderr_is_tty() && !o.quiet);
  const reports::ProgressHook hook = [progress](const std::string& stage, std::uint64_t done, std::uint64_t total) {
    (*progress)(stage, done, total);
  };
  reports::ReportFiles written;
  reports::Results results;
  try {
    results = reports::discover(o.runs_dirs, hook);
    reports::ReportOptions options;
    options.title = o.title;
    options.sources = o.runs_dirs;
    options.plots = !o.no_plots;
    options.progress = hook;
    written = reports::write_report(results, o.out_dir, options);
  } catch (...) {
    progress->finish();  // the error line starts a line of its own
    throw;
  }
  progress->finish();
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
  report->add_flag("--quiet", o->quiet, "print nothing on success, and no progress line");
  report->callback([o] { report_command(*o); });
}

}  // namespace bcq::cli
