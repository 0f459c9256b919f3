// `bcq tabular` (sampled / synchronous Q-learning and BCQL on a batch) and `bcq error`
// (extrapolation error, direct and by Remark 1): thin wrappers over bcql/.
// --json [FILE] as every command has it (apps/cli_common.hpp JsonOutput).
#include <fmt/core.h>

#include <cmath>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "apps/cli_common.hpp"
#include "bcql/dense_evaluation.hpp"
#include "bcql/extrapolation_error.hpp"
#include "bcql/prepared_batch.hpp"
#include "bcql/safe_policy_improvement.hpp"
#include "bcql/sampled.hpp"
#include "bcql/synchronous.hpp"
#include "common/atomic_file.hpp"
#include "common/input_file.hpp"
#include "mdp/analysis.hpp"
#include "mdp/batch.hpp"
#include "mdp/io.hpp"

namespace bcq::cli {
namespace {

nlohmann::ordered_json table_json(const QTable& q) {
  nlohmann::ordered_json rows = nlohmann::ordered_json::array();
  for (int s = 0; s < q.num_states; ++s) {
    nlohmann::ordered_json row = nlohmann::ordered_json::array();
    for (int a = 0; a < q.num_actions; ++a) row.push_back(q(s, a));
    rows.push_back(row);
  }
  return rows;
}

void check_finite(double x, const char* name) {
  if (!std::isfinite(x)) throw InputError(std::string(name) + " must be finite");
}

// ---------------------------------------------------------------- bcq tabular

struct TabularOptions {
  std::string algo;
  std::string mdp_path;
  std::string batch_path;
  std::string mode = "sampled";
  int64_t iterations = 1000000;
  uint64_t seed = 0;
  std::string step = "rm";
  double alpha = 0.1;
  double c = 1.0;
  double w = 0.8;
  double q_init = 0.0;
  int64_t check_every = 0;
  double tol = -1.0;  // < 0: the mode's default
  JsonOutput json;
  std::string policy_out;
  // Safe policy improvement (basic-rl, spibb, spibb-leq, ramdp, vi-lcb, behaviour).
  std::string baseline_path;
  long n_wedge = 10;
  double kappa = 0.003;
  double lcb_c = 0.01;
};

// The safe-policy-improvement algorithms of bcql/safe_policy_improvement.hpp on one MDP and
// batch: the policy (S x A probabilities), its values in M_B and its true values in M.
void run_safe_improvement(const TabularOptions& o) {
  check_finite(o.q_init, "--q-init");
  check_finite(o.kappa, "--kappa");
  check_finite(o.lcb_c, "--lcb-c");
  if (o.n_wedge < 0) throw InputError("--n-wedge must be >= 0");
  if (o.kappa < 0) throw InputError("--kappa must be >= 0");
  if (o.lcb_c < 0) throw InputError("--lcb-c must be >= 0");
  const bool needs_baseline = o.algo == "spibb" || o.algo == "spibb-leq" || o.algo == "behaviour";
  if (needs_baseline && o.baseline_path.empty())
    throw InputError("--algo " + o.algo + " needs --baseline P (the behaviour policy, bcq-policy/1)");
  o.json.check({{"--mdp", o.mdp_path}, {"--batch", o.batch_path}, {"--baseline", o.baseline_path}});
  check_output_path("--policy-out", o.policy_out,
                    {{"--mdp", o.mdp_path}, {"--batch", o.batch_path}, {"--baseline", o.baseline_path}});
  const FiniteMdp mdp = load_mdp(o.mdp_path);
  const Batch batch = load_batch(o.batch_path);
  Policy pi_b;
  if (!o.baseline_path.empty())
    pi_b = load_policy(o.baseline_path, mdp.num_states(), mdp.num_actions());  // validated
  const bcql::MaximumLikelihoodModel model =
      bcql::maximum_likelihood_model(mdp, batch, o.q_init, o.batch_path);
  bcql::ImprovedPolicy result;
  nlohmann::ordered_json params;
  if (o.algo == "basic-rl") {
    result = bcql::basic_rl(model);
  } else if (o.algo == "spibb") {
    result = bcql::pi_b_spibb(model, pi_b, o.n_wedge);
    params["n_wedge"] = o.n_wedge;
  } else if (o.algo == "spibb-leq") {
    result = bcql::pi_leq_b_spibb(model, pi_b, o.n_wedge);
    params["n_wedge"] = o.n_wedge;
  } else if (o.algo == "ramdp") {
    result = bcql::ramdp(model, o.kappa);
    params["kappa"] = o.kappa;
  } else if (o.algo == "vi-lcb") {
    bcql::VilcbOptions opt;
    opt.c = o.lcb_c;
    result = bcql::vi_lcb(model, opt);
    const bcql::RewardRange range = bcql::reward_range(model);
    params["c"] = o.lcb_c;
    params["v_min"] = range.v_min;
    params["v_max"] = range.v_max;
  } else {  // behaviour: pi_b itself, valued in M_B
    result.policy = pi_b;
    result.Q = bcql::q_in_batch_mdp(model, pi_b);
    result.V.assign(static_cast<size_t>(mdp.num_states()), 0.0);
    for (int s = 0; s < mdp.num_states(); ++s)
      for (int a = 0; a < mdp.num_actions(); ++a)
        result.V[static_cast<size_t>(s)] += pi_b(s, a) * result.Q(s, a);
    result.converged = true;
  }
  if (!result.converged) set_failed_check();
  if (!o.policy_out.empty()) save_policy(result.policy, o.policy_out);
  const bcql::DensePolicyValue truth = bcql::evaluate_policy_dense(mdp, result.policy);
  double rho = 0.0, rho_batch = 0.0;
  for (int s = 0; s < mdp.num_states(); ++s) {
    rho += mdp.initial()[static_cast<size_t>(s)] * truth.V[static_cast<size_t>(s)];
    rho_batch += mdp.initial()[static_cast<size_t>(s)] * result.V[static_cast<size_t>(s)];
  }
  const bool constrained = unconstrained_pairs(mdp, model.counts, result.policy).empty();

  nlohmann::ordered_json out;
  out["format"] = "bcq-tabular/1";
  out["algorithm"] = o.algo;
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
  if (!o.json.replaces_text()) {
    std::cout << fmt::format("{}: {} improvement steps, {}; return from d_0: {:.6f} estimated "
                             "(model), {:.6f} true (MDP); {}batch-constrained\n",
                             o.algo, result.iterations, result.converged ? "converged" : "NOT converged",
                             rho_batch, rho, constrained ? "" : "not ");
    std::cout << fmt::format("{:>6} {:>11} {:>11}  pi(a|s) for a = 0..{} ('~': (s,a) not in the batch)\n",
                             "state", "V model", "V true", mdp.num_actions() - 1);
    for (int s = 0; s < mdp.num_states(); ++s) {
      std::string ps;
      for (int a = 0; a < mdp.num_actions(); ++a)
        ps += fmt::format(" {:>7.4f}{}", result.policy(s, a),
                          model.counts.contains(s, a) || mdp.is_terminal(s) ? " " : "~");
      std::cout << fmt::format("{:>6} {:>11.6f} {:>11.6f} {}{}\n", s, result.V[static_cast<size_t>(s)],
                               truth.V[static_cast<size_t>(s)], ps,
                               mdp.is_terminal(s) ? "  (terminal)" : "");
    }
  }
  o.json.emit(out.dump(1));
}

void run_tabular(const TabularOptions& o) {
  if (o.algo != "q-learning" && o.algo != "bcql") {
    run_safe_improvement(o);
    return;
  }
  const bcql::Algorithm algorithm = bcql::algorithm_from_string(o.algo);
  check_finite(o.q_init, "--q-init");
  if (o.iterations < 0) throw InputError("--iterations must be >= 0");
  if (o.check_every < 0) throw InputError("--check-every must be >= 0");
  o.json.check({{"--mdp", o.mdp_path}, {"--batch", o.batch_path}});
  check_output_path("--policy-out", o.policy_out, {{"--mdp", o.mdp_path}, {"--batch", o.batch_path}});
  const FiniteMdp mdp = load_mdp(o.mdp_path);
  const Batch batch = load_batch(o.batch_path);
  const bcql::PreparedBatch prepared = bcql::prepare_batch(mdp, batch, o.batch_path);

  nlohmann::ordered_json out;
  out["format"] = "bcq-tabular/1";
  out["algorithm"] = bcql::to_string(algorithm);
  out["mode"] = o.mode;
  out["mdp"] = o.mdp_path;
  out["batch"] = o.batch_path;
  out["num_states"] = mdp.num_states();
  out["num_actions"] = mdp.num_actions();
  out["gamma"] = mdp.gamma();
  out["batch_size"] = batch.size();
  out["q_init"] = o.q_init;

  QTable Q;
  std::string summary;
  if (o.mode == "sampled") {
    bcql::SampledOptions opt;
    opt.algorithm = algorithm;
    opt.step = o.step == "constant" ? bcql::StepSchedule::constant(o.alpha)
                                    : bcql::StepSchedule::polynomial(o.c, o.w);
    opt.q_init = o.q_init;
    opt.seed = o.seed;
    opt.max_updates = o.iterations;
    opt.check_every = o.check_every;
    opt.residual_tolerance = o.tol < 0.0 ? 1e-6 : o.tol;
    const bcql::SampledResult r = bcql::run_sampled(prepared, opt);
    Q = r.Q;
    // The diagnostic is reported even when it did not run during the run.
    const double residual = bcql::bellman_residual(prepared, algorithm, Q);
    const double bound = residual / (1.0 - mdp.gamma());
    out["seed"] = o.seed;
    out["step"] = opt.step.kind == bcql::StepSchedule::Kind::kConstant
                      ? nlohmann::ordered_json{{"kind", "constant"}, {"alpha", opt.step.alpha},
                                       {"robbins_monro", false}}
                      : nlohmann::ordered_json{{"kind", "polynomial"}, {"c", opt.step.c},
                                       {"w", opt.step.w},
                                       {"robbins_monro", opt.step.robbins_monro()}};
    out["updates"] = r.updates;
    out["stop"] = bcql::to_string(r.stop);
    out["convergence"] = {{"diagnostic", "bellman-residual"},
                          {"check_every", o.check_every},
                          {"tolerance", opt.residual_tolerance},
                          {"checks", r.residual_checks},
                          {"residual", residual},
                          {"error_bound", bound},
                          {"converged", r.stop == bcql::StopReason::kConverged}};
    summary = fmt::format(
        "{} sampled: {} updates, stopped by {} (Bellman residual {:.3g}, so max |Q - fixed "
        "point| <= {:.3g})",
        bcql::to_string(algorithm), r.updates, bcql::to_string(r.stop), residual, bound);
  } else {
    bcql::SynchronousOptions opt;
    opt.algorithm = algorithm;
    opt.q_init = o.q_init;
    opt.tolerance = o.tol < 0.0 ? 1e-11 : o.tol;
    if (!(opt.tolerance > 0.0)) throw InputError("--tol must be > 0 in synchronous mode");
    const bcql::SynchronousResult r = bcql::run_synchronous(prepared, opt);
    Q = r.Q;
    out["sweeps"] = r.sweeps;
    out["updates"] = static_cast<int64_t>(r.sweeps) *
                     static_cast<int64_t>(prepared.model.pair_sa.size());
    out["stop"] = r.converged ? "converged" : "max-sweeps";
    out["convergence"] = {{"diagnostic", "sweep-change"},
                          {"tolerance", opt.tolerance},
                          {"error_bound", r.error_bound},
                          {"converged", r.converged}};
    summary = fmt::format("{} synchronous: {} sweeps, {} (max |Q - fixed point| <= {:.3g})",
                          bcql::to_string(algorithm), r.sweeps,
                          r.converged ? "converged" : "NOT converged", r.error_bound);
    if (!r.converged) set_failed_check();
  }
  const std::vector<int> policy = bcql::learned_policy(prepared, algorithm, Q);
  out["Q"] = table_json(Q);
  out["greedy_policy"] = policy;
  nlohmann::ordered_json in_batch = nlohmann::ordered_json::array();
  for (int s = 0; s < mdp.num_states(); ++s) {
    nlohmann::ordered_json actions = nlohmann::ordered_json::array();
    for (int a = 0; a < mdp.num_actions(); ++a)
      if (prepared.counts.contains(s, a)) actions.push_back(a);
    in_batch.push_back(actions);
  }
  out["in_batch_actions"] = in_batch;

  if (!o.policy_out.empty())
    save_policy(Policy::deterministic(policy, mdp.num_actions()), o.policy_out);
  if (!o.json.replaces_text()) {
    std::cout << summary << "\n";
    std::cout << fmt::format("{:>6} {:>7}  Q(s,a) for a = 0..{} ('~': (s,a) not in the batch)\n",
                             "state", "greedy", mdp.num_actions() - 1);
    for (int s = 0; s < mdp.num_states(); ++s) {
      std::string qs;
      for (int a = 0; a < mdp.num_actions(); ++a)
        qs += fmt::format(" {:>11.6f}{}", Q(s, a),
                          prepared.counts.contains(s, a) || mdp.is_terminal(s) ? " " : "~");
      std::cout << fmt::format("{:>6} {:>7}{}{}\n", s,
                               mdp.is_terminal(s) ? std::string("-")
                                                  : std::to_string(policy[static_cast<size_t>(s)]),
                               qs, mdp.is_terminal(s) ? "  (terminal)" : "");
    }
  }
  o.json.emit(out.dump(1));
}

// ---------------------------------------------------------------- bcq error

struct ErrorOptions {
  std::string mdp_path;
  std::string batch_path;
  std::string policy_path;
  double q_init = 0.0;
  JsonOutput json;
};

void run_error(const ErrorOptions& o) {
  check_finite(o.q_init, "--q-init");
  o.json.check({{"--mdp", o.mdp_path}, {"--batch", o.batch_path}, {"--policy", o.policy_path}});
  const FiniteMdp mdp = load_mdp(o.mdp_path);
  const Batch batch = load_batch(o.batch_path);
  const Policy pi = load_policy(o.policy_path, mdp.num_states(), mdp.num_actions());  // validated
  bcql::ExtrapolationOptions opt;
  opt.q_init = o.q_init;
  opt.batch_source = o.batch_path;
  const bcql::ExtrapolationError e = bcql::extrapolation_error(mdp, batch, pi, opt);
  // Remark 1 must reproduce Eq. 3: a disagreement is a failed check (exit code 1).
  const double agreement_tol = 1e-9;
  const bool agree = e.max_difference <= agreement_tol;
  if (!agree) set_failed_check();

  auto pair_json = [](const bcql::RelevantPair& r) {
    nlohmann::ordered_json j = {{"s", r.s},       {"a", r.a},
                        {"mu", r.mu},     {"pi", r.pi},
                        {"in_batch", r.in_batch}, {"p_distance", r.p_distance},
                        {"eps", r.eps},   {"breaks_lemma1", r.breaks_lemma1}};
    if (r.breaks_lemma1) j["reason"] = r.in_batch ? "p_B != p_M" : "missing from batch";
    return j;
  };
  nlohmann::ordered_json out;
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
  nlohmann::ordered_json relevant = nlohmann::ordered_json::array(), violations = nlohmann::ordered_json::array();
  for (const auto& r : e.relevant) relevant.push_back(pair_json(r));
  for (const auto& r : e.lemma1_violations) violations.push_back(pair_json(r));
  out["relevant_pairs"] = relevant;
  out["lemma1_violations"] = violations;
  out["lemma1_condition_holds"] = e.lemma1_violations.empty();

  if (!o.json.replaces_text()) {
    std::cout << fmt::format(
        "extrapolation error of {} on {} with batch {} ({} transitions), gamma {}\n",
        o.policy_path, o.mdp_path, o.batch_path, batch.size(), mdp.gamma());
    std::cout << fmt::format("eps^pi_MDP (Eq. 5) = {:.9g}   (Remark 1: {:.9g})\n", e.eps_pi_mdp,
                             e.eps_pi_mdp_remark1);
    std::cout << fmt::format("max |eps direct (Eq. 3) - eps Remark 1 (Eq. 16)| = {:.3g}  ({})\n",
                             e.max_difference, agree ? "agree" : "DISAGREE");
    std::cout << fmt::format("{:>6} {:>4} {:>10} {:>6} {:>8} {:>13} {:>13} {:>13}  {}\n", "state",
                             "a", "mu(s)", "pi", "in B", "Q^pi", "Q^pi_B", "eps", "Lemma 1");
    for (const auto& r : e.relevant) {
      std::cout << fmt::format("{:>6} {:>4} {:>10.6f} {:>6.3f} {:>8} {:>13.6f} {:>13.6f} {:>13.6f}  {}\n",
                               r.s, r.a, r.mu, r.pi, r.in_batch ? "yes" : "no", e.q_pi(r.s, r.a),
                               e.q_pi_batch(r.s, r.a), r.eps,
                               !r.breaks_lemma1 ? "ok"
                               : r.in_batch     ? "p_B != p_M"
                                                : "missing from batch");
    }
    std::cout << fmt::format("{} relevant pairs, {} break Lemma 1's condition (p_B = p_M on every "
                             "relevant pair)\n",
                             e.relevant.size(), e.lemma1_violations.size());
  }
  o.json.emit(out.dump(1));
}

}  // namespace

void add_tabular_commands(CLI::App& app) {
  auto t = std::make_shared<TabularOptions>();
  CLI::App* tab = app.add_subcommand(
      "tabular", "Q-learning (Eq. 2) or BCQL (Eq. 6) on a batch, sampled or synchronous, or a "
                 "safe policy improvement baseline (basic RL, SPIBB, RaMDP, VI-LCB)");
  tab->add_option("--algo", t->algo,
                  "q-learning | bcql | basic-rl | spibb | spibb-leq | ramdp | vi-lcb | behaviour")
      ->required()
      ->check(CLI::IsMember({"q-learning", "bcql", "basic-rl", "spibb", "spibb-leq", "ramdp",
                             "vi-lcb", "behaviour"}));
  tab->add_option("--mdp", t->mdp_path, "MDP file (bcq-mdp/1 JSON)")->required();
  tab->add_option("--batch", t->batch_path, "batch CSV (s,a,r,s_next,done)")->required();
  tab->add_option("--mode", t->mode,
                  "sampled (uniform draws from B) | synchronous (expected update to the fixed point)")
      ->check(CLI::IsMember({"sampled", "synchronous"}));
  tab->add_option("--iterations", t->iterations, "sampled: number of updates (default 1000000)")
      ->check(whole_number(0, 1000000000000));
  tab->add_option("--seed", t->seed, "sampled: seed of the uniform draws")->check(seed_number());
  tab->add_option("--step", t->step,
                  "sampled: rm (alpha = c / n(s,a)^w, Robbins-Monro for w in (0.5,1]) | constant")
      ->check(CLI::IsMember({"rm", "constant"}));
  tab->add_option("--alpha", t->alpha, "constant step size in (0, 1] (default 0.1)");
  tab->add_option("--c", t->c, "rm: scale c > 0 (default 1)");
  tab->add_option("--w", t->w, "rm: exponent w in (0, 1] (default 0.8)");
  tab->add_option("--q-init", t->q_init, "Q_init for every (s,a) (default 0)");
  tab->add_option("--check-every", t->check_every,
                  "sampled: compute the Bellman residual every N updates and stop below --tol "
                  "(0 = never, the default)")
      ->check(whole_number(0, 1000000000000));
  tab->add_option("--tol", t->tol,
                  "sampled: residual tolerance (default 1e-6); synchronous: bound on "
                  "max |Q - fixed point| (default 1e-11)")
      ->check(real_above(0.0, 1e300));
  t->json.add_to(tab, "the result");
  tab->add_option("--policy-out", t->policy_out, "also write the learned policy (bcq-policy/1)");
  tab->add_option("--baseline", t->baseline_path,
                  "spibb, spibb-leq, behaviour: the behaviour policy pi_b (bcq-policy/1)");
  tab->add_option("--n-wedge", t->n_wedge,
                  "spibb, spibb-leq: N_wedge, pairs seen fewer times are bootstrapped (default 10)");
  tab->add_option("--kappa", t->kappa, "ramdp: reward penalty kappa / sqrt(N(s,a)) (default 0.003)");
  tab->add_option("--lcb-c", t->lcb_c,
                  "vi-lcb: bonus constant c of c V_max / sqrt(N(s,a)) (default 0.01)");
  tab->callback([t] { run_tabular(*t); });

  auto e = std::make_shared<ErrorOptions>();
  CLI::App* err = app.add_subcommand(
      "error", "Extrapolation error of a policy: direct (Eq. 3) and by Remark 1 (Eq. 16), Eq. 5");
  err->add_option("--mdp", e->mdp_path, "MDP file (bcq-mdp/1 JSON)")->required();
  err->add_option("--batch", e->batch_path, "batch CSV (s,a,r,s_next,done)")->required();
  err->add_option("--policy", e->policy_path, "policy file (bcq-policy/1 JSON)")->required();
  err->add_option("--q-init", e->q_init, "Q_init of M_B's unseen pairs (default 0)");
  e->json.add_to(err, "the result");
  err->callback([e] { run_error(*e); });
}

}  // namespace bcq::cli
