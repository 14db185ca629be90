// defines: the scoring engine (teacher forcing without gradient: per-position top-k logits + ids and
// target log-probs over a span, token-budget micro-batches packed by length) and the training forward
// (a masked NLL through the chunked lm_head, differentiable, optional activation checkpointing).
#pragma once
#include <torch/torch.h>

#include <cstdint>
#include <vector>

#include "sdzero/model/transformer.hpp"

namespace sdz::model {

struct ScoreItem {
  std::vector<int32_t> ids;
  // Targets ids[begin..end) are scored, each predicted from the position before it (begin >= 1;
  // end 0 = the whole sequence).
  int64_t begin = 1, end = 0;
};

struct ScoreOptions {
  int64_t top_k = 64;
  double temperature = 1.0;      // logits are divided by it before top-k and softmax
  int64_t token_budget = 8192;   // padded tokens per forward micro-batch
  int64_t chunk_rows = 0;        // lm_head rows per chunk (0: about 32M logits at a time)
};

struct ScoreOut {
  torch::Tensor topk_logits;      // [n, k] float32, n = end - begin
  torch::Tensor topk_ids;         // [n, k] int64
  torch::Tensor target_logprobs;  // [n] float32
};

std::vector<ScoreOut> score(const Transformer& m, const std::vector<ScoreItem>& items, const ScoreOptions& opt);

// Groups sequence indices into micro-batches whose padded size rows * longest <= budget (a longer
// single sequence forms its own batch); longest first, so similar lengths share a batch.
std::vector<std::vector<size_t>> pack_by_length(const std::vector<int64_t>& lengths, int64_t token_budget);

// sum over (b, t >= 1) of weights[b,t] * -log p(ids[b,t] | ids[b,<t]); ids [B,T] right-padded, weights
// [B,T] float (0 on prompt and padding). Differentiable in the model's parameters.
torch::Tensor masked_nll(const Transformer& m, const torch::Tensor& ids, const torch::Tensor& weights,
                         bool checkpoint = false, int64_t chunk_rows = 0);

// Unlikelihood: sum over rows b of w[b] * -log(1 - p(avoid[b] | ids[b, 0..at[b]])), the token the
// position at[b] must not predict. ids [B,T] right-padded (int64), at, avoid [B] int64, w [B] float.
// Differentiable in the model's parameters; p is capped at 1 - 1e-6 so a certain token costs ~14.
torch::Tensor masked_unlikelihood(const Transformer& m, const torch::Tensor& ids, const torch::Tensor& at,
                                  const torch::Tensor& avoid, const torch::Tensor& w);

// masked_nll and masked_unlikelihood of one forward: rows with at[b] >= 0 add the unlikelihood of
// avoid[b] at position at[b] (weighted uw[b]); rows may carry NLL weights, unlikelihood, or both.
// Both sums are differentiable; the pretraining of the demo's base puts its unlikelihood rows in the
// same batches as its documents (one forward per group instead of two).
struct NllAndUnlikelihood {
  torch::Tensor nll, unlikelihood;
};
NllAndUnlikelihood masked_nll_unlikelihood(const Transformer& m, const torch::Tensor& ids, const torch::Tensor& weights,
                                           const torch::Tensor& at, const torch::Tensor& avoid, const torch::Tensor& uw);

// Hidden states [N, d] at the positions that predict the weighted targets (weights[b, t] != 0 selects
// position t-1), in row-major (b, t) order, plus the targets [N] and weights [N].
struct PredictRows {
  torch::Tensor hidden, targets, weights;
};
PredictRows predict_rows(const Transformer& m, const torch::Tensor& ids, const torch::Tensor& weights,
                         bool checkpoint = false);

}  // namespace sdz::model
