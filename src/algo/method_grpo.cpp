// GRPO with the DAPO options (see grpo.hpp): keep() computes group advantages and drops all-equal
// groups; loss() is the clipped surrogate averaged over the global count of response tokens.
#include "sdzero/algo/chunked.hpp"
#include "sdzero/algo/grpo.hpp"
#include "sdzero/algo/losses.hpp"
#include "sdzero/algo/methods.hpp"
#include "sdzero/core/error.hpp"

namespace sdz::algo {

GrpoMethod::GrpoMethod(const AlgoConfig& cfg, const MethodContext& ctx) : Method(cfg, ctx, TeacherUpdate::Frozen) {
  default_samples(8);
}

std::optional<ScoredLayout> GrpoMethod::teacher_layout(const Trajectory& t) const {
  if (cfg_.clip.kl_coef <= 0) return std::nullopt;
  ScoredLayout l = demonstration_layout(t.prompt_ids, t.prompt_ids, t.response_ids, ctx_.stop_ids, 0);
  limit_student(l, cfg_.student_max_tokens);
  return l;
}

TeacherScoring GrpoMethod::teacher_scoring() const {
  // The reference's log-prob of the sampled token, at the temperature the old log-probs used.
  TeacherScoring s = cfg_.teacher_scoring;
  s.temperature = cfg_.sampling.temperature;
  s.token_logprobs = true;
  return s;
}

std::vector<Trajectory> GrpoMethod::keep(std::vector<Trajectory> trajs, Stats* stats) const {
  const double before = double(trajs.size());
  int64_t dropped_groups = 0;
  if (cfg_.dynamic_sampling) dropped_groups = drop_uniform_groups(trajs);
  group_advantages(trajs, cfg_.scale_by_std, cfg_.adv_eps);
  if (stats) {
    (*stats)["keep/kept"] = double(trajs.size());
    (*stats)["keep/dropped_uniform_groups"] = double(dropped_groups);
    (*stats)["keep/dropped_samples"] = before - double(trajs.size());
  }
  return trajs;
}

// method.student_max_tokens: the response tokens the student trains on (the tail past the limit is not).
int64_t GrpoMethod::trained_tokens(const Trajectory& t) const {
  const int64_t n = int64_t(t.response_ids.size());
  if (cfg_.student_max_tokens <= 0) return n;
  return std::min(n, std::max<int64_t>(0, cfg_.student_max_tokens - int64_t(t.prompt_ids.size())));
}

TokenCounts GrpoMethod::count_tokens(const Batch& b) const {
  TokenCounts c;
  for (const auto& t : b.trajectories) c.main += double(trained_tokens(t));
  return c;
}

LossOutput GrpoMethod::loss(Scorer& student, const Batch& b, const TokenCounts& global, int64_t) const {
  const bool with_ref = cfg_.clip.kl_coef > 0;
  SDZ_CHECK(!with_ref || b.signals.size() == b.trajectories.size(),
            "grpo.kl_coef > 0 needs one reference signal per trajectory", "algo::grpo::loss");
  GradAccumulator grads(global.main > 0 ? 1.0 / global.main : 0.0);
  RowBatch rows(student, grads, cfg_.chunk_rows, cfg_.micro_batch_tokens);
  double tokens = 0, clipped = 0, kl = 0;
  for (size_t i = 0; i < b.trajectories.size(); ++i) {
    const Trajectory& t = b.trajectories[i];
    const int64_t n = trained_tokens(t);
    if (n == 0) continue;
    SDZ_CHECK(t.logprobs.size() == t.response_ids.size(), "trajectory of question " + std::to_string(t.question_id) +
                                                   " has " + std::to_string(t.logprobs.size()) +
                                                   " sampling log-probs for " + std::to_string(t.response_ids.size()) + " tokens",
              "algo::grpo::loss", "the rollout must record the log-prob of every sampled token");
    Ids ids = t.prompt_ids;
    ids.insert(ids.end(), t.response_ids.begin(), t.response_ids.begin() + n);
    auto targets = torch::tensor(std::vector<int64_t>(t.response_ids.begin(), t.response_ids.begin() + n), torch::kLong);
    const torch::Tensor old = torch::tensor(std::vector<float>(t.logprobs.begin(), t.logprobs.begin() + n), torch::kFloat);
    const torch::Tensor ref = with_ref ? b.signals[i].token_logprobs : torch::Tensor();
    // Runs at the micro-batch's flush: the per-sequence tensors are captured by value.
    auto surrogate = [&, targets, old, ref, advantage = t.advantage](const torch::Tensor& z, int64_t b, int64_t e) {
      auto lp = token_logprobs(z, targets.slice(0, b, e), cfg_.sampling.temperature);
      auto terms = clipped_surrogate(lp, old.slice(0, b, e), advantage,
                                     ref.defined() ? ref.slice(0, b, e) : ref, cfg_.clip);
      clipped += terms.clipped.sum().item<double>();
      kl += terms.kl.sum().item<double>();
      return terms.loss.sum();
    };
    rows.add(std::move(ids), int64_t(t.prompt_ids.size()) - 1, n, surrogate);
    tokens += double(n);
  }
  const torch::Tensor total = rows.finish();
  LossOutput out;
  out.loss = global.main > 0 ? total / global.main : total * 0.0;
  out.backward = grads.result();
  out.stats = {{"loss/surrogate_sum", total.item<double>()}, {"loss/tokens", tokens},
               {"grpo/clipped_tokens", clipped}, {"grpo/kl_sum", kl},
               {"samples/count", double(b.trajectories.size())}};
  return out;
}

}  // namespace sdz::algo
