// Top-k / full KL, NLL, token mean and self-localization against slow double-precision references
// written from the formulas in SDZERO.md; gradients via autograd against the closed forms.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "sdzero/algo/losses.hpp"
#include "sdzero/core/error.hpp"

using namespace sdz::algo;

namespace {

using Row = std::vector<double>;

Row log_softmax_ref(const Row& x, double temp) {
  double m = -1e300;
  for (double v : x) m = std::max(m, v / temp);
  double s = 0;
  for (double v : x) s += std::exp(v / temp - m);
  Row out;
  for (double v : x) out.push_back(v / temp - m - std::log(s));
  return out;
}

// forward, reverse over the teacher's top-k set, both renormalised (SDZERO.md step 5).
struct KlRef {
  double forward, reverse;
};
KlRef kl_ref(const Row& z, const std::vector<int64_t>& ids, const Row& t, double tt, double ts) {
  Row zi;
  for (auto i : ids) zi.push_back(z[size_t(i)]);
  Row s = log_softmax_ref(zi, ts), q = log_softmax_ref(t, tt);
  KlRef r{0, 0};
  for (size_t i = 0; i < s.size(); ++i) {
    r.forward += std::exp(q[i]) * (q[i] - s[i]);
    r.reverse += std::exp(s[i]) * (s[i] - q[i]);
  }
  return r;
}

// Hand-made case: 3 positions, V = 6, k = 3, ids not sorted and overlapping across rows.
const std::vector<std::vector<double>> kZ = {{0.3, -1.2, 2.0, 0.5, -0.1, 1.1},
                                             {1.5, 0.0, -0.7, 0.2, 0.9, -2.0},
                                             {-0.4, 0.8, 0.8, -1.5, 0.1, 0.6}};
const std::vector<std::vector<int64_t>> kIds = {{2, 5, 0}, {4, 0, 3}, {1, 5, 2}};
const std::vector<std::vector<double>> kT = {{3.0, 1.0, 0.2}, {0.7, 2.2, -0.3}, {1.0, 1.0, 0.5}};

torch::Tensor to_tensor(const std::vector<std::vector<double>>& v, torch::Dtype dt = torch::kFloat) {
  std::vector<double> flat;
  for (auto& r : v) flat.insert(flat.end(), r.begin(), r.end());
  return torch::tensor(flat, torch::kDouble).reshape({int64_t(v.size()), int64_t(v[0].size())}).to(dt);
}
torch::Tensor ids_tensor() {
  std::vector<int64_t> flat;
  for (auto& r : kIds) flat.insert(flat.end(), r.begin(), r.end());
  return torch::tensor(flat, torch::kLong).reshape({3, 3});
}

constexpr double kTol = 1e-5;

}  // namespace

TEST(TopkKl, ValuesMatchReferenceForEveryKindAndTemperature) {
  for (double tt : {1.0, 0.7, 2.0})
    for (double ts : {1.0, 0.5}) {
      for (KlKind kind : {KlKind::Forward, KlKind::Reverse, KlKind::Mixed}) {
        KlOptions o;
        o.kind = kind;
        o.forward_weight = 0.3;
        o.teacher_temperature = tt;
        o.student_temperature = ts;
        auto got = topk_kl(to_tensor(kZ), ids_tensor(), to_tensor(kT), o);
        ASSERT_EQ(got.sizes(), torch::IntArrayRef({3}));
        for (int r = 0; r < 3; ++r) {
          auto ref = kl_ref(kZ[r], kIds[r], kT[r], tt, ts);
          double want = kind == KlKind::Forward   ? ref.forward
                        : kind == KlKind::Reverse ? ref.reverse
                                                  : 0.3 * ref.forward + 0.7 * ref.reverse;
          EXPECT_NEAR(got[r].item<double>(), want, kTol) << "row " << r << " tt " << tt << " ts " << ts;
          EXPECT_GT(want, 0.0);  // the hand-made rows are never equal distributions
        }
      }
    }
}

TEST(TopkKl, TemperatureScalingIsAppliedToTheTeacher) {
  // A teacher whose logits are T times the student's: after dividing by T they agree, so KL = 0.
  auto z = to_tensor(kZ);
  auto ids = ids_tensor();
  auto t = z.gather(1, ids) * 2.0;
  KlOptions o;
  o.teacher_temperature = 2.0;
  EXPECT_LT(topk_kl(z, ids, t, o).abs().max().item<double>(), 1e-6);
  o.teacher_temperature = 1.0;
  EXPECT_GT(topk_kl(z, ids, t, o).min().item<double>(), 1e-3);
}

TEST(TopkKl, GradientsMatchClosedForms) {
  // Forward: dL/dz_i = p_i - q_i; reverse: p_i (log p_i - log q_i - RKL); zero outside I_t.
  for (KlKind kind : {KlKind::Forward, KlKind::Reverse, KlKind::Mixed}) {
    auto z = to_tensor(kZ).requires_grad_(true);
    KlOptions o;
    o.kind = kind;
    o.forward_weight = 0.5;
    o.teacher_temperature = 0.7;
    topk_kl(z, ids_tensor(), to_tensor(kT), o).sum().backward();
    auto g = z.grad();
    for (int r = 0; r < 3; ++r) {
      Row zi;
      for (auto i : kIds[r]) zi.push_back(kZ[r][size_t(i)]);
      Row lp = log_softmax_ref(zi, 1.0), lq = log_softmax_ref(kT[r], 0.7);
      double rkl = 0;
      for (size_t i = 0; i < 3; ++i) rkl += std::exp(lp[i]) * (lp[i] - lq[i]);
      std::vector<double> want(6, 0.0);
      for (size_t i = 0; i < 3; ++i) {
        const double p = std::exp(lp[i]), q = std::exp(lq[i]);
        const double fwd = p - q, rev = p * (lp[i] - lq[i] - rkl);
        want[size_t(kIds[r][i])] = kind == KlKind::Forward ? fwd : kind == KlKind::Reverse ? rev : 0.5 * fwd + 0.5 * rev;
      }
      for (int v = 0; v < 6; ++v) EXPECT_NEAR(g[r][v].item<double>(), want[size_t(v)], kTol) << "row " << r << " v " << v;
    }
  }
}

TEST(TopkKl, StudentTemperatureScalesTheGradient) {
  auto z = to_tensor(kZ).requires_grad_(true);
  KlOptions o;
  o.kind = KlKind::Forward;
  o.student_temperature = 2.0;
  topk_kl(z, ids_tensor(), to_tensor(kT), o).sum().backward();
  for (int r = 0; r < 3; ++r) {
    Row zi;
    for (auto i : kIds[r]) zi.push_back(kZ[r][size_t(i)]);
    Row lp = log_softmax_ref(zi, 2.0), lq = log_softmax_ref(kT[r], 1.0);
    for (size_t i = 0; i < 3; ++i)
      EXPECT_NEAR(z.grad()[r][kIds[r][i]].item<double>(), (std::exp(lp[i]) - std::exp(lq[i])) / 2.0, kTol);
  }
}

TEST(TopkKl, NoGradientReachesTheTeacher) {
  auto t = to_tensor(kT).requires_grad_(true);
  auto z = to_tensor(kZ).requires_grad_(true);
  topk_kl(z, ids_tensor(), t, {}).sum().backward();
  EXPECT_FALSE(t.grad().defined());
}

TEST(TopkKl, Bf16StudentLogitsAreComputedInFloat) {
  KlOptions o;
  auto got = topk_kl(to_tensor(kZ, torch::kBFloat16), ids_tensor(), to_tensor(kT), o);
  EXPECT_EQ(got.scalar_type(), torch::kFloat);
  auto ref = topk_kl(to_tensor(kZ, torch::kBFloat16).to(torch::kFloat), ids_tensor(), to_tensor(kT), o);
  EXPECT_LT((got - ref).abs().max().item<double>(), 1e-6);
}

TEST(TopkKl, ShapeMismatchIsAnError) {
  EXPECT_THROW(topk_kl(to_tensor(kZ), ids_tensor().slice(0, 0, 2), to_tensor(kT).slice(0, 0, 2), {}), sdz::Error);
  EXPECT_THROW(topk_kl(to_tensor(kZ), ids_tensor(), to_tensor(kT).slice(1, 0, 2), {}), sdz::Error);
  KlOptions o;
  o.teacher_temperature = 0;
  EXPECT_THROW(topk_kl(to_tensor(kZ), ids_tensor(), to_tensor(kT), o), sdz::Error);
  EXPECT_THROW(parse_kl_kind("sideways"), sdz::Error);
}

TEST(FullKl, ValuesAndGradientsMatchReference) {
  auto tl = to_tensor({{0.1, 0.2, -1.0, 2.0, 0.0, 0.3}, {1.0, -1.0, 0.5, 0.5, 0.2, -0.2}, {0, 0, 0, 0, 0, 3.0}});
  for (KlKind kind : {KlKind::Forward, KlKind::Reverse, KlKind::Mixed}) {
    KlOptions o;
    o.kind = kind;
    o.forward_weight = 0.25;
    auto z = to_tensor(kZ).requires_grad_(true);
    auto q = teacher_logprobs(tl, 0.8);
    auto got = full_kl(z, q, o);
    got.sum().backward();
    for (int r = 0; r < 3; ++r) {
      Row trow(6);
      for (int v = 0; v < 6; ++v) trow[size_t(v)] = tl[r][v].item<double>();
      std::vector<int64_t> all = {0, 1, 2, 3, 4, 5};
      auto ref = kl_ref(kZ[r], all, trow, 0.8, 1.0);
      const double want = kind == KlKind::Forward   ? ref.forward
                          : kind == KlKind::Reverse ? ref.reverse
                                                    : 0.25 * ref.forward + 0.75 * ref.reverse;
      EXPECT_NEAR(got[r].item<double>(), want, kTol);
      Row lp = log_softmax_ref(kZ[r], 1.0), lq = log_softmax_ref(trow, 0.8);
      double rkl = 0;
      for (size_t i = 0; i < 6; ++i) rkl += std::exp(lp[i]) * (lp[i] - lq[i]);
      for (size_t i = 0; i < 6; ++i) {
        const double p = std::exp(lp[i]), qq = std::exp(lq[i]);
        const double fwd = p - qq, rev = p * (lp[i] - lq[i] - rkl);
        const double g = kind == KlKind::Forward ? fwd : kind == KlKind::Reverse ? rev : 0.25 * fwd + 0.75 * rev;
        EXPECT_NEAR(z.grad()[r][int64_t(i)].item<double>(), g, kTol);
      }
    }
  }
}

TEST(FullKl, TopkWithKEqualVocabEqualsFullMode) {
  auto z = to_tensor(kZ);
  auto t = to_tensor({{0.1, 0.2, -1.0, 2.0, 0.0, 0.3}, {1.0, -1.0, 0.5, 0.5, 0.2, -0.2}, {0, 0, 0, 0, 0, 3.0}});
  auto [ids, vals] = teacher_topk(t, 6);
  KlOptions o;
  o.teacher_temperature = 1.3;
  auto a = topk_kl(z, ids, vals, o);
  auto b = full_kl(z, teacher_logprobs(t, 1.3), o);
  EXPECT_LT((a - b).abs().max().item<double>(), 1e-6);
}

TEST(TeacherTopk, KeepsTheLargestLogitsWithTheirIds) {
  auto t = to_tensor({{0.1, 5.0, -1.0, 2.0, 0.0, 3.0}});
  auto [ids, vals] = teacher_topk(t, 3);
  EXPECT_EQ(ids[0][0].item<int64_t>(), 1);
  EXPECT_EQ(ids[0][1].item<int64_t>(), 5);
  EXPECT_EQ(ids[0][2].item<int64_t>(), 3);
  EXPECT_FLOAT_EQ(vals[0][1].item<float>(), 3.0f);
  EXPECT_EQ(teacher_topk(t, 64).first.size(1), 6);  // k clamped to V
}

TEST(TokenMean, DividesByTheGivenGlobalCount) {
  auto per = torch::tensor({1.0, 2.0, 3.0, 4.0}).requires_grad_(true);
  auto mask = torch::tensor({1.0, 0.0, 1.0, 1.0});
  auto m = token_mean(per, mask, 10.0);  // this rank has 3 valid tokens of 10 in the global batch
  EXPECT_NEAR(m.item<double>(), 8.0 / 10.0, 1e-7);
  m.backward();
  EXPECT_NEAR(per.grad()[0].item<double>(), 0.1, 1e-7);
  EXPECT_NEAR(per.grad()[1].item<double>(), 0.0, 1e-7);
  auto zero = token_mean(per, mask, 0.0);
  EXPECT_EQ(zero.item<double>(), 0.0);
  EXPECT_TRUE(zero.requires_grad());
  EXPECT_THROW(token_mean(per, mask, -1.0), sdz::Error);
}

TEST(Nll, MatchesMinusLogSoftmaxAndItsGradient) {
  auto z = to_tensor(kZ).requires_grad_(true);
  auto tgt = torch::tensor({2, 0, 5}, torch::kLong);
  auto nll = token_nll(z, tgt);
  nll.sum().backward();
  for (int r = 0; r < 3; ++r) {
    Row lp = log_softmax_ref(kZ[r], 1.0);
    const int64_t y = tgt[r].item<int64_t>();
    EXPECT_NEAR(nll[r].item<double>(), -lp[size_t(y)], kTol);
    for (int v = 0; v < 6; ++v)  // d(-log p_y)/dz_v = p_v - [v == y]
      EXPECT_NEAR(z.grad()[r][v].item<double>(), std::exp(lp[size_t(v)]) - (v == y ? 1.0 : 0.0), kTol);
  }
  auto lp07 = token_logprobs(to_tensor(kZ), tgt, 0.7);
  EXPECT_NEAR(lp07[1].item<double>(), log_softmax_ref(kZ[1], 0.7)[0], kTol);
}

// -log(1 - p_t): d/dz_v = p_t (1[v == t] - p_v) / (1 - p_t), so it pushes z_t down by p_t and lifts
// every other logit by its share of the freed mass.
TEST(Unlikelihood, MatchesMinusLogOneMinusPAndItsGradient) {
  auto z = to_tensor(kZ).requires_grad_(true);
  auto avoid = torch::tensor({2, 0, 5}, torch::kLong);
  auto ul = token_unlikelihood(z, avoid);
  ul.sum().backward();
  for (int r = 0; r < 3; ++r) {
    Row lp = log_softmax_ref(kZ[r], 1.0);
    const int64_t t = avoid[r].item<int64_t>();
    const double pt = std::exp(lp[size_t(t)]);
    EXPECT_NEAR(ul[r].item<double>(), -std::log(1 - pt), kTol);
    for (int v = 0; v < 6; ++v)
      EXPECT_NEAR(z.grad()[r][v].item<double>(), pt * ((v == t ? 1.0 : 0.0) - std::exp(lp[size_t(v)])) / (1 - pt), kTol);
  }
  // A token the row is certain of costs -log(1e-6), not infinity, and a negligible one about p.
  auto sure = token_unlikelihood(torch::tensor({{40.0, 0.0, 0.0}}), torch::tensor({0}, torch::kLong));
  EXPECT_NEAR(sure.item<double>(), -std::log(1e-6), 1e-3);
  auto tiny = token_unlikelihood(torch::tensor({{-30.0, 0.0, 0.0}}), torch::tensor({0}, torch::kLong));
  EXPECT_NEAR(tiny.item<double>(), std::exp(-30.0) / 2, 1e-16);
  EXPECT_THROW(token_unlikelihood(to_tensor(kZ), torch::tensor({1, 2}, torch::kLong)), sdz::Error);
}

TEST(SelfLocalization, IsStudentMinusTeacherPerToken) {
  auto s = torch::tensor({-0.1, -2.0, -0.5});
  auto t = torch::tensor({-0.2, -0.1, -0.5});
  auto d = self_localization(s, t);
  EXPECT_NEAR(d[0].item<double>(), 0.1, 1e-6);
  EXPECT_NEAR(d[1].item<double>(), -1.9, 1e-6);
  EXPECT_NEAR(d[2].item<double>(), 0.0, 1e-6);
  EXPECT_THROW(self_localization(s, t.slice(0, 0, 2)), sdz::Error);
}
