// Lemma 1 (both directions) and Remark 1.
// Lemma 1: for all reward functions, eps^pi_MDP = 0 iff p_B(.|s,a) = p_M(.|s,a) on every (s,a)
// with mu_pi(s) > 0 and pi(a|s) > 0. eps comes from two exact policy evaluations (Eq. 3, mdp/);
// the condition from counts of B (mdp/); bcql's report of the violating pairs is cross-checked.
// Remark 1: the linear system of Eq. 4 / 16 (bcql/, its own sparse LU) gives the same eps as the
// direct difference (two evaluations by mdp/).
#include <string>

#include "bcql/extrapolation_error.hpp"
#include "proofs_checks/draw.hpp"

namespace bcq::proofs {
namespace {

// The pairs Lemma 1's condition ranges over; the planted bug forgets mu_pi(s) > 0.
std::vector<std::pair<int, int>> relevant_under_test(const FiniteMdp& mdp, const Policy& pi, const CheckConfig& cfg) {
  if (!cfg.planted(PlantedBug::kLemma1IgnoresReachability)) return relevant_pairs(mdp, pi);
  std::vector<std::pair<int, int>> out;
  for (int s = 0; s < mdp.num_states(); ++s)
    for (int a = 0; a < mdp.num_actions(); ++a)
      if (!mdp.is_terminal(s) && pi(s, a) > 0.0) out.emplace_back(s, a);
  return out;
}

void lemma1(const CheckConfig& cfg) {
  Case c = draw_case({});
  const FiniteMdp& mdp = *c.mdp;
  auto relevant = relevant_under_test(mdp, c.policy, cfg);
  const bool condition = lemma1_condition(mdp, c.batch, relevant);
  tag_case(std::string(condition ? "condition holds" : "condition fails"));

  bcql::ExtrapolationOptions eo;
  eo.q_init = c.q_init;
  bcql::ExtrapolationError report = bcql::extrapolation_error(mdp, c.batch, c.policy, eo);
  require(report.lemma1_violations.empty() == condition,
          "bcql reports " + std::to_string(report.lemma1_violations.size()) +
              " pairs breaking Lemma 1's condition, the independent check says the condition " +
              (condition ? "holds" : "fails") + " (" + c.description + ")");

  const double tol = 1e-9 * value_scale(c);
  if (condition) {
    // (<=): eps vanishes on the relevant pairs for the case's rewards and for generic ones.
    double worst = max_relevant_eps_over_rewards(c, tol);
    require(worst <= tol, "p_B = p_M on every relevant pair, yet |eps| = " + std::to_string(worst) + " (" +
                              c.description + ")");
  } else {
    // (=>) by contraposition: some reward function exposes the mismatch; generic rewards do
    // with probability 1.
    double best = 0.0;
    for (uint64_t seed : {1u, 2u}) {
      auto [m2, b2] = with_generic_rewards(mdp, c.batch, seed);
      best = std::max(best, max_relevant(eps_direct(m2, b2, c.policy, c.q_init), relevant));
    }
    require(best > tol, "a relevant pair has p_B != p_M, yet eps = 0 on all relevant pairs for generic rewards (" +
                            c.description + ")");
  }
}

void remark1(const CheckConfig& cfg) {
  Case c = draw_case({});
  const FiniteMdp& mdp = *c.mdp;
  FiniteMdp mb = batch_mdp(mdp, c.batch, QTable(mdp.num_states(), mdp.num_actions(), c.q_init));
  QTable direct = eps_direct(mdp, c.batch, c.policy, c.q_init);
  const double tol = 1e-9 * value_scale(c);
  // Q^pi_B by a Krylov solve (a third method besides the two LU evaluations of eps_direct), used
  // only when it certifies itself: BiCGSTAB can stall (e.g. on a deterministic cycle of M_B) and
  // then returns an inexact V with converged = false and a large bound; the LU solve takes over.
  ValueResult q_b = evaluate_policy(mb, extend_to_batch_mdp(c.policy), LinearSolver::kBiCGSTAB);
  if (!q_b.converged || !(q_b.error_bound <= 0.01 * tol)) {
    tag_case("BiCGSTAB not certified, LU used");
    q_b = evaluate_policy(mb, extend_to_batch_mdp(c.policy), LinearSolver::kSparseLU);
  }
  // The planted bug feeds Eq. 16 the values in M instead of those in M_B.
  const QTable& values = cfg.planted(PlantedBug::kRemark1WrongValues)
                             ? evaluate_policy(mdp, c.policy, LinearSolver::kSparseLU).Q
                             : q_b.Q;
  QTable by_remark1 = bcql::extrapolation_error_remark1(mdp, mb, c.policy, values);
  double worst = max_abs_difference(direct, by_remark1);
  if (worst == 0.0) tag_case("bit-identical");
  require(worst <= tol, "Remark 1's solve differs from Q^pi - Q^pi_B by " + std::to_string(worst) + " (" +
                            c.description + ")");
}

}  // namespace

void add_lemma1(std::vector<Statement>& out) {
  out.push_back({"lemma1",
                 "Lemma 1: eps^pi_MDP = 0 for all rewards iff p_B = p_M on every (s,a) with mu_pi(s) > 0, pi(a|s) > 0",
                 false, true, "", "", false, lemma1});
}

void add_remark1(std::vector<Statement>& out) {
  out.push_back({"remark1", "Remark 1: the Bellman-like system of Eq. 4/16 gives eps_MDP = Q^pi - Q^pi_B (Eq. 3)", false,
                 true, "", "", false, remark1});
}

}  // namespace bcq::proofs
