// grpo.refill_rounds' pieces: the refill draw (fresh questions only, a function of (seed, step,
// round)), how many questions a round asks for, and which kept groups train.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "sdzero/pipeline/refill.hpp"

using namespace sdz;

TEST(Refill, QuestionsAreFreshDistinctAndSeeded) {
  const std::vector<int64_t> taken = {3, 7, 11, 0};
  const auto a = pipeline::refill_questions(20, taken, 6, 42, 5, 1);
  ASSERT_EQ(a.size(), 6u);
  const std::set<int64_t> s(a.begin(), a.end());
  EXPECT_EQ(s.size(), 6u);
  for (int64_t q : a) {
    EXPECT_GE(q, 0);
    EXPECT_LT(q, 20);
    EXPECT_EQ(std::count(taken.begin(), taken.end(), q), 0) << q;
  }
  EXPECT_EQ(a, pipeline::refill_questions(20, taken, 6, 42, 5, 1));  // resume and layouts repeat it
  EXPECT_NE(a, pipeline::refill_questions(20, taken, 6, 42, 5, 2));  // another round, another draw
  EXPECT_NE(a, pipeline::refill_questions(20, taken, 6, 42, 6, 1));  // another step
  EXPECT_NE(a, pipeline::refill_questions(20, taken, 6, 43, 5, 1));  // another seed
  // Fewer left than asked: every remaining question, once.
  const auto all = pipeline::refill_questions(6, {0, 1, 2}, 10, 1, 0, 1);
  EXPECT_EQ(std::set<int64_t>(all.begin(), all.end()), (std::set<int64_t>{3, 4, 5}));
  EXPECT_EQ(all.size(), 3u);
  EXPECT_TRUE(pipeline::refill_questions(6, {}, 0, 1, 0, 1).empty());
}

TEST(Refill, CountScalesTheMissingGroupsByTheKeepRate) {
  EXPECT_EQ(pipeline::refill_count(0, 16, 16, 16), 0);
  EXPECT_EQ(pipeline::refill_count(4, 16, 12, 16), 6);    // 4 / (12/16) = 5.33 -> 6
  EXPECT_EQ(pipeline::refill_count(8, 16, 8, 16), 16);    // half kept: twice the missing
  EXPECT_EQ(pipeline::refill_count(15, 16, 1, 16), 16);   // capped at one batch
  EXPECT_EQ(pipeline::refill_count(5, 16, 0, 16), 16);    // nothing kept yet: a whole batch
  EXPECT_EQ(pipeline::refill_count(3, 10, 10, 16), 3);    // everything kept so far: just the missing
}

TEST(Refill, FirstKeptGroupsTrainInPositionOrder) {
  const std::vector<int> kept = {1, 0, 1, 1, 0, 1, 1};
  EXPECT_EQ(pipeline::first_kept_groups(kept, 3), (std::vector<int64_t>{0, -1, 1, 2, -1, -1, -1}));
  EXPECT_EQ(pipeline::first_kept_groups(kept, 10), (std::vector<int64_t>{0, -1, 1, 2, -1, 3, 4}));
  EXPECT_EQ(pipeline::first_kept_groups(kept, 0), (std::vector<int64_t>(7, -1)));
  EXPECT_TRUE(pipeline::first_kept_groups({}, 4).empty());
}
