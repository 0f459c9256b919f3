// A study: the paper's grid (environments x batch kinds x algorithms x seeds) as cells with
// stable ids, read from a versioned JSON spec (`bcq-study/1`) or a built-in profile. No LibTorch
// here: planning needs none.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace bcq::study {

/// Everything that decides what a study computes. Field defaults are the paper's (Section 5 and
/// Supplementary D of Fujimoto et al. 2019): 1M-transition buffers (100k for imperfect), an
/// expert trained for 1M steps, 300k training iterations, evaluation every 5k iterations over
/// 10 episodes.
struct StudySpec {
  std::string name = "study";
  std::vector<std::string> envs = {"hopper", "walker2d", "halfcheetah"};
  /// final | concurrent | imitation | imperfect (imperfect reuses the imitation expert)
  std::vector<std::string> kinds = {"final", "concurrent", "imitation", "imperfect"};
  std::vector<std::string> algos = {"bcq", "ddpg", "bc", "vae-bc"};
  std::vector<int64_t> seeds = {0, 1, 2, 3, 4};
  int64_t collection_steps = 1000000;  ///< transitions of final / imitation buffers
  int64_t imperfect_steps = 100000;    ///< transitions of imperfect buffers
  int64_t expert_steps = 1000000;      ///< DDPG training steps of the imitation/imperfect expert
  int64_t start_steps = 25000;         ///< uniformly random behavioural steps before DDPG acts
  int64_t iterations = 300000;         ///< training iterations (concurrent: also env steps)
  int64_t eval_every = 5000;
  int eval_episodes = 10;
  std::string precision = "fp32";      ///< fp32 | bf16 (bf16 applies to bcq; others run fp32)
  int threads = 1;                     ///< LibTorch threads per cell
  int64_t checkpoint_every = 50000;    ///< collections: checkpoint every K env steps
};

/// The built-in profiles: smoke, quick, paper. Throws bcq::InputError for another name.
StudySpec profile_spec(const std::string& profile);
std::vector<std::string> profile_names();

/// Reads and validates a `bcq-study/1` spec; unknown keys, unknown names, empty lists,
/// duplicates and out-of-range numbers are refused with an InputError naming `where` and the
/// field. Missing fields take the defaults above.
StudySpec parse_spec(const nlohmann::json& json, const std::string& where);
nlohmann::json to_json(const StudySpec& spec);

enum class CellType { collect, train };

/// One unit of work. Collections: one per (env, kind, seed) for final, imitation and
/// imperfect; concurrent training runs collect their own data. Training runs: one per
/// (env, kind, algo, seed), each depending on its collection.
struct Cell {
  int id = 0;
  CellType type = CellType::collect;
  std::string env, kind;
  std::string algo;           ///< bcq | ddpg | bc | vae-bc; "collect" for collections
  int64_t seed_index = 0;     ///< the spec's seed number (s<seed_index> in the name)
  uint64_t seed = 0;          ///< the random seed the cell runs with, derived from its key
  std::vector<int> depends;   ///< ids of the cells it needs
  /// "<id>-<env>-<kind>-<algo>-s<seed>", the cell's folder under DIR/cells/.
  std::string name() const;
  /// "<env>/<kind>/<algo>/s<seed>": what the cell is, independent of its id.
  std::string key() const;
};

/// The cells of `spec` in their stable order: seed by seed, environment by environment, the
/// collections (final, imitation, imperfect) then the training runs (kind by kind, algorithm by
/// algorithm). The same spec gives the same ids and seeds on every machine.
std::vector<Cell> plan_cells(const StudySpec& spec);

/// The cells of `spec` numbered after `previous` (the cells of an earlier spec run in the same
/// folder): cells already there keep their ids, new ones get the next ids. Throws InputError
/// when `spec` does not only add cells to `previous_spec` (another step count, fewer seeds ...),
/// naming the first difference.
std::vector<Cell> extend_cells(const StudySpec& previous_spec, const std::vector<Cell>& previous,
                               const StudySpec& spec);

/// A cell's random seed: a hash of its key (environment, kind, seed number; training runs of
/// the same batch share it, so concurrent runs of all algorithms see the same behavioural data).
uint64_t cell_seed(CellType type, const std::string& env, const std::string& kind,
                   int64_t seed_index);

/// Estimated one-thread seconds of a cell on the 2-vCPU VM the project is developed on
/// (rates measured there with bench_bcq and timed collections; see docs/study.md).
double estimate_seconds(const StudySpec& spec, const Cell& cell);

std::string to_string(CellType type);

}  // namespace bcq::study
