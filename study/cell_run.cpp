#include "study/cell_run.hpp"

#include <torch/version.h>
#include <mujoco/mujoco.h>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <functional>
#include <memory>
#include <mutex>
#include <sstream>
#include <thread>

#include "common/atomic_file.hpp"
#include "common/error.hpp"
#include "common/interrupt.hpp"
#include "continuous/replay_buffer.hpp"
#include "continuous/training.hpp"

namespace bcq::study {

namespace fs = std::filesystem;
namespace cont = bcq::continuous;

namespace {

const Cell& find_cell(const std::vector<Cell>& cells, int id) {
  for (const auto& c : cells)
    if (c.id == id) return c;
  throw InputError("study: cell " + std::to_string(id) + " is not in the plan");
}

// Mean return of the complete episodes of a buffer (an episode ends at a terminal or timeout).
double behavioural_return_of(const std::string& path) {
  const cont::ReplayBuffer b = cont::load_buffer(path, {});
  double sum = 0, episode = 0;
  int64_t episodes = 0;
  for (std::size_t i = 0; i < b.size(); ++i) {
    episode += b.rewards[i];
    if (b.terminals[i] || b.timeouts[i]) {
      sum += episode;
      episode = 0;
      ++episodes;
    }
  }
  return episodes > 0 ? sum / static_cast<double>(episodes) : std::numeric_limits<double>::quiet_NaN();
}

std::string one_line(std::string text) {
  for (char& ch : text)
    if (ch == '\n' || ch == '\r') ch = ' ';
  if (text.size() > 400) text = text.substr(0, 400) + "...";
  return text;
}

// While a cell runs, its cell.json is rewritten every `period` with the wall time so far, so
// that a cell interrupted by a kill, a crash or the end of a Slurm allocation keeps the time it
// spent (its resumed run adds to it). A write that fails (a full disk) is retried next period.
class WallTimeHeartbeat {
 public:
  WallTimeHeartbeat(std::function<void(double)> write, std::chrono::seconds period)
      : write_(std::move(write)), t0_(std::chrono::steady_clock::now()) {
    thread_ = std::thread([this, period] {
      std::unique_lock<std::mutex> lock(mutex_);
      while (!wake_.wait_for(lock, period, [this] { return stop_; })) {
        try {
          write_(seconds());
        } catch (const std::exception&) {
        }
      }
    });
  }
  ~WallTimeHeartbeat() { stop(); }
  WallTimeHeartbeat(const WallTimeHeartbeat&) = delete;
  WallTimeHeartbeat& operator=(const WallTimeHeartbeat&) = delete;

  // Ends the heartbeat; returns the seconds since it started.
  double stop() {
    if (thread_.joinable()) {
      {
        std::lock_guard<std::mutex> lock(mutex_);
        stop_ = true;
      }
      wake_.notify_one();
      thread_.join();
    }
    return seconds();
  }

 private:
  double seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count();
  }
  std::function<void(double)> write_;
  std::chrono::steady_clock::time_point t0_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::thread thread_;
};

// 30 s; BCQ_STUDY_HEARTBEAT_SECONDS (1 to 3600) sets another period, for tests.
std::chrono::seconds heartbeat_period() {
  const char* text = std::getenv("BCQ_STUDY_HEARTBEAT_SECONDS");
  if (text != nullptr) {
    char* end = nullptr;
    const long v = std::strtol(text, &end, 10);
    if (end != text && *end == '\0' && v >= 1 && v <= 3600) return std::chrono::seconds(v);
  }
  return std::chrono::seconds(30);
}

}  // namespace

Provenance study_provenance() {
  Provenance p = local_provenance();
  p.versions["libtorch"] = TORCH_VERSION;
  p.versions["mujoco"] = mj_versionString();
  return p;
}

namespace {

CellOutcome run_cell_unguarded(const StudySpec& spec, const std::vector<Cell>& cells,
                               const Cell& cell, const std::string& dir) {
  CellOutcome out;
  const std::string folder = cell_folder(dir, cell);
  std::error_code ec;
  fs::create_directories(folder, ec);
  if (ec) {
    out.state = CellState::failed;
    out.error = "cannot create " + folder + ": " + ec.message();
    out.disk_full = ec.value() == ENOSPC || ec.value() == EDQUOT;
    return out;
  }
  // Another process may be probing the lock this instant (status, a scheduler's refresh): a
  // few tries tell that from a cell really running elsewhere.
  std::unique_ptr<FileLock> lock;
  for (int attempt = 0; attempt < 10; ++attempt) {
    lock = std::make_unique<FileLock>(cell_lock_path(dir, cell), false);
    if (lock->held()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  if (!lock->held()) {
    out.state = CellState::running;
    return out;
  }
  const CellStatus before = read_cell_status(dir, cell);
  if (before.state == CellState::done || before.state == CellState::diverged) {
    out.state = before.state;
    return out;
  }
  double behavioural = std::numeric_limits<double>::quiet_NaN();
  const int attempts = before.attempts + 1;
  write_cell_record(dir, cell, CellState::running, "", before.wall_seconds, behavioural, attempts);
  WallTimeHeartbeat heartbeat(
      [&](double seconds) {
        write_cell_record(dir, cell, CellState::running, "", before.wall_seconds + seconds,
                          std::numeric_limits<double>::quiet_NaN(), attempts);
      },
      heartbeat_period());
  try {
    if (cell.type == CellType::collect) {
      cont::CollectOptions o;
      o.env = cell.env;
      o.kind = cell.kind;
      o.steps = cell.kind == "imperfect" ? spec.imperfect_steps : spec.collection_steps;
      o.expert_steps = spec.expert_steps;
      o.start_steps = spec.start_steps;
      o.seed = cell.seed;
      o.out_path = folder + "/buffer.h5";
      o.threads = spec.threads;
      o.checkpoint_every = spec.checkpoint_every;
      o.resume = fs::exists(o.out_path + ".checkpoint/state.pt");
      if (cell.kind == "imitation") o.expert_out = folder + "/expert.pt";
      if (cell.kind == "imperfect") {
        o.expert_in = cell_folder(dir, find_cell(cells, cell.depends.at(0))) + "/expert.pt";
      }
      const cont::CollectResult r = cont::collect(o);
      behavioural = r.behavioural_return;
      const nlohmann::json result = {
          {"transitions", r.transitions},
          {"episodes", r.episodes},
          {"behavioural_return", std::isfinite(r.behavioural_return) ? nlohmann::json(r.behavioural_return)
                                                                     : nlohmann::json()}};
      write_file_atomic(folder + "/collect.json", result.dump(2) + "\n");
      out.state = CellState::done;
    } else {
      cont::TrainOptions o;
      o.algo = cell.algo;
      o.env = cell.env;
      o.out_dir = folder;
      o.iterations = spec.iterations;
      o.eval_every = spec.eval_every;
      o.eval_episodes = spec.eval_episodes;
      o.seed = cell.seed;
      o.threads = spec.threads;
      o.precision = cell.algo == "bcq" ? spec.precision : "fp32";
      o.concurrent = cell.kind == "concurrent";
      o.start_steps = spec.start_steps;
      o.resume = fs::exists(folder + "/checkpoint.pt");
      if (!o.concurrent) {
        const Cell& source = find_cell(cells, cell.depends.at(0));
        o.buffer_path = cell_folder(dir, source) + "/buffer.h5";
        behavioural = read_cell_status(dir, source).behavioural_return;
      }
      const cont::TrainResult r = cont::train(o);
      if (o.concurrent) behavioural = behavioural_return_of(folder + "/buffer.h5");
      out.state = r.diverged ? CellState::diverged : CellState::done;
      if (r.diverged) out.error = one_line(r.message);
    }
  } catch (const Interrupted&) {
    out.state = CellState::pending;  // checkpointed: the next run resumes it
  } catch (const WriteError& e) {
    out.state = CellState::failed;
    out.error = one_line(e.what());
    out.disk_full = e.disk_full();
  } catch (const std::exception& e) {
    out.state = CellState::failed;
    out.error = one_line(e.what());
  }
  out.seconds = heartbeat.stop();
  try {
    write_cell_record(dir, cell, out.state, out.error, before.wall_seconds + out.seconds, behavioural,
                      attempts);
  } catch (const std::exception& e) {
    if (out.state != CellState::failed) out.error = one_line(e.what());
    out.state = CellState::failed;
    const auto* write_error = dynamic_cast<const WriteError*>(&e);
    out.disk_full = out.disk_full || (write_error != nullptr && write_error->disk_full());
  }
  return out;
}

}  // namespace

CellOutcome run_cell(const StudySpec& spec, const std::vector<Cell>& cells, const Cell& cell,
                     const std::string& dir) {
  try {
    return run_cell_unguarded(spec, cells, cell, dir);
  } catch (const std::exception& e) {  // the folder, its lock or cell.json cannot be written
    const auto* write_error = dynamic_cast<const WriteError*>(&e);
    return CellOutcome{CellState::failed, one_line(e.what()), 0, write_error != nullptr && write_error->disk_full()};
  }
}

}  // namespace bcq::study
