// A small seeded generator for reset noise and random policies: xoshiro256** seeded through
// splitmix64 (Blackman and Vigna). Unlike std::*_distribution its output is fixed by this
// file, so the same seed gives the same trajectory on every standard library.
#pragma once

#include <cmath>
#include <cstdint>

namespace bcq::envs {

/// splitmix64 step: advances `state` and returns the next 64-bit value.
inline std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

/// xoshiro256** with uniform and standard normal draws.
class Rng {
 public:
  explicit Rng(std::uint64_t seed = 0) { seed_with(seed); }

  /// Restarts the stream from `seed` (the four words come from splitmix64, never all zero).
  void seed_with(std::uint64_t seed) {
    std::uint64_t sm = seed;
    for (auto& word : s_) word = splitmix64(sm);
    has_spare_normal_ = false;
  }

  /// Next 64 random bits.
  std::uint64_t next() {
    const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }

  /// Uniform in [0, 1) with 53 random bits.
  double uniform01() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

  /// Uniform in [low, high).
  double uniform(double low, double high) { return low + (high - low) * uniform01(); }

  /// Standard normal by the Box-Muller transform (pairs; the second is kept for the next call).
  double normal() {
    if (has_spare_normal_) {
      has_spare_normal_ = false;
      return spare_normal_;
    }
    // 1 - uniform01() is in (0, 1], so the log is finite.
    const double radius = std::sqrt(-2.0 * std::log(1.0 - uniform01()));
    constexpr double kTwoPi = 6.283185307179586476925286766559;
    const double angle = kTwoPi * uniform01();
    spare_normal_ = radius * std::sin(angle);
    has_spare_normal_ = true;
    return radius * std::cos(angle);
  }

 private:
  static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  std::uint64_t s_[4] = {};
  bool has_spare_normal_ = false;
  double spare_normal_ = 0.0;
};

}  // namespace bcq::envs
