// `bcq study tabular`: SPIBB's tabular benchmark (study/tabular, docs/tabular_study.md) in the
// `bcq` program itself (no LibTorch). Also under mpirun: rank 0 hands out cells and writes.
#include <fmt/core.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "apps/cli_common.hpp"
#include "common/error.hpp"
#include "common/mpi.hpp"
#include "mdp/io.hpp"
#include "study/tabular/tabular_study.hpp"

namespace bcq::cli {
namespace {

struct StudyTabularOptions {
  std::string profile;
  std::string spec_path;
  std::string out_dir;
  int workers = 1;
  bool quiet = false;
};

void run_study_tabular(const StudyTabularOptions& o) {
  if (o.profile.empty() == o.spec_path.empty())
    throw InputError("bcq study tabular: give exactly one of --profile and --spec");
  if (o.workers < 1 || o.workers > 1024) throw InputError("--workers must be in [1, 1024]");
  tabular_study::StudySpec spec;
  if (!o.spec_path.empty()) {
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(read_text_file(o.spec_path));
    } catch (const nlohmann::json::exception& e) {
      throw InputError(o.spec_path + ": not valid JSON (" + std::string(e.what()) + ")");
    }
    spec = tabular_study::spec_from_json(j, o.spec_path);
  } else {
    spec = tabular_study::profile_spec(o.profile);
  }
  mpi::Session session;
  tabular_study::RunOptions options;
  options.out_dir = o.out_dir;
  options.workers = o.workers;
  options.progress = !o.quiet && stderr_is_tty() && session.rank() == 0;
  options.session = &session;
  const tabular_study::StudyOutcome outcome = tabular_study::run_study(spec, options);
  if (session.rank() != 0) return;
  const size_t runs = static_cast<size_t>(outcome.cells_run) * static_cast<size_t>(spec.datasets);
  fmt::print("tabular study ({}): {} cells, {} run now, {} already done; {:.1f} s ({:.0f} runs/s)\n",
             spec.profile, outcome.cells, outcome.cells_run, outcome.cells_resumed,
             outcome.wall_seconds,
             outcome.wall_seconds > 0 ? static_cast<double>(runs) / outcome.wall_seconds : 0.0);
  fmt::print("wrote {0}/tabular.csv, {0}/tabular_summary.csv, {0}/tabular_study.json\n", o.out_dir);
}

}  // namespace

void add_study_tabular_command(CLI::App& study) {
  auto o = std::make_shared<StudyTabularOptions>();
  CLI::App* tab = study.add_subcommand(
      "tabular",
      "SPIBB-style tabular study: garnets and gridworld, behaviour quality x dataset size x "
      "algorithms, exact evaluation (resumable; --workers threads, or mpirun ranks)");
  tab->add_option("--profile", o->profile, "quick (minutes) | paper (SPIBB's scale)")
      ->check(CLI::IsMember({"quick", "paper"}));
  tab->add_option("--spec", o->spec_path, "a bcq-tabular-study/1 JSON spec instead of a profile");
  tab->add_option("--out", o->out_dir, "output folder (created; an unfinished study there resumes)")
      ->required();
  tab->add_option("--workers", o->workers, "threads on this machine (default 1)");
  tab->add_flag("--quiet", o->quiet, "no progress line on stderr");
  tab->callback([o] { run_study_tabular(*o); });
}

}  // namespace bcq::cli
