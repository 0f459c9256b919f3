// Writes a whole file or nothing. Every writer of the project's outputs goes through
// write_atomically: the content goes to a fresh temporary file next to the target (same
// folder, so the rename cannot cross file systems), which is fsync'ed and then renamed over
// the target. A full disk, a missing folder or a writer that throws leaves no half-written
// output and no temporary file behind.
#pragma once

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/error.hpp"

namespace bcq {

/// A file that could not be written (an InputError: exit code 2, "cannot write PATH (STEP):
/// REASON"). `error_number` is the errno: a full disk is ENOSPC, a full quota EDQUOT, a file
/// past RLIMIT_FSIZE EFBIG; a read-only or missing folder EROFS, EACCES, ENOENT.
class WriteError : public InputError {
 public:
  WriteError(const std::string& path, const std::string& step, int error_number)
      : InputError("cannot write " + path + " (" + step + "): " + std::strerror(error_number)),
        path_(path),
        step_(step),
        error_number_(error_number) {}
  const std::string& path() const { return path_; }
  const std::string& step() const { return step_; }
  int error_number() const { return error_number_; }
  /// Out of space: every further write will fail the same way until space is freed.
  bool disk_full() const { return error_number_ == ENOSPC || error_number_ == EDQUOT || error_number_ == EFBIG; }

 private:
  std::string path_, step_;
  int error_number_;
};

namespace detail {

inline void fail_atomic_write(const std::string& path, const std::string& tmp, const char* step,
                              int err) {
  if (!tmp.empty()) ::unlink(tmp.c_str());
  throw WriteError(path, step, err);
}

}  // namespace detail

/// Writes `path` atomically: `write(tmp)` must fill the file named `tmp` (an empty file that
/// already exists, mode 0644, in the folder of `path`; a library writer such as LibTorch's
/// save or HDF5 may replace it); then it is fsync'ed and renamed over `path`. If `write`
/// throws, the temporary file is removed and the exception passed on; a failing fsync or
/// rename throws WriteError naming `path`.
template <typename Write>
void write_atomically(const std::string& path, Write&& write) {
  // "<name>.tmpXXXXXX": next to the target, named after it (a leftover after a crash says
  // whose it was), with no further extension.
  std::string tmp = path + ".tmpXXXXXX";
  int fd = ::mkstemp(tmp.data());
  if (fd < 0) detail::fail_atomic_write(path, "", "create", errno);
  if (::fchmod(fd, 0644) != 0 || ::close(fd) != 0) {
    const int err = errno;
    ::close(fd);
    detail::fail_atomic_write(path, tmp, "create", err);
  }
  try {
    std::forward<Write>(write)(static_cast<const std::string&>(tmp));
  } catch (...) {
    ::unlink(tmp.c_str());
    throw;
  }
  // The writer may have closed its own descriptor without syncing: sync through a new one.
  fd = ::open(tmp.c_str(), O_RDONLY);
  if (fd < 0) detail::fail_atomic_write(path, tmp, "reopen", errno);
  if (::fsync(fd) != 0) {
    const int err = errno;
    ::close(fd);
    detail::fail_atomic_write(path, tmp, "fsync", err);
  }
  ::close(fd);
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    detail::fail_atomic_write(path, tmp, "rename", errno);
  }
}

/// Atomically replaces `path` with `content`. Throws WriteError naming the path on failure.
inline void write_file_atomic(const std::string& path, std::string_view content) {
  write_atomically(path, [&](const std::string& tmp) {
    int fd = ::open(tmp.c_str(), O_WRONLY | O_TRUNC);
    if (fd < 0) {
      const int err = errno;  // before anything else can change it
      throw WriteError(path, "open", err);
    }
    const char* p = content.data();
    size_t left = content.size();
    while (left > 0) {
      ssize_t n = ::write(fd, p, left);
      if (n < 0) {
        if (errno == EINTR) continue;
        const int err = errno;
        ::close(fd);
        throw WriteError(path, "write", err);
      }
      p += n;
      left -= static_cast<size_t>(n);
    }
    if (::close(fd) != 0) {
      const int err = errno;
      throw WriteError(path, "close", err);
    }
  });
}

}  // namespace bcq
