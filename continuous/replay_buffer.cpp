// Buffers on disk: reading bcq-buffer/1, D4RL and Minari HDF5 files (every size checked
// before allocating, dtypes, flags and attributes validated, one line naming file, key and row
// on a refusal) and writing bcq-buffer/1 whole or not at all. Over 400 lines because the three
// layouts share one reader whose checks act on the same open HDF5 handles; the in-memory buffer
// itself is replay_buffer.hpp.
#include "continuous/replay_buffer.hpp"

#include <hdf5.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <cstdlib>
#include <functional>
#include <string>
#include <string_view>
#include <utility>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/atomic_file.hpp"
#include "common/error.hpp"
#include "common/input_file.hpp"
#include "continuous/hdf5_global_heap.hpp"
#include "continuous/hdf5_object_header.hpp"

namespace bcq::continuous {

namespace {

// Owns an HDF5 identifier and closes it with the right function.
class Handle {
 public:
  Handle(hid_t id, herr_t (*close)(hid_t)) : id_(id), close_(close) {}
  ~Handle() {
    if (id_ >= 0) close_(id_);
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  hid_t get() const { return id_; }
  bool ok() const { return id_ >= 0; }

 private:
  hid_t id_;
  herr_t (*close_)(hid_t);
};

// HDF5 prints its error stack to stderr by default; we report one line ourselves.
void silence_hdf5() { H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); }

// numpy's bool as h5py writes it: an 8-bit enum FALSE=0, TRUE=1.
hid_t make_bool_type() {
  hid_t t = H5Tenum_create(H5T_NATIVE_INT8);
  int8_t v = 0;
  H5Tenum_insert(t, "FALSE", &v);
  v = 1;
  H5Tenum_insert(t, "TRUE", &v);
  return t;
}

void write_dataset(hid_t file, const std::string& path, const char* key, hid_t file_type,
                   hid_t mem_type, const void* data, std::size_t rows, int64_t cols) {
  hsize_t dims[2] = {rows, static_cast<hsize_t>(cols)};
  Handle space(H5Screate_simple(cols > 0 ? 2 : 1, dims, nullptr), H5Sclose);
  Handle set(H5Dcreate2(file, key, file_type, space.get(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
             H5Dclose);
  if (!set.ok() || (rows > 0 && H5Dwrite(set.get(), mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0)) {
    throw InputError("cannot write " + path + ": dataset " + key);
  }
}

void write_attribute(hid_t file, const std::string& path, const std::string& name,
                     const nlohmann::json& value) {
  Handle space(H5Screate(H5S_SCALAR), H5Sclose);
  herr_t status = -1;
  if (value.is_string()) {
    const std::string s = value.get<std::string>();
    Handle type(H5Tcopy(H5T_C_S1), H5Tclose);
    H5Tset_size(type.get(), s.empty() ? 1 : s.size());
    H5Tset_strpad(type.get(), H5T_STR_NULLPAD);
    Handle attr(H5Acreate2(file, name.c_str(), type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT),
                H5Aclose);
    if (attr.ok()) status = H5Awrite(attr.get(), type.get(), s.empty() ? "" : s.data());
  } else if (value.is_number_integer()) {
    const int64_t v = value.get<int64_t>();
    Handle attr(H5Acreate2(file, name.c_str(), H5T_STD_I64LE, space.get(), H5P_DEFAULT, H5P_DEFAULT),
                H5Aclose);
    if (attr.ok()) status = H5Awrite(attr.get(), H5T_NATIVE_INT64, &v);
  } else if (value.is_number()) {
    const double v = value.get<double>();
    Handle attr(H5Acreate2(file, name.c_str(), H5T_IEEE_F64LE, space.get(), H5P_DEFAULT, H5P_DEFAULT),
                H5Aclose);
    if (attr.ok()) status = H5Awrite(attr.get(), H5T_NATIVE_DOUBLE, &v);
  } else {
    throw InputError("buffer attribute '" + name + "' must be a string or a number");
  }
  if (status < 0) throw InputError("cannot write " + path + ": attribute " + name);
}

// `s` with each byte that is not valid UTF-8 replaced by U+FFFD: attributes end up in error
// messages and JSON output (`bcq buffer info --json`), which must stay valid UTF-8.
std::string as_utf8(const std::string& s) {
  const nlohmann::json j = s;
  return nlohmann::json::parse(j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace))
      .get<std::string>();
}

// The value of a scalar attribute whose datatype is `type`; null for one bcq does not read.
nlohmann::json read_attribute(hid_t attr, const Handle& type) {
  switch (H5Tget_class(type.get())) {
    case H5T_STRING: {
      if (H5Tis_variable_str(type.get()) > 0) {
        char* s = nullptr;
        // h5py writes UTF-8 variable-length strings; the memory type must carry the same
        // character set or HDF5 refuses the conversion (and the attribute was dropped).
        Handle mem(H5Tcopy(H5T_C_S1), H5Tclose);
        H5Tset_size(mem.get(), H5T_VARIABLE);
        H5Tset_cset(mem.get(), H5Tget_cset(type.get()));
        if (H5Aread(attr, mem.get(), &s) < 0 || s == nullptr) return nullptr;
        std::string out(s);
        H5free_memory(s);
        return as_utf8(out);
      }
      const std::size_t size = H5Tget_size(type.get());
      if (size == 0 || size > (1u << 20)) return nullptr;  // no attribute of ours is over 1 MiB
      std::string s(size, '\0');
      if (H5Aread(attr, type.get(), s.data()) < 0) return nullptr;
      s.resize(std::strlen(s.c_str()));
      return as_utf8(s);
    }
    case H5T_INTEGER: {
      int64_t v = 0;
      if (H5Aread(attr, H5T_NATIVE_INT64, &v) < 0) return nullptr;
      return v;
    }
    case H5T_FLOAT: {
      double v = 0;
      if (H5Aread(attr, H5T_NATIVE_DOUBLE, &v) < 0) return nullptr;
      return v;
    }
    default:
      return nullptr;
  }
}

// The file's bytes, for the checks of its heaps and headers: the image given, or the file mapped
// read-only.
class FileBytes {
 public:
  FileBytes(std::string_view image, std::string path) : view_(image), path_(std::move(path)) {}
  ~FileBytes() {
    if (mapped_ != nullptr) munmap(mapped_, view_.size());
  }
  FileBytes(const FileBytes&) = delete;
  FileBytes& operator=(const FileBytes&) = delete;
  std::string_view get(const std::string& source) {
    if (view_.data() != nullptr || path_.empty()) return view_;
    const int fd = open(path_.c_str(), O_RDONLY | O_CLOEXEC);
    struct stat st {};
    if (fd < 0 || fstat(fd, &st) != 0) {
      if (fd >= 0) close(fd);
      throw InputError(source + ": cannot read the file");
    }
    const auto size = static_cast<std::size_t>(st.st_size);
    void* p = size > 0 ? mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0) : MAP_FAILED;
    close(fd);
    if (p == MAP_FAILED) throw InputError(source + ": cannot read the file");
    mapped_ = p;
    view_ = std::string_view(static_cast<const char*>(p), size);
    return view_;
  }

 private:
  std::string_view view_;
  std::string path_;
  void* mapped_ = nullptr;
};

// The superblock's sizes, for the checks of hdf5_global_heap.hpp and hdf5_object_header.hpp.
// Addresses count from the superblock, which follows the user block.
Hdf5Sizes file_sizes(hid_t file) {
  Hdf5Sizes sizes;
  hsize_t user_block = 0;
  Handle fcpl(H5Fget_create_plist(file), H5Pclose);
  if (fcpl.ok()) {
    H5Pget_sizes(fcpl.get(), &sizes.sizeof_addr, &sizes.sizeof_size);
    H5Pget_userblock(fcpl.get(), &user_block);
    unsigned internal_k = 0, leaf_k = 0;
    if (H5Pget_sym_k(fcpl.get(), &internal_k, &leaf_k) >= 0) {
      sizes.group_internal_k = internal_k;
      sizes.group_leaf_k = leaf_k;
    }
  }
  sizes.base = user_block;
  return sizes;
}

// libhdf5 1.10.8 trusts the sizes in a group's attribute messages and in its local heap
// (found by fuzz_buffer_hdf5: a heap over-read in strdup, a 4 GiB malloc from a 19 KB file):
// check them before libhdf5 decodes either (hdf5_object_header.hpp).
void check_group_header(hid_t group, const Hdf5Sizes& sizes, const std::string& source,
                        FileBytes& bytes) {
  H5O_info_t object{};
  if (H5Oget_info2(group, &object, H5O_INFO_BASIC) < 0) {
    throw InputError(source + ": corrupt HDF5 file: a group's object header cannot be read");
  }
  const std::string problem = object_header_problem(bytes.get(source), object.addr, sizes);
  if (!problem.empty()) throw InputError(source + ": corrupt HDF5 file: " + problem);
}

// H5Fopen already reads the root group's header: it is checked from the superblock first.
void check_superblock(const std::string& source, FileBytes& bytes) {
  const std::string problem = superblock_problem(bytes.get(source));
  if (!problem.empty()) throw InputError(source + ": corrupt HDF5 file: " + problem);
}

// The hard links of a group (H5Literate's callback): the addresses of the headers they name.
herr_t collect_member(hid_t, const char*, const H5L_info_t* link, void* data) {
  if (link != nullptr && link->type == H5L_TYPE_HARD) {
    static_cast<std::vector<uint64_t>*>(data)->push_back(link->u.address);
  }
  return 0;
}

// The header of every object a group links to, checked as check_group_header checks the
// group's own before any is opened, in one walk (a file linking the same object many times is
// read once): libhdf5 decodes a dataset's dataspace, datatype, fill value and layout messages
// when it opens it.
void check_group_members(hid_t group, const Hdf5Sizes& sizes, const std::string& source,
                         FileBytes& bytes) {
  std::vector<uint64_t> members;
  hsize_t index = 0;
  H5Literate(group, H5_INDEX_NAME, H5_ITER_NATIVE, &index, collect_member, &members);
  const std::string problem = object_headers_problem(bytes.get(source), members, sizes);
  if (!problem.empty()) throw InputError(source + ": corrupt HDF5 file: " + problem);
}

// What H5Aiterate2 hands collect_attribute.
struct AttributeReader {
  hid_t file;
  const std::string& source;
  FileBytes& bytes;
  nlohmann::json attrs = nlohmann::json::object();
  bool heaps_checked = false;
  std::string refusal;  // set instead of throwing through libhdf5's frames
};

// A variable-length string lives in a global heap collection that libhdf5 1.10 may never finish
// decoding when the file is corrupt (hdf5_global_heap.hpp): check them all before the first one.
void check_global_heaps(AttributeReader& reader) {
  if (reader.heaps_checked) return;
  reader.heaps_checked = true;
  const std::string problem =
      global_heap_problem(reader.bytes.get(reader.source), file_sizes(reader.file).sizeof_size);
  if (!problem.empty()) reader.refusal = reader.source + ": corrupt HDF5 file: " + problem;
}

herr_t collect_attribute(hid_t location, const char* name, const H5A_info_t*, void* data) {
  auto& reader = *static_cast<AttributeReader*>(data);
  try {
    Handle attr(H5Aopen(location, name, H5P_DEFAULT), H5Aclose);
    Handle space(H5Aget_space(attr.get()), H5Sclose);
    Handle type(H5Aget_type(attr.get()), H5Tclose);
    if (attr.ok() && H5Sget_simple_extent_ndims(space.get()) == 0) {
      if (type.ok() && H5Tis_variable_str(type.get()) > 0) check_global_heaps(reader);
      if (!reader.refusal.empty()) return 1;  // stops the iteration
      auto value = read_attribute(attr.get(), type);
      if (!value.is_null()) reader.attrs[as_utf8(name)] = value;
    }
  } catch (const InputError& e) {
    reader.refusal = e.what();
    return 1;
  } catch (const std::exception& e) {  // never through libhdf5's C frames
    reader.refusal = reader.source + ": cannot read its attributes: " + e.what();
    return 1;
  } catch (...) {
    reader.refusal = reader.source + ": cannot read its attributes";
    return 1;
  }
  return 0;
}

// A dataset's declared shape and type, checked against the limits before anything is read.
struct DatasetShape {
  hsize_t rows = 0;
  hsize_t cols = 0;  // 0: a vector (1-D, or rows x 1)
  std::string dtype;
};

std::string dtype_name(hid_t type) {
  const std::size_t size = H5Tget_size(type);
  switch (H5Tget_class(type)) {
    case H5T_FLOAT:
      return "float" + std::to_string(8 * size);
    case H5T_INTEGER:
      return std::string(H5Tget_sign(type) == H5T_SGN_NONE ? "uint" : "int") + std::to_string(8 * size);
    case H5T_ENUM:
      return size == 1 ? "bool" : "enum";
    case H5T_STRING:
      return "string";
    default:
      return "other";
  }
}

// What the object at `key` is (H5I_DATASET, H5I_GROUP; H5I_BADID if it cannot be opened).
// Asked of the object's header, not by opening it: opening a committed datatype decodes it
// (libhdf5 1.10.8's H5T_copy read 186 bytes past one: found by fuzz_buffer_hdf5).
H5I_type_t object_kind(hid_t loc, const char* key) {
  H5O_info_t info{};
  if (H5Oget_info_by_name2(loc, key, &info, H5O_INFO_BASIC, H5P_DEFAULT) < 0) return H5I_BADID;
  switch (info.type) {
    case H5O_TYPE_GROUP:
      return H5I_GROUP;
    case H5O_TYPE_DATASET:
      return H5I_DATASET;
    case H5O_TYPE_NAMED_DATATYPE:
      return H5I_DATATYPE;
    default:
      return H5I_BADID;
  }
}

// `where` is the key as the user sees it ("timeouts", "episode_3/actions").
DatasetShape dataset_shape(hid_t loc, const std::string& source, const std::string& where,
                           const char* key, bool matrix) {
  if (H5Lexists(loc, key, H5P_DEFAULT) <= 0) {
    throw InputError(source + ": missing dataset '" + where + "' (D4RL keys: observations, actions, "
                     "rewards, terminals, and optionally next_observations, timeouts)");
  }
  const H5I_type_t kind = object_kind(loc, key);
  if (kind != H5I_DATASET) {
    throw InputError(source + ": '" + where + "' is not a dataset" +
                     (kind == H5I_GROUP ? " but a group (dictionary observations are not supported)" : ""));
  }
  Handle set(H5Dopen2(loc, key, H5P_DEFAULT), H5Dclose);
  Handle space(H5Dget_space(set.get()), H5Sclose);
  Handle type(H5Dget_type(set.get()), H5Tclose);
  if (!set.ok() || !space.ok() || !type.ok()) throw InputError(source + ": cannot open dataset '" + where + "'");
  const int ndims = H5Sget_simple_extent_ndims(space.get());
  if (ndims < 1 || ndims > 2) {
    throw InputError(source + ": dataset '" + where + "' has " + std::to_string(ndims) +
                     " dimensions (expected " + (matrix ? "2" : "1") + ")");
  }
  hsize_t dims[2] = {0, 0};
  H5Sget_simple_extent_dims(space.get(), dims, nullptr);
  DatasetShape shape;
  shape.rows = dims[0];
  shape.cols = ndims == 2 ? dims[1] : 0;
  shape.dtype = dtype_name(type.get());
  const H5T_class_t cls = H5Tget_class(type.get());
  if (cls != H5T_FLOAT && cls != H5T_INTEGER && cls != H5T_ENUM) {
    throw InputError(source + ": dataset '" + where + "' holds " + shape.dtype + " values, not numbers");
  }
  // libhdf5 sizes its conversion buffer from the stored type: a 2.8 GB "float" in a 19 KB
  // file took 10 s to zero (found by fuzz_buffer_hdf5).
  const std::size_t element = H5Tget_size(type.get());
  if (element == 0 || element > 16) {
    throw InputError(source + ": dataset '" + where + "' holds numbers of " +
                     std::to_string(element) + " bytes (1 to 16 are read)");
  }
  if (shape.rows > kMaxBufferRows) {
    throw InputError(source + ": dataset '" + where + "' declares " + std::to_string(shape.rows) +
                     " rows, over the limit of " + std::to_string(kMaxBufferRows) + " (docs/limits.md)");
  }
  if (matrix) {
    if (ndims != 2) throw InputError(source + ": dataset '" + where + "' must be 2-dimensional (rows x size)");
    if (shape.cols == 0 || shape.cols > kMaxBufferColumns) {
      throw InputError(source + ": dataset '" + where + "' has " + std::to_string(shape.cols) +
                       " columns (1 to " + std::to_string(kMaxBufferColumns) + " allowed)");
    }
  } else if (ndims == 2) {
    if (shape.cols != 1) throw InputError(source + ": dataset '" + where + "' must have one value per row");
    shape.cols = 0;
  }
  // A dataset that declares rows but stores nothing reads as fill values: a forged or
  // truncated file, not data.
  if (shape.rows > 0 && H5Dget_storage_size(set.get()) == 0) {
    throw InputError(source + ": dataset '" + where + "' declares " + std::to_string(shape.rows) +
                     " rows but stores no data");
  }
  return shape;
}

void read_error(const std::string& source, const std::string& where) {
  throw InputError(source + ": cannot read dataset '" + where +
                   "' (truncated or corrupt file, or a type that is not numeric)");
}

// Reads a numeric dataset as float32 (float64 and integers are converted).
std::vector<float> read_floats(hid_t loc, const std::string& source, const std::string& where,
                               const char* key, const DatasetShape& shape) {
  std::vector<float> out(static_cast<std::size_t>(shape.rows * std::max<hsize_t>(shape.cols, 1)));
  if (out.empty()) return out;
  Handle set(H5Dopen2(loc, key, H5P_DEFAULT), H5Dclose);
  if (H5Dread(set.get(), H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data()) < 0) {
    read_error(source, where);
  }
  return out;
}

// Reads a flag dataset (numpy bool, any integer or float type); every value must be 0 or 1.
std::vector<std::uint8_t> read_flags(hid_t loc, const std::string& source, const std::string& where,
                                     const char* key, const DatasetShape& shape) {
  std::vector<double> values(static_cast<std::size_t>(shape.rows));
  std::vector<std::uint8_t> out(values.size());
  if (out.empty()) return out;
  Handle set(H5Dopen2(loc, key, H5P_DEFAULT), H5Dclose);
  Handle type(H5Dget_type(set.get()), H5Tclose);
  herr_t status;
  if (H5Tget_class(type.get()) == H5T_ENUM) {
    // numpy's bool as h5py writes it: an 8-bit enum FALSE=0, TRUE=1, read as stored (an
    // enum with other members shows its values, refused below).
    if (H5Tget_size(type.get()) != 1) {
      throw InputError(source + ": dataset '" + where + "' is an enum wider than numpy's bool");
    }
    std::vector<std::int8_t> raw(values.size());
    Handle native(H5Tget_native_type(type.get(), H5T_DIR_ASCEND), H5Tclose);
    // The native type follows the enum's base type, which a corrupt file can make wider than
    // the enum itself (found by fuzz_buffer_hdf5: H5Dread wrote 8 bytes per 1-byte flag).
    if (!native.ok() || H5Tget_size(native.get()) != sizeof(std::int8_t)) {
      throw InputError(source + ": dataset '" + where + "' is an enum wider than numpy's bool");
    }
    status = H5Dread(set.get(), native.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, raw.data());
    for (std::size_t i = 0; i < raw.size(); ++i) values[i] = raw[i];
  } else {
    status = H5Dread(set.get(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data());
  }
  if (status < 0) read_error(source, where);
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (values[i] != 0.0 && values[i] != 1.0) {
      throw InputError(source + ": '" + where + "' row " + std::to_string(i) + " holds " +
                       std::to_string(values[i]) + " (flags must be 0 or 1)");
    }
    out[i] = values[i] == 1.0 ? 1 : 0;
  }
  return out;
}

void check_finite(const std::string& path, const char* key, const std::vector<float>& v,
                  int64_t cols) {
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (!std::isfinite(v[i])) {
      throw InputError(path + ": '" + std::string(key) + "' row " +
                       std::to_string(i / static_cast<std::size_t>(cols)) + " holds " +
                       std::to_string(v[i]) + " (every value must be finite)");
    }
  }
}

void check_rows(const std::string& source, const std::string& where, hsize_t rows, hsize_t expected,
                const std::string& reference) {
  if (rows != expected) {
    throw InputError(source + ": dataset '" + where + "' has " + std::to_string(rows) + " rows but '" +
                     reference + "' has " + std::to_string(expected));
  }
}

void check_cols(const std::string& source, const std::string& where, hsize_t cols, int64_t expected,
                const char* what) {
  if (expected > 0 && cols != static_cast<hsize_t>(expected)) {
    throw InputError(source + ": dataset '" + where + "' has " + std::to_string(cols) +
                     " columns but the environment's " + what + " is " + std::to_string(expected));
  }
}

// Bytes the loaded buffer takes: observations and next observations, actions, rewards, flags.
void check_memory(const std::string& source, std::uint64_t rows, std::uint64_t state_dim,
                  std::uint64_t action_dim) {
  const double bytes = double(rows) * (4.0 * (2.0 * double(state_dim) + double(action_dim) + 1.0) + 2.0);
  if (bytes > double(kMaxBufferBytes)) {
    throw InputError(source + ": " + std::to_string(rows) + " transitions of " + std::to_string(state_dim) +
                     " + " + std::to_string(action_dim) + " values need " +
                     std::to_string(static_cast<std::uint64_t>(bytes / double(1 << 20))) +
                     " MiB, over the 32 GiB limit (docs/limits.md)");
  }
}

// The flat layout (bcq-buffer/1 and D4RL): one dataset per key at the root. Without
// next_observations, each transition's successor is the next row of the same episode;
// transitions whose successor is unknown (cut by a timeout, the last row) are dropped.
ReplayBuffer load_flat(hid_t file, const std::string& source, const BufferExpectations& expect,
                       BufferFileInfo& info) {
  const DatasetShape obs = dataset_shape(file, source, "observations", "observations", true);
  const DatasetShape act = dataset_shape(file, source, "actions", "actions", true);
  const DatasetShape rew = dataset_shape(file, source, "rewards", "rewards", false);
  const DatasetShape term = dataset_shape(file, source, "terminals", "terminals", false);
  const bool has_next = H5Lexists(file, "next_observations", H5P_DEFAULT) > 0;
  const bool has_timeouts = H5Lexists(file, "timeouts", H5P_DEFAULT) > 0;
  DatasetShape next, tout;
  if (has_next) next = dataset_shape(file, source, "next_observations", "next_observations", true);
  if (has_timeouts) tout = dataset_shape(file, source, "timeouts", "timeouts", false);
  check_cols(source, "observations", obs.cols, expect.state_dim, "observation size");
  check_cols(source, "actions", act.cols, expect.action_dim, "action size");
  if (has_next) check_cols(source, "next_observations", next.cols, static_cast<int64_t>(obs.cols), "observation size");
  check_rows(source, "actions", act.rows, obs.rows, "observations");
  check_rows(source, "rewards", rew.rows, obs.rows, "observations");
  if (has_next) check_rows(source, "next_observations", next.rows, obs.rows, "observations");
  check_rows(source, "terminals", term.rows, obs.rows, "observations");
  if (has_timeouts) check_rows(source, "timeouts", tout.rows, obs.rows, "observations");
  if (obs.rows == 0) throw InputError(source + ": the buffer holds no transitions");
  check_memory(source, obs.rows, obs.cols, act.cols);
  info.dtypes = {{"observations", obs.dtype}, {"actions", act.dtype}, {"rewards", rew.dtype},
                 {"terminals", term.dtype}};
  if (has_next) info.dtypes["next_observations"] = next.dtype;
  if (has_timeouts) info.dtypes["timeouts"] = tout.dtype;

  const auto sd = static_cast<int64_t>(obs.cols), ad = static_cast<int64_t>(act.cols);
  ReplayBuffer buffer(sd, ad);
  buffer.observations = read_floats(file, source, "observations", "observations", obs);
  buffer.actions = read_floats(file, source, "actions", "actions", act);
  buffer.rewards = read_floats(file, source, "rewards", "rewards", rew);
  buffer.terminals = read_flags(file, source, "terminals", "terminals", term);
  const std::size_t rows = buffer.rewards.size();
  info.file_rows = rows;
  if (has_timeouts) {
    buffer.timeouts = read_flags(file, source, "timeouts", "timeouts", tout);
  } else {
    // As d4rl.qlearning_dataset: the time limit cuts an episode after max_episode_steps.
    info.derived_timeouts = true;
    buffer.timeouts.assign(rows, 0);
    int64_t step = 0;
    for (std::size_t i = 0; i < rows; ++i) {
      ++step;
      if (buffer.terminals[i]) {
        step = 0;
      } else if (expect.max_episode_steps > 0 && step == expect.max_episode_steps) {
        buffer.timeouts[i] = 1;
        step = 0;
      }
    }
  }
  for (std::size_t i = 0; i < rows; ++i) {
    if (buffer.terminals[i] && buffer.timeouts[i]) {
      buffer.timeouts[i] = 0;  // a terminal step is terminal even at the time limit
      ++info.terminal_and_timeout;
    }
  }
  if (has_next) {
    buffer.next_observations = read_floats(file, source, "next_observations", "next_observations", next);
    return buffer;
  }
  // Derive next observations, compacting the rows in place.
  info.derived_next_observations = true;
  const auto state = static_cast<std::size_t>(sd), action = static_cast<std::size_t>(ad);
  std::vector<float> next_obs;
  next_obs.reserve(buffer.observations.size());
  std::size_t kept = 0;
  bool episode_has_kept = false;  // the current episode kept a row (kept - 1)
  for (std::size_t i = 0; i < rows; ++i) {
    const bool terminal = buffer.terminals[i] != 0;
    const bool known = terminal || (!buffer.timeouts[i] && i + 1 < rows);
    const bool episode_ends = terminal || buffer.timeouts[i] != 0;
    if (!known) {
      // The successor is the next episode's start or beyond the file: drop the row. A
      // timed-out episode now ends one step earlier, still by its time limit; the file's
      // last episode stays incomplete.
      ++info.dropped;
      if (episode_has_kept && buffer.timeouts[i]) buffer.timeouts[kept - 1] = 1;
    } else {
      std::copy_n(&buffer.observations[i * state], state, &buffer.observations[kept * state]);
      std::copy_n(&buffer.actions[i * action], action, &buffer.actions[kept * action]);
      buffer.rewards[kept] = buffer.rewards[i];
      buffer.terminals[kept] = buffer.terminals[i];
      buffer.timeouts[kept] = 0;
      // A terminal step's successor is never bootstrapped: its own observation stands in.
      const float* successor = terminal ? &buffer.observations[kept * state] : &buffer.observations[(i + 1) * state];
      next_obs.insert(next_obs.end(), successor, successor + state);
      ++kept;
    }
    episode_has_kept = known && !episode_ends;
  }
  buffer.next_observations = std::move(next_obs);
  // truncate() resizes every column, next_observations included (already kept x state).
  buffer.truncate(kept);
  if (kept == 0) throw InputError(source + ": no transition has a known successor");
  return buffer;
}

// Minari: one group per episode (`episode_<id>`), T + 1 observations, T actions, rewards,
// terminations and truncations. Episodes are read in the order of their ids.
ReplayBuffer load_minari(hid_t file, const std::string& source, const BufferExpectations& expect,
                         BufferFileInfo& info, FileBytes& bytes) {
  const Hdf5Sizes sizes = file_sizes(file);
  H5G_info_t root{};
  if (H5Gget_info(file, &root) < 0) throw InputError(source + ": cannot list the file's groups");
  if (root.nlinks > kMaxBufferEpisodes + 16) {
    throw InputError(source + ": " + std::to_string(root.nlinks) + " entries at the root, over the limit of " +
                     std::to_string(kMaxBufferEpisodes) + " episodes");
  }
  std::vector<std::pair<std::uint64_t, std::string>> episodes;
  for (hsize_t i = 0; i < root.nlinks; ++i) {
    char name[256] = {0};
    const ssize_t n = H5Lget_name_by_idx(file, ".", H5_INDEX_NAME, H5_ITER_INC, i, name, sizeof name, H5P_DEFAULT);
    if (n <= 0 || n >= static_cast<ssize_t>(sizeof name)) continue;
    const std::string key(name);
    if (key.rfind("episode_", 0) != 0 || key.size() == 8 || key.size() > 27) continue;
    bool digits = true;
    for (std::size_t k = 8; k < key.size(); ++k) digits = digits && key[k] >= '0' && key[k] <= '9';
    if (digits) episodes.emplace_back(std::stoull(key.substr(8)), key);
  }
  std::sort(episodes.begin(), episodes.end());
  if (episodes.empty()) {
    throw InputError(source + ": missing dataset 'observations' (neither a D4RL nor a Minari file: no episode_<id> groups)");
  }
  info.episodes_in_file = episodes.size();
  ReplayBuffer buffer(expect.state_dim, expect.action_dim);
  std::uint64_t total = 0;
  for (const auto& [id, key] : episodes) {
    if (object_kind(file, key.c_str()) != H5I_GROUP) {
      throw InputError(source + ": '" + key + "' is not a group");
    }
    Handle group(H5Gopen2(file, key.c_str(), H5P_DEFAULT), H5Gclose);
    check_group_header(group.get(), sizes, source, bytes);
    check_group_members(group.get(), sizes, source, bytes);
    const std::string at = key + "/";
    const DatasetShape obs = dataset_shape(group.get(), source, at + "observations", "observations", true);
    const DatasetShape act = dataset_shape(group.get(), source, at + "actions", "actions", true);
    const DatasetShape rew = dataset_shape(group.get(), source, at + "rewards", "rewards", false);
    const DatasetShape term = dataset_shape(group.get(), source, at + "terminations", "terminations", false);
    const DatasetShape trunc = dataset_shape(group.get(), source, at + "truncations", "truncations", false);
    if (buffer.state_dim == 0) buffer.state_dim = static_cast<int64_t>(obs.cols);
    if (buffer.action_dim == 0) buffer.action_dim = static_cast<int64_t>(act.cols);
    check_cols(source, at + "observations", obs.cols, buffer.state_dim, "observation size");
    check_cols(source, at + "actions", act.cols, buffer.action_dim, "action size");
    const hsize_t steps = act.rows;
    if (obs.rows != steps + 1) {
      throw InputError(source + ": dataset '" + at + "observations' has " + std::to_string(obs.rows) +
                       " rows; an episode of " + std::to_string(steps) + " steps needs " +
                       std::to_string(steps + 1) + " (Minari stores the final observation too)");
    }
    check_rows(source, at + "rewards", rew.rows, steps, at + "actions");
    check_rows(source, at + "terminations", term.rows, steps, at + "actions");
    check_rows(source, at + "truncations", trunc.rows, steps, at + "actions");
    total += steps;
    if (total > kMaxBufferRows) {
      throw InputError(source + ": the episodes hold over " + std::to_string(kMaxBufferRows) +
                       " steps, the limit (docs/limits.md)");
    }
    check_memory(source, total, obs.cols, act.cols);
    if (info.dtypes.empty()) {
      info.dtypes = {{"observations", obs.dtype}, {"actions", act.dtype}, {"rewards", rew.dtype},
                     {"terminations", term.dtype}, {"truncations", trunc.dtype}};
    }
    const std::vector<float> o = read_floats(group.get(), source, at + "observations", "observations", obs);
    const std::vector<float> a = read_floats(group.get(), source, at + "actions", "actions", act);
    const std::vector<float> r = read_floats(group.get(), source, at + "rewards", "rewards", rew);
    const std::vector<std::uint8_t> te = read_flags(group.get(), source, at + "terminations", "terminations", term);
    const std::vector<std::uint8_t> tr = read_flags(group.get(), source, at + "truncations", "truncations", trunc);
    const auto sd = static_cast<std::size_t>(buffer.state_dim);
    const auto adim = static_cast<std::size_t>(buffer.action_dim);
    for (std::size_t t = 0; t < steps; ++t) {
      const bool terminal = te[t] != 0;
      if (terminal && tr[t]) ++info.terminal_and_timeout;
      buffer.add(&o[t * sd], &a[t * adim], r[t], &o[(t + 1) * sd], terminal, tr[t] && !terminal);
    }
  }
  info.file_rows = buffer.size();
  if (buffer.size() == 0) throw InputError(source + ": the buffer holds no transitions");
  return buffer;
}

// Opens, reads and validates a buffer from an open HDF5 file.
// `bytes`: the file's bytes, mapped for the checks of its headers and heaps.
ReplayBuffer load_open_file(hid_t file, const std::string& source, FileBytes& bytes,
                            const BufferExpectations& expect, nlohmann::json* attributes,
                            BufferFileInfo* info_out) {
  // libhdf5 1.10.8 crashes in H5Aiterate2 (releasing its table of attributes, H5A__close) when
  // one attribute message cannot be decoded (found by fuzz_buffer_hdf5). Looking up a name that
  // no attribute has decodes every message too and reports the same damage as an error.
  const Hdf5Sizes sizes = file_sizes(file);
  check_group_header(file, sizes, source, bytes);
  check_group_members(file, sizes, source, bytes);
  if (H5Aexists(file, "\x01no attribute has this name") < 0) {
    throw InputError(source + ": corrupt HDF5 file: its attributes cannot be decoded");
  }
  AttributeReader reader{file, source, bytes, nlohmann::json::object(), false, ""};
  hsize_t index = 0;
  H5Aiterate2(file, H5_INDEX_NAME, H5_ITER_INC, &index, collect_attribute, &reader);
  if (!reader.refusal.empty()) throw InputError(reader.refusal);
  nlohmann::json& attrs = reader.attrs;
  if (attrs.contains("format") &&
      !(attrs["format"].is_string() && attrs["format"].get<std::string>() == "bcq-buffer/1")) {
    throw InputError(source + ": unknown format tag " + attrs["format"].dump() +
                     " (this bcq reads bcq-buffer/1, D4RL and Minari files)");
  }
  if (!expect.env.empty() && attrs.contains("env") && attrs["env"].is_string() &&
      attrs["env"].get<std::string>() != expect.env) {
    throw InputError(source + ": buffer was collected on '" + attrs["env"].get<std::string>() +
                     "', not '" + expect.env + "'");
  }
  BufferFileInfo info;
  ReplayBuffer buffer;
  if (H5Lexists(file, "observations", H5P_DEFAULT) > 0) {
    info.layout = attrs.contains("format") ? "bcq-buffer/1" : "d4rl";
    buffer = load_flat(file, source, expect, info);
  } else {
    info.layout = "minari";
    buffer = load_minari(file, source, expect, info, bytes);
  }
  check_finite(source, "observations", buffer.observations, buffer.state_dim);
  check_finite(source, "actions", buffer.actions, buffer.action_dim);
  check_finite(source, "rewards", buffer.rewards, 1);
  check_finite(source, "next_observations", buffer.next_observations, buffer.state_dim);
  if (expect.max_action > 0) {
    const double limit = expect.max_action + 1e-6;
    for (std::size_t i = 0; i < buffer.actions.size(); ++i) {
      if (std::fabs(buffer.actions[i]) > limit) {
        throw InputError(source + ": 'actions' row " + std::to_string(i / buffer.action_dim) + " holds " +
                         std::to_string(buffer.actions[i]) + ", outside the action bounds [-" +
                         std::to_string(expect.max_action) + ", " +
                         std::to_string(expect.max_action) + "]");
      }
    }
  }
  if (attributes != nullptr) *attributes = std::move(attrs);
  if (info_out != nullptr) *info_out = std::move(info);
  return buffer;
}

}  // namespace

void save_buffer(const std::string& path, const ReplayBuffer& buffer,
                 const nlohmann::json& attributes) {
  silence_hdf5();
  const std::size_t n = buffer.size();
  if (buffer.observations.size() != n * buffer.state_dim ||
      buffer.next_observations.size() != n * buffer.state_dim ||
      buffer.actions.size() != n * buffer.action_dim || buffer.terminals.size() != n ||
      buffer.timeouts.size() != n) {
    throw std::logic_error("save_buffer: inconsistent buffer sizes");
  }
  // The file is built in memory (HDF5's core driver, no backing store) and written by
  // write_file_atomic: HDF5 writing to disk itself leaves a file it cannot close when the disk
  // fills, and its exit handler then crashes (segfault after the error message).
  std::string image;
  {
    const double estimate = 4.0 * double(n) * double(2 * buffer.state_dim + buffer.action_dim + 1) + 2.0 * n;
    Handle fapl(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
    if (!fapl.ok() || H5Pset_fapl_core(fapl.get(), static_cast<std::size_t>(estimate) + (1u << 20), 0) < 0) {
      throw InputError("cannot write " + path + ": cannot set up HDF5's in-memory file");
    }
    Handle file(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl.get()), H5Fclose);
    if (!file.ok()) throw InputError("cannot write " + path + ": out of memory for the HDF5 image");
    Handle bool_type(make_bool_type(), H5Tclose);
    write_dataset(file.get(), path, "observations", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT,
                  buffer.observations.data(), n, buffer.state_dim);
    write_dataset(file.get(), path, "actions", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT,
                  buffer.actions.data(), n, buffer.action_dim);
    write_dataset(file.get(), path, "rewards", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT,
                  buffer.rewards.data(), n, 0);
    write_dataset(file.get(), path, "next_observations", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT,
                  buffer.next_observations.data(), n, buffer.state_dim);
    write_dataset(file.get(), path, "terminals", bool_type.get(), bool_type.get(),
                  buffer.terminals.data(), n, 0);
    write_dataset(file.get(), path, "timeouts", bool_type.get(), bool_type.get(),
                  buffer.timeouts.data(), n, 0);
    nlohmann::json attrs = attributes;
    attrs["format"] = "bcq-buffer/1";
    for (const auto& [name, value] : attrs.items()) write_attribute(file.get(), path, name, value);
    if (H5Fflush(file.get(), H5F_SCOPE_GLOBAL) < 0) throw InputError("cannot write " + path);
    const ssize_t size = H5Fget_file_image(file.get(), nullptr, 0);
    if (size <= 0) throw InputError("cannot write " + path + ": no HDF5 image");
    image.resize(static_cast<std::size_t>(size));
    if (H5Fget_file_image(file.get(), image.data(), image.size()) != size) {
      throw InputError("cannot write " + path + ": no HDF5 image");
    }
  }
  write_file_atomic(path, image);
}

ReplayBuffer load_buffer(const std::string& path, const BufferExpectations& expect,
                         nlohmann::json* attributes, BufferFileInfo* info) {
  silence_hdf5();
  // A directory, a device or a FIFO is named as such, never handed to HDF5.
  check_input_file(path, kMaxBufferFileBytes);
  if (H5Fis_hdf5(path.c_str()) <= 0) {
    throw InputError(path + ": not an HDF5 file (or a truncated one)");
  }
  FileBytes bytes({}, path);
  check_superblock(path, bytes);
  Handle file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
  if (!file.ok()) throw InputError(path + ": cannot open as HDF5 (truncated or corrupt file)");
  return load_open_file(file.get(), path, bytes, expect, attributes, info);
}

ReplayBuffer load_buffer_image(const void* data, std::size_t size, const std::string& source,
                               const BufferExpectations& expect, nlohmann::json* attributes,
                               BufferFileInfo* info) {
  silence_hdf5();
  if (size == 0) throw InputError(source + ": not an HDF5 file (or a truncated one)");
  // The core driver reads a copy of the image; nothing touches the disk.
  Handle fapl(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
  if (!fapl.ok() || H5Pset_fapl_core(fapl.get(), 1 << 16, 0) < 0 ||
      H5Pset_file_image(fapl.get(), const_cast<void*>(data), size) < 0) {
    throw InputError(source + ": cannot open the file image");
  }
  FileBytes bytes(std::string_view(static_cast<const char*>(data), size), "");
  check_superblock(source, bytes);
  Handle file(H5Fopen(source.c_str(), H5F_ACC_RDONLY, fapl.get()), H5Fclose);
  if (!file.ok()) throw InputError(source + ": not an HDF5 file (or a truncated or corrupt one)");
  return load_open_file(file.get(), source, bytes, expect, attributes, info);
}

std::vector<BufferEpisode> buffer_episodes(const ReplayBuffer& buffer) {
  std::vector<BufferEpisode> episodes;
  BufferEpisode current;
  for (std::size_t i = 0; i < buffer.size(); ++i) {
    if (current.length == 0) current.begin = i;
    ++current.length;
    current.episode_return += buffer.rewards[i];
    if (buffer.terminals[i] || buffer.timeouts[i]) {
      current.terminal = buffer.terminals[i] != 0;
      current.complete = true;
      episodes.push_back(current);
      current = BufferEpisode{};
    }
  }
  if (current.length > 0) episodes.push_back(current);
  return episodes;
}

bool d4rl_reference_returns(const std::string& env, double* random_return, double* expert_return) {
  // d4rl/infos.py REF_MIN_SCORE / REF_MAX_SCORE (the same for every MuJoCo dataset of an env).
  struct Reference {
    const char* env;
    double random, expert;
  };
  static const Reference kReferences[] = {
      {"hopper", -20.272305, 3234.3},
      {"halfcheetah", -280.178953, 12135.0},
      {"walker2d", 1.629008, 4592.3},
  };
  for (const Reference& r : kReferences) {
    if (env == r.env) {
      *random_return = r.random;
      *expert_return = r.expert;
      return true;
    }
  }
  return false;
}

}  // namespace bcq::continuous
