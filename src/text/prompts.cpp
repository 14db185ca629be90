// The SD-Zero prompt layouts.
#include "sdzero/text/prompts.hpp"

#include "sdzero/core/config.hpp"
#include "sdzero/core/error.hpp"

namespace sdz::text {

PromptConfig PromptConfig::defaults() {
  PromptConfig pc;
  pc.format = ChatFormat::ChatML;
  pc.system = "You are a helpful assistant that solves math problems step by step.";
  pc.suffix = "\n\nPlease reason step by step, and put your final answer within \\boxed{}.";
  pc.cue_correct = "Let me rephrase the above solution.";
  pc.cue_wrong = "Wait, this response is not correct, let me start over.";
  pc.cue_separator = "\n\n";
  pc.sdft_template =
      "{question}\n\nThis is an example for a response to the question:\n{demo}\n\n"
      "Now answer with a response of your own, including the thinking process.";
  return pc;
}

PromptConfig PromptConfig::toy() {
  PromptConfig pc = defaults();
  pc.format = ChatFormat::Toy;
  pc.system.clear();
  pc.suffix.clear();
  pc.cue_correct = "<r>";
  pc.cue_wrong = "<w>";
  pc.cue_separator.clear();
  // <q>x<a>demo<r>: the demonstration in the one multi-attempt context a toy base has read (a right
  // attempt, the rephrase cue, a copy). The two-question layout <q>x<a>demo<e><q>x<a> was off that
  // distribution and SDFT collapsed with it (avg@4 6.9 vs 64.4 with this one, docs/DEMO.md).
  pc.sdft_template = "{rephrase}";
  return pc;
}

ChatFormat auto_chat_format(const std::string& tokenizer_kind, bool olmo3_model) {
  if (tokenizer_kind == "char") return ChatFormat::Toy;
  return olmo3_model ? ChatFormat::Olmo3 : ChatFormat::ChatML;
}

PromptConfig PromptConfig::from_config(const Config& cfg, ChatFormat when_auto) {
  PromptConfig pc;
  const std::string name = cfg.get_string("prompt.format");
  pc.format = name == "auto" ? when_auto : parse_chat_format(name, "prompt.format");
  const PromptConfig base = pc.format == ChatFormat::Toy ? toy() : defaults(), chatml = defaults();
  // A key left at the schema's (ChatML) default takes the format's own default. "Left at" is judged
  // by value as well as by origin: a run's resolved config.ini spells every key out, and reading it
  // back must give the same prompts (a toy run's <w>, not the ChatML sentence).
  auto pick = [&](const char* key, const std::string& fallback, const std::string& schema_default) {
    const std::string v = cfg.get_string(key);
    return cfg.origin(key) == "default" || v == schema_default ? fallback : v;
  };
  pc.system = pick("prompt.system", base.system, chatml.system);
  pc.prefix = pick("prompt.prefix", base.prefix, chatml.prefix);
  pc.suffix = pick("prompt.suffix", base.suffix, chatml.suffix);
  pc.cue_correct = pick("prompt.cue_correct", base.cue_correct, chatml.cue_correct);
  pc.cue_wrong = pick("prompt.cue_wrong", base.cue_wrong, chatml.cue_wrong);
  pc.cue_separator = pick("prompt.cue_separator", base.cue_separator, chatml.cue_separator);
  pc.sdft_template = pick("prompt.sdft_template", base.sdft_template, chatml.sdft_template);
  return pc;
}

static std::string chat_for(const PromptConfig& pc, const std::string& user) {
  std::vector<ChatMessage> msgs;
  if (!pc.system.empty()) msgs.push_back({"system", pc.system});
  msgs.push_back({"user", user});
  return render_chat(pc.format, msgs, true);
}

std::string generator_prompt(const PromptConfig& pc, const std::string& question) {
  return chat_for(pc, pc.prefix + question + pc.suffix);
}

std::string cue_text(const PromptConfig& pc, bool correct) {
  return pc.cue_separator + (correct ? pc.cue_correct : pc.cue_wrong) + pc.cue_separator;
}

std::string reviser_prompt(const PromptConfig& pc, const std::string& question, const std::string& y, bool correct) {
  return generator_prompt(pc, question) + y + cue_text(pc, correct);
}

std::string teacher_context(const PromptConfig& pc, const std::string& question, const std::string& y, bool correct) {
  return reviser_prompt(pc, question, y, correct) + y;
}

std::string sdft_teacher_prompt(const PromptConfig& pc, const std::string& question, const std::string& demo) {
  const std::string& t = pc.sdft_template;
  // "{rephrase}": the demonstration as an attempt the cue calls right, i.e. the reviser's context
  // with the demonstration in place of the model's own answer. For a model whose only multi-attempt
  // documents are revision chains (the toy base) that is the in-context demonstration it can read.
  if (t == "{rephrase}") return reviser_prompt(pc, question, demo, true);
  if (t.find("{question}") == std::string::npos || t.find("{demo}") == std::string::npos)
    throw Error("the SDFT template needs both {question} and {demo}", "prompt.sdft_template");
  // One pass over the template, so braces inside the question or the demo are never expanded.
  std::string out;
  for (size_t i = 0; i < t.size();) {
    if (t.compare(i, 10, "{question}") == 0) { out += question; i += 10; }
    else if (t.compare(i, 6, "{demo}") == 0) { out += demo; i += 6; }
    else out += t[i++];
  }
  return chat_for(pc, out);
}

RevisionLayout revision_layout(const Tokenizer& tok, const PromptConfig& pc, const std::vector<int32_t>& prompt_ids,
                               const std::vector<int32_t>& first, bool correct, const std::vector<int32_t>& second) {
  RevisionLayout L;
  const std::vector<int32_t> cue = tok.encode(cue_text(pc, correct));
  L.ids.reserve(prompt_ids.size() + first.size() + cue.size() + second.size());
  L.ids.insert(L.ids.end(), prompt_ids.begin(), prompt_ids.end());
  L.ids.insert(L.ids.end(), first.begin(), first.end());
  L.ids.insert(L.ids.end(), cue.begin(), cue.end());
  L.second_begin = L.ids.size();
  L.ids.insert(L.ids.end(), second.begin(), second.end());
  L.second_end = L.ids.size();
  return L;
}

}  // namespace sdz::text
