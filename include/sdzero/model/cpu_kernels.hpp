// defines: the decoder block's fused CPU kernels (fp32, contiguous; src/model/cpu_kernels.cpp), the
// CPU twins of fused_kernels.hpp. Raw pointers, no torch: fused_ops.cpp wraps them as differentiable
// operations. Each replaces several of torch's passes over the activations with one (forward) or two
// (backward); on the tiny demo model, where every operator costs more to launch than to run, the
// saving is in the count of operators as much as in memory traffic.
// Work is split into fixed blocks of rows, and partial sums are added in block order, so results do
// not depend on the thread count.
#pragma once
#include <cstdint>

namespace sdz::model::cpu {

// Rows of R values (the span of one RMSNorm) hold R/D heads of D (D even; D = 0: no rotation); row r
// is at position r / rows_per_token of the RoPE tables cos/sin [positions, D/2] (sin not negated).
// y = rope(x * rsqrt(mean(x^2) + eps) * w), rotate_half pairing; rstd [rows] is written unless null.
void norm_rope_forward(const float* x, const float* w, const float* cos, const float* sin, float* y, float* rstd,
                       int64_t rows, int64_t R, int64_t D, int64_t rows_per_token, float eps);
// dx [rows, R] and dw [R] (overwritten) from dy and the forward's rstd.
void norm_rope_backward(const float* dy, const float* x, const float* w, const float* rstd, const float* cos,
                        const float* sin, float* dx, float* dw, int64_t rows, int64_t R, int64_t D,
                        int64_t rows_per_token);

// out = silu(g) * u over n values, and its backward (dg, du).
void swiglu_forward(const float* g, const float* u, float* out, int64_t n);
void swiglu_backward(const float* dout, const float* g, const float* u, float* dg, float* du, int64_t n);

// Rows of logits z [rows, V]: nll[r] = logsumexp(z_r) - z_r[target_r]; unless p is null,
// p [rows, V] = scale[r] * (softmax(z_r) - onehot(target_r)) (scale null: 1). p may be z itself.
void softmax_xent_rows(const float* z, const int64_t* target, const float* scale, float* p, float* nll,
                       int64_t rows, int64_t V);

// exp(x) to about 2 ulp, the polynomial the kernels use (exposed for the tests).
float exp_approx(float x);

}  // namespace sdz::model::cpu
