// defines: sdz::model::linear (y = x W^T + b, the one entry point of every weight matmul), the CPU
// matmul backend switch (model.cpu_matmul: onednn | blas) and the budget of packed weight copies.
// Why oneDNN on the CPU: libtorch 1.13's matmuls go to OpenBLAS, which re-packs the weight matrix into
// its blocked layout at every call. At decode (64 rows a step) that packing costs about half the
// multiply (perf, docs/MODEL.md), and at the demo's widths (128-384) OpenBLAS reaches a third of the
// peak. oneDNN (the libdnnl that libtorch itself links) runs the same products with its brgemm kernels;
// in inference each weight is packed once into oneDNN's layout and reused until the weight changes.
// Only fp32 CPU tensors take this path; bf16, CUDA, builds without oneDNN and model.cpu_matmul=blas
// call torch::linear, so every result can be compared against it (tests/model/cpu_matmul_test.cpp).
#pragma once
#include <torch/torch.h>

#include <cstdint>
#include <string>

// 1 in the two files CMake compiles against oneDNN when it found it (cpu_matmul.cpp, packed_weights.cpp).
#ifndef SDZ_HAVE_ONEDNN
#define SDZ_HAVE_ONEDNN 0
#endif

namespace sdz::model {

enum class CpuMatmul { OneDnn, Blas };

// Whether this build has oneDNN (CMake found oneapi/dnnl/dnnl.hpp and libdnnl; CPU builds only).
bool onednn_built();
// Process-wide backend for fp32 CPU matmuls (default OneDnn where built). Returns false, leaving Blas,
// when OneDnn is asked for and not built.
bool set_cpu_matmul(CpuMatmul m);
CpuMatmul cpu_matmul();
// "onednn" | "blas" <-> CpuMatmul; anything else is an sdz::Error naming `where`.
CpuMatmul parse_cpu_matmul(const std::string& name, const std::string& where = "model.cpu_matmul");
const char* cpu_matmul_name(CpuMatmul m);

// y = x W^T (+ b): x [..., K], W [N, K], b [N] or undefined; y [..., N]. Differentiable in x, W and b.
// Without gradients (no grad mode, or nothing here requires grad) W is used in its packed copy, made
// on first use and made again whenever W's version counter or storage moved (an optimizer step, a
// load, a sync; dist/tensor_sync.cpp bumps the counter of the tensors MPI writes into).
torch::Tensor linear(const torch::Tensor& x, const torch::Tensor& W, const torch::Tensor& b = {});

// a [..., M, K] times b [..., K, N] with the same batch dims (2 to 4 dims in all; any strides, such as
// a KV cache's keys read through a narrow and a transpose, or W.t()). fp32 on the CPU it is one oneDNN
// product parallel over the batch (torch 1.13 loops over the batch on one thread), differentiable
// through the same product on transposed views; everywhere else torch::matmul.
torch::Tensor matmul(const torch::Tensor& a, const torch::Tensor& b);

// Packed copies live while their weight does, up to this many bytes in all (default 4 GiB); beyond it
// weights are multiplied unpacked. Returns the bytes held now.
void set_packed_weight_budget(int64_t bytes);
int64_t packed_weight_bytes();

}  // namespace sdz::model
