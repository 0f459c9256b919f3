// The statistics of the study tables, defined as the rliable library (Agarwal et al., "Deep RL
// at the Edge of the Statistical Precipice", NeurIPS 2021) computes them:
// - interquartile mean = scipy.stats.trim_mean(scores, 0.25) over all runs: sort, drop
//   floor(n / 4) scores from each end, average the rest;
// - stratified bootstrap: each stratum (task; here a batch) resampled with replacement on its
//   own, its size kept; the 95% interval is the percentile interval of the statistic over the
//   resamples, percentiles by linear interpolation (numpy.percentile's default);
// - probability of improvement P(X > Y) = the Mann-Whitney U statistic / (n_x n_y) per task
//   (a tie counts one half), averaged over tasks.
// D4RL-normalised scores use D4RL's published random and expert returns.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace bcq::reports {

/// Scores grouped by stratum (task): strata[m] holds the runs of task m.
using Strata = std::vector<std::vector<double>>;

/// A statistic of stratified scores (the aggregate over all strata).
using Statistic = std::function<double(const Strata&)>;

struct Interval {
  double lo = 0, hi = 0;
};

/// rliable's default number of bootstrap resamples.
inline constexpr int kBootstrapReps = 50000;
/// Resamples per point of a curve's band (a curve has one band per evaluation).
inline constexpr int kCurveBootstrapReps = 2000;
/// The seed every interval of the report starts from, so that a rerun prints the same numbers.
inline constexpr uint64_t kBootstrapSeed = 20190609;

double mean_of(const std::vector<double>& x);

/// Standard deviation with n - 1; NaN for fewer than two values.
double sample_std(const std::vector<double>& x);

/// The 25% trimmed mean (scipy.stats.trim_mean(x, 0.25)); NaN when empty.
double interquartile_mean(std::vector<double> x);

/// The p-th quantile (p in [0, 1]) by linear interpolation between order statistics
/// (numpy.percentile(x, 100 p)); NaN when empty.
double percentile(std::vector<double> x, double p);

/// Mean of the strata's means (rliable's aggregate_mean).
double mean_statistic(const Strata& s);

/// IQM of all scores of all strata together (rliable's aggregate_iqm).
double iqm_statistic(const Strata& s);

/// Percentile interval of `statistic` over `reps` stratified bootstrap resamples of `strata`
/// (size 0.95: the 2.5th and 97.5th percentiles). Deterministic for a given `seed`: resample
/// indices are drawn as mt19937_64() mod n.
Interval bootstrap_interval(const Strata& strata, const Statistic& statistic, double size, int reps, uint64_t seed);

/// P(X > Y): per stratum the share of pairs (x, y) with x > y, ties counting 1/2, averaged
/// over the strata both have. NaN when no stratum has scores on both sides.
double probability_of_improvement(const Strata& x, const Strata& y);

/// D4RL's reference returns of an environment (random and expert policies).
struct D4rlReference {
  bool known = false;
  double random = 0, expert = 0;
};

/// hopper -20.272305 / 3234.3, halfcheetah -280.178953 / 12135.0, walker2d 1.629008 / 4592.3
/// (D4RL's infos.py); matched on the environment name without case, dashes or a version.
D4rlReference d4rl_reference(const std::string& env);

/// 100 (return - random) / (expert - random); NaN when D4RL publishes no reference.
double d4rl_normalised(const std::string& env, double score);

}  // namespace bcq::reports
