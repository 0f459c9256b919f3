// The folders `bcq study run` writes: study.json (cells, versions, machine), summary.csv (one
// row per training cell) and cells/<name>/ (ordinary `bcq train` run folders, or a collection's
// collect.json). See docs/report.md for the contract read here.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "reports/runs.hpp"

namespace bcq::reports {

/// One cell of study.json.
struct StudyCell {
  int64_t id = 0;
  std::string name, type, env, kind, algo, state, error, folder;
  uint64_t seed = 0;
  double wall_seconds = 0;
};

/// One row of summary.csv; numbers NaN when the file leaves them empty.
struct StudyRow {
  std::string env, kind, algo, precision, status;
  uint64_t seed = 0;
  double iterations = 0, final_return = 0, best_return = 0, behavioural_return = 0, q_estimate = 0,
         true_discounted_return = 0, wall_seconds = 0;
  int line = 0;  ///< its line in summary.csv
};

inline constexpr const char* kStudySummaryHeader =
    "env,kind,algo,seed,precision,iterations,final_return,best_return,behavioural_return,q_estimate,"
    "true_discounted_return,status,wall_seconds";

/// A study folder.
struct StudyResult {
  std::string name;      ///< the folder as the report names it
  std::string dir;
  std::string profile;   ///< "quick", ... or "" (a spec file)
  std::string git_commit;
  std::map<std::string, std::string> versions;  ///< bcq, libtorch, mujoco, compiler
  std::string cpu, hostname;
  int64_t hardware_threads = 0;
  double wall_seconds = 0;
  nlohmann::json spec;
  std::vector<StudyCell> cells;
  std::vector<StudyRow> rows;
  std::vector<RunRecord> runs;  ///< the training cells' run folders that could be read
  std::vector<size_t> run_cell; ///< runs[i] is the folder of cells[run_cell[i]]
  /// DIR/findings.md when present: what was found when the claims this study does not support
  /// were investigated, written by whoever investigated them and shown under the claims table.
  std::string findings;
};

/// A cell folder that could not be read (the study is still reported without its curves).
struct CellProblem {
  std::string file, reason;
};

/// Reads the study folder `dir` (named `name`). Throws InputError naming the file, line or
/// field when study.json or summary.csv is malformed; a training cell whose run folder cannot
/// be read goes to `problems`. `progress`: as load_run's.
StudyResult load_study(const std::string& dir, const std::string& name, std::vector<CellProblem>& problems,
                       ReadProgress* progress = nullptr);

}  // namespace bcq::reports
