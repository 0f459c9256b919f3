// Internal: checks that libhdf5 1.10.8 can decode a group's attributes and name heap without
// reading past what the file holds (it trusts the sizes a file declares there).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace bcq::continuous {

/// The sizes an HDF5 file declares in its superblock ("size of offsets", "size of lengths",
/// the group B-tree's internal K and its symbol table nodes' leaf K) and where its addresses
/// start in the image (the base address: the user block's size). Defaults: libhdf5's.
struct Hdf5Sizes {
  std::size_t sizeof_addr = 8;
  std::size_t sizeof_size = 8;
  uint64_t base = 0;
  uint64_t group_internal_k = 16;
  uint64_t group_leaf_k = 4;
};

/// Walks the version-1 object header at `address` (relative to `sizes.base`) of an HDF5 file
/// image, with its continuation chunks, and checks the messages libhdf5 1.10.8 decodes
/// without bounds checks, the way it decodes them:
/// - each attribute message (H5O_attr_decode): its name must end in a NUL within the message
///   (libhdf5 strdup()s it), and its datatype, dataspace and data must fit in the message;
/// - the symbol table message's local heap (H5HL_protect): its data segment must lie inside the
///   image (libhdf5 allocates the size the heap declares, 4 GiB from a 19 KB file) and hold a
///   NUL after every name offset in the group's B-tree and symbol table nodes, its free list
///   must end, every node must lie in the file, and no node may hold more entries than the
///   file's K allows (when the superblock gives K).
/// - the messages libhdf5 decodes when it opens a dataset: the dataspace's dimensions, the
///   datatype's class properties, the fill value's and a compact layout's data must fit in
///   their messages (bit fields inside their value, an enumeration as wide as its base);
/// - a shared message must hold its address, and the header it names (a committed datatype)
///   is checked the same way, 4 deep at most.
/// Returns "" when all hold, else what is wrong and at which byte. A header that is not
/// version 1 (version-2 headers, which libver "latest" writes, carry a checksum libhdf5
/// verifies first; a crafted file with a correct checksum is not covered), a chunk or message
/// libhdf5 would itself refuse, and messages in the shared message table are passed over:
/// libhdf5 reports those. Chunks read in all may not add up to more than the image's bytes.
std::string object_header_problem(std::string_view image, uint64_t address,
                                  const Hdf5Sizes& sizes);

/// object_header_problem for each header at `addresses` (a group's members), in one walk: a
/// header, B-tree node or heap collection reached from several is checked once.
std::string object_headers_problem(std::string_view image, const std::vector<uint64_t>& addresses,
                                   const Hdf5Sizes& sizes);

/// object_header_problem for the root group of an HDF5 file image, found from its superblock
/// (at byte 0, 512, 1024, ...; versions 0 to 3), before libhdf5 opens the file: H5Fopen
/// already reads the root group's header. "" when there is no superblock bcq can read.
std::string superblock_problem(std::string_view image);

}  // namespace bcq::continuous
