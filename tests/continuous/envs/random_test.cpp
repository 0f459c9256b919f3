// common/random.hpp (used for reset noise): the generator against published reference values
// and its distribution moments.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>

#include "common/random.hpp"

namespace bcq::envs {
namespace {

TEST(Splitmix64, MatchesTheReferenceSequence) {
  // Reference outputs of Vigna's splitmix64.c for seed 0.
  std::uint64_t state = 0;
  EXPECT_EQ(splitmix64(state), 0xE220A8397B1DCDAFULL);
  EXPECT_EQ(splitmix64(state), 0x6E789E6AA1B965F4ULL);
  EXPECT_EQ(splitmix64(state), 0x06C45D188009454FULL);
}

TEST(Rng, SameSeedSameStreamDifferentSeedDifferentStream) {
  Rng a(12345), b(12345), c(12346);
  for (int i = 0; i < 100; ++i) {
    const auto x = a.next_u64();
    EXPECT_EQ(x, b.next_u64());
    EXPECT_NE(x, c.next_u64());
  }
  a.reseed(12345);
  b.reseed(12345);
  EXPECT_EQ(a.normal(), b.normal());
}

TEST(Rng, UniformAndNormalMoments) {
  Rng rng(7);
  const int n = 200000;
  double u_sum = 0, u_min = 1, u_max = 0, z_sum = 0, z_sq = 0;
  for (int i = 0; i < n; ++i) {
    const double u = rng.uniform(-0.1, 0.1);
    u_sum += u;
    u_min = std::min(u_min, u);
    u_max = std::max(u_max, u);
    const double z = rng.normal();
    z_sum += z;
    z_sq += z * z;
  }
  EXPECT_GE(u_min, -0.1);
  EXPECT_LT(u_max, 0.1);
  EXPECT_NEAR(u_sum / n, 0.0, 0.001);   // sd of the mean: 0.0577 / sqrt(n) = 1.3e-4
  EXPECT_NEAR(z_sum / n, 0.0, 0.01);    // 2.2e-3
  EXPECT_NEAR(z_sq / n, 1.0, 0.015);    // sd of the mean square: sqrt(2 / n) = 3.2e-3
}

}  // namespace
}  // namespace bcq::envs
