// The async staleness rule: lag = learner version - trajectory version must lie in [0, s].
#include <gtest/gtest.h>

#include "sdzero/pipeline/staleness.hpp"

using sdz::pipeline::within_staleness;

TEST(Staleness, OnPolicyAcceptsOnlyTheCurrentVersion) {
  EXPECT_TRUE(within_staleness(0, 0));
  EXPECT_FALSE(within_staleness(1, 0));
  EXPECT_FALSE(within_staleness(-1, 0));
}

TEST(Staleness, AsyncBoundIsInclusive) {
  EXPECT_TRUE(within_staleness(0, 2));
  EXPECT_TRUE(within_staleness(2, 2));
  EXPECT_FALSE(within_staleness(3, 2));
  EXPECT_FALSE(within_staleness(-1, 2));  // from the future: a routing bug, never trained
}
