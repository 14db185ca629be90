// The fused CPU kernels (cpu_kernels.cpp through fused_ops_cpu.cpp) against slow double-precision
// references written out here, their gradients against torch's autograd of the written-out operations
// in fp64, and the switch that gives torch's own operations back bit for bit.
#include <gtest/gtest.h>

#include <torch/torch.h>

#include <cmath>

#include "sdzero/model/cpu_kernels.hpp"
#include "sdzero/model/fused_ops.hpp"
#include "sdzero/model/lm_head.hpp"
#include "sdzero/model/transformer.hpp"

using namespace sdz;

namespace {

// Restores the switch whatever a test does.
struct FusedOn {
  bool before;
  explicit FusedOn(bool on) : before(model::set_cpu_fused_kernels(on)) {}
  ~FusedOn() { model::set_cpu_fused_kernels(before); }
};

double max_rel(const torch::Tensor& a, const torch::Tensor& ref) {
  auto r = ref.to(torch::kFloat64);
  return ((a.to(torch::kFloat64) - r).abs().max() / r.abs().max().clamp_min(1e-30)).item<double>();
}

// rope(x * rsqrt(mean(x^2) + eps) * w) in fp64 with autograd: rows of R, heads of D (D = 0: none),
// row r at position r / rpt of the tables cos/sin [positions, D/2].
torch::Tensor norm_rope_ref(const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& cos,
                            const torch::Tensor& sin, int64_t R, int64_t D, int64_t rpt, double eps) {
  auto xr = x.reshape({-1, R});
  auto n = xr * torch::rsqrt(xr.pow(2).mean(-1, true) + eps) * w;
  if (D == 0) return n.view(x.sizes());
  const int64_t rows = xr.size(0), h = D / 2;
  auto pos = torch::arange(rows, torch::kInt64).div(rpt, "floor");
  auto c = cos.index_select(0, pos).unsqueeze(1), s = sin.index_select(0, pos).unsqueeze(1);  // [rows,1,h]
  auto nh = n.view({rows, R / D, D});
  auto a = nh.narrow(-1, 0, h), b = nh.narrow(-1, h, h);
  return torch::cat({a * c - b * s, b * c + a * s}, -1).reshape(x.sizes());
}

void check_norm_rope(int64_t rows, int64_t R, int64_t D, int64_t rpt) {
  torch::manual_seed(uint64_t(rows * 131 + R * 7 + D));
  auto x = torch::randn({rows, R}) * 3;
  auto w = torch::rand({R}) + 0.5;
  const int64_t positions = D ? rows / rpt : 0;
  auto cos = D ? torch::rand({positions, D / 2}) * 2 - 1 : torch::Tensor();
  auto sin = D ? torch::rand({positions, D / 2}) * 2 - 1 : torch::Tensor();
  auto dy = torch::randn({rows, R});

  auto xd = x.to(torch::kFloat64).requires_grad_(true), wd = w.to(torch::kFloat64).requires_grad_(true);
  auto yd = norm_rope_ref(xd, wd, D ? cos.to(torch::kFloat64) : cos, D ? sin.to(torch::kFloat64) : sin, R, D, rpt,
                          1e-6);
  (yd * dy.to(torch::kFloat64)).sum().backward();

  auto xf = x.clone().requires_grad_(true), wf = w.clone().requires_grad_(true);
  auto y = model::cpu_norm_rope(xf, wf, cos, sin, R, D, rpt, 1e-6);
  (y * dy).sum().backward();
  SCOPED_TRACE("rows " + std::to_string(rows) + " R " + std::to_string(R) + " D " + std::to_string(D));
  EXPECT_LT(max_rel(y, yd), 1e-6);
  EXPECT_LT(max_rel(xf.grad(), xd.grad()), 1e-5);
  EXPECT_LT(max_rel(wf.grad(), wd.grad()), 1e-5);
}

}  // namespace

TEST(CpuKernels, ExpPolynomialIsWithinTwoUlpOfLibm) {
  double worst = 0;
  for (float x = -87.0f; x <= 88.0f; x += 0.01237f)
    worst = std::max(worst, std::abs(double(model::cpu::exp_approx(x)) / std::exp(double(x)) - 1.0));
  EXPECT_LT(worst, 2 * 6e-8);  // measured: 1.3 ulp at worst
  EXPECT_EQ(model::cpu::exp_approx(0.0f), 1.0f);
  // Clamped below: a tiny positive number, never 0 or a denormal's garbage; above: finite.
  EXPECT_GT(model::cpu::exp_approx(-1000.0f), 0.0f);
  EXPECT_LT(model::cpu::exp_approx(-1000.0f), 1e-37f);
  EXPECT_TRUE(std::isfinite(model::cpu::exp_approx(1000.0f)));
}

TEST(CpuKernels, NormRopeAndItsGradientsMatchTheWrittenOutOperations) {
  check_norm_rope(24, 8, 8, 3);       // Qwen3's q/k norm: one head per row, 3 heads per position
  check_norm_rope(40, 64, 64, 4);     // head_dim 64: the lanes and their tail
  check_norm_rope(10, 48, 16, 1);     // Olmo-3's: the norm spans 3 heads of one position
  check_norm_rope(700, 40, 0, 1);     // the plain RMSNorm, several blocks of rows, R not a multiple of 16
  check_norm_rope(3, 5, 0, 1);        // rows shorter than the lanes
}

TEST(CpuKernels, SwiGluAndItsGradientsMatchTheWrittenOutOperations) {
  torch::manual_seed(3);
  auto g = torch::randn({37, 53}) * 4, u = torch::randn({37, 53}), d = torch::randn({37, 53});
  auto gd = g.to(torch::kFloat64).requires_grad_(true), ud = u.to(torch::kFloat64).requires_grad_(true);
  (torch::silu(gd) * ud * d.to(torch::kFloat64)).sum().backward();
  auto gf = g.clone().requires_grad_(true), uf = u.clone().requires_grad_(true);
  auto y = model::cpu_swiglu(gf, uf);
  (y * d).sum().backward();
  EXPECT_LT(max_rel(y, torch::silu(g.to(torch::kFloat64)) * u.to(torch::kFloat64)), 1e-6);
  EXPECT_LT(max_rel(gf.grad(), gd.grad()), 1e-6);
  EXPECT_LT(max_rel(uf.grad(), ud.grad()), 1e-6);
}

TEST(CpuKernels, SoftmaxXentGivesTheLossAndTheWeightedGradientInPlace) {
  torch::manual_seed(4);
  auto z = torch::randn({9, 1003}) * 5;
  auto tg = torch::randint(0, 1003, {9}, torch::kInt64), sc = torch::rand({9});
  auto zd = z.to(torch::kFloat64);
  auto nll_ref = torch::logsumexp(zd, -1) - zd.gather(1, tg.view({9, 1})).squeeze(1);
  auto p_ref = (torch::softmax(zd, -1) - torch::one_hot(tg, 1003).to(torch::kFloat64)) * sc.to(torch::kFloat64).view({9, 1});
  auto zn = z.clone();
  auto nll = model::softmax_xent_cpu_(zn, tg, sc, false);
  EXPECT_TRUE(torch::equal(zn, z)) << "without grad the logits stay";
  EXPECT_LT(max_rel(nll, nll_ref), 1e-6);
  auto zg = z.clone();
  auto nll2 = model::softmax_xent_cpu_(zg, tg, sc, true);
  EXPECT_TRUE(torch::equal(nll, nll2));
  EXPECT_LT((zg.to(torch::kFloat64) - p_ref).abs().max().item<double>(), 1e-6);
  auto bad = tg.clone();
  bad[3] = 1003;
  EXPECT_THROW(model::softmax_xent_cpu_(zn, bad, sc, false), std::exception);
}

TEST(CpuKernels, ResultsDoNotDependOnTheThreadCount) {
  torch::manual_seed(5);
  auto x = torch::randn({3000, 64}), w = torch::rand({64}), dy = torch::randn({3000, 64});
  torch::Tensor y[2], gx[2], gw[2];
  const int before = torch::get_num_threads();
  for (int t = 0; t < 2; ++t) {
    torch::set_num_threads(t + 1);
    auto xf = x.clone().requires_grad_(true), wf = w.clone().requires_grad_(true);
    y[t] = model::cpu_norm_rope(xf, wf, {}, {}, 64, 0, 1, 1e-6);
    (y[t] * dy).sum().backward();
    gx[t] = xf.grad(), gw[t] = wf.grad();
  }
  torch::set_num_threads(before);
  EXPECT_TRUE(torch::equal(y[0], y[1]));
  EXPECT_TRUE(torch::equal(gx[0], gx[1]));
  EXPECT_TRUE(torch::equal(gw[0], gw[1])) << "weight gradient partial sums are added in block order";
}

// Switched off, every entry point gives torch's own arithmetic back, bit for bit (the numbers of the
// runs before the kernels existed); on, the model's forward and gradients stay within float rounding of it.
TEST(CpuKernels, TheSwitchGivesTorchsOperationsBackAndTheModelAgrees) {
  torch::manual_seed(6);
  auto g = torch::randn({5, 8}), u = torch::randn({5, 8});
  {
    FusedOn off(false);
    EXPECT_FALSE(model::cpu_fused_applies(g));
    EXPECT_TRUE(torch::equal(model::swiglu(g, u), torch::silu(g) * u));
    EXPECT_FALSE(model::norm_rope_applies(g, 8, 8));
  }
  FusedOn on(true);
  EXPECT_TRUE(model::norm_rope_applies(g, 8, 8));
  EXPECT_FALSE(model::norm_rope_applies(g.to(torch::kFloat64), 8, 8)) << "fp32 only";
  EXPECT_FALSE(model::norm_rope_applies(g.t(), 5, 5)) << "contiguous only";

  for (const auto family : {model::Family::Qwen3, model::Family::Olmo3}) {
    model::ModelConfig c;
    c.family = family;
    c.vocab_size = 40, c.hidden_size = 32, c.intermediate_size = 48, c.num_layers = 2;
    c.num_heads = 4, c.num_kv_heads = 2, c.head_dim = 8, c.max_position = 64;
    c.rope_theta = 10000, c.rms_eps = 1e-6;
    c.sliding_layers.assign(2, false);
    model::Transformer m(c);
    m.init_random(7, 0.2);
    auto ids = torch::randint(0, 40, {3, 11}, torch::kInt64);
    auto tg = torch::randint(0, 40, {33}, torch::kInt64), wt = torch::rand({33});
    torch::Tensor loss[2];
    std::vector<torch::Tensor> grads[2];
    for (int f = 0; f < 2; ++f) {
      model::set_cpu_fused_kernels(f == 1);
      for (auto& p : m.parameters()) p.mutable_grad() = torch::Tensor();
      m.set_requires_grad(true);
      auto h = m.hidden(ids).reshape({33, 32});
      loss[f] = model::chunked_nll(h, m.lm_head_weight(), tg, wt, 8);
      loss[f].backward();
      for (auto& p : m.parameters()) grads[f].push_back(p.grad().clone());
    }
    SCOPED_TRACE(family == model::Family::Qwen3 ? "qwen3" : "olmo3");
    EXPECT_LT(max_rel(loss[1], loss[0]), 1e-5);
    for (size_t i = 0; i < grads[0].size(); ++i) EXPECT_LT(max_rel(grads[1][i], grads[0][i]), 1e-4) << "parameter " << i;
  }
}
