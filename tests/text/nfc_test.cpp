// NFC and UTF-8 handling: exhaustive single code points and random strings against Node's ICU
// (tests/text/fixtures/nfc.jsonl, written by tools/gen-nfc-table.mjs --fixture).
#include <gtest/gtest.h>

#include "sdzero/text/unicode.hpp"
#include "text_test_util.hpp"

namespace sdz::text {
namespace {

std::string u8(uint32_t cp) {
  std::string s;
  append_utf8(s, cp);
  return s;
}

TEST(Nfc, EveryCodePointAlone) {
  const auto rows = testing::read_jsonl(testing::fixture_path("nfc.jsonl"));
  ASSERT_FALSE(rows.empty());
  std::map<uint32_t, std::string> singles;
  for (const auto& e : rows[0]["singles"]) singles[e[0].get<uint32_t>()] = e[1].get<std::string>();
  ASSERT_GT(singles.size(), 1000u);
  int bad = 0;
  for (uint32_t cp = 0; cp <= 0x10FFFF; ++cp) {
    if (cp >= 0xD800 && cp <= 0xDFFF) continue;
    const std::string s = u8(cp);
    auto it = singles.find(cp);
    const std::string want = it == singles.end() ? s : it->second;
    if (nfc(s) != want && ++bad <= 10) ADD_FAILURE() << "U+" << std::hex << cp;
  }
  EXPECT_EQ(bad, 0);
}

TEST(Nfc, RandomStringsMatchNode) {
  const auto rows = testing::read_jsonl(testing::fixture_path("nfc.jsonl"));
  ASSERT_GT(rows.size(), 1000u);
  int bad = 0;
  for (size_t i = 1; i < rows.size(); ++i) {
    const std::string in = rows[i]["in"], want = rows[i]["nfc"];
    if (nfc(in) != want && ++bad <= 10) ADD_FAILURE() << "line " << i + 1 << ": " << rows[i].dump();
    if (is_nfc_quick(in)) {
      EXPECT_EQ(in, want) << "quick check passed a string NFC changes, line " << i + 1;
    }
  }
  EXPECT_EQ(bad, 0);
}

TEST(Nfc, KnownCases) {
  EXPECT_EQ(nfc("cafe\xCC\x81"), "caf\xC3\xA9");                      // e + acute -> é
  EXPECT_EQ(nfc("\xE2\x84\xAB"), "\xC3\x85");                         // Angstrom sign -> Å
  EXPECT_EQ(nfc("q\xCC\x87\xCC\xA3"), "q\xCC\xA3\xCC\x87");           // marks reordered by class
  EXPECT_EQ(nfc("\xE1\x84\x80\xE1\x85\xA1\xE1\x86\xA8"), "\xEA\xB0\x81");  // jamo L V T -> 각
  EXPECT_EQ(nfc("plain ascii"), "plain ascii");
  EXPECT_TRUE(is_nfc_quick("na\xC3\xAFve"));  // precomposed Latin-1 is already NFC
  EXPECT_FALSE(is_nfc_quick("e\xCC\x81"));
}

TEST(Nfc, LongRunOfMarksIsNotQuadratic) {
  std::string s = "a";
  for (int i = 0; i < 200000; ++i) s += (i % 2) ? "\xCC\x81" : "\xCC\xA3";  // acute (230) / dot below (220)
  const std::string out = nfc(s);
  // All dots below sort before all acutes; the first dot below composes with a (ạ).
  EXPECT_EQ(out.substr(0, 3), "\xE1\xBA\xA1");
  EXPECT_EQ(out.size(), s.size());  // a + dot below (1 + 2 bytes) became one 3-byte letter
}

TEST(Utf8, SanitizeReplacesMaximalSubparts) {
  EXPECT_EQ(sanitize_utf8("ok"), "ok");
  EXPECT_EQ(sanitize_utf8("\x80"), "\xEF\xBF\xBD");
  EXPECT_EQ(sanitize_utf8("\xE2\x82"), "\xEF\xBF\xBD");              // truncated: one replacement
  EXPECT_EQ(sanitize_utf8("\xC0\xAF"), "\xEF\xBF\xBD\xEF\xBF\xBD");  // overlong: each byte
  EXPECT_EQ(sanitize_utf8("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // surrogate
  EXPECT_EQ(sanitize_utf8("a\xF0\x9F\x98" "b"), "a\xEF\xBF\xBD" "b");
  EXPECT_FALSE(is_valid_utf8("\xF4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_TRUE(is_valid_utf8("\xF4\x8F\xBF\xBF"));
}

TEST(Utf8, CodepointRoundTrip) {
  const std::string s = "a\xC3\xA9\xE4\xB8\xAD\xF0\x9F\x98\x80";
  EXPECT_EQ(utf8_to_codepoints(s), (std::vector<uint32_t>{0x61, 0xE9, 0x4E2D, 0x1F600}));
  EXPECT_EQ(codepoints_to_utf8(utf8_to_codepoints(s)), s);
}

}  // namespace
}  // namespace sdz::text
