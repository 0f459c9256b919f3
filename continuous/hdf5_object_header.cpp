#include "continuous/hdf5_object_header.hpp"

#include <cstring>
#include <map>
#include <set>
#include <tuple>
#include <utility>
#include <vector>

#include "continuous/hdf5_global_heap.hpp"

namespace bcq::continuous {

namespace {

// A little-endian unsigned integer of `bytes` bytes (HDF5 stores numbers little-endian).
uint64_t decode(const unsigned char* p, std::size_t bytes) {
  uint64_t value = 0;
  for (std::size_t i = bytes; i-- > 0;) value = (value << 8) | p[i];
  return value;
}

uint64_t align8(uint64_t n) { return (n + 7) & ~uint64_t{7}; }

constexpr uint64_t kUnknown = ~uint64_t{0};
constexpr uint64_t kTooShort = ~uint64_t{0} - 1;

// The size in bytes of one element of the datatype message at `d` (`n` bytes), as libhdf5
// 1.10.8 takes it when it sizes an attribute's data, or kUnknown for the classes whose encoded
// properties this check does not follow (it then skips the data-size check), or kTooShort when
// the message is shorter than its class's fixed properties (libhdf5 would read past it).
uint64_t element_size(const unsigned char* d, uint64_t n, const Hdf5Sizes& sizes) {
  if (n < 8) return kTooShort;
  const unsigned type_class = d[0] & 0x0f;
  const uint64_t size = decode(d + 4, 4);
  switch (type_class) {
    case 0:  // fixed-point: bit offset, bit precision
    case 4:  // bitfield: the same
      return n < 12 ? kTooShort : size;
    case 1:  // floating point: offset, precision, exponent and mantissa fields, bias
      return n < 20 ? kTooShort : size;
    case 3:  // string: no properties
      return size;
    case 9: {  // variable length: stored as a length, a heap address and an index
      const uint64_t on_disk = 4 + sizes.sizeof_addr + 4;
      return size > on_disk ? size : on_disk;
    }
    default:
      return kUnknown;
  }
}

// What is wrong with the bit fields of the fixed-point, bitfield or floating-point datatype
// message at `d` (`n` bytes, at least its class's properties), or "". libhdf5 1.10.8 takes
// them as stored when it converts values (H5T__bit_find read out of bounds on a float whose
// fields lie outside it, a segfault).
std::string bit_field_problem(const unsigned char* d, uint64_t n) {
  const unsigned type_class = d[0] & 0x0f;
  if (type_class != 0 && type_class != 1 && type_class != 4) return "";
  if (n < (type_class == 1 ? 20u : 12u)) return "";  // element_size names it
  const uint64_t bits = 8 * decode(d + 4, 4);
  const uint64_t offset = decode(d + 8, 2), precision = decode(d + 10, 2);
  if (precision == 0 || offset + precision > bits) {
    return "has " + std::to_string(precision) + " bits of precision at bit " +
           std::to_string(offset) + " of a " + std::to_string(bits) + "-bit value";
  }
  if (type_class != 1) return "";
  const uint64_t sign = d[2], exponent = d[12], exponent_size = d[13], mantissa = d[14],
                 mantissa_size = d[15];
  if (sign >= precision || exponent_size == 0 || mantissa_size == 0 ||
      exponent + exponent_size > precision || mantissa + mantissa_size > precision) {
    return "is a floating-point type whose sign, exponent or mantissa lies outside its " +
           std::to_string(precision) + " bits";
  }
  return "";
}

// What is wrong with the enumeration datatype message at `d` (`n` bytes), or "" (also for other
// classes): its base type, member names and values must lie in the message, and it must be as
// wide as its base type. libhdf5 1.10.8 strdup()s the names, allocates the values by the
// enumeration's size and copies them by the base type's (65,538 bytes out of a 40-byte message).
std::string enum_problem(const unsigned char* d, uint64_t n) {
  if (n < 8 || (d[0] & 0x0f) != 8) return "";
  const unsigned version = d[0] >> 4;
  const uint64_t members = decode(d + 1, 2), size = decode(d + 4, 4);
  // The base type: a fixed-point (4 bytes of properties) or floating-point (12) type.
  if (n < 16) return "is an enumeration shorter than its base type";
  const unsigned base_class = d[8] & 0x0f;
  if (base_class != 0 && base_class != 1) return "";  // not one libhdf5 writes: not followed
  uint64_t p = 16 + (base_class == 0 ? 4 : 12);
  if (p > n) return "is an enumeration shorter than its base type";
  const uint64_t base_size = decode(d + 12, 4);
  if (size != base_size) {
    return "is an enumeration " + std::to_string(size) + " bytes wide over a base type " +
           std::to_string(base_size) + " bytes wide";
  }
  const std::string base = bit_field_problem(d + 8, n - 8);
  if (!base.empty()) return "is an enumeration whose base type " + base;
  for (uint64_t k = 0; k < members; ++k) {
    const void* end = p < n ? std::memchr(d + p, '\0', n - p) : nullptr;
    if (end == nullptr) return "has an enumeration member name that does not end within it";
    const uint64_t length = static_cast<uint64_t>(static_cast<const unsigned char*>(end) - (d + p));
    p += version >= 3 ? length + 1 : align8(length + 1);
  }
  if (p > n || (base_size != 0 && members > (n - p) / base_size)) {
    return "declares more enumeration values than it holds";
  }
  return "";
}

// The number of elements of the dataspace message at `d` (`n` bytes), or kUnknown when libhdf5
// would refuse it or the count overflows; sets `fits` false when its dimensions run past it.
uint64_t dataspace_points(const unsigned char* d, uint64_t n, const Hdf5Sizes& sizes, bool& fits) {
  fits = true;
  if (n < 4) return (fits = false, kUnknown);
  const unsigned version = d[0], rank = d[1], flags = d[2];
  if ((version != 1 && version != 2) || rank > 32) return kUnknown;
  const uint64_t head = version == 1 ? 8 : 4;
  const uint64_t dims = uint64_t{rank} * sizes.sizeof_size * ((flags & 1) ? 2 : 1);
  if (n < head || n - head < dims) return (fits = false, kUnknown);
  if (version == 2 && d[3] == 2) return 0;  // the null dataspace
  uint64_t points = 1;
  for (unsigned k = 0; k < rank; ++k) {
    const uint64_t extent = decode(d + head + k * sizes.sizeof_size, sizes.sizeof_size);
    if (extent != 0 && points > kUnknown / extent) return kUnknown;
    points *= extent;
  }
  return points;
}

// What one check has walked, so that nothing is walked twice however many links, shared
// messages or symbol tables lead to it: the header chunks read (a real file's are disjoint, so
// their bytes add up to no more than the file's), the group B-tree nodes, and the objects of
// each global heap collection looked up.
struct Walk {
  std::set<std::pair<uint64_t, uint64_t>> chunks;  // (begin, size): a chunk read once
  uint64_t bytes = 0;
  std::set<uint64_t> tree_nodes;
  uint64_t tree_entries = 0;
  // A collection's objects (index -> size; only the key kNotACollection: not a collection),
  // and how many are held in all (real collections do not overlap: at most n / 16).
  std::map<uint64_t, std::map<uint64_t, uint64_t>> collections;
  uint64_t collection_objects = 0;
  // A local heap's data segment size and one past its last NUL, by the heap's address.
  std::map<uint64_t, std::pair<uint64_t, uint64_t>> heaps;
};

// What is wrong with the attribute message at `d` (`m` bytes) of `image`, or "".
std::string attribute_problem(std::string_view image, const unsigned char* d, uint64_t m,
                              const Hdf5Sizes& sizes, Walk& walk) {
  const uint64_t n = image.size();
  if (m < 1 || d[0] < 1 || d[0] > 3) return "";  // libhdf5 refuses the version itself
  const unsigned version = d[0];
  const uint64_t head = version == 3 ? 9 : 8;
  if (m < head) return "is shorter than an attribute message's header";
  const unsigned flags = version >= 2 ? d[1] : 0;
  const uint64_t name_size = decode(d + 2, 2), type_size = decode(d + 4, 2),
                 space_size = decode(d + 6, 2);
  // Version 1 pads the name, the datatype and the dataspace to multiples of 8.
  auto padded = [&](uint64_t n) { return version == 1 ? align8(n) : n; };
  if (name_size == 0 || name_size > m - head || d[head + name_size - 1] != '\0') {
    return "has a name that does not end within it";
  }
  uint64_t at = head + padded(name_size);
  if (at > m || type_size > m - at) return "has a datatype that runs past its end";
  const unsigned char* type = d + at;
  at += padded(type_size);
  if (at > m || space_size > m - at) return "has a dataspace that runs past its end";
  const unsigned char* space = d + at;
  at += padded(space_size);
  if (at > m) return "has a dataspace that runs past its end";
  if (flags & 3) return "";  // a shared datatype or dataspace: sizes not in this message
  const uint64_t element = element_size(type, type_size, sizes);
  if (element == kTooShort) return "has a datatype shorter than its class's properties";
  std::string type_problem = enum_problem(type, type_size);
  if (type_problem.empty()) type_problem = bit_field_problem(type, type_size);
  if (!type_problem.empty()) return "has a datatype that " + type_problem;
  bool space_fits = true;
  const uint64_t points = dataspace_points(space, space_size, sizes, space_fits);
  if (!space_fits) return "has a dataspace shorter than its dimensions";
  if (element == kUnknown || points == kUnknown) return "";
  if (points != 0 && element > (m - at) / points) return "declares more data than it holds";
  if ((type[0] & 0x0f) == 9 && decode(type + 4, 4) != 4 + sizes.sizeof_addr + 4) {
    // libhdf5 1.10.8 sizes the data by the stored size, then reads it by the size a value
    // takes on disk (a length, a heap address, an index): 16 bytes out of an 8-byte buffer.
    return "has a variable-length datatype of " + std::to_string(decode(type + 4, 4)) +
           " bytes; a stored value takes " + std::to_string(4 + sizes.sizeof_addr + 4);
  }
  if ((type[0] & 0x0f) == 9) {
    // Each variable-length value is stored as its length, then where it lies in a global
    // heap. libhdf5 sizes (and zeroes) its buffer from that length before it reads the heap
    // object, so a length of 2^32 from a 10 KB file takes minutes: no value can hold more
    // elements than the file has bytes.
    uint64_t base_size = type_size >= 16 ? decode(type + 12, 4) : 1;
    if (base_size == 0) base_size = 1;
    for (uint64_t k = 0; k < points; ++k) {
      const unsigned char* value = d + at + k * element;
      const uint64_t length = decode(value, 4);
      if (length > n / base_size) {
        return "has a variable-length value of " + std::to_string(length) + " elements of " +
               std::to_string(base_size) + (base_size == 1 ? " byte" : " bytes") +
               ", more than the file's " + std::to_string(n) + " bytes";
      }
      if (length == 0) continue;  // libhdf5 reads no heap object for it
      // libhdf5 1.10.8 copies the heap object whole into a buffer of `length` elements, and
      // dereferences an index the collection does not hold (a segfault).
      const uint64_t collection = decode(value + 4, sizes.sizeof_addr);
      const uint64_t index = decode(value + 4 + sizes.sizeof_addr, 4);
      if (collection > n - sizes.base) continue;  // libhdf5 cannot read it: its own error
      auto known = walk.collections.find(collection);
      if (known == walk.collections.end()) {
        known = walk.collections
                    .emplace(collection, global_heap_objects(image, sizes.base + collection,
                                                             sizes.sizeof_size))
                    .first;
        walk.collection_objects += known->second.size();
        if (walk.collection_objects > image.size() / 16 + 4096) {
          return "refers to global heap collections holding more objects than a file of " +
                 std::to_string(image.size()) + " bytes can (overlapping collections)";
        }
      }
      if (known->second.count(kNotACollection) > 0) continue;  // libhdf5 refuses it
      const auto object = known->second.find(index);
      if (object == known->second.end()) {
        return "refers to object " + std::to_string(index) +
               " of the global heap collection at address " + std::to_string(collection) +
               ", which does not hold it";
      }
      const uint64_t size = object->second;
      if (size > length * base_size) {
        return "has a variable-length value of " + std::to_string(length) +
               " elements whose global heap object holds " + std::to_string(size) + " bytes";
      }
    }
  }
  return "";
}

// What is wrong with the fill value message (new: 0x05, old: 0x04) at `d` (`m` bytes), or "".
// libhdf5 1.10.8 allocates the size it declares and copies that many bytes from the message.
std::string fill_value_problem(const unsigned char* d, uint64_t m, bool old_format) {
  uint64_t at = 0;
  if (old_format) {
    at = 0;
  } else {
    if (m < 2 || d[0] < 1 || d[0] > 3) return "";  // libhdf5 refuses the version itself
    if (d[0] < 3) {
      if (m < 4) return "is shorter than its header";
      if (d[3] == 0) return "";  // no fill value defined: no size stored
      at = 4;
    } else {
      if ((d[1] & 0x10) != 0 || (d[1] & 0x20) == 0) return "";  // no value stored
      at = 2;
    }
  }
  if (m < at + 4) return "is shorter than its header";
  const uint64_t size = decode(d + at, 4);
  if (size > m - at - 4) {
    return "declares a fill value of " + std::to_string(size) + " bytes and holds " +
           std::to_string(m - at - 4);
  }
  return "";
}

// What is wrong with the data layout message (version 3) at `d` (`m` bytes), or "". libhdf5
// 1.10.8 copies a compact dataset's data and reads a chunked one's dimensions as declared.
std::string layout_problem(const unsigned char* d, uint64_t m, const Hdf5Sizes& sizes) {
  if (m < 2 || d[0] != 3) return "";
  if (d[1] == 0) {  // compact: size (2 bytes), then the data
    if (m < 4) return "is shorter than its header";
    const uint64_t size = decode(d + 2, 2);
    if (size > m - 4) {
      return "declares " + std::to_string(size) + " bytes of compact data and holds " +
             std::to_string(m - 4);
    }
  } else if (d[1] == 2) {  // chunked: rank + 1 (1 byte), B-tree address, 4 bytes a dimension
    if (m < 3) return "is shorter than its header";
    const uint64_t dims = d[2];
    if (dims == 0 || dims > 33) return "";  // libhdf5 refuses the rank itself
    if (m - 3 < sizes.sizeof_addr + 4 * dims) return "is shorter than its chunk dimensions";
  }
  return "";
}

// What is wrong with the local heap at absolute byte `at`, or "". Sets `segment_size` to its
// data segment's size when the heap can be read (else 0), and `names_end` to one past the
// segment's last NUL (0: none): a name at an offset below it ends inside the segment.
std::string local_heap_problem(std::string_view image, uint64_t at, const Hdf5Sizes& sizes,
                               uint64_t& segment_size, uint64_t& names_end) {
  const auto* data = reinterpret_cast<const unsigned char*>(image.data());
  const uint64_t n = image.size();
  const uint64_t prefix = 8 + 2 * sizes.sizeof_size + sizes.sizeof_addr;
  segment_size = 0;
  names_end = 0;
  if (at > n || n - at < prefix) return "";  // libhdf5 cannot read it: its own error
  if (std::memcmp(data + at, "HEAP", 4) != 0 || data[at + 4] != 0) return "";
  const uint64_t size = decode(data + at + 8, sizes.sizeof_size);
  const uint64_t segment = decode(data + at + 8 + 2 * sizes.sizeof_size, sizes.sizeof_addr);
  const std::string where = "the local heap at byte " + std::to_string(at);
  if (segment > n - sizes.base || size > n - sizes.base - segment) {
    return where + " declares a data segment of " + std::to_string(size) + " bytes at address " +
           std::to_string(segment) + ", past the end of the file's " + std::to_string(n) +
           " bytes";
  }
  // libhdf5 strdup()s and strcmp()s the names at the offsets a group's entries give: a name
  // ends inside the segment if a NUL follows its offset there, so every offset up to the last
  // NUL is safe (a deleted link's name stays in its free block: the segment need not end in
  // a NUL).
  const unsigned char* first = data + sizes.base + segment;
  names_end = 0;
  for (uint64_t k = size; k-- > 0;) {
    if (first[k] == '\0') {
      names_end = k + 1;
      break;
    }
  }
  // The free list: each block holds the offset of the next (1: none) and its own size.
  // libhdf5 1.10.8 follows it with no end but that mark: a list that comes back on itself
  // never ends. Blocks are disjoint and at least two lengths long, so a real list has at most
  // size / (2 L) of them.
  const uint64_t L = sizes.sizeof_size, base = sizes.base + segment;
  uint64_t block = decode(data + at + 8 + L, L);
  for (uint64_t count = 0; block != 1; ++count) {
    // A block outside the segment ends the walk, not the check: libhdf5 1.10.8 went on to
    // read the group's names from such a heap.
    if (block >= size || size - block < 2 * L) break;
    if (count > size / (2 * L)) {
      return where + " has a free list that never ends (it comes back on itself)";
    }
    block = decode(data + base + block, L);
    if (block == 0) break;  // libhdf5 refuses a next block at 0
  }
  segment_size = size;
  return "";
}

// What is wrong with the group B-tree (version 1, node type 0) at `btree` and its symbol table
// nodes, whose names lie in a local heap data segment of `segment_size` bytes (0: a heap that
// cannot be read, whose offsets are not checked), or "". Every child must lie in the file.
// libhdf5 1.10.8 takes each key and each entry's name offset into the heap unchecked
// (H5HL_offset_into only asserts), and decodes as many entries as a node says into an array
// of 2K (H5G__cache_node_deserialize).
std::string group_tree_problem(std::string_view image, uint64_t btree, uint64_t segment_size,
                               uint64_t names_end, const Hdf5Sizes& sizes, Walk& walk) {
  const auto* data = reinterpret_cast<const unsigned char*>(image.data());
  const uint64_t n = image.size(), O = sizes.sizeof_addr, L = sizes.sizeof_size;
  if (btree >= n - sizes.base) {
    return "the group's B-tree address " + std::to_string(btree) + " is past the end of the file's " +
           std::to_string(n) + " bytes";
  }
  std::vector<uint64_t> nodes{btree};
  std::set<uint64_t>& seen = walk.tree_nodes;
  // Real nodes do not overlap and each key or entry takes at least L bytes.
  const uint64_t limit = n / L + 64;
  auto name_problem = [&](uint64_t offset) -> std::string {
    if (segment_size == 0) return "";
    if (offset >= segment_size) {
      return "heap offset " + std::to_string(offset) + ", past the local heap's " +
             std::to_string(segment_size) + " bytes";
    }
    if (offset >= names_end) {
      return "heap offset " + std::to_string(offset) + ", whose name does not end within the " +
             "local heap's " + std::to_string(segment_size) + " bytes";
    }
    return "";
  };
  while (!nodes.empty()) {
    const uint64_t address = nodes.back();
    nodes.pop_back();
    if (address > n - sizes.base) continue;
    const uint64_t at = sizes.base + address;
    if (n - at < 8 || !seen.insert(at).second) continue;
    const std::string where = " at byte " + std::to_string(at);
    if (std::memcmp(data + at, "TREE", 4) == 0 && data[at + 4] == 0) {
      const uint64_t used = decode(data + at + 6, 2);
      if (sizes.group_internal_k > 0 && used > 2 * sizes.group_internal_k) continue;  // refused
      const uint64_t size = 8 + 2 * O + (used + 1) * L + used * O;
      if (size > n - at) continue;  // libhdf5 cannot read it: its own error
      walk.tree_entries += used + 1;
      if (walk.tree_entries > limit) {
        return "the group B-tree's nodes overlap (more entries than the file holds)";
      }
      uint64_t p = at + 8 + 2 * O;
      for (uint64_t k = 0; k <= used; ++k) {
        const uint64_t key = decode(data + p, L);
        const std::string bad_key = name_problem(key);
        if (!bad_key.empty()) return "the group B-tree node" + where + " has a key at " + bad_key;
        p += L;
        if (k < used) {
          const uint64_t child = decode(data + p, O);
          if (child >= n - sizes.base) {
            return "the group B-tree node" + where + " has a child at address " +
                   std::to_string(child) + ", past the end of the file's " + std::to_string(n) +
                   " bytes";
          }
          nodes.push_back(child);
          p += O;
        }
      }
    } else if (std::memcmp(data + at, "SNOD", 4) == 0 && data[at + 4] == 1) {
      const uint64_t count = decode(data + at + 6, 2);
      // K is 0 when unknown (a version-2 superblock keeps it in its extension).
      if (sizes.group_leaf_k > 0 && count > 2 * sizes.group_leaf_k) {
        return "the symbol table node" + where + " holds " + std::to_string(count) +
               " entries, more than the " + std::to_string(2 * sizes.group_leaf_k) +
               " a node of this file can";
      }
      const uint64_t entry = L + O + 24;  // name offset, header address, cache type, scratch
      if (count * entry > n - at - 8) continue;  // libhdf5 cannot read it: its own error
      walk.tree_entries += count;
      if (walk.tree_entries > limit) {
        return "the group B-tree's nodes overlap (more entries than the file holds)";
      }
      for (uint64_t k = 0; k < count; ++k) {
        const uint64_t name = decode(data + at + 8 + k * entry, L);
        const std::string bad_name = name_problem(name);
        if (!bad_name.empty()) {
          return "the symbol table node" + where + " names entry " + std::to_string(k) + " at " +
                 bad_name;
        }
      }
    }
  }
  return "";
}

}  // namespace

std::string superblock_problem(std::string_view image) {
  const auto* data = reinterpret_cast<const unsigned char*>(image.data());
  const uint64_t n = image.size();
  // libhdf5 looks for the signature at byte 0, then 512, 1024, 2048, ... (III.A).
  uint64_t at = 0;
  while (at < n && (n - at < 8 || std::memcmp(data + at, "\x89HDF\r\n\x1a\n", 8) != 0)) {
    at = at == 0 ? 512 : at * 2;
  }
  if (at >= n || n - at < 16) return "";  // no superblock: libhdf5 refuses the file
  Hdf5Sizes sizes;
  sizes.base = at;
  const unsigned version = data[at + 8];
  uint64_t root_at = 0;
  if (version <= 1) {
    // Versions 0 and 1: versions (4 bytes), reserved, O, L, reserved, leaf K (2), internal K
    // (2), flags (4), [version 1: indexed storage K (2), reserved (2)], then four addresses
    // and the root group's symbol table entry (a name offset of L bytes, then its address).
    if (n - at < 24) return "";
    sizes.sizeof_addr = data[at + 13];
    sizes.sizeof_size = data[at + 14];
    sizes.group_leaf_k = decode(data + at + 16, 2);
    sizes.group_internal_k = decode(data + at + 18, 2);
    root_at = at + (version == 0 ? 24 : 28) + 4 * sizes.sizeof_addr + sizes.sizeof_size;
  } else if (version <= 3) {
    // Versions 2 and 3: version, O, L, flags, then base, extension, end of file and the root
    // group's object header addresses.
    sizes.sizeof_addr = data[at + 9];
    sizes.sizeof_size = data[at + 10];
    sizes.group_leaf_k = sizes.group_internal_k = 0;  // in the superblock extension: unknown
    root_at = at + 12 + 3 * sizes.sizeof_addr;
  } else {
    return "";
  }
  if ((sizes.sizeof_addr != 2 && sizes.sizeof_addr != 4 && sizes.sizeof_addr != 8) ||
      (sizes.sizeof_size != 2 && sizes.sizeof_size != 4 && sizes.sizeof_size != 8) ||
      root_at > n || n - root_at < sizes.sizeof_addr) {
    return "";  // libhdf5 refuses the superblock itself
  }
  return object_header_problem(image, decode(data + root_at, sizes.sizeof_addr), sizes);
}

namespace {

// A shared message names the object header that holds the message itself (a committed
// datatype): libhdf5 decodes that one instead. Followed this deep at most.
constexpr int kMaxSharedDepth = 4;

std::string header_problem(std::string_view image, uint64_t address, const Hdf5Sizes& sizes,
                           int depth, Walk& walk);

// What is wrong with the shared message at `d` (`m` bytes, at byte `at`), or "".
std::string shared_problem(std::string_view image, const unsigned char* d, uint64_t m,
                           uint64_t at, const Hdf5Sizes& sizes, int depth, Walk& walk) {
  const std::string where = "the shared message at byte " + std::to_string(at);
  if (m < 2) return where + " is shorter than its header";
  const unsigned version = d[0], kind = d[1];
  if (version < 1 || version > 3) return "";  // libhdf5 refuses the version itself
  // Version 1: version, reserved, 6 reserved bytes, a name offset, the address. Later: version,
  // kind, then a heap ID of 8 bytes (kind 1, the shared message table) or the address.
  const uint64_t need = version == 1 ? 8 + sizes.sizeof_size + sizes.sizeof_addr
                        : kind == 1  ? 2 + 8
                                     : 2 + sizes.sizeof_addr;
  if (m < need) return where + " is shorter than what it must hold";
  if (version >= 2 && kind == 1) return "";  // the shared message table: not followed
  const uint64_t target = decode(d + need - sizes.sizeof_addr, sizes.sizeof_addr);
  if (depth >= kMaxSharedDepth) return "";
  return header_problem(image, target, sizes, depth + 1, walk);
}

}  // namespace

std::string object_header_problem(std::string_view image, uint64_t address,
                                  const Hdf5Sizes& sizes) {
  return object_headers_problem(image, {address}, sizes);
}

std::string object_headers_problem(std::string_view image, const std::vector<uint64_t>& addresses,
                                   const Hdf5Sizes& sizes) {
  Walk walk;
  for (const uint64_t address : addresses) {
    std::string problem = header_problem(image, address, sizes, 0, walk);
    if (!problem.empty()) return problem;
  }
  return "";
}

namespace {

std::string header_problem(std::string_view image, uint64_t address, const Hdf5Sizes& sizes,
                           int depth, Walk& walk) {
  if ((sizes.sizeof_addr != 2 && sizes.sizeof_addr != 4 && sizes.sizeof_addr != 8) ||
      (sizes.sizeof_size != 2 && sizes.sizeof_size != 4 && sizes.sizeof_size != 8)) {
    return "";
  }
  const auto* data = reinterpret_cast<const unsigned char*>(image.data());
  const uint64_t n = image.size();
  if (sizes.base > n || address > n - sizes.base || n - sizes.base - address < 16) return "";
  const uint64_t header = sizes.base + address;
  if (data[header] != 1) return "";  // version 2 ("OHDR") is checksummed
  // Version 1 prefix: version, reserved, message count (2), reference count (4), size of the
  // first chunk (4), 4 bytes of padding; the chunk follows.
  std::vector<std::pair<uint64_t, uint64_t>> chunks{{header + 16, decode(data + header + 8, 4)}};
  // Chunks of a real header are disjoint, so they hold at most the file's bytes in all; a
  // continuation back to a chunk already read is followed once.
  for (std::size_t c = 0; c < chunks.size(); ++c) {
    const auto [begin, size] = chunks[c];
    // libhdf5 allocates a chunk's declared size before it finds the file too short for it
    // (4 GB for the root group of a 19 KB file).
    if (begin > n || size > n - begin) {
      return "the object header at byte " + std::to_string(header) + " declares a chunk of " +
             std::to_string(size) + " bytes at byte " + std::to_string(begin) +
             ", past the end of the file's " + std::to_string(n) + " bytes";
    }
    if (!walk.chunks.insert({begin, size}).second) continue;
    walk.bytes += size;
    if (walk.bytes > n) {
      return "the object header at byte " + std::to_string(header) +
             " has overlapping chunks (more chunk bytes than the file holds)";
    }
    const uint64_t end = begin + size;
    uint64_t p = begin;
    // Message header (version 1): type (2), size (2), flags (1), 3 reserved bytes.
    while (end - p >= 8) {
      const uint64_t type = decode(data + p, 2), m = decode(data + p + 2, 2);
      const unsigned flags = data[p + 4];
      const unsigned char* body = data + p + 8;
      if (m > end - p - 8 || m != align8(m)) break;  // libhdf5 refuses the chunk itself
      const bool shared = (flags & 0x02) != 0;
      if (shared && type != 0x10 && type != 0x11) {
        const std::string problem = shared_problem(image, body, m, p, sizes, depth, walk);
        if (!problem.empty()) return problem;
      } else if (type == 0x0C && !shared) {
        const std::string problem = attribute_problem(image, body, m, sizes, walk);
        if (!problem.empty()) {
          return "the attribute message at byte " + std::to_string(p) + " " + problem;
        }
      } else if (type == 0x11 && !shared && m >= 2 * sizes.sizeof_addr) {
        const uint64_t btree = decode(body, sizes.sizeof_addr);
        const uint64_t heap = decode(body + sizes.sizeof_addr, sizes.sizeof_addr);
        uint64_t segment_size = 0, names_end = 0;
        std::string problem;
        if (heap <= n - sizes.base) {
          const auto known = walk.heaps.find(heap);
          if (known != walk.heaps.end()) {
            std::tie(segment_size, names_end) = known->second;
          } else {
            problem = local_heap_problem(image, sizes.base + heap, sizes, segment_size, names_end);
            walk.heaps.emplace(heap, std::make_pair(segment_size, names_end));
          }
        }
        // libhdf5 walks the B-tree without the heap too (counting a group's links).
        if (problem.empty()) {
          problem = group_tree_problem(image, btree, segment_size, names_end, sizes, walk);
        }
        if (!problem.empty()) return problem;
      } else if (!shared && (type == 0x01 || type == 0x03 || type == 0x04 || type == 0x05 ||
                             type == 0x08)) {
        // The messages libhdf5 decodes when it opens a dataset: dataspace, datatype, fill
        // value (old and new) and layout.
        std::string problem;
        bool fits = true;
        if (type == 0x01) {
          dataspace_points(body, m, sizes, fits);
          if (!fits) problem = "is shorter than its dimensions";
        } else if (type == 0x03) {
          if (element_size(body, m, sizes) == kTooShort) {
            problem = "is shorter than its class's properties";
          } else {
            problem = enum_problem(body, m);
            if (problem.empty()) problem = bit_field_problem(body, m);
          }
        } else if (type == 0x08) {
          problem = layout_problem(body, m, sizes);
        } else {
          problem = fill_value_problem(body, m, type == 0x04);
        }
        if (!problem.empty()) {
          const char* what = type == 0x01   ? "dataspace"
                             : type == 0x03 ? "datatype"
                             : type == 0x08 ? "data layout"
                                            : "fill value";
          return std::string("the ") + what + " message at byte " + std::to_string(p) + " " +
                 problem;
        }
      } else if (type == 0x10 && m >= sizes.sizeof_addr + sizes.sizeof_size) {
        const uint64_t next = decode(body, sizes.sizeof_addr);
        const uint64_t length = decode(body + sizes.sizeof_addr, sizes.sizeof_size);
        chunks.emplace_back(next <= n - sizes.base ? sizes.base + next : n + 1, length);
      }
      p += 8 + m;
    }
  }
  return "";
}

}  // namespace

}  // namespace bcq::continuous
