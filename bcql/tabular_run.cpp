#include "bcql/tabular_run.hpp"

#include <fmt/core.h>

#include <cmath>
#include <vector>

#include "bcql/dense_evaluation.hpp"
#include "bcql/extrapolation_error.hpp"
#include "bcql/prepared_batch.hpp"
#include "bcql/safe_policy_improvement.hpp"
#include "bcql/synchronous.hpp"
#include "common/error.hpp"
#include "mdp/analysis.hpp"

namespace bcq::bcql {
namespace {

using Json = nlohmann::ordered_json;

Json table_json(const QTable& q) {
  Json rows = Json::array();
  for (int s = 0; s < q.num_states; ++s) {
    Json row = Json::array();
    for (int a = 0; a < q.num_actions; ++a) row.push_back(q(s, a));
    rows.push_back(row);
  }
  return rows;
}

void check_finite(double x, const char* name) {
  if (!std::isfinite(x)) throw InputError(std::string(name) + " must be finite");
}

bool needs_baseline(const std::string& algorithm) {
  return algorithm == "spibb" || algorithm == "spibb-leq" || algorithm == "behaviour";
}

// The safe-policy-improvement algorithms of safe_policy_improvement.hpp: the policy (S x A
// probabilities), its values in M_B and its true values in M.
TabularRun run_safe_improvement(const FiniteMdp& mdp, const Batch& batch, const TabularRequest& o) {
  const Policy& pi_b = o.baseline;
  // A command has validated it on loading; a wrong shape from another caller must not index out of range.
  if (needs_baseline(o.algorithm)) pi_b.validate(mdp.num_states(), mdp.num_actions(), o.baseline_path);
  const MaximumLikelihoodModel model = maximum_likelihood_model(mdp, batch, o.q_init, o.batch_path);
  ImprovedPolicy result;
  Json params;
  if (o.algorithm == "basic-rl") {
    result = basic_rl(model);
  } else if (o.algorithm == "spibb") {
    result = pi_b_spibb(model, pi_b, o.n_wedge);
    params["n_wedge"] = o.n_wedge;
  } else if (o.algorithm == "spibb-leq") {
    result = pi_leq_b_spibb(model, pi_b, o.n_wedge);
    params["n_wedge"] = o.n_wedge;
  } else if (o.algorithm == "ramdp") {
    result = ramdp(model, o.kappa);
    params["kappa"] = o.kappa;
  } else if (o.algorithm == "vi-lcb") {
    VilcbOptions opt;
    opt.c = o.lcb_c;
    result = vi_lcb(model, opt);
    const RewardRange range = reward_range(model);
    params["c"] = o.lcb_c;
    params["v_min"] = range.v_min;
    params["v_max"] = range.v_max;
  } else {  // behaviour: pi_b itself, valued in M_B
    result.policy = pi_b;
    result.Q = q_in_batch_mdp(model, pi_b);
    result.V.assign(static_cast<size_t>(mdp.num_states()), 0.0);
    for (int s = 0; s < mdp.num_states(); ++s)
      for (int a = 0; a < mdp.num_actions(); ++a)
        result.V[static_cast<size_t>(s)] += pi_b(s, a) * result.Q(s, a);
    result.converged = true;
  }
  const DensePolicyValue truth = evaluate_policy_dense(mdp, result.policy);
  double rho = 0.0, rho_batch = 0.0;
  for (int s = 0; s < mdp.num_states(); ++s) {
    rho += mdp.initial()[static_cast<size_t>(s)] * truth.V[static_cast<size_t>(s)];
    rho_batch += mdp.initial()[static_cast<size_t>(s)] * result.V[static_cast<size_t>(s)];
  }
  const bool constrained = unconstrained_pairs(mdp, model.counts, result.policy).empty();

  TabularRun run;
  run.converged = result.converged;
  run.policy = result.policy;
  Json& out = run.json;
  out["format"] = "bcq-tabular/1";
  out["algorithm"] = o.algorithm;
  out["mdp"] = o.mdp_path;
  out["batch"] = o.batch_path;
  if (!o.baseline_path.empty()) out["baseline"] = o.baseline_path;
  out["num_states"] = mdp.num_states();
  out["num_actions"] = mdp.num_actions();
  out["gamma"] = mdp.gamma();
  out["batch_size"] = batch.size();
  out["q_init"] = o.q_init;
  out["parameters"] = params;
  out["iterations"] = result.iterations;
  out["converged"] = result.converged;
  QTable policy_table(mdp.num_states(), mdp.num_actions());
  policy_table.values = result.policy.probs;
  out["policy"] = table_json(policy_table);
  out["Q"] = table_json(result.Q);
  out["V"] = result.V;
  out["V_true"] = truth.V;
  out["Q_true"] = table_json(truth.Q);
  out["return_estimated"] = rho_batch;
  out["return_true"] = rho;
  out["batch_constrained"] = constrained;

  run.text = fmt::format("{}: {} improvement steps, {}; return from d_0: {:.6f} estimated "
                         "(model), {:.6f} true (MDP); {}batch-constrained\n",
                         o.algorithm, result.iterations, result.converged ? "converged" : "NOT converged",
                         rho_batch, rho, constrained ? "" : "not ");
  run.text += fmt::format("{:>6} {:>11} {:>11}  pi(a|s) for a = 0..{} ('~': (s,a) not in the batch)\n",
                          "state", "V model", "V true", mdp.num_actions() - 1);
  for (int s = 0; s < mdp.num_states(); ++s) {
    std::string ps;
    for (int a = 0; a < mdp.num_actions(); ++a)
      ps += fmt::format(" {:>7.4f}{}", result.policy(s, a),
                        model.counts.contains(s, a) || mdp.is_terminal(s) ? " " : "~");
    run.text += fmt::format("{:>6} {:>11.6f} {:>11.6f} {}{}\n", s, result.V[static_cast<size_t>(s)],
                            truth.V[static_cast<size_t>(s)], ps, mdp.is_terminal(s) ? "  (terminal)" : "");
  }
  return run;
}

// Q-learning (Eq. 2) or BCQL (Eq. 6), sampled (sampled.hpp) or synchronous (synchronous.hpp).
TabularRun run_q_learning(const FiniteMdp& mdp, const Batch& batch, const TabularRequest& o) {
  const Algorithm algorithm = algorithm_from_string(o.algorithm);
  const PreparedBatch prepared = prepare_batch(mdp, batch, o.batch_path);

  TabularRun run;
  Json& out = run.json;
  out["format"] = "bcq-tabular/1";
  out["algorithm"] = to_string(algorithm);
  out["mode"] = o.mode;
  out["mdp"] = o.mdp_path;
  out["batch"] = o.batch_path;
  out["num_states"] = mdp.num_states();
  out["num_actions"] = mdp.num_actions();
  out["gamma"] = mdp.gamma();
  out["batch_size"] = batch.size();
  out["q_init"] = o.q_init;

  QTable Q;
  if (o.mode == "sampled") {
    SampledOptions opt;
    opt.algorithm = algorithm;
    opt.step = o.step;
    opt.q_init = o.q_init;
    opt.seed = o.seed;
    opt.max_updates = o.iterations;
    opt.check_every = o.check_every;
    opt.residual_tolerance = o.tol < 0.0 ? 1e-6 : o.tol;
    const SampledResult r = run_sampled(prepared, opt);
    Q = r.Q;
    // The diagnostic is reported even when it did not run during the run.
    const double residual = bellman_residual(prepared, algorithm, Q);
    const double bound = residual / (1.0 - mdp.gamma());
    out["seed"] = o.seed;
    out["step"] = opt.step.kind == StepSchedule::Kind::kConstant
                      ? Json{{"kind", "constant"}, {"alpha", opt.step.alpha}, {"robbins_monro", false}}
                      : Json{{"kind", "polynomial"}, {"c", opt.step.c}, {"w", opt.step.w},
                             {"robbins_monro", opt.step.robbins_monro()}};
    out["updates"] = r.updates;
    out["stop"] = to_string(r.stop);
    out["convergence"] = {{"diagnostic", "bellman-residual"},
                          {"check_every", o.check_every},
                          {"tolerance", opt.residual_tolerance},
                          {"checks", r.residual_checks},
                          {"residual", residual},
                          {"error_bound", bound},
                          {"converged", r.stop == StopReason::kConverged}};
    run.text = fmt::format(
        "{} sampled: {} updates, stopped by {} (Bellman residual {:.3g}, so max |Q - fixed "
        "point| <= {:.3g})\n",
        to_string(algorithm), r.updates, to_string(r.stop), residual, bound);
  } else {
    SynchronousOptions opt;
    opt.algorithm = algorithm;
    opt.q_init = o.q_init;
    opt.tolerance = o.tol < 0.0 ? 1e-11 : o.tol;
    if (!(opt.tolerance > 0.0)) throw InputError("--tol must be > 0 in synchronous mode");
    const SynchronousResult r = run_synchronous(prepared, opt);
    Q = r.Q;
    out["sweeps"] = r.sweeps;
    out["updates"] = static_cast<int64_t>(r.sweeps) * static_cast<int64_t>(prepared.model.pair_sa.size());
    out["stop"] = r.converged ? "converged" : "max-sweeps";
    out["convergence"] = {{"diagnostic", "sweep-change"},
                          {"tolerance", opt.tolerance},
                          {"error_bound", r.error_bound},
                          {"converged", r.converged}};
    run.text = fmt::format("{} synchronous: {} sweeps, {} (max |Q - fixed point| <= {:.3g})\n",
                           to_string(algorithm), r.sweeps, r.converged ? "converged" : "NOT converged",
                           r.error_bound);
    run.converged = r.converged;
  }
  const std::vector<int> policy = learned_policy(prepared, algorithm, Q);
  out["Q"] = table_json(Q);
  out["greedy_policy"] = policy;
  Json in_batch = Json::array();
  for (int s = 0; s < mdp.num_states(); ++s) {
    Json actions = Json::array();
    for (int a = 0; a < mdp.num_actions(); ++a)
      if (prepared.counts.contains(s, a)) actions.push_back(a);
    in_batch.push_back(actions);
  }
  out["in_batch_actions"] = in_batch;
  run.policy = Policy::deterministic(policy, mdp.num_actions());

  run.text += fmt::format("{:>6} {:>7}  Q(s,a) for a = 0..{} ('~': (s,a) not in the batch)\n", "state",
                          "greedy", mdp.num_actions() - 1);
  for (int s = 0; s < mdp.num_states(); ++s) {
    std::string qs;
    for (int a = 0; a < mdp.num_actions(); ++a)
      qs += fmt::format(" {:>11.6f}{}", Q(s, a), prepared.counts.contains(s, a) || mdp.is_terminal(s) ? " " : "~");
    run.text += fmt::format("{:>6} {:>7}{}{}\n", s,
                            mdp.is_terminal(s) ? std::string("-") : std::to_string(policy[static_cast<size_t>(s)]),
                            qs, mdp.is_terminal(s) ? "  (terminal)" : "");
  }
  return run;
}

}  // namespace

bool is_safe_policy_improvement(const std::string& algorithm) {
  return algorithm == "basic-rl" || algorithm == "spibb" || algorithm == "spibb-leq" || algorithm == "ramdp" ||
         algorithm == "vi-lcb" || algorithm == "behaviour";
}

void check_request(const TabularRequest& o) {
  if (is_safe_policy_improvement(o.algorithm)) {
    check_finite(o.q_init, "--q-init");
    check_finite(o.kappa, "--kappa");
    check_finite(o.lcb_c, "--lcb-c");
    if (o.n_wedge < 0) throw InputError("--n-wedge must be >= 0");
    if (o.kappa < 0) throw InputError("--kappa must be >= 0");
    if (o.lcb_c < 0) throw InputError("--lcb-c must be >= 0");
    if (needs_baseline(o.algorithm) && o.baseline_path.empty())
      throw InputError("--algo " + o.algorithm + " needs --baseline P (the behaviour policy, bcq-policy/1)");
    return;
  }
  algorithm_from_string(o.algorithm);  // q-learning or bcql, else InputError
  check_finite(o.q_init, "--q-init");
  if (o.iterations < 0) throw InputError("--iterations must be >= 0");
  if (o.check_every < 0) throw InputError("--check-every must be >= 0");
  if (o.mode != "sampled" && o.mode != "synchronous")
    throw InputError("--mode " + o.mode + ": expected sampled or synchronous");
}

TabularRun run_tabular(const FiniteMdp& mdp, const Batch& batch, const TabularRequest& request) {
  check_request(request);
  return is_safe_policy_improvement(request.algorithm) ? run_safe_improvement(mdp, batch, request)
                                                       : run_q_learning(mdp, batch, request);
}

void check_request(const ExtrapolationRequest& request) { check_finite(request.q_init, "--q-init"); }

ExtrapolationRun run_extrapolation_error(const FiniteMdp& mdp, const Batch& batch, const Policy& pi,
                                         const ExtrapolationRequest& o) {
  check_request(o);
  ExtrapolationOptions opt;
  opt.q_init = o.q_init;
  opt.batch_source = o.batch_path;
  const ExtrapolationError e = extrapolation_error(mdp, batch, pi, opt);
  // Remark 1 must reproduce Eq. 3: a disagreement is a failed check.
  const double agreement_tol = 1e-9;
  const bool agree = e.max_difference <= agreement_tol;

  auto pair_json = [](const RelevantPair& r) {
    Json j = {{"s", r.s},   {"a", r.a},     {"mu", r.mu},           {"pi", r.pi}, {"in_batch", r.in_batch},
              {"p_distance", r.p_distance}, {"eps", r.eps},         {"breaks_lemma1", r.breaks_lemma1}};
    if (r.breaks_lemma1) j["reason"] = r.in_batch ? "p_B != p_M" : "missing from batch";
    return j;
  };
  ExtrapolationRun run;
  run.methods_agree = agree;
  Json& out = run.json;
  out["format"] = "bcq-error/1";
  out["mdp"] = o.mdp_path;
  out["batch"] = o.batch_path;
  out["policy"] = o.policy_path;
  out["gamma"] = mdp.gamma();
  out["q_init"] = o.q_init;
  out["eps_direct"] = table_json(e.direct);
  out["eps_remark1"] = table_json(e.remark1);
  out["max_difference"] = e.max_difference;
  out["methods_agree"] = agree;
  out["eps_pi_mdp"] = e.eps_pi_mdp;
  out["eps_pi_mdp_remark1"] = e.eps_pi_mdp_remark1;
  out["q_pi"] = table_json(e.q_pi);
  out["q_pi_batch"] = table_json(e.q_pi_batch);
  out["visitation"] = e.visitation;
  std::vector<int> reachable;
  for (int s = 0; s < mdp.num_states(); ++s)
    if (e.reachable[static_cast<size_t>(s)]) reachable.push_back(s);
  out["reachable_states"] = reachable;
  Json relevant = Json::array(), violations = Json::array();
  for (const auto& r : e.relevant) relevant.push_back(pair_json(r));
  for (const auto& r : e.lemma1_violations) violations.push_back(pair_json(r));
  out["relevant_pairs"] = relevant;
  out["lemma1_violations"] = violations;
  out["lemma1_condition_holds"] = e.lemma1_violations.empty();

  run.text = fmt::format("extrapolation error of {} on {} with batch {} ({} transitions), gamma {}\n",
                         o.policy_path, o.mdp_path, o.batch_path, batch.size(), mdp.gamma());
  run.text += fmt::format("eps^pi_MDP (Eq. 5) = {:.9g}   (Remark 1: {:.9g})\n", e.eps_pi_mdp,
                          e.eps_pi_mdp_remark1);
  run.text += fmt::format("max |eps direct (Eq. 3) - eps Remark 1 (Eq. 16)| = {:.3g}  ({})\n", e.max_difference,
                          agree ? "agree" : "DISAGREE");
  run.text += fmt::format("{:>6} {:>4} {:>10} {:>6} {:>8} {:>13} {:>13} {:>13}  {}\n", "state", "a", "mu(s)", "pi",
                          "in B", "Q^pi", "Q^pi_B", "eps", "Lemma 1");
  for (const auto& r : e.relevant) {
    run.text += fmt::format("{:>6} {:>4} {:>10.6f} {:>6.3f} {:>8} {:>13.6f} {:>13.6f} {:>13.6f}  {}\n", r.s, r.a,
                            r.mu, r.pi, r.in_batch ? "yes" : "no", e.q_pi(r.s, r.a), e.q_pi_batch(r.s, r.a), r.eps,
                            !r.breaks_lemma1 ? "ok" : r.in_batch ? "p_B != p_M" : "missing from batch");
  }
  run.text += fmt::format("{} relevant pairs, {} break Lemma 1's condition (p_B = p_M on every relevant pair)\n",
                          e.relevant.size(), e.lemma1_violations.size());
  return run;
}

}  // namespace bcq::bcql
