// Chunked lm_head: top-k and target log-probs equal those of full logits; chunked NLL equals the
// unchunked loss and gradients; logits_at gradients; the scoring engine and its micro-batching; the
// unlikelihood of one token per row.
#include <gtest/gtest.h>

#include <cmath>

#include "reference.hpp"
#include "sdzero/core/error.hpp"
#include "sdzero/model/lm_head.hpp"
#include "sdzero/model/score.hpp"

using namespace sdz::model;

namespace {

double maxdiff(const torch::Tensor& a, const torch::Tensor& b) { return (a - b).abs().max().item<double>(); }

TEST(LmHead, ChunkedTopkEqualsFullLogits) {
  auto h = torch::randn({23, 16}), W = torch::randn({50, 16});
  auto tg = torch::randint(0, 50, {23}, torch::kInt64);
  auto full = torch::matmul(h, W.t()) / 0.7;
  auto ref = torch::topk(full, 5);
  auto lp = torch::log_softmax(full, -1).gather(1, tg.view({-1, 1})).squeeze(1);
  for (int64_t chunk : {1, 4, 23, 100}) {
    auto tk = chunked_topk(h, W, 5, tg, 0.7, chunk);
    EXPECT_LT(maxdiff(tk.logits, std::get<0>(ref)), 1e-5);
    EXPECT_TRUE(torch::equal(tk.ids, std::get<1>(ref))) << chunk;
    EXPECT_LT(maxdiff(tk.target_logprobs, lp), 1e-5);
  }
}

TEST(LmHead, ChunkedNllEqualsUnchunkedLossAndGrads) {
  auto h0 = torch::randn({19, 12}, torch::kFloat64), W0 = torch::randn({31, 12}, torch::kFloat64);
  auto tg = torch::randint(0, 31, {19}, torch::kInt64);
  auto w = torch::rand({19}, torch::kFloat64);
  w[3] = 0;
  auto h1 = h0.clone().requires_grad_(true), W1 = W0.clone().requires_grad_(true);
  auto ref = -(torch::log_softmax(torch::matmul(h1, W1.t()), -1).gather(1, tg.view({-1, 1})).squeeze(1) * w).sum();
  ref.backward();
  for (auto passes : {NllPasses::Many, NllPasses::Few})
  for (int64_t chunk : {1, 5, 19, 64}) {
    auto h2 = h0.clone().requires_grad_(true), W2 = W0.clone().requires_grad_(true);
    auto loss = chunked_nll(h2, W2, tg, w, chunk, passes);
    (loss * 1.5).backward();  // the upstream gradient is honoured
    EXPECT_NEAR(loss.item<double>(), ref.item<double>(), 1e-10);
    EXPECT_LT(maxdiff(h2.grad(), h1.grad() * 1.5), 1e-10) << chunk;
    EXPECT_LT(maxdiff(W2.grad(), W1.grad() * 1.5), 1e-10) << chunk;
  }
  // Only W needs a gradient: still exact for W.
  for (auto passes : {NllPasses::Many, NllPasses::Few}) {
    auto W3 = W0.clone().requires_grad_(true);
    chunked_nll(h0, W3, tg, w, 4, passes).backward();
    EXPECT_LT(maxdiff(W3.grad(), W1.grad()), 1e-10);
  }
  // Auto on the CPU is Many, bit for bit (the demo's published numbers were made with it).
  auto h4 = h0.to(torch::kFloat32).requires_grad_(true), h5 = h0.to(torch::kFloat32).requires_grad_(true);
  auto W4 = W0.to(torch::kFloat32);
  auto l4 = chunked_nll(h4, W4, tg, w.to(torch::kFloat32), 5);
  auto l5 = chunked_nll(h5, W4, tg, w.to(torch::kFloat32), 5, NllPasses::Many);
  l4.backward(), l5.backward();
  EXPECT_TRUE(torch::equal(l4, l5) && torch::equal(h4.grad(), h5.grad()));
}

TEST(LmHead, LogitsAtGradients) {
  auto h0 = torch::randn({9, 8}, torch::kFloat64), W0 = torch::randn({20, 8}, torch::kFloat64);
  auto ids = torch::randint(0, 20, {9, 4}, torch::kInt64);
  ids[0][1] = ids[0][0];  // repeated ids accumulate
  auto g = torch::randn({9, 4}, torch::kFloat64);
  auto h1 = h0.clone().requires_grad_(true), W1 = W0.clone().requires_grad_(true);
  auto ref = torch::matmul(h1, W1.t()).gather(1, ids);
  (ref * g).sum().backward();
  auto h2 = h0.clone().requires_grad_(true), W2 = W0.clone().requires_grad_(true);
  auto out = logits_at(h2, W2, ids, 2);
  (out * g).sum().backward();
  EXPECT_LT(maxdiff(out, ref), 1e-12);
  EXPECT_LT(maxdiff(h2.grad(), h1.grad()), 1e-12);
  EXPECT_LT(maxdiff(W2.grad(), W1.grad()), 1e-12);
}

TEST(Score, MatchesFullForwardOnSpans) {
  Transformer m(testref::tiny(Family::Qwen3));
  m.init_random(4, 0.2);
  std::vector<ScoreItem> items;
  for (int i = 0; i < 5; ++i) {
    ScoreItem it;
    for (int t = 0; t < 6 + 3 * i; ++t) it.ids.push_back((t * 5 + i * 11) % 37);
    it.begin = 2 + i % 2;
    it.end = i == 3 ? 0 : int64_t(it.ids.size()) - 1;
    items.push_back(it);
  }
  ScoreOptions o;
  o.top_k = 6;
  o.temperature = 0.8;
  o.token_budget = 30;  // forces several micro-batches
  o.chunk_rows = 3;
  auto got = score(m, items, o);
  for (size_t i = 0; i < items.size(); ++i) {
    const auto& it = items[i];
    const int64_t end = it.end == 0 ? int64_t(it.ids.size()) : it.end;
    auto ids = torch::tensor(std::vector<int64_t>(it.ids.begin(), it.ids.end())).unsqueeze(0);
    auto lg = m.logits(ids).squeeze(0) / 0.8;
    auto pred = lg.narrow(0, it.begin - 1, end - it.begin);
    auto tk = torch::topk(pred, 6);
    auto tg = ids.squeeze(0).narrow(0, it.begin, end - it.begin);
    auto lp = torch::log_softmax(pred, -1).gather(1, tg.view({-1, 1})).squeeze(1);
    ASSERT_EQ(got[i].topk_logits.size(0), end - it.begin);
    EXPECT_LT(maxdiff(got[i].topk_logits, std::get<0>(tk)), 1e-5);
    EXPECT_TRUE(torch::equal(got[i].topk_ids, std::get<1>(tk)));
    EXPECT_LT(maxdiff(got[i].target_logprobs, lp), 1e-5);
  }
  ScoreItem bad;
  bad.ids = {1, 2};
  bad.begin = 0;
  EXPECT_THROW(score(m, {bad}, o), sdz::Error);
}

TEST(Score, PackByLength) {
  std::vector<int64_t> lens{5, 50, 7, 20, 20, 3, 100};
  auto b = pack_by_length(lens, 60);
  std::vector<int> seen(lens.size(), 0);
  for (const auto& batch : b) {
    int64_t mx = 0;
    for (size_t i : batch) mx = std::max(mx, lens[i]), seen[i]++;
    if (batch.size() > 1) {
      EXPECT_LE(int64_t(batch.size()) * mx, 60);
    }
  }
  for (int s : seen) EXPECT_EQ(s, 1);
  EXPECT_EQ(b[0], std::vector<size_t>{6});  // longer than the budget: alone
}

TEST(Train, MaskedNllEqualsFullLogits) {
  Transformer m(testref::tiny(Family::Olmo3));
  m.init_random(2, 0.2);
  m.set_requires_grad(true);
  auto ids = torch::randint(0, 37, {3, 9}, torch::kInt64);
  auto w = torch::ones({3, 9});
  w.narrow(1, 0, 3).zero_();  // prompt
  w[2].narrow(0, 6, 3).zero_();  // padding
  auto loss = masked_nll(m, ids, w, true, 4);
  loss.backward();
  std::vector<torch::Tensor> g;
  for (auto& p : m.parameters()) g.push_back(p.grad().clone()), p.mutable_grad() = torch::Tensor();
  auto lp = torch::log_softmax(m.logits(ids), -1).narrow(1, 0, 8).gather(2, ids.narrow(1, 1, 8).unsqueeze(2)).squeeze(2);
  auto ref = -(lp * w.narrow(1, 1, 8)).sum();
  ref.backward();
  EXPECT_NEAR(loss.item<double>(), ref.item<double>(), 1e-4);
  auto ps = m.parameters();
  for (size_t i = 0; i < ps.size(); ++i) EXPECT_LT(maxdiff(g[i], ps[i].grad()), 1e-4) << m.named_parameters()[i].first;
}

// The unlikelihood of one token per row against the full logits of the reference forward (fp64),
// loss and every parameter gradient; a certain token is capped, not infinite.
TEST(Train, MaskedUnlikelihoodEqualsFullLogits) {
  Transformer m(testref::tiny(Family::Qwen3));
  m.init_random(3, 0.2);
  m.set_requires_grad(true);
  auto ids = torch::randint(0, 37, {3, 7}, torch::kInt64);
  auto at = torch::tensor({6, 2, 4}, torch::kInt64), avoid = torch::tensor({5, 0, 36}, torch::kInt64);
  auto w = torch::tensor({1.0f, 0.5f, 2.0f});
  auto loss = masked_unlikelihood(m, ids, at, avoid, w);
  loss.backward();
  std::vector<torch::Tensor> g;
  for (auto& p : m.parameters()) g.push_back(p.grad().clone()), p.mutable_grad() = torch::Tensor();
  torch::Tensor ref = torch::zeros({}, torch::kFloat64);
  for (int64_t b = 0; b < 3; ++b) {
    std::vector<int64_t> row(ids[b].data_ptr<int64_t>(), ids[b].data_ptr<int64_t>() + 7);
    auto p = torch::softmax(testref::logits(m, row)[at[b].item<int64_t>()], -1)[avoid[b].item<int64_t>()];
    ref = ref - w[b].item<double>() * torch::log(1 - p);
  }
  auto ps = m.parameters();
  // the reference's gradient is in fp64 through the written-out forward; compare with the model's fp32
  for (auto& p : ps) p.mutable_grad() = torch::Tensor();
  auto ref32 = torch::zeros({}, torch::kFloat32);
  for (int64_t b = 0; b < 3; ++b) {
    auto lp = torch::log_softmax(m.logits(ids.narrow(0, b, 1))[0][at[b].item<int64_t>()], -1)[avoid[b].item<int64_t>()];
    ref32 = ref32 - w[b].item<float>() * torch::log(1 - torch::exp(lp));
  }
  ref32.backward();
  EXPECT_NEAR(loss.item<double>(), ref.item<double>(), 1e-5);
  for (size_t i = 0; i < ps.size(); ++i) EXPECT_LT(maxdiff(g[i], ps[i].grad()), 1e-5) << m.named_parameters()[i].first;
  // p -> 1: the cap keeps the loss finite (-log 1e-6 = 13.8 per unit weight).
  torch::NoGradGuard ng;
  auto sure = masked_unlikelihood(m, ids.narrow(0, 0, 1), at.narrow(0, 0, 1), avoid.narrow(0, 0, 1), torch::tensor({1.0f}));
  EXPECT_TRUE(std::isfinite(sure.item<double>()));
  EXPECT_THROW(masked_unlikelihood(m, ids, torch::tensor({7, 0, 0}, torch::kInt64), avoid, w), sdz::Error);
  EXPECT_THROW(masked_unlikelihood(m, ids, at, torch::tensor({37, 0, 0}, torch::kInt64), w), sdz::Error);
}

// One forward for both terms equals the two separate ones: rows with NLL weights only, the
// unlikelihood only (at >= 0, zero weights), or both; loss and every parameter gradient.
TEST(Train, NllAndUnlikelihoodInOneForwardEqualTheSeparateOnes) {
  Transformer m(testref::tiny(Family::Olmo3));
  m.init_random(4, 0.2);
  m.set_requires_grad(true);
  auto ids = torch::randint(0, 37, {4, 8}, torch::kInt64);
  auto w = torch::ones({4, 8});
  w.narrow(1, 0, 2).zero_();
  w[1].zero_();                          // row 1: unlikelihood only
  auto at = torch::tensor({-1, 5, 3, -1}, torch::kInt64);  // rows 0 and 3: NLL only; row 2: both
  auto avoid = torch::tensor({0, 7, 36, 0}, torch::kInt64), uw = torch::tensor({0.f, 1.5f, 0.5f, 0.f});
  auto both = masked_nll_unlikelihood(m, ids, w, at, avoid, uw);
  (both.nll + both.unlikelihood).backward();
  std::vector<torch::Tensor> g;
  for (auto& p : m.parameters()) g.push_back(p.grad().clone()), p.mutable_grad() = torch::Tensor();
  auto nll = masked_nll(m, ids, w);
  auto rows = torch::tensor({1, 2}, torch::kInt64);
  auto ul = masked_unlikelihood(m, ids.index_select(0, rows), at.index_select(0, rows), avoid.index_select(0, rows),
                                uw.index_select(0, rows));
  (nll + ul).backward();
  EXPECT_NEAR(both.nll.item<double>(), nll.item<double>(), 1e-5);
  EXPECT_NEAR(both.unlikelihood.item<double>(), ul.item<double>(), 1e-6);
  EXPECT_GT(ul.item<double>(), 0);
  auto ps = m.parameters();
  for (size_t i = 0; i < ps.size(); ++i) EXPECT_LT(maxdiff(g[i], ps[i].grad()), 1e-5) << m.named_parameters()[i].first;
  // No unlikelihood rows: exactly masked_nll's value; no weighted target: a zero NLL that still backpropagates.
  auto none = masked_nll_unlikelihood(m, ids, w, torch::full({4}, -1, torch::kInt64), avoid, uw);
  EXPECT_EQ(none.nll.item<float>(), masked_nll(m, ids, w).item<float>());
  EXPECT_EQ(none.unlikelihood.item<float>(), 0.f);
  auto only = masked_nll_unlikelihood(m, ids, torch::zeros({4, 8}), at, avoid, uw);
  EXPECT_EQ(only.nll.item<float>(), 0.f);
  EXPECT_NO_THROW((only.nll + only.unlikelihood).backward());
  EXPECT_THROW(masked_nll_unlikelihood(m, ids, w, torch::tensor({-1, 8, 3, -1}, torch::kInt64), avoid, uw), sdz::Error);
}

}  // namespace
