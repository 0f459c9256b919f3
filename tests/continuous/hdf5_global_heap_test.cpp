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

TEST(GlobalHeap, LengthsOfFourBytesAreWalkedWithTheirOwnHeaders) {
  // A file with 4-byte lengths: 12-byte collection and object headers.
  std::string heap = "GCOL";
  put(heap, 1, 1);
  put(heap, 0, 3);
  put(heap, 64, 4);
  put(heap, 1, 2);
  put(heap, 1, 2);
  put(heap, 0, 4);
  put(heap, 0, 4);  // object 1 of size 0: 12 bytes with its header, a step forward
  put(heap, 0, 2);
  put(heap, 0, 2);
  put(heap, 0, 4);
  put(heap, 40, 4);  // free space: the remaining 64 - 24 = 40 bytes
  heap.resize(64, '\0');
  EXPECT_EQ(global_heap_problem(heap, 4), "");
  heap[12 + 12 + 8] = 0;  // the free-space object's size becomes 0
  EXPECT_NE(global_heap_problem(heap, 4).find("has size 0"), std::string::npos);
}

}  // namespace
}  // namespace bcq::continuous
