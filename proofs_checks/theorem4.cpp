// Theorem 4: in a deterministic MDP with a coherent B, BCQL converges to Q^{pi*}_B, pi* the
// optimal batch-constrained policy: Q^{pi*}(s,a) >= Q^pi(s,a) for every batch-constrained pi and
// (s,a) in B, and these values are the true values in M, so BCQL matches or beats every
// batch-constrained behaviour policy from the states of B.
// Checks, each against a different computation:
//  (i)   synchronous BCQL (bcql/synchronous) = batch-constrained policy iteration in the true M
//        (bcql/batch_constrained_vi, exact linear solves) on (s,a) in B;
//  (ii)  those values are true: the greedy in-batch policy of BCQL, evaluated in M by a linear
//        solve (mdp/solve), has the same Q on (s,a) in B;
//  (iii) a batch-constrained policy drawn at random, evaluated in M, never beats them on (s,a)
//        in B, nor V from any state in B;
//  sampled: Eq. 6 with alpha = 1/n^0.6 ends within the statistical tolerance of (i).
#include <string>

#include "bcql/batch_constrained_vi.hpp"
#include "bcql/synchronous.hpp"
#include "proofs_checks/draw.hpp"

namespace bcq::proofs {
namespace {

// (ii): the learned values on (s,a) in B equal the true values in M of the learned policy.
void learned_values_are_true(const Case& c, const bcql::PreparedBatch& pb, bcql::Algorithm algorithm, const QTable& learned) {
  const FiniteMdp& mdp = *c.mdp;
  std::vector<int> actions = bcql::learned_policy(pb, algorithm, learned);
  ValueResult truth = evaluate_policy(mdp, Policy::deterministic(actions, mdp.num_actions()), LinearSolver::kSparseLU);
  const double tol = 1e-8 * value_scale(c);
  for (int s = 0; s < mdp.num_states(); ++s)
    for (int a = 0; a < mdp.num_actions(); ++a) {
      if (!pb.counts.contains(s, a)) continue;
      double d = std::abs(learned(s, a) - truth.Q(s, a));
      require(d <= tol, std::string(bcql::to_string(algorithm)) + " values " + std::to_string(learned(s, a)) +
                            " at " + fmt_pair(s, a) + " but its greedy policy is worth " + std::to_string(truth.Q(s, a)) +
                            " in M (" + c.description + ", Q_init " + std::to_string(c.q_init) + ")");
    }
}

bcql::SynchronousResult synchronous(const Case& c, const bcql::PreparedBatch& pb, bcql::Algorithm algorithm,
                                    const CheckConfig& cfg) {
  bcql::SynchronousOptions so;
  so.algorithm = algorithm;
  so.q_init = c.q_init;
  so.test_unconstrained_max = cfg.planted(PlantedBug::kUnconstrainedBcql);
  bcql::SynchronousResult sync = bcql::run_synchronous(pb, so);
  require(sync.converged, "synchronous iteration did not converge");
  return sync;
}

void exact(const CheckConfig& cfg) {
  DrawSpec spec;
  spec.determinism = Determinism::kDeterministic;
  spec.batch = BatchKind::kCoherentTrajectories;
  spec.policy = PolicyKind::kBatchConstrained;
  Case c = draw_case(spec);
  const FiniteMdp& mdp = *c.mdp;
  RC_PRE(is_coherent(c.batch, mdp));
  bcql::PreparedBatch pb = bcql::prepare_batch(mdp, c.batch);
  bcql::SynchronousResult sync = synchronous(c, pb, bcql::Algorithm::kBcql, cfg);
  const double tol = 1e-8 * value_scale(c);

  // (i) Q^{pi*} by batch-constrained policy iteration in M.
  bcql::BatchConstrainedSolution star = bcql::batch_constrained_policy_iteration(mdp, bcql::allowed_actions(mdp, pb.counts));
  for (int s = 0; s < mdp.num_states(); ++s)
    for (int a = 0; a < mdp.num_actions(); ++a) {
      if (!pb.counts.contains(s, a)) continue;
      require(std::abs(sync.Q(s, a) - star.Q(s, a)) <= tol,
              "BCQL " + std::to_string(sync.Q(s, a)) + " != Q^{pi*} " + std::to_string(star.Q(s, a)) + " at " +
                  fmt_pair(s, a) + " (" + c.description + ")");
    }
  // (ii) the values are true values in M. The planted bug extracts the policy with Q-learning's
  // argmax over all actions (unseen ones hold Q_init): (i) still holds, (ii) does not.
  learned_values_are_true(c, pb,
                          cfg.planted(PlantedBug::kGreedyOverAllActions) ? bcql::Algorithm::kQLearning
                                                                         : bcql::Algorithm::kBcql,
                          sync.Q);
  // (iii) no batch-constrained policy does better from (s,a) in B or from s in B.
  RC_PRE(is_batch_constrained(mdp, c.batch, c.policy));
  ValueResult other = evaluate_policy(mdp, c.policy, LinearSolver::kSparseLU);
  for (int s = 0; s < mdp.num_states(); ++s) {
    if (!pb.counts.contains_state(s)) continue;
    double v_bcql = -1e300;
    for (int a = 0; a < mdp.num_actions(); ++a) {
      if (!pb.counts.contains(s, a)) continue;
      v_bcql = std::max(v_bcql, sync.Q(s, a));
      require(other.Q(s, a) <= sync.Q(s, a) + tol, "a batch-constrained policy beats BCQL at " + fmt_pair(s, a) + ": " +
                                                       std::to_string(other.Q(s, a)) + " > " + std::to_string(sync.Q(s, a)));
    }
    require(other.V[static_cast<size_t>(s)] <= v_bcql + tol,
            "a batch-constrained policy beats BCQL from state " + std::to_string(s));
  }
}

void sampled(const CheckConfig& cfg, bool robbins_monro) {
  DrawSpec spec;
  spec.determinism = Determinism::kDeterministic;
  spec.batch = BatchKind::kCoherentTrajectories;
  spec.sampled_gamma = true;
  Case c = draw_case(spec);
  const FiniteMdp& mdp = *c.mdp;
  RC_PRE(is_coherent(c.batch, mdp));
  bcql::PreparedBatch pb = bcql::prepare_batch(mdp, c.batch);
  const uint64_t seed = static_cast<uint64_t>(*rc::gen::inRange(0, 1 << 20));
  bcql::SampledOptions so = sampled_options(c, pb, bcql::Algorithm::kBcql, robbins_monro, seed);
  so.test_unconstrained_max = cfg.planted(PlantedBug::kUnconstrainedBcql);
  bcql::SampledResult run = bcql::run_sampled(pb, so);
  bcql::BatchConstrainedSolution star = bcql::batch_constrained_policy_iteration(mdp, bcql::allowed_actions(mdp, pb.counts));
  require_sampled_close(c, pb, run, star.Q, "sampled BCQL vs Q^{pi*}", seed);
}

// Probes: (ii) with one condition of Theorem 4 dropped, or with Q-learning instead of BCQL.
// With restore_dropped_condition the probe runs in Theorem 4's own setting (deterministic MDP,
// coherent B, BCQL) and must find nothing.
void probe_values_true(const CheckConfig& cfg, Determinism determinism, BatchKind batch, bcql::Algorithm algorithm) {
  if (cfg.restore_dropped_condition) {
    determinism = Determinism::kDeterministic;
    batch = BatchKind::kCoherentTrajectories;
    algorithm = bcql::Algorithm::kBcql;
  }
  DrawSpec spec;
  spec.determinism = determinism;
  spec.batch = batch;
  Case c = draw_case(spec);
  const FiniteMdp& mdp = *c.mdp;
  const bool coherent = is_coherent(c.batch, mdp);
  if (batch == BatchKind::kOpenTrajectories) RC_PRE(!coherent);
  if (batch == BatchKind::kCoherentTrajectories) RC_PRE(coherent);
  bcql::PreparedBatch pb = bcql::prepare_batch(mdp, c.batch);
  bcql::SynchronousResult sync = synchronous(c, pb, algorithm, cfg);
  learned_values_are_true(c, pb, algorithm, sync.Q);
}

}  // namespace

void add_theorem4(std::vector<Statement>& out) {
  out.push_back({"theorem4",
                 "Theorem 4: deterministic MDP, coherent B: BCQL's fixed point is Q^{pi*}, true in M, and no batch-constrained policy beats it",
                 false, true, "", "", false, exact});
  out.push_back({"theorem4-sampled",
                 "Theorem 4: sampled BCQL (Eq. 6, alpha = 1/n^0.6) ends within the statistical tolerance of Q^{pi*} on (s,a) in B",
                 false, true, "", "", true, [](const CheckConfig& cfg) { sampled(cfg, true); }});
  out.push_back({"probe:theorem4-stochastic", "Theorem 4 (BCQL's values are the true values) in a stochastic MDP", true, true,
                 "deterministic MDP",
                 "BCQL evaluates its policy in M_B, whose p_B are frequencies from a finite batch; in a stochastic MDP "
                 "they differ from p_M, so the learned values differ from the policy's true values (Lemma 1).",
                 false,
                 [](const CheckConfig& cfg) {
                   probe_values_true(cfg, Determinism::kStochastic, BatchKind::kCoherentTrajectories, bcql::Algorithm::kBcql);
                 }});
  out.push_back({"probe:theorem4-incoherent", "Theorem 4 (BCQL's values are the true values) with an incoherent batch", true,
                 true, "coherent B",
                 "A recorded transition into a non-terminal state with no data bootstraps from Q_init there (M_B's "
                 "s_init convention), not from what the policy would really earn after it.",
                 false,
                 [](const CheckConfig& cfg) {
                   probe_values_true(cfg, Determinism::kDeterministic, BatchKind::kOpenTrajectories, bcql::Algorithm::kBcql);
                 }});
  out.push_back({"probe:theorem4-constant-step", "Theorem 4 (sampled BCQL converges) with a constant step size (alpha = 0.5)",
                 true, false, "Robbins-Monro step sizes",
                 "Not necessary here: in a deterministic MDP every draw of (s,a) from a consistent batch has the same "
                 "reward and successor, so the sampled target has no noise and BCQL with any constant alpha in (0, 1] "
                 "is an asynchronous contraction that converges geometrically. The search should find nothing.",
                 true, [](const CheckConfig& cfg) { sampled(cfg, cfg.restore_dropped_condition); }});
  out.push_back({"probe:theorem4-q-learning", "Theorem 4's conclusion for unconstrained Q-learning instead of BCQL", true,
                 true, "the batch constraint of Eq. 6",
                 "Q-learning's max also ranges over pairs that B never saw, valued at Q_init (extrapolation error): with "
                 "an optimistic Q_init its greedy policy picks an unseen action and its values are not those of any "
                 "policy in M.",
                 false,
                 [](const CheckConfig& cfg) {
                   probe_values_true(cfg, Determinism::kDeterministic, BatchKind::kCoherentTrajectories,
                                     bcql::Algorithm::kQLearning);
                 }});
}

}  // namespace bcq::proofs
