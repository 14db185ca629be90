// defines: the lm_head computed in row chunks, so memory never holds [tokens x vocab] at once:
// top-k logits + target log-probs (teachers, scoring), a differentiable NLL (training) and
// differentiable logits at chosen ids (the student side of a top-k distillation loss).
#pragma once
#include <torch/torch.h>

#include <cstdint>

namespace sdz::model {

// Rows per chunk so that one chunk of logits holds about `floats` values. The default (32M logits,
// 128 MB; ~1000 rows at a 32k vocabulary, ~220 at 152k) keeps the three matmuls of a chunk large
// enough to run near the matmul peak: at 131 rows (4M logits) the small model's lm_head ran at about
// half the speed (measured with 2 threads, docs/MODEL.md).
int64_t chunk_rows(int64_t vocab, int64_t floats = int64_t(1) << 25);
// chunked_nll's rows per chunk when it is given none: chunk_rows(vocab) on the CPU, 1 GiB of fp32
// logits on a GPU (~1800 rows at a 152k vocabulary: the dL/dW GEMM's K then avoids split-K).
int64_t nll_chunk_rows(int64_t vocab, bool gpu);

struct TopK {
  torch::Tensor logits;           // [N,k] float, divided by the temperature, descending
  torch::Tensor ids;              // [N,k] int64
  torch::Tensor target_logprobs;  // [N] log softmax(logits / T)[target]; undefined without targets
};
// h [N,d] hidden states, W [V,d] lm_head weight, targets [N] int64 or undefined. No gradient.
TopK chunked_topk(const torch::Tensor& h, const torch::Tensor& W, int64_t k, const torch::Tensor& targets,
                  double temperature = 1.0, int64_t chunk = 0);

// How chunked_nll walks the logits: Few passes (log_softmax, then its exp in place: the GPU's
// choice), Many (logsumexp and softmax: the CPU's, bit-identical to earlier releases), or Auto (Few on a
// GPU, Many on the CPU). The same loss and gradients up to rounding.
enum class NllPasses { Auto, Few, Many };

// The dtype the lm_head's GEMMs read. Bf16 (what a bf16 model asks for): h, W and the logits'
// gradient rounded to bf16, fp32 accumulation, fp32 logits, log_softmax and loss; taken on a GPU with
// torch >= 2.8 in the Few formulation, fp32 everywhere else. Twice the TF32 GEMMs' speed.
enum class Head { Fp32, Bf16 };
// Process-wide switch for Head::Bf16 (default on; `sdzero bench` times both in one run). Returns
// whether this build has the bf16-in/fp32-out GEMMs.
bool set_bf16_lm_head(bool on);

// sum_i weights_i * -log softmax(h_i W^T)[targets_i], differentiable in h and W. weights [N] float
// (a mask or per-token scale). The gradients are computed in forward, one chunk of logits at a time.
// chunk 0: nll_chunk_rows(vocab, on a GPU).
torch::Tensor chunked_nll(const torch::Tensor& h, const torch::Tensor& W, const torch::Tensor& targets,
                          const torch::Tensor& weights, int64_t chunk = 0, NllPasses passes = NllPasses::Auto,
                          Head head = Head::Fp32);

// out[i, j] = h_i . W[ids[i, j]], differentiable in h and W; memory O(chunk * k * d).
torch::Tensor logits_at(const torch::Tensor& h, const torch::Tensor& W, const torch::Tensor& ids, int64_t chunk = 256);

}  // namespace sdz::model
