// common/atomic_file.hpp: a file is replaced whole or not at all, and no temporary file is left
// behind, whether the writer succeeds, throws, or the target folder is missing.
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "common/atomic_file.hpp"
#include "tests/test_util.hpp"

namespace bcq {
namespace {

TEST(AtomicFile, ReplacesTheWholeFileAndLeavesNoTemporary) {
  test::TempDir dir;
  test::write_file(dir.file("out.txt"), "old content that is longer");
  write_file_atomic(dir.file("out.txt"), "new");
  EXPECT_EQ(test::read_file(dir.file("out.txt")), "new");
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"out.txt"});
}

TEST(AtomicFile, AWriterThatThrowsLeavesTheOldFileAndNoTemporary) {
  test::TempDir dir;
  test::write_file(dir.file("out.txt"), "old");
  std::string tmp_seen;
  EXPECT_THROW(write_atomically(dir.file("out.txt"),
                                [&](const std::string& tmp) {
                                  tmp_seen = tmp;
                                  test::write_file(tmp, "half");
                                  throw std::runtime_error("disk full");
                                }),
               std::runtime_error);
  EXPECT_EQ(test::read_file(dir.file("out.txt")), "old");
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"out.txt"});
  // The temporary file was in the target's folder (so that the rename stays on one file
  // system) and named after the target with no further extension.
  EXPECT_EQ(tmp_seen.rfind(dir.file("out.txt.tmp"), 0), 0u) << tmp_seen;
  EXPECT_EQ(tmp_seen.find('.', dir.file("out.txt.tmp").size()), std::string::npos) << tmp_seen;
}

TEST(AtomicFile, AWriterThatReplacesTheTemporaryIsRenamedIntoPlace) {
  test::TempDir dir;
  write_atomically(dir.file("model.pt"), [&](const std::string& tmp) {
    std::filesystem::remove(tmp);  // as a library that creates its own file would
    test::write_file(tmp, "weights");
  });
  EXPECT_EQ(test::read_file(dir.file("model.pt")), "weights");
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"model.pt"});
}

TEST(AtomicFile, AMissingFolderIsAnInputErrorNamingThePath) {
  test::TempDir dir;
  const std::string path = dir.file("missing/out.txt");
  try {
    write_file_atomic(path, "x");
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  }
  EXPECT_TRUE(dir.entries().empty());
}

}  // namespace
}  // namespace bcq
