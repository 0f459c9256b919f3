#include "mdp/batch.hpp"

#include <cerrno>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <sstream>

#include "common/atomic_file.hpp"
#include "common/input_file.hpp"
#include "common/json_input.hpp"
#include "mdp/io.hpp"
#include "common/random.hpp"

namespace bcq {
namespace {

int draw_successor(const FiniteMdp& mdp, int s, int a, Rng& rng, double* reward) {
  OutcomeSpan outs = mdp.outcomes(s, a);
  double u = rng.uniform();
  double acc = 0.0;
  for (const Outcome& o : outs) {
    acc += o.p;
    if (u < acc) {
      *reward = o.r;
      return o.next;
    }
  }
  *reward = (outs.end() - 1)->r;  // u beyond the rounded sum: the last successor
  return (outs.end() - 1)->next;
}

int draw_initial(const FiniteMdp& mdp, Rng& rng) {
  return rng.categorical(mdp.initial(), mdp.num_states());
}

int draw_action(const Policy& pi, int s, Rng& rng) {
  return rng.categorical(&pi.probs[static_cast<size_t>(s) * static_cast<size_t>(pi.num_actions)],
                         pi.num_actions);
}

std::string row_where(const std::string& source, size_t line) {
  return source + ":" + std::to_string(line);
}

std::string trim(const std::string& x) {
  size_t b = x.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  size_t e = x.find_last_not_of(" \t\r");
  return x.substr(b, e - b + 1);
}

// strtol / strtod stop at a NUL byte and read hexadecimal ("0x10" as 16) or skip leading
// blanks; a batch field must be plain decimal, so the text is checked before conversion.
bool is_decimal_integer(const std::string& t) {
  size_t i = (!t.empty() && (t[0] == '-' || t[0] == '+')) ? 1 : 0;
  if (i == t.size()) return false;
  for (; i < t.size(); ++i)
    if (t[i] < '0' || t[i] > '9') return false;
  return true;
}

// Decimal with optional fraction and exponent, or nan / inf / infinity (refused later as
// non-finite rewards, by rule reward-finite).
bool is_decimal_real(const std::string& t) {
  size_t i = (!t.empty() && (t[0] == '-' || t[0] == '+')) ? 1 : 0;
  std::string word;
  for (size_t k = i; k < t.size(); ++k) word += static_cast<char>(std::tolower(static_cast<unsigned char>(t[k])));
  if (word == "nan" || word == "inf" || word == "infinity") return true;
  size_t digits = 0;
  while (i < t.size() && t[i] >= '0' && t[i] <= '9') ++i, ++digits;
  if (i < t.size() && t[i] == '.') {
    ++i;
    while (i < t.size() && t[i] >= '0' && t[i] <= '9') ++i, ++digits;
  }
  if (digits == 0) return false;
  if (i < t.size() && (t[i] == 'e' || t[i] == 'E')) {
    ++i;
    if (i < t.size() && (t[i] == '-' || t[i] == '+')) ++i;
    size_t exp_digits = 0;
    while (i < t.size() && t[i] >= '0' && t[i] <= '9') ++i, ++exp_digits;
    if (exp_digits == 0) return false;
  }
  return i == t.size();
}

long parse_id(const std::string& field, const char* column, const std::string& where) {
  std::string t = trim(field);
  errno = 0;
  long v = is_decimal_integer(t) ? std::strtol(t.c_str(), nullptr, 10) : 0;
  if (!is_decimal_integer(t) || errno == ERANGE || v < std::numeric_limits<int>::min() ||
      v > std::numeric_limits<int>::max()) {
    throw ValidationError("csv-number", where + " column " + column,
                          "expected an integer, got \"" + quote_for_message(t) + "\"");
  }
  return v;
}

}  // namespace

Batch collect_trajectories(const FiniteMdp& mdp, const Policy& policy, size_t size, int horizon,
                           uint64_t seed) {
  policy.validate(mdp.num_states(), mdp.num_actions(), "policy");
  if (horizon < 1) throw InputError("collect: horizon must be at least 1");
  bool live_start = false;
  for (int s = 0; s < mdp.num_states(); ++s)
    if (mdp.initial()[static_cast<size_t>(s)] > 0.0 && !mdp.is_terminal(s)) live_start = true;
  if (!live_start) throw InputError("collect: every initial state is terminal; no trajectory can start");
  Rng rng(seed);
  Batch batch;
  batch.transitions.reserve(size);
  // Episodes that start in a terminal state contribute nothing and are skipped.
  while (batch.size() < size) {
    int s = draw_initial(mdp, rng);
    for (int t = 0; t < horizon && batch.size() < size && !mdp.is_terminal(s); ++t) {
      int a = draw_action(policy, s, rng);
      double r = 0.0;
      int next = draw_successor(mdp, s, a, rng, &r);
      batch.transitions.push_back({s, a, r, next, mdp.is_terminal(next)});
      s = next;
    }
  }
  return batch;
}

Batch collect_independent(const FiniteMdp& mdp, const Policy& policy, size_t size, uint64_t seed) {
  policy.validate(mdp.num_states(), mdp.num_actions(), "policy");
  std::vector<int> live;
  for (int s = 0; s < mdp.num_states(); ++s)
    if (!mdp.is_terminal(s)) live.push_back(s);
  if (live.empty()) throw InputError("collect: the MDP has no non-terminal state");
  Rng rng(seed);
  Batch batch;
  batch.transitions.reserve(size);
  for (size_t i = 0; i < size; ++i) {
    int s = live[rng.below(static_cast<uint32_t>(live.size()))];
    int a = draw_action(policy, s, rng);
    double r = 0.0;
    int next = draw_successor(mdp, s, a, rng, &r);
    batch.transitions.push_back({s, a, r, next, mdp.is_terminal(next)});
  }
  return batch;
}

Batch batch_from_csv(const std::string& text, const std::string& source) {
  Batch batch;
  // A UTF-8 byte order mark (spreadsheet exports) is skipped, as in JSON inputs.
  std::istringstream in(std::string(skip_utf8_bom(text)));
  std::string line;
  size_t line_no = 0;
  bool header_seen = false;
  std::vector<std::string> fields;
  while (std::getline(in, line)) {
    ++line_no;
    if (trim(line).empty()) continue;
    if (!header_seen) {
      std::string h;
      for (char c : line)
        if (c != ' ' && c != '\t' && c != '\r') h += c;
      if (h != "s,a,r,s_next,done") {
        throw ValidationError("csv-header", row_where(source, line_no),
                              "expected header \"s,a,r,s_next,done\", got \"" + quote_for_message(trim(line)) + "\"");
      }
      header_seen = true;
      continue;
    }
    fields.clear();
    std::string field;
    std::istringstream row(line);
    while (std::getline(row, field, ',')) fields.push_back(field);
    if (!line.empty() && line.back() == ',') fields.emplace_back();
    std::string where = row_where(source, line_no);
    if (fields.size() != 5) {
      throw ValidationError("csv-columns", where,
                            "expected 5 columns (s,a,r,s_next,done), got " + std::to_string(fields.size()));
    }
    Transition t;
    long s = parse_id(fields[0], "s", where);
    long a = parse_id(fields[1], "a", where);
    long next = parse_id(fields[3], "s_next", where);
    if (s < 0) throw ValidationError("state-range", where + " column s", "negative state id " + std::to_string(s));
    if (a < 0) throw ValidationError("action-range", where + " column a", "negative action id " + std::to_string(a));
    if (next < 0) {
      throw ValidationError("state-range", where + " column s_next", "negative state id " + std::to_string(next));
    }
    std::string r_text = trim(fields[2]);
    if (!is_decimal_real(r_text)) {
      throw ValidationError("csv-number", where + " column r",
                            "expected a decimal number, got \"" + quote_for_message(r_text) + "\"");
    }
    double r = std::strtod(r_text.c_str(), nullptr);
    if (!std::isfinite(r)) {
      throw ValidationError("reward-finite", where + " column r", "reward is " + quote_for_message(r_text));
    }
    long done = parse_id(fields[4], "done", where);
    if (done != 0 && done != 1) {
      throw ValidationError("csv-done", where + " column done", "done must be 0 or 1, got " + std::to_string(done));
    }
    t.s = static_cast<int>(s);
    t.a = static_cast<int>(a);
    t.r = r;
    t.s_next = static_cast<int>(next);
    t.done = done == 1;
    batch.transitions.push_back(t);
  }
  if (!header_seen) throw ValidationError("csv-header", source, "file is empty (no header)");
  return batch;
}

std::string batch_to_csv(const Batch& batch) {
  std::string out = "s,a,r,s_next,done\n";
  out.reserve(out.size() + batch.size() * 32);
  char buf[96];
  for (const Transition& t : batch.transitions) {
    // %.17g round-trips every double.
    int n = std::snprintf(buf, sizeof buf, "%d,%d,%.17g,%d,%d\n", t.s, t.a, t.r, t.s_next, t.done ? 1 : 0);
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

Batch load_batch(const std::string& path) { return batch_from_csv(read_input_file(path), path); }

void save_batch(const Batch& batch, const std::string& path) { write_file_atomic(path, batch_to_csv(batch)); }

void validate_batch(const Batch& batch, const FiniteMdp& mdp, const std::string& source) {
  if (batch.empty()) throw ValidationError("batch-empty", source, "the batch has no transitions");
  const int S = mdp.num_states(), A = mdp.num_actions();
  for (size_t i = 0; i < batch.size(); ++i) {
    const Transition& t = batch.transitions[i];
    // Row i of the batch is line i + 2 of its CSV file (after the header).
    std::string where = source + ": row " + std::to_string(i + 1) + " (line " + std::to_string(i + 2) + ")";
    if (t.s < 0 || t.s >= S) {
      throw ValidationError("state-range", where + " column s",
                            "state " + std::to_string(t.s) + " is outside the MDP's [0, " + std::to_string(S) + ")");
    }
    if (t.s_next < 0 || t.s_next >= S) {
      throw ValidationError("state-range", where + " column s_next",
                            "state " + std::to_string(t.s_next) + " is outside the MDP's [0, " +
                                std::to_string(S) + ")");
    }
    if (t.a < 0 || t.a >= A) {
      throw ValidationError("action-range", where + " column a",
                            "action " + std::to_string(t.a) + " is outside the MDP's [0, " + std::to_string(A) + ")");
    }
    if (!std::isfinite(t.r)) throw ValidationError("reward-finite", where + " column r", "reward is not finite");
    if (mdp.is_terminal(t.s)) {
      throw ValidationError("terminal-transition", where + " column s",
                            "state " + std::to_string(t.s) + " is terminal in the MDP; no action is taken there");
    }
    if (t.done != mdp.is_terminal(t.s_next)) {
      throw ValidationError("done-consistency", where + " column done",
                            std::string("done is ") + (t.done ? "1" : "0") + " but state " +
                                std::to_string(t.s_next) + (mdp.is_terminal(t.s_next) ? " is" : " is not") +
                                " terminal in the MDP");
    }
    if (mdp.probability(t.s, t.a, t.s_next) <= 0.0) {
      throw ValidationError("impossible-transition", where,
                            "p_M(" + std::to_string(t.s_next) + " | " + std::to_string(t.s) + "," +
                                std::to_string(t.a) + ") = 0 in the MDP");
    }
  }
}

}  // namespace bcq
