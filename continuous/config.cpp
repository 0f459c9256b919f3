#include "continuous/config.hpp"

#include "common/error.hpp"

namespace bcq::continuous {

std::string precision_name(MatmulPrecision precision) {
  return precision == MatmulPrecision::kBFloat16 ? "bf16" : "fp32";
}

MatmulPrecision parse_precision(const std::string& name) {
  if (name == "fp32") return MatmulPrecision::kFloat32;
  if (name == "bf16") return MatmulPrecision::kBFloat16;
  throw InputError("--precision must be fp32 or bf16, not '" + name + "'");
}

namespace {
nlohmann::json widths(const HiddenWidths& w) { return {w.first, w.second}; }
}  // namespace

nlohmann::json BcqConfig::to_json() const {
  return {{"batch_size", batch_size},         {"discount", discount},
          {"tau", tau},                       {"lambda", lambda},
          {"phi", phi},                       {"target_samples", target_samples},
          {"select_samples", select_samples}, {"learning_rate", learning_rate},
          {"actor_hidden", widths(actor_hidden)}, {"critic_hidden", widths(critic_hidden)},
          {"vae_hidden", widths(vae_hidden)}, {"vae_kl_weight", vae_kl_weight},
          {"vae_log_std_clamp", {-4, 15}},    {"latent_clamp", {-latent_clip, latent_clip}},
          {"matmul_precision", precision_name(precision)}};
}

nlohmann::json DdpgConfig::to_json() const {
  return {{"batch_size", batch_size}, {"discount", discount}, {"tau", tau},
          {"learning_rate", learning_rate}, {"actor_hidden", widths(actor_hidden)},
          {"critic_hidden", widths(critic_hidden)}};
}

nlohmann::json BcConfig::to_json() const {
  return {{"batch_size", batch_size}, {"learning_rate", learning_rate},
          {"actor_hidden", widths(actor_hidden)}, {"discount", discount}};
}

nlohmann::json VaeBcConfig::to_json() const {
  return {{"batch_size", batch_size}, {"learning_rate", learning_rate},
          {"vae_hidden", widths(vae_hidden)}, {"vae_kl_weight", vae_kl_weight},
          {"latent_clamp", {-latent_clip, latent_clip}}, {"discount", discount}};
}

}  // namespace bcq::continuous
