// Theorem 3: with Robbins-Monro step sizes and standard sampling from the environment (every
// (s,a) sampled infinitely often, successors in the true proportions), BCQL converges to Q*.
// "Sampling from the environment" is modelled by the batch every such stream converges to:
// every non-terminal (s,a) with successors in exact proportion (p_B = p_M). Exact part:
// synchronous BCQL (bcql/) vs Q* by policy iteration on M (mdp/). Sampled part: Eq. 6 with
// alpha = 1/n^0.6 drawing from that batch.
#include <string>

#include "bcql/synchronous.hpp"
#include "proofs_checks/draw.hpp"

namespace bcq::proofs {
namespace {

// The batch BCQL learns from; the planted bug loses its last transition (an off-by-one).
Batch batch_under_test(const Case& c, const CheckConfig& cfg) {
  Batch b = c.batch;
  if (cfg.planted(PlantedBug::kDropLastTransition) && b.size() > 1) b.transitions.pop_back();
  return b;
}

void exact(const CheckConfig& cfg) {
  DrawSpec spec;
  spec.exact_batch = true;
  Case c = draw_case(spec);
  const FiniteMdp& mdp = *c.mdp;
  bcql::PreparedBatch pb = bcql::prepare_batch(mdp, batch_under_test(c, cfg));
  bcql::SynchronousOptions so;
  so.algorithm = bcql::Algorithm::kBcql;
  so.q_init = c.q_init;
  so.test_unconstrained_max = cfg.planted(PlantedBug::kUnconstrainedBcql);
  // The planted bug stops early: the fixed point is then off by less than the stopping rule's
  // bound, which only a tight comparison below sees.
  if (cfg.planted(PlantedBug::kLooseStoppingRule)) so.tolerance = 1e-4;
  bcql::SynchronousResult sync = bcql::run_synchronous(pb, so);
  require(sync.converged, "synchronous BCQL did not converge");
  ValueResult q_star = policy_iteration(mdp);
  const double tol = 1e-8 * scale_of(q_star.Q);
  for (int s = 0; s < mdp.num_states(); ++s)
    for (int a = 0; a < mdp.num_actions(); ++a) {
      double d = std::abs(sync.Q(s, a) - q_star.Q(s, a));
      require(d <= tol, "BCQL fixed point " + std::to_string(sync.Q(s, a)) + " != Q* " + std::to_string(q_star.Q(s, a)) +
                            " at " + fmt_pair(s, a) + " (" + c.description + ")");
    }
}

void sampled(const CheckConfig& cfg, bool robbins_monro, Determinism determinism) {
  DrawSpec spec;
  spec.exact_batch = true;
  spec.sampled_gamma = true;
  spec.determinism = determinism;
  Case c = draw_case(spec);
  const FiniteMdp& mdp = *c.mdp;
  bcql::PreparedBatch pb = bcql::prepare_batch(mdp, batch_under_test(c, cfg));
  const uint64_t seed = static_cast<uint64_t>(*rc::gen::inRange(0, 1 << 20));
  bcql::SampledOptions so = sampled_options(c, pb, bcql::Algorithm::kBcql, robbins_monro, seed);
  so.test_unconstrained_max = cfg.planted(PlantedBug::kUnconstrainedBcql);
  bcql::SampledResult run = bcql::run_sampled(pb, so);
  require_sampled_close(c, pb, run, policy_iteration(mdp).Q, "sampled BCQL vs Q*", seed);
}

}  // namespace

void add_theorem3(std::vector<Statement>& out) {
  out.push_back({"theorem3", "Theorem 3: BCQL with every (s,a) sampled in the true proportions converges to Q* (fixed point vs policy iteration on M)",
                 false, true, "", "", false, exact});
  out.push_back({"theorem3-sampled", "Theorem 3: sampled BCQL (Eq. 6, alpha = 1/n^0.6) from the environment ends within the statistical tolerance of Q*",
                 false, true, "", "", true, [](const CheckConfig& cfg) { sampled(cfg, true, Determinism::kAny); }});
  out.push_back({"probe:theorem3-constant-step", "Theorem 3 with a constant step size (alpha = 0.5) in a stochastic MDP", true,
                 true, "Robbins-Monro step sizes",
                 "A constant step never averages the noise of the sampled successor away: the BCQL iterate keeps "
                 "jumping by alpha times the latest target error, which in a stochastic MDP stays of the order of the "
                 "spread of r + gamma max Q(s').",
                 true,
                 [](const CheckConfig& cfg) { sampled(cfg, cfg.restore_dropped_condition, Determinism::kStochastic); }});
}

}  // namespace bcq::proofs
