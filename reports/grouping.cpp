#include "reports/grouping.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>

#include "reports/format.hpp"
#include "reports/stats.hpp"

namespace bcq::reports {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Curves are drawn through at most this many evaluations, evenly spaced (the first and the last
// included): an evaluation log of 2,000,000 rows would otherwise give a plot of hundreds of MB,
// for a figure 760 pixels wide. Tables use every evaluation.
constexpr std::size_t kMaxCurvePoints = 1000;

// Whether a run's evaluations are in increasing order of iteration, as parse_eval_csv ensures
// (records made by hand may not be).
bool in_order(const std::vector<EvalPoint>& evals) {
  for (std::size_t i = 1; i < evals.size(); ++i)
    if (evals[i].iteration <= evals[i - 1].iteration) return false;
  return true;
}

// Calls f(iteration, evaluations) for each iteration at which every run that has evaluated
// at least once has an evaluation (a seed just started would otherwise empty every curve), in
// order, and for at most kMaxCurvePoints of them; returns how many runs that is.
template <typename F>
int for_each_shared_evaluation(const std::vector<const RunRecord*>& all_runs, F f) {
  std::vector<const RunRecord*> runs;
  for (const RunRecord* r : all_runs)
    if (!r->evals.empty()) runs.push_back(r);
  // Runs still going (running, interrupted) would cut the shared iterations short at their
  // last evaluation: while some runs are not going (completed, diverged, or without a
  // status.json), the curve is theirs.
  const auto going = [](const RunRecord* r) { return r->status == "running" || r->status == "interrupted"; };
  if (!std::all_of(runs.begin(), runs.end(), going)) {
    runs.erase(std::remove_if(runs.begin(), runs.end(), going), runs.end());
  }
  if (runs.empty()) return 0;
  // Walks the shared iterations. In order, one cursor per run finds each in one pass (a search
  // from the start for each was quadratic: hours for 2,000,000 rows).
  const bool ordered = std::all_of(runs.begin(), runs.end(), [](const RunRecord* r) { return in_order(r->evals); });
  std::vector<const EvalPoint*> at;
  auto walk = [&](auto&& visit) {
    std::vector<std::size_t> cursor(runs.size(), 0);
    for (const auto& e : runs.front()->evals) {
      at.clear();
      for (std::size_t k = 0; k < runs.size(); ++k) {
        const auto& evals = runs[k]->evals;
        if (ordered) {
          while (cursor[k] < evals.size() && evals[cursor[k]].iteration < e.iteration) ++cursor[k];
          if (cursor[k] == evals.size() || evals[cursor[k]].iteration != e.iteration) break;
          at.push_back(&evals[cursor[k]]);
        } else {
          auto it = std::find_if(evals.begin(), evals.end(), [&](const EvalPoint& p) { return p.iteration == e.iteration; });
          if (it == evals.end()) break;
          at.push_back(&*it);
        }
      }
      if (at.size() == runs.size()) visit(e.iteration);
    }
  };
  std::size_t shared = 0;
  walk([&](int64_t) { ++shared; });
  // The i-th point drawn is shared evaluation round(i (shared - 1) / (kMaxCurvePoints - 1)).
  std::size_t ordinal = 0, drawn = 0;
  walk([&](int64_t iteration) {
    const std::size_t next = shared <= kMaxCurvePoints
                                 ? ordinal
                                 : static_cast<std::size_t>(static_cast<double>(drawn) * static_cast<double>(shared - 1) /
                                                                static_cast<double>(kMaxCurvePoints - 1) + 0.5);
    if (ordinal++ != next) return;
    ++drawn;
    f(iteration, at);
  });
  return static_cast<int>(runs.size());
}

}  // namespace

RunSummary summarize(const RunRecord& run) {
  RunSummary s;
  s.percent_of_behavioural = kNaN;
  s.value_gap = kNaN;
  if (run.evals.empty()) return s;
  s.has_evals = true;
  s.last = run.evals.back();
  s.best = run.evals.front();
  for (const auto& e : run.evals)
    if (e.mean_return > s.best.mean_return) s.best = e;
  // A share of a negative or zero return means nothing (HalfCheetah's early policies score below 0).
  if (std::isfinite(run.behavioural_return) && run.behavioural_return > 0) {
    s.percent_of_behavioural = 100.0 * s.last.mean_return / run.behavioural_return;
  }
  if (!std::isnan(s.last.q_estimate)) s.value_gap = s.last.q_estimate - s.last.true_discounted;
  return s;
}

ReturnCurve return_curve(const std::string& label, const std::vector<const RunRecord*>& all_runs, Band band) {
  ReturnCurve c;
  c.label = label;
  c.runs = for_each_shared_evaluation(all_runs, [&](int64_t iteration, const std::vector<const EvalPoint*>& at) {
    std::vector<double> returns;
    for (const auto* p : at) returns.push_back(p->mean_return);
    const double mean = mean_of(returns);
    // One seed: the spread is that of its evaluation episodes.
    const double spread = at.size() > 1 ? sample_std(returns) : at.front()->std_return;
    c.iteration.push_back(iteration);
    c.mean.push_back(mean);
    c.spread.push_back(spread);
    if (band == Band::kBootstrap && at.size() > 1) {
      // The curve's own seed: the same band on every rerun.
      const auto ci = bootstrap_interval({returns}, mean_statistic, 0.95, kCurveBootstrapReps,
                                         kBootstrapSeed + static_cast<uint64_t>(iteration));
      c.lo.push_back(ci.lo);
      c.hi.push_back(ci.hi);
    } else {
      c.lo.push_back(mean - spread);
      c.hi.push_back(mean + spread);
    }
  });
  return c;
}

ValueCurve value_curve(const std::string& label, const std::vector<const RunRecord*>& all_runs) {
  ValueCurve c;
  c.label = label;
  c.runs = for_each_shared_evaluation(all_runs, [&](int64_t iteration, const std::vector<const EvalPoint*>& at) {
    double estimate = 0, truth = 0;
    for (const auto* p : at) {
      if (!std::isfinite(p->q_estimate)) return;
      estimate += p->q_estimate;
      truth += p->true_discounted;
    }
    c.iteration.push_back(iteration);
    c.estimate.push_back(estimate / static_cast<double>(at.size()));
    c.truth.push_back(truth / static_cast<double>(at.size()));
  });
  return c;
}

int algo_rank(const std::string& algo) {
  static const char* order[] = {"bcq", "ddpg", "bc", "vae-bc"};
  for (int i = 0; i < 4; ++i)
    if (algo == order[i]) return i;
  return 4;
}

std::string series_label(const RunRecord& r) {
  return r.precision == "fp32" || r.precision.empty() ? r.algo : r.algo + " (" + r.precision + ")";
}

std::vector<Group> group_runs(const std::vector<RunRecord>& runs) {
  std::vector<Group> groups;
  std::vector<std::string> keys;
  for (const auto& r : runs) {
    auto at = std::find(keys.begin(), keys.end(), r.batch_key);
    if (at == keys.end()) {
      keys.push_back(r.batch_key);
      groups.push_back({r.env, r.batch, "", kNaN, {}, {}});
      at = keys.end() - 1;
    }
    Group& g = groups[static_cast<size_t>(at - keys.begin())];
    g.runs.push_back(&r);
    if (std::isnan(g.behavioural_return)) g.behavioural_return = r.behavioural_return;
  }
  // Two files with the same name and attributes in different folders: say which is which.
  std::vector<bool> shared;
  for (const auto& g : groups) {
    shared.push_back(std::count_if(groups.begin(), groups.end(), [&](const Group& o) {
                       return o.env == g.env && o.batch == g.batch;
                     }) > 1);
  }
  for (size_t i = 0; i < groups.size(); ++i) {
    if (shared[i] && !groups[i].runs.front()->buffer.empty()) groups[i].batch += " at " + groups[i].runs.front()->buffer;
  }
  std::set<std::string> used;
  for (auto& g : groups) {
    std::string batch = g.batch.substr(0, g.batch.find(" ("));
    if (batch.size() > 3 && batch.compare(batch.size() - 3, 3, ".h5") == 0) batch.resize(batch.size() - 3);
    const std::string base = slug(g.env + "-" + batch);
    g.slug = base;
    for (int n = 2; !used.insert(g.slug).second; ++n) g.slug = base + "-" + std::to_string(n);
    for (const RunRecord* r : g.runs) {
      const std::string label = series_label(*r);
      auto it = std::find_if(g.series.begin(), g.series.end(), [&](const Series& s) { return s.label == label; });
      if (it == g.series.end()) {
        g.series.push_back({label, r->algo, {}});
        it = g.series.end() - 1;
      }
      it->runs.push_back(r);
    }
    std::stable_sort(g.series.begin(), g.series.end(), [](const Series& a, const Series& b) {
      return algo_rank(a.algo) != algo_rank(b.algo) ? algo_rank(a.algo) < algo_rank(b.algo) : a.label < b.label;
    });
  }
  return groups;
}

}  // namespace bcq::reports
