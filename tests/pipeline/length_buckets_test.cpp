// length_buckets: the grouping is the cheapest contiguous cut of the length-sorted rows (checked
// against trying every cut), covers every row once, and grouped batches give the same masked NLL
// and gradients as one padded batch (what pretraining relies on).
#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "sdzero/model/score.hpp"
#include "sdzero/model/transformer.hpp"
#include "sdzero/pipeline/length_buckets.hpp"
#include "tiny_model.hpp"

using namespace sdz;
using sdz::pipeline::length_buckets;
using sdz::pipeline::padded_cost;

namespace {

// The reference: every way to cut the sorted rows into contiguous groups (2^(n-1) of them).
int64_t brute_force_cost(std::vector<int64_t> lengths, int64_t price) {
  std::sort(lengths.begin(), lengths.end());
  const size_t n = lengths.size();
  int64_t best = -1;
  for (uint64_t mask = 0; mask < (uint64_t(1) << (n - 1)); ++mask) {
    int64_t cost = 0, count = 0;
    for (size_t i = 0; i < n; ++i) {
      ++count;
      const bool cut_after = i + 1 == n || ((mask >> i) & 1);
      if (cut_after) cost += count * lengths[i] + price, count = 0;
    }
    if (best < 0 || cost < best) best = cost;
  }
  return best;
}

}  // namespace

TEST(LengthBuckets, CheapestContiguousCutOfTheSortedRows) {
  std::mt19937 rng(5);
  for (int trial = 0; trial < 200; ++trial) {
    const size_t n = 1 + rng() % 11;
    std::vector<int64_t> lengths(n);
    for (auto& l : lengths) l = 1 + int64_t(rng() % 40);
    const int64_t price = int64_t(rng() % 64);
    const auto groups = length_buckets(lengths, price);
    // Every row exactly once; groups ordered by length and each a contiguous run of it.
    std::vector<int> seen(n, 0);
    int64_t prev_max = 0;
    for (const auto& g : groups) {
      ASSERT_FALSE(g.empty());
      int64_t lo = lengths[g.front()];
      int64_t hi = lo;
      for (size_t i : g) ++seen[i], lo = std::min(lo, lengths[i]), hi = std::max(hi, lengths[i]);
      EXPECT_GE(lo, prev_max);
      prev_max = hi;
    }
    for (size_t i = 0; i < n; ++i) EXPECT_EQ(seen[i], 1) << "row " << i;
    const int64_t cost = padded_cost(lengths, groups) + int64_t(groups.size()) * std::max<int64_t>(price, 1);
    EXPECT_EQ(cost, brute_force_cost(lengths, std::max<int64_t>(price, 1))) << "trial " << trial;
  }
}

TEST(LengthBuckets, PriceDecidesHowFarItSplits) {
  const std::vector<int64_t> lengths = {17, 40, 18, 39, 17, 41, 25, 24};
  EXPECT_EQ(length_buckets(lengths, 1000000).size(), 1u);
  EXPECT_TRUE(length_buckets({}, 32).empty());
  const auto g = length_buckets(lengths, 8);
  EXPECT_EQ(g.size(), 3u);  // 17-18, 24-25, 39-41
  EXPECT_LT(padded_cost(lengths, g), padded_cost(lengths, {{0, 1, 2, 3, 4, 5, 6, 7}}));
  EXPECT_EQ(padded_cost(lengths, g), 3 * 18 + 2 * 25 + 3 * 41);
}

TEST(LengthBuckets, GroupedBatchesGiveTheSameLossAndGradientAsOnePaddedBatch) {
  model::Transformer m(sdz::test::tiny_model_config(19));
  m.init_random(3, 0.5);
  m.set_requires_grad(true);
  std::mt19937 rng(11);
  std::vector<int64_t> lengths = {9, 23, 10, 31, 12, 22, 30, 9};
  std::vector<std::vector<int64_t>> ids(lengths.size());
  std::vector<std::vector<float>> w(lengths.size());
  for (size_t r = 0; r < lengths.size(); ++r)
    for (int64_t t = 0; t < lengths[r]; ++t) ids[r].push_back(1 + int64_t(rng() % 18)), w[r].push_back(t >= 4 ? 1.f : 0.f);
  auto batch = [&](const std::vector<size_t>& rows) {
    int64_t T = 0;
    for (size_t r : rows) T = std::max(T, lengths[r]);
    torch::Tensor i = torch::zeros({int64_t(rows.size()), T}, torch::kInt64), x = torch::zeros({int64_t(rows.size()), T});
    for (size_t k = 0; k < rows.size(); ++k)
      for (int64_t t = 0; t < lengths[rows[k]]; ++t) i[int64_t(k)][t] = ids[rows[k]][size_t(t)], x[int64_t(k)][t] = w[rows[k]][size_t(t)];
    return std::make_pair(i, x);
  };
  auto grads = [&] {
    std::vector<torch::Tensor> g;
    for (auto& p : m.parameters()) g.push_back(p.grad().clone()), p.mutable_grad().zero_();
    return g;
  };
  auto [all_ids, all_w] = batch({0, 1, 2, 3, 4, 5, 6, 7});
  torch::Tensor one = model::masked_nll(m, all_ids, all_w);
  one.backward();
  const auto g_one = grads();
  const auto groups = length_buckets(lengths, 4);
  ASSERT_GT(groups.size(), 1u);
  double split = 0;
  for (const auto& g : groups) {
    auto [i, x] = batch(g);
    torch::Tensor l = model::masked_nll(m, i, x);
    l.backward();
    split += l.item<double>();
  }
  const auto g_split = grads();
  EXPECT_NEAR(split, one.item<double>(), 1e-4 * std::abs(one.item<double>()));
  for (size_t k = 0; k < g_one.size(); ++k) {
    const double scale = g_one[k].abs().max().item<double>();
    EXPECT_LT((g_split[k] - g_one[k]).abs().max().item<double>(), 1e-4 * scale + 1e-7) << "parameter " << k;
  }
}
