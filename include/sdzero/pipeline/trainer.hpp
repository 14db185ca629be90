// defines: Trainer — the step schedule of every online method, for colocated and split layouts.
// One step reads top-down: questions -> rollout (generate, verify, keep) -> teacher (score) ->
// learner (loss, gradient allreduce, AdamW) -> weight sync. Each role is one function; the roles a
// rank plays come from its Groups, and the data moves between groups by Alltoallv of flat buffers.
#pragma once
#include <nlohmann/json.hpp>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "sdzero/algo/optim.hpp"
#include "sdzero/algo/train.hpp"
#include "sdzero/core/metrics.hpp"
#include "sdzero/core/timer.hpp"
#include "sdzero/dist/collectives.hpp"
#include "sdzero/dist/groups.hpp"
#include "sdzero/pipeline/components.hpp"
#include "sdzero/pipeline/model_scorer.hpp"
#include "sdzero/pipeline/rollout.hpp"
#include "sdzero/pipeline/wire.hpp"
#include "sdzero/pipeline/zero1.hpp"

namespace sdz {
class Config;
namespace ckpt {
struct TrainingState;
}
}  // namespace sdz

namespace sdz::pipeline {

struct TrainOptions {
  int64_t steps = 16, questions_per_step = 32, slots = 64, samples_per_step = 2, log_every = 1;
  uint64_t seed = 1234;
  size_t bucket_bytes = size_t(64) << 20;
  std::string run_dir;
  // Checkpoints ([ckpt]): cadence, rotation, resume spec, and whether SIGTERM/SIGUSR1 checkpoint.
  int64_t ckpt_every_steps = 0, ckpt_keep_last = 3;
  double ckpt_every_minutes = 0;
  std::string resume = "none", config_text, phase = "train";
  bool ckpt_on_signal = true;
  // [dist]: async depth (0 = on-policy; see docs/PIPELINE.md) and ZeRO-1 optimizer sharding.
  int64_t max_staleness = 0;
  bool zero1 = false;
  // Validation during training (train.validate_every, 0 = off; train.validate_questions).
  int64_t validate_every = 0, validate_questions = 64;
  // distill.srt_replay > 0: the SRT traces the learners replay (distill.replay_traces), and how
  // many per step over all learners (distill.replay_per_step; 0: questions_per_step).
  std::string replay_traces;
  int64_t replay_per_step = 0;
  static TrainOptions from_config(const Config& cfg, const std::string& run_dir);
};

class Trainer {
 public:
  Trainer(TrainOptions opt, Components& c, Groups& g);
  // Runs until train.steps or the generation budget ends (or a stop signal: stopped_by_signal()).
  // Returns the steps done, counting those of a resumed checkpoint.
  int64_t run();
  bool stopped_by_signal() const { return stopped_by_signal_; }
  // Checkpoint state after `steps_done` steps (complete on the learner root), and its inverse.
  // Collective over the world: ZeRO-1 shards and async in-flight batches gather to the learner root.
  ckpt::TrainingState capture(int64_t steps_done);
  void restore(const ckpt::TrainingState& s);
  // One optimizer step of the schedule; returns its metrics record (complete on rank 0).
  nlohmann::json step(int64_t step);
  // Async mode (max_staleness = s > 0): one round generates the next batch with the policy held
  // now while the teacher and learners work on the batch generated s rounds earlier. Returns false
  // when nothing is left to generate or train; `rec` is the trained step's record, or null in the
  // rounds that fill the pipeline.
  bool async_round(nlohmann::json& rec);
  const algo::Budget& budget() const { return budget_; }
  // Called on every rank after each step with its metrics record; returning false ends the run.
  // (The base-model search of the demo stops pretraining when accuracy reaches its band.)
  void set_after_step(std::function<bool(int64_t step, nlohmann::json& rec)> f) { after_step_ = std::move(f); }
  int64_t version() const { return version_; }

 private:
  int64_t planned_steps() const;  // train.steps, or fewer when the generation budget ends the run first
  int64_t planned_steps_after(int64_t done, int64_t generations_at_start) const;  // the same, re-estimated as the run goes
  std::vector<int64_t> questions_for_step(int64_t step);
  std::vector<Routed> rollout_role(const std::vector<int64_t>& questions, int64_t step, nlohmann::json& rec,
                                   int64_t round = 0, int64_t first_position = 0);
  // grpo.refill_rounds (trainer_refill.cpp): more rollout rounds until the step keeps
  // questions_per_step groups; returns the groups that train, renumbered 0, 1, ... Collective.
  std::vector<Routed> refill(std::vector<Routed> items, std::vector<int64_t> taken, int64_t step, nlohmann::json& rec);
  std::vector<Routed> teacher_role(std::vector<Routed> items);
  algo::StepResult learner_role(std::vector<Routed> items, int64_t step, nlohmann::json& rec);
  void sync_role(algo::TeacherAction action);
  void load_replay();  // distill.srt_replay: reads and checks distill.replay_traces
  // Mean reward of one sample per validation question with the current policy, the same on every
  // rank (the rollout ranks generate, the world sums). Collective over the world.
  double validate(int64_t step);
  // (rollout ranks sharing a question list, this rank's index among them): every rank of a colocated
  // layout, the rollout group of a split one.
  std::pair<int, int> rollout_share() const;
  // Moves every item to the world rank dest(position); identity for a colocated layout.
  std::vector<Routed> route(std::vector<Routed> items, int (Trainer::*dest)(int64_t, const Routed&) const);
  int teacher_dest(int64_t position, const Routed& r) const;
  int learner_dest(int64_t position, const Routed& r) const;
  void write_samples(int64_t step, const RolloutResult& rr);
  // Phase times of this step/round (t_<phase>: slowest rank; share_<phase>: fraction of all ranks'
  // wall time; idle: waiting for other ranks plus anything untimed).
  void phase_metrics(nlohmann::json& rec, double local_wall);
  // The learner root's statistics of the step (its loss summed over learners), on every rank.
  // Collective over the world.
  nlohmann::json learner_statistics(const algo::StepResult& result);
  // The in-flight batches of async mode as one buffer (checkpoints), and their inverse.
  Bytes pack_pending() const;
  void unpack_pending(const Bytes& merged);
  // Items route over `comm`, whose rank 0 is world rank `first`; identity for a colocated layout.
  std::vector<Routed> route_on(MPI_Comm comm, int first, std::vector<Routed> items,
                               int (Trainer::*dest)(int64_t, const Routed&) const);
  int home_rank(const Routed& r) const;  // where an untrained trajectory waits between rounds

  // A batch generated but not yet trained (async); counters are the world's sums, same on all ranks.
  struct Pending {
    int64_t index = 0;
    std::vector<Routed> items;  // this rank's share (on teacher / learner ranks)
    double generated = 0, tokens = 0, reward_sum = 0, kept = 0;
  };

  TrainOptions opt_;
  std::vector<tasks::Question> validation_;  // train.validate_questions of the eval split
  double validation_tokens_ = 0;              // generated by the last validation, world sum
  Components& c_;
  Groups& g_;
  ModelScorer student_;
  std::unique_ptr<ModelScorer> teacher_;
  std::unique_ptr<algo::Optimizer> optim_;
  std::unique_ptr<Zero1> zero1_;
  std::deque<Pending> pending_;
  std::vector<algo::SrtTrace> replay_;  // distill.srt_replay: the traces, on learner ranks
  int64_t next_gen_ = 0, stale_dropped_ = 0;
  int64_t refill_rounds_ = 0;  // grpo.refill_rounds when it applies (GRPO with dynamic sampling), else 0
  bool gen_done_ = false;
  Timer run_clock_;
  algo::Budget budget_;
  int64_t version_ = 0;
  PhaseTimers timers_;
  MetricsWriter metrics_, samples_;
  std::vector<int64_t> order_;  // shuffled question order of the current epoch
  int64_t epoch_ = -1;
  int64_t start_step_ = 0;
  bool stopped_by_signal_ = false;
  std::function<bool(int64_t, nlohmann::json&)> after_step_;
};

}  // namespace sdz::pipeline
