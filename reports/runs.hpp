// Reading the run folders that `bcq train` writes (config.json, eval.csv, status.json) for the
// report. Only the files are read: this module links none of the libraries that wrote them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/eval_csv.hpp"
#include "reports/progress.hpp"

namespace bcq::reports {

/// One row of eval.csv (common/eval_csv.hpp, the format `bcq train` writes).
using EvalPoint = bcq::EvalRow;

/// A run folder: its configuration, evaluations and status.
struct RunRecord {
  std::string dir;        ///< the folder as found
  std::string name;       ///< its path relative to the folder given to the report
  std::string algo, env, precision;
  uint64_t seed = 0;
  int64_t iterations = 0; ///< iterations asked for (config.json)
  bool concurrent = false;
  /// Where the batch came from: the buffer's file name and its attributes (kind, steps, seed),
  /// or the concurrent behavioural agent; runs on the same batch share it.
  std::string batch;
  std::string batch_key;  ///< equal for runs on the same batch (environment, file, attributes)
  std::string buffer;     ///< the buffer's path as config.json records it (empty: concurrent)
  double behavioural_return = 0;  ///< NaN when the buffer does not record it
  std::string status;     ///< "completed", "running", "interrupted", "diverged" or "unknown" (no status.json)
  int64_t status_iteration = -1;
  std::string diverged_loss;
  std::vector<EvalPoint> evals;  ///< empty when eval.csv is missing (no evaluation yet)
};

/// Reads one run folder. Throws bcq::InputError naming the file and line (malformed
/// config.json or eval.csv, a non-finite return, iterations not increasing, ...). With
/// `progress`, its eval.csv counts towards the reading stage (and Ctrl-C is polled as it is
/// read: bcq::Interrupted).
RunRecord load_run(const std::string& dir, const std::string& name, ReadProgress* progress = nullptr);

/// The run folders at or under `root` (a folder holding config.json is a run), sorted by
/// path. Throws InputError when `root` is missing or holds no run.
std::vector<RunRecord> find_runs(const std::string& root);

/// The whole content of a file. Throws InputError "<path>: missing or unreadable".
std::string read_text_file(const std::string& path);

/// eval.csv content parsed (bcq::parse_eval_csv).
using bcq::parse_eval_csv;

}  // namespace bcq::reports
