// Internal: a check that libhdf5 1.10 can finish reading the file's global heap collections,
// where HDF5 keeps variable-length strings (h5py's string attributes).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
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

/// Marks, as the only key of global_heap_objects' answer, an address that holds no version-1
/// collection fitting in the image (libhdf5 refuses it).
constexpr uint64_t kNotACollection = ~uint64_t{0};

/// The objects (index 1 or more -> size) of the global heap collection at absolute byte `at`
/// of an image, walked as global_heap_problem walks it and up to where it would refuse it.
/// libhdf5 1.10.8's H5HG_read dereferences a null or out-of-range entry for an index the
/// collection does not hold.
std::map<uint64_t, uint64_t> global_heap_objects(std::string_view image, uint64_t at,
                                                 std::size_t sizeof_size = 8);

}  // namespace bcq::continuous
