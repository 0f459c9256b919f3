// The report as two documents written side by side, Markdown (report.md) and self-contained
// HTML (index.html): every heading, paragraph, table and figure goes into both.
#pragma once

#include <string>
#include <vector>

namespace bcq::reports {

using Row = std::vector<std::string>;

/// A table: the header and rows of cells, already formatted.
struct Table {
  Row header;
  std::vector<Row> rows;
};

std::string markdown_table(const Table& t);
std::string html_table(const Table& t);

/// Markdown and HTML built together; text arguments are plain text (escaped here).
struct Document {
  std::string md, html;

  void heading(int level, const std::string& text, const std::string& id = "");
  void paragraph(const std::string& text);
  void bullets(const std::vector<std::string>& items);
  /// Plain text written by a person: blocks separated by blank lines; a block whose first line
  /// starts with "- " is a list (each "- " line starts an item, other lines continue it), any
  /// other block one paragraph. Nothing else of Markdown is interpreted (the text is escaped
  /// like every other).
  void notes(const std::string& text);
  void table(const Table& t);
  /// Preformatted text (a counterexample, a spec, commands).
  void preformatted(const std::string& text);
  /// A figure: `svg` is inlined in the HTML, the Markdown links `file` (relative to the report).
  void figure(const std::string& svg, const std::string& file, const std::string& caption);
  /// Figures side by side in the HTML, one after the other in the Markdown.
  void figures(const std::vector<std::string>& svgs, const std::vector<std::string>& files, const std::string& caption);
};

/// The HTML page around `body`: inline style, no script, no external resource.
std::string html_page(const std::string& title, const std::string& body);

}  // namespace bcq::reports
