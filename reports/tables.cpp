#include "reports/tables.hpp"

#include <cmath>
#include <limits>

#include <fmt/core.h>

#include "reports/format.hpp"

namespace bcq::reports {

std::string status_text(const RunRecord& r) {
  if (r.status == "diverged") {
    return "diverged at iteration " + integer(r.status_iteration) + (r.diverged_loss.empty() ? "" : " (" + r.diverged_loss + ")");
  }
  // A run killed mid-way (SIGKILL, a crash) still says "running": only its process knew
  // otherwise. Ctrl-C and SIGTERM write "interrupted".
  if (r.status == "running") return "running or interrupted";
  if (r.status == "interrupted") return "interrupted at iteration " + integer(r.status_iteration) + " (resumable)";
  return r.status;
}

Table run_table(const Group& g) {
  Table t{{"run", "algorithm", "seed", "evaluated at", "status", "return (last evaluation)",
           "best return (at iteration)", "% of behavioural", "estimated Q", "true discounted return",
           "estimated - true"},
          {}};
  for (const auto& s : g.series) {
    for (const RunRecord* r : s.runs) {
      const auto sum = summarize(*r);
      Row row{r->name, s.label, std::to_string(r->seed)};
      if (!sum.has_evals) {
        row.insert(row.end(), {"-", status_text(*r), "no evaluation yet", "-", "-", "-", "-", "-"});
      } else {
        row.push_back(integer(sum.last.iteration) + " / " + integer(r->iterations));
        row.push_back(status_text(*r));
        row.push_back(number(sum.last.mean_return) + " ± " + number(sum.last.std_return));
        row.push_back(number(sum.best.mean_return) + " (" + integer(sum.best.iteration) + ")");
        row.push_back(std::isnan(sum.percent_of_behavioural) ? "-" : fmt::format("{:.0f}%", sum.percent_of_behavioural));
        row.push_back(number(sum.last.q_estimate));
        row.push_back(std::isnan(sum.last.q_estimate) ? "-" : number(sum.last.true_discounted));
        row.push_back(signed_number(sum.value_gap));
      }
      t.rows.push_back(std::move(row));
    }
  }
  return t;
}

std::vector<std::string> findings(const Group& g) {
  std::vector<std::string> out;
  std::vector<const RunRecord*> best;
  const RunRecord* over = nullptr;
  RunSummary over_summary;
  double best_return = -std::numeric_limits<double>::infinity(), largest_gap = 0;
  for (const RunRecord* r : g.runs) {
    const auto s = summarize(*r);
    if (!s.has_evals) continue;
    if (s.last.mean_return > best_return) {
      best_return = s.last.mean_return;
      best.clear();
    }
    if (s.last.mean_return == best_return) best.push_back(r);
    if (!std::isnan(s.value_gap) && s.value_gap > largest_gap) {
      largest_gap = s.value_gap;
      over = r;
      over_summary = s;
    }
  }
  if (!best.empty()) {
    std::string who;
    for (size_t i = 0; i < best.size(); ++i) {
      who += (i == 0 ? "" : i + 1 == best.size() ? " and " : ", ") +
             fmt::format("{} ({}, seed {})", series_label(*best[i]), best[i]->name, best[i]->seed);
    }
    std::string line = "Highest return at the last evaluation: " + number(best_return) + ", by " + who;
    if (std::isfinite(g.behavioural_return)) {
      line += fmt::format("; the behavioural policy's is {}", number(g.behavioural_return));
    }
    out.push_back(line + ".");
  }
  if (over) {
    const auto& s = over_summary;
    out.push_back(fmt::format(
        "Largest overestimate: {} ({}, seed {}) estimates {} for the start states, whose true discounted return "
        "was {}.",
        series_label(*over), over->name, over->seed, number(s.last.q_estimate), number(s.last.true_discounted)));
  }
  return out;
}

}  // namespace bcq::reports
