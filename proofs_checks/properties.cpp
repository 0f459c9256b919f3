#include "proofs_checks/properties.hpp"

#include <rapidcheck.h>

#include <memory>

namespace bcq::proofs {
namespace {
thread_local std::unique_ptr<Case> g_current;
thread_local std::unique_ptr<Case> g_failed;
thread_local std::string g_current_message;
thread_local std::string g_failed_message;
thread_local std::vector<std::string> g_current_tags;

struct PlantedBugName {
  PlantedBug bug;
  const char* name;
};
constexpr PlantedBugName kPlantedBugNames[] = {
    {PlantedBug::kNone, "none"},
    {PlantedBug::kQLearningBatchMax, "q-learning-batch-max"},
    {PlantedBug::kLemma1IgnoresReachability, "lemma1-ignores-reachability"},
    {PlantedBug::kRemark1WrongValues, "remark1-wrong-values"},
    {PlantedBug::kTheorem2IgnoresReachability, "theorem2-ignores-reachability"},
    {PlantedBug::kExistenceUniformWitness, "existence-uniform-witness"},
    {PlantedBug::kDropLastTransition, "drop-last-transition"},
    {PlantedBug::kUnconstrainedBcql, "unconstrained-bcql"},
    {PlantedBug::kLooseStoppingRule, "loose-stopping-rule"},
    {PlantedBug::kGreedyOverAllActions, "greedy-over-all-actions"},
    {PlantedBug::kDiscardEverything, "discard-everything"},
};
}  // namespace

const char* to_string(PlantedBug bug) {
  for (const auto& n : kPlantedBugNames)
    if (n.bug == bug) return n.name;
  return "unknown";
}

PlantedBug planted_bug_from_string(const std::string& name) {
  std::string known;
  for (const auto& n : kPlantedBugNames) {
    if (name == n.name) return n.bug;
    known += std::string(known.empty() ? "" : ", ") + n.name;
  }
  throw InputError("no planted bug called " + name + " (known: " + known + ")");
}

std::vector<PlantedBug> planted_bugs() {
  std::vector<PlantedBug> out;
  for (const auto& n : kPlantedBugNames)
    if (n.bug != PlantedBug::kNone) out.push_back(n.bug);
  return out;
}

void record_case(const Case& c) { g_current = std::make_unique<Case>(c); }
const Case* failed_case() { return g_failed.get(); }
void clear_failed_case() {
  g_failed.reset();
  g_failed_message.clear();
}
void mark_current_case_failed() {
  if (g_current) g_failed = std::make_unique<Case>(*g_current);
  g_failed_message = g_current_message;
}

void begin_case() {
  g_current.reset();
  g_current_message.clear();
  g_current_tags.clear();
}
void record_failure_message(const std::string& message) { g_current_message = message; }
const std::string& current_failure_message() { return g_current_message; }
const std::string& failed_case_message() { return g_failed_message; }
void tag_case(const std::string& tag) {
  g_current_tags.push_back(tag);
  RC_TAG(tag);
}
const std::vector<std::string>& current_tags() { return g_current_tags; }

const std::vector<Statement>& statements() {
  static const std::vector<Statement> all = [] {
    std::vector<Statement> out;
    add_theorem1(out);
    add_lemma1(out);
    add_remark1(out);
    add_theorem2(out);
    add_theorem3(out);
    add_theorem4(out);
    return out;
  }();
  return all;
}

const Statement& statement(const std::string& name) {
  for (const Statement& s : statements())
    if (s.name == name) return s;
  throw InputError("no statement called " + name);
}

}  // namespace bcq::proofs
