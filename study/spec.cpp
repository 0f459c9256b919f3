#include "study/spec.hpp"

#include <algorithm>
#include <map>
#include <set>

#include "common/error.hpp"

namespace bcq::study {

namespace {

const std::vector<std::string> kEnvs = {"hopper", "walker2d", "halfcheetah", "inverted-pendulum"};
const std::vector<std::string> kKinds = {"final", "concurrent", "imitation", "imperfect"};
const std::vector<std::string> kAlgos = {"bcq", "ddpg", "bc", "vae-bc"};

bool contains(const std::vector<std::string>& list, const std::string& x) {
  return std::find(list.begin(), list.end(), x) != list.end();
}

std::string join(const std::vector<std::string>& list) {
  std::string out;
  for (const auto& x : list) out += (out.empty() ? "" : ", ") + x;
  return out;
}

// splitmix64 finaliser over an FNV-1a hash of the text: stable on every platform.
uint64_t stable_hash(const std::string& text) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ull;
  }
  h += 0x9e3779b97f4a7c15ull;
  h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ull;
  h = (h ^ (h >> 27)) * 0x94d049bb133111ebull;
  return h ^ (h >> 31);
}

}  // namespace

std::string to_string(CellType type) { return type == CellType::collect ? "collect" : "train"; }

std::vector<std::string> profile_names() { return {"smoke", "quick", "paper"}; }

StudySpec profile_spec(const std::string& profile) {
  StudySpec s;
  if (profile == "paper") {
    s.name = "paper";
    return s;  // the defaults are the paper's
  }
  if (profile == "smoke") {
    // Every code path of the runner (collections, expert reuse, all four algorithms) in well
    // under three minutes on two cores; for tests, not for conclusions.
    s.name = "smoke";
    s.envs = {"inverted-pendulum"};
    s.kinds = {"final", "imitation"};
    s.seeds = {0};
    s.collection_steps = 2000;
    s.imperfect_steps = 1000;
    s.expert_steps = 2000;
    s.start_steps = 500;
    s.iterations = 400;
    s.eval_every = 200;
    s.eval_episodes = 2;
    s.precision = "fp32";
    s.checkpoint_every = 1000;
    return s;
  }
  if (profile == "quick") {
    // Hopper, every batch kind and algorithm, 3 seeds, scaled to about 100 minutes with
    // --workers 2 on the 2-vCPU development VM (docs/study.md gives the arithmetic).
    s.name = "quick";
    s.envs = {"hopper"};
    s.seeds = {0, 1, 2};
    s.collection_steps = 100000;
    s.imperfect_steps = 100000;
    s.expert_steps = 100000;
    s.start_steps = 10000;
    s.iterations = 20000;
    s.eval_every = 2000;
    s.eval_episodes = 5;
    s.precision = "bf16";
    s.checkpoint_every = 20000;
    return s;
  }
  throw InputError("unknown study profile '" + profile + "' (smoke, quick or paper)");
}

StudySpec parse_spec(const nlohmann::json& j, const std::string& where) {
  if (!j.is_object()) throw InputError(where + ": a study spec must be a JSON object");
  static const std::set<std::string> known = {
      "format", "name", "envs", "kinds", "algos", "seeds", "collection_steps", "imperfect_steps",
      "expert_steps", "start_steps", "iterations", "eval_every", "eval_episodes", "precision",
      "threads", "checkpoint_every"};
  for (const auto& [key, value] : j.items()) {
    if (!known.count(key)) throw InputError(where + ": unknown field '" + key + "'");
  }
  if (!j.contains("format") || j["format"] != "bcq-study/1") {
    throw InputError(where + ": field 'format' must be \"bcq-study/1\"");
  }
  StudySpec s;
  auto names = [&](const char* key, std::vector<std::string>& out,
                   const std::vector<std::string>& allowed) {
    if (!j.contains(key)) return;
    const auto& v = j[key];
    if (!v.is_array() || v.empty()) {
      throw InputError(where + ": field '" + key + "' must be a non-empty array of names");
    }
    out.clear();
    for (const auto& x : v) {
      if (!x.is_string() || !contains(allowed, x.get<std::string>())) {
        throw InputError(where + ": field '" + key + "' holds " + x.dump() + "; allowed: " + join(allowed));
      }
      if (contains(out, x.get<std::string>())) {
        throw InputError(where + ": field '" + key + "' lists " + x.dump() + " twice");
      }
      out.push_back(x.get<std::string>());
    }
  };
  names("envs", s.envs, kEnvs);
  names("kinds", s.kinds, kKinds);
  names("algos", s.algos, kAlgos);
  auto integer = [&](const char* key, auto& out, int64_t lo, int64_t hi) {
    if (!j.contains(key)) return;
    const auto& v = j[key];
    if (!v.is_number_integer() || v.get<int64_t>() < lo || v.get<int64_t>() > hi) {
      throw InputError(where + ": field '" + key + "' must be a whole number in [" +
                       std::to_string(lo) + ", " + std::to_string(hi) + "], not " + v.dump());
    }
    out = static_cast<std::remove_reference_t<decltype(out)>>(v.get<int64_t>());
  };
  if (j.contains("seeds")) {
    const auto& v = j["seeds"];
    if (!v.is_array() || v.empty()) throw InputError(where + ": field 'seeds' must be a non-empty array");
    s.seeds.clear();
    for (const auto& x : v) {
      if (!x.is_number_integer() || x.get<int64_t>() < 0 || x.get<int64_t>() > 1000000) {
        throw InputError(where + ": field 'seeds' holds " + x.dump() + "; seeds are whole numbers in [0, 1000000]");
      }
      if (std::count(s.seeds.begin(), s.seeds.end(), x.get<int64_t>())) {
        throw InputError(where + ": field 'seeds' lists " + x.dump() + " twice");
      }
      s.seeds.push_back(x.get<int64_t>());
    }
  }
  constexpr int64_t kMaxSteps = 100000000;  // 1e8: far beyond the paper's 1M
  integer("collection_steps", s.collection_steps, 1, kMaxSteps);
  integer("imperfect_steps", s.imperfect_steps, 1, kMaxSteps);
  integer("expert_steps", s.expert_steps, 1, kMaxSteps);
  integer("start_steps", s.start_steps, 0, kMaxSteps);
  integer("iterations", s.iterations, 1, kMaxSteps);
  integer("eval_every", s.eval_every, 1, kMaxSteps);
  integer("eval_episodes", s.eval_episodes, 1, 10000);
  integer("threads", s.threads, 1, 256);
  integer("checkpoint_every", s.checkpoint_every, 1, kMaxSteps);
  if (j.contains("name")) {
    if (!j["name"].is_string() || j["name"].get<std::string>().empty()) {
      throw InputError(where + ": field 'name' must be a non-empty string");
    }
    s.name = j["name"].get<std::string>();
  }
  if (j.contains("precision")) {
    if (j["precision"] != "fp32" && j["precision"] != "bf16") {
      throw InputError(where + ": field 'precision' must be \"fp32\" or \"bf16\", not " + j["precision"].dump());
    }
    s.precision = j["precision"].get<std::string>();
  }
  return s;
}

nlohmann::json to_json(const StudySpec& s) {
  return {{"format", "bcq-study/1"},
          {"name", s.name},
          {"envs", s.envs},
          {"kinds", s.kinds},
          {"algos", s.algos},
          {"seeds", s.seeds},
          {"collection_steps", s.collection_steps},
          {"imperfect_steps", s.imperfect_steps},
          {"expert_steps", s.expert_steps},
          {"start_steps", s.start_steps},
          {"iterations", s.iterations},
          {"eval_every", s.eval_every},
          {"eval_episodes", s.eval_episodes},
          {"precision", s.precision},
          {"threads", s.threads},
          {"checkpoint_every", s.checkpoint_every}};
}

std::string Cell::name() const {
  return std::to_string(id) + "-" + env + "-" + kind + "-" + algo + "-s" + std::to_string(seed_index);
}

std::string Cell::key() const {
  return env + "/" + kind + "/" + algo + "/s" + std::to_string(seed_index);
}

uint64_t cell_seed(CellType type, const std::string& env, const std::string& kind, int64_t seed_index) {
  // 31 bits: the training code adds small offsets (evaluation: +100) and some files store
  // seeds as signed 64-bit integers.
  return stable_hash("bcq-study/" + to_string(type) + "/" + env + "/" + kind + "/" +
                     std::to_string(seed_index)) & 0x7fffffffull;
}

std::vector<Cell> plan_cells(const StudySpec& spec) {
  std::vector<Cell> cells;
  auto has_kind = [&](const std::string& k) { return contains(spec.kinds, k); };
  for (int64_t seed : spec.seeds) {
    for (const auto& env : spec.envs) {
      std::map<std::string, int> collection;  // kind -> cell id
      auto add_collection = [&](const std::string& kind, std::vector<int> depends) {
        Cell c;
        c.id = static_cast<int>(cells.size());
        c.type = CellType::collect;
        c.env = env;
        c.kind = kind;
        c.algo = "collect";
        c.seed_index = seed;
        c.seed = cell_seed(CellType::collect, env, kind, seed);
        c.depends = std::move(depends);
        collection[kind] = c.id;
        cells.push_back(c);
      };
      if (has_kind("final")) add_collection("final", {});
      // imperfect acts with the imitation expert: it needs the imitation collection (which
      // trains and saves that expert) even when imitation training runs are not requested.
      if (has_kind("imitation") || has_kind("imperfect")) add_collection("imitation", {});
      if (has_kind("imperfect")) add_collection("imperfect", {collection["imitation"]});
      for (const auto& kind : kKinds) {
        if (!has_kind(kind)) continue;
        for (const auto& algo : spec.algos) {
          Cell c;
          c.id = static_cast<int>(cells.size());
          c.type = CellType::train;
          c.env = env;
          c.kind = kind;
          c.algo = algo;
          c.seed_index = seed;
          c.seed = cell_seed(CellType::train, env, kind, seed);
          if (kind != "concurrent") c.depends = {collection.at(kind)};
          cells.push_back(c);
        }
      }
    }
  }
  return cells;
}

std::vector<Cell> extend_cells(const StudySpec& prev_spec, const std::vector<Cell>& previous,
                               const StudySpec& spec) {
  const nlohmann::json a = to_json(prev_spec), b = to_json(spec);
  for (const auto& [key, value] : a.items()) {
    if (key == "name") continue;
    if (value.is_array()) {
      for (const auto& x : value) {
        if (std::find(b[key].begin(), b[key].end(), x) == b[key].end()) {
          throw InputError("the new spec drops " + x.dump() + " from '" + key +
                           "' of the study already in this folder");
        }
      }
    } else if (value != b[key]) {
      throw InputError("the new spec changes '" + key + "' from " + value.dump() + " to " +
                       b[key].dump() + "; a study folder only takes specs that add cells");
    }
  }
  std::map<std::string, int> old_ids;
  int next = 0;
  for (const auto& c : previous) {
    old_ids[c.key()] = c.id;
    next = std::max(next, c.id + 1);
  }
  std::vector<Cell> cells = plan_cells(spec);
  std::map<int, int> renumber;  // planned id -> id in this folder
  for (auto& c : cells) {
    auto it = old_ids.find(c.key());
    renumber[c.id] = it != old_ids.end() ? it->second : next++;
  }
  for (auto& c : cells) {
    c.id = renumber.at(c.id);
    for (int& d : c.depends) d = renumber.at(d);
  }
  std::sort(cells.begin(), cells.end(), [](const Cell& x, const Cell& y) { return x.id < y.id; });
  return cells;
}

double estimate_seconds(const StudySpec& spec, const Cell& cell) {
  // Milliseconds per step on one thread, two cells at a time as `--workers 2` runs them,
  // measured on the development VM (Hopper; docs/study.md, "Profiles"; the other environments
  // are scaled by their simulation cost, which is small beside the networks).
  const double ddpg_learn = 4.5;    // one DDPG update + one env step (the behavioural agent)
  const double act = 0.15;          // one actor forward + one env step (random steps the same)
  const double eval_step = cell.algo == "bcq" || cell.algo == "vae-bc" ? 1.0 : 0.35;
  const std::map<std::string, double> train_ms = {
      {"bcq", spec.precision == "bf16" ? 20.0 : 40.0}, {"ddpg", 4.1}, {"bc", 1.15}, {"vae-bc", 11.3}};
  const double env_scale = cell.env == "inverted-pendulum" ? 0.6 : 1.0;
  // The behavioural DDPG learns after its uniformly random start steps.
  auto behavioural_ms = [&](int64_t steps) {
    const int64_t random = std::min(steps, spec.start_steps);
    return static_cast<double>(random) * act + static_cast<double>(steps - random) * ddpg_learn;
  };
  double ms = 0;
  if (cell.type == CellType::collect) {
    if (cell.kind == "final") ms = behavioural_ms(spec.collection_steps);
    else if (cell.kind == "imitation") ms = behavioural_ms(spec.expert_steps) + spec.collection_steps * act;
    else ms = spec.imperfect_steps * act;
  } else {
    ms = spec.iterations * train_ms.at(cell.algo);
    if (cell.kind == "concurrent") ms += behavioural_ms(spec.iterations);
    // Evaluations: episodes of up to 1000 steps (Hopper's average is lower early on).
    const double evals = static_cast<double>(spec.iterations) / spec.eval_every;
    ms += evals * spec.eval_episodes * 500 * eval_step;
  }
  return ms * env_scale / 1000.0;
}

}  // namespace bcq::study
