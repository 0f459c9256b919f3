// Internal: builds and saves a TorchScript module (loadable by `torch.jit.load` in Python and
// by `bcq eval`) from named tensors and the TorchScript source of its methods.
#pragma once

#include <torch/torch.h>

#include <string>
#include <utility>
#include <vector>

namespace bcq::continuous {

using NamedTensors = std::vector<std::pair<std::string, torch::Tensor>>;

/// Adds "<prefix>_weight" and "<prefix>_bias" of a Linear layer (copied to CPU).
void add_linear(NamedTensors& tensors, const std::string& prefix, const torch::nn::Linear& layer);

/// Writes the module atomically (common/atomic_file.hpp). `source` defines `forward`.
void save_script_module(const std::string& path, const std::string& class_name,
                        const NamedTensors& tensors, const std::string& source);

/// Formats a double so that TorchScript parses it back exactly.
std::string script_float(double value);

}  // namespace bcq::continuous
