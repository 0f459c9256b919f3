// The project's one seeded generator, with its own distributions, so that the same seed gives
// the same MDP, batch, reset noise and run on every machine (the standard library's
// distributions differ between implementations): xoshiro256** seeded through splitmix64
// (Blackman and Vigna).
#pragma once

#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>

namespace bcq {

/// splitmix64 step: advances `state` and returns the next 64-bit value.
inline uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

class Rng {
 public:
  explicit Rng(uint64_t seed = 0) { reseed(seed); }

  /// Restarts the stream from `seed` (the four words come from splitmix64, never all zero).
  void reseed(uint64_t seed) {
    uint64_t x = seed;
    for (auto& word : s_) word = splitmix64(x);
    has_spare_normal_ = false;
  }

  /// Next 64 random bits.
  uint64_t next_u64() {
    const uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }

  /// Uniform double in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }

  /// Uniform in [low, high).
  double uniform(double low, double high) { return low + (high - low) * uniform(); }

  /// Uniform integer in [0, n) without modulo bias (Lemire's multiply-shift with rejection).
  uint32_t below(uint32_t n) {
    uint64_t m = static_cast<uint64_t>(static_cast<uint32_t>(next_u64() >> 32)) * n;
    uint32_t low = static_cast<uint32_t>(m);
    if (low < n) {
      const uint32_t threshold = static_cast<uint32_t>(-n) % n;
      while (low < threshold) {
        m = static_cast<uint64_t>(static_cast<uint32_t>(next_u64() >> 32)) * n;
        low = static_cast<uint32_t>(m);
      }
    }
    return static_cast<uint32_t>(m >> 32);
  }

  /// Index drawn from the discrete distribution probs[0..n) (assumed normalised).
  template <typename Probs>
  int categorical(const Probs& probs, int n) {
    double u = uniform();
    double acc = 0.0;
    for (int i = 0; i < n; ++i) {
      acc += probs[i];
      if (u < acc) return i;
    }
    // Rounding left u above the last partial sum: return the last index with mass.
    for (int i = n - 1; i >= 0; --i)
      if (probs[i] > 0.0) return i;
    return n - 1;
  }

  /// The whole generator state as six words (the four xoshiro words, whether a spare normal
  /// is kept, the spare's bits), for checkpoints; set_state(state()) continues the stream.
  std::array<uint64_t, 6> state() const {
    uint64_t spare_bits = 0;
    std::memcpy(&spare_bits, &spare_normal_, sizeof spare_bits);
    return {s_[0], s_[1], s_[2], s_[3], has_spare_normal_ ? 1u : 0u, spare_bits};
  }
  void set_state(const std::array<uint64_t, 6>& state) {
    for (int i = 0; i < 4; ++i) s_[i] = state[i];
    has_spare_normal_ = state[4] != 0;
    std::memcpy(&spare_normal_, &state[5], sizeof spare_normal_);
  }

  /// Standard normal by the Box-Muller transform (pairs; the second is kept for the next call).
  double normal() {
    if (has_spare_normal_) {
      has_spare_normal_ = false;
      return spare_normal_;
    }
    // 1 - uniform() is in (0, 1], so the log is finite.
    const double radius = std::sqrt(-2.0 * std::log(1.0 - uniform()));
    constexpr double kTwoPi = 6.283185307179586476925286766559;
    const double angle = kTwoPi * uniform();
    spare_normal_ = radius * std::sin(angle);
    has_spare_normal_ = true;
    return radius * std::cos(angle);
  }

 private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4] = {};
  bool has_spare_normal_ = false;
  double spare_normal_ = 0.0;
};

}  // namespace bcq
