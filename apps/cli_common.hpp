// Shared plumbing for the `bcq` subcommands: registration functions, the exit-code
// convention (0 ok, 1 failed check, 2 bad input/usage) and terminal detection.
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <initializer_list>
#include <string>

#include <nlohmann/json.hpp>

#include "common/input_file.hpp"

namespace bcq::cli {

/// Records that a check failed (exit code 1) without aborting the command.
void set_failed_check();
/// Asks for another exit code (e.g. 75, "not ready, try later", of `study run --cell`).
void set_exit_code(int code);
/// The exit code the finished command asks for (0 or 1).
int exit_code();
/// True when stderr is a terminal (progress output is shown only then, and never with --quiet).
bool stderr_is_tty();
/// Option check: a whole number in [lo, hi] written in plain decimal digits. Refuses what
/// CLI11 alone would wrap or misread (a sign on an unsigned option, 0x10, 1e3, 2.5) and
/// values out of range, naming the bounds (docs/limits.md lists each option's bounds).
CLI::Validator whole_number(std::uint64_t lo, std::uint64_t hi);
/// Option check: a seed, a whole number in [0, 2^64 - 1].
CLI::Validator seed_number();
/// Option check: a finite real number in (lo, hi] (lo exclusive; for tolerances lo = 0).
CLI::Validator real_above(double lo, double hi);
/// `--json [FILE]`, with one meaning in every command that prints data. Given alone (or as
/// `--json -`), the command prints its result as JSON on stdout instead of its text; given a
/// FILE, it prints its text as usual and also writes the JSON to FILE, atomically. Lives as long
/// as the command's options (CLI11 writes the FILE into it).
class JsonOutput {
 public:
  /// Adds `--json [FILE]` to `command`; `what` names the JSON in --help (e.g. "the solution").
  void add_to(CLI::App* command, const std::string& what);
  /// True when --json was given, with or without a FILE.
  bool requested() const;
  /// True when the JSON goes to stdout in place of the text (--json without a FILE).
  bool replaces_text() const;
  /// Refuses, before any work, a FILE that names one of `inputs` or one of the command's
  /// `other_outputs` (whether or not it exists yet), a directory or a device, or whose folder is
  /// missing or not writable (InputError naming --json).
  void check(std::initializer_list<NamedInput> inputs, std::initializer_list<NamedInput> other_outputs = {}) const;
  /// Refuses a FILE inside `folder` (a study or run folder whose files the command reads).
  void check_outside(const std::string& option, const std::string& folder) const;
  /// Writes `json` (one document, a newline is added) where --json said; nothing without --json.
  void emit(const std::string& json) const;
  /// The same for a document, indented by `indent`; bytes that are not UTF-8 in its strings
  /// (a file name, an attribute of another tool's file) are written as U+FFFD.
  void emit(const nlohmann::json& doc, int indent) const;

 private:
  CLI::Option* option_ = nullptr;
  std::string file_;
};

/// Parses and runs `app`; turns bcq::InputError and usage errors into one stderr line and exit
/// code 2. Returns the process exit code.
int run(CLI::App& app, int argc, char** argv);

// Each module folder adds its subcommands to the root app.
void add_mdp_commands(CLI::App& app);
void add_batch_commands(CLI::App& app);
void add_tabular_commands(CLI::App& app);   // tabular, error (bcql/)
void add_verify_commands(CLI::App& app);    // verify, demo (proofs_checks/)
#ifdef BCQ_HAVE_MUJOCO
void add_env_commands(CLI::App& app);       // env list / rollout (continuous/envs)
#endif
void add_report_commands(CLI::App& app);      // report (reports/)
void add_study_tabular_command(CLI::App& study);  // study tabular (study/tabular)
void add_buffer_commands(CLI::App& app);      // buffer info (continuous/replay_buffer, no LibTorch)
void add_continuous_commands(CLI::App& app);  // collect, train, eval (continuous/): bcq-continuous
void add_study_commands(CLI::App& app);       // study plan / run / status (study/): bcq-continuous

}  // namespace bcq::cli
