#include "sdzero/pipeline/model_scorer.hpp"

#include "sdzero/core/error.hpp"

namespace sdz::pipeline {

std::optional<algo::HeadView> ModelScorer::head(const algo::Ids& ids, int64_t row, int64_t n) {
  if (row < 0 || n < 0 || row + n > int64_t(ids.size()))
    throw Error("logits rows out of range of the sequence", "pipeline");
  torch::Tensor t = torch::tensor(std::vector<int64_t>(ids.begin(), ids.end()), torch::kInt64).unsqueeze(0);
  return algo::HeadView{m_.hidden(t).squeeze(0).narrow(0, row, n), m_.lm_head_weight()};
}

torch::Tensor ModelScorer::logits(const algo::Ids& ids, int64_t row, int64_t n) {
  // The vocabulary projection only for the rows asked for: the rest of the sequence is context.
  algo::HeadView h = *head(ids, row, n);
  return torch::matmul(h.hidden, h.weight.t());
}

}  // namespace sdz::pipeline
