// The [prompt] and [tokenizer] keys.
#include "sdzero/text/keys.hpp"

#include "sdzero/core/config.hpp"
#include "sdzero/text/char_tokenizer.hpp"

namespace sdz {

void declare_text_keys(Schema& s) {
  s.add_string("prompt.format", "auto",
               "Chat layout: chatml (Qwen3), olmo3 (Olmo-3 Instruct), toy (<q>x<a>y<e>), or auto: toy with the char "
               "tokenizer of tiny models, olmo3 for an Olmo-3 model, chatml otherwise.",
               {"auto", "chatml", "olmo3", "toy"});
  s.add_string("prompt.system", "You are a helpful assistant that solves math problems step by step.",
               "System message; empty = none (olmo3 then uses its default). Code tasks: "
               "\"You are a helpful assistant that solves coding problems step by step.\"");
  s.add_string("prompt.prefix", "",
               "Put before every question in the user turn. The released phase 2 (NeMo-RL's cot.txt) used \"Please "
               "reason step by step, and put your final answer within \\boxed{}.\\n\\n\" with an empty suffix and no "
               "system message.");
  s.add_string("prompt.suffix", "\n\nPlease reason step by step, and put your final answer within \\boxed{}.",
               "Appended to every question in the user turn (empty for code tasks).");
  s.add_string("prompt.cue_correct", "Let me rephrase the above solution.", "Revision cue after a correct response (r = 1).");
  s.add_string("prompt.cue_wrong", "Wait, this response is not correct, let me start over.",
               "Revision cue after a wrong response (r = 0). Paper text; the released code used "
               "\"Wait, this response is wrong. Let me correct it.\" (Qwen) and \"Wrong. I need to redo all.\" (Olmo). "
               "Phase 2 must use the cue SRT trained on.");
  s.add_string("prompt.cue_separator", "\n\n", "Put on both sides of the cue, inside the assistant turn.");
  s.add_string("prompt.sdft_template",
               "{question}\n\nThis is an example for a response to the question:\n{demo}\n\n"
               "Now answer with a response of your own, including the thinking process.",
               "SDFT teacher's user turn; {question} and {demo} are replaced. \"{rephrase}\" alone: the generator "
               "prompt, the demonstration and the correct cue (the reviser context with the demonstration as the "
               "attempt; the toy format's default).");
  s.add_string("tokenizer.char_specials", text::kToySpecials,
               "Char tokenizer of tiny models: special tokens (space separated), ids 0.. in this order.");
  s.add_string("tokenizer.char_alphabet", text::kToyAlphabet,
               "Char tokenizer of tiny models: one token per character, after the specials.");
}

}  // namespace sdz
