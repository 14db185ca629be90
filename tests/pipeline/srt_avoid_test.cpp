// srt.unlikelihood's marks on collected SRT candidates: a failed initial response is marked where it
// leaves every response known correct for its question (the task's answers and what verified during
// collection); right answers, questions with nothing known correct, and answers that are themselves
// known correct stay unmarked; the mark survives the JSONL a resumed run reads back.
#include <gtest/gtest.h>

#include "sdzero/algo/srt_collect.hpp"
#include "sdzero/core/error.hpp"
#include "sdzero/pipeline/srt.hpp"

using namespace sdz;
using algo::Ids;
using algo::RevisionCandidate;

namespace {
constexpr int32_t kStop = 99;
RevisionCandidate candidate(int64_t q, Ids initial, float initial_reward) {
  RevisionCandidate c;
  c.question_id = q;
  c.initial_ids = std::move(initial);
  c.initial_reward = initial_reward;
  c.cue_ids = {50};
  c.revision_ids = {1, 2, 3, kStop};
  c.reward = 1.f;
  return c;
}
}  // namespace

TEST(SrtAvoid, MarksWhereTheFailedAnswerLeavesEveryCorrectOne) {
  // Question 0 is known to be answered by 1 2 3 and 4 2 3; question 1 by 7 8.
  const std::map<int64_t, std::vector<Ids>> correct = {{0, {{1, 2, 3}, {4, 2, 3}}}, {1, {{7, 8}}}};
  std::vector<RevisionCandidate> c = {
      candidate(0, {1, 2, 9, kStop}, 0.f),  // leaves at its third token
      candidate(0, {5, 2, 3, kStop}, 0.f),  // wrong from the first token
      candidate(0, {4, 2, kStop}, 0.f),     // stopped early: the stop is what it must not write
      candidate(1, {7, 8, 8}, 0.f),         // went on past a correct answer (no stop: cut by the budget)
      candidate(0, {1, 2, 7, kStop}, 1.f),  // a right answer after "rephrase": no row
      candidate(2, {1, 2, 9, kStop}, 0.f),  // nothing known correct for question 2
      candidate(1, {7, 8, kStop}, 0.f),     // a "wrong" answer that is known correct: no row
  };
  c[0].avoid_at = 5;  // stale marks are reset
  pipeline::mark_srt_avoid(c, correct, {kStop});
  const std::vector<std::pair<int64_t, int32_t>> want = {{2, 9}, {0, 5}, {2, kStop}, {2, 8}, {-1, -1}, {-1, -1}, {-1, -1}};
  for (size_t i = 0; i < c.size(); ++i) {
    EXPECT_EQ(c[i].avoid_at, want[i].first) << "candidate " << i;
    EXPECT_EQ(c[i].avoid_token, want[i].second) << "candidate " << i;
  }
  EXPECT_THROW(pipeline::mark_srt_avoid(c, correct, {}), Error);
}

TEST(SrtAvoid, TheMarkRoundTripsThroughTheTraceJsonAndBadMarksAreRefused) {
  RevisionCandidate c = candidate(3, {1, 2, 9, kStop}, 0.f);
  c.avoid_at = 2, c.avoid_token = 9;
  const nlohmann::json j = algo::trace_json(c);
  ASSERT_TRUE(j.contains("avoid"));
  algo::SrtTrace t = algo::trace_from_json(nlohmann::json::parse(j.dump()), "traces.jsonl:4");
  EXPECT_EQ(t.avoid_at, 2);
  EXPECT_EQ(t.avoid_token, 9);
  // Unmarked traces write no field and read back unmarked (files written before the key).
  RevisionCandidate plain = candidate(3, {1, 2, 9, kStop}, 0.f);
  EXPECT_FALSE(algo::trace_json(plain).contains("avoid"));
  EXPECT_EQ(algo::trace_from_json(algo::trace_json(plain), "t:1").avoid_at, -1);
  auto message = [&](nlohmann::json bad) {
    try {
      algo::trace_from_json(bad, "traces.jsonl:4");
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  nlohmann::json past = j;
  past["avoid"]["at"] = 5;  // the initial response has 4 tokens
  EXPECT_NE(message(past).find("outside its initial response"), std::string::npos) << message(past);
  EXPECT_NE(message(past).find("traces.jsonl:4"), std::string::npos);
  nlohmann::json text = j;
  text["avoid"] = "2";
  EXPECT_NE(message(text).find("'avoid' must be"), std::string::npos) << message(text);
}
