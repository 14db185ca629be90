// defines: declare_text_keys, the configuration keys of text/: [prompt] (chat format, system prompt,
// question suffix, revision cues, SDFT template) and [tokenizer] (the char vocabulary of tiny models).
#pragma once

namespace sdz {
class Schema;
void declare_text_keys(Schema& s);
}  // namespace sdz
