#include "reports/report.hpp"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>

#include <fmt/core.h>

#include "common/atomic_file.hpp"
#include "common/error.hpp"

namespace bcq::reports {

namespace fs = std::filesystem;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// ---- numbers and text ----

std::string number(double x) {
  if (std::isnan(x)) return "-";
  if (std::isinf(x)) return x > 0 ? "inf" : "-inf";
  if (std::fabs(x) >= 1e5) return fmt::format("{:.3g}", x);
  return fmt::format("{:.1f}", x);
}

std::string signed_number(double x) {
  if (std::isnan(x) || std::isinf(x)) return number(x);
  return (x >= 0 ? "+" : "") + number(x);
}

std::string integer(int64_t n) {  // 300000 -> "300,000"
  std::string digits = std::to_string(n < 0 ? -n : n), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return (n < 0 ? "-" : "") + out;
}

std::string html_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string md_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '|' || c == '*' || c == '_' || c == '`' || c == '[' || c == ']' || c == '<' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

std::string gnuplot_string(const std::string& s) {  // single-quoted: only ' needs doubling
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out += "''";
    else if (c != '\n') out += c;
  }
  return out + "'";
}

std::string slug(const std::string& s) {
  std::string out;
  for (char c : s) {
    const bool keep = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
    if (keep) out += c;
    else if (c >= 'A' && c <= 'Z') out += static_cast<char>(c - 'A' + 'a');
    else if (!out.empty() && out.back() != '-') out += '-';
  }
  while (!out.empty() && out.back() == '-') out.pop_back();
  return out.empty() ? "batch" : out;
}

// ---- groups of runs on the same batch ----

struct Series {
  std::string label;
  std::string algo;
  std::vector<const RunRecord*> runs;
};

struct Group {
  std::string env, batch, slug;
  double behavioural_return = kNaN;
  std::vector<const RunRecord*> runs;
  std::vector<Series> series;
};

int algo_rank(const std::string& algo) {
  static const char* order[] = {"bcq", "ddpg", "bc", "vae-bc"};
  for (int i = 0; i < 4; ++i)
    if (algo == order[i]) return i;
  return 4;
}

std::string series_label(const RunRecord& r) {
  return r.precision == "fp32" || r.precision.empty() ? r.algo : r.algo + " (" + r.precision + ")";
}

std::vector<Group> group_runs(const std::vector<RunRecord>& runs) {
  std::vector<Group> groups;
  std::vector<std::string> keys;
  for (const auto& r : runs) {
    auto at = std::find(keys.begin(), keys.end(), r.batch_key);
    if (at == keys.end()) {
      keys.push_back(r.batch_key);
      groups.push_back({r.env, r.batch, "", kNaN, {}, {}});
      at = keys.end() - 1;
    }
    Group& g = groups[static_cast<size_t>(at - keys.begin())];
    g.runs.push_back(&r);
    if (std::isnan(g.behavioural_return)) g.behavioural_return = r.behavioural_return;
  }
  // Two files with the same name and attributes in different folders: say which is which.
  std::vector<bool> shared;
  for (const auto& g : groups) {
    shared.push_back(std::count_if(groups.begin(), groups.end(), [&](const Group& o) {
                       return o.env == g.env && o.batch == g.batch;
                     }) > 1);
  }
  for (size_t i = 0; i < groups.size(); ++i) {
    if (shared[i] && !groups[i].runs.front()->buffer.empty()) groups[i].batch += " at " + groups[i].runs.front()->buffer;
  }
  std::set<std::string> used;
  for (auto& g : groups) {
    std::string batch = g.batch.substr(0, g.batch.find(" ("));
    if (batch.size() > 3 && batch.compare(batch.size() - 3, 3, ".h5") == 0) batch.resize(batch.size() - 3);
    const std::string base = slug(g.env + "-" + batch);
    g.slug = base;
    for (int n = 2; !used.insert(g.slug).second; ++n) g.slug = base + "-" + std::to_string(n);
    for (const RunRecord* r : g.runs) {
      const std::string label = series_label(*r);
      auto it = std::find_if(g.series.begin(), g.series.end(), [&](const Series& s) { return s.label == label; });
      if (it == g.series.end()) {
        g.series.push_back({label, r->algo, {}});
        it = g.series.end() - 1;
      }
      it->runs.push_back(r);
    }
    std::stable_sort(g.series.begin(), g.series.end(), [](const Series& a, const Series& b) {
      return algo_rank(a.algo) != algo_rank(b.algo) ? algo_rank(a.algo) < algo_rank(b.algo) : a.label < b.label;
    });
  }
  return groups;
}

// ---- gnuplot ----

// The same algorithm has the same colour in every plot; a second precision gets a lighter one.
std::string colour(const Series& s, size_t index) {
  static const char* by_algo[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd"};
  static const char* variant[] = {"#17becf", "#ff9896", "#98df8a", "#c5b0d5"};
  static const char* other[] = {"#ff7f0e", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22"};
  const int rank = algo_rank(s.algo);
  if (rank < 4) return s.label == s.algo ? by_algo[rank] : variant[rank];
  return other[index % 5];
}

void append_points(std::string& script, const std::vector<int64_t>& x, const std::vector<double>& a,
                   const std::vector<double>* b = nullptr) {
  for (size_t i = 0; i < x.size(); ++i) {
    script += fmt::format("{} {:.9g}", x[i], a[i]);
    if (b) script += fmt::format(" {:.9g}", (*b)[i]);
    script += "\n";
  }
  script += "e\n";
}

std::string plot_header(const std::string& svg_path, const std::string& title, const std::string& ylabel) {
  return fmt::format(
      "set terminal svg size 760,430 dynamic background rgb 'white' font 'sans,12'\n"
      "set output {}\n"
      "set title {} noenhanced\n"
      "set xlabel 'training iterations'\nset ylabel {} noenhanced\n"
      "set key outside top center horizontal noenhanced\n"
      "set grid lc rgb '#dddddd'\nset border lc rgb '#555555'\n"
      "set format x '%.0f'\n",
      gnuplot_string(svg_path), gnuplot_string(title), gnuplot_string(ylabel));
}

// `plot item, item, ...` followed by the inline data blocks the items read ('-').
std::string plot_command(const std::vector<std::string>& items, const std::vector<std::string>& data) {
  std::string out = "plot ";
  for (size_t i = 0; i < items.size(); ++i) out += (i ? ", \\\n     " : "") + items[i];
  out += "\n";
  for (const auto& d : data) out += d;
  return out;
}

// A symmetric log scale (sign(y) log10(1 + |y|)) when the values span orders of magnitude past
// what the true returns do: a diverging critic's estimate would otherwise flatten every other
// curve.
std::string value_axis(const std::vector<ValueCurve>& curves) {
  double largest = 0, truth = 1;
  for (const auto& c : curves) {
    for (double v : c.estimate) largest = std::max(largest, std::fabs(v));
    for (double v : c.truth) {
      largest = std::max(largest, std::fabs(v));
      truth = std::max(truth, std::fabs(v));
    }
  }
  if (largest <= 100 * truth) return "";
  std::string script =
      "set nonlinear y via sgn(y)*log10(1+abs(y)) inverse sgn(y)*(10**abs(y)-1)\nset ytics (";
  const int top = static_cast<int>(std::ceil(std::log10(largest)));
  script += "'0' 0";
  for (int k = 0; k <= top; ++k) {
    const std::string label = k <= 4 ? fmt::format("{}", static_cast<int64_t>(std::pow(10, k))) : fmt::format("1e{}", k);
    script += fmt::format(", '{}' {:g}, '-{}' {:g}", label, std::pow(10.0, k), label, -std::pow(10.0, k));
  }
  return script + ")\n";
}

// The file execvp would run for `program` (searched on PATH unless it names a path); empty when
// there is none.
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

// Runs gnuplot on `script` (written next to the plot) with its default settings (-d: a user's
// ~/.gnuplot could change how the data are read); throws InputError with the last line it
// printed (gnuplot ends an error with `line N: message`) when it fails or is missing.
void run_gnuplot(const std::string& file, const std::string& script_path, const std::string& log_path,
                 const std::string& svg_path, const std::string& what) {
  const pid_t pid = ::fork();
  if (pid < 0) throw InputError(std::string("cannot start gnuplot: ") + std::strerror(errno));
  if (pid == 0) {
    const int in = ::open(script_path.c_str(), O_RDONLY);
    const int log = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (in < 0 || log < 0) ::_exit(126);
    ::dup2(in, 0);
    ::dup2(log, 1);
    ::dup2(log, 2);
    ::execl(file.c_str(), file.c_str(), "-d", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  const int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  if (code == 126 || code == 127) throw InputError("cannot run " + file + " (exit code " + std::to_string(code) + ")");
  std::string message;
  {
    std::ifstream log(log_path);
    std::string line;
    while (std::getline(log, line))
      if (line.find_first_not_of(" \t") != std::string::npos) message = line.substr(line.find_first_not_of(" \t"));
  }
  std::error_code ec;
  if (code != 0 || !fs::exists(svg_path) || fs::file_size(svg_path, ec) == 0) {
    throw InputError("gnuplot failed on " + what + (message.empty() ? "" : ": " + message));
  }
}

void draw(const std::string& gnuplot, const std::string& work, const std::string& name,
          const std::string& script) {
  const std::string gp = work + "/" + name + ".gp";
  write_file_atomic(gp, script);
  run_gnuplot(gnuplot, gp, work + "/" + name + ".log", work + "/plots/" + name + ".svg", "plots/" + name + ".svg");
  fs::remove(gp);
  fs::remove(work + "/" + name + ".log");
}

std::string return_plot(const Group& g, const std::string& svg_path) {
  std::string script = plot_header(svg_path, g.env + ": return during training", "average return");
  std::vector<ReturnCurve> curves;
  for (const auto& s : g.series) curves.push_back(return_curve(s.label, s.runs));
  std::vector<std::string> items, data;
  for (size_t i = 0; i < curves.size(); ++i) {
    const auto& c = curves[i];
    if (c.iteration.empty()) continue;
    std::vector<double> lo(c.mean.size()), hi(c.mean.size());
    for (size_t k = 0; k < c.mean.size(); ++k) {
      lo[k] = c.mean[k] - c.spread[k];
      hi[k] = c.mean[k] + c.spread[k];
    }
    items.push_back(fmt::format("'-' using 1:2:3 with filledcurves fc rgb '{}' fs transparent solid 0.18 noborder notitle",
                                colour(g.series[i], i)));
    std::string block;
    append_points(block, c.iteration, lo, &hi);
    data.push_back(block);
    const std::string title = c.runs > 1 ? fmt::format("{} ({} seeds)", c.label, c.runs) : c.label;
    items.push_back(fmt::format("'-' using 1:2 with linespoints lc rgb '{}' lw 2 pt 7 ps 0.6 title {}",
                                colour(g.series[i], i), gnuplot_string(title)));
    block.clear();
    append_points(block, c.iteration, c.mean);
    data.push_back(block);
  }
  if (std::isfinite(g.behavioural_return)) {
    items.push_back(fmt::format("{:.9g} with lines dt 2 lw 2 lc rgb '#333333' title 'behavioural'", g.behavioural_return));
  }
  if (items.empty()) return "";
  return script + plot_command(items, data);
}

std::string value_plot(const Group& g, const std::string& svg_path) {
  std::vector<ValueCurve> curves;
  std::vector<size_t> colours;
  for (size_t i = 0; i < g.series.size(); ++i) {
    auto c = value_curve(g.series[i].label, g.series[i].runs);  // empty without a critic
    if (c.iteration.empty()) continue;
    curves.push_back(std::move(c));
    colours.push_back(i);
  }
  if (curves.empty()) return "";
  std::string script = plot_header(svg_path, g.env + ": estimated value vs true discounted return",
                                   "value of the evaluation start states");
  script += value_axis(curves);
  std::vector<std::string> items, data;
  for (size_t i = 0; i < curves.size(); ++i) {
    const auto& c = curves[i];
    items.push_back(fmt::format("'-' using 1:2 with linespoints lc rgb '{}' lw 2 pt 7 ps 0.6 title {}",
                                colour(g.series[colours[i]], colours[i]), gnuplot_string(c.label + ": estimated Q")));
    items.push_back(fmt::format("'-' using 1:2 with linespoints lc rgb '{}' lw 2 dt 2 pt 6 ps 0.6 title {}",
                                colour(g.series[colours[i]], colours[i]), gnuplot_string(c.label + ": true discounted return")));
    std::string block;
    append_points(block, c.iteration, c.estimate);
    data.push_back(block);
    block.clear();
    append_points(block, c.iteration, c.truth);
    data.push_back(block);
  }
  return script + plot_command(items, data);
}

// ---- document ----

using Row = std::vector<std::string>;

struct Table {
  Row header;
  std::vector<Row> rows;
};

std::string markdown_table(const Table& t) {
  std::string out = "|";
  for (const auto& h : t.header) out += " " + md_escape(h) + " |";
  out += "\n|";
  for (size_t i = 0; i < t.header.size(); ++i) out += "---|";
  out += "\n";
  for (const auto& r : t.rows) {
    out += "|";
    for (const auto& c : r) out += " " + md_escape(c) + " |";
    out += "\n";
  }
  return out;
}

std::string html_table(const Table& t) {
  std::string out = "<table>\n<tr>";
  for (const auto& h : t.header) out += "<th>" + html_escape(h) + "</th>";
  out += "</tr>\n";
  for (const auto& r : t.rows) {
    out += "<tr>";
    for (const auto& c : r) out += "<td>" + html_escape(c) + "</td>";
    out += "</tr>\n";
  }
  return out + "</table>\n";
}

std::string status_text(const RunRecord& r) {
  if (r.status == "diverged") {
    return "diverged at iteration " + integer(r.status_iteration) + (r.diverged_loss.empty() ? "" : " (" + r.diverged_loss + ")");
  }
  // A run killed mid-way still says "running": only its process knows otherwise.
  if (r.status == "running") return "running or interrupted";
  return r.status;
}

Table run_table(const Group& g) {
  Table t{{"run", "algorithm", "seed", "evaluated at", "status", "return (last evaluation)",
           "best return (at iteration)", "% of behavioural", "estimated Q", "true discounted return",
           "estimated - true"},
          {}};
  for (const auto& s : g.series) {
    for (const RunRecord* r : s.runs) {
      const auto sum = summarize(*r);
      Row row{r->name, s.label, std::to_string(r->seed)};
      if (!sum.has_evals) {
        row.insert(row.end(), {"-", status_text(*r), "no evaluation yet", "-", "-", "-", "-", "-"});
      } else {
        row.push_back(integer(sum.last.iteration) + " / " + integer(r->iterations));
        row.push_back(status_text(*r));
        row.push_back(number(sum.last.mean_return) + " ± " + number(sum.last.std_return));
        row.push_back(number(sum.best.mean_return) + " (" + integer(sum.best.iteration) + ")");
        row.push_back(std::isnan(sum.percent_of_behavioural) ? "-" : fmt::format("{:.0f}%", sum.percent_of_behavioural));
        row.push_back(number(sum.last.q_estimate));
        row.push_back(std::isnan(sum.last.q_estimate) ? "-" : number(sum.last.true_discounted));
        row.push_back(signed_number(sum.value_gap));
      }
      t.rows.push_back(std::move(row));
    }
  }
  return t;
}

// Facts a reader looks for first: the best policies at the end, and the largest overestimate.
std::vector<std::string> findings(const Group& g) {
  std::vector<std::string> out;
  std::vector<const RunRecord*> best;
  const RunRecord* over = nullptr;
  RunSummary over_summary;
  double best_return = -std::numeric_limits<double>::infinity(), largest_gap = 0;
  for (const RunRecord* r : g.runs) {
    const auto s = summarize(*r);
    if (!s.has_evals) continue;
    if (s.last.mean_return > best_return) {
      best_return = s.last.mean_return;
      best.clear();
    }
    if (s.last.mean_return == best_return) best.push_back(r);
    if (!std::isnan(s.value_gap) && s.value_gap > largest_gap) {
      largest_gap = s.value_gap;
      over = r;
      over_summary = s;
    }
  }
  if (!best.empty()) {
    std::string who;
    for (size_t i = 0; i < best.size(); ++i) {
      who += (i == 0 ? "" : i + 1 == best.size() ? " and " : ", ") +
             fmt::format("{} ({}, seed {})", series_label(*best[i]), best[i]->name, best[i]->seed);
    }
    std::string line = "Highest return at the last evaluation: " + number(best_return) + ", by " + who;
    if (std::isfinite(g.behavioural_return)) {
      line += fmt::format("; the behavioural policy's is {}", number(g.behavioural_return));
    }
    out.push_back(line + ".");
  }
  if (over) {
    const auto& s = over_summary;
    out.push_back(fmt::format(
        "Largest overestimate: {} ({}, seed {}) estimates {} for the start states, whose true discounted return "
        "was {}.",
        series_label(*over), over->name, over->seed, number(s.last.q_estimate), number(s.last.true_discounted)));
  }
  return out;
}

const char* kReading =
    "Each section compares the runs trained on one batch. Return is the mean undiscounted "
    "return of the evaluation episodes (10 by default, each from its own seeded start state); "
    "% of behavioural compares it with the mean return of the episodes in the buffer, the "
    "policy that collected the data. Estimated Q is the critic's mean Q(s0, pi(s0)) over those "
    "start states and true discounted return what the policy then obtained from them "
    "(gamma 0.99): their difference is the extrapolation error of section 3 of the paper. An "
    "off-policy agent trained on a fixed batch (offline DDPG) typically overestimates by "
    "orders of magnitude; BCQ's estimate should stay near the truth. The plots show one line "
    "per algorithm; with several seeds the line is their mean and the band one standard "
    "deviation across seeds, with one seed the band is the standard deviation over the "
    "evaluation episodes.";

const char* kCss =
    "body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}"
    "table{border-collapse:collapse;margin:1em 0;font-size:0.9em}"
    "th,td{border:1px solid #ccc;padding:0.3em 0.6em;text-align:right}"
    "th{background:#f3f3f3}td:first-child,td:nth-child(2),td:nth-child(5){text-align:left}"
    "figure{margin:1em 0}figcaption{font-size:0.9em;color:#555}svg{max-width:100%;height:auto}";

std::string inline_svg(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream buf;
  buf << in.rdbuf();
  std::string svg = buf.str();
  const auto start = svg.find("<svg");
  if (start == std::string::npos) return std::string();
  svg.erase(0, start);  // the XML prolog has no place inside HTML
  // gnuplot's <title>Gnuplot</title> would show as every plot's tooltip.
  for (const char* tag : {"title", "desc"}) {
    const std::string open = std::string("<") + tag + ">", close = std::string("</") + tag + ">";
    const auto a = svg.find(open), b = svg.find(close);
    if (a != std::string::npos && b != std::string::npos && b > a) svg.erase(a, b + close.size() - a);
  }
  return svg;
}

// Calls f(iteration, evaluations) for each iteration at which every run that has evaluated
// at least once has an evaluation (a seed just started would otherwise empty every curve), in
// order; returns how many runs that is.
template <typename F>
int for_each_shared_evaluation(const std::vector<const RunRecord*>& all_runs, F f) {
  std::vector<const RunRecord*> runs;
  for (const RunRecord* r : all_runs)
    if (!r->evals.empty()) runs.push_back(r);
  if (runs.empty()) return 0;
  for (const auto& e : runs.front()->evals) {
    std::vector<const EvalPoint*> at;
    for (const RunRecord* r : runs) {
      auto it = std::find_if(r->evals.begin(), r->evals.end(), [&](const EvalPoint& p) { return p.iteration == e.iteration; });
      if (it == r->evals.end()) break;
      at.push_back(&*it);
    }
    if (at.size() == runs.size()) f(e.iteration, at);
  }
  return static_cast<int>(runs.size());
}

void remove_quietly(const std::string& path) {
  std::error_code ec;
  fs::remove_all(path, ec);
}

}  // namespace

RunSummary summarize(const RunRecord& run) {
  RunSummary s;
  s.percent_of_behavioural = kNaN;
  s.value_gap = kNaN;
  if (run.evals.empty()) return s;
  s.has_evals = true;
  s.last = run.evals.back();
  s.best = run.evals.front();
  for (const auto& e : run.evals)
    if (e.mean_return > s.best.mean_return) s.best = e;
  // A share of a negative or zero return means nothing (HalfCheetah's early policies score below 0).
  if (std::isfinite(run.behavioural_return) && run.behavioural_return > 0) {
    s.percent_of_behavioural = 100.0 * s.last.mean_return / run.behavioural_return;
  }
  if (!std::isnan(s.last.q_estimate)) s.value_gap = s.last.q_estimate - s.last.true_discounted;
  return s;
}

ReturnCurve return_curve(const std::string& label, const std::vector<const RunRecord*>& all_runs) {
  ReturnCurve c;
  c.label = label;
  c.runs = for_each_shared_evaluation(all_runs, [&](int64_t iteration, const std::vector<const EvalPoint*>& at) {
    double mean = 0;
    for (const auto* p : at) mean += p->mean_return;
    mean /= static_cast<double>(at.size());
    double spread = at.front()->std_return;
    if (at.size() > 1) {
      double ss = 0;
      for (const auto* p : at) ss += (p->mean_return - mean) * (p->mean_return - mean);
      spread = std::sqrt(ss / static_cast<double>(at.size() - 1));
    }
    c.iteration.push_back(iteration);
    c.mean.push_back(mean);
    c.spread.push_back(spread);
  });
  return c;
}

ValueCurve value_curve(const std::string& label, const std::vector<const RunRecord*>& all_runs) {
  ValueCurve c;
  c.label = label;
  c.runs = for_each_shared_evaluation(all_runs, [&](int64_t iteration, const std::vector<const EvalPoint*>& at) {
    double estimate = 0, truth = 0;
    for (const auto* p : at) {
      if (!std::isfinite(p->q_estimate)) return;
      estimate += p->q_estimate;
      truth += p->true_discounted;
    }
    c.iteration.push_back(iteration);
    c.estimate.push_back(estimate / static_cast<double>(at.size()));
    c.truth.push_back(truth / static_cast<double>(at.size()));
  });
  return c;
}

ReportFiles write_report(const std::vector<RunRecord>& runs, const std::string& out_dir,
                         const ReportOptions& options) {
  if (runs.empty()) throw InputError("no runs to report");
  // Looked up once, before anything is written.
  const std::string gnuplot = options.plots ? find_program(options.gnuplot) : std::string();
  if (options.plots && gnuplot.empty()) {
    throw InputError(options.gnuplot + " not found or not executable: the plots need gnuplot (Debian: "
                     "gnuplot-nox, installed by scripts/install-deps.sh), or pass --no-plots");
  }
  std::error_code ec;
  if (fs::exists(out_dir, ec) && !fs::is_directory(out_dir, ec)) {
    throw InputError(out_dir + ": exists and is not a folder");
  }
  // The topmost folder this call creates (-o a/b/c with only a existing: a/b), removed again
  // on failure.
  fs::path created;
  for (fs::path p = fs::absolute(out_dir).lexically_normal(); !p.empty() && !fs::exists(p, ec);
       p = p.parent_path()) {
    created = p;
    if (p == p.parent_path()) break;
  }
  fs::create_directories(out_dir, ec);
  if (ec) throw InputError("cannot create " + out_dir + ": " + ec.message());
  std::string work = out_dir + "/.bcq-report.XXXXXX";
  if (!::mkdtemp(work.data())) {
    const int err = errno;
    if (!created.empty()) remove_quietly(created.string());
    throw InputError("cannot write in " + out_dir + ": " + std::strerror(err));
  }
  ReportFiles result;
  try {
    fs::create_directories(work + "/plots");
    const auto groups = group_runs(runs);

    std::string md = "# " + md_escape(options.title) + "\n\n";
    std::string html = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>" +
                       html_escape(options.title) + "</title>\n<style>" + kCss + "</style>\n</head>\n<body>\n<h1>" +
                       html_escape(options.title) + "</h1>\n";
    const std::string count = fmt::format("{} run{} on {} batch{}", runs.size(), runs.size() == 1 ? "" : "s",
                                          groups.size(), groups.size() == 1 ? "" : "es");
    md += count + (options.source.empty() ? "" : " from `" + options.source + "`") + ", read by `bcq report`.\n\n" +
          kReading + "\n";
    html += "<p>" + html_escape(count) +
            (options.source.empty() ? "" : " from <code>" + html_escape(options.source) + "</code>") +
            ", read by <code>bcq report</code>.</p>\n<p>" + html_escape(kReading) + "</p>\n";

    for (const auto& g : groups) {
      const std::string heading = g.env + " - " + g.batch;
      md += "\n## " + md_escape(heading) + "\n\n";
      html += "<h2>" + html_escape(heading) + "</h2>\n";
      if (std::isfinite(g.behavioural_return)) {
        const std::string line =
            "Behavioural return (mean over the buffer's complete episodes): " + number(g.behavioural_return) + ".";
        md += line + "\n\n";
        html += "<p>" + html_escape(line) + "</p>\n";
      }
      const auto table = run_table(g);
      md += markdown_table(table);
      html += html_table(table);
      const auto facts = findings(g);
      if (!facts.empty()) {
        md += "\n";
        html += "<ul>\n";
        for (const auto& f : facts) {
          md += "- " + md_escape(f) + "\n";
          html += "<li>" + html_escape(f) + "</li>\n";
        }
        html += "</ul>\n";
      }
      if (!options.plots) continue;
      struct Plot {
        std::string name, script, caption;
      };
      const std::vector<Plot> plots = {
          {g.slug + "-return", return_plot(g, work + "/plots/" + g.slug + "-return.svg"),
           "Average return over training; dashed: the behavioural policy's return."},
          {g.slug + "-value", value_plot(g, work + "/plots/" + g.slug + "-value.svg"),
           "Each critic's estimated value of the evaluation start states (solid) and the discounted "
           "return actually obtained from them (dashed): the gap is the extrapolation error."}};
      for (const auto& p : plots) {
        if (p.script.empty()) continue;
        draw(gnuplot, work, p.name, p.script);
        result.files.push_back("plots/" + p.name + ".svg");
        md += "\n![" + md_escape(p.caption) + "](plots/" + p.name + ".svg)\n\n" + md_escape(p.caption) + "\n";
        html += "<figure>\n" + inline_svg(work + "/plots/" + p.name + ".svg") + "<figcaption>" +
                html_escape(p.caption) + "</figcaption>\n</figure>\n";
      }
    }
    html += "</body>\n</html>\n";
    write_file_atomic(work + "/report.md", md);
    write_file_atomic(work + "/report.html", html);
    result.files.push_back("report.md");
    result.files.push_back("report.html");

    // Move into place: plots first, so the reports never name a plot that is not there yet.
    if (result.files.size() > 2) fs::create_directories(out_dir + "/plots");
    for (const auto& f : result.files) {
      fs::rename(work + "/" + f, out_dir + "/" + f, ec);
      if (ec) throw InputError("cannot write " + out_dir + "/" + f + ": " + ec.message());
    }
  } catch (const fs::filesystem_error& e) {
    remove_quietly(work);
    if (!created.empty()) remove_quietly(created.string());
    throw InputError(std::string("cannot write the report: ") + e.what());
  } catch (...) {
    remove_quietly(work);
    if (!created.empty()) remove_quietly(created.string());
    throw;
  }
  remove_quietly(work);
  return result;
}

}  // namespace bcq::reports
