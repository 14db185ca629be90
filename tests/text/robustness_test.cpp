// Any bytes encode without crashing; any in-range ids decode; long runs of one character class stay
// fast enough to finish (the run-time of this suite would expose quadratic behaviour).
#include <gtest/gtest.h>

#include <random>

#include "sdzero/core/error.hpp"
#include "sdzero/text/unicode.hpp"
#include "text_test_util.hpp"

namespace sdz::text {
namespace {

void random_bytes_roundtrip(const BpeTokenizer& t, bool nfc_normalized) {
  std::mt19937 rng(1234);
  for (int round = 0; round < 300; ++round) {
    std::string s;
    const size_t n = rng() % 200;
    // Half pure noise, half text-like bytes (ASCII, UTF-8 lead/continuation bytes).
    for (size_t i = 0; i < n; ++i)
      s += static_cast<char>(round % 2 ? rng() % 256 : "ab \n\t<|>\xC3\xA9\xE4\xB8\xAD\x80\xFF"[rng() % 16]);
    const auto ids = t.encode(s);
    for (int32_t id : ids) ASSERT_TRUE(id >= 0 && id < t.vocab_size());
    std::string want = sanitize_utf8(s);
    if (nfc_normalized) want = nfc(want);
    EXPECT_EQ(t.decode(ids), want) << "round " << round;
  }
}

void random_ids_decode(const BpeTokenizer& t) {
  std::mt19937 rng(99);
  for (int round = 0; round < 300; ++round) {
    std::vector<int32_t> ids(rng() % 50);
    for (auto& id : ids) id = static_cast<int32_t>(rng() % t.vocab_size());
    const std::string text = t.decode(ids);  // never throws for in-range ids
    EXPECT_TRUE(is_valid_utf8(text));
  }
}

TEST(Robustness, Qwen3RandomBytesAndIds) {
  const BpeTokenizer* t = testing::reference("qwen3");
  ASSERT_NE(t, nullptr);
  random_bytes_roundtrip(*t, true);
  random_ids_decode(*t);
}

TEST(Robustness, Cl100kRandomBytesAndIds) {
  const BpeTokenizer* t = testing::reference("cl100k");
  ASSERT_NE(t, nullptr);
  random_bytes_roundtrip(*t, false);
  random_ids_decode(*t);
  // cl100k has unused ids between its last token and its specials: a clear error.
  EXPECT_THROW(t->decode({100261}), Error);
}

TEST(Robustness, LongRunsEncodeAndRoundTrip) {
  for (const char* name : {"qwen3", "cl100k"}) {
    const BpeTokenizer* t = testing::reference(name);
    ASSERT_NE(t, nullptr);
    for (const std::string& run : {std::string(200000, ' '), std::string(200000, '7'), std::string(100000, '\n'),
                                   std::string(200000, 'x'), std::string(50000, '\t') + "a"}) {
      const auto ids = t->encode(run);
      EXPECT_EQ(t->decode(ids), run) << name;
    }
  }
}

}  // namespace
}  // namespace sdz::text
