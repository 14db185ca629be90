// defines: the evaluation protocols that run a model, over an MPI communicator (questions shared out
// by position % ranks, counts summed, every rank returns the same numbers):
//   evaluate_policy    k samples + greedy (avg@k, pass@k, length, self-revision rate) and, with
//                      `revise`, generate-then-revise (oracle cue; optional "rephrase" row) and the
//                      hindsight test (revisions after the "wrong" cue vs fresh samples, failed questions)
//   evaluate_revision  the same with revise on and greedy off
// Sampling is keyed by (seed, question position, sample index): results do not depend on the ranks.
// The first attempt of generate-then-revise is sample 0; the fresh samples of the hindsight test are
// samples 1..m (the same draws avg@k counts). Definitions: docs/EVAL.md.
#pragma once
#include <mpi.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "sdzero/pipeline/components.hpp"
#include "sdzero/pipeline/eval_metrics.hpp"

namespace sdz::pipeline {

struct EvalProtocol {
  int64_t k = 4;                     // samples per question for avg@k / pass@k
  double temperature = 1.0;          // of samples and revisions (greedy is temperature 0)
  double top_p = 1.0;
  int64_t max_new_tokens = 64;       // of samples and greedy responses
  int64_t revision_max_new_tokens = 0;  // of revisions; 0: max_new_tokens
  int64_t slots = 64;
  uint64_t seed = 1234;
  bool greedy = true;                // also one greedy response per question
  bool revise = true;                // generate-then-revise + hindsight
  bool rephrase_row = true;          // also revise every first attempt after the "correct" cue
  int64_t hindsight_samples = 0;     // m revisions and m fresh samples per failed question; 0: max(1, k - 1)
  bool keep_samples = false;         // rank 0's report gets every response as JSONL (EvalReport::samples_jsonl)
  bool progress = false;             // progress lines with ETA per phase (`sdzero eval`; the demo's many small evaluations stay quiet)
  int64_t hindsight() const { return hindsight_samples > 0 ? hindsight_samples : std::max<int64_t>(1, k - 1); }
};

struct EvalReport {
  SamplingMetrics sampling;
  bool revised = false;       // the three below were measured
  bool has_rephrase = false;  // the rephrase row was measured
  RevisionMetrics oracle, rephrase;
  HindsightMetrics hindsight;
  // keep_samples, rank 0 only: one JSON object per question, in question order: {"question", "index",
  // "samples": [{"text", "reward"}] (k, then the hindsight's fresh ones), "greedy": {"text", "reward"},
  // "revisions": {"wrong": [...] (first sample failed), "correct": [...]}} (docs/EVAL.md).
  std::string samples_jsonl;
  int64_t generated_tokens = 0;  // all ranks, samples + greedy + revisions
  double seconds = 0;
  // {"sampling": {...}, "revision": {"oracle": {...}, "rephrase": {...}}, "hindsight": {...},
  //  "generated_tokens", "seconds"}; revision/hindsight only when measured.
  nlohmann::json to_json() const;
  // The inverse (doubles round-trip exactly): ranks that evaluated different models send reports as JSON.
  static EvalReport from_json(const nlohmann::json& j);
  std::string table(const std::string& title) const;  // a few aligned lines for people
};

EvalReport evaluate_policy(const Components& c, const model::Transformer& policy,
                           const std::vector<tasks::Question>& questions, const EvalProtocol& opt, MPI_Comm comm);
EvalReport evaluate_revision(const Components& c, const model::Transformer& policy,
                             const std::vector<tasks::Question>& questions, EvalProtocol opt, MPI_Comm comm);

// Does a response (decoded text) revise itself: it contains either cue phrase of the prompt config.
bool self_revises(const text::PromptConfig& pc, const std::string& response_text);

// Sums a vector of counts over the ranks of comm (every rank gets the sums).
std::vector<double> allreduce_sum_values(MPI_Comm comm, std::vector<double> v);

}  // namespace sdz::pipeline
