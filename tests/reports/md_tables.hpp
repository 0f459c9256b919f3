// Reading report.md back: its tables, each under the heading above it, cells unescaped.
#pragma once

#include <sstream>
#include <string>
#include <vector>

namespace bcq::test {

struct MdTable {
  std::string heading;  ///< the last heading above the table, without the #s
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;

  /// The cell in the row whose first cell is `key`, column `column`; "" when absent.
  std::string cell(const std::string& key, const std::string& column) const {
    size_t c = 0;
    while (c < header.size() && header[c] != column) ++c;
    if (c == header.size()) return "";
    for (const auto& r : rows)
      if (!r.empty() && r[0] == key && c < r.size()) return r[c];
    return "";
  }
};

inline std::vector<std::string> md_cells(const std::string& line) {
  std::vector<std::string> cells;
  std::string cell;
  for (size_t i = 1; i < line.size(); ++i) {
    if (line[i] == '\\' && i + 1 < line.size()) {
      cell += line[++i];
    } else if (line[i] == '|') {
      const auto a = cell.find_first_not_of(' '), b = cell.find_last_not_of(' ');
      cells.push_back(a == std::string::npos ? "" : cell.substr(a, b - a + 1));
      cell.clear();
    } else {
      cell += line[i];
    }
  }
  return cells;
}

inline std::vector<MdTable> md_tables(const std::string& md) {
  std::vector<MdTable> out;
  std::istringstream in(md);
  std::string line, heading;
  MdTable* open = nullptr;
  while (std::getline(in, line)) {
    if (line.rfind("#", 0) == 0) {
      heading = line.substr(line.find_first_not_of('#'));
      heading = heading.substr(heading.find_first_not_of(' '));
      std::string plain;
      for (size_t i = 0; i < heading.size(); ++i) plain += heading[i] == '\\' && i + 1 < heading.size() ? heading[++i] : heading[i];
      heading = plain;
    }
    if (line.rfind("|", 0) != 0) {
      open = nullptr;
      continue;
    }
    if (!open) {
      out.push_back({heading, md_cells(line), {}});
      open = &out.back();
    } else if (line.rfind("|---", 0) != 0) {
      open->rows.push_back(md_cells(line));
    }
  }
  return out;
}

/// The table under `heading` (the first one), or nullptr.
inline const MdTable* table_under(const std::vector<MdTable>& tables, const std::string& heading) {
  for (const auto& t : tables)
    if (t.heading == heading) return &t;
  return nullptr;
}

}  // namespace bcq::test
