#include "continuous/agent.hpp"

#include <torch/script.h>

#include <ATen/CPUGeneratorImpl.h>

#include <cstdio>
#include <iomanip>
#include <sstream>

#include "common/error.hpp"
#include "continuous/baselines.hpp"
#include "continuous/bcq.hpp"
#include "continuous/script_export.hpp"

namespace bcq::continuous {

std::unique_ptr<Agent> make_agent(const std::string& algo, const ProblemShape& shape,
                                  uint64_t seed, torch::Device device,
                                  const std::string& precision) {
  const MatmulPrecision matmul = parse_precision(precision);
  if (algo == "bcq") {
    BcqConfig config;
    config.precision = matmul;
    return std::make_unique<BcqAgent>(shape, seed, device, config);
  }
  if (matmul != MatmulPrecision::kFloat32) {
    throw InputError("--precision " + precision + " is implemented for bcq only, not " + algo);
  }
  if (algo == "ddpg") return std::make_unique<DdpgAgent>(shape, seed, device);
  if (algo == "bc") return std::make_unique<BcAgent>(shape, seed, device);
  if (algo == "vae-bc") return std::make_unique<VaeBcAgent>(shape, seed, device);
  throw InputError("unknown algorithm '" + algo + "' (expected bcq, ddpg, bc or vae-bc)");
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
  const std::string tmp = path + ".tmp";
  try {
    module.save(tmp);
  } catch (const c10::Error& e) {
    std::remove(tmp.c_str());
    throw InputError("cannot write " + path + ": " + e.what_without_backtrace());
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    throw InputError("cannot write " + path + " (rename)");
  }
}

}  // namespace bcq::continuous
