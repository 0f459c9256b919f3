// Behaviour (baseline) policies of a known quality, built as the SPIBB benchmark builds them
// (Laroche et al. 2019, docs/tabular_study.md): a softmax around the optimal Q whose
// temperature falls until its performance ratio reaches a first target, then perturbed state by
// state until it reaches the requested one. The performance ratio of pi is
// (rho(pi) - rho(uniform)) / (rho(pi*) - rho(uniform)), rho the exact return from d_0.
#pragma once

#include <cstdint>

#include "mdp/finite_mdp.hpp"

namespace bcq::bcql {

/// rho(pi) = sum_s d_0(s) V^pi(s), by exact policy evaluation in `mdp`.
double expected_return(const FiniteMdp& mdp, const Policy& pi);

/// Options of spibb_baseline (defaults: SPIBB's reference code).
struct BaselineOptions {
  double target_ratio = 0.5;          ///< performance ratio the baseline must reach (at most)
  double softmax_ratio = -1.0;        ///< softmax stage target; < 0: (target_ratio + 1) / 2 as SPIBB
  double initial_temperature = 2e6;   ///< inverse temperature the softmax stage starts from
  double softmax_reduction = 0.9;     ///< temperature factor per softmax step
  double perturbation_reduction = 0.9;  ///< factor on the optimal action's probability per step
  uint64_t seed = 0;                  ///< bcq::Rng seed of the perturbed states
  int max_steps = 100000;             ///< bound on evaluations per stage
};

struct BaselinePolicy {
  Policy policy;
  double rho = 0.0;          ///< rho(pi_b)
  double rho_star = 0.0;     ///< rho(pi*)
  double rho_uniform = 0.0;  ///< rho(uniform)
  double ratio = 0.0;        ///< performance ratio of pi_b
  double temperature = 0.0;  ///< final softmax inverse temperature
  int perturbations = 0;     ///< perturbation steps applied
};

/// SPIBB's baseline: pi(a|s) proportional to exp(temperature * Q*(s,a)) with the temperature
/// multiplied by softmax_reduction until the ratio is at most softmax_ratio; then, at a
/// uniformly drawn non-terminal state, the probability of argmax_a Q*(s,a) is multiplied by
/// perturbation_reduction and the row renormalised, until the ratio is at most target_ratio.
/// Throws InputError when rho(pi*) <= rho(uniform) (no quality scale) or a stage does not
/// reach its target within max_steps.
BaselinePolicy spibb_baseline(const FiniteMdp& mdp, const BaselineOptions& options);

/// An expert that never tries some actions: in every non-terminal state the best action of Q*
/// gets `best_mass`, the second best 1 - best_mass, the others 0 (ties: lower index first).
/// best_mass in [0.5, 1]; needs at least 2 actions.
BaselinePolicy expert_baseline(const FiniteMdp& mdp, double best_mass = 0.8);

}  // namespace bcq::bcql
