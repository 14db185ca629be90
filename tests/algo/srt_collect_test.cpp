// SRT collection clean-ups: repeated tails, sycophantic openings, dedupe, verified-only.
#include <gtest/gtest.h>

#include "sdzero/algo/srt_collect.hpp"
#include "sdzero/core/error.hpp"

using namespace sdz::algo;

TEST(CutRepeatedTail, CutsADegenerateLoopAfterItsFirstCopy) {
  std::string loop;
  for (int i = 0; i < 10; ++i) loop += "so x = 2. ";
  EXPECT_EQ(cut_repeated_tail("We solve. " + loop), "We solve. so x = 2. ");
  // Single-character runs count when they are long enough.
  EXPECT_EQ(cut_repeated_tail("answer 42" + std::string(40, '!')), "answer 42!");
}

TEST(CutRepeatedTail, LeavesNormalTextAlone) {
  EXPECT_EQ(cut_repeated_tail("The answer is \\boxed{1000}."), "The answer is \\boxed{1000}.");
  // Three copies are below min_repeats = 4; short runs are below min_chars.
  EXPECT_EQ(cut_repeated_tail("abc. ok ok ok "), "abc. ok ok ok ");
  EXPECT_EQ(cut_repeated_tail("x = 1000000"), "x = 1000000");
  std::string three;
  for (int i = 0; i < 3; ++i) three += "repeat this sentence now. ";
  EXPECT_EQ(cut_repeated_tail(three), three);
  EXPECT_EQ(cut_repeated_tail(""), "");
}

// The released code's settings: blocks of at least srt.min_period characters, and srt.cut_passes cuts
// while each still finds a loop (cutting a run of "!" can leave a loop of sentences at the end).
TEST(CutRepeatedTail, MinimumPeriodAndRepeatedPasses) {
  EXPECT_EQ(cut_repeated_tail("answer 42" + std::string(40, '!'), 4, 200, 32, 10), "answer 42" + std::string(10, '!'));
  std::string x = "hello world!", nested = "Q: ";
  for (int i = 0; i < 4; ++i) nested += x;
  nested += std::string(39, '!');
  auto clean = [&](int passes) {
    RevisionCandidate c;
    c.revision_text = nested;
    c.revision_ids = {1};
    c.reward = 1;
    CleanupOptions opt;
    opt.cut_passes = passes;
    return clean_revisions({c}, opt, [](const std::string& t) { return Ids{int32_t(t.size())}; }, nullptr)
        .at(0).revision_text;
  };
  EXPECT_EQ(clean(1), "Q: " + x + x + x + x);
  EXPECT_EQ(clean(2), "Q: " + x);
  EXPECT_EQ(clean(5), "Q: " + x);
}

TEST(SycophanticOpening, CaseAndApostropheInsensitive) {
  std::vector<std::string> o = split_list("You're absolutely right| You are right ||");
  ASSERT_EQ(o.size(), 2u);
  EXPECT_TRUE(has_sycophantic_opening("  you're ABSOLUTELY right, the answer is 3", o));
  EXPECT_TRUE(has_sycophantic_opening("You\xE2\x80\x99re absolutely right!", o));
  EXPECT_TRUE(has_sycophantic_opening("\nYou are right.", o));
  EXPECT_FALSE(has_sycophantic_opening("Let me redo it. You're absolutely right", o));
  EXPECT_FALSE(has_sycophantic_opening("anything", {}));
}

TEST(CleanRevisions, KeepsVerifiedCleanUniqueRevisions) {
  auto cand = [](int64_t q, const std::string& text, float r) {
    RevisionCandidate c;
    c.question_id = q;
    c.revision_text = text;
    c.revision_ids = {int32_t(text.size())};
    c.reward = r;
    return c;
  };
  std::string loop = "Answer: 5. ";
  for (int i = 0; i < 8; ++i) loop += "Again. ";
  std::vector<RevisionCandidate> cs = {cand(1, "x = 5, \\boxed{5}", 1), cand(1, "x = 4", 0),
                                       cand(1, "x = 5, \\boxed{5}", 1), cand(2, "x = 5, \\boxed{5}", 1),
                                       cand(2, "You're absolutely right! \\boxed{7}", 1), cand(3, loop, 1)};
  CleanupOptions opt;
  opt.sycophantic_openings = {"You're absolutely right"};
  CollectStats st;
  int retokenized = 0;
  auto kept = clean_revisions(cs, opt, [&](const std::string& s) { ++retokenized; return Ids{int32_t(s.size()), 0}; },
                              &st);
  ASSERT_EQ(kept.size(), 3u);
  EXPECT_EQ(kept[0].question_id, 1);
  EXPECT_EQ(kept[1].question_id, 2);  // same text, other question: not a duplicate
  EXPECT_EQ(kept[2].revision_text, "Answer: 5. Again. ");
  EXPECT_EQ(kept[2].revision_ids, (Ids{18, 0}));
  EXPECT_EQ(retokenized, 1);
  EXPECT_EQ(st.candidates, 6);
  EXPECT_EQ(st.unverified, 1);
  EXPECT_EQ(st.duplicates, 1);
  EXPECT_EQ(st.sycophantic, 1);
  EXPECT_EQ(st.cut, 1);
  EXPECT_EQ(st.kept, 3);
  opt.dedupe = false;
  EXPECT_EQ(clean_revisions(cs, opt, [](const std::string&) { return Ids{}; }, nullptr).size(), 4u);
  EXPECT_THROW(clean_revisions({cand(3, loop, 1)}, opt, nullptr, nullptr), sdz::Error);
}

// srt.sycophantic = strip (the released code): the opening sentence goes, the rest stays, re-encoded
// with the stop id only where the revision had one; a revision that was nothing but the opening goes.
TEST(SycophanticOpening, StripRemovesTheOpeningSentenceOnly) {
  const std::vector<std::string> o = {"You're absolutely right", "You are right"};
  EXPECT_EQ(strip_sycophantic_opening("  You're absolutely right! The answer is 7.", o), "The answer is 7.");
  EXPECT_EQ(strip_sycophantic_opening("You are right, 3.5 is wrong. So x = 4.", o), "So x = 4.");  // "3.5" ends nothing
  EXPECT_EQ(strip_sycophantic_opening("You are right\nx = 4", o), "x = 4");
  EXPECT_EQ(strip_sycophantic_opening("You're absolutely right!", o), "");
  EXPECT_EQ(strip_sycophantic_opening("Let me redo it. You are right.", o), "Let me redo it. You are right.");
  auto cand = [](const std::string& text, Ids ids) {
    RevisionCandidate c;
    c.question_id = 1;
    c.revision_text = text;
    c.revision_ids = std::move(ids);
    c.reward = 1;
    return c;
  };
  const int32_t stop = 99;
  auto retok = [&](const std::string& s) { return Ids{int32_t(s.size()), stop}; };
  CleanupOptions opt;
  opt.sycophantic_openings = o;
  opt.strip_sycophantic = true;
  CollectStats st;
  auto kept = clean_revisions({cand("You're absolutely right! \\boxed{7}", {1, stop}),
                               cand("You are right. \\boxed{8}", {2}),  // cut by the token limit: no stop
                               cand("You're absolutely right.", {3, stop}), cand("\\boxed{9}", {4, stop})},
                              opt, retok, &st);
  ASSERT_EQ(kept.size(), 3u);
  EXPECT_EQ(kept[0].revision_text, "\\boxed{7}");
  EXPECT_EQ(kept[0].revision_ids, (Ids{9, stop}));
  EXPECT_EQ(kept[1].revision_text, "\\boxed{8}");
  EXPECT_EQ(kept[1].revision_ids, (Ids{9}));
  EXPECT_EQ(kept[2].revision_ids, (Ids{4, stop}));  // no opening: untouched
  EXPECT_EQ(st.sycophantic, 3);
  EXPECT_EQ(st.kept, 3);
  opt.strip_sycophantic = false;  // the default drops all three
  EXPECT_EQ(clean_revisions({cand("You are right. \\boxed{8}", {2})}, opt, retok, nullptr).size(), 0u);
}

// srt.dedupe_by = initial (the released code): the same revision after two different y0 is kept twice.
TEST(CleanRevisions, DedupeByQuestionOrByInitialAnswer) {
  auto cand = [](const std::string& y0, const std::string& rev) {
    RevisionCandidate c;
    c.question_id = 4;
    c.initial_text = y0;
    c.revision_text = rev;
    c.revision_ids = {1};
    c.reward = 1;
    return c;
  };
  const std::vector<RevisionCandidate> cs = {cand("x = 3", "x = 5"), cand("x = 2", "x = 5"), cand("x = 3", "x = 5")};
  CleanupOptions opt;
  CollectStats st;
  EXPECT_EQ(clean_revisions(cs, opt, nullptr, &st).size(), 1u);
  EXPECT_EQ(st.duplicates, 2);
  opt.dedupe_per_initial = true;
  EXPECT_EQ(clean_revisions(cs, opt, nullptr, &st).size(), 2u);
  EXPECT_EQ(st.duplicates, 1);
}

TEST(CleanRevisions, CleanInitialCutsTheInitialAnswersRepeatedTail) {
  const std::string loop(40, 'z');  // 40 copies of a 1-character block
  RevisionCandidate c;
  c.question_id = 1;
  c.initial_text = "x = 3" + loop;
  c.initial_ids = {7, 7, 7};
  c.revision_text = "x = 5";
  c.revision_ids = {1};
  c.reward = 1;
  c.avoid_at = 4;  // "3": still written by the cut y0
  c.avoid_token = '3';
  auto encode = [](const std::string& s) {  // one id per character, then a stop id 0
    Ids ids(s.begin(), s.end());
    ids.push_back(0);
    return ids;
  };
  CleanupOptions opt;
  CollectStats st;
  auto kept = clean_revisions({c}, opt, encode, &st);  // default: y0 is trained as sampled
  ASSERT_EQ(kept.size(), 1u);
  EXPECT_EQ(kept[0].initial_text, c.initial_text);
  EXPECT_EQ(kept[0].initial_ids, c.initial_ids);
  EXPECT_EQ(st.initial_cut, 0);
  opt.clean_initial = true;
  kept = clean_revisions({c}, opt, encode, &st);
  ASSERT_EQ(kept.size(), 1u);
  EXPECT_EQ(kept[0].initial_text, "x = 3z");  // one copy of the block is kept, as for revisions
  EXPECT_EQ(kept[0].initial_ids, encode("x = 3z"));
  EXPECT_EQ(st.initial_cut, 1);
  EXPECT_EQ(kept[0].avoid_at, 4);
  // A mark past the cut y0 goes: the row would train on a token y0 no longer writes.
  c.avoid_at = 20;
  c.avoid_token = 'z';
  kept = clean_revisions({c}, opt, encode, &st);
  EXPECT_EQ(kept[0].avoid_at, -1);
  EXPECT_EQ(kept[0].avoid_token, -1);
  // Unverified candidates are dropped before any cleaning; cut_repeats = false cuts nothing.
  c.reward = 0;
  EXPECT_TRUE(clean_revisions({c}, opt, encode, &st).empty());
  EXPECT_EQ(st.initial_cut, 0);
  c.reward = 1;
  opt.cut_repeats = false;
  EXPECT_EQ(clean_revisions({c}, opt, encode, &st)[0].initial_text, c.initial_text);
}

TEST(ShouldRevise, FollowsTheConfiguredChoice) {
  EXPECT_TRUE(should_revise(0, ReviseWhich::Wrong));
  EXPECT_FALSE(should_revise(1, ReviseWhich::Wrong));
  EXPECT_TRUE(should_revise(1, ReviseWhich::Correct));
  EXPECT_FALSE(should_revise(0, ReviseWhich::Correct));
  EXPECT_TRUE(should_revise(0, ReviseWhich::Both));
  EXPECT_TRUE(should_revise(1, ReviseWhich::Both));
  EXPECT_THROW(parse_revise_which("sometimes"), sdz::Error);
}

TEST(TraceJson, CarriesTextAndRewards) {
  RevisionCandidate c;
  c.question_id = 4;
  c.prompt_text = "p";
  c.initial_text = "a";
  c.revision_text = "b";
  c.reward = 1;
  c.cue_ids = {7};
  auto j = trace_json(c);
  EXPECT_EQ(j["question_id"], 4);
  EXPECT_EQ(j["revision"], "b");
  EXPECT_EQ(j["initial_reward"], 0.0);
  EXPECT_EQ(to_trace(c).cue_ids, Ids{7});
}

// The JSONL line is what a resumed SRT run trains on: ids must come back exactly, through text.
TEST(TraceJson, IdsRoundTripThroughTheJsonlLine) {
  RevisionCandidate c;
  c.question_id = 9;
  c.prompt_text = "q \"quoted\"\n";
  c.prompt_ids = {1, 2, 151643};
  c.initial_ids = {5, 6, 7, 0};
  c.cue_ids = {271, 14190};
  c.revision_ids = {8, 9, 2147483647};
  c.initial_reward = 1.f;
  const std::string line = trace_json(c).dump();
  SrtTrace t = trace_from_json(nlohmann::json::parse(line), "traces.jsonl:1");
  SrtTrace want = to_trace(c);
  EXPECT_EQ(t.question_id, want.question_id);
  EXPECT_EQ(t.prompt_ids, want.prompt_ids);
  EXPECT_EQ(t.initial_ids, want.initial_ids);
  EXPECT_EQ(t.cue_ids, want.cue_ids);
  EXPECT_EQ(t.revision_ids, want.revision_ids);
  EXPECT_EQ(t.initial_reward, want.initial_reward);
}

TEST(TraceJson, MalformedLinesNameTheFieldAndPlace) {
  auto msg = [](const nlohmann::json& j) {
    try {
      trace_from_json(j, "t.jsonl:7");
    } catch (const sdz::Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  nlohmann::json ok = trace_json(RevisionCandidate{});
  nlohmann::json no_ids = ok;
  no_ids.erase("revision_ids");
  EXPECT_NE(msg(no_ids).find("revision_ids"), std::string::npos) << msg(no_ids);
  EXPECT_NE(msg(no_ids).find("t.jsonl:7"), std::string::npos) << msg(no_ids);
  nlohmann::json bad_id = ok;
  bad_id["cue_ids"] = {1, "x"};
  EXPECT_NE(msg(bad_id).find("cue_ids"), std::string::npos) << msg(bad_id);
  EXPECT_NE(msg(nlohmann::json::array()).find("JSON object"), std::string::npos);
  EXPECT_EQ(msg(ok), "no error");
}
