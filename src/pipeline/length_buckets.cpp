#include "sdzero/pipeline/length_buckets.hpp"

#include <algorithm>
#include <limits>
#include <numeric>

namespace sdz::pipeline {

std::vector<std::vector<size_t>> length_buckets(const std::vector<int64_t>& lengths, int64_t per_group_tokens) {
  const size_t n = lengths.size();
  if (n == 0) return {};
  const int64_t price = std::max<int64_t>(per_group_tokens, 1);
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), size_t(0));
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return lengths[a] < lengths[b]; });
  // best[j]: the cheapest cost of the first j sorted rows; cut[j]: where its last group starts.
  // Sorted ascending, a group [i, j) costs (j - i) x length of row j - 1.
  std::vector<int64_t> best(n + 1, std::numeric_limits<int64_t>::max());
  std::vector<size_t> cut(n + 1, 0);
  best[0] = 0;
  for (size_t j = 1; j <= n; ++j) {
    const int64_t longest = lengths[order[j - 1]];
    for (size_t i = 0; i < j; ++i) {
      const int64_t c = best[i] + int64_t(j - i) * longest + price;
      if (c < best[j]) best[j] = c, cut[j] = i;
    }
  }
  std::vector<std::vector<size_t>> groups;
  for (size_t j = n; j > 0; j = cut[j]) groups.emplace_back(order.begin() + std::ptrdiff_t(cut[j]), order.begin() + std::ptrdiff_t(j));
  std::reverse(groups.begin(), groups.end());
  return groups;
}

int64_t padded_cost(const std::vector<int64_t>& lengths, const std::vector<std::vector<size_t>>& groups) {
  int64_t total = 0;
  for (const auto& g : groups) {
    int64_t longest = 0;
    for (size_t i : g) longest = std::max(longest, lengths[i]);
    total += int64_t(g.size()) * longest;
  }
  return total;
}

}  // namespace sdz::pipeline
