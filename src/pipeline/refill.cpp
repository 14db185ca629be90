#include "sdzero/pipeline/refill.hpp"

#include <algorithm>
#include <unordered_set>

#include "sdzero/core/rng.hpp"

namespace sdz::pipeline {

std::vector<int64_t> refill_questions(int64_t n, const std::vector<int64_t>& taken, int64_t count, uint64_t seed,
                                      int64_t step, int64_t round) {
  const std::unordered_set<int64_t> used(taken.begin(), taken.end());
  std::vector<int64_t> order;
  for (int64_t q = 0; q < n; ++q)
    if (!used.count(q)) order.push_back(q);
  Rng rng(key_seed({seed, 0x4ef111ULL, uint64_t(step), uint64_t(round)}));
  rng.shuffle(order);
  order.resize(size_t(std::clamp<int64_t>(count, 0, int64_t(order.size()))));
  return order;
}

int64_t refill_count(int64_t missing, int64_t sampled, int64_t kept, int64_t cap) {
  if (missing <= 0) return 0;
  if (kept <= 0) return cap;  // no rate to go by yet: a whole batch
  return std::min(cap, (missing * sampled + kept - 1) / kept);
}

std::vector<int64_t> first_kept_groups(const std::vector<int>& kept, int64_t want) {
  std::vector<int64_t> at(kept.size(), -1);
  int64_t next = 0;
  for (size_t p = 0; p < kept.size() && next < want; ++p)
    if (kept[p]) at[p] = next++;
  return at;
}

}  // namespace sdz::pipeline
