#include "proofs_checks/verify_report.hpp"

#include <fmt/core.h>

#include <sstream>

namespace bcq::proofs {
namespace {

std::string verdict(const StatementReport& r) { return verdict_of(r).text; }

std::string tags_text(const StatementReport& r) {
  std::string out;
  for (const auto& [tag, n] : r.tags) out += fmt::format("{}{} {}", out.empty() ? "" : ", ", n, tag);
  return out;
}

}  // namespace

nlohmann::json verify_json(const VerifyReport& report, int cases, uint64_t seed) {
  nlohmann::json out;
  out["format"] = "bcq-verify/1";
  out["cases"] = cases;
  out["seed"] = seed;
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

std::string verify_text(const VerifyReport& report) {
  std::ostringstream out;
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
  return out.str();
}

std::string demo_markdown(const VerifyReport& report, int cases, uint64_t seed) {
  std::ostringstream md;
  md << "# bcq verification report\n\n"
     << "Property checks of Fujimoto, Meger, Precup (ICML 2019), Section 4.1, on random finite MDPs with 1-8 states "
        "and 1-4 actions (RapidCheck, "
     << cases << " cases per statement, seed " << seed
     << "). Every exact check compares two different computations; probes drop one condition of a theorem and "
        "search for a counterexample.\n\n"
     << "Overall: **"
     << (report.ok() ? "all statements hold; every necessary condition has a counterexample"
                     : "SOMETHING FAILED, see below")
     << "**\n\n## Statements\n\n| statement | claim | cases | discarded | seconds | verdict "
        "|\n|---|---|---|---|---|---|\n";
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
    if (!r.saved_files.empty())
      md << "\nFiles: " << r.saved_files[0] << " (and batch.csv, policy.json, case.txt beside it).\n";
  }
  return md.str();
}

std::string demo_summary(const VerifyReport& report, const std::string& out_dir,
                         const std::string& counterexamples_dir) {
  std::string out = fmt::format("{:<38} {:>6} {:>8}  {}\n", "statement", "cases", "seconds", "verdict");
  double total = 0;
  for (const auto& r : report.statements) {
    total += r.seconds;
    out += fmt::format("{:<38} {:>6} {:>8.2f}  {}\n", r.name, r.cases_run, r.seconds, verdict(r));
  }
  out += fmt::format("\ntotal {:.1f} s. Report: {}/report.md, JSON: {}/verify.json, counterexamples: {}/\n", total,
                     out_dir, out_dir, counterexamples_dir);
  out += report.ok() ? "All statements hold and every necessary condition has a counterexample.\n"
                     : "SOME CHECKS FAILED: see the report.\n";
  return out;
}

}  // namespace bcq::proofs
