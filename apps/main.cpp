// The `bcq` command line program: parse, dispatch to a library, print. Exit codes follow
// DESIGN.md: 0 success, 1 a failed check, 2 bad input or usage (one line on stderr).
//
// The LibTorch commands (collect, train, eval) live in the sibling program `bcq-continuous`,
// which `bcq` runs in its place: loading LibTorch costs ~0.7 s per start, and no other command
// needs it.
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "apps/cli_common.hpp"

namespace {

constexpr const char* kContinuousCommands[] = {"collect", "train", "eval"};

// `study plan|run|status` train in-process, so they run in bcq-continuous too; `study tabular`
// needs no LibTorch and stays here.
bool is_continuous_command(int argc, char** argv) {
  for (const char* name : kContinuousCommands)
    if (std::strcmp(argv[1], name) == 0) return true;
  return std::strcmp(argv[1], "study") == 0 && argc > 2 &&
         (std::strcmp(argv[2], "plan") == 0 || std::strcmp(argv[2], "run") == 0 ||
          std::strcmp(argv[2], "status") == 0);
}

int run_continuous_program(int argc, char** argv) {
  std::error_code ec;
  std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) self = argv[0];
  const std::string target = (self.parent_path() / "bcq-continuous").string();
  std::vector<char*> args;
  args.push_back(const_cast<char*>(target.c_str()));
  for (int i = 1; i < argc; ++i) args.push_back(argv[i]);
  args.push_back(nullptr);
  ::execv(target.c_str(), args.data());
  std::cerr << "bcq: error: `" << argv[1] << "` needs " << target
            << " (built with BCQ_WITH_TORCH=ON): " << std::strerror(errno) << "\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  // `bcq help [COMMAND [SUBCOMMAND]]` is `bcq [COMMAND [SUBCOMMAND]] --help`.
  std::vector<char*> help_args;
  static char help_flag[] = "--help";
  const bool help_command = argc > 1 && std::strcmp(argv[1], "help") == 0;
  if (help_command) {
    help_args.push_back(argv[0]);
    for (int i = 2; i < argc; ++i) help_args.push_back(argv[i]);
    help_args.push_back(help_flag);
    help_args.push_back(nullptr);
    argc = static_cast<int>(help_args.size()) - 1;
    argv = help_args.data();
  }
  if (argc > 1 && is_continuous_command(argc, argv)) return run_continuous_program(argc, argv);

  CLI::App app{"bcq: a workbench for batch-constrained reinforcement learning "
               "(Fujimoto, Meger, Precup, ICML 2019)"};
  app.name("bcq");
  app.require_subcommand(1);
  app.set_version_flag("--version", "bcq " BCQ_VERSION);
  bcq::cli::add_mdp_commands(app);
  bcq::cli::add_batch_commands(app);
  bcq::cli::add_tabular_commands(app);
  bcq::cli::add_verify_commands(app);
#ifdef BCQ_HAVE_MUJOCO
  bcq::cli::add_env_commands(app);
#endif
  bcq::cli::add_report_commands(app);
  // `bcq study tabular` needs no LibTorch, so it runs in `bcq` itself.
  CLI::App* study = app.add_subcommand("study", "Studies over a grid of cells (tabular: SPIBB-style)");
  study->require_subcommand(1);
  bcq::cli::add_study_tabular_command(*study);
  // Listed for --help; they run in bcq-continuous (see is_continuous_command).
  study->add_subcommand("plan", "The cells of a continuous study, their dependencies, a work estimate, Slurm lines");
  study->add_subcommand("run", "Run a continuous study's cells not done yet (workers, mpirun, --cell for Slurm)");
  study->add_subcommand("status", "Per cell of a continuous study: done, running, failed or pending, and an ETA");
  bcq::cli::add_buffer_commands(app);
  // Listed for --help; they run in bcq-continuous (see above).
  app.add_subcommand("collect", "Collect a continuous-control batch (HDF5, D4RL keys) with a behavioural DDPG agent");
  app.add_subcommand("train", "Train BCQ or a baseline offline on a batch");
  app.add_subcommand("eval", "Run an exported TorchScript policy (policy.pt)");
  app.footer("bcq help COMMAND [SUBCOMMAND] (or bcq COMMAND --help) shows a command's options.");
  if (help_command) {  // a name that is not a command is a usage error, not the top-level help
    const CLI::App* at = &app;
    for (int i = 1; i + 1 < argc; ++i) {
      const auto subs = at->get_subcommands([&](const CLI::App* sub) { return sub->get_name() == argv[i]; });
      if (subs.empty()) {
        std::cerr << "bcq: usage error: help: '" << argv[i] << "' is not a command"
                  << (at == &app ? "" : " of " + at->get_name()) << " (see bcq --help)\n";
        return 2;
      }
      at = subs.front();
    }
  }
  return bcq::cli::run(app, argc, argv);
}
