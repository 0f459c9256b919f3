// `bcq tabular` and `bcq error` end to end: the teaching example's numbers, and bad input
// (exit 2, one clear stderr line, no output file).
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

namespace {

struct CliRun {
  int code = -1;
  std::string out;
  std::string err;
};

class CliTabular : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/bcql_cli_XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    mdp_ = std::string(BCQ_SOURCE_DIR) + "/bcql/examples/cliff_walk.json";
    batch_ = std::string(BCQ_SOURCE_DIR) + "/bcql/examples/walk_batch.csv";
  }
  void TearDown() override { std::system(("rm -rf '" + dir_ + "'").c_str()); }

  std::string path(const std::string& name) const { return dir_ + "/" + name; }
  void write(const std::string& name, const std::string& text) const {
    std::ofstream(path(name)) << text;
  }
  static std::string slurp(const std::string& file) {
    std::ifstream in(file);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
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
  bool exists(const std::string& name) const { return ::access(path(name).c_str(), F_OK) == 0; }
  // Exit 2, one stderr line containing `needle`, no JSON file written.
  void expect_rejected(const std::string& args, const std::string& needle) const {
    const CliRun r = run(args + " --json '" + path("out.json") + "'");
    EXPECT_EQ(r.code, 2) << args << "\n" << r.err;
    EXPECT_NE(r.err.find(needle), std::string::npos) << "stderr: " << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_FALSE(exists("out.json"));
  }

  std::string dir_, mdp_, batch_;
};

TEST_F(CliTabular, TeachingExampleNumbers) {
  CliRun r = run("tabular --algo q-learning --mode synchronous --mdp " + mdp_ + " --batch " + batch_ +
              " --json " + path("q.json") + " --policy-out " + path("q_policy.json"));
  ASSERT_EQ(r.code, 0) << r.err;
  const auto q = nlohmann::json::parse(slurp(path("q.json")));
  EXPECT_EQ(q["format"], "bcq-tabular/1");
  EXPECT_NEAR(q["Q"][0][0].get<double>(), -1.0, 1e-12);
  EXPECT_NEAR(q["Q"][0][1].get<double>(), 0.0, 1e-12);
  EXPECT_EQ(q["greedy_policy"], nlohmann::json({1, 1, 1, 0, 0}));

  r = run("tabular --algo bcql --mdp " + mdp_ + " --batch " + batch_ +
          " --iterations 100000 --seed 1 --json");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto b = nlohmann::json::parse(r.out);
  EXPECT_NEAR(b["Q"][0][0].get<double>(), -2.71, 1e-9);
  EXPECT_EQ(b["greedy_policy"], nlohmann::json({0, 0, 0, 0, 0}));
  EXPECT_EQ(b["updates"], 100000);
  EXPECT_EQ(b["stop"], "max-updates");

  r = run("error --mdp " + mdp_ + " --batch " + batch_ + " --policy " + path("q_policy.json") +
          " --json");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto e = nlohmann::json::parse(r.out);
  EXPECT_NEAR(e["eps_pi_mdp"].get<double>(), 1.0, 1e-12);
  EXPECT_NEAR(e["eps_direct"][0][1].get<double>(), -10.0, 1e-12);
  EXPECT_LE(e["max_difference"].get<double>(), 1e-9);
  ASSERT_EQ(e["lemma1_violations"].size(), 1u);
  EXPECT_EQ(e["lemma1_violations"][0]["reason"], "missing from batch");
}

TEST_F(CliTabular, BadPolicyFiles) {
  const std::string base = "error --mdp " + mdp_ + " --batch " + batch_ + " --policy ";
  write("shape.json", R"({"format": "bcq-policy/1", "probs": [[1, 0], [1, 0]]})");
  expect_rejected(base + path("shape.json"), "shape.json");
  write("sum.json",
        R"({"format": "bcq-policy/1", "probs": [[0.5, 0.2], [1, 0], [1, 0], [1, 0], [1, 0]]})");
  expect_rejected(base + path("sum.json"), "sum.json");
  write("nan.json",
        R"({"format": "bcq-policy/1", "probs": [[NaN, 0], [1, 0], [1, 0], [1, 0], [1, 0]]})");
  expect_rejected(base + path("nan.json"), "nan.json");
}

TEST_F(CliTabular, BadBatches) {
  write("beyond.csv", "s,a,r,s_next,done\n0,0,-1,1,0\n0,0,-1,17,0\n");
  write("empty.csv", "s,a,r,s_next,done\n");
  write("badaction.csv", "s,a,r,s_next,done\n0,5,-1,1,0\n");
  write("policy.json",
        R"({"format": "bcq-policy/1", "probs": [[1, 0], [1, 0], [1, 0], [1, 0], [1, 0]]})");
  for (const std::string csv : {"beyond.csv", "empty.csv", "badaction.csv"}) {
    expect_rejected("tabular --algo bcql --mdp " + mdp_ + " --batch " + path(csv), csv);
    expect_rejected("tabular --algo q-learning --mode synchronous --mdp " + mdp_ + " --batch " +
                        path(csv),
                    csv);
    expect_rejected("error --mdp " + mdp_ + " --batch " + path(csv) + " --policy " +
                        path("policy.json"),
                    csv);
  }
}

TEST_F(CliTabular, BadOptions) {
  const std::string base = "tabular --mdp " + mdp_ + " --batch " + batch_;
  expect_rejected(base + " --algo sarsa", "sarsa");
  expect_rejected(base + " --algo bcql --step constant --alpha 1.5", "alpha");
  expect_rejected(base + " --algo bcql --w 1.5", "w must be");
  expect_rejected(base + " --algo bcql --q-init nan", "q-init");
  expect_rejected("tabular --algo bcql --mdp " + path("missing.json") + " --batch " + batch_,
                  "missing.json");
}

}  // namespace
