#include "continuous/sampling.hpp"

#include <algorithm>

namespace bcq::continuous {

Batch sample_batch(const ReplayBuffer& buffer, std::mt19937_64& rng, int64_t rows,
                   torch::Device device) {
  const int64_t sd = buffer.state_dim, ad = buffer.action_dim;
  auto state = torch::empty({rows, sd});
  auto action = torch::empty({rows, ad});
  auto next_state = torch::empty({rows, sd});
  auto reward = torch::empty({rows, 1});
  auto not_done = torch::empty({rows, 1});
  float* s = state.data_ptr<float>();
  float* a = action.data_ptr<float>();
  float* s2 = next_state.data_ptr<float>();
  float* r = reward.data_ptr<float>();
  float* nd = not_done.data_ptr<float>();
  std::uniform_int_distribution<std::size_t> pick(0, buffer.size() - 1);
  for (int64_t i = 0; i < rows; ++i) {
    const std::size_t j = pick(rng);
    std::copy_n(buffer.observations.data() + j * sd, sd, s + i * sd);
    std::copy_n(buffer.actions.data() + j * ad, ad, a + i * ad);
    std::copy_n(buffer.next_observations.data() + j * sd, sd, s2 + i * sd);
    r[i] = buffer.rewards[j];
    nd[i] = buffer.terminals[j] ? 0.0f : 1.0f;  // timeouts are not terminal
  }
  if (device.is_cpu()) return {state, action, next_state, reward, not_done};
  return {state.to(device), action.to(device), next_state.to(device), reward.to(device),
          not_done.to(device)};
}

}  // namespace bcq::continuous
