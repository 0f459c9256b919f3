// The inputs fuzz_buffer_hdf5 found (fuzz/corpus/buffer_hdf5/regression-*), each refused as a
// bad file: exit 2 and one line through `bcq buffer info`. Its own test program because libhdf5
// leaks when it gives up on such files: under the asan preset this program alone runs with
// fuzz/lsan.supp (tests/continuous/CMakeLists.txt), so a leak of bcq's elsewhere still fails.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <string>

#include "common/error.hpp"
#include "continuous/replay_buffer.hpp"
#include "tests/continuous/buffer_test_util.hpp"
#include "tests/test_util.hpp"

namespace bcq::continuous {
namespace {

using test_buffers::error_of;

TEST(FuzzFindings, CorruptMinariHeaderIsAnInputError) {
  // Found by fuzz_buffer_hdf5: a mutated Minari file on which libhdf5 asks for 2^53 bytes
  // (and gets none); the loader must refuse it as a bad file, exit 2 in the CLI.
  const std::string path = std::string(BCQ_SOURCE_DIR) + "/fuzz/corpus/buffer_hdf5/regression-huge-alloc.h5";
  EXPECT_THROW(load_buffer(path, {}), InputError);
  const test::TempDir capture;
  const auto r = test::run_bcq({"buffer", "info", path}, capture.path());
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

TEST(FuzzFindings, ZeroSizeGlobalHeapObjectIsRefusedInsteadOfReadForever) {
  // Found by fuzz_buffer_hdf5: a string attribute whose global heap collection holds a
  // free-space object of size 0, on which libhdf5 1.10.8's H5Aread never returns
  // (continuous/hdf5_global_heap.hpp). The loader must refuse it before reading it.
  const std::string path =
      std::string(BCQ_SOURCE_DIR) + "/fuzz/corpus/buffer_hdf5/regression-zero-size-global-heap-object.h5";
  const std::string msg = error_of(path, {});
  EXPECT_NE(msg.find(path + ": corrupt HDF5 file: global heap collection at byte 6144"),
            std::string::npos)
      << msg;
  EXPECT_NE(msg.find("has size 0"), std::string::npos) << msg;
  std::ifstream in(path, std::ios::binary);
  const std::string image((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_THROW(load_buffer_image(image.data(), image.size(), "image", {}), InputError);
  const test::TempDir capture;
  const auto r = test::run_bcq({"buffer", "info", path}, capture.path());
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

TEST(FuzzFindings, UndecodableAttributesAreRefusedBeforeLibhdf5CrashesOnThem) {
  // Found by fuzz_buffer_hdf5: files whose attribute messages cannot all be decoded, on which
  // libhdf5 1.10.8's H5Aiterate2 segfaults releasing its attribute table (H5A__close). The
  // loader must refuse them before iterating; in the fuzz build (ASan) the iteration crashes.
  for (const char* name : {"regression-attribute-table-1.h5", "regression-attribute-table-2.h5"}) {
    const std::string path = std::string(BCQ_SOURCE_DIR) + "/fuzz/corpus/buffer_hdf5/" + name;
    EXPECT_EQ(error_of(path, {}), path + ": corrupt HDF5 file: its attributes cannot be decoded");
    const test::TempDir capture;
    const auto r = test::run_bcq({"buffer", "info", path}, capture.path());
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_EQ(r.err, "bcq: error: " + path + ": corrupt HDF5 file: its attributes cannot be decoded\n");
  }
}

TEST(FuzzFindings, WhatLibhdf5WouldReadPastOrSizeFromTheFileIsRefusedFirst) {
  // Found by fuzz_buffer_hdf5: corrupt files on which libhdf5 1.10.8 reads past a buffer
  // (strdup of an unterminated name), allocates what a 19 KB file declares (4 GiB), zeroes a
  // 4 GiB buffer for a variable-length string (minutes), dereferences a global heap object
  // that does not exist or reads a B-tree child at the undefined address (segfaults in the
  // release build), sizes an enumeration's values by its 1 GB base type (a 2.4 GB calloc, a
  // 64 KB copy out of a 40-byte message), or zeroes a conversion buffer for 2.8 GB "floats"
  // (10 s); and one on which bcq's own flag reader let H5Dread write 8 bytes per 1-byte flag.
  // A header chunk declared 4 GB long made H5Fopen allocate 4 GB; an enumeration's base type
  // of 17,672 bits in one byte made H5Tget_native_type segfault; a local heap's free list that
  // comes back on itself made H5Literate loop for ever; a string type stored as 15 bytes made
  // H5Aread copy 16. Each must be refused first
  // (continuous/hdf5_object_header.hpp), exit 2 and one line.
  const struct {
    const char* file;
    const char* says;
  } findings[] = {
      {"regression-attribute-name-overread.h5",
       "the attribute message at byte 1968 has a name that does not end within it"},
      {"regression-symbol-name-overread.h5",
       "names entry 1 at heap offset 96, whose name does not end within the local heap's 176 "
       "bytes"},
      {"regression-local-heap-4gib.h5",
       "the local heap at byte 12224 declares a data segment of 4294967120 bytes"},
      {"regression-vlen-length-4gib.h5", "has a variable-length value of 8 elements"},
      {"regression-global-heap-missing-object.h5",
       "of the global heap collection at address 2048, which does not hold it"},
      // Found when bcq's flag reader let H5Dread write 8 bytes per 1-byte flag; the header
      // check now refuses its enumeration first (the reader's own check stays).
      {"regression-enum-base-wider-than-enum.h5",
       "the datatype message at byte 13808 is an enumeration whose base type has 48 bits of "
       "precision at bit 0 of a 8-bit value"},
      {"regression-enum-base-of-1gb.h5",
       "the datatype message at byte 4864 is an enumeration 1 bytes wide over a base type "
       "1191182337 bytes wide"},
      {"regression-enum-values-past-message.h5",
       "the datatype message at byte 4864 is an enumeration 1 bytes wide over a base type "
       "32769 bytes wide"},
      {"regression-btree-child-undefined.h5",
       "the group B-tree node at byte 136 has a child at address 18446744073709551615"},
      {"regression-local-heap-free-list-cycle.h5",
       "the local heap at byte 680 has a free list that never ends"},
      {"regression-vlen-size-short.h5",
       "has a variable-length datatype of 15 bytes; a stored value takes 16"},
      // Opening a committed datatype decodes it (H5T_copy read 186 bytes past one): bcq asks
      // the header what an object is instead of opening it.
      {"regression-committed-datatype-opened.h5", "'terminals' is not a dataset"},
      {"regression-object-header-chunk-4gb.h5",
       "the object header at byte 96 declares a chunk of 4160749256 bytes"},
      {"regression-enum-base-precision.h5",
       "is an enumeration whose base type has 17672 bits of precision at bit 0 of a 8-bit value"},
      // Found when libhdf5 zeroed a conversion buffer for 2.8 GB floats; refused first by the
      // header check too (dataset_shape's size limit stays).
      {"regression-float-of-2gb.h5",
       "the datatype message at byte 13808 is an enumeration whose base type has 48 bits of "
       "precision at bit 0 of a 8-bit value"},
  };
  for (const auto& f : findings) {
    const std::string path = std::string(BCQ_SOURCE_DIR) + "/fuzz/corpus/buffer_hdf5/" + f.file;
    const std::string msg = error_of(path, {});
    EXPECT_NE(msg.find(path + ": "), std::string::npos) << msg;
    EXPECT_NE(msg.find(f.says), std::string::npos) << f.file << ": " << msg;
    std::ifstream in(path, std::ios::binary);
    const std::string image((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    ASSERT_FALSE(image.empty()) << path;
    EXPECT_THROW(load_buffer_image(image.data(), image.size(), "image", {}), InputError) << f.file;
    const test::TempDir capture;
    const auto r = test::run_bcq({"buffer", "info", path}, capture.path());
    EXPECT_EQ(r.exit_code, 2) << f.file << ": " << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_NE(r.err.find(f.says), std::string::npos) << r.err;
  }
}

}  // namespace
}  // namespace bcq::continuous
