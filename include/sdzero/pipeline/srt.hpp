// defines: SD-Zero phase 1 in the pipeline. collect_srt(): initial responses to the split's
// questions, the reward's cue appended, K revisions sampled, kept only when they verify, cleaned
// (algo/ clean-ups), written as JSONL traces. train_srt(): the SRT objective over the traces,
// data-parallel over the ranks of a communicator. `sdzero train --method.name=srt` runs both.
#pragma once
#include <mpi.h>

#include <string>
#include <vector>

#include "sdzero/algo/methods.hpp"
#include "sdzero/algo/srt_collect.hpp"
#include "sdzero/pipeline/components.hpp"

namespace sdz::pipeline {

struct SrtCollected {
  std::vector<algo::SrtTrace> traces;  // every rank's, in question order
  algo::CollectStats stats;            // summed over ranks
  int64_t generations = 0, generated_tokens = 0;
};

// Questions are shared out over `comm` by position; each rank's traces reach every rank.
// traces_path (written by rank 0): one JSON object per kept revision.
SrtCollected collect_srt(const Components& c, const algo::SrtMethod& m, const std::vector<int64_t>& questions,
                         uint64_t seed, int64_t slots, MPI_Comm comm, const std::string& traces_path);

struct SrtTrainOptions {
  int64_t steps = 16, batch = 32;
  uint64_t seed = 1234;
  std::string metrics_path;  // rank 0 appends one record per step
};
// Returns steps done.
int64_t train_srt(Components& c, algo::SrtMethod& m, const std::vector<algo::SrtTrace>& traces,
                  const SrtTrainOptions& o, MPI_Comm comm);

}  // namespace sdz::pipeline
