// Chat templates and the SD-Zero prompt layouts, byte for byte (SDZERO.md "Prompt layout").
#include <gtest/gtest.h>

#include "sdzero/core/config.hpp"
#include "sdzero/core/error.hpp"
#include "sdzero/text/char_tokenizer.hpp"
#include "sdzero/text/keys.hpp"
#include "sdzero/text/prompts.hpp"
#include "text_test_util.hpp"

namespace sdz::text {
namespace {

const std::string kSys = "You are a helpful assistant that solves math problems step by step.";
const std::string kSuffix = "\n\nPlease reason step by step, and put your final answer within \\boxed{}.";

TEST(ChatTemplate, ChatMLWithAndWithoutGenerationPrompt) {
  const std::vector<ChatMessage> msgs = {{"system", "S"}, {"user", "Q"}, {"assistant", "A"}, {"user", "Q2"}};
  const std::string base =
      "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nQ<|im_end|>\n<|im_start|>assistant\nA<|im_end|>\n"
      "<|im_start|>user\nQ2<|im_end|>\n";
  EXPECT_EQ(render_chat(ChatFormat::ChatML, msgs, false), base);
  EXPECT_EQ(render_chat(ChatFormat::ChatML, msgs, true), base + "<|im_start|>assistant\n");
  EXPECT_EQ(render_chat(ChatFormat::ChatML, {{"user", "hi"}}, true),
            "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n");
}

TEST(ChatTemplate, Olmo3AddsItsDefaultSystemMessage) {
  EXPECT_EQ(render_chat(ChatFormat::Olmo3, {{"user", "Hello!"}}, true),
            "<|im_start|>system\nYou are a helpful function-calling AI assistant. You do not currently have access "
            "to any functions. <functions></functions><|im_end|>\n<|im_start|>user\nHello!<|im_end|>\n"
            "<|im_start|>assistant\n");
  EXPECT_EQ(render_chat(ChatFormat::Olmo3, {{"system", "You are a helpful assistant."}, {"user", "Hello!"}}, false),
            "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nHello!<|im_end|>\n");
}

TEST(ChatTemplate, ToyLayout) {
  EXPECT_EQ(render_chat(ChatFormat::Toy, {{"system", "ignored"}, {"user", "456/8"}}, true), "<q>456/8<a>");
  EXPECT_EQ(render_chat(ChatFormat::Toy, {{"user", "456/8"}, {"assistant", "57*8=456"}}, false), "<q>456/8<a>57*8=456<e>");
  EXPECT_EQ(stop_strings(ChatFormat::Toy), std::vector<std::string>{"<e>"});
  EXPECT_EQ(stop_strings(ChatFormat::ChatML), (std::vector<std::string>{"<|im_end|>", "<|endoftext|>", "<|im_start|>"}));
}

TEST(ChatTemplate, Errors) {
  EXPECT_THROW(render_chat(ChatFormat::ChatML, {{"tool", "x"}}, false), Error);
  EXPECT_THROW(parse_chat_format("jinja", "prompt.format"), Error);
  EXPECT_EQ(parse_chat_format("olmo3", "x"), ChatFormat::Olmo3);
}

TEST(Prompts, SdZeroLayoutsAreByteExact) {
  const PromptConfig pc = PromptConfig::defaults();
  const std::string x = "What is 6*7?", y = "6*7=42. \\boxed{42}";
  const std::string chat_x = "<|im_start|>system\n" + kSys + "<|im_end|>\n<|im_start|>user\n" + x + kSuffix +
                             "<|im_end|>\n<|im_start|>assistant\n";
  EXPECT_EQ(generator_prompt(pc, x), chat_x);
  EXPECT_EQ(cue_text(pc, true), "\n\nLet me rephrase the above solution.\n\n");
  EXPECT_EQ(cue_text(pc, false), "\n\nWait, this response is not correct, let me start over.\n\n");
  EXPECT_EQ(reviser_prompt(pc, x, y, false), chat_x + y + "\n\nWait, this response is not correct, let me start over.\n\n");
  EXPECT_EQ(teacher_context(pc, x, y, true), chat_x + y + "\n\nLet me rephrase the above solution.\n\n" + y);
}

TEST(Prompts, SdftTeacherPrompt) {
  PromptConfig pc = PromptConfig::defaults();
  pc.system.clear();
  pc.suffix.clear();
  EXPECT_EQ(sdft_teacher_prompt(pc, "Q {demo}", "D {question}"),
            "<|im_start|>user\nQ {demo}\n\nThis is an example for a response to the question:\nD {question}\n\n"
            "Now answer with a response of your own, including the thinking process.<|im_end|>\n"
            "<|im_start|>assistant\n");
  pc.sdft_template = "{question} only";
  EXPECT_THROW(sdft_teacher_prompt(pc, "q", "d"), Error);
}

TEST(Prompts, ToyLayouts) {
  const PromptConfig pc = PromptConfig::toy();
  EXPECT_EQ(generator_prompt(pc, "456/8"), "<q>456/8<a>");
  EXPECT_EQ(teacher_context(pc, "456/8", "56*8=448", false), "<q>456/8<a>56*8=448<w>56*8=448");
  EXPECT_EQ(sdft_teacher_prompt(pc, "456/8", "57*8=456"), "<q>456/8<a>57*8=456<r>");
  PromptConfig two = pc;
  two.sdft_template = "{question}<a>{demo}<e><q>{question}";  // a template with fields still works
  EXPECT_EQ(sdft_teacher_prompt(two, "456/8", "57*8=456"), "<q>456/8<a>57*8=456<e><q>456/8<a>");
}

TEST(Prompts, FromConfigKeys) {
  Schema s;
  declare_text_keys(s);
  Config cfg = Config::load(s, "", {"--prompt.format=olmo3", "--prompt.cue_wrong=Wrong. I need to redo all."});
  cfg.set("prompt.system", "", "test");
  const PromptConfig pc = PromptConfig::from_config(cfg);
  EXPECT_EQ(pc.format, ChatFormat::Olmo3);
  EXPECT_EQ(pc.cue_wrong, "Wrong. I need to redo all.");
  EXPECT_EQ(pc.suffix, kSuffix);
  EXPECT_EQ(generator_prompt(pc, "x"),
            std::string("<|im_start|>system\n") + kOlmo3DefaultSystem + "<|im_end|>\n<|im_start|>user\nx" + kSuffix +
                "<|im_end|>\n<|im_start|>assistant\n");
  // format = toy: keys left at their defaults take the toy values.
  Config toy = Config::load(s, "", {"--prompt.format=toy"});
  const PromptConfig tp = PromptConfig::from_config(toy);
  EXPECT_EQ(tp.cue_correct, "<r>");
  EXPECT_EQ(tp.cue_separator, "");
  EXPECT_EQ(generator_prompt(tp, "1+1"), "<q>1+1<a>");
  // A resolved config.ini (every key spelled out, as a run writes it) read back gives the same prompts.
  Config again = Config::load_text(s, toy.to_ini(), "config.ini", {});
  EXPECT_NE(again.origin("prompt.cue_wrong"), "default");
  const PromptConfig ap = PromptConfig::from_config(again);
  EXPECT_EQ(ap.cue_wrong, "<w>");
  EXPECT_EQ(ap.cue_separator, "");
  EXPECT_EQ(ap.system, "");
  EXPECT_EQ(generator_prompt(ap, "1+1"), "<q>1+1<a>");
  // prompt.prefix (empty by default) goes before the question, inside the user turn: the released
  // phase 2's layout, the instruction first and no system message.
  EXPECT_EQ(PromptConfig::from_config(cfg).prefix, "");
  Config pre = Config::load(s, "", {"--prompt.format=chatml", "--prompt.prefix=Think.\n\n"});
  pre.set("prompt.system", "", "test");
  pre.set("prompt.suffix", "", "test");
  EXPECT_EQ(generator_prompt(PromptConfig::from_config(pre), "x"),
            "<|im_start|>user\nThink.\n\nx<|im_end|>\n<|im_start|>assistant\n");
  // A value the user really set survives the round trip.
  Config own = Config::load(s, "", {"--prompt.format=toy", "--prompt.cue_wrong=<x>"});
  EXPECT_EQ(PromptConfig::from_config(Config::load_text(s, own.to_ini(), "config.ini", {})).cue_wrong, "<x>");
}

TEST(Prompts, AutoFormatFollowsTokenizerAndModel) {
  EXPECT_EQ(auto_chat_format("char", false), ChatFormat::Toy);
  EXPECT_EQ(auto_chat_format("char", true), ChatFormat::Toy);  // no newline, no chat markers in a char vocabulary
  EXPECT_EQ(auto_chat_format("bpe", true), ChatFormat::Olmo3);
  EXPECT_EQ(auto_chat_format("bpe", false), ChatFormat::ChatML);
  Schema s;
  declare_text_keys(s);
  Config cfg = Config::load(s, "", {});
  EXPECT_EQ(cfg.get_string("prompt.format"), "auto");
  // auto resolved to toy: the toy cues, as if prompt.format = toy had been written.
  const PromptConfig tp = PromptConfig::from_config(cfg, ChatFormat::Toy);
  EXPECT_EQ(tp.format, ChatFormat::Toy);
  EXPECT_EQ(tp.cue_wrong, "<w>");
  EXPECT_EQ(generator_prompt(tp, "1+1"), "<q>1+1<a>");
  // ... and read back from a resolved config.ini the same way.
  Config again = Config::load_text(s, cfg.to_ini(), "config.ini", {});
  EXPECT_EQ(PromptConfig::from_config(again, ChatFormat::Toy).cue_wrong, "<w>");
  const PromptConfig cp = PromptConfig::from_config(cfg, ChatFormat::ChatML);
  EXPECT_EQ(cp.format, ChatFormat::ChatML);
  EXPECT_EQ(cp.cue_wrong, "Wait, this response is not correct, let me start over.");
  // An explicit format wins over auto's choice.
  EXPECT_EQ(PromptConfig::from_config(Config::load(s, "", {"--prompt.format=chatml"}), ChatFormat::Toy).format,
            ChatFormat::ChatML);
  EXPECT_THROW(Config::load(s, "", {"--prompt.format=jinja"}), Error);
}

TEST(Prompts, RevisionLayoutConcatenatesIds) {
  const CharTokenizer tok = CharTokenizer::toy();
  const PromptConfig pc = PromptConfig::toy();
  const auto prompt = tok.encode(generator_prompt(pc, "456/8"));
  const auto y = tok.encode("57*8=456");
  const RevisionLayout L = revision_layout(tok, pc, prompt, y, true, y);
  EXPECT_EQ(tok.decode(L.ids), "<q>456/8<a>57*8=456<r>57*8=456");
  EXPECT_EQ(L.second_begin, prompt.size() + y.size() + 1);
  EXPECT_EQ(L.second_end, L.ids.size());
  EXPECT_EQ(std::vector<int32_t>(L.ids.begin() + L.second_begin, L.ids.end()), y);
}

TEST(Prompts, QwenTeacherSequenceTokens) {
  const BpeTokenizer* tok = testing::reference("qwen3");
  ASSERT_NE(tok, nullptr);
  const PromptConfig pc = PromptConfig::defaults();
  const auto prompt = tok->encode(generator_prompt(pc, "2+2?"));
  EXPECT_EQ(prompt.back(), 198);  // "\n" after "assistant"
  EXPECT_EQ(prompt[prompt.size() - 3], 151644);  // <|im_start|>
  const auto y = tok->encode("4");
  const RevisionLayout L = revision_layout(*tok, pc, prompt, y, false, y);
  // The cue is tokenized on its own, with its "\n\n" on both sides.
  const auto cue = tok->encode(cue_text(pc, false));
  EXPECT_EQ(cue.front(), 271);  // "\n\n"
  EXPECT_EQ(L.ids.size(), prompt.size() + 2 * y.size() + cue.size());
  EXPECT_EQ(tok->decode(L.ids), teacher_context(pc, "2+2?", "4", false));
}

}  // namespace
}  // namespace sdz::text
