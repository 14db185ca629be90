// GRPO / DAPO pieces: group advantages, dynamic sampling, the decoupled clip in both directions with
// its gradients, and the k3 reference KL.
#include <gtest/gtest.h>

#include <cmath>

#include "sdzero/algo/grpo.hpp"
#include "sdzero/core/error.hpp"

using namespace sdz::algo;

namespace {
Trajectory traj(int64_t q, float r) {
  Trajectory t;
  t.question_id = q;
  t.reward = r;
  return t;
}
}  // namespace

TEST(GroupAdvantages, NormaliseWithinEachQuestion) {
  std::vector<Trajectory> ts = {traj(7, 1), traj(7, 0), traj(7, 0), traj(7, 0), traj(9, 1), traj(9, 0)};
  group_advantages(ts, true, 1e-6);
  // q7: mean 0.25, unbiased std sqrt(0.25 * 0.75 * 4 / 3) = 0.5
  EXPECT_NEAR(ts[0].advantage, 0.75 / (0.5 + 1e-6), 1e-5);
  EXPECT_NEAR(ts[1].advantage, -0.25 / (0.5 + 1e-6), 1e-5);
  // q9: mean 0.5, std sqrt(0.5) = 0.7071
  EXPECT_NEAR(ts[4].advantage, 0.5 / (std::sqrt(0.5) + 1e-6), 1e-5);
  EXPECT_NEAR(ts[5].advantage, -0.5 / (std::sqrt(0.5) + 1e-6), 1e-5);
  group_advantages(ts, false, 1e-6);
  EXPECT_NEAR(ts[0].advantage, 0.75, 1e-6);
  EXPECT_NEAR(ts[3].advantage, -0.25, 1e-6);
}

TEST(GroupAdvantages, UniformGroupGetsZero) {
  std::vector<Trajectory> ts = {traj(1, 1), traj(1, 1), traj(2, 0)};
  group_advantages(ts, true, 1e-6);
  for (auto& t : ts) EXPECT_EQ(t.advantage, 0.0f);
}

TEST(DynamicSampling, DropsAllEqualGroupsAndKeepsOrder) {
  std::vector<Trajectory> ts = {traj(1, 1), traj(2, 0), traj(1, 0), traj(3, 1), traj(2, 0), traj(3, 1), traj(4, 0),
                                traj(4, 1)};
  EXPECT_EQ(drop_uniform_groups(ts), 2);  // q2 all 0, q3 all 1
  ASSERT_EQ(ts.size(), 4u);
  EXPECT_EQ(ts[0].question_id, 1);
  EXPECT_EQ(ts[1].question_id, 1);
  EXPECT_EQ(ts[2].question_id, 4);
  EXPECT_EQ(ts[3].question_id, 4);
}

// rho = exp(new - old); the reference: L = -min(rho A, clip(rho) A); dL/dnew = -rho A when the
// unclipped branch is the min, else 0 (the clipped branch is constant in new outside the band).
TEST(ClippedSurrogate, DecoupledClipInBothDirections) {
  ClipOptions o;  // 0.2 / 0.28
  // ratios: 0.5, 0.9, 1.1, 1.5
  std::vector<double> ratios = {0.5, 0.9, 1.1, 1.5};
  std::vector<double> lr;
  for (double r : ratios) lr.push_back(std::log(r));
  auto old = torch::zeros({4});
  for (double A : {+1.0, -1.0}) {
    auto nw = torch::tensor(lr, torch::kFloat).requires_grad_(true);
    auto t = clipped_surrogate(nw, old, A, torch::Tensor(), o);
    t.loss.sum().backward();
    for (size_t i = 0; i < 4; ++i) {
      const double r = ratios[i];
      const double c = std::clamp(r, 0.8, 1.28);
      const double want = -std::min(r * A, c * A);
      const bool unclipped = r * A <= c * A;
      EXPECT_NEAR(t.loss[int64_t(i)].item<double>(), want, 1e-6) << "A " << A << " r " << r;
      EXPECT_NEAR(nw.grad()[int64_t(i)].item<double>(), unclipped ? -r * A : 0.0, 1e-6) << "A " << A << " r " << r;
      EXPECT_EQ(t.clipped[int64_t(i)].item<float>() > 0, !unclipped);
    }
  }
  // The ceiling is 1 + 0.28, not 1 + 0.2: ratio 1.25 with A > 0 is still unclipped.
  auto nw = torch::tensor({float(std::log(1.25))}).requires_grad_(true);
  auto t = clipped_surrogate(nw, torch::zeros({1}), 1.0, torch::Tensor(), o);
  EXPECT_NEAR(t.loss.item<double>(), -1.25, 1e-6);
  EXPECT_EQ(t.clipped.item<float>(), 0.0f);
  // ... and the floor is 1 - 0.2: ratio 0.75 with A < 0 is clipped to 0.8.
  auto t2 = clipped_surrogate(torch::tensor({float(std::log(0.75))}), torch::zeros({1}), -1.0, torch::Tensor(), o);
  EXPECT_NEAR(t2.loss.item<double>(), 0.8, 1e-6);
}

TEST(ClippedSurrogate, K3ReferenceKlAndItsGradient) {
  ClipOptions o;
  o.kl_coef = 0.1;
  auto nw = torch::tensor({-1.0f, -0.5f}).requires_grad_(true);
  auto old = nw.detach().clone();  // ratio 1
  auto ref = torch::tensor({-1.3f, -0.2f});
  auto t = clipped_surrogate(nw, old, 0.0, ref, o);
  t.loss.sum().backward();
  for (int i = 0; i < 2; ++i) {
    const double d = ref[i].item<double>() - nw[i].item<double>();
    EXPECT_NEAR(t.kl[i].item<double>(), std::exp(d) - d - 1, 1e-6);
    EXPECT_NEAR(t.loss[i].item<double>(), 0.1 * (std::exp(d) - d - 1), 1e-6);
    // d/dnew [exp(ref - new) - (ref - new) - 1] = -exp(d) + 1
    EXPECT_NEAR(nw.grad()[i].item<double>(), 0.1 * (1 - std::exp(d)), 1e-6);
  }
  EXPECT_THROW(clipped_surrogate(nw, old, 1.0, torch::Tensor(), o), sdz::Error);
}
