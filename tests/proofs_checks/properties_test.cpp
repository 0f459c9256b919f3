// The statements of THEORY.md as RapidCheck properties inside gtest (RC_PARAMS="max_success=..."
// raises the count; the default is 100 cases each). The same property functions run in
// `bcq verify`. ctest runs them from a fixed seed (RC_PARAMS=seed=..., tests/proofs_checks/
// CMakeLists.txt); `ctest -L fresh-seeds` from a new one.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "proofs_checks/properties.hpp"

namespace {

void run(const char* name) { bcq::proofs::statement(name).property(bcq::proofs::CheckConfig{}); }

RC_GTEST_PROP(Theorem1, SynchronousQLearningReachesOptimalValueOfBatchMdp, ()) { run("theorem1"); }
RC_GTEST_PROP(Theorem1, SampledQLearningWithRobbinsMonroStepsConverges, ()) { run("theorem1-sampled"); }
RC_GTEST_PROP(Lemma1, ZeroErrorIffTransitionsMatchOnRelevantPairs, ()) { run("lemma1"); }
RC_GTEST_PROP(Remark1, LinearSystemEqualsDirectDifference, ()) { run("remark1"); }
RC_GTEST_PROP(Theorem2, DeterministicZeroErrorIffBatchConstrained, ()) { run("theorem2"); }
RC_GTEST_PROP(Theorem2, CoherentBatchWithStartHasBatchConstrainedPolicy, ()) { run("theorem2-existence"); }
RC_GTEST_PROP(Theorem3, BcqlWithFullCoverageReachesQStar, ()) { run("theorem3"); }
RC_GTEST_PROP(Theorem3, SampledBcqlFromEnvironmentConverges, ()) { run("theorem3-sampled"); }
RC_GTEST_PROP(Theorem4, BcqlReachesOptimalBatchConstrainedValues, ()) { run("theorem4"); }
RC_GTEST_PROP(Theorem4, SampledBcqlConverges, ()) { run("theorem4-sampled"); }

}  // namespace
