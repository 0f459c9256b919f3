// Properties of the graph analysis (mdp/analysis) against brute-force computations written
// here from THEORY.md's definitions: reachability (the support of mu_pi) by iterating the
// one-step image to a fixed point, coherence and batch-constrainedness by scanning B, and the
// existence of a batch-constrained policy by enumerating every deterministic policy. The theorem
// properties use these analyses only to sort cases, so a bug in them must fail here. Also, as
// properties over the same random MDPs: the probability-sum rule at its boundary, and the
// certified error bounds of value iteration and the synchronous sweeps against exact solves.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <cmath>

#include "bcql/batch_constrained_vi.hpp"
#include "bcql/synchronous.hpp"
#include "mdp/analysis.hpp"
#include "mdp/solve.hpp"
#include "proofs_checks/cases.hpp"
#include "proofs_checks/generators.hpp"

namespace {

using namespace bcq;
using namespace bcq::proofs;

struct Drawn {
  FiniteMdp mdp;
  Batch batch;
  Policy policy;
};

Drawn draw() {
  FiniteMdp mdp = decode_mdp(*gen_mdp_choices(Determinism::kAny));
  Batch batch = decode_batch(mdp, *gen_batch_choices(BatchKind::kAny));
  Policy policy = decode_policy(mdp, batch, *gen_policy_choices(rc::gen::arbitrary<bool>()));
  return {std::move(mdp), std::move(batch), std::move(policy)};
}

bool in_batch(const Batch& b, int s, int a) {
  for (const Transition& t : b.transitions)
    if (t.s == s && t.a == a) return true;
  return false;
}

bool state_in_batch(const Batch& b, int s) {
  for (const Transition& t : b.transitions)
    if (t.s == s) return true;
  return false;
}

// mu_pi(s) > 0: start from supp(d_0) and add one-step successors until nothing changes.
std::vector<char> brute_reachable(const FiniteMdp& mdp, const Policy& pi) {
  const int S = mdp.num_states();
  std::vector<char> r(static_cast<size_t>(S), 0);
  for (int s = 0; s < S; ++s) r[static_cast<size_t>(s)] = mdp.initial()[static_cast<size_t>(s)] > 0.0;
  for (bool changed = true; changed;) {
    changed = false;
    for (int s = 0; s < S; ++s) {
      if (!r[static_cast<size_t>(s)] || mdp.is_terminal(s)) continue;
      for (int a = 0; a < mdp.num_actions(); ++a) {
        if (!(pi(s, a) > 0.0)) continue;
        for (const Outcome& o : mdp.outcomes(s, a))
          if (o.p > 0.0 && !r[static_cast<size_t>(o.next)]) r[static_cast<size_t>(o.next)] = changed = true;
      }
    }
  }
  return r;
}

bool brute_batch_constrained(const FiniteMdp& mdp, const Batch& b, const Policy& pi) {
  std::vector<char> r = brute_reachable(mdp, pi);
  for (int s = 0; s < mdp.num_states(); ++s) {
    if (!r[static_cast<size_t>(s)] || mdp.is_terminal(s)) continue;
    for (int a = 0; a < mdp.num_actions(); ++a)
      if (pi(s, a) > 0.0 && !in_batch(b, s, a)) return false;
  }
  return true;
}

// A batch-constrained policy exists iff a deterministic one does: picking at every state one
// action of a batch-constrained pi's support reaches a subset of pi's states and only takes
// actions that pi takes there. So enumerate the |A|^|S| deterministic policies.
bool brute_exists(const FiniteMdp& mdp, const Batch& b) {
  const int S = mdp.num_states(), A = mdp.num_actions();
  std::vector<int> actions(static_cast<size_t>(S), 0);
  while (true) {
    if (brute_batch_constrained(mdp, b, Policy::deterministic(actions, A))) return true;
    int i = 0;
    // Next policy in lexicographic order (terminal states keep action 0: they take none).
    while (i < S && (mdp.is_terminal(i) || ++actions[static_cast<size_t>(i)] == A)) {
      actions[static_cast<size_t>(i)] = 0;
      ++i;
    }
    if (i == S) return false;
  }
}

RC_GTEST_PROP(GraphAnalysis, ReachabilityEqualsTheFixedPointOfOneStepSuccessors, ()) {
  Drawn d = draw();
  RC_ASSERT(reachable_states(d.mdp, d.policy) == brute_reachable(d.mdp, d.policy));
}

RC_GTEST_PROP(GraphAnalysis, CoherenceEqualsTheDefinition, ()) {
  Drawn d = draw();
  std::vector<Transition> expected;
  for (const Transition& t : d.batch.transitions)
    if (!d.mdp.is_terminal(t.s_next) && !state_in_batch(d.batch, t.s_next)) expected.push_back(t);
  std::vector<Transition> found = coherence_violations(d.batch, d.mdp);
  RC_TAG(expected.empty() ? "coherent" : "incoherent");
  RC_ASSERT(found.size() == expected.size());
  for (size_t i = 0; i < found.size(); ++i) {
    RC_ASSERT(found[i].s == expected[i].s);
    RC_ASSERT(found[i].a == expected[i].a);
    RC_ASSERT(found[i].s_next == expected[i].s_next);
  }
  RC_ASSERT(is_coherent(d.batch, d.mdp) == expected.empty());
  RC_ASSERT(analyze_batch(d.mdp, d.batch).coherent == expected.empty());
}

RC_GTEST_PROP(GraphAnalysis, BatchConstrainedEqualsTheDefinition, ()) {
  Drawn d = draw();
  const bool expected = brute_batch_constrained(d.mdp, d.batch, d.policy);
  RC_TAG(expected ? "batch-constrained" : "not batch-constrained");
  RC_ASSERT(is_batch_constrained(d.mdp, d.batch, d.policy) == expected);
  BatchCounts counts = count_batch(d.batch, d.mdp.num_states(), d.mdp.num_actions());
  RC_ASSERT(unconstrained_pairs(d.mdp, counts, d.policy).empty() == expected);
}

RC_GTEST_PROP(GraphAnalysis, ExistenceDecisionEqualsEnumeratingPolicies, ()) {
  Drawn d = draw();
  const bool expected = brute_exists(d.mdp, d.batch);
  RC_TAG(expected ? "exists" : "none exists");
  BatchConstrainedExistence e = find_batch_constrained_policy(d.mdp, d.batch);
  RC_ASSERT(e.exists == expected);
  if (e.exists) RC_ASSERT(brute_batch_constrained(d.mdp, d.batch, e.witness));
  RC_ASSERT(analyze_batch(d.mdp, d.batch).batch_constrained_policy_exists == expected);
}

RC_GTEST_PROP(GraphAnalysis, StartInBatchEqualsTheDefinition, ()) {
  Drawn d = draw();
  bool every = true, any = false;
  for (int s = 0; s < d.mdp.num_states(); ++s) {
    if (!(d.mdp.initial()[static_cast<size_t>(s)] > 0.0)) continue;
    const bool in = state_in_batch(d.batch, s);
    any = any || in;
    if (!d.mdp.is_terminal(s)) every = every && in;
  }
  BatchAnalysis a = analyze_batch(d.mdp, d.batch);
  RC_ASSERT(a.start_in_batch == every);
  RC_ASSERT(a.start_any_in_batch == any);
}

// |sum p - 1| <= 1e-9 is the rule: moving one outcome by 10^-k is refused for k <= 8 and
// accepted for k >= 10.
RC_GTEST_PROP(ValidationRules, ProbabilitySumBoundaryOnRandomMdps, ()) {
  FiniteMdp mdp = decode_mdp(*gen_mdp_choices(Determinism::kAny));
  MdpSpec spec = mdp.to_spec();
  RC_PRE(!spec.transitions.empty());
  const size_t row = static_cast<size_t>(*rc::gen::inRange<int>(0, static_cast<int>(spec.transitions.size())));
  const int k = *rc::gen::element(3, 5, 8, 10, 12);
  const double delta = (*rc::gen::arbitrary<bool>() ? 1.0 : -1.0) * std::pow(10.0, -k);
  Outcome& o = spec.transitions[row].outcomes.front();
  RC_PRE(o.p + delta >= 0.0 && o.p + delta <= 1.0);
  o.p += delta;
  bool refused = false;
  try {
    FiniteMdp::build(spec, "perturbed");
  } catch (const ValidationError& e) {
    refused = e.rule() == "probabilities-sum";
  }
  RC_TAG(k <= 8 ? "outside" : "inside");
  RC_ASSERT(refused == (k <= 8));
}

// Loose tolerances (1e-4) so that the stopping rules matter: the reported bound must cover the
// true error measured against policy iteration.
RC_GTEST_PROP(CertifiedBounds, ValueIterationAndSynchronousSweepsOnRandomMdps, ()) {
  FiniteMdp mdp = decode_mdp(*gen_mdp_choices(Determinism::kAny));
  Batch batch = decode_batch(mdp, *gen_batch_choices(BatchKind::kAny));
  const double tol = 1e-4;
  RC_TAG("gamma " + std::to_string(mdp.gamma()).substr(0, 4));
  ValueResult vi = value_iteration(mdp, tol);
  ValueResult truth = policy_iteration(mdp);
  double error = 0.0;
  for (size_t s = 0; s < vi.V.size(); ++s) error = std::max(error, std::abs(vi.V[s] - truth.V[s]));
  RC_ASSERT(vi.converged);
  RC_ASSERT(error <= vi.error_bound + 1e-12);
  RC_ASSERT(vi.error_bound <= tol);

  bcql::PreparedBatch pb = bcql::prepare_batch(mdp, batch);
  FiniteMdp mb = batch_mdp(mdp, batch, QTable(mdp.num_states(), mdp.num_actions(), 0.0));
  for (bcql::Algorithm algorithm : {bcql::Algorithm::kQLearning, bcql::Algorithm::kBcql}) {
    bcql::SynchronousOptions so;
    so.algorithm = algorithm;
    so.tolerance = tol;
    bcql::SynchronousResult r = bcql::run_synchronous(pb, so);
    QTable exact = algorithm == bcql::Algorithm::kQLearning
                       ? policy_iteration(mb).Q
                       : bcql::batch_constrained_policy_iteration(mb, bcql::allowed_actions(mb, pb.counts)).Q;
    double e = 0.0;
    for (int s = 0; s < mdp.num_states(); ++s)
      for (int a = 0; a < mdp.num_actions(); ++a) e = std::max(e, std::abs(r.Q(s, a) - exact(s, a)));
    RC_ASSERT(r.converged);
    RC_ASSERT(e <= r.error_bound + 1e-12);
    RC_ASSERT(r.error_bound <= tol);
  }
}

}  // namespace
