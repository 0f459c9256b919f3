// Theorem 2: in a deterministic MDP, for all reward functions, eps^pi_MDP = 0 iff pi is
// batch-constrained; if B is coherent and s_0 is in B, a batch-constrained policy exists.
// The iff compares a graph check (mdp/analysis: reachability + membership in B) with exact
// extrapolation errors (two policy evaluations). The existence part checks the fixed-point
// search of mdp/analysis and then the witness's error by evaluation.
#include <string>

#include "proofs_checks/draw.hpp"

namespace bcq::proofs {
namespace {

// eps on the relevant pairs is 0 for the case's rewards and for two generic reward functions.
bool zero_for_all_rewards(const Case& c, double tol, double* worst_out) {
  *worst_out = max_relevant_eps_over_rewards(c, tol);
  return *worst_out <= tol;
}

// The planted bug asks "(s,a) in B" of every non-terminal state with pi(a|s) > 0, reached or not.
bool batch_constrained_under_test(const Case& c, const CheckConfig& cfg) {
  if (!cfg.planted(PlantedBug::kTheorem2IgnoresReachability)) return is_batch_constrained(*c.mdp, c.batch, c.policy);
  BatchCounts counts = count_batch(c.batch, c.mdp->num_states(), c.mdp->num_actions());
  for (int s = 0; s < c.mdp->num_states(); ++s)
    for (int a = 0; a < c.mdp->num_actions(); ++a)
      if (!c.mdp->is_terminal(s) && c.policy(s, a) > 0.0 && !counts.contains(s, a)) return false;
  return true;
}

void iff(const CheckConfig& cfg, Determinism determinism, PolicyKind policy) {
  if (cfg.restore_dropped_condition) determinism = Determinism::kDeterministic;
  DrawSpec spec;
  spec.determinism = determinism;
  spec.policy = policy;
  Case c = draw_case(spec);
  const bool constrained = batch_constrained_under_test(c, cfg);
  if (policy == PolicyKind::kBatchConstrained) RC_PRE(constrained);
  tag_case(std::string(constrained ? "batch-constrained" : "not batch-constrained"));
  double worst = 0.0;
  const bool zero = zero_for_all_rewards(c, 1e-9 * value_scale(c), &worst);
  if (constrained) {
    require(zero, "pi is batch-constrained, yet |eps| = " + std::to_string(worst) + " on a relevant pair for some reward function (" + c.description + ")");
  } else {
    require(!zero, "pi is not batch-constrained, yet eps = 0 on every relevant pair for generic rewards (" +
                       c.description + ")");
  }
}

// With restore_dropped_condition a probe runs in the theorem's setting (deterministic MDP,
// coherent B with s_0 in it) and must find nothing.
void existence(const CheckConfig& cfg, Determinism determinism, BatchKind batch, bool drop_start) {
  if (cfg.restore_dropped_condition) {
    determinism = Determinism::kDeterministic;
    batch = BatchKind::kCoherentTrajectories;
    drop_start = false;
  }
  DrawSpec spec;
  spec.determinism = determinism;
  spec.batch = batch;
  Case c = draw_case(spec);
  const FiniteMdp& mdp = *c.mdp;
  if (drop_start) {
    // s_0 outside B: drop every transition from s_0.
    Batch kept;
    for (const Transition& t : c.batch.transitions)
      if (t.s != 0) kept.transitions.push_back(t);
    RC_PRE(!kept.empty());
    c.batch = kept;
    record_case(c);
  }
  BatchAnalysis a = analyze_batch(mdp, c.batch);
  if (batch == BatchKind::kOpenTrajectories) RC_PRE(!a.coherent);
  if (batch != BatchKind::kOpenTrajectories) RC_PRE(a.coherent);
  if (drop_start) RC_PRE(!a.start_in_batch);
  if (!drop_start) RC_PRE(a.start_in_batch);
  BatchConstrainedExistence e = find_batch_constrained_policy(mdp, c.batch);
  if (cfg.planted(PlantedBug::kExistenceUniformWitness)) e.witness = Policy::uniform(mdp.num_states(), mdp.num_actions());
  require(e.exists, "no batch-constrained policy exists (" + c.description + ")");
  require(is_batch_constrained(mdp, c.batch, e.witness), "the witness policy is not batch-constrained");
  // The witness's error vanishes (Theorem 2's "if" applied to it, computed by evaluation).
  if (mdp.is_deterministic()) {
    Case w = c;
    w.policy = e.witness;
    double worst = 0.0;
    require(zero_for_all_rewards(w, 1e-9 * value_scale(c), &worst),
            "the witness has |eps| = " + std::to_string(worst) + " on a relevant pair");
  }
}

}  // namespace

void add_theorem2(std::vector<Statement>& out) {
  out.push_back({"theorem2", "Theorem 2: in a deterministic MDP, eps^pi_MDP = 0 for all rewards iff pi is batch-constrained",
                 false, true, "", "", false, [](const CheckConfig& cfg) { iff(cfg, Determinism::kDeterministic, PolicyKind::kEither); }});
  out.push_back({"theorem2-existence",
                 "Theorem 2: in a deterministic MDP with a coherent B containing s_0, a batch-constrained policy exists",
                 false, true, "", "", false,
                 [](const CheckConfig& cfg) { existence(cfg, Determinism::kDeterministic, BatchKind::kCoherentTrajectories, false); }});
  out.push_back({"probe:theorem2-stochastic", "Theorem 2's \"if\" (batch-constrained => eps = 0) in a stochastic MDP",
                 true, true, "deterministic MDP",
                 "A batch-constrained policy only visits pairs seen in B, but in a stochastic MDP a finite batch "
                 "estimates p_M by frequencies: when N(s,a,s')/N(s,a) != p_M(s'|s,a) the values of M_B and M differ "
                 "(Lemma 1), so eps != 0.",
                 false, [](const CheckConfig& cfg) { iff(cfg, Determinism::kStochastic, PolicyKind::kBatchConstrained); }});
  out.push_back({"probe:theorem2-existence-stochastic",
                 "Theorem 2's existence claim (coherent B, s_0 in B) in a stochastic MDP", true, true, "deterministic MDP",
                 "Coherence only says that the successors *recorded* in B are in B; in a stochastic MDP an in-batch "
                 "action may also lead, with positive probability, to a state that B never saw, and every in-batch "
                 "action of s_0 can do so.",
                 false, [](const CheckConfig& cfg) { existence(cfg, Determinism::kStochastic, BatchKind::kCoherentTrajectories, false); }});
  out.push_back({"probe:theorem2-existence-incoherent", "Theorem 2's existence claim with an incoherent batch", true, true,
                 "coherent B",
                 "If a recorded transition leads to a non-terminal state s' with no data, and every in-batch path from "
                 "s_0 passes through such a transition, every policy eventually reaches s' and must act there "
                 "outside B.",
                 false, [](const CheckConfig& cfg) { existence(cfg, Determinism::kDeterministic, BatchKind::kOpenTrajectories, false); }});
  out.push_back({"probe:theorem2-existence-no-start", "Theorem 2's existence claim with s_0 outside B", true, true,
                 "s_0 in B",
                 "mu_pi(s_0) > 0 for every policy, so the policy's action at s_0 is a relevant pair; if s_0 is not in "
                 "B, no action there is in B.",
                 false, [](const CheckConfig& cfg) { existence(cfg, Determinism::kDeterministic, BatchKind::kCoherentTrajectories, true); }});
}

}  // namespace bcq::proofs
