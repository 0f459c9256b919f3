#include "common/mpi.hpp"

#include <cstdlib>
#include <stdexcept>
#include <vector>

#include "common/error.hpp"

#ifdef BCQ_HAVE_MPI
// The C API only (OpenMPI's deprecated C++ bindings warn under -Wextra).
#define OMPI_SKIP_MPICXX 1
#define MPICH_SKIP_MPICXX 1
#include <mpi.h>
#endif

namespace bcq::mpi {

bool built_with_mpi() {
#ifdef BCQ_HAVE_MPI
  return true;
#else
  return false;
#endif
}

bool launched_by_mpi() {
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK"}) {
    if (std::getenv(name) != nullptr) return true;
  }
  return false;
}

Session::Session() {
  if (!launched_by_mpi()) return;
#ifdef BCQ_HAVE_MPI
  int already = 0;
  MPI_Initialized(&already);
  if (already) throw std::logic_error("bcq::mpi::Session: MPI is already initialised");
  int provided = 0;
  // One thread of each rank talks to MPI; others (LibTorch's) never do.
  MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided);
  initialised_ = true;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &size_);
  active_ = size_ > 1;
#else
  const char* size = std::getenv("OMPI_COMM_WORLD_SIZE");
  if (size == nullptr) size = std::getenv("PMI_SIZE");
  if (size != nullptr && std::atoi(size) > 1) {
    throw InputError("started by mpirun with " + std::string(size) +
                     " ranks, but this bcq was built without MPI (BCQ_WITH_MPI=OFF)");
  }
#endif
}

Session::~Session() {
#ifdef BCQ_HAVE_MPI
  if (initialised_) MPI_Finalize();
#endif
}

#ifdef BCQ_HAVE_MPI
void send_string(int dest, int tag, const std::string& message) {
  MPI_Send(message.data(), static_cast<int>(message.size()), MPI_CHAR, dest, tag, MPI_COMM_WORLD);
}

std::string recv_string(int source, int tag, int* from, int* tag_out) {
  MPI_Status status;
  MPI_Probe(source == kAnySource ? MPI_ANY_SOURCE : source, tag == kAnyTag ? MPI_ANY_TAG : tag,
            MPI_COMM_WORLD, &status);
  int count = 0;
  MPI_Get_count(&status, MPI_CHAR, &count);
  std::string message(static_cast<std::size_t>(count), '\0');
  MPI_Recv(message.data(), count, MPI_CHAR, status.MPI_SOURCE, status.MPI_TAG, MPI_COMM_WORLD,
           MPI_STATUS_IGNORE);
  if (from != nullptr) *from = status.MPI_SOURCE;
  if (tag_out != nullptr) *tag_out = status.MPI_TAG;
  return message;
}

bool message_waiting(int source, int tag) {
  int flag = 0;
  MPI_Iprobe(source == kAnySource ? MPI_ANY_SOURCE : source, tag == kAnyTag ? MPI_ANY_TAG : tag,
             MPI_COMM_WORLD, &flag, MPI_STATUS_IGNORE);
  return flag != 0;
}

void barrier() { MPI_Barrier(MPI_COMM_WORLD); }

void abort_job(int code) {
  int initialised = 0;
  MPI_Initialized(&initialised);
  if (initialised) MPI_Abort(MPI_COMM_WORLD, code);
  std::exit(code);
}
#else
void send_string(int, int, const std::string&) {
  throw std::logic_error("bcq::mpi::send_string: built without MPI");
}
std::string recv_string(int, int, int*, int*) {
  throw std::logic_error("bcq::mpi::recv_string: built without MPI");
}
bool message_waiting(int, int) { return false; }
void barrier() {}
void abort_job(int code) { std::exit(code); }
#endif

}  // namespace bcq::mpi
