// defines: DAPO's dynamic-sampling refill (grpo.refill_rounds): which questions a refill round samples,
// how many, and which of a step's kept groups train. Pure functions of (seed, step, round) and the
// world's kept flags, so every layout refills with the same questions and trains the same groups.
#pragma once
#include <cstdint>
#include <vector>

namespace sdz::pipeline {

// `count` questions of a training split of `n` for refill round `round` (1, 2, ...) of `step`, none of
// them in `taken` (the step's questions so far); fewer when the split has fewer left. A seeded draw
// of its own, apart from the epoch order of the steps' questions, so resume and re-layout repeat it.
std::vector<int64_t> refill_questions(int64_t n, const std::vector<int64_t>& taken, int64_t count, uint64_t seed,
                                      int64_t step, int64_t round);

// Questions the next refill round samples: the groups still `missing`, scaled by the keep rate seen
// so far (`kept` of `sampled` groups), at most `cap` (one step's batch, DAPO's generation batch).
int64_t refill_count(int64_t missing, int64_t sampled, int64_t kept, int64_t cap);

// The training position of each sampled group: the first `want` kept groups in position order get
// 0, 1, ...; groups not kept, and kept ones past `want` (the surplus of the last round), get -1.
std::vector<int64_t> first_kept_groups(const std::vector<int>& kept, int64_t want);

}  // namespace sdz::pipeline
