// ModelScorer::heads: several sequences right-padded into one forward give each sequence the hidden
// rows (and so the logits) of its own forward, for both families (Olmo-3 with a sliding layer), and
// carry gradients to the model.
#include <gtest/gtest.h>

#include "sdzero/core/error.hpp"
#include "sdzero/model/transformer.hpp"
#include "sdzero/pipeline/model_scorer.hpp"
#include "tiny_model.hpp"

using namespace sdz;

namespace {

model::ModelConfig tiny(model::Family family) {
  model::ModelConfig mc = sdz::test::tiny_model_config(23);
  mc.family = family;
  if (family == model::Family::Olmo3) {
    mc.sliding_window = 4;
    mc.sliding_layers = {true, false};
  }
  return mc;
}

}  // namespace

TEST(ModelScorerHeads, PaddedForwardEqualsOneForwardPerSequence) {
  for (model::Family family : {model::Family::Qwen3, model::Family::Olmo3}) {
    model::Transformer m(tiny(family));
    m.init_random(7, 0.5);
    m.set_requires_grad(true);
    pipeline::ModelScorer s(m);
    const std::vector<algo::Ids> seqs = {{1, 5, 9, 2, 7, 3, 3}, {4, 4, 8, 1, 2, 6, 9, 11, 15, 3, 2, 1}, {6, 2, 5}};
    std::vector<algo::RowSpan> spans = {{&seqs[0], 2, 4}, {&seqs[1], 0, 12}, {&seqs[2], 1, 2}};
    auto hv = s.heads(spans);
    ASSERT_TRUE(hv.has_value());
    ASSERT_EQ(hv->size(), 3u);
    for (size_t i = 0; i < seqs.size(); ++i) {
      auto one = s.head(seqs[i], spans[i].row, spans[i].n);
      ASSERT_TRUE(one.has_value());
      ASSERT_EQ((*hv)[i].hidden.sizes(), one->hidden.sizes());
      EXPECT_LT(((*hv)[i].hidden - one->hidden).abs().max().item<double>(), 1e-5)
          << model::family_name(family) << " sequence " << i;
      EXPECT_GT(one->hidden.abs().max().item<double>(), 1e-3);
      EXPECT_TRUE((*hv)[i].hidden.requires_grad());
    }
    // Gradients reach the parameters through the padded forward.
    auto loss = (*hv)[1].hidden.matmul((*hv)[1].weight.t()).logsumexp(1).sum();
    loss.backward();
    double g = 0;
    for (auto& p : m.parameters())
      if (p.grad().defined()) g += p.grad().abs().sum().item<double>();
    EXPECT_GT(g, 0) << model::family_name(family);
    // A span outside its sequence is refused by name.
    std::vector<algo::RowSpan> bad = {{&seqs[2], 2, 5}};
    EXPECT_THROW(s.heads(bad), Error);
  }
}
