// `bcq verify` (run the property checks of Theorems 1-4, Lemma 1, Remark 1 and the necessity
// probes) and `bcq demo` (verify with the default profile, write a report): parse, run
// proofs_checks/verify.hpp (across MPI ranks when there are several), print or write the
// reports of proofs_checks/verify_report.hpp.
#include <fmt/core.h>

#include <chrono>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>

#include "apps/cli_common.hpp"
#include "common/atomic_file.hpp"
#include "common/mpi.hpp"
#include "proofs_checks/verify.hpp"
#include "proofs_checks/verify_report.hpp"

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
  o.json.emit(proofs::verify_json(*report, o.cases, o.seed), 1);
  if (!o.json.replaces_text()) std::cout << proofs::verify_text(*report);
  if (report->exit_code() != 0) set_failed_check();
}

struct DemoOptions {
  std::string out_dir = "bcq-demo";
  int cases = 1000;
  uint64_t seed = 1;
  bool quiet = false;
};

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
  write_file_atomic(o.out_dir + "/verify.json", proofs::verify_json(report, vo.cases, vo.seed).dump(1) + "\n");
  write_file_atomic(o.out_dir + "/report.md", proofs::demo_markdown(report, o.cases, o.seed));
  std::cout << proofs::demo_summary(report, o.out_dir, vo.out_dir);
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
