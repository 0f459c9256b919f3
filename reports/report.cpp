// Orchestration: the sections in order, plots drawn into a temporary folder, files moved into
// place at the end. What each section computes lives in its own file (grouping, tables,
// study_tables, claims, verification, tabular); drawing in gnuplot.cpp. Over 400 lines because
// it lays out all seven sections (one function of 30-100 lines each, read top to bottom as the
// report reads); none of them computes a number.
#include "reports/report.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <limits>
#include <set>

#include <fmt/core.h>

#include "common/atomic_file.hpp"
#include "common/error.hpp"
#include "reports/claims.hpp"
#include "reports/document.hpp"
#include "reports/format.hpp"
#include "reports/gnuplot.hpp"
#include "reports/stats.hpp"
#include "reports/study_tables.hpp"
#include "reports/tables.hpp"

namespace bcq::reports {

namespace fs = std::filesystem;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

const char* kReadingRuns =
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

const char* kReadingStudy =
    "Final return is a run's last evaluation, best return its highest; they are kept apart "
    "because picking the best evaluation flatters an algorithm. IQM is the interquartile mean "
    "(the mean of the middle half of the runs, scipy's trim_mean(0.25)); its 95% interval is the "
    "percentile interval over 50,000 stratified bootstrap resamples of the runs, as the rliable "
    "library computes it (with few seeds it is wide, and with one seed it is a point). D4RL-"
    "normalised scores put D4RL's random policy at 0 and its expert at 100. P(bcq > algorithm) "
    "is the probability that a BCQ run beats a run of the other algorithm on the same batch kind "
    "(Mann-Whitney, ties count one half). The curves are the mean over seeds with the 95% "
    "bootstrap interval of that mean as a band.";

// Plot file names, unique within the report.
class PlotNames {
 public:
  std::string take(const std::string& base) {
    std::string name = base;
    for (int n = 2; !used_.insert(name).second; ++n) name = base + "-" + std::to_string(n);
    return name;
  }

 private:
  std::set<std::string> used_;
};

// An SVG that gnuplot or dot wrote whole: it ends with </svg>. Both exit 0 after a write that
// failed (a full disk), leaving the file cut short.
bool complete_svg(const std::string& path) {
  const std::string svg = read_text_file(path);
  const auto end = svg.find_last_not_of(" \t\r\n");
  return end != std::string::npos && end >= 5 && svg.compare(end - 5, 6, "</svg>") == 0;
}

// For tests of Ctrl-C: BCQ_INTERRUPT_AFTER_STEP=N makes `bcq report` send itself SIGINT once
// its N-th plot is drawn, as a user would (for `bcq train` and `collect` a step is an iteration
// or an environment step).
void interrupt_after_plot_for_tests(std::size_t plot) {
  static const char* at = std::getenv("BCQ_INTERRUPT_AFTER_STEP");
  if (at != nullptr && plot == std::strtoull(at, nullptr, 10)) std::raise(SIGINT);
}

// Everything a section needs to draw: the programs, the work folder (and the report folder,
// named in messages), the files drawn so far, and the progress of the drawing stage.
struct Drawing {
  bool enabled = true;
  std::string gnuplot, dot, work, out;
  PlotNames names;
  std::vector<std::string> files;
  ProgressHook progress;
  std::size_t planned = 0, drawn = 0;  // plots (and graphs) to draw, drawn so far

  // Before a plot: Ctrl-C stops here; the progress line says how many are drawn.
  void begin() {
    stop_if_interrupted();
    if (progress) progress("drawing", drawn, std::max(planned, drawn + 1));
  }
  void end() { interrupt_after_plot_for_tests(++drawn); }

  // Draws a gnuplot script (made for the path plots/<name>.svg in the work folder); returns the
  // SVG to inline, "" when the script is empty or drawing is off.
  template <typename MakeScript>
  std::string plot(const std::string& base, MakeScript make_script, std::string& file) {
    if (!enabled) return "";
    begin();
    const std::string name = names.take(base);
    const std::string script = make_script(work + "/plots/" + name + ".svg");
    if (script.empty()) {
      end();
      return "";
    }
    try {
      draw_gnuplot(gnuplot, work, name, script);
    } catch (const InputError&) {
      stop_if_interrupted();  // the terminal's Ctrl-C reached gnuplot too
      throw;
    }
    end();
    file = "plots/" + name + ".svg";
    if (!complete_svg(work + "/" + file)) {
      throw InputError("cannot write " + out + "/" + file + ": gnuplot's output ends early (a full disk?)");
    }
    files.push_back(file);
    return inline_svg(work + "/" + file);
  }

  // Draws a dot graph; returns the SVG to inline.
  std::string graph(const std::string& base, const std::string& source, std::string& file) {
    if (!enabled) return "";
    begin();
    const std::string name = names.take(base);
    const std::string gv = work + "/" + name + ".gv", log = work + "/" + name + ".log";
    file = "plots/" + name + ".svg";
    write_file_atomic(gv, source);
    const int code = run_program(dot, {"-Tsvg"}, gv, work + "/" + file, log);
    end();
    std::error_code ec;
    if (code != 0 || fs::file_size(work + "/" + file, ec) == 0) {
      stop_if_interrupted();  // the terminal's Ctrl-C reached dot too
      const std::string message = last_line(log);
      throw InputError("dot failed on " + file + (message.empty() ? "" : ": " + message));
    }
    if (!complete_svg(work + "/" + file)) {
      throw InputError("cannot write " + out + "/" + file + ": dot's output ends early (a full disk?)");
    }
    fs::remove(gv);
    fs::remove(log);
    files.push_back(file);
    return inline_svg(work + "/" + file);
  }
};

// ---- verification ----

void verification_section(Document& doc, const VerifyResult& v, Drawing& drawing) {
  doc.heading(2, "Verification: " + v.name, "verification-" + slug(v.name));
  doc.paragraph(fmt::format(
      "Property checks of the paper's tabular statements on random finite MDPs (RapidCheck, {} cases per "
      "statement, seed {}); each probe drops one condition of a theorem and searches for a counterexample. "
      "Overall: {}.",
      v.cases, v.seed, v.ok ? "every statement holds and every probe found what it should" : "SOMETHING FAILED"));
  Table t{{"statement", "claim", "kind", "cases", "passed", "discarded", "classification (cases per tag)", "seed",
           "seconds", "verdict"},
          {}};
  for (const auto& s : v.statements) {
    std::string tags;
    for (const auto& [tag, n] : s.classification) tags += (tags.empty() ? "" : ", ") + std::to_string(n) + " " + tag;
    t.rows.push_back({s.name, s.probe ? "drops: " + s.dropped_condition : s.title, s.probe ? "probe" : "statement",
                      std::to_string(s.cases_run), std::to_string(s.passed), std::to_string(s.discarded),
                      tags.empty() ? "-" : tags, std::to_string(s.seed), fmt::format("{:.2f}", s.seconds), s.verdict});
  }
  doc.table(t);
  for (const auto& s : v.statements) {
    if (s.failure.empty() && !s.has_counterexample) continue;
    doc.heading(3, "Counterexample: " + s.name);
    if (s.probe && !s.explanation.empty()) doc.paragraph("Dropped: " + s.dropped_condition + ". " + s.explanation);
    if (!s.failure.empty()) doc.paragraph(s.failure);
    if (s.has_counterexample) {
      std::string file;
      const std::string svg = drawing.graph("counterexample-" + slug(s.name), s.drawn.dot, file);
      if (!svg.empty()) {
        doc.figure(svg, file,
                   "Double circles: terminal states; s_init (dashed): where pairs outside the batch lead in M_B. "
                   "Edges: action, probability, reward; red: transitions in the batch (with their count).");
      }
      doc.preformatted(s.drawn.description);
      std::string replay = "cd " + s.drawn.folder + "\n";
      for (const auto& c : s.drawn.replay) replay += c + "\n";
      doc.paragraph("Replay it:");
      doc.preformatted(replay);
    } else if (!s.counterexample.empty()) {
      doc.preformatted(s.counterexample);
    }
  }
}

// ---- continuous study ----

void study_section(Document& doc, const StudyResult& st, Drawing& drawing) {
  doc.heading(2, "Continuous study: " + st.name, "study-" + slug(st.name));
  size_t train = 0, done = 0;
  for (const auto& c : st.cells) {
    train += c.type == "train";
    done += c.type == "train" && c.state == "done";
  }
  doc.paragraph(fmt::format("{} cells ({} training, {} of them done){}.", st.cells.size(), train, done,
                            st.profile.empty() ? "" : ", profile " + st.profile));
  doc.paragraph(kReadingStudy);
  const auto batches = batch_scores(st);
  for (const auto& b : batches) {
    doc.heading(3, b.env + " - " + b.kind + " buffer");
    if (std::isfinite(b.behavioural_return)) {
      doc.paragraph("Behavioural return (mean over the seeds' buffers): " + number(b.behavioural_return) + ".");
    }
    // The curves: the cells' run folders on this batch kind.
    Group g{b.env, b.kind, "", b.behavioural_return, {}, {}};
    for (size_t i = 0; i < st.runs.size(); ++i) {
      const StudyCell& cell = st.cells[st.run_cell[i]];
      if (cell.env != b.env || cell.kind != b.kind) continue;
      const RunRecord* r = &st.runs[i];
      g.runs.push_back(r);
      const std::string label = series_label(*r);
      auto it = std::find_if(g.series.begin(), g.series.end(), [&](const Series& s) { return s.label == label; });
      if (it == g.series.end()) {
        g.series.push_back({label, r->algo, {}});
        it = g.series.end() - 1;
      }
      it->runs.push_back(r);
    }
    std::stable_sort(g.series.begin(), g.series.end(), [](const Series& x, const Series& y) {
      return algo_rank(x.algo) != algo_rank(y.algo) ? algo_rank(x.algo) < algo_rank(y.algo) : x.label < y.label;
    });
    const std::string base = slug(st.name + "-" + b.env + "-" + b.kind);
    std::string file;
    std::string svg = drawing.plot(base + "-return", [&](const std::string& p) { return return_plot(g, p, Band::kBootstrap); }, file);
    if (!svg.empty()) {
      doc.figure(svg, file, "Return over training: mean over seeds, band the 95% bootstrap interval of the mean; dashed: the behavioural return.");
    }
    svg = drawing.plot(base + "-value", [&](const std::string& p) { return value_plot(g, p); }, file);
    if (!svg.empty()) {
      doc.figure(svg, file,
                 "Each critic's estimated value of the evaluation start states (solid) against the discounted return "
                 "actually obtained (dashed), mean over seeds: the gap is the extrapolation error.");
    }
    doc.table(batch_table(b));
  }
  std::vector<std::string> envs;
  for (const auto& b : batches)
    if (std::find(envs.begin(), envs.end(), b.env) == envs.end()) envs.push_back(b.env);
  for (const auto& env : envs) {
    const Table t = environment_table(env, batches);
    if (t.rows.empty()) continue;
    doc.heading(3, env + " - all batch kinds");
    doc.paragraph("Each batch kind is a stratum of the bootstrap (resampled on its own), as rliable's stratified bootstrap does for tasks.");
    doc.table(t);
  }
  doc.heading(3, "The paper's claims, checked", "claims-" + slug(st.name));
  doc.paragraph(
      "The paper's qualitative predictions for these experiments, decided by the rule stated next to each from "
      "this study's final returns. A prediction these numbers do not support is shown as not supported.");
  doc.table(claims_table(check_claims(batches)));
  if (!st.findings.empty()) {
    doc.heading(4, "What was found about the claims not supported", "findings-" + slug(st.name));
    doc.paragraph("From the study folder's findings.md, written by whoever investigated them:");
    doc.notes(st.findings);
  }
}

// ---- tabular study ----

void tabular_section(Document& doc, const TabularResult& t, Drawing& drawing) {
  doc.heading(2, "Tabular study: " + t.name, "tabular-" + slug(t.name));
  doc.paragraph(fmt::format(
      "{} summary rows (MDP x determinism x behaviour x dataset size x algorithm){}. Normalised performance (rho(pi) - rho(pi_b)) / (rho(pi*) - rho(pi_b)), rho the exact expected "
      "discounted return in the true MDP: 0 is the behaviour policy, 1 the optimal policy. x% CVaR is the mean of "
      "the worst x% of a cell's runs.",
      t.cells.size(), t.runs ? fmt::format(" from {} runs", t.runs) : std::string()));
  std::vector<std::pair<std::string, std::string>> panels;  // (mdp, behaviour)
  std::vector<std::string> algos;
  for (const auto& c : t.cells) {
    if (std::find(panels.begin(), panels.end(), std::make_pair(c.mdp, c.behaviour)) == panels.end()) {
      panels.push_back({c.mdp, c.behaviour});
    }
    if (std::find(algos.begin(), algos.end(), c.algo) == algos.end()) algos.push_back(c.algo);
  }
  auto lines_of = [&](const std::string& mdp, const std::string& behaviour, bool deterministic,
                      const std::function<void(LinePlot&, const std::string&, size_t, const std::vector<const TabularCell*>&)>& add) {
    LinePlot plot;
    plot.log_x = true;
    plot.xlabel = "dataset size (transitions)";
    for (size_t i = 0; i < algos.size(); ++i) {
      std::vector<const TabularCell*> cells;
      for (const auto& c : t.cells)
        if (c.mdp == mdp && c.behaviour == behaviour && c.deterministic == deterministic && c.algo == algos[i]) cells.push_back(&c);
      std::sort(cells.begin(), cells.end(), [](const TabularCell* a, const TabularCell* b) { return a->dataset_size < b->dataset_size; });
      if (!cells.empty()) add(plot, algos[i], i, cells);
    }
    return plot;
  };
  const char* palette[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
  for (const auto& [mdp, behaviour] : panels) {
    doc.heading(3, mdp + " - behaviour " + behaviour);
    for (const std::string measure : {"normalised", "extrapolation"}) {
      std::vector<std::string> svgs, files;
      for (bool deterministic : {false, true}) {
        LinePlot plot = lines_of(mdp, behaviour, deterministic, [&](LinePlot& p, const std::string& algo, size_t i,
                                                                     const std::vector<const TabularCell*>& cells) {
          PlotLine mean{algo + (measure == "normalised" ? ": mean" : ""), palette[i % 10], false, {}, {}, {}, {}};
          PlotLine cvar{algo + ": 10% CVaR", palette[i % 10], true, {}, {}, {}, {}};
          for (const auto* c : cells) {
            const double y = measure == "normalised" ? c->mean_normalised : c->mean_extrapolation_error;
            if (std::isfinite(y)) {
              mean.x.push_back(c->dataset_size);
              mean.y.push_back(y);
            }
            if (measure == "normalised" && std::isfinite(c->cvar10_normalised)) {
              cvar.x.push_back(c->dataset_size);
              cvar.y.push_back(c->cvar10_normalised);
            }
          }
          if (measure == "extrapolation" && algo != "q-learning" && algo != "bcql") return;
          p.lines.push_back(mean);
          if (measure == "normalised") p.lines.push_back(cvar);
        });
        const std::string side = deterministic ? "deterministic" : "stochastic";
        plot.title = mdp + " (" + side + "), behaviour " + behaviour;
        plot.ylabel = measure == "normalised" ? "normalised performance" : "mean extrapolation error";
        if (measure == "normalised") plot.horizontal = {{0.0, "behaviour"}};
        std::string file;
        const std::string svg = drawing.plot(slug("tabular-" + mdp + "-" + behaviour + "-" + measure + "-" + side),
                                             [&](const std::string& p) {
                                               bool any = false;
                                               for (const auto& l : plot.lines) any = any || !l.x.empty();
                                               return any ? line_plot_script(plot, p) : std::string();
                                             },
                                             file);
        if (!svg.empty()) {
          svgs.push_back(svg);
          files.push_back(file);
        }
      }
      if (!svgs.empty()) {
        doc.figures(svgs, files,
                    measure == "normalised"
                        ? "Normalised performance against dataset size, stochastic (left) and deterministic (right): "
                          "solid the mean over runs, dashed the 10% CVaR."
                        : "Extrapolation error (Eq. 5) of Q-learning and BCQL against dataset size, stochastic (left) "
                          "and deterministic (right).");
      }
    }
  }
  Table table{{"mdp", "deterministic", "behaviour", "dataset size", "algorithm", "runs", "mean normalised",
               "1% CVaR", "10% CVaR", "P(improve)", "mean extrapolation error", "mean return"},
              {}};
  for (const auto& c : t.cells) {
    table.rows.push_back({c.mdp, c.deterministic ? "yes" : "no", c.behaviour, fmt::format("{:g}", c.dataset_size), c.algo,
                          fmt::format("{:g}", c.runs), fixed(c.mean_normalised, 3), fixed(c.cvar1_normalised, 3),
                          fixed(c.cvar10_normalised, 3), fixed(c.p_improve, 3), fixed(c.mean_extrapolation_error, 3),
                          fixed(c.mean_return, 3)});
  }
  doc.table(table);
}

// ---- single runs ----

void runs_section(Document& doc, const std::vector<RunRecord>& runs, Drawing& drawing, bool own_section) {
  const auto groups = group_runs(runs);
  const int level = own_section ? 3 : 2;
  if (own_section) doc.heading(2, "Single runs", "runs");
  doc.paragraph(fmt::format("{} run{} on {} batch{}.", runs.size(), runs.size() == 1 ? "" : "s", groups.size(),
                            groups.size() == 1 ? "" : "es"));
  doc.paragraph(kReadingRuns);
  for (const auto& g : groups) {
    doc.heading(level, g.env + " - " + g.batch);
    if (std::isfinite(g.behavioural_return)) {
      doc.paragraph("Behavioural return (mean over the buffer's complete episodes): " + number(g.behavioural_return) + ".");
    }
    doc.table(run_table(g));
    doc.bullets(findings(g));
    std::string file;
    std::string svg = drawing.plot(g.slug + "-return", [&](const std::string& p) { return return_plot(g, p, Band::kStd); }, file);
    if (!svg.empty()) doc.figure(svg, file, "Average return over training; dashed: the behavioural policy's return.");
    svg = drawing.plot(g.slug + "-value", [&](const std::string& p) { return value_plot(g, p); }, file);
    if (!svg.empty()) {
      doc.figure(svg, file,
                 "Each critic's estimated value of the evaluation start states (solid) and the discounted "
                 "return actually obtained from them (dashed): the gap is the extrapolation error.");
    }
  }
}

// ---- how it was made ----

void provenance_section(Document& doc, const Results& results) {
  doc.heading(2, "How it was made", "how-it-was-made");
  for (const auto& st : results.studies) {
    doc.heading(3, "Study " + st.name);
    Table t{{"what", "value"}, {}};
    for (const auto& [key, value] : st.versions) t.rows.push_back({key + " version", value});
    t.rows.push_back({"git commit", st.git_commit.empty() ? "-" : st.git_commit});
    t.rows.push_back({"profile", st.profile.empty() ? "- (a spec file)" : st.profile});
    t.rows.push_back({"machine", st.cpu.empty() ? "-" : st.cpu});
    t.rows.push_back({"hardware threads", std::to_string(st.hardware_threads)});
    t.rows.push_back({"wall time", fmt::format("{:.0f} s", st.wall_seconds)});
    double cells = 0;
    for (const auto& c : st.cells) cells += c.wall_seconds;
    t.rows.push_back({"cell time (sum over cells)", fmt::format("{:.0f} s", cells)});
    doc.table(t);
    doc.paragraph("The study's spec:");
    doc.preformatted(st.spec.dump(2));
  }
  for (const auto& v : results.verifications) {
    doc.paragraph(fmt::format("Verification {}: bcq verify, {} cases per statement, seed {}.", v.name, v.cases, v.seed));
  }
  for (const auto& t : results.tabular) {
    if (t.study.is_null()) continue;
    // The per-cell bookkeeping is the runner's, not provenance.
    nlohmann::json shown = t.study;
    shown.erase("cells");
    doc.paragraph("Tabular study " + t.name + " (tabular_study.json, without its per-cell state):");
    doc.preformatted(shown.dump(2));
  }
  doc.paragraph("Written by bcq report from the files above only; the same files give the same report.");
}

void remove_quietly(const std::string& path) {
  std::error_code ec;
  fs::remove_all(path, ec);
}

// The plots and graphs the sections will draw (each calls Drawing::plot or graph once per
// figure, drawn or not), for the drawing stage's progress.
std::size_t planned_plots(const Results& results) {
  std::size_t n = 0;
  for (const auto& v : results.verifications)
    for (const auto& s : v.statements) n += s.has_counterexample ? 1 : 0;
  for (const auto& st : results.studies) n += 2 * batch_scores(st).size();
  for (const auto& t : results.tabular) {
    std::set<std::pair<std::string, std::string>> panels;
    for (const auto& c : t.cells) panels.insert({c.mdp, c.behaviour});
    n += 4 * panels.size();  // normalised and extrapolation error, stochastic and deterministic
  }
  if (!results.runs.empty()) n += 2 * group_runs(results.runs).size();
  return n;
}

bool needs_dot(const Results& results) {
  for (const auto& v : results.verifications)
    for (const auto& s : v.statements)
      if (s.has_counterexample) return true;
  return false;
}

}  // namespace

ReportFiles write_report(const std::vector<RunRecord>& runs, const std::string& out_dir, const ReportOptions& options) {
  if (runs.empty()) throw InputError("no runs to report");
  Results results;
  results.runs = runs;
  return write_report(results, out_dir, options);
}

ReportFiles write_report(const Results& results, const std::string& out_dir, const ReportOptions& options) {
  if (results.empty()) {
    if (!results.not_included.empty()) {
      throw InputError("nothing could be read: " + results.not_included.front().reason);
    }
    throw InputError("no results to report (verify JSON, study folder, tabular study or run folder)");
  }
  // Looked up once, before anything is written.
  Drawing drawing;
  drawing.enabled = options.plots;
  if (options.plots) {
    drawing.gnuplot = find_program(options.gnuplot);
    if (drawing.gnuplot.empty()) {
      throw InputError(options.gnuplot + " not found or not executable: the plots need gnuplot (Debian: "
                       "gnuplot-nox, installed by scripts/install-deps.sh), or pass --no-plots");
    }
    if (needs_dot(results)) {
      drawing.dot = find_program(options.dot);
      if (drawing.dot.empty()) {
        throw InputError(options.dot + " not found or not executable: counterexample graphs need Graphviz dot "
                         "(Debian: graphviz, installed by scripts/install-deps.sh), or pass --no-plots");
      }
    }
  }
  std::error_code ec;
  if (fs::exists(out_dir, ec) && !fs::is_directory(out_dir, ec)) {
    throw InputError(out_dir + ": exists and is not a folder");
  }
  // The topmost folder this call creates (-o a/b/c with only a existing: a/b), removed again
  // on failure.
  fs::path created;
  for (fs::path p = fs::absolute(out_dir).lexically_normal(); !p.empty() && !fs::exists(p, ec); p = p.parent_path()) {
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
  drawing.work = work;
  drawing.out = out_dir;
  drawing.progress = options.progress;
  drawing.planned = options.plots ? planned_plots(results) : 0;
  ReportFiles result;
  try {
    fs::create_directories(work + "/plots");
    Document doc;
    std::string what;
    auto count = [&](size_t n, const char* one, const char* many) {
      if (n) what += (what.empty() ? "" : ", ") + fmt::format("{} {}", n, n == 1 ? one : many);
    };
    count(results.verifications.size(), "verification run", "verification runs");
    count(results.studies.size(), "continuous study", "continuous studies");
    count(results.tabular.size(), "tabular study", "tabular studies");
    count(results.runs.size(), "single run", "single runs");
    std::string sources;
    for (const auto& s : options.sources) sources += (sources.empty() ? "" : ", ") + s;
    doc.paragraph(what + (sources.empty() ? "" : " from " + sources) + ", read by bcq report" +
                  (results.not_included.empty() ? "." : fmt::format("; {} result{} not included (listed at the end).",
                                                                    results.not_included.size(),
                                                                    results.not_included.size() == 1 ? "" : "s")));
    for (const auto& v : results.verifications) verification_section(doc, v, drawing);
    for (const auto& st : results.studies) study_section(doc, st, drawing);
    for (const auto& t : results.tabular) tabular_section(doc, t, drawing);
    const bool only_runs = results.verifications.empty() && results.studies.empty() && results.tabular.empty();
    if (!results.runs.empty()) runs_section(doc, results.runs, drawing, !only_runs);
    if (!results.not_included.empty()) {
      doc.heading(2, "Not included", "not-included");
      doc.paragraph("Results found but not read, and why:");
      Table t{{"file", "reason"}, {}};
      for (const auto& n : results.not_included) t.rows.push_back({n.file, n.reason});
      doc.table(t);
    }
    if (!only_runs) provenance_section(doc, results);

    stop_if_interrupted();
    if (options.progress) options.progress("writing", 0, 0);
    const std::string md = "# " + md_escape(options.title) + "\n\n" + doc.md;
    const std::string html = html_page(options.title, "<h1>" + html_escape(options.title) + "</h1>\n" + doc.html);
    write_file_atomic(work + "/report.md", md);
    write_file_atomic(work + "/index.html", html);
    result.files = drawing.files;
    result.files.push_back("report.md");
    result.files.push_back("index.html");

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
  } catch (const WriteError& e) {
    remove_quietly(work);
    if (!created.empty()) remove_quietly(created.string());
    // The report's own files are named where they were to go (the work folder is gone).
    const std::string prefix = work + "/", rel = e.path().substr(std::min(e.path().size(), prefix.size()));
    const bool own = e.path().rfind(prefix, 0) == 0 &&
                     (rel == "report.md" || rel == "index.html" || rel.rfind("plots/", 0) == 0);
    if (own) throw WriteError(out_dir + "/" + rel, e.step(), e.error_number());
    throw;
  } catch (...) {
    remove_quietly(work);
    if (!created.empty()) remove_quietly(created.string());
    throw;
  }
  remove_quietly(work);
  return result;
}

}  // namespace bcq::reports
