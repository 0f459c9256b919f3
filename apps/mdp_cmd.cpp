// `bcq mdp solve` and `bcq mdp generate`: thin wrappers over mdp/.
#include <fmt/core.h>
#include <fmt/ranges.h>

#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "apps/cli_common.hpp"
#include "common/atomic_file.hpp"
#include "common/input_file.hpp"
#include "mdp/generators.hpp"
#include "mdp/io.hpp"
#include "mdp/solve.hpp"

namespace bcq::cli {
namespace {

// Generator bounds (docs/limits.md): a generated MDP is written as JSON, ~60 bytes per
// outcome, so these keep the file and the solvers to minutes, not hours.
constexpr int64_t kMaxGeneratedStates = 1000000;
constexpr int64_t kMaxGeneratedPairs = 10000000;

struct SolveOptions {
  std::string mdp_path;
  JsonOutput json;
  std::string method = "pi";
  double tol = 1e-10;
  std::string policy_out;
};

void run_solve(const SolveOptions& o) {
  check_output_path("--policy-out", o.policy_out, {{"MDP", o.mdp_path}});
  o.json.check({{"MDP", o.mdp_path}}, {{"--policy-out", o.policy_out}});
  FiniteMdp mdp = load_mdp(o.mdp_path);
  ValueResult r = o.method == "vi" ? value_iteration(mdp, o.tol) : policy_iteration(mdp);
  std::vector<int> greedy = greedy_actions(mdp, r.Q);
  if (!o.policy_out.empty()) save_policy(Policy::deterministic(greedy, mdp.num_actions()), o.policy_out);
  if (o.json.requested()) {
    nlohmann::json out;
    out["mdp"] = mdp.name();
    out["method"] = o.method == "vi" ? "value-iteration" : "policy-iteration";
    out["iterations"] = r.iterations;
    out["converged"] = r.converged;
    out["error_bound"] = r.error_bound;
    out["V"] = r.V;
    nlohmann::json q = nlohmann::json::array();
    for (int s = 0; s < mdp.num_states(); ++s) {
      nlohmann::json row = nlohmann::json::array();
      for (int a = 0; a < mdp.num_actions(); ++a) row.push_back(r.Q(s, a));
      q.push_back(row);
    }
    out["Q"] = q;
    out["greedy_policy"] = greedy;
    o.json.emit(out, 1);
  }
  if (!o.json.replaces_text()) {
    std::cout << fmt::format("{}: {} states, {} actions, gamma {}; {} in {} iterations ({}), error bound {:.3g}\n",
                             mdp.name(), mdp.num_states(), mdp.num_actions(), mdp.gamma(),
                             o.method == "vi" ? "value iteration" : "policy iteration", r.iterations,
                             r.converged ? "converged" : "NOT converged", r.error_bound);
    std::cout << fmt::format("{:>6} {:>12} {:>7}  Q*(s,a) for a = 0..{}\n", "state", "V*", "greedy",
                             mdp.num_actions() - 1);
    for (int s = 0; s < mdp.num_states(); ++s) {
      std::string qs;
      for (int a = 0; a < mdp.num_actions(); ++a) qs += fmt::format(" {:>11.6f}", r.Q(s, a));
      std::cout << fmt::format("{:>6} {:>12.6f} {:>7}{}{}\n", s, r.V[static_cast<size_t>(s)],
                               mdp.is_terminal(s) ? std::string("-") : std::to_string(greedy[static_cast<size_t>(s)]),
                               qs, mdp.is_terminal(s) ? "  (terminal)" : "");
    }
  }
  if (!r.converged) set_failed_check();
}

struct GenerateOptions {
  std::string kind;
  std::string out;
  int states = 10, actions = 4, branching = 3, terminal = 0;
  uint64_t seed = 0;
  double gamma = 0.9;
  int n = 10;
  double slip = 0.0;
  int width = 4, height = 4;
  std::vector<std::string> walls;
  bool deterministic = false;
  // Options given on the command line, by the generators they apply to (others are refused).
  std::vector<std::pair<const CLI::Option*, std::vector<std::string>>> specific;
};

void run_generate(const GenerateOptions& o) {
  check_output_path("-o", o.out, {});
  for (const auto& [option, kinds] : o.specific) {
    if (option->count() == 0) continue;
    bool applies = false;
    for (const std::string& k : kinds) applies = applies || k == o.kind;
    if (!applies) {
      throw InputError(option->get_name() + " does not apply to the " + o.kind + " generator (it is for " +
                       fmt::format("{}", fmt::join(kinds, ", ")) + ")");
    }
  }
  if (o.kind == "garnet" || o.kind == "deterministic") {
    if (static_cast<int64_t>(o.states) * o.actions > kMaxGeneratedPairs) {
      throw InputError(fmt::format("--states x --actions is {}, over the limit of {} (s,a) pairs",
                                   static_cast<int64_t>(o.states) * o.actions, kMaxGeneratedPairs));
    }
    if (o.branching > o.states) throw InputError("--branching must be at most --states");
    if (o.terminal >= o.states) throw InputError("--terminal must be less than --states");
  }
  if (o.kind == "grid" && static_cast<int64_t>(o.width) * o.height > kMaxGeneratedStates) {
    throw InputError(fmt::format("--width x --height is {}, over the limit of {} states",
                                 static_cast<int64_t>(o.width) * o.height, kMaxGeneratedStates));
  }
  if (!(o.gamma >= 0.0 && o.gamma < 1.0)) throw InputError("--gamma must be in [0, 1), got " + std::to_string(o.gamma));
  FiniteMdp mdp = [&] {
    double slip = o.deterministic ? 0.0 : o.slip;
    if (o.kind == "garnet") return garnet(o.states, o.actions, o.deterministic ? 1 : o.branching, o.seed, o.gamma, o.terminal);
    if (o.kind == "deterministic") return garnet(o.states, o.actions, 1, o.seed, o.gamma, o.terminal);
    if (o.kind == "chain") return chain(o.n, slip, o.gamma);
    std::vector<std::pair<int, int>> walls;
    for (const std::string& w : o.walls) {
      int x = 0, y = 0;
      char comma = 0;
      std::istringstream in(w);
      if (!(in >> x >> comma >> y) || comma != ',' || !in.eof()) {
        throw InputError("--wall: expected X,Y, got \"" + w + "\"");
      }
      walls.emplace_back(x, y);
    }
    return gridworld(o.width, o.height, slip, walls, o.gamma);
  }();
  save_mdp(mdp, o.out);
  std::cerr << fmt::format("wrote {} ({} states, {} actions, {})\n", o.out, mdp.num_states(), mdp.num_actions(),
                           mdp.is_deterministic() ? "deterministic" : "stochastic");
}

}  // namespace

void add_mdp_commands(CLI::App& app) {
  CLI::App* mdp = app.add_subcommand("mdp", "Finite MDPs: solve exactly, generate");
  mdp->require_subcommand(1);

  auto solve = std::make_shared<SolveOptions>();
  CLI::App* s = mdp->add_subcommand("solve", "V*, Q* and the greedy policy of an MDP file");
  s->add_option("mdp", solve->mdp_path, "MDP file (bcq-mdp/1 JSON)")->required();
  solve->json.add_to(s, "V*, Q* and the greedy policy");
  s->add_option("--method", solve->method, "pi (policy iteration, exact) or vi (value iteration)")
      ->check(CLI::IsMember({"pi", "vi"}));
  s->add_option("--tol", solve->tol, "value iteration: bound on max |V - V*| at the stop")
      ->check(real_above(0.0, 1e300));
  s->add_option("--policy-out", solve->policy_out, "also write the greedy policy (bcq-policy/1)");
  s->callback([solve] { run_solve(*solve); });

  auto gen = std::make_shared<GenerateOptions>();
  CLI::App* g = mdp->add_subcommand("generate", "Write a generated MDP (garnet | chain | grid | deterministic)");
  g->add_option("kind", gen->kind, "garnet | chain | grid | deterministic (a garnet with branching 1)")
      ->required()
      ->check(CLI::IsMember({"garnet", "chain", "grid", "deterministic"}));
  g->add_option("-o,--out", gen->out, "output MDP file")->required();
  auto only = [&gen](CLI::Option* option, std::vector<std::string> kinds) {
    gen->specific.emplace_back(option, std::move(kinds));
  };
  const std::vector<std::string> garnets = {"garnet", "deterministic"};
  only(g->add_option("--states", gen->states, "garnet: number of states")->capture_default_str()
           ->check(whole_number(1, kMaxGeneratedStates)), garnets);
  only(g->add_option("--actions", gen->actions, "garnet: number of actions")->capture_default_str()->check(whole_number(1, 1000)),
       garnets);
  only(g->add_option("--branching", gen->branching, "garnet: successors per (s,a)")->capture_default_str()
           ->check(whole_number(1, 1000)), {"garnet"});
  only(g->add_option("--terminal", gen->terminal, "garnet: number of terminal states (the last ids)")->capture_default_str()
           ->check(whole_number(0, kMaxGeneratedStates)), garnets);
  only(g->add_option("--seed", gen->seed, "garnet: seed (same seed, same MDP on every machine)")->capture_default_str()
           ->check(seed_number()), garnets);
  g->add_option("--gamma", gen->gamma, "discount in [0, 1)")->capture_default_str();
  only(g->add_option("--n", gen->n, "chain: number of states")->capture_default_str()->check(whole_number(2, kMaxGeneratedStates)),
       {"chain"});
  only(g->add_option("--slip", gen->slip, "chain/grid: probability that a move fails and the agent stays")->capture_default_str(),
       {"chain", "grid"});
  only(g->add_option("--width", gen->width, "grid: width")->capture_default_str()->check(whole_number(1, kMaxGeneratedStates)),
       {"grid"});
  only(g->add_option("--height", gen->height, "grid: height")->capture_default_str()->check(whole_number(1, kMaxGeneratedStates)),
       {"grid"});
  only(g->add_option("--wall", gen->walls, "grid: blocked cell X,Y (repeatable)"), {"grid"});
  g->add_flag("--deterministic", gen->deterministic, "branching 1 / slip 0");
  g->footer(
      "Generators (d_0 = state 0 in each):\n"
      "  garnet         random MDP as in SPIBB: every (s,a) has --branching distinct successors drawn\n"
      "                 uniformly, probabilities from uniform cut points of [0,1]; r(s,a,s') uniform\n"
      "                 in [0,1); the last --terminal states are terminal. Same --seed, same MDP.\n"
      "  deterministic  a garnet with branching 1.\n"
      "  chain          --n states, actions 0 = left, 1 = right; a move fails (stays) with\n"
      "                 probability --slip; reaching the last state (terminal) pays 1, other steps 0.\n"
      "  grid           --width x --height cells, actions 0 = up, 1 = right, 2 = down, 3 = left;\n"
      "                 start (0,0), goal (w-1,h-1) terminal paying 1, each other step -0.01; state\n"
      "                 id = y * width + x; moves into a wall or off the grid stay; --slip as chain.\n"
      "An option of another generator is refused (e.g. --states with chain).");
  g->callback([gen] { run_generate(*gen); });
}

}  // namespace bcq::cli
