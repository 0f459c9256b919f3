#include "proofs_checks/properties.hpp"

#include <memory>

namespace bcq::proofs {
namespace {
thread_local std::unique_ptr<Case> g_current;
thread_local std::unique_ptr<Case> g_failed;
}  // namespace

void record_case(const Case& c) { g_current = std::make_unique<Case>(c); }
const Case* failed_case() { return g_failed.get(); }
void clear_failed_case() { g_failed.reset(); }
void mark_current_case_failed() {
  if (g_current) g_failed = std::make_unique<Case>(*g_current);
}

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
