// The statements of docs/theory.md as RapidCheck properties, and the necessity probes that drop one
// condition at a time. The same property functions run inside gtest (RC_GTEST_PROP) and from
// `bcq verify` (verify.hpp). Each property compares two different computations.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "proofs_checks/cases.hpp"

namespace bcq::proofs {

/// A bug planted on purpose by a test-only seam: each breaks exactly what one statement checks,
/// so that a test can see `verify` fail on it (docs/verification.md lists which breaks which).
enum class PlantedBug {
  kNone,
  kQLearningBatchMax,          ///< theorem1*: Q-learning takes Eq. 6's in-batch max instead of Eq. 2's
  kLemma1IgnoresReachability,  ///< lemma1: the condition is checked on every pair with pi(a|s) > 0
  kRemark1WrongValues,         ///< remark1: Eq. 16 is fed Q^pi (in M) where it needs Q^pi_B
  kTheorem2IgnoresReachability,///< theorem2: "batch-constrained" checked on every state, reached or not
  kExistenceUniformWitness,    ///< theorem2-existence: the witness is the uniform policy
  kDropLastTransition,         ///< theorem3*: BCQL learns from B without its last transition
  kUnconstrainedBcql,          ///< theorem4*: BCQL maxes over all actions (Eq. 6 turned back into Eq. 2)
  kLooseStoppingRule,          ///< theorem3: synchronous BCQL stops at a sweep change of 1e-4, not 1e-11
  kGreedyOverAllActions,       ///< theorem4: BCQL's policy is the argmax over all actions, unseen ones too
  kDiscardEverything,          ///< every statement: every case is discarded (the run must give up)
};

/// Names of the planted bugs for the command line ("none", "q-learning-batch-max", ...).
const char* to_string(PlantedBug bug);
/// The planted bug called `name`; throws InputError for an unknown name.
PlantedBug planted_bug_from_string(const std::string& name);
/// Every planted bug except kNone.
std::vector<PlantedBug> planted_bugs();

/// Switches for test-only seams (a planted bug must make the suite fail).
struct CheckConfig {
  PlantedBug plant = PlantedBug::kNone;
  /// Probes run with their dropped condition put back (the theorem's own setting): a probe must
  /// then find nothing, which shows that its counterexamples come from the dropped condition.
  bool restore_dropped_condition = false;
  bool planted(PlantedBug bug) const { return plant == bug; }
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
/// Called by the runner when the current case failed: remembers it as failed_case(), with the
/// message that require() gave for it.
void mark_current_case_failed();

/// The runner's view of one run of a property, kept by the property helpers themselves so
/// that `verify` never parses RapidCheck's output text: the message of the failing require()
/// and the classification tags of the case. begin_case() clears both.
void begin_case();
void record_failure_message(const std::string& message);
/// The message of the current case (empty when it did not fail through require()).
const std::string& current_failure_message();
/// The message of failed_case().
const std::string& failed_case_message();
/// Classifies the current case under `tag` (also shown by RapidCheck inside gtest).
void tag_case(const std::string& tag);
const std::vector<std::string>& current_tags();

// Registration helpers used by the per-statement files.
void add_theorem1(std::vector<Statement>& out);
void add_lemma1(std::vector<Statement>& out);
void add_remark1(std::vector<Statement>& out);
void add_theorem2(std::vector<Statement>& out);
void add_theorem3(std::vector<Statement>& out);
void add_theorem4(std::vector<Statement>& out);

}  // namespace bcq::proofs
