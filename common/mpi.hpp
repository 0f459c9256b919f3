// A thin, optional layer over MPI for the commands that spread work across ranks
// (`mpirun -np K bcq verify`, `mpirun -np K bcq study run`). Built with or without MPI
// (BCQ_WITH_MPI): without it, or when the process was not started by mpirun/srun, a Session
// is a single process of rank 0 and the send/receive calls are never needed.
#pragma once

#include <string>

namespace bcq::mpi {

/// True when this build links MPI.
bool built_with_mpi();

/// True when the environment says this process is one rank of an MPI job (OpenMPI's
/// OMPI_COMM_WORLD_SIZE, or PMI_SIZE / PMIX_RANK as srun and MPICH set them).
bool launched_by_mpi();

/// The MPI job of this process, initialised (MPI_Init_thread) when launched by mpirun/srun
/// and finalised on destruction. At most one Session may exist in a process. A process
/// launched by mpirun of a build without MPI throws bcq::InputError (every rank would
/// otherwise do all the work).
class Session {
 public:
  Session();
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  int rank() const { return rank_; }
  int size() const { return size_; }
  /// True when MPI is initialised and there is more than one rank.
  bool active() const { return active_; }

 private:
  int rank_ = 0;
  int size_ = 1;
  bool active_ = false;
  bool initialised_ = false;
};

/// Sends a string (any bytes) to rank `dest` with `tag`. Blocking.
void send_string(int dest, int tag, const std::string& message);

/// Receives a string from rank `source` (kAnySource for any) with `tag` (kAnyTag for any).
/// `from` and `tag_out`, when given, receive the sender and the tag.
std::string recv_string(int source, int tag, int* from = nullptr, int* tag_out = nullptr);

constexpr int kAnySource = -1;
constexpr int kAnyTag = -1;

/// True when a message from `source` with `tag` (kAnySource / kAnyTag for any) is waiting;
/// never blocks.
bool message_waiting(int source, int tag);

/// Blocks until every rank has called it.
void barrier();

/// Ends the whole job from any rank (after an error that the other ranks cannot see).
[[noreturn]] void abort_job(int code);

}  // namespace bcq::mpi
