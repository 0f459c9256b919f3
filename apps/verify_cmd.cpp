// `bcq verify` (run the property checks of Theorems 1-4, Lemma 1, Remark 1 and the necessity
// probes) and `bcq demo` (verify with the default profile, write a report).
#include <fmt/core.h>

#include <chrono>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>

#include "apps/cli_common.hpp"
#include "common/atomic_file.hpp"
#include "common/mpi.hpp"
#include "proofs_checks/verify.hpp"

namespace bcq::cli {
namespace {

struct VerifyCliOptions {
  std::string theorem = "all";
  int cases = 1000;
  uint64_t seed = 1;
  JsonOutput json;
  std::string out_dir;
  bool no_probes = false;
  bool quiet = false;
  // Test-only seams (hidden from --help): plant a bug, or put the probes' dropped conditions back.
  std::string plant = "none";
  bool restore_dropped_condition = false;
};

// The verdict text comes from the same function that decides ok and the exit code.
std::string verdict(const proofs::StatementReport& r) { return proofs::verdict_of(r).text; }

std::string tags_text(const proofs::StatementReport& r) {
  std::string out;
  for (const auto& [tag, n] : r.tags) out += fmt::format("{}{} {}", out.empty() ? "" : ", ", n, tag);
  return out;
}

nlohmann::json report_json(const proofs::VerifyReport& report, const VerifyCliOptions& o) {
  nlohmann::json out;
  out["format"] = "bcq-verify/1";
  out["cases"] = o.cases;
  out["seed"] = o.seed;
  out["ranks"] = report.ranks;
  out["ok"] = report.ok();
  out["statements"] = nlohmann::json::array();
  for (const auto& r : report.statements) {
    nlohmann::json s = {{"name", r.name},
                        {"title", r.title},
                        {"probe", r.probe},
                        {"verdict", verdict(r)},
                        {"ok", r.ok()},
                        {"cases_run", r.cases_run},
                        {"passed", r.passed},
                        {"discarded", r.discarded},
                        {"classification", r.tags},
                        {"seed", r.seed},
                        {"seconds", r.seconds},
                        {"cases_per_second", r.seconds > 0 ? r.cases_run / r.seconds : 0.0}};
    if (r.probe) {
      s["dropped_condition"] = r.dropped;
      s["counterexample_expected"] = r.counterexample_expected;
      s["explanation"] = r.explanation;
    }
    if (r.failed) {
      s["failing_case"] = r.failing_case;
      s["failing_case_seed"] = r.failing_case_seed;
    }
    if (r.failed || r.gave_up || r.errored) {
      s["failure"] = r.failure;
      s["counterexample"] = r.counterexample;
      s["saved_files"] = r.saved_files;
    }
    out["statements"].push_back(std::move(s));
  }
  return out;
}

void print_report(const proofs::VerifyReport& report, std::ostream& out) {
  out << fmt::format("{:<38} {:>6} {:>6} {:>6} {:>7}  {}\n", "statement", "cases", "passed", "discard", "seconds",
                     "verdict");
  for (const auto& r : report.statements) {
    out << fmt::format("{:<38} {:>6} {:>6} {:>6} {:>7.2f}  {}\n", r.name, r.cases_run, r.passed, r.discarded, r.seconds,
                       verdict(r));
  }
  out << "\nclassification (cases per tag):\n";
  for (const auto& r : report.statements)
    if (!r.tags.empty()) out << fmt::format("  {:<36} {}\n", r.name, tags_text(r));
  for (const auto& r : report.statements) {
    if (!r.failed && !r.gave_up && !r.errored) continue;
    out << "\n" << (r.probe ? "probe " : "STATEMENT ") << r.name << ": " << verdict(r) << " (seed " << r.seed;
    if (r.failed) out << ", case " << r.failing_case;
    out << "; replay: bcq verify --theorem " << r.name << " --seed " << r.seed << ")\n";
    if (r.probe) out << "  dropped: " << r.dropped << "\n  why: " << r.explanation << "\n";
    out << "  " << r.failure << "\n";
    if (!r.counterexample.empty()) {
      std::istringstream lines(r.counterexample);
      for (std::string line; std::getline(lines, line);) out << "    " << line << "\n";
    }
    for (const auto& f : r.saved_files) out << "  saved " << f << "\n";
  }
}

// Tags of the messages between ranks.
constexpr int kShareTag = 18;

// Runs verify in this process, or split across the ranks of an MPI job: every rank runs its
// share of each statement's cases; rank 0 merges them into the report one process writes.
// Returns the report on rank 0 and std::nullopt on the other ranks.
std::optional<proofs::VerifyReport> run_verify(const VerifyCliOptions& o, const mpi::Session& session) {
  proofs::VerifyOptions vo;
  vo.theorem = o.theorem;
  vo.cases = o.cases;
  vo.seed = o.seed;
  vo.out_dir = o.out_dir;
  vo.include_probes = !o.no_probes;
  vo.config.plant = proofs::planted_bug_from_string(o.plant);
  vo.config.restore_dropped_condition = o.restore_dropped_condition;
  const bool progress = !o.quiet && stderr_is_tty() && session.rank() == 0;
  const auto start = std::chrono::steady_clock::now();
  if (progress) {
    vo.on_start = [start](const std::string& name, size_t i, size_t n) {
      double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      std::string eta = i > 0 ? fmt::format(", ETA {:.0f} s", elapsed / static_cast<double>(i) * static_cast<double>(n - i)) : "";
      std::cerr << fmt::format("\r\033[K[{}/{}] {} ({:.0f} s elapsed{})", i + 1, n, name, elapsed, eta) << std::flush;
    };
  }
  std::vector<proofs::StatementShare> mine = proofs::verify_share(vo, session.rank(), session.size());
  if (session.rank() != 0) {
    mpi::send_string(0, kShareTag, proofs::shares_to_json(mine).dump());
    return std::nullopt;
  }
  std::vector<std::vector<proofs::StatementShare>> shares(static_cast<size_t>(session.size()));
  shares[0] = std::move(mine);
  for (int received = 1; received < session.size(); ++received) {
    int from = 0;
    std::string text = mpi::recv_string(mpi::kAnySource, kShareTag, &from);
    shares[static_cast<size_t>(from)] = proofs::shares_from_json(nlohmann::json::parse(text));
  }
  if (progress) std::cerr << "\r\033[K";
  return proofs::merge_shares(vo, shares);
}

void verify_command(const VerifyCliOptions& o) {
  mpi::Session session;
  o.json.check({});  // before minutes of work: a FILE that is a folder, or whose folder is missing
  std::optional<proofs::VerifyReport> report = run_verify(o, session);
  if (!report) return;  // not rank 0: rank 0 reports for the job
  o.json.emit(report_json(*report, o).dump(1));
  if (!o.json.replaces_text()) print_report(*report, std::cout);
  if (report->exit_code() != 0) set_failed_check();
}

struct DemoOptions {
  std::string out_dir = "bcq-demo";
  int cases = 1000;
  uint64_t seed = 1;
  bool quiet = false;
};

std::string markdown_report(const proofs::VerifyReport& report, const DemoOptions& o) {
  std::ostringstream md;
  md << "# bcq verification report\n\n"
     << "Property checks of Fujimoto, Meger, Precup (ICML 2019), Section 4.1, on random finite MDPs with 1-8 states "
        "and 1-4 actions (RapidCheck, "
     << o.cases << " cases per statement, seed " << o.seed << "). Every exact check compares two different "
                                                            "computations; probes drop one condition of a theorem "
                                                            "and search for a counterexample.\n\n"
     << "Overall: **" << (report.ok() ? "all statements hold; every necessary condition has a counterexample"
                                       : "SOMETHING FAILED, see below")
     << "**\n\n## Statements\n\n| statement | claim | cases | discarded | seconds | verdict |\n|---|---|---|---|---|---|\n";
  for (const auto& r : report.statements)
    if (!r.probe)
      md << "| " << r.name << " | " << r.title << " | " << r.cases_run << " | " << r.discarded << " | "
         << fmt::format("{:.2f}", r.seconds) << " | " << verdict(r) << " |\n";
  md << "\n## Necessity probes\n\n| probe | condition dropped | verdict | why |\n|---|---|---|---|\n";
  for (const auto& r : report.statements)
    if (r.probe) md << "| " << r.name << " | " << r.dropped << " | " << verdict(r) << " | " << r.explanation << " |\n";
  md << "\n## Classification of the cases\n\n";
  for (const auto& r : report.statements)
    if (!r.tags.empty()) md << "- **" << r.name << "**: " << tags_text(r) << "\n";
  md << "\n## Counterexamples (shrunk)\n";
  for (const auto& r : report.statements) {
    if (!r.failed) continue;
    md << "\n### " << r.name << "\n\n" << r.failure << "\n\n```\n" << r.counterexample << "```\n";
    if (!r.saved_files.empty()) md << "\nFiles: " << r.saved_files[0] << " (and batch.csv, policy.json, case.txt beside it).\n";
  }
  return md.str();
}

void demo_command(const DemoOptions& o) {
  std::error_code ec;
  std::filesystem::create_directories(o.out_dir, ec);
  if (ec) throw InputError("cannot create " + o.out_dir + ": " + ec.message());
  VerifyCliOptions vo;
  vo.cases = o.cases;
  vo.seed = o.seed;
  vo.quiet = o.quiet;
  vo.out_dir = o.out_dir + "/counterexamples";
  std::cout << "bcq demo: verifying Theorems 1-4, Lemma 1 and Remark 1 on random MDPs (" << o.cases
            << " cases each) and searching for counterexamples when a condition is dropped...\n\n";
  mpi::Session session;
  std::optional<proofs::VerifyReport> ran = run_verify(vo, session);
  if (!ran) return;  // not rank 0
  const proofs::VerifyReport& report = *ran;
  write_file_atomic(o.out_dir + "/verify.json", report_json(report, vo).dump(1) + "\n");
  write_file_atomic(o.out_dir + "/report.md", markdown_report(report, o));
  std::cout << fmt::format("{:<38} {:>6} {:>8}  {}\n", "statement", "cases", "seconds", "verdict");
  double total = 0;
  for (const auto& r : report.statements) {
    total += r.seconds;
    std::cout << fmt::format("{:<38} {:>6} {:>8.2f}  {}\n", r.name, r.cases_run, r.seconds, verdict(r));
  }
  std::cout << fmt::format("\ntotal {:.1f} s. Report: {}/report.md, JSON: {}/verify.json, counterexamples: {}/\n", total,
                           o.out_dir, o.out_dir, vo.out_dir);
  std::cout << (report.ok() ? "All statements hold and every necessary condition has a counterexample.\n"
                            : "SOME CHECKS FAILED: see the report.\n");
  if (report.exit_code() != 0) set_failed_check();
}

}  // namespace

void add_verify_commands(CLI::App& app) {
  auto v = std::make_shared<VerifyCliOptions>();
  std::string names = "all";
  for (const std::string& n : proofs::statement_names()) names += " | " + n;
  CLI::App* verify = app.add_subcommand("verify", "Property-check Theorems 1-4, Lemma 1, Remark 1 and the necessity probes");
  verify->add_option("--theorem", v->theorem,
                     "statement to run, a prefix such as theorem2 (with its probes), or all:\n" + names);
  verify->add_option("--cases", v->cases, "cases per statement (probes search this many)")
      ->check(whole_number(1, 10000000));
  verify->add_option("--seed", v->seed,
                     "master seed: every case has its own seed, derived from this one, the statement and the case's "
                     "index (the same cases for any number of MPI ranks)")->check(seed_number());
  v->json.add_to(verify, "the report (bcq-verify/1)");
  verify->add_option("--out", v->out_dir, "save shrunk counterexamples (mdp.json, batch.csv, policy.json) here");
  verify->add_flag("--no-probes", v->no_probes, "skip the necessity probes");
  verify->add_flag("--quiet", v->quiet, "no progress output");
  // Test-only seams (docs/verification.md), hidden from --help.
  verify->add_option("--plant-bug", v->plant, "test-only: plant a bug")->group("");
  verify->add_flag("--restore-dropped-condition", v->restore_dropped_condition, "test-only: probes keep their condition")
      ->group("");
  verify->callback([v] { verify_command(*v); });

  auto d = std::make_shared<DemoOptions>();
  CLI::App* demo = app.add_subcommand("demo", "Verify every statement with the default profile and write a report");
  demo->add_option("-o,--out", d->out_dir, "report folder (default bcq-demo)");
  demo->add_option("--cases", d->cases, "cases per statement")->check(whole_number(1, 10000000));
  demo->add_option("--seed", d->seed, "RapidCheck seed")->check(seed_number());
  demo->add_flag("--quiet", d->quiet, "no progress output");
  demo->callback([d] { demo_command(*d); });
}

}  // namespace bcq::cli
