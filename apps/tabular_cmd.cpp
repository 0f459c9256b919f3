// `bcq tabular` (sampled / synchronous Q-learning and BCQL on a batch, or a safe policy
// improvement baseline) and `bcq error` (extrapolation error, direct and by Remark 1): parse,
// check the outputs, load the files, run bcql/tabular_run.hpp, print.
// --json [FILE] as every command has it (apps/cli_common.hpp JsonOutput).
#include <iostream>
#include <memory>
#include <string>

#include "apps/cli_common.hpp"
#include "bcql/tabular_run.hpp"
#include "mdp/batch.hpp"
#include "mdp/io.hpp"

namespace bcq::cli {
namespace {

// ---------------------------------------------------------------- bcq tabular

struct TabularOptions {
  bcql::TabularRequest request;  // all but the step schedule, which --step, --alpha, --c, --w pick
  std::string step = "rm";
  double alpha = 0.1;
  double c = 1.0;
  double w = 0.8;
  JsonOutput json;
  std::string policy_out;
};

void run_tabular(const TabularOptions& o) {
  bcql::TabularRequest request = o.request;
  request.step = o.step == "constant" ? bcql::StepSchedule::constant(o.alpha)
                                      : bcql::StepSchedule::polynomial(o.c, o.w);
  // q-learning and bcql ignore --baseline: neither read nor checked against the outputs.
  if (!bcql::is_safe_policy_improvement(request.algorithm)) request.baseline_path.clear();
  bcql::check_request(request);
  o.json.check({{"--mdp", request.mdp_path}, {"--batch", request.batch_path}, {"--baseline", request.baseline_path}},
               {{"--policy-out", o.policy_out}});
  check_output_path("--policy-out", o.policy_out,
                    {{"--mdp", request.mdp_path}, {"--batch", request.batch_path}, {"--baseline", request.baseline_path}});
  const FiniteMdp mdp = load_mdp(request.mdp_path);
  const Batch batch = load_batch(request.batch_path);
  if (!request.baseline_path.empty())  // validated
    request.baseline = load_policy(request.baseline_path, mdp.num_states(), mdp.num_actions());
  const bcql::TabularRun run = bcql::run_tabular(mdp, batch, request);
  if (!run.converged) set_failed_check();
  if (!o.policy_out.empty()) save_policy(run.policy, o.policy_out);
  if (!o.json.replaces_text()) std::cout << run.text;
  o.json.emit(run.json, 1);
}

// ---------------------------------------------------------------- bcq error

struct ErrorOptions {
  bcql::ExtrapolationRequest request;
  JsonOutput json;
};

void run_error(const ErrorOptions& o) {
  const bcql::ExtrapolationRequest& request = o.request;
  bcql::check_request(request);
  o.json.check({{"--mdp", request.mdp_path}, {"--batch", request.batch_path}, {"--policy", request.policy_path}});
  const FiniteMdp mdp = load_mdp(request.mdp_path);
  const Batch batch = load_batch(request.batch_path);
  const Policy pi = load_policy(request.policy_path, mdp.num_states(), mdp.num_actions());  // validated
  const bcql::ExtrapolationRun run = bcql::run_extrapolation_error(mdp, batch, pi, request);
  if (!run.methods_agree) set_failed_check();
  if (!o.json.replaces_text()) std::cout << run.text;
  o.json.emit(run.json, 1);
}

}  // namespace

void add_tabular_commands(CLI::App& app) {
  auto t = std::make_shared<TabularOptions>();
  CLI::App* tab = app.add_subcommand(
      "tabular", "Q-learning (Eq. 2) or BCQL (Eq. 6) on a batch, sampled or synchronous, or a "
                 "safe policy improvement baseline (basic RL, SPIBB, RaMDP, VI-LCB)");
  tab->add_option("--algo", t->request.algorithm,
                  "q-learning | bcql | basic-rl | spibb | spibb-leq | ramdp | vi-lcb | behaviour")
      ->required()
      ->check(CLI::IsMember({"q-learning", "bcql", "basic-rl", "spibb", "spibb-leq", "ramdp",
                             "vi-lcb", "behaviour"}));
  tab->add_option("--mdp", t->request.mdp_path, "MDP file (bcq-mdp/1 JSON)")->required();
  tab->add_option("--batch", t->request.batch_path, "batch CSV (s,a,r,s_next,done)")->required();
  tab->add_option("--mode", t->request.mode,
                  "sampled (uniform draws from B) | synchronous (expected update to the fixed point)")
      ->check(CLI::IsMember({"sampled", "synchronous"}));
  tab->add_option("--iterations", t->request.iterations, "sampled: number of updates (default 1000000)")
      ->check(whole_number(0, 1000000000000));
  tab->add_option("--seed", t->request.seed, "sampled: seed of the uniform draws")->check(seed_number());
  tab->add_option("--step", t->step,
                  "sampled: rm (alpha = c / n(s,a)^w, Robbins-Monro for w in (0.5,1]) | constant")
      ->check(CLI::IsMember({"rm", "constant"}));
  tab->add_option("--alpha", t->alpha, "constant step size in (0, 1] (default 0.1)");
  tab->add_option("--c", t->c, "rm: scale c > 0 (default 1)");
  tab->add_option("--w", t->w, "rm: exponent w in (0, 1] (default 0.8)");
  tab->add_option("--q-init", t->request.q_init, "Q_init for every (s,a) (default 0)");
  tab->add_option("--check-every", t->request.check_every,
                  "sampled: compute the Bellman residual every N updates and stop below --tol "
                  "(0 = never, the default)")
      ->check(whole_number(0, 1000000000000));
  tab->add_option("--tol", t->request.tol,
                  "sampled: residual tolerance (default 1e-6); synchronous: bound on "
                  "max |Q - fixed point| (default 1e-11)")
      ->check(real_above(0.0, 1e300));
  t->json.add_to(tab, "the result");
  tab->add_option("--policy-out", t->policy_out, "also write the learned policy (bcq-policy/1)");
  tab->add_option("--baseline", t->request.baseline_path,
                  "spibb, spibb-leq, behaviour: the behaviour policy pi_b (bcq-policy/1)");
  tab->add_option("--n-wedge", t->request.n_wedge,
                  "spibb, spibb-leq: N_wedge, pairs seen fewer times are bootstrapped (default 10)");
  tab->add_option("--kappa", t->request.kappa, "ramdp: reward penalty kappa / sqrt(N(s,a)) (default 0.003)");
  tab->add_option("--lcb-c", t->request.lcb_c,
                  "vi-lcb: bonus constant c of c V_max / sqrt(N(s,a)) (default 0.01)");
  tab->callback([t] { run_tabular(*t); });

  auto e = std::make_shared<ErrorOptions>();
  CLI::App* err = app.add_subcommand(
      "error", "Extrapolation error of a policy: direct (Eq. 3) and by Remark 1 (Eq. 16), Eq. 5");
  err->add_option("--mdp", e->request.mdp_path, "MDP file (bcq-mdp/1 JSON)")->required();
  err->add_option("--batch", e->request.batch_path, "batch CSV (s,a,r,s_next,done)")->required();
  err->add_option("--policy", e->request.policy_path, "policy file (bcq-policy/1 JSON)")->required();
  err->add_option("--q-init", e->request.q_init, "Q_init of M_B's unseen pairs (default 0)");
  e->json.add_to(err, "the result");
  err->callback([e] { run_error(*e); });
}

}  // namespace bcq::cli
