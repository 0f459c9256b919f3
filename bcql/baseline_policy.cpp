#include "bcql/baseline_policy.hpp"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "bcql/dense_evaluation.hpp"
#include "common/error.hpp"
#include "common/random.hpp"
#include "mdp/solve.hpp"

namespace bcq::bcql {
namespace {

struct Scale {
  QTable q_star;
  double rho_star = 0.0;
  double rho_uniform = 0.0;
};

Scale quality_scale(const FiniteMdp& mdp) {
  Scale scale;
  const ValueResult optimum = policy_iteration(mdp);
  scale.q_star = optimum.Q;
  for (int s = 0; s < mdp.num_states(); ++s)
    scale.rho_star += mdp.initial()[static_cast<size_t>(s)] * optimum.V[static_cast<size_t>(s)];
  scale.rho_uniform =
      expected_return(mdp, Policy::uniform(mdp.num_states(), mdp.num_actions()));
  return scale;
}

double ratio_of(double rho, const Scale& scale) {
  return (rho - scale.rho_uniform) / (scale.rho_star - scale.rho_uniform);
}

// pi(a|s) proportional to exp(temperature * Q*(s,a)), shifted by the row maximum so that a
// huge temperature stays finite.
Policy softmax_policy(const QTable& q, double temperature) {
  Policy pi;
  pi.num_states = q.num_states;
  pi.num_actions = q.num_actions;
  pi.probs.resize(q.values.size());
  for (int s = 0; s < q.num_states; ++s) {
    double top = q(s, 0);
    for (int a = 1; a < q.num_actions; ++a) top = std::max(top, q(s, a));
    double sum = 0.0;
    for (int a = 0; a < q.num_actions; ++a) {
      pi.at(s, a) = std::exp(temperature * (q(s, a) - top));
      sum += pi.at(s, a);
    }
    for (int a = 0; a < q.num_actions; ++a) pi.at(s, a) /= sum;
  }
  return pi;
}

int argmax_row(const QTable& q, int s) {
  int best = 0;
  for (int a = 1; a < q.num_actions; ++a)
    if (q(s, a) > q(s, best) + 1e-12) best = a;
  return best;
}

}  // namespace

double expected_return(const FiniteMdp& mdp, const Policy& pi) {
  return expected_return_dense(mdp, pi);
}

BaselinePolicy spibb_baseline(const FiniteMdp& mdp, const BaselineOptions& options) {
  const double softmax_target =
      options.softmax_ratio < 0.0 ? (options.target_ratio + 1.0) / 2.0 : options.softmax_ratio;
  if (!(options.target_ratio < 1.0) || !std::isfinite(options.target_ratio))
    throw InputError("baseline target ratio must be finite and below 1");
  if (!(options.softmax_reduction > 0.0 && options.softmax_reduction < 1.0) ||
      !(options.perturbation_reduction > 0.0 && options.perturbation_reduction < 1.0))
    throw InputError("baseline reduction factors must be in (0, 1)");
  const Scale scale = quality_scale(mdp);
  if (!(scale.rho_star > scale.rho_uniform + 1e-12))
    throw InputError("baseline: " + mdp.name() +
                     ": the uniform policy is already optimal, no performance ratio exists");
  BaselinePolicy out;
  out.rho_star = scale.rho_star;
  out.rho_uniform = scale.rho_uniform;
  // Stage 1 (SPIBB): a softmax of Q* cooled until its ratio falls to the softmax target.
  double temperature = options.initial_temperature;
  Policy pi;
  double rho = 0.0;
  for (int step = 0;; ++step) {
    if (step >= options.max_steps)
      throw InputError("baseline: softmax stage did not reach ratio " + std::to_string(softmax_target));
    temperature *= options.softmax_reduction;
    pi = softmax_policy(scale.q_star, temperature);
    rho = expected_return(mdp, pi);
    if (ratio_of(rho, scale) <= softmax_target) break;
  }
  // Stage 2 (SPIBB): lower the optimal action's probability at random states.
  std::vector<int> states;
  for (int s = 0; s < mdp.num_states(); ++s)
    if (!mdp.is_terminal(s)) states.push_back(s);
  Rng rng(options.seed);
  while (ratio_of(rho, scale) > options.target_ratio) {
    if (out.perturbations >= options.max_steps)
      throw InputError("baseline: perturbation stage did not reach ratio " +
                       std::to_string(options.target_ratio));
    const int s = states[rng.below(static_cast<uint32_t>(states.size()))];
    pi.at(s, argmax_row(scale.q_star, s)) *= options.perturbation_reduction;
    double sum = 0.0;
    for (int a = 0; a < mdp.num_actions(); ++a) sum += pi(s, a);
    for (int a = 0; a < mdp.num_actions(); ++a) pi.at(s, a) /= sum;
    rho = expected_return(mdp, pi);
    ++out.perturbations;
  }
  out.policy = pi;
  out.rho = rho;
  out.ratio = ratio_of(rho, scale);
  out.temperature = temperature;
  return out;
}

BaselinePolicy expert_baseline(const FiniteMdp& mdp, double best_mass) {
  if (mdp.num_actions() < 2) throw InputError("expert baseline needs at least 2 actions");
  if (!(best_mass >= 0.5 && best_mass <= 1.0))
    throw InputError("expert baseline: best_mass must be in [0.5, 1]");
  const Scale scale = quality_scale(mdp);
  Policy pi = Policy::uniform(mdp.num_states(), mdp.num_actions());
  for (int s = 0; s < mdp.num_states(); ++s) {
    if (mdp.is_terminal(s)) continue;
    const int best = argmax_row(scale.q_star, s);
    int second = best == 0 ? 1 : 0;
    for (int a = 0; a < mdp.num_actions(); ++a)
      if (a != best && scale.q_star(s, a) > scale.q_star(s, second) + 1e-12) second = a;
    for (int a = 0; a < mdp.num_actions(); ++a) pi.at(s, a) = 0.0;
    pi.at(s, best) = best_mass;
    pi.at(s, second) += 1.0 - best_mass;
  }
  BaselinePolicy out;
  out.policy = pi;
  out.rho_star = scale.rho_star;
  out.rho_uniform = scale.rho_uniform;
  out.rho = expected_return(mdp, pi);
  out.ratio = scale.rho_star > scale.rho_uniform ? ratio_of(out.rho, scale) : 1.0;
  return out;
}

}  // namespace bcq::bcql
