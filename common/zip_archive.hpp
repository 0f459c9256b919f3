// Checking a zip archive whole before it is loaded: LibTorch's files (policy.pt, checkpoint.pt,
// an expert) are zip archives, and LibTorch 1.13 reads their entries without checking the
// CRC-32 that the archive stores for each (PyTorch builds its copy of miniz with
// MINIZ_DISABLE_ZIP_READER_CRC32_CHECKS), so a file with bytes flipped inside a stored tensor
// loads and acts differently. check_zip_archive walks the central directory (zip64 too, as
// LibTorch writes it), checks that every entry lies inside the file, and compares each entry's
// CRC-32 (zlib's crc32; a deflated entry is inflated first) with the stored one. Needs zlib.
#pragma once

#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <string>
#include <string_view>

#include "common/error.hpp"
#include "common/input_file.hpp"

namespace bcq {

namespace detail {

// Little-endian field of `n` bytes at `at` (the caller checked the bounds).
inline std::uint64_t zip_field(std::string_view bytes, std::size_t at, int n) {
  std::uint64_t v = 0;
  for (int i = n - 1; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(bytes[at + static_cast<std::size_t>(i)]);
  return v;
}

// CRC-32 of `data`, fed to zlib in pieces that fit its uInt lengths.
inline std::uint32_t zip_crc32(std::string_view data) {
  uLong crc = ::crc32(0L, Z_NULL, 0);
  std::size_t done = 0;
  while (done < data.size()) {
    const std::size_t n = std::min<std::size_t>(data.size() - done, 1u << 30);
    crc = ::crc32(crc, reinterpret_cast<const Bytef*>(data.data() + done), static_cast<uInt>(n));
    done += n;
  }
  return static_cast<std::uint32_t>(crc);
}

// Inflates a raw deflate stream (zip method 8); returns false unless it ends exactly where its
// data ends and gives `size` bytes whose CRC-32 is returned in `crc`.
inline bool zip_inflate_crc32(std::string_view data, std::uint64_t size, std::uint32_t& crc) {
  z_stream z{};
  if (::inflateInit2(&z, -MAX_WBITS) != Z_OK) return false;
  uLong sum = ::crc32(0L, Z_NULL, 0);
  std::uint64_t produced = 0;
  std::string out(1 << 16, '\0');
  std::size_t fed = 0;
  int status = Z_OK;
  while (status == Z_OK) {
    if (z.avail_in == 0 && fed < data.size()) {
      const std::size_t n = std::min<std::size_t>(data.size() - fed, 1u << 30);
      z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data() + fed));
      z.avail_in = static_cast<uInt>(n);
      fed += n;
    }
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = static_cast<uInt>(out.size());
    status = ::inflate(&z, Z_NO_FLUSH);
    const std::size_t got = out.size() - z.avail_out;
    sum = ::crc32(sum, reinterpret_cast<const Bytef*>(out.data()), static_cast<uInt>(got));
    produced += got;
    if (status == Z_BUF_ERROR && z.avail_in == 0 && fed == data.size()) break;  // truncated
    if (produced > size) break;
  }
  const bool ok = status == Z_STREAM_END && z.avail_in == 0 && fed == data.size() && produced == size;
  ::inflateEnd(&z);
  crc = static_cast<std::uint32_t>(sum);
  return ok;
}

}  // namespace detail

/// Checks the zip archive `bytes` (`where` names it in errors): its end records and central
/// directory, every entry's local header and data inside the file, stored (method 0) or
/// deflated (8), and each entry's CRC-32 against the one stored. Throws InputError, one line
/// naming `where` and the entry: "<where>: damaged file: entry 'archive/data/3' fails its
/// CRC-32 check (stored 1a2b3c4d, computed 5e6f7a8b)".
inline void check_zip_archive(std::string_view bytes, const std::string& where) {
  using detail::zip_field;
  const auto damaged = [&](const std::string& what) -> void {
    throw InputError(where + ": damaged file: " + what);
  };
  const std::size_t size = bytes.size();
  // End of central directory: 22 bytes and a comment of up to 65535, at the very end.
  constexpr std::uint32_t kEnd = 0x06054b50, kEnd64 = 0x06064b50, kLocator64 = 0x07064b50;
  constexpr std::uint32_t kCentral = 0x02014b50, kLocal = 0x04034b50;
  std::size_t end = std::string_view::npos;
  for (std::size_t at = size >= 22 ? size - 22 : 0, stop = size >= 22 + 65535 ? size - 22 - 65535 : 0;
       size >= 22; --at) {
    if (zip_field(bytes, at, 4) == kEnd && at + 22 + zip_field(bytes, at + 20, 2) == size) {
      end = at;
      break;
    }
    if (at == stop) break;
  }
  if (end == std::string_view::npos) {
    throw InputError(where + ": not a zip archive (no end of central directory record; a truncated file?)");
  }
  std::uint64_t entries = zip_field(bytes, end + 10, 2);
  std::uint64_t directory_size = zip_field(bytes, end + 12, 4);
  std::uint64_t directory = zip_field(bytes, end + 16, 4);
  // Zip64: a locator just before the end record points at the zip64 end record.
  if (end >= 20 && zip_field(bytes, end - 20, 4) == kLocator64) {
    const std::uint64_t record = zip_field(bytes, end - 20 + 8, 8);
    if (record > size || size - record < 56 || zip_field(bytes, record, 4) != kEnd64) {
      damaged("the zip64 end of central directory record is missing");
    }
    entries = zip_field(bytes, record + 32, 8);
    directory_size = zip_field(bytes, record + 40, 8);
    directory = zip_field(bytes, record + 48, 8);
  }
  if (directory > size || directory_size > size - directory) damaged("the central directory lies outside the file");
  std::size_t at = static_cast<std::size_t>(directory);
  const std::size_t directory_end = static_cast<std::size_t>(directory + directory_size);
  for (std::uint64_t i = 0; i < entries; ++i) {
    const std::string entry_no = "entry " + std::to_string(i + 1) + " of " + std::to_string(entries);
    if (directory_end - at < 46 || zip_field(bytes, at, 4) != kCentral) {
      damaged(entry_no + ": no central directory header where one should be");
    }
    const unsigned method = static_cast<unsigned>(zip_field(bytes, at + 10, 2));
    const std::uint32_t stored_crc = static_cast<std::uint32_t>(zip_field(bytes, at + 16, 4));
    std::uint64_t compressed = zip_field(bytes, at + 20, 4), uncompressed = zip_field(bytes, at + 24, 4);
    const std::size_t name_length = zip_field(bytes, at + 28, 2), extra_length = zip_field(bytes, at + 30, 2),
                      comment_length = zip_field(bytes, at + 32, 2);
    std::uint64_t local = zip_field(bytes, at + 42, 4);
    if (directory_end - at - 46 < name_length + extra_length + comment_length) {
      damaged(entry_no + ": its central directory header runs past the directory");
    }
    const std::string name(bytes.substr(at + 46, name_length));
    const std::string entry = "entry '" + quote_for_message(name) + "'";
    // Zip64 extra field (id 1): the 8-byte values of the fields that hold 0xFFFFFFFF, in order.
    for (std::size_t e = at + 46 + name_length, e_end = e + extra_length; e + 4 <= e_end;) {
      const std::uint64_t id = zip_field(bytes, e, 2), length = zip_field(bytes, e + 2, 2);
      if (length > e_end - e - 4) damaged(entry + ": its extra field runs past its header");
      if (id == 1) {
        std::size_t f = e + 4;
        const std::size_t f_end = f + static_cast<std::size_t>(length);
        for (std::uint64_t* v : {&uncompressed, &compressed, &local}) {
          if (*v != 0xFFFFFFFFu) continue;
          if (f_end - f < 8) damaged(entry + ": its zip64 extra field is too short");
          *v = zip_field(bytes, f, 8);
          f += 8;
        }
      }
      e += 4 + static_cast<std::size_t>(length);
    }
    at += 46 + name_length + extra_length + comment_length;
    if (local > size || size - local < 30 || zip_field(bytes, local, 4) != kLocal) {
      damaged(entry + ": no local header at offset " + std::to_string(local));
    }
    const std::uint64_t data = local + 30 + zip_field(bytes, local + 26, 2) + zip_field(bytes, local + 28, 2);
    if (data > size || compressed > size - data) damaged(entry + ": its data runs past the end of the file");
    const std::string_view content = bytes.substr(static_cast<std::size_t>(data), static_cast<std::size_t>(compressed));
    std::uint32_t crc = 0;
    if (method == 0) {
      if (compressed != uncompressed) damaged(entry + ": stored, but its two sizes differ");
      crc = detail::zip_crc32(content);
    } else if (method == 8) {
      if (!detail::zip_inflate_crc32(content, uncompressed, crc)) {
        damaged(entry + ": its compressed data does not inflate to its " + std::to_string(uncompressed) + " bytes");
      }
    } else {
      damaged(entry + ": compression method " + std::to_string(method) + " (only stored and deflated entries are read)");
    }
    if (crc != stored_crc) {
      char text[64];
      std::snprintf(text, sizeof text, " (stored %08x, computed %08x)", static_cast<unsigned>(stored_crc),
                    static_cast<unsigned>(crc));
      damaged(entry + " fails its CRC-32 check" + text);
    }
  }
  if (at != directory_end) damaged("the central directory holds more than its " + std::to_string(entries) + " entries");
}

/// The largest LibTorch file (policy, checkpoint) read: 4 GiB.
inline constexpr std::uintmax_t kMaxArchiveFileBytes = std::uintmax_t{4} << 30;

/// Reads the archive file `path` whole (common/input_file.hpp: a regular file of at most
/// kMaxArchiveFileBytes) and checks it (check_zip_archive). Returns its bytes.
inline std::string read_checked_zip_archive(const std::string& path) {
  std::string bytes = read_input_file(path, kMaxArchiveFileBytes);
  check_zip_archive(bytes, path);
  return bytes;
}

}  // namespace bcq
