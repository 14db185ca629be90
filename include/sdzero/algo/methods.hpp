// defines: the concrete methods. sdzero: phase-2 self-distillation (teacher = reviser on
// chat(x) ++ y ++ cue(r) ++ y, top-k KL). sdft: teacher with a demonstration in context, EMA teacher.
// srt: phase-1 self-revision training on collected traces (joint / revision / generation / sequential)
// plus what collection needs. sft: NLL on demonstrations. rft: NLL on verified samples.
// grpo: DAPO-style clipped surrogate on group-normalised advantages.
#pragma once
#include "sdzero/algo/method.hpp"

namespace sdz::algo {

class SdZeroMethod : public Method {
 public:
  SdZeroMethod(const AlgoConfig& cfg, const MethodContext& ctx);
  std::string name() const override { return "sdzero"; }
  std::optional<ScoredLayout> teacher_layout(const Trajectory& t) const override;
  TokenCounts count_tokens(const Batch& b) const override;
  LossOutput loss(Scorer& student, const Batch& b, const TokenCounts& global, int64_t step) const override;

 private:
  // A replayed SRT trace (distill.srt_replay) laid out as SRT trains it, and its revision tokens.
  std::pair<SrtLayout, int64_t> replay_layout(const SrtTrace& tr) const;
};

class SdftMethod : public SdZeroMethod {
 public:
  SdftMethod(const AlgoConfig& cfg, const MethodContext& ctx);
  std::string name() const override { return "sdft"; }
  bool reads_demonstrations() const override { return true; }
  std::optional<ScoredLayout> teacher_layout(const Trajectory& t) const override;
};

class SftMethod : public Method {
 public:
  SftMethod(const AlgoConfig& cfg, const MethodContext& ctx);
  std::string name() const override { return "sft"; }
  bool samples_online() const override { return false; }
  bool reads_demonstrations() const override { return true; }
  TokenCounts count_tokens(const Batch& b) const override;
  LossOutput loss(Scorer& student, const Batch& b, const TokenCounts& global, int64_t step) const override;

 protected:
  SftMethod(const AlgoConfig& cfg, const MethodContext& ctx, int64_t default_samples_per_question);
};

class RftMethod : public SftMethod {
 public:
  RftMethod(const AlgoConfig& cfg, const MethodContext& ctx);
  std::string name() const override { return "rft"; }
  bool samples_online() const override { return true; }
  bool reads_demonstrations() const override { return false; }
  std::vector<Trajectory> keep(std::vector<Trajectory> trajs, Stats* stats) const override;
};

class GrpoMethod : public Method {
 public:
  GrpoMethod(const AlgoConfig& cfg, const MethodContext& ctx);
  std::string name() const override { return "grpo"; }
  // The reference policy (the frozen teacher) scores chat(x) ++ y only when grpo.kl_coef > 0.
  std::optional<ScoredLayout> teacher_layout(const Trajectory& t) const override;
  TeacherScoring teacher_scoring() const override;
  std::vector<Trajectory> keep(std::vector<Trajectory> trajs, Stats* stats) const override;
  TokenCounts count_tokens(const Batch& b) const override;
  LossOutput loss(Scorer& student, const Batch& b, const TokenCounts& global, int64_t step) const override;

 private:
  int64_t trained_tokens(const Trajectory& t) const;
};

class SrtMethod : public Method {
 public:
  SrtMethod(const AlgoConfig& cfg, const MethodContext& ctx);
  std::string name() const override { return "srt"; }
  bool samples_online() const override { return false; }
  TokenCounts count_tokens(const Batch& b) const override;  // main: generation tokens, aux: revision tokens
  LossOutput loss(Scorer& student, const Batch& b, const TokenCounts& global, int64_t step) const override;

  // Collection. The reviser samples from chat(x) ++ strip(y0) ++ cue(r0); nullopt when srt.revise
  // says this initial response is not revised.
  std::optional<Ids> revision_context(const Trajectory& initial) const;
  SamplingParams initial_sampling() const;   // y0: srt.initial_samples, srt.initial_top_p (0: method.top_p)
  SamplingParams revision_sampling() const;  // srt.revisions samples, srt.top_p
  // Which terms a step trains: {revision, generation}.
  std::pair<bool, bool> terms_at(int64_t step) const;
  // Sequential objective: 2 stages of srt.stage_steps optimizer steps each (stage_at: 0 or 1), else 1.
  // The pipeline sets the stage length from train.srt_epochs when srt.stage_steps is 0.
  int stages() const;
  int stage_at(int64_t step) const;
  void set_stage_steps(int64_t n);
  int64_t stage_steps() const { return cfg_.srt.stage_steps; }
};

}  // namespace sdz::algo
