// The statements of THEORY.md as RapidCheck properties, and the necessity probes that drop one
// condition at a time. The same property functions run inside gtest (RC_GTEST_PROP) and from
// `bcq verify` (verify.hpp). Each property compares two different computations.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "proofs_checks/cases.hpp"

namespace bcq::proofs {

/// Switches for test-only seams (a planted bug must make the suite fail).
struct CheckConfig {
  /// BCQL maxes over all actions (Eq. 6 turned back into Eq. 2) in every BCQL computation.
  bool plant_unconstrained_bcql = false;
};

struct Statement {
  std::string name;   ///< e.g. "theorem4" or "probe:theorem2-stochastic"
  std::string title;  ///< what is claimed
  bool probe = false; ///< a probe: the claim is checked with one condition dropped
  /// Probes: is the dropped condition truly necessary (a counterexample must then be found)?
  bool counterexample_expected = true;
  std::string dropped;      ///< probes: the condition dropped
  std::string explanation;  ///< probes: why a counterexample exists, or why none can
  bool sampled = false;     ///< runs a sampled algorithm (slower per case)
  std::function<void(const CheckConfig&)> property;
};

/// Every statement and probe, in report order.
const std::vector<Statement>& statements();
/// The statement called `name`; throws InputError if there is none.
const Statement& statement(const std::string& name);

/// The case the running property is checking (kept so that a failure can be saved as files).
void record_case(const Case& c);
/// The last case a property failed on (the shrunk counterexample once RapidCheck is done).
const Case* failed_case();
void clear_failed_case();
/// Called by the runner when the current case failed: remembers it as failed_case().
void mark_current_case_failed();

// Registration helpers used by the per-statement files.
void add_theorem1(std::vector<Statement>& out);
void add_lemma1(std::vector<Statement>& out);
void add_remark1(std::vector<Statement>& out);
void add_theorem2(std::vector<Statement>& out);
void add_theorem3(std::vector<Statement>& out);
void add_theorem4(std::vector<Statement>& out);

}  // namespace bcq::proofs
