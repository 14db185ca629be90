// defines: the plain data every method works on: Trajectory (one sampled response and its reward),
// TeacherSignal (what the teacher says about the scored positions of one trajectory), SrtTrace (one
// kept self-revision), Batch. Ids are int32 like the tokenizer's; flat MPI serialisation is dist/'s job.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <torch/torch.h>

namespace sdz::algo {

using Ids = std::vector<int32_t>;

struct Trajectory {
  int64_t question_id = 0;
  int64_t sample_index = 0;    // which of the question's samples (keys the sampling RNG)
  int64_t policy_version = 0;  // learner step whose weights sampled it
  Ids prompt_ids;              // chat(x): the rendered prompt up to the assistant turn
  Ids response_ids;            // y as generated; ends with a stop id when generation stopped
  std::vector<float> logprobs; // the sampling policy's log-prob of each response id at the sampling
                               // temperature, before top-k/top-p (same length), may be empty
  float reward = 0.f;          // verifier reward in {0, 1}
  float advantage = 0.f;       // GRPO: filled by group_advantages()
  // SDFT: the teacher's own prompt (a demonstration in context). Empty: the teacher sees prompt_ids.
  Ids teacher_prompt_ids;
};

// Teacher output for the scored span of one trajectory (row t predicts scored token t).
// Top-k mode: topk_ids/topk_logits [n, k] (raw logits, no temperature applied).
// Full mode:  full_logprobs [n, V] (temperature already applied: these are the teacher's log-probs).
// token_logprobs [n]: teacher log-prob of the scored token itself (GRPO reference KL, diagnostics).
struct TeacherSignal {
  torch::Tensor topk_ids;
  torch::Tensor topk_logits;
  torch::Tensor full_logprobs;
  torch::Tensor token_logprobs;
  int64_t n_scored() const;
  bool is_topk() const { return topk_ids.defined(); }
};

// One SRT training example: chat(x) ++ [y0, cue, y_rev] (see layout.hpp).
struct SrtTrace {
  int64_t question_id = 0;
  Ids prompt_ids;
  Ids initial_ids;   // y0 (a trailing stop id is removed when laid out)
  Ids cue_ids;       // tok("\n\n" + P_r + "\n\n")
  Ids revision_ids;  // y_rev, normally ending with a stop id
  float initial_reward = 0.f;
  // srt.unlikelihood: after the "wrong" cue the reviser should not write y0 again. avoid_at is where
  // y0 (stop stripped) leaves every known correct response (its longest shared prefix), avoid_token
  // the token y0 writes there (the stop when y0 is a strict prefix of one). -1: no such row.
  int64_t avoid_at = -1;
  int32_t avoid_token = -1;
};

// What one learner step consumes. `signals` is empty or parallel to `trajectories`.
struct Batch {
  std::vector<Trajectory> trajectories;
  std::vector<TeacherSignal> signals;
  std::vector<SrtTrace> srt;
};

}  // namespace sdz::algo
