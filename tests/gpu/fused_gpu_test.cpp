// The GPU's fused bf16 paths against slow, simple references: the hand-written CUDA kernels
// (fused_ops.hpp) against the same arithmetic written out in fp64 on the host, the bf16 lm_head
// GEMMs against fp32 ones, and a whole bf16 training step with everything fused against the unfused
// bf16 step and the CPU's fp32 one. Built only with SDZ_ENABLE_CUDA; needs a visible GPU.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <torch/torch.h>

#include "sdzero/model/fused_ops.hpp"
#include "sdzero/model/generate.hpp"
#include "sdzero/model/lm_head.hpp"
#include "sdzero/model/score.hpp"
#include "sdzero/model/transformer.hpp"
#include "gpu_common.hpp"

using namespace sdz;

namespace {

using gputest::gpu;
using gputest::rel;

// rope(rms_norm(x) * w) in fp64: rows of R, heads of D inside a row, rotate_half pairing (a, a + D/2),
// row r at position r / per of the [positions, D/2] tables.
torch::Tensor norm_rope_ref(const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& cos,
                            const torch::Tensor& sin, int64_t R, int64_t D, int64_t per, double eps) {
  auto xr = x.reshape({-1, R});
  const int64_t rows = xr.size(0);
  auto z = xr * torch::rsqrt(xr.pow(2).mean(-1, true) + eps) * w;
  auto zh = z.view({rows, R / D, D});
  auto pos = torch::arange(rows, torch::kInt64).div(per, "floor");
  auto c = cos.index_select(0, pos).unsqueeze(1), s = sin.index_select(0, pos).unsqueeze(1);  // [rows,1,D/2]
  auto a = zh.narrow(-1, 0, D / 2), b = zh.narrow(-1, D / 2, D / 2);
  return torch::cat({a * c - b * s, b * c + a * s}, -1).reshape(x.sizes());
}

// Qwen3 (one head per norm, several rows per position: the warp-per-row kernels, heads of 32 to 256,
// row counts off a multiple of 8, more rows than the backward's warps) and Olmo-3 (all heads in one
// norm: the block kernels, 1 to 4 pairs a thread) spans.
TEST(GpuFused, NormRopeMatchesFp64) {
  auto d = gpu();
  ASSERT_TRUE(model::set_fused_kernels(true));
  struct Case {
    int64_t heads, D, R, P;
  };
  for (Case k : {Case{8, 32, 32, 74}, Case{3, 64, 64, 74}, Case{16, 128, 128, 600}, Case{2, 256, 256, 37},
                 Case{8, 32, 256, 74}, Case{4, 128, 512, 74}, Case{32, 128, 4096, 74}}) {
    const int64_t P = k.P, per = k.heads * k.D / k.R;
    torch::manual_seed(k.R + k.D);
    auto x0 = torch::randn({P, k.heads * k.D}, torch::kFloat64) * 2 + 0.3;
    auto w0 = torch::rand({k.R}, torch::kFloat64) + 0.5;
    auto ang = torch::rand({P, k.D / 2}, torch::kFloat64) * 6;
    auto cos = ang.cos() * 1.1, sin = ang.sin() * 1.1;  // an attention factor, as YaRN's
    auto g0 = torch::randn({P, k.heads * k.D}, torch::kFloat64);
    // The reference sees the bf16-rounded inputs the kernel sees.
    auto xb = x0.to(torch::kBFloat16), wb = w0.to(torch::kBFloat16);
    auto x64 = xb.to(torch::kFloat64).requires_grad_(true), w64 = wb.to(torch::kFloat64).requires_grad_(true);
    auto ref = norm_rope_ref(x64, w64, cos, sin, k.R, k.D, per, 1e-6);
    ref.backward(g0);
    auto x = xb.to(d).requires_grad_(true), w = wb.to(d).requires_grad_(true);
    ASSERT_TRUE(model::norm_rope_applies(x.detach(), k.R, k.D));
    auto y = model::norm_rope(x, w, cos.to(d, torch::kFloat32).contiguous(), sin.to(d, torch::kFloat32).contiguous(),
                              k.R, k.D, per, 1e-6);
    EXPECT_EQ(y.scalar_type(), torch::kBFloat16);
    y.backward(g0.to(d, torch::kBFloat16));
    const double ry = rel(y, ref), rx = rel(x.grad(), x64.grad()), rw = rel(w.grad(), w64.grad());
    std::printf("[gpu] norm_rope R %ld D %ld rows %ld: out %.2e dx %.2e dw %.2e\n", long(k.R), long(k.D),
                long(P * per), ry, rx, rw);
    EXPECT_LT(ry, 5e-3) << "bf16 output rounds once";
    EXPECT_LT(rx, 1e-2);
    EXPECT_LT(rw, 1e-2);
  }
}

TEST(GpuFused, SwiGluMatchesFp64) {
  auto d = gpu();
  ASSERT_TRUE(model::set_fused_kernels(true));
  torch::manual_seed(9);
  auto g0 = (torch::randn({37, 130}, torch::kFloat64) * 3).to(torch::kBFloat16);
  auto u0 = torch::randn({37, 130}, torch::kFloat64).to(torch::kBFloat16);
  auto dy = torch::randn({37, 130}, torch::kFloat64);
  auto g64 = g0.to(torch::kFloat64).requires_grad_(true), u64 = u0.to(torch::kFloat64).requires_grad_(true);
  auto ref = torch::silu(g64) * u64;
  ref.backward(dy);
  auto g = g0.to(d).requires_grad_(true), u = u0.to(d).requires_grad_(true);
  auto y = model::swiglu(g, u);
  y.backward(dy.to(d, torch::kBFloat16));
  std::printf("[gpu] swiglu: out %.2e dg %.2e du %.2e\n", rel(y, ref), rel(g.grad(), g64.grad()), rel(u.grad(), u64.grad()));
  EXPECT_LT(rel(y, ref), 5e-3);
  EXPECT_LT(rel(g.grad(), g64.grad()), 1e-2);
  EXPECT_LT(rel(u.grad(), u64.grad()), 1e-2);
  // Off: torch's own operations, the same values up to their extra rounding.
  model::set_fused_kernels(false);
  auto y_off = model::swiglu(g.detach(), u.detach());
  model::set_fused_kernels(true);
  EXPECT_LT(rel(y_off, ref), 1e-2);
}

// The lm_head's fused cross-entropy against log_softmax in fp64: vocabularies below a warp, between,
// and Qwen3's.
TEST(GpuFused, SoftmaxXentMatchesFp64) {
  auto d = gpu();
  ASSERT_TRUE(model::set_fused_kernels(true));
  for (int64_t V : {int64_t(7), int64_t(1500), int64_t(151936)}) {
    torch::manual_seed(V);
    auto z = torch::randn({9, V}) * 4;
    auto tg = torch::randint(0, V, {9}, torch::kInt64);
    torch::Tensor p;
    auto zd = z.to(d);
    ASSERT_TRUE(model::softmax_xent_applies(zd));
    auto nll = model::softmax_xent(zd, tg, &p);
    auto z64 = z.to(torch::kFloat64);
    auto lse = torch::logsumexp(z64, -1);
    auto nll_ref = lse - z64.gather(1, tg.view({9, 1})).squeeze(1);
    auto p_ref = torch::softmax(z64, -1).scatter_add(1, tg.view({9, 1}), -torch::ones({9, 1}, torch::kFloat64));
    const double dn = (nll.cpu().to(torch::kFloat64) - nll_ref).abs().max().item<double>();
    std::printf("[gpu] softmax_xent V %ld: nll max|d| %.2e, p rel %.2e\n", long(V), dn, rel(p, p_ref));
    EXPECT_EQ(p.scalar_type(), torch::kBFloat16);
    EXPECT_LT(dn, 1e-4);
    EXPECT_LT(rel(p, p_ref), 5e-3);
    auto nll2 = model::softmax_xent(zd, tg, nullptr);  // the loss alone, no gradient written
    EXPECT_TRUE(torch::equal(nll2, nll));
  }
}

// Head::Bf16 (bf16 GEMMs, fp32 logits and loss) against Head::Fp32 on the same inputs.
TEST(GpuFused, Bf16LmHeadMatchesFp32) {
  auto d = gpu();
  const bool have = model::set_bf16_lm_head(true);
  std::printf("[gpu] bf16 lm_head GEMMs in this build: %s\n", have ? "yes" : "no");
  torch::manual_seed(4);
  auto h0 = torch::randn({300, 96}), W0 = torch::randn({1000, 96}) * 0.2;
  auto tg = torch::randint(0, 1000, {300}, torch::kInt64), wt = torch::rand({300});
  torch::Tensor loss[2], gh[2], gW[2];
  for (int b = 0; b < 2; ++b) {
    auto h = h0.to(d).requires_grad_(true), W = W0.to(d).requires_grad_(true);
    loss[b] = model::chunked_nll(h, W, tg, wt, 128, model::NllPasses::Few, b ? model::Head::Bf16 : model::Head::Fp32);
    loss[b].backward();
    gh[b] = h.grad(), gW[b] = W.grad();
  }
  const double rl = rel(loss[1], loss[0]), rh = rel(gh[1], gh[0]), rW = rel(gW[1], gW[0]);
  std::printf("[gpu] bf16 lm_head vs fp32: loss %.2e dh %.2e dW %.2e\n", rl, rh, rW);
  EXPECT_EQ(loss[1].scalar_type(), torch::kFloat32);
  EXPECT_EQ(gW[1].scalar_type(), torch::kFloat32);
  EXPECT_LT(rl, 5e-3);
  EXPECT_LT(rh, 2e-2);
  EXPECT_LT(rW, 2e-2);
  if (have) {
    EXPECT_GT(rh, 0) << "the bf16 path was not taken";
  }
}

model::ModelConfig shape(model::Family fam) { return gputest::small_config(fam, 3, false); }

// The bf16 step with the fused kernels and the bf16 lm_head against the same step without them and
// against the CPU's fp32 step: the fused step must be no further from fp32 than the unfused one is.
class GpuFusedModel : public ::testing::TestWithParam<model::Family> {};

TEST_P(GpuFusedModel, Bf16StepIsAsCloseToFp32AsTheUnfusedOne) {
  model::Transformer cpu(shape(GetParam())), dev(shape(GetParam()));
  cpu.init_random(21);
  dev.copy_from(cpu);
  dev.to(gpu());
  dev.set_dtype(torch::kBFloat16);
  cpu.set_requires_grad(true);
  dev.set_requires_grad(true);
  auto ids = torch::randint(0, 512, {4, 64}, torch::kInt64);
  auto w = torch::ones({4, 64});
  w.narrow(1, 50, 14).zero_();
  model::masked_nll(cpu, ids, w).backward();
  auto pc = cpu.parameters(), pg = dev.parameters();
  double worst[2] = {0, 0}, loss_rel[2] = {0, 0};
  std::vector<torch::Tensor> grads[2];
  for (int fused = 0; fused < 2; ++fused) {
    model::set_fused_kernels(fused == 1);
    model::set_bf16_lm_head(fused == 1);
    for (auto& p : pg) p.mutable_grad().reset();
    auto loss = model::masked_nll(dev, ids, w);
    loss.backward();
    torch::NoGradGuard ng;
    loss_rel[fused] = rel(loss, model::masked_nll(cpu, ids, w));
    for (size_t k = 0; k < pc.size(); ++k) {
      ASSERT_TRUE(pg[k].grad().defined()) << k;
      grads[fused].push_back(pg[k].grad().clone());
      worst[fused] = std::max(worst[fused], rel(pg[k].grad(), pc[k].grad()));
    }
  }
  model::set_fused_kernels(true);
  model::set_bf16_lm_head(true);
  double between = 0;
  for (size_t k = 0; k < pc.size(); ++k) between = std::max(between, rel(grads[1][k], grads[0][k]));
  std::printf("[gpu] %s bf16 step vs CPU fp32: loss %.2e / %.2e, worst grad %.3f / %.3f (unfused / fused); "
              "fused vs unfused %.3f\n",
              GetParam() == model::Family::Qwen3 ? "qwen3" : "olmo3", loss_rel[0], loss_rel[1], worst[0], worst[1],
              between);
  EXPECT_LT(loss_rel[1], 1e-2);
  EXPECT_LT(worst[1], std::max(1.5 * worst[0], worst[0] + 0.01)) << "fused bf16 further from fp32 than unfused bf16";
  EXPECT_GT(between, 0) << "the fused path was not taken";
  // Activation checkpointing recomputes the same fused blocks: the same gradients.
  for (auto& p : pg) p.mutable_grad().reset();
  dev.set_activation_checkpointing(true);
  model::masked_nll(dev, ids, w).backward();
  dev.set_activation_checkpointing(false);
  for (size_t k = 0; k < pg.size(); ++k) EXPECT_LT(rel(pg[k].grad(), grads[1][k]), 1e-2) << "checkpointed grad " << k;
}

INSTANTIATE_TEST_SUITE_P(Families, GpuFusedModel,
                         ::testing::Values(model::Family::Qwen3, model::Family::Olmo3));

// Decoding one token at a time through the fused q/k kernels (one position per row of the RoPE
// tables) picks what the whole-sequence bf16 forward ranks first.
TEST(GpuFused, Bf16GreedyDecodeAgreesWithTheFullForward) {
  model::Transformer dev(shape(model::Family::Qwen3));
  dev.init_random(13);
  dev.to(gpu());
  dev.set_dtype(torch::kBFloat16);
  ASSERT_TRUE(model::set_fused_kernels(true));
  model::SamplingParams sp;
  sp.temperature = 0;
  sp.max_new_tokens = 16;
  std::vector<model::GenRequest> reqs;
  for (uint64_t q = 0; q < 5; ++q) reqs.push_back({q, 0, {int32_t(q + 1), int32_t(3 * q + 5), 9, 33, 70}});
  model::GenerationEngine eng(dev, 3);
  auto out = eng.generate(reqs, sp);
  torch::NoGradGuard ng;
  double worst = 0;
  for (size_t i = 0; i < out.size(); ++i) {
    std::vector<int64_t> seq(reqs[i].prompt.begin(), reqs[i].prompt.end());
    seq.insert(seq.end(), out[i].tokens.begin(), out[i].tokens.end());
    auto lg = dev.logits(torch::tensor(seq, torch::kInt64).unsqueeze(0)).squeeze(0).cpu();
    for (size_t t = 0; t < out[i].tokens.size(); ++t) {
      auto row = lg[int64_t(reqs[i].prompt.size() + t - 1)];
      worst = std::max(worst, row.max().item<double>() - row[out[i].tokens[t]].item<double>());
    }
  }
  std::printf("[gpu] bf16 greedy decode: worst logit gap to the full forward's best %.3f\n", worst);
  EXPECT_LT(worst, 0.1);
}

}  // namespace
