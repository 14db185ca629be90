// Layout: role assignment and every error a bad [layout] gives before any work starts.
#include <gtest/gtest.h>

#include "sdzero/core/config.hpp"
#include "sdzero/core/error.hpp"
#include "sdzero/dist/layout.hpp"

using sdz::Layout;
using sdz::make_layout;
using sdz::Role;

TEST(Layout, SplitAssignsBlocksOfRanks) {
  Layout l = make_layout("split", 2, 1, 1, 4, true);
  EXPECT_FALSE(l.colocated);
  EXPECT_EQ(l.role_of(0), Role::Rollout);
  EXPECT_EQ(l.role_of(1), Role::Rollout);
  EXPECT_EQ(l.role_of(2), Role::Teacher);
  EXPECT_EQ(l.role_of(3), Role::Learner);
  EXPECT_EQ(l.learner_root(), 3);
  EXPECT_EQ(l.describe(), "rollout 2 + teacher 1 + learner 1");
}

TEST(Layout, ColocatedGivesEveryRoleToEveryRank) {
  Layout l = make_layout("colocated", 0, 0, 0, 3, true);
  EXPECT_TRUE(l.colocated);
  EXPECT_EQ(l.role_of(2), Role::All);
  EXPECT_EQ(l.learner_root(), 0);
}

TEST(Layout, AutoSplitsOnlyWithEnoughRanks) {
  EXPECT_TRUE(make_layout("auto", 0, 0, 0, 1, true).colocated);
  EXPECT_TRUE(make_layout("auto", 0, 0, 0, 2, true).colocated);
  Layout l3 = make_layout("auto", 0, 0, 0, 3, true);
  EXPECT_FALSE(l3.colocated);
  EXPECT_EQ(l3.rollout + l3.teacher + l3.learner, 3);
  EXPECT_GE(l3.teacher, 1);
  Layout l2 = make_layout("auto", 0, 0, 0, 2, false);
  EXPECT_FALSE(l2.colocated);
  EXPECT_EQ(l2.teacher, 0);
}

TEST(Layout, MismatchWithWorldSizeIsAnError) {
  try {
    make_layout("split", 1, 1, 1, 4, true);
    FAIL();
  } catch (const sdz::Error& e) {
    EXPECT_NE(std::string(e.what()).find("= 3 ranks, but the job has 4"), std::string::npos) << e.what();
  }
}

TEST(Layout, MethodNeedingATeacherWithoutTeacherRanksIsAnError) {
  EXPECT_THROW(make_layout("split", 2, 0, 1, 3, true), sdz::Error);
  EXPECT_NO_THROW(make_layout("split", 2, 0, 1, 3, false));
  EXPECT_THROW(make_layout("split", 0, 1, 2, 3, false), sdz::Error);
  EXPECT_THROW(make_layout("sideways", 1, 1, 1, 3, false), sdz::Error);
}

TEST(Layout, ReadsTheLayoutKeys) {
  sdz::Schema s;
  sdz::declare_dist_keys(s);
  sdz::Config c = sdz::Config::load(s, "", {"--layout.mode=split", "--layout.rollout=2"});
  Layout l = make_layout(c, 4, true);
  EXPECT_EQ(l.rollout, 2);
  EXPECT_EQ(l.teacher, 1);
  EXPECT_EQ(l.learner, 1);
}
