// What the continuous-study section computes from summary.csv: per environment and batch kind
// the final (last evaluation) and best returns of each algorithm across seeds, their mean ± std,
// interquartile mean and 95% stratified-bootstrap interval (stats.hpp, as rliable computes
// them), D4RL-normalised scores and the probability that BCQ beats each baseline.
#pragma once

#include <string>
#include <vector>

#include "reports/document.hpp"
#include "reports/study.hpp"

namespace bcq::reports {

/// One algorithm's scores on one batch kind: one value per seed whose final return is known.
struct AlgoScores {
  std::string algo;
  std::vector<double> final_return, best_return, q_estimate, true_discounted;
  int rows = 0;        ///< rows of summary.csv (every state)
  int diverged = 0;    ///< of them diverged
  int unfinished = 0;  ///< failed, running or pending: not in the statistics
};

/// The scores on one environment and batch kind.
struct BatchScores {
  std::string env, kind;
  double behavioural_return = 0;  ///< mean over the seeds' buffers; NaN when unknown
  std::vector<AlgoScores> algos;  ///< bcq, ddpg, bc, vae-bc, then others by name
  const AlgoScores* find(const std::string& algo) const;
};

/// The study's training rows grouped by environment (by name) and batch kind (final,
/// concurrent, imitation, imperfect, then others by name).
std::vector<BatchScores> batch_scores(const StudyResult& study);

/// The table of one batch kind: per algorithm the runs, final return mean ± std, IQM and its
/// 95% interval, best return mean ± std and IQM, D4RL-normalised final IQM and interval, the
/// estimate and the true discounted return, and P(bcq > algorithm).
Table batch_table(const BatchScores& b);

/// Per algorithm over every batch kind of `env`: the IQM of the D4RL-normalised final scores
/// with its stratified-bootstrap interval (each kind a stratum) and P(bcq > algorithm) averaged
/// over the kinds. Empty when D4RL has no reference for the environment.
Table environment_table(const std::string& env, const std::vector<BatchScores>& batches);

/// "m ± s" of a sample ("m" alone for one value, "-" for none).
std::string mean_std_text(const std::vector<double>& x);

/// "[lo, hi]" of the 95% bootstrap interval of the IQM ("-" for no value).
std::string iqm_interval_text(const std::vector<double>& x);

}  // namespace bcq::reports
