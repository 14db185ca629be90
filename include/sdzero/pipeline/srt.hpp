// defines: SD-Zero phase 1 in the pipeline. collect_srt(): initial responses to the split's
// questions, the reward's cue appended, K revisions sampled, kept only when they verify, cleaned
// (algo/ clean-ups), written as JSONL traces (texts and token ids). SrtTrainer: the SRT objective
// over the traces, data-parallel over the ranks of a communicator, epoch by epoch, in one stage
// (joint / revision / generation) or two (sequential: each stage its own optimizer and schedule),
// with checkpoints (phase srt_train; [ckpt] cadence, stop signals) and exact resume.
// `sdzero train --method.name=srt` runs both (pipeline/run.cpp).
#pragma once
#include <mpi.h>

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "sdzero/algo/methods.hpp"
#include "sdzero/algo/optim.hpp"
#include "sdzero/algo/srt_collect.hpp"
#include "sdzero/pipeline/components.hpp"

namespace sdz {
class Config;
namespace ckpt {
struct TrainingState;
}
}  // namespace sdz

namespace sdz::pipeline {

struct SrtCollected {
  std::vector<algo::SrtTrace> traces;  // every rank's, in question order (the JSONL's order)
  algo::CollectStats stats;            // summed over ranks
  int64_t generations = 0, generated_tokens = 0;
  // What checkpoints record about the traces file (JSON text: path, bytes, crc32c, traces, stats);
  // load_srt_traces() checks a file against it. Filled on every rank.
  std::string record;
};

// Questions are shared out over `comm` by position; each rank's traces reach every rank.
// traces_path (written by rank 0): one JSON object per kept revision, sorted by question.
SrtCollected collect_srt(const Components& c, const algo::SrtMethod& m, const std::vector<int64_t>& questions,
                         uint64_t seed, int64_t slots, MPI_Comm comm, const std::string& traces_path);

// srt.unlikelihood: marks each candidate whose initial response failed with where that response
// leaves every response known correct for its question (`correct`, by question id, stop ids
// stripped): avoid_at = pipeline::leaving_point, avoid_token = the token y0 writes there (`stop` when
// y0 is a strict prefix of a correct one). Candidates of right initials, or of questions with no
// known correct response, stay unmarked (-1).
void mark_srt_avoid(std::vector<algo::RevisionCandidate>& cands, const std::map<int64_t, std::vector<algo::Ids>>& correct,
                    const algo::Ids& stop_ids);

// Reads the traces a checkpoint's record names back from `path`, exactly (token ids), after
// checking size and crc32c against the record: a changed or missing file is an Error naming it.
std::vector<algo::SrtTrace> load_srt_traces(const std::string& path, const std::string& record);

// The traces of a JSONL text (`path` names it in errors: path:line).
std::vector<algo::SrtTrace> parse_srt_traces(const std::string& text, const std::string& path);

// distill.srt_replay: the traces learner `learner` of `learners` replays at optimizer step `step`.
// The step's per_step traces are the next slice of a seeded shuffle of all of them (a new shuffle
// each pass), cut into contiguous shares by learner; a function of (step, seed) only, so a resumed
// or re-laid-out run replays the same traces.
std::vector<algo::SrtTrace> replay_share(const std::vector<algo::SrtTrace>& traces, int64_t step, int64_t per_step,
                                         int learner, int learners, uint64_t seed);

// Every trace's cue must be the tokenized cue of this configuration ([prompt] cue keys): SRT
// trains on the cue that phase 2 and a resumed run use. An Error names the key otherwise.
void check_trace_cues(const std::vector<algo::SrtTrace>& traces, const algo::MethodContext& ctx);

// The trace indices each SRT stage trains on (one set per stage, in stage order). One stage, or
// revision_traces = 0: every trace in every stage. Otherwise (srt.revision_traces, the released split)
// the revision stage takes revision_traces traces, those with a correct y0 first, then wrong ones;
// the generation stage takes every remaining trace with a wrong y0. Both drawn by a seeded shuffle,
// the same on every rank and on resume. An Error names srt.revision_traces when the generation stage
// would be left empty.
std::vector<std::vector<size_t>> srt_stage_sets(const std::vector<algo::SrtTrace>& traces, int stages,
                                                bool revision_first, int64_t revision_traces, uint64_t seed);

struct SrtTrainOptions {
  int64_t max_steps = 16;  // train.steps: a cap on the steps the epochs ask for
  int64_t batch = 32;      // traces per optimizer step over all ranks (train.questions_per_step)
  double epochs = 3;       // per stage (train.srt_epochs)
  uint64_t seed = 1234;
  std::string run_dir;  // metrics.jsonl and checkpoints/ go here (empty: neither)
  int64_t ckpt_every_steps = 0, ckpt_keep_last = 3;
  double ckpt_every_minutes = 0;
  bool ckpt_on_signal = true;
  std::string config_text;
  static SrtTrainOptions from_config(const Config& cfg, const std::string& run_dir);
};

class SrtTrainer {
 public:
  // Splits the traces between the stages (srt_stage_sets) and sets each stage's length:
  // srt.stage_steps, or epochs x the stage's traces / batch when it is 0.
  SrtTrainer(Components& c, algo::SrtMethod& m, const std::vector<algo::SrtTrace>& traces, SrtTrainOptions o,
             MPI_Comm comm);
  ~SrtTrainer();
  int64_t stage_steps(int stage) const { return stage_len_[size_t(stage)]; }
  int64_t stage_traces(int stage) const { return int64_t(sets_[size_t(stage)].size()); }
  int64_t total_steps() const;  // the stages' steps, capped by max_steps
  // What checkpoints carry besides the model: the traces record and the collection's counters.
  void set_collection(std::string record, int64_t generations, int64_t generated_tokens);
  // Trains from the restored step (0 when fresh) to total_steps(); stops early, checkpointed, on
  // SIGTERM/SIGUSR1. Returns the steps done, counting restored ones.
  int64_t run();
  bool stopped_by_signal() const { return stopped_by_signal_; }
  // Collective: rank 0 writes run_dir/checkpoints/step_<steps_done>.h5 (phase srt_train).
  std::string checkpoint(int64_t steps_done);
  ckpt::TrainingState capture(int64_t steps_done) const;
  void restore(const ckpt::TrainingState& s);  // the traces must be those of s.texts["srt_traces"]
  // The trace indices step `step` trains on (all ranks), in order: epoch-wise shuffles of the
  // stage's traces keyed by (seed, stage, epoch).
  std::vector<size_t> batch_indices(int64_t step);
  int64_t generations() const { return generations_; }
  int64_t generated_tokens() const { return generated_tokens_; }

 private:
  void start_stage(int stage);  // a fresh optimizer whose schedule begins at the stage's first step
  int64_t stage_start(int stage) const;  // the first step of `stage` (stages(): the end of the last)
  nlohmann::json train_one(int64_t step);

  Components& c_;
  algo::SrtMethod& m_;
  const std::vector<algo::SrtTrace>& traces_;
  SrtTrainOptions o_;
  MPI_Comm comm_;
  int rank_ = 0, size_ = 1;
  std::vector<std::vector<size_t>> sets_;  // trace indices of each stage
  std::vector<int64_t> stage_len_;         // optimizer steps of each stage
  std::unique_ptr<algo::Optimizer> opt_;
  int opt_stage_ = -1;
  int64_t start_step_ = 0;
  bool stopped_by_signal_ = false;
  std::string record_;
  int64_t generations_ = 0, generated_tokens_ = 0;
  std::vector<size_t> order_;
  std::pair<int, int64_t> order_key_{-1, -1};  // (stage, epoch) of order_
};

}  // namespace sdz::pipeline
