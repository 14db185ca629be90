// GPU numerics of the model engine against the CPU fp32 path (the slow, simple reference here is the
// CPU build of the same model: its own tests compare it with hand-written attention and norms).
// Built only with SDZ_ENABLE_CUDA; every test needs a visible GPU and fails without one.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <torch/torch.h>

#include "sdzero/algo/optim.hpp"
#include "sdzero/dist/device.hpp"
#include "sdzero/model/generate.hpp"
#include "sdzero/model/score.hpp"
#include "sdzero/model/transformer.hpp"
#include "gpu_common.hpp"

using namespace sdz;
using model::ModelConfig;
using model::Transformer;

namespace {

using gputest::gpu;
using gputest::rel;

ModelConfig shape(model::Family fam) { return gputest::small_config(fam, 4, true); }

class GpuModel : public ::testing::TestWithParam<model::Family> {};

TEST_P(GpuModel, LogitsMatchCpuFp32) {
  Transformer cpu(shape(GetParam())), dev(shape(GetParam()));
  cpu.init_random(7);
  dev.copy_from(cpu);
  dev.to(gpu());
  ASSERT_TRUE(dev.device().is_cuda());
  auto ids = torch::randint(0, 512, {3, 40}, torch::kInt64);
  torch::NoGradGuard ng;
  auto ref = cpu.logits(ids);
  auto g32 = dev.logits(ids);
  EXPECT_TRUE(g32.is_cuda());
  EXPECT_LT((g32.cpu() - ref).abs().max().item<double>(), 2e-3) << "fp32 GPU vs CPU";
  dev.set_dtype(torch::kBFloat16);
  auto g16 = dev.logits(ids);
  const double r = rel(g16, ref);
  std::printf("[gpu] %s logits: fp32 max|d| %.2e, bf16 rel %.4f\n", GetParam() == model::Family::Qwen3 ? "qwen3" : "olmo3",
              (g32.cpu() - ref).abs().max().item<double>(), r);
  EXPECT_LT(r, 0.03) << "bf16 GPU vs fp32 CPU";
}

TEST_P(GpuModel, TrainingGradientsMatchCpu) {
  Transformer cpu(shape(GetParam())), dev(shape(GetParam()));
  cpu.init_random(3);
  dev.copy_from(cpu);
  dev.to(gpu());
  cpu.set_requires_grad(true);
  dev.set_requires_grad(true);
  auto ids = torch::randint(0, 512, {4, 48}, torch::kInt64);
  auto w = torch::ones({4, 48});
  w.narrow(1, 40, 8).zero_();
  model::masked_nll(cpu, ids, w).backward();
  auto loss = model::masked_nll(dev, ids, w);
  loss.backward();
  EXPECT_TRUE(loss.is_cuda());
  auto pc = cpu.parameters(), pg = dev.parameters();
  double worst = 0;
  for (size_t k = 0; k < pc.size(); ++k) {
    ASSERT_TRUE(pg[k].grad().defined()) << k;
    ASSERT_TRUE(pg[k].grad().is_cuda());
    worst = std::max(worst, rel(pg[k].grad(), pc[k].grad()));
  }
  EXPECT_LT(worst, 1e-3) << "worst relative gradient difference, fp32";
  // Activation checkpointing recomputes the same blocks: the same gradients.
  std::vector<torch::Tensor> before;
  for (auto& p : pg) before.push_back(p.grad().clone()), p.grad().zero_();
  dev.set_activation_checkpointing(true);
  model::masked_nll(dev, ids, w).backward();
  for (size_t k = 0; k < pg.size(); ++k) EXPECT_LT(rel(pg[k].grad(), before[k]), 1e-5) << "checkpointed grad " << k;
}

INSTANTIATE_TEST_SUITE_P(Families, GpuModel, ::testing::Values(model::Family::Qwen3, model::Family::Olmo3));

TEST(GpuGenerate, GreedyTokensAreTheCpuArgmax) {
  Transformer cpu(shape(model::Family::Qwen3)), dev(shape(model::Family::Qwen3));
  cpu.init_random(11);
  dev.copy_from(cpu);
  dev.to(gpu());
  model::SamplingParams sp;
  sp.temperature = 0;
  sp.max_new_tokens = 24;
  std::vector<model::GenRequest> reqs;
  for (uint64_t q = 0; q < 6; ++q) reqs.push_back({q, 0, {int32_t(q + 1), int32_t(2 * q + 5), 9, 33}});
  model::GenerationEngine eng(dev, 4);  // fewer slots than requests: refills mid-way
  auto out = eng.generate(reqs, sp);
  torch::NoGradGuard ng;
  for (size_t i = 0; i < out.size(); ++i) {
    std::vector<int64_t> seq(reqs[i].prompt.begin(), reqs[i].prompt.end());
    seq.insert(seq.end(), out[i].tokens.begin(), out[i].tokens.end());
    auto lg = cpu.logits(torch::tensor(seq, torch::kInt64).unsqueeze(0)).squeeze(0);
    for (size_t t = 0; t < out[i].tokens.size(); ++t) {
      auto row = lg[int64_t(reqs[i].prompt.size() + t - 1)];
      const double best = row.max().item<double>(), got = row[out[i].tokens[t]].item<double>();
      EXPECT_LT(best - got, 1e-3) << "request " << i << " token " << t;
    }
  }
}

TEST(GpuSample, DeviceSamplerDrawsWhatTheHostDraws) {
  auto logits = torch::randn({512, 1000}) * 3;
  std::vector<double> us;
  for (int i = 0; i < 512; ++i) us.push_back((i * 0.618033988749895) - std::floor(i * 0.618033988749895));
  for (double temp : {0.0, 1.0, 0.7}) {
    model::SamplingParams sp;
    sp.temperature = temp;
    auto host = model::sample_rows(logits, sp, us);
    auto dev = model::sample_rows(logits.to(gpu()), sp, us);
    int same = 0;
    double worst = 0;
    for (size_t r = 0; r < host.size(); ++r) {
      same += host[r].token == dev[r].token;
      if (host[r].token == dev[r].token) worst = std::max(worst, double(std::abs(host[r].logprob - dev[r].logprob)));
    }
    EXPECT_GE(same, 509) << "temperature " << temp;  // a u within float rounding of a boundary may differ
    EXPECT_LT(worst, 1e-4) << "temperature " << temp;
  }
}

// The fused CUDA RMSNorm (torch >= 2.9) against the written-out one and an fp64 reference on the
// host: values and both gradients, in fp32 and bf16.
TEST(GpuNorm, FusedRmsNormMatchesTheWrittenOutOne) {
  auto d = gpu();
  const bool have = model::set_fused_norm(true);
  std::printf("[gpu] fused RMSNorm in this build: %s\n", have ? "yes" : "no");
  for (auto dt : {torch::kFloat32, torch::kBFloat16}) {
    torch::manual_seed(3);
    auto x0 = torch::randn({4, 7, 128}) * 3, w0 = torch::rand({128}) + 0.5, g0 = torch::randn({4, 7, 128});
    auto x64 = x0.to(torch::kFloat64), w64 = w0.to(torch::kFloat64);
    auto ref = x64 * torch::rsqrt(x64.pow(2).mean(-1, true) + 1e-6) * w64;
    torch::Tensor out[2], gx[2], gw[2];
    for (int fused = 0; fused < 2; ++fused) {
      model::set_fused_norm(fused == 1);
      auto x = x0.to(d, dt).requires_grad_(true), w = w0.to(d, dt).requires_grad_(true);
      out[fused] = model::rms_norm(x, w, 1e-6);
      EXPECT_EQ(out[fused].scalar_type(), dt);
      out[fused].backward(g0.to(d, dt));
      gx[fused] = x.grad(), gw[fused] = w.grad();
    }
    model::set_fused_norm(true);
    const double tol = dt == torch::kBFloat16 ? 1e-2 : 1e-6;
    EXPECT_LT(rel(out[1], ref), tol) << "fused vs fp64, dtype " << dt;
    EXPECT_LT(rel(out[0], ref), tol) << "written out vs fp64";
    EXPECT_LT(rel(gx[1], gx[0]), 2 * tol) << "input gradient";
    EXPECT_LT(rel(gw[1], gw[0]), 2 * tol) << "weight gradient";
  }
}

// torch's fused CUDA AdamW (the GPU's optimizer step) against the list operations (the CPU tests'
// path, itself tested against torch's per-parameter loop), three steps with clipping.
TEST(GpuOptim, FusedAdamWMatchesTheListOperations) {
  auto d = gpu();
  const bool have = algo::set_fused_adamw(true);
  std::printf("[gpu] fused AdamW in this build: %s\n", have ? "yes" : "no");
  torch::manual_seed(5);
  std::vector<torch::Tensor> init = {torch::randn({64, 48}), torch::randn({48}), torch::randn({7, 3, 5})};
  std::vector<torch::Tensor> result[2];
  for (int fused = 0; fused < 2; ++fused) {
    algo::set_fused_adamw(fused == 1);
    std::vector<torch::Tensor> ps;
    for (const auto& t : init) ps.push_back(t.to(d).requires_grad_(true));
    algo::OptimOptions o;
    o.lr = 1e-2, o.warmup_steps = 0, o.weight_decay = 0.1, o.grad_clip = 0.5;
    algo::Optimizer opt(ps, o);
    for (int64_t s = 0; s < 3; ++s) {
      opt.zero_grad();
      torch::Tensor loss = torch::zeros({}, torch::TensorOptions().device(d));
      for (size_t i = 0; i < ps.size(); ++i) loss = loss + (ps[i] * ps[i]).sum() * double(i + 1) + ps[i].sin().sum();
      loss.backward();
      opt.step(s);
    }
    for (auto& p : ps) result[fused].push_back(p.detach().cpu());
  }
  algo::set_fused_adamw(true);
  for (size_t i = 0; i < init.size(); ++i) {
    EXPECT_FALSE(torch::equal(result[1][i], init[i])) << "the fused step moved nothing";
    EXPECT_LT((result[1][i] - result[0][i]).abs().max().item<double>(), 1e-6) << "tensor " << i;
  }
}

TEST(GpuDevice, PlacementAndMemoryFigures) {
  auto d = gpu();
  EXPECT_EQ(d.index(), 0);
  EXPECT_THROW(pick_device("cuda", 0, cuda_device_count() + 1), std::exception) << "more ranks than GPUs";
  reset_peak_memory(d);
  auto t = torch::empty({64 << 20}, torch::TensorOptions().dtype(torch::kUInt8).device(d));
  EXPECT_GE(peak_memory_bytes(d), int64_t(64) << 20);
  EXPECT_GT(device_total_bytes(d), int64_t(1) << 30);
  std::printf("[gpu] %s\n", device_name(d).c_str());
}

}  // namespace
