// Uniform mini-batch sampling from a ReplayBuffer into tensors (with replacement, as the
// reference implementation's np.random.randint).
#pragma once

#include <torch/torch.h>

#include <random>

#include "continuous/agent.hpp"
#include "continuous/replay_buffer.hpp"

namespace bcq::continuous {

/// Draws `rows` transitions uniformly with replacement using `rng`.
Batch sample_batch(const ReplayBuffer& buffer, std::mt19937_64& rng, int64_t rows,
                   torch::Device device);

}  // namespace bcq::continuous
