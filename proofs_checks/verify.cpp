#include "proofs_checks/verify.hpp"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <sstream>
#include <stdexcept>

#include <rapidcheck.h>
#include <rapidcheck/detail/Configuration.h>

#include "common/atomic_file.hpp"
#include "common/random.hpp"
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

Verdict verdict_of(const StatementReport& r) {
  if (r.errored) return {false, "ERROR"};
  if (r.gave_up) return {false, "GAVE UP"};
  if (!r.probe) return r.failed ? Verdict{false, "FAILED"} : Verdict{true, "passed"};
  if (r.failed)
    return r.counterexample_expected ? Verdict{true, "counterexample found"} : Verdict{false, "UNEXPECTED counterexample"};
  return r.counterexample_expected ? Verdict{false, "NOT FOUND (expected one)"} : Verdict{true, "none found (as expected)"};
}

bool StatementReport::ok() const { return verdict_of(*this).ok; }

bool VerifyReport::ok() const {
  for (const auto& s : statements)
    if (!s.ok()) return false;
  return true;
}

int VerifyReport::exit_code() const { return ok() ? 0 : 1; }

uint64_t case_seed(uint64_t seed, const std::string& statement, int index) {
  // FNV-1a of the name, then splitmix64 over (seed, name, index): independent streams per
  // statement and case, the same on every machine and for every number of ranks.
  uint64_t name_hash = 0xcbf29ce484222325ULL;
  for (unsigned char ch : statement) name_hash = (name_hash ^ ch) * 0x100000001b3ULL;
  uint64_t state = seed;
  uint64_t x = splitmix64(state) ^ name_hash;
  uint64_t y = splitmix64(x) ^ static_cast<uint64_t>(index);
  return splitmix64(y);
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

namespace {

std::vector<const Statement*> chosen_statements(const VerifyOptions& options) {
  if (options.cases < 1) throw InputError("--cases must be at least 1");
  std::vector<const Statement*> chosen;
  for (const Statement& st : statements())
    if (selected(st, options)) chosen.push_back(&st);
  if (chosen.empty()) {
    std::string names;
    for (const std::string& n : statement_names()) names += " " + n;
    throw InputError("--theorem " + options.theorem + ": no such statement (known: all" + names + ")");
  }
  return chosen;
}

// One case of one statement: RapidCheck runs the property once from the case's seed (drawing
// again after a discard) and shrinks it if it fails.
struct CaseRun {
  CaseRecord record;
  std::string failure;
  std::optional<Case> counterexample;
  bool errored = false;
  std::string error;
};

CaseRun run_case(const Statement& st, const CheckConfig& config, uint64_t seed, int index, int discard_budget) {
  CaseRun out;
  out.record.index = index;
  bool failed_once = false;
  std::vector<std::string> tags;
  auto property = [&] {
    begin_case();
    try {
      if (config.planted(PlantedBug::kDiscardEverything)) RC_DISCARD("planted: every case is discarded");
      st.property(config);
      if (!failed_once) tags = current_tags();
    } catch (const rc::detail::CaseResult& result) {
      if (result.type == rc::detail::CaseResult::Type::Discard) {
        if (!failed_once) ++out.record.discards;
      } else {
        failed_once = true;
        // A failure that did not come through require() (RC_ASSERT, a library exception
        // turned into a failure) keeps RapidCheck's own description, whole.
        if (current_failure_message().empty()) record_failure_message(result.description);
        mark_current_case_failed();
      }
      throw;
    } catch (const std::exception& e) {
      failed_once = true;
      record_failure_message(std::string("exception: ") + e.what());
      mark_current_case_failed();
      throw;
    }
  };
  rc::detail::TestParams params;
  params.seed = seed;
  params.maxSuccess = 1;
  params.maxSize = rc::kNominalSize;
  params.maxDiscardRatio = discard_budget;
  rc::detail::TestMetadata metadata;
  metadata.id = st.name;
  metadata.description = st.title;
  clear_failed_case();
  SilentListener listener;
  // Every case at full size (the suite's generators are full-size anyway; this also fixes the
  // size of the draws made inside the properties, which RapidCheck would otherwise grow with
  // the case number).
  const rc::detail::TestResult result =
      rc::detail::checkProperty(rc::gen::resize(rc::kNominalSize, rc::detail::toProperty(property)), metadata, params,
                                listener);
  rc::detail::SuccessResult success;
  rc::detail::FailureResult failure;
  rc::detail::GaveUpResult gave_up;
  rc::detail::Error error;
  if (result.match(success)) {
    out.record.tags = tags;
  } else if (result.match(failure)) {
    out.record.failed = true;
    out.failure = failed_case_message();
    if (const Case* c = failed_case()) out.counterexample = *c;
  } else if (result.match(gave_up)) {
    out.record.gave_up = true;
  } else if (result.match(error)) {
    out.errored = true;
    out.error = error.description;
  }
  return out;
}

}  // namespace

std::vector<StatementShare> verify_share(const VerifyOptions& options, int rank, int ranks) {
  if (ranks < 1 || rank < 0 || rank >= ranks) throw std::invalid_argument("verify_share: bad rank");
  load_rapidcheck_configuration_quietly();
  std::vector<const Statement*> chosen = chosen_statements(options);
  const int discard_budget = kMaxDiscardRatio * options.cases;
  std::vector<StatementShare> shares;
  for (size_t i = 0; i < chosen.size(); ++i) {
    const Statement& st = *chosen[i];
    if (options.on_start) options.on_start(st.name, i, chosen.size());
    StatementShare share;
    share.name = st.name;
    const auto start = std::chrono::steady_clock::now();
    int discards = 0;
    for (int k = rank; k < options.cases; k += ranks) {
      CaseRun run = run_case(st, options.config, case_seed(options.seed, st.name, k), k, discard_budget - discards);
      discards += run.record.discards;
      if (run.errored) {
        share.errored = true;
        share.error = run.error;
        break;
      }
      share.cases.push_back(run.record);
      if (run.record.failed) {
        share.failure = run.failure;
        share.counterexample = std::move(run.counterexample);
        break;
      }
      // Over the statement's discard limit on this share alone: the merged run gives up too.
      if (run.record.gave_up || discards > discard_budget) break;
    }
    share.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    shares.push_back(std::move(share));
  }
  return shares;
}

VerifyReport merge_shares(const VerifyOptions& options, const std::vector<std::vector<StatementShare>>& shares) {
  std::vector<const Statement*> chosen = chosen_statements(options);
  VerifyReport report;
  report.ranks = static_cast<int>(shares.size());
  for (size_t i = 0; i < chosen.size(); ++i) {
    const Statement& st = *chosen[i];
    StatementReport r;
    r.name = st.name;
    r.title = st.title;
    r.probe = st.probe;
    r.counterexample_expected = st.counterexample_expected;
    r.dropped = st.dropped;
    r.explanation = st.explanation;
    r.seed = options.seed;

    // Every record of every rank in case order; the first failing case ends the statement, as
    // it does in one process (each rank ran all of its cases below its own first failure).
    std::vector<const CaseRecord*> records;
    const StatementShare* failing = nullptr;
    for (const auto& rank_shares : shares) {
      if (i >= rank_shares.size() || rank_shares[i].name != st.name)
        throw std::invalid_argument("merge_shares: shares do not match the selected statements");
      const StatementShare& share = rank_shares[i];
      r.seconds = std::max(r.seconds, share.seconds);
      if (share.errored) {
        r.errored = true;
        r.failure = "error: " + share.error;
      }
      for (const CaseRecord& c : share.cases) records.push_back(&c);
      if (!share.cases.empty() && share.cases.back().failed &&
          (failing == nullptr || share.cases.back().index < failing->cases.back().index))
        failing = &share;
    }
    std::sort(records.begin(), records.end(), [](const CaseRecord* a, const CaseRecord* b) { return a->index < b->index; });
    const int last = failing ? failing->cases.back().index : options.cases;
    bool case_gave_up = false;
    for (const CaseRecord* c : records) {
      if (c->index > last) break;
      r.discarded += c->discards;
      case_gave_up = case_gave_up || c->gave_up;
      if (c->failed || c->gave_up) continue;
      ++r.passed;
      ++r.cases_run;
      for (const std::string& tag : c->tags) r.tags[tag] += 1;
    }
    if (failing) {
      r.failed = true;
      r.cases_run += 1;
      r.failing_case = failing->cases.back().index;
      r.failing_case_seed = case_seed(options.seed, st.name, r.failing_case);
      r.failure = failing->failure;
      if (failing->counterexample) {
        const Case& c = *failing->counterexample;
        r.counterexample = describe_case(c);
        if (!options.out_dir.empty()) {
          std::string headline = (st.probe ? "Counterexample found by probe " : "FAILED statement ") + st.name + ": " +
                                 st.title + "\n" + r.failure + "\n\nFound as case " + std::to_string(r.failing_case) +
                                 " of `bcq verify --theorem " + st.name + " --seed " + std::to_string(options.seed) +
                                 "` (any --cases above " + std::to_string(r.failing_case) + ", any number of ranks).";
          r.saved_files = save_case(c, options.out_dir + "/" + file_name_of(st.name), headline);
        }
      }
    } else if (!r.errored && (case_gave_up || r.discarded > kMaxDiscardRatio * options.cases)) {
      r.gave_up = true;
      r.failure = "gave up: " + std::to_string(r.discarded) + " cases discarded (preconditions did not hold), more than " +
                  std::to_string(kMaxDiscardRatio) + " per requested case";
    }
    report.statements.push_back(std::move(r));
  }
  return report;
}

namespace {

nlohmann::json case_to_json(const Case& c) {
  return {{"mdp", mdp_to_json(*c.mdp)},
          {"batch", batch_to_csv(c.batch)},
          {"policy", policy_to_json(c.policy)},
          {"q_init", c.q_init},
          {"description", c.description}};
}

Case case_from_json(const nlohmann::json& j) {
  Case c;
  c.mdp.emplace(mdp_from_json(j.at("mdp"), "counterexample from another rank"));
  c.batch = batch_from_csv(j.at("batch").get<std::string>(), "counterexample from another rank");
  c.policy = policy_from_json(j.at("policy"), c.mdp->num_states(), c.mdp->num_actions(), "counterexample from another rank");
  c.q_init = j.at("q_init").get<double>();
  c.description = j.at("description").get<std::string>();
  return c;
}

}  // namespace

nlohmann::json shares_to_json(const std::vector<StatementShare>& shares) {
  nlohmann::json out = nlohmann::json::array();
  for (const StatementShare& s : shares) {
    nlohmann::json cases = nlohmann::json::array();
    for (const CaseRecord& c : s.cases)
      cases.push_back({c.index, c.discards, c.failed, c.gave_up, c.tags});
    nlohmann::json j = {{"name", s.name}, {"cases", std::move(cases)}, {"seconds", s.seconds},
                        {"errored", s.errored}, {"error", s.error}, {"failure", s.failure}};
    if (s.counterexample) j["counterexample"] = case_to_json(*s.counterexample);
    out.push_back(std::move(j));
  }
  return out;
}

std::vector<StatementShare> shares_from_json(const nlohmann::json& doc) {
  std::vector<StatementShare> out;
  for (const auto& j : doc) {
    StatementShare s;
    s.name = j.at("name").get<std::string>();
    for (const auto& c : j.at("cases")) {
      CaseRecord r;
      r.index = c.at(0).get<int>();
      r.discards = c.at(1).get<int>();
      r.failed = c.at(2).get<bool>();
      r.gave_up = c.at(3).get<bool>();
      r.tags = c.at(4).get<std::vector<std::string>>();
      s.cases.push_back(std::move(r));
    }
    s.seconds = j.at("seconds").get<double>();
    s.errored = j.at("errored").get<bool>();
    s.error = j.at("error").get<std::string>();
    s.failure = j.at("failure").get<std::string>();
    if (j.contains("counterexample")) s.counterexample = case_from_json(j.at("counterexample"));
    out.push_back(std::move(s));
  }
  return out;
}

VerifyReport verify(const VerifyOptions& options) { return merge_shares(options, {verify_share(options, 0, 1)}); }

}  // namespace bcq::proofs
