// The folders `bcq study tabular` writes: tabular.csv (one row per run), tabular_summary.csv
// (one row per cell: MDP, determinism, behaviour, dataset size, algorithm) and
// tabular_study.json (what was run).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace bcq::reports {

inline constexpr const char* kTabularHeader =
    "mdp,deterministic,behaviour,dataset_size,dataset,algo,return,normalised,extrapolation_error,batch_constrained,"
    "behaviour_return,optimal_return";
inline constexpr const char* kTabularSummaryHeader =
    "mdp,deterministic,behaviour,dataset_size,algo,runs,mean_normalised,cvar1_normalised,cvar10_normalised,p_improve,"
    "mean_extrapolation_error,mean_return";

/// One row of tabular_summary.csv (numbers NaN when empty).
struct TabularCell {
  std::string mdp, behaviour, algo;
  bool deterministic = false;
  double dataset_size = 0, runs = 0, mean_normalised = 0, cvar1_normalised = 0, cvar10_normalised = 0, p_improve = 0,
         mean_extrapolation_error = 0, mean_return = 0;
};

struct TabularResult {
  std::string name;          ///< the folder as the report names it
  std::vector<TabularCell> cells;
  size_t runs = 0;           ///< rows of tabular.csv (0 when absent)
  nlohmann::json study;      ///< tabular_study.json (null when absent)
};

/// Reads the tabular study folder `dir`. Throws InputError naming the file and line when
/// tabular_summary.csv (required), tabular.csv or tabular_study.json is malformed.
TabularResult load_tabular(const std::string& dir, const std::string& name);

}  // namespace bcq::reports
