// Teacher scoring of a layout (see scorer.hpp).
#include "sdzero/algo/scorer.hpp"

#include "sdzero/algo/chunked.hpp"
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
  const auto targets = targets_of(layout.scored_ids);
  std::vector<torch::Tensor> ids, vals, full, tok;
  for_each_logits_chunk(teacher, layout.teacher_ids, layout.teacher_row, n, opt.chunk_rows,
                        [&](const torch::Tensor& z, int64_t b, int64_t e) {
                          if (opt.mode == TeacherMode::TopK) {
                            auto [i, v] = teacher_topk(z, opt.top_k);
                            ids.push_back(i);
                            vals.push_back(v);
                          } else {
                            full.push_back(teacher_logprobs(z, opt.temperature));
                          }
                          if (opt.token_logprobs)
                            tok.push_back(token_logprobs(z, targets.slice(0, b, e), opt.temperature));
                        });
  if (opt.mode == TeacherMode::TopK) {
    sig.topk_ids = torch::cat(ids);
    sig.topk_logits = torch::cat(vals);
  } else {
    sig.full_logprobs = torch::cat(full);
  }
  if (opt.token_logprobs) sig.token_logprobs = torch::cat(tok);
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
