// The Qwen3 / Olmo-3 decoder. Layer details follow Hugging Face transformers:
// - Qwen3 (models/qwen3/modeling_qwen3.py): pre-norm blocks (input_layernorm before attention,
//   post_attention_layernorm before the MLP); q_norm/k_norm are RMSNorms over head_dim applied per head
//   to the projections before RoPE; SwiGLU MLP down(silu(gate(x)) * up(x)); scaling head_dim^-0.5.
// - Olmo-3 (models/olmo3/modular_olmo3.py, inheriting models/olmo2/modeling_olmo2.py): no input norm;
//   x + post_attention_layernorm(attn(x)), then x + post_feedforward_layernorm(mlp(x)); q_norm/k_norm are
//   RMSNorms over the whole q (heads*head_dim) and k (kv_heads*head_dim) projections; layer_types pick
//   sliding-window layers (a query sees keys q - k < sliding_window); RoPE scaling only on full layers.
// - RMSNorm as Qwen3RMSNorm/Olmo2RMSNorm: x * rsqrt(mean(x^2) + eps), times weight, in fp32.
// - RoPE as modeling_rope_utils.py: inv_freq = theta^(-2i/d) ("default") or the YaRN blend, cos/sin of
//   cat(freqs, freqs) times attention_factor, rotate_half pairing (x[:d/2], x[d/2:]).
// - GQA as repeat_kv: query head h uses key/value head h / (heads / kv_heads).
#include "sdzero/model/transformer.hpp"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/version.h>

// at::scaled_dot_product_attention with grouped-query support (enable_gqa) exists from torch 2.5.
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 5)
#define SDZ_HAVE_SDPA 1
#else
#define SDZ_HAVE_SDPA 0
#endif
// at::_fused_rms_norm (CUDA kernels, with autograd) exists from torch 2.9.
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 9)
#define SDZ_HAVE_FUSED_NORM 1
#else
#define SDZ_HAVE_FUSED_NORM 0
#endif

#include <atomic>

#include <cmath>

#include "sdzero/core/error.hpp"
#include "sdzero/model/cpu_matmul.hpp"
#include "sdzero/model/fused_ops.hpp"

namespace sdz::model {

using torch::indexing::Slice;

namespace {
std::atomic<bool> g_fused_norm{true};
}

bool set_fused_norm(bool on) {
  g_fused_norm = on;
  return SDZ_HAVE_FUSED_NORM != 0;
}

torch::Tensor rms_norm(const torch::Tensor& x, const torch::Tensor& w, double eps) {
#if SDZ_HAVE_FUSED_NORM
  if (x.is_cuda() && g_fused_norm && x.scalar_type() == w.scalar_type()) {
    const int64_t n = x.size(-1);
    try {
      return std::get<0>(at::_fused_rms_norm(x, at::IntArrayRef(&n, 1), w, eps));
    } catch (const c10::Error&) {
      g_fused_norm = false;  // a torch without the CUDA kernel: the written-out norm from now on
    }
  }
#endif
  if (cpu_fused_applies(x) && cpu_fused_applies(w) && w.numel() == x.size(-1))
    return cpu_norm_rope(x, w, {}, {}, x.size(-1), 0, 1, eps);
  auto xf = x.to(torch::kFloat32);
  auto var = xf.pow(2).mean(-1, true);
  return (xf * torch::rsqrt(var + eps)).to(x.scalar_type()) * w;
}

std::pair<torch::Tensor, double> rope_inv_freq(const ModelConfig& cfg, bool scaled) {
  const int64_t d = cfg.head_dim;
  const double base = cfg.rope_theta;
  auto exps = torch::arange(0, d, 2, torch::kFloat64) / double(d);
  auto pos_freqs = torch::pow(base, exps);
  auto inv = 1.0 / pos_freqs;
  if (!scaled || cfg.rope_scaling.type != "yarn") return {inv.to(torch::kFloat32), 1.0};
  // _compute_yarn_parameters: blend interpolated (1/(factor*f)) and extrapolated (1/f) frequencies with
  // a linear ramp between the dimensions that rotate beta_fast and beta_slow times over the original
  // context.
  const RopeScaling& rs = cfg.rope_scaling;
  const double omax = double(rs.original_max_position);
  auto corr_dim = [&](double rot) { return (double(d) * std::log(omax / (rot * 2 * M_PI))) / (2 * std::log(base)); };
  double low = std::max(std::floor(corr_dim(rs.beta_fast)), 0.0);
  double high = std::min(std::ceil(corr_dim(rs.beta_slow)), double(d - 1));
  if (low == high) high += 0.001;
  auto ramp = ((torch::arange(d / 2, torch::kFloat64) - low) / (high - low)).clamp(0, 1);
  auto extrap_mask = 1 - ramp;
  auto interp = 1.0 / (rs.factor * pos_freqs);
  auto blended = interp * (1 - extrap_mask) + inv * extrap_mask;
  return {blended.to(torch::kFloat32), rs.attention_factor};
}

// ---- construction ----

torch::Tensor& Transformer::add(const std::string& name, std::vector<int64_t> shape, bool ones) {
  params_.emplace_back(name, ones ? torch::ones(shape) : torch::zeros(shape));
  return params_.back().second;
}

Transformer::Transformer(const ModelConfig& cfg) : cfg_(cfg) {
  cfg_.validate("Transformer");
  const int64_t d = cfg.hidden_size, q = cfg.num_heads * cfg.head_dim, kv = cfg.num_kv_heads * cfg.head_dim;
  const bool qwen = cfg.family == Family::Qwen3;
  params_.reserve(size_t(cfg.num_layers) * 20 + 4);  // Layer keeps pointers into params_
  embed_ = &add("model.embed_tokens.weight", {cfg.vocab_size, d});
  for (int64_t i = 0; i < cfg.num_layers; ++i) {
    const std::string p = "model.layers." + std::to_string(i) + ".";
    Layer L{};
    L.q = &add(p + "self_attn.q_proj.weight", {q, d});
    if (cfg.attention_bias) L.qb = &add(p + "self_attn.q_proj.bias", {q});
    L.k = &add(p + "self_attn.k_proj.weight", {kv, d});
    if (cfg.attention_bias) L.kb = &add(p + "self_attn.k_proj.bias", {kv});
    L.v = &add(p + "self_attn.v_proj.weight", {kv, d});
    if (cfg.attention_bias) L.vb = &add(p + "self_attn.v_proj.bias", {kv});
    L.o = &add(p + "self_attn.o_proj.weight", {d, q});
    if (cfg.attention_bias) L.ob = &add(p + "self_attn.o_proj.bias", {d});
    L.q_norm = &add(p + "self_attn.q_norm.weight", {qwen ? cfg.head_dim : q}, true);
    L.k_norm = &add(p + "self_attn.k_norm.weight", {qwen ? cfg.head_dim : kv}, true);
    L.gate = &add(p + "mlp.gate_proj.weight", {cfg.intermediate_size, d});
    L.up = &add(p + "mlp.up_proj.weight", {cfg.intermediate_size, d});
    L.down = &add(p + "mlp.down_proj.weight", {d, cfg.intermediate_size});
    if (qwen) {
      L.norm_a = &add(p + "input_layernorm.weight", {d}, true);
      L.norm_b = &add(p + "post_attention_layernorm.weight", {d}, true);
    } else {
      L.norm_a = &add(p + "post_attention_layernorm.weight", {d}, true);
      L.norm_b = &add(p + "post_feedforward_layernorm.weight", {d}, true);
    }
    layers_.push_back(L);
  }
  final_norm_ = &add("model.norm.weight", {d}, true);
  if (!cfg.tie_embeddings) lm_head_ = &add("lm_head.weight", {cfg.vocab_size, d});
  inv_freq_default_ = rope_inv_freq(cfg_, false).first;
  auto s = rope_inv_freq(cfg_, true);
  inv_freq_scaled_ = s.first;
  attn_factor_scaled_ = s.second;
}

void Transformer::set_dtype(torch::ScalarType t) { cw_.set_dtype(t); }

void Transformer::to(const torch::Device& d) {
  torch::NoGradGuard ng;
  // Assigned in place in params_, so the Layer pointers stay valid.
  for (auto& np : params_) {
    const bool rg = np.second.requires_grad();
    np.second = np.second.detach().to(d).requires_grad_(rg);
  }
  inv_freq_default_ = inv_freq_default_.to(d);
  inv_freq_scaled_ = inv_freq_scaled_.to(d);
  cw_.set_dtype(cw_.dtype());  // drop compute copies of the old tensors
}

void Transformer::init_random(uint64_t seed, double std) {
  torch::NoGradGuard ng;
  auto gen = at::detail::createCPUGenerator(seed);
  for (auto& [name, t] : params_) {
    if (t.dim() == 2) t.normal_(0.0, std, gen);
    else if (name.size() > 5 && name.compare(name.size() - 5, 5, ".bias") == 0) t.zero_();
    else t.fill_(1.0);
  }
}

std::vector<torch::Tensor> Transformer::parameters() const {
  std::vector<torch::Tensor> out;
  for (const auto& p : params_) out.push_back(p.second);
  return out;
}

const torch::Tensor& Transformer::param(const std::string& hf_name) const {
  for (const auto& p : params_)
    if (p.first == hf_name) return p.second;
  throw Error("model has no parameter \"" + hf_name + "\"", family_name(cfg_.family));
}

void Transformer::set_requires_grad(bool on) {
  for (auto& p : params_) p.second.requires_grad_(on);
}

void Transformer::copy_from(const Transformer& other) {
  SDZ_CHECK(other.params_.size() == params_.size(), "copy_from: models differ in parameter count");
  torch::NoGradGuard ng;
  for (size_t i = 0; i < params_.size(); ++i) params_[i].second.copy_(other.params_[i].second);
}

// ---- forward ----

struct Transformer::Ctx {
  torch::Tensor cos_d, sin_d, cos_s, sin_s;  // [B,T,1,D]: default and scaled RoPE (sin: first half negated)
  // The fused GPU kernels (fused_ops.hpp, bf16 on CUDA) instead: fp32 [B*T, D/2] tables, plain sin.
  bool fused = false;
  torch::Tensor cos32_d, sin32_d, cos32_s, sin32_s;
  torch::Tensor mask_full, mask_slide;       // additive [B,1,1,T,S]
  KVCache* cache = nullptr;
  torch::Tensor slots;    // [B] cache rows (prefill/decode)
  torch::Tensor write;    // decode: [B] position to write
  bool decode = false;
  int64_t span = 0;       // decode: keys 0..span-1 are read from the cache
};

namespace {

// rotate_half(x) * sin = cat(-x2, x1) * sin, written as cat(x2, x1) * sin with sin's first half negated
// once per forward (Ctx): the same values bit for bit ((-a)b = a(-b)), one kernel fewer per q and k
// in forward and in backward.
torch::Tensor rotate(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin_signed) {
  const int64_t h = x.size(-1) / 2;
  auto x1 = x.narrow(-1, 0, h), x2 = x.narrow(-1, h, h);
  return x * cos + torch::cat({x2, x1}, -1) * sin_signed;
}

// Additive mask [B,1,1,T,S]: key position s visible from query position p when s <= p and,
// with a window W, p - s < W.
torch::Tensor make_mask(const torch::Tensor& qpos, int64_t S, int64_t window) {
  auto kpos = torch::arange(S, qpos.options()).view({1, 1, S});
  auto qp = qpos.unsqueeze(-1);  // [B,T,1]
  auto ok = kpos <= qp;
  if (window > 0) ok = ok & (qp - kpos < window);
  auto m = torch::zeros(ok.sizes(), qpos.options().dtype(torch::kFloat32)).masked_fill_(ok.logical_not(), -INFINITY);
  return m.unsqueeze(1).unsqueeze(1);
}

}  // namespace

torch::Tensor Transformer::block(int64_t li, const torch::Tensor& x, const Ctx& c) const {
  const Layer& L = layers_[size_t(li)];
  const bool qwen = cfg_.family == Family::Qwen3;
  const int64_t B = x.size(0), T = x.size(1), H = cfg_.num_heads, KV = cfg_.num_kv_heads, D = cfg_.head_dim;
  const int64_t G = H / KV;

  auto h = qwen ? rms_norm(x, w(L.norm_a), cfg_.rms_eps) : x;
  auto q = model::linear(h, w(L.q), w(L.qb));
  auto k = model::linear(h, w(L.k), w(L.kb));
  auto v = model::linear(h, w(L.v), w(L.vb));
  const bool scaled = cfg_.layer_uses_scaled_rope(li);
  // The q/k norms span one head (Qwen3) or the whole projection (Olmo-3).
  const int64_t qspan = qwen ? D : H * D, kspan = qwen ? D : KV * D;
  if (c.fused && norm_rope_applies(q, qspan, D) && norm_rope_applies(k, kspan, D)) {
    const torch::Tensor &cs = scaled ? c.cos32_s : c.cos32_d, &sn = scaled ? c.sin32_s : c.sin32_d;
    q = norm_rope(q, w(L.q_norm), cs, sn, qspan, D, qwen ? H : 1, cfg_.rms_eps).view({B, T, H, D}).transpose(1, 2);
    k = norm_rope(k, w(L.k_norm), cs, sn, kspan, D, qwen ? KV : 1, cfg_.rms_eps).view({B, T, KV, D}).transpose(1, 2);
  } else {
    if (qwen) {
      q = rms_norm(q.view({B, T, H, D}), w(L.q_norm), cfg_.rms_eps);
      k = rms_norm(k.view({B, T, KV, D}), w(L.k_norm), cfg_.rms_eps);
    } else {
      q = rms_norm(q, w(L.q_norm), cfg_.rms_eps).view({B, T, H, D});
      k = rms_norm(k, w(L.k_norm), cfg_.rms_eps).view({B, T, KV, D});
    }
    // RoPE while q and k are contiguous [B,T,heads,D] (cos/sin [B,T,1,D]): every operand of its
    // elementwise kernels then has one layout, which the GPU's vectorized kernels need; rotating the
    // [B,heads,T,D] views mixed two layouts and took the slow generic kernels.
    q = rotate(q, scaled ? c.cos_s : c.cos_d, scaled ? c.sin_s : c.sin_d).transpose(1, 2);  // [B,H,T,D]
    k = rotate(k, scaled ? c.cos_s : c.cos_d, scaled ? c.sin_s : c.sin_d).transpose(1, 2);  // [B,KV,T,D]
  }
  v = v.view({B, T, KV, D}).transpose(1, 2);  // [B,KV,T,D]

  torch::Tensor keys = k, vals = v;
  if (c.cache) {
    auto& kc = c.cache->k[size_t(li)];
    auto& vc = c.cache->v[size_t(li)];
    torch::NoGradGuard ng;
    if (c.decode) {
      kc.index_put_({c.slots, Slice(), c.write}, k.squeeze(2));
      vc.index_put_({c.slots, Slice(), c.write}, v.squeeze(2));
      keys = kc.narrow(2, 0, c.span);
      vals = vc.narrow(2, 0, c.span);
    } else {
      kc.index_put_({c.slots, Slice(), Slice(0, T)}, k);
      vc.index_put_({c.slots, Slice(), Slice(0, T)}, v);
    }
  }
  const int64_t S = keys.size(2);
#if SDZ_HAVE_SDPA
  // On a GPU, full-attention layers without a cache read use the fused kernel (flash attention for
  // bf16): no T x S scores in memory. Rows start at position 0, so "causal" is exactly our mask.
  if (x.is_cuda() && !c.decode && cfg_.layer_window(li) == 0 && S == T) {
    auto o = at::scaled_dot_product_attention(q, keys, vals, {}, 0.0, /*is_causal=*/true, 1.0 / std::sqrt(double(D)),
                                              /*enable_gqa=*/true);
    return finish(x, L, o.transpose(1, 2).reshape({B, T, H * D}));
  }
#endif
  // Grouped attention without repeating keys: queries of one kv head are stacked, [B,KV,G*T,D].
  // Scores are scaled, masked and normalised in fp32 (transformers' softmax(dtype=float32)).
  auto qg = q.reshape({B, KV, G * T, D});
  auto scores = model::matmul(qg, keys.transpose(2, 3)).to(torch::kFloat32).mul_(1.0 / std::sqrt(double(D)));
  // In place: neither the scale nor the mask add needs its input for backward (no extra T x S copy).
  scores = scores.view({B, KV, G, T, S}).add_(cfg_.layer_window(li) > 0 ? c.mask_slide : c.mask_full);
  auto probs = torch::softmax(scores, -1).view({B, KV, G * T, S}).to(vals.scalar_type());
  auto out = model::matmul(probs, vals).view({B, H, T, D}).transpose(1, 2).reshape({B, T, H * D});
  return finish(x, L, out);
}

// The block after attention: output projection, residuals, norms and the MLP.
torch::Tensor Transformer::finish(const torch::Tensor& x, const Layer& L, const torch::Tensor& out) const {
  const bool qwen = cfg_.family == Family::Qwen3;
  auto a = model::linear(out, w(L.o), w(L.ob));
  if (qwen) {
    auto x1 = x + a;
    auto m = rms_norm(x1, w(L.norm_b), cfg_.rms_eps);
    m = model::linear(swiglu(model::linear(m, w(L.gate)), model::linear(m, w(L.up))), w(L.down));
    return x1 + m;
  }
  auto x1 = x + rms_norm(a, w(L.norm_a), cfg_.rms_eps);
  auto m = model::linear(swiglu(model::linear(x1, w(L.gate)), model::linear(x1, w(L.up))), w(L.down));
  return x1 + rms_norm(m, w(L.norm_b), cfg_.rms_eps);
}

namespace {

// Recomputes a block in backward instead of keeping its activations (reentrant checkpointing, as
// torch.utils.checkpoint does). Parameter gradients accumulate into .grad during the recomputation.
struct BlockCheckpoint : public torch::autograd::Function<BlockCheckpoint> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, torch::Tensor x, const Transformer* m,
                               int64_t layer, const Transformer::Ctx* c);
  static torch::autograd::tensor_list backward(torch::autograd::AutogradContext* ctx,
                                               torch::autograd::tensor_list grads);
};

}  // namespace
}  // namespace sdz::model

namespace sdz::model {
namespace {

torch::Tensor BlockCheckpoint::forward(torch::autograd::AutogradContext* ctx, torch::Tensor x, const Transformer* m,
                                       int64_t layer, const Transformer::Ctx* c) {
  ctx->save_for_backward({x, c->cos_d, c->sin_d, c->cos_s, c->sin_s, c->mask_full, c->mask_slide, c->cos32_d,
                          c->sin32_d, c->cos32_s, c->sin32_s});
  ctx->saved_data["fused"] = c->fused;
  ctx->saved_data["model"] = int64_t(reinterpret_cast<intptr_t>(m));
  ctx->saved_data["layer"] = layer;
  torch::NoGradGuard ng;
  return m->block(layer, x, *c);
}

torch::autograd::tensor_list BlockCheckpoint::backward(torch::autograd::AutogradContext* ctx,
                                                       torch::autograd::tensor_list grads) {
  auto saved = ctx->get_saved_variables();
  const auto* m = reinterpret_cast<const Transformer*>(intptr_t(ctx->saved_data["model"].toInt()));
  Transformer::Ctx c;
  c.cos_d = saved[1]; c.sin_d = saved[2]; c.cos_s = saved[3]; c.sin_s = saved[4];
  c.mask_full = saved[5]; c.mask_slide = saved[6];
  c.cos32_d = saved[7]; c.sin32_d = saved[8]; c.cos32_s = saved[9]; c.sin32_s = saved[10];
  c.fused = ctx->saved_data["fused"].toBool();
  auto x = saved[0].detach().requires_grad_(true);
  torch::Tensor y;
  {
    torch::AutoGradMode on(true);
    y = m->block(ctx->saved_data["layer"].toInt(), x, c);
  }
  torch::autograd::backward({y}, {grads[0]});
  return {x.grad(), torch::Tensor(), torch::Tensor(), torch::Tensor()};
}

}  // namespace

torch::Tensor Transformer::run(const torch::Tensor& ids_in, const torch::Tensor& qpos_in, KVCache* cache,
                               const torch::Tensor& slots, bool decode, bool checkpoint) const {
  // Callers build ids on the CPU; the model's device is where they are used.
  const torch::Device dev = device();
  const torch::Tensor ids = ids_in.to(dev), qpos = qpos_in.to(dev);
  Ctx c;
  c.cache = cache;
  c.slots = slots.defined() ? slots.to(dev) : slots;
  c.decode = decode;
  // The fused GPU kernels compute in bf16 on CUDA, their CPU twins in fp32; both get fp32 tables of
  // their own.
  c.fused = (dev.is_cuda() && dtype() == torch::kBFloat16 && fused_kernels_on()) || cpu_fused_applies(dev, dtype());
  // RoPE tables for the positions of this call, [B,T,1,D].
  auto angles = [&](const torch::Tensor& inv, double factor, torch::Tensor& cos, torch::Tensor& sin,
                    torch::Tensor& cos32, torch::Tensor& sin32) {
    auto f = qpos.to(torch::kFloat32).unsqueeze(-1) * inv.view({1, 1, -1});
    if (c.fused) {
      cos32 = (f.cos() * factor).reshape({-1, f.size(-1)}).contiguous();
      sin32 = (f.sin() * factor).reshape({-1, f.size(-1)}).contiguous();
    }
    auto e = torch::cat({f, f}, -1).unsqueeze(2);  // [B,T,1,D]: broadcast over heads
    cos = (e.cos() * factor).to(dtype());
    auto sn = e.sin();
    sn.narrow(-1, 0, sn.size(-1) / 2).neg_();  // see rotate()
    sin = (sn * factor).to(dtype());
  };
  angles(inv_freq_default_, 1.0, c.cos_d, c.sin_d, c.cos32_d, c.sin32_d);
  bool any_scaled = false;
  for (int64_t i = 0; i < cfg_.num_layers; ++i) any_scaled |= cfg_.layer_uses_scaled_rope(i);
  if (any_scaled && cfg_.rope_scaling.type != "default") {
    angles(inv_freq_scaled_, attn_factor_scaled_, c.cos_s, c.sin_s, c.cos32_s, c.sin32_s);
  } else {
    c.cos_s = c.cos_d, c.sin_s = c.sin_d, c.cos32_s = c.cos32_d, c.sin32_s = c.sin32_d;
  }

  int64_t S = ids.size(1);
  if (decode) {
    c.write = qpos.squeeze(1);
    S = c.write.max().item<int64_t>() + 1;
    c.span = S;
  }
  c.mask_full = make_mask(qpos, S, 0);
  c.mask_slide = cfg_.sliding_window > 0 ? make_mask(qpos, S, cfg_.sliding_window) : c.mask_full;

  // Rows of the fp32 table, then rounded: the same values as a lookup in its bf16 copy.
  auto x = torch::embedding(*embed_, ids).to(dtype());
  for (int64_t i = 0; i < cfg_.num_layers; ++i) {
    if (checkpoint && !cache && torch::GradMode::is_enabled()) x = BlockCheckpoint::apply(x, this, i, &c);
    else x = block(i, x, c);
  }
  // The final norm and everything after it (lm_head, logsumexp, sampling) stay fp32.
  return rms_norm(x.to(torch::kFloat32), *final_norm_, cfg_.rms_eps);
}

torch::Tensor Transformer::hidden(const torch::Tensor& ids, bool checkpoint) const {
  SDZ_CHECK(ids.dim() == 2, "Transformer::hidden: ids must be [batch, time]");
  SDZ_CHECK(ids.size(1) <= cfg_.max_position, "sequence of " + std::to_string(ids.size(1)) +
                                                  " tokens exceeds max_position_embeddings " +
                                                  std::to_string(cfg_.max_position));
  auto qpos = torch::arange(ids.size(1), torch::kInt64).unsqueeze(0).expand({ids.size(0), ids.size(1)});
  return run(ids, qpos, nullptr, torch::Tensor(), false, checkpoint || checkpoint_all_);
}

torch::Tensor Transformer::logits(const torch::Tensor& ids) const {
  return model::linear(hidden(ids), lm_head_weight());
}

KVCache Transformer::make_cache(int64_t slots, int64_t capacity) const {
  KVCache c;
  for (int64_t i = 0; i < cfg_.num_layers; ++i) {
    auto o = torch::TensorOptions().dtype(dtype()).device(device());
    c.k.push_back(torch::zeros({slots, cfg_.num_kv_heads, capacity, cfg_.head_dim}, o));
    c.v.push_back(torch::zeros({slots, cfg_.num_kv_heads, capacity, cfg_.head_dim}, o));
  }
  c.len.assign(size_t(slots), 0);
  return c;
}

torch::Tensor Transformer::prefill(KVCache& cache, const torch::Tensor& ids, const std::vector<int64_t>& lengths,
                                   const std::vector<int64_t>& slots) const {
  torch::NoGradGuard ng;
  const int64_t n = ids.size(0), T = ids.size(1);
  SDZ_CHECK(int64_t(lengths.size()) == n && int64_t(slots.size()) == n, "prefill: one length and slot per row");
  SDZ_CHECK(T <= cache.capacity(), "prefill: prompt of " + std::to_string(T) + " tokens exceeds the KV cache (" +
                                       std::to_string(cache.capacity()) + ")");
  auto qpos = torch::arange(T, torch::kInt64).unsqueeze(0).expand({n, T});
  auto slot_t = torch::tensor(slots, torch::kInt64);
  auto h = run(ids, qpos, &cache, slot_t, false, false);
  std::vector<int64_t> last(lengths.size());
  for (size_t i = 0; i < lengths.size(); ++i) {
    SDZ_CHECK(lengths[i] >= 1 && lengths[i] <= T, "prefill: row length out of range");
    last[i] = lengths[i] - 1;
    cache.len[size_t(slots[i])] = lengths[i];
  }
  auto idx = torch::tensor(last, torch::kInt64).to(h.device());
  return h.index({torch::arange(n, idx.options()), idx});
}

torch::Tensor Transformer::decode(KVCache& cache, const torch::Tensor& tokens, const std::vector<bool>& active) const {
  torch::NoGradGuard ng;
  const int64_t B = cache.slots();
  SDZ_CHECK(tokens.numel() == B && int64_t(active.size()) == B, "decode: one token and flag per slot");
  std::vector<int64_t> pos(size_t(B), 0);
  for (int64_t b = 0; b < B; ++b) {
    if (!active[size_t(b)]) continue;
    pos[size_t(b)] = cache.len[size_t(b)];
    SDZ_CHECK(pos[size_t(b)] < cache.capacity(), "decode: slot " + std::to_string(b) + " is full (" +
                                                     std::to_string(cache.capacity()) + " tokens)");
  }
  auto qpos = torch::tensor(pos, torch::kInt64).unsqueeze(1);
  auto h = run(tokens.view({B, 1}).to(torch::kInt64), qpos, &cache, torch::arange(B), true, false);
  for (int64_t b = 0; b < B; ++b)
    if (active[size_t(b)]) ++cache.len[size_t(b)];
  return h.squeeze(1);
}

}  // namespace sdz::model
