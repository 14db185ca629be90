// defines: token layouts as functions of id vectors: the SD-Zero teacher sequence
// chat(x) ++ y ++ cue ++ y with the alignment of its scored span to the student's, the truncation
// guard, the SDFT (demonstration-in-context) layout, the SRT sequence chat(x) ++ [y0, cue, y_rev]
// with its revision and generation loss masks, and the plain response layout (SFT/RFT/GRPO).
//
// Convention: logits row p of a causal LM predicts token p + 1. A layout names, for each sequence, the
// first logits row of its scored span; row `row + t` predicts scored token t.
#pragma once
#include <cstdint>
#include <vector>

#include "sdzero/algo/types.hpp"

namespace sdz::algo {

// A response as generated may end with a stop id (<|im_end|>, <e>). Inside the teacher's first copy
// and before a cue the response continues in the same assistant turn, so the stop id is removed there.
Ids strip_stop(const Ids& response, const Ids& stop_ids);

struct ScoredLayout {
  Ids student_ids;          // the student's sequence
  Ids teacher_ids;          // the teacher's sequence
  Ids scored_ids;           // the tokens both score (y, possibly truncated)
  int64_t student_row = 0;  // logits row of student_ids predicting scored_ids[0]
  int64_t teacher_row = 0;  // logits row of teacher_ids predicting scored_ids[0]
  bool truncated = false;   // the guard shortened y (then the stop id is not scored)
  int64_t n_scored() const { return int64_t(scored_ids.size()); }
};

// SD-Zero phase 2. student: prompt ++ y;  teacher: prompt ++ strip(y) ++ cue ++ y.
// Guard: when the teacher sequence would exceed teacher_limit tokens, y is cut to its first
// floor((limit - |prompt| - |cue|) / 2) non-stop tokens, the same cut y for student and teacher.
// teacher_limit <= 0 means no limit. An empty prompt is an sdz::Error (nothing predicts y_0).
ScoredLayout revision_layout(const Ids& prompt, const Ids& response, const Ids& cue, const Ids& stop_ids,
                             int64_t teacher_limit);

// SDFT: student prompt ++ y; teacher teacher_prompt ++ y (the demonstration lives in teacher_prompt).
// If the teacher sequence exceeds teacher_limit, y is cut so it fits (same cut for the student).
ScoredLayout demonstration_layout(const Ids& prompt, const Ids& teacher_prompt, const Ids& response,
                                  const Ids& stop_ids, int64_t teacher_limit);

// method.student_max_tokens for the scored layouts: when prompt ++ y holds more than student_limit
// tokens, only y's first student_limit - |prompt| tokens are scored (by student and teacher; the
// teacher's context before the scored span, e.g. SD-Zero's first copy of y, is kept whole), and the
// layout is marked truncated. student_limit <= 0: no limit.
void limit_student(ScoredLayout& l, int64_t student_limit);

// A sequence with a per-token loss mask: mask[i] != 0 means token i is a target (predicted by row i-1).
struct MaskedSequence {
  Ids ids;
  std::vector<uint8_t> mask;
  int64_t n_targets() const;
};

// prompt ++ response, mask on the response tokens. max_tokens > 0 cuts the tail.
MaskedSequence response_layout(const Ids& prompt, const Ids& response, int64_t max_tokens);

// SRT: chat(x) ++ [strip(y0), cue, y_rev]; generation mask = the whole assistant turn,
// revision mask = y_rev only. max_tokens > 0 cuts the tail (both masks cut with it).
struct SrtLayout {
  Ids ids;
  std::vector<uint8_t> revision_mask;
  std::vector<uint8_t> generation_mask;
};
SrtLayout srt_layout(const Ids& prompt, const Ids& initial, const Ids& cue, const Ids& revision,
                     const Ids& stop_ids, int64_t max_tokens);

}  // namespace sdz::algo
