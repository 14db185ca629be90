// defines: the Method interface the pipeline calls without knowing which method it runs, and
// make_method(). A method answers: how to sample (samples per question, temperature, top_p), what the
// teacher scores in what context, which trajectories are kept, how a batch becomes a loss (given the
// GLOBAL token counts), and (through its TeacherSchedule) when the teacher changes.
// Implementations: sdzero (phase 2 distillation), sdft, srt, sft, rft, grpo.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "sdzero/algo/keys.hpp"
#include "sdzero/algo/layout.hpp"
#include "sdzero/algo/scorer.hpp"
#include "sdzero/algo/teacher.hpp"
#include "sdzero/algo/types.hpp"

namespace sdz::algo {

using Stats = std::map<std::string, double>;

// Ids that only text/ can make: the tokenized cues "\n\n" + P_r + "\n\n" and the stop ids.
struct MethodContext {
  Ids cue_correct_ids, cue_wrong_ids;
  Ids stop_ids;
  const Ids& cue_ids(float reward) const { return reward > 0.5f ? cue_correct_ids : cue_wrong_ids; }
};

// Loss-token counts of a batch. dist/ sums both fields over the learners; colocated runs pass the
// local counts. `main` is the denominator of the method's token mean; `aux` is SRT's revision count.
struct TokenCounts {
  double main = 0, aux = 0;
  TokenCounts& operator+=(const TokenCounts& o) {
    main += o.main;
    aux += o.aux;
    return *this;
  }
};

struct LossOutput {
  torch::Tensor loss;      // scalar; already divided by the global counts
  torch::Tensor backward;  // what train_step back-propagates (equals loss in value of gradient; see chunked.hpp)
  Stats stats;             // local statistics (sums and counts, so ranks can add them)
};

class Method {
 public:
  Method(AlgoConfig cfg, MethodContext ctx, TeacherUpdate default_update);
  virtual ~Method() = default;
  virtual std::string name() const = 0;

  // How rollouts sample; samples_per_question is resolved (never 0).
  SamplingParams sampling() const { return sampling_; }
  // False for methods that train on fixed data (SFT demonstrations, SRT traces): no rollouts.
  virtual bool samples_online() const { return true; }
  // True for methods that learn from the dataset's gold demonstrations (SFT's targets, SDFT's teacher
  // context) rather than from the verifier alone; the trainer counts them (samples/demonstrations),
  // so a comparison can say which methods read more than a binary reward.
  virtual bool reads_demonstrations() const { return false; }
  // What the teacher scores for one trajectory; nullopt: this method asks the teacher nothing.
  virtual std::optional<ScoredLayout> teacher_layout(const Trajectory& t) const;
  virtual TeacherScoring teacher_scoring() const { return cfg_.teacher_scoring; }
  bool uses_teacher(const Trajectory& t) const { return teacher_layout(t).has_value(); }
  // Which trajectories of a rollout batch go into training (stats: counts of what was dropped).
  virtual std::vector<Trajectory> keep(std::vector<Trajectory> trajs, Stats* stats) const;
  // This rank's loss-token counts for `b`.
  virtual TokenCounts count_tokens(const Batch& b) const = 0;
  // The loss of `b` for optimizer step `step` (0-based), normalised by the global counts.
  virtual LossOutput loss(Scorer& student, const Batch& b, const TokenCounts& global, int64_t step) const = 0;

  TeacherSchedule& teacher() { return teacher_; }
  const TeacherSchedule& teacher() const { return teacher_; }
  const AlgoConfig& config() const { return cfg_; }
  const MethodContext& context() const { return ctx_; }

 protected:
  // Sets samples_per_question when the config left it 0.
  void default_samples(int64_t n) {
    if (sampling_.samples_per_question == 0) sampling_.samples_per_question = n;
  }
  AlgoConfig cfg_;
  MethodContext ctx_;
  SamplingParams sampling_;
  TeacherSchedule teacher_;
};

// The method named by cfg.method. Errors name method.name.
std::unique_ptr<Method> make_method(const AlgoConfig& cfg, const MethodContext& ctx);

}  // namespace sdz::algo
