// Theorem 1: Q-learning by sampling from B converges to Q*_{M_B}, the optimal value of the
// batch MDP. Exact part: the synchronous Q-learning operator on B (bcql/) has the fixed point
// that policy iteration on M_B (mdp/, an MDP file of its own) computes. Sampled part: Eq. 2 with
// Robbins-Monro steps approaches it. Probe: a constant step size in a stochastic MDP does not.
#include <string>

#include "bcql/synchronous.hpp"
#include "proofs_checks/draw.hpp"

namespace bcq::proofs {
namespace {

// Q*_{M_B} by policy iteration on the batch MDP file built by mdp/batch_mdp.
QTable optimal_batch_mdp_values(const Case& c) {
  FiniteMdp mb = batch_mdp(*c.mdp, c.batch, q_init_table(c));
  return policy_iteration(mb).Q;
}

// The algorithm under test; the planted bug gives Q-learning the in-batch max of Eq. 6.
bcql::Algorithm q_learning(const CheckConfig& cfg) {
  return cfg.planted(PlantedBug::kQLearningBatchMax) ? bcql::Algorithm::kBcql : bcql::Algorithm::kQLearning;
}

void exact(const CheckConfig& cfg) {
  Case c = draw_case({});
  const FiniteMdp& mdp = *c.mdp;
  bcql::PreparedBatch pb = bcql::prepare_batch(mdp, c.batch);
  bcql::SynchronousOptions so;
  so.algorithm = q_learning(cfg);
  so.q_init = c.q_init;
  so.tolerance = 1e-11;
  bcql::SynchronousResult sync = bcql::run_synchronous(pb, so);
  require(sync.converged, "synchronous Q-learning did not converge");
  QTable ref = optimal_batch_mdp_values(c);
  const double tol = 1e-8 * scale_of(ref);
  for (int s = 0; s < mdp.num_states(); ++s)
    for (int a = 0; a < mdp.num_actions(); ++a) {
      double d = std::abs(sync.Q(s, a) - ref(s, a));
      require(d <= tol, "Q-learning fixed point " + std::to_string(sync.Q(s, a)) + " != Q*_{M_B} " +
                            std::to_string(ref(s, a)) + " at " + fmt_pair(s, a) + " (" + c.description + ")");
    }
}

void sampled(const CheckConfig& cfg, bool robbins_monro, Determinism determinism) {
  DrawSpec spec;
  spec.sampled_gamma = true;
  spec.determinism = determinism;
  Case c = draw_case(spec);
  const FiniteMdp& mdp = *c.mdp;
  bcql::PreparedBatch pb = bcql::prepare_batch(mdp, c.batch);
  const uint64_t seed = static_cast<uint64_t>(*rc::gen::inRange(0, 1 << 20));
  bcql::SampledResult run = bcql::run_sampled(pb, sampled_options(c, pb, q_learning(cfg), robbins_monro, seed));
  require_sampled_close(c, pb, run, optimal_batch_mdp_values(c), "sampled Q-learning vs Q*_{M_B}", seed);
}

}  // namespace

void add_theorem1(std::vector<Statement>& out) {
  out.push_back({"theorem1", "Theorem 1: Q-learning on B converges to Q*_{M_B} (synchronous fixed point vs policy iteration on M_B)",
                 false, true, "", "", false, exact});
  out.push_back({"theorem1-sampled",
                 "Theorem 1: sampled Q-learning (Eq. 2, alpha = 1/n^0.6) ends within the statistical tolerance of Q*_{M_B}",
                 false, true, "", "", true, [](const CheckConfig& cfg) { sampled(cfg, true, Determinism::kAny); }});
  out.push_back({"probe:theorem1-constant-step", "Theorem 1 with a constant step size (alpha = 0.5) in a stochastic MDP",
                 true, true, "Robbins-Monro step sizes",
                 "With a constant step the iterate keeps averaging the latest noisy targets r + gamma max Q(s'): "
                 "in a stochastic MDP it fluctuates around Q*_{M_B} with a spread that does not shrink.",
                 true,
                 [](const CheckConfig& cfg) { sampled(cfg, cfg.restore_dropped_condition, Determinism::kStochastic); }});
}

}  // namespace bcq::proofs
