// Self-localization summary and generate-then-revise accuracy on hand-made values.
#include <gtest/gtest.h>

#include "sdzero/algo/diagnostics.hpp"
#include "sdzero/core/error.hpp"

using namespace sdz::algo;

TEST(LocalizationSummary, ConcentratedVersusFlat) {
  // 20 tokens, one carries 9 of the 10 units of positive mass: top 10% = 2 tokens hold 9.5 / 10.
  std::vector<double> peaked(20, 0.0);
  peaked[7] = 9.0;
  peaked[3] = 0.5;
  peaked[12] = 0.5;
  peaked[15] = -4.0;  // negative scores carry no mass
  auto p = summarize_localization(torch::tensor(peaked));
  EXPECT_EQ(p.tokens, 20);
  EXPECT_EQ(p.argmax, 7);
  EXPECT_DOUBLE_EQ(p.max, 9.0);
  EXPECT_DOUBLE_EQ(p.positive_mass, 10.0);
  EXPECT_NEAR(p.top_share, 0.95, 1e-12);
  auto f = summarize_localization(torch::full({20}, 0.25));
  EXPECT_NEAR(f.top_share, 0.1, 1e-12);
  auto e = summarize_localization(torch::zeros({0}));
  EXPECT_EQ(e.argmax, -1);
  EXPECT_THROW(summarize_localization(torch::zeros({2, 2})), sdz::Error);
}

TEST(RevisionAccuracy, CorrectionAndBreakageRates) {
  //            wrong->right  wrong->wrong  wrong->right  right->right  right->wrong
  auto r = revision_accuracy({0, 0, 0, 1, 1}, {1, 0, 1, 1, 0});
  EXPECT_EQ(r.attempts, 5);
  EXPECT_DOUBLE_EQ(r.first_accuracy, 0.4);
  EXPECT_DOUBLE_EQ(r.revised_accuracy, 0.6);
  EXPECT_DOUBLE_EQ(r.correction_rate, 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(r.breakage_rate, 0.5);
  EXPECT_EQ(revision_accuracy({}, {}).attempts, 0);
  EXPECT_THROW(revision_accuracy({1}, {}), sdz::Error);
}
