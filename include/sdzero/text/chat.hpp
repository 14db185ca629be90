// defines: chat templates written as code (no Jinja): ChatML as Qwen3 uses it, the Olmo-3 Instruct
// format (ChatML markers, a default system message when none is given), and the toy layout of the
// built-in tiny models (<q>question<a>response<e>).
#pragma once
#include <string>
#include <vector>

namespace sdz::text {

enum class ChatFormat { ChatML, Olmo3, Toy };

// "chatml" | "olmo3" | "toy"; anything else is an sdz::Error naming `where`.
ChatFormat parse_chat_format(const std::string& name, const std::string& where);
const char* chat_format_name(ChatFormat f);

struct ChatMessage {
  std::string role;  // "system" | "user" | "assistant"
  std::string content;
};

// Olmo-3 Instruct's system message when the conversation has none.
extern const char* const kOlmo3DefaultSystem;

// The conversation as the model sees it. add_generation_prompt appends the opening of an
// assistant turn ("<|im_start|>assistant\n", or "<a>" for Toy). Roles other than the three are
// an sdz::Error.
//   ChatML: <|im_start|>{role}\n{content}<|im_end|>\n per message
//   Olmo3:  the same, after "<|im_start|>system\n" kOlmo3DefaultSystem "<|im_end|>\n" when no
//           system message is given
//   Toy:    <q>{user}<a>{assistant}<e>; system messages are dropped
std::string render_chat(ChatFormat f, const std::vector<ChatMessage>& messages, bool add_generation_prompt);

// Strings that end an assistant turn in this format (generation stops on them).
std::vector<std::string> stop_strings(ChatFormat f);

}  // namespace sdz::text
