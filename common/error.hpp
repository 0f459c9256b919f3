// Error types shared by every module. The CLI turns an InputError into one stderr line and
// exit code 2 (DESIGN.md, "The bcq command line").
#pragma once

#include <stdexcept>
#include <string>

namespace bcq {

/// Bad input: a malformed or inconsistent file, a value out of range, a missing file, a failed
/// write. what() is one line naming what is wrong and where.
class InputError : public std::runtime_error {
 public:
  explicit InputError(const std::string& message) : std::runtime_error(message) {}
};

/// A validation rule broken by a model or data file. `rule` is a short stable name
/// (e.g. "probabilities-sum"), `where` the file / field / (s,a) at fault.
class ValidationError : public InputError {
 public:
  ValidationError(std::string rule, std::string where, const std::string& detail)
      : InputError(where + ": " + detail + " [rule: " + rule + "]"),
        rule_(std::move(rule)),
        where_(std::move(where)) {}
  const std::string& rule() const { return rule_; }
  const std::string& where() const { return where_; }

 private:
  std::string rule_;
  std::string where_;
};

}  // namespace bcq
