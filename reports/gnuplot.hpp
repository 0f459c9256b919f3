// Drawing: the external programs (gnuplot for plots, Graphviz dot for counterexample graphs),
// the gnuplot scripts of the report's plots, and SVG made fit to inline in HTML.
#pragma once

#include <string>
#include <vector>

#include "reports/grouping.hpp"

namespace bcq::reports {

/// The file execvp would run for `program` (searched on PATH unless it names a path); empty
/// when there is none.
std::string find_program(const std::string& program);

/// Runs `file` with `args`, stdin from `stdin_path`, stdout to `stdout_path` and stderr to
/// `log_path` (stdout too when `stdout_path` is empty). Returns the exit code (-1: killed).
/// Throws InputError when the program cannot be started.
int run_program(const std::string& file, const std::vector<std::string>& args, const std::string& stdin_path,
                const std::string& stdout_path, const std::string& log_path);

/// The last non-blank line of a file (where gnuplot and dot print their error), trimmed.
std::string last_line(const std::string& path);

/// Writes `script` to `work`/`name`.gp and runs gnuplot on it (-d: a user's ~/.gnuplot could
/// change how the data are read); the plot is `work`/plots/`name`.svg. Throws InputError with
/// gnuplot's last line when it fails or writes nothing.
void draw_gnuplot(const std::string& gnuplot, const std::string& work, const std::string& name,
                  const std::string& script);

/// The SVG file's <svg> element without the XML prolog, comments and the title/desc tooltips,
/// ready to inline in HTML; empty when the file holds no <svg>.
std::string inline_svg(const std::string& path);

/// One curve of a line plot: x, y and optionally a band [lo, hi] drawn around it.
struct PlotLine {
  std::string title;
  std::string colour;     ///< "#rrggbb"
  bool dashed = false;
  std::vector<double> x, y, lo, hi;  ///< lo / hi empty: no band
};

/// A line plot's gnuplot script (terminal svg, data inline). `horizontal` lines (value,
/// title) are drawn dashed across the plot; `log_x` uses a log10 x axis; `symlog_y` the
/// symmetric log y axis (set by value_axis()).
struct LinePlot {
  std::string title, xlabel, ylabel;
  bool log_x = false;
  std::string y_axis;  ///< extra gnuplot commands for the y axis (value_axis())
  std::vector<PlotLine> lines;
  std::vector<std::pair<double, std::string>> horizontal;
};

std::string line_plot_script(const LinePlot& plot, const std::string& svg_path);

/// A symmetric log y axis (sign(y) log10(1 + |y|)) when `values` span orders of magnitude past
/// `reference` (a diverging estimate would otherwise flatten every other curve); "" otherwise.
std::string value_axis(const std::vector<double>& values, double reference);

/// The colour of an algorithm in every plot: bcq blue, ddpg red, bc green, vae-bc purple; a
/// variant (another precision) a lighter shade; others from a fixed cycle by `index`.
std::string colour_of(const std::string& algo, bool variant, size_t index);

/// The return plot of a batch's runs (returns over training, the behavioural return dashed);
/// "" when no run has evaluated.
std::string return_plot(const Group& g, const std::string& svg_path, Band band);

/// Each critic's estimated value against the true discounted return; "" without a critic.
std::string value_plot(const Group& g, const std::string& svg_path);

}  // namespace bcq::reports
