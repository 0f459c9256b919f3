// check_zip_archive (common/zip_archive.hpp) on archives built here byte by byte as the zip
// format lays them out (stored and deflated entries, the zip64 end records LibTorch writes):
// intact ones pass, a flipped byte, a cut file or offsets pointing outside are refused with one
// line naming the file and the entry. Real LibTorch files: tests/continuous/cli_hardening_test.
#include <gtest/gtest.h>

#include <zlib.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "common/error.hpp"
#include "common/zip_archive.hpp"

namespace {

void put(std::string& out, std::uint64_t value, int bytes) {
  for (int i = 0; i < bytes; ++i) out += static_cast<char>((value >> (8 * i)) & 0xFF);
}

std::uint32_t crc_of(const std::string& data) {
  return static_cast<std::uint32_t>(::crc32(0L, reinterpret_cast<const Bytef*>(data.data()), static_cast<uInt>(data.size())));
}

std::string raw_deflate(const std::string& data) {
  z_stream z{};
  EXPECT_EQ(::deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(::deflateBound(&z, static_cast<uLong>(data.size())), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(::deflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(z.total_out);
  ::deflateEnd(&z);
  return out;
}

struct Entry {
  std::string name, data;
  bool deflate = false;
};

// A zip archive of `entries`; with `zip64`, the end records LibTorch writes (a zip64 end of
// central directory record and its locator, the classic record's fields saturated) and the
// central directory's sizes and offsets in zip64 extra fields.
std::string make_zip(const std::vector<Entry>& entries, bool zip64 = false) {
  std::string out, directory;
  for (const Entry& e : entries) {
    const std::string stored = e.deflate ? raw_deflate(e.data) : e.data;
    const std::uint64_t local = out.size();
    put(out, 0x04034b50, 4);
    put(out, 20, 2);
    put(out, 0, 2);
    put(out, e.deflate ? 8 : 0, 2);
    put(out, 0, 4);  // time, date
    put(out, crc_of(e.data), 4);
    put(out, stored.size(), 4);
    put(out, e.data.size(), 4);
    put(out, e.name.size(), 2);
    put(out, 3, 2);  // extra: 3 bytes of padding, as LibTorch pads to align tensors
    out += e.name + std::string(3, '\0') + stored;
    put(directory, 0x02014b50, 4);
    put(directory, 45, 2);
    put(directory, 45, 2);
    put(directory, 0, 2);
    put(directory, e.deflate ? 8 : 0, 2);
    put(directory, 0, 4);
    put(directory, crc_of(e.data), 4);
    put(directory, zip64 ? 0xFFFFFFFFu : stored.size(), 4);
    put(directory, zip64 ? 0xFFFFFFFFu : e.data.size(), 4);
    put(directory, e.name.size(), 2);
    put(directory, zip64 ? 28 : 0, 2);
    put(directory, 0, 2);  // comment
    put(directory, 0, 2);  // disk
    put(directory, 0, 2);
    put(directory, 0, 4);
    put(directory, zip64 ? 0xFFFFFFFFu : local, 4);
    directory += e.name;
    if (zip64) {
      put(directory, 1, 2);
      put(directory, 24, 2);
      put(directory, e.data.size(), 8);
      put(directory, stored.size(), 8);
      put(directory, local, 8);
    }
  }
  const std::uint64_t directory_at = out.size();
  out += directory;
  if (zip64) {
    const std::uint64_t record = out.size();
    put(out, 0x06064b50, 4);
    put(out, 44, 8);
    put(out, 45, 2);
    put(out, 45, 2);
    put(out, 0, 4);
    put(out, 0, 4);
    put(out, entries.size(), 8);
    put(out, entries.size(), 8);
    put(out, directory.size(), 8);
    put(out, directory_at, 8);
    put(out, 0x07064b50, 4);
    put(out, 0, 4);
    put(out, record, 8);
    put(out, 1, 4);
  }
  put(out, 0x06054b50, 4);
  put(out, 0, 2);
  put(out, 0, 2);
  put(out, zip64 ? 0xFFFF : entries.size(), 2);
  put(out, zip64 ? 0xFFFF : entries.size(), 2);
  put(out, zip64 ? 0xFFFFFFFFu : directory.size(), 4);
  put(out, zip64 ? 0xFFFFFFFFu : directory_at, 4);
  put(out, 0, 2);
  return out;
}

const std::vector<Entry> kEntries = {
    {"archive/data.pkl", "pickled tensors, say"},
    {"archive/data/0", std::string(4000, '\x3f') + "weights"},
    {"archive/code/__torch__.py", std::string(50, 'a') + "def forward(self, x):\n    return x\n", true},
};

// The one-line message check_zip_archive throws for `bytes`, or "" if it accepts them.
std::string refusal(const std::string& bytes) {
  try {
    bcq::check_zip_archive(bytes, "p.pt");
  } catch (const bcq::InputError& e) {
    return e.what();
  }
  return "";
}

TEST(ZipArchive, IntactArchivesPass) {
  EXPECT_EQ(refusal(make_zip(kEntries)), "");
  EXPECT_EQ(refusal(make_zip(kEntries, /*zip64=*/true)), "");
  EXPECT_EQ(refusal(make_zip({})), "");
}

TEST(ZipArchive, AFlippedByteInAnEntryIsRefusedNamingTheEntry) {
  for (bool zip64 : {false, true}) {
    std::string zip = make_zip(kEntries, zip64);
    const std::size_t at = zip.find(std::string(4000, '\x3f')) + 2000;
    zip[at] = static_cast<char>(zip[at] ^ 0x01);
    const std::string why = refusal(zip);
    EXPECT_EQ(why.rfind("p.pt: damaged file: entry 'archive/data/0' fails its CRC-32 check (stored ", 0), 0u) << why;
    EXPECT_EQ(why.find('\n'), std::string::npos) << why;
  }
  // A deflated entry: its data no longer inflates, or inflates to other bytes.
  std::string zip = make_zip(kEntries);
  const std::size_t code = zip.find("archive/code/__torch__.py") + 25 + 3;  // its data, in the local header
  zip[code + 4] = static_cast<char>(zip[code + 4] ^ 0x20);
  const std::string why = refusal(zip);
  EXPECT_NE(why.find("entry 'archive/code/__torch__.py'"), std::string::npos) << why;
}

TEST(ZipArchive, CutOrInconsistentFilesAreRefused) {
  const std::string zip = make_zip(kEntries);
  EXPECT_NE(refusal(zip.substr(0, zip.size() - 7)).find("p.pt: not a zip archive"), std::string::npos);
  EXPECT_NE(refusal(zip.substr(0, zip.size() / 2)).find("p.pt: not a zip archive"), std::string::npos);
  EXPECT_NE(refusal("").find("not a zip archive"), std::string::npos);
  EXPECT_NE(refusal("not a zip file at all, just text").find("not a zip archive"), std::string::npos);
  // The central directory's offset (the end record's last field but the comment length) past the end.
  std::string moved = zip;
  moved[moved.size() - 3] = '\x7f';
  EXPECT_NE(refusal(moved).find("the central directory lies outside the file"), std::string::npos) << refusal(moved);
  // An entry whose local header offset points at its data instead.
  std::string shifted = zip;
  const std::size_t second = shifted.find("PK\x01\x02", shifted.find("PK\x01\x02") + 1);
  shifted[second + 42] = static_cast<char>(shifted[second + 42] + 1);
  EXPECT_NE(refusal(shifted).find("entry 'archive/data/0': no local header"), std::string::npos) << refusal(shifted);
  // The stored data cut: the local header says more bytes than the file has.
  std::string one = make_zip({{"archive/data/0", std::string(100, 'x')}});
  const std::size_t directory = one.find("PK\x01\x02");
  one = one.substr(0, directory - 10) + one.substr(directory);
  EXPECT_NE(refusal(one), "");
}

}  // namespace
