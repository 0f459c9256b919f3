// Running a study: the scheduler that forks one worker process per cell (LibTorch seeds its
// networks from one global generator, so two cells must never share a process), the MPI
// hand-out of ready cells, Ctrl-C / SIGTERM passed on to the workers, the results rewritten
// after every cell, and what `study plan` and `study status` print. Over 400 lines because the
// local and the MPI schedulers share the cell bookkeeping and the folder lock; a cell itself
// runs in cell_run.cpp and the folder's files are state.cpp.
#include "study/runner.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <chrono>
#include <cstring>
#include <memory>
#include <condition_variable>
#include <deque>
#include <iostream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include <fmt/printf.h>
#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "common/interrupt.hpp"
#include "common/progress.hpp"  // format_duration
#include "study/cell_run.hpp"
#include "study/state.hpp"

namespace bcq::study {

namespace {

using Clock = std::chrono::steady_clock;

// Messages between rank 0 (the scheduler) and the worker ranks.
enum Tag : int { kReady = 1, kAssign = 2, kStop = 3, kDone = 4 };

nlohmann::json outcome_json(int id, const CellOutcome& o) {
  return {{"cell", id}, {"state", to_string(o.state)}, {"error", o.error}, {"seconds", o.seconds},
          {"disk_full", o.disk_full}};
}

CellOutcome outcome_from_json(const nlohmann::json& j) {
  CellOutcome o;
  const std::string s = j.at("state").get<std::string>();
  o.state = s == "done" ? CellState::done : s == "diverged" ? CellState::diverged
          : s == "running" ? CellState::running : s == "pending" ? CellState::pending : CellState::failed;
  o.error = j.at("error").get<std::string>();
  o.seconds = j.at("seconds").get<double>();
  o.disk_full = j.value("disk_full", false);
  return o;
}

bool finished(CellState s) { return s == CellState::done || s == CellState::diverged; }

// The scheduler's view of the study: what is done, running here, failed in this run.
class Schedule {
 public:
  Schedule(const StudySpec& spec, std::vector<Cell> cells, std::string dir)
      : spec_(spec), cells_(std::move(cells)), dir_(std::move(dir)) {
    for (std::size_t i = 0; i < cells_.size(); ++i) index_[cells_[i].id] = i;
    refresh();
  }

  // Re-reads the cells not running here from their folders.
  void refresh() {
    if (status_.empty()) status_.resize(cells_.size());
    for (std::size_t i = 0; i < cells_.size(); ++i) {
      if (!here_.count(cells_[i].id)) status_[i] = read_cell_status(dir_, cells_[i]);
    }
  }

  // Failed in this run, or waiting (transitively) on a cell that did.
  bool blocked(const Cell& c) const {
    if (failed_now_.count(c.id)) return true;
    for (int d : c.depends)
      if (blocked(cell(d))) return true;
    return false;
  }

  // The lowest-id cell that can start now, or -1.
  int next_ready() const {
    for (std::size_t i = 0; i < cells_.size(); ++i) {
      const Cell& c = cells_[i];
      const CellState s = status_[i].state;
      if (finished(s) || s == CellState::running || here_.count(c.id) || blocked(c)) continue;
      bool ready = true;
      for (int d : c.depends) ready = ready && finished(status(d).state);
      if (ready) return c.id;
    }
    return -1;
  }

  // Whether some cell not blocked still waits on a cell that another process is running.
  bool waiting_on_others() const {
    for (std::size_t i = 0; i < cells_.size(); ++i) {
      if (status_[i].state == CellState::running && !here_.count(cells_[i].id)) return true;
    }
    return false;
  }

  void start(int id) {
    here_.insert(id);
    status_[index_.at(id)].state = CellState::running;
  }

  // A cell ended here; `running` means another process held it (it is looked at again later).
  void finish(int id, const CellOutcome& o) {
    here_.erase(id);
    if (o.state == CellState::running || o.state == CellState::pending) {  // elsewhere, or interrupted
      status_[index_.at(id)] = read_cell_status(dir_, cell(id));
      return;
    }
    if (o.state == CellState::failed) {
      failed_now_.insert(id);
      errors_[id] = o.error;
      if (o.disk_full && disk_full_cell_ < 0) disk_full_cell_ = id;
    }
    // Only completed cells scale the estimates: a diverged run ends early, in less time than
    // its estimate.
    if (o.state == CellState::done) {
      done_estimate_ += estimate_seconds(spec_, cell(id));
      done_seconds_ += o.seconds;
    }
    status_[index_.at(id)] = read_cell_status(dir_, cell(id));
    if (o.state == CellState::failed) status_[index_.at(id)].state = CellState::failed;
  }

  const Cell& cell(int id) const { return cells_[index_.at(id)]; }
  const CellStatus& status(int id) const { return status_[index_.at(id)]; }
  const std::vector<Cell>& cells() const { return cells_; }
  const std::set<int>& here() const { return here_; }
  const std::map<int, std::string>& errors() const { return errors_; }
  /// The first cell that failed on a full disk in this run, or -1.
  int disk_full_cell() const { return disk_full_cell_; }

  int count(CellState s) const {
    int n = 0;
    for (const auto& st : status_) n += st.state == s;
    return n;
  }

  // Remaining one-thread seconds, scaled by how the estimates compared with this run so far.
  double eta_seconds(int slots) const {
    double remaining = 0;
    for (std::size_t i = 0; i < cells_.size(); ++i) {
      if (!finished(status_[i].state) && !blocked(cells_[i])) remaining += estimate_seconds(spec_, cells_[i]);
    }
    const double scale = done_estimate_ > 0 ? done_seconds_ / done_estimate_ : 1.0;
    return remaining * scale / std::max(1, slots);
  }

 private:
  const StudySpec& spec_;
  std::vector<Cell> cells_;
  std::string dir_;
  std::map<int, std::size_t> index_;
  std::vector<CellStatus> status_;
  std::set<int> here_;
  std::set<int> failed_now_;
  std::map<int, std::string> errors_;
  int disk_full_cell_ = -1;
  double done_seconds_ = 0, done_estimate_ = 0;
};

// How cells run beside the scheduler. LibTorch seeds network initialisation through its one
// global generator (torch::manual_seed), so two cells training in one process at once would
// draw from it in an order that depends on timing: each process runs at most one cell at a
// time. Locally that means a forked process per cell; on MPI rank 0, one thread.
class Workers {
 public:
  virtual ~Workers() = default;
  virtual void start(const Cell& cell) = 0;
  /// Waits up to `timeout` for a finished cell; false if none finished.
  virtual bool wait(std::chrono::milliseconds timeout, int& id, CellOutcome& outcome) = 0;
  virtual std::size_t running() const = 0;
};

// One forked process per cell: the scheduler's process itself never runs LibTorch, so the
// children start clean. A child dies with its parent (PR_SET_PDEATHSIG).
class ProcessWorkers : public Workers {
 public:
  ProcessWorkers(const StudySpec& spec, const std::vector<Cell>& cells, const std::string& dir)
      : spec_(spec), cells_(cells), dir_(dir) {}
  ~ProcessWorkers() override {
    for (auto& [pid, child] : children_) {
      ::kill(pid, SIGTERM);
      ::waitpid(pid, nullptr, 0);
      ::close(child.fd);
    }
  }
  void start(const Cell& cell) override {
    int fds[2];
    if (::pipe(fds) != 0) throw InputError(std::string("cannot start a worker: ") + std::strerror(errno));
    std::cout.flush();
    std::cerr.flush();
    const pid_t pid = ::fork();
    if (pid < 0) throw InputError(std::string("cannot start a worker: ") + std::strerror(errno));
    if (pid == 0) {
      ::close(fds[0]);
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      catch_interrupts(/*one_shot=*/false);  // Ctrl-C and the scheduler's SIGTERM both stop the cell cleanly
      // Whatever happens, the child leaves through _exit: it must never unwind into the
      // scheduler code it was forked from (which would stop its sibling workers).
      std::string msg;
      try {
        const CellOutcome o = run_cell(spec_, cells_, cell, dir_);
        msg = outcome_json(cell.id, o).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      } catch (...) {
        ::_exit(3);
      }
      std::size_t written = 0;
      while (written < msg.size()) {
        const ssize_t n = ::write(fds[1], msg.data() + written, msg.size() - written);
        if (n <= 0) break;
        written += static_cast<std::size_t>(n);
      }
      ::_exit(0);
    }
    ::close(fds[1]);
    children_[pid] = {cell.id, fds[0], ""};
  }
  bool wait(std::chrono::milliseconds timeout, int& id, CellOutcome& outcome) override {
    if (children_.empty()) {
      std::this_thread::sleep_for(timeout);
      return false;
    }
    std::vector<pollfd> fds;
    std::vector<pid_t> pids;
    for (const auto& [pid, child] : children_) {
      fds.push_back({child.fd, POLLIN, 0});
      pids.push_back(pid);
    }
    if (::poll(fds.data(), fds.size(), static_cast<int>(timeout.count())) <= 0) return false;
    for (std::size_t i = 0; i < fds.size(); ++i) {
      if (fds[i].revents == 0) continue;
      Child& child = children_.at(pids[i]);
      char buf[4096];
      const ssize_t n = ::read(child.fd, buf, sizeof buf);
      if (n > 0) {
        child.message.append(buf, static_cast<std::size_t>(n));
        continue;
      }
      // End of the pipe: the child is done (or died).
      int status = 0;
      ::waitpid(pids[i], &status, 0);
      ::close(child.fd);
      id = child.cell;
      const auto j = nlohmann::json::parse(child.message, nullptr, false);
      if (j.is_object()) {
        outcome = outcome_from_json(j);
      } else {
        outcome = CellOutcome{CellState::failed,
                              WIFSIGNALED(status) ? "the worker process died (signal " + std::to_string(WTERMSIG(status)) + ")"
                                                  : "the worker process ended without a result",
                              0};
        // The child could not say so itself: record the failure in its folder.
        for (const auto& c : cells_) {
          if (c.id != id) continue;
          try {
            const CellStatus st = read_cell_status(dir_, c);
            write_cell_record(dir_, c, CellState::failed, outcome.error, st.wall_seconds,
                              st.behavioural_return, st.attempts);
          } catch (const std::exception&) {
            // The folder itself is unwritable; the run's summary still names the cell.
          }
        }
      }
      children_.erase(pids[i]);
      return true;
    }
    return false;
  }
  std::size_t running() const override { return children_.size(); }
  // Asks every running cell to checkpoint and stop (a Ctrl-C on the terminal reaches them
  // too; a SIGTERM sent to the scheduler alone does not).
  void interrupt() {
    for (const auto& entry : children_) ::kill(entry.first, SIGTERM);
  }

 private:
  struct Child {
    int cell;
    int fd;
    std::string message;
  };
  const StudySpec& spec_;
  const std::vector<Cell>& cells_;
  std::string dir_;
  std::map<pid_t, Child> children_;
};

// MPI rank 0's own cell, on a thread beside the scheduler (forking an MPI process is unsafe).
class ThreadWorker : public Workers {
 public:
  ThreadWorker(const StudySpec& spec, const std::vector<Cell>& cells, const std::string& dir)
      : spec_(spec), cells_(cells), dir_(dir) {}
  ~ThreadWorker() override {
    if (thread_.joinable()) thread_.join();
  }
  void start(const Cell& cell) override {
    busy_ = true;
    thread_ = std::thread([this, cell] {
      CellOutcome o = run_cell(spec_, cells_, cell, dir_);
      std::lock_guard<std::mutex> lock(mutex_);
      done_.push_back({cell.id, o});
      wake_.notify_all();
    });
  }
  bool wait(std::chrono::milliseconds timeout, int& id, CellOutcome& outcome) override {
    std::unique_lock<std::mutex> lock(mutex_);
    if (!wake_.wait_for(lock, timeout, [&] { return !done_.empty(); })) return false;
    id = done_.front().first;
    outcome = done_.front().second;
    done_.pop_front();
    lock.unlock();
    thread_.join();
    busy_ = false;
    return true;
  }
  std::size_t running() const override { return busy_ ? 1 : 0; }

 private:
  const StudySpec& spec_;
  const std::vector<Cell>& cells_;
  std::string dir_;
  std::thread thread_;
  bool busy_ = false;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::pair<int, CellOutcome>> done_;
};

void progress_line(const Schedule& s, const std::string& name, int slots) {
  std::ostringstream line;
  line << "\r[study " << name << "] " << s.count(CellState::done) + s.count(CellState::diverged) << "/"
       << s.cells().size() << " cells done";
  if (!s.errors().empty()) line << ", " << s.errors().size() << " failed";
  line << "; running";
  int shown = 0;
  for (int id : s.here()) {
    if (shown++ < 4) line << " " << id;
  }
  if (s.here().empty()) line << " none";
  line << "; ETA " << format_duration(s.eta_seconds(slots)) << "\033[K";
  std::cerr << line.str() << std::flush;
}

// The worker ranks' loop: ask rank 0 for a cell, run it, report, until told to stop.
int worker_rank(const StudySpec& spec, const std::vector<Cell>& cells, const std::string& dir) {
  mpi::send_string(0, kReady, "");
  for (;;) {
    int tag = 0;
    const std::string msg = mpi::recv_string(0, mpi::kAnyTag, nullptr, &tag);
    if (tag == kStop) return std::atoi(msg.c_str());
    const int id = std::stoi(msg);
    const Cell* cell = nullptr;
    for (const auto& c : cells)
      if (c.id == id) cell = &c;
    CellOutcome o;
    if (cell == nullptr) {
      o.state = CellState::failed;
      o.error = "rank has no cell " + msg;
    } else {
      o = run_cell(spec, cells, *cell, dir);
    }
    mpi::send_string(0, kDone, outcome_json(id, o).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  }
}

// The wall time study.json records for the runs so far (0 for a new folder).
double previous_wall_seconds(const std::string& dir) {
  const auto old = read_json_or_null(dir + "/study.json");
  if (old.is_object() && old.value("wall_seconds", nlohmann::json()).is_number()) {
    return old["wall_seconds"].get<double>();
  }
  return 0;
}

int run_one_cell(const StudySpec& spec, const std::vector<Cell>& cells, const RunOptions& opt) {
  const Cell* cell = nullptr;
  for (const auto& c : cells)
    if (c.id == opt.cell) cell = &c;
  if (cell == nullptr) {
    throw InputError("--cell " + std::to_string(opt.cell) + ": the study has cells 0.." +
                     std::to_string(cells.size() - 1));
  }
  const CellStatus st = read_cell_status(opt.out_dir, *cell);
  if (finished(st.state)) {
    std::cout << "cell " << cell->name() << " is already " << to_string(st.state) << "\n";
    return 0;
  }
  for (int d : cell->depends) {
    const Cell* dep = nullptr;
    for (const auto& c : cells)
      if (c.id == d) dep = &c;
    const CellStatus ds = read_cell_status(opt.out_dir, *dep);
    if (ds.state == CellState::failed) {
      std::cerr << "bcq: cell " << cell->name() << " cannot run: the cell it needs, " << dep->name()
                << ", failed (" << ds.error << "); run that cell again first\n";
      return 1;
    }
    if (!finished(ds.state)) {
      std::cerr << "bcq: cell " << cell->name() << " is not ready: it needs cell " << dep->name()
                << " (" << to_string(ds.state) << "); try later\n";
      return kNotReady;
    }
  }
  const CellOutcome o = run_cell(spec, cells, *cell, opt.out_dir);
  const Provenance prov = study_provenance();
  write_results(opt.out_dir, spec, opt.profile, cells, prov, 1, 1, previous_wall_seconds(opt.out_dir) + o.seconds);
  if (o.state == CellState::running) {
    std::cerr << "bcq: cell " << cell->name() << " is running in another process; try later\n";
    return kNotReady;
  }
  if (o.state == CellState::failed && o.disk_full) {  // a failed write: exit 2 (docs/limits.md)
    std::cerr << "bcq: error: cell " << cell->name() << " failed on a full disk: " << o.error
              << "; free space and rerun the same command\n";
    return 2;
  }
  if (o.state == CellState::failed) {
    std::cerr << "bcq: cell " << cell->name() << " failed: " << o.error << "\n";
    return 1;
  }
  if (o.state == CellState::pending) {  // SIGTERM at the end of a Slurm allocation, Ctrl-C
    const int sig = interrupt_signal();
    throw Interrupted(sig, "cell " + cell->name() + " interrupted by " + signal_name(sig) +
                               " and checkpointed; rerun the same command to continue");
  }
  std::cout << "cell " << cell->name() << ": " << to_string(o.state) << " in "
            << format_duration(o.seconds) << "\n";
  return 0;
}

}  // namespace

int run_study(const StudySpec& spec, const RunOptions& opt, const mpi::Session& session) {
  if (opt.workers < 0 || opt.workers > 64) throw InputError("--workers must be in [1, 64] (0: automatic)");
  if (session.active() && opt.workers > 1) {
    throw InputError("under mpirun each rank runs one cell at a time (--workers 1); start more ranks instead");
  }
  // Default: 1 per MPI rank; locally 2, which beat one worker with two LibTorch threads on the
  // 2-vCPU development VM (bench/study_bench.sh).
  const int worker_count = opt.workers > 0 ? opt.workers : session.active() ? 1 : 2;
  if (session.active() && opt.cell >= 0) {
    throw InputError("--cell runs one cell in one process; start it without mpirun");
  }
  std::vector<Cell> cells;
  if (session.rank() == 0) {
    try {
      cells = prepare_folder(opt.out_dir, spec);
    } catch (...) {
      for (int r = 1; r < session.size(); ++r) mpi::send_string(r, kStop, "2");
      throw;
    }
  }
  if (session.active() && session.rank() != 0) {
    // The plan in this folder: rank 0 prepares it, then says go (or stop, after an error).
    int tag = 0;
    const std::string msg = mpi::recv_string(0, mpi::kAnyTag, nullptr, &tag);
    if (tag == kStop) return std::atoi(msg.c_str());
    cells = read_folder(opt.out_dir).second;
    return worker_rank(spec, cells, opt.out_dir);
  }
  if (opt.cell >= 0) return run_one_cell(spec, cells, opt);

  const Provenance prov = study_provenance();
  const auto t0 = Clock::now();
  const double wall_before = previous_wall_seconds(opt.out_dir);
  auto elapsed = [&] { return std::chrono::duration<double>(Clock::now() - t0).count(); };
  Schedule schedule(spec, cells, opt.out_dir);
  std::unique_ptr<Workers> workers;
  if (session.active()) workers = std::make_unique<ThreadWorker>(spec, schedule.cells(), opt.out_dir);
  else workers = std::make_unique<ProcessWorkers>(spec, schedule.cells(), opt.out_dir);
  Workers& local = *workers;
  // Worker ranks that asked for work; rank 0's own slots are its local threads.
  std::deque<int> idle_ranks;
  std::map<int, int> rank_of;  // cell id -> rank running it
  const int local_slots = worker_count;
  const int slots = local_slots + (session.active() ? session.size() - 1 : 0);
  write_results(opt.out_dir, spec, opt.profile, schedule.cells(), prov, worker_count, session.size(), wall_before);
  // study.json now holds this folder's cells (ids included): the worker ranks read them.
  if (session.active()) {
    for (int r = 1; r < session.size(); ++r) mpi::send_string(r, kAssign, "go");
  }
  auto last_refresh = Clock::now();
  int stopping = 0;  // the signal that stops this run: no new cells, running ones checkpoint
  for (;;) {
    if (!stopping && interrupt_signal()) {
      stopping = interrupt_signal();
      if (auto* processes = dynamic_cast<ProcessWorkers*>(&local)) processes->interrupt();
    }
    if (stopping && schedule.here().empty()) break;
    // Hand out ready cells: worker ranks first (rank 0's threads share its cores with MPI). On a
    // full disk none: each would fail the same way (docs/study.md).
    for (; !stopping && schedule.disk_full_cell() < 0;) {
      const bool rank_free = !idle_ranks.empty();
      const bool local_free = static_cast<int>(local.running()) < local_slots;
      if (!rank_free && !local_free) break;
      const int id = schedule.next_ready();
      if (id < 0) break;
      schedule.start(id);
      if (rank_free) {
        const int r = idle_ranks.front();
        idle_ranks.pop_front();
        rank_of[id] = r;
        mpi::send_string(r, kAssign, std::to_string(id));
      } else {
        local.start(schedule.cell(id));
      }
    }
    const bool busy = !schedule.here().empty();
    if (!busy && schedule.disk_full_cell() >= 0) break;
    if (!busy && schedule.next_ready() < 0) {
      if (!schedule.waiting_on_others()) break;
    }
    if (opt.progress) progress_line(schedule, spec.name, slots);
    // Wait for a finished cell (local or remote) or a worker rank asking for work.
    int id = -1;
    CellOutcome o;
    bool got = false;
    if (session.active()) {
      int from = 0, tag = 0;
      while (mpi::message_waiting(mpi::kAnySource, mpi::kAnyTag)) {
        const std::string msg = mpi::recv_string(mpi::kAnySource, mpi::kAnyTag, &from, &tag);
        if (tag == kDone) {
          const auto j = nlohmann::json::parse(msg);
          const int done_id = j.at("cell").get<int>();
          const CellOutcome ro = outcome_from_json(j);
          // A rank signalled alone (mpirun passes Ctrl-C / SIGTERM on to every rank): stop the
          // whole run rather than hand the interrupted cell out again.
          if (ro.state == CellState::pending && !stopping) stopping = interrupt_signal() ? interrupt_signal() : SIGTERM;
          rank_of.erase(done_id);
          schedule.finish(done_id, ro);
          write_results(opt.out_dir, spec, opt.profile, schedule.cells(), prov, worker_count,
                        session.size(), wall_before + elapsed());
        }
        idle_ranks.push_back(from);
        got = true;
      }
      if (!got) got = local.wait(std::chrono::milliseconds(200), id, o);
      else if (local.wait(std::chrono::milliseconds(0), id, o)) {}
    } else {
      got = local.wait(std::chrono::milliseconds(1000), id, o);
    }
    if (id >= 0) {
      schedule.finish(id, o);
      write_results(opt.out_dir, spec, opt.profile, schedule.cells(), prov, worker_count,
                    session.size(), wall_before + elapsed());
    }
    if (Clock::now() - last_refresh > std::chrono::seconds(5)) {
      schedule.refresh();
      last_refresh = Clock::now();
    }
  }
  for (int r = 1; r < session.size(); ++r) mpi::send_string(r, kStop, "0");
  schedule.refresh();
  write_results(opt.out_dir, spec, opt.profile, schedule.cells(), prov, worker_count, session.size(),
                wall_before + elapsed());
  if (opt.progress) {
    progress_line(schedule, spec.name, slots);
    std::cerr << "\n";
  }
  if (stopping) {
    int finished_cells = 0;
    for (const auto& c : schedule.cells()) finished_cells += finished(schedule.status(c.id).state);
    throw Interrupted(stopping, "study interrupted by " + signal_name(stopping) + ": " +
                                    std::to_string(finished_cells) + " of " +
                                    std::to_string(schedule.cells().size()) +
                                    " cells done, the cells that were running checkpointed; rerun the same "
                                    "command to continue");
  }
  const int done = schedule.count(CellState::done), diverged = schedule.count(CellState::diverged);
  std::cout << "study " << spec.name << ": " << schedule.cells().size() << " cells, " << done << " done, "
            << diverged << " diverged";
  int pending = 0;
  for (const auto& c : schedule.cells()) {
    const CellState s = schedule.status(c.id).state;
    pending += s == CellState::pending;
  }
  if (!schedule.errors().empty()) std::cout << ", " << schedule.errors().size() << " failed";
  if (pending > 0) std::cout << ", " << pending << " not run";
  std::cout << " (" << format_duration(elapsed()) << "); results in " << opt.out_dir << "/summary.csv\n";
  if (const int id = schedule.disk_full_cell(); id >= 0) {
    // A failed write: exit 2 and one line (docs/limits.md); the other failures are in the folder.
    const std::size_t others = schedule.errors().size() - 1;
    std::cerr << "bcq: error: cell " << schedule.cell(id).name() << " failed on a full disk: "
              << schedule.errors().at(id) << "; no further cell was started";
    if (others > 0) {
      std::cerr << " (" << others << " other cell" << (others == 1 ? "" : "s")
                << " failed too: bcq study status --out " << opt.out_dir << ")";
    }
    std::cerr << "; free space and rerun the same command\n";
    return 2;
  }
  for (const auto& [id, error] : schedule.errors()) {
    std::cerr << "bcq: cell " << schedule.cell(id).name() << " failed: " << error << "\n";
  }
  if (!schedule.errors().empty()) {
    std::cerr << "bcq: cells that depend on a failed cell were not run; fix the cause and run again\n";
    return 1;
  }
  return 0;
}

Printout study_status(const std::string& dir) {
  Printout result;
  const auto [spec, cells] = read_folder(dir);
  const auto statuses = read_statuses(dir, cells);
  // Cells that run at once in the last run: its local workers, plus one per MPI worker rank.
  int workers = 1, ranks = 1;
  {
    const auto old = read_json_or_null(dir + "/study.json");
    if (old.is_object() && old.value("workers", nlohmann::json()).is_number_integer()) {
      workers = std::max(1, old["workers"].get<int>());
    }
    if (old.is_object() && old.value("ranks", nlohmann::json()).is_number_integer()) {
      ranks = std::max(1, old["ranks"].get<int>());
    }
  }
  const int slots = workers + ranks - 1;
  // The remaining work estimate, scaled by how the estimates compared with the finished cells.
  double remaining = 0, done_estimate = 0, done_seconds = 0;
  std::map<std::string, int> counts;
  for (std::size_t i = 0; i < cells.size(); ++i) {
    ++counts[to_string(statuses[i].state)];
    if (!finished(statuses[i].state)) {
      remaining += estimate_seconds(spec, cells[i]);
    } else if (statuses[i].state == CellState::done && statuses[i].wall_seconds > 0) {
      done_estimate += estimate_seconds(spec, cells[i]);
      done_seconds += statuses[i].wall_seconds;
    }
  }
  const double scale = done_estimate > 0 ? done_seconds / done_estimate : 1.0;
  const double eta = remaining * scale / slots;
  {
    nlohmann::json out = {{"format", "bcq-study-status/1"}, {"study", spec.name}, {"cells", nlohmann::json::array()},
                          {"counts", counts}, {"remaining_one_thread_seconds", remaining},
                          {"eta_seconds", eta}, {"workers", workers}, {"ranks", ranks}};
    for (std::size_t i = 0; i < cells.size(); ++i) {
      out["cells"].push_back({{"id", cells[i].id}, {"name", cells[i].name()},
                              {"state", to_string(statuses[i].state)},
                              {"resumable", statuses[i].started},
                              {"error", statuses[i].error.empty() ? nlohmann::json() : nlohmann::json(statuses[i].error)},
                              {"wall_seconds", statuses[i].wall_seconds}});
    }
    result.json = out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  std::ostringstream text;
  text << fmt::sprintf("%-5s %-44s %-9s %10s  %s\n", "id", "cell", "state", "wall", "note");
  for (std::size_t i = 0; i < cells.size(); ++i) {
    const auto& st = statuses[i];
    std::string note = st.error;
    if (st.state == CellState::pending && st.started) note = "interrupted; resumes from its checkpoint";
    text << fmt::sprintf("%-5d %-44s %-9s %10s  %s\n", cells[i].id, cells[i].name().c_str(), to_string(st.state).c_str(),
                st.wall_seconds > 0 ? format_duration(st.wall_seconds).c_str() : "-", note.c_str());
  }
  std::ostringstream line;
  bool first = true;
  for (const auto& [name, n] : counts) {
    line << (first ? "" : ", ") << n << " " << name;
    first = false;
  }
  text << "study " << spec.name << ": " << cells.size() << " cells (" << line.str() << "); ETA "
            << format_duration(eta) << " with " << slots << " cell" << (slots > 1 ? "s" : "")
            << " at a time (" << (done_estimate > 0 ? "estimate scaled by the finished cells" : "estimate")
            << ")\n";
  result.text = text.str();
  return result;
}

Printout study_plan(const StudySpec& spec, const std::string& source) {
  Printout result;
  const auto cells = plan_cells(spec);
  double total = 0;
  std::vector<int> collections, second_collections, trainings;
  for (const auto& c : cells) {
    total += estimate_seconds(spec, c);
    if (c.type == CellType::train) trainings.push_back(c.id);
    else (c.depends.empty() ? collections : second_collections).push_back(c.id);
  }
  auto ranges = [](const std::vector<int>& ids) {
    std::ostringstream out;
    for (std::size_t i = 0; i < ids.size();) {
      std::size_t j = i;
      while (j + 1 < ids.size() && ids[j + 1] == ids[j] + 1) ++j;
      out << (i ? "," : "") << ids[i];
      if (j > i) out << "-" << ids[j];
      i = j + 1;
    }
    return out.str();
  };
  const std::string run = "bcq study run " + source + " --out DIR --cell $SLURM_ARRAY_TASK_ID";
  {
    nlohmann::json out = {{"format", "bcq-study-plan/1"}, {"spec", to_json(spec)}, {"cells", nlohmann::json::array()},
                          {"one_thread_seconds", total},
                          {"slurm", {{"collections", ranges(collections)},
                                     {"collections_after_collections", ranges(second_collections)},
                                     {"training", ranges(trainings)}, {"command", run}}}};
    for (const auto& c : cells) {
      out["cells"].push_back({{"id", c.id}, {"name", c.name()}, {"type", to_string(c.type)}, {"env", c.env},
                              {"kind", c.kind}, {"algo", c.algo}, {"seed_index", c.seed_index}, {"seed", c.seed},
                              {"depends", c.depends}, {"estimate_seconds", estimate_seconds(spec, c)}});
    }
    result.json = out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  std::ostringstream text;
  text << fmt::sprintf("%-5s %-44s %-9s %12s\n", "id", "cell", "needs", "estimate");
  for (const auto& c : cells) {
    std::string needs;
    for (int d : c.depends) needs += (needs.empty() ? "" : ",") + std::to_string(d);
    text << fmt::sprintf("%-5d %-44s %-9s %12s\n", c.id, c.name().c_str(), needs.empty() ? "-" : needs.c_str(),
                format_duration(estimate_seconds(spec, c)).c_str());
  }
  text << "study " << spec.name << ": " << cells.size() << " cells ("
            << collections.size() + second_collections.size() << " collections, " << trainings.size()
            << " training runs); estimated "
            << format_duration(total) << " of one-thread work, about " << format_duration(total / 2)
            << " with --workers 2\n";
  text << "Slurm arrays (each waits for the one before; a task whose inputs are not done exits 75):\n"
            << "  A=$(sbatch --parsable --array=" << ranges(collections) << " --wrap '" << run << "')\n";
  std::string after = "$A";
  if (!second_collections.empty()) {
    text << "  B=$(sbatch --parsable --array=" << ranges(second_collections) << " --dependency=afterok:$A --wrap '"
              << run << "')\n";
    after = "$A:$B";
  }
  text << "  sbatch --array=" << ranges(trainings) << " --dependency=afterok:" << after << " --wrap '" << run
            << "'\n";
  result.text = text.str();
  return result;
}

}  // namespace bcq::study
