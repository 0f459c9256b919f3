// Bad inputs of the kinds users feed bcq from other tools, through the CLI: each must give
// exit code 2, one stderr line naming what and where, no output file, and inputs untouched
// (docs/limits.md). Absurd sizes must be refused before anything large is allocated or run.
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/test_util.hpp"

namespace {

using bcq::test::CliResult;
using bcq::test::expect_refused;
using bcq::test::read_file;
using bcq::test::run_bcq;
using bcq::test::run_bcq_on_full_disk;
using bcq::test::TempDir;
using bcq::test::write_file;
using nlohmann::json;

const char* kPolicy = R"({"format": "bcq-policy/1", "probs": [[0.5, 0.5], [0.5, 0.5], [0.5, 0.5]]})";
const char* kBatch = "s,a,r,s_next,done\n0,0,0,1,0\n1,0,2,2,1\n0,1,1,1,0\n1,1,-1,2,1\n";

// ---------------------------------------------------------------- absurd sizes

TEST(AbsurdSizes, MdpDeclaringBillionsOfStatesIsRefusedBeforeAllocating) {
  TempDir dir;
  json doc = json::parse(bcq::test::kTwoStepMdp);
  doc["num_states"] = 1000000000;
  write_file(dir.file("m.json"), doc.dump());
  CliResult r = run_bcq({"mdp", "solve", dir.file("m.json")}, dir.path());
  expect_refused(r, {dir.file("m.json"), "(s=3,a=0)", "[rule: missing-outcomes]", "1000000000 states"});
}

TEST(AbsurdSizes, ProbabilityBeyondTheDoubleRangeIsRefusedWithItsPosition) {
  TempDir dir;
  std::string text = bcq::test::kTwoStepMdp;
  text.replace(text.find("\"p\": 1.0"), 8, "\"p\": 1e400");
  write_file(dir.file("m.json"), text);
  CliResult r = run_bcq({"mdp", "solve", dir.file("m.json")}, dir.path());
  expect_refused(r, {dir.file("m.json") + ":5:", "number out of range", "[rule: json-number-range]"});
}

TEST(AbsurdSizes, PolicyNestedDeeplyIsRefusedNotACrash) {
  TempDir dir;
  write_file(dir.file("m.json"), bcq::test::kTwoStepMdp);
  std::string deep = "{\"format\": \"bcq-policy/1\", \"probs\": " + std::string(200000, '[') +
                     std::string(200000, ']') + "}";
  write_file(dir.file("pi.json"), deep);
  CliResult r = run_bcq({"batch", "collect", "--mdp", dir.file("m.json"), "--policy", dir.file("pi.json"),
                         "--size", "10", "-o", dir.file("b.csv")},
                        dir.path());
  expect_refused(r, {dir.file("pi.json"), "nesting deeper than 64 levels", "[rule: json-depth]"});
  EXPECT_FALSE(bcq::test::file_exists(dir.file("b.csv")));
}

TEST(AbsurdSizes, BatchSizeOptionsOutOfRangeAreUsageErrors) {
  TempDir dir;
  write_file(dir.file("m.json"), bcq::test::kTwoStepMdp);
  for (const char* size : {"-1", "1000000000000", "0", "1e6", "0x10"}) {
    CliResult r = run_bcq({"batch", "collect", "--mdp", dir.file("m.json"), "--size", size, "-o", dir.file("b.csv")},
                          dir.path());
    expect_refused(r, {"--size", "[1, 10000000]"});
    EXPECT_FALSE(bcq::test::file_exists(dir.file("b.csv")));
  }
}

TEST(AbsurdSizes, UnboundedRunsAreRefusedUpFront) {
  TempDir dir;
  write_file(dir.file("m.json"), bcq::test::kTwoStepMdp);
  write_file(dir.file("b.csv"), kBatch);
  expect_refused(run_bcq({"tabular", "--algo", "bcql", "--mdp", dir.file("m.json"), "--batch", dir.file("b.csv"),
                          "--iterations", "99999999999999999999999"},
                         dir.path()),
                 {"--iterations", "[0, 1000000000000]"});
  expect_refused(run_bcq({"mdp", "generate", "garnet", "--states", "1000000000", "-o", dir.file("g.json")},
                         dir.path()),
                 {"--states", "[1, 1000000]"});
  expect_refused(run_bcq({"mdp", "generate", "garnet", "--states", "1000000", "--actions", "1000", "-o",
                          dir.file("g.json")},
                         dir.path()),
                 {"--states x --actions", "10000000"});
  EXPECT_FALSE(bcq::test::file_exists(dir.file("g.json")));
}

TEST(AbsurdSizes, VerifyCasesZeroNamesAShortRange) {
  TempDir dir;
  CliResult r = run_bcq({"verify", "--cases", "0"}, dir.path());
  expect_refused(r, {"--cases", "[1, 10000000]"});
  EXPECT_LT(r.err.size(), 200u) << r.err;
}

// ---------------------------------------------------------------- what an input is

TEST(InputKinds, DevicesAreRefusedWithoutReadingThem) {
  TempDir dir;
  write_file(dir.file("m.json"), bcq::test::kTwoStepMdp);
  expect_refused(run_bcq({"mdp", "solve", "/dev/zero"}, dir.path()), {"/dev/zero", "a device"});
  expect_refused(run_bcq({"batch", "analyze", "--mdp", dir.file("m.json"), "--batch", "/dev/urandom"}, dir.path()),
                 {"/dev/urandom", "a device"});
}

TEST(InputKinds, DirectoriesAndFifosAreNamedAsSuch) {
  TempDir dir;
  write_file(dir.file("m.json"), bcq::test::kTwoStepMdp);
  expect_refused(run_bcq({"mdp", "solve", dir.path()}, dir.path()), {dir.path(), "a directory"});
  expect_refused(run_bcq({"batch", "analyze", "--mdp", dir.file("m.json"), "--batch", dir.path()}, dir.path()),
                 {"a directory"});
  ASSERT_EQ(::mkfifo(dir.file("fifo").c_str(), 0600), 0);
  // A FIFO with no writer would block a plain open(); the reader must not wait for one.
  expect_refused(run_bcq({"mdp", "solve", dir.file("fifo")}, dir.path()), {"fifo", "a FIFO"});
}

// ---------------------------------------------------------------- output = input

struct SameFileCase {
  const char* name;
  std::vector<std::string> args;  // "M", "B", "P" stand for the input files
  const char* victim;             // the input the output would have replaced
};

std::vector<std::string> expand(const std::vector<std::string>& args, const TempDir& dir) {
  std::vector<std::string> out;
  for (const std::string& a : args) {
    if (a == "M") out.push_back(dir.file("m.json"));
    else if (a == "B") out.push_back(dir.file("b.csv"));
    else if (a == "P") out.push_back(dir.file("pi.json"));
    else if (a == "L") out.push_back(dir.file("link.json"));  // a hard link to m.json
    else out.push_back(a);
  }
  return out;
}

TEST(OutputIsInput, RefusedAndTheInputIsUntouched) {
  const std::vector<SameFileCase> cases = {
      {"batch mdp -o = --mdp", {"batch", "mdp", "--mdp", "M", "--batch", "B", "-o", "M"}, "m.json"},
      {"batch mdp -o = --batch", {"batch", "mdp", "--mdp", "M", "--batch", "B", "-o", "B"}, "b.csv"},
      {"tabular --json = --mdp", {"tabular", "--algo", "bcql", "--mdp", "M", "--batch", "B", "--json", "M"}, "m.json"},
      {"tabular --policy-out = --batch",
       {"tabular", "--algo", "bcql", "--mdp", "M", "--batch", "B", "--policy-out", "B"}, "b.csv"},
      {"batch collect -o = --mdp", {"batch", "collect", "--mdp", "M", "--size", "5", "-o", "M"}, "m.json"},
      {"batch collect -o = --policy", {"batch", "collect", "--mdp", "M", "--policy", "P", "-o", "P"}, "pi.json"},
      {"error --json = --policy", {"error", "--mdp", "M", "--batch", "B", "--policy", "P", "--json", "P"}, "pi.json"},
      {"mdp solve --policy-out = the MDP", {"mdp", "solve", "M", "--policy-out", "M"}, "m.json"},
      {"hard link", {"mdp", "solve", "M", "--policy-out", "L"}, "m.json"},
      {"batch analyze --dot = --batch", {"batch", "analyze", "--mdp", "M", "--batch", "B", "--dot", "B"}, "b.csv"},
  };
  for (const SameFileCase& c : cases) {
    SCOPED_TRACE(c.name);
    TempDir dir;
    write_file(dir.file("m.json"), bcq::test::kTwoStepMdp);
    write_file(dir.file("b.csv"), kBatch);
    write_file(dir.file("pi.json"), kPolicy);
    ASSERT_EQ(::link(dir.file("m.json").c_str(), dir.file("link.json").c_str()), 0);
    const std::string before = read_file(dir.file(c.victim));
    CliResult r = run_bcq(expand(c.args, dir), dir.path());
    expect_refused(r, {"is the same file as the input", c.victim});
    EXPECT_EQ(read_file(dir.file(c.victim)), before);
    EXPECT_EQ(dir.entries().size(), 4u) << "nothing written next to the inputs";
  }
}

TEST(OutputIsInput, ADistinctOutputStillWorks) {
  TempDir dir;
  write_file(dir.file("m.json"), bcq::test::kTwoStepMdp);
  write_file(dir.file("b.csv"), kBatch);
  CliResult r = run_bcq({"batch", "mdp", "--mdp", dir.file("m.json"), "--batch", dir.file("b.csv"), "-o",
                         dir.file("mb.json")},
                        dir.path());
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(bcq::test::file_exists(dir.file("mb.json")));
}

TEST(OutputIsInput, ADeviceAsOutputIsRefused) {
  TempDir dir;
  CliResult r = run_bcq({"mdp", "generate", "chain", "--n", "4", "-o", "/dev/null"}, dir.path());
  expect_refused(r, {"/dev/null", "a device"});
}

// ---------------------------------------------------------------- bad data accepted

TEST(BadData, CsvFieldsMustBePlainDecimal) {
  struct Case {
    const char* name;
    std::string csv;
    const char* where;
  };
  const std::vector<Case> cases = {
      {"NUL byte in s", std::string("s,a,r,s_next,done\n0\0,0,0,1,0\n", 30), ":2 column s"},
      {"NUL byte in r", std::string("s,a,r,s_next,done\n0,0,1\0,1,0\n", 30), ":2 column r"},
      {"hexadecimal reward", "s,a,r,s_next,done\n0,0,0x10,1,0\n", ":2 column r"},
      {"hexadecimal state", "s,a,r,s_next,done\n0x0,0,0,1,0\n", ":2 column s"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    TempDir dir;
    write_file(dir.file("m.json"), bcq::test::kTwoStepMdp);
    write_file(dir.file("b.csv"), c.csv);
    CliResult r = run_bcq({"batch", "analyze", "--mdp", dir.file("m.json"), "--batch", dir.file("b.csv")}, dir.path());
    expect_refused(r, {"b.csv", c.where, "[rule: csv-number]"});
    EXPECT_EQ(r.err.find('\0'), std::string::npos) << "a NUL byte is shown as \\x00, not written";
  }
}

TEST(BadData, NulByteIsShownInTheMessage) {
  TempDir dir;
  write_file(dir.file("m.json"), bcq::test::kTwoStepMdp);
  write_file(dir.file("b.csv"), std::string("s,a,r,s_next,done\n0,0,1\0x,1,0\n", 31));
  CliResult r = run_bcq({"batch", "analyze", "--mdp", dir.file("m.json"), "--batch", dir.file("b.csv")}, dir.path());
  expect_refused(r, {"\"1\\x00x\""});
}

TEST(BadData, HugeFieldIsNotEchoedWhole) {
  TempDir dir;
  write_file(dir.file("m.json"), bcq::test::kTwoStepMdp);
  write_file(dir.file("b.csv"), "s,a,r,s_next,done\n0,0," + std::string(5000000, '7') + "x,1,0\n");
  CliResult r = run_bcq({"batch", "analyze", "--mdp", dir.file("m.json"), "--batch", dir.file("b.csv")}, dir.path());
  expect_refused(r, {":2 column r", "..."});
  EXPECT_LT(r.err.size(), 400u);
}

TEST(BadData, ByteOrderMarkIsAcceptedInCsvAndJson) {
  TempDir dir;
  const std::string bom = "\xEF\xBB\xBF";
  write_file(dir.file("m.json"), bom + bcq::test::kTwoStepMdp);
  write_file(dir.file("b.csv"), bom + kBatch);
  write_file(dir.file("pi.json"), bom + kPolicy);
  CliResult r = run_bcq({"error", "--mdp", dir.file("m.json"), "--batch", dir.file("b.csv"), "--policy",
                         dir.file("pi.json")},
                        dir.path());
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

TEST(BadData, ByteOrderMarkInAWrongHeaderIsShown) {
  TempDir dir;
  write_file(dir.file("m.json"), bcq::test::kTwoStepMdp);
  // A BOM in the middle of the header (after a blank first line) is not skipped: it shows.
  write_file(dir.file("b.csv"), "\n\xEF\xBB\xBFs,a,r,s_next,done\n0,0,0,1,0\n");
  CliResult r = run_bcq({"batch", "analyze", "--mdp", dir.file("m.json"), "--batch", dir.file("b.csv")}, dir.path());
  expect_refused(r, {"\\xEF\\xBB\\xBFs,a,r,s_next,done", "[rule: csv-header]"});
}

TEST(BadData, DuplicateJsonKeyIsRefusedWhereItIs) {
  TempDir dir;
  std::string text = bcq::test::kTwoStepMdp;
  // outcomes[0] of transitions[1] gets a second "p": the last value would make the sum 1.5.
  const std::string once = "{\"next\": 1, \"p\": 0.5, \"r\": 1.0}";
  text.replace(text.find(once), once.size(), "{\"next\": 1, \"p\": 0.5, \"p\": 1.0, \"r\": 1.0}");
  write_file(dir.file("m.json"), text);
  CliResult r = run_bcq({"mdp", "solve", dir.file("m.json")}, dir.path());
  expect_refused(r, {dir.file("m.json") + ".transitions[1].outcomes[0].p", "appears twice",
                     "[rule: json-duplicate-key]"});
}

TEST(BadData, NumericOptionsOutOfRange) {
  TempDir dir;
  write_file(dir.file("m.json"), bcq::test::kTwoStepMdp);
  write_file(dir.file("b.csv"), kBatch);
  expect_refused(run_bcq({"mdp", "solve", dir.file("m.json"), "--method", "vi", "--tol", "-1"}, dir.path()),
                 {"--tol", "(0, 1e+300]"});
  expect_refused(run_bcq({"tabular", "--algo", "bcql", "--mode", "synchronous", "--mdp", dir.file("m.json"),
                          "--batch", dir.file("b.csv"), "--tol", "-1"},
                         dir.path()),
                 {"--tol"});
  expect_refused(run_bcq({"batch", "collect", "--mdp", dir.file("m.json"), "--seed", "-1", "-o", dir.file("x.csv")},
                         dir.path()),
                 {"--seed", "[0, 18446744073709551615]"});
  expect_refused(run_bcq({"verify", "--seed", "-3"}, dir.path()), {"--seed"});
  expect_refused(run_bcq({"mdp", "generate", "chain", "--states", "5", "-o", dir.file("c.json")}, dir.path()),
                 {"--states does not apply to the chain generator"});
  expect_refused(run_bcq({"mdp", "generate", "garnet", "--width", "5", "-o", dir.file("c.json")}, dir.path()),
                 {"--width does not apply to the garnet generator"});
  EXPECT_FALSE(bcq::test::file_exists(dir.file("c.json")));
  EXPECT_FALSE(bcq::test::file_exists(dir.file("x.csv")));
}


// ---------------------------------------------------------------- a full disk

// run_bcq_on_full_disk (tests/test_util.hpp): every write past 1 KiB fails (EFBIG) as on a full
// disk (ENOSPC); both take the same path in the writers.
TEST(FullDisk, WritersExit2WithOneLineAndLeaveNothing) {
  TempDir dir;
  write_file(dir.file("m.json"), bcq::test::kTwoStepMdp);
  ASSERT_EQ(run_bcq({"mdp", "generate", "chain", "--n", "300", "-o", dir.file("chain.json")}, dir.path()).exit_code, 0);
  ASSERT_EQ(run_bcq({"batch", "collect", "--mdp", dir.file("chain.json"), "--size", "3000", "-o", dir.file("b.csv")},
                    dir.path()).exit_code, 0);
  const std::vector<std::vector<std::string>> commands = {
      {"mdp", "generate", "garnet", "--states", "300", "-o", dir.file("out")},
      {"batch", "collect", "--mdp", dir.file("chain.json"), "--size", "3000", "-o", dir.file("out")},
      {"mdp", "solve", dir.file("chain.json"), "--policy-out", dir.file("out")},
      {"batch", "mdp", "--mdp", dir.file("chain.json"), "--batch", dir.file("b.csv"), "-o", dir.file("out")},
      {"tabular", "--algo", "bcql", "--mode", "synchronous", "--mdp", dir.file("chain.json"), "--batch",
       dir.file("b.csv"), "--json", dir.file("out")},
  };
  for (const auto& args : commands) {
    SCOPED_TRACE(args[0] + " " + args[1]);
    CliResult r = run_bcq_on_full_disk(args, 1024);
    expect_refused(r, {"cannot write " + dir.file("out")});
    std::vector<std::string> entries = dir.entries();
    std::sort(entries.begin(), entries.end());
    EXPECT_EQ(entries, (std::vector<std::string>{"b.csv", "chain.json", "m.json"})) << "nothing half-written";
  }
}

}  // namespace
