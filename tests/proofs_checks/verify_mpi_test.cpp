// `mpirun -np 2 bcq verify` splits every statement's cases across two ranks and writes the same
// counts, classifications, verdicts and counterexamples as one process with the same seed.
// Skipped when mpirun is absent or bcq was built without MPI.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <nlohmann/json.hpp>

#include "tests/test_util.hpp"

namespace {

bool have_mpirun() { return std::system("command -v mpirun >/dev/null 2>&1") == 0; }

TEST(VerifyMpi, TwoRanksGiveTheSameReportAsOneProcess) {
  if (!have_mpirun()) GTEST_SKIP() << "mpirun not found";
  bcq::test::TempDir dir;
  const std::string common = "verify --cases 200 --seed 21 --quiet --json ";
  std::string out, err;
  ASSERT_EQ(bcq::test::run_bcq(common + bcq::test::shell_quote(dir.file("one.json")), &out, &err), 0) << err << out;
  // As root OpenMPI needs --allow-run-as-root; --oversubscribe lets 2 ranks run on fewer cores.
  std::string mpirun = "mpirun --oversubscribe -np 2 ";
  if (::geteuid() == 0) mpirun += "--allow-run-as-root ";
  const std::string cmd = mpirun + bcq::test::shell_quote(BCQ_BINARY) + " " + common +
                          bcq::test::shell_quote(dir.file("two.json")) + " >" +
                          bcq::test::shell_quote(dir.file("out")) + " 2>" + bcq::test::shell_quote(dir.file("err"));
  const int rc = std::system(cmd.c_str());
  const std::string mpi_err = bcq::test::read_file(dir.file("err"));
  if (mpi_err.find("built without MPI") != std::string::npos) GTEST_SKIP() << "bcq built without MPI";
  ASSERT_EQ(rc, 0) << mpi_err << bcq::test::read_file(dir.file("out"));

  auto one = nlohmann::json::parse(bcq::test::read_file(dir.file("one.json")));
  auto two = nlohmann::json::parse(bcq::test::read_file(dir.file("two.json")));
  EXPECT_EQ(one["ranks"], 1);
  EXPECT_EQ(two["ranks"], 2);
  EXPECT_EQ(one["format"], two["format"]);
  EXPECT_EQ(one["ok"], two["ok"]);
  ASSERT_EQ(one["statements"].size(), two["statements"].size());
  for (size_t i = 0; i < one["statements"].size(); ++i) {
    const auto& a = one["statements"][i];
    const auto& b = two["statements"][i];
    for (const char* key : {"name", "cases_run", "passed", "discarded", "classification", "verdict", "ok"})
      EXPECT_EQ(a[key], b[key]) << a["name"] << " differs in " << key;
    // Where a case failed, the same case, shrunk to the same counterexample.
    EXPECT_EQ(a.value("failing_case", -1), b.value("failing_case", -1)) << a["name"];
    EXPECT_EQ(a.value("counterexample", ""), b.value("counterexample", "")) << a["name"];
    EXPECT_EQ(a.value("failure", ""), b.value("failure", "")) << a["name"];
  }
}

}  // namespace
