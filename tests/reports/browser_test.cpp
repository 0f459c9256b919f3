// The report opened in a real browser: headless Chromium (Debian chromium) loads index.html
// from the fixture results offline, takes a screenshot, and the test checks that the picture
// is not blank and that the page logged no console error and failed to load nothing. Skipped
// when chromium is not installed (scripts/install-deps.sh installs it, so CI runs it).
#include <gtest/gtest.h>
#include <png.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <sstream>

#include "reports/discover.hpp"
#include "reports/gnuplot.hpp"
#include "reports/report.hpp"
#include "tests/reports/fixtures.hpp"
#include "tests/test_util.hpp"

namespace {

namespace fs = std::filesystem;
using bcq::test::read_file;
using bcq::test::shell_quote;
using bcq::test::TempDir;

struct Screenshot {
  bool ok = false;
  unsigned width = 0, height = 0;
  std::vector<uint32_t> pixels;  // RGBA
  std::string log;               // chromium's stderr
};

// Opens `page` in headless chromium with a fresh profile; nothing may reach the network.
Screenshot open_in_chromium(const std::string& chromium, const std::string& page, const TempDir& t, const std::string& tag) {
  const std::string png = t.file(tag + ".png"), log = t.file(tag + ".log");
  const std::string cmd = "timeout 120 " + shell_quote(chromium) +
                          " --headless --no-sandbox --disable-gpu --no-first-run --disable-background-networking"
                          " --disable-component-update --disable-sync --disable-extensions --hide-scrollbars"
                          " --user-data-dir=" + shell_quote(t.file(tag + "-profile")) +
                          " --enable-logging=stderr --v=0 --window-size=1280,2000 --screenshot=" + shell_quote(png) + " " +
                          shell_quote("file://" + fs::absolute(page).string()) + " >/dev/null 2>" + shell_quote(log);
  Screenshot s;
  const int status = std::system(cmd.c_str());
  s.log = read_file(log);
  if (status != 0 || !fs::exists(png)) return s;
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_file(&image, png.c_str())) return s;
  image.format = PNG_FORMAT_RGBA;
  s.pixels.resize(PNG_IMAGE_SIZE(image) / 4);
  if (!png_image_finish_read(&image, nullptr, s.pixels.data(), 0, nullptr)) return s;
  s.width = image.width;
  s.height = image.height;
  s.ok = true;
  return s;
}

// Lines where chromium reports the page's console errors or a resource it could not load.
std::vector<std::string> page_errors(const std::string& log) {
  std::vector<std::string> out;
  std::istringstream in(log);
  std::string line;
  while (std::getline(in, line)) {
    const bool console = line.find(":CONSOLE") != std::string::npos || line.find("Uncaught") != std::string::npos;
    const bool load = line.find("net::ERR_") != std::string::npos || line.find("Failed to load resource") != std::string::npos;
    if (console || load) out.push_back(line);
  }
  return out;
}

// The share of pixels that differ from the most common colour (the page's background).
double share_not_background(const Screenshot& s) {
  std::map<uint32_t, size_t> count;
  for (uint32_t p : s.pixels) ++count[p];
  size_t background = 0;
  for (const auto& [colour, n] : count) background = std::max(background, n);
  return 1.0 - static_cast<double>(background) / static_cast<double>(s.pixels.size());
}

TEST(ReportInBrowser, RendersWithoutConsoleErrors) {
  const std::string chromium = bcq::reports::find_program("chromium");
  if (chromium.empty()) GTEST_SKIP() << "chromium not installed (scripts/install-deps.sh installs it)";
  TempDir t;
  bcq::test::fixtures::write_all(t.path());
  bcq::reports::ReportOptions options;
  options.title = "Browser check";
  bcq::reports::write_report(bcq::reports::discover({t.file("results")}), t.file("out"), options);

  // The detector first: a page that logs an error and loads a missing image must be caught.
  bcq::test::write_file(t.file("bad.html"),
                        "<!DOCTYPE html><html><body><p>x</p><img src=\"missing.png\">"
                        "<script>console.error('deliberate error')</script></body></html>");
  const auto bad = open_in_chromium(chromium, t.file("bad.html"), t, "bad");
  ASSERT_TRUE(bad.ok) << bad.log;
  EXPECT_FALSE(page_errors(bad.log).empty()) << "the console check sees nothing:\n" << bad.log;

  const auto shot = open_in_chromium(chromium, t.file("out/index.html"), t, "report");
  ASSERT_TRUE(shot.ok) << shot.log;
  EXPECT_EQ(shot.width, 1280u);
  const auto errors = page_errors(shot.log);
  EXPECT_TRUE(errors.empty()) << errors.front();
  // Text, tables and plots cover well over 2% of the first 2000 px; a blank page covers 0.
  EXPECT_GT(share_not_background(shot), 0.02);
}

}  // namespace
