// `bcq study run`: runs the cells of a study that are not done, on local worker threads, on
// the ranks of an MPI job (rank 0 hands out ready cells) or one cell at a time (--cell, for a
// Slurm array task). Results are rewritten after every cell.
#pragma once

#include <string>

#include "common/mpi.hpp"
#include "study/spec.hpp"

namespace bcq::study {

/// Exit code of `--cell K` when K's dependencies are not done yet ("not ready, try later",
/// EX_TEMPFAIL of sysexits.h).
constexpr int kNotReady = 75;

struct RunOptions {
  std::string out_dir;
  std::string profile;   ///< the built-in profile's name, or empty for a spec file
  int workers = 0;       ///< cells at once on this machine; 0: 2 locally, 1 per MPI rank
  int cell = -1;         ///< run only this cell id (Slurm array task)
  bool progress = false; ///< a progress line on stderr
};

/// Runs the study; returns the exit code: 0 all cells done (a diverged run is a result),
/// 1 some cell failed (each is named on stderr), 75 (--cell) not ready. Throws InputError for
/// a bad folder or spec.
int run_study(const StudySpec& spec, const RunOptions& options, const mpi::Session& session);

/// What `bcq study plan` and `bcq study status` print: the text table and the same as JSON.
struct Printout {
  std::string text;  ///< lines, each ending with a newline
  std::string json;  ///< one JSON document (bcq-study-plan/1, bcq-study-status/1), no final newline
};

/// `bcq study status`: per cell done / running / failed / pending, and an ETA.
Printout study_status(const std::string& dir);

/// `bcq study plan`: the cells, dependencies, estimated work and the Slurm array lines.
Printout study_plan(const StudySpec& spec, const std::string& source);

}  // namespace bcq::study
