// What a study folder holds and how far each cell got, read from the cell folders themselves
// (the truth on a shared filesystem, whoever ran them): DIR/spec.json, DIR/study.json,
// DIR/summary.csv and DIR/cells/<cell>/ with cell.json (state, error, wall time) beside the
// run's own files. No LibTorch here.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "study/spec.hpp"

namespace bcq::study {

enum class CellState { pending, running, done, diverged, failed };
std::string to_string(CellState state);

/// A cell as found on disk.
struct CellStatus {
  CellState state = CellState::pending;
  std::string error;          ///< failed: why; pending: the failed cell it waits for, if any
  double wall_seconds = 0;    ///< over every attempt
  double behavioural_return = std::numeric_limits<double>::quiet_NaN();
  bool started = false;       ///< has a checkpoint or partial output to resume from
  int attempts = 0;           ///< how many times a process started the cell
};

std::string cell_folder(const std::string& dir, const Cell& cell);

/// Reads DIR/cells/<cell>/cell.json and the cell's lock: running when a process holds the
/// lock; a cell.json saying running with no process holding the lock is an interrupted cell
/// (pending, resumable).
CellStatus read_cell_status(const std::string& dir, const Cell& cell);
std::vector<CellStatus> read_statuses(const std::string& dir, const std::vector<Cell>& cells);

/// Writes DIR/cells/<cell>/cell.json atomically.
void write_cell_record(const std::string& dir, const Cell& cell, CellState state,
                       const std::string& error, double wall_seconds, double behavioural_return,
                       int attempts);

/// An exclusive advisory lock (flock) on a file, released on destruction or process death.
class FileLock {
 public:
  /// wait: block until the lock is free; otherwise held() tells whether it was taken.
  FileLock(const std::string& path, bool wait);
  ~FileLock();
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  bool held() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

/// The cell lock file (DIR/cells/<cell>/.lock).
std::string cell_lock_path(const std::string& dir, const Cell& cell);

/// Checks DIR against `spec`: a new folder gets spec.json; a folder holding the same spec
/// keeps its cells; one holding another spec that `spec` only extends gets the new spec and
/// its cells renumbered after the old; anything else is an InputError naming the difference.
/// Returns the cells with their ids in this folder. Takes DIR/.results.lock.
std::vector<Cell> prepare_folder(const std::string& dir, const StudySpec& spec);

/// Reads the spec and cells of an existing study folder (InputError if there is none).
std::pair<StudySpec, std::vector<Cell>> read_folder(const std::string& dir);

/// Facts for study.json's "versions" and "machine" (the LibTorch program adds its versions).
struct Provenance {
  nlohmann::json versions = nlohmann::json::object();
  nlohmann::json machine = nlohmann::json::object();
};
Provenance local_provenance();

/// Rewrites DIR/study.json and DIR/summary.csv from the cell folders, atomically and under
/// DIR/.results.lock. `workers` and `ranks` describe the run writing them.
void write_results(const std::string& dir, const StudySpec& spec, const std::string& profile,
                   const std::vector<Cell>& cells, const Provenance& provenance, int workers,
                   int ranks, double wall_seconds);

/// The summary.csv header.
extern const char* const kSummaryHeader;

/// One of the study folder's own JSON files (cell.json, study.json), parsed; null when it is
/// missing, unreadable or malformed (a file being written by a run that crashed).
nlohmann::json read_json_or_null(const std::string& path);

}  // namespace bcq::study
