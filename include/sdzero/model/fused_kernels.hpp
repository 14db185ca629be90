// defines: launchers of the hand-written CUDA kernels (src/model/cuda/fused_kernels.cu, GPU builds
// only). Raw pointers and a cudaStream_t passed as void*, so neither side needs the other's headers.
// Tensors are bf16 and contiguous; the RoPE tables are fp32 [positions, D/2]. Each returns 0 or the
// CUDA error code of its launch.
#pragma once
#include <cstdint>

namespace sdz::model::cuda {

// Rows of R values (the span of one RMSNorm) hold R/D heads of D; row r is at position
// r / rows_per_token. Whether the kernels take R and D.
bool norm_rope_supported(int64_t R, int64_t D);
// y = rope(x * rsqrt(mean(x^2) + eps) * w); rstd [rows] is written for backward unless null.
int norm_rope_forward(const void* x, const void* w, const float* cos, const float* sin, void* y, float* rstd,
                      int64_t rows, int64_t R, int64_t D, int64_t rows_per_token, float eps, void* stream);
// dx [rows, R] and partial sums of dL/dw, dw_part [norm_rope_partials(rows, R, D), R] fp32. Heads of
// D = R (Qwen3) take warp-per-row kernels that read bf16 pairs: x, dy, y, dx, w 4-byte aligned and the
// tables 8-byte aligned (norm_rope in fused_ops.cpp sees to it).
int64_t norm_rope_partials(int64_t rows, int64_t R, int64_t D);
int norm_rope_backward(const void* dy, const void* x, const void* w, const float* rstd, const float* cos,
                       const float* sin, void* dx, float* dw_part, int64_t rows, int64_t R, int64_t D,
                       int64_t rows_per_token, void* stream);
// Rows of fp32 logits z [rows, V]: nll[r] = logsumexp(z_r) - z_r[target_r] (fp32); unless p is null,
// p [rows, V] (bf16) = softmax(z_r) - onehot(target_r).
int softmax_xent_rows(const float* z, const int64_t* target, void* p, float* nll, int64_t rows, int64_t V,
                      void* stream);
// out = silu(g) * u and its backward, over n (even) values.
int swiglu_forward(const void* g, const void* u, void* out, int64_t n, void* stream);
int swiglu_backward(const void* dout, const void* g, const void* u, void* dg, void* du, int64_t n, void* stream);

}  // namespace sdz::model::cuda
