// Reading the CSV result files of studies (summary.csv, tabular.csv, tabular_summary.csv):
// comma-separated, no quoting, a fixed header.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace bcq::reports {

/// One data row: the value of each column by name, and the line it came from.
struct CsvRow {
  std::map<std::string, std::string> field;
  int line = 0;
};

/// Parses `content` whose header must be exactly `header`. Throws InputError naming `where`
/// and the line: another header, a row with another number of fields.
std::vector<CsvRow> parse_csv(const std::string& content, const std::string& where, const std::string& header);

/// The number in a field: NaN when empty; throws InputError "`where`:line: column 'x' is not a
/// number" otherwise.
double csv_number(const CsvRow& row, const std::string& column, const std::string& where);

}  // namespace bcq::reports
