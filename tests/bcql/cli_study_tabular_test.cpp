// `bcq tabular --algo basic-rl|spibb|spibb-leq|ramdp|vi-lcb|behaviour` and `bcq study tabular`
// end to end: the hand-worked example's policy and values, the result files and their exact
// headers, resume, and bad input (exit 2, one stderr line, nothing written).
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "test_util.hpp"

namespace {

struct CliRun {
  int code = -1;
  std::string out, err;
};

std::string slurp(const std::string& file) {
  std::ifstream in(file);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class CliStudyTabular : public ::testing::Test {
 protected:
  void SetUp() override {
    write("mdp.json", R"({"format": "bcq-mdp/1", "name": "hand", "num_states": 3, "num_actions": 3,
      "gamma": 0.9, "initial": [[0, 1.0]], "terminal": [2], "transitions": [
      {"s": 0, "a": 0, "outcomes": [{"next": 1, "p": 1.0, "r": 0.0}]},
      {"s": 0, "a": 1, "outcomes": [{"next": 1, "p": 1.0, "r": 0.0}]},
      {"s": 0, "a": 2, "outcomes": [{"next": 1, "p": 1.0, "r": 0.0}]},
      {"s": 1, "a": 0, "outcomes": [{"next": 2, "p": 1.0, "r": 1.0}]},
      {"s": 1, "a": 1, "outcomes": [{"next": 2, "p": 1.0, "r": 0.5}]},
      {"s": 1, "a": 2, "outcomes": [{"next": 2, "p": 1.0, "r": 2.0}]}]})");
    std::string batch = "s,a,r,s_next,done\n";
    for (int k = 0; k < 7; ++k) batch += "0,0,0,1,0\n";
    for (int k = 0; k < 5; ++k) batch += "1,0,1,2,1\n";
    batch += "1,1,0.5,2,1\n1,2,2,2,1\n";
    write("batch.csv", batch);
    write("pib.json", R"({"format": "bcq-policy/1", "probs": [[0.5, 0.3, 0.2], [0.5, 0.3, 0.2], [0.4, 0.3, 0.3]]})");
    write("tiny.json", R"({"mdps": ["garnet"], "deterministic": [true], "behaviours": ["ratio-0.5"],
      "dataset_sizes": [5, 10], "datasets": 2, "garnet_states": 10, "garnet_actions": 3,
      "garnet_branching": 2, "horizon": 30})");
  }
  std::string path(const std::string& name) const { return dir_.file(name); }
  void write(const std::string& name, const std::string& text) const { std::ofstream(path(name)) << text; }
  CliRun run(const std::string& args) const {
    const std::string cmd = std::string(BCQ_BINARY) + " " + args + " > '" + path("stdout") +
                            "' 2> '" + path("stderr") + "'";
    const int status = std::system(cmd.c_str());
    CliRun r;
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.out = slurp(path("stdout"));
    r.err = slurp(path("stderr"));
    return r;
  }
  std::string common() const {
    return "--mdp '" + path("mdp.json") + "' --batch '" + path("batch.csv") + "'";
  }
  bcq::test::TempDir dir_;
};

TEST_F(CliStudyTabular, SpibbLeqPrintsTheHandWorkedPolicy) {
  const CliRun r = run("tabular --algo spibb-leq --n-wedge 2 --baseline '" + path("pib.json") + "' " +
                    common() + " --json '" + path("out.json") + "' --policy-out '" + path("pi.json") + "'");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("spibb-leq"), std::string::npos) << r.out;
  // --policy-out writes the (stochastic) policy itself: state 1 mixes 0.8 / 0.2.
  const auto pi = nlohmann::json::parse(slurp(path("pi.json")));
  EXPECT_EQ(pi["format"], "bcq-policy/1");
  EXPECT_NEAR(pi["probs"][1][0].get<double>(), 0.8, 1e-12) << pi.dump();
  EXPECT_NEAR(pi["probs"][1][2].get<double>(), 0.2, 1e-12) << pi.dump();
  const auto j = nlohmann::json::parse(slurp(path("out.json")));
  EXPECT_EQ(j["algorithm"], "spibb-leq");
  EXPECT_NEAR(j["policy"][1][0].get<double>(), 0.8, 1e-12);
  EXPECT_NEAR(j["policy"][1][2].get<double>(), 0.2, 1e-12);
  EXPECT_NEAR(j["policy"][0][0].get<double>(), 1.0, 1e-12);
  EXPECT_NEAR(j["V"][0].get<double>(), 1.08, 1e-12);
  // True values: state 1 earns 0.8 * 1 + 0.2 * 2 = 1.2 in M as in M_B (seen pairs are exact).
  EXPECT_NEAR(j["V_true"][1].get<double>(), 1.2, 1e-12);
  EXPECT_EQ(j["batch_constrained"], true);
}

TEST_F(CliStudyTabular, EveryAlgorithmRuns) {
  for (const std::string algo : {"basic-rl", "spibb", "ramdp", "vi-lcb", "behaviour"}) {
    const CliRun r = run("tabular --algo " + algo + " --baseline '" + path("pib.json") + "' " + common());
    EXPECT_EQ(r.code, 0) << algo << ": " << r.err;
    EXPECT_NE(r.out.find("pi(a|s)"), std::string::npos) << r.out;
  }
  const CliRun basic = run("tabular --algo basic-rl " + common() + " --json");
  ASSERT_EQ(basic.code, 0) << basic.err;
  const auto j = nlohmann::json::parse(basic.out);
  EXPECT_NEAR(j["V"][0].get<double>(), 1.8, 1e-12);
  EXPECT_NEAR(j["policy"][1][2].get<double>(), 1.0, 1e-12);
}

TEST_F(CliStudyTabular, SpibbWithoutBaselineIsRefused) {
  const CliRun r = run("tabular --algo spibb " + common() + " --json '" + path("out.json") + "'");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("--baseline"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_FALSE(bcq::test::file_exists(path("out.json")));
}

TEST_F(CliStudyTabular, StudyWritesBothTablesWithTheirHeadersAndResumes) {
  const std::string out = path("study");
  CliRun r = run("study tabular --spec '" + path("tiny.json") + "' --out '" + out + "' --workers 2");
  ASSERT_EQ(r.code, 0) << r.err;
  const std::string runs = slurp(out + "/tabular.csv");
  const std::string summary = slurp(out + "/tabular_summary.csv");
  EXPECT_EQ(runs.substr(0, runs.find('\n')),
            "mdp,deterministic,behaviour,dataset_size,dataset,algo,return,normalised,"
            "extrapolation_error,batch_constrained,behaviour_return,optimal_return");
  EXPECT_EQ(summary.substr(0, summary.find('\n')),
            "mdp,deterministic,behaviour,dataset_size,algo,runs,mean_normalised,cvar1_normalised,"
            "cvar10_normalised,p_improve,mean_extrapolation_error,mean_return");
  EXPECT_EQ(std::count(runs.begin(), runs.end(), '\n'), 2 * 2 * 8 + 1);
  EXPECT_EQ(std::count(summary.begin(), summary.end(), '\n'), 2 * 8 + 1);
  const auto state = nlohmann::json::parse(slurp(out + "/tabular_study.json"));
  EXPECT_EQ(state["status"], "done");
  EXPECT_EQ(state["spec"]["datasets"], 2);
  EXPECT_TRUE(state.contains("git_commit"));
  // CliRun again: everything is done already, the files are the same.
  r = run("study tabular --spec '" + path("tiny.json") + "' --out '" + out + "'");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("0 run now, 2 already done"), std::string::npos) << r.out;
  EXPECT_EQ(runs, slurp(out + "/tabular.csv"));
}

TEST_F(CliStudyTabular, MpirunRanksGiveTheSameFilesAsOneProcess) {
#ifndef BCQ_TEST_WITH_MPI
  GTEST_SKIP() << "bcq built without MPI";
#endif
  if (std::system("command -v mpirun >/dev/null 2>&1") != 0) GTEST_SKIP() << "mpirun not found";
  CliRun r = run("study tabular --spec '" + path("tiny.json") + "' --out '" + path("one") + "' --quiet");
  ASSERT_EQ(r.code, 0) << r.err;
  // As root OpenMPI needs --allow-run-as-root; --oversubscribe lets 3 ranks share fewer cores.
  std::string mpirun = "mpirun --oversubscribe -np 3 ";
  if (::geteuid() == 0) mpirun += "--allow-run-as-root ";
  const std::string cmd = mpirun + std::string(BCQ_BINARY) + " study tabular --spec '" +
                          path("tiny.json") + "' --out '" + path("three") + "' --quiet > '" +
                          path("mpi.out") + "' 2> '" + path("mpi.err") + "'";
  const int status = std::system(cmd.c_str());
  const std::string err = slurp(path("mpi.err"));
  if (err.find("built without MPI") != std::string::npos) GTEST_SKIP() << "bcq built without MPI";
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << err;
  EXPECT_EQ(slurp(path("one") + "/tabular.csv"), slurp(path("three") + "/tabular.csv"));
  EXPECT_EQ(slurp(path("one") + "/tabular_summary.csv"), slurp(path("three") + "/tabular_summary.csv"));
}

TEST_F(CliStudyTabular, BadStudyInputIsRefusedWithoutWriting) {
  write("bad.json", R"({"datasets": -3})");
  CliRun r = run("study tabular --spec '" + path("bad.json") + "' --out '" + path("s") + "'");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("'datasets'"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_FALSE(bcq::test::file_exists(path("s")));
  r = run("study tabular --profile quick --spec '" + path("tiny.json") + "' --out '" + path("s") + "'");
  EXPECT_EQ(r.code, 2);
  EXPECT_FALSE(bcq::test::file_exists(path("s")));
  r = run("study tabular --profile huge --out '" + path("s") + "'");
  EXPECT_EQ(r.code, 2);
}

}  // namespace
