// defines: the decoder block's fused GPU operations (hand-written CUDA kernels in
// src/model/cuda/fused_kernels.cu), as differentiable torch operations, and the switch that turns
// them off. Each fuses what torch runs as several passes over the activations:
// - norm_rope: a q/k RMSNorm, its weight and the RoPE rotation (forward: 1 kernel instead of 5-7;
//   backward: 1 kernel instead of the norm's input and weight-gradient kernels and RoPE's 3-4);
// - swiglu: silu(gate) * up (1 kernel instead of 2 forward, 3 backward);
// - softmax_xent: the lm_head's cross-entropy and its logits gradient per chunk of rows.
// They compute in fp32 and round to bf16 once, where torch rounds after every operation; the GPU
// tests hold them to the written-out operations.
// fp32 CPU tensors take the CPU twins (cpu_kernels.hpp, fused_ops_cpu.cpp; model.cpu_fused_kernels):
// the same operations plus the plain RMSNorm, and the lm_head's cross-entropy in place.
#pragma once
#include <torch/torch.h>

#include <cstdint>

namespace sdz::model {

// Turns the fused kernels on (the default) or off; returns whether this build has them (CUDA builds).
bool set_fused_kernels(bool on);
// Whether the fused kernels are compiled in and on.
bool fused_kernels_on();

// Whether norm_rope takes x: on and built, a contiguous bf16 CUDA tensor, R a multiple of the even
// head size D within the kernels' limits.
bool norm_rope_applies(const torch::Tensor& x, int64_t R, int64_t D);
// x viewed as rows of R (the norm's span: one head for Qwen3, all heads for Olmo-3); row r is at
// position r / rows_per_token of the RoPE tables cos/sin [positions, D/2] (fp32, the attention factor
// included). Returns rope(x * rsqrt(mean(x^2) + eps) * w), rotate_half pairing, in x's shape.
torch::Tensor norm_rope(const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& cos,
                        const torch::Tensor& sin, int64_t R, int64_t D, int64_t rows_per_token, double eps);

// Whether softmax_xent takes z: on and built, contiguous fp32 CUDA logits [rows, V].
bool softmax_xent_applies(const torch::Tensor& z);
// Per row of logits z [rows, V] and targets [rows] (int64): returns logsumexp(z) - z[target] (fp32
// [rows]); with p, also sets *p = softmax(z) - onehot(target) in bf16 (the cross-entropy's gradient
// for the bf16 GEMMs that follow). Replaces log_softmax, gather, exp, scatter and the bf16 cast: two
// reads of the logits instead of about six. No autograd (the lm_head computes its own gradients).
torch::Tensor softmax_xent(const torch::Tensor& z, const torch::Tensor& targets, torch::Tensor* p);

// silu(g) * u: the fused kernel for bf16 CUDA tensors or fp32 CPU tensors of one shape when on, torch's
// ops otherwise.
torch::Tensor swiglu(const torch::Tensor& g, const torch::Tensor& u);

// ---- the CPU twins (fp32, contiguous) ----
// Turns them on (the default) or off (torch's written-out operations, the numbers of the demo runs
// before session 17); returns the previous setting.
bool set_cpu_fused_kernels(bool on);
bool cpu_fused_kernels_on();
// Whether the CPU kernels take t (on, fp32, CPU, contiguous), or tensors of this device and dtype.
bool cpu_fused_applies(const torch::Tensor& t);
bool cpu_fused_applies(const torch::Device& d, torch::ScalarType t);
// norm_rope on the CPU (as above; D = 0 and undefined cos/sin: the RMSNorm alone, over rows of R).
torch::Tensor cpu_norm_rope(const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& cos,
                            const torch::Tensor& sin, int64_t R, int64_t D, int64_t rows_per_token, double eps);
torch::Tensor cpu_swiglu(const torch::Tensor& g, const torch::Tensor& u);
// Rows of fp32 CPU logits z [rows, V]: returns logsumexp(z) - z[target] per row; with grad, z is
// overwritten with scale[r] * (softmax(z_r) - onehot(target_r)), the lm_head's logits gradient.
torch::Tensor softmax_xent_cpu_(torch::Tensor& z, const torch::Tensor& targets, const torch::Tensor& scale, bool grad);

}  // namespace sdz::model
