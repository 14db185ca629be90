// The fast transformer against the slow reference, batch/padding independence, KV-cache decoding and
// activation checkpointing.
#include <gtest/gtest.h>

#include <set>

#include "reference.hpp"
#include "sdzero/model/transformer.hpp"

using namespace sdz::model;

namespace {

std::vector<int64_t> seq(int64_t n, int64_t salt, int64_t vocab) {
  std::vector<int64_t> s;
  for (int64_t i = 0; i < n; ++i) s.push_back((i * 7 + salt * 13 + 3) % vocab);
  return s;
}

torch::Tensor row(const std::vector<int64_t>& s) { return torch::tensor(s, torch::kInt64).unsqueeze(0); }

double maxdiff(const torch::Tensor& a, const torch::Tensor& b) {
  return (a.to(torch::kFloat64) - b.to(torch::kFloat64)).abs().max().item<double>();
}

class Families : public ::testing::TestWithParam<Family> {};

TEST_P(Families, MatchesSlowReference) {
  Transformer m(testref::tiny(GetParam()));
  m.init_random(11, 0.2);
  auto ids = seq(12, 1, m.config().vocab_size);  // 12 > sliding window 4: the window matters
  auto fast = m.logits(row(ids)).squeeze(0);
  auto ref = testref::logits(m, ids);
  EXPECT_LT(maxdiff(fast, ref), 2e-4) << "fast forward disagrees with the reference";
  EXPECT_GT(ref.abs().max().item<double>(), 0.1);  // not trivially zero
}


TEST_P(Families, RowIndependentOfNeighboursAndPadding) {
  Transformer m(testref::tiny(GetParam()));
  m.init_random(5, 0.2);
  const int64_t V = m.config().vocab_size;
  auto a = seq(7, 2, V), b = seq(13, 3, V), c = seq(3, 4, V);
  auto alone = m.logits(row(a)).squeeze(0);
  auto batch = torch::zeros({3, 13}, torch::kInt64);
  batch.fill_(V - 1);  // padding with a real token id: must still not matter
  batch[0].narrow(0, 0, 13).copy_(torch::tensor(b));
  batch[1].narrow(0, 0, 7).copy_(torch::tensor(a));
  batch[2].narrow(0, 0, 3).copy_(torch::tensor(c));
  auto together = m.logits(batch)[1].narrow(0, 0, 7);
  EXPECT_LT(maxdiff(alone, together), 1e-5);
}

TEST_P(Families, KvCacheDecodeEqualsFullForward) {
  Transformer m(testref::tiny(GetParam()));
  m.init_random(7, 0.2);
  const int64_t V = m.config().vocab_size;
  auto s0 = seq(14, 5, V), s1 = seq(9, 6, V);
  const int64_t p0 = 4, p1 = 2;  // prompt lengths; the rest is fed one token at a time
  auto cache = m.make_cache(3, 16);  // slot 1 unused: stays inactive
  auto ids = torch::zeros({2, p0}, torch::kInt64);
  ids[0].copy_(torch::tensor(std::vector<int64_t>(s0.begin(), s0.begin() + p0)));
  ids[1].narrow(0, 0, p1).copy_(torch::tensor(std::vector<int64_t>(s1.begin(), s1.begin() + p1)));
  auto last = m.prefill(cache, ids, {p0, p1}, {0, 2});
  const auto& W = m.lm_head_weight();
  auto full0 = m.logits(row(s0)).squeeze(0), full1 = m.logits(row(s1)).squeeze(0);
  auto first = torch::matmul(last, W.t());
  EXPECT_LT(maxdiff(first[0], full0[p0 - 1]), 1e-5);
  EXPECT_LT(maxdiff(first[1], full1[p1 - 1]), 1e-5);
  double worst = 0;
  for (int64_t step = 0; step < 10; ++step) {
    const int64_t t0 = p0 + step, t1 = p1 + step;
    std::vector<bool> active{t0 < int64_t(s0.size()), false, t1 < int64_t(s1.size())};
    auto toks = torch::zeros({3}, torch::kInt64);
    if (active[0]) toks[0] = s0[size_t(t0)];
    if (active[2]) toks[2] = s1[size_t(t1)];
    auto h = m.decode(cache, toks, active);
    auto lg = torch::matmul(h, W.t());
    if (active[0]) worst = std::max(worst, maxdiff(lg[0], full0[t0]));
    if (active[2]) worst = std::max(worst, maxdiff(lg[2], full1[t1]));
  }
  EXPECT_LE(worst, 1e-5);
  EXPECT_EQ(cache.len[0], 14);
  EXPECT_EQ(cache.len[1], 0);
  EXPECT_EQ(cache.len[2], 9);
}

TEST_P(Families, CheckpointingGivesSameLossAndGrads) {
  Transformer m(testref::tiny(GetParam()));
  m.init_random(9, 0.2);
  m.set_requires_grad(true);
  auto ids = torch::randint(0, m.config().vocab_size, {2, 10}, torch::kInt64);
  std::vector<torch::Tensor> g[2];
  double loss[2];
  for (int ck = 0; ck < 2; ++ck) {
    for (auto& p : m.parameters()) p.mutable_grad() = torch::Tensor();
    auto l = m.hidden(ids, ck == 1).pow(2).mean() + m.logits(ids).logsumexp(-1).mean();
    l.backward();
    loss[ck] = l.item<double>();
    for (auto& p : m.parameters()) g[ck].push_back(p.grad().clone());
  }
  EXPECT_NEAR(loss[0], loss[1], 1e-6);
  for (size_t i = 0; i < g[0].size(); ++i) EXPECT_LT(maxdiff(g[0][i], g[1][i]), 1e-5) << m.named_parameters()[i].first;
}

// model.activation_checkpointing: the model-wide switch behaves as hidden(ids, true) for every
// training forward, and to() keeps values and requires_grad (a move to the same device here).
TEST_P(Families, ActivationCheckpointingSwitchAndTo) {
  Transformer m(testref::tiny(GetParam()));
  m.init_random(4, 0.2);
  m.set_requires_grad(true);
  auto ids = torch::randint(0, m.config().vocab_size, {2, 8}, torch::kInt64);
  auto ref = m.hidden(ids, true).detach();
  m.set_activation_checkpointing(true);
  EXPECT_TRUE(m.activation_checkpointing());
  auto h = m.hidden(ids);
  EXPECT_LT(maxdiff(h.detach(), ref), 1e-6);
  // The checkpointing function sits in the graph (a walk from the output's grad_fn).
  auto graph_has = [](const torch::Tensor& t, const std::string& what) {
    std::vector<torch::autograd::Node*> todo{t.grad_fn().get()};
    std::set<torch::autograd::Node*> seen;
    while (!todo.empty()) {
      auto* n = todo.back();
      todo.pop_back();
      if (!n || !seen.insert(n).second) continue;
      if (n->name().find(what) != std::string::npos) return true;
      for (const auto& e : n->next_edges()) todo.push_back(e.function.get());
    }
    return false;
  };
  EXPECT_TRUE(graph_has(h, "BlockCheckpoint"));
  m.set_activation_checkpointing(false);
  EXPECT_FALSE(graph_has(m.hidden(ids), "BlockCheckpoint"));
  m.set_activation_checkpointing(true);
  std::vector<torch::Tensor> before;
  for (const auto& p : m.parameters()) before.push_back(p.detach().clone());
  m.to(torch::Device(torch::kCPU));
  EXPECT_TRUE(m.device().is_cpu());
  auto after = m.parameters();
  for (size_t i = 0; i < after.size(); ++i) {
    EXPECT_TRUE(after[i].requires_grad()) << i;
    EXPECT_TRUE(after[i].is_leaf()) << i;
    EXPECT_TRUE(torch::equal(after[i], before[i])) << i;
  }
}

INSTANTIATE_TEST_SUITE_P(Model, Families, ::testing::Values(Family::Qwen3, Family::Olmo3),
                         [](const auto& info) { return std::string(family_name(info.param)); });

TEST(Olmo3, WindowAndYarnChangeTheOutput) {
  // The reference agreement above is only meaningful if the window and the scaling act.
  auto c = testref::tiny(Family::Olmo3);
  Transformer m(c);
  m.init_random(3, 0.3);
  auto ids = row(seq(12, 9, c.vocab_size));
  auto base = m.logits(ids);
  auto c2 = c;
  c2.sliding_window = 64;
  Transformer m2(c2);
  m2.copy_from(m);
  EXPECT_GT(maxdiff(base, m2.logits(ids)), 1e-3);
  auto c3 = c;
  c3.rope_scaling.type = "default";
  Transformer m3(c3);
  m3.copy_from(m);
  EXPECT_GT(maxdiff(base, m3.logits(ids)), 1e-3);
  // RoPE scaling is applied on the full layer only: sliding layer 0 sees default RoPE.
  EXPECT_FALSE(c.layer_uses_scaled_rope(0));
  EXPECT_TRUE(c.layer_uses_scaled_rope(1));
}

TEST(Yarn, InvFreqMatchesHandValues) {
  // d=8, theta 10000, factor 4, original 16, beta 32/1: correction range low=0, high=ceil(dim(1)).
  auto c = testref::tiny(Family::Olmo3);
  auto [inv, af] = rope_inv_freq(c, true);
  EXPECT_DOUBLE_EQ(af, 1.1);
  auto ref = testref::inv_freq(c, true);
  for (int64_t i = 0; i < 4; ++i) EXPECT_NEAR(inv[i].item<double>(), ref[size_t(i)], 1e-7);
  // The lowest frequency is fully interpolated (divided by the factor), the highest kept.
  EXPECT_NEAR(inv[0].item<double>(), 1.0, 1e-7);
  EXPECT_NEAR(inv[3].item<double>(), std::pow(10000.0, -6.0 / 8.0) / 4.0, 1e-7);
}

}  // namespace
