// BPE mechanics on small synthetic tokenizer.json files: merge order, ties, both merge forms,
// ignore_merges, added tokens, Split behaviours, ByteLevel options, decoding; and the library
// against a slow, obviously-correct BPE on random merges and strings.
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <set>

#include "sdzero/core/error.hpp"
#include "text_test_util.hpp"

namespace sdz::text {
namespace {

using nlohmann::json;
using testing::byte_level;
using testing::synthetic_json;
using Ids = std::vector<int32_t>;

std::unique_ptr<BpeTokenizer> make(const json& j) { return BpeTokenizer::from_parsed(j, "synthetic.json"); }

TEST(BpeMechanics, LowestRankMergesFirst) {
  EXPECT_EQ(make(synthetic_json({{"b", "c"}, {"a", "b"}}))->encode("abc"), (Ids{97, 256}));
  EXPECT_EQ(make(synthetic_json({{"a", "b"}, {"b", "c"}}))->encode("abc"), (Ids{256, 99}));
}

TEST(BpeMechanics, TiesGoLeftmost) {
  EXPECT_EQ(make(synthetic_json({{"a", "a"}}))->encode("aaa"), (Ids{256, 97}));
  EXPECT_EQ(make(synthetic_json({{"a", "a"}, {"aa", "aa"}}))->encode("aaaaa"), (Ids{257, 97}));
}

TEST(BpeMechanics, ChainedMergesAndBothMergeForms) {
  const std::vector<std::pair<std::string, std::string>> merges = {{"a", "b"}, {"ab", "c"}, {"c", "a"}};
  auto s = make(synthetic_json(merges, json::object(), false));
  auto p = make(synthetic_json(merges, json::object(), true));
  EXPECT_EQ(s->encode("abcab"), (Ids{257, 256}));
  for (const std::string t : {"abcab", "cabca", "aabbcc", "", "x"}) EXPECT_EQ(s->encode(t), p->encode(t)) << t;
}

TEST(BpeMechanics, IgnoreMergesTakesWholeTokens) {
  json j = synthetic_json({{"a", "b"}});
  j["model"]["vocab"][byte_level("abc")] = 300;
  EXPECT_EQ(make(j)->encode("abc"), (Ids{256, 99}));
  j["model"]["ignore_merges"] = true;
  EXPECT_EQ(make(j)->encode("abc"), (Ids{300}));
}

TEST(BpeMechanics, AddedTokensMatchLeftmostLongestBeforeEverythingElse) {
  json added = json::array({{{"id", 500}, {"content", "<|x|>"}, {"special", true}},
                            {{"id", 501}, {"content", "<|x|>y"}, {"special", true}},
                            {{"id", 502}, {"content", "<m>"}, {"special", false}, {"lstrip", true}, {"rstrip", true}}});
  auto t = make(synthetic_json({{"a", "b"}}, {{"added_tokens", added}}));
  EXPECT_EQ(t->encode("a<|x|>b"), (Ids{97, 500, 98}));
  EXPECT_EQ(t->encode("<|x|>yab"), (Ids{501, 256}));
  EXPECT_EQ(t->encode("<|x|<|x|>"), (Ids{60, 124, 120, 124, 500}));
  EXPECT_EQ(t->encode("a  <m>\t b"), (Ids{97, 502, 98}));
  EXPECT_EQ(t->encode_ordinary("<m>"), (Ids{60, 109, 62}));
  EXPECT_TRUE(t->is_special(500));
  EXPECT_FALSE(t->is_special(502));
  EXPECT_EQ(t->vocab_size(), 503);
  EXPECT_EQ(t->decode({97, 500, 98}), "a<|x|>b");
  EXPECT_EQ(t->token_to_id("<m>"), 502);
}

TEST(BpeMechanics, NormalizedAddedTokensMatchAfterNfc) {
  const std::string e_acute = "\xC3\xA9", e_comb = "e\xCC\x81";
  json added = json::array({{{"id", 400}, {"content", e_acute}, {"special", false}, {"normalized", true}}});
  auto t = make(synthetic_json({}, {{"normalizer", {{"type", "NFC"}}}, {"added_tokens", added}}));
  EXPECT_EQ(t->encode(e_comb), (Ids{400}));
  added[0]["normalized"] = false;
  auto raw = make(synthetic_json({}, {{"normalizer", {{"type", "NFC"}}}, {"added_tokens", added}}));
  EXPECT_EQ(raw->encode(e_comb), (Ids{0xC3, 0xA9}));  // NFC'd text, but raw-text matching missed it
  EXPECT_EQ(raw->encode(e_acute), (Ids{400}));
}

TEST(BpeMechanics, SplitBehaviours) {
  const std::vector<std::pair<std::string, std::string>> merges = {{"a", " "}, {" ", "b"}};
  auto with = [&](const std::string& behavior, bool invert = false) {
    json pre = {{"type", "Split"}, {"pattern", {{"String", " "}}}, {"behavior", behavior}, {"invert", invert}};
    return make(synthetic_json(merges, {{"pre_tokenizer", pre}}))->encode("a b");
  };
  EXPECT_EQ(make(synthetic_json(merges))->encode("a b"), (Ids{256, 98}));
  EXPECT_EQ(with("Isolated"), (Ids{97, 32, 98}));
  EXPECT_EQ(with("Removed"), (Ids{97, 98}));
  EXPECT_EQ(with("MergedWithPrevious"), (Ids{256, 98}));
  EXPECT_EQ(with("MergedWithNext"), (Ids{97, 257}));
  EXPECT_EQ(with("Removed", true), (Ids{32}));
}

TEST(BpeMechanics, ByteLevelRegexAndPrefixSpace) {
  const std::vector<std::pair<std::string, std::string>> merges = {{"a", " "}, {" ", "b"}};
  json pre = {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", true}};
  EXPECT_EQ(make(synthetic_json(merges, {{"pre_tokenizer", pre}}))->encode("a b"), (Ids{97, 257}));
  pre["add_prefix_space"] = true;
  auto t = make(synthetic_json(merges, {{"pre_tokenizer", pre}}));
  EXPECT_EQ(t->encode("b"), (Ids{257}));
  EXPECT_EQ(t->encode(" b"), (Ids{257}));
}

TEST(BpeMechanics, DecodeKeepsBytesAndReplacesBrokenUtf8) {
  auto t = make(synthetic_json({{"\xE2", "\x82"}}));
  const Ids euro_head = t->encode("\xE2\x82\xAC");
  EXPECT_EQ(euro_head, (Ids{256, 0xAC}));
  EXPECT_EQ(t->decode(euro_head), "\xE2\x82\xAC");
  EXPECT_EQ(t->decode({256}), "\xEF\xBF\xBD");         // incomplete sequence -> U+FFFD
  EXPECT_EQ(t->decode_bytes({256}), "\xE2\x82");       // raw, for streaming
  EXPECT_EQ(t->id_to_token(256), byte_level("\xE2\x82"));
  EXPECT_EQ(t->token_to_id(byte_level("\xE2\x82")), 256);
  EXPECT_EQ(t->token_to_id("nope"), std::nullopt);
}

TEST(BpeMechanics, UnknownIdsAreClearErrors) {
  auto t = make(synthetic_json({{"a", "b"}}));
  for (int32_t bad : {-1, 257, 1 << 30}) {
    try {
      t->decode({97, bad});
      ADD_FAILURE() << "no error for id " << bad;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("token id " + std::to_string(bad)), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("synthetic.json"), std::string::npos) << e.what();
    }
    EXPECT_THROW(t->id_to_token(bad), Error);
    EXPECT_THROW(t->decode_bytes({bad}), Error);
  }
}

// A slow BPE straight from the definition: repeatedly merge the lowest-ranked adjacent pair,
// leftmost on ties.
Ids slow_bpe(const std::string& text, const std::vector<std::pair<std::string, std::string>>& merges,
             const std::map<std::string, int32_t>& vocab) {
  std::vector<std::string> parts;
  for (char c : text) parts.emplace_back(1, c);
  for (;;) {
    size_t best_rank = merges.size(), best_at = 0;
    for (size_t i = 0; i + 1 < parts.size(); ++i)
      for (size_t r = 0; r < best_rank; ++r)
        if (merges[r].first == parts[i] && merges[r].second == parts[i + 1]) { best_rank = r; best_at = i; break; }
    if (best_rank == merges.size()) break;
    parts[best_at] += parts[best_at + 1];
    parts.erase(parts.begin() + best_at + 1);
  }
  Ids ids;
  for (const auto& p : parts) ids.push_back(vocab.at(p));
  return ids;
}

TEST(BpeMechanics, AgreesWithSlowReferenceOnRandomMerges) {
  std::mt19937 rng(7);
  for (int round = 0; round < 20; ++round) {
    std::vector<std::string> toks = {"a", "b", "c"};
    std::vector<std::pair<std::string, std::string>> merges;
    std::set<std::string> made;
    for (int k = 0; k < 40; ++k) {
      const std::string& x = toks[rng() % toks.size()];
      const std::string& y = toks[rng() % toks.size()];
      if (x.size() + y.size() > 8 || made.count(x + y)) continue;
      merges.emplace_back(x, y);
      made.insert(x + y);
      toks.push_back(x + y);
    }
    const json j = synthetic_json(merges);
    auto t = make(j);
    std::map<std::string, int32_t> vocab;
    // Every token here is ASCII, so its byte-level form is itself.
    for (auto it = j["model"]["vocab"].begin(); it != j["model"]["vocab"].end(); ++it) {
      vocab[it.key()] = it.value();
    }
    for (int s = 0; s < 50; ++s) {
      std::string text;
      for (size_t n = 1 + rng() % 60; n > 0; --n) text += "abc"[rng() % 3];
      EXPECT_EQ(t->encode(text), slow_bpe(text, merges, vocab)) << "round " << round << " text " << text;
    }
  }
}

TEST(BpeMechanics, LongPiecesAreNotQuadratic) {
  // 400k bytes in one piece: a quadratic BPE would take minutes here.
  auto t = make(synthetic_json({{"a", "a"}, {"aa", "aa"}, {"aaaa", "aaaa"}}));
  const Ids ids = t->encode(std::string(400000, 'a'));
  EXPECT_EQ(ids.size(), 50000u);
  EXPECT_EQ(ids.front(), 258);
}

}  // namespace
}  // namespace sdz::text
