// Finding every result below the folders given to `bcq report`: verification files
// (bcq-verify/1 JSON), study folders (study.json), tabular study folders (tabular_summary.csv)
// and single `bcq train` run folders (config.json). A result that cannot be read is kept as
// "not included" with the file and the reason, instead of sinking the whole report.
#pragma once

#include <string>
#include <vector>

#include "reports/runs.hpp"
#include "reports/study.hpp"
#include "reports/tabular.hpp"
#include "reports/verification.hpp"

namespace bcq::reports {

/// A result left out of the report, and why.
struct NotIncluded {
  std::string file;    ///< the file or folder at fault
  std::string reason;  ///< the reader's message (names the file, line or field)
};

/// Everything found, each kind sorted by path.
struct Results {
  std::vector<VerifyResult> verifications;
  std::vector<StudyResult> studies;
  std::vector<TabularResult> tabular;
  std::vector<RunRecord> runs;  ///< single run folders outside any study
  std::vector<NotIncluded> not_included;

  /// True when nothing at all could be read.
  bool empty() const { return verifications.empty() && studies.empty() && tabular.empty() && runs.empty(); }
};

/// Searches each root (a folder, or a bcq-verify/1 file). A study's or a tabular study's
/// folder is read as a whole (its cells are not also single runs). Results are named by their
/// path as given (root joined with the path below it); single runs, as before, by their path
/// relative to their root. Throws InputError when a root does not exist. `progress` hears of
/// the reading stage (the eval.csv files, in bytes); SIGINT or SIGTERM stops it
/// (bcq::Interrupted, once the command line installed its handlers).
Results discover(const std::vector<std::string>& roots, const ProgressHook& progress = {});

}  // namespace bcq::reports
