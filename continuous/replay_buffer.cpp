#include "continuous/replay_buffer.hpp"

#include <hdf5.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>

#include <unistd.h>

#include "common/error.hpp"

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

nlohmann::json read_attribute(hid_t attr) {
  Handle type(H5Aget_type(attr), H5Tclose);
  switch (H5Tget_class(type.get())) {
    case H5T_STRING: {
      if (H5Tis_variable_str(type.get()) > 0) {
        char* s = nullptr;
        Handle mem(H5Tcopy(H5T_C_S1), H5Tclose);
        H5Tset_size(mem.get(), H5T_VARIABLE);
        if (H5Aread(attr, mem.get(), &s) < 0 || s == nullptr) return nullptr;
        std::string out(s);
        H5free_memory(s);
        return out;
      }
      std::string s(H5Tget_size(type.get()), '\0');
      if (H5Aread(attr, type.get(), s.data()) < 0) return nullptr;
      s.resize(std::strlen(s.c_str()));
      return s;
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

herr_t collect_attribute(hid_t location, const char* name, const H5A_info_t*, void* data) {
  auto* out = static_cast<nlohmann::json*>(data);
  Handle attr(H5Aopen(location, name, H5P_DEFAULT), H5Aclose);
  Handle space(H5Aget_space(attr.get()), H5Sclose);
  if (attr.ok() && H5Sget_simple_extent_ndims(space.get()) == 0) {
    auto value = read_attribute(attr.get());
    if (!value.is_null()) (*out)[name] = value;
  }
  return 0;
}

// Reads one dataset into `out`, checking its shape: `rows` x `cols` (cols 0: a vector, which
// may also be stored as rows x 1). Sets rows if it is 0.
template <typename T>
void read_dataset(hid_t file, const std::string& path, const char* key, std::size_t& rows,
                  int64_t cols, const char* cols_name, std::vector<T>& out) {
  if (H5Lexists(file, key, H5P_DEFAULT) <= 0) {
    throw InputError(path + ": missing dataset '" + key + "' (D4RL keys: observations, actions, "
                     "rewards, next_observations, terminals, timeouts)");
  }
  Handle set(H5Dopen2(file, key, H5P_DEFAULT), H5Dclose);
  if (!set.ok()) throw InputError(path + ": '" + key + "' is not a dataset");
  Handle space(H5Dget_space(set.get()), H5Sclose);
  const int ndims = H5Sget_simple_extent_ndims(space.get());
  hsize_t dims[2] = {0, 0};
  if (ndims < 1 || ndims > 2) {
    throw InputError(path + ": dataset '" + std::string(key) + "' has " + std::to_string(ndims) +
                     " dimensions (expected " + (cols > 0 ? "2" : "1") + ")");
  }
  H5Sget_simple_extent_dims(space.get(), dims, nullptr);
  const hsize_t width = ndims == 2 ? dims[1] : 1;
  if (cols > 0) {
    if (ndims != 2) {
      throw InputError(path + ": dataset '" + std::string(key) + "' must be 2-dimensional (rows x " +
                       cols_name + ")");
    }
    if (width != static_cast<hsize_t>(cols)) {
      throw InputError(path + ": dataset '" + std::string(key) + "' has " + std::to_string(width) +
                       " columns but the environment's " + cols_name + " is " +
                       std::to_string(cols));
    }
  } else if (width != 1) {
    throw InputError(path + ": dataset '" + std::string(key) + "' must have one value per row");
  }
  if (rows == 0) rows = dims[0];
  if (dims[0] != rows) {
    throw InputError(path + ": dataset '" + std::string(key) + "' has " + std::to_string(dims[0]) +
                     " rows but 'observations' has " + std::to_string(rows));
  }
  out.assign(static_cast<std::size_t>(dims[0] * width), T{});
  if (out.empty()) return;
  herr_t status;
  if constexpr (std::is_same_v<T, float>) {
    status = H5Dread(set.get(), H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data());
  } else {
    // Flags: numpy bool (an 8-bit enum), or any integer / float type (nonzero = true).
    Handle type(H5Dget_type(set.get()), H5Tclose);
    if (H5Tget_class(type.get()) == H5T_ENUM && H5Tget_size(type.get()) == 1) {
      Handle native(H5Tget_native_type(type.get(), H5T_DIR_ASCEND), H5Tclose);
      status = H5Dread(set.get(), native.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data());
    } else {
      std::vector<double> values(out.size());
      status = H5Dread(set.get(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data());
      for (std::size_t i = 0; i < values.size(); ++i) {
        if (!std::isfinite(values[i])) {
          throw InputError(path + ": '" + std::string(key) + "' row " + std::to_string(i) +
                           " is not finite");
        }
        out[i] = values[i] != 0.0 ? 1 : 0;
      }
    }
  }
  if (status < 0) {
    throw InputError(path + ": cannot read dataset '" + std::string(key) +
                     "' (truncated or corrupt file, or a type that is not numeric)");
  }
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
  std::string tmp = path + ".tmp.XXXXXX";
  int fd = ::mkstemp(tmp.data());
  if (fd < 0) throw InputError("cannot write " + path + ": cannot create a temporary file");
  ::close(fd);
  try {
    {
      Handle file(H5Fcreate(tmp.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), H5Fclose);
      if (!file.ok()) throw InputError("cannot write " + path);
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
    }
    if (std::rename(tmp.c_str(), path.c_str()) != 0) {
      throw InputError("cannot write " + path + " (rename)");
    }
  } catch (...) {
    std::remove(tmp.c_str());
    throw;
  }
}

ReplayBuffer load_buffer(const std::string& path, const BufferExpectations& expect,
                         nlohmann::json* attributes) {
  silence_hdf5();
  if (::access(path.c_str(), R_OK) != 0) throw InputError(path + ": cannot open buffer file");
  if (H5Fis_hdf5(path.c_str()) <= 0) {
    throw InputError(path + ": not an HDF5 file (or a truncated one)");
  }
  Handle file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
  if (!file.ok()) throw InputError(path + ": cannot open as HDF5 (truncated or corrupt file)");

  nlohmann::json attrs = nlohmann::json::object();
  hsize_t index = 0;
  H5Aiterate2(file.get(), H5_INDEX_NAME, H5_ITER_INC, &index, collect_attribute, &attrs);
  if (!expect.env.empty() && attrs.contains("env") && attrs["env"].is_string() &&
      attrs["env"].get<std::string>() != expect.env) {
    throw InputError(path + ": buffer was collected on '" + attrs["env"].get<std::string>() +
                     "', not '" + expect.env + "'");
  }

  // The dimensions come from the environment when given, otherwise from the file.
  int64_t state_dim = expect.state_dim, action_dim = expect.action_dim;
  auto file_cols = [&](const char* key) -> int64_t {
    if (H5Lexists(file.get(), key, H5P_DEFAULT) <= 0) return 0;
    Handle set(H5Dopen2(file.get(), key, H5P_DEFAULT), H5Dclose);
    Handle space(H5Dget_space(set.get()), H5Sclose);
    hsize_t dims[2] = {0, 0};
    if (H5Sget_simple_extent_ndims(space.get()) != 2) return 0;
    H5Sget_simple_extent_dims(space.get(), dims, nullptr);
    return static_cast<int64_t>(dims[1]);
  };
  if (state_dim == 0) state_dim = file_cols("observations");
  if (action_dim == 0) action_dim = file_cols("actions");

  ReplayBuffer buffer(state_dim, action_dim);
  std::size_t rows = 0;
  read_dataset(file.get(), path, "observations", rows, state_dim, "observation size", buffer.observations);
  read_dataset(file.get(), path, "actions", rows, action_dim, "action size", buffer.actions);
  read_dataset(file.get(), path, "rewards", rows, 0, "", buffer.rewards);
  read_dataset(file.get(), path, "next_observations", rows, state_dim, "observation size",
               buffer.next_observations);
  read_dataset(file.get(), path, "terminals", rows, 0, "", buffer.terminals);
  read_dataset(file.get(), path, "timeouts", rows, 0, "", buffer.timeouts);
  if (rows == 0) throw InputError(path + ": the buffer holds no transitions");

  check_finite(path, "observations", buffer.observations, state_dim);
  check_finite(path, "actions", buffer.actions, action_dim);
  check_finite(path, "rewards", buffer.rewards, 1);
  check_finite(path, "next_observations", buffer.next_observations, state_dim);
  if (expect.max_action > 0) {
    const double limit = expect.max_action + 1e-6;
    for (std::size_t i = 0; i < buffer.actions.size(); ++i) {
      if (std::fabs(buffer.actions[i]) > limit) {
        throw InputError(path + ": 'actions' row " + std::to_string(i / action_dim) + " holds " +
                         std::to_string(buffer.actions[i]) + ", outside the action bounds [-" +
                         std::to_string(expect.max_action) + ", " +
                         std::to_string(expect.max_action) + "]");
      }
    }
  }
  if (attributes != nullptr) *attributes = std::move(attrs);
  return buffer;
}

}  // namespace bcq::continuous
