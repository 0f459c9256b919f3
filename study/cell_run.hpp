// Runs one cell of a study in this process through the continuous library (collect / train),
// resuming it from its folder when an earlier attempt was interrupted.
#pragma once

#include <string>
#include <vector>

#include "study/spec.hpp"
#include "study/state.hpp"

namespace bcq::study {

struct CellOutcome {
  CellState state = CellState::done;  ///< done | diverged | failed; running: another process has
                                      ///< it; pending: interrupted (Ctrl-C, SIGTERM), checkpointed
  std::string error;                  ///< failed: one line saying why
  double seconds = 0;                 ///< this attempt
  bool disk_full = false;             ///< failed because a write found the disk full
};

/// Runs `cell` (whose dependencies must be done) into DIR/cells/<cell>/, holding the cell's lock
/// for the whole run; returns running at once if another process holds it. Never throws for a
/// failing cell: its error is returned and written to cell.json.
CellOutcome run_cell(const StudySpec& spec, const std::vector<Cell>& cells, const Cell& cell,
                     const std::string& dir);

/// LibTorch and MuJoCo versions for study.json.
Provenance study_provenance();

}  // namespace bcq::study
