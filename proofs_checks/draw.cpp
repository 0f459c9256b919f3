#include "proofs_checks/draw.hpp"

#include <algorithm>

namespace bcq::proofs {

std::string fmt_pair(int s, int a) { return "(" + std::to_string(s) + "," + std::to_string(a) + ")"; }

Case draw_case(const DrawSpec& spec) {
  MdpChoices mc = *gen_mdp_choices(spec.determinism);
  Case c;
  c.mdp.emplace(decode_mdp(mc, spec.sampled_gamma));
  const FiniteMdp& mdp = *c.mdp;
  // Determinism::kStochastic asks for a stochastic MDP; the choices can still decode to a
  // deterministic one (single successors, or one state), which is discarded.
  if (spec.determinism == Determinism::kStochastic) RC_PRE(!mdp.is_deterministic());
  if (spec.exact_batch) {
    c.batch = exact_frequency_batch(mdp, mc);
  } else {
    BatchChoices bc = *gen_batch_choices(spec.batch);
    c.batch = decode_batch(mdp, bc);
  }
  rc::Gen<bool> constrained = spec.policy == PolicyKind::kEither ? rc::gen::arbitrary<bool>()
                                                                  : rc::gen::just(spec.policy == PolicyKind::kBatchConstrained);
  PolicyChoices pc = *gen_policy_choices(constrained);
  c.policy = decode_policy(mdp, c.batch, pc);
  c.q_init = spec.random_q_init ? kQInits[*rc::gen::inRange(0, 3)] : 0.0;

  const bool deterministic = mdp.is_deterministic();
  const bool coherent = is_coherent(c.batch, mdp);
  const int S = mdp.num_states();
  c.description = std::string(deterministic ? "deterministic" : "stochastic") + ", " +
                  (coherent ? "coherent" : "incoherent") + ", |S|=" + std::to_string(S) +
                  ", |A|=" + std::to_string(mdp.num_actions()) + ", gamma=" + std::to_string(mdp.gamma()).substr(0, 4) +
                  ", |B|=" + std::to_string(c.batch.size());
  record_case(c);
  tag_case(std::string(deterministic ? "deterministic" : "stochastic"));
  tag_case(std::string(coherent ? "coherent" : "incoherent"));
  tag_case(std::string(S <= 3 ? "|S| 1-3" : S <= 6 ? "|S| 4-6" : "|S| 7-8"));
  bool start_in_batch = false;
  for (const Transition& t : c.batch.transitions) start_in_batch = start_in_batch || t.s == 0;
  tag_case(std::string(start_in_batch ? "s_0 in B" : "s_0 not in B"));
  return c;
}

QTable q_init_table(const Case& c) {
  const FiniteMdp& mdp = *c.mdp;
  QTable q(mdp.num_states(), mdp.num_actions(), c.q_init);
  for (int s = 0; s < mdp.num_states(); ++s)
    if (mdp.is_terminal(s))
      for (int a = 0; a < mdp.num_actions(); ++a) q.at(s, a) = 0.0;
  return q;
}

double scale_of(const QTable& q) {
  double m = 0.0;
  for (double v : q.values) m = std::max(m, std::abs(v));
  return 1.0 + m;
}

bcql::SampledOptions sampled_options(const Case& c, const bcql::PreparedBatch& pb, bcql::Algorithm algorithm,
                                     bool robbins_monro, uint64_t seed, long visits) {
  bcql::SampledOptions o;
  o.algorithm = algorithm;
  o.step = robbins_monro ? bcql::StepSchedule::polynomial(1.0, 0.6) : bcql::StepSchedule::constant(0.5);
  o.q_init = c.q_init;
  o.seed = seed;
  long n_min = -1;
  for (long n : pb.counts.n_sa)
    if (n > 0 && (n_min < 0 || n < n_min)) n_min = n;
  // Uniform draws from B visit (s,a) in proportion to N(s,a): give the rarest pair ~visits updates.
  o.max_updates = static_cast<int64_t>(visits) * static_cast<int64_t>(pb.transitions.size()) / std::max(1L, n_min);
  return o;
}

double sampled_tolerance(const Case& c, const bcql::SampledResult& run) {
  const FiniteMdp& mdp = *c.mdp;
  double r_max = 1.0;
  for (int s = 0; s < mdp.num_states(); ++s)
    for (int a = 0; a < mdp.num_actions(); ++a)
      for (const Outcome& o : mdp.outcomes(s, a)) r_max = std::max(r_max, std::abs(o.r));
  r_max = std::max(r_max, std::abs(c.q_init));
  const double v_max = r_max / (1.0 - mdp.gamma());
  int64_t n_min = -1;
  for (int64_t n : run.visits)
    if (n > 0 && (n_min < 0 || n < n_min)) n_min = n;
  // The last step of the rarest pair, under the Robbins-Monro schedule of the suite.
  const double alpha = std::pow(static_cast<double>(std::max<int64_t>(1, n_min)), -0.6);
  // An exponentially weighted average with step alpha of targets with spread <= V_max has a
  // standard deviation of about V_max sqrt(alpha / 2); allow 6 of them.
  return 6.0 * v_max * std::sqrt(alpha / 2.0);
}

}  // namespace bcq::proofs

namespace bcq::proofs {

QTable eps_direct(const FiniteMdp& mdp, const Batch& batch, const Policy& pi, double q_init) {
  QTable init(mdp.num_states(), mdp.num_actions(), q_init);
  FiniteMdp mb = batch_mdp(mdp, batch, init);
  ValueResult in_m = evaluate_policy(mdp, pi, LinearSolver::kSparseLU);
  ValueResult in_mb = evaluate_policy(mb, extend_to_batch_mdp(pi), LinearSolver::kSparseLU);
  QTable eps(mdp.num_states(), mdp.num_actions());
  for (int s = 0; s < mdp.num_states(); ++s)
    for (int a = 0; a < mdp.num_actions(); ++a) eps.at(s, a) = in_m.Q(s, a) - in_mb.Q(s, a);
  return eps;
}

std::vector<std::pair<int, int>> relevant_pairs(const FiniteMdp& mdp, const Policy& pi) {
  std::vector<char> mu = reachable_states(mdp, pi);
  std::vector<std::pair<int, int>> out;
  for (int s = 0; s < mdp.num_states(); ++s) {
    if (!mu[static_cast<size_t>(s)] || mdp.is_terminal(s)) continue;
    for (int a = 0; a < mdp.num_actions(); ++a)
      if (pi(s, a) > 0.0) out.emplace_back(s, a);
  }
  return out;
}

bool lemma1_condition(const FiniteMdp& mdp, const Batch& batch, const std::vector<std::pair<int, int>>& relevant) {
  BatchCounts counts = count_batch(batch, mdp.num_states(), mdp.num_actions());
  for (auto [s, a] : relevant) {
    if (!counts.contains(s, a)) return false;
    const auto& seen = counts.seen[static_cast<size_t>(s * mdp.num_actions() + a)];
    if (seen.size() != mdp.outcomes(s, a).size()) return false;
    for (const Outcome& o : seen)
      if (o.p != mdp.probability(s, a, o.next)) return false;
  }
  return true;
}

double max_relevant(const QTable& eps, const std::vector<std::pair<int, int>>& relevant) {
  double m = 0.0;
  for (auto [s, a] : relevant) m = std::max(m, std::abs(eps(s, a)));
  return m;
}

}  // namespace bcq::proofs

namespace bcq::proofs {
double value_scale(const Case& c) {
  const FiniteMdp& mdp = *c.mdp;
  double m = std::abs(c.q_init);
  for (int s = 0; s < mdp.num_states(); ++s)
    for (int a = 0; a < mdp.num_actions(); ++a)
      for (const Outcome& o : mdp.outcomes(s, a)) m = std::max(m, std::abs(o.r));
  return 1.0 + std::max(m, 1.0) / (1.0 - mdp.gamma());
}
}  // namespace bcq::proofs

namespace bcq::proofs {
double max_relevant_eps_over_rewards(const Case& c, double tol) {
  auto relevant = relevant_pairs(*c.mdp, c.policy);
  double worst = max_relevant(eps_direct(*c.mdp, c.batch, c.policy, c.q_init), relevant);
  bool recorded = worst > tol;
  for (uint64_t seed : {1u, 2u}) {
    auto [m2, b2] = with_generic_rewards(*c.mdp, c.batch, seed);
    double e = max_relevant(eps_direct(m2, b2, c.policy, c.q_init), relevant);
    if (e > tol && !recorded) {
      Case variant = c;
      variant.mdp.emplace(m2);
      variant.batch = b2;
      variant.description += ", generic rewards (seed " + std::to_string(seed) + ")";
      record_case(variant);
      recorded = true;
    }
    worst = std::max(worst, e);
  }
  return worst;
}
}  // namespace bcq::proofs

namespace bcq::proofs {
void require_sampled_close(const Case& c, const bcql::PreparedBatch& pb, const bcql::SampledResult& run,
                           const QTable& reference, const std::string& what, uint64_t seed) {
  const FiniteMdp& mdp = *c.mdp;
  const double tol = sampled_tolerance(c, run);
  for (int s = 0; s < mdp.num_states(); ++s)
    for (int a = 0; a < mdp.num_actions(); ++a) {
      if (!pb.counts.contains(s, a)) continue;
      const double d = std::abs(run.Q(s, a) - reference(s, a));
      require(d <= tol, what + ": " + std::to_string(run.Q(s, a)) + " vs " + std::to_string(reference(s, a)) + " at " +
                            fmt_pair(s, a) + ", |diff| " + std::to_string(d) + " > tolerance " + std::to_string(tol) +
                            " after " + std::to_string(run.updates) + " updates (seed " + std::to_string(seed) + "; " +
                            c.description + ")");
    }
}
}  // namespace bcq::proofs
