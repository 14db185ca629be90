// defines: SRT collection on text and ids: the clean-ups of the released code (cut degenerate
// repeated tails, drop sycophantic openings, dedupe), keep-only-verified filtering, which initial
// responses get revised, and the JSON form of a kept trace (the pipeline writes the JSONL file).
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sdzero/algo/types.hpp"

namespace sdz::algo {

// A tail made of the same block repeated: if the text ends with >= min_repeats back-to-back copies
// of a block of min_period..max_period characters covering >= min_chars characters, the text is cut
// after the first copy. Returns the (possibly) shortened text.
std::string cut_repeated_tail(const std::string& text, int min_repeats = 4, int max_period = 200,
                              int min_chars = 32, int min_period = 1);

// True when the text, after leading whitespace and case folding of ASCII letters, starts with one of
// the openings ("You're absolutely right", ...). Curly apostrophes count as straight ones.
bool has_sycophantic_opening(const std::string& text, const std::vector<std::string>& openings);

// The text without its sycophantic opening sentence (the released code's clean-up): everything up
// to the first sentence end after the opening (".", "!" or "?" followed by whitespace, or a line
// break), and the whitespace after it, is removed. Empty when nothing else is left; the text itself
// when it has no such opening.
std::string strip_sycophantic_opening(const std::string& text, const std::vector<std::string>& openings);

// "a|b|c" -> {"a", "b", "c"} with surrounding whitespace removed and empty items skipped.
std::vector<std::string> split_list(const std::string& s, char sep = '|');

enum class ReviseWhich { Wrong, Correct, Both };
ReviseWhich parse_revise_which(const std::string& s);
bool should_revise(float initial_reward, ReviseWhich which);

// One revision candidate as collected: text, ids and verifier reward.
struct RevisionCandidate {
  int64_t question_id = 0;
  std::string prompt_text, initial_text, revision_text;
  Ids prompt_ids, initial_ids, cue_ids, revision_ids;
  float initial_reward = 0.f;
  float reward = 0.f;
  int64_t avoid_at = -1;  // SrtTrace::avoid_at / avoid_token (set by the pipeline, which knows the task)
  int32_t avoid_token = -1;
};

struct CleanupOptions {
  bool cut_repeats = true;
  int min_repeats = 4;
  int min_period = 1, max_period = 200;  // block lengths in characters (released code: 10-1500)
  int cut_passes = 1;                    // cut again while a pass cuts something (released code: up to 5)
  bool clean_initial = false;            // srt.clean_initial: cut y0's repeated tail too (released code)
  std::vector<std::string> sycophantic_openings;
  bool strip_sycophantic = false;  // srt.sycophantic = strip: keep the revision without its opening sentence
  bool dedupe = true;
  bool dedupe_per_initial = false;  // srt.dedupe_by = initial: duplicates are (question, y0, revision) (released code)
};

struct CollectStats {
  int64_t candidates = 0, unverified = 0, cut = 0, sycophantic = 0, duplicates = 0, kept = 0;
  int64_t initial_cut = 0;  // verified candidates whose y0 was cut (srt.clean_initial)
};

// Keep only verified revisions (reward > 0.5), cut repeated tails (of y0 too with clean_initial; a
// cut y0 is re-encoded and loses an unlikelihood mark it no longer writes; a cut revision keeps its text
// cut; `retokenize` re-encodes it, as algo/ knows no tokenizer, and should append the stop id: the cut
// revision ends where the loop began), drop sycophantic openings (or, with strip_sycophantic, strip
// the opening sentence, re-encoded the same way, and drop only what is left empty), and drop duplicates of
// (question, revision text), or of (question, y0 text, revision text) with dedupe_per_initial. Order is preserved.
std::vector<RevisionCandidate> clean_revisions(std::vector<RevisionCandidate> cands, const CleanupOptions& opt,
                                               const std::function<Ids(const std::string&)>& retokenize,
                                               CollectStats* stats);

SrtTrace to_trace(const RevisionCandidate& c);
// The JSONL record of a kept trace: the texts for people, the token ids for training, so that
// trace_from_json(trace_json(c)) == to_trace(c) exactly (re-encoding text would not round-trip).
nlohmann::json trace_json(const RevisionCandidate& c);
// Errors name `where` (file:line) and the field that is missing or malformed.
SrtTrace trace_from_json(const nlohmann::json& j, const std::string& where);

}  // namespace sdz::algo
