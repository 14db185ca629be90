// model::linear and model::matmul (cpu_matmul.hpp) against a double-precision loop and torch.
// Tolerance: fp32 products of K terms, summed in another order than the reference's, differ by about
// sqrt(K) x 2^-24 relative to the terms' scale; with K <= 512 that is below 1e-5 of the output's norm,
// and we allow 1e-5 relative (Frobenius). A product in the wrong layout, a stale packed weight or a
// missing bias is off by O(100%).
#include <gtest/gtest.h>

#include "sdzero/model/cpu_matmul.hpp"

using namespace sdz::model;

namespace {

// y[m,n] = sum_k x[m,k] W[n,k] + b[n] in double, written out.
torch::Tensor reference_linear(const torch::Tensor& x, const torch::Tensor& W, const torch::Tensor& b) {
  auto x2 = x.reshape({-1, x.size(-1)}).to(torch::kFloat64).contiguous();
  auto Wd = W.to(torch::kFloat64).contiguous();
  const int64_t M = x2.size(0), K = x2.size(1), N = Wd.size(0);
  auto y = torch::zeros({M, N}, torch::kFloat64);
  auto xa = x2.accessor<double, 2>(), wa = Wd.accessor<double, 2>();
  auto ya = y.accessor<double, 2>();
  for (int64_t m = 0; m < M; ++m)
    for (int64_t n = 0; n < N; ++n) {
      double s = b.defined() ? b[n].item<double>() : 0.0;
      for (int64_t k = 0; k < K; ++k) s += xa[m][k] * wa[n][k];
      ya[m][n] = s;
    }
  std::vector<int64_t> shape(x.sizes().begin(), x.sizes().end());
  shape.back() = N;
  return y.view(shape);
}

double rel(const torch::Tensor& a, const torch::Tensor& ref) {
  auto d = a.to(torch::kFloat64) - ref.to(torch::kFloat64);
  return (d.norm() / ref.to(torch::kFloat64).norm().clamp_min(1e-30)).item<double>();
}

// Every test leaves the process-wide backend as it found it.
struct Backend {
  CpuMatmul was = cpu_matmul();
  explicit Backend(CpuMatmul m) { set_cpu_matmul(m); }
  ~Backend() { set_cpu_matmul(was); }
};

}  // namespace

TEST(CpuMatmul, BackendNamesParseAndOneDnnIsTheDefaultWhereBuilt) {
  EXPECT_EQ(parse_cpu_matmul("onednn"), CpuMatmul::OneDnn);
  EXPECT_EQ(parse_cpu_matmul("blas"), CpuMatmul::Blas);
  EXPECT_STREQ(cpu_matmul_name(CpuMatmul::OneDnn), "onednn");
  try {
    parse_cpu_matmul("mkl", "model.cpu_matmul");
    FAIL() << "an unknown backend was accepted";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("model.cpu_matmul"), std::string::npos) << e.what();
  }
  EXPECT_EQ(cpu_matmul() == CpuMatmul::OneDnn, onednn_built());
  // A CPU build configured with SDZ_ENABLE_ONEDNN (the default; tools/install-deps.sh installs
  // libdnnl-dev) must have it: one that silently lost it would run on the slower path.
#ifdef SDZ_EXPECT_ONEDNN
  EXPECT_TRUE(onednn_built());
#else
  EXPECT_FALSE(onednn_built());
#endif
}

TEST(CpuMatmul, LinearMatchesTheReferenceWithAndWithoutGradients) {
  torch::manual_seed(1);
  for (const auto& shape : std::vector<std::vector<int64_t>>{{1, 7}, {64, 128}, {3, 5, 384}, {2, 1, 24}}) {
    for (const bool bias : {false, true}) {
      const int64_t K = shape.back(), N = K == 24 ? 24 : 96;
      auto x = torch::randn(shape), W = torch::randn({N, K}) * 0.1;
      auto b = bias ? torch::randn({N}) : torch::Tensor();
      auto ref = reference_linear(x, W, b);
      {
        torch::NoGradGuard ng;  // inference: the packed weight
        auto y = sdz::model::linear(x, W, b);
        EXPECT_EQ(y.sizes(), ref.sizes());
        EXPECT_LT(rel(y, ref), 1e-5) << "no grad, K=" << K << " bias=" << bias;
      }
      auto Wg = W.clone().requires_grad_(true);
      auto y = sdz::model::linear(x, Wg, b);  // training: through the autograd function
      EXPECT_TRUE(y.requires_grad());
      EXPECT_LT(rel(y, ref), 1e-5) << "grad, K=" << K << " bias=" << bias;
    }
  }
}

TEST(CpuMatmul, GradientsMatchTorchLinear) {
  torch::manual_seed(2);
  auto x = torch::randn({4, 9, 128}), W = torch::randn({384, 128}) * 0.1, b = torch::randn({384});
  auto up = torch::randn({4, 9, 384});
  auto run = [&](bool ours) {
    auto xg = x.clone().requires_grad_(true), Wg = W.clone().requires_grad_(true), bg = b.clone().requires_grad_(true);
    auto y = ours ? sdz::model::linear(xg, Wg, bg) : torch::linear(xg, Wg, bg);
    (y * up).sum().backward();
    return std::vector<torch::Tensor>{xg.grad(), Wg.grad(), bg.grad()};
  };
  auto ours = run(true), theirs = run(false);
  for (size_t i = 0; i < 3; ++i) {
    ASSERT_TRUE(ours[i].defined()) << i;
    EXPECT_LT(rel(ours[i], theirs[i]), 1e-5) << "gradient " << i;
  }
  // Only W wants a gradient (x is data): x's is not computed, W's still is.
  auto Wg = W.clone().requires_grad_(true);
  (sdz::model::linear(x, Wg) * up).sum().backward();
  EXPECT_LT(rel(Wg.grad(), theirs[1]), 1e-5);
}

TEST(CpuMatmul, APackedWeightFollowsInPlaceUpdatesAndRawWrites) {
  torch::manual_seed(3);
  auto x = torch::randn({64, 128}), W = torch::randn({96, 128});
  torch::NoGradGuard ng;
  auto y0 = sdz::model::linear(x, W);
  EXPECT_LT(rel(y0, reference_linear(x, W, {})), 1e-5);
  if (onednn_built()) {
    EXPECT_GT(packed_weight_bytes(), 0);
  }
  W.mul_(-2.0);  // an optimizer step: the version counter moves
  EXPECT_LT(rel(sdz::model::linear(x, W), reference_linear(x, W, {})), 1e-5) << "a stale packed copy was used";
  // A write torch cannot see (MPI, memcpy) followed by a version bump, as dist/tensor_sync.cpp does.
  auto fresh = torch::randn({96, 128});
  std::memcpy(W.data_ptr(), fresh.data_ptr(), size_t(W.nbytes()));
  W.unsafeGetTensorImpl()->bump_version();
  EXPECT_LT(rel(sdz::model::linear(x, W), reference_linear(x, fresh, {})), 1e-5);
  // A new tensor in the old one's place (a load that swaps tensors): keyed by the tensor, not the name.
  W = torch::randn({96, 128});
  EXPECT_LT(rel(sdz::model::linear(x, W), reference_linear(x, W, {})), 1e-5);
}

TEST(CpuMatmul, PackedCopiesStayWithinTheBudgetAndDieWithTheirWeights) {
  torch::manual_seed(4);
  torch::NoGradGuard ng;
  auto x = torch::randn({64, 256});
  if (!onednn_built()) {  // a GPU build: torch::linear, nothing is ever packed
    auto W = torch::randn({512, 256});
    EXPECT_LT(rel(sdz::model::linear(x, W), reference_linear(x, W, {})), 1e-5);
    EXPECT_EQ(packed_weight_bytes(), 0);
    return;
  }
  set_packed_weight_budget(0);
  {
    auto W = torch::randn({512, 256});
    const int64_t before = packed_weight_bytes();
    EXPECT_LT(rel(sdz::model::linear(x, W), reference_linear(x, W, {})), 1e-5) << "over the budget: multiplied unpacked";
    EXPECT_LE(packed_weight_bytes(), before) << "packed beyond a budget of 0";  // (dead copies are dropped)
  }
  // Room for one such weight: a second one fits once the first has died.
  const int64_t one = int64_t(512) * 256 * 4;
  set_packed_weight_budget(packed_weight_bytes() + one + one / 2);
  const int64_t base = packed_weight_bytes();
  {
    auto W1 = torch::randn({512, 256});
    sdz::model::linear(x, W1);
    EXPECT_GE(packed_weight_bytes(), base + one);
  }
  auto W2 = torch::randn({512, 256});
  EXPECT_LT(rel(sdz::model::linear(x, W2), reference_linear(x, W2, {})), 1e-5);
  EXPECT_GE(packed_weight_bytes(), base + one) << "W2 was not packed after W1 died";
  EXPECT_LT(packed_weight_bytes(), base + 2 * one) << "W1's packed copy outlived it";
  set_packed_weight_budget(int64_t(4) << 30);
}

TEST(CpuMatmul, BatchedProductOverACacheViewMatchesTorch) {
  torch::manual_seed(5);
  // Keys in a cache [slots, kv, capacity, D] read through a narrow and a transpose, as attention does.
  auto cache = torch::randn({3, 2, 40, 16});
  auto keys = cache.narrow(2, 0, 17);
  auto q = torch::randn({3, 2, 4, 16});
  torch::NoGradGuard ng;
  auto scores = sdz::model::matmul(q, keys.transpose(2, 3));
  auto ref = torch::matmul(q.to(torch::kFloat64), keys.transpose(2, 3).to(torch::kFloat64));
  EXPECT_EQ(scores.sizes(), ref.sizes());
  EXPECT_LT(rel(scores, ref), 1e-5);
  auto probs = torch::softmax(scores, -1);
  auto out = sdz::model::matmul(probs, keys);
  EXPECT_LT(rel(out, torch::matmul(probs.to(torch::kFloat64), keys.to(torch::kFloat64))), 1e-5);
  // A broadcast operand (stride 0) is torch's.
  auto shared = torch::randn({1, 1, 16, 5}).expand({3, 2, 16, 5});
  EXPECT_LT(rel(sdz::model::matmul(q, shared), torch::matmul(q.to(torch::kFloat64), shared.to(torch::kFloat64))), 1e-5);
  // Two-dimensional, with a transposed operand (the lm_head's W.t()).
  auto W = torch::randn({50, 16});
  auto h = torch::randn({7, 16});
  EXPECT_LT(rel(sdz::model::matmul(h, W.t()), reference_linear(h, W, {})), 1e-5);
}

TEST(CpuMatmul, BatchedProductGradientsMatchTorch) {
  torch::manual_seed(8);
  auto q = torch::randn({2, 3, 10, 16}), k = torch::randn({2, 3, 12, 16}), up = torch::randn({2, 3, 10, 12});
  auto run = [&](bool ours) {
    auto qg = q.clone().requires_grad_(true), kg = k.clone().requires_grad_(true);
    auto s = ours ? sdz::model::matmul(qg, kg.transpose(2, 3)) : torch::matmul(qg, kg.transpose(2, 3));
    (s * up).sum().backward();
    return std::make_pair(qg.grad(), kg.grad());
  };
  auto ours = run(true), theirs = run(false);
  EXPECT_LT(rel(ours.first, theirs.first), 1e-5);
  EXPECT_LT(rel(ours.second, theirs.second), 1e-5);
}

TEST(CpuMatmul, BlasBackendIsTorchItself) {
  Backend blas(CpuMatmul::Blas);
  torch::manual_seed(6);
  auto x = torch::randn({5, 64}), W = torch::randn({32, 64}), b = torch::randn({32});
  torch::NoGradGuard ng;
  EXPECT_TRUE(torch::equal(sdz::model::linear(x, W, b), torch::linear(x, W, b)));
  auto a = torch::randn({2, 3, 4, 8}), c = torch::randn({2, 3, 8, 5});
  EXPECT_TRUE(torch::equal(sdz::model::matmul(a, c), torch::matmul(a, c)));
}

TEST(CpuMatmul, OtherDtypesFallBackToTorch) {
  torch::manual_seed(7);
  auto x = torch::randn({5, 64}).to(torch::kBFloat16), W = torch::randn({32, 64}).to(torch::kBFloat16);
  torch::NoGradGuard ng;
  EXPECT_TRUE(torch::equal(sdz::model::linear(x, W), torch::linear(x, W)));
  auto xd = torch::randn({5, 64}, torch::kFloat64), Wd = torch::randn({32, 64}, torch::kFloat64);
  EXPECT_TRUE(torch::equal(sdz::model::linear(xd, Wd), torch::linear(xd, Wd)));
}
