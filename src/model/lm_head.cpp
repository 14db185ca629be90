// Chunked lm_head. The custom autograd functions keep only h, W and the targets; logits of one chunk
// live at a time in forward and again in backward.
#include "sdzero/model/lm_head.hpp"

#include <torch/version.h>

#include <algorithm>
#include <atomic>

#include "sdzero/core/error.hpp"
#include "sdzero/model/cpu_matmul.hpp"
#include "sdzero/model/fused_ops.hpp"

// at::mm / at::addmm with an out_dtype (bf16 inputs, fp32 accumulation and output; CUDA) exist from
// torch 2.8.
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 8)
#define SDZ_HAVE_MM_OUT_DTYPE 1
#else
#define SDZ_HAVE_MM_OUT_DTYPE 0
#endif

namespace sdz::model {

namespace {
std::atomic<bool> g_bf16_head{true};
}

bool set_bf16_lm_head(bool on) {
  g_bf16_head = on;
  return SDZ_HAVE_MM_OUT_DTYPE != 0;
}

using torch::autograd::AutogradContext;
using torch::autograd::tensor_list;

int64_t chunk_rows(int64_t vocab, int64_t floats) { return std::max<int64_t>(1, floats / std::max<int64_t>(vocab, 1)); }

int64_t nll_chunk_rows(int64_t vocab, bool gpu) {
  // Measured on an H100 (Qwen3-0.6B shape, 8 x 1024 tokens): 220 rows 74 ms, 1024 rows 50 ms, 4096 46 ms.
  return gpu ? chunk_rows(vocab, int64_t(1) << 28) : chunk_rows(vocab);
}

TopK chunked_topk(const torch::Tensor& h, const torch::Tensor& W, int64_t k, const torch::Tensor& targets,
                  double temperature, int64_t chunk) {
  torch::NoGradGuard ng;
  SDZ_CHECK(h.dim() == 2 && W.dim() == 2 && h.size(1) == W.size(1), "chunked_topk: h [N,d] and W [V,d] expected");
  SDZ_CHECK(k >= 1 && k <= W.size(0), "chunked_topk: k must be in [1, vocab]");
  SDZ_CHECK(temperature > 0, "chunked_topk: temperature must be > 0");
  const int64_t N = h.size(0);
  if (chunk <= 0) chunk = chunk_rows(W.size(0));
  TopK out;
  const auto on = torch::TensorOptions().device(h.device());
  out.logits = torch::empty({N, k}, on.dtype(torch::kFloat32));
  out.ids = torch::empty({N, k}, on.dtype(torch::kInt64));
  const torch::Tensor tg = targets.defined() ? targets.to(h.device()) : targets;
  if (targets.defined()) out.target_logprobs = torch::empty({N}, on.dtype(torch::kFloat32));
  for (int64_t s = 0; s < N; s += chunk) {
    const int64_t n = std::min(chunk, N - s);
    auto lg = model::linear(h.narrow(0, s, n), W).to(torch::kFloat32);
    if (temperature != 1.0) lg.div_(temperature);
    auto tk = torch::topk(lg, k, -1, true, true);
    out.logits.narrow(0, s, n).copy_(std::get<0>(tk));
    out.ids.narrow(0, s, n).copy_(std::get<1>(tk));
    if (targets.defined()) {
      auto lse = torch::logsumexp(lg, -1);
      auto t = lg.gather(1, tg.narrow(0, s, n).view({n, 1}).to(torch::kInt64)).squeeze(1);
      out.target_logprobs.narrow(0, s, n).copy_(t - lse);
    }
  }
  return out;
}

namespace {

// With `fused` (gradients wanted) the forward pass also computes dL/dh and dL/dW while each chunk's
// logits are at hand, and backward only scales them by the upstream gradient: the logits are
// computed once instead of twice (2 N V d FLOPs saved), and never all at once.
// Two formulations of the same arithmetic. `passes` = Few (the GPU's): log_softmax once, the
// probabilities as its exp in place, row weights applied to the [n,d] sides of the two gradient
// matmuls: about 5 passes over the [n,V] logits. Many (the CPU's, which the demo's published numbers
// were made with): logsumexp, then softmax and an [n,V] weight multiply: about 11 passes. On a GPU the
// logits passes are memory-bound and cost as much as the lm_head's matmuls.
// On the CPU these chunk GEMMs stay on OpenBLAS: at the lm_head's [~1000 x 32000 x 512] shapes oneDNN
// was slower (small shape, whole loss 1.98 s against 1.66 s, same run), unlike the blocks' products.
// The bf16 GEMMs (Head::Bf16, GPU only): both operands rounded to bf16, products accumulated and
// written in fp32 by cuBLAS; the logits, log_softmax and the loss stay fp32. The fp32 GEMMs ran in TF32
// on the GPU anyway (10-bit mantissa inputs instead of bf16's 7), at half bf16's peak.
torch::Tensor mm_fp32_out(const torch::Tensor& a, const torch::Tensor& b) {
#if SDZ_HAVE_MM_OUT_DTYPE
  if (a.scalar_type() == torch::kBFloat16) return at::mm(a, b, torch::kFloat32);
#endif
  return torch::matmul(a, b);
}

void addmm_fp32_(torch::Tensor& acc, const torch::Tensor& a, const torch::Tensor& b) {
#if SDZ_HAVE_MM_OUT_DTYPE
  if (a.scalar_type() == torch::kBFloat16) {
    at::addmm_out(acc, acc, a, b, torch::kFloat32);
    return;
  }
#endif
  acc.addmm_(a, b);
}

struct ChunkedNll : public torch::autograd::Function<ChunkedNll> {
  // Wg: the GEMMs' copy of W (W itself, or its bf16 rounding).
  static void chunk_grad(torch::Tensor p, const torch::Tensor& tg, const torch::Tensor& w, const torch::Tensor& W,
                         const torch::Tensor& Wg, const torch::Tensor& hc, torch::Tensor gh_rows, torch::Tensor& gW,
                         bool few) {
    // p holds softmax(z); d(lse - z_t)/dz = softmax - onehot, times the row weight.
    const int64_t n = p.size(0);
    p.scatter_add_(1, tg.view({n, 1}), -torch::ones({n, 1}, p.options()));
    if (few) {
      const auto pg = p.to(Wg.scalar_type());
      gh_rows.copy_(mm_fp32_out(pg, Wg).mul_(w.view({n, 1})));
      addmm_fp32_(gW, pg.t(), (hc * w.view({n, 1})).to(Wg.scalar_type()));
      return;
    }
    p.mul_(w.view({n, 1}));
    gh_rows.copy_(torch::matmul(p, W));
    gW.addmm_(p.t(), hc);
  }
  static torch::Tensor forward(AutogradContext* ctx, torch::Tensor h, torch::Tensor W, torch::Tensor targets,
                               torch::Tensor weights, int64_t chunk, bool fused, bool few, bool bf16) {
    if (bf16) {
      try {
        return run(ctx, h, W, targets, weights, chunk, fused, few, W.to(torch::kBFloat16));
      } catch (const c10::Error&) {
        g_bf16_head = false;  // a torch without the out_dtype GEMMs: fp32 from now on
      }
    }
    return run(ctx, h, W, targets, weights, chunk, fused, few, W);
  }
  static torch::Tensor run(AutogradContext* ctx, const torch::Tensor& h, const torch::Tensor& W,
                           const torch::Tensor& targets, const torch::Tensor& weights, int64_t chunk, bool fused,
                           bool few, const torch::Tensor& Wg) {
    const int64_t N = h.size(0);
    auto total = torch::zeros({}, h.options());
    torch::Tensor gh, gW;
    if (fused) {
      gh = torch::empty_like(h);
      gW = torch::zeros_like(W);
    }
    for (int64_t s = 0; s < N; s += chunk) {
      const int64_t n = std::min(chunk, N - s);
      auto hc = h.narrow(0, s, n);
      auto tg = targets.narrow(0, s, n);
      auto w = weights.narrow(0, s, n);
      auto lg = mm_fp32_out(hc.to(Wg.scalar_type()), Wg.t());
      if (Wg.scalar_type() == torch::kBFloat16 && softmax_xent_applies(lg)) {
        // The GPU's fused cross-entropy: the loss per row and the logits' gradient in bf16, in two
        // passes over the logits (fused_ops.hpp); row weights on the [n,d] side as below.
        torch::Tensor p;
        auto nll = softmax_xent(lg, tg, fused ? &p : nullptr);
        lg = torch::Tensor();
        total += (nll * w).sum();
        if (fused) {
          gh.narrow(0, s, n).copy_(mm_fp32_out(p, Wg).mul_(w.view({n, 1})));
          addmm_fp32_(gW, p.t(), (hc * w.view({n, 1})).to(Wg.scalar_type()));
        }
        continue;
      }
      if (!few && Wg.scalar_type() == torch::kFloat32 && cpu_fused_applies(lg)) {
        // The CPU's fused cross-entropy (fused_ops.hpp): the loss per row, and the logits turned in
        // place into their weighted gradient, in two passes over the logits instead of about eleven.
        auto nll = softmax_xent_cpu_(lg, tg, w, fused);
        total += (nll * w).sum();
        if (fused) {
          gh.narrow(0, s, n).copy_(torch::matmul(lg, W));
          gW.addmm_(lg.t(), hc);
        }
        continue;
      }
      if (few) {
        auto lp = torch::log_softmax(lg, -1);
        lg = torch::Tensor();  // its memory is free for the gradient matmuls
        total -= (lp.gather(1, tg.view({n, 1})).squeeze(1) * w).sum();
        if (fused) chunk_grad(lp.exp_(), tg, w, W, Wg, hc, gh.narrow(0, s, n), gW, true);
        continue;
      }
      auto lse = torch::logsumexp(lg, -1);
      auto t = lg.gather(1, tg.view({n, 1})).squeeze(1);
      total += ((lse - t) * w).sum();
      if (fused) chunk_grad(torch::softmax(lg, -1), tg, w, W, Wg, hc, gh.narrow(0, s, n), gW, false);
    }
    if (fused) ctx->save_for_backward({gh, gW});
    return total;
  }
  static tensor_list backward(AutogradContext* ctx, tensor_list grads) {
    auto sv = ctx->get_saved_variables();
    auto g = grads[0];
    // Not fused means no input wanted a gradient, so backward never runs then.
    return {sv[0] * g, sv[1] * g, {}, {}, {}, {}, {}, {}};
  }
};

struct LogitsAt : public torch::autograd::Function<LogitsAt> {
  static torch::Tensor forward(AutogradContext* ctx, torch::Tensor h, torch::Tensor W, torch::Tensor ids,
                               int64_t chunk) {
    ctx->save_for_backward({h, W, ids});
    ctx->saved_data["chunk"] = chunk;
    const int64_t N = h.size(0), k = ids.size(1);
    auto out = torch::empty({N, k}, h.options());
    for (int64_t s = 0; s < N; s += chunk) {
      const int64_t n = std::min(chunk, N - s);
      auto Wg = W.index_select(0, ids.narrow(0, s, n).reshape({-1})).view({n, k, -1});
      out.narrow(0, s, n).copy_(torch::bmm(Wg, h.narrow(0, s, n).unsqueeze(2)).squeeze(2));
    }
    return out;
  }
  static tensor_list backward(AutogradContext* ctx, tensor_list grads) {
    auto sv = ctx->get_saved_variables();
    auto h = sv[0], W = sv[1], ids = sv[2];
    const int64_t chunk = ctx->saved_data["chunk"].toInt(), N = h.size(0), k = ids.size(1);
    auto g = grads[0];
    auto gh = torch::empty_like(h), gW = torch::zeros_like(W);
    for (int64_t s = 0; s < N; s += chunk) {
      const int64_t n = std::min(chunk, N - s);
      auto idc = ids.narrow(0, s, n).reshape({-1});
      auto Wg = W.index_select(0, idc).view({n, k, -1});
      auto gc = g.narrow(0, s, n);
      gh.narrow(0, s, n).copy_(torch::bmm(gc.unsqueeze(1), Wg).squeeze(1));
      gW.index_add_(0, idc, (gc.unsqueeze(2) * h.narrow(0, s, n).unsqueeze(1)).reshape({n * k, -1}));
    }
    return {gh, gW, torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

torch::Tensor chunked_nll(const torch::Tensor& h, const torch::Tensor& W, const torch::Tensor& targets,
                          const torch::Tensor& weights, int64_t chunk, NllPasses passes, Head head) {
  SDZ_CHECK(h.dim() == 2 && W.dim() == 2 && h.size(1) == W.size(1), "chunked_nll: h [N,d] and W [V,d] expected");
  SDZ_CHECK(targets.numel() == h.size(0) && weights.numel() == h.size(0), "chunked_nll: one target and weight per row");
  const bool few = passes == NllPasses::Few || (passes == NllPasses::Auto && h.is_cuda());
  if (chunk <= 0) chunk = nll_chunk_rows(W.size(0), h.is_cuda());
  const bool fused = torch::GradMode::is_enabled() && (h.requires_grad() || W.requires_grad());
  // bf16 GEMMs only in the few-passes formulation on a GPU (the CPU keeps its published arithmetic).
  const bool bf16 = head == Head::Bf16 && few && h.is_cuda() && g_bf16_head && SDZ_HAVE_MM_OUT_DTYPE;
  return ChunkedNll::apply(h, W, targets.to(h.device(), torch::kInt64).contiguous(),
                           weights.to(h.device(), h.scalar_type()).contiguous(), chunk, fused, few, bf16);
}

torch::Tensor logits_at(const torch::Tensor& h, const torch::Tensor& W, const torch::Tensor& ids, int64_t chunk) {
  SDZ_CHECK(h.dim() == 2 && ids.dim() == 2 && ids.size(0) == h.size(0), "logits_at: h [N,d], ids [N,k] expected");
  return LogitsAt::apply(h, W, ids.to(h.device(), torch::kInt64).contiguous(), std::max<int64_t>(chunk, 1));
}

}  // namespace sdz::model
