// srt.revision_traces: the released code's split of the SRT traces between its two SFT stages.
#include <algorithm>

#include "sdzero/core/error.hpp"
#include "sdzero/core/rng.hpp"
#include "sdzero/core/strings.hpp"
#include "sdzero/pipeline/srt.hpp"

namespace sdz::pipeline {

std::vector<std::vector<size_t>> srt_stage_sets(const std::vector<algo::SrtTrace>& traces, int stages,
                                                bool revision_first, int64_t revision_traces, uint64_t seed) {
  std::vector<size_t> all(traces.size());
  for (size_t i = 0; i < all.size(); ++i) all[i] = i;
  if (stages == 1 || revision_traces <= 0) return std::vector<std::vector<size_t>>(size_t(stages), all);
  std::vector<size_t> correct, wrong;
  for (size_t i : all) (traces[i].initial_reward > 0.5f ? correct : wrong).push_back(i);
  Rng rng(key_seed({seed, 0x5e7517ULL}));
  rng.shuffle(correct);
  rng.shuffle(wrong);
  // Correct-y0 traces go to the revision stage first: the generation stage cannot use them.
  std::vector<size_t> revision(correct.begin(), correct.begin() + long(std::min<int64_t>(int64_t(correct.size()), revision_traces)));
  const size_t from_wrong = size_t(std::min<int64_t>(int64_t(wrong.size()), revision_traces - int64_t(revision.size())));
  revision.insert(revision.end(), wrong.begin(), wrong.begin() + long(from_wrong));
  std::vector<size_t> generation(wrong.begin() + long(from_wrong), wrong.end());
  if (generation.empty())
    throw Error(strprintf("the generation stage has no trace left: %zu traces have a wrong y0 and the revision stage "
                          "takes %zu of them", wrong.size(), from_wrong),
                "srt.revision_traces", "lower srt.revision_traces, or collect more traces");
  std::sort(revision.begin(), revision.end());
  std::sort(generation.begin(), generation.end());
  if (revision_first) return {revision, generation};
  return {generation, revision};
}

}  // namespace sdz::pipeline
