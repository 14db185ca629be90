// Bad tokenizer files: every rejection is an sdz::Error that names the file and the field.
#include <gtest/gtest.h>
#include <unistd.h>

#include "sdzero/core/error.hpp"
#include "sdzero/core/files.hpp"
#include "sdzero/text/char_tokenizer.hpp"
#include "text_test_util.hpp"

namespace sdz::text {
namespace {

using nlohmann::json;
using testing::synthetic_json;

class LoadErrors : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/sdz_text_errors_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    for (const auto& p : written_) unlink(p.c_str());
    rmdir(dir_.c_str());
  }
  // Writes `content` to a file and expects load_tokenizer to fail naming the file and `field`.
  void expect_error(const std::string& content, const std::string& field, const std::string& what = "") {
    const std::string path = dir_ + "/case" + std::to_string(written_.size()) + ".json";
    write_file_atomic(path, content);
    written_.push_back(path);
    try {
      load_tokenizer(path);
      ADD_FAILURE() << "no error for field " << field;
    } catch (const Error& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find(path), std::string::npos) << msg;
      EXPECT_NE(msg.find(field), std::string::npos) << "field " << field << " not in: " << msg;
      if (!what.empty()) {
        EXPECT_NE(msg.find(what), std::string::npos) << msg;
      }
    }
  }
  std::string dir_;
  std::vector<std::string> written_;
};

TEST_F(LoadErrors, NotATokenizerFile) {
  expect_error("{", "", "not valid JSON");
  expect_error("[1, 2]", "", "neither");
  expect_error("{\"foo\": 1}", "", "neither");
}

TEST_F(LoadErrors, MissingFileNamesThePath) {
  try {
    load_tokenizer(dir_ + "/absent.json");
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("absent.json"), std::string::npos) << e.what();
  }
}

TEST_F(LoadErrors, ModelFields) {
  json j = synthetic_json({{"a", "b"}});
  auto with = [&](auto edit) { json k = j; edit(k); return k.dump(); };
  expect_error(with([](json& k) { k["model"]["type"] = "WordPiece"; }), "model.type", "not supported");
  expect_error(with([](json& k) { k["model"].erase("vocab"); }), "model.vocab");
  expect_error(with([](json& k) { k["model"]["vocab"]["a"] = -3; }), "model.vocab[\"a\"]");
  expect_error(with([](json& k) { k["model"]["vocab"]["a"] = "x"; }), "model.vocab[\"a\"]");
  expect_error(with([](json& k) { k["model"]["vocab"]["zz"] = 5; }), "model.vocab[\"", "used twice");
  expect_error(with([](json& k) { k["model"]["vocab"].erase("!"); }), "model.vocab", "no token for byte 33");
  expect_error(with([](json& k) { k["model"].erase("merges"); }), "model.merges");
  expect_error(with([](json& k) { k["model"]["merges"][0] = 5; }), "model.merges[0]");
  expect_error(with([](json& k) { k["model"]["merges"][0] = "a b c"; }), "model.merges[0]");
  expect_error(with([](json& k) { k["model"]["merges"].push_back("q zz"); }), "model.merges[1]", "\"zz\" is not in model.vocab");
  expect_error(with([](json& k) { k["model"]["merges"].push_back("b a"); }), "model.merges[1]", "merged token");
  expect_error(with([](json& k) { k["model"]["dropout"] = 0.1; }), "model.dropout");
  expect_error(with([](json& k) { k["model"]["byte_fallback"] = true; }), "model.byte_fallback");
  expect_error(with([](json& k) { k["model"]["continuing_subword_prefix"] = "##"; }), "model.continuing_subword_prefix");
  expect_error(with([](json& k) { k["model"]["ignore_merges"] = "yes"; }), "model.ignore_merges");
}

TEST_F(LoadErrors, PipelineFields) {
  json j = synthetic_json({{"a", "b"}});
  auto with = [&](auto edit) { json k = j; edit(k); return k.dump(); };
  expect_error(with([](json& k) { k["normalizer"] = {{"type", "Lowercase"}}; }), "normalizer.type", "Lowercase");
  expect_error(with([](json& k) { k["pre_tokenizer"] = {{"type", "Whitespace"}}; }), "pre_tokenizer.type");
  expect_error(with([](json& k) {
                 k["pre_tokenizer"] = {{"type", "Sequence"},
                                       {"pretokenizers", {{{"type", "ByteLevel"}, {"use_regex", false}}, {{"type", "Digits"}}}}};
               }),
               "pre_tokenizer.pretokenizers[1].type");
  expect_error(with([](json& k) {
                 k["pre_tokenizer"] = {{"type", "Split"}, {"pattern", {{"Regex", "(unclosed"}}}, {"behavior", "Isolated"}};
               }),
               "pre_tokenizer.pattern", "does not compile");
  expect_error(with([](json& k) {
                 k["pre_tokenizer"] = {{"type", "Split"}, {"pattern", {{"Regex", "a"}}}, {"behavior", "Contiguous"}};
               }),
               "pre_tokenizer.behavior");
  expect_error(with([](json& k) { k["pre_tokenizer"] = {{"type", "Split"}, {"behavior", "Isolated"}}; }),
               "pre_tokenizer.pattern");
  expect_error(with([](json& k) { k["decoder"] = {{"type", "WordPiece"}}; }), "decoder.type");
  expect_error(with([](json& k) { k["added_tokens"] = json::array({{{"content", "<x>"}}}); }), "added_tokens[0].id");
  expect_error(with([](json& k) { k["added_tokens"] = json::array({{{"id", 9}}}); }), "added_tokens[0].content");
  // A stray huge id is refused by name instead of sizing the id tables to it (gigabytes).
  expect_error(with([](json& k) { k["added_tokens"] = json::array({{{"id", 2147483000}, {"content", "<x>"}}}); }),
               "added_tokens[0].id", "beyond 16777215");
  expect_error(with([](json& k) { k["added_tokens"] = json::array({{{"id", 600}, {"content", "<x>"}, {"single_word", true}}}); }),
               "added_tokens[0].single_word");
}

TEST_F(LoadErrors, CharTokenizerFields) {
  expect_error(R"({"type": "sdzero-char", "version": 2, "tokens": ["a"]})", "version");
  expect_error(R"({"type": "sdzero-char", "version": 1, "tokens": "abc"})", "tokens");
  expect_error(R"({"type": "sdzero-char", "version": 1, "tokens": ["a", 3]})", "tokens[1]");
  expect_error(R"({"type": "sdzero-char", "version": 1, "tokens": ["a", "a"]})", "", "appears twice");
  expect_error(R"({"type": "sdzero-char", "version": 1, "tokens": []})", "", "empty");
}

}  // namespace
}  // namespace sdz::text
