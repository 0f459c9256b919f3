// One run of a tabular algorithm of this folder on an MDP and a batch, and one extrapolation
// error measurement, each with its report: the `bcq-tabular/1` / `bcq-error/1` JSON
// (docs/formats.md) and the text table that `bcq tabular` / `bcq error` print.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "bcql/sampled.hpp"
#include "mdp/batch.hpp"
#include "mdp/finite_mdp.hpp"

namespace bcq::bcql {

/// What `bcq tabular` asks for. Paths are provenance only (the JSON names them; batch_path
/// also prefixes batch errors): the caller loads the files.
struct TabularRequest {
  /// q-learning | bcql | basic-rl | spibb | spibb-leq | ramdp | vi-lcb | behaviour
  std::string algorithm;
  std::string mdp_path;
  std::string batch_path;
  std::string baseline_path;  ///< empty: no --baseline
  // q-learning, bcql
  std::string mode = "sampled";  ///< sampled | synchronous
  int64_t iterations = 1000000;  ///< sampled: update budget
  uint64_t seed = 0;             ///< sampled: seed of the uniform draws
  StepSchedule step;             ///< sampled
  int64_t check_every = 0;       ///< sampled: Bellman residual every N updates (0: never)
  double tol = -1.0;             ///< < 0: the mode's default (sampled 1e-6, synchronous 1e-11)
  double q_init = 0.0;
  // safe policy improvement
  long n_wedge = 10;     ///< spibb, spibb-leq
  double kappa = 0.003;  ///< ramdp
  double lcb_c = 0.01;   ///< vi-lcb
  Policy baseline;       ///< pi_b (S x A), loaded from baseline_path; spibb, spibb-leq, behaviour
};

/// True for the safe-policy-improvement algorithms (basic-rl, spibb, spibb-leq, ramdp, vi-lcb,
/// behaviour), which read --baseline when given; q-learning and bcql ignore it.
bool is_safe_policy_improvement(const std::string& algorithm);

/// Throws InputError (naming the command's option) on a value the algorithm cannot run with:
/// a non-finite --q-init, a negative --iterations or --check-every (q-learning, bcql), a
/// non-finite or negative --kappa or --lcb-c, a negative --n-wedge, or spibb, spibb-leq,
/// behaviour without baseline_path. Needs no file, so a command calls it before any.
void check_request(const TabularRequest& request);

/// A finished tabular run.
struct TabularRun {
  nlohmann::ordered_json json;  ///< the bcq-tabular/1 document
  std::string text;             ///< the summary line and the per-state table
  /// False when a run that must reach its fixed point did not: synchronous sweeps, or the
  /// safe-policy-improvement iteration. A sampled run stops by its budget or its residual
  /// check (the JSON's "stop") and is true.
  bool converged = true;
  Policy policy;  ///< the learned policy (greedy for q-learning and bcql), for --policy-out
};

/// check_request, then the run. Throws InputError for a batch that does not fit the MDP and
/// ValidationError for a baseline that is not a policy of its shape (Policy::validate).
TabularRun run_tabular(const FiniteMdp& mdp, const Batch& batch, const TabularRequest& request);

/// What `bcq error` asks for; paths are provenance only, as in TabularRequest.
struct ExtrapolationRequest {
  std::string mdp_path;
  std::string batch_path;
  std::string policy_path;
  double q_init = 0.0;  ///< Q_init of M_B's unseen pairs
};

/// Throws InputError on a non-finite --q-init.
void check_request(const ExtrapolationRequest& request);

/// A finished extrapolation error measurement.
struct ExtrapolationRun {
  nlohmann::ordered_json json;  ///< the bcq-error/1 document
  std::string text;             ///< the summary and the table of relevant pairs
  /// Remark 1 (Eq. 16) reproduced Eq. 3 within 1e-9; false is a failed check.
  bool methods_agree = true;
};

/// check_request, then eps^pi_MDP of `pi` directly and by Remark 1 (extrapolation_error.hpp).
ExtrapolationRun run_extrapolation_error(const FiniteMdp& mdp, const Batch& batch, const Policy& pi,
                                         const ExtrapolationRequest& request);

}  // namespace bcq::bcql
