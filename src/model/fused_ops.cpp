// Fused GPU operations as autograd functions (see fused_ops.hpp). The kernels exist only in CUDA
// builds (SDZ_WITH_CUDA); elsewhere every entry point takes torch's own operations.
#include "sdzero/model/fused_ops.hpp"

#include <atomic>
#include <cstdint>
#include <string>

#include "sdzero/core/error.hpp"

#ifdef SDZ_WITH_CUDA
#include <c10/cuda/CUDAStream.h>

#include "sdzero/model/fused_kernels.hpp"
#endif

namespace sdz::model {

namespace {

std::atomic<bool> g_on{true};

#ifdef SDZ_WITH_CUDA
void* stream() { return c10::cuda::getCurrentCUDAStream().stream(); }

void launched(int rc, const char* what) {
  SDZ_CHECK(rc == 0, std::string(what) + ": CUDA launch failed with error " + std::to_string(rc), "model::fused_ops");
}

using torch::autograd::AutogradContext;
using torch::autograd::tensor_list;

// The kernels read pairs of values: a tensor whose storage offset breaks 16-byte alignment (a view
// into another tensor) is copied first. Fresh allocations are always aligned.
torch::Tensor aligned(const torch::Tensor& t) {
  return reinterpret_cast<uintptr_t>(t.data_ptr()) % 16 == 0 ? t : t.clone();
}

struct NormRope : public torch::autograd::Function<NormRope> {
  static torch::Tensor forward(AutogradContext* ctx, torch::Tensor x_in, torch::Tensor w, torch::Tensor cos_in,
                               torch::Tensor sin_in, int64_t R, int64_t D, int64_t rows_per_token, double eps) {
    auto x = aligned(x_in), wc = aligned(w.contiguous()), cos = aligned(cos_in), sin = aligned(sin_in);
    auto y = torch::empty_like(x);
    const int64_t rows = x.numel() / R;
    auto rstd = torch::empty({rows}, x.options().dtype(torch::kFloat32));
    launched(cuda::norm_rope_forward(x.data_ptr(), wc.data_ptr(), cos.data_ptr<float>(), sin.data_ptr<float>(),
                                     y.data_ptr(), rstd.data_ptr<float>(), rows, R, D, rows_per_token, float(eps),
                                     stream()),
             "norm_rope forward");
    ctx->save_for_backward({x, wc, rstd, cos, sin});
    ctx->saved_data["R"] = R;
    ctx->saved_data["D"] = D;
    ctx->saved_data["rows_per_token"] = rows_per_token;
    return y;
  }
  static tensor_list backward(AutogradContext* ctx, tensor_list grads) {
    auto sv = ctx->get_saved_variables();
    const auto &x = sv[0], &w = sv[1], &rstd = sv[2], &cos = sv[3], &sin = sv[4];
    const int64_t R = ctx->saved_data["R"].toInt(), D = ctx->saved_data["D"].toInt();
    const int64_t rows = x.numel() / R;
    auto dy = aligned(grads[0].contiguous());
    auto dx = torch::empty_like(x);
    auto part = torch::empty({cuda::norm_rope_partials(rows, R, D), R}, x.options().dtype(torch::kFloat32));
    launched(cuda::norm_rope_backward(dy.data_ptr(), x.data_ptr(), w.data_ptr(), rstd.data_ptr<float>(),
                                      cos.data_ptr<float>(), sin.data_ptr<float>(), dx.data_ptr(),
                                      part.data_ptr<float>(), rows, R, D,
                                      ctx->saved_data["rows_per_token"].toInt(), stream()),
             "norm_rope backward");
    return {dx, part.sum(0).to(w.scalar_type()), {}, {}, {}, {}, {}, {}};
  }
};

struct SwiGlu : public torch::autograd::Function<SwiGlu> {
  static torch::Tensor forward(AutogradContext* ctx, torch::Tensor g, torch::Tensor u) {
    auto out = torch::empty_like(g);
    launched(cuda::swiglu_forward(g.data_ptr(), u.data_ptr(), out.data_ptr(), g.numel(), stream()), "swiglu forward");
    ctx->save_for_backward({g, u});
    return out;
  }
  static tensor_list backward(AutogradContext* ctx, tensor_list grads) {
    auto sv = ctx->get_saved_variables();
    auto d = grads[0].contiguous();
    auto dg = torch::empty_like(sv[0]), du = torch::empty_like(sv[1]);
    launched(cuda::swiglu_backward(d.data_ptr(), sv[0].data_ptr(), sv[1].data_ptr(), dg.data_ptr(), du.data_ptr(),
                                   d.numel(), stream()),
             "swiglu backward");
    return {dg, du};
  }
};
#endif

#ifdef SDZ_WITH_CUDA
bool bf16_cuda(const torch::Tensor& t) {
  return t.defined() && t.is_cuda() && t.scalar_type() == torch::kBFloat16 && t.is_contiguous();
}
#endif

}  // namespace

bool set_fused_kernels(bool on) {
  g_on = on;
#ifdef SDZ_WITH_CUDA
  return true;
#else
  return false;
#endif
}

bool fused_kernels_on() {
#ifdef SDZ_WITH_CUDA
  return g_on;
#else
  return false;
#endif
}

bool norm_rope_applies(const torch::Tensor& x, int64_t R, int64_t D) {
  if (cpu_fused_applies(x)) return R > 0 && D > 0 && D % 2 == 0 && R % D == 0 && x.numel() % R == 0;
#ifdef SDZ_WITH_CUDA
  return g_on && bf16_cuda(x) && R > 0 && x.numel() % R == 0 && cuda::norm_rope_supported(R, D);
#else
  (void)x, (void)R, (void)D;
  return false;
#endif
}

torch::Tensor norm_rope(const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& cos,
                        const torch::Tensor& sin, int64_t R, int64_t D, int64_t rows_per_token, double eps) {
  if (x.device().is_cpu()) return cpu_norm_rope(x, w, cos, sin, R, D, rows_per_token, eps);
  SDZ_CHECK(norm_rope_applies(x, R, D), "norm_rope: needs a contiguous bf16 CUDA tensor and the fused kernels",
            "model::norm_rope");
  SDZ_CHECK(w.numel() == R && w.scalar_type() == x.scalar_type(), "norm_rope: one weight per column of R, in x's dtype",
            "model::norm_rope");
  SDZ_CHECK(cos.scalar_type() == torch::kFloat32 && sin.scalar_type() == torch::kFloat32 && cos.is_contiguous() &&
                sin.is_contiguous() && cos.sizes() == sin.sizes() && cos.dim() == 2 && cos.size(1) == D / 2 &&
                cos.size(0) * rows_per_token * R == x.numel(),
            "norm_rope: cos/sin must be fp32 [positions, D/2], one position per rows_per_token rows",
            "model::norm_rope");
#ifdef SDZ_WITH_CUDA
  return NormRope::apply(x, w, cos, sin, R, D, rows_per_token, eps);
#else
  (void)eps;
  return x;
#endif
}

bool softmax_xent_applies(const torch::Tensor& z) {
#ifdef SDZ_WITH_CUDA
  return g_on && z.defined() && z.is_cuda() && z.scalar_type() == torch::kFloat32 && z.dim() == 2 && z.is_contiguous();
#else
  (void)z;
  return false;
#endif
}

torch::Tensor softmax_xent(const torch::Tensor& z, const torch::Tensor& targets, torch::Tensor* p) {
  SDZ_CHECK(softmax_xent_applies(z), "softmax_xent: needs contiguous fp32 CUDA logits [rows, V] and the fused kernels",
            "model::softmax_xent");
  const auto tg = targets.to(z.device(), torch::kInt64).contiguous();
  SDZ_CHECK(tg.numel() == z.size(0), "softmax_xent: one target per row", "model::softmax_xent");
  auto nll = torch::empty({z.size(0)}, z.options());
#ifndef SDZ_WITH_CUDA
  (void)p;
#else
  if (p) *p = torch::empty(z.sizes(), z.options().dtype(torch::kBFloat16));
  launched(cuda::softmax_xent_rows(z.data_ptr<float>(), tg.data_ptr<int64_t>(), p ? p->data_ptr() : nullptr,
                                   nll.data_ptr<float>(), z.size(0), z.size(1), stream()),
           "softmax_xent");
#endif
  return nll;
}

torch::Tensor swiglu(const torch::Tensor& g, const torch::Tensor& u) {
  if (cpu_fused_applies(g) && cpu_fused_applies(u) && g.sizes() == u.sizes()) return cpu_swiglu(g, u);
#ifdef SDZ_WITH_CUDA
  // The kernel reads bf16 pairs: 4-byte aligned starts and an even count.
  auto aligned = [](const torch::Tensor& t) { return reinterpret_cast<uintptr_t>(t.data_ptr()) % 4 == 0; };
  if (g_on && bf16_cuda(g) && bf16_cuda(u) && g.sizes() == u.sizes() && g.numel() % 2 == 0 && aligned(g) && aligned(u))
    return SwiGlu::apply(g, u);
#endif
  return torch::silu(g) * u;
}

}  // namespace sdz::model
