// distill.srt_replay's schedule: which SRT traces each learner replays at each phase-2 step. Every
// pass over the traces draws each exactly once, the learners' shares of a step are disjoint and
// together are the step's slice, and the draw is a function of (step, seed) alone.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "sdzero/pipeline/srt.hpp"

using namespace sdz;

namespace {
std::vector<algo::SrtTrace> numbered(int64_t n) {
  std::vector<algo::SrtTrace> t(size_t(n), algo::SrtTrace{});
  for (int64_t i = 0; i < n; ++i) t[size_t(i)].question_id = i;
  return t;
}
std::vector<int64_t> ids(const std::vector<algo::SrtTrace>& t) {
  std::vector<int64_t> out;
  for (const auto& x : t) out.push_back(x.question_id);
  return out;
}
}  // namespace

TEST(ReplayShare, EachPassDrawsEveryTraceOnceInANewOrder) {
  const auto traces = numbered(10);
  std::vector<int64_t> drawn;  // 4 per step, one learner: steps 0-4 are two passes
  for (int64_t step = 0; step < 5; ++step)
    for (int64_t q : ids(pipeline::replay_share(traces, step, 4, 0, 1, 7))) drawn.push_back(q);
  ASSERT_EQ(drawn.size(), 20u);
  const std::vector<int64_t> first(drawn.begin(), drawn.begin() + 10), second(drawn.begin() + 10, drawn.end());
  EXPECT_EQ(std::set<int64_t>(first.begin(), first.end()).size(), 10u);
  EXPECT_EQ(std::set<int64_t>(second.begin(), second.end()).size(), 10u);
  EXPECT_NE(first, second);  // a fresh shuffle each pass (10! orders: equal only by a bug)
  EXPECT_NE(first, ids(traces));
}

TEST(ReplayShare, LearnersSplitTheStepsSliceAndTheDrawDependsOnStepAndSeedOnly) {
  const auto traces = numbered(13);
  for (int64_t step : {0, 3, 11}) {
    const std::vector<int64_t> whole = ids(pipeline::replay_share(traces, step, 6, 0, 1, 5));
    std::vector<int64_t> joined;
    for (int l = 0; l < 4; ++l) {  // 6 over 4 learners: shares of 1 or 2, in order
      const auto share = ids(pipeline::replay_share(traces, step, 6, l, 4, 5));
      EXPECT_GE(share.size(), 1u);
      EXPECT_LE(share.size(), 2u);
      joined.insert(joined.end(), share.begin(), share.end());
    }
    EXPECT_EQ(joined, whole) << "step " << step;
    EXPECT_EQ(ids(pipeline::replay_share(traces, step, 6, 0, 1, 5)), whole);  // no hidden state
  }
  EXPECT_NE(ids(pipeline::replay_share(traces, 0, 13, 0, 1, 5)), ids(pipeline::replay_share(traces, 0, 13, 0, 1, 6)));
  EXPECT_TRUE(pipeline::replay_share({}, 0, 6, 0, 1, 5).empty());
  EXPECT_TRUE(pipeline::replay_share(traces, 0, 0, 0, 1, 5).empty());
}
