#include "reports/discover.hpp"

#include <algorithm>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "common/error.hpp"

namespace bcq::reports {

namespace fs = std::filesystem;

namespace {

bool present(const fs::path& p) {
  std::error_code ec;
  return fs::exists(p, ec);
}

// A JSON file that says it is a verification result (or is named like one but cannot be read).
enum class JsonKind { kOther, kVerify, kBrokenVerify };

JsonKind json_kind(const fs::path& file, std::string& reason) {
  std::string text;
  try {
    text = read_text_file(file.string());
  } catch (const InputError& e) {
    reason = e.what();
    return JsonKind::kBrokenVerify;
  }
  const auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  const bool named = file.filename().string().find("verify") != std::string::npos;
  if (j.is_discarded() || !j.is_object()) {
    reason = file.string() + ": not a JSON object";
    return named ? JsonKind::kBrokenVerify : JsonKind::kOther;
  }
  if (!j.contains("format") || !j["format"].is_string()) {
    reason = file.string() + ": no \"format\"";
    return named ? JsonKind::kBrokenVerify : JsonKind::kOther;
  }
  const std::string format = j["format"].get<std::string>();
  if (format.rfind("bcq-verify/", 0) == 0) return JsonKind::kVerify;
  return JsonKind::kOther;
}

// The name of `path` found below `root` (given as `root_arg`): root_arg/relative.
std::string display_name(const std::string& root_arg, const fs::path& root, const fs::path& path) {
  const fs::path rel = path.lexically_relative(root);
  if (rel.empty() || rel == ".") return root_arg;
  return (fs::path(root_arg) / rel).lexically_normal().string();
}

// The size of `file` in bytes, 0 if it is not a regular file.
std::uint64_t size_of(const fs::path& file) {
  std::error_code ec;
  const auto n = fs::is_regular_file(file, ec) ? fs::file_size(file, ec) : 0;
  return ec ? 0 : static_cast<std::uint64_t>(n);
}

}  // namespace

Results discover(const std::vector<std::string>& roots, const ProgressHook& progress) {
  Results results;
  struct Found {
    std::string path, name, root;
  };
  std::vector<Found> verify_files, study_dirs, tabular_dirs, run_dirs;
  for (const std::string& root_arg : roots) {
    std::string trimmed = root_arg;
    while (trimmed.size() > 1 && trimmed.back() == '/') trimmed.pop_back();
    const fs::path root(trimmed);
    std::error_code ec;
    if (!fs::exists(root, ec)) throw InputError(root_arg + ": no such file or folder");
    if (!fs::is_directory(root, ec)) {
      std::string reason;
      const JsonKind kind = json_kind(root, reason);
      if (kind == JsonKind::kVerify) verify_files.push_back({root.string(), trimmed, trimmed});
      else results.not_included.push_back({trimmed, kind == JsonKind::kOther ? trimmed + ": not a bcq-verify/1 file" : reason});
      continue;
    }
    // Classifies a folder; true when its content belongs to it (no need to look further down).
    auto classify = [&](const fs::path& dir) {
      const std::string name = display_name(trimmed, root, dir);
      if (present(dir / "study.json")) {
        study_dirs.push_back({dir.string(), name, trimmed});
        return true;
      }
      if (present(dir / "tabular_summary.csv") || present(dir / "tabular_study.json")) {
        tabular_dirs.push_back({dir.string(), name, trimmed});
        return true;
      }
      if (present(dir / "config.json")) {
        run_dirs.push_back({dir.string(), name, trimmed});
        return true;
      }
      return false;
    };
    if (classify(root)) continue;
    for (auto it = fs::recursive_directory_iterator(root, fs::directory_options::skip_permission_denied, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      const fs::path p = it->path();
      const std::string file = p.filename().string();
      std::error_code type_ec;
      if (it->is_directory(type_ec)) {
        // Hidden folders: a report being written (.bcq-report.*), version control.
        if (file.empty() || file[0] == '.' || classify(p)) it.disable_recursion_pending();
        continue;
      }
      if (p.extension() != ".json") continue;
      std::string reason;
      const JsonKind kind = json_kind(p, reason);
      if (kind == JsonKind::kVerify) verify_files.push_back({p.string(), display_name(trimmed, root, p), trimmed});
      else if (kind == JsonKind::kBrokenVerify) results.not_included.push_back({display_name(trimmed, root, p), reason});
    }
    if (ec) throw InputError(root_arg + ": cannot list: " + ec.message());
  }
  auto by_path = [](const Found& a, const Found& b) { return a.path < b.path; };
  for (auto* list : {&verify_files, &study_dirs, &tabular_dirs, &run_dirs}) {
    std::sort(list->begin(), list->end(), by_path);
    list->erase(std::unique(list->begin(), list->end(), [](const Found& a, const Found& b) { return a.path == b.path; }),
                list->end());
  }
  // The reading stage is measured in the bytes of the eval.csv files (single runs and the
  // studies' cells), the inputs that grow large.
  ReadProgress reading{progress, 0, 0};
  for (const auto& f : run_dirs) reading.total += size_of(fs::path(f.path) / "eval.csv");
  for (const auto& f : study_dirs) {
    std::error_code ec;
    for (auto it = fs::directory_iterator(fs::path(f.path) / "cells", ec); !ec && it != fs::directory_iterator();
         it.increment(ec)) {
      reading.total += size_of(it->path() / "eval.csv");
    }
  }
  reading.show(0);
  for (const auto& f : verify_files) {
    stop_if_interrupted();
    try {
      std::vector<CounterexampleProblem> problems;
      results.verifications.push_back(load_verify(f.path, f.name, problems));
      for (const auto& p : problems) results.not_included.push_back({p.file, p.reason});
    } catch (const InputError& e) {
      results.not_included.push_back({f.name, e.what()});
    }
  }
  for (const auto& f : study_dirs) {
    try {
      std::vector<CellProblem> problems;
      results.studies.push_back(load_study(f.path, f.name, problems, &reading));
      for (const auto& p : problems) results.not_included.push_back({p.file, p.reason});
    } catch (const InputError& e) {
      results.not_included.push_back({f.name, e.what()});
    }
  }
  for (const auto& f : tabular_dirs) {
    stop_if_interrupted();
    try {
      results.tabular.push_back(load_tabular(f.path, f.name));
    } catch (const InputError& e) {
      results.not_included.push_back({f.name, e.what()});
    }
  }
  for (const auto& f : run_dirs) {
    // Single runs keep their names relative to their root ("." named by the folder it is).
    std::string name = fs::path(f.path).lexically_relative(f.root).string();
    if (name.empty() || name == ".") name = fs::absolute(f.root).lexically_normal().filename().string();
    if (name.empty()) name = fs::absolute(f.root).lexically_normal().parent_path().filename().string();
    try {
      results.runs.push_back(load_run(f.path, name, &reading));
    } catch (const InputError& e) {
      results.not_included.push_back({f.name, e.what()});
    }
  }
  return results;
}

}  // namespace bcq::reports
