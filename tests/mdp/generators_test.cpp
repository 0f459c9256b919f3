#include "mdp/generators.hpp"

#include <gtest/gtest.h>

#include "mdp/io.hpp"
#include "common/random.hpp"

#include <nlohmann/json.hpp>

namespace {

TEST(Rng, KnownFirstOutputsPinTheStream) {
  // Reference values from an independent implementation of splitmix64 + xoshiro256**
  // (a few lines of Python following Vigna's published C code). If these change, every
  // "same seed, same MDP" promise breaks.
  bcq::Rng rng(0);
  EXPECT_EQ(rng.next_u64(), 0x99ec5f36cb75f2b4ULL);
  EXPECT_EQ(rng.next_u64(), 0xbf6e1f784956452aULL);
  EXPECT_EQ(rng.next_u64(), 0x1a5f849d4933e6e0ULL);
}

TEST(Rng, BelowIsUniformEnough) {
  bcq::Rng rng(7);
  std::vector<int> hist(6, 0);
  const int n = 600000;
  for (int i = 0; i < n; ++i) hist[rng.below(6)]++;
  // Each bin ~ Binomial(n, 1/6): sd ~ 289; 6 sd = 1730.
  for (int h : hist) EXPECT_NEAR(h, n / 6, 1730);
}

TEST(Garnet, ShapeAndBranching) {
  bcq::FiniteMdp g = bcq::garnet(40, 3, 4, 1, 0.9, 2);
  EXPECT_EQ(g.num_states(), 40);
  EXPECT_EQ(g.num_actions(), 3);
  EXPECT_TRUE(g.is_terminal(38));
  EXPECT_TRUE(g.is_terminal(39));
  EXPECT_FALSE(g.is_terminal(0));
  for (int s = 0; s < 38; ++s)
    for (int a = 0; a < 3; ++a) {
      EXPECT_LE(g.outcomes(s, a).size(), 4u);  // cut points may coincide only with probability 0
      EXPECT_GE(g.outcomes(s, a).size(), 3u);
      double sum = 0;
      for (const auto& o : g.outcomes(s, a)) sum += o.p;
      EXPECT_NEAR(sum, 1.0, 1e-12);
    }
  EXPECT_FALSE(g.is_deterministic());
  EXPECT_TRUE(bcq::garnet(10, 2, 1, 3).is_deterministic());
}

TEST(Garnet, SameSeedSameMdpDifferentSeedDifferentMdp) {
  auto a = bcq::mdp_to_json(bcq::garnet(30, 4, 3, 11)).dump();
  auto b = bcq::mdp_to_json(bcq::garnet(30, 4, 3, 11)).dump();
  auto c = bcq::mdp_to_json(bcq::garnet(30, 4, 3, 12)).dump();
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
}

TEST(Chain, DeterministicAndSlippery) {
  bcq::FiniteMdp d = bcq::chain(6, 0.0);
  EXPECT_TRUE(d.is_deterministic());
  EXPECT_TRUE(d.is_terminal(5));
  EXPECT_EQ(d.outcomes(2, 1).begin()->next, 3);
  EXPECT_EQ(d.outcomes(2, 0).begin()->next, 1);
  bcq::FiniteMdp s = bcq::chain(6, 0.2);
  EXPECT_FALSE(s.is_deterministic());
  EXPECT_DOUBLE_EQ(s.probability(2, 1, 3), 0.8);
  EXPECT_DOUBLE_EQ(s.probability(2, 1, 2), 0.2);
}

TEST(Grid, WallsBlockMoves) {
  // 3x2 grid, wall at (1,0): from (0,0) moving right stays; moving down goes to (0,1) = 3.
  bcq::FiniteMdp g = bcq::gridworld(3, 2, 0.0, {{1, 0}});
  EXPECT_TRUE(g.is_deterministic());
  EXPECT_EQ(g.outcomes(0, 1).begin()->next, 0);
  EXPECT_EQ(g.outcomes(0, 2).begin()->next, 3);
  EXPECT_TRUE(g.is_terminal(5));
  EXPECT_TRUE(g.is_terminal(1));  // the wall cell
  EXPECT_EQ(g.outcomes(4, 1).begin()->r, 1.0);  // entering the goal pays 1
  EXPECT_THROW(bcq::gridworld(3, 2, 0.0, {{5, 5}}), bcq::InputError);
}

}  // namespace
