// object_header_problem against object headers built byte by byte from the HDF5 file format
// specification (IV.A.1.a version-1 object header, IV.A.2.m attribute message, IV.A.2.r
// symbol table message, III.D local heap, IV.A.2.q continuation), and against files libhdf5
// writes itself: what libhdf5 1.10.8 decodes safely is passed, what it would read past or
// size from an untrusted field is named.
#include <gtest/gtest.h>
#include <hdf5.h>

#include <cstdint>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "continuous/hdf5_object_header.hpp"
#include "continuous/replay_buffer.hpp"
#include "tests/test_util.hpp"

namespace bcq::continuous {
namespace {

void put(std::string& out, uint64_t value, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}

void pad8(std::string& out) {
  while (out.size() % 8 != 0) out.push_back('\0');
}

// A version-1 message: type, size (padded to 8), flags, 3 reserved bytes, the body padded.
std::string message(uint64_t type, std::string body, unsigned flags = 0) {
  pad8(body);
  std::string out;
  put(out, type, 2);
  put(out, body.size(), 2);
  put(out, flags, 1);
  put(out, 0, 3);
  return out + body;
}

// A version-1 object header at the start of an image: the 16-byte prefix, then `messages`.
std::string header(const std::string& messages, uint64_t message_count = 1) {
  std::string out;
  put(out, 1, 1);  // version
  put(out, 0, 1);
  put(out, message_count, 2);
  put(out, 1, 4);  // reference count
  put(out, messages.size(), 4);
  put(out, 0, 4);  // padding to 8
  return out + messages;
}

// Datatype messages (IV.A.2.d): a little-endian 32-bit integer; a variable-length string of
// 1-byte characters (its base type follows its 8 header bytes).
std::string int32_type() {
  std::string t;
  put(t, 0x10, 1);  // version 1, class 0 (fixed point)
  put(t, 0x08, 3);  // signed
  put(t, 4, 4);
  put(t, 0, 2);   // bit offset
  put(t, 32, 2);  // precision
  return t;
}
std::string vlen_string_type() {
  std::string t;
  put(t, 0x19, 1);  // version 1, class 9 (variable length)
  put(t, 0x01, 3);  // a string
  put(t, 16, 4);
  std::string base;
  put(base, 0x10, 1);
  put(base, 0, 3);
  put(base, 1, 4);
  put(base, 0, 2);
  put(base, 8, 2);
  return t + base;
}

// Dataspace messages (IV.A.2.b), version 1: scalar, or one dimension of `n`.
std::string scalar_space() {
  std::string s;
  put(s, 1, 1);
  put(s, 0, 1);  // rank 0
  put(s, 0, 1);
  put(s, 0, 5);
  return s;
}
std::string vector_space(uint64_t n) {
  std::string s;
  put(s, 1, 1);
  put(s, 1, 1);  // rank 1
  put(s, 0, 1);
  put(s, 0, 5);
  put(s, n, 8);
  return s;
}

// An attribute message, version 1: name, datatype and dataspace each padded to 8, then data.
// `name_size` counts the name's NUL, as libhdf5 writes it.
std::string attribute(const std::string& name, uint64_t name_size, const std::string& type,
                      const std::string& space, const std::string& data) {
  std::string body;
  put(body, 1, 1);
  put(body, 0, 1);
  put(body, name_size, 2);
  put(body, type.size(), 2);
  put(body, space.size(), 2);
  body += name;
  body.push_back('\0');
  pad8(body);
  body += type;
  pad8(body);
  body += space;
  pad8(body);
  return message(0x0C, body + data);
}

std::string int_attribute(const std::string& name) {
  std::string value;
  put(value, 7, 4);
  return attribute(name, name.size() + 1, int32_type(), scalar_space(), value);
}

// A variable-length string attribute whose value has `length` characters, object `index` of
// the global heap collection at byte 4096.
std::string vlen_attribute(uint64_t length, uint64_t index = 1) {
  std::string value;
  put(value, length, 4);
  put(value, 4096, 8);  // the collection's address
  put(value, index, 4);
  return attribute("env", 4, vlen_string_type(), scalar_space(), value);
}

// A global heap collection of 4096 bytes (III.E) holding object 1 of `size` bytes, then the
// free space.
std::string collection(uint64_t size) {
  std::string out = "GCOL";
  put(out, 1, 1);
  put(out, 0, 3);
  put(out, 4096, 8);
  put(out, 1, 2);  // index
  put(out, 1, 2);  // reference count
  put(out, 0, 4);
  put(out, size, 8);
  out.append(size, 'x');
  pad8(out);
  const uint64_t free_size = 4096 - out.size();
  put(out, 0, 2);
  put(out, 0, 2);
  put(out, 0, 4);
  put(out, free_size, 8);
  out.resize(4096, '\0');
  return out;
}

// A symbol table message naming a local heap at `heap`, and that heap (a 32-byte prefix, its
// data segment of `size` bytes at `segment`).
std::string symbol_table(uint64_t heap, uint64_t btree) {
  std::string body;
  put(body, btree, 8);
  put(body, heap, 8);
  return message(0x11, body);
}

// A group B-tree node with no children (III.A.1), as an empty group has: 32 bytes.
std::string empty_btree() {
  std::string tree = "TREE";
  put(tree, 0, 1);
  put(tree, 0, 1);
  put(tree, 0, 2);
  put(tree, ~uint64_t{0}, 8);
  put(tree, ~uint64_t{0}, 8);
  put(tree, 0, 8);  // key 0
  return tree;
}
std::string local_heap(uint64_t size, uint64_t segment, uint64_t free_list = 1) {
  std::string out = "HEAP";
  put(out, 0, 4);  // version 0, reserved
  put(out, size, 8);
  put(out, free_list, 8);  // offset of the free list's first block (1: none)
  put(out, segment, 8);
  return out;
}

std::string continuation(uint64_t address, uint64_t length) {
  std::string body;
  put(body, address, 8);
  put(body, length, 8);
  return message(0x10, body);
}

TEST(ObjectHeader, AWellFormedHeaderPasses) {
  // Two attributes, a symbol table whose heap's data segment follows the heap, and a
  // continuation chunk holding a third attribute: as libhdf5 1.10 writes a root group.
  // Message sizes do not depend on the addresses in them, so the layout is known first.
  const std::string extra = int_attribute("seed");
  const uint64_t chunk0_size = int_attribute("count").size() + vlen_attribute(11).size() +
                               symbol_table(0, 0).size() + continuation(0, 0).size();
  const uint64_t heap_at = 16 + chunk0_size, btree_at = heap_at + 32 + 88,
                 extra_at = btree_at + 32;
  const std::string image =
      header(int_attribute("count") + vlen_attribute(11) + symbol_table(heap_at, btree_at) +
                 continuation(extra_at, extra.size()),
             4) +
      local_heap(88, heap_at + 32) + std::string(88, '\0') + empty_btree() + extra;
  ASSERT_EQ(image.size(), extra_at + extra.size());
  EXPECT_EQ(object_header_problem(image, 0, {}), "");
  // The same, with the attribute in the continuation chunk damaged: the walk reaches it.
  std::string value;
  put(value, 7, 4);
  const std::string bad = attribute("seed", 4, int32_type(), scalar_space(), value);
  ASSERT_EQ(bad.size(), extra.size());
  EXPECT_EQ(object_header_problem(image.substr(0, extra_at) + bad, 0, {}),
            "the attribute message at byte " + std::to_string(extra_at) +
                " has a name that does not end within it");
}

TEST(ObjectHeader, AnAttributeNameWithoutItsNulIsNamed) {
  // libhdf5 1.10.8 strdup()s the name: without a NUL inside the message it reads past the
  // chunk (fuzz/corpus/buffer_hdf5/regression-attribute-name-overread.h5). A name size of 3
  // for "env" leaves the NUL outside the name.
  std::string value;
  put(value, 7, 4);
  const std::string bad = attribute("env", 3, int32_type(), scalar_space(), value);
  EXPECT_EQ(object_header_problem(header(int_attribute("count") + bad, 2), 0, {}),
            "the attribute message at byte " + std::to_string(16 + int_attribute("count").size()) +
                " has a name that does not end within it");
  // A name size past the message, and a size of 0.
  EXPECT_NE(object_header_problem(header(attribute("env", 200, int32_type(), scalar_space(), value)), 0, {}),
            "");
  EXPECT_NE(object_header_problem(header(attribute("env", 0, int32_type(), scalar_space(), value)), 0, {}),
            "");
}

TEST(ObjectHeader, AttributeDataPastItsMessageIsNamed) {
  // 1000 int32 values declared, 4 bytes stored: libhdf5 memcpy()s 4000.
  std::string value;
  put(value, 7, 4);
  const std::string problem = object_header_problem(
      header(attribute("v", 2, int32_type(), vector_space(1000), value)), 0, {});
  EXPECT_EQ(problem, "the attribute message at byte 16 declares more data than it holds");
  // The same values, all stored, pass.
  EXPECT_EQ(object_header_problem(
                header(attribute("v", 2, int32_type(), vector_space(1000), std::string(4000, 'x'))),
                0, {}),
            "");
  // A datatype or dataspace size running past the message.
  std::string body;
  put(body, 1, 1);
  put(body, 0, 1);
  put(body, 2, 2);
  put(body, 900, 2);  // datatype of 900 bytes
  put(body, 8, 2);
  body += std::string("v\0", 2) + std::string(6, '\0') + int32_type();
  EXPECT_EQ(object_header_problem(header(message(0x0C, body)), 0, {}),
            "the attribute message at byte 16 has a datatype that runs past its end");
}

TEST(ObjectHeader, AVariableLengthValueLongerThanTheFileIsNamed) {
  // libhdf5 1.10.8 sizes and zeroes its conversion buffer from the stored length before it
  // reads the heap: 2^32 - 1 characters from a small file took minutes
  // (fuzz/corpus/buffer_hdf5/regression-vlen-length-4gib.h5).
  const std::string ok = header(vlen_attribute(11));
  EXPECT_EQ(object_header_problem(ok + std::string(5000, '\0'), 0, {}), "");
  const std::string image = header(vlen_attribute(0xffffffff)) + std::string(5000, '\0');
  EXPECT_EQ(object_header_problem(image, 0, {}),
            "the attribute message at byte 16 has a variable-length value of 4294967295 "
            "elements of 1 byte, more than the file's " + std::to_string(image.size()) + " bytes");
}

TEST(ObjectHeader, AVariableLengthValueMustBeAnObjectOfItsCollection) {
  // libhdf5 1.10.8's H5HG_read dereferences the entry of an index the collection does not
  // hold (a segfault: fuzz/corpus/buffer_hdf5/regression-global-heap-missing-object.h5) and
  // copies the object whole into a buffer of the value's length.
  auto file = [](const std::string& attr, uint64_t object_size) {
    std::string image = header(attr);
    image.resize(4096, '\0');
    return image + collection(object_size);
  };
  EXPECT_EQ(object_header_problem(file(vlen_attribute(11), 11), 0, {}), "");
  EXPECT_EQ(object_header_problem(file(vlen_attribute(11, 2), 11), 0, {}),
            "the attribute message at byte 16 refers to object 2 of the global heap collection "
            "at address 4096, which does not hold it");
  EXPECT_EQ(object_header_problem(file(vlen_attribute(5), 11), 0, {}),
            "the attribute message at byte 16 has a variable-length value of 5 elements whose "
            "global heap object holds 11 bytes");
  // libhdf5 sizes the data by the type's stored size and reads it by 4 + 8 + 4 bytes: a
  // stored size of 15 copied 16 bytes (fuzz/corpus/buffer_hdf5/regression-vlen-size-short.h5).
  std::string short_type = vlen_string_type();
  short_type[4] = 15;
  std::string value;
  put(value, 11, 4);
  put(value, 4096, 8);
  put(value, 1, 4);
  EXPECT_EQ(object_header_problem(file(attribute("env", 4, short_type, scalar_space(), value), 11), 0, {}),
            "the attribute message at byte 16 has a variable-length datatype of 15 bytes; a "
            "stored value takes 16");
  // An empty value reads no object; the free space (index 0) is no value's object.
  EXPECT_EQ(object_header_problem(file(vlen_attribute(0, 7), 11), 0, {}), "");
  EXPECT_NE(object_header_problem(file(vlen_attribute(11, 0), 11), 0, {}), "");
}

// A group as libhdf5 1.10 writes one (IV.A.2.r, III.A.1, III.B, III.D): its header (40 bytes)
// with a symbol table message, the local heap at 40 whose 24-byte data segment at 72 holds ""
// and "rewards", the B-tree at 96 (one child, keys "" and "rewards") and the symbol table node
// at 144 with one entry named "rewards".
struct Group {
  uint64_t key1 = 8, entry_name = 8, entries = 1, child = 144;
  char heap_last = '\0';
  std::string image() const {
    std::string body;
    put(body, 96, 8);  // the B-tree
    put(body, 40, 8);  // the local heap
    std::string out = header(message(0x11, body)) + local_heap(24, 72);
    std::string segment(8, '\0');
    segment += std::string("rewards\0", 8);
    segment += std::string(8, '\0');
    segment.back() = heap_last;
    out += segment;
    std::string tree = "TREE";
    put(tree, 0, 1);  // group nodes
    put(tree, 0, 1);  // level 0: children are symbol table nodes
    put(tree, 1, 2);
    put(tree, ~uint64_t{0}, 8);  // no siblings
    put(tree, ~uint64_t{0}, 8);
    put(tree, 0, 8);  // key 0: ""
    put(tree, child, 8);
    put(tree, key1, 8);
    out += tree;
    std::string node = "SNOD";
    put(node, 1, 1);
    put(node, 0, 1);
    put(node, entries, 2);
    put(node, entry_name, 8);
    put(node, 500, 8);  // the dataset's object header (not read)
    put(node, 0, 4);
    put(node, 0, 4);
    node.append(16, '\0');
    out += node;
    return out;
  }
};

TEST(ObjectHeader, EveryNameOffsetOfAGroupMustFallInItsLocalHeap) {
  // libhdf5 1.10.8 takes the B-tree's keys and the entries' name offsets into the heap
  // unchecked, and strdup()s the names (fuzz/corpus/buffer_hdf5/regression-symbol-name-overread.h5).
  ASSERT_EQ(Group{}.image().size(), 192u);
  EXPECT_EQ(object_header_problem(Group{}.image(), 0, {}), "");
  Group key;
  key.key1 = 500;
  EXPECT_EQ(object_header_problem(key.image(), 0, {}),
            "the group B-tree node at byte 96 has a key at heap offset 500, past the local "
            "heap's 24 bytes");
  Group entry;
  entry.entry_name = 24;
  EXPECT_EQ(object_header_problem(entry.image(), 0, {}),
            "the symbol table node at byte 144 names entry 0 at heap offset 24, past the local "
            "heap's 24 bytes");
  // A segment need not end in a NUL (a deleted link's name stays in its free block), but no
  // name may start after its last NUL.
  Group unterminated;
  unterminated.heap_last = 'x';
  EXPECT_EQ(object_header_problem(unterminated.image(), 0, {}), "");
  unterminated.entry_name = 23;
  EXPECT_EQ(object_header_problem(unterminated.image(), 0, {}),
            "the symbol table node at byte 144 names entry 0 at heap offset 23, whose name does not "
            "end within the local heap's 24 bytes");
  // libhdf5 decodes as many entries as a node says into an array of 2K (K = 4 here).
  Group crowded;
  crowded.entries = 9;
  EXPECT_EQ(object_header_problem(crowded.image(), 0, {}),
            "the symbol table node at byte 144 holds 9 entries, more than the 8 a node of this "
            "file can");
  // libhdf5 reads a child at the undefined address (all ones) when it counts the group's links
  // (a segfault: fuzz/corpus/buffer_hdf5/regression-btree-child-undefined.h5).
  Group undefined;
  undefined.child = ~uint64_t{0};
  EXPECT_EQ(object_header_problem(undefined.image(), 0, {}),
            "the group B-tree node at byte 96 has a child at address 18446744073709551615, past "
            "the end of the file's 192 bytes");
  // K unknown (0: a version-2 superblock keeps it in its extension): no limit.
  Hdf5Sizes unknown_k;
  unknown_k.group_leaf_k = unknown_k.group_internal_k = 0;
  std::string unbounded = crowded.image();
  unbounded.resize(144 + 8 + 9 * 40, '\0');
  EXPECT_EQ(object_header_problem(unbounded, 0, unknown_k), "");
  Hdf5Sizes larger_k;
  larger_k.group_leaf_k = 8;
  std::string roomy = crowded.image();
  roomy.resize(144 + 8 + 9 * 40, '\0');
  EXPECT_EQ(object_header_problem(roomy, 0, larger_k), "");
}

// A dataset's header as libhdf5 1.10 writes one: dataspace (1), datatype (3), fill value
// (5, version 2), layout (8, version 3); `fill` and `layout` replace the last two bodies.
std::string dataset_header(const std::string& fill, const std::string& layout) {
  return header(message(0x01, vector_space(4)) + message(0x03, int32_type()) +
                    message(0x05, fill) + message(0x08, layout),
                4);
}
std::string fill_value(uint64_t size, const std::string& value) {
  std::string f;
  put(f, 2, 1);  // version 2
  put(f, 2, 1);  // allocation time: late
  put(f, 2, 1);  // write time: if set
  put(f, 1, 1);  // defined
  put(f, size, 4);
  return f + value;
}
std::string compact_layout(uint64_t size, const std::string& data) {
  std::string l;
  put(l, 3, 1);
  put(l, 0, 1);  // compact
  put(l, size, 2);
  return l + data;
}

TEST(ObjectHeader, WhatOpeningADatasetDecodesMustFitInItsMessages) {
  // libhdf5 1.10.8 allocates a fill value's declared size and copies that many bytes, and
  // copies a compact dataset's data the same way (a 2.4 GB fill value from a 10 KB file).
  const std::string good = dataset_header(fill_value(4, "abcd"), compact_layout(16, std::string(16, 'x')));
  EXPECT_EQ(object_header_problem(good, 0, {}), "");
  const uint64_t fill_at = 16 + message(0x01, vector_space(4)).size() + message(0x03, int32_type()).size();
  EXPECT_EQ(object_header_problem(dataset_header(fill_value(0x8e000002, "abcd"), compact_layout(0, "")), 0, {}),
            "the fill value message at byte " + std::to_string(fill_at) +
                " declares a fill value of 2382364674 bytes and holds 8");  // 4, and the message's padding
  const uint64_t layout_at = fill_at + message(0x05, fill_value(4, "abcd")).size();
  EXPECT_EQ(object_header_problem(dataset_header(fill_value(4, "abcd"), compact_layout(4000, "xx")), 0, {}),
            "the data layout message at byte " + std::to_string(layout_at) +
                " declares 4000 bytes of compact data and holds 4");
  // An undefined fill value stores no size.
  std::string undefined = fill_value(0, "");
  undefined.resize(4);
  undefined[3] = 0;
  EXPECT_EQ(object_header_problem(dataset_header(undefined, compact_layout(0, "")), 0, {}), "");
  // A dataspace shorter than its dimensions, a datatype shorter than its class's properties.
  std::string space = vector_space(4);
  space[1] = 5;  // rank 5: 40 bytes of dimensions in a 16-byte message
  EXPECT_EQ(object_header_problem(header(message(0x01, space)), 0, {}),
            "the dataspace message at byte 16 is shorter than its dimensions");
  EXPECT_EQ(object_header_problem(header(message(0x03, int32_type().substr(0, 8))), 0, {}),
            "the datatype message at byte 16 is shorter than its class's properties");
  // A type of size 0 is no short message, but its precision lies outside it.
  std::string zero = int32_type();
  zero[4] = 0;
  EXPECT_EQ(object_header_problem(header(message(0x03, zero)), 0, {}),
            "the datatype message at byte 16 has 32 bits of precision at bit 0 of a 0-bit value");
}

// An enumeration datatype (IV.A.2.d class 8), version 3 (names not padded), of `members`
// members over a fixed-point base type of `base_size` bytes, its names "A" and "B", then
// `values` as stored.
std::string enumeration(uint64_t size, uint64_t base_size, const std::string& values) {
  std::string t;
  put(t, 0x38, 1);
  put(t, 2, 2);  // 2 members
  put(t, 0, 1);
  put(t, size, 4);
  put(t, 0x10, 1);
  put(t, 0, 3);
  put(t, base_size, 4);
  put(t, 0, 2);
  put(t, 8 * base_size, 2);
  return t + std::string("A\0B\0", 4) + values;
}

TEST(ObjectHeader, AnEnumerationMustBeAsWideAsItsBaseAndHoldItsValues) {
  // libhdf5 1.10.8 allocates an enumeration's values by its own size and copies them by its
  // base type's: a base of 32,769 bytes copied 65,538 bytes out of a 40-byte message
  // (fuzz/corpus/buffer_hdf5/regression-enum-values-past-message.h5).
  EXPECT_EQ(object_header_problem(header(message(0x03, enumeration(4, 4, std::string(8, '\1')))), 0, {}), "");
  EXPECT_EQ(object_header_problem(header(message(0x03, enumeration(1, 32769, std::string(8, '\1')))), 0, {}),
            "the datatype message at byte 16 is an enumeration 1 bytes wide over a base type 32769 "
            "bytes wide");
  // 24 bytes: no room for the two 4-byte values.
  ASSERT_EQ(enumeration(4, 4, "").size(), 24u);
  EXPECT_EQ(object_header_problem(header(message(0x03, enumeration(4, 4, ""))), 0, {}),
            "the datatype message at byte 16 declares more enumeration values than it holds");
  // A name with no NUL before the message ends.
  std::string unterminated = enumeration(4, 4, "");
  unterminated.resize(22);
  unterminated += "BBBBBBBBBB";  // 32 bytes, no padding added
  EXPECT_EQ(object_header_problem(header(message(0x03, unterminated)), 0, {}),
            "the datatype message at byte 16 has an enumeration member name that does not end "
            "within it");
  // The same type as an attribute's: named as the attribute's datatype.
  EXPECT_EQ(object_header_problem(
                header(attribute("e", 2, enumeration(1, 32769, std::string(8, '\1')), scalar_space(), "x")),
                0, {}),
            "the attribute message at byte 16 has a datatype that is an enumeration 1 bytes wide "
            "over a base type 32769 bytes wide");
}

TEST(ObjectHeader, BitFieldsMustLieInsideTheirValue) {
  // libhdf5 1.10.8 converts values by the bit fields as stored: a one-byte enumeration base of
  // 17,672 bits of precision segfaulted in H5T__bit_find
  // (fuzz/corpus/buffer_hdf5/regression-enum-base-precision.h5).
  EXPECT_EQ(object_header_problem(header(message(0x03, int32_type())), 0, {}), "");
  std::string wide = int32_type();
  wide[10] = 33;  // precision 33 of a 32-bit value
  EXPECT_EQ(object_header_problem(header(message(0x03, wide)), 0, {}),
            "the datatype message at byte 16 has 33 bits of precision at bit 0 of a 32-bit value");
  std::string base = enumeration(4, 4, std::string(8, '\1'));
  base[18] = 0x08;  // the base type's precision: 0x2008 bits
  base[19] = 0x20;
  EXPECT_EQ(object_header_problem(header(message(0x03, base)), 0, {}),
            "the datatype message at byte 16 is an enumeration whose base type has 8200 bits of "
            "precision at bit 0 of a 32-bit value");
  // IEEE binary32 as libhdf5 writes it passes; an exponent reaching past the precision does not.
  std::string binary32;
  put(binary32, 0x11, 1);        // version 1, class 1
  put(binary32, 0x20, 1);        // mantissa normalisation: implied
  put(binary32, 31, 1);          // sign at bit 31
  put(binary32, 0, 1);
  put(binary32, 4, 4);
  put(binary32, 0, 2);           // offset
  put(binary32, 32, 2);          // precision
  put(binary32, 23, 1);          // exponent at bit 23,
  put(binary32, 8, 1);           // 8 bits
  put(binary32, 0, 1);           // mantissa at bit 0,
  put(binary32, 23, 1);          // 23 bits
  put(binary32, 127, 4);         // bias
  EXPECT_EQ(object_header_problem(header(message(0x03, binary32)), 0, {}), "");
  binary32[12] = 30;
  EXPECT_EQ(object_header_problem(header(message(0x03, binary32)), 0, {}),
            "the datatype message at byte 16 is a floating-point type whose sign, exponent or "
            "mantissa lies outside its 32 bits");
}

TEST(ObjectHeader, ASharedMessageMustHoldItsAddressAndWhatItNamesIsChecked) {
  // A datatype message shared with a committed datatype: version 2, kind 2 (another object
  // header), its address. libhdf5 1.10.8 decodes the message of the header it names, and
  // reads whatever follows a shared message too short for its address.
  auto shared_type = [](uint64_t address) {
    std::string body;
    put(body, 2, 1);
    put(body, 2, 1);
    put(body, address, 8);
    return message(0x03, body, 0x02);
  };
  const std::string committed = header(message(0x03, int32_type()));
  std::string image = header(shared_type(64));
  image.resize(64, '\0');
  EXPECT_EQ(object_header_problem(image + committed, 0, {}), "");
  // The committed datatype's own message too short: named at its byte.
  const std::string short_committed = header(message(0x03, int32_type().substr(0, 8)));
  EXPECT_EQ(object_header_problem(image + short_committed, 0, {}),
            "the datatype message at byte 80 is shorter than its class's properties");
  // A shared message of 0 bytes, and one of 8 (6 padded) too short for its 8-byte address.
  EXPECT_EQ(object_header_problem(header(message(0x03, "", 0x02)), 0, {}),
            "the shared message at byte 16 is shorter than its header");
  std::string truncated;
  put(truncated, 2, 1);
  put(truncated, 2, 1);
  put(truncated, 64, 4);
  EXPECT_EQ(object_header_problem(header(message(0x03, truncated, 0x02)), 0, {}),
            "the shared message at byte 16 is shorter than what it must hold");
  // A header that names itself ends (each chunk is read once).
  EXPECT_EQ(object_header_problem(header(shared_type(0)), 0, {}), "");
}

TEST(ObjectHeader, ALocalHeapLargerThanTheFileIsNamed) {
  // libhdf5 1.10.8 allocates the data segment's size as declared (4 GiB from a 19 KB file:
  // fuzz/corpus/buffer_hdf5/regression-local-heap-4gib.h5).
  std::string image = header(symbol_table(40, 172));
  ASSERT_EQ(image.size(), 40u);
  image += local_heap(4294967120, 72) + std::string(100, '\0') + empty_btree();
  EXPECT_EQ(object_header_problem(image, 0, {}),
            "the local heap at byte 40 declares a data segment of 4294967120 bytes at address "
            "72, past the end of the file's 204 bytes");
  // A free list whose block at offset 8 names itself as the next: libhdf5 1.10.8 follows it
  // for ever (fuzz/corpus/buffer_hdf5/regression-local-heap-free-list-cycle.h5). Ending at 1
  // (none) passes.
  auto with_free_list = [](uint64_t next) {
    std::string heap = local_heap(100, 72, 8);
    std::string segment(100, '\0');
    for (int i = 0; i < 8; ++i) segment[8 + i] = static_cast<char>((next >> (8 * i)) & 0xff);
    segment[16] = 16;  // the block's size
    return header(symbol_table(40, 172)) + heap + segment + empty_btree();
  };
  EXPECT_EQ(object_header_problem(with_free_list(1), 0, {}), "");
  EXPECT_EQ(object_header_problem(with_free_list(8), 0, {}),
            "the local heap at byte 40 has a free list that never ends (it comes back on itself)");
  // The segment that fits passes; one starting past the end does not.
  std::string fits =
      header(symbol_table(40, 172)) + local_heap(100, 72) + std::string(100, '\0') + empty_btree();
  EXPECT_EQ(object_header_problem(fits, 0, {}), "");
  std::string beyond =
      header(symbol_table(40, 172)) + local_heap(1, 5000) + std::string(100, '\0') + empty_btree();
  EXPECT_NE(object_header_problem(beyond, 0, {}), "");
}

TEST(ObjectHeader, ContinuationChunksAreWalkedAndAddressesCountFromTheBase) {
  // The damaged attribute sits in a continuation chunk, and the whole file follows a user
  // block of 512 bytes: addresses in the file count from the superblock after it.
  std::string value;
  put(value, 7, 4);
  const std::string bad = attribute("env", 3, int32_type(), scalar_space(), value);
  const std::string chunk0 = int_attribute("count") + continuation(0, 0);
  const uint64_t bad_at = 16 + chunk0.size();
  const std::string file = header(int_attribute("count") + continuation(bad_at, bad.size()), 2) + bad;
  const std::string image = std::string(512, 'u') + file;
  Hdf5Sizes sizes;
  sizes.base = 512;
  EXPECT_EQ(object_header_problem(image, 0, sizes),
            "the attribute message at byte " + std::to_string(512 + bad_at) +
                " has a name that does not end within it");
}

TEST(ObjectHeader, WhatLibhdf5RefusesItselfIsPassedOver) {
  std::string value;
  put(value, 7, 4);
  const std::string bad = attribute("env", 3, int32_type(), scalar_space(), value);
  // A version-2 header ("OHDR", checksummed), a message running past its chunk, a shared
  // message, an address past the file, sizes of offsets libhdf5 does not write.
  EXPECT_EQ(object_header_problem("OHDR" + std::string(60, '\x02'), 0, {}), "");
  std::string past = header(bad);
  past[16 + 2] = static_cast<char>(0xf0);  // the message's size: 240 bytes more than the chunk
  EXPECT_EQ(object_header_problem(past, 0, {}), "");
  std::string shared = bad;
  shared[4] = 0x02;
  EXPECT_EQ(object_header_problem(header(shared), 0, {}), "");
  EXPECT_EQ(object_header_problem(header(bad), 1u << 20, {}), "");
  Hdf5Sizes odd;
  odd.sizeof_addr = 3;
  EXPECT_EQ(object_header_problem(header(bad), 0, odd), "");
}

TEST(ObjectHeader, ContinuationLoopsEndAndOverlappingChunksAreRefused) {
  // A continuation back to its own chunk is followed once.
  const uint64_t chunk = int_attribute("count").size() + continuation(0, 0).size();
  EXPECT_EQ(object_header_problem(header(int_attribute("count") + continuation(16, chunk), 2), 0, {}),
            "");
  // Chunks at every 8th byte, each to the end of the file: more chunk bytes than the file
  // holds (a real header's chunks are disjoint), refused after a linear walk.
  std::string messages;
  for (int k = 0; k < 64; ++k) messages += continuation(16 + 8 * k, 2048);
  std::string image = header(messages, 64);
  image.resize(4096, '\0');
  EXPECT_NE(object_header_problem(image, 0, {}).find("overlapping chunks"), std::string::npos);
}

// A file libhdf5 writes with the default (earliest) format, as h5py and bcq do, after a user
// block of `user_block` bytes, holding a root attribute named `name` and one dataset.
std::vector<char> libhdf5_file(const char* name, hsize_t user_block = 0) {
  const test::TempDir dir;
  const std::string path = dir.path() + "/object-header-test.h5";
  hid_t fcpl = H5Pcreate(H5P_FILE_CREATE);
  if (user_block > 0) H5Pset_userblock(fcpl, user_block);
  hid_t file = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, fcpl, H5P_DEFAULT);
  H5Pclose(fcpl);
  hid_t space = H5Screate(H5S_SCALAR);
  hid_t attr = H5Acreate2(file, name, H5T_STD_I32LE, space, H5P_DEFAULT, H5P_DEFAULT);
  const int32_t seven = 7;
  H5Awrite(attr, H5T_NATIVE_INT32, &seven);
  H5Aclose(attr);
  const hsize_t dims[1] = {4};
  hid_t vec = H5Screate_simple(1, dims, nullptr);
  hid_t set = H5Dcreate2(file, "rewards", H5T_IEEE_F32LE, vec, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  const float values[4] = {1, 2, 3, 4};
  H5Dwrite(set, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, values);
  H5Dclose(set);
  H5Sclose(vec);
  H5Sclose(space);
  H5Fclose(file);
  std::ifstream in(path, std::ios::binary);
  return std::vector<char>((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

TEST(ObjectHeader, AFileWithADeletedLinkOrManyLinksToOneObjectPasses) {
  // Found by the second reader: deleting a link leaves its name's bytes in the heap's free
  // block, so the segment may end in a name character; and 2,000 hard links to the root make
  // its members' check one walk, not 2,000 (it took 21 s for 20,000).
  const test::TempDir dir;
  const std::string path = dir.path() + "/links.h5";
  hid_t file = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  hid_t space = H5Screate(H5S_SCALAR);
  const std::string name = "dgmljeidinkidkjagcgdomcdnadnmojfnh";
  hid_t set = H5Dcreate2(file, name.c_str(), H5T_IEEE_F64LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  H5Dclose(set);
  H5Sclose(space);
  H5Ldelete(file, name.c_str(), H5P_DEFAULT);
  for (int k = 0; k < 2000; ++k) {
    H5Lcreate_hard(file, ".", file, ("alias_" + std::to_string(k)).c_str(), H5P_DEFAULT, H5P_DEFAULT);
  }
  H5Fclose(file);
  std::ifstream in(path, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_FALSE(bytes.empty());
  EXPECT_EQ(superblock_problem(bytes), "");
  try {
    load_buffer(path, {});
    FAIL() << "loaded a file without observations";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("missing dataset 'observations'"), std::string::npos)
        << e.what();
  }
}

TEST(ObjectHeader, TheRootGroupOfAFileLibhdf5WritesIsFoundAndChecked) {
  // The walk must find the real root header's attribute message: with the NUL of its name
  // overwritten, the loader refuses the file with this check's words instead of handing it
  // to libhdf5's decoder.
  const std::string name = "abcdefghijklmno";  // 16 bytes with its NUL: no padding after it
  std::vector<char> image = libhdf5_file(name.c_str());
  ASSERT_FALSE(image.empty());
  const std::string bytes(image.begin(), image.end());
  const std::size_t at = bytes.find(name + '\0');
  ASSERT_NE(at, std::string::npos);
  ASSERT_EQ(bytes.find(name, at + 1), std::string::npos);
  try {
    load_buffer_image(image.data(), image.size(), "image.h5", {});
    FAIL() << "loaded a file without observations";
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()).find("corrupt"), std::string::npos) << e.what();
  }
  image[at + name.size()] = 'p';
  try {
    load_buffer_image(image.data(), image.size(), "image.h5", {});
    FAIL() << "loaded a corrupt file";
  } catch (const InputError& e) {
    const std::string what = e.what();
    EXPECT_EQ(what.rfind("image.h5: corrupt HDF5 file: the attribute message at byte ", 0), 0u)
        << what;
    EXPECT_NE(what.find("has a name that does not end within it"), std::string::npos) << what;
  }
}

TEST(ObjectHeader, TheSuperblockLeadsToTheRootGroupBeforeLibhdf5OpensTheFile) {
  // H5Fopen reads the root group's header itself: a first chunk declared 4 GB long made it
  // allocate 4 GB (fuzz/corpus/buffer_hdf5/regression-object-header-chunk-4gb.h5). The root is
  // found from the superblock, also after a user block, where addresses count from it.
  for (const hsize_t user_block : {hsize_t{0}, hsize_t{512}, hsize_t{2048}}) {
    std::vector<char> image = libhdf5_file("abcdefghijklmno", user_block);
    const std::string bytes(image.begin(), image.end());
    ASSERT_EQ(bytes.compare(user_block, 4, "\x89HDF"), 0) << user_block;
    EXPECT_EQ(superblock_problem(bytes), "") << user_block;
    // The name's NUL overwritten: found through the superblock alone.
    std::string damaged = bytes;
    const std::size_t at = damaged.find(std::string("abcdefghijklmno") + '\0');
    ASSERT_NE(at, std::string::npos);
    damaged[at + 15] = 'p';
    EXPECT_NE(superblock_problem(damaged).find("has a name that does not end within it"),
              std::string::npos)
        << user_block << ": " << superblock_problem(damaged);
  }
  // Version 0 superblock, root symbol table entry at byte 24 + 4 * 8: its object header
  // address after the 8-byte name offset. A header whose first chunk is 4 GB long:
  std::vector<char> image = libhdf5_file("abcdefghijklmno");
  std::string bytes(image.begin(), image.end());
  uint64_t root = 0;
  for (int i = 7; i >= 0; --i) root = (root << 8) | static_cast<unsigned char>(bytes[64 + i]);
  ASSERT_LT(root + 16, bytes.size());
  ASSERT_EQ(bytes[root], 1);  // a version-1 header
  for (int i = 0; i < 4; ++i) bytes[root + 8 + i] = '\xf0';
  EXPECT_EQ(superblock_problem(bytes),
            "the object header at byte " + std::to_string(root) + " declares a chunk of " +
                std::to_string(0xf0f0f0f0u) + " bytes at byte " + std::to_string(root + 16) +
                ", past the end of the file's " + std::to_string(bytes.size()) + " bytes");
  // No superblock: nothing to say (libhdf5 refuses the file).
  EXPECT_EQ(superblock_problem(std::string(4096, 'x')), "");
}

}  // namespace
}  // namespace bcq::continuous
