#include "reports/stats.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>
#include <random>

namespace bcq::reports {

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
}

double mean_of(const std::vector<double>& x) {
  if (x.empty()) return kNaN;
  double sum = 0;
  for (double v : x) sum += v;
  return sum / static_cast<double>(x.size());
}

double sample_std(const std::vector<double>& x) {
  if (x.size() < 2) return kNaN;
  const double m = mean_of(x);
  double ss = 0;
  for (double v : x) ss += (v - m) * (v - m);
  return std::sqrt(ss / static_cast<double>(x.size() - 1));
}

double interquartile_mean(std::vector<double> x) {
  if (x.empty()) return kNaN;
  std::sort(x.begin(), x.end());
  const size_t cut = x.size() / 4;  // scipy: int(0.25 * n)
  double sum = 0;
  for (size_t i = cut; i < x.size() - cut; ++i) sum += x[i];
  return sum / static_cast<double>(x.size() - 2 * cut);
}

double percentile(std::vector<double> x, double p) {
  if (x.empty()) return kNaN;
  std::sort(x.begin(), x.end());
  const double h = p * static_cast<double>(x.size() - 1);
  const size_t below = static_cast<size_t>(std::floor(h));
  if (below + 1 >= x.size()) return x.back();
  return x[below] + (h - static_cast<double>(below)) * (x[below + 1] - x[below]);
}

double mean_statistic(const Strata& s) {
  std::vector<double> means;
  for (const auto& task : s)
    if (!task.empty()) means.push_back(mean_of(task));
  return mean_of(means);
}

double iqm_statistic(const Strata& s) {
  std::vector<double> all;
  for (const auto& task : s) all.insert(all.end(), task.begin(), task.end());
  return interquartile_mean(all);
}

Interval bootstrap_interval(const Strata& strata, const Statistic& statistic, double size, int reps, uint64_t seed) {
  std::mt19937_64 rng(seed);
  Strata resample = strata;
  std::vector<double> results;
  results.reserve(static_cast<size_t>(reps));
  for (int r = 0; r < reps; ++r) {
    for (size_t m = 0; m < strata.size(); ++m) {
      const auto n = static_cast<uint64_t>(strata[m].size());
      for (auto& v : resample[m]) v = strata[m][static_cast<size_t>(rng() % n)];
    }
    results.push_back(statistic(resample));
  }
  const double tail = (1 - size) / 2;
  std::sort(results.begin(), results.end());
  return {percentile(results, tail), percentile(results, 1 - tail)};
}

double probability_of_improvement(const Strata& x, const Strata& y) {
  double sum = 0;
  int tasks = 0;
  for (size_t m = 0; m < std::min(x.size(), y.size()); ++m) {
    if (x[m].empty() || y[m].empty()) continue;
    double wins = 0;
    for (double a : x[m])
      for (double b : y[m]) wins += a > b ? 1.0 : a == b ? 0.5 : 0.0;
    sum += wins / static_cast<double>(x[m].size() * y[m].size());
    ++tasks;
  }
  return tasks ? sum / tasks : kNaN;
}

D4rlReference d4rl_reference(const std::string& env) {
  std::string key;
  for (char c : env) {
    if (std::isalpha(static_cast<unsigned char>(c))) key += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    else if (std::isdigit(static_cast<unsigned char>(c)) && key == "walker") key += c;  // walker2d
    else if (c == '-' || c == '_') continue;
    else break;  // "hopper-v3": the version ends the name
  }
  if (key.size() > 1 && key.back() == 'v' && key != "v") key.pop_back();
  if (key == "hopper") return {true, -20.272305, 3234.3};
  if (key == "halfcheetah") return {true, -280.178953, 12135.0};
  if (key == "walker2d") return {true, 1.629008, 4592.3};
  return {};
}

double d4rl_normalised(const std::string& env, double score) {
  const auto ref = d4rl_reference(env);
  if (!ref.known) return kNaN;
  return 100.0 * (score - ref.random) / (ref.expert - ref.random);
}

}  // namespace bcq::reports
