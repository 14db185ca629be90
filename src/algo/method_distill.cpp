// SD-Zero phase 2 and SDFT: on-policy self-distillation from a teacher that sees more context
// (the reviser's cue, or a demonstration). Both train the student's top-k (or full) KL to the
// teacher on the scored response tokens; they differ only in the teacher's layout and update rule.
#include "sdzero/algo/chunked.hpp"
#include "sdzero/algo/losses.hpp"
#include "sdzero/algo/methods.hpp"
#include "sdzero/core/error.hpp"

namespace sdz::algo {

SdZeroMethod::SdZeroMethod(const AlgoConfig& cfg, const MethodContext& ctx)
    : Method(cfg, ctx, TeacherUpdate::Frozen) {
  default_samples(1);
}

std::optional<ScoredLayout> SdZeroMethod::teacher_layout(const Trajectory& t) const {
  return revision_layout(t.prompt_ids, t.response_ids, ctx_.cue_ids(t.reward), ctx_.stop_ids, cfg_.teacher_max_tokens);
}

TokenCounts SdZeroMethod::count_tokens(const Batch& b) const {
  TokenCounts c;
  for (const auto& t : b.trajectories) c.main += double(teacher_layout(t)->n_scored());
  return c;
}

LossOutput SdZeroMethod::loss(Scorer& student, const Batch& b, const TokenCounts& global, int64_t) const {
  SDZ_CHECK(b.signals.size() == b.trajectories.size(), "distillation needs one teacher signal per trajectory",
            "algo::" + name() + "::loss", "score every kept trajectory with the teacher first");
  GradAccumulator grads(global.main > 0 ? 1.0 / global.main : 0.0);
  RowBatch rows(student, grads, cfg_.chunk_rows, cfg_.micro_batch_tokens);
  double tokens = 0, truncated = 0, reward = 0;
  for (size_t i = 0; i < b.trajectories.size(); ++i) {
    const ScoredLayout layout = *teacher_layout(b.trajectories[i]);
    const TeacherSignal& sig = b.signals[i];
    const int64_t n = layout.n_scored();
    reward += b.trajectories[i].reward;
    truncated += layout.truncated ? 1 : 0;
    if (n == 0) continue;
    SDZ_CHECK(sig.n_scored() == n, "teacher signal scores " + std::to_string(sig.n_scored()) + " tokens, layout " +
                                       std::to_string(n), "algo::" + name() + "::loss",
              "teacher and learner must use the same distill.teacher_max_tokens");
    auto kl = [sig = &sig, mode = cfg_.kl](const torch::Tensor& z, int64_t b, int64_t e) {
      return (sig->is_topk() ? topk_kl(z, sig->topk_ids.slice(0, b, e), sig->topk_logits.slice(0, b, e), mode)
                             : full_kl(z, sig->full_logprobs.slice(0, b, e), mode))
          .sum();
    };
    rows.add(layout.student_ids, layout.student_row, n, kl);
    tokens += double(n);
  }
  const torch::Tensor total = rows.finish();
  LossOutput out;
  out.loss = global.main > 0 ? total / global.main : total * 0.0;
  out.backward = grads.result();
  out.stats = {{"loss/kl_sum", total.item<double>()}, {"loss/tokens", tokens},
               {"samples/truncated", truncated}, {"samples/reward_sum", reward},
               {"samples/count", double(b.trajectories.size())}};
  return out;
}

SdftMethod::SdftMethod(const AlgoConfig& cfg, const MethodContext& ctx) : SdZeroMethod(cfg, ctx) {
  if (cfg.teacher_update == "auto") {
    TeacherOptions t = cfg.teacher;
    t.update = TeacherUpdate::Ema;
    teacher_ = TeacherSchedule(t);
  }
}

std::optional<ScoredLayout> SdftMethod::teacher_layout(const Trajectory& t) const {
  SDZ_CHECK(!t.teacher_prompt_ids.empty(), "SDFT trajectory of question " + std::to_string(t.question_id) +
                                               " has no teacher prompt", "algo::sdft",
            "render the demonstration prompt into Trajectory::teacher_prompt_ids");
  return demonstration_layout(t.prompt_ids, t.teacher_prompt_ids, t.response_ids, ctx_.stop_ids,
                              cfg_.teacher_max_tokens);
}

}  // namespace sdz::algo
