#include "continuous/hdf5_global_heap.hpp"

#include <cstring>

namespace bcq::continuous {

namespace {

// A little-endian unsigned integer of `bytes` bytes (HDF5 stores lengths little-endian).
uint64_t decode(const unsigned char* p, std::size_t bytes) {
  uint64_t value = 0;
  for (std::size_t i = bytes; i-- > 0;) value = (value << 8) | p[i];
  return value;
}

}  // namespace

std::string global_heap_problem(std::string_view image, std::size_t sizeof_size) {
  if (sizeof_size != 2 && sizeof_size != 4 && sizeof_size != 8) return "";
  const auto* data = reinterpret_cast<const unsigned char*>(image.data());
  const std::size_t n = image.size();
  // Collection header: "GCOL", version, 3 reserved bytes, collection size. Object header:
  // heap index (2 bytes), reference count (2), reserved (4), object size. libhdf5 pads both to
  // a multiple of 8 (H5HG_SIZEOF_HDR, H5HG_SIZEOF_OBJHDR): 16 bytes for lengths of 2, 4 or 8.
  const std::size_t header = (8 + sizeof_size + 7) & ~std::size_t{7};
  const std::size_t object_header = header;
  // Real collections do not overlap and each object takes at least 16 bytes, so a file holds
  // at most n / 16 objects. A "GCOL" found in other data walks a few steps; many overlapping
  // ones crafted to share a long chain of objects would make the scan quadratic: past this
  // budget the file is refused.
  uint64_t budget = n / 16 + 4096;
  for (std::size_t at = 0; at + header <= n; ++at) {
    // glibc's memmem skips ahead by the signature (a plain memchr for 'G' stops on every 256th
    // byte of float data: a fifth of the load time of a 200 MB file).
    const void* hit = memmem(data + at, n - at, "GCOL", 4);
    if (hit == nullptr) break;
    at = static_cast<std::size_t>(static_cast<const unsigned char*>(hit) - data);
    if (at + header > n || data[at + 4] != 1) continue;
    const uint64_t size = decode(data + at + 8, sizeof_size);
    if (size < header || size > n - at) continue;  // libhdf5 cannot read it: an error, not a walk
    const std::size_t end = at + static_cast<std::size_t>(size);
    std::size_t p = at + header;
    while (p < end) {
      if (end - p < object_header) break;  // too small for an object: libhdf5 takes it as free
      const uint64_t index = decode(data + p, 2);
      const uint64_t object_size = decode(data + p + 8, sizeof_size);
      // Object 0 is the free space, whose size includes its header; others are padded to 8.
      // The sum wraps as libhdf5's size_t arithmetic does.
      const uint64_t need =
          index > 0 ? object_header + ((object_size + 7) & ~uint64_t{7}) : object_size;
      const bool zero = need == 0;
      if (zero || need > end - p || (index > 0 && object_size > end - p - object_header)) {
        const std::string where = "global heap collection at byte " + std::to_string(at) +
                                  ", object " + std::to_string(index) + " at byte " +
                                  std::to_string(p);
        if (zero) return where + " has size 0 (libhdf5 would never finish reading it)";
        return where + " runs past the collection's end (byte " + std::to_string(end) + ")";
      }
      if (budget-- == 0) {
        return "more global heap objects than a file of " + std::to_string(n) +
               " bytes can hold (overlapping collections)";
      }
      p += static_cast<std::size_t>(need);
    }
  }
  return "";
}

std::map<uint64_t, uint64_t> global_heap_objects(std::string_view image, uint64_t at,
                                                 std::size_t sizeof_size) {
  const std::map<uint64_t, uint64_t> none{{kNotACollection, 0}};
  if (sizeof_size != 2 && sizeof_size != 4 && sizeof_size != 8) return none;
  const auto* data = reinterpret_cast<const unsigned char*>(image.data());
  const uint64_t n = image.size();
  const uint64_t header = (8 + sizeof_size + 7) & ~uint64_t{7};
  if (at > n || n - at < header || std::memcmp(data + at, "GCOL", 4) != 0 || data[at + 4] != 1) {
    return none;
  }
  const uint64_t size = decode(data + at + 8, sizeof_size);
  if (size < header || size > n - at) return none;
  std::map<uint64_t, uint64_t> objects;
  const uint64_t end = at + size;
  for (uint64_t p = at + header; end - p >= header;) {
    const uint64_t index = decode(data + p, 2);
    const uint64_t object_size = decode(data + p + 8, sizeof_size);
    const uint64_t need = index > 0 ? header + ((object_size + 7) & ~uint64_t{7}) : object_size;
    if (need == 0 || need > end - p || (index > 0 && object_size > end - p - header)) break;
    if (index > 0) objects.emplace(index, object_size);
    p += need;
  }
  return objects;
}

}  // namespace bcq::continuous
