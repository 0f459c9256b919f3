// Text formatting shared by every part of the report: numbers as the tables print them, and
// escaping for Markdown, HTML and gnuplot strings.
#pragma once

#include <cstdint>
#include <string>

namespace bcq::reports {

/// A value as the tables print it: one decimal, 3 significant digits from 1e5 up, "-" for NaN.
std::string number(double x);

/// number() with a leading + for non-negative values.
std::string signed_number(double x);

/// An integer with thousands separators: 300000 -> "300,000".
std::string integer(int64_t n);

/// A value with `digits` decimals ("-" for NaN), for probabilities and normalised scores.
std::string fixed(double x, int digits);

std::string html_escape(const std::string& s);
std::string md_escape(const std::string& s);

/// A single-quoted gnuplot string (a ' is doubled, newlines dropped).
std::string gnuplot_string(const std::string& s);

/// Lower-case letters, digits and single dashes: a file name part ("batch" when nothing is left).
std::string slug(const std::string& s);

}  // namespace bcq::reports
