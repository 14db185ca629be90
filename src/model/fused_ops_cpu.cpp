// The fused CPU operations (fused_ops.hpp) as autograd functions over the kernels of cpu_kernels.cpp:
// fp32 and contiguous only; fused_ops.cpp and transformer.cpp take them when cpu_fused_applies() says so.
#include <atomic>

#include "sdzero/core/error.hpp"
#include "sdzero/model/cpu_kernels.hpp"
#include "sdzero/model/fused_ops.hpp"

namespace sdz::model {

namespace {

std::atomic<bool> g_cpu_on{true};

using torch::autograd::AutogradContext;
using torch::autograd::tensor_list;

float* fp(const torch::Tensor& t) { return t.defined() && t.numel() > 0 ? t.data_ptr<float>() : nullptr; }

// D = 0: the norm alone (cos and sin empty).
struct CpuNormRope : public torch::autograd::Function<CpuNormRope> {
  static torch::Tensor forward(AutogradContext* ctx, torch::Tensor x, torch::Tensor w, torch::Tensor cos,
                               torch::Tensor sin, int64_t R, int64_t D, int64_t rows_per_token, double eps) {
    auto y = torch::empty_like(x);
    const int64_t rows = x.numel() / R;
    auto rstd = torch::empty({rows}, x.options());
    cpu::norm_rope_forward(fp(x), fp(w), fp(cos), fp(sin), fp(y), fp(rstd), rows, R, D, rows_per_token, float(eps));
    ctx->save_for_backward({x, w, rstd, cos, sin});
    ctx->saved_data["R"] = R;
    ctx->saved_data["D"] = D;
    ctx->saved_data["rows_per_token"] = rows_per_token;
    return y;
  }
  static tensor_list backward(AutogradContext* ctx, tensor_list grads) {
    auto sv = ctx->get_saved_variables();
    const auto &x = sv[0], &w = sv[1], &rstd = sv[2], &cos = sv[3], &sin = sv[4];
    const int64_t R = ctx->saved_data["R"].toInt(), D = ctx->saved_data["D"].toInt();
    auto dy = grads[0].contiguous();
    auto dx = torch::empty_like(x), dw = torch::empty_like(w);
    cpu::norm_rope_backward(fp(dy), fp(x), fp(w), fp(rstd), fp(cos), fp(sin), fp(dx), fp(dw), x.numel() / R, R, D,
                            ctx->saved_data["rows_per_token"].toInt());
    return {dx, dw, {}, {}, {}, {}, {}, {}};
  }
};

struct CpuSwiGlu : public torch::autograd::Function<CpuSwiGlu> {
  static torch::Tensor forward(AutogradContext* ctx, torch::Tensor g, torch::Tensor u) {
    auto out = torch::empty_like(g);
    cpu::swiglu_forward(fp(g), fp(u), fp(out), g.numel());
    ctx->save_for_backward({g, u});
    return out;
  }
  static tensor_list backward(AutogradContext* ctx, tensor_list grads) {
    auto sv = ctx->get_saved_variables();
    auto d = grads[0].contiguous();
    auto dg = torch::empty_like(sv[0]), du = torch::empty_like(sv[1]);
    cpu::swiglu_backward(fp(d), fp(sv[0]), fp(sv[1]), fp(dg), fp(du), d.numel());
    return {dg, du};
  }
};

bool fp32_cpu(const torch::Tensor& t) {
  return t.defined() && t.device().is_cpu() && t.scalar_type() == torch::kFloat32 && t.is_contiguous();
}

}  // namespace

bool set_cpu_fused_kernels(bool on) { return g_cpu_on.exchange(on); }

bool cpu_fused_kernels_on() { return g_cpu_on; }

bool cpu_fused_applies(const torch::Tensor& t) { return g_cpu_on && fp32_cpu(t); }

bool cpu_fused_applies(const torch::Device& d, torch::ScalarType t) {
  return g_cpu_on && d.is_cpu() && t == torch::kFloat32;
}

torch::Tensor cpu_norm_rope(const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& cos,
                            const torch::Tensor& sin, int64_t R, int64_t D, int64_t rows_per_token, double eps) {
  SDZ_CHECK(cpu_fused_applies(x) && R > 0 && x.numel() % R == 0 && (D == 0 || (D % 2 == 0 && R % D == 0)),
            "norm_rope: needs a contiguous fp32 CPU tensor of rows of R = a multiple of the even head size D",
            "model::norm_rope");
  SDZ_CHECK(fp32_cpu(w) && w.numel() == R, "norm_rope: one fp32 weight per column of R", "model::norm_rope");
  if (D > 0)
    SDZ_CHECK(fp32_cpu(cos) && fp32_cpu(sin) && cos.sizes() == sin.sizes() && cos.dim() == 2 && cos.size(1) == D / 2 &&
                  cos.size(0) * rows_per_token * R == x.numel(),
              "norm_rope: cos/sin must be fp32 [positions, D/2], one position per rows_per_token rows",
              "model::norm_rope");
  const auto none = torch::empty({0}, x.options());
  if (torch::GradMode::is_enabled() && (x.requires_grad() || w.requires_grad()))
    return CpuNormRope::apply(x, w, D ? cos : none, D ? sin : none, R, D, rows_per_token, eps);
  // Inference (generation, scoring): no graph, no saved tensors, no rstd.
  auto y = torch::empty_like(x);
  cpu::norm_rope_forward(fp(x), fp(w), D ? fp(cos) : nullptr, D ? fp(sin) : nullptr, fp(y), nullptr, x.numel() / R, R,
                         D, rows_per_token, float(eps));
  return y;
}

torch::Tensor cpu_swiglu(const torch::Tensor& g, const torch::Tensor& u) {
  if (torch::GradMode::is_enabled() && (g.requires_grad() || u.requires_grad())) return CpuSwiGlu::apply(g, u);
  auto out = torch::empty_like(g);
  cpu::swiglu_forward(fp(g), fp(u), fp(out), g.numel());
  return out;
}

torch::Tensor softmax_xent_cpu_(torch::Tensor& z, const torch::Tensor& targets, const torch::Tensor& scale, bool grad) {
  SDZ_CHECK(cpu_fused_applies(z) && z.dim() == 2, "softmax_xent_cpu_: needs contiguous fp32 CPU logits [rows, V]",
            "model::softmax_xent_cpu_");
  const auto tg = targets.to(torch::kInt64).contiguous();
  const auto sc = scale.to(torch::kFloat32).contiguous();
  SDZ_CHECK(tg.numel() == z.size(0) && sc.numel() == z.size(0), "softmax_xent_cpu_: one target and scale per row",
            "model::softmax_xent_cpu_");
  SDZ_CHECK(tg.numel() == 0 || (tg.min().item<int64_t>() >= 0 && tg.max().item<int64_t>() < z.size(1)),
            "softmax_xent_cpu_: a target outside the vocabulary", "model::softmax_xent_cpu_");
  auto nll = torch::empty({z.size(0)}, z.options());
  cpu::softmax_xent_rows(fp(z), tg.data_ptr<int64_t>(), fp(sc), grad ? fp(z) : nullptr, fp(nll), z.size(0),
                         z.size(1));
  return nll;
}

}  // namespace sdz::model
