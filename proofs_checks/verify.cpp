#include "proofs_checks/verify.hpp"

#include <chrono>
#include <filesystem>
#include <sstream>

#include <rapidcheck.h>
#include <rapidcheck/detail/Configuration.h>

#include <iostream>

#include "common/atomic_file.hpp"
#include "mdp/batch.hpp"
#include "mdp/io.hpp"

namespace bcq::proofs {
namespace {

// Keeps RapidCheck quiet: verify() reports results itself (the default listener prints a
// "reproduce" hint for every failure at exit, probes included).
class SilentListener : public rc::detail::TestListener {
 public:
  void onTestCaseFinished(const rc::detail::CaseDescription&) override {}
  void onShrinkTried(const rc::detail::CaseDescription&, bool) override {}
  void onTestFinished(const rc::detail::TestMetadata&, const rc::detail::TestResult&) override {}
};

bool selected(const Statement& st, const VerifyOptions& o) {
  if (st.probe && !o.include_probes) return false;
  if (o.theorem == "all") return true;
  if (st.name == o.theorem) return true;
  // "theorem2" selects theorem2, theorem2-existence and the probes of Theorem 2.
  std::string bare = st.probe ? st.name.substr(6) : st.name;
  return bare.rfind(o.theorem, 0) == 0 && (bare.size() == o.theorem.size() || bare[o.theorem.size()] == '-');
}

std::string file_name_of(const std::string& name) {
  std::string out;
  for (char ch : name) out += ch == ':' ? '-' : ch;
  return out;
}

}  // namespace

bool StatementReport::ok() const {
  if (gave_up) return false;
  if (!probe) return !failed;
  return failed == counterexample_expected;
}

bool VerifyReport::ok() const {
  for (const auto& s : statements)
    if (!s.ok()) return false;
  return true;
}

std::vector<std::string> statement_names() {
  std::vector<std::string> names;
  for (const Statement& s : statements()) names.push_back(s.name);
  return names;
}

std::string describe_case(const Case& c) {
  const FiniteMdp& mdp = *c.mdp;
  std::ostringstream out;
  out << c.description << ", Q_init " << c.q_init << "\n";
  out << "MDP (d_0 = state 0; terminal:";
  for (int s = 0; s < mdp.num_states(); ++s)
    if (mdp.is_terminal(s)) out << " " << s;
  out << ")\n";
  for (int s = 0; s < mdp.num_states(); ++s) {
    if (mdp.is_terminal(s)) continue;
    for (int a = 0; a < mdp.num_actions(); ++a) {
      out << "  (" << s << "," << a << ") ->";
      for (const Outcome& o : mdp.outcomes(s, a)) out << " " << o.next << " p=" << o.p << " r=" << o.r << ";";
      out << "\n";
    }
  }
  out << "batch (s,a,r,s'):";
  for (const Transition& t : c.batch.transitions) out << " (" << t.s << "," << t.a << "," << t.r << "," << t.s_next << ")";
  out << "\npolicy pi(a|s):";
  for (int s = 0; s < mdp.num_states(); ++s) {
    out << " [";
    for (int a = 0; a < mdp.num_actions(); ++a) out << (a ? " " : "") << c.policy(s, a);
    out << "]";
  }
  out << "\n";
  return out.str();
}

std::vector<std::string> save_case(const Case& c, const std::string& dir, const std::string& headline) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw InputError("cannot create " + dir + ": " + ec.message());
  std::vector<std::string> files = {dir + "/mdp.json", dir + "/batch.csv", dir + "/policy.json", dir + "/case.txt"};
  save_mdp(*c.mdp, files[0]);
  save_batch(c.batch, files[1]);
  save_policy(c.policy, files[2]);
  std::ostringstream txt;
  txt << headline << "\n\n" << describe_case(c) << "\nReplay:\n"
      << "  bcq batch analyze --mdp mdp.json --batch batch.csv\n"
      << "  bcq error --mdp mdp.json --batch batch.csv --policy policy.json --q-init " << c.q_init << "\n"
      << "  bcq tabular --algo bcql --mode synchronous --mdp mdp.json --batch batch.csv --q-init " << c.q_init << "\n"
      << "  bcq tabular --algo q-learning --mode synchronous --mdp mdp.json --batch batch.csv --q-init " << c.q_init << "\n"
      << "  bcq mdp solve mdp.json\n";
  write_file_atomic(files[3], txt.str());
  return files;
}

// RapidCheck prints "Using configuration: ..." to stderr when it first loads its settings;
// load them once with std::cerr muted (verify reports the seeds itself).
void load_rapidcheck_configuration_quietly() {
  static const bool loaded = [] {
    std::streambuf* saved = std::cerr.rdbuf(nullptr);
    rc::detail::configuration();
    std::cerr.rdbuf(saved);
    return true;
  }();
  (void)loaded;
}

VerifyReport verify(const VerifyOptions& options) {
  if (options.cases < 1) throw InputError("--cases must be at least 1");
  load_rapidcheck_configuration_quietly();
  std::vector<const Statement*> chosen;
  for (const Statement& st : statements())
    if (selected(st, options)) chosen.push_back(&st);
  if (chosen.empty()) {
    std::string names;
    for (const std::string& n : statement_names()) names += " " + n;
    throw InputError("--theorem " + options.theorem + ": no such statement (known: all" + names + ")");
  }
  VerifyReport report;
  for (size_t i = 0; i < chosen.size(); ++i) {
    const Statement& st = *chosen[i];
    if (options.on_start) options.on_start(st.name, i, chosen.size());
    StatementReport r;
    r.name = st.name;
    r.title = st.title;
    r.probe = st.probe;
    r.counterexample_expected = st.counterexample_expected;
    r.dropped = st.dropped;
    r.explanation = st.explanation;
    r.seed = options.seed + i;

    rc::detail::TestParams params;
    params.seed = r.seed;
    params.maxSuccess = options.cases;
    params.maxSize = 100;
    params.maxDiscardRatio = 20;
    int discards = 0;
    const CheckConfig config = options.config;
    clear_failed_case();
    auto property = [&st, &discards, config] {
      try {
        st.property(config);
      } catch (const rc::detail::CaseResult& result) {
        if (result.type == rc::detail::CaseResult::Type::Discard) {
          ++discards;
        } else {
          mark_current_case_failed();
        }
        throw;
      } catch (...) {
        mark_current_case_failed();
        throw;
      }
    };
    rc::detail::TestMetadata metadata;
    metadata.id = st.name;
    metadata.description = st.title;
    const auto start = std::chrono::steady_clock::now();
    SilentListener listener;
    rc::detail::TestResult result = rc::detail::checkTestable(property, metadata, params, listener);
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

    rc::detail::SuccessResult success;
    rc::detail::FailureResult failure;
    rc::detail::GaveUpResult gave_up;
    rc::detail::Error error;
    if (result.match(success)) {
      r.passed = success.numSuccess;
      r.cases_run = success.numSuccess;
      r.discarded = discards;
      for (const auto& [tags, count] : success.distribution)
        for (std::string tag : tags) {
          // RapidCheck shows string tags with quotes.
          if (tag.size() >= 2 && tag.front() == '"' && tag.back() == '"') tag = tag.substr(1, tag.size() - 2);
          r.tags[tag] += count;
        }
    } else if (result.match(failure)) {
      r.failed = true;
      r.passed = failure.numSuccess;
      r.cases_run = failure.numSuccess + 1;
      // Drop RapidCheck's "file:line: RC_FAIL(message)" preamble; keep the message.
      const std::string marker = "RC_FAIL(message)\n\n";
      const size_t at = failure.description.find(marker);
      r.failure = at == std::string::npos ? failure.description : failure.description.substr(at + marker.size());
      if (const Case* c = failed_case()) {
        r.counterexample = describe_case(*c);
        if (!options.out_dir.empty()) {
          std::string headline = (st.probe ? "Counterexample found by probe " : "FAILED statement ") + st.name + ": " +
                                 st.title + "\n" + failure.description;
          r.saved_files = save_case(*c, options.out_dir + "/" + file_name_of(st.name), headline);
        }
      }
    } else if (result.match(gave_up)) {
      r.gave_up = true;
      r.passed = gave_up.numSuccess;
      r.cases_run = gave_up.numSuccess;
      r.discarded = discards;
      r.failure = "gave up: " + gave_up.description;
    } else if (result.match(error)) {
      r.gave_up = true;
      r.failure = "error: " + error.description;
    }
    report.statements.push_back(std::move(r));
  }
  return report;
}

}  // namespace bcq::proofs
