#include "mdp/io.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/atomic_file.hpp"
#include "common/input_file.hpp"
#include "common/json_input.hpp"

namespace bcq {
namespace {

using nlohmann::json;

const json& require(const json& obj, const char* key, const std::string& where) {
  if (!obj.is_object()) throw ValidationError("json-type", where, "expected a JSON object");
  auto it = obj.find(key);
  if (it == obj.end()) {
    throw ValidationError("missing-field", where + "." + key, "required field is missing");
  }
  return *it;
}

int as_int(const json& v, const std::string& where) {
  if (v.is_number_integer()) {
    auto x = v.get<long long>();
    if (x < std::numeric_limits<int>::min() || x > std::numeric_limits<int>::max())
      throw ValidationError("json-type", where, "integer out of range");
    return static_cast<int>(x);
  }
  if (v.is_number_float()) {
    double d = v.get<double>();
    if (std::isfinite(d) && d == std::floor(d) && std::abs(d) < 2e9) return static_cast<int>(d);
  }
  throw ValidationError("json-type", where, "expected an integer, got " + v.dump());
}

double as_double(const json& v, const std::string& where) {
  // JSON has no NaN/inf literals; nlohmann writes them as null, so null means "not a number".
  if (v.is_null()) return std::numeric_limits<double>::quiet_NaN();
  if (v.is_string()) {
    const std::string& t = v.get_ref<const std::string&>();
    if (t == "NaN" || t == "nan") return std::numeric_limits<double>::quiet_NaN();
    if (t == "Infinity" || t == "inf") return std::numeric_limits<double>::infinity();
    if (t == "-Infinity" || t == "-inf") return -std::numeric_limits<double>::infinity();
  }
  if (!v.is_number()) throw ValidationError("json-type", where, "expected a number, got " + v.dump());
  return v.get<double>();
}

const json& as_array(const json& v, const std::string& where) {
  if (!v.is_array()) throw ValidationError("json-type", where, "expected an array");
  return v;
}

void check_format(const json& doc, const char* expected, const std::string& source) {
  const json& f = require(doc, "format", source);
  if (!f.is_string() || f.get<std::string>() != expected) {
    throw ValidationError("format-tag", source + ".format",
                          "unknown format tag " + f.dump() + ", expected \"" + expected + "\"");
  }
}

// Every non-terminal (s,a) needs a transitions entry, so a file that declares more states or
// actions than it lists entries for is refused here, before FiniteMdp::build allocates
// |S| x |A| tables: a 100-byte file declaring 10^9 states must not ask for gigabytes.
// The message names the first missing pair, as FiniteMdp::build would.
void check_listed_pairs(const MdpSpec& spec, const std::string& source) {
  if (spec.num_states <= 0 || spec.num_actions <= 0) return;  // build names the rule
  std::vector<int> terminal;
  for (int t : spec.terminal)
    if (t >= 0 && t < spec.num_states) terminal.push_back(t);
  std::sort(terminal.begin(), terminal.end());
  terminal.erase(std::unique(terminal.begin(), terminal.end()), terminal.end());
  const double needed = (double(spec.num_states) - double(terminal.size())) * double(spec.num_actions);
  if (needed <= double(spec.transitions.size())) return;
  std::vector<std::pair<int, int>> listed;
  for (const TransitionSpec& t : spec.transitions) listed.emplace_back(t.s, t.a);
  std::sort(listed.begin(), listed.end());
  // Walk the pairs in order; the first one not listed is missing. At most |listed| + 1 steps
  // of actions, each terminal state skipped whole.
  size_t next_listed = 0, next_terminal = 0;
  for (int s = 0; s < spec.num_states; ++s) {
    while (next_terminal < terminal.size() && terminal[next_terminal] < s) ++next_terminal;
    if (next_terminal < terminal.size() && terminal[next_terminal] == s) continue;
    for (int a = 0; a < spec.num_actions; ++a) {
      while (next_listed < listed.size() && listed[next_listed] < std::make_pair(s, a)) ++next_listed;
      if (next_listed == listed.size() || listed[next_listed] != std::make_pair(s, a)) {
        throw ValidationError("missing-outcomes",
                              source + ": (s=" + std::to_string(s) + ",a=" + std::to_string(a) + ")",
                              "non-terminal (s,a) has no transitions entry (the file declares " +
                                  std::to_string(spec.num_states) + " states x " +
                                  std::to_string(spec.num_actions) + " actions but lists " +
                                  std::to_string(spec.transitions.size()) + " entries)");
      }
    }
  }
}

}  // namespace

std::string read_text_file(const std::string& path) { return read_input_file(path); }

json parse_json_text(const std::string& text, const std::string& source) {
  return parse_json_input(text, source);
}

FiniteMdp mdp_from_json(const json& doc, const std::string& source) {
  if (!doc.is_object()) throw ValidationError("json-type", source, "expected a JSON object");
  check_format(doc, "bcq-mdp/1", source);
  MdpSpec spec;
  if (doc.contains("name")) {
    if (!doc["name"].is_string()) throw ValidationError("json-type", source + ".name", "expected a string");
    spec.name = doc["name"].get<std::string>();
  }
  spec.num_states = as_int(require(doc, "num_states", source), source + ".num_states");
  spec.num_actions = as_int(require(doc, "num_actions", source), source + ".num_actions");
  spec.gamma = as_double(require(doc, "gamma", source), source + ".gamma");

  const json& initial = as_array(require(doc, "initial", source), source + ".initial");
  for (size_t i = 0; i < initial.size(); ++i) {
    std::string where = source + ".initial[" + std::to_string(i) + "]";
    const json& e = initial[i];
    if (!e.is_array() || e.size() != 2) {
      throw ValidationError("json-type", where, "expected [state, probability]");
    }
    spec.initial.emplace_back(as_int(e[0], where), as_double(e[1], where));
  }
  if (doc.contains("terminal")) {
    const json& terminal = as_array(doc["terminal"], source + ".terminal");
    for (size_t i = 0; i < terminal.size(); ++i)
      spec.terminal.push_back(as_int(terminal[i], source + ".terminal[" + std::to_string(i) + "]"));
  }
  const json& transitions = as_array(require(doc, "transitions", source), source + ".transitions");
  for (size_t i = 0; i < transitions.size(); ++i) {
    std::string where = source + ".transitions[" + std::to_string(i) + "]";
    const json& t = transitions[i];
    TransitionSpec ts;
    ts.s = as_int(require(t, "s", where), where + ".s");
    ts.a = as_int(require(t, "a", where), where + ".a");
    const json& outcomes = as_array(require(t, "outcomes", where), where + ".outcomes");
    for (size_t k = 0; k < outcomes.size(); ++k) {
      std::string owhere = where + ".outcomes[" + std::to_string(k) + "]";
      const json& o = outcomes[k];
      Outcome out;
      out.next = as_int(require(o, "next", owhere), owhere + ".next");
      out.p = as_double(require(o, "p", owhere), owhere + ".p");
      out.r = o.contains("r") ? as_double(o["r"], owhere + ".r") : 0.0;
      ts.outcomes.push_back(out);
    }
    spec.transitions.push_back(std::move(ts));
  }
  check_listed_pairs(spec, source);
  return FiniteMdp::build(spec, source);
}

json mdp_to_json(const FiniteMdp& mdp) {
  MdpSpec spec = mdp.to_spec();
  json doc;
  doc["format"] = "bcq-mdp/1";
  doc["name"] = spec.name;
  doc["num_states"] = spec.num_states;
  doc["num_actions"] = spec.num_actions;
  doc["gamma"] = spec.gamma;
  doc["initial"] = json::array();
  for (auto [s, p] : spec.initial) doc["initial"].push_back(json::array({s, p}));
  doc["terminal"] = spec.terminal;
  doc["transitions"] = json::array();
  for (const TransitionSpec& t : spec.transitions) {
    json outcomes = json::array();
    for (const Outcome& o : t.outcomes) outcomes.push_back({{"next", o.next}, {"p", o.p}, {"r", o.r}});
    doc["transitions"].push_back({{"s", t.s}, {"a", t.a}, {"outcomes", std::move(outcomes)}});
  }
  return doc;
}

FiniteMdp load_mdp(const std::string& path) {
  return mdp_from_json(parse_json_text(read_text_file(path), path), path);
}

void save_mdp(const FiniteMdp& mdp, const std::string& path) {
  write_file_atomic(path, mdp_to_json(mdp).dump(1) + "\n");
}

Policy policy_from_json(const json& doc, int num_states, int num_actions, const std::string& source) {
  if (!doc.is_object()) throw ValidationError("json-type", source, "expected a JSON object");
  check_format(doc, "bcq-policy/1", source);
  const json& probs = as_array(require(doc, "probs", source), source + ".probs");
  Policy pi;
  pi.num_states = static_cast<int>(probs.size());
  pi.num_actions = probs.empty() ? 0 : static_cast<int>(probs[0].is_array() ? probs[0].size() : 0);
  for (size_t s = 0; s < probs.size(); ++s) {
    std::string where = source + ".probs[" + std::to_string(s) + "]";
    const json& row = as_array(probs[s], where);
    if (static_cast<int>(row.size()) != pi.num_actions) {
      throw ValidationError("policy-shape", where,
                            "row has " + std::to_string(row.size()) + " entries, row 0 has " +
                                std::to_string(pi.num_actions));
    }
    for (size_t a = 0; a < row.size(); ++a)
      pi.probs.push_back(as_double(row[a], where + "[" + std::to_string(a) + "]"));
  }
  pi.validate(num_states, num_actions, source);
  return pi;
}

json policy_to_json(const Policy& policy) {
  json probs = json::array();
  for (int s = 0; s < policy.num_states; ++s) {
    json row = json::array();
    for (int a = 0; a < policy.num_actions; ++a) row.push_back(policy(s, a));
    probs.push_back(std::move(row));
  }
  return {{"format", "bcq-policy/1"}, {"probs", std::move(probs)}};
}

Policy load_policy(const std::string& path, int num_states, int num_actions) {
  return policy_from_json(parse_json_text(read_text_file(path), path), num_states, num_actions, path);
}

void save_policy(const Policy& policy, const std::string& path) {
  write_file_atomic(path, policy_to_json(policy).dump(1) + "\n");
}

}  // namespace bcq
