// defines: the per-token losses every method is built from: top-k KL (forward / reverse / mixed over
// the teacher's renormalised top-k set), full-vocabulary KL, NLL, the token-level mean over a given
// global count, and the self-localization score. All take logits rows that already line up with the
// scored tokens (layout.hpp) and return one value per token; reductions are the caller's.
#pragma once
#include <string>

#include <torch/torch.h>

namespace sdz::algo {

enum class KlKind { Forward, Reverse, Mixed };
KlKind parse_kl_kind(const std::string& s);  // "forward" | "reverse" | "mixed"

struct KlOptions {
  KlKind kind = KlKind::Mixed;
  double forward_weight = 0.5;       // Mixed: w * forward + (1 - w) * reverse
  double teacher_temperature = 1.0;  // teacher logits are divided by it before the softmax
  double student_temperature = 1.0;  // student logits likewise (1: the paper's plain student)
};

// student_logits [n, V] (gradients flow here), topk_ids [n, k] (int64), topk_logits [n, k] raw teacher
// logits (no gradient). Both distributions are renormalised over the k ids:
//   s = log_softmax(z[I] / Ts), q = log_softmax(t / Tt)
//   forward = sum e^q (q - s),  reverse = sum e^s (s - q).   Returns [n] float32.
torch::Tensor topk_kl(const torch::Tensor& student_logits, const torch::Tensor& topk_ids,
                      const torch::Tensor& topk_logits, const KlOptions& opt);

// Full-vocabulary mode: teacher_logprobs [n, V] are the teacher's log-probs (temperature applied).
torch::Tensor full_kl(const torch::Tensor& student_logits, const torch::Tensor& teacher_logprobs,
                      const KlOptions& opt);

// Teacher log-probs over the full vocabulary from raw logits [n, V]: log_softmax(logits / T).
torch::Tensor teacher_logprobs(const torch::Tensor& logits, double temperature);

// The teacher's top-k: ids [n, k] int64 and raw logits [n, k] (k is clamped to V).
std::pair<torch::Tensor, torch::Tensor> teacher_topk(const torch::Tensor& logits, int64_t k);

// log_softmax(logits / T)[target] per row: logits [n, V], targets [n] int64 -> [n] float32.
torch::Tensor token_logprobs(const torch::Tensor& logits, const torch::Tensor& targets, double temperature = 1.0);

// -log p(target) per row (temperature 1).
torch::Tensor token_nll(const torch::Tensor& logits, const torch::Tensor& targets);

// -log(1 - p(avoid)) per row (temperature 1): the unlikelihood of writing `avoid` there. p is capped
// at 1 - 1e-6 so a certain token costs about 13.8, not infinity.
torch::Tensor token_unlikelihood(const torch::Tensor& logits, const torch::Tensor& avoid);

// sum(per_token * mask) / global_count: the token-level mean whose denominator is the number of valid
// tokens in the GLOBAL batch (dist/ allreduces the count before the loss). A zero count gives 0 with
// the graph kept, so every rank can still run backward.
torch::Tensor token_mean(const torch::Tensor& per_token, const torch::Tensor& mask, double global_count);
torch::Tensor token_mean(const torch::Tensor& per_token, double global_count);

// Self-localization (paper, diagnostics): per-token log p_student(y_t) - log p_teacher(y_t).
torch::Tensor self_localization(const torch::Tensor& student_logprobs, const torch::Tensor& teacher_logprobs);

}  // namespace sdz::algo
