// `bcq-continuous`: the LibTorch commands of bcq (collect, train, eval, study). `bcq collect|train|eval`
// runs this program, so the rest of bcq starts without loading LibTorch.
#include "apps/cli_common.hpp"

int main(int argc, char** argv) {
  CLI::App app{"bcq (continuous control: BCQ and its baselines on MuJoCo, with LibTorch)"};
  app.name("bcq");
  app.require_subcommand(1);
  app.set_version_flag("--version", "bcq " BCQ_VERSION);
  bcq::cli::add_continuous_commands(app);
  bcq::cli::add_study_commands(app);
  return bcq::cli::run(app, argc, argv);
}
