// Runs grouped by the batch they were trained on, one series per algorithm (and precision), and
// what the report computes from them: each run's last and best evaluation, and the curves over
// seeds that the plots draw.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "reports/runs.hpp"

namespace bcq::reports {

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

/// How the band around a return curve is drawn.
enum class Band {
  kStd,        ///< one standard deviation across seeds (over the episodes for one seed)
  kBootstrap,  ///< the 95% percentile-bootstrap interval of the mean over seeds (stats.hpp)
};

/// The return curve of one algorithm (and precision) on one batch, over its runs (seeds) that
/// have evaluated at least once; while some of them are not still going (running or
/// interrupted), over those only, so that a run still going does not cut the curve short.
struct ReturnCurve {
  std::string label;               ///< "bcq", "bcq (bf16)", ...
  int runs = 0;                    ///< seeds averaged (runs with no evaluation yet, or still going, left out)
  std::vector<int64_t> iteration;  ///< iterations every run of the curve evaluated at
  std::vector<double> mean;        ///< mean return over the runs
  std::vector<double> spread;      ///< std over the runs (n - 1); over the episodes for one run
  std::vector<double> lo, hi;      ///< the band drawn around the mean
};

/// The value curves of one algorithm on one batch: mean estimate and mean true discounted
/// return over the runs, at the iterations where every run has a finite estimate.
struct ValueCurve {
  std::string label;
  int runs = 0;
  std::vector<int64_t> iteration;
  std::vector<double> estimate, truth;
};

ReturnCurve return_curve(const std::string& label, const std::vector<const RunRecord*>& runs,
                         Band band = Band::kStd);
ValueCurve value_curve(const std::string& label, const std::vector<const RunRecord*>& runs);

/// The runs of one algorithm (and precision) on one batch.
struct Series {
  std::string label;
  std::string algo;
  std::vector<const RunRecord*> runs;
};

/// The runs on one batch: same environment, same buffer file and attributes.
struct Group {
  std::string env, batch, slug;    ///< slug: unique among the groups, names the plot files
  double behavioural_return = 0;   ///< NaN when the buffer does not record it
  std::vector<const RunRecord*> runs;
  std::vector<Series> series;      ///< bcq, ddpg, bc, vae-bc first, then by label
};

/// Groups `runs` by batch (in order of first appearance); the pointers point into `runs`.
std::vector<Group> group_runs(const std::vector<RunRecord>& runs);

/// 0 bcq, 1 ddpg, 2 bc, 3 vae-bc, 4 anything else: the order of series and their colours.
int algo_rank(const std::string& algo);

/// "bcq", or "bcq (bf16)" for another precision than fp32.
std::string series_label(const RunRecord& r);

}  // namespace bcq::reports
