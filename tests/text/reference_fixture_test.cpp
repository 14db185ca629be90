// Exact ids against the JavaScript references (tests/text/fixtures, written by
// tools/gen-tokenizer-fixtures.mjs) for Qwen3 (NFC, pair-form merges) and cl100k (no normalizer,
// "a b" merges, ignore_merges), and decode(encode(s)) == the normalized s.
#include <gtest/gtest.h>

#include "sdzero/text/unicode.hpp"
#include "text_test_util.hpp"

namespace sdz::text {
namespace {

using testing::fixture_path;
using testing::read_jsonl;
using testing::reference;

void check_fixture(const std::string& name, bool nfc_normalized) {
  const BpeTokenizer* tok = reference(name);
  ASSERT_NE(tok, nullptr);
  const auto rows = read_jsonl(fixture_path(name + ".jsonl"));
  ASSERT_GE(rows.size(), 300u) << "fixture too small: " << fixture_path(name + ".jsonl");
  int mismatches = 0;
  for (size_t i = 0; i < rows.size(); ++i) {
    const auto& row = rows[i];
    const std::string text = row.contains("hex") ? testing::from_hex(row["hex"]) : row["text"].get<std::string>();
    const auto want = row["ids"].get<std::vector<int32_t>>();
    const auto got = tok->encode(text);
    if (got != want && ++mismatches <= 10)
      ADD_FAILURE() << name << " line " << i + 1 << ": " << row.dump() << "\n  got " << nlohmann::json(got).dump();
    std::string expect_text = sanitize_utf8(text);
    if (nfc_normalized) expect_text = nfc(expect_text);
    EXPECT_EQ(tok->decode(got), expect_text) << name << " line " << i + 1;
  }
  EXPECT_EQ(mismatches, 0) << name << ": " << mismatches << " of " << rows.size() << " strings differ";
}

TEST(ReferenceFixture, FilesArePresent) {
  // Fails (never skips) when tools/fetch-tokenizers.sh has not run or could not reach npm.
  EXPECT_NE(reference("qwen3"), nullptr);
  EXPECT_NE(reference("cl100k"), nullptr);
}

TEST(ReferenceFixture, Qwen3MatchesReferenceIds) { check_fixture("qwen3", true); }
TEST(ReferenceFixture, Cl100kMatchesReferenceIds) { check_fixture("cl100k", false); }

TEST(ReferenceFixture, DesignDocExamples) {
  const BpeTokenizer* q = reference("qwen3");
  const BpeTokenizer* c = reference("cl100k");
  ASSERT_TRUE(q && c);
  const std::string s = "Hello world! 12345 \\boxed{42}";
  EXPECT_EQ(q->encode(s), (std::vector<int32_t>{9707, 1879, 0, 220, 16, 17, 18, 19, 20, 1124, 79075, 90, 19, 17, 92}));
  EXPECT_EQ(c->encode(s), (std::vector<int32_t>{9906, 1917, 0, 220, 4513, 1774, 1144, 80175, 90, 2983, 92}));
}

TEST(ReferenceFixture, Qwen3SpecialTokens) {
  const BpeTokenizer* q = reference("qwen3");
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(q->vocab_size(), 151669);
  EXPECT_EQ(q->token_to_id("<|im_start|>"), 151644);
  EXPECT_EQ(q->token_to_id("<|im_end|>"), 151645);
  EXPECT_EQ(q->token_to_id("<|endoftext|>"), 151643);
  EXPECT_TRUE(q->is_special(151645));
  EXPECT_FALSE(q->is_special(9707));
  EXPECT_FALSE(q->is_special(*q->token_to_id("<think>")));  // an added token that is not special
  EXPECT_EQ(q->id_to_token(1879), "\xC4\xA0world");          // "Ġworld"
  const auto ids = q->encode("<|im_start|>user\nhi<|im_end|>");
  EXPECT_EQ(ids.front(), 151644);
  EXPECT_EQ(ids.back(), 151645);
  // encode_ordinary treats the markers as text.
  const auto plain = q->encode_ordinary("<|im_end|>");
  EXPECT_GT(plain.size(), 1u);
  for (int32_t id : plain) EXPECT_LT(id, 151643);
  EXPECT_EQ(q->decode(plain), "<|im_end|>");
}

TEST(ReferenceFixture, DescribeSaysWhatWasLoaded) {
  const BpeTokenizer* q = reference("qwen3");
  ASSERT_NE(q, nullptr);
  const std::string d = q->describe();
  EXPECT_NE(d.find("151669 ids"), std::string::npos) << d;
  EXPECT_NE(d.find("normalizer NFC"), std::string::npos) << d;
  EXPECT_NE(d.find("regex JIT"), std::string::npos) << d;
}

}  // namespace
}  // namespace sdz::text
