#include "reports/study.hpp"

#include <algorithm>
#include <filesystem>

#include "common/error.hpp"
#include "reports/csv.hpp"

namespace bcq::reports {

namespace fs = std::filesystem;

namespace {

const nlohmann::json& member(const nlohmann::json& j, const char* key, const std::string& where) {
  if (!j.contains(key)) throw InputError(where + ": missing \"" + key + "\"");
  return j[key];
}

std::string text(const nlohmann::json& j, const char* key, const std::string& where, bool nullable = false) {
  const auto& v = member(j, key, where);
  if (nullable && v.is_null()) return "";
  if (!v.is_string()) throw InputError(where + ": \"" + key + "\" is not a string");
  return v.get<std::string>();
}

double real(const nlohmann::json& j, const char* key, const std::string& where) {
  const auto& v = member(j, key, where);
  if (v.is_null()) return 0;
  if (!v.is_number()) throw InputError(where + ": \"" + key + "\" is not a number");
  return v.get<double>();
}

template <typename T>
T whole(const nlohmann::json& j, const char* key, const std::string& where) {
  const auto& v = member(j, key, where);
  if (!(std::is_unsigned_v<T> ? v.is_number_unsigned() : v.is_number_integer())) {
    throw InputError(where + ": \"" + key + "\" is not a" + (std::is_unsigned_v<T> ? " non-negative" : "n") + " integer");
  }
  return v.get<T>();
}

}  // namespace

StudyResult load_study(const std::string& dir, const std::string& name, std::vector<CellProblem>& problems,
                       ReadProgress* progress) {
  StudyResult st;
  st.name = name;
  st.dir = dir;
  const std::string path = dir + "/study.json";
  auto j = nlohmann::json::parse(read_text_file(path), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) throw InputError(path + ": not a JSON object");
  if (!j.contains("format") || j["format"] != "bcq-study-run/1") {
    throw InputError(path + ": \"format\" is not \"bcq-study-run/1\"");
  }
  st.spec = member(j, "spec", path);
  if (!st.spec.is_object()) throw InputError(path + ": \"spec\" is not an object");
  st.profile = text(j, "profile", path, /*nullable=*/true);
  st.git_commit = text(j, "git_commit", path, true);
  const auto& versions = member(j, "versions", path);
  if (!versions.is_object()) throw InputError(path + ": \"versions\" is not an object");
  for (const auto& [key, value] : versions.items()) st.versions[key] = value.is_string() ? value.get<std::string>() : value.dump();
  const auto& machine = member(j, "machine", path);
  if (!machine.is_object()) throw InputError(path + ": \"machine\" is not an object");
  st.cpu = text(machine, "cpu", path + ": machine", true);
  st.hostname = machine.contains("hostname") && machine["hostname"].is_string() ? machine["hostname"].get<std::string>() : "";
  st.hardware_threads = whole<int64_t>(machine, "hardware_threads", path + ": machine");
  st.wall_seconds = real(j, "wall_seconds", path);
  const auto& cells = member(j, "cells", path);
  if (!cells.is_array()) throw InputError(path + ": \"cells\" is not an array");
  for (size_t i = 0; i < cells.size(); ++i) {
    const std::string where = path + ": cells[" + std::to_string(i) + "]";
    const auto& c = cells[i];
    if (!c.is_object()) throw InputError(where + " is not an object");
    StudyCell cell;
    cell.id = whole<int64_t>(c, "id", where);
    cell.name = text(c, "name", where);
    cell.type = text(c, "type", where);
    if (cell.type != "collect" && cell.type != "train") throw InputError(where + ": \"type\" is '" + cell.type + "'");
    cell.env = text(c, "env", where);
    cell.kind = text(c, "kind", where);
    cell.algo = text(c, "algo", where);
    cell.seed = whole<uint64_t>(c, "seed", where);
    cell.state = text(c, "state", where);
    cell.error = text(c, "error", where, true);
    cell.wall_seconds = real(c, "wall_seconds", where);
    cell.folder = text(c, "folder", where);
    st.cells.push_back(std::move(cell));
  }

  const std::string summary = dir + "/summary.csv";
  for (const auto& row : parse_csv(read_text_file(summary), summary, kStudySummaryHeader)) {
    StudyRow r;
    r.line = row.line;
    r.env = row.field.at("env");
    r.kind = row.field.at("kind");
    r.algo = row.field.at("algo");
    r.precision = row.field.at("precision");
    r.status = row.field.at("status");
    const double seed = csv_number(row, "seed", summary);
    if (!(seed >= 0) || seed != static_cast<double>(static_cast<uint64_t>(seed))) {
      throw InputError(summary + ":" + std::to_string(row.line) + ": seed '" + row.field.at("seed") + "' is not a non-negative integer");
    }
    r.seed = static_cast<uint64_t>(seed);
    r.iterations = csv_number(row, "iterations", summary);
    r.final_return = csv_number(row, "final_return", summary);
    r.best_return = csv_number(row, "best_return", summary);
    r.behavioural_return = csv_number(row, "behavioural_return", summary);
    r.q_estimate = csv_number(row, "q_estimate", summary);
    r.true_discounted_return = csv_number(row, "true_discounted_return", summary);
    r.wall_seconds = csv_number(row, "wall_seconds", summary);
    static const char* states[] = {"done", "diverged", "failed", "running", "pending"};
    if (std::find(std::begin(states), std::end(states), r.status) == std::end(states)) {
      throw InputError(summary + ":" + std::to_string(row.line) + ": status '" + r.status + "' is not one of done, diverged, failed, running, pending");
    }
    st.rows.push_back(std::move(r));
  }

  const std::string findings = dir + "/findings.md";
  std::error_code fec;
  if (fs::exists(findings, fec)) {
    try {
      st.findings = read_text_file(findings);
    } catch (const InputError& e) {  // the study is still reported, without them
      problems.push_back({findings, e.what()});
    }
  }

  for (size_t i = 0; i < st.cells.size(); ++i) {
    const auto& cell = st.cells[i];
    if (cell.type != "train") continue;
    const std::string folder = dir + "/" + cell.folder;
    std::error_code ec;
    if (!fs::exists(folder + "/config.json", ec)) continue;  // pending: nothing written yet
    try {
      RunRecord run = load_run(folder, cell.name, progress);
      st.runs.push_back(std::move(run));
      st.run_cell.push_back(i);
    } catch (const InputError& e) {
      problems.push_back({folder, e.what()});
    }
  }
  return st;
}

}  // namespace bcq::reports
