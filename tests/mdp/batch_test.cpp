// Batches: collection, CSV round trip, M_B, analysis.
#include "mdp/batch.hpp"

#include <gtest/gtest.h>

#include "mdp/analysis.hpp"
#include "mdp/batch_mdp.hpp"
#include "mdp/generators.hpp"
#include "mdp/io.hpp"
#include "mdp/solve.hpp"
#include "tests/test_util.hpp"

#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <tuple>

namespace {

bcq::FiniteMdp two_step() {
  return bcq::mdp_from_json(nlohmann::json::parse(bcq::test::kTwoStepMdp), "two-step");
}

TEST(Collect, TrajectoriesStartInD0AndFollowTheMdp) {
  bcq::FiniteMdp mdp = bcq::garnet(15, 3, 2, 4, 0.9, 3);
  bcq::Batch b = bcq::collect_trajectories(mdp, bcq::Policy::uniform(15, 3), 500, 20, 9);
  ASSERT_EQ(b.size(), 500u);
  EXPECT_EQ(b.transitions[0].s, 0);  // d_0 = state 0
  for (size_t i = 0; i < b.size(); ++i) {
    const bcq::Transition& t = b.transitions[i];
    EXPECT_GT(mdp.probability(t.s, t.a, t.s_next), 0.0);
    EXPECT_EQ(t.done, mdp.is_terminal(t.s_next));
    // Within an episode the next transition starts where this one ended.
    if (i + 1 < b.size() && !t.done && b.transitions[i + 1].s != 0) {
      EXPECT_EQ(b.transitions[i + 1].s, t.s_next);
    }
  }
  EXPECT_NO_THROW(bcq::validate_batch(b, mdp, "b"));
}

TEST(Collect, SameSeedSameBatch) {
  bcq::FiniteMdp mdp = bcq::garnet(15, 3, 2, 4);
  auto pi = bcq::Policy::uniform(15, 3);
  EXPECT_EQ(bcq::batch_to_csv(bcq::collect_independent(mdp, pi, 200, 1)),
            bcq::batch_to_csv(bcq::collect_independent(mdp, pi, 200, 1)));
  EXPECT_NE(bcq::batch_to_csv(bcq::collect_independent(mdp, pi, 200, 1)),
            bcq::batch_to_csv(bcq::collect_independent(mdp, pi, 200, 2)));
}

TEST(Collect, EmpiricalFrequenciesMatchPolicyAndDynamics) {
  // Independent draws from state 0 of the two-step MDP under pi(1|0) = 0.25:
  // N(0,1)/N(0) ~ 0.25 and N(0,1,2)/N(0,1) ~ 0.5.
  bcq::FiniteMdp mdp = two_step();
  bcq::Policy pi = bcq::Policy::uniform(3, 2);
  pi.at(0, 0) = 0.75;
  pi.at(0, 1) = 0.25;
  bcq::Batch b = bcq::collect_independent(mdp, pi, 40000, 3);
  long n0 = 0, n01 = 0, n012 = 0;
  for (const auto& t : b.transitions) {
    if (t.s != 0) continue;
    ++n0;
    if (t.a == 1) {
      ++n01;
      n012 += t.s_next == 2;
    }
  }
  // ~20,000 draws of state 0: sd of the fraction ~ 0.003; allow 5 sd.
  EXPECT_NEAR(double(n01) / double(n0), 0.25, 0.016);
  EXPECT_NEAR(double(n012) / double(n01), 0.5, 0.03);
}

TEST(Csv, RoundTripIsExact) {
  bcq::Batch b;
  b.transitions = {{0, 1, 0.1, 2, true}, {1, 0, -1e-300, 2, true}, {0, 0, 1.0 / 3.0, 1, false}};
  bcq::Batch c = bcq::batch_from_csv(bcq::batch_to_csv(b), "mem");
  ASSERT_EQ(c.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(c.transitions[i].s, b.transitions[i].s);
    EXPECT_EQ(c.transitions[i].r, b.transitions[i].r);
    EXPECT_EQ(c.transitions[i].done, b.transitions[i].done);
  }
}

TEST(BatchMdp, EmpiricalFrequenciesAndSInit) {
  // Hand-made batch on the two-step MDP: (0,1) seen 3 times -> 1 twice, 2 once; (1,0) once;
  // (0,0) and (1,1) unseen -> s_init = 3 with reward Q_init.
  bcq::FiniteMdp mdp = two_step();
  bcq::Batch b = bcq::batch_from_csv("s,a,r,s_next,done\n0,1,1,1,0\n0,1,0,2,1\n0,1,1,1,0\n1,0,2,2,1\n", "mem");
  bcq::QTable q_init(3, 2, 0.0);
  q_init.at(0, 0) = 7.0;
  q_init.at(1, 1) = -3.0;
  bcq::FiniteMdp mb = bcq::batch_mdp(mdp, b, q_init);
  EXPECT_EQ(mb.num_states(), 4);
  EXPECT_TRUE(mb.is_terminal(3));
  EXPECT_TRUE(mb.is_terminal(2));
  EXPECT_DOUBLE_EQ(mb.probability(0, 1, 1), 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(mb.probability(0, 1, 2), 1.0 / 3.0);
  EXPECT_DOUBLE_EQ(mb.probability(1, 0, 2), 1.0);
  EXPECT_DOUBLE_EQ(mb.probability(0, 0, 3), 1.0);
  EXPECT_DOUBLE_EQ(mb.outcomes(0, 0).begin()->r, 7.0);
  EXPECT_DOUBLE_EQ(mb.outcomes(1, 1).begin()->r, -3.0);
  // Q*_{M_B} by hand: Q(1,0) = 2, Q(1,1) = -3 (to s_init), V(1) = 2;
  // Q(0,1) = 2/3 (1 + 0.9 * 2) + 1/3 * 0 = 28/15; Q(0,0) = 7 (to s_init).
  bcq::ValueResult r = bcq::policy_iteration(mb);
  EXPECT_NEAR(r.Q(0, 1), 28.0 / 15.0, 1e-12);
  EXPECT_NEAR(r.Q(0, 0), 7.0, 1e-12);
  EXPECT_NEAR(r.V[1], 2.0, 1e-12);
}

TEST(BatchMdp, RepeatedTransitionWithDifferentRewardsUsesTheMean) {
  bcq::FiniteMdp mdp = two_step();
  bcq::Batch b = bcq::batch_from_csv("s,a,r,s_next,done\n1,0,2,2,1\n1,0,4,2,1\n1,0,0,2,1\n", "mem");
  bcq::FiniteMdp mb = bcq::batch_mdp(mdp, b);
  EXPECT_DOUBLE_EQ(mb.outcomes(1, 0).begin()->r, 2.0);
}

TEST(BatchMdp, LargeTrajectoryBatchMatchesCountsExactly) {
  // p_B equals N(s,a,s') / N(s,a) computed here independently from the raw rows.
  bcq::FiniteMdp mdp = bcq::garnet(12, 3, 3, 21, 0.9, 2);
  bcq::Batch b = bcq::collect_trajectories(mdp, bcq::Policy::uniform(12, 3), 3000, 15, 8);
  bcq::FiniteMdp mb = bcq::batch_mdp(mdp, b);
  std::map<std::tuple<int, int, int>, int> n3;
  std::map<std::pair<int, int>, int> n2;
  for (const auto& t : b.transitions) {
    n3[{t.s, t.a, t.s_next}]++;
    n2[{t.s, t.a}]++;
  }
  for (int s = 0; s < 10; ++s)
    for (int a = 0; a < 3; ++a) {
      if (!n2.count({s, a})) {
        EXPECT_DOUBLE_EQ(mb.probability(s, a, 12), 1.0);
        continue;
      }
      for (int s2 = 0; s2 < 12; ++s2) {
        auto it = n3.find({s, a, s2});
        double expected = it == n3.end() ? 0.0 : double(it->second) / double(n2[{s, a}]);
        EXPECT_DOUBLE_EQ(mb.probability(s, a, s2), expected);
      }
    }
}

TEST(Analysis, CoherenceAndStartInBatch) {
  bcq::FiniteMdp mdp = two_step();
  bcq::Batch coherent = bcq::batch_from_csv("s,a,r,s_next,done\n0,0,0,1,0\n1,0,2,2,1\n", "mem");
  bcq::Batch incoherent = bcq::batch_from_csv("s,a,r,s_next,done\n0,0,0,1,0\n", "mem");
  bcq::Batch no_start = bcq::batch_from_csv("s,a,r,s_next,done\n1,0,2,2,1\n", "mem");
  EXPECT_TRUE(bcq::is_coherent(coherent, mdp));
  EXPECT_FALSE(bcq::is_coherent(incoherent, mdp));
  EXPECT_TRUE(bcq::is_coherent(no_start, mdp));
  auto a = bcq::analyze_batch(mdp, coherent);
  EXPECT_TRUE(a.start_in_batch);
  EXPECT_TRUE(a.batch_constrained_policy_exists);
  EXPECT_EQ(a.distinct_pairs, 2u);
  EXPECT_EQ(a.non_terminal_pairs, 4u);
  EXPECT_FALSE(bcq::analyze_batch(mdp, incoherent).batch_constrained_policy_exists);
  auto c = bcq::analyze_batch(mdp, no_start);
  EXPECT_FALSE(c.start_in_batch);
  EXPECT_FALSE(c.batch_constrained_policy_exists);
}

TEST(Analysis, StochasticMdpCanDefeatCoherentBatch) {
  // Coherent batch with s_0 in B, but (0,1) can also lead to state 1 in M, which is not in B:
  // batch has only (0,1) -> 2. No batch-constrained policy exists (Theorem 2 needs determinism).
  bcq::FiniteMdp mdp = two_step();
  bcq::Batch b = bcq::batch_from_csv("s,a,r,s_next,done\n0,1,0,2,1\n", "mem");
  auto a = bcq::analyze_batch(mdp, b);
  EXPECT_TRUE(a.coherent);
  EXPECT_TRUE(a.start_in_batch);
  EXPECT_FALSE(a.batch_constrained_policy_exists);
}

TEST(Analysis, WitnessIsBatchConstrainedAndReachabilityMatchesSimulation) {
  for (uint64_t seed = 0; seed < 20; ++seed) {
    bcq::FiniteMdp mdp = bcq::garnet(8, 2, 1, seed, 0.9, 1);
    bcq::Batch b = bcq::collect_trajectories(mdp, bcq::Policy::uniform(8, 2), 30, 8, seed);
    auto e = bcq::find_batch_constrained_policy(mdp, b);
    if (e.exists) {
      EXPECT_TRUE(bcq::is_batch_constrained(mdp, b, e.witness)) << seed;
    }
    // Deterministic MDP + coherent batch containing s_0 => a batch-constrained policy exists.
    if (bcq::is_coherent(b, mdp)) {
      EXPECT_TRUE(e.exists) << seed;
    }
    // Reachability vs a long simulation of the same policy.
    auto reach = bcq::reachable_states(mdp, bcq::Policy::uniform(8, 2));
    bcq::Batch sim = bcq::collect_trajectories(mdp, bcq::Policy::uniform(8, 2), 4000, 20, seed + 100);
    std::vector<char> visited(8, 0);
    visited[0] = 1;
    for (const auto& t : sim.transitions) visited[static_cast<size_t>(t.s_next)] = 1;
    EXPECT_EQ(reach, visited) << seed;
  }
}

TEST(Analysis, DotExportListsEdges) {
  bcq::FiniteMdp mdp = two_step();
  bcq::Batch b = bcq::batch_from_csv("s,a,r,s_next,done\n0,0,0,1,0\n0,0,0,1,0\n1,0,2,2,1\n", "mem");
  std::string dot = bcq::batch_to_dot(b, mdp);
  EXPECT_NE(dot.find("s0 -> s1 [label=\"a0 (2)\"]"), std::string::npos) << dot;
  EXPECT_NE(dot.find("s2 [label=\"2\", shape=doublecircle]"), std::string::npos) << dot;
}

}  // namespace
