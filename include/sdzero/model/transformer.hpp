// defines: sdz::model::Transformer (a Qwen3 / Olmo-3 decoder-only LM whose weights carry their Hugging
// Face names) and KVCache (preallocated per-slot keys/values for batched decoding).
// Rows of a batch are right-padded and every row starts at position 0, so a row's outputs never depend
// on its neighbours or on padding (causal attention hides keys to the right of each query).
// Precision (set_dtype): the parameters are always fp32 (the master copies optimizers, checkpoints
// and teachers use); with bf16 the blocks compute with bf16 copies of them (compute_weights.hpp),
// the residual stream, projections and KV cache are bf16, and RMSNorm statistics, attention softmax,
// the final norm, the lm_head and everything after it (logsumexp, losses, sampling) are fp32.
#pragma once
#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "sdzero/model/compute_weights.hpp"
#include "sdzero/model/config.hpp"

namespace sdz::model {

struct KVCache {
  std::vector<torch::Tensor> k, v;  // per layer: [slots, kv_heads, capacity, head_dim]
  std::vector<int64_t> len;         // tokens held by each slot
  int64_t slots() const { return int64_t(len.size()); }
  int64_t capacity() const { return k.empty() ? 0 : k[0].size(2); }
};

using NamedTensor = std::pair<std::string, torch::Tensor>;

class Transformer {
 public:
  // Parameters are allocated (zeros; RMSNorm weights ones) in fp32; call init_random or load weights.
  explicit Transformer(const ModelConfig& cfg);
  const ModelConfig& config() const { return cfg_; }

  // Moves parameters (keeping requires_grad) and RoPE tables to `d`; inputs may stay on the CPU (each
  // call moves its ids), outputs are on the model's device. Call before making an optimizer or cache.
  void to(const torch::Device& d);
  torch::Device device() const { return embed_->device(); }

  // Compute precision of the blocks: kFloat32 (default) or kBFloat16 (see above).
  void set_dtype(torch::ScalarType t);
  torch::ScalarType dtype() const { return cw_.dtype(); }
  // The value a parameter is multiplied with (its bf16 rounding under bf16; the parameter under fp32).
  torch::Tensor compute_weight(const std::string& hf_name) const { return cw_.get(param(hf_name)); }

  // Normal(0, std) for matrices and embeddings, ones for norms (as transformers' _init_weights).
  void init_random(uint64_t seed, double std = 0.02);
  // Hugging Face names in checkpoint order; with tied embeddings there is no lm_head.weight.
  const std::vector<NamedTensor>& named_parameters() const { return params_; }
  std::vector<torch::Tensor> parameters() const;
  const torch::Tensor& param(const std::string& hf_name) const;  // throws sdz::Error when unknown
  const torch::Tensor& lm_head_weight() const { return cfg_.tie_embeddings ? *embed_ : *lm_head_; }
  void set_requires_grad(bool on);
  // Copies values (not storage) from a model of the same config.
  void copy_from(const Transformer& other);

  // Activation checkpointing for every training forward of this model (model.activation_checkpointing):
  // each block keeps only its input and recomputes the rest in backward, one block at a time.
  void set_activation_checkpointing(bool on) { checkpoint_all_ = on; }
  bool activation_checkpointing() const { return checkpoint_all_; }

  // ids [B,T] (int64, right-padded). Final-normed hidden states [B,T,hidden]. With `checkpoint` (or
  // activation checkpointing on) the blocks' activations are recomputed in backward instead of kept.
  torch::Tensor hidden(const torch::Tensor& ids, bool checkpoint = false) const;
  // Full logits [B,T,vocab]: small inputs and tests only; use lm_head.hpp for real sequences.
  torch::Tensor logits(const torch::Tensor& ids) const;

  KVCache make_cache(int64_t slots, int64_t capacity) const;  // in the compute dtype
  // Prefills `slots` (one per row of ids [n,T], right-padded to T, true lengths in `lengths`) from
  // position 0. Returns each row's hidden state at its last real token, [n, hidden].
  torch::Tensor prefill(KVCache& cache, const torch::Tensor& ids, const std::vector<int64_t>& lengths,
                        const std::vector<int64_t>& slots) const;
  // One token per slot (tokens [slots]) at position cache.len[slot]; inactive slots compute but are
  // ignored. Returns [slots, hidden]; len grows by one for the active slots.
  torch::Tensor decode(KVCache& cache, const torch::Tensor& tokens, const std::vector<bool>& active) const;

  // Used by the checkpointing autograd function (transformer.cpp).
  struct Ctx;
  torch::Tensor block(int64_t layer, const torch::Tensor& x, const Ctx& ctx) const;

 private:
  struct Layer {
    torch::Tensor *q, *k, *v, *o, *qb = nullptr, *kb = nullptr, *vb = nullptr, *ob = nullptr;
    torch::Tensor *q_norm, *k_norm, *gate, *up, *down, *norm_a, *norm_b;
  };
  torch::Tensor finish(const torch::Tensor& x, const Layer& L, const torch::Tensor& attn_out) const;
  torch::Tensor run(const torch::Tensor& ids, const torch::Tensor& qpos, KVCache* cache,
                    const torch::Tensor& slots, bool decode, bool checkpoint) const;
  torch::Tensor& add(const std::string& name, std::vector<int64_t> shape, bool ones = false);
  torch::Tensor w(const torch::Tensor* p) const { return p ? cw_.get(*p) : torch::Tensor(); }

  ModelConfig cfg_;
  std::vector<NamedTensor> params_;
  std::vector<Layer> layers_;
  torch::Tensor *embed_ = nullptr, *final_norm_ = nullptr, *lm_head_ = nullptr;
  torch::Tensor inv_freq_default_, inv_freq_scaled_;
  double attn_factor_scaled_ = 1.0;
  bool checkpoint_all_ = false;
  ComputeWeights cw_;
};

// RMSNorm written out (libtorch 1.13 has none): x * rsqrt(mean(x^2) + eps) in fp32, cast back to x's
// dtype, times w (as transformers does it in bf16). On a GPU with torch >= 2.9 it is torch's fused
// kernel instead (one launch forward and one backward instead of about seven and fifteen; statistics in
// fp32, x * rstd * w rounded once), unless set_fused_norm(false).
torch::Tensor rms_norm(const torch::Tensor& x, const torch::Tensor& w, double eps);
// Process-wide switch for the fused GPU RMSNorm (default on). `sdzero bench` turns it off to time the
// written-out norm in the same run; returns whether this build has the fused kernel at all.
bool set_fused_norm(bool on);
// RoPE inverse frequencies for head_dim; YaRN when the scaling says so. Returns (inv_freq, cos/sin factor).
std::pair<torch::Tensor, double> rope_inv_freq(const ModelConfig& cfg, bool scaled);

}  // namespace sdz::model
