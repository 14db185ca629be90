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
  ScoredLayout l = revision_layout(t.prompt_ids, t.response_ids, ctx_.cue_ids(t.reward), ctx_.stop_ids,
                                   cfg_.teacher_max_tokens);
  limit_student(l, cfg_.student_max_tokens);
  return l;
}

TokenCounts SdZeroMethod::count_tokens(const Batch& b) const {
  TokenCounts c;
  for (const auto& t : b.trajectories) c.main += double(teacher_layout(t)->n_scored());
  for (const auto& tr : b.srt) c.aux += double(replay_layout(tr).second);  // distill.srt_replay
  return c;
}

std::pair<SrtLayout, int64_t> SdZeroMethod::replay_layout(const SrtTrace& tr) const {
  SrtLayout l = srt_layout(tr.prompt_ids, tr.initial_ids, tr.cue_ids, tr.revision_ids, ctx_.stop_ids,
                           cfg_.srt.max_tokens);
  int64_t n = 0;
  for (uint8_t m : l.revision_mask) n += m;
  return {std::move(l), n};
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
  // distill.srt_replay: phase 2 trains generation only, so the reviser the teacher is synced from
  // would forget SRT; the revision NLL of replayed traces keeps it. Its weight is relative to the
  // KL's: w / (global revision tokens) against 1 / (global scored tokens), folded into the sum that
  // is divided by the latter.
  const double w_rep = global.aux > 0 ? cfg_.srt_replay * global.main / global.aux : 0.0;
  double replay_nll = 0, replay_tokens = 0;
  for (const auto& tr : b.srt) {
    if (w_rep <= 0) break;
    const auto [l, n_rev] = replay_layout(tr);
    const int64_t begin = int64_t(tr.prompt_ids.size());
    const Targets tg = targets_from(l.ids, begin);
    if (tg.n <= 0 || n_rev == 0) continue;
    const torch::Tensor rev_mask = mask_from(l.revision_mask, begin);
    rows.add(l.ids, tg.row, tg.n, [&, ids = tg.ids, rev_mask](const torch::Tensor& z, int64_t s, int64_t e) {
      auto nll = (token_nll(z, ids.slice(0, s, e)) * rev_mask.slice(0, s, e).to(z.device())).sum();
      replay_nll += nll.item<double>();
      return nll * w_rep;
    });
    replay_tokens += double(n_rev);
  }
  const torch::Tensor total = rows.finish();
  LossOutput out;
  out.loss = global.main > 0 ? total / global.main : total * 0.0;
  out.backward = grads.result();
  out.stats = {{"loss/kl_sum", total.item<double>() - w_rep * replay_nll}, {"loss/tokens", tokens},
               {"samples/truncated", truncated}, {"samples/reward_sum", reward},
               {"samples/count", double(b.trajectories.size())}};
  if (!b.srt.empty())
    out.stats["loss/replay_nll_sum"] = replay_nll, out.stats["loss/replay_tokens"] = replay_tokens,
    out.stats["samples/replayed"] = double(b.srt.size());
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
  ScoredLayout l = demonstration_layout(t.prompt_ids, t.teacher_prompt_ids, t.response_ids, ctx_.stop_ids,
                                        cfg_.teacher_max_tokens);
  limit_student(l, cfg_.student_max_tokens);
  return l;
}

}  // namespace sdz::algo
