// Internal: a check that libhdf5 1.10 can finish reading the file's global heap collections,
// where HDF5 keeps variable-length strings (h5py's string attributes).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace bcq::continuous {

/// Walks every global heap collection in an HDF5 file image (each begins "GCOL", version 1) the
/// way libhdf5 1.10.8 decodes one (H5HG__cache_heap_deserialize), with lengths of
/// `sizeof_size` bytes (the file's "size of lengths": 8 for files h5py or bcq write).
/// libhdf5 1.10 does not check that each object moves the walk forward or stays inside the
/// collection: an object of size 0 makes it loop forever and one larger than what is left makes
/// it read past the collection. Returns "" when every collection can be decoded, else what is
/// wrong and at which byte. A "GCOL" that is not a version-1 collection fitting in the file is
/// not one libhdf5 would decode, and is passed over. The walk is linear in the image's size:
/// overlapping collections with more objects in all than the file could hold are refused.
std::string global_heap_problem(std::string_view image, std::size_t sizeof_size = 8);

/// What global_heap_object_size finds.
enum : uint64_t {
  kNotACollection = ~uint64_t{0},  ///< no version-1 collection there: libhdf5 refuses it
  kNoSuchObject = ~uint64_t{0} - 1,
};

/// The size of object `index` (1 or more) of the global heap collection at absolute byte `at`
/// of an image, kNoSuchObject when the collection holds none of that index (libhdf5 1.10.8's
/// H5HG_read then dereferences a null or out-of-range entry), or kNotACollection. Walks the
/// collection as global_heap_problem does, and stops where it would refuse it.
uint64_t global_heap_object_size(std::string_view image, uint64_t at, uint64_t index,
                                 std::size_t sizeof_size = 8);

}  // namespace bcq::continuous
