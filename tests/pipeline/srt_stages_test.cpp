// srt.revision_traces: how the sequential objective's two stages share the SRT traces. The default
// trains both on every trace; the released split gives the revision stage N traces (correct y0 first)
// and the generation stage every other wrong-y0 trace, disjoint, seeded, in the configured order.
#include <gtest/gtest.h>

#include <set>

#include "sdzero/core/error.hpp"
#include "sdzero/pipeline/srt.hpp"

using namespace sdz;

namespace {
// n traces; those listed in `correct` have a correct y0.
std::vector<algo::SrtTrace> traces(size_t n, const std::set<size_t>& correct) {
  std::vector<algo::SrtTrace> t(n);
  for (size_t i = 0; i < n; ++i) t[i].question_id = int64_t(i), t[i].initial_reward = correct.count(i) ? 1.f : 0.f;
  return t;
}
std::set<size_t> as_set(const std::vector<size_t>& v) { return {v.begin(), v.end()}; }
}  // namespace

TEST(SrtStageSets, EveryTraceInEveryStageByDefault) {
  const auto t = traces(5, {1, 3});
  const std::vector<size_t> all = {0, 1, 2, 3, 4};
  EXPECT_EQ(pipeline::srt_stage_sets(t, 1, true, 0, 7), (std::vector<std::vector<size_t>>{all}));
  EXPECT_EQ(pipeline::srt_stage_sets(t, 2, true, 0, 7), (std::vector<std::vector<size_t>>{all, all}));
  EXPECT_EQ(pipeline::srt_stage_sets(t, 1, true, 3, 7), (std::vector<std::vector<size_t>>{all}));  // one stage: no split
}

TEST(SrtStageSets, ReleasedSplitCorrectInitialFirstThenWrong) {
  const std::set<size_t> correct = {2, 5, 9};
  const auto t = traces(12, correct);
  // Generation first (the released order): stage 0 generation, stage 1 revision.
  const auto s = pipeline::srt_stage_sets(t, 2, /*revision_first=*/false, 5, 7);
  ASSERT_EQ(s.size(), 2u);
  const auto gen = as_set(s[0]), rev = as_set(s[1]);
  EXPECT_EQ(rev.size(), 5u);
  for (size_t c : correct) EXPECT_TRUE(rev.count(c)) << c;  // every correct-y0 trace, then 2 wrong ones
  EXPECT_EQ(gen.size(), 12u - 5u);                            // every other trace, all with a wrong y0
  for (size_t g : gen) {
    EXPECT_FALSE(correct.count(g)) << g;
    EXPECT_FALSE(rev.count(g)) << g;
  }
  // Revision first swaps the stages, not the sets; the same seed draws the same sets.
  const auto r = pipeline::srt_stage_sets(t, 2, true, 5, 7);
  EXPECT_EQ(r[0], s[1]);
  EXPECT_EQ(r[1], s[0]);
  // Another seed picks other wrong-y0 traces for the revision stage (7 choose 2 = 21 ways).
  bool differs = false;
  for (uint64_t seed = 8; seed < 20 && !differs; ++seed) differs = pipeline::srt_stage_sets(t, 2, false, 5, seed)[1] != s[1];
  EXPECT_TRUE(differs);
  // More correct-y0 traces than the quota: the revision stage is correct-y0 only, the generation
  // stage keeps every wrong-y0 trace.
  const auto q = pipeline::srt_stage_sets(t, 2, false, 2, 7);
  EXPECT_EQ(q[1].size(), 2u);
  for (size_t i : q[1]) EXPECT_TRUE(correct.count(i)) << i;
  EXPECT_EQ(q[0].size(), 9u);
}

TEST(SrtStageSets, EmptyGenerationStageIsAnErrorNamingTheKey) {
  const auto t = traces(4, {0});
  try {
    pipeline::srt_stage_sets(t, 2, false, 4, 7);  // 3 wrong-y0 traces, all taken by the revision stage
    FAIL() << "an empty generation stage was accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.where(), "srt.revision_traces");
  }
  EXPECT_EQ(pipeline::srt_stage_sets(t, 2, false, 3, 7)[0].size(), 1u);
}
