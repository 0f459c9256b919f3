// The tables and findings of a group of `bcq train` runs on one batch.
#pragma once

#include <string>
#include <vector>

#include "reports/document.hpp"
#include "reports/grouping.hpp"

namespace bcq::reports {

/// "completed", "running or interrupted", "diverged at iteration N (loss)", "unknown".
std::string status_text(const RunRecord& r);

/// One row per run: last and best evaluation, share of the behavioural return, estimate vs truth.
Table run_table(const Group& g);

/// Facts a reader looks for first: the best policies at the end, and the largest overestimate.
std::vector<std::string> findings(const Group& g);

}  // namespace bcq::reports
