// Self-localization summary and generate-then-revise accuracy (see diagnostics.hpp).
#include "sdzero/algo/diagnostics.hpp"

#include <algorithm>
#include <cmath>
#include <functional>

#include "sdzero/core/error.hpp"

namespace sdz::algo {

LocalizationSummary summarize_localization(const torch::Tensor& score, double top_fraction) {
  SDZ_CHECK(score.dim() == 1, "a localization score is one value per token", "algo::summarize_localization");
  SDZ_CHECK(top_fraction > 0 && top_fraction <= 1, "top_fraction must be in (0, 1]", "algo::summarize_localization");
  LocalizationSummary s;
  auto v = score.detach().to(torch::kCPU, torch::kDouble).contiguous();
  s.tokens = v.size(0);
  if (s.tokens == 0) return s;
  std::vector<double> x(v.data_ptr<double>(), v.data_ptr<double>() + s.tokens);
  s.argmax = int64_t(std::max_element(x.begin(), x.end()) - x.begin());
  s.max = x[size_t(s.argmax)];
  std::vector<double> pos;
  for (double d : x) pos.push_back(std::max(d, 0.0));
  std::sort(pos.begin(), pos.end(), std::greater<double>());
  for (double d : pos) s.positive_mass += d;
  const size_t top = size_t(std::ceil(top_fraction * double(s.tokens)));
  double head = 0;
  for (size_t i = 0; i < top; ++i) head += pos[i];
  s.top_share = s.positive_mass > 0 ? head / s.positive_mass : 0.0;
  return s;
}

RevisionAccuracy revision_accuracy(const std::vector<float>& first, const std::vector<float>& revised) {
  SDZ_CHECK(first.size() == revised.size(), "every first attempt needs one revision", "algo::revision_accuracy");
  RevisionAccuracy r;
  r.attempts = int64_t(first.size());
  if (first.empty()) return r;
  int64_t wrong = 0, fixed = 0, right = 0, broken = 0;
  for (size_t i = 0; i < first.size(); ++i) {
    const bool a = first[i] > 0.5f, b = revised[i] > 0.5f;
    r.first_accuracy += a;
    r.revised_accuracy += b;
    if (a) {
      ++right;
      broken += !b;
    } else {
      ++wrong;
      fixed += b;
    }
  }
  r.first_accuracy /= double(first.size());
  r.revised_accuracy /= double(first.size());
  r.correction_rate = wrong ? double(fixed) / double(wrong) : 0.0;
  r.breakage_rate = right ? double(broken) / double(right) : 0.0;
  return r;
}

}  // namespace sdz::algo
