#include "reports/verification.hpp"

#include <filesystem>
#include <map>
#include <set>
#include <sstream>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "reports/csv.hpp"
#include "reports/runs.hpp"

namespace bcq::reports {

namespace fs = std::filesystem;

namespace {

nlohmann::json parse_object(const std::string& text, const std::string& where) {
  auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) throw InputError(where + ": not a JSON object");
  return j;
}

template <typename T>
T field(const nlohmann::json& j, const char* key, const std::string& where) {
  if (!j.contains(key)) throw InputError(where + ": missing \"" + key + "\"");
  const auto& v = j[key];
  bool ok = false;
  if constexpr (std::is_same_v<T, std::string>) ok = v.is_string();
  else if constexpr (std::is_same_v<T, bool>) ok = v.is_boolean();
  else if constexpr (std::is_floating_point_v<T>) ok = v.is_number();
  else if constexpr (std::is_unsigned_v<T>) ok = v.is_number_unsigned();
  else ok = v.is_number_integer();
  if (!ok) throw InputError(where + ": \"" + key + "\" has the wrong type");
  return v.get<T>();
}

std::string optional_text(const nlohmann::json& j, const char* key) {
  return j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : std::string();
}

// A label's number: 3 significant digits ("0.5", "1", "0.667"); case.txt beside it has them all.
std::string short_number(double x) { return fmt::format("{:.3g}", x); }

// Where a counterexample saved as `saved` (a path relative to where bcq ran) is now: beside the
// verify file in counterexamples/<name>, else at the saved path itself.
std::string locate_counterexample(const std::string& verify_path, const std::string& saved) {
  const fs::path folder = fs::path(saved).parent_path();
  const fs::path beside = fs::path(verify_path).parent_path() / "counterexamples" / folder.filename();
  std::error_code ec;
  if (fs::is_directory(beside, ec)) return beside.string();
  return folder.string();
}

}  // namespace

std::string counterexample_dot(const std::string& folder) {
  const std::string mdp_path = folder + "/mdp.json";
  const auto m = parse_object(read_text_file(mdp_path), mdp_path);
  if (optional_text(m, "format") != "bcq-mdp/1") throw InputError(mdp_path + ": \"format\" is not \"bcq-mdp/1\"");
  const int states = field<int>(m, "num_states", mdp_path);
  const int actions = field<int>(m, "num_actions", mdp_path);
  if (states <= 0 || states > 64 || actions <= 0 || actions > 16) {
    throw InputError(mdp_path + ": " + std::to_string(states) + " states x " + std::to_string(actions) +
                     " actions is too large to draw (at most 64 x 16)");
  }
  auto state_index = [&](const nlohmann::json& v, const std::string& what) {
    if (!v.is_number_integer() || v.get<int>() < 0 || v.get<int>() >= states) {
      throw InputError(mdp_path + ": " + what + " is not a state");
    }
    return v.get<int>();
  };
  std::set<int> terminal;
  if (m.contains("terminal")) {
    if (!m["terminal"].is_array()) throw InputError(mdp_path + ": \"terminal\" is not an array");
    for (const auto& t : m["terminal"]) terminal.insert(state_index(t, "a terminal entry"));
  }
  std::vector<std::pair<int, double>> initial;
  if (!m.contains("initial") || !m["initial"].is_array()) throw InputError(mdp_path + ": missing \"initial\"");
  for (const auto& e : m["initial"]) {
    if (!e.is_array() || e.size() != 2 || !e[1].is_number()) throw InputError(mdp_path + ": \"initial\" entries are [state, p]");
    initial.push_back({state_index(e[0], "an initial entry"), e[1].get<double>()});
  }
  struct Outcome {
    int s, a, next;
    double p, r;
  };
  std::vector<Outcome> outcomes;
  if (!m.contains("transitions") || !m["transitions"].is_array()) throw InputError(mdp_path + ": missing \"transitions\"");
  for (const auto& t : m["transitions"]) {
    if (!t.is_object()) throw InputError(mdp_path + ": a transition is not an object");
    const int s = state_index(t.value("s", nlohmann::json()), "a transition's s");
    const int a = field<int>(t, "a", mdp_path);
    if (a < 0 || a >= actions) throw InputError(mdp_path + ": transition action " + std::to_string(a) + " out of range");
    if (!t.contains("outcomes") || !t["outcomes"].is_array()) throw InputError(mdp_path + ": a transition has no outcomes");
    for (const auto& o : t["outcomes"]) {
      if (!o.is_object()) throw InputError(mdp_path + ": an outcome is not an object");
      outcomes.push_back({s, a, state_index(o.value("next", nlohmann::json()), "an outcome's next"),
                          field<double>(o, "p", mdp_path), field<double>(o, "r", mdp_path)});
    }
  }

  const std::string batch_path = folder + "/batch.csv";
  const auto rows = parse_csv(read_text_file(batch_path), batch_path, "s,a,r,s_next,done");
  std::map<std::tuple<int, int, int>, int> in_batch;  // N(s,a,s')
  std::set<std::pair<int, int>> seen;
  for (const auto& row : rows) {
    const double s = csv_number(row, "s", batch_path), a = csv_number(row, "a", batch_path);
    const double next = csv_number(row, "s_next", batch_path);
    if (!(s >= 0 && s < states && a >= 0 && a < actions && next >= 0 && next < states)) {
      throw InputError(batch_path + ":" + std::to_string(row.line) + ": a state or action out of range");
    }
    ++in_batch[{static_cast<int>(s), static_cast<int>(a), static_cast<int>(next)}];
    seen.insert({static_cast<int>(s), static_cast<int>(a)});
  }

  std::ostringstream dot;
  dot << "digraph counterexample {\n  rankdir=LR;\n  bgcolor=\"white\";\n"
      << "  node [shape=circle, fontname=\"sans\", fontsize=12];\n  edge [fontname=\"sans\", fontsize=10];\n";
  for (int s = 0; s < states; ++s) {
    dot << "  s" << s << " [label=\"s" << s << "\"";
    if (terminal.count(s)) dot << ", shape=doublecircle, style=filled, fillcolor=\"#eeeeee\"";
    dot << "];\n";
  }
  for (size_t i = 0; i < initial.size(); ++i) {
    dot << "  start" << i << " [shape=point, width=0.08];\n  start" << i << " -> s" << initial[i].first;
    if (initial[i].second < 1) dot << " [label=\"d0=" << short_number(initial[i].second) << "\"]";
    dot << ";\n";
  }
  for (const auto& o : outcomes) {
    const auto n = in_batch.find({o.s, o.a, o.next});
    dot << "  s" << o.s << " -> s" << o.next << " [label=\"a" << o.a << " p=" << short_number(o.p)
        << " r=" << short_number(o.r);
    if (n != in_batch.end()) dot << " (B: " << n->second << "x)\", color=\"#d62728\", fontcolor=\"#d62728\", penwidth=2.2";
    else dot << "\", color=\"#888888\"";
    dot << "];\n";
  }
  // (s,a) outside the batch lead to s_init in M_B (docs/theory.md, "Batch MDP").
  std::vector<std::pair<int, int>> unseen;
  std::set<std::pair<int, int>> defined;
  for (const auto& o : outcomes) defined.insert({o.s, o.a});
  for (const auto& pair : defined)
    if (!seen.count(pair) && !terminal.count(pair.first)) unseen.push_back(pair);
  if (!unseen.empty()) {
    dot << "  s_init [label=\"s_init\", shape=doublecircle, style=dashed];\n";
    for (const auto& [s, a] : unseen) {
      dot << "  s" << s << " -> s_init [label=\"a" << a << " not in B\", style=dashed, color=\"#1f77b4\", "
          << "fontcolor=\"#1f77b4\"];\n";
    }
  }
  dot << "}\n";
  return dot.str();
}

VerifyResult load_verify(const std::string& path, const std::string& name, std::vector<CounterexampleProblem>& problems) {
  const auto j = parse_object(read_text_file(path), path);
  if (optional_text(j, "format") != "bcq-verify/1") throw InputError(path + ": \"format\" is not \"bcq-verify/1\"");
  VerifyResult v;
  v.name = name;
  v.cases = field<int64_t>(j, "cases", path);
  v.seed = field<uint64_t>(j, "seed", path);
  v.ok = field<bool>(j, "ok", path);
  if (!j.contains("statements") || !j["statements"].is_array()) throw InputError(path + ": missing \"statements\"");
  for (size_t i = 0; i < j["statements"].size(); ++i) {
    const auto& s = j["statements"][i];
    const std::string where = path + ": statements[" + std::to_string(i) + "]";
    if (!s.is_object()) throw InputError(where + " is not an object");
    StatementResult r;
    r.name = field<std::string>(s, "name", where);
    r.title = optional_text(s, "title");
    r.verdict = field<std::string>(s, "verdict", where);
    r.probe = field<bool>(s, "probe", where);
    r.ok = field<bool>(s, "ok", where);
    r.cases_run = field<int64_t>(s, "cases_run", where);
    r.passed = field<int64_t>(s, "passed", where);
    r.discarded = field<int64_t>(s, "discarded", where);
    r.seed = field<uint64_t>(s, "seed", where);
    r.seconds = field<double>(s, "seconds", where);
    if (s.contains("classification") && s["classification"].is_object()) {
      for (const auto& [tag, n] : s["classification"].items()) {
        if (!n.is_number_integer()) throw InputError(where + ": classification \"" + tag + "\" is not a count");
        r.classification.push_back({tag, n.get<int64_t>()});
      }
    }
    r.dropped_condition = optional_text(s, "dropped_condition");
    r.explanation = optional_text(s, "explanation");
    r.failure = optional_text(s, "failure");
    r.counterexample = optional_text(s, "counterexample");
    if (s.contains("saved_files") && s["saved_files"].is_array() && !s["saved_files"].empty() &&
        s["saved_files"][0].is_string()) {
      const std::string folder = locate_counterexample(path, s["saved_files"][0].get<std::string>());
      try {
        Counterexample c;
        c.folder = folder;
        c.dot = counterexample_dot(folder);
        std::istringstream txt(read_text_file(folder + "/case.txt"));
        std::string line;
        bool replay = false;
        std::getline(txt, c.headline);
        while (std::getline(txt, line)) {
          if (line == "Replay:") {
            replay = true;
          } else if (replay) {
            if (line.find_first_not_of(' ') != std::string::npos) c.replay.push_back(line.substr(line.find_first_not_of(' ')));
          } else if (!(c.description.empty() && line.empty())) {
            c.description += line + "\n";
          }
        }
        while (!c.description.empty() && c.description.back() == '\n' && c.description.size() > 1 &&
               c.description[c.description.size() - 2] == '\n')
          c.description.pop_back();
        r.drawn = std::move(c);
        r.has_counterexample = true;
      } catch (const InputError& e) {
        problems.push_back({folder, e.what()});
      }
    }
    v.statements.push_back(std::move(r));
  }
  return v;
}

}  // namespace bcq::reports
