#include "sdzero/pipeline/evaluate.hpp"

#include "sdzero/core/rng.hpp"
#include "sdzero/dist/collectives.hpp"
#include "sdzero/pipeline/rollout.hpp"

namespace sdz::pipeline {

nlohmann::json EvalResult::to_json() const {
  return {{"questions", questions}, {"greedy", greedy}, {"avg_at_k", avg_k}, {"pass_at_k", pass_k},
          {"k", k},                 {"mean_length", mean_length}};
}

EvalResult evaluate(const Components& c, const model::Transformer& policy, const std::vector<tasks::Question>& questions,
                    const EvalOptions& opt, MPI_Comm comm) {
  int rank = 0, size = 1;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  RolloutRequest req;
  req.questions = &questions;
  for (int64_t p = 0; p < int64_t(questions.size()); ++p)
    if (p % size == rank) req.question_indices.push_back(p);
  req.slots = opt.slots;
  req.version = -1;
  req.sampling.max_new_tokens = opt.max_new_tokens;

  double greedy = 0, correct = 0, solved = 0, length = 0, samples = 0;
  if (!req.question_indices.empty()) {
    req.sampling.samples_per_question = 1;
    req.sampling.temperature = 0.0;  // greedy
    req.seed = key_seed({opt.seed, 0xe7a1});
    for (const auto& t : rollout(c, policy, req).trajectories) greedy += t.reward;

    req.sampling.samples_per_question = opt.k;
    req.sampling.temperature = opt.temperature;
    RolloutResult rr = rollout(c, policy, req);
    for (size_t i = 0; i < rr.trajectories.size(); i += size_t(opt.k)) {
      double any = 0;
      for (size_t j = i; j < i + size_t(opt.k); ++j) {
        const auto& t = rr.trajectories[j];
        correct += t.reward;
        any = std::max(any, double(t.reward));
        length += double(t.response_ids.size());
        samples += 1;
      }
      solved += any;
    }
  }
  EvalResult r;
  r.k = opt.k;
  r.questions = int64_t(allreduce_sum(comm, double(req.question_indices.size())));
  double n = double(r.questions), s = allreduce_sum(comm, samples);
  r.greedy = n > 0 ? allreduce_sum(comm, greedy) / n : 0;
  r.avg_k = s > 0 ? allreduce_sum(comm, correct) / s : 0;
  r.pass_k = n > 0 ? allreduce_sum(comm, solved) / n : 0;
  r.mean_length = s > 0 ? allreduce_sum(comm, length) / s : 0;
  return r;
}

}  // namespace sdz::pipeline
