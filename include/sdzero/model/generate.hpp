// defines: the rollout generation engine: batched sampling over a fixed number of slots with a
// preallocated KV cache and continuous batching (a finished slot is refilled from the queue at the next
// step). Every request's randomness comes from Rng(key_seed({seed, question_id, sample_index})), one
// uniform draw per generated token, so a response never depends on its slot, its batch or its rank.
#pragma once
#include <cstdint>
#include <functional>
#include <vector>

#include "sdzero/model/transformer.hpp"

namespace sdz::model {

struct SamplingParams {
  double temperature = 1.0;  // <= 0: greedy
  double top_p = 1.0;        // nucleus: keep the smallest most-probable set with mass >= top_p
  int64_t top_k = 0;         // 0: no limit
  int64_t max_new_tokens = 256;
  std::vector<int32_t> stop_ids;  // the stop token is kept as the last token of the response
  uint64_t seed = 0;
};

struct GenRequest {
  uint64_t question_id = 0;
  uint64_t sample_index = 0;
  std::vector<int32_t> prompt;  // at least one token
};

struct GenResult {
  uint64_t question_id = 0;
  uint64_t sample_index = 0;
  std::vector<int32_t> tokens;          // generated ids (prompt excluded)
  std::vector<float> logprobs;          // log-prob of each token under the distribution it was drawn from
                                        // (temperature, top-k, top-p applied; 0 when greedy)
  std::vector<float> model_logprobs;    // log softmax(logits / T) of each token, before top-k/top-p
  bool stopped = false;                 // ended on a stop id (else on max_new_tokens or the context)
};

struct GenStats {
  int64_t prefill_tokens = 0, generated_tokens = 0, decode_steps = 0, prefills = 0;
  // Wall time of the prefills (with their first sampled token) and of the decode steps (forward,
  // lm_head, sampling), so throughput is measured directly rather than as a difference of runs.
  double prefill_seconds = 0, decode_seconds = 0;
};

class GenerationEngine {
 public:
  GenerationEngine(const Transformer& model, int64_t slots);
  // Results in request order. Requests are admitted in order as slots free up.
  std::vector<GenResult> generate(const std::vector<GenRequest>& requests, const SamplingParams& sp);
  const GenStats& stats() const { return stats_; }
  // Called after each response finishes with (finished, total) of the current generate() call: a
  // progress line for long evaluations. Empty: none.
  void on_finished(std::function<void(size_t, size_t)> f) { on_finished_ = std::move(f); }

 private:
  const Transformer& m_;
  int64_t slots_;
  KVCache cache_;
  GenStats stats_;
  std::function<void(size_t, size_t)> on_finished_;
};

// One draw from the distribution `logits` (float32 [V]) defines under sp, with uniform u in [0, 1).
// Returns (token, sampling log-prob, model log-prob). Exposed for tests.
struct Draw {
  int32_t token;
  float logprob, model_logprob;
};
Draw sample_token(const torch::Tensor& logits, const SamplingParams& sp, double u);
// Row r of logits [n, V] with uniform us[r]; the same draw as sample_token on that row.
std::vector<Draw> sample_rows(const torch::Tensor& logits, const SamplingParams& sp, const std::vector<double>& us);

}  // namespace sdz::model
