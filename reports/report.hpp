// `bcq report`: a Markdown and an HTML report, with plots drawn by gnuplot, of the run folders
// that `bcq train` writes. Runs on the same batch (same environment and buffer) are compared
// side by side: their returns over training against the behavioural policy's, and each
// critic's value estimate against the discounted return its policy actually obtained (the
// extrapolation error of section 3 of the paper).
#pragma once

#include <string>
#include <vector>

#include "reports/runs.hpp"

namespace bcq::reports {

struct ReportOptions {
  std::string title = "BCQ runs";
  std::string source;             ///< the folder the runs were found in (named in the report)
  bool plots = true;              ///< draw the SVG plots (needs gnuplot)
  std::string gnuplot = "gnuplot";  ///< the gnuplot program (looked up on PATH)
};

/// What one run's evaluations show.
struct RunSummary {
  bool has_evals = false;
  EvalPoint last;         ///< the last evaluation
  EvalPoint best;         ///< the evaluation with the highest mean return (the first such)
  double percent_of_behavioural = 0;  ///< last mean return / behavioural return * 100; NaN if
                                      ///< that return is unknown or not positive
  double value_gap = 0;   ///< last q_estimate - true_discounted (NaN without a critic)
};

RunSummary summarize(const RunRecord& run);

/// The return curve of one algorithm (and precision) on one batch, over its runs (seeds) that
/// have evaluated at least once.
struct ReturnCurve {
  std::string label;               ///< "bcq", "bcq (bf16)", ...
  int runs = 0;                    ///< seeds averaged (runs with no evaluation yet left out)
  std::vector<int64_t> iteration;  ///< iterations every run of the curve evaluated at
  std::vector<double> mean;        ///< mean return over the runs
  std::vector<double> spread;      ///< std over the runs (n - 1); over the episodes for one run
};

/// The value curves of one algorithm on one batch: mean estimate and mean true discounted
/// return over the runs, at the iterations where every run has a finite estimate.
struct ValueCurve {
  std::string label;
  int runs = 0;
  std::vector<int64_t> iteration;
  std::vector<double> estimate, truth;
};

ReturnCurve return_curve(const std::string& label, const std::vector<const RunRecord*>& runs);
ValueCurve value_curve(const std::string& label, const std::vector<const RunRecord*>& runs);

/// The files a report consists of, relative to its folder.
struct ReportFiles {
  std::vector<std::string> files;
};

/// Writes `out_dir`/report.md, report.html (self-contained: plots inline) and plots/*.svg.
/// Every file is written under a temporary name and renamed; on failure nothing is left.
/// Throws bcq::InputError (gnuplot missing or failing, unwritable folder).
ReportFiles write_report(const std::vector<RunRecord>& runs, const std::string& out_dir,
                         const ReportOptions& options);

}  // namespace bcq::reports
