// The paper's qualitative predictions for the continuous experiments (section 5 and figure 2 of
// Fujimoto, Meger, Precup 2019), each checked against a study's final returns with a stated
// rule. A prediction the numbers do not support is reported as such, with the numbers.
#pragma once

#include <string>
#include <vector>

#include "reports/document.hpp"
#include "reports/study_tables.hpp"

namespace bcq::reports {

struct Claim {
  std::string prediction;  ///< the paper's claim in words
  std::string rule;        ///< how this report decides it
  std::string verdict;     ///< "supported", "not supported" or "not tested"
  std::string evidence;    ///< the numbers, per environment and batch kind
};

/// Checks each prediction on `batches` (one study).
std::vector<Claim> check_claims(const std::vector<BatchScores>& batches);

/// The claims as a table: prediction, verdict, rule, numbers.
Table claims_table(const std::vector<Claim>& claims);

}  // namespace bcq::reports
