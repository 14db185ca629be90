// Budget accounting, learning-rate schedules, AdamW against its update formula, grad-norm clipping.
#include <gtest/gtest.h>

#include <cmath>

#include "sdzero/algo/budget.hpp"
#include "sdzero/algo/optim.hpp"
#include "sdzero/core/error.hpp"

using namespace sdz::algo;

TEST(Budget, StopsAtTheGenerationLimitWithoutOvershoot) {
  Budget b({60, 0});
  EXPECT_EQ(b.questions_that_fit(8, 4), 8);
  b.count(32, 500);
  EXPECT_EQ(b.questions_that_fit(8, 4), 7);  // 28 left: 7 questions x 4
  b.count(28, 400);
  EXPECT_TRUE(b.exhausted());
  EXPECT_EQ(b.questions_that_fit(8, 4), 0);
  auto m = b.metrics();
  EXPECT_EQ(m["budget/generations"], 60);
  EXPECT_EQ(m["budget/generated_tokens"], 900);
  EXPECT_DOUBLE_EQ(m["budget/fraction_used"], 1.0);
}

TEST(Budget, TokenLimitAndUnlimited) {
  Budget t({0, 1000});
  t.count(10, 999);
  EXPECT_FALSE(t.exhausted());
  t.count(1, 1);
  EXPECT_TRUE(t.exhausted());
  Budget u;
  u.count(1000000, 1000000000);
  EXPECT_FALSE(u.exhausted());
  EXPECT_EQ(u.questions_that_fit(5, 3), 5);
  Budget r({100, 0});
  r.restore(40, 7);
  EXPECT_EQ(r.generations(), 40);
  EXPECT_EQ(r.generated_tokens(), 7);
  EXPECT_THROW(Budget({-1, 0}), sdz::Error);
  EXPECT_THROW(r.count(-1, 0), sdz::Error);
}

TEST(LrSchedule, LinearWarmupThenConstant) {
  OptimOptions o;
  o.lr = 1e-3;
  o.warmup_steps = 4;
  EXPECT_NEAR(lr_at(o, 0), 0.25e-3, 1e-12);
  EXPECT_NEAR(lr_at(o, 3), 1e-3, 1e-12);
  EXPECT_NEAR(lr_at(o, 100), 1e-3, 1e-12);
  o.warmup_steps = 0;
  EXPECT_NEAR(lr_at(o, 0), 1e-3, 1e-12);
}

// optim.warmup_start_factor = 0.1: NeMo-RL's LinearLR, 0.1 lr at step 0 rising to lr at step W.
TEST(LrSchedule, WarmupFromAStartFactor) {
  OptimOptions o;
  o.lr = 2e-3;
  o.warmup_steps = 4;
  o.warmup_start_factor = 0.1;
  EXPECT_NEAR(lr_at(o, 0), 0.2e-3, 1e-12);
  EXPECT_NEAR(lr_at(o, 2), 2e-3 * (0.1 + 0.9 * 2 / 4), 1e-12);
  EXPECT_NEAR(lr_at(o, 4), 2e-3, 1e-12);
  EXPECT_NEAR(lr_at(o, 50), 2e-3, 1e-12);
  o.warmup_steps = 0;
  EXPECT_NEAR(lr_at(o, 0), 2e-3, 1e-12);
}

TEST(LrSchedule, CosineWithWarmupFraction) {
  OptimOptions o;
  o.lr = 2.0;
  o.schedule = LrSchedule::Cosine;
  o.warmup_steps = 0;
  o.warmup_fraction = 0.05;
  o.total_steps = 100;
  o.min_lr_ratio = 0.1;
  EXPECT_EQ(warmup_length(o), 5);
  EXPECT_NEAR(lr_at(o, 4), 2.0, 1e-12);
  EXPECT_NEAR(lr_at(o, 5), 2.0, 1e-12);
  // halfway through the decay: min + (lr - min) / 2
  const double mid = 0.2 + 1.8 * 0.5 * (1 + std::cos(M_PI * 0.5));
  EXPECT_NEAR(lr_at(o, 5 + 95 / 2), 0.2 + 1.8 * 0.5 * (1 + std::cos(M_PI * (47.0 / 95.0))), 1e-12);
  EXPECT_NEAR(mid, 1.1, 1e-12);
  EXPECT_NEAR(lr_at(o, 100), 0.2, 1e-12);
  EXPECT_NEAR(lr_at(o, 1000), 0.2, 1e-12);
  o.total_steps = 0;
  o.warmup_fraction = 0;
  EXPECT_THROW(lr_at(o, 3), sdz::Error);
  EXPECT_THROW(parse_lr_schedule("step"), sdz::Error);
}

TEST(Optimizer, AdamWStepsMatchTheFormulaAndClipTheNorm) {
  OptimOptions o;
  o.lr = 0.1;
  o.weight_decay = 0.01;
  o.beta1 = 0.9;
  o.beta2 = 0.95;
  o.eps = 1e-8;
  o.warmup_steps = 2;
  o.grad_clip = 1.0;
  auto w = torch::tensor({1.0, -2.0}, torch::kDouble).requires_grad_(true);
  Optimizer opt({w}, o);
  std::vector<double> ref = {1.0, -2.0}, m = {0, 0}, v = {0, 0};
  const std::vector<std::vector<double>> grads = {{3.0, 4.0}, {0.3, -0.4}, {0.0, 0.1}};
  for (int step = 0; step < 3; ++step) {
    opt.zero_grad();
    w.mutable_grad() = torch::tensor(grads[size_t(step)], torch::kDouble);
    auto st = opt.step(step);
    const double norm = std::hypot(grads[size_t(step)][0], grads[size_t(step)][1]);
    EXPECT_NEAR(st.grad_norm, norm, 1e-9);
    const double scale = norm > 1.0 ? 1.0 / (norm + 1e-6) : 1.0;  // torch's clip_grad_norm_
    const double lr = step < 2 ? 0.1 * (step + 1) / 2.0 : 0.1;
    EXPECT_NEAR(st.lr, lr, 1e-12);
    const int t = step + 1;
    for (size_t i = 0; i < 2; ++i) {
      const double g = grads[size_t(step)][i] * scale;
      ref[i] *= 1 - lr * 0.01;
      m[i] = 0.9 * m[i] + 0.1 * g;
      v[i] = 0.95 * v[i] + 0.05 * g * g;
      const double mh = m[i] / (1 - std::pow(0.9, t)), vh = v[i] / (1 - std::pow(0.95, t));
      ref[i] -= lr * mh / (std::sqrt(vh) + 1e-8);
    }
    for (int64_t i = 0; i < 2; ++i) EXPECT_NEAR(w[i].item<double>(), ref[size_t(i)], 1e-9) << "step " << step;
  }
}

// A later stage's fresh optimizer runs its own schedule from its first step (SRT sequential stages).
TEST(Optimizer, ScheduleStartsAtFirstStep) {
  OptimOptions o;
  o.lr = 1.0;
  o.warmup_steps = 4;
  o.grad_clip = 0;
  auto w = torch::zeros({1}, torch::kDouble).requires_grad_(true);
  Optimizer late({w}, o, 10);
  w.mutable_grad() = torch::ones({1}, torch::kDouble);
  EXPECT_NEAR(late.step(10).lr, 0.25, 1e-12);
  EXPECT_NEAR(late.step(13).lr, 1.0, 1e-12);
  EXPECT_THROW(late.step(9), sdz::Error);
}

// The multi-tensor step is torch's AdamW op for op: the same parameters and state after several
// steps, with clipping on, float parameters of several shapes, and one parameter that skips a step
// (no gradient), so the parameters sit at different step counts afterwards.
TEST(Optimizer, ForeachStepEqualsTorchsPerParameterLoop) {
  torch::manual_seed(7);
  auto make = [] {
    torch::manual_seed(11);
    return std::vector<torch::Tensor>{torch::randn({5, 3}).requires_grad_(true), torch::randn({7}).requires_grad_(true),
                                      torch::randn({2, 2, 2}).requires_grad_(true)};
  };
  std::vector<torch::Tensor> a = make(), b = make();
  OptimOptions o;
  o.lr = 0.05;
  o.weight_decay = 0.1;
  o.warmup_steps = 2;
  o.grad_clip = 0.5;
  o.foreach = ForeachMode::On;  // the default, said explicitly (auto would take the loop on a CPU)
  OptimOptions slow = o;
  slow.foreach = ForeachMode::Off;
  Optimizer fast_opt(a, o), slow_opt(b, slow);
  for (int step = 0; step < 6; ++step) {
    fast_opt.zero_grad(), slow_opt.zero_grad();
    for (size_t i = 0; i < a.size(); ++i) {
      if (i == 1 && step == 2) {  // no gradient this step
        a[i].mutable_grad() = torch::Tensor(), b[i].mutable_grad() = torch::Tensor();
        continue;
      }
      auto g = torch::randn(a[i].sizes()) * (step == 0 ? 10.0 : 0.1);  // the first step is clipped
      a[i].mutable_grad() = g.clone(), b[i].mutable_grad() = g.clone();
    }
    OptimStepStats fs = fast_opt.step(step), ss = slow_opt.step(step);
    EXPECT_NEAR(fs.grad_norm, ss.grad_norm, 1e-5 * ss.grad_norm) << "step " << step;
    for (size_t i = 0; i < a.size(); ++i)
      EXPECT_TRUE(torch::allclose(a[i], b[i], 1e-6, 1e-7)) << "param " << i << " step " << step << ": max diff "
                                                            << (a[i] - b[i]).abs().max().item<double>();
  }
  for (size_t i = 0; i < a.size(); ++i) {
    auto* fs = adamw_param_state(fast_opt.adamw(), a[i]);
    auto* ss = adamw_param_state(slow_opt.adamw(), b[i]);
    ASSERT_TRUE(fs && ss);
    EXPECT_EQ(fs->step(), ss->step());
    EXPECT_EQ(fs->step(), i == 1 ? 5 : 6);
    EXPECT_TRUE(torch::allclose(fs->exp_avg(), ss->exp_avg(), 1e-6, 1e-8));
    EXPECT_TRUE(torch::allclose(fs->exp_avg_sq(), ss->exp_avg_sq(), 1e-6, 1e-10));
  }
}

// optim.decay_1d = false (the HF Trainer's rule): the matrices decay, the 1-D parameters do not; the
// steps equal torch's AdamW with two parameter groups (weight decay wd and 0), list operations or not,
// and a parameter without a gradient is left alone, decay included.
TEST(Optimizer, NoDecayOnOneDimensionalParameters) {
  auto make = [] {
    torch::manual_seed(13);
    return std::vector<torch::Tensor>{torch::randn({4, 3}).requires_grad_(true), torch::randn({6}).requires_grad_(true)};
  };
  for (ForeachMode mode : {ForeachMode::On, ForeachMode::Off}) {
    std::vector<torch::Tensor> a = make(), ref = make();
    OptimOptions o;
    o.lr = 0.05, o.weight_decay = 0.2, o.warmup_steps = 0, o.grad_clip = 0, o.foreach = mode, o.decay_1d = false;
    Optimizer opt(a, o);
    std::vector<torch::optim::OptimizerParamGroup> groups;
    groups.emplace_back(std::vector<torch::Tensor>{ref[0]}, std::make_unique<torch::optim::AdamWOptions>(
                                                                torch::optim::AdamWOptions(0.05).weight_decay(0.2)));
    groups.emplace_back(std::vector<torch::Tensor>{ref[1]}, std::make_unique<torch::optim::AdamWOptions>(
                                                                torch::optim::AdamWOptions(0.05).weight_decay(0.0)));
    torch::optim::AdamW torch_opt(std::move(groups));
    torch::manual_seed(5);
    for (int step = 0; step < 4; ++step) {
      for (size_t i = 0; i < a.size(); ++i) {
        if (i == 0 && step == 2) {  // no gradient: no step and no decay for it
          a[i].mutable_grad() = torch::Tensor(), ref[i].mutable_grad() = torch::Tensor();
          continue;
        }
        auto g = torch::randn(a[i].sizes());
        a[i].mutable_grad() = g.clone(), ref[i].mutable_grad() = g.clone();
      }
      opt.step(step);
      torch_opt.step();
      for (size_t i = 0; i < a.size(); ++i)
        EXPECT_TRUE(torch::allclose(a[i], ref[i], 1e-6, 1e-7)) << "param " << i << " step " << step;
    }
    // With zero gradients only the decay moves a parameter: the matrix shrinks, the vector stays.
    const auto m = a[0].detach().clone(), v = a[1].detach().clone();
    for (auto& p : a) p.mutable_grad() = torch::zeros_like(p);
    auto* s0 = adamw_param_state(opt.adamw(), a[0]);
    auto* s1 = adamw_param_state(opt.adamw(), a[1]);
    s0->exp_avg().zero_(), s1->exp_avg().zero_();
    opt.step(4);
    EXPECT_TRUE(torch::allclose(a[0], m * (1 - 0.05 * 0.2), 1e-6, 1e-7));
    EXPECT_TRUE(torch::equal(a[1], v));
  }
}

// On the CPU zero_grad keeps every gradient defined and zero (a GPU drops them instead: the next
// backward then writes without an add; callers fill missing ones).
TEST(OptimizerZeroGrad, KeepsCpuGradientsDefined) {
  auto p = torch::randn({4}).requires_grad_(true);
  (p * p).sum().backward();
  OptimOptions o;
  o.warmup_steps = 0;
  Optimizer opt({p}, o);
  opt.zero_grad();
  ASSERT_TRUE(p.grad().defined());
  EXPECT_EQ(p.grad().abs().sum().item<double>(), 0.0);
}
