// The tabular study (docs/tabular_study.md): SPIBB's benchmark (Laroche et al. 2019) on the
// project's finite MDPs. A cell is (MDP family, stochastic or deterministic, behaviour policy,
// dataset size in trajectories); each cell runs `datasets` independent runs, and each run
// collects a batch with the behaviour policy, builds M_B, runs every algorithm on it and
// evaluates each learned policy exactly in the true MDP. Every run is seeded by its place in
// the grid (never by the worker that runs it), so the results do not depend on --workers,
// the MPI layout or on being resumed.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bcql/baseline_policy.hpp"
#include "mdp/batch.hpp"
#include "mdp/finite_mdp.hpp"

namespace bcq::mpi {
class Session;
}

namespace bcq::tabular_study {

/// The algorithms of a run, in output order (the `algo` column).
const std::vector<std::string>& all_algorithms();

/// What a study runs (bcq-tabular-study/1 JSON; defaults are the quick profile).
struct StudySpec {
  std::string profile = "quick";  ///< quick | paper | spec (read from --spec)
  std::vector<std::string> mdps = {"garnet", "grid"};  ///< MDP families
  std::vector<bool> deterministic = {false, true};     ///< stochastic and deterministic variants
  /// "ratio-X" (SPIBB baseline with performance ratio X in (-1, 1)) or "expert".
  std::vector<std::string> behaviours = {"ratio-0.1", "ratio-0.9", "expert"};
  std::vector<int> dataset_sizes = {10, 20, 50, 100, 200, 500, 1000, 2000};  ///< trajectories
  int datasets = 100;              ///< runs per cell
  std::vector<std::string> algorithms = all_algorithms();
  int garnet_states = 50;          ///< SPIBB: 50 states
  int garnet_actions = 4;          ///< SPIBB: 4 actions
  int garnet_branching = 4;        ///< SPIBB: 4 successors per pair (deterministic: 1)
  int grid_width = 5;              ///< gridworld size (start (0,0), goal opposite corner)
  int grid_height = 5;
  double grid_slip = 0.1;          ///< stochastic gridworld: probability of staying put
  double gamma = 0.95;             ///< SPIBB: 0.95
  int horizon = 50;                ///< trajectory length cap (SPIBB's max_steps)
  long n_wedge = 10;               ///< SPIBB's N_wedge (its grid: 5..100)
  double kappa = 0.003;            ///< RaMDP's kappa (SPIBB's reference code)
  double vi_lcb_c = 0.01;          ///< VI-LCB's bonus constant c (bcql::VilcbOptions)
  double expert_best_mass = 0.8;   ///< expert: mass on the best action (the rest on the second)
  /// Q_init of Q-learning and BCQL (Eq. 2 / Eq. 6, "initialised arbitrarily"): 1, the goal's
  /// reward, so that a pair never seen looks as good as reaching the goal and Q-learning's
  /// extrapolation error shows. Every other algorithm uses SPIBB's model, Q_init = 0.
  double q_init = 1.0;
  uint64_t seed = 0;               ///< root of every run's seed
};

/// The quick (minutes on 2 cores) and paper (SPIBB's scale) profiles. Throws InputError on any
/// other name.
StudySpec profile_spec(const std::string& name);
/// Parses and validates a bcq-tabular-study/1 spec; unknown keys, wrong types and values out of
/// range throw InputError naming `source` and the field. Missing keys keep the quick defaults.
StudySpec spec_from_json(const nlohmann::json& j, const std::string& source);
nlohmann::ordered_json spec_to_json(const StudySpec& spec);
/// Throws InputError naming the field when a value is out of range.
void validate_spec(const StudySpec& spec, const std::string& source);

/// One cell of the grid.
struct Cell {
  std::string mdp;
  bool deterministic = false;
  std::string behaviour;
  int dataset_size = 0;
  /// Stable id, also the cell's file name: e.g. garnet-stochastic-ratio-0.9-n50.
  std::string id() const;
};
/// Cells in output order: mdp, deterministic, behaviour, dataset size.
std::vector<Cell> cells_of(const StudySpec& spec);

/// One row of tabular.csv.
struct RunRow {
  std::string mdp;
  bool deterministic = false;
  std::string behaviour;
  int dataset_size = 0;
  int dataset = 0;              ///< run index within the cell
  std::string algo;
  double ret = 0.0;             ///< rho(pi), exact, from d_0
  double normalised = 0.0;      ///< (rho(pi) - rho(pi_b)) / (rho(pi*) - rho(pi_b))
  double extrapolation_error = 0.0;  ///< eps^pi_MDP (Eq. 5)
  bool batch_constrained = false;
  double behaviour_return = 0.0;
  double optimal_return = 0.0;
};

/// The true MDP of run `dataset` of a family (garnets: a fresh SPIBB garnet per run index, the
/// same for every behaviour and dataset size; gridworld: the same grid every run).
FiniteMdp study_mdp(const StudySpec& spec, const std::string& mdp, bool deterministic, int dataset);

/// The inputs of one run: the true MDP, the behaviour policy and the batch it collected
/// (`dataset_size` trajectories from d_0, each cut after `horizon` steps).
struct RunInputs {
  FiniteMdp mdp;
  bcql::BaselinePolicy behaviour;
  Batch batch;
};
RunInputs run_inputs(const StudySpec& spec, const Cell& cell, int dataset);

/// Runs every algorithm of `spec` on run `dataset` of `cell`: one row per algorithm.
std::vector<RunRow> run_one(const StudySpec& spec, const Cell& cell, int dataset);
/// The true MDPs and behaviour policies built so far, shared by the cells of one process
/// (thread-safe); one run index's instance serves every dataset size.
class InstanceCache;
std::shared_ptr<InstanceCache> make_instance_cache();
/// All runs of a cell (rows by dataset, then algorithm); `cache` may be null.
std::vector<RunRow> run_cell(const StudySpec& spec, const Cell& cell, InstanceCache* cache = nullptr);

constexpr const char* kRunsHeader =
    "mdp,deterministic,behaviour,dataset_size,dataset,algo,return,normalised,"
    "extrapolation_error,batch_constrained,behaviour_return,optimal_return";
constexpr const char* kSummaryHeader =
    "mdp,deterministic,behaviour,dataset_size,algo,runs,mean_normalised,cvar1_normalised,"
    "cvar10_normalised,p_improve,mean_extrapolation_error,mean_return";

/// CSV lines (no header) of rows.
std::string rows_to_csv(const std::vector<RunRow>& rows);
/// Parses rows written by rows_to_csv (the header optional); throws InputError naming
/// `source` and the line.
std::vector<RunRow> rows_from_csv(const std::string& text, const std::string& source);

/// One row of tabular_summary.csv.
struct SummaryRow {
  Cell cell;
  std::string algo;
  int runs = 0;
  double mean_normalised = 0.0;
  double cvar1_normalised = 0.0;   ///< mean of the worst ceil(1% of runs)
  double cvar10_normalised = 0.0;  ///< mean of the worst ceil(10% of runs)
  double p_improve = 0.0;          ///< fraction of runs with rho(pi) > rho(pi_b) + 1e-9
  double mean_extrapolation_error = 0.0;
  double mean_return = 0.0;
};
/// x% CVaR: the mean of the worst ceil(fraction * n) values (at least one).
double cvar(std::vector<double> values, double fraction);
/// Summary rows of one cell's runs, one per algorithm in spec order.
std::vector<SummaryRow> summarise(const StudySpec& spec, const Cell& cell,
                                  const std::vector<RunRow>& rows);
std::string summary_to_csv(const std::vector<SummaryRow>& rows);  ///< with header

/// Options of run_study.
struct RunOptions {
  std::string out_dir;
  int workers = 1;     ///< threads on this machine (each runs one cell at a time)
  bool progress = false;  ///< progress line on stderr
  /// The MPI job when run under mpirun (null or inactive: this process alone). With more than
  /// one rank, rank 0 hands out cells and writes; the others compute one cell at a time.
  mpi::Session* session = nullptr;
};

/// What run_study did.
struct StudyOutcome {
  int cells = 0;
  int cells_run = 0;      ///< cells computed now
  int cells_resumed = 0;  ///< cells found finished in out_dir and skipped
  double wall_seconds = 0.0;
};

/// Runs (or resumes) a study into out_dir: each finished cell is written at once to
/// out_dir/cells/<id>.csv (atomically) and marked done in out_dir/tabular_study.json, so a
/// killed run continues where it stopped; at the end out_dir/tabular.csv and
/// out_dir/tabular_summary.csv are written. Refuses (InputError) an out_dir that holds a study
/// with a different spec. Under mpirun (bcq::mpi::Session active) rank 0 hands out cells to
/// the other ranks and writes every file (see RunOptions::session).
StudyOutcome run_study(const StudySpec& spec, const RunOptions& options);

}  // namespace bcq::tabular_study
