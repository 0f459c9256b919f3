// The verification results `bcq verify --json` and `bcq demo` write (format bcq-verify/1), and
// the counterexample folders beside them (mdp.json, batch.csv, policy.json, case.txt) drawn as
// a graph with Graphviz dot.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace bcq::reports {

/// A saved counterexample: where it is, what it shows, and its graph.
struct Counterexample {
  std::string folder;                ///< as the report names it (relative to where bcq ran)
  std::string headline;              ///< case.txt's first line: the statement's failure
  std::string description;           ///< case.txt's description of the case (the numbers)
  std::vector<std::string> replay;   ///< the commands that replay it, run inside `folder`
  std::string dot;                   ///< the graph in dot's language
};

/// One statement (theorem, lemma, remark or necessity probe) of a verification run.
struct StatementResult {
  std::string name, title, verdict;
  bool probe = false, ok = false;
  int64_t cases_run = 0, passed = 0, discarded = 0;
  std::vector<std::pair<std::string, int64_t>> classification;  ///< cases per tag
  uint64_t seed = 0;
  double seconds = 0;
  std::string dropped_condition, explanation;  ///< probes
  std::string failure, counterexample;         ///< when a case failed (or a probe found one)
  bool has_counterexample = false;
  Counterexample drawn;                        ///< when its folder was found and read
};

/// One bcq-verify/1 file.
struct VerifyResult {
  std::string name;  ///< the file as the report names it
  int64_t cases = 0;
  uint64_t seed = 0;
  bool ok = false;
  std::vector<StatementResult> statements;
};

/// A counterexample folder that could not be read (the rest of the file is still reported).
struct CounterexampleProblem {
  std::string file, reason;
};

/// Reads `path` (named `name` in the report). Throws InputError naming the file and field when
/// it is not a bcq-verify/1 file; a counterexample folder that is missing or malformed is added
/// to `problems` and its statement reported without the graph.
VerifyResult load_verify(const std::string& path, const std::string& name, std::vector<CounterexampleProblem>& problems);

/// The graph of a counterexample folder: states (terminal ones double-circled, s_init dashed),
/// start arrows, every transition labelled "a<action> p=<prob> r=<reward>", the batch's
/// transitions red with their count, pairs outside the batch dashed to s_init. Throws
/// InputError naming the file when mdp.json or batch.csv is malformed.
std::string counterexample_dot(const std::string& folder);

}  // namespace bcq::reports
