// defines: the token-level self-localization diagnostic (SDZERO.md, "Diagnostics"): for a sampled
// response y with reward r, the per-token gap
//     g_t = log p_student(y_t | x, y_<t) - log p_teacher(y_t | x, y, cue(r), y_<t)
// (the teacher reads y once, then the cue the verifier's reward picks, then scores y again, exactly
// the phase-2 teacher sequence), and where on y the largest gap falls relative to the first error
// (a task hook, tasks::first_error_position). Questions are shared out over `comm` like evaluate().
#pragma once
#include <mpi.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "sdzero/pipeline/components.hpp"
#include "sdzero/pipeline/eval_metrics.hpp"

namespace sdz::pipeline {

struct LocalizationOptions {
  int64_t samples = 1;  // responses per question
  double temperature = 1.0, top_p = 1.0;
  int64_t max_new_tokens = 64;
  int64_t slots = 64;
  uint64_t seed = 1234;
  double top_fraction = 0.1;  // the "top 10% of tokens"
  int64_t window = 1;         // argmax within `window` tokens of the first error counts as a hit
  int64_t teacher_limit = 0;  // teacher sequence cap in tokens (phase-2 guard); 0: none
};

// One scored response, one JSONL line of `sdzero eval --localization`.
struct ScoredResponse {
  int64_t question = 0;  // position in the question list
  std::string question_id;
  int64_t sample = 0;
  std::vector<std::string> tokens;  // each scored token decoded on its own (the stop token included)
  std::vector<double> scores;       // g_t, same length
  bool correct = false;
  int64_t first_error = -1;       // token index of the first error (tokens.size(): the response
                                  // ended too early); -1: no error or the task has no hook
  int64_t first_error_char = -1;  // character index in the response text; -1 as above
  bool truncated = false;         // the teacher limit cut y
  // {"question_id","sample","tokens","scores","correct","first_error","first_error_char","truncated"}
  nlohmann::json to_json() const;
};

// g_t for one response. `student` and `teacher` may be the same model.
std::vector<double> localization_gaps(model::Transformer& student, model::Transformer& teacher,
                                      const algo::Ids& prompt, const algo::Ids& response, const algo::Ids& cue,
                                      const algo::Ids& stop_ids, int64_t teacher_limit, bool* truncated = nullptr);

// Start offset of each token of `ids` in tok.decode(ids) (ids.size() + 1 values, the last is the
// text length). Tokens are decoded one by one; when the pieces do not add up to the whole (a byte-
// level token that splits a character), offsets come from decoding each prefix.
std::vector<int64_t> token_offsets(const text::Tokenizer& tok, const algo::Ids& ids);
// The index of the token holding character `pos` (offsets from token_offsets); pos at or past the
// end of the text gives the first token that starts there (a stop token), else ids.size().
int64_t token_at_char(const std::vector<int64_t>& offsets, int64_t pos);

struct LocalizationResult {
  LocalizationMetrics metrics;  // the same on every rank
  std::vector<ScoredResponse> responses;  // rank 0 only (when gathered): ordered by question, sample
};

LocalizationResult evaluate_localization(const Components& c, model::Transformer& student, model::Transformer& teacher,
                                         const std::vector<tasks::Question>& questions, const LocalizationOptions& opt,
                                         MPI_Comm comm, bool gather_responses = true);

// The per-question record of metrics from a scored response.
LocalizationRecord localization_record(const ScoredResponse& r);

}  // namespace sdz::pipeline
