// JSON load/save of MDPs (format "bcq-mdp/1") and policies ("bcq-policy/1"), DESIGN.md
// "File formats". Loading validates everything and throws ValidationError / InputError
// naming the file and field; saving is atomic (temp file + rename).
#pragma once

#include <string>

#include <nlohmann/json_fwd.hpp>

#include "mdp/finite_mdp.hpp"

namespace bcq {

/// Parses and validates a bcq-mdp/1 document; `source` names it in errors.
FiniteMdp mdp_from_json(const nlohmann::json& doc, const std::string& source);
/// The bcq-mdp/1 document of `mdp`.
nlohmann::json mdp_to_json(const FiniteMdp& mdp);
/// Reads `path` (malformed JSON, a missing file, any broken rule: InputError).
FiniteMdp load_mdp(const std::string& path);
/// Writes `mdp` to `path` atomically.
void save_mdp(const FiniteMdp& mdp, const std::string& path);

/// Parses a bcq-policy/1 document and checks its shape against (S, A).
Policy policy_from_json(const nlohmann::json& doc, int num_states, int num_actions,
                        const std::string& source);
nlohmann::json policy_to_json(const Policy& policy);
Policy load_policy(const std::string& path, int num_states, int num_actions);
void save_policy(const Policy& policy, const std::string& path);

/// Reads a whole file into a string (missing or unreadable file: InputError).
std::string read_text_file(const std::string& path);
/// Parses JSON text; malformed JSON is an InputError naming `source`, line and column.
nlohmann::json parse_json_text(const std::string& text, const std::string& source);

}  // namespace bcq
