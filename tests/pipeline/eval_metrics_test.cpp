// Evaluation numbers against values computed by hand on small fixed sets of responses.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "sdzero/algo/diagnostics.hpp"
#include "sdzero/core/error.hpp"
#include "sdzero/core/rng.hpp"
#include "sdzero/pipeline/eval_metrics.hpp"
#include "sdzero/pipeline/eval_protocol.hpp"

using namespace sdz::pipeline;

namespace {

QuestionSamples question(std::vector<int> correct, std::vector<int64_t> lengths, std::vector<int> revises, int greedy) {
  QuestionSamples q;
  for (size_t i = 0; i < correct.size(); ++i) q.samples.push_back({correct[i] != 0, lengths[i], revises[i] != 0});
  q.greedy = greedy;
  return q;
}

// Three questions, four samples each (see the comments for the hand computation).
std::vector<QuestionSamples> three_questions() {
  return {question({1, 0, 0, 1}, {10, 12, 8, 10}, {0, 1, 0, 0}, 1),  // c = 2
          question({0, 0, 0, 0}, {20, 20, 20, 20}, {1, 1, 0, 0}, 0),  // c = 0
          question({1, 1, 1, 1}, {5, 5, 5, 5}, {0, 0, 0, 0}, -1)};    // c = 4, greedy not measured
}

}  // namespace

TEST(PassAtK, UnbiasedEstimatorByHand) {
  EXPECT_NEAR(pass_at_k(5, 2, 2), 1.0 - 3.0 / 10.0, 1e-12);     // 1 - C(3,2)/C(5,2)
  EXPECT_NEAR(pass_at_k(10, 3, 5), 1.0 - 21.0 / 252.0, 1e-12);  // 1 - C(7,5)/C(10,5)
  EXPECT_NEAR(pass_at_k(4, 1, 1), 0.25, 1e-12);                 // k = 1 is c/n
  // n == k: any of the k samples.
  EXPECT_EQ(pass_at_k(4, 0, 4), 0.0);
  EXPECT_EQ(pass_at_k(4, 1, 4), 1.0);
  EXPECT_EQ(pass_at_k(3, 2, 2), 1.0);  // n - c < k: every pair holds a correct sample
  EXPECT_THROW(pass_at_k(3, 1, 4), sdz::Error);
  EXPECT_THROW(pass_at_k(3, 4, 2), sdz::Error);
  EXPECT_THROW(pass_at_k(3, 1, 0), sdz::Error);
}

TEST(SamplingMetrics, HandComputedOnThreeQuestions) {
  SamplingMetrics m = sampling_metrics(three_questions(), 4);
  EXPECT_EQ(m.questions, 3);
  EXPECT_EQ(m.samples, 12);
  EXPECT_EQ(m.k, 4);
  EXPECT_NEAR(m.avg_at_k, (0.5 + 0.0 + 1.0) / 3, 1e-12);
  EXPECT_NEAR(m.pass_at_k, 2.0 / 3, 1e-12);
  EXPECT_EQ(m.greedy_questions, 2);
  EXPECT_NEAR(m.greedy, 0.5, 1e-12);
  EXPECT_NEAR(m.mean_length, 140.0 / 12, 1e-12);
  EXPECT_NEAR(m.self_revision_rate, 3.0 / 12, 1e-12);
  // k = 2 from four samples: question 1 gets 1 - C(2,2)/C(4,2) = 5/6.
  EXPECT_NEAR(sampling_metrics(three_questions(), 2).pass_at_k, (5.0 / 6 + 0 + 1) / 3, 1e-12);
  EXPECT_LE(m.avg_at_k, m.pass_at_k);
  // Empty: zeros, not NaN.
  SamplingMetrics e = sampling_metrics(std::vector<QuestionSamples>{}, 4);
  EXPECT_EQ(e.questions, 0);
  EXPECT_EQ(e.avg_at_k, 0.0);
  EXPECT_EQ(e.greedy, 0.0);
  // Fewer samples than k is refused.
  EXPECT_THROW(sampling_metrics(three_questions(), 5), sdz::Error);
}

TEST(SamplingMetrics, CountsAddAcrossParts) {
  // What the ranks do: each sums its own questions, the sums are added, the metrics follow.
  auto qs = three_questions();
  SamplingCounts a, b;
  a.add(qs[0], 2);
  b.add(qs[1], 2);
  b.add(qs[2], 2);
  std::vector<double> va = a.values(), vb = b.values();
  for (size_t i = 0; i < va.size(); ++i) va[i] += vb[i];
  SamplingMetrics whole = sampling_metrics(qs, 2), parts = sampling_metrics(SamplingCounts::from_values(va), 2);
  EXPECT_EQ(whole.to_json().dump(), parts.to_json().dump());
  EXPECT_THROW(SamplingCounts::from_values({1, 2}), sdz::Error);
  for (const char* key : {"questions", "samples", "k", "avg_at_k", "pass_at_k", "greedy", "greedy_questions",
                          "mean_length", "self_revision_rate"})
    EXPECT_TRUE(whole.to_json().contains(key)) << key;
}

TEST(RevisionMetrics, CorrectionAndBreakageByHand) {
  // (first, revised): two of three wrong first attempts fixed, one of two right ones broken.
  std::vector<RevisionRecord> rs = {{false, true}, {false, false}, {false, true}, {true, true}, {true, false}};
  RevisionMetrics m = revision_metrics(rs, "oracle");
  EXPECT_EQ(m.cue, "oracle");
  EXPECT_EQ(m.attempts, 5);
  EXPECT_EQ(m.wrong_first, 3);
  EXPECT_EQ(m.right_first, 2);
  EXPECT_EQ(m.fixed, 2);
  EXPECT_EQ(m.broken, 1);
  EXPECT_NEAR(m.first_accuracy, 0.4, 1e-12);
  EXPECT_NEAR(m.revised_accuracy, 0.6, 1e-12);
  EXPECT_NEAR(m.correction_rate, 2.0 / 3, 1e-12);
  EXPECT_NEAR(m.breakage_rate, 0.5, 1e-12);
  // revised = first + (fixed - broken) / attempts, always.
  EXPECT_NEAR(m.revised_accuracy, m.first_accuracy + double(m.fixed - m.broken) / double(m.attempts), 1e-12);
  // Same numbers as algo's float-reward version.
  auto a = sdz::algo::revision_accuracy({0, 0, 0, 1, 1}, {1, 0, 1, 1, 0});
  EXPECT_NEAR(a.correction_rate, m.correction_rate, 1e-12);
  EXPECT_NEAR(a.breakage_rate, m.breakage_rate, 1e-12);
  // All first attempts right: no correction rate to speak of (0, not NaN).
  RevisionMetrics r = revision_metrics({{true, true}}, "rephrase");
  EXPECT_EQ(r.wrong_first, 0);
  EXPECT_EQ(r.correction_rate, 0.0);
  EXPECT_EQ(RevisionCounts::from_values(RevisionCounts().values()).attempts, 0.0);
}

TEST(HindsightMetrics, RevisionVersusFreshSampleByHand) {
  // d_q = revision accuracy - fresh accuracy: 0.5, 0.5, -0.5.
  std::vector<HindsightRecord> rs = {{{true, false}, {false, false}, {}, {}}, {{true, true}, {true, false}, {}, {}},
                                     {{false, false}, {false, true}, {}, {}}};
  HindsightMetrics m = hindsight_metrics(rs);
  EXPECT_EQ(m.questions, 3);
  EXPECT_EQ(m.revisions, 6);
  EXPECT_EQ(m.fresh_samples, 6);
  EXPECT_NEAR(m.revision_accuracy, 0.5, 1e-12);
  EXPECT_NEAR(m.fresh_accuracy, 1.0 / 3, 1e-12);
  EXPECT_NEAR(m.difference, 1.0 / 6, 1e-12);
  // Sample variance of d: ((1/3)^2 + (1/3)^2 + (2/3)^2) / 2 = 1/3; stderr sqrt(1/3 / 3) = 1/3.
  EXPECT_NEAR(m.difference_stderr, 1.0 / 3, 1e-12);
  // One question: no spread to estimate.
  EXPECT_EQ(hindsight_metrics({rs[0]}).difference_stderr, 0.0);
  EXPECT_THROW(hindsight_metrics({HindsightRecord{{true}, {}, {}, {}}}), sdz::Error);
  // Repeat rates pool every revision and fresh sample: 2 of 6 revisions and 3 of 6 fresh samples
  // write the failed attempt again; records without flags count as no repeats.
  EXPECT_EQ(m.revision_repeat_rate, 0.0);
  std::vector<HindsightRecord> rep = rs;
  rep[0].revised_repeats = {false, true}, rep[0].fresh_repeats = {true, true};
  rep[2].revised_repeats = {true, false}, rep[2].fresh_repeats = {false, true};
  HindsightMetrics mr = hindsight_metrics(rep);
  EXPECT_NEAR(mr.revision_repeat_rate, 2.0 / 6, 1e-12);
  EXPECT_NEAR(mr.fresh_repeat_rate, 3.0 / 6, 1e-12);
  EXPECT_NEAR(hindsight_metrics(HindsightCounts::from_values([&] {
                HindsightCounts c;
                for (const auto& r : rep) c.add(r);
                return c.values();
              }())).fresh_repeat_rate, 0.5, 1e-12);
  EXPECT_NEAR(HindsightMetrics::from_json(mr.to_json()).revision_repeat_rate, mr.revision_repeat_rate, 0);
  rep[1].fresh_repeats = {true};  // one flag for two samples
  EXPECT_THROW(hindsight_metrics(rep), sdz::Error);
  auto j = m.to_json();
  for (const char* key : {"n", "revisions", "fresh_samples", "revision_accuracy", "fresh_accuracy", "difference",
                          "revision_repeat_rate", "fresh_repeat_rate",
                          "difference_stderr"})
    EXPECT_TRUE(j.contains(key)) << key;
}

TEST(LocalizationMetrics, TopShareAndArgmaxNearTheFirstErrorByHand) {
  std::vector<LocalizationRecord> rs(5);
  // Wrong, 10 tokens: the top token (5.0) holds 5 of the 6 units of positive gap; argmax 2, first error 3.
  rs[0] = {{0.1, 0.2, 5.0, 0.3, -1.0, 0.1, 0.1, 0.1, 0.05, 0.05}, false, 3};
  // Wrong, 4 tokens: top ceil(0.4) = 1 token holds 4/10; argmax 3, first error 0: a miss.
  rs[1] = {{1, 2, 3, 4}, false, 0};
  // Wrong, first error unknown: counted in the shares, not in the hit rate.
  rs[2] = {{0, 0}, false, -1};
  // Correct and flat: the top token holds 1/10.
  rs[3] = {std::vector<double>(10, 1.0), true, -1};
  // Wrong, first error just past the last token (the response stopped early): argmax 3 is within one.
  rs[4] = {{0, 0, 0, 2}, false, 4};
  LocalizationMetrics m = localization_metrics(rs, 0.1, 1);
  EXPECT_EQ(m.wrong, 4);
  EXPECT_EQ(m.correct, 1);
  EXPECT_EQ(m.located, 3);
  EXPECT_NEAR(m.wrong_top_share, (5.0 / 6 + 0.4 + 0.0 + 1.0) / 4, 1e-12);
  EXPECT_NEAR(m.correct_top_share, 0.1, 1e-12);
  EXPECT_NEAR(m.wrong_mean_gap, (0.5 + 2.5 + 0.0 + 0.5) / 4, 1e-12);
  EXPECT_NEAR(m.correct_mean_gap, 1.0, 1e-12);
  EXPECT_NEAR(m.argmax_hit_rate, 2.0 / 3, 1e-12);
  // Uniform argmax: 3/10 (positions 2..4), 2/4 (0..1), 1/4 (3 only).
  EXPECT_NEAR(m.argmax_hit_chance, (0.3 + 0.5 + 0.25) / 3, 1e-12);
  // A window of 0 needs the exact token: only none of them.
  EXPECT_NEAR(localization_metrics(rs, 0.1, 0).argmax_hit_rate, 0.0, 1e-12);
}

TEST(LocalizationMetrics, SummaryAgreesWithAlgoSummary) {
  sdz::Rng rng(7);
  for (int trial = 0; trial < 20; ++trial) {
    std::vector<double> g(size_t(1 + rng.randint(0, 60)));
    for (auto& x : g) x = rng.normal();
    for (double frac : {0.1, 0.25, 1.0}) {
      LocalizationSummaryPlain p = summarize_gaps(g, frac);
      const torch::Tensor gt = torch::tensor(g, torch::dtype(torch::kDouble));
      sdz::algo::LocalizationSummary t = sdz::algo::summarize_localization(gt, frac);
      EXPECT_EQ(p.tokens, t.tokens);
      EXPECT_EQ(p.argmax, t.argmax);
      EXPECT_NEAR(p.positive_mass, t.positive_mass, 1e-9);
      EXPECT_NEAR(p.top_share, t.top_share, 1e-9);
    }
  }
  EXPECT_EQ(summarize_gaps({}).argmax, -1);
  EXPECT_THROW(summarize_gaps({1.0}, 0.0), sdz::Error);
}

// The demo's rank groups send their rows to rank 0 as JSON text: a report must come back bit for bit
// (the table's numbers are these doubles), with or without the revision part.
TEST(EvalReport, JsonRoundTripIsExact) {
  EvalReport r;
  r.sampling = sampling_metrics(three_questions(), 4);
  r.generated_tokens = 123456, r.seconds = 1.0 / 7;
  const auto text = [](const EvalReport& x) { return x.to_json().dump(); };
  EvalReport back = EvalReport::from_json(nlohmann::json::parse(text(r)));
  EXPECT_EQ(text(back), text(r));
  EXPECT_FALSE(back.revised);
  EXPECT_EQ(back.sampling.avg_at_k, r.sampling.avg_at_k);  // exact, not near
  EXPECT_EQ(back.seconds, 1.0 / 7);

  r.revised = true, r.has_rephrase = true;
  r.oracle = revision_metrics(std::vector<RevisionRecord>{{false, true}, {true, false}, {false, false}}, "oracle");
  r.rephrase = revision_metrics(std::vector<RevisionRecord>{{true, true}, {false, true}, {true, true}}, "rephrase");
  r.hindsight = hindsight_metrics({{{true, false}, {false, false}, {}, {}},
                                   {{true, true}, {true, false}, {}, {}},
                                   {{false, false}, {false, true}, {}, {}}});
  back = EvalReport::from_json(nlohmann::json::parse(text(r)));
  EXPECT_EQ(text(back), text(r));
  EXPECT_TRUE(back.revised && back.has_rephrase);
  EXPECT_EQ(back.hindsight.difference_stderr, r.hindsight.difference_stderr);
  EXPECT_EQ(back.oracle.cue, "oracle");
  r.has_rephrase = false;
  EXPECT_FALSE(EvalReport::from_json(r.to_json()).has_rephrase);
  // A report with a field missing is an error, not zeros.
  nlohmann::json broken = r.to_json();
  broken["sampling"].erase("avg_at_k");
  EXPECT_ANY_THROW(EvalReport::from_json(broken));
}
