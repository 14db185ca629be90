// A slow, obviously-correct reference forward for the tests: one token, one head, one key at a time,
// in double precision, reading the model's weights by their Hugging Face names. It shares no code with
// src/model/transformer.cpp (RoPE frequencies, YaRN and masking are written out again here).
#pragma once
#include <torch/torch.h>

#include <cmath>
#include <vector>

#include "sdzero/model/transformer.hpp"

namespace sdz::model::testref {

inline torch::Tensor P(const Transformer& m, const std::string& n) { return m.param(n).detach().to(torch::kFloat64); }

inline torch::Tensor rms(const torch::Tensor& x, const torch::Tensor& w, double eps) {
  double ss = 0;
  auto xa = x.contiguous();
  for (int64_t i = 0; i < xa.numel(); ++i) ss += xa[i].item<double>() * xa[i].item<double>();
  return x / std::sqrt(ss / double(x.numel()) + eps) * w;
}

inline std::vector<double> inv_freq(const ModelConfig& c, bool scaled) {
  const int64_t d = c.head_dim;
  std::vector<double> f(size_t(d / 2));
  for (int64_t i = 0; i < d / 2; ++i) f[size_t(i)] = 1.0 / std::pow(c.rope_theta, double(2 * i) / double(d));
  if (!scaled || c.rope_scaling.type != "yarn") return f;
  const auto& r = c.rope_scaling;
  auto dim_for = [&](double rotations) {
    return double(d) * std::log(double(r.original_max_position) / (rotations * 2.0 * M_PI)) / (2.0 * std::log(c.rope_theta));
  };
  double lo = std::max(0.0, std::floor(dim_for(r.beta_fast)));
  double hi = std::min(double(d - 1), std::ceil(dim_for(r.beta_slow)));
  if (lo == hi) hi += 0.001;
  for (int64_t i = 0; i < d / 2; ++i) {
    double ramp = std::min(1.0, std::max(0.0, (double(i) - lo) / (hi - lo)));
    double keep_extrapolated = 1.0 - ramp;
    f[size_t(i)] = f[size_t(i)] / r.factor * (1.0 - keep_extrapolated) + f[size_t(i)] * keep_extrapolated;
  }
  return f;
}

// x: [D] one head; pairs (i, i + D/2) rotate by pos * freq[i]; scaled by the YaRN attention factor.
inline torch::Tensor rope(const torch::Tensor& x, int64_t pos, const std::vector<double>& f, double factor) {
  const int64_t h = x.size(0) / 2;
  auto y = torch::zeros_like(x);
  for (int64_t i = 0; i < h; ++i) {
    double a = double(pos) * f[size_t(i)], c = std::cos(a) * factor, s = std::sin(a) * factor;
    double x1 = x[i].item<double>(), x2 = x[i + h].item<double>();
    y[i] = x1 * c - x2 * s;
    y[i + h] = x2 * c + x1 * s;
  }
  return y;
}

// Logits [T, V] of one unpadded sequence.
inline torch::Tensor logits(const Transformer& m, const std::vector<int64_t>& ids) {
  const ModelConfig& c = m.config();
  const bool qwen = c.family == Family::Qwen3;
  const int64_t T = int64_t(ids.size()), H = c.num_heads, KV = c.num_kv_heads, D = c.head_dim;
  std::vector<torch::Tensor> x;
  auto E = P(m, "model.embed_tokens.weight");
  for (int64_t id : ids) x.push_back(E[id].clone());
  for (int64_t l = 0; l < c.num_layers; ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    auto Wq = P(m, p + "self_attn.q_proj.weight"), Wk = P(m, p + "self_attn.k_proj.weight");
    auto Wv = P(m, p + "self_attn.v_proj.weight"), Wo = P(m, p + "self_attn.o_proj.weight");
    auto qn = P(m, p + "self_attn.q_norm.weight"), kn = P(m, p + "self_attn.k_norm.weight");
    const bool sliding = c.sliding_layers[size_t(l)];
    const bool scaled = qwen || !sliding;
    auto f = inv_freq(c, scaled);
    const double af = scaled && c.rope_scaling.type == "yarn" ? c.rope_scaling.attention_factor : 1.0;
    std::vector<std::vector<torch::Tensor>> q(static_cast<size_t>(T)), k(static_cast<size_t>(T)), v(static_cast<size_t>(T));
    for (int64_t t = 0; t < T; ++t) {
      auto h = qwen ? rms(x[size_t(t)], P(m, p + "input_layernorm.weight"), c.rms_eps) : x[size_t(t)];
      auto qa = torch::mv(Wq, h), ka = torch::mv(Wk, h), va = torch::mv(Wv, h);
      if (!qwen) { qa = rms(qa, qn, c.rms_eps); ka = rms(ka, kn, c.rms_eps); }
      for (int64_t hh = 0; hh < H; ++hh) {
        auto qh = qa.narrow(0, hh * D, D);
        if (qwen) qh = rms(qh, qn, c.rms_eps);
        q[size_t(t)].push_back(rope(qh, t, f, af));
      }
      for (int64_t hh = 0; hh < KV; ++hh) {
        auto kh = ka.narrow(0, hh * D, D);
        if (qwen) kh = rms(kh, kn, c.rms_eps);
        k[size_t(t)].push_back(rope(kh, t, f, af));
        v[size_t(t)].push_back(va.narrow(0, hh * D, D));
      }
    }
    std::vector<torch::Tensor> nx;
    for (int64_t t = 0; t < T; ++t) {
      std::vector<torch::Tensor> heads;
      for (int64_t hh = 0; hh < H; ++hh) {
        const int64_t g = hh / (H / KV);
        int64_t first = 0;
        if (sliding) first = std::max<int64_t>(0, t - c.sliding_window + 1);
        std::vector<double> sc;
        double mx = -1e300;
        for (int64_t s = first; s <= t; ++s) {
          sc.push_back(torch::dot(q[size_t(t)][size_t(hh)], k[size_t(s)][size_t(g)]).item<double>() / std::sqrt(double(D)));
          mx = std::max(mx, sc.back());
        }
        double z = 0;
        for (double& e : sc) z += (e = std::exp(e - mx));
        auto o = torch::zeros({D}, torch::kFloat64);
        for (int64_t s = first; s <= t; ++s) o += sc[size_t(s - first)] / z * v[size_t(s)][size_t(g)];
        heads.push_back(o);
      }
      auto a = torch::mv(Wo, torch::cat(heads));
      auto silu = [](const torch::Tensor& u) { return u / (1 + torch::exp(-u)); };
      auto mlp = [&](const torch::Tensor& u) {
        return torch::mv(P(m, p + "mlp.down_proj.weight"),
                         silu(torch::mv(P(m, p + "mlp.gate_proj.weight"), u)) * torch::mv(P(m, p + "mlp.up_proj.weight"), u));
      };
      torch::Tensor y;
      if (qwen) {
        y = x[size_t(t)] + a;
        y = y + mlp(rms(y, P(m, p + "post_attention_layernorm.weight"), c.rms_eps));
      } else {
        y = x[size_t(t)] + rms(a, P(m, p + "post_attention_layernorm.weight"), c.rms_eps);
        y = y + rms(mlp(y), P(m, p + "post_feedforward_layernorm.weight"), c.rms_eps);
      }
      nx.push_back(y);
    }
    x = nx;
  }
  auto W = c.tie_embeddings ? E : P(m, "lm_head.weight");
  std::vector<torch::Tensor> rows;
  for (auto& xt : x) rows.push_back(torch::mv(W, rms(xt, P(m, "model.norm.weight"), c.rms_eps)));
  return torch::stack(rows);
}

inline ModelConfig tiny(Family f) {
  ModelConfig c;
  c.family = f;
  c.vocab_size = 37;
  c.hidden_size = 32;
  c.intermediate_size = 48;
  c.num_layers = 2;
  c.num_heads = 4;
  c.num_kv_heads = f == Family::Qwen3 ? 2 : 4;
  c.head_dim = f == Family::Qwen3 ? 16 : 8;  // Qwen3: heads*head_dim != hidden, as in Qwen3-4B
  c.max_position = 64;
  c.rope_theta = 10000;
  c.rms_eps = 1e-6;
  c.tie_embeddings = f == Family::Qwen3;
  c.sliding_layers.assign(2, false);
  if (f == Family::Olmo3) {
    c.sliding_window = 4;
    c.sliding_layers = {true, false};
    c.rope_scaling.type = "yarn";
    c.rope_scaling.factor = 4.0;
    c.rope_scaling.attention_factor = 1.1;
    c.rope_scaling.original_max_position = 16;
  }
  return c;
}

}  // namespace sdz::model::testref
