// The GPU's fused operations on a CPU build or with CPU tensors: every entry point says it does not
// apply, and with the CPU twins switched off (tests/model/cpu_kernels_test.cpp) the model keeps torch's
// own arithmetic, bit for bit. The GPU kernels themselves are tested on a GPU
// (tests/gpu/fused_gpu_test.cpp).
#include <gtest/gtest.h>

#include <torch/torch.h>

#include "sdzero/model/fused_ops.hpp"
#include "sdzero/model/lm_head.hpp"

using namespace sdz;

TEST(FusedOps, CpuTensorsTakeTorchsOperations) {
  torch::manual_seed(1);
  auto g = torch::randn({5, 8}), u = torch::randn({5, 8});
  const bool cpu_before = model::set_cpu_fused_kernels(false);
  EXPECT_TRUE(torch::equal(model::swiglu(g, u), torch::silu(g) * u));
  model::set_cpu_fused_kernels(cpu_before);
  EXPECT_FALSE(model::norm_rope_applies(g.to(torch::kBFloat16), 8, 8)) << "CPU tensor";
  EXPECT_FALSE(model::softmax_xent_applies(g)) << "CPU tensor";
  EXPECT_THROW(model::softmax_xent(g, torch::zeros({5}, torch::kInt64), nullptr), std::exception);
  // The switch reports whether the build has the kernels, and the model asks fused_kernels_on().
  const bool built = model::set_fused_kernels(true);
  EXPECT_EQ(model::fused_kernels_on(), built);
  model::set_fused_kernels(false);
  EXPECT_FALSE(model::fused_kernels_on());
  model::set_fused_kernels(true);
}

// Head::Bf16 is a GPU path: on the CPU the lm_head's loss and gradients are the fp32 ones, exactly.
TEST(FusedOps, Bf16HeadIsFp32OnTheCpu) {
  torch::manual_seed(2);
  auto h0 = torch::randn({40, 16}), W0 = torch::randn({50, 16});
  auto tg = torch::randint(0, 50, {40}, torch::kInt64), wt = torch::rand({40});
  torch::Tensor loss[2], gh[2], gW[2];
  for (int b = 0; b < 2; ++b) {
    auto h = h0.clone().requires_grad_(true), W = W0.clone().requires_grad_(true);
    loss[b] = model::chunked_nll(h, W, tg, wt, 16, model::NllPasses::Auto, b ? model::Head::Bf16 : model::Head::Fp32);
    loss[b].backward();
    gh[b] = h.grad(), gW[b] = W.grad();
  }
  EXPECT_TRUE(torch::equal(loss[0], loss[1]));
  EXPECT_TRUE(torch::equal(gh[0], gh[1]));
  EXPECT_TRUE(torch::equal(gW[0], gW[1]));
}
