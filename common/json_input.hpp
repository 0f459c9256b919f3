// The one set of rules for reading JSON inputs (docs/limits.md): a UTF-8 byte order mark is
// skipped, a key repeated in one object is refused (nlohmann would keep the last value and the
// error would then point elsewhere), nesting deeper than kMaxJsonDepth is refused (deep input
// would otherwise exhaust the stack), and a number outside the double range is refused; every
// error names the source and the line:column or the JSON path at fault.
#pragma once

#include <cstddef>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "common/input_file.hpp"

namespace bcq {

/// Deepest nesting of objects and arrays accepted in a JSON input (bcq's formats need < 10).
inline constexpr int kMaxJsonDepth = 64;

namespace detail {

inline std::string line_column(std::string_view text, std::size_t byte) {
  std::size_t line = 1, col = 1;
  for (std::size_t i = 0; i + 1 < byte && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      col = 1;
    } else {
      ++col;
    }
  }
  return std::to_string(line) + ":" + std::to_string(col);
}

// A validating pass (SAX events, no document built): depth and duplicate keys, with the JSON
// path of each position kept for messages.
class JsonRulesChecker : public nlohmann::json_sax<nlohmann::json> {
 public:
  std::string error_where;  // set when a rule is broken
  std::string error_detail;
  std::string error_rule;
  std::size_t error_byte = 0;
  bool syntax_error = false;

  bool null() override { return value(); }
  bool boolean(bool) override { return value(); }
  bool number_integer(number_integer_t) override { return value(); }
  bool number_unsigned(number_unsigned_t) override { return value(); }
  bool number_float(number_float_t, const string_t&) override { return value(); }
  bool string(string_t&) override { return value(); }
  bool binary(binary_t&) override { return value(); }
  bool start_object(std::size_t) override { return open(true); }
  bool end_object() override { return close(); }
  bool start_array(std::size_t) override { return open(false); }
  bool end_array() override { return close(); }
  bool key(string_t& k) override {
    Frame& f = stack_.back();
    f.key.clear();  // path() then names the object itself
    if (!f.keys.insert(k).second) {
      return fail("json-duplicate-key", path() + "." + k,
                  "key \"" + quote_for_message(k) + "\" appears twice in one object");
    }
    f.key = k;
    return true;
  }
  bool parse_error(std::size_t position, const std::string&,
                   const nlohmann::detail::exception& e) override {
    syntax_error = true;
    error_byte = position;
    // 406: a number that does not fit a double (e.g. 1e400).
    error_detail = e.id == 406 ? "number out of range" : "malformed JSON";
    error_rule = e.id == 406 ? "json-number-range" : "json-syntax";
    return false;
  }

 private:
  struct Frame {
    bool is_object = false;
    std::set<std::string> keys;
    std::string key;
    std::size_t index = 0;  // next element of an array
  };
  std::vector<Frame> stack_;

  std::string path() const {
    std::string p;
    for (const Frame& f : stack_) {
      if (f.is_object) {
        if (!f.key.empty()) p += "." + quote_for_message(f.key);
      } else {
        p += "[" + std::to_string(f.index) + "]";
      }
    }
    return p;
  }
  bool fail(const char* rule, std::string where, std::string detail) {
    error_rule = rule;
    error_where = std::move(where);
    error_detail = std::move(detail);
    return false;
  }
  bool value() {
    if (!stack_.empty() && !stack_.back().is_object) ++stack_.back().index;
    return true;
  }
  bool open(bool is_object) {
    if (static_cast<int>(stack_.size()) >= kMaxJsonDepth) {
      return fail("json-depth", path(),
                  "nesting deeper than " + std::to_string(kMaxJsonDepth) + " levels");
    }
    stack_.push_back(Frame{is_object, {}, {}, 0});
    return true;
  }
  bool close() {
    stack_.pop_back();
    return value();
  }
};

}  // namespace detail

/// `text` without a leading UTF-8 byte order mark.
inline std::string_view skip_utf8_bom(std::string_view text) {
  if (text.size() >= 3 && text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  return text;
}

/// Parses JSON text under the rules above; `source` (a file name) starts every message.
/// Throws ValidationError (an InputError) with rule json-syntax, json-number-range,
/// json-duplicate-key or json-depth.
inline nlohmann::json parse_json_input(std::string_view text, const std::string& source) {
  text = skip_utf8_bom(text);
  detail::JsonRulesChecker checker;
  const bool ok = nlohmann::json::sax_parse(text, &checker);
  if (!ok) {
    if (checker.syntax_error) {
      throw ValidationError(checker.error_rule,
                            source + ":" + detail::line_column(text, checker.error_byte),
                            checker.error_detail);
    }
    throw ValidationError(checker.error_rule, source + checker.error_where, checker.error_detail);
  }
  return nlohmann::json::parse(text);
}

/// read_input_file then parse_json_input.
inline nlohmann::json load_json_input(const std::string& path,
                                      std::uintmax_t max_bytes = kMaxInputFileBytes) {
  return parse_json_input(read_input_file(path, max_bytes), path);
}

}  // namespace bcq
