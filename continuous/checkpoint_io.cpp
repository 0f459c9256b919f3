#include "continuous/checkpoint_io.hpp"

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <sstream>

#include "common/atomic_file.hpp"
#include "common/error.hpp"
#include "common/zip_archive.hpp"

namespace bcq::continuous {

void write_bytes(OutputArchive& a, const std::string& key, const std::string& bytes) {
  a.write(key, torch::from_blob(const_cast<char*>(bytes.data()), {static_cast<int64_t>(bytes.size())},
                                torch::kUInt8).clone());
}
std::string read_bytes(InputArchive& a, const std::string& key) {
  torch::Tensor t;
  a.read(key, t);
  return {reinterpret_cast<const char*>(t.data_ptr<uint8_t>()), static_cast<std::size_t>(t.numel())};
}
void write_int(OutputArchive& a, const std::string& key, int64_t v) {
  a.write(key, torch::tensor(v, torch::kInt64));
}
int64_t read_int(InputArchive& a, const std::string& key) {
  torch::Tensor t;
  a.read(key, t);
  return t.item<int64_t>();
}
void write_doubles(OutputArchive& a, const std::string& key, const std::vector<double>& v) {
  a.write(key, torch::tensor(at::ArrayRef<double>(v), torch::kDouble).clone());
}
std::vector<double> read_doubles(InputArchive& a, const std::string& key) {
  torch::Tensor t;
  a.read(key, t);
  t = t.contiguous();
  return {t.data_ptr<double>(), t.data_ptr<double>() + t.numel()};
}
void write_rng(OutputArchive& a, const std::string& key, const std::mt19937_64& rng) {
  std::ostringstream out;
  out << rng;
  write_bytes(a, key, out.str());
}
void read_rng(InputArchive& a, const std::string& key, std::mt19937_64& rng) {
  std::istringstream in(read_bytes(a, key));
  in >> rng;
  if (!in) throw InputError("checkpoint entry " + key + " is not a generator state");
}

void write_env(OutputArchive& a, const envs::Env& env) {
  const envs::EnvSnapshot snap = env.snapshot();
  write_bytes(a, "env/name", snap.env);
  write_doubles(a, "env/physics", snap.physics);
  std::vector<int64_t> words(snap.noise_stream.begin(), snap.noise_stream.end());
  a.write("env/noise_stream", torch::tensor(words, torch::kInt64));
  write_doubles(a, "env/initial_observation", snap.initial_observation);
  a.write("env/counters", torch::tensor(std::vector<int64_t>{snap.elapsed_steps, snap.max_episode_steps,
                                                             snap.started, snap.live}, torch::kInt64));
}
void read_env(InputArchive& a, envs::Env& env) {
  envs::EnvSnapshot snap;
  snap.env = read_bytes(a, "env/name");
  snap.physics = read_doubles(a, "env/physics");
  torch::Tensor words, counters;
  a.read("env/noise_stream", words);
  for (int64_t i = 0; i < words.numel(); ++i) {
    snap.noise_stream.push_back(static_cast<uint64_t>(words[i].item<int64_t>()));
  }
  snap.initial_observation = read_doubles(a, "env/initial_observation");
  a.read("env/counters", counters);
  if (counters.numel() != 4) throw InputError("checkpoint entry env/counters has the wrong size");
  snap.elapsed_steps = static_cast<int>(counters[0].item<int64_t>());
  snap.max_episode_steps = static_cast<int>(counters[1].item<int64_t>());
  snap.started = counters[2].item<int64_t>() != 0;
  snap.live = counters[3].item<int64_t>() != 0;
  env.restore(snap);
}

namespace {

// For tests of --resume: BCQ_KILL_AFTER_CHECKPOINT=N makes the process SIGKILL itself right
// after writing its N-th checkpoint, as a crash or `kill -9` would, with no cleanup.
void kill_after_checkpoint_for_tests() {
  static int written = 0;
  static const char* limit = std::getenv("BCQ_KILL_AFTER_CHECKPOINT");
  if (limit != nullptr && ++written == std::atoi(limit)) std::raise(SIGKILL);
}

}  // namespace

void interrupt_after_step_for_tests(int64_t step) {
  static const char* at = std::getenv("BCQ_INTERRUPT_AFTER_STEP");
  if (at != nullptr && step == std::atoll(at)) std::raise(SIGINT);
}

void save_checkpoint(const std::string& path, const std::function<void(OutputArchive&)>& fill) {
  OutputArchive archive;
  fill(archive);
  // The archive is built in memory, then written as any other file. LibTorch writing to a file
  // itself cannot fail cleanly: when a write fails (a full disk), its zip writer throws again
  // from its destructor while the first exception unwinds, and std::terminate aborts the
  // program with a stack trace. A checkpoint is tens of MB.
  std::string bytes;
  try {
    archive.save_to([&bytes](const void* data, size_t size) -> size_t {
      bytes.append(static_cast<const char*>(data), size);
      return size;
    });
  } catch (const c10::Error& e) {
    throw InputError("cannot write " + path + " (" + e.what_without_backtrace() + ")");
  }
  write_file_atomic(path, bytes);
  kill_after_checkpoint_for_tests();
}

void load_checkpoint(const std::string& path, const std::function<void(InputArchive&)>& read) {
  if (!std::filesystem::exists(path)) throw InputError(path + ": no checkpoint to resume from");
  // Checked whole first (every entry's CRC-32): LibTorch does not, and a damaged checkpoint
  // would resume with wrong parameters (common/zip_archive.hpp).
  std::istringstream bytes(read_checked_zip_archive(path));
  InputArchive archive;
  try {
    archive.load_from(bytes);
    read(archive);
  } catch (const c10::Error& e) {
    throw InputError(path + ": unreadable checkpoint (" + e.what_without_backtrace() + ")");
  } catch (const InputError& e) {
    throw InputError(path + ": " + e.what());
  }
}

}  // namespace bcq::continuous
