#include "continuous/agent.hpp"

#include <torch/script.h>

#include <ATen/CPUGeneratorImpl.h>

#include <cstdio>
#include <iomanip>
#include <limits>
#include <sstream>

#include "common/atomic_file.hpp"
#include "common/error.hpp"
#include "continuous/baselines.hpp"
#include "continuous/bcq.hpp"
#include "continuous/nets.hpp"
#include "continuous/script_export.hpp"

namespace bcq::continuous {

torch::Tensor Agent::value_estimate(const torch::Tensor& states, at::Generator&) {
  return torch::full({states.size(0)}, std::numeric_limits<float>::quiet_NaN());
}

void Agent::save(torch::serialize::OutputArchive& archive) const {
  // Listing the entries changes nothing; the list is non-const because load writes through it.
  const CheckpointEntries entries = const_cast<Agent*>(this)->checkpoint_entries();
  for (const auto& [key, tensor] : entries.tensors) archive.write(key, tensor);
  for (const auto& [key, adam] : entries.optimizers) save_adam(archive, key, *adam);
  for (const auto& [key, gen] : entries.generators) save_generator(archive, key, gen);
}

void Agent::load(torch::serialize::InputArchive& archive) {
  CheckpointEntries entries = checkpoint_entries();
  for (auto& [key, tensor] : entries.tensors) read_checkpoint_tensor(archive, key, tensor);
  for (auto& [key, adam] : entries.optimizers) load_adam(archive, key, *adam);
  for (auto& [key, gen] : entries.generators) load_generator(archive, key, gen);
}

std::unique_ptr<Agent> make_agent(const std::string& algo, const ProblemShape& shape,
                                  uint64_t seed, torch::Device device,
                                  const AgentConfigs& configs) {
  if (algo == "bcq") return std::make_unique<BcqAgent>(shape, seed, device, configs.bcq);
  if (algo == "ddpg" || algo == "bc" || algo == "vae-bc") {
    if (configs.bcq.precision != MatmulPrecision::kFloat32) {
      throw InputError("--precision " + precision_name(configs.bcq.precision) +
                       " is implemented for bcq only, not " + algo);
    }
  }
  if (algo == "ddpg") return std::make_unique<DdpgAgent>(shape, seed, device, configs.ddpg);
  if (algo == "bc") return std::make_unique<BcAgent>(shape, seed, device, configs.bc);
  if (algo == "vae-bc") return std::make_unique<VaeBcAgent>(shape, seed, device, configs.vae_bc);
  throw InputError("unknown algorithm '" + algo + "' (expected bcq, ddpg, bc or vae-bc)");
}

std::unique_ptr<Agent> make_agent(const std::string& algo, const ProblemShape& shape,
                                  uint64_t seed, torch::Device device,
                                  const std::string& precision) {
  AgentConfigs configs;
  configs.bcq.precision = parse_precision(precision);
  return make_agent(algo, shape, seed, device, configs);
}

at::Generator make_generator(uint64_t seed, torch::Device device) {
  if (device.is_cpu()) return at::make_generator<at::CPUGeneratorImpl>(seed);
  auto gen = at::globalContext().defaultGenerator(device).clone();
  gen.set_current_seed(seed);
  return gen;
}

void save_generator(torch::serialize::OutputArchive& archive, const std::string& key,
                    const at::Generator& gen) {
  at::Generator shared = gen;  // same generator; mutex() is non-const
  std::lock_guard<std::mutex> lock(shared.mutex());
  archive.write(key, shared.get_state());
}

void load_generator(torch::serialize::InputArchive& archive, const std::string& key,
                    at::Generator& gen) {
  torch::Tensor state;
  archive.read(key, state);
  std::lock_guard<std::mutex> lock(gen.mutex());
  gen.set_state(state);
}

void add_linear(NamedTensors& tensors, const std::string& prefix, const torch::nn::Linear& layer) {
  tensors.emplace_back(prefix + "_weight", layer->weight.detach().to(torch::kCPU).clone());
  tensors.emplace_back(prefix + "_bias", layer->bias.detach().to(torch::kCPU).clone());
}

std::string script_float(double value) {
  std::ostringstream out;
  out << std::setprecision(17) << value;
  std::string s = out.str();
  if (s.find_first_of(".eEn") == std::string::npos) s += ".0";
  return s;
}

void save_script_module(const std::string& path, const std::string& class_name,
                        const NamedTensors& tensors, const std::string& source) {
  torch::jit::Module module(class_name);
  for (const auto& [name, tensor] : tensors) module.register_parameter(name, tensor, false);
  module.define(source);
  module.eval();
  // Serialised in memory, then written as any other file: LibTorch's own file writer aborts
  // the program when a write fails (see save_checkpoint in checkpoint_io.cpp).
  std::ostringstream bytes;
  try {
    module.save(bytes);
  } catch (const c10::Error& e) {
    throw InputError("cannot write " + path + ": " + e.what_without_backtrace());
  }
  write_file_atomic(path, bytes.str());
}

}  // namespace bcq::continuous
