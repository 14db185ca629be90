// defines: ModelScorer — the model layer's Transformer seen through algo/'s Scorer interface
// (logits rows of one sequence, and the parameter list), so methods never know the model class.
#pragma once
#include <torch/torch.h>

#include "sdzero/algo/scorer.hpp"
#include "sdzero/model/transformer.hpp"

namespace sdz::pipeline {

class ModelScorer : public algo::Scorer {
 public:
  explicit ModelScorer(model::Transformer& m) : m_(m) {}
  torch::Tensor logits(const algo::Ids& ids, int64_t row, int64_t n) override;
  std::vector<torch::Tensor> parameters() override { return m_.parameters(); }
  // Hidden rows + the output projection: losses and teacher top-k then run in row chunks.
  std::optional<algo::HeadView> head(const algo::Ids& ids, int64_t row, int64_t n) override;
  // Several sequences, right-padded into one [B, T] forward.
  std::optional<std::vector<algo::HeadView>> heads(const std::vector<algo::RowSpan>& spans) override;
  model::Transformer& model() { return m_; }

 private:
  model::Transformer& m_;
};

}  // namespace sdz::pipeline
