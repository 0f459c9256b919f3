// `bcq study plan | run | status` (study/): the paper's grid of collections and training runs.
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include <nlohmann/json.hpp>

#include "apps/cli_common.hpp"
#include "common/interrupt.hpp"
#include "common/error.hpp"
#include "common/json_input.hpp"
#include "common/mpi.hpp"
#include "study/runner.hpp"
#include "study/spec.hpp"

namespace bcq::cli {

namespace {

struct SpecSource {
  std::string profile;
  std::string spec_path;
};

void add_spec_options(CLI::App* cmd, SpecSource& src) {
  auto* p = cmd->add_option("--profile", src.profile,
                            "Built-in study: smoke (InvertedPendulum, 2 kinds, minutes), quick "
                            "(Hopper, 4 kinds, 3 seeds, ~100 min with 2 workers), paper (the paper's grid)");
  auto* s = cmd->add_option("--spec", src.spec_path, "A bcq-study/1 JSON spec");
  p->excludes(s);
}

study::StudySpec load_spec(const SpecSource& src) {
  if (src.profile.empty() == src.spec_path.empty()) {
    throw InputError("give exactly one of --profile NAME or --spec FILE");
  }
  if (!src.profile.empty()) return study::profile_spec(src.profile);
  // The shared reader: regular files only, size-checked, BOM, duplicate keys, depth.
  return study::parse_spec(load_json_input(src.spec_path), src.spec_path);
}

// Text on stdout unless --json alone asked for JSON there instead; the JSON where --json said.
void print(const study::Printout& printout, const JsonOutput& json) {
  json.emit(printout.json);
  if (!json.replaces_text()) std::cout << printout.text << std::flush;
}

std::string source_args(const SpecSource& src) {
  return src.profile.empty() ? "--spec " + src.spec_path : "--profile " + src.profile;
}

}  // namespace

void add_study_commands(CLI::App& app) {
  auto* study = app.add_subcommand("study", "The paper's experiments as a resumable grid of cells");
  study->require_subcommand(1);

  auto plan_src = std::make_shared<SpecSource>();
  auto* plan = study->add_subcommand("plan", "List the cells, their dependencies, a work estimate and Slurm lines");
  add_spec_options(plan, *plan_src);
  auto plan_json = std::make_shared<JsonOutput>();
  plan_json->add_to(plan, "the plan (bcq-study-plan/1)");
  plan->callback([plan_src, plan_json] {
    plan_json->check({{"--spec", plan_src->spec_path}});
    print(study::study_plan(load_spec(*plan_src), source_args(*plan_src)), *plan_json);
  });

  auto run_src = std::make_shared<SpecSource>();
  auto run_opt = std::make_shared<study::RunOptions>();
  auto* run = study->add_subcommand(
      "run", "Run the cells not done yet (resumes interrupted ones); also under mpirun -np K");
  add_spec_options(run, *run_src);
  run->add_option("--out", run_opt->out_dir, "Study folder")->required();
  run->add_option("--workers", run_opt->workers,
                  "Cells at once on this machine, each in its own process on the spec's LibTorch "
                  "threads (default: 2; under mpirun 1 per rank)")
      ->check(whole_number(0, 64));
  run->add_option("--cell", run_opt->cell,
                  "Run only cell K (a Slurm array task); exit 75 when its inputs are not done yet")
      ->check(whole_number(0, 100000000));
  auto* run_quiet = run->add_flag("--quiet", "No progress output");
  run->callback([run_src, run_opt, run_quiet] {
    study::StudySpec spec = load_spec(*run_src);
    study::RunOptions o = *run_opt;
    o.profile = run_src->profile;
    o.progress = stderr_is_tty() && run_quiet->count() == 0;
    mpi::Session session;
    if (session.rank() != 0) o.progress = false;
    catch_interrupts();  // Ctrl-C / SIGTERM: running cells checkpoint, no new ones start
    int code = 0;
    try {
      code = study::run_study(spec, o, session);
    } catch (const Interrupted&) {
      throw;  // rank 0 has told the other ranks to stop: one line, exit 128 + signal
    } catch (const std::exception& e) {
      // The other ranks wait on this one: end the whole job rather than leave them hanging.
      if (!session.active()) throw;
      std::cerr << "bcq: error (rank " << session.rank() << "): " << e.what() << "\n";
      mpi::abort_job(2);
    }
    if (code != 0) set_exit_code(code);
  });

  auto status_dir = std::make_shared<std::string>();
  auto* status = study->add_subcommand("status", "Per cell: done, running, failed or pending, and an ETA");
  status->add_option("--out", *status_dir, "Study folder")->required();
  auto status_json = std::make_shared<JsonOutput>();
  status_json->add_to(status, "the status (bcq-study-status/1)");
  status->callback([status_dir, status_json] {
    status_json->check({});
    status_json->check_outside("--out", *status_dir);
    print(study::study_status(*status_dir), *status_json);
  });
}

}  // namespace bcq::cli
