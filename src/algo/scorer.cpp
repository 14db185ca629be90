// Teacher scoring of a layout (see scorer.hpp).
#include "sdzero/algo/scorer.hpp"

#include <algorithm>

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

namespace {

TeacherSignal empty_signal(const TeacherScoring& opt) {
  TeacherSignal sig;
  sig.topk_ids = torch::zeros({0, opt.top_k}, torch::kLong);
  sig.topk_logits = torch::zeros({0, opt.top_k}, torch::kFloat);
  sig.token_logprobs = torch::zeros({0}, torch::kFloat);
  return sig;
}

// One layout's signal, built chunk by chunk from the logits of its scored rows.
struct SignalParts {
  const TeacherScoring& opt;
  torch::Tensor targets;
  std::vector<torch::Tensor> ids, vals, full, tok;
  void add(const torch::Tensor& z, int64_t b, int64_t e) {
    if (opt.mode == TeacherMode::TopK) {
      auto [i, v] = teacher_topk(z, opt.top_k);
      ids.push_back(i);
      vals.push_back(v);
    } else {
      full.push_back(teacher_logprobs(z, opt.temperature));
    }
    if (opt.token_logprobs) tok.push_back(token_logprobs(z, targets.slice(0, b, e), opt.temperature));
  }
  TeacherSignal finish() {
    TeacherSignal sig;
    if (opt.mode == TeacherMode::TopK) {
      sig.topk_ids = torch::cat(ids);
      sig.topk_logits = torch::cat(vals);
    } else {
      sig.full_logprobs = torch::cat(full);
    }
    if (opt.token_logprobs) sig.token_logprobs = torch::cat(tok);
    return sig;
  }
};

}  // namespace

TeacherSignal score_teacher(Scorer& teacher, const ScoredLayout& layout, const TeacherScoring& opt) {
  const int64_t n = layout.n_scored();
  torch::NoGradGuard ng;
  if (n == 0) return empty_signal(opt);
  SignalParts parts{opt, targets_of(layout.scored_ids), {}, {}, {}, {}};
  for_each_logits_chunk(teacher, layout.teacher_ids, layout.teacher_row, n, opt.chunk_rows,
                        [&](const torch::Tensor& z, int64_t b, int64_t e) { parts.add(z, b, e); });
  return parts.finish();
}

std::vector<TeacherSignal> score_teachers(Scorer& teacher, const std::vector<ScoredLayout>& layouts,
                                          const TeacherScoring& opt) {
  torch::NoGradGuard ng;
  std::vector<TeacherSignal> out(layouts.size());
  // Micro-batches as the learner's (RowBatch): layouts within one chunk share a padded forward.
  const MicroBatchCaps caps{opt.chunk_rows, opt.micro_batch_tokens};
  std::vector<size_t> group;
  int64_t longest = 0, rows = 0;
  auto flush = [&] {
    std::vector<RowSpan> spans;
    for (size_t i : group) spans.push_back({&layouts[i].teacher_ids, layouts[i].teacher_row, layouts[i].n_scored()});
    std::optional<torch::Tensor> z = group.size() > 1 ? stacked_logits(teacher, spans) : std::nullopt;
    int64_t off = 0;
    for (size_t i : group) {
      if (!z) {
        out[i] = score_teacher(teacher, layouts[i], opt);
        continue;
      }
      const int64_t n = layouts[i].n_scored();
      SignalParts parts{opt, targets_of(layouts[i].scored_ids), {}, {}, {}, {}};
      parts.add(z->narrow(0, off, n), 0, n);
      out[i] = parts.finish();
      off += n;
    }
    group.clear();
    longest = rows = 0;
  };
  for (size_t i = 0; i < layouts.size(); ++i) {
    const int64_t n = layouts[i].n_scored(), len = int64_t(layouts[i].teacher_ids.size());
    if (n == 0) {
      out[i] = empty_signal(opt);
      continue;
    }
    if (caps.alone(len, n)) {
      out[i] = score_teacher(teacher, layouts[i], opt);
      continue;
    }
    if (caps.full(int64_t(group.size()), longest, rows, len, n)) flush();
    longest = std::max(longest, len);
    rows += n;
    group.push_back(i);
  }
  if (!group.empty()) flush();
  return out;
}

torch::Tensor student_token_logprobs(Scorer& student, const ScoredLayout& layout) {
  torch::NoGradGuard ng;
  const int64_t n = layout.n_scored();
  if (n == 0) return torch::zeros({0}, torch::kFloat);
  auto z = checked_logits(student, layout.student_ids, layout.student_row, n, "algo::student_token_logprobs");
  return token_logprobs(z, targets_of(layout.scored_ids));
}

}  // namespace sdz::algo
