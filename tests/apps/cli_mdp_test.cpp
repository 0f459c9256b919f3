// End to end through the `bcq` binary: generate -> collect -> analyze -> batch mdp -> solve.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "mdp/batch.hpp"
#include "mdp/io.hpp"
#include "tests/test_util.hpp"

namespace {

using bcq::test::run_bcq;
using bcq::test::TempDir;

TEST(CliPipeline, GenerateCollectAnalyzeBatchMdpSolve) {
  TempDir dir;
  auto r = run_bcq({"mdp", "generate", "grid", "--width", "3", "--height", "3", "--deterministic", "-o",
                    dir.file("g.json")},
                   dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = run_bcq({"batch", "collect", "--mdp", dir.file("g.json"), "--policy", "uniform", "--size", "400", "--seed", "3",
               "--horizon", "50", "-o", dir.file("b.csv")},
              dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  bcq::Batch b = bcq::load_batch(dir.file("b.csv"));
  EXPECT_EQ(b.size(), 400u);

  r = run_bcq({"batch", "analyze", "--mdp", dir.file("g.json"), "--batch", dir.file("b.csv"), "--json", "--dot",
               dir.file("b.dot")},
              dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto a = nlohmann::json::parse(r.out);
  EXPECT_EQ(a["transitions"], 400);
  EXPECT_TRUE(a["start_in_batch"].get<bool>());
  EXPECT_TRUE(a["p_b_equals_p_m"].get<bool>());  // deterministic MDP: every seen p_B is 1
  EXPECT_TRUE(bcq::test::file_exists(dir.file("b.dot")));

  r = run_bcq({"batch", "mdp", "--mdp", dir.file("g.json"), "--batch", dir.file("b.csv"), "--q-init", "5", "-o",
               dir.file("mb.json")},
              dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  bcq::FiniteMdp mb = bcq::load_mdp(dir.file("mb.json"));
  EXPECT_EQ(mb.num_states(), 10);
  EXPECT_TRUE(mb.is_terminal(9));

  r = run_bcq({"mdp", "solve", dir.file("g.json"), "--json"}, dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto s = nlohmann::json::parse(r.out);
  // 3x3 deterministic grid: 4 moves to the goal, the last pays 1, the others -0.01:
  // V*(0) = -0.01 (1 + 0.9 + 0.81) + 0.9^3 = 0.7019.
  EXPECT_NEAR(s["V"][0].get<double>(), -0.01 * (1 + 0.9 + 0.81) + 0.729, 1e-12);
  EXPECT_TRUE(s["converged"].get<bool>());

  r = run_bcq({"mdp", "solve", dir.file("g.json"), "--method", "vi"}, dir.path());
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("value iteration"), std::string::npos);
}

TEST(CliPipeline, GenerateIsReproducible) {
  TempDir dir;
  for (const char* name : {"a.json", "b.json"}) {
    auto r = run_bcq({"mdp", "generate", "garnet", "--states", "20", "--actions", "3", "--branching", "2", "--seed",
                      "5", "-o", dir.file(name)},
                     dir.path());
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  EXPECT_EQ(bcq::test::read_file(dir.file("a.json")), bcq::test::read_file(dir.file("b.json")));
}

TEST(CliPipeline, BadPolicyFileIsRefused) {
  TempDir dir;
  bcq::test::write_file(dir.file("m.json"), bcq::test::kTwoStepMdp);
  bcq::test::write_file(dir.file("p.json"), R"({"format": "bcq-policy/1", "probs": [[0.5, 0.5], [1, 0]]})");
  auto r = run_bcq({"batch", "collect", "--mdp", dir.file("m.json"), "--policy", dir.file("p.json"), "-o",
                    dir.file("b.csv")},
                   dir.path());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("policy-shape"), std::string::npos) << r.err;
  EXPECT_FALSE(bcq::test::file_exists(dir.file("b.csv")));
}

}  // namespace
