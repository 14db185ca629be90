#include "sdzero/pipeline/model_scorer.hpp"

#include <algorithm>

#include "sdzero/core/error.hpp"
#include "sdzero/model/cpu_matmul.hpp"

namespace sdz::pipeline {

std::optional<algo::HeadView> ModelScorer::head(const algo::Ids& ids, int64_t row, int64_t n) {
  if (row < 0 || n < 0 || row + n > int64_t(ids.size()))
    throw Error("logits rows out of range of the sequence", "pipeline");
  torch::Tensor t = torch::tensor(std::vector<int64_t>(ids.begin(), ids.end()), torch::kInt64).unsqueeze(0);
  return algo::HeadView{m_.hidden(t).squeeze(0).narrow(0, row, n), m_.lm_head_weight()};
}

std::optional<std::vector<algo::HeadView>> ModelScorer::heads(const std::vector<algo::RowSpan>& spans) {
  int64_t T = 0;
  for (const auto& sp : spans) {
    if (!sp.ids || sp.row < 0 || sp.n < 0 || sp.row + sp.n > int64_t(sp.ids->size()))
      throw Error("logits rows out of range of the sequence", "pipeline");
    T = std::max<int64_t>(T, int64_t(sp.ids->size()));
  }
  // Padding with token 0 after each sequence: causal attention keeps it out of every real row.
  std::vector<int64_t> flat(spans.size() * size_t(T), 0);
  for (size_t b = 0; b < spans.size(); ++b)
    std::copy(spans[b].ids->begin(), spans[b].ids->end(), flat.begin() + long(b * size_t(T)));
  torch::Tensor t = torch::tensor(flat, torch::kInt64).view({int64_t(spans.size()), T});
  torch::Tensor h = m_.hidden(t);
  std::vector<algo::HeadView> out;
  for (size_t b = 0; b < spans.size(); ++b)
    out.push_back({h[int64_t(b)].narrow(0, spans[b].row, spans[b].n), m_.lm_head_weight()});
  return out;
}

torch::Tensor ModelScorer::logits(const algo::Ids& ids, int64_t row, int64_t n) {
  // The vocabulary projection only for the rows asked for: the rest of the sequence is context.
  algo::HeadView h = *head(ids, row, n);
  return model::linear(h.hidden, h.weight);
}

}  // namespace sdz::pipeline
