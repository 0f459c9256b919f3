// `bcq report`: one report of everything found below the given folders: verification runs
// (with their counterexamples drawn as graphs), continuous studies (return curves, tables with
// honest statistics, the paper's claims checked), tabular studies, single `bcq train` runs,
// what could not be read, and how the results were made. Written as a self-contained HTML
// page (index.html: inline SVG and style, no script, nothing fetched) and Markdown
// (report.md) with the plots as SVG files (plots/).
#pragma once

#include <string>
#include <vector>

#include "reports/discover.hpp"
#include "reports/grouping.hpp"
#include "reports/runs.hpp"

namespace bcq::reports {

struct ReportOptions {
  std::string title = "bcq report";
  std::vector<std::string> sources;  ///< the folders the results were found in (named in the report)
  bool plots = true;                 ///< draw the SVG plots and graphs (needs gnuplot and dot)
  std::string gnuplot = "gnuplot";   ///< the gnuplot program (looked up on PATH)
  std::string dot = "dot";           ///< Graphviz dot, for counterexample graphs
  ProgressHook progress;             ///< hears of the drawing and writing stages (may be empty)
};

/// The files a report consists of, relative to its folder.
struct ReportFiles {
  std::vector<std::string> files;
};

/// Writes `out_dir`/report.md, index.html and plots/*.svg. Every file is written in a
/// temporary folder and moved into place at the end; on failure nothing is left (and folders
/// this call created are removed). Throws bcq::InputError: nothing to report, gnuplot or dot
/// missing or failing, an unwritable folder; bcq::Interrupted on SIGINT or SIGTERM (polled
/// before each plot and before writing), with the same cleanup. The same inputs give the same
/// bytes.
ReportFiles write_report(const Results& results, const std::string& out_dir, const ReportOptions& options);

/// The report of single run folders only.
ReportFiles write_report(const std::vector<RunRecord>& runs, const std::string& out_dir, const ReportOptions& options);

}  // namespace bcq::reports
