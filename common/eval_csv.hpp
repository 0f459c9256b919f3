// eval.csv, the evaluation log of a `bcq train` run folder: written by continuous/training,
// read back by it on --resume and by reports/. One definition of the format for both.
#pragma once

#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "common/error.hpp"

namespace bcq {

/// One row of eval.csv: an evaluation after `iteration` training iterations.
struct EvalRow {
  int64_t iteration = 0;
  double mean_return = 0;      ///< mean undiscounted return of the evaluation episodes
  double std_return = 0;       ///< their standard deviation
  double q_estimate = 0;       ///< the critic's mean Q(s0, pi(s0)); NaN when the algorithm has none
  double true_discounted = 0;  ///< the mean discounted return those episodes obtained
  double wall_seconds = 0;
};

inline constexpr const char* kEvalCsvHeader =
    "iteration,mean_return,std_return,q_estimate,true_discounted_return,wall_seconds";

/// The file's content: the header, then one row per evaluation (9 significant digits).
inline std::string format_eval_csv(const std::vector<EvalRow>& rows) {
  std::ostringstream out;
  out << kEvalCsvHeader << "\n";
  out.precision(9);
  for (const auto& r : rows) {
    out << r.iteration << "," << r.mean_return << "," << r.std_return << "," << r.q_estimate << ","
        << r.true_discounted << "," << r.wall_seconds << "\n";
  }
  return out.str();
}

namespace detail {

// A whole field as a double ("nan" and "inf" included); false when anything is left over.
inline bool parse_eval_number(const std::string& field, double& value) {
  if (field.empty()) return false;
  errno = 0;
  char* end = nullptr;
  value = std::strtod(field.c_str(), &end);
  // ERANGE on underflow (1e-310) still gives the nearest value; only overflow is refused.
  const bool overflow = errno == ERANGE && std::fabs(value) == HUGE_VAL;
  return end == field.c_str() + field.size() && !overflow;
}

}  // namespace detail

/// Parses eval.csv content; `where` names the file in errors. Throws InputError naming the
/// line: a wrong header or field count, a field that is not a number, a non-finite return
/// (only the estimate may be NaN or infinite), a negative std, iterations not increasing.
/// `progress`, if given, is called with the bytes read so far every 65,536 rows (`bcq report`'s
/// progress line; it may throw to stop).
inline std::vector<EvalRow> parse_eval_csv(const std::string& content, const std::string& where,
                                           const std::function<void(std::size_t)>& progress = {}) {
  static const char* columns[] = {"iteration", "mean_return", "std_return",
                                  "q_estimate", "true_discounted_return", "wall_seconds"};
  std::vector<EvalRow> rows;
  std::istringstream in(content);
  std::string line;
  int64_t line_no = 0;
  if (!std::getline(in, line)) {
    throw InputError(where + ": empty (expected the header " + kEvalCsvHeader + ")");
  }
  ++line_no;
  if (!line.empty() && line.back() == '\r') line.pop_back();
  if (line != kEvalCsvHeader) {
    throw InputError(where + ":1: header is '" + line + "', expected '" + kEvalCsvHeader + "'");
  }
  while (std::getline(in, line)) {
    ++line_no;
    if (progress && line_no % 65536 == 0) {
      const auto at = in.tellg();  // -1 at the end of a last line without a newline
      progress(at < 0 ? content.size() : static_cast<std::size_t>(at));
    }
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    const std::string at = where + ":" + std::to_string(line_no);
    std::vector<std::string> fields;
    std::string field;
    std::istringstream ls(line);
    while (std::getline(ls, field, ',')) fields.push_back(field);
    if (line.back() == ',') fields.emplace_back();
    if (fields.size() != 6) {
      throw InputError(at + ": " + std::to_string(fields.size()) + " fields, expected 6");
    }
    double v[6];
    for (int c = 0; c < 6; ++c) {
      if (!detail::parse_eval_number(fields[c], v[c])) {
        throw InputError(at + ": " + columns[c] + " '" + fields[c] + "' is not a number");
      }
    }
    // Only the value estimate may be missing (NaN: bc, vae-bc) or unbounded (a diverging critic).
    for (int c : {0, 1, 2, 4, 5}) {
      if (!std::isfinite(v[c])) throw InputError(at + ": " + columns[c] + " is not finite");
    }
    if (v[0] < 0 || v[0] != std::floor(v[0]) || v[0] > 9e15) {
      throw InputError(at + ": iteration '" + fields[0] + "' is not a non-negative integer");
    }
    EvalRow r{static_cast<int64_t>(v[0]), v[1], v[2], v[3], v[4], v[5]};
    if (r.std_return < 0) throw InputError(at + ": std_return is negative");
    if (!rows.empty() && r.iteration <= rows.back().iteration) {
      throw InputError(at + ": iteration " + std::to_string(r.iteration) + " does not follow " +
                       std::to_string(rows.back().iteration));
    }
    rows.push_back(r);
  }
  return rows;
}

}  // namespace bcq
