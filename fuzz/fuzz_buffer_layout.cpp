// The HDF5 buffer loader's own checks, on well-formed HDF5 files whose contents the fuzzer
// chooses: layout (flat D4RL / bcq-buffer/1, or Minari episode groups), which datasets exist,
// their dtypes, shapes and values (NaN, infinities, flags other than 0/1), attributes, and the
// expectations of the environment. The file is written by libhdf5 itself (in memory), so this
// target explores bcq's validation and derivations instead of libhdf5's decoder of corrupt
// files (fuzz_buffer_hdf5 feeds raw bytes). Beyond "returns or throws InputError", a buffer
// that loads must hold what load_buffer promises: consistent sizes, the expected dimensions,
// finite values, actions within bounds, flags 0 or 1 and never both on one row.
#include <hdf5.h>

#include <fuzzer/FuzzedDataProvider.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "continuous/replay_buffer.hpp"
#include "fuzz/fuzz_common.hpp"

namespace {

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "loaded buffer breaks its contract: %s\n", what);
    std::abort();
  }
}

double fuzzed_value(FuzzedDataProvider& in) {
  switch (in.ConsumeIntegralInRange<int>(0, 15)) {
    case 0:
      return std::nan("");
    case 1:
      return in.ConsumeBool() ? HUGE_VAL : -HUGE_VAL;
    case 2:
      return in.ConsumeFloatingPoint<double>();
    default:  // mostly ordinary values, some beyond an action bound of 1
      return in.ConsumeFloatingPointInRange<double>(-2.0, 2.0);
  }
}

// Writes a dataset of `rows` x `cols` (cols 0: one dimension; some shapes deliberately odd).
void write_dataset(FuzzedDataProvider& in, hid_t loc, const std::string& name, hsize_t rows,
                   hsize_t cols, bool flag) {
  hsize_t dims[3] = {rows, cols, 2};
  int rank = cols == 0 ? 1 : 2;
  if (in.ConsumeIntegralInRange<int>(0, 15) == 0) dims[0] += in.ConsumeIntegralInRange<int>(-1, 1);
  if (in.ConsumeIntegralInRange<int>(0, 31) == 0) rank = 3;
  if (in.ConsumeIntegralInRange<int>(0, 31) == 0 && rank == 2) rank = 1;
  hsize_t count = 1;
  for (int i = 0; i < rank; ++i) count *= dims[i];
  if (count > 4096) return;
  std::vector<double> values(count);
  for (double& v : values) {
    v = flag ? (in.ConsumeIntegralInRange<int>(0, 20) == 0 ? in.ConsumeIntegralInRange<int>(-1, 3)
                                                           : in.ConsumeBool())
             : fuzzed_value(in);
  }
  // Flags as integers of three widths or as floats (D4RL v0 writes float terminals); values as
  // float32 or float64, sometimes int32.
  hid_t file_types[] = {H5T_IEEE_F32LE, H5T_IEEE_F64LE, H5T_STD_I32LE, H5T_STD_U8LE, H5T_STD_I64LE};
  hid_t file_type;
  if (flag) {
    file_type = file_types[in.ConsumeIntegralInRange<int>(0, 4)];
  } else if (in.ConsumeIntegralInRange<int>(0, 4) == 4) {
    file_type = H5T_STD_I32LE;
  } else {
    file_type = file_types[in.ConsumeIntegralInRange<int>(0, 1)];
  }
  hid_t space = H5Screate_simple(rank, dims, nullptr);
  hid_t set = H5Dcreate2(loc, name.c_str(), file_type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  if (set >= 0) {
    H5Dwrite(set, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data());
    H5Dclose(set);
  }
  H5Sclose(space);
}

void write_string_attribute(hid_t loc, const char* name, const std::string& value, bool variable) {
  hid_t type = H5Tcopy(H5T_C_S1);
  hid_t space = H5Screate(H5S_SCALAR);
  if (variable) {
    H5Tset_size(type, H5T_VARIABLE);
    H5Tset_cset(type, H5T_CSET_UTF8);
  } else {
    H5Tset_size(type, value.size() + 1);
  }
  hid_t attr = H5Acreate2(loc, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
  if (attr >= 0) {
    const char* p = value.c_str();
    H5Awrite(attr, type, variable ? static_cast<const void*>(&p) : static_cast<const void*>(p));
    H5Aclose(attr);
  }
  H5Sclose(space);
  H5Tclose(type);
}

std::vector<unsigned char> build_image(FuzzedDataProvider& in, hsize_t state_dim, hsize_t action_dim) {
  hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
  H5Pset_fapl_core(fapl, 1 << 16, 0);
  hid_t file = H5Fcreate("fuzz-layout.h5", H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
  H5Pclose(fapl);
  std::vector<unsigned char> image;
  if (file < 0) return image;
  const char* keys[] = {"observations", "actions", "rewards", "next_observations", "terminals", "timeouts"};
  const bool minari = in.ConsumeIntegralInRange<int>(0, 3) == 0;
  if (!minari) {
    const hsize_t rows = in.ConsumeIntegralInRange<hsize_t>(0, 40);
    for (int k = 0; k < 6; ++k) {
      if (in.ConsumeIntegralInRange<int>(0, 9) == 0) continue;  // a missing key
      const hsize_t cols = k == 0 || k == 3 ? state_dim : k == 1 ? action_dim : 0;
      write_dataset(in, file, keys[k], rows, cols, k >= 4);
    }
    if (in.ConsumeBool()) {
      const std::string tag = in.ConsumeBool() ? "bcq-buffer/1" : in.ConsumeRandomLengthString(12);
      write_string_attribute(file, "format", tag, in.ConsumeBool());
    }
  } else {
    const int episodes = in.ConsumeIntegralInRange<int>(0, 4);
    for (int e = 0; e < episodes; ++e) {
      const std::string name = "episode_" + std::to_string(in.ConsumeIntegralInRange<int>(0, 12));
      hid_t group = H5Gcreate2(file, name.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
      if (group < 0) continue;
      const hsize_t steps = in.ConsumeIntegralInRange<hsize_t>(0, 12);
      const hsize_t observations = steps + (in.ConsumeIntegralInRange<int>(0, 7) ? 1 : 0);
      write_dataset(in, group, "observations", observations, state_dim, false);
      write_dataset(in, group, "actions", steps, action_dim, false);
      write_dataset(in, group, "rewards", steps, 0, false);
      const char* flags[] = {"terminations", "truncations"};
      for (const char* f : flags) {
        if (in.ConsumeIntegralInRange<int>(0, 9)) write_dataset(in, group, f, steps, 0, true);
      }
      H5Gclose(group);
    }
  }
  if (in.ConsumeBool()) {
    const std::string env = in.ConsumeBool() ? "hopper" : in.ConsumeRandomLengthString(10);
    write_string_attribute(file, "env", env, in.ConsumeBool());
  }
  if (in.ConsumeBool()) {  // an attribute of any name (bytes that are not UTF-8 included)
    std::string name = in.ConsumeRandomLengthString(8);
    if (name.empty() || name.find('\0') != std::string::npos || name == "format" || name == "env") {
      name = "other";
    }
    const std::string value = in.ConsumeRandomLengthString(10);
    write_string_attribute(file, name.c_str(), value, in.ConsumeBool());
  }
  if (H5Fflush(file, H5F_SCOPE_GLOBAL) >= 0) {
    const ssize_t size = H5Fget_file_image(file, nullptr, 0);
    if (size > 0) {
      image.resize(static_cast<std::size_t>(size));
      if (H5Fget_file_image(file, image.data(), image.size()) != size) image.clear();
    }
  }
  H5Fclose(file);
  return image;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  FuzzedDataProvider in(data, size);
  const hsize_t state_dim = in.ConsumeIntegralInRange<hsize_t>(1, 4);
  const hsize_t action_dim = in.ConsumeIntegralInRange<hsize_t>(1, 3);
  bcq::continuous::BufferExpectations expect;
  if (in.ConsumeBool()) {
    expect.state_dim = static_cast<int64_t>(state_dim) + in.ConsumeIntegralInRange<int>(0, 8) / 8;
    expect.action_dim = static_cast<int64_t>(action_dim);
    expect.max_action = 1.0;
  }
  if (in.ConsumeBool()) expect.env = "hopper";
  expect.max_episode_steps = in.ConsumeIntegralInRange<int64_t>(1, 20);
  nlohmann::json attributes;
  const std::vector<unsigned char> image = build_image(in, state_dim, action_dim);
  if (image.empty()) return 0;
  bcq::fuzz::expect_load_or_input_error([&] {
    bcq::continuous::BufferFileInfo info;
    const auto b = bcq::continuous::load_buffer_image(image.data(), image.size(), "fuzz.h5",
                                                      expect, &attributes, &info);
    (void)attributes.dump();  // what buffer info --json writes: must be valid UTF-8
    const std::size_t n = b.size();
    check(n > 0, "no transitions");
    check(b.state_dim > 0 && b.action_dim > 0, "a dimension of 0");
    if (expect.state_dim > 0) check(b.state_dim == expect.state_dim, "state_dim not as expected");
    if (expect.action_dim > 0) check(b.action_dim == expect.action_dim, "action_dim not as expected");
    check(b.observations.size() == n * b.state_dim, "observations size");
    check(b.next_observations.size() == n * b.state_dim, "next_observations size");
    check(b.actions.size() == n * b.action_dim, "actions size");
    check(b.terminals.size() == n && b.timeouts.size() == n, "flag sizes");
    for (float v : b.observations) check(std::isfinite(v), "observation not finite");
    for (float v : b.next_observations) check(std::isfinite(v), "next observation not finite");
    for (float v : b.rewards) check(std::isfinite(v), "reward not finite");
    for (float v : b.actions) {
      check(std::isfinite(v), "action not finite");
      if (expect.max_action > 0) check(std::fabs(v) <= expect.max_action + 1e-6, "action out of bounds");
    }
    for (std::size_t i = 0; i < n; ++i) {
      check(b.terminals[i] <= 1 && b.timeouts[i] <= 1, "flag not 0 or 1");
      check(!(b.terminals[i] && b.timeouts[i]), "a row both terminal and timeout");
    }
    check(info.file_rows == n + info.dropped, "file_rows is not the rows kept plus those dropped");
  });
  return 0;
}
