// HDF5 buffers: round trip, D4RL-style files written independently with the HDF5 C API,
// D4RL v0 / v2 and Minari files as published (written by h5py, make_datasets.py), and every
// refusal (missing key, wrong dimensions, NaN, out-of-bounds actions, flags not 0/1, forged
// sizes, unknown format tag, truncated file), in the library and through `bcq buffer info`
// (exit 2, one stderr line).
#include <gtest/gtest.h>

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <hdf5.h>

#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <algorithm>
#include <sstream>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "continuous/replay_buffer.hpp"
#include "tests/continuous/buffer_test_util.hpp"
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
    // Never both flags: a step flagged both loads as terminal only (terminal wins).
    b.add(s.data(), a.data(), 1.0f + i, s2.data(), i % 5 == 4, i % 7 == 6 && i % 5 != 4);
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

using test_buffers::error_of;

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
  // next_observations and timeouts may be missing (D4RL v0 files; see DerivesV0Files...).
  const auto b = small_buffer(11, 3, 10);
  for (const char* key : {"observations", "actions", "rewards", "terminals"}) {
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
  EXPECT_NE(error_of(path, {4, 1, 1.0, ""}).find("no such file"), std::string::npos);
}

// Files as other tools publish them, written by h5py (tests/continuous/make_datasets.py).
std::string make_dataset(const std::string& kind) {
  const auto path = temp_path(kind + ".h5");
  const std::string cmd = test::shell_quote(BCQ_H5PY_PYTHON) + " " +
                          test::shell_quote(std::string(BCQ_SOURCE_DIR) + "/tests/continuous/make_datasets.py") +
                          " " + kind + " " + test::shell_quote(path);
  EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
  return path;
}

TEST(PublishedFiles, D4rlV2WithFloat64AndNestedGroupsLoads) {
  const auto path = make_dataset("d4rl-v2");
  BufferFileInfo info;
  const auto b = load_buffer(path, {3, 2, 1.0, ""}, nullptr, &info);
  EXPECT_EQ(info.layout, "d4rl");
  EXPECT_EQ(info.dtypes["observations"], "float64");
  EXPECT_EQ(info.dtypes["rewards"], "float64");
  EXPECT_EQ(info.dtypes["terminals"], "bool");
  ASSERT_EQ(b.size(), 7u);
  EXPECT_FALSE(info.derived_next_observations);
  // observation row i is [i, i + 0.5, i + 1]; next_observations were written as + 100.
  EXPECT_EQ(b.observations[3 * 5 + 1], 5.5f);
  EXPECT_EQ(b.next_observations[3 * 5 + 1], 105.5f);
  EXPECT_EQ(b.terminals, (std::vector<std::uint8_t>{0, 0, 0, 1, 0, 0, 0}));
  EXPECT_EQ(b.timeouts, (std::vector<std::uint8_t>{0, 0, 0, 0, 0, 0, 1}));
  std::remove(path.c_str());
}

TEST(PublishedFiles, DerivesV0FilesWithoutTimeoutsOrNextObservations) {
  // 1000 steps cut by the time limit, 5 ending terminal, 2 cut by the end of the file.
  const auto path = make_dataset("d4rl-v0");
  BufferFileInfo info;
  const auto b = load_buffer(path, {3, 2, 1.0, ""}, nullptr, &info);
  EXPECT_TRUE(info.derived_next_observations);
  EXPECT_TRUE(info.derived_timeouts);
  EXPECT_EQ(info.file_rows, 1007u);
  // Dropped: the time limit's last step (row 999, successor in the next episode) and the
  // file's last row (1006). Kept: 1005.
  EXPECT_EQ(info.dropped, 2u);
  ASSERT_EQ(b.size(), 1005u);
  // Kept row k < 999 is file row k: its successor is file row k + 1 ([k + 1, ...]).
  EXPECT_EQ(b.next_observations[3 * 0], 1.0f);
  EXPECT_EQ(b.next_observations[3 * 998], 999.0f);
  EXPECT_EQ(b.timeouts[998], 1);  // the episode now ends one step earlier, by its time limit
  // Kept rows 999..1003 are file rows 1000..1004 (terminal at 1004).
  EXPECT_EQ(b.observations[3 * 999], 1000.0f);
  EXPECT_EQ(b.next_observations[3 * 999], 1001.0f);
  EXPECT_EQ(b.terminals[1003], 1);
  // Kept row 1004 is file row 1005, whose successor 1006 is known; the episode stays open.
  EXPECT_EQ(b.next_observations[3 * 1004], 1006.0f);
  EXPECT_EQ(b.timeouts[1004], 0);
  const auto episodes = buffer_episodes(b);
  ASSERT_EQ(episodes.size(), 3u);
  EXPECT_EQ(episodes[0].episode_return, 999.0);
  EXPECT_TRUE(episodes[0].complete);
  EXPECT_FALSE(episodes[0].terminal);
  EXPECT_EQ(episodes[1].episode_return, 5.0);
  EXPECT_TRUE(episodes[1].terminal);
  EXPECT_FALSE(episodes[2].complete);
  std::remove(path.c_str());
}

TEST(PublishedFiles, TerminalWinsOverTimeout) {
  const auto path = make_dataset("terminal-and-timeout");
  BufferFileInfo info;
  const auto b = load_buffer(path, {}, nullptr, &info);
  EXPECT_EQ(info.terminal_and_timeout, 1u);
  EXPECT_EQ(b.terminals, (std::vector<std::uint8_t>{0, 0, 1, 0, 0}));
  EXPECT_EQ(b.timeouts, (std::vector<std::uint8_t>{0, 0, 0, 0, 1}));
  std::remove(path.c_str());
}

TEST(PublishedFiles, MinariEpisodesLoadInIdOrder) {
  const auto path = make_dataset("minari");
  BufferFileInfo info;
  nlohmann::json attrs;
  const auto b = load_buffer(path, {3, 2, 1.0, ""}, &attrs, &info);
  EXPECT_EQ(info.layout, "minari");
  EXPECT_EQ(info.episodes_in_file, 3u);
  EXPECT_EQ(attrs["dataset_id"], "hopper-test-v0");
  ASSERT_EQ(b.size(), 9u);  // 4 + 3 + 2 steps
  // episode_0 (rows 0-3), episode_2 (4-6), episode_10 (7-8): observation t of episode e is
  // [100 e + t, 0.5, -0.5]; its successor is t + 1 of the same episode.
  EXPECT_EQ(b.observations[3 * 3], 3.0f);
  EXPECT_EQ(b.next_observations[3 * 3], 4.0f);  // the final observation, stored T + 1
  EXPECT_EQ(b.observations[3 * 4], 200.0f);
  EXPECT_EQ(b.observations[3 * 7], 1000.0f);
  EXPECT_EQ(b.rewards[7], 11.0f);
  EXPECT_EQ(b.terminals, (std::vector<std::uint8_t>{0, 0, 0, 1, 0, 0, 0, 0, 0}));
  EXPECT_EQ(b.timeouts, (std::vector<std::uint8_t>{0, 0, 0, 0, 0, 0, 1, 0, 0}));
  std::remove(path.c_str());
  const auto dict = make_dataset("minari-dict-obs");
  EXPECT_NE(error_of(dict, {}).find("'episode_0/observations' is not a dataset but a group"), std::string::npos)
      << error_of(dict, {});
  std::remove(dict.c_str());
}

TEST(BadFiles, H5pyStringAttributeNamesTheEnvironment) {
  // h5py writes str attributes as variable-length UTF-8: the environment check must see them.
  const auto path = make_dataset("env-walker2d");
  nlohmann::json attrs;
  load_buffer(path, {}, &attrs);
  EXPECT_EQ(attrs["env"], "walker2d");
  EXPECT_NE(error_of(path, {3, 2, 1.0, "hopper"}).find("collected on 'walker2d', not 'hopper'"), std::string::npos)
      << error_of(path, {3, 2, 1.0, "hopper"});
  std::remove(path.c_str());
}

TEST(BadFiles, UnknownFormatTagAndBadFlagsAreRefused) {
  const auto format = make_dataset("format-9");
  EXPECT_NE(error_of(format, {}).find("unknown format tag \"bcq-buffer/9\""), std::string::npos) << error_of(format, {});
  for (const char* kind : {"terminals-2", "terminals-half"}) {
    const auto path = make_dataset(kind);
    EXPECT_NE(error_of(path, {}).find("'terminals' row 1 holds"), std::string::npos) << error_of(path, {});
    EXPECT_NE(error_of(path, {}).find("flags must be 0 or 1"), std::string::npos);
    std::remove(path.c_str());
  }
  std::remove(format.c_str());
}

TEST(BadFiles, AttributesThatAreNotUtf8AreShownWithReplacementCharacters) {
  // Found by fuzz_buffer_layout: a format tag of bytes that are not UTF-8 made the refusal
  // itself throw (JSON cannot hold them: "internal error", exit 3).
  const auto path = make_dataset("format-not-utf8");
  EXPECT_NE(error_of(path, {}).find("unknown format tag \"bcq\xef\xbf\xbd" "buffer\""), std::string::npos)
      << error_of(path, {});
  const test::TempDir capture;
  auto r = test::run_bcq({"buffer", "info", path}, capture.path());
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  std::remove(path.c_str());
  // An attribute whose name and value are not UTF-8, in a file whose name is not either:
  // --json writes them with U+FFFD (a JSON document cannot hold the raw bytes).
  const auto named = make_dataset("name-not-utf8");
  const std::string odd = named + "-\xff.h5";
  fs::rename(named, odd);
  r = test::run_bcq({"buffer", "info", odd, "--json"}, capture.path());
  EXPECT_EQ(r.exit_code, 0) << r.err;
  const auto doc = nlohmann::json::parse(r.out);
  EXPECT_EQ(doc["attributes"]["no\xef\xbf\xbd" "te"], "hop\xef\xbf\xbd" "per") << r.out;
  EXPECT_NE(r.out.find("-\xef\xbf\xbd.h5"), std::string::npos) << r.out;
  std::remove(odd.c_str());
}

TEST(BadFiles, ForgedRowCountIsRefusedBeforeAllocating) {
  const auto path = make_dataset("forged-rows");
  EXPECT_LT(fs::file_size(path), 20000u);
  const auto msg = error_of(path, {});
  EXPECT_NE(msg.find("declares 10000000000 rows, over the limit of 100000000"), std::string::npos) << msg;
  std::remove(path.c_str());
}

TEST(BadFiles, DirectoryOrDeviceIsNamedAsSuch) {
  const test::TempDir dir;
  EXPECT_NE(error_of(dir.path(), {}).find("it is a directory"), std::string::npos) << error_of(dir.path(), {});
  EXPECT_NE(error_of("/dev/zero", {}).find("it is a device"), std::string::npos);
}

TEST(ReplayBufferFile, FileImageLoadsLikeTheFile) {
  const auto b = small_buffer(4, 1, 40);
  const auto path = temp_path("image.h5");
  save_buffer(path, b, {{"env", "inverted-pendulum"}});
  const std::string bytes = test::read_file(path);
  nlohmann::json attrs;
  const auto c = load_buffer_image(bytes.data(), bytes.size(), "image", {4, 1, 1.0, ""}, &attrs);
  EXPECT_EQ(c.observations, b.observations);
  EXPECT_EQ(c.timeouts, b.timeouts);
  EXPECT_EQ(attrs["env"], "inverted-pendulum");
  EXPECT_THROW(load_buffer_image(bytes.data(), bytes.size() / 2, "half", {}), InputError);
  EXPECT_THROW(load_buffer_image("nope", 4, "text", {}), InputError);
  std::remove(path.c_str());
}

TEST(BufferInfoCli, PrintsRowsEpisodesReturnsAndTheD4rlScore) {
  const test::TempDir capture;
  const auto path = make_dataset("d4rl-v0");
  const auto r = test::run_bcq({"buffer", "info", path, "--json", "--env", "hopper"}, capture.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto out = nlohmann::json::parse(r.out);
  EXPECT_EQ(out["rows"], 1005);
  EXPECT_EQ(out["rows_in_file"], 1007);
  EXPECT_EQ(out["dropped"], 2);
  EXPECT_EQ(out["state_dim"], 3);
  EXPECT_EQ(out["action_dim"], 2);
  EXPECT_EQ(out["dtypes"]["observations"], "float32");
  EXPECT_EQ(out["terminals"], 1);
  EXPECT_EQ(out["timeouts"], 1);
  EXPECT_EQ(out["episodes"], 3);
  EXPECT_EQ(out["complete_episodes"], 2);
  EXPECT_EQ(out["returns"]["mean"], 502.0);  // (999 + 5) / 2
  // d4rl/infos.py: hopper random -20.272305, expert 3234.3.
  EXPECT_NEAR(out["d4rl_normalised_score"].get<double>(), 100.0 * (502.0 + 20.272305) / (3234.3 + 20.272305), 1e-9);
  const auto text = test::run_bcq({"buffer", "info", path}, capture.path());
  EXPECT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("2 dropped"), std::string::npos) << text.out;
  // --json FILE: the text as usual, and the same JSON in FILE; FILE = the buffer is refused.
  const auto both = test::run_bcq({"buffer", "info", path, "--env", "hopper", "--json", capture.file("info.json")},
                                  capture.path());
  EXPECT_EQ(both.exit_code, 0) << both.err;
  EXPECT_NE(both.out.find("2 dropped"), std::string::npos) << both.out;
  EXPECT_EQ(nlohmann::json::parse(test::read_file(capture.file("info.json"))), out);
  const std::string before = test::read_file(path);
  const auto onto_input = test::run_bcq({"buffer", "info", path, "--json", path}, capture.path());
  EXPECT_EQ(onto_input.exit_code, 2);
  EXPECT_NE(onto_input.err.find("is the same file as the input"), std::string::npos) << onto_input.err;
  EXPECT_EQ(test::read_file(path), before);
  std::remove(path.c_str());
}

TEST(BufferInfoCli, BadBuffersExitWithCodeTwoAndOneLine) {
  const test::TempDir capture;
  struct Case {
    std::string name;
    ReplayBuffer buffer;
    std::string skip;
    std::string expect;
  };
  auto nan_buffer = small_buffer(4, 1, 50);
  nan_buffer.rewards[3] = std::nanf("");
  std::vector<Case> cases = {
      {"missing_key", small_buffer(4, 1, 50), "rewards", "missing dataset 'rewards'"},
      {"nan_reward", nan_buffer, "", "'rewards' row 3"},
  };
  for (const auto& c : cases) {
    const auto path = temp_path("cli_" + c.name + ".h5");
    write_d4rl(path, c.buffer, c.skip);
    const auto r = test::run_bcq({"buffer", "info", path}, capture.path());
    EXPECT_EQ(r.exit_code, 2) << c.name << ": " << r.err;
    EXPECT_NE(r.err.find(c.expect), std::string::npos) << c.name << ": " << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << c.name << ": " << r.err;
    std::remove(path.c_str());
  }
  for (const char* kind : {"forged-rows", "format-9", "terminals-half"}) {
    const auto path = make_dataset(kind);
    const auto r = test::run_bcq({"buffer", "info", path}, capture.path());
    EXPECT_EQ(r.exit_code, 2) << kind << ": " << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << kind << ": " << r.err;
    std::remove(path.c_str());
  }
  const auto r = test::run_bcq({"buffer", "info", capture.path()}, capture.path());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("a directory"), std::string::npos) << r.err;
  // A truncated file.
  const auto path = temp_path("cli_truncated.h5");
  save_buffer(path, small_buffer(4, 1, 3000), {{"env", "inverted-pendulum"}});
  fs::resize_file(path, fs::file_size(path) / 3);
  const auto t = test::run_bcq({"buffer", "info", path}, capture.path());
  EXPECT_EQ(t.exit_code, 2) << t.err;
  EXPECT_EQ(std::count(t.err.begin(), t.err.end(), '\n'), 1) << t.err;
  std::remove(path.c_str());
}


TEST(ReplayBufferFile, FullDiskIsAnInputErrorAndLeavesNothing) {
  // RLIMIT_FSIZE with SIGXFSZ ignored makes writes fail (EFBIG) as a full disk does (ENOSPC).
  // HDF5 writing to disk itself then left a file it could not close, and its exit handler
  // crashed; in a child process so that the limit and any crash stay there.
  const auto path = temp_path("full.h5");
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    std::signal(SIGXFSZ, SIG_IGN);
    struct rlimit limit {4096, 4096};
    ::setrlimit(RLIMIT_FSIZE, &limit);
    int code = 0;
    try {
      save_buffer(path, small_buffer(4, 1, 3000), {{"env", "inverted-pendulum"}});
      code = 10;  // should have failed
    } catch (const InputError& e) {
      code = std::string(e.what()).find("cannot write " + path) == 0 ? 2 : 11;
    }
    std::exit(code);  // runs HDF5's exit handler, as the CLI does
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  ASSERT_TRUE(WIFEXITED(status)) << "the child crashed (signal " << WTERMSIG(status) << ")";
  EXPECT_EQ(WEXITSTATUS(status), 2);
  EXPECT_FALSE(fs::exists(path));
  for (const auto& entry : fs::directory_iterator(fs::path(path).parent_path()))
    EXPECT_EQ(entry.path().string().find("full.h5"), std::string::npos) << entry.path();
}


}  // namespace
}  // namespace bcq::continuous
