// policy.pt in Python: for every agent, the exported TorchScript policy loads with Python's
// torch.jit.load and returns exactly the actions that torch::jit::load gives in C++ for the same
// states and the same seed of torch's default generator (python_policy_check.py runs the Python
// side with the interpreter BCQ_PYTHON chosen at configure time).
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <torch/script.h>
#include <torch/torch.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "continuous/agent.hpp"
#include "tests/test_util.hpp"

namespace bcq::continuous {
namespace {

using bcq::test::read_file;
using bcq::test::shell_quote;
using bcq::test::TempDir;
using bcq::test::write_file;

constexpr uint64_t kPolicySeed = 2024;  // torch.manual_seed before the forward calls

Batch synthetic_batch(const ProblemShape& shape, int64_t rows) {
  Batch b;
  b.state = torch::randn({rows, shape.state_dim});
  b.action = torch::rand({rows, shape.action_dim}) * 2 - 1;
  b.next_state = torch::randn({rows, shape.state_dim});
  b.reward = torch::randn({rows, 1});
  b.not_done = (torch::rand({rows, 1}) > 0.01).to(torch::kFloat);
  return b;
}

// A float tensor as nested JSON lists (floats widen to double exactly).
nlohmann::json to_json(const torch::Tensor& t) {
  auto c = t.contiguous().to(torch::kDouble);
  if (c.dim() == 1) return std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
  nlohmann::json rows = nlohmann::json::array();
  for (int64_t i = 0; i < c.size(0); ++i) rows.push_back(to_json(c[i]));
  return rows;
}

// Nested JSON lists of numbers, flattened in row-major order.
void flatten(const nlohmann::json& j, std::vector<double>& out) {
  if (j.is_array()) {
    for (const auto& e : j) flatten(e, out);
  } else {
    out.push_back(j.get<double>());
  }
}

struct PythonRun {
  int exit_code = -1;
  std::string out, err;
};

PythonRun run_python_check(const std::string& policy, const std::string& inputs,
                           const std::string& dir) {
  const std::string out_path = dir + "/python.stdout", err_path = dir + "/python.stderr";
  const std::string cmd = shell_quote(BCQ_PYTHON) + " " + shell_quote(BCQ_POLICY_CHECK_SCRIPT) +
                          " " + shell_quote(policy) + " " + shell_quote(inputs) + " " +
                          std::to_string(kPolicySeed) + " >" + shell_quote(out_path) + " 2>" +
                          shell_quote(err_path);
  const int status = std::system(cmd.c_str());
  PythonRun r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = read_file(out_path);
  r.err = read_file(err_path);
  return r;
}

class PythonPolicyTest : public ::testing::TestWithParam<std::string> {};

TEST_P(PythonPolicyTest, TorchJitLoadInPythonGivesTheSameActions) {
  // One thread on both sides: the same kernels, reducing in the same order.
  torch::set_num_threads(1);
  const ProblemShape shape{11, 3, 1.0};
  torch::manual_seed(7);
  // "algo" or "algo/precision".
  const std::string param = GetParam();
  const auto slash = param.find('/');
  auto agent = slash == std::string::npos
                   ? make_agent(param, shape, 8, torch::kCPU)
                   : make_agent(param.substr(0, slash), shape, 8, torch::kCPU, param.substr(slash + 1));
  for (int i = 0; i < 3; ++i) agent->train_step(synthetic_batch(shape, 100));

  TempDir dir;  // unique per test process (mkdtemp): ctest -j runs these in parallel
  ASSERT_FALSE(dir.path().empty());
  const std::string policy = dir.file("policy.pt");
  agent->export_policy(policy);

  // One state [state_dim], a batch [N, state_dim], and the batch again (the second call of a
  // TorchScript method runs the optimised graph).
  const std::vector<torch::Tensor> inputs = {torch::randn({shape.state_dim}),
                                             torch::randn({5, shape.state_dim}),
                                             torch::randn({5, shape.state_dim})};
  nlohmann::json inputs_json = {{"inputs", nlohmann::json::array()}};
  for (const auto& s : inputs) inputs_json["inputs"].push_back(to_json(s));
  write_file(dir.file("inputs.json"), inputs_json.dump());

  // The C++ reference: the same file through torch::jit::load, same seed, same order.
  std::vector<torch::Tensor> expected;
  {
    torch::NoGradGuard no_grad;
    auto module = torch::jit::load(policy);
    torch::manual_seed(kPolicySeed);
    for (const auto& s : inputs) expected.push_back(module.forward({s}).toTensor().contiguous());
  }

  const PythonRun py = run_python_check(policy, dir.file("inputs.json"), dir.path());
  ASSERT_EQ(py.exit_code, 0)
      << "running " << BCQ_PYTHON << " " << BCQ_POLICY_CHECK_SCRIPT << " failed (exit code "
      << py.exit_code << (py.exit_code == 127 ? ": interpreter not found" : "")
      << "). Python with torch is required: scripts/install-deps.sh installs python3-torch; "
         "configure with -DBCQ_PYTHON=/path/to/python to pick another interpreter.\nstderr:\n"
      << py.err;
  nlohmann::json result;
  try {
    result = nlohmann::json::parse(py.out);
  } catch (const nlohmann::json::exception& e) {
    FAIL() << "python_policy_check.py printed no JSON (" << e.what() << "):\n" << py.out << py.err;
  }
  const std::string py_torch = result.value("torch_version", "?");
  ASSERT_EQ(result["outputs"].size(), inputs.size());
  for (std::size_t k = 0; k < inputs.size(); ++k) {
    SCOPED_TRACE("input " + std::to_string(k) + ", Python torch " + py_torch + ", C++ torch " +
                 TORCH_VERSION);
    const auto& out = result["outputs"][k];
    const auto shape_out = out["shape"].get<std::vector<int64_t>>();
    const std::vector<int64_t> want_shape =
        inputs[k].dim() == 1 ? std::vector<int64_t>{shape.action_dim}
                             : std::vector<int64_t>{inputs[k].size(0), shape.action_dim};
    ASSERT_EQ(shape_out, want_shape);
    ASSERT_EQ(out["dtype"].get<std::string>(), "torch.float32");
    std::vector<double> values;
    flatten(out["values"], values);
    ASSERT_EQ(static_cast<int64_t>(values.size()), expected[k].numel());
    ASSERT_EQ(expected[k].sizes().vec(), want_shape);
    const float* want = expected[k].data_ptr<float>();
    for (std::size_t i = 0; i < values.size(); ++i) {
      EXPECT_LE(std::abs(values[i]), shape.max_action) << "action " << i << " out of bounds";
      // Exact: both processes run the same libtorch library with one thread on the same
      // inputs and the same random stream, so every float must be bit-identical.
      EXPECT_EQ(values[i], static_cast<double>(want[i])) << "action component " << i;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(AllAgents, PythonPolicyTest,
                         ::testing::Values("bcq", "ddpg", "bc", "vae-bc", "bcq/bf16"),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string name = info.param;
                           for (char& c : name) {
                             if (c == '-' || c == '/') c = '_';
                           }
                           return name;
                         });

}  // namespace
}  // namespace bcq::continuous
