// Evaluation numbers from per-question records (see eval_metrics.hpp and docs/EVAL.md).
#include "sdzero/pipeline/eval_metrics.hpp"

#include <algorithm>
#include <cmath>
#include <functional>

#include "sdzero/core/error.hpp"

namespace sdz::pipeline {

namespace {

double ratio(double a, double b) { return b > 0 ? a / b : 0.0; }

void expect_size(const std::vector<double>& v, size_t n, const char* what) {
  SDZ_CHECK(v.size() == n, std::string("wrong number of values for ") + what, "pipeline::eval_metrics");
}

}  // namespace

double pass_at_k(int64_t n, int64_t c, int64_t k) {
  SDZ_CHECK(k >= 1 && k <= n, "pass@k needs 1 <= k <= n (n samples)", "pipeline::pass_at_k",
            "sample at least k responses per question");
  SDZ_CHECK(c >= 0 && c <= n, "pass@k needs 0 <= c <= n correct samples", "pipeline::pass_at_k");
  if (n - c < k) return 1.0;  // every k-subset holds a correct sample
  // C(n-c, k) / C(n, k) = prod_{i=0}^{k-1} (n-c-i) / (n-i), as a product to stay in range.
  double fail = 1.0;
  for (int64_t i = 0; i < k; ++i) fail *= double(n - c - i) / double(n - i);
  return 1.0 - fail;
}

// ---- sampled responses ----
void SamplingCounts::add(const QuestionSamples& q, int64_t k) {
  const int64_t n = int64_t(q.samples.size());
  int64_t c = 0;
  for (const auto& s : q.samples) {
    c += s.correct;
    length += double(s.length);
    self_revising += s.self_revises;
  }
  questions += 1;
  samples += double(n);
  correct += double(c);
  avg_sum += n > 0 ? double(c) / double(n) : 0.0;
  pass_sum += pass_at_k(n, c, k);
  if (q.greedy >= 0) {
    greedy_questions += 1;
    greedy_correct += q.greedy > 0;
  }
}

std::vector<double> SamplingCounts::values() const {
  return {questions, samples, correct, avg_sum, pass_sum, greedy_questions, greedy_correct, length, self_revising};
}

SamplingCounts SamplingCounts::from_values(const std::vector<double>& v) {
  expect_size(v, 9, "sampling counts");
  SamplingCounts c;
  c.questions = v[0], c.samples = v[1], c.correct = v[2], c.avg_sum = v[3], c.pass_sum = v[4];
  c.greedy_questions = v[5], c.greedy_correct = v[6], c.length = v[7], c.self_revising = v[8];
  return c;
}

nlohmann::json SamplingMetrics::to_json() const {
  return {{"questions", questions},
          {"samples", samples},
          {"k", k},
          {"avg_at_k", avg_at_k},
          {"pass_at_k", pass_at_k},
          {"greedy", greedy},
          {"greedy_questions", greedy_questions},
          {"mean_length", mean_length},
          {"self_revision_rate", self_revision_rate}};
}

SamplingMetrics SamplingMetrics::from_json(const nlohmann::json& j) {
  SamplingMetrics m;
  m.questions = j.at("questions"), m.samples = j.at("samples"), m.k = j.at("k");
  m.avg_at_k = j.at("avg_at_k"), m.pass_at_k = j.at("pass_at_k"), m.greedy = j.at("greedy");
  m.greedy_questions = j.at("greedy_questions"), m.mean_length = j.at("mean_length");
  m.self_revision_rate = j.at("self_revision_rate");
  return m;
}

SamplingMetrics sampling_metrics(const SamplingCounts& c, int64_t k) {
  SamplingMetrics m;
  m.k = k;
  m.questions = int64_t(std::llround(c.questions));
  m.samples = int64_t(std::llround(c.samples));
  m.greedy_questions = int64_t(std::llround(c.greedy_questions));
  m.avg_at_k = ratio(c.avg_sum, c.questions);
  m.pass_at_k = ratio(c.pass_sum, c.questions);
  m.greedy = ratio(c.greedy_correct, c.greedy_questions);
  m.mean_length = ratio(c.length, c.samples);
  m.self_revision_rate = ratio(c.self_revising, c.samples);
  return m;
}

SamplingMetrics sampling_metrics(const std::vector<QuestionSamples>& qs, int64_t k) {
  SamplingCounts c;
  for (const auto& q : qs) c.add(q, k);
  return sampling_metrics(c, k);
}

// ---- generate-then-revise ----
void RevisionCounts::add(const RevisionRecord& r) {
  attempts += 1;
  first_correct += r.first_correct;
  revised_correct += r.revised_correct;
  fixed += !r.first_correct && r.revised_correct;
  broken += r.first_correct && !r.revised_correct;
}

std::vector<double> RevisionCounts::values() const { return {attempts, first_correct, revised_correct, fixed, broken}; }

RevisionCounts RevisionCounts::from_values(const std::vector<double>& v) {
  expect_size(v, 5, "revision counts");
  RevisionCounts c;
  c.attempts = v[0], c.first_correct = v[1], c.revised_correct = v[2], c.fixed = v[3], c.broken = v[4];
  return c;
}

nlohmann::json RevisionMetrics::to_json() const {
  return {{"cue", cue},
          {"attempts", attempts},
          {"wrong_first", wrong_first},
          {"right_first", right_first},
          {"fixed", fixed},
          {"broken", broken},
          {"first_accuracy", first_accuracy},
          {"revised_accuracy", revised_accuracy},
          {"correction_rate", correction_rate},
          {"breakage_rate", breakage_rate}};
}

RevisionMetrics RevisionMetrics::from_json(const nlohmann::json& j) {
  RevisionMetrics m;
  m.cue = j.at("cue"), m.attempts = j.at("attempts"), m.wrong_first = j.at("wrong_first");
  m.right_first = j.at("right_first"), m.fixed = j.at("fixed"), m.broken = j.at("broken");
  m.first_accuracy = j.at("first_accuracy"), m.revised_accuracy = j.at("revised_accuracy");
  m.correction_rate = j.at("correction_rate"), m.breakage_rate = j.at("breakage_rate");
  return m;
}

RevisionMetrics revision_metrics(const RevisionCounts& c, const std::string& cue) {
  RevisionMetrics m;
  m.cue = cue;
  m.attempts = int64_t(std::llround(c.attempts));
  m.right_first = int64_t(std::llround(c.first_correct));
  m.wrong_first = m.attempts - m.right_first;
  m.fixed = int64_t(std::llround(c.fixed));
  m.broken = int64_t(std::llround(c.broken));
  m.first_accuracy = ratio(c.first_correct, c.attempts);
  m.revised_accuracy = ratio(c.revised_correct, c.attempts);
  m.correction_rate = ratio(double(m.fixed), double(m.wrong_first));
  m.breakage_rate = ratio(double(m.broken), double(m.right_first));
  return m;
}

RevisionMetrics revision_metrics(const std::vector<RevisionRecord>& rs, const std::string& cue) {
  RevisionCounts c;
  for (const auto& r : rs) c.add(r);
  return revision_metrics(c, cue);
}

// ---- hindsight ----
void HindsightCounts::add(const HindsightRecord& r) {
  SDZ_CHECK(!r.revised.empty() && !r.fresh.empty(), "a hindsight record needs revisions and fresh samples",
            "pipeline::HindsightCounts::add");
  SDZ_CHECK((r.revised_repeats.empty() || r.revised_repeats.size() == r.revised.size()) &&
                (r.fresh_repeats.empty() || r.fresh_repeats.size() == r.fresh.size()),
            "a hindsight record's repeat flags must match its samples", "pipeline::HindsightCounts::add");
  auto count = [](const std::vector<bool>& v) { return double(std::count(v.begin(), v.end(), true)); };
  const double rc = count(r.revised), fc = count(r.fresh);
  const double ra = rc / double(r.revised.size()), fa = fc / double(r.fresh.size());
  questions += 1;
  revisions += double(r.revised.size());
  revised_correct += rc;
  fresh += double(r.fresh.size());
  fresh_correct += fc;
  rev_sum += ra;
  fresh_sum += fa;
  diff_sum += ra - fa;
  diff_sq_sum += (ra - fa) * (ra - fa);
  revised_repeats += count(r.revised_repeats);
  fresh_repeats += count(r.fresh_repeats);
}

std::vector<double> HindsightCounts::values() const {
  return {questions, revisions, revised_correct, fresh, fresh_correct, rev_sum, fresh_sum, diff_sum, diff_sq_sum,
          revised_repeats, fresh_repeats};
}

HindsightCounts HindsightCounts::from_values(const std::vector<double>& v) {
  expect_size(v, 11, "hindsight counts");
  HindsightCounts c;
  c.questions = v[0], c.revisions = v[1], c.revised_correct = v[2], c.fresh = v[3], c.fresh_correct = v[4];
  c.rev_sum = v[5], c.fresh_sum = v[6], c.diff_sum = v[7], c.diff_sq_sum = v[8];
  c.revised_repeats = v[9], c.fresh_repeats = v[10];
  return c;
}

nlohmann::json HindsightMetrics::to_json() const {
  return {{"n", questions},
          {"revisions", revisions},
          {"fresh_samples", fresh_samples},
          {"revision_accuracy", revision_accuracy},
          {"fresh_accuracy", fresh_accuracy},
          {"difference", difference},
          {"difference_stderr", difference_stderr},
          {"revision_repeat_rate", revision_repeat_rate},
          {"fresh_repeat_rate", fresh_repeat_rate}};
}

HindsightMetrics HindsightMetrics::from_json(const nlohmann::json& j) {
  HindsightMetrics m;
  m.questions = j.at("n"), m.revisions = j.at("revisions"), m.fresh_samples = j.at("fresh_samples");
  m.revision_accuracy = j.at("revision_accuracy"), m.fresh_accuracy = j.at("fresh_accuracy");
  m.difference = j.at("difference"), m.difference_stderr = j.at("difference_stderr");
  // Reports written before session 14 have no repeat rates.
  m.revision_repeat_rate = j.value("revision_repeat_rate", 0.0), m.fresh_repeat_rate = j.value("fresh_repeat_rate", 0.0);
  return m;
}

HindsightMetrics hindsight_metrics(const HindsightCounts& c) {
  HindsightMetrics m;
  m.questions = int64_t(std::llround(c.questions));
  m.revisions = int64_t(std::llround(c.revisions));
  m.fresh_samples = int64_t(std::llround(c.fresh));
  m.revision_accuracy = ratio(c.rev_sum, c.questions);
  m.fresh_accuracy = ratio(c.fresh_sum, c.questions);
  m.difference = ratio(c.diff_sum, c.questions);
  m.revision_repeat_rate = ratio(c.revised_repeats, c.revisions);
  m.fresh_repeat_rate = ratio(c.fresh_repeats, c.fresh);
  if (c.questions >= 2) {
    // Unbiased sample variance of d_q from its sums; clamp the rounding below zero.
    const double var = std::max(0.0, (c.diff_sq_sum - c.diff_sum * c.diff_sum / c.questions) / (c.questions - 1));
    m.difference_stderr = std::sqrt(var / c.questions);
  }
  return m;
}

HindsightMetrics hindsight_metrics(const std::vector<HindsightRecord>& rs) {
  HindsightCounts c;
  for (const auto& r : rs) c.add(r);
  return hindsight_metrics(c);
}

// ---- self-localization ----
LocalizationSummaryPlain summarize_gaps(const std::vector<double>& gaps, double top_fraction) {
  SDZ_CHECK(top_fraction > 0 && top_fraction <= 1, "top_fraction must be in (0, 1]", "pipeline::summarize_gaps");
  LocalizationSummaryPlain s;
  s.tokens = int64_t(gaps.size());
  if (gaps.empty()) return s;
  s.argmax = int64_t(std::max_element(gaps.begin(), gaps.end()) - gaps.begin());
  std::vector<double> pos;
  double total = 0;
  for (double g : gaps) {
    pos.push_back(std::max(g, 0.0));
    total += g;
  }
  s.mean_gap = total / double(gaps.size());
  std::sort(pos.begin(), pos.end(), std::greater<double>());
  for (double p : pos) s.positive_mass += p;
  const size_t top = size_t(std::ceil(top_fraction * double(gaps.size())));
  double head = 0;
  for (size_t i = 0; i < top && i < pos.size(); ++i) head += pos[i];
  s.top_share = s.positive_mass > 0 ? head / s.positive_mass : 0.0;
  return s;
}

void LocalizationCounts::add(const LocalizationRecord& r, double top_fraction, int64_t window) {
  const LocalizationSummaryPlain s = summarize_gaps(r.gaps, top_fraction);
  if (r.correct) {
    correct += 1;
    correct_top_share += s.top_share;
    correct_mean_gap += s.mean_gap;
    return;
  }
  wrong += 1;
  wrong_top_share += s.top_share;
  wrong_mean_gap += s.mean_gap;
  if (r.first_error < 0 || s.tokens == 0) return;
  located += 1;
  hits += std::llabs(s.argmax - r.first_error) <= window;
  // Positions p in [0, tokens) with |p - first_error| <= window (the first error may lie past the end).
  const int64_t lo = std::max<int64_t>(0, r.first_error - window);
  const int64_t hi = std::min<int64_t>(s.tokens - 1, r.first_error + window);
  chance += hi >= lo ? double(hi - lo + 1) / double(s.tokens) : 0.0;
}

std::vector<double> LocalizationCounts::values() const {
  return {wrong, correct, wrong_top_share, correct_top_share, wrong_mean_gap, correct_mean_gap, located, hits, chance};
}

LocalizationCounts LocalizationCounts::from_values(const std::vector<double>& v) {
  expect_size(v, 9, "localization counts");
  LocalizationCounts c;
  c.wrong = v[0], c.correct = v[1], c.wrong_top_share = v[2], c.correct_top_share = v[3];
  c.wrong_mean_gap = v[4], c.correct_mean_gap = v[5], c.located = v[6], c.hits = v[7], c.chance = v[8];
  return c;
}

nlohmann::json LocalizationMetrics::to_json() const {
  return {{"wrong", wrong},
          {"correct", correct},
          {"located", located},
          {"window", window},
          {"top_fraction", top_fraction},
          {"wrong_top_share", wrong_top_share},
          {"correct_top_share", correct_top_share},
          {"wrong_mean_gap", wrong_mean_gap},
          {"correct_mean_gap", correct_mean_gap},
          {"argmax_hit_rate", argmax_hit_rate},
          {"argmax_hit_chance", argmax_hit_chance}};
}

LocalizationMetrics localization_metrics(const LocalizationCounts& c, double top_fraction, int64_t window) {
  LocalizationMetrics m;
  m.wrong = int64_t(std::llround(c.wrong));
  m.correct = int64_t(std::llround(c.correct));
  m.located = int64_t(std::llround(c.located));
  m.window = window;
  m.top_fraction = top_fraction;
  m.wrong_top_share = ratio(c.wrong_top_share, c.wrong);
  m.correct_top_share = ratio(c.correct_top_share, c.correct);
  m.wrong_mean_gap = ratio(c.wrong_mean_gap, c.wrong);
  m.correct_mean_gap = ratio(c.correct_mean_gap, c.correct);
  m.argmax_hit_rate = ratio(c.hits, c.located);
  m.argmax_hit_chance = ratio(c.chance, c.located);
  return m;
}

LocalizationMetrics localization_metrics(const std::vector<LocalizationRecord>& rs, double top_fraction,
                                         int64_t window) {
  LocalizationCounts c;
  for (const auto& r : rs) c.add(r, top_fraction, window);
  return localization_metrics(c, top_fraction, window);
}

}  // namespace sdz::pipeline
