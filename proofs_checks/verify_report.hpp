// The reports of a verify run: the bcq-verify/1 JSON (docs/formats.md), the text `bcq verify`
// prints, and `bcq demo`'s Markdown report and summary. Every verdict comes from verdict_of.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "proofs_checks/verify.hpp"

namespace bcq::proofs {

/// The bcq-verify/1 document of `report`, run with `cases` per statement from master `seed`:
/// per statement its verdict, counts, classification and timing; a probe's dropped condition;
/// a failing case's index and seed; the failure and shrunk counterexample of a statement that
/// failed, gave up or errored.
nlohmann::json verify_json(const VerifyReport& report, int cases, uint64_t seed);

/// The text `bcq verify` prints: a table (statement, cases, passed, discarded, seconds,
/// verdict), the classification, then for every statement that failed, gave up or errored its
/// replay command (`bcq verify --theorem NAME --seed SEED`), failure, counterexample and files.
std::string verify_text(const VerifyReport& report);

/// `bcq demo`'s report.md: the overall verdict, the statements and the necessity probes in
/// tables, the classification, and the shrunk counterexamples.
std::string demo_markdown(const VerifyReport& report, int cases, uint64_t seed);

/// What `bcq demo` prints after the run: a table (statement, cases, seconds, verdict), the total
/// time, where it wrote report.md and verify.json (`out_dir`) and the counterexamples
/// (`counterexamples_dir`), and the overall verdict.
std::string demo_summary(const VerifyReport& report, const std::string& out_dir,
                         const std::string& counterexamples_dir);

}  // namespace bcq::proofs
