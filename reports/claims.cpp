#include "reports/claims.hpp"

#include <cmath>
#include <functional>

#include "reports/format.hpp"
#include "reports/stats.hpp"

namespace bcq::reports {

namespace {

// The outcome on one batch: nullopt-like "skip" when the algorithm has no scores there.
struct Check {
  bool tested = false, holds = false;
  std::string numbers;
};

using BatchCheck = std::function<Check(const BatchScores&)>;

// A claim over the batches `applies` selects: supported when it holds on every tested batch
// (and at least one was tested).
Claim over_batches(std::string prediction, std::string rule, const std::vector<BatchScores>& batches,
                   const std::function<bool(const BatchScores&)>& applies, const BatchCheck& check) {
  Claim c{std::move(prediction), std::move(rule), "not tested", ""};
  int tested = 0, failed = 0;
  for (const auto& b : batches) {
    if (!applies(b)) continue;
    const Check r = check(b);
    if (!r.tested) continue;
    ++tested;
    failed += !r.holds;
    c.evidence += (c.evidence.empty() ? "" : "; ") + b.env + " " + b.kind + ": " + r.numbers + (r.holds ? "" : " (fails)");
  }
  if (tested) c.verdict = failed ? "not supported" : "supported";
  if (!tested) c.evidence = "no batch with the runs this needs";
  return c;
}

double upper_of_mean(const std::vector<double>& x) {
  return bootstrap_interval({x}, mean_statistic, 0.95, kBootstrapReps, kBootstrapSeed).hi;
}

// "algo reaches the behavioural return": the upper end of the 95% interval of its mean final
// return is at least the behavioural return.
Check reaches_behavioural(const BatchScores& b, const std::string& algo) {
  const AlgoScores* a = b.find(algo);
  if (!a || a->final_return.empty() || !std::isfinite(b.behavioural_return)) return {};
  const double hi = upper_of_mean(a->final_return);
  return {true, hi >= b.behavioural_return,
          "mean " + number(mean_of(a->final_return)) + " (95% CI upper " + number(hi) + ") vs behavioural " +
              number(b.behavioural_return)};
}

bool all(const BatchScores&) { return true; }
bool noisy(const BatchScores& b) { return b.kind == "final" || b.kind == "concurrent" || b.kind == "imperfect"; }

}  // namespace

std::vector<Claim> check_claims(const std::vector<BatchScores>& batches) {
  std::vector<Claim> out;
  out.push_back(over_batches(
      "BCQ matches or beats the behavioural policy on every batch kind",
      "on each batch kind the upper end of the 95% bootstrap interval of BCQ's mean final return reaches the behavioural return",
      batches, all, [](const BatchScores& b) { return reaches_behavioural(b, "bcq"); }));
  out.push_back(over_batches(
      "Offline DDPG's value estimate exceeds its true return",
      "on each batch kind DDPG's mean estimated Q at the last evaluation is above its mean true discounted return",
      batches, all, [](const BatchScores& b) {
        const AlgoScores* a = b.find("ddpg");
        if (!a || a->q_estimate.empty()) return Check{};
        const double q = mean_of(a->q_estimate), truth = mean_of(a->true_discounted);
        if (std::isnan(q) || std::isnan(truth)) return Check{};
        return Check{true, q > truth, "estimate " + number(q) + " vs true " + number(truth)};
      }));
  out.push_back(over_batches(
      "Offline DDPG's return stays below the behavioural return", "on each batch kind DDPG's mean final return is below the behavioural return",
      batches, all, [](const BatchScores& b) {
        const AlgoScores* a = b.find("ddpg");
        if (!a || a->final_return.empty() || !std::isfinite(b.behavioural_return)) return Check{};
        const double m = mean_of(a->final_return);
        return Check{true, m < b.behavioural_return, "mean " + number(m) + " vs behavioural " + number(b.behavioural_return)};
      }));
  out.push_back(over_batches(
      "BC does well on the imitation buffer",
      "on the imitation buffer the upper end of the 95% bootstrap interval of BC's mean final return reaches the behavioural return",
      batches, [](const BatchScores& b) { return b.kind == "imitation"; },
      [](const BatchScores& b) { return reaches_behavioural(b, "bc"); }));
  out.push_back(over_batches(
      "BC does poorly on the noisy buffers", "on the final, concurrent and imperfect buffers BC's mean final return is below BCQ's",
      batches, noisy, [](const BatchScores& b) {
        const AlgoScores* bc = b.find("bc");
        const AlgoScores* bcq = b.find("bcq");
        if (!bc || !bcq || bc->final_return.empty() || bcq->final_return.empty()) return Check{};
        const double x = mean_of(bc->final_return), y = mean_of(bcq->final_return);
        return Check{true, x < y, "BC " + number(x) + " vs BCQ " + number(y)};
      }));
  out.push_back(over_batches(
      "VAE-BC behaves like BC",
      "on each batch kind the mean final returns of VAE-BC and BC differ by at most a quarter of the behavioural return",
      batches, all, [](const BatchScores& b) {
        const AlgoScores* bc = b.find("bc");
        const AlgoScores* vae = b.find("vae-bc");
        if (!bc || !vae || bc->final_return.empty() || vae->final_return.empty() || !std::isfinite(b.behavioural_return)) {
          return Check{};
        }
        const double x = mean_of(vae->final_return), y = mean_of(bc->final_return);
        return Check{true, std::fabs(x - y) <= 0.25 * std::fabs(b.behavioural_return),
                     "VAE-BC " + number(x) + " vs BC " + number(y) + " (behavioural " + number(b.behavioural_return) + ")"};
      }));
  return out;
}

Table claims_table(const std::vector<Claim>& claims) {
  Table t{{"prediction", "verdict", "rule", "numbers (final returns unless stated)"}, {}};
  for (const auto& c : claims) t.rows.push_back({c.prediction, c.verdict, c.rule, c.evidence});
  return t;
}

}  // namespace bcq::reports
