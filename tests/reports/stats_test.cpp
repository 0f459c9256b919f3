// reports/stats: the interquartile mean, percentiles and probability of improvement against
// values worked by hand, and the stratified bootstrap interval against the exact bootstrap
// distribution, enumerated over every resample of a tiny sample.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <vector>

#include "reports/stats.hpp"

namespace {

using namespace bcq::reports;

TEST(ReportStats, InterquartileMeanIsScipysTrimMeanByHand) {
  // n = 8: drop floor(8 / 4) = 2 from each end; mean of 3, 4, 5, 6.
  EXPECT_DOUBLE_EQ(interquartile_mean({8, 1, 7, 2, 6, 3, 5, 4}), 4.5);
  // n = 5: drop 1 from each end of 1 3 7 10 100; mean of 3, 7, 10.
  EXPECT_DOUBLE_EQ(interquartile_mean({10, 1, 7, 3, 100}), 20.0 / 3.0);
  // Unequal tails tell how many are dropped: n = 8 keeps 3 4 5 6 (dropping one would keep 50);
  // n = 4 keeps 2 3 (dropping none would keep 100).
  EXPECT_DOUBLE_EQ(interquartile_mean({100, 1, 50, 2, 6, 3, 5, 4}), 4.5);
  EXPECT_DOUBLE_EQ(interquartile_mean({1, 2, 3, 100}), 2.5);
  // n = 3: nothing dropped.
  EXPECT_DOUBLE_EQ(interquartile_mean({1, 2, 9}), 4.0);
  EXPECT_TRUE(std::isnan(interquartile_mean({})));
}

TEST(ReportStats, PercentileInterpolatesLikeNumpy) {
  // numpy.percentile([1, 2, 3, 4], 2.5) = 1 + 0.075 (index 0.025 * 3), 97.5 -> 3 + 0.925.
  EXPECT_DOUBLE_EQ(percentile({4, 1, 3, 2}, 0.025), 1.075);
  EXPECT_DOUBLE_EQ(percentile({4, 1, 3, 2}, 0.975), 3.925);
  EXPECT_DOUBLE_EQ(percentile({4, 1, 3, 2}, 0.5), 2.5);
  EXPECT_DOUBLE_EQ(percentile({7}, 0.3), 7.0);
}

TEST(ReportStats, ProbabilityOfImprovementCountsPairsTiesHalf) {
  // x = 1 3 5, y = 2 3: wins (3,2) (5,2) (5,3), tie (3,3): 3.5 of 6 pairs.
  EXPECT_DOUBLE_EQ(probability_of_improvement({{1, 3, 5}}, {{2, 3}}), 3.5 / 6);
  // Two tasks: 3.5/6 and 1 (x always above), averaged.
  EXPECT_DOUBLE_EQ(probability_of_improvement({{1, 3, 5}, {10}}, {{2, 3}, {0, 1}}), (3.5 / 6 + 1) / 2);
  EXPECT_DOUBLE_EQ(probability_of_improvement({{1, 2}}, {{1, 2}}), 0.5);
  EXPECT_TRUE(std::isnan(probability_of_improvement({{}}, {{1}})));
}

TEST(ReportStats, D4rlNormalisedOnTheZeroToHundredScale) {
  EXPECT_DOUBLE_EQ(d4rl_normalised("hopper", 3234.3), 100.0);
  EXPECT_DOUBLE_EQ(d4rl_normalised("Hopper-v3", -20.272305), 0.0);
  EXPECT_NEAR(d4rl_normalised("halfcheetah", 12135.0), 100.0, 1e-12);
  EXPECT_NEAR(d4rl_normalised("walker2d", (1.629008 + 4592.3) / 2), 50.0, 1e-12);
  EXPECT_TRUE(std::isnan(d4rl_normalised("inverted-pendulum", 1000)));
}

// The exact bootstrap distribution of `statistic`: every resample of every stratum, each
// equally likely (n^n ordered draws per stratum), as value -> probability.
std::map<double, double> exact_distribution(const Strata& strata, const Statistic& statistic) {
  std::map<double, double> dist;
  std::vector<size_t> index;  // one digit per draw, base = its stratum's size
  std::vector<size_t> base;
  for (const auto& s : strata)
    for (size_t i = 0; i < s.size(); ++i) base.push_back(s.size());
  index.assign(base.size(), 0);
  double total = 1;
  for (size_t b : base) total *= static_cast<double>(b);
  while (true) {
    Strata resample = strata;
    size_t k = 0;
    for (size_t m = 0; m < strata.size(); ++m)
      for (auto& v : resample[m]) v = strata[m][index[k++]];
    dist[statistic(resample)] += 1 / total;
    size_t d = 0;
    while (d < index.size() && ++index[d] == base[d]) index[d++] = 0;
    if (d == index.size()) break;
  }
  return dist;
}

// The exact p-quantile: the smallest value whose cumulative probability reaches p.
double exact_quantile(const std::map<double, double>& dist, double p) {
  double cumulative = 0;
  for (const auto& [value, prob] : dist) {
    cumulative += prob;
    if (cumulative >= p - 1e-12) return value;
  }
  return dist.rbegin()->first;
}

// The Monte Carlo interval lies within the exact quantiles at p -+ 5 standard errors of an
// empirical quantile level with `reps` resamples.
void expect_matches_enumeration(const Strata& strata, const Statistic& statistic) {
  const auto ci = bootstrap_interval(strata, statistic, 0.95, kBootstrapReps, kBootstrapSeed);
  const auto dist = exact_distribution(strata, statistic);
  const double se = 5 * std::sqrt(0.025 * 0.975 / kBootstrapReps);
  EXPECT_GE(ci.lo, exact_quantile(dist, 0.025 - se));
  EXPECT_LE(ci.lo, exact_quantile(dist, 0.025 + se));
  EXPECT_GE(ci.hi, exact_quantile(dist, 0.975 - se));
  EXPECT_LE(ci.hi, exact_quantile(dist, 0.975 + se));
}

TEST(ReportStats, BootstrapIntervalMatchesTheEnumeratedResamples) {
  // One stratum of 5 runs: 3125 resamples.
  expect_matches_enumeration({{3, 11, 4, 30, 7}}, mean_statistic);
  expect_matches_enumeration({{3, 11, 4, 30, 7}}, iqm_statistic);
  // Two strata (batch kinds) resampled on their own: 3^3 * 4^4 = 6912 resamples.
  expect_matches_enumeration({{1, 5, 2}, {40, 10, 25, 12}}, iqm_statistic);
  expect_matches_enumeration({{1, 5, 2}, {40, 10, 25, 12}}, mean_statistic);
}

TEST(ReportStats, StratifiedResamplingKeepsEachStratumApart) {
  // Resampling within strata never mixes them: with one value per stratum every resample is
  // the sample itself, so the interval is a point. A pooled bootstrap would not give this.
  const auto ci = bootstrap_interval({{1}, {100}}, mean_statistic, 0.95, 1000, 1);
  EXPECT_DOUBLE_EQ(ci.lo, 50.5);
  EXPECT_DOUBLE_EQ(ci.hi, 50.5);
  // The same seed gives the same interval.
  const auto a = bootstrap_interval({{1, 5, 9}}, mean_statistic, 0.95, 500, 7);
  const auto b = bootstrap_interval({{1, 5, 9}}, mean_statistic, 0.95, 500, 7);
  EXPECT_EQ(a.lo, b.lo);
  EXPECT_EQ(a.hi, b.hi);
}

}  // namespace
