#include "reports/csv.hpp"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <sstream>

#include "common/error.hpp"

namespace bcq::reports {

namespace {

std::vector<std::string> split(const std::string& line) {
  std::vector<std::string> fields;
  std::string field;
  std::istringstream ls(line);
  while (std::getline(ls, field, ',')) fields.push_back(field);
  if (!line.empty() && line.back() == ',') fields.emplace_back();
  if (line.empty()) fields.emplace_back();
  return fields;
}

}  // namespace

std::vector<CsvRow> parse_csv(const std::string& content, const std::string& where, const std::string& header) {
  std::istringstream in(content);
  std::string line;
  if (!std::getline(in, line)) throw InputError(where + ": empty (expected the header " + header + ")");
  if (!line.empty() && line.back() == '\r') line.pop_back();
  if (line != header) throw InputError(where + ":1: header is '" + line + "', expected '" + header + "'");
  const auto columns = split(header);
  std::vector<CsvRow> rows;
  int line_no = 1;
  while (std::getline(in, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    const auto fields = split(line);
    if (fields.size() != columns.size()) {
      throw InputError(where + ":" + std::to_string(line_no) + ": " + std::to_string(fields.size()) + " fields, expected " +
                       std::to_string(columns.size()));
    }
    CsvRow row;
    row.line = line_no;
    for (size_t i = 0; i < columns.size(); ++i) row.field[columns[i]] = fields[i];
    rows.push_back(std::move(row));
  }
  return rows;
}

double csv_number(const CsvRow& row, const std::string& column, const std::string& where) {
  const std::string& text = row.field.at(column);
  if (text.empty()) return std::numeric_limits<double>::quiet_NaN();
  errno = 0;
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (end != text.c_str() + text.size() || (errno == ERANGE && std::fabs(v) == HUGE_VAL)) {
    throw InputError(where + ":" + std::to_string(row.line) + ": " + column + " '" + text + "' is not a number");
  }
  return v;
}

}  // namespace bcq::reports
