// `bcq batch collect | analyze | mdp`: thin wrappers over mdp/batch*, mdp/analysis.
#include <fmt/core.h>

#include <cmath>
#include <iostream>
#include <nlohmann/json.hpp>

#include "apps/cli_common.hpp"
#include "common/atomic_file.hpp"
#include "common/input_file.hpp"
#include "mdp/analysis.hpp"
#include "mdp/batch.hpp"
#include "mdp/batch_mdp.hpp"
#include "mdp/io.hpp"

namespace bcq::cli {
namespace {

// Largest batch `batch collect` writes (docs/limits.md): ~20 bytes a CSV row, so ~200 MB,
// well within the 1 GiB input limit that reads it back.
constexpr uint64_t kMaxBatchSize = 10000000;

/// A policy argument: "uniform" or a bcq-policy/1 file.
Policy policy_argument(const std::string& arg, const FiniteMdp& mdp) {
  if (arg == "uniform") return Policy::uniform(mdp.num_states(), mdp.num_actions());
  return load_policy(arg, mdp.num_states(), mdp.num_actions());
}

struct CollectOptions {
  std::string mdp, policy = "uniform", out, mode = "trajectories";
  size_t size = 1000;
  int horizon = 100;
  uint64_t seed = 0;
};

void run_collect(const CollectOptions& o) {
  check_output_path("-o", o.out, {{"--mdp", o.mdp}, {"--policy", o.policy}});
  FiniteMdp mdp = load_mdp(o.mdp);
  Policy pi = policy_argument(o.policy, mdp);
  if (o.size == 0) throw InputError("--size must be positive");
  Batch batch = o.mode == "pairs" ? collect_independent(mdp, pi, o.size, o.seed)
                                  : collect_trajectories(mdp, pi, o.size, o.horizon, o.seed);
  save_batch(batch, o.out);
  std::cerr << fmt::format("wrote {} ({} transitions, {})\n", o.out, batch.size(), o.mode);
}

struct AnalyzeOptions {
  std::string mdp, batch, dot;
  JsonOutput json;
};

void run_analyze(const AnalyzeOptions& o) {
  check_output_path("--dot", o.dot, {{"--mdp", o.mdp}, {"--batch", o.batch}});
  o.json.check({{"--mdp", o.mdp}, {"--batch", o.batch}}, {{"--dot", o.dot}});
  FiniteMdp mdp = load_mdp(o.mdp);
  Batch batch = load_batch(o.batch);
  BatchAnalysis a = analyze_batch(mdp, batch, o.batch);
  if (!o.dot.empty()) write_file_atomic(o.dot, batch_to_dot(batch, mdp));
  if (o.json.requested()) {
    nlohmann::json out;
    out["transitions"] = a.transitions;
    out["distinct_pairs"] = a.distinct_pairs;
    out["non_terminal_pairs"] = a.non_terminal_pairs;
    out["coverage"] = a.non_terminal_pairs ? double(a.distinct_pairs) / double(a.non_terminal_pairs) : 0.0;
    out["states_in_batch"] = a.states_in_batch;
    out["coherent"] = a.coherent;
    nlohmann::json viol = nlohmann::json::array();
    for (const Transition& t : a.coherence_violations)
      viol.push_back({{"s", t.s}, {"a", t.a}, {"s_next", t.s_next}});
    out["coherence_violations"] = viol;
    out["start_in_batch"] = a.start_in_batch;
    out["start_any_in_batch"] = a.start_any_in_batch;
    out["batch_constrained_policy_exists"] = a.batch_constrained_policy_exists;
    out["safe_states"] = a.safe_states;
    out["p_b_equals_p_m"] = a.p_b_equals_p_m;
    o.json.emit(out, 1);
    if (o.json.replaces_text()) return;
  }
  auto yes = [](bool b) { return b ? "yes" : "no"; };
  std::cout << fmt::format("transitions                       {}\n", a.transitions);
  std::cout << fmt::format("distinct (s,a) in B               {} of {} non-terminal pairs ({:.1f}%)\n",
                           a.distinct_pairs, a.non_terminal_pairs,
                           a.non_terminal_pairs ? 100.0 * double(a.distinct_pairs) / double(a.non_terminal_pairs) : 0.0);
  std::cout << fmt::format("states in B                       {}\n", a.states_in_batch);
  std::cout << fmt::format("coherent                          {}", yes(a.coherent));
  if (!a.coherent) {
    const Transition& t = a.coherence_violations.front();
    std::cout << fmt::format(" ({} transitions lead outside B, e.g. ({},{}) -> {})", a.coherence_violations.size(),
                             t.s, t.a, t.s_next);
  }
  std::cout << "\n";
  std::cout << fmt::format("start state(s) in B               {}\n", yes(a.start_in_batch));
  std::cout << fmt::format("batch-constrained policy exists   {} ({} safe states)\n",
                           yes(a.batch_constrained_policy_exists), a.safe_states);
  std::cout << fmt::format("p_B = p_M on every (s,a) in B     {}\n", yes(a.p_b_equals_p_m));
}

struct BatchMdpOptions {
  std::string mdp, batch, out;
  double q_init = 0.0;
};

void run_batch_mdp(const BatchMdpOptions& o) {
  if (!std::isfinite(o.q_init)) throw InputError("--q-init must be finite");
  check_output_path("-o", o.out, {{"--mdp", o.mdp}, {"--batch", o.batch}});
  FiniteMdp mdp = load_mdp(o.mdp);
  Batch batch = load_batch(o.batch);
  QTable q_init(mdp.num_states(), mdp.num_actions(), o.q_init);
  FiniteMdp mb = batch_mdp(mdp, batch, q_init, o.batch);
  save_mdp(mb, o.out);
  std::cerr << fmt::format("wrote {} ({} states incl. s_init = {}, {} actions)\n", o.out, mb.num_states(),
                           s_init_of(mdp.num_states()), mb.num_actions());
}

}  // namespace

void add_batch_commands(CLI::App& app) {
  CLI::App* batch = app.add_subcommand("batch", "Batches: collect, analyze, build M_B");
  batch->require_subcommand(1);

  auto c = std::make_shared<CollectOptions>();
  CLI::App* collect = batch->add_subcommand("collect", "Collect a batch (CSV s,a,r,s_next,done) from a policy");
  collect->add_option("--mdp", c->mdp, "MDP file")->required();
  collect->add_option("--policy", c->policy, "behaviour policy file (bcq-policy/1) or \"uniform\"")->capture_default_str();
  collect->add_option("--size", c->size, "number of transitions")->capture_default_str()->check(whole_number(1, kMaxBatchSize));
  collect->add_option("--seed", c->seed, "seed")->capture_default_str()->check(seed_number());
  collect->add_option("--mode", c->mode, "trajectories (whole episodes from d_0: coherent) or pairs (independent draws)")->capture_default_str()
      ->check(CLI::IsMember({"trajectories", "pairs"}));
  collect->add_option("--horizon", c->horizon, "trajectories: maximum episode length H")->capture_default_str()
      ->check(whole_number(1, 1000000000));
  collect->add_option("-o,--out", c->out, "output CSV")->required();
  collect->callback([c] { run_collect(*c); });

  auto a = std::make_shared<AnalyzeOptions>();
  CLI::App* analyze = batch->add_subcommand("analyze", "Coherence, coverage, start-in-batch, batch-constrained policy exists");
  analyze->add_option("--mdp", a->mdp, "MDP file")->required();
  analyze->add_option("--batch", a->batch, "batch CSV")->required();
  a->json.add_to(analyze, "the analysis");
  analyze->add_option("--dot", a->dot, "also write the batch's state graph as Graphviz DOT");
  analyze->callback([a] { run_analyze(*a); });

  auto m = std::make_shared<BatchMdpOptions>();
  CLI::App* mb = batch->add_subcommand("mdp", "Write the batch MDP M_B (extra terminal state s_init = |S|)");
  mb->add_option("--mdp", m->mdp, "MDP file")->required();
  mb->add_option("--batch", m->batch, "batch CSV")->required();
  mb->add_option("--q-init", m->q_init, "Q_init: reward of the move to s_init for unseen (s,a) (default 0)");
  mb->add_option("-o,--out", m->out, "output MDP file")->required();
  mb->callback([m] { run_batch_mdp(*m); });
}

}  // namespace bcq::cli
