// The TorchScript source of BCQ's exported policy: select_best_action (bcq_selection.cpp)
// written out operation by operation, so that Python's torch.jit.load and `bcq eval` pick
// the actions the agent picks.
#include "continuous/bcq_selection.hpp"
#include "continuous/script_export.hpp"

namespace bcq::continuous {

void export_bcq_policy(const std::string& path, const SelectionWeights& w,
                       const BcqConfig& config, const ProblemShape& shape, int64_t latent_dim) {
  // The tensors and the operations of select_best_action, so the script picks the same actions.
  NamedTensors t;
  auto cpu = [](const torch::Tensor& x) { return x.to(torch::kCPU); };
  for (const auto& [name, layer] : {std::pair{"d1", &w.d1}, {"a1", &w.a1}, {"q1", &w.q1}}) {
    t.emplace_back(std::string(name) + "_state_weight", cpu(layer->state_weight));
    t.emplace_back(std::string(name) + "_sample_weight_t", cpu(layer->sample_weight_t));
    t.emplace_back(std::string(name) + "_bias", cpu(layer->bias));
  }
  for (const auto& [name, layer] : {std::pair{"d2", &w.d2}, {"d3", &w.d3}, {"a2", &w.a2},
                                    {"a3", &w.a3}, {"q2", &w.q2}, {"q3", &w.q3}}) {
    t.emplace_back(std::string(name) + "_weight", cpu(layer->weight));
    t.emplace_back(std::string(name) + "_bias", cpu(layer->bias));
  }
  const std::string sd = std::to_string(shape.state_dim);
  const std::string ad = std::to_string(shape.action_dim);
  const std::string ld = std::to_string(latent_dim);
  const std::string k = std::to_string(config.select_samples);
  const std::string ma = script_float(shape.max_action);
  const std::string pm = script_float(config.phi * shape.max_action);
  const std::string clip = script_float(config.latent_clip);
  // hidden_relu: float32, or the bfloat16 weight stored as such (15 is ScalarType BFloat16;
  // this script's scope has no torch.bfloat16 name).
  auto hidden = [&](const std::string& layer) {
    if (config.precision == MatmulPrecision::kFloat32) {
      return "(torch.mm(h, self." + layer + "_weight.t()) + self." + layer + "_bias).relu()";
    }
    return "(self." + layer + "_bias + torch.mm(h.to(15), self." + layer + "_weight.t())).relu()";
  };
  // split_input_relu, then Eq. 11: sample k actions from the decoder, perturb, keep the one
  // with the highest Q1.
  const std::string src = R"(
def split_input_relu(self, bias: Tensor, state_weight: Tensor, sample_weight_t: Tensor,
                     s: Tensor, x: Tensor) -> Tensor:
    n = s.size(0)
    out = bias.size(0)
    h = (torch.mm(s, state_weight.t()) + bias).unsqueeze(1).expand(n, )" + k + R"(, out)
    h = h.reshape(n * )" + k + R"(, out)
    for i in range(sample_weight_t.size(0)):
        h = h + x[:, i:i + 1] * sample_weight_t[i]
    return h.relu()

def forward(self, state: Tensor) -> Tensor:
    single = state.dim() == 1
    s = state.reshape(-1, )" + sd + R"().float()
    n = s.size(0)
    z = torch.randn(n * )" + k + ", " + ld + R"().clamp(-)" + clip + ", " + clip + R"()
    h = self.split_input_relu(self.d1_bias, self.d1_state_weight, self.d1_sample_weight_t, s, z)
    h = )" + hidden("d2") + R"(
    a = )" + ma + R"( * torch.tanh(torch.mm(h, self.d3_weight.t()) + self.d3_bias)
    h = self.split_input_relu(self.a1_bias, self.a1_state_weight, self.a1_sample_weight_t, s, a)
    h = )" + hidden("a2") + R"(
    a = (a + )" + pm + R"( * torch.tanh(torch.mm(h, self.a3_weight.t()) + self.a3_bias)).clamp(-)" +
                          ma + ", " + ma + R"()
    h = self.split_input_relu(self.q1_bias, self.q1_state_weight, self.q1_sample_weight_t, s, a)
    h = )" + hidden("q2") + R"(
    q = (torch.mm(h, self.q3_weight.t()) + self.q3_bias).reshape(n, )" + k + R"()
    index = q.argmax(1)
    best = a.reshape(n, )" + k + ", " + ad + R"().gather(1, index.view(n, 1, 1).expand(n, 1, )" + ad +
                          R"()).squeeze(1)
    if single:
        return best[0]
    return best
)";
  save_script_module(path, "BcqPolicy", t, src);
}

}  // namespace bcq::continuous
