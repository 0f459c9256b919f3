// bench_bcq: BCQ training iterations per second with the paper's network sizes on
// Hopper-sized (11 states, 3 actions) and HalfCheetah-sized (17, 6) inputs, at 1 and 2
// LibTorch threads, against two baselines measured in the same process:
//   - the machine's sgemm rate at the same thread count (the matmul roofline): the ratio
//     achieved-GFLOP/s / sgemm-GFLOP/s says how close an iteration runs to pure matmul;
//   - the reference PyTorch implementation (sfujim/BCQ): with --reference FILE, its rate and
//     action-selection time as measured by bench/reference_bcq.py --json FILE on this machine
//     for the same input, threads and denormal setting; without it, the published rates for
//     this kind of machine (issue 6: 18.0 / 28.3 it/s at 1 / 2 threads, 21.6 / 35.3 with
//     denormals flushed).
// Also times BCQ action selection (Eq. 11, 100 samples) per call: the median over 10 blocks
// of 30 calls.
//
// Usage: bench_bcq [--iterations N] [--threads 1,2] [--no-flush] [--device cpu|cuda]
//                  [--reference FILE] [--precision fp32,bf16] [--blocks N]
// (--blocks N also prints the it/s of every block of N iterations: the denormal slowdown shows
// as falling blocks without flushing)
// (with cuda, the sgemm column is the GPU's fp32 matmul rate on the same shape; the reference
// numbers are CPU numbers and are not compared).
#include <torch/torch.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "continuous/agent.hpp"
#include "continuous/bcq.hpp"
#include "continuous/nets.hpp"
#include "continuous/replay_buffer.hpp"
#include "continuous/sampling.hpp"

namespace {

constexpr int kSelectBlocks = 10;      // action selection: median over this many blocks ...
constexpr int kSelectBlockCalls = 30;  // ... of this many calls (as bench/reference_bcq.py)

using Clock = std::chrono::steady_clock;
using bcq::continuous::ProblemShape;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// Matmul rate (GFLOP/s) on the iteration's dominant shape: [1000 x 750] x [750 x 750], in
// float32 (sgemm) or bfloat16 inputs.
double gemm_gflops(double min_seconds, torch::Device device, torch::ScalarType dtype) {
  auto opt = torch::TensorOptions().device(device).dtype(dtype);
  auto a = torch::randn({1000, 750}, opt), b = torch::randn({750, 750}, opt),
       c = torch::empty({1000, 750}, opt);
  for (int i = 0; i < 5; ++i) torch::mm_out(c, a, b);
  c.sum().item<float>();  // waits for an accelerator
  const double flop = 2.0 * 1000 * 750 * 750;
  int64_t n = 0;
  const auto t0 = Clock::now();
  while (seconds_since(t0) < min_seconds) {
    for (int i = 0; i < 10; ++i) torch::mm_out(c, a, b);
    n += 10;
    c.sum().item<float>();
  }
  return flop * n / seconds_since(t0) / 1e9;
}

// Multiply-accumulates of one dense layer on M rows.
double mac(double m, double in, double out) { return m * in * out; }

// Matmul FLOPs of one BCQ iteration as this implementation runs it (batch 100, 10 target
// samples): forward, weight gradients, and the input gradients autograd needs.
double iteration_flop(double sd, double ad) {
  const double B = 100, K = 10, L = 2 * ad;
  auto decoder = [&](double m) { return mac(m, sd + L, 750) + mac(m, 750, 750) + mac(m, 750, ad); };
  auto encoder = [&](double m) {
    return mac(m, sd + ad, 750) + mac(m, 750, 750) + 2 * mac(m, 750, L);
  };
  auto mlp = [&](double m, double in, double out) {
    return mac(m, in, 400) + mac(m, 400, 300) + mac(m, 300, out);
  };
  const double vae = 3 * (encoder(B) + decoder(B)) - mac(B, sd + ad, 750);
  const double target = decoder(B * K) + mlp(B * K, sd + ad, ad) + 2 * mlp(B * K, sd + ad, 1);
  const double critic = 3 * 2 * mlp(B, sd + ad, 1) - 2 * mac(B, sd + ad, 400);
  const double actor = decoder(B) + (3 * mlp(B, sd + ad, ad) - mac(B, sd + ad, 400)) + 2 * mlp(B, sd + ad, 1);
  return 2 * (vae + target + critic + actor);
}

// A whole positive decimal number (atoi would take "2x" as 2 and "x" as 0).
bool positive_int(const char* text, int& out) {
  char* end = nullptr;
  errno = 0;
  const long v = std::strtol(text, &end, 10);
  if (end == text || *end != '\0' || errno == ERANGE || v <= 0 || v > 1000000000) return false;
  out = static_cast<int>(v);
  return true;
}

int bad_number(const char* option, const char* text) {
  std::fprintf(stderr, "bench_bcq: %s '%s' is not a positive whole number\n", option, text);
  return 2;
}

bcq::continuous::ReplayBuffer synthetic_buffer(const ProblemShape& shape, std::size_t n) {
  std::mt19937_64 rng(1);
  std::normal_distribution<float> normal;
  std::uniform_real_distribution<float> u(-1, 1);
  bcq::continuous::ReplayBuffer b(shape.state_dim, shape.action_dim);
  std::vector<float> s(shape.state_dim), a(shape.action_dim), s2(shape.state_dim);
  for (std::size_t i = 0; i < n; ++i) {
    for (auto& x : s) x = normal(rng);
    for (auto& x : a) x = u(rng);
    for (auto& x : s2) x = normal(rng);
    b.add(s.data(), a.data(), normal(rng), s2.data(), i % 100 == 99, false);
  }
  return b;
}

// One row of bench/reference_bcq.py's JSON report (format bcq-reference-bench/1).
struct ReferenceRow {
  std::string input;
  int threads = 0;
  bool flush_denormal = true;
  double its_per_s = 0;
  double select_ms = 0;
};

// Reads the reference report; throws std::runtime_error naming the file and the field at fault.
std::vector<ReferenceRow> read_reference(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error(path + ": cannot open the reference report");
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(path + ": not JSON (" + e.what() + ")");
  }
  if (!doc.is_object() || doc.value("format", "") != "bcq-reference-bench/1") {
    throw std::runtime_error(path + ": field 'format' is not \"bcq-reference-bench/1\" "
                             "(write the file with bench/reference_bcq.py --json)");
  }
  if (!doc.contains("results") || !doc["results"].is_array()) {
    throw std::runtime_error(path + ": field 'results' is missing or not an array");
  }
  std::vector<ReferenceRow> rows;
  for (std::size_t i = 0; i < doc["results"].size(); ++i) {
    const auto& r = doc["results"][i];
    try {
      rows.push_back({r.at("input").get<std::string>(), r.at("threads").get<int>(),
                      r.at("flush_denormal").get<bool>(), r.at("its_per_s").get<double>(),
                      r.at("select_ms").get<double>()});
    } catch (const nlohmann::json::exception& e) {
      throw std::runtime_error(path + ": results[" + std::to_string(i) + "]: " + e.what());
    }
  }
  return rows;
}

// The measured reference for this input, thread count and denormal setting, if the report has it.
std::optional<ReferenceRow> find_reference(const std::vector<ReferenceRow>& rows,
                                           const std::string& input, int threads, bool flush) {
  for (const auto& r : rows) {
    if (r.input == input && r.threads == threads && r.flush_denormal == flush) return r;
  }
  return std::nullopt;
}

// A table cell: the number, or "-" when there is none (value 0).
std::string cell(const char* format, double value) {
  if (!(value > 0)) return "-";
  char text[32];
  std::snprintf(text, sizeof text, format, value);
  return text;
}

// The reference's published rate (issue 6), which exists for 1 and 2 threads on the CPU.
double published_reference(int threads, bool flush) {
  if (threads == 1) return flush ? 21.6 : 18.0;
  if (threads == 2) return flush ? 35.3 : 28.3;
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  int iterations = 300;
  bool flush = true;
  std::vector<int> thread_counts = {1, 2};
  torch::Device device = torch::kCPU;
  std::string reference_path;
  int blocks = 0;
  std::vector<bcq::continuous::MatmulPrecision> precisions = {bcq::continuous::MatmulPrecision::kFloat32};
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--iterations") && i + 1 < argc) {
      if (!positive_int(argv[++i], iterations)) return bad_number("--iterations", argv[i]);
    } else if (!std::strcmp(argv[i], "--threads") && i + 1 < argc) {
      thread_counts.clear();
      for (char* t = std::strtok(argv[++i], ","); t; t = std::strtok(nullptr, ",")) {
        int n = 0;
        if (!positive_int(t, n)) return bad_number("--threads", t);
        thread_counts.push_back(n);
      }
    } else if (!std::strcmp(argv[i], "--device") && i + 1 < argc) {
      device = torch::Device(argv[++i]);
    } else if (!std::strcmp(argv[i], "--no-flush")) {
      flush = false;
    } else if (!std::strcmp(argv[i], "--reference") && i + 1 < argc) {
      reference_path = argv[++i];
    } else if (!std::strcmp(argv[i], "--blocks") && i + 1 < argc) {
      if (!positive_int(argv[++i], blocks)) return bad_number("--blocks", argv[i]);
    } else if (!std::strcmp(argv[i], "--precision") && i + 1 < argc) {
      precisions.clear();
      for (char* t = std::strtok(argv[++i], ","); t; t = std::strtok(nullptr, ",")) {
        try {
          precisions.push_back(bcq::continuous::parse_precision(t));
        } catch (const std::exception& e) {
          std::fprintf(stderr, "bench_bcq: %s\n", e.what());
          return 2;
        }
      }
    } else {
      std::fprintf(stderr, "usage: bench_bcq [--iterations N] [--threads 1,2] [--no-flush] "
                           "[--device cpu|cuda] [--reference FILE] [--precision fp32,bf16] [--blocks N]\n");
      return 2;
    }
  }
  std::vector<ReferenceRow> reference;
  if (!reference_path.empty()) {
    try {
      reference = read_reference(reference_path);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "bench_bcq: %s\n", e.what());
      return 2;
    }
  }
  at::globalContext().setFlushDenormal(flush);
  bcq::continuous::keep_freed_memory_for_reuse();
  std::printf("bench_bcq: BCQ training (batch 100, paper network sizes), %d timed iterations, "
              "denormals %s, device %s\n", iterations, flush ? "flushed" : "not flushed",
              device.str().c_str());
  if (!device.is_cpu()) {
    std::printf("reference: none (the reference numbers are CPU numbers)\n");
  } else if (!reference_path.empty()) {
    std::printf("reference: measured by bench/reference_bcq.py, read from %s (same input, "
                "threads and denormal setting)\n", reference_path.c_str());
  } else {
    std::printf("reference: the published rates of issue 6 (18.0 / 28.3 it/s at 1 / 2 threads, "
                "21.6 / 35.3 flushed; no select time); pass --reference FILE to use a measured one\n");
  }
  std::printf("%-12s %7s %5s %9s %8s %10s %9s %9s %9s %8s %10s %11s %8s\n", "input", "threads",
              "prec", "GFLOP/it", "it/s", "GFLOP/s", "gemm", "roofline", "ref it/s", "vs ref",
              "select ms", "ref sel ms", "vs ref");
  bool missing_reference = false;
  struct Env {
    const char* name;
    ProblemShape shape;
  };
  for (int threads : thread_counts) {
    torch::set_num_threads(threads);
    for (const auto precision : precisions) {
    const bool bf16 = precision == bcq::continuous::MatmulPrecision::kBFloat16;
    const double sgemm = gemm_gflops(1.0, device, bf16 ? torch::kBFloat16 : torch::kFloat);
    for (const Env& env : {Env{"hopper", {11, 3, 1.0}}, Env{"halfcheetah", {17, 6, 1.0}}}) {
      bcq::continuous::BcqConfig config;
      config.precision = precision;
      bcq::continuous::BcqAgent agent(env.shape, 0, device, config);
      const auto buffer = synthetic_buffer(env.shape, 10000);
      std::mt19937_64 rng(2);
      for (int i = 0; i < 20; ++i) agent.train_step(bcq::continuous::sample_batch(buffer, rng, 100, device));
      const auto t0 = Clock::now();
      std::string block_rates;  // --blocks: it/s of each block of N iterations, in order
      auto block_start = t0;
      for (int i = 0; i < iterations; ++i) {
        agent.train_step(bcq::continuous::sample_batch(buffer, rng, 100, device));
        if (blocks > 0 && (i + 1) % blocks == 0) {
          block_rates += cell(" %.1f", blocks / seconds_since(block_start));
          block_start = Clock::now();
        }
      }
      const double its = iterations / seconds_since(t0);
      const double flop = iteration_flop(env.shape.state_dim, env.shape.action_dim);
      // Action selection: one state, 100 sampled actions.
      auto gen = bcq::continuous::make_generator(3, device);
      auto state = torch::randn({1, env.shape.state_dim});
      for (int i = 0; i < 20; ++i) agent.select_action(state, gen);
      // The median block, as bench/reference_bcq.py does: a burst of load from elsewhere on a
      // shared machine shifts one block, not the figure.
      std::vector<double> block_ms;
      for (int block = 0; block < kSelectBlocks; ++block) {
        const auto t1 = Clock::now();
        for (int i = 0; i < kSelectBlockCalls; ++i) {
          agent.select_action(state, gen).sum().item<float>();
        }
        block_ms.push_back(1e3 * seconds_since(t1) / kSelectBlockCalls);
      }
      std::sort(block_ms.begin(), block_ms.end());
      const double select_ms = block_ms[block_ms.size() / 2];
      // Reference it/s and select ms (0 = none to compare with).
      double ref = 0, ref_select_ms = 0;
      if (device.is_cpu() && !reference_path.empty()) {
        if (const auto row = find_reference(reference, env.name, threads, flush)) {
          ref = row->its_per_s;
          ref_select_ms = row->select_ms;
        } else {
          missing_reference = true;
        }
      } else if (device.is_cpu()) {
        ref = published_reference(threads, flush);
      }
      // "vs ref" is a speed-up in both places: our it/s over the reference's, and the
      // reference's select time over ours.
      std::printf("%-12s %7d %5s %9.3f %8.2f %10.1f %9.1f %8.1f%% %9s %8s %10.3f %11s %8s\n",
                  env.name, threads, bcq::continuous::precision_name(precision).c_str(), flop / 1e9, its, its * flop / 1e9, sgemm,
                  100.0 * its * flop / 1e9 / sgemm, cell("%.1f", ref).c_str(),
                  cell("%.2fx", ref > 0 ? its / ref : 0.0).c_str(), select_ms,
                  cell("%.3f", ref_select_ms).c_str(),
                  cell("%.2fx", ref_select_ms > 0 ? ref_select_ms / select_ms : 0.0).c_str());
      if (!block_rates.empty()) {
        std::printf("  it/s of each block of %d iterations:%s\n", blocks, block_rates.c_str());
      }
      std::fflush(stdout);
    }
    }
  }
  std::printf("roofline = achieved GFLOP/s / gemm GFLOP/s ([1000x750]x[750x750] with the row's "
              "precision: fp32 sgemm, or bf16 inputs; same threads, same run)\n");
  std::printf("select ms = one action selection (100 samples), median of %d blocks of %d calls\n",
              kSelectBlocks, kSelectBlockCalls);
  if (missing_reference) {
    std::printf("reference: rows showing - have no entry in %s for that input, thread count and "
                "denormal setting (%s)\n", reference_path.c_str(), flush ? "flushed" : "not flushed");
  }
  return 0;
}
