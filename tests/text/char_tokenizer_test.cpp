// The char tokenizer of the tiny models: the TOY-STUDY vocabulary, specials as single tokens,
// save/load through load_tokenizer, errors.
#include <gtest/gtest.h>
#include <unistd.h>

#include "sdzero/core/config.hpp"
#include "sdzero/core/error.hpp"
#include "sdzero/text/keys.hpp"
#include "sdzero/text/char_tokenizer.hpp"

namespace sdz::text {
namespace {

TEST(CharTokenizer, ToyVocabulary) {
  const CharTokenizer t = CharTokenizer::toy();
  EXPECT_EQ(t.vocab_size(), 6 + 20);
  EXPECT_EQ(t.token_to_id("<pad>"), 0);
  EXPECT_EQ(t.token_to_id("<q>"), 1);
  EXPECT_EQ(t.token_to_id("<w>"), 4);
  EXPECT_EQ(t.token_to_id("<r>"), 5);
  EXPECT_EQ(t.token_to_id("0"), 6);
  EXPECT_TRUE(t.is_special(4));
  EXPECT_FALSE(t.is_special(6));
  EXPECT_EQ(t.kind(), "char");
}

TEST(CharTokenizer, SpecialsAreSingleTokens) {
  const CharTokenizer t = CharTokenizer::toy();
  const std::string doc = "<q>456/8<a>57*8=456<w>57*8=456<e>";
  const auto ids = t.encode(doc);
  ASSERT_EQ(ids.size(), 1 + 5 + 1 + 8 + 1 + 8 + 1u);
  EXPECT_EQ(ids[0], 1);
  EXPECT_EQ(ids[6], 2);
  EXPECT_EQ(ids[15], 4);
  EXPECT_EQ(ids.back(), 3);
  EXPECT_EQ(t.decode(ids), doc);
  // '>' is also a character of the alphabet (Countdown targets): "9>21" is four chars.
  EXPECT_EQ(t.encode("9>21").size(), 4u);
  EXPECT_EQ(t.encode("<q>3,7>21<a>").size(), 8u);
}

TEST(CharTokenizer, UnknownCharacterIsAClearError) {
  const CharTokenizer t = CharTokenizer::toy();
  try {
    t.encode("12x3");
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("\"x\" (U+0078) at byte 2"), std::string::npos) << e.what();
  }
  EXPECT_THROW(t.decode({0, 26}), Error);
  EXPECT_THROW(t.id_to_token(-1), Error);
}

TEST(CharTokenizer, ConfigurableVocabulary) {
  const CharTokenizer t = CharTokenizer::from_spec("<pad> <bos>", "ab\xC3\xA9");
  EXPECT_EQ(t.vocab_size(), 5);
  EXPECT_EQ(t.encode("<bos>a\xC3\xA9"), (std::vector<int32_t>{1, 2, 4}));
  EXPECT_THROW(CharTokenizer::from_spec("<pad>", "aa"), Error);
  EXPECT_THROW(CharTokenizer::from_spec("", ""), Error);
}

TEST(CharTokenizer, FromConfigKeys) {
  Schema s;
  declare_text_keys(s);
  EXPECT_EQ(CharTokenizer::from_config(Config::load(s, "", {})).tokens(), CharTokenizer::toy().tokens());
  const CharTokenizer t = CharTokenizer::from_config(Config::load(s, "", {"--tokenizer.char_alphabet=xyz"}));
  EXPECT_EQ(t.vocab_size(), 6 + 3);
  EXPECT_EQ(t.encode("<q>zy"), (std::vector<int32_t>{1, 8, 7}));
}

TEST(CharTokenizer, SaveAndLoadThroughLoadTokenizer) {
  char tmpl[] = "/tmp/sdz_char_XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string path = std::string(tmpl) + "/tokenizer.json";
  const CharTokenizer t = CharTokenizer::toy();
  t.save(path);
  const auto back = load_tokenizer(path);
  EXPECT_EQ(back->kind(), "char");
  EXPECT_EQ(back->vocab_size(), t.vocab_size());
  const std::string doc = "<q>4721*8<a>1*8+0=08|#37768<e>";
  EXPECT_EQ(back->encode(doc), t.encode(doc));
  EXPECT_TRUE(back->is_special(*back->token_to_id("<r>")));
  unlink(path.c_str());
  rmdir(tmpl);
}

}  // namespace
}  // namespace sdz::text
