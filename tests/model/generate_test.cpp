// Generation engine: keyed randomness (slot, batch and order do not matter), continuous batching,
// stop ids, max new tokens, greedy decoding against the full forward, sampling distributions.
#include <gtest/gtest.h>

#include <map>

#include "reference.hpp"
#include "sdzero/core/error.hpp"
#include "sdzero/core/rng.hpp"
#include "sdzero/model/generate.hpp"

using namespace sdz::model;

namespace {

std::vector<GenRequest> requests(int n) {
  std::vector<GenRequest> r;
  for (int i = 0; i < n; ++i)
    r.push_back({uint64_t(100 + i / 2), uint64_t(i % 2), {int32_t(1 + i % 5), int32_t(3 + i % 7), 2}});
  return r;
}

TEST(Generate, ResultDoesNotDependOnSlotOrBatch) {
  Transformer m(testref::tiny(Family::Qwen3));
  m.init_random(21, 0.3);
  SamplingParams sp;
  sp.max_new_tokens = 9;
  sp.seed = 77;
  sp.top_p = 0.95;
  sp.stop_ids = {0};
  auto reqs = requests(7);
  GenerationEngine one(m, 1), three(m, 3);
  auto a = one.generate(reqs, sp);
  auto b = three.generate(reqs, sp);
  auto rev = reqs;
  std::reverse(rev.begin(), rev.end());
  auto c = three.generate(rev, sp);  // different slots and neighbours
  for (size_t i = 0; i < reqs.size(); ++i) {
    EXPECT_EQ(a[i].tokens, b[i].tokens) << i;
    EXPECT_EQ(a[i].tokens, c[reqs.size() - 1 - i].tokens) << i;
    EXPECT_EQ(a[i].question_id, reqs[i].question_id);
    for (size_t t = 0; t < a[i].tokens.size(); ++t) EXPECT_NEAR(a[i].logprobs[t], b[i].logprobs[t], 1e-4);
  }
  // Another sample index of the same question draws differently (with overwhelming probability).
  EXPECT_NE(a[0].tokens, a[1].tokens);
  // Continuous batching ran: 7 requests through 3 slots took more than one prefill.
  EXPECT_GT(three.stats().prefills, 1);
  // The completion hook sees every response finish once, counting up to the total, and changes nothing.
  std::vector<std::pair<size_t, size_t>> calls;
  three.on_finished([&](size_t done, size_t total) { calls.push_back({done, total}); });
  auto d = three.generate(reqs, sp);
  ASSERT_EQ(calls.size(), reqs.size());
  for (size_t i = 0; i < calls.size(); ++i) EXPECT_EQ(calls[i], std::make_pair(i + 1, reqs.size()));
  for (size_t i = 0; i < reqs.size(); ++i) EXPECT_EQ(d[i].tokens, b[i].tokens) << i;
}

TEST(Generate, GreedyFollowsFullForwardAndLogprobs) {
  Transformer m(testref::tiny(Family::Olmo3));
  m.init_random(8, 0.3);
  SamplingParams sp;
  sp.temperature = 0;
  sp.max_new_tokens = 10;  // prompt 3 + 10 > sliding window 4: exercises the window in decode
  GenerationEngine g(m, 2);
  auto reqs = requests(3);
  auto out = g.generate(reqs, sp);
  for (size_t i = 0; i < out.size(); ++i) {
    std::vector<int64_t> ids(reqs[i].prompt.begin(), reqs[i].prompt.end());
    const size_t p = ids.size();
    ids.insert(ids.end(), out[i].tokens.begin(), out[i].tokens.end());
    auto lp = torch::log_softmax(m.logits(torch::tensor(ids).unsqueeze(0)).squeeze(0), -1);
    ASSERT_EQ(out[i].tokens.size(), 10u);
    for (size_t t = 0; t < out[i].tokens.size(); ++t) {
      auto row = lp[int64_t(p + t - 1)];
      EXPECT_EQ(row.argmax().item<int64_t>(), out[i].tokens[t]) << i << " " << t;
      EXPECT_NEAR(out[i].model_logprobs[t], row[out[i].tokens[t]].item<double>(), 1e-4);
    }
  }
}

TEST(Generate, SampledLogprobsMatchTemperatureSoftmax) {
  Transformer m(testref::tiny(Family::Qwen3));
  m.init_random(8, 0.3);
  SamplingParams sp;
  sp.temperature = 0.7;
  sp.max_new_tokens = 6;
  GenerationEngine g(m, 4);
  auto reqs = requests(5);
  auto out = g.generate(reqs, sp);
  for (size_t i = 0; i < out.size(); ++i) {
    std::vector<int64_t> ids(reqs[i].prompt.begin(), reqs[i].prompt.end());
    const size_t p = ids.size();
    ids.insert(ids.end(), out[i].tokens.begin(), out[i].tokens.end());
    auto lp = torch::log_softmax(m.logits(torch::tensor(ids).unsqueeze(0)).squeeze(0) / 0.7, -1);
    for (size_t t = 0; t < out[i].tokens.size(); ++t) {
      EXPECT_NEAR(out[i].logprobs[t], lp[int64_t(p + t - 1)][out[i].tokens[t]].item<double>(), 1e-4);
      EXPECT_FLOAT_EQ(out[i].logprobs[t], out[i].model_logprobs[t]);  // no truncation
    }
  }
}

TEST(Generate, StopIdsAndMaxNewTokens) {
  Transformer m(testref::tiny(Family::Qwen3));
  m.init_random(8, 0.3);
  SamplingParams sp;
  sp.temperature = 0;
  sp.max_new_tokens = 5;
  GenerationEngine g(m, 2);
  auto free_run = g.generate(requests(2), sp);
  ASSERT_EQ(free_run[0].tokens.size(), 5u);
  EXPECT_FALSE(free_run[0].stopped);
  sp.stop_ids = {free_run[0].tokens[2]};
  auto stopped = g.generate(requests(2), sp);
  ASSERT_LE(stopped[0].tokens.size(), 3u);
  EXPECT_TRUE(stopped[0].stopped);
  EXPECT_EQ(stopped[0].tokens.back(), free_run[0].tokens[2]);
  GenRequest bad{1, 0, {999}};
  EXPECT_THROW(g.generate({bad}, sp), sdz::Error);
}

TEST(Sampling, TopKTopPAndDistribution) {
  auto logits = torch::tensor({2.0f, 1.0f, 0.5f, -1.0f, 3.0f});
  SamplingParams sp;
  sp.top_k = 2;
  std::map<int32_t, int> count;
  sdz::Rng rng(5);
  for (int i = 0; i < 4000; ++i) count[sample_token(logits, sp, rng.uniform()).token]++;
  EXPECT_EQ(count.size(), 2u);  // only ids 4 and 0
  const double p4 = std::exp(3.0) / (std::exp(3.0) + std::exp(2.0));
  EXPECT_NEAR(count[4] / 4000.0, p4, 0.03);
  auto d = sample_token(logits, sp, 0.0);
  EXPECT_EQ(d.token, 4);
  EXPECT_NEAR(d.logprob, std::log(p4), 1e-5);
  EXPECT_NEAR(d.model_logprob, (logits[4] - logits.logsumexp(0)).item<double>(), 1e-5);
  SamplingParams tp;
  tp.top_p = 0.5;  // p(4) = 0.59 alone reaches 0.5
  for (double u : {0.0, 0.5, 0.999}) EXPECT_EQ(sample_token(logits, tp, u).token, 4);
  SamplingParams all;
  EXPECT_EQ(sample_token(logits, all, 0.0).token, 0);     // inverse CDF in id order
  EXPECT_EQ(sample_token(logits, all, 0.9999).token, 4);
}

}  // namespace
