// HDF5 buffers: round trip, D4RL-style files written independently with the HDF5 C API, and
// every refusal (missing key, wrong dimensions, NaN, out-of-bounds actions, truncated file),
// in the library and through `bcq train` (exit 2, one stderr line, nothing written).
#include <gtest/gtest.h>

#include <unistd.h>

#include <hdf5.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "continuous/replay_buffer.hpp"
#include "tests/test_util.hpp"

namespace bcq::continuous {
namespace {

namespace fs = std::filesystem;

std::string temp_path(const std::string& name) {
  // The process id keeps concurrent runs of this suite (several build trees) apart.
  return (fs::path(::testing::TempDir()) / ("bcq_buffer_" + std::to_string(::getpid()) + "_" + name)).string();
}

ReplayBuffer small_buffer(int64_t sd, int64_t ad, std::size_t n) {
  ReplayBuffer b(sd, ad);
  std::vector<float> s(sd), a(ad), s2(sd);
  for (std::size_t i = 0; i < n; ++i) {
    for (int64_t k = 0; k < sd; ++k) s[k] = 0.1f * i + k, s2[k] = 0.1f * i + k + 0.05f;
    for (int64_t k = 0; k < ad; ++k) a[k] = std::sin(static_cast<float>(i + k));
    b.add(s.data(), a.data(), 1.0f + i, s2.data(), i % 5 == 4, i % 7 == 6);
  }
  return b;
}

// Writes a D4RL-style file directly with HDF5 (independent of save_buffer). `skip` leaves a
// key out; `bool_flags` stores terminals/timeouts as numpy bool enums, else as uint8.
void write_d4rl(const std::string& path, const ReplayBuffer& b, const std::string& skip = "",
                bool bool_flags = true) {
  hid_t file = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  auto put = [&](const char* key, hid_t type, hid_t mem, const void* data, hsize_t cols) {
    if (skip == key) return;
    hsize_t dims[2] = {b.size(), cols};
    hid_t space = H5Screate_simple(cols ? 2 : 1, dims, nullptr);
    hid_t set = H5Dcreate2(file, key, type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Dwrite(set, mem, H5S_ALL, H5S_ALL, H5P_DEFAULT, data);
    H5Dclose(set);
    H5Sclose(space);
  };
  hid_t flag = H5T_NATIVE_UINT8;
  if (bool_flags) {
    flag = H5Tenum_create(H5T_NATIVE_INT8);
    int8_t v = 0;
    H5Tenum_insert(flag, "FALSE", &v);
    v = 1;
    H5Tenum_insert(flag, "TRUE", &v);
  }
  put("observations", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, b.observations.data(), b.state_dim);
  put("actions", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, b.actions.data(), b.action_dim);
  put("rewards", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, b.rewards.data(), 0);
  put("next_observations", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, b.next_observations.data(), b.state_dim);
  put("terminals", flag, flag, b.terminals.data(), 0);
  put("timeouts", flag, flag, b.timeouts.data(), 0);
  if (bool_flags) H5Tclose(flag);
  H5Fclose(file);
}

std::string error_of(const std::string& path, const BufferExpectations& e) {
  try {
    load_buffer(path, e);
  } catch (const InputError& err) {
    return err.what();
  }
  return "";
}

TEST(ReplayBufferFile, RoundTripKeepsEveryValueAndAttribute) {
  const auto b = small_buffer(4, 1, 37);
  const auto path = temp_path("roundtrip.h5");
  save_buffer(path, b, {{"env", "inverted-pendulum"}, {"kind", "final"}, {"steps", 37},
                        {"seed", 5}, {"behavioural_return", 12.5}});
  nlohmann::json attrs;
  const auto c = load_buffer(path, {4, 1, 1.0, "inverted-pendulum"}, &attrs);
  EXPECT_EQ(c.observations, b.observations);
  EXPECT_EQ(c.actions, b.actions);
  EXPECT_EQ(c.rewards, b.rewards);
  EXPECT_EQ(c.next_observations, b.next_observations);
  EXPECT_EQ(c.terminals, b.terminals);
  EXPECT_EQ(c.timeouts, b.timeouts);
  EXPECT_EQ(attrs["env"], "inverted-pendulum");
  EXPECT_EQ(attrs["kind"], "final");
  EXPECT_EQ(attrs["steps"], 37);
  EXPECT_EQ(attrs["behavioural_return"], 12.5);
  EXPECT_EQ(attrs["format"], "bcq-buffer/1");
  // No temporary file is left next to the output.
  for (const auto& entry : fs::directory_iterator(fs::path(path).parent_path())) {
    EXPECT_EQ(entry.path().string().find("roundtrip.h5.tmp"), std::string::npos);
  }
  // Refused for another environment named in the file.
  EXPECT_NE(error_of(path, {4, 1, 1.0, "hopper"}).find("collected on 'inverted-pendulum'"), std::string::npos);
  std::remove(path.c_str());
}

TEST(ReplayBufferFile, LoadsD4rlStyleFiles) {
  const auto b = small_buffer(11, 3, 20);
  for (bool bools : {true, false}) {
    const auto path = temp_path(bools ? "d4rl_bool.h5" : "d4rl_uint8.h5");
    write_d4rl(path, b, "", bools);
    const auto c = load_buffer(path, {11, 3, 1.0, "hopper"});
    EXPECT_EQ(c.size(), 20u);
    EXPECT_EQ(c.terminals, b.terminals);
    EXPECT_EQ(c.timeouts, b.timeouts);
    EXPECT_EQ(c.next_observations, b.next_observations);
    std::remove(path.c_str());
  }
}

TEST(ReplayBufferFile, RefusesMissingKeys) {
  const auto b = small_buffer(11, 3, 10);
  for (const char* key : {"observations", "actions", "rewards", "next_observations", "terminals", "timeouts"}) {
    const auto path = temp_path(std::string("missing_") + key + ".h5");
    write_d4rl(path, b, key);
    const auto msg = error_of(path, {11, 3, 1.0, ""});
    EXPECT_NE(msg.find(std::string("missing dataset '") + key + "'"), std::string::npos) << msg;
    std::remove(path.c_str());
  }
}

TEST(ReplayBufferFile, RefusesWrongDimensionsForTheEnvironment) {
  const auto path = temp_path("dims.h5");
  write_d4rl(path, small_buffer(4, 1, 10));
  auto msg = error_of(path, {11, 3, 1.0, "hopper"});
  EXPECT_NE(msg.find("'observations' has 4 columns but the environment's observation size is 11"),
            std::string::npos) << msg;
  msg = error_of(path, {4, 3, 1.0, ""});
  EXPECT_NE(msg.find("'actions' has 1 columns"), std::string::npos) << msg;
  std::remove(path.c_str());
}

TEST(ReplayBufferFile, RefusesNonFiniteValuesAndOutOfBoundActions) {
  auto b = small_buffer(4, 1, 10);
  b.rewards[6] = std::nanf("");
  const auto path = temp_path("nan.h5");
  write_d4rl(path, b);
  auto msg = error_of(path, {4, 1, 1.0, ""});
  EXPECT_NE(msg.find("'rewards' row 6"), std::string::npos) << msg;
  b = small_buffer(4, 1, 10);
  b.next_observations[4 * 3 + 2] = INFINITY;
  write_d4rl(path, b);
  msg = error_of(path, {4, 1, 1.0, ""});
  EXPECT_NE(msg.find("'next_observations' row 3"), std::string::npos) << msg;
  b = small_buffer(4, 1, 10);
  b.actions[8] = 1.5f;
  write_d4rl(path, b);
  msg = error_of(path, {4, 1, 1.0, ""});
  EXPECT_NE(msg.find("'actions' row 8"), std::string::npos) << msg;
  EXPECT_EQ(error_of(path, {4, 1, 3.0, ""}), "");  // within [-3, 3]
  std::remove(path.c_str());
}

TEST(ReplayBufferFile, RefusesTruncatedAndNonHdf5Files) {
  const auto path = temp_path("truncated.h5");
  save_buffer(path, small_buffer(4, 1, 2000), {{"env", "inverted-pendulum"}});
  const auto size = fs::file_size(path);
  fs::resize_file(path, size / 2);
  auto msg = error_of(path, {4, 1, 1.0, ""});
  EXPECT_FALSE(msg.empty());
  EXPECT_NE(msg.find(path), std::string::npos) << msg;
  {
    std::ofstream(path) << "observations,actions\n1,2\n";
  }
  msg = error_of(path, {4, 1, 1.0, ""});
  EXPECT_NE(msg.find("not an HDF5 file"), std::string::npos) << msg;
  std::remove(path.c_str());
  EXPECT_NE(error_of(path, {4, 1, 1.0, ""}).find("cannot open"), std::string::npos);
}

TEST(ReplayBufferCli, BadBuffersExitWithCodeTwoAndWriteNothing) {
  const test::TempDir capture;  // the program's stdout and stderr
  struct Case {
    std::string name;
    ReplayBuffer buffer;
    std::string skip;
    std::string expect;
  };
  auto nan_buffer = small_buffer(4, 1, 50);
  nan_buffer.rewards[3] = std::nanf("");
  std::vector<Case> cases = {
      {"wrong_dims", small_buffer(11, 3, 50), "", "columns but the environment's observation size is 4"},
      {"missing_key", small_buffer(4, 1, 50), "timeouts", "missing dataset 'timeouts'"},
      {"nan_reward", nan_buffer, "", "'rewards' row 3"},
  };
  for (const auto& c : cases) {
    const auto path = temp_path("cli_" + c.name + ".h5");
    write_d4rl(path, c.buffer, c.skip);
    const auto out = temp_path("cli_run_" + c.name);
    fs::remove_all(out);
    const auto r = test::run_bcq({"train", "--algo", "bcq", "--env", "inverted-pendulum", "--buffer", path,
                                  "--iterations", "10", "--out", out},
                                 capture.path());
    EXPECT_EQ(r.exit_code, 2) << c.name << ": " << r.err;
    EXPECT_NE(r.err.find(c.expect), std::string::npos) << c.name << ": " << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << c.name << ": " << r.err;
    EXPECT_FALSE(fs::exists(out)) << c.name << ": the run folder was created";
    std::remove(path.c_str());
  }
  // A truncated file.
  const auto path = temp_path("cli_truncated.h5");
  save_buffer(path, small_buffer(4, 1, 3000), {{"env", "inverted-pendulum"}});
  fs::resize_file(path, fs::file_size(path) / 3);
  const auto r = test::run_bcq(
      {"train", "--env", "inverted-pendulum", "--buffer", path, "--out", temp_path("cli_run_truncated")},
      capture.path());
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  std::remove(path.c_str());
}

}  // namespace
}  // namespace bcq::continuous
