// defines: the diagnostics the paper reports, as pure functions for the eval command:
// a summary of a per-token self-localization score (where the teacher disagrees with the student),
// and generate-then-revise accuracy (first accuracy, revised accuracy, correction rate).
#pragma once
#include <cstdint>
#include <vector>

#include <torch/torch.h>

namespace sdz::algo {

struct LocalizationSummary {
  int64_t tokens = 0;
  int64_t argmax = -1;       // position of the largest score (-1 when empty)
  double max = 0;            // its score
  double positive_mass = 0;  // sum of max(score, 0)
  double top_share = 0;      // share of positive_mass held by the top ceil(top_fraction * tokens) positions
};

// score: per-token log p_student - log p_teacher (self_localization()). For a wrong response the
// paper finds the mass concentrated on few tokens; for a correct one, flat.
LocalizationSummary summarize_localization(const torch::Tensor& score, double top_fraction = 0.1);

struct RevisionAccuracy {
  int64_t attempts = 0;
  double first_accuracy = 0;    // mean reward of the first attempts
  double revised_accuracy = 0;  // mean reward of the revisions
  double correction_rate = 0;   // fraction of wrong first attempts whose revision is correct
  double breakage_rate = 0;     // fraction of correct first attempts whose revision is wrong
};

// first[i], revised[i]: rewards of attempt i and of its revision (cue chosen by the oracle reward).
RevisionAccuracy revision_accuracy(const std::vector<float>& first, const std::vector<float>& revised);

}  // namespace sdz::algo
