// Hyperparameters of BCQ and its baselines: one plain struct per algorithm, every field read
// by the code that trains, evaluates and exports the agent, with the paper's value as the
// default (Fujimoto, Meger, Precup 2019, section 6 and appendix D; see docs/continuous.md).
// No LibTorch here: the CLI and the study runner fill these structs.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

namespace bcq::continuous {

/// Number format of the hidden-to-hidden matrix products (750 x 750 in the VAE, 400 x 300 in
/// the actor and critics: ~96% of an iteration's FLOPs). kFloat32 is the reference's. kBFloat16
/// rounds those layers' inputs and weights to bfloat16 and multiplies with float32 accumulation
/// (oneDNN; ~2x the float32 rate on CPUs with AVX512_BF16); biases, the input and output layers,
/// activations, losses and all parameters and optimizer state stay float32.
enum class MatmulPrecision { kFloat32, kBFloat16 };

/// "fp32" / "bf16".
std::string precision_name(MatmulPrecision precision);
/// Parses "fp32" or "bf16"; throws bcq::InputError otherwise.
MatmulPrecision parse_precision(const std::string& name);

/// Widths of the two hidden layers of a network: input -> first -> second -> output.
struct HiddenWidths {
  int64_t first = 0;
  int64_t second = 0;
  bool operator==(const HiddenWidths& other) const {
    return first == other.first && second == other.second;
  }
};

/// BCQ (Algorithm 1).
struct BcqConfig {
  int64_t batch_size = 100;     ///< mini-batch size N (paper: 100)
  /// gamma of the critic target, and of the true discounted return that evaluation compares
  /// with the critic's estimate (paper: 0.99)
  double discount = 0.99;
  double tau = 0.005;           ///< target network update rate (paper: 0.005)
  double lambda = 0.75;         ///< soft clipped double-Q weight, Eq. 13 (paper: 0.75)
  double phi = 0.05;            ///< perturbation range Phi (paper: 0.05)
  int64_t target_samples = 10;  ///< actions sampled per next state for the target (paper: 10)
  int64_t select_samples = 100; ///< actions sampled for action selection, Eq. 11 (paper: 100)
  double learning_rate = 1e-3;  ///< Adam, all networks (paper: 1e-3)
  HiddenWidths actor_hidden{400, 300};   ///< perturbation model xi_phi (paper: 400-300)
  HiddenWidths critic_hidden{400, 300};  ///< each of the two critics (paper: 400-300)
  HiddenWidths vae_hidden{750, 750};     ///< encoder and decoder of G_omega (paper: 750-750)
  double vae_kl_weight = 0.5;   ///< weight of KL(N(mu, sigma) || N(0, 1)) (reference code: 0.5)
  /// decoder latents z ~ N(0, 1) clipped to [-latent_clip, latent_clip] (reference code: 0.5)
  double latent_clip = 0.5;
  /// Hidden-layer matrix products (see MatmulPrecision); the paper's is float32.
  MatmulPrecision precision = MatmulPrecision::kFloat32;
  nlohmann::json to_json() const;
};

/// DDPG (Lillicrap et al. 2015 as configured in the BCQ paper's appendix D): the offline
/// DDPG baseline and the behavioural agent that collects the batches.
struct DdpgConfig {
  int64_t batch_size = 100;     ///< mini-batch size (paper: 100)
  double discount = 0.99;       ///< gamma of the critic target and of evaluation (paper: 0.99)
  double tau = 0.005;           ///< target network update rate (paper: 0.005)
  double learning_rate = 1e-3;  ///< Adam, actor and critic (paper: 1e-3)
  HiddenWidths actor_hidden{400, 300};   ///< deterministic actor (paper: 400-300)
  HiddenWidths critic_hidden{400, 300};  ///< critic (paper: 400-300)
  nlohmann::json to_json() const;
};

/// Behaviour cloning: the deterministic actor regressed onto the batch actions.
struct BcConfig {
  int64_t batch_size = 100;     ///< mini-batch size (paper: 100)
  double learning_rate = 1e-3;  ///< Adam (paper: 1e-3)
  HiddenWidths actor_hidden{400, 300};  ///< deterministic actor (paper: 400-300)
  double discount = 0.99;       ///< gamma of evaluation's true discounted return (paper: 0.99)
  nlohmann::json to_json() const;
};

/// VAE-BC: BCQ's generative model G_omega trained alone.
struct VaeBcConfig {
  int64_t batch_size = 100;     ///< mini-batch size (paper: 100)
  double learning_rate = 1e-3;  ///< Adam (paper: 1e-3)
  HiddenWidths vae_hidden{750, 750};  ///< encoder and decoder (paper: 750-750)
  double vae_kl_weight = 0.5;   ///< as BcqConfig::vae_kl_weight
  double latent_clip = 0.5;     ///< as BcqConfig::latent_clip
  double discount = 0.99;       ///< gamma of evaluation's true discounted return (paper: 0.99)
  nlohmann::json to_json() const;
};

/// The behavioural DDPG that collects the batches (paper, section 6 and appendix D): its
/// exploration noise N(0, sd * max_action) per collection kind.
struct BehaviourConfig {
  double final_noise = 0.5;         ///< "final buffer": N(0, 0.5) (paper)
  double concurrent_noise = 0.1;    ///< "concurrent": N(0, 0.1) (paper)
  double expert_training_noise = 0.1;  ///< training the expert of imitation/imperfect (paper: 0.1)
  double imperfect_noise = 0.3;     ///< "imperfect demonstrations": N(0, 0.3) (paper)
  double imperfect_random_probability = 0.3;  ///< ... or a uniform action with p = 0.3 (paper)
};

/// One config per algorithm; make_agent reads the one of the agent it builds.
struct AgentConfigs {
  BcqConfig bcq;
  DdpgConfig ddpg;
  BcConfig bc;
  VaeBcConfig vae_bc;
};

}  // namespace bcq::continuous
