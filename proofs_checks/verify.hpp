// Runs the statements and probes of properties.hpp with RapidCheck outside gtest, as
// `bcq verify` does: counts, classification, timing, shrunk counterexamples saved as files
// (MDP JSON + batch CSV + policy JSON) that the other bcq subcommands replay.
//
// Each case of a statement has its own seed, derived from the master seed, the statement's
// name and the case's index (case_seed), so the set of cases does not depend on how the
// cases are split: a run is a set of shares (verify_share, one per MPI rank, or one for the
// whole run) merged into one report (merge_shares) exactly as one process would write it.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "proofs_checks/properties.hpp"

namespace bcq::proofs {

struct VerifyOptions {
  std::string theorem = "all";  ///< a statement name, a prefix ("theorem2" selects its probes too), or "all"
  int cases = 1000;             ///< cases per statement; probes search this many before "not found"
  uint64_t seed = 1;            ///< master seed: case k of statement NAME uses case_seed(seed, NAME, k)
  std::string out_dir;          ///< where counterexamples are saved (empty: not saved)
  bool include_probes = true;
  CheckConfig config;           ///< test-only seams
  /// Called before each statement starts (name, index, total); for progress output.
  std::function<void(const std::string&, size_t, size_t)> on_start;
};

/// RapidCheck's discard rule, applied to the whole statement: it gives up when more than
/// kMaxDiscardRatio x cases cases were discarded (their preconditions did not hold).
inline constexpr int kMaxDiscardRatio = 20;

struct StatementReport {
  std::string name;
  std::string title;
  bool probe = false;
  bool counterexample_expected = true;
  std::string dropped;
  std::string explanation;
  int cases_run = 0;   ///< cases that ran to completion (passed + the failing one)
  int passed = 0;
  int discarded = 0;   ///< draws whose preconditions did not hold (RC_PRE)
  std::map<std::string, int> tags;  ///< passed cases per classification tag
  uint64_t seed = 0;   ///< the master seed
  int failing_case = -1;        ///< index of the first failing case (-1: none)
  uint64_t failing_case_seed = 0;
  double seconds = 0.0;         ///< wall time (with several ranks: the slowest rank's)
  bool failed = false;          ///< a case broke the claim (statement: a bug; probe: counterexample found)
  bool gave_up = false;         ///< too many discards (never together with failed)
  bool errored = false;         ///< RapidCheck itself reported an error
  std::string failure;          ///< why the shrunk failing case failed (the property's own message)
  std::string counterexample;   ///< the shrunk case: sizes, MDP, batch, policy in text
  std::vector<std::string> saved_files;
  /// verdict_of(*this).ok
  bool ok() const;
};

/// What a statement's outcome means: the one place that decides ok, the verdict text and so
/// the exit code. A statement is ok when it passed; a probe when it found a counterexample
/// exactly when one is expected. Giving up (too many discards) or an error is never ok.
struct Verdict {
  bool ok = false;
  std::string text;  ///< "passed", "FAILED", "GAVE UP", "counterexample found", ...
};
Verdict verdict_of(const StatementReport& r);

struct VerifyReport {
  std::vector<StatementReport> statements;
  int ranks = 1;  ///< processes the cases were split across
  bool ok() const;
  /// 0 when every statement is ok, else 1 (a failed check).
  int exit_code() const;
};

/// Names of everything `verify` can run.
std::vector<std::string> statement_names();

/// The seed of case `index` of `statement` under master seed `seed` (splitmix64 of the three).
uint64_t case_seed(uint64_t seed, const std::string& statement, int index);

/// One case as one share ran it.
struct CaseRecord {
  int index = 0;
  int discards = 0;               ///< draws discarded before this case ran (or failed)
  bool failed = false;
  bool gave_up = false;           ///< this case alone hit the statement's discard limit
  std::vector<std::string> tags;  ///< classification (passed cases)
};

/// What one share (every `ranks`-th case from `rank`) of one statement found. A share stops
/// at its first failing case, which it keeps shrunk with its message.
struct StatementShare {
  std::string name;
  std::vector<CaseRecord> cases;  ///< in increasing index
  double seconds = 0.0;
  bool errored = false;
  std::string error;
  std::string failure;             ///< message of the failing case (the last record)
  std::optional<Case> counterexample;
};

/// Runs cases rank, rank + ranks, ... of every selected statement. Throws InputError for an
/// unknown name or --cases < 1.
std::vector<StatementShare> verify_share(const VerifyOptions& options, int rank, int ranks);

/// Merges the shares of every rank (shares[r] = rank r's) into the report one process writes;
/// saves the first failing case of each statement under options.out_dir.
VerifyReport merge_shares(const VerifyOptions& options, const std::vector<std::vector<StatementShare>>& shares);

/// Shares as JSON (for sending between ranks) and back.
nlohmann::json shares_to_json(const std::vector<StatementShare>& shares);
std::vector<StatementShare> shares_from_json(const nlohmann::json& doc);

/// Runs the selected statements in this process: merge_shares(options, {verify_share(options, 0, 1)}).
VerifyReport verify(const VerifyOptions& options);

/// A readable text of one case (for the report and case.txt).
std::string describe_case(const Case& c);

/// Writes mdp.json, batch.csv, policy.json and case.txt for `c` into `dir` (created).
std::vector<std::string> save_case(const Case& c, const std::string& dir, const std::string& headline);

}  // namespace bcq::proofs
