#include "reports/gnuplot.hpp"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/core.h>

#include "common/atomic_file.hpp"
#include "common/error.hpp"
#include "reports/format.hpp"

namespace bcq::reports {

namespace fs = std::filesystem;

std::string find_program(const std::string& program) {
  auto runnable = [](const std::string& p) {
    std::error_code ec;
    return ::access(p.c_str(), X_OK) == 0 && !fs::is_directory(p, ec);
  };
  if (program.find('/') != std::string::npos) return runnable(program) ? program : std::string();
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path ? path : "/usr/local/bin:/usr/bin:/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    const std::string candidate = (dir.empty() ? "." : dir) + "/" + program;
    if (runnable(candidate)) return candidate;
  }
  return std::string();
}

int run_program(const std::string& file, const std::vector<std::string>& args, const std::string& stdin_path,
                const std::string& stdout_path, const std::string& log_path) {
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(file.c_str()));
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) throw InputError("cannot start " + file + ": " + std::strerror(errno));
  if (pid == 0) {
    const int in = ::open(stdin_path.c_str(), O_RDONLY);
    const int log = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int out = stdout_path.empty() ? log : ::open(stdout_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (in < 0 || log < 0 || out < 0) ::_exit(126);
    ::dup2(in, 0);
    ::dup2(out, 1);
    ::dup2(log, 2);
    ::execv(file.c_str(), argv.data());
    ::_exit(127);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  const int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  if (code == 126 || code == 127) throw InputError("cannot run " + file + " (exit code " + std::to_string(code) + ")");
  return code;
}

std::string last_line(const std::string& path) {
  std::ifstream log(path);
  std::string line, message;
  while (std::getline(log, line))
    if (line.find_first_not_of(" \t") != std::string::npos) message = line.substr(line.find_first_not_of(" \t"));
  return message;
}

void draw_gnuplot(const std::string& gnuplot, const std::string& work, const std::string& name,
                  const std::string& script) {
  const std::string gp = work + "/" + name + ".gp", log = work + "/" + name + ".log";
  const std::string svg = work + "/plots/" + name + ".svg";
  write_file_atomic(gp, script);
  const int code = run_program(gnuplot, {"-d"}, gp, "", log);
  const std::string message = last_line(log);
  std::error_code ec;
  if (code != 0 || !fs::exists(svg) || fs::file_size(svg, ec) == 0) {
    throw InputError("gnuplot failed on plots/" + name + ".svg" + (message.empty() ? "" : ": " + message));
  }
  fs::remove(gp);
  fs::remove(log);
}

std::string inline_svg(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream buf;
  buf << in.rdbuf();
  std::string svg = buf.str();
  const auto start = svg.find("<svg");
  if (start == std::string::npos) return std::string();
  svg.erase(0, start);  // the XML prolog and doctype have no place inside HTML
  for (size_t a; (a = svg.find("<!--")) != std::string::npos;) {
    const auto b = svg.find("-->", a);
    if (b == std::string::npos) break;
    svg.erase(a, b + 3 - a);
  }
  // gnuplot's <title>Gnuplot</title> would show as every plot's tooltip; dot titles every node.
  for (const char* tag : {"title", "desc"}) {
    const std::string open = std::string("<") + tag + ">", close = std::string("</") + tag + ">";
    for (size_t a; (a = svg.find(open)) != std::string::npos;) {
      const auto b = svg.find(close, a);
      if (b == std::string::npos) break;
      svg.erase(a, b + close.size() - a);
    }
  }
  if (!svg.empty() && svg.back() != '\n') svg += '\n';
  return svg;
}

namespace {

void append_points(std::string& script, const std::vector<double>& x, const std::vector<double>& a,
                   const std::vector<double>* b = nullptr) {
  for (size_t i = 0; i < x.size(); ++i) {
    script += fmt::format("{:.9g} {:.9g}", x[i], a[i]);
    if (b) script += fmt::format(" {:.9g}", (*b)[i]);
    script += "\n";
  }
  script += "e\n";
}

}  // namespace

std::string line_plot_script(const LinePlot& plot, const std::string& svg_path) {
  std::string script = fmt::format(
      "set terminal svg size 760,430 dynamic background rgb 'white' font 'sans,12'\n"
      "set output {}\n"
      "set title {} noenhanced\n"
      "set xlabel {} noenhanced\nset ylabel {} noenhanced\n"
      "set key outside top center horizontal noenhanced\n"
      "set grid lc rgb '#dddddd'\nset border lc rgb '#555555'\n",
      gnuplot_string(svg_path), gnuplot_string(plot.title), gnuplot_string(plot.xlabel), gnuplot_string(plot.ylabel));
  script += plot.log_x ? "set logscale x 10\nset format x '%g'\n" : "set format x '%.0f'\n";
  script += plot.y_axis;
  std::vector<std::string> items, data;
  for (const auto& line : plot.lines) {
    if (line.x.empty()) continue;
    if (!line.lo.empty()) {
      items.push_back(fmt::format(
          "'-' using 1:2:3 with filledcurves fc rgb '{}' fs transparent solid 0.18 noborder notitle", line.colour));
      std::string block;
      append_points(block, line.x, line.lo, &line.hi);
      data.push_back(block);
    }
    items.push_back(fmt::format("'-' using 1:2 with linespoints lc rgb '{}' lw 2 {} pt {} ps 0.6 title {}", line.colour,
                                line.dashed ? "dt 2" : "", line.dashed ? 6 : 7, gnuplot_string(line.title)));
    std::string block;
    append_points(block, line.x, line.y);
    data.push_back(block);
  }
  for (const auto& [value, title] : plot.horizontal) {
    items.push_back(fmt::format("{:.9g} with lines dt 2 lw 2 lc rgb '#333333' title {}", value, gnuplot_string(title)));
  }
  if (items.empty()) return "";
  script += "plot ";
  for (size_t i = 0; i < items.size(); ++i) script += (i ? ", \\\n     " : "") + items[i];
  script += "\n";
  for (const auto& d : data) script += d;
  return script;
}

std::string value_axis(const std::vector<double>& values, double reference) {
  double largest = 0;
  for (double v : values)
    if (std::isfinite(v)) largest = std::max(largest, std::fabs(v));
  reference = std::max(1.0, reference);
  if (largest <= 100 * reference) return "";
  std::string script = "set nonlinear y via sgn(y)*log10(1+abs(y)) inverse sgn(y)*(10**abs(y)-1)\nset ytics (";
  const int top = static_cast<int>(std::ceil(std::log10(largest)));
  script += "'0' 0";
  for (int k = 0; k <= top; ++k) {
    const std::string label = k <= 4 ? fmt::format("{}", static_cast<int64_t>(std::pow(10, k))) : fmt::format("1e{}", k);
    script += fmt::format(", '{}' {:g}, '-{}' {:g}", label, std::pow(10.0, k), label, -std::pow(10.0, k));
  }
  return script + ")\n";
}

std::string colour_of(const std::string& algo, bool variant, size_t index) {
  static const char* by_algo[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd"};
  static const char* variants[] = {"#17becf", "#ff9896", "#98df8a", "#c5b0d5"};
  static const char* other[] = {"#ff7f0e", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22"};
  const int rank = algo_rank(algo);
  if (rank < 4) return variant ? variants[rank] : by_algo[rank];
  return other[index % 5];
}

namespace {

std::vector<double> as_x(const std::vector<int64_t>& it) { return std::vector<double>(it.begin(), it.end()); }

}  // namespace

std::string return_plot(const Group& g, const std::string& svg_path, Band band) {
  LinePlot plot{g.env + ": return during training", "training iterations", "average return", false, "", {}, {}};
  for (size_t i = 0; i < g.series.size(); ++i) {
    const auto& s = g.series[i];
    const auto c = return_curve(s.label, s.runs, band);
    if (c.iteration.empty()) continue;
    const std::string title = c.runs > 1 ? fmt::format("{} ({} seeds)", c.label, c.runs) : c.label;
    plot.lines.push_back({title, colour_of(s.algo, s.label != s.algo, i), false, as_x(c.iteration), c.mean, c.lo, c.hi});
  }
  if (plot.lines.empty()) return "";
  if (std::isfinite(g.behavioural_return)) plot.horizontal.push_back({g.behavioural_return, "behavioural"});
  return line_plot_script(plot, svg_path);
}

std::string value_plot(const Group& g, const std::string& svg_path) {
  LinePlot plot{g.env + ": estimated value vs true discounted return", "training iterations",
                "value of the evaluation start states", false, "", {}, {}};
  std::vector<double> all, truths;
  for (size_t i = 0; i < g.series.size(); ++i) {
    const auto& s = g.series[i];
    const auto c = value_curve(s.label, s.runs);  // empty without a critic
    if (c.iteration.empty()) continue;
    const std::string colour = colour_of(s.algo, s.label != s.algo, i);
    plot.lines.push_back({c.label + ": estimated Q", colour, false, as_x(c.iteration), c.estimate, {}, {}});
    plot.lines.push_back({c.label + ": true discounted return", colour, true, as_x(c.iteration), c.truth, {}, {}});
    all.insert(all.end(), c.estimate.begin(), c.estimate.end());
    all.insert(all.end(), c.truth.begin(), c.truth.end());
    truths.insert(truths.end(), c.truth.begin(), c.truth.end());
  }
  if (plot.lines.empty()) return "";
  double reference = 1;
  for (double v : truths) reference = std::max(reference, std::fabs(v));
  plot.y_axis = value_axis(all, reference);
  return line_plot_script(plot, svg_path);
}

}  // namespace bcq::reports
