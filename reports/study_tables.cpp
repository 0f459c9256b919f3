#include "reports/study_tables.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

#include "reports/format.hpp"
#include "reports/grouping.hpp"
#include "reports/stats.hpp"

namespace bcq::reports {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

int kind_rank(const std::string& kind) {
  static const char* order[] = {"final", "concurrent", "imitation", "imperfect"};
  for (int i = 0; i < 4; ++i)
    if (kind == order[i]) return i;
  return 4;
}

std::vector<double> normalised(const std::string& env, const std::vector<double>& x) {
  std::vector<double> out;
  for (double v : x) out.push_back(d4rl_normalised(env, v));
  return out;
}

std::vector<double> finite(const std::vector<double>& x) {
  std::vector<double> out;
  for (double v : x)
    if (std::isfinite(v)) out.push_back(v);
  return out;
}

}  // namespace

const AlgoScores* BatchScores::find(const std::string& algo) const {
  for (const auto& a : algos)
    if (a.algo == algo) return &a;
  return nullptr;
}

std::vector<BatchScores> batch_scores(const StudyResult& study) {
  std::vector<BatchScores> out;
  std::map<std::pair<std::string, std::string>, std::vector<double>> behavioural;
  for (const auto& r : study.rows) {
    auto it = std::find_if(out.begin(), out.end(), [&](const BatchScores& b) { return b.env == r.env && b.kind == r.kind; });
    if (it == out.end()) {
      out.push_back({r.env, r.kind, kNaN, {}});
      it = out.end() - 1;
    }
    auto a = std::find_if(it->algos.begin(), it->algos.end(), [&](const AlgoScores& s) { return s.algo == r.algo; });
    if (a == it->algos.end()) {
      it->algos.push_back({r.algo, {}, {}, {}, {}, 0, 0, 0});
      a = it->algos.end() - 1;
    }
    ++a->rows;
    if (std::isfinite(r.behavioural_return)) behavioural[{r.env, r.kind}].push_back(r.behavioural_return);
    if (r.status == "diverged") ++a->diverged;
    const bool finished = r.status == "done" || r.status == "diverged";
    if (!finished || !std::isfinite(r.final_return)) {
      if (!finished) ++a->unfinished;
      continue;
    }
    a->final_return.push_back(r.final_return);
    a->best_return.push_back(r.best_return);
    a->q_estimate.push_back(r.q_estimate);
    a->true_discounted.push_back(r.true_discounted_return);
  }
  for (auto& b : out) {
    const auto it = behavioural.find({b.env, b.kind});
    if (it != behavioural.end()) b.behavioural_return = mean_of(it->second);
    std::stable_sort(b.algos.begin(), b.algos.end(), [](const AlgoScores& x, const AlgoScores& y) {
      return algo_rank(x.algo) != algo_rank(y.algo) ? algo_rank(x.algo) < algo_rank(y.algo) : x.algo < y.algo;
    });
  }
  std::stable_sort(out.begin(), out.end(), [](const BatchScores& x, const BatchScores& y) {
    if (x.env != y.env) return x.env < y.env;
    return kind_rank(x.kind) != kind_rank(y.kind) ? kind_rank(x.kind) < kind_rank(y.kind) : x.kind < y.kind;
  });
  return out;
}

std::string mean_std_text(const std::vector<double>& x) {
  if (x.empty()) return "-";
  if (x.size() == 1) return number(x[0]);
  return number(mean_of(x)) + " ± " + number(sample_std(x));
}

namespace {

std::string interval_text(const Strata& strata, const Statistic& statistic, int digits) {
  bool any = false;
  for (const auto& s : strata) any = any || !s.empty();
  if (!any) return "-";
  Strata nonempty;
  for (const auto& s : strata)
    if (!s.empty()) nonempty.push_back(s);
  const auto ci = bootstrap_interval(nonempty, statistic, 0.95, kBootstrapReps, kBootstrapSeed);
  auto show = [&](double v) { return digits < 0 ? number(v) : fixed(v, digits); };
  return "[" + show(ci.lo) + ", " + show(ci.hi) + "]";
}

std::string runs_text(const AlgoScores& a) {
  std::string out = std::to_string(a.final_return.size()) + " of " + std::to_string(a.rows);
  if (a.diverged) out += ", " + std::to_string(a.diverged) + " diverged";
  if (a.unfinished) out += ", " + std::to_string(a.unfinished) + " unfinished";
  return out;
}

}  // namespace

std::string iqm_interval_text(const std::vector<double>& x) { return interval_text({x}, iqm_statistic, -1); }

Table batch_table(const BatchScores& b) {
  Table t{{"algorithm", "runs", "final return (mean ± std)", "final IQM", "final IQM 95% CI", "best return (mean ± std)",
           "best IQM", "D4RL-normalised final IQM", "normalised 95% CI", "estimated Q (mean)",
           "true discounted return (mean)", "P(bcq > algorithm)"},
          {}};
  const AlgoScores* bcq = b.find("bcq");
  for (const auto& a : b.algos) {
    const auto norm = finite(normalised(b.env, a.final_return));
    Row row{a.algo, runs_text(a), mean_std_text(a.final_return), number(interquartile_mean(a.final_return)),
            iqm_interval_text(a.final_return), mean_std_text(a.best_return), number(interquartile_mean(a.best_return)),
            fixed(interquartile_mean(norm), 1), interval_text({norm}, iqm_statistic, 1),
            number(mean_of(finite(a.q_estimate))), number(mean_of(finite(a.true_discounted)))};
    row.push_back(bcq && a.algo != "bcq" ? fixed(probability_of_improvement({bcq->final_return}, {a.final_return}), 2) : "-");
    t.rows.push_back(std::move(row));
  }
  return t;
}

Table environment_table(const std::string& env, const std::vector<BatchScores>& batches) {
  Table t{{"algorithm", "batch kinds", "runs", "IQM of D4RL-normalised final scores", "95% stratified-bootstrap CI",
           "P(bcq > algorithm), mean over kinds"},
          {}};
  if (!d4rl_reference(env).known) return t;
  std::vector<std::string> algos;
  for (const auto& b : batches)
    if (b.env == env)
      for (const auto& a : b.algos)
        if (std::find(algos.begin(), algos.end(), a.algo) == algos.end()) algos.push_back(a.algo);
  std::stable_sort(algos.begin(), algos.end(), [](const std::string& x, const std::string& y) {
    return algo_rank(x) != algo_rank(y) ? algo_rank(x) < algo_rank(y) : x < y;
  });
  for (const auto& algo : algos) {
    Strata scores, bcq_scores, other_scores;
    size_t runs = 0;
    for (const auto& b : batches) {
      if (b.env != env) continue;
      const AlgoScores* a = b.find(algo);
      const AlgoScores* bcq = b.find("bcq");
      if (a && !a->final_return.empty()) {
        scores.push_back(normalised(env, a->final_return));
        runs += a->final_return.size();
      }
      if (a && bcq && algo != "bcq") {
        bcq_scores.push_back(bcq->final_return);
        other_scores.push_back(a->final_return);
      }
    }
    if (scores.empty()) continue;
    t.rows.push_back({algo, std::to_string(scores.size()), std::to_string(runs), fixed(iqm_statistic(scores), 1),
                      interval_text(scores, iqm_statistic, 1),
                      algo == "bcq" ? "-" : fixed(probability_of_improvement(bcq_scores, other_scores), 2)});
  }
  return t;
}

}  // namespace bcq::reports
