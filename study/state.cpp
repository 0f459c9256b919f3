#include "study/state.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <charconv>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <thread>

#include "common/atomic_file.hpp"
#include "common/build_info.hpp"
#include "common/error.hpp"
#include "common/eval_csv.hpp"
#include "common/input_file.hpp"
#include "common/json_input.hpp"

#ifndef BCQ_VERSION
#define BCQ_VERSION "unknown"
#endif

namespace bcq::study {

namespace fs = std::filesystem;

const char* const kSummaryHeader =
    "env,kind,algo,seed,precision,iterations,final_return,best_return,behavioural_return,"
    "q_estimate,true_discounted_return,status,wall_seconds";

namespace {

// The shortest text that reads back as the same double (1234.5, not 1234.4999999999998).
std::string number(double x) {
  if (!std::isfinite(x)) return "";
  char text[32];
  const auto r = std::to_chars(text, text + sizeof text, x);
  return std::string(text, r.ptr);
}

// Wall seconds to a tenth of a second: a timing, not a result.
std::string seconds_text(double x) {
  if (!std::isfinite(x)) return "";
  char text[32];
  std::snprintf(text, sizeof text, "%.1f", x);
  return text;
}

}  // namespace

nlohmann::json read_json_or_null(const std::string& path) {
  if (!fs::is_regular_file(path)) return nullptr;
  try {
    return parse_json_input(read_input_file(path), path);  // the project's JSON rules
  } catch (const InputError&) {
    return nullptr;
  }
}

std::string to_string(CellState s) {
  switch (s) {
    case CellState::pending: return "pending";
    case CellState::running: return "running";
    case CellState::done: return "done";
    case CellState::diverged: return "diverged";
    case CellState::failed: return "failed";
  }
  return "?";
}

std::string cell_folder(const std::string& dir, const Cell& cell) { return dir + "/cells/" + cell.name(); }
std::string cell_lock_path(const std::string& dir, const Cell& cell) { return cell_folder(dir, cell) + "/.lock"; }

FileLock::FileLock(const std::string& path, bool wait) {
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) throw InputError("cannot open lock file " + path + ": " + std::strerror(errno));
  while (::flock(fd_, LOCK_EX | (wait ? 0 : LOCK_NB)) != 0) {
    if (errno == EINTR) continue;
    ::close(fd_);
    fd_ = -1;
    if (errno == EWOULDBLOCK && !wait) return;
    throw InputError("cannot lock " + path + ": " + std::strerror(errno));
  }
}

FileLock::~FileLock() {
  if (fd_ >= 0) ::close(fd_);  // closing releases the flock
}

CellStatus read_cell_status(const std::string& dir, const Cell& cell) {
  CellStatus st;
  const std::string folder = cell_folder(dir, cell);
  if (!fs::is_directory(folder)) return st;
  const auto rec = read_json_or_null(folder + "/cell.json");
  if (rec.is_object()) {
    st.wall_seconds = rec.value("wall_seconds", 0.0);
    st.attempts = rec.value("attempts", 0);
    st.error = rec.value("error", nlohmann::json()).is_string() ? rec["error"].get<std::string>() : "";
    if (rec.contains("behavioural_return") && rec["behavioural_return"].is_number()) {
      st.behavioural_return = rec["behavioural_return"].get<double>();
    }
    const std::string s = rec.value("state", "");
    if (s == "done") st.state = CellState::done;
    else if (s == "diverged") st.state = CellState::diverged;
    else if (s == "failed") st.state = CellState::failed;
  }
  if (st.state == CellState::pending || st.state == CellState::failed) {
    if (fs::exists(cell_lock_path(dir, cell))) {
      FileLock probe(cell_lock_path(dir, cell), false);
      if (!probe.held()) st.state = CellState::running;
    }
  }
  st.started = fs::exists(folder + "/checkpoint.pt") || fs::exists(folder + "/buffer.h5.checkpoint/state.pt");
  if (st.state == CellState::pending) st.error.clear();
  return st;
}

std::vector<CellStatus> read_statuses(const std::string& dir, const std::vector<Cell>& cells) {
  std::vector<CellStatus> out;
  out.reserve(cells.size());
  for (const auto& c : cells) out.push_back(read_cell_status(dir, c));
  return out;
}

void write_cell_record(const std::string& dir, const Cell& cell, CellState state,
                       const std::string& error, double wall_seconds, double behavioural_return,
                       int attempts) {
  nlohmann::json rec = {{"format", "bcq-study-cell/1"},
                        {"id", cell.id},
                        {"name", cell.name()},
                        {"type", to_string(cell.type)},
                        {"env", cell.env},
                        {"kind", cell.kind},
                        {"algo", cell.algo},
                        {"seed_index", cell.seed_index},
                        {"seed", cell.seed},
                        {"state", to_string(state)},
                        {"error", error.empty() ? nlohmann::json() : nlohmann::json(error)},
                        {"wall_seconds", wall_seconds},
                        {"attempts", attempts},
                        {"behavioural_return", std::isfinite(behavioural_return)
                                                   ? nlohmann::json(behavioural_return)
                                                   : nlohmann::json()}};
  write_file_atomic(cell_folder(dir, cell) + "/cell.json", rec.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
}

namespace {

std::vector<Cell> cells_from_json(const nlohmann::json& j, const std::string& where) {
  std::vector<Cell> cells;
  if (!j.is_array()) throw InputError(where + ": 'cells' must be an array");
  for (const auto& c : j) {
    Cell cell;
    try {
      cell.id = c.at("id").get<int>();
      cell.type = c.at("type").get<std::string>() == "collect" ? CellType::collect : CellType::train;
      cell.env = c.at("env").get<std::string>();
      cell.kind = c.at("kind").get<std::string>();
      cell.algo = c.at("algo").get<std::string>();
      cell.seed_index = c.at("seed_index").get<int64_t>();
      cell.seed = c.at("seed").get<uint64_t>();
      cell.depends = c.at("depends").get<std::vector<int>>();
    } catch (const nlohmann::json::exception& e) {
      throw InputError(where + ": a cell entry is malformed (" + std::string(e.what()) + ")");
    }
    cells.push_back(cell);
  }
  return cells;
}

}  // namespace

std::pair<StudySpec, std::vector<Cell>> read_folder(const std::string& dir) {
  const std::string spec_path = dir + "/spec.json";
  if (!fs::is_regular_file(spec_path)) throw InputError(dir + ": not a study folder (no spec.json)");
  StudySpec spec = parse_spec(load_json_input(spec_path), spec_path);
  const std::string state_path = dir + "/study.json";
  const auto state = read_json_or_null(state_path);
  if (state.is_object() && state.contains("cells")) return {spec, cells_from_json(state["cells"], state_path)};
  return {spec, plan_cells(spec)};
}

std::vector<Cell> prepare_folder(const std::string& dir, const StudySpec& spec) {
  std::error_code ec;
  if (fs::exists(dir) && !fs::is_directory(dir)) throw InputError("--out " + dir + " is not a folder");
  fs::create_directories(dir + "/cells", ec);
  if (ec) throw InputError("cannot create study folder " + dir + ": " + ec.message());
  FileLock lock(dir + "/.results.lock", true);
  const std::string spec_path = dir + "/spec.json";
  if (!fs::exists(spec_path)) {
    write_file_atomic(spec_path, to_json(spec).dump(2) + "\n");
    return plan_cells(spec);
  }
  auto [old_spec, old_cells] = read_folder(dir);
  if (to_json(old_spec) == to_json(spec)) return old_cells;
  std::vector<Cell> cells;
  try {
    cells = extend_cells(old_spec, old_cells, spec);
  } catch (const InputError& e) {
    throw InputError(dir + " holds another study: " + e.what());
  }
  write_file_atomic(spec_path, to_json(spec).dump(2) + "\n");
  return cells;
}

Provenance local_provenance() {
  Provenance p;
  p.versions["bcq"] = BCQ_VERSION;
  p.versions["compiler"] = std::string("g++ ") + __VERSION__;
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line, cpu = "unknown";
  while (std::getline(cpuinfo, line)) {
    if (line.rfind("model name", 0) == 0) {
      cpu = line.substr(line.find(':') + 2);
      break;
    }
  }
  char host[256] = {0};
  ::gethostname(host, sizeof host - 1);
  p.machine = {{"cpu", cpu},
               {"hardware_threads", std::thread::hardware_concurrency()},
               {"hostname", std::string(host)}};
  return p;
}

void write_results(const std::string& dir, const StudySpec& spec, const std::string& profile,
                   const std::vector<Cell>& cells, const Provenance& provenance, int workers,
                   int ranks, double wall_seconds) {
  FileLock lock(dir + "/.results.lock", true);
  const auto statuses = read_statuses(dir, cells);
  nlohmann::json jcells = nlohmann::json::array();
  std::ostringstream csv;
  csv << kSummaryHeader << "\n";
  for (std::size_t i = 0; i < cells.size(); ++i) {
    const Cell& c = cells[i];
    const CellStatus& st = statuses[i];
    jcells.push_back({{"id", c.id},
                      {"name", c.name()},
                      {"type", to_string(c.type)},
                      {"env", c.env},
                      {"kind", c.kind},
                      {"algo", c.algo},
                      {"seed_index", c.seed_index},
                      {"seed", c.seed},
                      {"depends", c.depends},
                      {"state", to_string(st.state)},
                      {"error", st.error.empty() ? nlohmann::json() : nlohmann::json(st.error)},
                      {"wall_seconds", st.wall_seconds},
                      {"attempts", st.attempts},
                      {"folder", "cells/" + c.name()}});
    if (c.type != CellType::train) continue;
    // A training cell's row: its evaluations so far (eval.csv), its precision (config.json).
    const std::string folder = cell_folder(dir, c);
    std::vector<EvalRow> rows;
    const std::string eval_path = folder + "/eval.csv";
    if (fs::is_regular_file(eval_path)) {
      try {
        rows = parse_eval_csv(read_input_file(eval_path), eval_path);
      } catch (const InputError&) {
        rows.clear();  // being written by a crashed run: shown without numbers
      }
    }
    const auto config = read_json_or_null(folder + "/config.json");
    const std::string precision = config.is_object() ? config.value("precision", "fp32")
                                                     : (c.algo == "bcq" ? spec.precision : "fp32");
    double best = -std::numeric_limits<double>::infinity();
    for (const auto& r : rows) best = std::max(best, r.mean_return);
    const double nan = std::numeric_limits<double>::quiet_NaN();
    csv << c.env << "," << c.kind << "," << c.algo << "," << c.seed_index << "," << precision << ","
        << (rows.empty() ? 0 : rows.back().iteration) << ","
        << number(rows.empty() ? nan : rows.back().mean_return) << ","
        << number(rows.empty() ? nan : best) << "," << number(st.behavioural_return) << ","
        << number(rows.empty() ? nan : rows.back().q_estimate) << ","
        << number(rows.empty() ? nan : rows.back().true_discounted) << "," << to_string(st.state)
        << "," << seconds_text(st.wall_seconds) << "\n";
  }
  std::string git = bcq::git_commit();
  nlohmann::json study = {{"format", "bcq-study-run/1"},
                          {"spec", to_json(spec)},
                          {"profile", profile.empty() ? nlohmann::json() : nlohmann::json(profile)},
                          {"git_commit", git},
                          {"versions", provenance.versions},
                          {"machine", provenance.machine},
                          {"workers", workers},
                          {"ranks", ranks},
                          {"wall_seconds", wall_seconds},
                          {"cells", jcells}};
  write_file_atomic(dir + "/summary.csv", csv.str());
  write_file_atomic(dir + "/study.json", study.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
}


}  // namespace bcq::study
