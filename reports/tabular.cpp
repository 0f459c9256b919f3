#include "reports/tabular.hpp"

#include <filesystem>

#include "common/error.hpp"
#include "reports/csv.hpp"
#include "reports/runs.hpp"

namespace bcq::reports {

namespace fs = std::filesystem;

namespace {

bool parse_bool(const CsvRow& row, const std::string& column, const std::string& where) {
  const std::string& v = row.field.at(column);
  if (v == "1" || v == "true") return true;
  if (v == "0" || v == "false") return false;
  throw InputError(where + ":" + std::to_string(row.line) + ": " + column + " '" + v + "' is not 0/1 or true/false");
}

}  // namespace

TabularResult load_tabular(const std::string& dir, const std::string& name) {
  TabularResult t;
  t.name = name;
  const std::string summary = dir + "/tabular_summary.csv";
  for (const auto& row : parse_csv(read_text_file(summary), summary, kTabularSummaryHeader)) {
    TabularCell c;
    c.mdp = row.field.at("mdp");
    c.behaviour = row.field.at("behaviour");
    c.algo = row.field.at("algo");
    c.deterministic = parse_bool(row, "deterministic", summary);
    c.dataset_size = csv_number(row, "dataset_size", summary);
    if (!(c.dataset_size > 0)) throw InputError(summary + ":" + std::to_string(row.line) + ": dataset_size is not positive");
    c.runs = csv_number(row, "runs", summary);
    c.mean_normalised = csv_number(row, "mean_normalised", summary);
    c.cvar1_normalised = csv_number(row, "cvar1_normalised", summary);
    c.cvar10_normalised = csv_number(row, "cvar10_normalised", summary);
    c.p_improve = csv_number(row, "p_improve", summary);
    c.mean_extrapolation_error = csv_number(row, "mean_extrapolation_error", summary);
    c.mean_return = csv_number(row, "mean_return", summary);
    t.cells.push_back(std::move(c));
  }
  std::error_code ec;
  const std::string runs = dir + "/tabular.csv";
  if (fs::exists(runs, ec)) t.runs = parse_csv(read_text_file(runs), runs, kTabularHeader).size();
  const std::string study = dir + "/tabular_study.json";
  if (fs::exists(study, ec)) {
    t.study = nlohmann::json::parse(read_text_file(study), nullptr, /*allow_exceptions=*/false);
    if (t.study.is_discarded() || !t.study.is_object()) throw InputError(study + ": not a JSON object");
  }
  return t;
}

}  // namespace bcq::reports
