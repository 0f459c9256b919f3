// Runs the statements and probes of properties.hpp with RapidCheck outside gtest, as
// `bcq verify` does: counts, classification, timing, shrunk counterexamples saved as files
// (MDP JSON + batch CSV + policy JSON) that the other bcq subcommands replay.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "proofs_checks/properties.hpp"

namespace bcq::proofs {

struct VerifyOptions {
  std::string theorem = "all";  ///< a statement name, a prefix ("theorem2" selects its probes too), or "all"
  int cases = 1000;             ///< cases per statement; probes search this many before "not found"
  uint64_t seed = 1;            ///< RapidCheck seed (each statement gets seed + its index)
  std::string out_dir;          ///< where counterexamples are saved (empty: not saved)
  bool include_probes = true;
  CheckConfig config;           ///< test-only seams
  /// Called before each statement starts (name, index, total); for progress output.
  std::function<void(const std::string&, size_t, size_t)> on_start;
};

struct StatementReport {
  std::string name;
  std::string title;
  bool probe = false;
  bool counterexample_expected = true;
  std::string dropped;
  std::string explanation;
  int cases_run = 0;   ///< cases that ran to completion (passed + the failing one)
  int passed = 0;
  int discarded = 0;   ///< cases whose preconditions did not hold (RC_PRE)
  std::map<std::string, int> tags;  ///< cases per classification tag
  uint64_t seed = 0;
  double seconds = 0.0;
  bool failed = false;          ///< a case broke the claim (statement: a bug; probe: counterexample found)
  bool gave_up = false;         ///< too many discards
  std::string failure;          ///< RapidCheck's description of the failing case (shrunk)
  std::string counterexample;   ///< the shrunk case: sizes, MDP, batch, policy in text
  std::vector<std::string> saved_files;
  /// Statement: passed. Probe: found a counterexample exactly when one is expected.
  bool ok() const;
};

struct VerifyReport {
  std::vector<StatementReport> statements;
  bool ok() const;
};

/// Names of everything `verify` can run.
std::vector<std::string> statement_names();

/// Runs the selected statements. Throws InputError for an unknown name.
VerifyReport verify(const VerifyOptions& options);

/// A readable text of one case (for the report and case.txt).
std::string describe_case(const Case& c);

/// Writes mdp.json, batch.csv, policy.json and case.txt for `c` into `dir` (created).
std::vector<std::string> save_case(const Case& c, const std::string& dir, const std::string& headline);

}  // namespace bcq::proofs
