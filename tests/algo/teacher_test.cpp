// Teacher update rules: when syncs happen, the EMA arithmetic, hard copies.
#include <gtest/gtest.h>

#include "sdzero/algo/teacher.hpp"
#include "sdzero/core/error.hpp"

using namespace sdz::algo;

namespace {
std::vector<int64_t> sync_steps(TeacherSchedule& s, int64_t steps) {
  std::vector<int64_t> out;
  for (int64_t k = 1; k <= steps; ++k)
    if (s.after_step(k) == TeacherAction::HardSync) out.push_back(k);
  return out;
}
}  // namespace

TEST(TeacherSchedule, FrozenNeverChanges) {
  TeacherSchedule s({});
  EXPECT_TRUE(sync_steps(s, 50).empty());
  s.on_validation(10, 0.1);
  s.on_validation(20, 0.0);
  EXPECT_TRUE(sync_steps(s, 50).empty());
}

TEST(TeacherSchedule, SyncEveryK) {
  TeacherOptions o;
  o.update = TeacherUpdate::SyncEvery;
  o.sync_every = 16;
  TeacherSchedule s(o);
  EXPECT_EQ(sync_steps(s, 50), (std::vector<int64_t>{16, 32, 48}));
  EXPECT_EQ(s.state().syncs, 3);
  EXPECT_EQ(s.state().last_sync_step, 48);
  o.sync_every = 0;
  EXPECT_THROW(TeacherSchedule{o}, sdz::Error);
}

TEST(TeacherSchedule, SyncOnValidationPlateau) {
  TeacherOptions o;
  o.update = TeacherUpdate::Plateau;
  o.plateau_patience = 2;
  o.plateau_min_delta = 0.01;
  TeacherSchedule s(o);
  s.on_validation(20, 0.40);
  EXPECT_EQ(s.after_step(21), TeacherAction::None);
  s.on_validation(40, 0.45);
  s.on_validation(60, 0.455);  // below min_delta: stale 1
  EXPECT_EQ(s.after_step(61), TeacherAction::None);
  s.on_validation(80, 0.44);   // stale 2: plateau
  EXPECT_EQ(s.after_step(81), TeacherAction::HardSync);
  EXPECT_EQ(s.after_step(82), TeacherAction::None);  // one sync per plateau
  s.on_validation(100, 0.50);  // improvement resets
  s.on_validation(120, 0.49);
  EXPECT_EQ(s.after_step(121), TeacherAction::None);
  EXPECT_EQ(s.state().syncs, 1);
  EXPECT_EQ(s.state().last_sync_step, 81);
  EXPECT_DOUBLE_EQ(s.state().best_validation, 0.50);
  // A restored state continues the same way.
  TeacherSchedule r(o);
  r.set_state(s.state());
  r.on_validation(140, 0.3);
  EXPECT_EQ(r.after_step(141), TeacherAction::HardSync);
}

TEST(TeacherSchedule, EmaEveryStep) {
  TeacherOptions o;
  o.update = TeacherUpdate::Ema;
  TeacherSchedule s(o);
  for (int k = 1; k < 5; ++k) EXPECT_EQ(s.after_step(k), TeacherAction::Ema);
  o.ema_rate = 0;
  EXPECT_THROW(TeacherSchedule{o}, sdz::Error);
  EXPECT_THROW(parse_teacher_update("often"), sdz::Error);
}

TEST(EmaUpdate, MatchesTheFormulaOverSteps) {
  auto t = torch::tensor({1.0f, -2.0f, 0.5f});
  auto s = torch::tensor({3.0f, 0.0f, 0.5f}).requires_grad_(true);
  std::vector<double> ref = {1.0, -2.0, 0.5};
  for (int step = 0; step < 3; ++step) {
    ema_update({t}, {s}, 0.01);
    for (size_t i = 0; i < 3; ++i) ref[i] = 0.99 * ref[i] + 0.01 * s[int64_t(i)].item<double>();
  }
  for (int64_t i = 0; i < 3; ++i) EXPECT_NEAR(t[i].item<double>(), ref[size_t(i)], 1e-6);
  // closed form after 3 steps for a constant student: t = s + 0.99^3 (t0 - s)
  EXPECT_NEAR(t[0].item<double>(), 3.0 + std::pow(0.99, 3) * (1.0 - 3.0), 1e-6);
  EXPECT_THROW(ema_update({t}, {s, s}, 0.01), sdz::Error);
  EXPECT_THROW(ema_update({t}, {torch::zeros({2})}, 0.01), sdz::Error);
}

TEST(HardCopy, CopiesValuesNotStorage) {
  auto t = torch::zeros({2, 2});
  auto s = torch::rand({2, 2});
  hard_copy({t}, {s});
  EXPECT_TRUE(torch::equal(t, s));
  s.add_(1.0);
  EXPECT_FALSE(torch::equal(t, s));
}
