// defines: the prompt layouts of SD-Zero (SDZERO.md), from the [prompt] config keys:
//   generator prompt   chat(x)      = system + user(prefix + question + suffix) + assistant opening
//   reviser prompt     chat(x) + y + sep + cue(r) + sep          (the reviser continues with y')
//   teacher context    chat(x) + y + sep + cue(r) + sep + y      (the teacher scores the 2nd y)
//   SDFT teacher       chat(sdft_template with {question}, {demo})
// sep is "\n\n" for instruct models; the toy format uses the single-token cues <r>/<w> and no sep.
// The token-level layouts concatenate ids (y is the sampled ids, never re-tokenized).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "sdzero/text/chat.hpp"
#include "sdzero/text/tokenizer.hpp"

namespace sdz {
class Config;
}

namespace sdz::text {

// What prompt.format = auto means: toy for the char tokenizer of tiny models (it has no newline and no
// chat markers), olmo3 for an Olmo-3 model, chatml otherwise (Qwen3).
ChatFormat auto_chat_format(const std::string& tokenizer_kind, bool olmo3_model);

struct PromptConfig {
  ChatFormat format = ChatFormat::ChatML;
  std::string system;  // "" = no system message (Olmo3 then uses its default)
  std::string prefix;  // put before the question
  std::string suffix;  // appended to the question
  std::string cue_correct, cue_wrong, cue_separator;
  std::string sdft_template;  // holds {question} and {demo}

  // The [prompt] keys. With prompt.format = toy, keys left at their defaults take the toy values.
  // prompt.format = auto takes `when_auto`: the format the model and tokenizer imply (the caller knows
  // them; see auto_chat_format).
  static PromptConfig from_config(const Config& cfg, ChatFormat when_auto = ChatFormat::ChatML);
  static PromptConfig defaults();  // the schema defaults (Qwen3 math prompt, paper cues)
  static PromptConfig toy();       // format toy, cues <r>/<w>, no separator, no system or suffix
};

std::string generator_prompt(const PromptConfig& pc, const std::string& question);
// sep + cue(correct) + sep
std::string cue_text(const PromptConfig& pc, bool correct);
std::string reviser_prompt(const PromptConfig& pc, const std::string& question, const std::string& y, bool correct);
std::string teacher_context(const PromptConfig& pc, const std::string& question, const std::string& y, bool correct);
// Throws when the template lacks {question} or {demo}.
std::string sdft_teacher_prompt(const PromptConfig& pc, const std::string& question, const std::string& demo);

// prompt_ids ++ first ++ tok(cue_text) ++ second, and where `second` lies in it. With second = y
// this is the SD-Zero teacher sequence; with first = y0 and second = y_rev, an SRT example.
struct RevisionLayout {
  std::vector<int32_t> ids;
  size_t second_begin = 0, second_end = 0;  // [begin, end) of `second` in ids
};
RevisionLayout revision_layout(const Tokenizer& tok, const PromptConfig& pc, const std::vector<int32_t>& prompt_ids,
                               const std::vector<int32_t>& first, bool correct, const std::vector<int32_t>& second);

}  // namespace sdz::text
