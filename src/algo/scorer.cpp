// Teacher scoring of a layout (see scorer.hpp).
#include "sdzero/algo/scorer.hpp"

#include "sdzero/algo/losses.hpp"
#include "sdzero/core/error.hpp"

namespace sdz::algo {

TeacherMode parse_teacher_mode(const std::string& s) {
  if (s == "topk") return TeacherMode::TopK;
  if (s == "full") return TeacherMode::Full;
  throw Error("unknown teacher mode '" + s + "'", "distill.mode", "use topk or full");
}

namespace {
torch::Tensor targets_of(const Ids& ids) {
  return torch::tensor(std::vector<int64_t>(ids.begin(), ids.end()), torch::kLong);
}
torch::Tensor checked_logits(Scorer& m, const Ids& ids, int64_t row, int64_t n, const char* where) {
  auto z = m.logits(ids, row, n);
  SDZ_CHECK(z.dim() == 2 && z.size(0) == n, "the model returned logits of the wrong shape", where,
            "Scorer::logits(ids, row, n) must return [n, V]");
  return z;
}
}  // namespace

TeacherSignal score_teacher(Scorer& teacher, const ScoredLayout& layout, const TeacherScoring& opt) {
  TeacherSignal sig;
  const int64_t n = layout.n_scored();
  torch::NoGradGuard ng;
  if (n == 0) {
    sig.topk_ids = torch::zeros({0, opt.top_k}, torch::kLong);
    sig.topk_logits = torch::zeros({0, opt.top_k}, torch::kFloat);
    sig.token_logprobs = torch::zeros({0}, torch::kFloat);
    return sig;
  }
  auto z = checked_logits(teacher, layout.teacher_ids, layout.teacher_row, n, "algo::score_teacher");
  if (opt.mode == TeacherMode::TopK) {
    std::tie(sig.topk_ids, sig.topk_logits) = teacher_topk(z, opt.top_k);
  } else {
    sig.full_logprobs = teacher_logprobs(z, opt.temperature);
  }
  if (opt.token_logprobs) sig.token_logprobs = token_logprobs(z, targets_of(layout.scored_ids), opt.temperature);
  return sig;
}

torch::Tensor student_token_logprobs(Scorer& student, const ScoredLayout& layout) {
  torch::NoGradGuard ng;
  const int64_t n = layout.n_scored();
  if (n == 0) return torch::zeros({0}, torch::kFloat);
  auto z = checked_logits(student, layout.student_ids, layout.student_row, n, "algo::student_token_logprobs");
  return token_logprobs(z, targets_of(layout.scored_ids));
}

}  // namespace sdz::algo
