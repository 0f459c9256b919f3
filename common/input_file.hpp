// The one way bcq opens its input files and checks its output paths (docs/limits.md):
// an input must be a regular file no larger than a documented limit, checked before a byte is
// read (a directory, a device such as /dev/zero, a FIFO or a socket is refused by name, never
// read); an output must not be the same file as an input, checked by filesystem identity
// (device and inode, so hard links and symlinks count) before any long work starts.
#pragma once

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <string>
#include <string_view>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/error.hpp"

namespace bcq {

/// Largest text input read whole (MDP, policy, batch CSV, study spec, report files): 1 GiB.
inline constexpr std::uintmax_t kMaxInputFileBytes = std::uintmax_t{1} << 30;

/// The longest excerpt of an input that an error message quotes (longer ones end in "...").
inline constexpr std::size_t kMaxQuotedChars = 60;

/// `text` for an error message: printable ASCII as is, any other byte (NUL, a BOM, control
/// characters) as \xNN so that it shows, and at most `max_chars` characters then "...".
inline std::string quote_for_message(std::string_view text, std::size_t max_chars = kMaxQuotedChars) {
  std::string out;
  std::size_t shown = 0;
  for (unsigned char c : text) {
    if (shown == max_chars) return out + "...";
    if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      static const char* hex = "0123456789ABCDEF";
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 15];
    }
    ++shown;
  }
  return out;
}

namespace detail {

// What kind of file `st` describes, for messages ("a directory", "a device", ...).
inline const char* file_kind(const struct stat& st) {
  if (S_ISDIR(st.st_mode)) return "a directory";
  if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) return "a device";
  if (S_ISFIFO(st.st_mode)) return "a FIFO (named pipe)";
  if (S_ISSOCK(st.st_mode)) return "a socket";
  return "not a regular file";
}

inline std::string size_text(std::uintmax_t bytes) {
  if (bytes >= (std::uintmax_t{1} << 30) && bytes % (std::uintmax_t{1} << 30) == 0)
    return std::to_string(bytes >> 30) + " GiB";
  if (bytes >= (std::uintmax_t{1} << 20) && bytes % (std::uintmax_t{1} << 20) == 0)
    return std::to_string(bytes >> 20) + " MiB";
  return std::to_string(bytes) + " bytes";
}

// Checks an open descriptor: a regular file of at most max_bytes. Returns its size.
inline std::uintmax_t check_regular(int fd, const std::string& path, std::uintmax_t max_bytes) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) throw InputError("cannot read " + path + ": " + std::strerror(errno));
  if (!S_ISREG(st.st_mode)) {
    throw InputError("cannot read " + path + ": it is " + file_kind(st) + ", not a regular file");
  }
  const auto size = static_cast<std::uintmax_t>(st.st_size);
  if (size > max_bytes) {
    throw InputError("cannot read " + path + ": " + std::to_string(size) + " bytes, over the " +
                     size_text(max_bytes) + " limit for this input (docs/limits.md)");
  }
  return size;
}

// Opens `path` for reading without blocking on a FIFO (O_NONBLOCK is cleared once it is known
// to be a regular file).
inline int open_input(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    throw InputError("cannot read " + path + ": " +
                     (err == ENOENT ? std::string("no such file") : std::strerror(err)));
  }
  return fd;
}

}  // namespace detail

/// Checks that `path` is a readable regular file of at most `max_bytes` without reading it
/// (for loaders that open the file themselves, such as HDF5). Returns its size in bytes.
/// Throws InputError naming the path otherwise.
inline std::uintmax_t check_input_file(const std::string& path, std::uintmax_t max_bytes) {
  int fd = detail::open_input(path);
  try {
    std::uintmax_t size = detail::check_regular(fd, path, max_bytes);
    ::close(fd);
    return size;
  } catch (...) {
    ::close(fd);
    throw;
  }
}

/// Reads the regular file `path` whole. A missing or unreadable file, a directory, a device,
/// a FIFO, a socket or a file over `max_bytes` is refused with an InputError naming the path,
/// before anything is read.
inline std::string read_input_file(const std::string& path,
                                   std::uintmax_t max_bytes = kMaxInputFileBytes) {
  int fd = detail::open_input(path);
  std::string content;
  try {
    const std::uintmax_t size = detail::check_regular(fd, path, max_bytes);
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    content.reserve(static_cast<std::size_t>(size));
    char chunk[1 << 16];
    for (;;) {
      ssize_t n = ::read(fd, chunk, sizeof chunk);
      if (n < 0) {
        if (errno == EINTR) continue;
        throw InputError("cannot read " + path + ": " + std::strerror(errno));
      }
      if (n == 0) break;
      // A file that grows while it is read is held to the same limit.
      if (content.size() + static_cast<std::size_t>(n) > max_bytes) {
        throw InputError("cannot read " + path + ": over the " + detail::size_text(max_bytes) +
                         " limit for this input (docs/limits.md)");
      }
      content.append(chunk, static_cast<std::size_t>(n));
    }
  } catch (...) {
    ::close(fd);
    throw;
  }
  ::close(fd);
  return content;
}

/// An input of a command, for check_output_path: the option that named it and its path.
struct NamedInput {
  std::string option;  ///< e.g. "--mdp"
  std::string path;
};

/// Refuses an output path that would destroy something: one that names the same file as one
/// of `inputs` (same device and inode: hard links and symlinks count), or an existing path
/// that is not a regular file (a directory, a device). A missing output is fine. Call it before
/// any long work. Throws InputError naming both options.
inline void check_output_path(const std::string& output_option, const std::string& output,
                              std::initializer_list<NamedInput> inputs) {
  if (output.empty()) return;
  struct stat out {};
  if (::stat(output.c_str(), &out) != 0) return;  // does not exist yet
  if (!S_ISREG(out.st_mode)) {
    throw InputError(output_option + " " + output + ": it is " + detail::file_kind(out) +
                     ", not a file that can be replaced");
  }
  for (const NamedInput& in : inputs) {
    if (in.path.empty()) continue;
    struct stat st {};
    if (::stat(in.path.c_str(), &st) != 0) continue;
    if (st.st_dev == out.st_dev && st.st_ino == out.st_ino) {
      throw InputError(output_option + " " + output + " is the same file as the input " +
                       in.option + " " + in.path + "; refusing to overwrite an input");
    }
  }
}

/// Refuses an output whose folder does not exist, is not a folder, or cannot be written, so
/// that a long run does not end unable to write its result. Throws InputError naming the option.
inline void check_output_folder(const std::string& output_option, const std::string& output) {
  if (output.empty()) return;
  const std::size_t slash = output.find_last_of('/');
  const std::string folder = slash == std::string::npos ? "." : slash == 0 ? "/" : output.substr(0, slash);
  struct stat st {};
  if (::stat(folder.c_str(), &st) != 0) {
    throw InputError(output_option + " " + output + ": its folder " + folder + " does not exist");
  }
  if (!S_ISDIR(st.st_mode)) {
    throw InputError(output_option + " " + output + ": " + folder + " is not a folder");
  }
  if (::access(folder.c_str(), W_OK) != 0) {
    throw InputError(output_option + " " + output + ": its folder " + folder + " is not writable (" +
                     std::strerror(errno) + ")");
  }
}

}  // namespace bcq
