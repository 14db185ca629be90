// Per-token KL, NLL and reductions (see losses.hpp). Everything is computed in float32 whatever the
// logits' dtype, because bf16 log-softmax differences lose the small KL values we train on.
#include "sdzero/algo/losses.hpp"

#include <cmath>

#include "sdzero/core/error.hpp"

namespace sdz::algo {

namespace {
void check_rows(const torch::Tensor& a, const torch::Tensor& b, const char* where) {
  SDZ_CHECK(a.dim() == 2 && b.dim() >= 1 && a.size(0) == b.size(0),
            "row mismatch: [" + std::to_string(a.dim() ? a.size(0) : -1) + ", ...] vs [" +
                std::to_string(b.dim() ? b.size(0) : -1) + ", ...]",
            where, "logits rows must line up with the scored tokens (see algo/layout.hpp)");
}
void check_temperature(double t, const char* where) {
  SDZ_CHECK(t > 0, "temperature must be > 0, got " + std::to_string(t), where);
}
torch::Tensor combine(const torch::Tensor& s, const torch::Tensor& q, const KlOptions& opt) {
  auto forward = [&] { return (q.exp() * (q - s)).sum(-1); };
  auto reverse = [&] { return (s.exp() * (s - q)).sum(-1); };
  switch (opt.kind) {
    case KlKind::Forward: return forward();
    case KlKind::Reverse: return reverse();
    case KlKind::Mixed: return opt.forward_weight * forward() + (1.0 - opt.forward_weight) * reverse();
  }
  return forward();
}
}  // namespace

KlKind parse_kl_kind(const std::string& s) {
  if (s == "forward") return KlKind::Forward;
  if (s == "reverse") return KlKind::Reverse;
  if (s == "mixed") return KlKind::Mixed;
  throw Error("unknown KL kind '" + s + "'", "distill.kl", "use forward, reverse or mixed");
}

torch::Tensor topk_kl(const torch::Tensor& student_logits, const torch::Tensor& topk_ids,
                      const torch::Tensor& topk_logits, const KlOptions& opt) {
  check_rows(student_logits, topk_ids, "algo::topk_kl");
  SDZ_CHECK(topk_ids.sizes() == topk_logits.sizes(), "top-k ids and logits differ in shape", "algo::topk_kl");
  check_temperature(opt.teacher_temperature, "algo::topk_kl (teacher temperature)");
  check_temperature(opt.student_temperature, "algo::topk_kl (student temperature)");
  // Teacher signals arrive on the CPU (MPI buffers); the student may sit on a GPU.
  const auto dev = student_logits.device();
  auto z = student_logits.to(torch::kFloat).gather(1, topk_ids.to(dev, torch::kLong));
  auto s = torch::log_softmax(z / opt.student_temperature, -1);
  auto q = torch::log_softmax(topk_logits.detach().to(dev, torch::kFloat) / opt.teacher_temperature, -1);
  return combine(s, q, opt);
}

torch::Tensor full_kl(const torch::Tensor& student_logits, const torch::Tensor& teacher_logprobs,
                      const KlOptions& opt) {
  check_rows(student_logits, teacher_logprobs, "algo::full_kl");
  SDZ_CHECK(student_logits.sizes() == teacher_logprobs.sizes(), "student logits and teacher log-probs differ in shape",
            "algo::full_kl", "full mode needs the teacher's log-probs over the whole vocabulary");
  check_temperature(opt.student_temperature, "algo::full_kl (student temperature)");
  auto s = torch::log_softmax(student_logits.to(torch::kFloat) / opt.student_temperature, -1);
  return combine(s, teacher_logprobs.detach().to(student_logits.device(), torch::kFloat), opt);
}

torch::Tensor teacher_logprobs(const torch::Tensor& logits, double temperature) {
  check_temperature(temperature, "algo::teacher_logprobs");
  return torch::log_softmax(logits.detach().to(torch::kFloat) / temperature, -1);
}

std::pair<torch::Tensor, torch::Tensor> teacher_topk(const torch::Tensor& logits, int64_t k) {
  SDZ_CHECK(logits.dim() == 2 && k > 0, "teacher_topk needs logits [n, V] and k > 0", "algo::teacher_topk");
  auto r = logits.detach().topk(std::min<int64_t>(k, logits.size(1)), -1, /*largest=*/true, /*sorted=*/true);
  return {std::get<1>(r).to(torch::kLong), std::get<0>(r).to(torch::kFloat)};
}

torch::Tensor token_logprobs(const torch::Tensor& logits, const torch::Tensor& targets, double temperature) {
  check_rows(logits, targets, "algo::token_logprobs");
  check_temperature(temperature, "algo::token_logprobs");
  auto lp = torch::log_softmax(logits.to(torch::kFloat) / temperature, -1);
  return lp.gather(1, targets.to(logits.device(), torch::kLong).unsqueeze(1)).squeeze(1);
}

torch::Tensor token_nll(const torch::Tensor& logits, const torch::Tensor& targets) {
  return -token_logprobs(logits, targets, 1.0);
}

torch::Tensor token_unlikelihood(const torch::Tensor& logits, const torch::Tensor& avoid) {
  // log(1 - p) from log p without cancellation: log(-expm1(log p)) where p > 1/2, log1p(-p) below
  // (where 1 - p rounds to 1 in float32 and the first form would return 0 for a small p).
  auto logp = token_logprobs(logits, avoid, 1.0).clamp_max(std::log1p(-1e-6));
  const double half = -std::log(2.0);
  auto big = torch::log(-torch::expm1(logp.clamp_min(half))), small = torch::log1p(-torch::exp(logp.clamp_max(half)));
  return -torch::where(logp > half, big, small);
}

torch::Tensor token_mean(const torch::Tensor& per_token, const torch::Tensor& mask, double global_count) {
  SDZ_CHECK(per_token.sizes() == mask.sizes(), "per-token values and mask differ in shape", "algo::token_mean");
  SDZ_CHECK(global_count >= 0, "negative global token count", "algo::token_mean");
  auto total = (per_token * mask.to(per_token.device(), per_token.scalar_type())).sum();
  return global_count > 0 ? total / global_count : total * 0.0;
}

torch::Tensor token_mean(const torch::Tensor& per_token, double global_count) {
  return token_mean(per_token, torch::ones_like(per_token), global_count);
}

torch::Tensor self_localization(const torch::Tensor& student_logprobs, const torch::Tensor& teacher_logprobs) {
  SDZ_CHECK(student_logprobs.sizes() == teacher_logprobs.sizes(), "student and teacher log-prob vectors differ in length",
            "algo::self_localization");
  return (student_logprobs.detach().to(torch::kFloat) -
          teacher_logprobs.detach().to(student_logprobs.device(), torch::kFloat));
}

}  // namespace sdz::algo
