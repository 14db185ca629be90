// defines: the numbers of an evaluation as pure functions of per-question records (no torch, no
// model): avg@k, pass@k, greedy accuracy, mean length and self-revision rate of sampled responses;
// generate-then-revise (first and revised accuracy, correction and breakage rates) for one cue rule;
// the hindsight test (revision after the "wrong" cue vs a fresh sample on failed questions); the
// self-localization summary (top-10% share of the gap, argmax near the first error).
//
// Each number is built from additive Counts, so MPI ranks add their counts (values() / from_values())
// and every rank computes the same metrics. Definitions and formulas: docs/EVAL.md.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace sdz::pipeline {

// Unbiased pass@k of a question with n samples of which c are correct (Chen et al. 2021):
// 1 - C(n-c, k) / C(n, k). With n == k this is plain "any of the k samples is correct".
// Throws sdz::Error unless 1 <= k <= n and 0 <= c <= n.
double pass_at_k(int64_t n, int64_t c, int64_t k);

// ---- sampled responses ----
struct SampleRecord {
  bool correct = false;
  int64_t length = 0;         // response tokens, the stop token included
  bool self_revises = false;  // the response contains a revision cue (it revised itself unasked)
};
struct QuestionSamples {
  std::vector<SampleRecord> samples;  // n >= k samples at the sampling temperature
  int greedy = -1;                    // greedy response correct: 1 / 0; -1 when not measured
};

struct SamplingCounts {
  double questions = 0, samples = 0, correct = 0;
  double avg_sum = 0;   // sum over questions of c/n
  double pass_sum = 0;  // sum over questions of pass_at_k(n, c, k)
  double greedy_questions = 0, greedy_correct = 0;
  double length = 0, self_revising = 0;
  void add(const QuestionSamples& q, int64_t k);
  std::vector<double> values() const;
  static SamplingCounts from_values(const std::vector<double>& v);  // inverse of values()
};

struct SamplingMetrics {
  int64_t questions = 0, samples = 0, k = 0;
  double avg_at_k = 0, pass_at_k = 0;
  double greedy = 0;  // NaN-free: 0 when no greedy response was measured (greedy_questions == 0)
  int64_t greedy_questions = 0;
  double mean_length = 0, self_revision_rate = 0;
  nlohmann::json to_json() const;  // questions samples k avg_at_k pass_at_k greedy greedy_questions
                                   // mean_length self_revision_rate
  static SamplingMetrics from_json(const nlohmann::json& j);  // the inverse, exact
};
SamplingMetrics sampling_metrics(const SamplingCounts& c, int64_t k);
SamplingMetrics sampling_metrics(const std::vector<QuestionSamples>& qs, int64_t k);

// ---- generate-then-revise ----
struct RevisionRecord {
  bool first_correct = false;    // the first attempt y0
  bool revised_correct = false;  // one revision sampled from chat(x) ++ y0 ++ cue
};
struct RevisionCounts {
  double attempts = 0, first_correct = 0, revised_correct = 0;
  double fixed = 0;   // wrong first attempt, correct revision
  double broken = 0;  // correct first attempt, wrong revision
  void add(const RevisionRecord& r);
  std::vector<double> values() const;
  static RevisionCounts from_values(const std::vector<double>& v);
};
struct RevisionMetrics {
  std::string cue;  // "oracle" (cue chosen by the verifier) or "rephrase" (always the correct cue)
  int64_t attempts = 0, wrong_first = 0, right_first = 0, fixed = 0, broken = 0;
  double first_accuracy = 0, revised_accuracy = 0;
  double correction_rate = 0;  // fixed / wrong_first (0 when no first attempt failed)
  double breakage_rate = 0;    // broken / right_first (0 when none was right)
  nlohmann::json to_json() const;  // cue attempts wrong_first right_first fixed broken first_accuracy
                                   // revised_accuracy correction_rate breakage_rate
  static RevisionMetrics from_json(const nlohmann::json& j);
};
RevisionMetrics revision_metrics(const RevisionCounts& c, const std::string& cue);
RevisionMetrics revision_metrics(const std::vector<RevisionRecord>& rs, const std::string& cue);

// ---- hindsight test (only questions whose first sample failed) ----
struct HindsightRecord {
  std::vector<bool> revised;  // revisions sampled after the "wrong" cue: correct?
  std::vector<bool> fresh;    // fresh samples from chat(x): correct?
  // Does each one write the failed attempt again, word for word? Empty: not recorded (counted as no).
  std::vector<bool> revised_repeats, fresh_repeats;
};
struct HindsightCounts {
  double questions = 0, revisions = 0, revised_correct = 0, fresh = 0, fresh_correct = 0;
  double revised_repeats = 0, fresh_repeats = 0;
  double rev_sum = 0, fresh_sum = 0;      // sums over questions of the per-question accuracies
  double diff_sum = 0, diff_sq_sum = 0;   // of d_q = revision accuracy - fresh accuracy of question q
  void add(const HindsightRecord& r);     // throws unless both lists are non-empty
  std::vector<double> values() const;
  static HindsightCounts from_values(const std::vector<double>& v);
};
struct HindsightMetrics {
  int64_t questions = 0, revisions = 0, fresh_samples = 0;
  double revision_accuracy = 0;  // mean over failed questions of the per-question revision accuracy
  double fresh_accuracy = 0;     // same for fresh samples
  double difference = 0;         // revision_accuracy - fresh_accuracy (> 0: the reviser knows more)
  double difference_stderr = 0;  // sd(d_q) / sqrt(n), paired over questions; 0 when n < 2
  // Shares of all revisions / fresh samples that write the failed attempt again, word for word: a
  // reviser that ignores the cue repeats as often as a fresh sample does.
  double revision_repeat_rate = 0, fresh_repeat_rate = 0;
  nlohmann::json to_json() const;  // n revisions fresh_samples revision_accuracy fresh_accuracy
                                   // difference difference_stderr revision_repeat_rate fresh_repeat_rate
  static HindsightMetrics from_json(const nlohmann::json& j);
};
HindsightMetrics hindsight_metrics(const HindsightCounts& c);
HindsightMetrics hindsight_metrics(const std::vector<HindsightRecord>& rs);

// ---- self-localization ----
// One response's per-token gap log p_student(y_t) - log p_teacher(y_t | ..., cue, ...).
struct LocalizationSummaryPlain {
  int64_t tokens = 0;
  int64_t argmax = -1;       // first position of the largest gap; -1 when empty
  double positive_mass = 0;  // sum of max(gap, 0)
  double top_share = 0;      // share of positive_mass held by the ceil(top_fraction * tokens) largest gaps
  double mean_gap = 0;
};
// The same definition as algo::summarize_localization, without torch.
LocalizationSummaryPlain summarize_gaps(const std::vector<double>& gaps, double top_fraction = 0.1);

struct LocalizationRecord {
  std::vector<double> gaps;
  bool correct = false;
  int64_t first_error = -1;  // token index of the first error; -1: none or unknown
};
struct LocalizationCounts {
  double wrong = 0, correct = 0;
  double wrong_top_share = 0, correct_top_share = 0;  // sums of per-response top shares
  double wrong_mean_gap = 0, correct_mean_gap = 0;    // sums of per-response mean gaps
  double located = 0;  // wrong responses with a known first error and at least one token
  double hits = 0;     // of those, |argmax - first_error| <= window
  double chance = 0;   // sum over located of (positions within window) / tokens: uniform-argmax hits
  void add(const LocalizationRecord& r, double top_fraction, int64_t window);
  std::vector<double> values() const;
  static LocalizationCounts from_values(const std::vector<double>& v);
};
struct LocalizationMetrics {
  int64_t wrong = 0, correct = 0, located = 0, window = 1;
  double top_fraction = 0.1;
  double wrong_top_share = 0, correct_top_share = 0;  // means over responses
  double wrong_mean_gap = 0, correct_mean_gap = 0;
  double argmax_hit_rate = 0;     // hits / located
  double argmax_hit_chance = 0;   // what a uniformly placed argmax would score
  nlohmann::json to_json() const;  // wrong correct located window top_fraction wrong_top_share
                                   // correct_top_share wrong_mean_gap correct_mean_gap argmax_hit_rate
                                   // argmax_hit_chance
};
LocalizationMetrics localization_metrics(const LocalizationCounts& c, double top_fraction, int64_t window);
LocalizationMetrics localization_metrics(const std::vector<LocalizationRecord>& rs, double top_fraction = 0.1,
                                         int64_t window = 1);

}  // namespace sdz::pipeline
