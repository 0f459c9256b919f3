#include "reports/document.hpp"

#include "reports/format.hpp"

namespace bcq::reports {

namespace {

const char* kCss =
    "body{font-family:system-ui,sans-serif;max-width:1180px;margin:2em auto;padding:0 1em;color:#222}"
    "table{border-collapse:collapse;margin:1em 0;font-size:0.9em}"
    "th,td{border:1px solid #ccc;padding:0.3em 0.6em;text-align:left;vertical-align:top}"
    "th{background:#f3f3f3}"
    "pre{background:#f7f7f7;padding:0.6em;overflow-x:auto;font-size:0.85em}"
    "figure{margin:1em 0}figcaption{font-size:0.9em;color:#555}svg{max-width:100%;height:auto}"
    ".side{display:flex;flex-wrap:wrap;gap:1em}.side>div{flex:1 1 420px}";

}  // namespace

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

void Document::heading(int level, const std::string& text, const std::string& id) {
  md += "\n" + std::string(static_cast<size_t>(level), '#') + " " + md_escape(text) + "\n\n";
  html += "<h" + std::to_string(level) + (id.empty() ? "" : " id=\"" + html_escape(id) + "\"") + ">" +
          html_escape(text) + "</h" + std::to_string(level) + ">\n";
}

void Document::paragraph(const std::string& text) {
  md += md_escape(text) + "\n\n";
  html += "<p>" + html_escape(text) + "</p>\n";
}

void Document::bullets(const std::vector<std::string>& items) {
  if (items.empty()) return;
  html += "<ul>\n";
  for (const auto& i : items) {
    md += "- " + md_escape(i) + "\n";
    html += "<li>" + html_escape(i) + "</li>\n";
  }
  md += "\n";
  html += "</ul>\n";
}

void Document::notes(const std::string& text) {
  std::vector<std::string> block;
  auto flush = [&] {
    if (block.empty()) return;
    if (block[0].rfind("- ", 0) == 0) {
      std::vector<std::string> items;
      for (const auto& l : block) {
        if (l.rfind("- ", 0) == 0) items.push_back(l.substr(2));
        else items.back() += " " + l;  // a continued item
      }
      bullets(items);
    } else {
      std::string joined;
      for (const auto& l : block) joined += (joined.empty() ? "" : " ") + l;
      paragraph(joined);
    }
    block.clear();
  };
  std::string line;
  for (size_t i = 0; i <= text.size(); ++i) {
    if (i == text.size() || text[i] == '\n') {
      while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) line.pop_back();
      size_t start = 0;
      while (start < line.size() && (line[start] == ' ' || line[start] == '\t')) ++start;
      if (start == line.size()) flush();
      else block.push_back(line.substr(start));
      line.clear();
    } else {
      line += text[i];
    }
  }
  flush();
}

void Document::table(const Table& t) {
  md += markdown_table(t) + "\n";
  html += html_table(t);
}

void Document::preformatted(const std::string& text) {
  md += "```\n" + text + (text.empty() || text.back() == '\n' ? "" : "\n") + "```\n\n";
  html += "<pre>" + html_escape(text) + "</pre>\n";
}

void Document::figure(const std::string& svg, const std::string& file, const std::string& caption) {
  md += "![" + md_escape(caption) + "](" + file + ")\n\n" + md_escape(caption) + "\n\n";
  html += "<figure>\n" + svg + "<figcaption>" + html_escape(caption) + "</figcaption>\n</figure>\n";
}

void Document::figures(const std::vector<std::string>& svgs, const std::vector<std::string>& files,
                       const std::string& caption) {
  for (const auto& f : files) md += "![" + md_escape(caption) + "](" + f + ")\n";
  md += "\n" + md_escape(caption) + "\n\n";
  html += "<figure>\n<div class=\"side\">\n";
  for (const auto& s : svgs) html += "<div>\n" + s + "</div>\n";
  html += "</div>\n<figcaption>" + html_escape(caption) + "</figcaption>\n</figure>\n";
}

std::string html_page(const std::string& title, const std::string& body) {
  return "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>" + html_escape(title) +
         "</title>\n<style>" + kCss + "</style>\n</head>\n<body>\n" + body + "</body>\n</html>\n";
}

}  // namespace bcq::reports
