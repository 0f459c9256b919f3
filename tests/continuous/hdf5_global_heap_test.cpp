// global_heap_problem against collections built byte by byte from the HDF5 file format
// specification (III.E, Global Heap), and against libhdf5 1.10.8's decoding loop: what it
// decodes is passed, what would make it loop or read past the collection is named.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "continuous/hdf5_global_heap.hpp"

namespace bcq::continuous {
namespace {

void put(std::string& out, uint64_t value, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}

// A collection of `size` bytes: header, then objects given as (heap index, size, payload
// bytes written), then zero padding up to `size`.
struct Object {
  uint64_t index, size, payload;
};
std::string collection(uint64_t size, std::initializer_list<Object> objects, int version = 1) {
  std::string out = "GCOL";
  put(out, version, 1);
  put(out, 0, 3);
  put(out, size, 8);
  for (const Object& o : objects) {
    put(out, o.index, 2);
    put(out, 1, 2);  // reference count
    put(out, 0, 4);
    put(out, o.size, 8);
    out.append(o.payload, 'x');
  }
  if (out.size() < size) out.append(size - out.size(), '\0');
  return out;
}

TEST(GlobalHeap, AWellFormedCollectionPasses) {
  // One 12-byte string (padded to 16) and the free-space object covering the rest, as libhdf5
  // writes them: 16 + (16 + 16) + free 4048 = 4096.
  const std::string heap = collection(4096, {{1, 12, 16}, {0, 4048, 0}});
  EXPECT_EQ(global_heap_problem(heap), "");
  // Within a file: data before and after.
  EXPECT_EQ(global_heap_problem(std::string(100, 'G') + heap + std::string(50, '\x01')), "");
  // A tail too small for an object header is free space to libhdf5.
  EXPECT_EQ(global_heap_problem(collection(4096, {{1, 4056, 4056}})), "");
}

TEST(GlobalHeap, AnObjectOfSizeZeroIsNamed) {
  // libhdf5 1.10 sets p = begin + 0 and decodes the same object for ever.
  const std::string heap = collection(4096, {{1, 12, 16}, {0, 0, 0}});
  const std::string problem = global_heap_problem("junk" + heap);
  EXPECT_NE(problem.find("collection at byte 4, object 0 at byte 52 has size 0"),
            std::string::npos)
      << problem;
}

TEST(GlobalHeap, AnObjectRunningPastTheCollectionIsNamed) {
  // A string object claiming more than the collection holds.
  std::string problem = global_heap_problem(collection(4096, {{1, 5000, 0}}));
  EXPECT_NE(problem.find("object 1 at byte 16 runs past the collection's end (byte 4096)"),
            std::string::npos)
      << problem;
  // A size whose padding wraps to a small step in 64 bits: the object is still too large.
  problem = global_heap_problem(collection(4096, {{1, ~uint64_t{0} - 3, 0}}));
  EXPECT_NE(problem.find("runs past"), std::string::npos) << problem;
  // A free-space object larger than what is left.
  problem = global_heap_problem(collection(4096, {{1, 12, 16}, {0, 4049, 0}}));
  EXPECT_NE(problem.find("object 0 at byte 48 runs past"), std::string::npos) << problem;
}

TEST(GlobalHeap, WhatLibhdf5WouldNotDecodeIsPassedOver) {
  // Another version, a size beyond the file, a size smaller than the header, a cut header:
  // libhdf5 reports an error on these instead of walking them.
  EXPECT_EQ(global_heap_problem(collection(4096, {{0, 0, 0}}, 2)), "");
  std::string beyond = collection(4096, {{0, 0, 0}});
  beyond.resize(2000);
  EXPECT_EQ(global_heap_problem(beyond), "");
  EXPECT_EQ(global_heap_problem(collection(8, {})), "");
  EXPECT_EQ(global_heap_problem("GCOL\x01"), "");
  EXPECT_EQ(global_heap_problem(""), "");
}

TEST(GlobalHeap, LengthsOfFourBytesHaveHeadersPaddedToSixteenBytes) {
  // A file with 4-byte lengths: libhdf5 pads the 12-byte headers to 16 (H5HG_ALIGN).
  std::string heap = "GCOL";
  put(heap, 1, 1);
  put(heap, 0, 3);
  put(heap, 64, 4);
  put(heap, 0, 4);  // padding
  put(heap, 1, 2);
  put(heap, 1, 2);
  put(heap, 0, 4);
  put(heap, 5, 4);  // object 1: 5 bytes, 16 + 8 with its header
  put(heap, 0, 4);
  heap.append(8, 'x');
  put(heap, 0, 2);  // free space at byte 40: the remaining 24 bytes
  put(heap, 0, 2);
  put(heap, 0, 4);
  put(heap, 24, 4);
  heap.resize(64, '\0');
  EXPECT_EQ(global_heap_problem(heap, 4), "");
  heap[40 + 8] = 0;  // the free-space object's size becomes 0
  EXPECT_NE(global_heap_problem(heap, 4).find("object 0 at byte 40 has size 0"), std::string::npos)
      << global_heap_problem(heap, 4);
}

TEST(GlobalHeap, OverlappingCollectionsCannotMakeTheWalkQuadratic) {
  // K collections, each a header and one object whose payload jumps over the later ones to a
  // shared run of M 16-byte objects and a free-space object at byte E: walked one by one that
  // is K * (M + 2) steps (here 1024 * 2048), far more objects than 64 KiB can hold. (Even
  // unbounded this input takes milliseconds: the test checks the refusal, not a time.)
  const std::size_t k = 1024, m = 2046, run = 32 * k, end = run + 16 * m + 16;
  std::string image;
  for (std::size_t j = 0; j < k; ++j) {
    const std::size_t at = 32 * j;
    image += "GCOL";
    put(image, 1, 1);
    put(image, 0, 3);
    put(image, end - at, 8);
    put(image, 1, 2);  // object 1 whose payload reaches the run
    put(image, 1, 2);
    put(image, 0, 4);
    put(image, run - (at + 32), 8);
  }
  for (std::size_t i = 0; i < m; ++i) {
    put(image, 2, 2);  // object 2 of size 0: 16 bytes with its header
    put(image, 1, 2);
    put(image, 0, 4);
    put(image, 0, 8);
  }
  put(image, 0, 2);  // free space: the last 16 bytes
  put(image, 0, 2);
  put(image, 0, 4);
  put(image, 16, 8);
  ASSERT_EQ(image.size(), end);
  // Alone, the last collection is well formed.
  EXPECT_EQ(global_heap_problem(image.substr(32 * (k - 1))), "");
  const std::string problem = global_heap_problem(image);
  EXPECT_NE(problem.find("more global heap objects than a file of 65520 bytes can hold"),
            std::string::npos)
      << problem;
}

}  // namespace
}  // namespace bcq::continuous
