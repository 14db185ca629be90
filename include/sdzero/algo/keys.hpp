// defines: declare_algo_keys (the [method], [distill], [grpo], [srt], [optim], [budget], [teacher]
// sections) and AlgoConfig, those keys resolved into the option structs of algo/.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "sdzero/algo/budget.hpp"
#include "sdzero/algo/grpo.hpp"
#include "sdzero/algo/losses.hpp"
#include "sdzero/algo/optim.hpp"
#include "sdzero/algo/scorer.hpp"
#include "sdzero/algo/srt_collect.hpp"
#include "sdzero/algo/teacher.hpp"
#include "sdzero/core/config.hpp"

namespace sdz {
void declare_algo_keys(Schema& s);
}

namespace sdz::algo {

enum class SrtObjective { Joint, Revision, Generation, Sequential };
SrtObjective parse_srt_objective(const std::string& s);

struct SamplingParams {
  int64_t samples_per_question = 1;
  double temperature = 1.0;
  double top_p = 1.0;
  int64_t max_new_tokens = 512;
};

struct SrtOptions {
  SrtObjective objective = SrtObjective::Joint;
  bool revision_first = true;  // Sequential: which stage comes first
  int64_t stage_steps = 0;     // Sequential: optimizer steps of each stage (0: the pipeline sets it)
  // Sequential: 0 = both stages train on every trace; N > 0 = the released split (the revision stage
  // gets N traces, correct y0 first; the generation stage every remaining wrong-y0 trace).
  int64_t revision_traces = 0;
  int64_t initial_samples = 1;
  int64_t revisions = 3;
  ReviseWhich revise = ReviseWhich::Both;
  double revision_top_p = 0.9;
  double initial_top_p = 0.0;  // y0's top_p in collection; 0: method.top_p
  CleanupOptions cleanup;
  int64_t max_tokens = 8192;
  // Weight of the unlikelihood on writing a wrong y0 again after the "wrong" cue (0 = off, the
  // paper's SRT): -log(1 - p(avoid_token)) at avoid_at, per revision token of the revision term.
  double unlikelihood = 0.0;
  // The cues themselves are [prompt] keys (text/ owns them: separator, chat format); algo/ sees
  // their ids only, through MethodContext, so SRT and phase 2 cannot disagree on them.
};

struct AlgoConfig {
  std::string method = "sdzero";  // sdzero | srt | sft | rft | grpo | sdft
  SamplingParams sampling;
  int64_t student_max_tokens = 8192;
  int64_t chunk_rows = 1024;  // rows per loss/teacher chunk when the model offers a HeadView
  int64_t micro_batch_tokens = 8192;  // padded tokens per learner micro-batch (RowBatch); <= 1: per sequence
  TeacherScoring teacher_scoring;
  KlOptions kl;
  int64_t teacher_max_tokens = 32768;
  // SD-Zero phase 2 (distill.srt_replay): weight of the revision NLL on the SRT traces in Batch::srt,
  // per revision token of all learners, added to the KL. 0: the paper's phase 2.
  double srt_replay = 0.0;
  ClipOptions clip;
  bool dynamic_sampling = true;
  int64_t grpo_minibatches = 1;  // optimizer steps per rollout batch (GRPO): > 1 is where the clip acts
  // DAPO's refill (GRPO with dynamic_sampling): up to this many more sampling rounds per step replace the
  // dropped all-equal groups; 0: dropped groups are not replaced (the pipeline runs the rounds).
  int64_t grpo_refill_rounds = 0;
  bool scale_by_std = true;
  double adv_eps = 1e-6;
  SrtOptions srt;
  OptimOptions optim;
  BudgetLimits budget;
  std::string teacher_update = "auto";  // "auto": the method's own default
  TeacherOptions teacher;
};

// Reads every algo key (the Config must come from a schema that declare_algo_keys filled).
AlgoConfig algo_config(const Config& c);

}  // namespace sdz::algo
