#include "study/tabular/tabular_study.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "bcql/baseline_policy.hpp"
#include "bcql/dense_evaluation.hpp"
#include "bcql/extrapolation_error.hpp"
#include "bcql/prepared_batch.hpp"
#include "bcql/safe_policy_improvement.hpp"
#include "bcql/synchronous.hpp"
#include "common/atomic_file.hpp"
#include "common/build_info.hpp"
#include "common/error.hpp"
#include "common/mpi.hpp"
#include "common/random.hpp"
#include "mdp/analysis.hpp"
#include "mdp/generators.hpp"
#include "mdp/io.hpp"
#include "mdp/solve.hpp"

namespace bcq::tabular_study {

const std::vector<std::string>& all_algorithms() {
  static const std::vector<std::string> names = {"behaviour", "basic-rl", "q-learning", "bcql",
                                                 "spibb",     "spibb-leq", "ramdp",     "vi-lcb"};
  return names;
}

// ---------------------------------------------------------------- spec

StudySpec profile_spec(const std::string& name) {
  StudySpec spec;  // the defaults are the quick profile
  if (name == "quick") return spec;
  if (name == "paper") {
    spec.profile = "paper";
    spec.behaviours = {"ratio-0.1", "ratio-0.2", "ratio-0.3", "ratio-0.4", "ratio-0.5",
                       "ratio-0.6", "ratio-0.7", "ratio-0.8", "ratio-0.9", "expert"};
    spec.datasets = 1000;
    return spec;
  }
  throw InputError("unknown tabular study profile '" + name + "' (expected quick or paper)");
}

namespace {

// "ratio-X" -> X; anything else that is not "expert" throws.
double behaviour_ratio(const std::string& name, const std::string& where) {
  const std::string prefix = "ratio-";
  if (name.rfind(prefix, 0) != 0)
    throw InputError(where + ": behaviour '" + name + "' is neither ratio-X nor expert");
  const std::string number = name.substr(prefix.size());
  char* end = nullptr;
  const double x = std::strtod(number.c_str(), &end);
  if (number.empty() || *end != '\0' || !std::isfinite(x) || !(x > -1.0 && x < 1.0))
    throw InputError(where + ": behaviour '" + name + "' needs a ratio X in (-1, 1)");
  return x;
}

template <typename T>
T get_field(const nlohmann::json& j, const std::string& key, const std::string& source) {
  try {
    return j.at(key).get<T>();
  } catch (const nlohmann::json::exception&) {
    throw InputError(source + ": field '" + key + "' has the wrong type");
  }
}

}  // namespace

void validate_spec(const StudySpec& s, const std::string& source) {
  auto fail = [&](const std::string& field, const std::string& what) {
    throw InputError(source + ": field '" + field + "' " + what);
  };
  if (s.mdps.empty()) fail("mdps", "is empty");
  for (const std::string& m : s.mdps)
    if (m != "garnet" && m != "grid") fail("mdps", "has '" + m + "' (expected garnet or grid)");
  if (s.deterministic.empty()) fail("deterministic", "is empty");
  if (s.behaviours.empty()) fail("behaviours", "is empty");
  for (const std::string& b : s.behaviours)
    if (b != "expert") behaviour_ratio(b, source + ": field 'behaviours'");
  if (s.dataset_sizes.empty()) fail("dataset_sizes", "is empty");
  for (int n : s.dataset_sizes)
    if (n < 1) fail("dataset_sizes", "needs whole numbers >= 1");
  if (s.datasets < 1) fail("datasets", "must be >= 1");
  if (s.algorithms.empty()) fail("algorithms", "is empty");
  std::set<std::string> seen;
  for (const std::string& a : s.algorithms) {
    if (std::find(all_algorithms().begin(), all_algorithms().end(), a) == all_algorithms().end())
      fail("algorithms", "has unknown algorithm '" + a + "'");
    if (!seen.insert(a).second) fail("algorithms", "lists '" + a + "' twice");
  }
  auto unique = [&](auto values, const std::string& field) {
    std::sort(values.begin(), values.end());
    if (std::adjacent_find(values.begin(), values.end()) != values.end())
      fail(field, "lists a value twice");
  };
  unique(s.mdps, "mdps");
  unique(s.deterministic, "deterministic");
  unique(s.behaviours, "behaviours");
  unique(s.dataset_sizes, "dataset_sizes");
  if (s.garnet_states < 2) fail("garnet_states", "must be >= 2");
  if (s.garnet_actions < 2) fail("garnet_actions", "must be >= 2");
  if (s.garnet_branching < 1 || s.garnet_branching > s.garnet_states)
    fail("garnet_branching", "must be in [1, garnet_states]");
  if (s.grid_width < 1 || s.grid_height < 1 || s.grid_width * s.grid_height < 2)
    fail("grid_width", "and grid_height must give at least 2 cells");
  if (!(s.grid_slip > 0.0 && s.grid_slip < 1.0)) fail("grid_slip", "must be in (0, 1)");
  if (!(s.gamma > 0.0 && s.gamma < 1.0)) fail("gamma", "must be in (0, 1)");
  if (s.horizon < 1) fail("horizon", "must be >= 1");
  if (s.n_wedge < 0) fail("n_wedge", "must be >= 0");
  if (!(s.kappa >= 0.0) || !std::isfinite(s.kappa)) fail("kappa", "must be finite and >= 0");
  if (!(s.vi_lcb_c >= 0.0) || !std::isfinite(s.vi_lcb_c)) fail("vi_lcb_c", "must be finite and >= 0");
  if (!(s.expert_best_mass >= 0.5 && s.expert_best_mass < 1.0))
    fail("expert_best_mass", "must be in [0.5, 1)");
  if (!std::isfinite(s.q_init)) fail("q_init", "must be finite");
}

StudySpec spec_from_json(const nlohmann::json& j, const std::string& source) {
  if (!j.is_object()) throw InputError(source + ": a tabular study spec must be a JSON object");
  static const std::set<std::string> known = {
      "format", "mdps", "deterministic", "behaviours", "dataset_sizes", "datasets", "algorithms",
      "garnet_states", "garnet_actions", "garnet_branching", "grid_width", "grid_height",
      "grid_slip", "gamma", "horizon", "n_wedge", "kappa", "vi_lcb_c", "expert_best_mass", "seed",
      "q_init",
      "profile"};
  for (auto it = j.begin(); it != j.end(); ++it)
    if (!known.count(it.key())) throw InputError(source + ": unknown field '" + it.key() + "'");
  if (j.contains("format") && j["format"] != "bcq-tabular-study/1")
    throw InputError(source + ": field 'format' must be \"bcq-tabular-study/1\"");
  StudySpec s;
  s.profile = "spec";
  auto take = [&](const char* key, auto& field) {
    if (j.contains(key)) field = get_field<std::decay_t<decltype(field)>>(j, key, source);
  };
  take("mdps", s.mdps);
  take("deterministic", s.deterministic);
  take("behaviours", s.behaviours);
  take("dataset_sizes", s.dataset_sizes);
  take("datasets", s.datasets);
  take("algorithms", s.algorithms);
  take("garnet_states", s.garnet_states);
  take("garnet_actions", s.garnet_actions);
  take("garnet_branching", s.garnet_branching);
  take("grid_width", s.grid_width);
  take("grid_height", s.grid_height);
  take("grid_slip", s.grid_slip);
  take("gamma", s.gamma);
  take("horizon", s.horizon);
  take("n_wedge", s.n_wedge);
  take("kappa", s.kappa);
  take("vi_lcb_c", s.vi_lcb_c);
  take("expert_best_mass", s.expert_best_mass);
  take("seed", s.seed);
  take("q_init", s.q_init);
  take("profile", s.profile);
  validate_spec(s, source);
  return s;
}

nlohmann::ordered_json spec_to_json(const StudySpec& s) {
  nlohmann::ordered_json j;
  j["format"] = "bcq-tabular-study/1";
  j["profile"] = s.profile;
  j["mdps"] = s.mdps;
  j["deterministic"] = s.deterministic;
  j["behaviours"] = s.behaviours;
  j["dataset_sizes"] = s.dataset_sizes;
  j["datasets"] = s.datasets;
  j["algorithms"] = s.algorithms;
  j["garnet_states"] = s.garnet_states;
  j["garnet_actions"] = s.garnet_actions;
  j["garnet_branching"] = s.garnet_branching;
  j["grid_width"] = s.grid_width;
  j["grid_height"] = s.grid_height;
  j["grid_slip"] = s.grid_slip;
  j["gamma"] = s.gamma;
  j["horizon"] = s.horizon;
  j["n_wedge"] = s.n_wedge;
  j["kappa"] = s.kappa;
  j["vi_lcb_c"] = s.vi_lcb_c;
  j["expert_best_mass"] = s.expert_best_mass;
  j["seed"] = s.seed;
  j["q_init"] = s.q_init;
  return j;
}

// ---------------------------------------------------------------- cells and runs

std::string Cell::id() const {
  return fmt::format("{}-{}-{}-n{}", mdp, deterministic ? "deterministic" : "stochastic",
                     behaviour, dataset_size);
}

std::vector<Cell> cells_of(const StudySpec& spec) {
  std::vector<Cell> cells;
  for (const std::string& m : spec.mdps)
    for (bool det : spec.deterministic)
      for (const std::string& b : spec.behaviours)
        for (int n : spec.dataset_sizes) cells.push_back({m, det, b, n});
  return cells;
}

namespace {

// A seed from the spec's root seed and the names that place a run in the grid (FNV-1a over
// the key, then splitmix64), so that it does not depend on who runs it or when.
uint64_t seed_of(const StudySpec& spec, const std::string& key) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : key) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  uint64_t state = h ^ (spec.seed * 0x9e3779b97f4a7c15ULL);
  return splitmix64(state);
}

std::string instance_key(const std::string& mdp, bool det, int dataset) {
  return fmt::format("{}/{}/{}", mdp, det ? "deterministic" : "stochastic", dataset);
}

// The true MDP and behaviour policy of one run, shared by every dataset size of that run.
struct Instance {
  std::shared_ptr<const FiniteMdp> mdp;
  std::shared_ptr<const bcql::BaselinePolicy> behaviour;
};

}  // namespace

// Instances are built once per process (a garnet's goal search and SPIBB's baseline
// construction cost more than a run) and shared by the cells of every dataset size.
class InstanceCache {
 public:
  Instance get(const StudySpec& spec, const Cell& cell, int dataset) {
    const std::string mdp_key = instance_key(cell.mdp, cell.deterministic, dataset);
    const std::string key = mdp_key + "/" + cell.behaviour;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      auto it = instances_.find(key);
      if (it != instances_.end()) return it->second;
    }
    std::shared_ptr<const FiniteMdp> mdp;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      auto it = mdps_.find(mdp_key);
      if (it != mdps_.end()) mdp = it->second;
    }
    if (!mdp) {
      mdp = std::make_shared<const FiniteMdp>(
          study_mdp(spec, cell.mdp, cell.deterministic, dataset));
      std::lock_guard<std::mutex> lock(mutex_);
      mdps_.emplace(mdp_key, mdp);
    }
    bcql::BaselinePolicy baseline;
    if (cell.behaviour == "expert") {
      baseline = bcql::expert_baseline(*mdp, spec.expert_best_mass);
    } else {
      bcql::BaselineOptions options;
      options.target_ratio = behaviour_ratio(cell.behaviour, "behaviour");
      options.seed = seed_of(spec, "behaviour/" + key);
      baseline = bcql::spibb_baseline(*mdp, options);
    }
    Instance instance{mdp, std::make_shared<const bcql::BaselinePolicy>(std::move(baseline))};
    std::lock_guard<std::mutex> lock(mutex_);
    instances_.emplace(key, instance);
    return instance;
  }

 private:
  std::mutex mutex_;
  std::map<std::string, std::shared_ptr<const FiniteMdp>> mdps_;
  std::map<std::string, Instance> instances_;
};

std::shared_ptr<InstanceCache> make_instance_cache() { return std::make_shared<InstanceCache>(); }

namespace {

// `trajectories` episodes from d_0 following pi, each ended by a terminal state or after
// `horizon` steps (SPIBB's generate_batch).
Batch collect_episodes(const FiniteMdp& mdp, const Policy& pi, int trajectories, int horizon,
                       uint64_t seed) {
  Rng rng(seed);
  Batch batch;
  const int A = mdp.num_actions();
  std::vector<double> p;
  for (int k = 0; k < trajectories; ++k) {
    int s = rng.categorical(mdp.initial(), mdp.num_states());
    for (int t = 0; t < horizon && !mdp.is_terminal(s); ++t) {
      const int a = rng.categorical(&pi.probs[static_cast<size_t>(s) * static_cast<size_t>(A)], A);
      const OutcomeSpan out = mdp.outcomes(s, a);
      p.clear();
      for (const Outcome& o : out) p.push_back(o.p);
      const Outcome& o = out.begin()[rng.categorical(p, static_cast<int>(p.size()))];
      batch.transitions.push_back({s, a, o.r, o.next, mdp.is_terminal(o.next)});
      s = o.next;
    }
  }
  return batch;
}

uint64_t dataset_seed(const StudySpec& spec, const Cell& cell, int dataset) {
  return seed_of(spec, "dataset/" + cell.id() + "/" + std::to_string(dataset));
}

std::vector<RunRow> run_with(const StudySpec& spec, const Cell& cell, int dataset,
                             const Instance& instance) {
  const FiniteMdp& mdp = *instance.mdp;
  const bcql::BaselinePolicy& baseline = *instance.behaviour;
  const Policy& pi_b = baseline.policy;
  const Batch batch = collect_episodes(mdp, pi_b, cell.dataset_size, spec.horizon,
                                       dataset_seed(spec, cell, dataset));
  const bcql::MaximumLikelihoodModel model =
      bcql::maximum_likelihood_model(mdp, batch, 0.0, "study batch " + cell.id());
  // Q-learning and BCQL start from spec.q_init; their M_B (Eq. 3) uses the same Q_init.
  std::unique_ptr<bcql::MaximumLikelihoodModel> model_q_init;
  std::unique_ptr<bcql::PreparedBatch> prepared;
  auto synchronous_policy = [&](bcql::Algorithm algorithm) {
    if (!prepared) {
      prepared = std::make_unique<bcql::PreparedBatch>(bcql::prepare_batch(mdp, batch));
      model_q_init = std::make_unique<bcql::MaximumLikelihoodModel>(
          bcql::maximum_likelihood_model(mdp, batch, spec.q_init, "study batch " + cell.id()));
    }
    bcql::SynchronousOptions options;
    options.algorithm = algorithm;
    options.q_init = spec.q_init;
    options.tolerance = 1e-10;
    const bcql::SynchronousResult r = bcql::run_synchronous(*prepared, options);
    return Policy::deterministic(bcql::learned_policy(*prepared, algorithm, r.Q),
                                 mdp.num_actions());
  };
  const double gap = baseline.rho_star - baseline.rho;
  std::vector<RunRow> rows;
  for (const std::string& algo : spec.algorithms) {
    Policy pi;
    if (algo == "behaviour") pi = pi_b;
    else if (algo == "basic-rl") pi = bcql::basic_rl(model).policy;
    else if (algo == "q-learning") pi = synchronous_policy(bcql::Algorithm::kQLearning);
    else if (algo == "bcql") pi = synchronous_policy(bcql::Algorithm::kBcql);
    else if (algo == "spibb") pi = bcql::pi_b_spibb(model, pi_b, spec.n_wedge).policy;
    else if (algo == "spibb-leq") pi = bcql::pi_leq_b_spibb(model, pi_b, spec.n_wedge).policy;
    else if (algo == "ramdp") pi = bcql::ramdp(model, spec.kappa).policy;
    else if (algo == "vi-lcb") {
      bcql::VilcbOptions options;
      options.c = spec.vi_lcb_c;
      pi = bcql::vi_lcb(model, options).policy;
    } else {
      throw InputError("unknown algorithm '" + algo + "'");
    }
    // Exact quantities in the true MDP: rho(pi), and Eq. 3 / Eq. 5 against M_B.
    const bcql::DensePolicyValue in_m = bcql::evaluate_policy_dense(mdp, pi);
    RunRow row;
    row.mdp = cell.mdp;
    row.deterministic = cell.deterministic;
    row.behaviour = cell.behaviour;
    row.dataset_size = cell.dataset_size;
    row.dataset = dataset;
    row.algo = algo;
    for (int s = 0; s < mdp.num_states(); ++s)
      row.ret += mdp.initial()[static_cast<size_t>(s)] * in_m.V[static_cast<size_t>(s)];
    // A gap of 0 (pi_b already optimal) leaves nothing to normalise by: report 0.
    row.normalised = gap > 1e-12 ? (row.ret - baseline.rho) / gap : 0.0;
    QTable eps = in_m.Q;
    const bool own_q_init = algo == "q-learning" || algo == "bcql";
    const QTable in_b = bcql::q_in_batch_mdp(own_q_init ? *model_q_init : model, pi);
    for (size_t i = 0; i < eps.values.size(); ++i) eps.values[i] -= in_b.values[i];
    row.extrapolation_error =
        bcql::eps_pi_mdp(eps, pi, bcql::discounted_visitation_dense(mdp, pi));
    row.batch_constrained = unconstrained_pairs(mdp, model.counts, pi).empty();
    row.behaviour_return = baseline.rho;
    row.optimal_return = baseline.rho_star;
    rows.push_back(std::move(row));
  }
  return rows;
}

std::vector<RunRow> run_cell_with(const StudySpec& spec, const Cell& cell, InstanceCache& cache) {
  std::vector<RunRow> rows;
  for (int k = 0; k < spec.datasets; ++k) {
    std::vector<RunRow> run = run_with(spec, cell, k, cache.get(spec, cell, k));
    rows.insert(rows.end(), run.begin(), run.end());
  }
  return rows;
}

}  // namespace

FiniteMdp study_mdp(const StudySpec& spec, const std::string& mdp, bool deterministic,
                    int dataset) {
  if (mdp == "garnet") {
    return spibb_garnet(spec.garnet_states, spec.garnet_actions,
                        deterministic ? 1 : spec.garnet_branching,
                        seed_of(spec, "mdp/" + instance_key(mdp, deterministic, dataset)),
                        spec.gamma, spec.horizon);
  }
  if (mdp == "grid")
    return gridworld(spec.grid_width, spec.grid_height, deterministic ? 0.0 : spec.grid_slip, {},
                     spec.gamma);
  throw InputError("unknown study MDP family '" + mdp + "'");
}

RunInputs run_inputs(const StudySpec& spec, const Cell& cell, int dataset) {
  InstanceCache cache;
  const Instance instance = cache.get(spec, cell, dataset);
  return {*instance.mdp, *instance.behaviour,
          collect_episodes(*instance.mdp, instance.behaviour->policy, cell.dataset_size,
                           spec.horizon, dataset_seed(spec, cell, dataset))};
}

std::vector<RunRow> run_one(const StudySpec& spec, const Cell& cell, int dataset) {
  InstanceCache cache;
  return run_with(spec, cell, dataset, cache.get(spec, cell, dataset));
}

std::vector<RunRow> run_cell(const StudySpec& spec, const Cell& cell, InstanceCache* cache) {
  if (cache) return run_cell_with(spec, cell, *cache);
  InstanceCache own;
  return run_cell_with(spec, cell, own);
}

// ---------------------------------------------------------------- CSV

std::string rows_to_csv(const std::vector<RunRow>& rows) {
  std::string out;
  for (const RunRow& r : rows)
    out += fmt::format("{},{},{},{},{},{},{:.10g},{:.10g},{:.10g},{},{:.10g},{:.10g}\n", r.mdp,
                       r.deterministic ? 1 : 0, r.behaviour, r.dataset_size, r.dataset, r.algo,
                       r.ret, r.normalised, r.extrapolation_error, r.batch_constrained ? 1 : 0,
                       r.behaviour_return, r.optimal_return);
  return out;
}

std::vector<RunRow> rows_from_csv(const std::string& text, const std::string& source) {
  std::vector<RunRow> rows;
  std::istringstream in(text);
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (number == 1 && line == kRunsHeader) continue;
    const std::string where = source + ":" + std::to_string(number);
    std::vector<std::string> f;
    std::string field;
    std::istringstream fields(line);
    while (std::getline(fields, field, ',')) f.push_back(field);
    if (!line.empty() && line.back() == ',') f.push_back("");
    if (f.size() != 12) throw InputError(where + ": expected 12 fields, found " + std::to_string(f.size()));
    auto number_of = [&](const std::string& s, const char* name) {
      char* end = nullptr;
      const double x = std::strtod(s.c_str(), &end);
      if (s.empty() || *end != '\0') throw InputError(where + ": field " + name + " is not a number");
      return x;
    };
    auto whole = [&](const std::string& s, const char* name) {
      const double x = number_of(s, name);
      if (x != std::floor(x) || std::abs(x) > 1e9) throw InputError(where + ": field " + name + " is not a whole number");
      return static_cast<int>(x);
    };
    auto flag = [&](const std::string& s, const char* name) {
      if (s != "0" && s != "1") throw InputError(where + ": field " + name + " must be 0 or 1");
      return s == "1";
    };
    RunRow r;
    r.mdp = f[0];
    r.deterministic = flag(f[1], "deterministic");
    r.behaviour = f[2];
    r.dataset_size = whole(f[3], "dataset_size");
    r.dataset = whole(f[4], "dataset");
    r.algo = f[5];
    r.ret = number_of(f[6], "return");
    r.normalised = number_of(f[7], "normalised");
    r.extrapolation_error = number_of(f[8], "extrapolation_error");
    r.batch_constrained = flag(f[9], "batch_constrained");
    r.behaviour_return = number_of(f[10], "behaviour_return");
    r.optimal_return = number_of(f[11], "optimal_return");
    rows.push_back(std::move(r));
  }
  return rows;
}

double cvar(std::vector<double> values, double fraction) {
  if (values.empty()) return 0.0;
  std::sort(values.begin(), values.end());
  const size_t worst = std::max<size_t>(
      1, static_cast<size_t>(std::ceil(fraction * static_cast<double>(values.size()) - 1e-9)));
  double sum = 0.0;
  for (size_t i = 0; i < worst; ++i) sum += values[i];
  return sum / static_cast<double>(worst);
}

std::vector<SummaryRow> summarise(const StudySpec& spec, const Cell& cell,
                                  const std::vector<RunRow>& rows) {
  std::vector<SummaryRow> out;
  for (const std::string& algo : spec.algorithms) {
    std::vector<double> normalised;
    SummaryRow s;
    s.cell = cell;
    s.algo = algo;
    int improved = 0;
    for (const RunRow& r : rows) {
      if (r.algo != algo) continue;
      normalised.push_back(r.normalised);
      s.mean_normalised += r.normalised;
      s.mean_extrapolation_error += r.extrapolation_error;
      s.mean_return += r.ret;
      if (r.ret > r.behaviour_return + 1e-9) ++improved;
    }
    s.runs = static_cast<int>(normalised.size());
    if (s.runs > 0) {
      s.mean_normalised /= s.runs;
      s.mean_extrapolation_error /= s.runs;
      s.mean_return /= s.runs;
      s.p_improve = static_cast<double>(improved) / s.runs;
    }
    s.cvar1_normalised = cvar(normalised, 0.01);
    s.cvar10_normalised = cvar(normalised, 0.10);
    out.push_back(std::move(s));
  }
  return out;
}

std::string summary_to_csv(const std::vector<SummaryRow>& rows) {
  std::string out = std::string(kSummaryHeader) + "\n";
  for (const SummaryRow& s : rows)
    out += fmt::format("{},{},{},{},{},{},{:.10g},{:.10g},{:.10g},{:.10g},{:.10g},{:.10g}\n",
                       s.cell.mdp, s.cell.deterministic ? 1 : 0, s.cell.behaviour,
                       s.cell.dataset_size, s.algo, s.runs, s.mean_normalised,
                       s.cvar1_normalised, s.cvar10_normalised, s.p_improve,
                       s.mean_extrapolation_error, s.mean_return);
  return out;
}

// ---------------------------------------------------------------- the study runner

namespace {

namespace fs = std::filesystem;

constexpr int kTagReady = 1;   // worker -> rank 0: give me a cell
constexpr int kTagResult = 2;  // worker -> rank 0: "index\n" + the cell's CSV rows
constexpr int kTagError = 3;   // worker -> rank 0: one-line error
constexpr int kTagCell = 4;    // rank 0 -> worker: a cell index
constexpr int kTagStop = 5;    // rank 0 -> worker: no more cells

std::string cell_path(const std::string& dir, const Cell& cell) {
  return dir + "/cells/" + cell.id() + ".csv";
}

// A cell file counts as done when it parses and holds exactly this cell's runs.
bool cell_file_complete(const StudySpec& spec, const Cell& cell, const std::string& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) return false;
  try {
    const std::vector<RunRow> rows = rows_from_csv(read_text_file(path), path);
    if (rows.size() != static_cast<size_t>(spec.datasets) * spec.algorithms.size()) return false;
    for (const RunRow& r : rows)
      if (r.mdp != cell.mdp || r.deterministic != cell.deterministic ||
          r.behaviour != cell.behaviour || r.dataset_size != cell.dataset_size)
        return false;
    return true;
  } catch (const InputError&) {
    return false;
  }
}

// The study's bookkeeping: which cells are done, written to tabular_study.json after each.
class StudyState {
 public:
  StudyState(const StudySpec& spec, std::string dir, std::vector<Cell> cells, double previous_wall)
      : spec_(spec), dir_(std::move(dir)), cells_(std::move(cells)),
        done_(cells_.size(), false), seconds_(cells_.size(), 0.0), previous_wall_(previous_wall),
        start_(std::chrono::steady_clock::now()) {}

  void mark_done(size_t index, double seconds, bool resumed) {
    std::lock_guard<std::mutex> lock(mutex_);
    done_[index] = true;
    seconds_[index] = seconds;
    if (!resumed) ++cells_run_;
    write_json_locked("running");
  }
  void write_json(const std::string& status) {
    std::lock_guard<std::mutex> lock(mutex_);
    write_json_locked(status);
  }
  int cells_run() const { return cells_run_; }
  double elapsed() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }
  const std::vector<Cell>& cells() const { return cells_; }

 private:
  void write_json_locked(const std::string& status) {
    nlohmann::ordered_json j;
    j["format"] = "bcq-tabular-study-state/1";
    j["profile"] = spec_.profile;
    j["status"] = status;
    j["git_commit"] = bcq::git_commit();
    j["wall_seconds"] = previous_wall_ + elapsed();
    j["spec"] = spec_to_json(spec_);
    size_t done = 0;
    nlohmann::ordered_json cells = nlohmann::ordered_json::array();
    for (size_t i = 0; i < cells_.size(); ++i) {
      const Cell& c = cells_[i];
      done += done_[i] ? 1 : 0;
      cells.push_back({{"id", c.id()},
                       {"mdp", c.mdp},
                       {"deterministic", c.deterministic},
                       {"behaviour", c.behaviour},
                       {"dataset_size", c.dataset_size},
                       {"state", done_[i] ? "done" : "pending"},
                       {"seconds", seconds_[i]}});
    }
    j["cells_done"] = done;
    j["cells_total"] = cells_.size();
    j["cells"] = cells;
    write_file_atomic(dir_ + "/tabular_study.json", j.dump(1) + "\n");
  }

  const StudySpec& spec_;
  std::string dir_;
  std::vector<Cell> cells_;
  std::vector<bool> done_;
  std::vector<double> seconds_;
  double previous_wall_ = 0.0;
  int cells_run_ = 0;
  std::chrono::steady_clock::time_point start_;
  std::mutex mutex_;
};

class Progress {
 public:
  Progress(bool enabled, size_t total, size_t already, int runs_per_cell)
      : enabled_(enabled), total_(total), done_(already), already_(already),
        runs_per_cell_(runs_per_cell), start_(std::chrono::steady_clock::now()) {}
  void cell_finished() {
    std::lock_guard<std::mutex> lock(mutex_);
    ++done_;
    if (!enabled_) return;
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    const double now = static_cast<double>(done_ - already_);
    const double rate = seconds > 0 ? now * runs_per_cell_ / seconds : 0.0;
    const double eta = now > 0 ? seconds / now * static_cast<double>(total_ - done_) : 0.0;
    fmt::print(stderr, "\rtabular study: {}/{} cells, {:.0f} runs/s, ETA {:.0f} s   ", done_,
               total_, rate, eta);
    if (done_ == total_) fmt::print(stderr, "\n");
  }

 private:
  bool enabled_;
  size_t total_, done_, already_;
  int runs_per_cell_;
  std::chrono::steady_clock::time_point start_;
  std::mutex mutex_;
};

void write_results(const StudySpec& spec, const std::string& dir, const std::vector<Cell>& cells) {
  std::string runs = std::string(kRunsHeader) + "\n";
  std::vector<SummaryRow> summary;
  for (const Cell& cell : cells) {
    const std::string path = cell_path(dir, cell);
    const std::string text = read_text_file(path);
    const std::vector<RunRow> rows = rows_from_csv(text, path);
    runs += text;
    const std::vector<SummaryRow> s = summarise(spec, cell, rows);
    summary.insert(summary.end(), s.begin(), s.end());
  }
  write_file_atomic(dir + "/tabular.csv", runs);
  write_file_atomic(dir + "/tabular_summary.csv", summary_to_csv(summary));
}

}  // namespace

StudyOutcome run_study(const StudySpec& spec, const RunOptions& options) {
  validate_spec(spec, "tabular study spec");
  if (options.workers < 1) throw InputError("--workers must be >= 1");
  mpi::Session* session = options.session;
  const bool distributed = session && session->active();
  const int rank = distributed ? session->rank() : 0;
  const std::vector<Cell> cells = cells_of(spec);
  StudyOutcome outcome;
  outcome.cells = static_cast<int>(cells.size());
  InstanceCache cache;

  if (rank != 0) {
    // A worker rank: ask rank 0 for cells until told to stop; never touches out_dir.
    mpi::send_string(0, kTagReady, "");
    for (;;) {
      int tag = 0;
      const std::string message = mpi::recv_string(0, mpi::kAnyTag, nullptr, &tag);
      if (tag == kTagStop) break;
      const size_t index = std::stoul(message);
      try {
        const std::vector<RunRow> rows = run_cell_with(spec, cells.at(index), cache);
        mpi::send_string(0, kTagResult, std::to_string(index) + "\n" + rows_to_csv(rows));
        ++outcome.cells_run;
      } catch (const std::exception& e) {
        mpi::send_string(0, kTagError, cells.at(index).id() + ": " + e.what());
      }
    }
    return outcome;
  }

  const std::string& dir = options.out_dir;
  if (dir.empty()) throw InputError("--out: no output folder given");
  std::error_code ec;
  fs::create_directories(dir + "/cells", ec);
  if (ec) throw InputError("cannot create " + dir + "/cells: " + ec.message());
  const std::string json_path = dir + "/tabular_study.json";
  double previous_wall = 0.0;
  if (fs::exists(json_path)) {
    nlohmann::json previous;
    try {
      previous = nlohmann::json::parse(read_text_file(json_path));
    } catch (const nlohmann::json::exception& e) {
      throw InputError(json_path + ": not valid JSON (" + std::string(e.what()) + ")");
    }
    if (!previous.is_object() || !previous.contains("spec") ||
        previous["spec"] != nlohmann::json(spec_to_json(spec)))
      throw InputError(json_path + ": this folder holds a tabular study with a different spec; "
                       "use another --out");
    if (previous.contains("wall_seconds") && previous["wall_seconds"].is_number())
      previous_wall = previous["wall_seconds"].get<double>();
  }
  StudyState state(spec, dir, cells, previous_wall);
  std::vector<size_t> pending;
  for (size_t i = 0; i < cells.size(); ++i) {
    if (cell_file_complete(spec, cells[i], cell_path(dir, cells[i]))) {
      state.mark_done(i, 0.0, true);
      ++outcome.cells_resumed;
    } else {
      pending.push_back(i);
    }
  }
  state.write_json("running");
  Progress progress(options.progress, cells.size(), cells.size() - pending.size(),
                    spec.datasets);
  auto store = [&](size_t index, const std::string& csv, double seconds) {
    write_file_atomic(cell_path(dir, cells[index]), csv);
    state.mark_done(index, seconds, false);
    progress.cell_finished();
  };

  if (distributed) {
    // Rank 0 hands out cells one at a time and writes each result as it arrives.
    size_t next = 0;
    int alive = session->size() - 1;
    std::string first_error;
    std::map<int, std::chrono::steady_clock::time_point> started;
    while (alive > 0) {
      int from = 0, tag = 0;
      const std::string message = mpi::recv_string(mpi::kAnySource, mpi::kAnyTag, &from, &tag);
      if (tag == kTagResult) {
        const size_t newline = message.find('\n');
        const size_t index = std::stoul(message.substr(0, newline));
        const double seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - started[from]).count();
        store(index, message.substr(newline + 1), seconds);
      } else if (tag == kTagError && first_error.empty()) {
        first_error = message;
      }
      if (next < pending.size() && first_error.empty()) {
        started[from] = std::chrono::steady_clock::now();
        mpi::send_string(from, kTagCell, std::to_string(pending[next++]));
      } else {
        mpi::send_string(from, kTagStop, "");
        --alive;
      }
    }
    if (!first_error.empty()) {
      state.write_json("failed");
      throw InputError(first_error);
    }
  } else {
    // Threads on this machine, each taking the next pending cell.
    std::atomic<size_t> next{0};
    std::mutex error_mutex;
    std::string first_error;
    auto worker = [&] {
      for (;;) {
        {
          std::lock_guard<std::mutex> lock(error_mutex);
          if (!first_error.empty()) return;
        }
        const size_t k = next.fetch_add(1);
        if (k >= pending.size()) return;
        const auto t0 = std::chrono::steady_clock::now();
        try {
          const std::vector<RunRow> rows = run_cell_with(spec, cells[pending[k]], cache);
          store(pending[k], rows_to_csv(rows),
                std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
        } catch (const std::exception& e) {
          std::lock_guard<std::mutex> lock(error_mutex);
          if (first_error.empty()) first_error = cells[pending[k]].id() + ": " + e.what();
        }
      }
    };
    const int threads = std::min<int>(options.workers, std::max<int>(1, static_cast<int>(pending.size())));
    std::vector<std::thread> pool;
    for (int t = 1; t < threads; ++t) pool.emplace_back(worker);
    worker();
    for (std::thread& t : pool) t.join();
    if (!first_error.empty()) {
      state.write_json("failed");
      throw InputError(first_error);
    }
  }
  write_results(spec, dir, cells);
  state.write_json("done");
  outcome.cells_run = state.cells_run();
  outcome.wall_seconds = state.elapsed();
  return outcome;
}

}  // namespace bcq::tabular_study
