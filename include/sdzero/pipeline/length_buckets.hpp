// defines: length_buckets, padded_cost (micro-batches of similar length for a padded [B, T] batch)
// A right-padded batch computes every row to the longest row's length. The demo's pretraining
// documents run from 17 to 45 tokens (plain solutions and revision chains of 2-4 attempts), so one
// [64, T] batch is about 60% real tokens. Sorting the rows by length and cutting them into a few
// contiguous groups, each padded to its own longest row, removes most of the padding; every extra
// group costs one more forward and backward, which a fixed per-group price stands for.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace sdz::pipeline {

// Indices into `lengths`, grouped: each group is contiguous in (length, index) order and the
// grouping minimises sum over groups of (rows x longest row + per_group_tokens), exactly (dynamic
// programming over the sorted rows). per_group_tokens <= 0 would always split to one row per group,
// so it is clamped to 1. Empty input gives no groups.
std::vector<std::vector<size_t>> length_buckets(const std::vector<int64_t>& lengths, int64_t per_group_tokens);

// sum over groups of rows x longest row (the padded tokens those groups compute).
int64_t padded_cost(const std::vector<int64_t>& lengths, const std::vector<std::vector<size_t>>& groups);

}  // namespace sdz::pipeline
