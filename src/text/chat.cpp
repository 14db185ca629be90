// Chat templates as code.
#include "sdzero/text/chat.hpp"

#include "sdzero/core/error.hpp"

namespace sdz::text {

const char* const kOlmo3DefaultSystem =
    "You are a helpful function-calling AI assistant. You do not currently have access to any functions. "
    "<functions></functions>";

ChatFormat parse_chat_format(const std::string& name, const std::string& where) {
  if (name == "chatml") return ChatFormat::ChatML;
  if (name == "olmo3") return ChatFormat::Olmo3;
  if (name == "toy") return ChatFormat::Toy;
  throw Error("unknown chat format \"" + name + "\"", where, "use chatml (Qwen3), olmo3 or toy");
}

const char* chat_format_name(ChatFormat f) {
  switch (f) {
    case ChatFormat::ChatML: return "chatml";
    case ChatFormat::Olmo3: return "olmo3";
    case ChatFormat::Toy: return "toy";
  }
  return "?";
}

static void check_role(const std::string& role) {
  if (role != "system" && role != "user" && role != "assistant")
    throw Error("unknown chat role \"" + role + "\"", "chat message", "roles are system, user and assistant");
}

std::string render_chat(ChatFormat f, const std::vector<ChatMessage>& messages, bool add_generation_prompt) {
  std::string out;
  if (f == ChatFormat::Toy) {
    for (const ChatMessage& m : messages) {
      check_role(m.role);
      if (m.role == "user") out += "<q>" + m.content;
      else if (m.role == "assistant") out += "<a>" + m.content + "<e>";
    }
    if (add_generation_prompt) out += "<a>";
    return out;
  }
  bool has_system = false;
  for (const ChatMessage& m : messages) {
    check_role(m.role);
    has_system = has_system || m.role == "system";
  }
  if (f == ChatFormat::Olmo3 && !has_system)
    out += std::string("<|im_start|>system\n") + kOlmo3DefaultSystem + "<|im_end|>\n";
  for (const ChatMessage& m : messages) out += "<|im_start|>" + m.role + "\n" + m.content + "<|im_end|>\n";
  if (add_generation_prompt) out += "<|im_start|>assistant\n";
  return out;
}

std::vector<std::string> stop_strings(ChatFormat f) {
  if (f == ChatFormat::Toy) return {"<e>"};
  return {"<|im_end|>", "<|endoftext|>", "<|im_start|>"};
}

}  // namespace sdz::text
