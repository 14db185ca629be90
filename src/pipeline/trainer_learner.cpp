// The learner role of a step (see trainer.cpp for the step read top-down): the batch in global order,
// the staleness rule, GRPO's minibatches, the gradient reduction and AdamW.
#include "sdzero/pipeline/trainer.hpp"

#include <algorithm>
#include <climits>

#include "sdzero/core/error.hpp"
#include "sdzero/core/strings.hpp"
#include "sdzero/dist/collectives.hpp"
#include "sdzero/dist/tensor_sync.hpp"
#include "sdzero/pipeline/srt.hpp"
#include "sdzero/pipeline/staleness.hpp"

namespace sdz::pipeline {

// Learner: the method's loss over this learner's share, normalised by the token counts of all
// learners, gradients summed over learners, then clip + AdamW (algo::train_step).
algo::StepResult Trainer::learner_role(std::vector<Routed> items, int64_t step, nlohmann::json&) {
  auto t = timers_.scope("learn");
  std::sort(items.begin(), items.end(), [](const Routed& a, const Routed& b) {
    return std::make_pair(a.position, a.trajectory.sample_index) < std::make_pair(b.position, b.trajectory.sample_index);
  });
  algo::Batch batch;
  std::vector<int64_t> positions;  // of each kept trajectory: its question's place in the step's batch
  bool any_signal = false;
  for (auto& r : items) any_signal |= r.has_signal;
  // Staleness: version_ - the tag. On-policy (s = 0) a mismatch is a bug; async drops what is
  // beyond the bound (the schedule never produces such, the counter proves it).
  int64_t lag_min = INT64_MAX, lag_max = -1, dropped = 0;
  for (auto& r : items) {
    const int64_t lag = version_ - r.trajectory.policy_version;
    if (opt_.max_staleness == 0 && lag != 0)
      throw Error(strprintf("trajectory of policy version %lld reached a learner at version %lld",
                            (long long)r.trajectory.policy_version, (long long)version_),
                  "pipeline", "on-policy training never mixes versions");
    if (!within_staleness(lag, opt_.max_staleness)) {
      ++dropped;
      continue;
    }
    lag_min = std::min(lag_min, lag), lag_max = std::max(lag_max, lag);
    positions.push_back(r.position);
    batch.trajectories.push_back(std::move(r.trajectory));
    if (any_signal) batch.signals.push_back(std::move(r.signal));
  }
  int learners = 1, learner = 0;
  MPI_Comm_size(g_.learners(), &learners);
  MPI_Comm_rank(g_.learners(), &learner);
  if (!replay_.empty()) batch.srt = replay_share(replay_, step, opt_.replay_per_step, learner, learners, opt_.seed);
  auto reduce = [&] {
    if (zero1_) return zero1_->reduce_and_clip();
    if (learners == 1) return;
    std::vector<torch::Tensor> grads;
    for (auto& p : optim_->params()) grads.push_back(p.mutable_grad());
    allreduce_tensors(g_.learners(), grads, opt_.bucket_bytes, /*average=*/false);
  };
  // One optimizer step per rollout batch, or GRPO's minibatches: minibatch m holds the questions at
  // positions [m P / M, (m + 1) P / M) of the step's P, whichever learner has them (so any layout steps
  // the same slices), each normalised by its own global token count and stepped in turn: later slices
  // see a moved policy and the clip acts. Sums of the slices' statistics; "loss" weighted by tokens.
  const int64_t slices = c_.method->name() == "grpo" ? c_.algo.grpo_minibatches : 1;
  const size_t n = batch.trajectories.size();
  int64_t P = 0;
  for (int64_t p : positions) P = std::max(P, p + 1);
  if (slices > 1) MPI_Allreduce(MPI_IN_PLACE, &P, 1, MPI_INT64_T, MPI_MAX, g_.learners());
  algo::StepResult r;
  double loss_tokens = 0, tokens = 0;
  std::map<std::string, double> sums;
  for (int64_t m = 0; m < slices; ++m) {
    algo::Batch part;
    if (slices == 1) {
      part = std::move(batch);
    } else {
      for (size_t i = 0; i < n; ++i) {
        if (positions[i] * slices / std::max<int64_t>(P, 1) != m) continue;
        part.trajectories.push_back(batch.trajectories[i]);
        if (!batch.signals.empty()) part.signals.push_back(batch.signals[i]);
      }
    }
    algo::TokenCounts counts = c_.method->count_tokens(part);
    algo::TokenCounts global;
    global.main = allreduce_sum(g_.learners(), counts.main);
    global.aux = allreduce_sum(g_.learners(), counts.aux);
    r = algo::train_step(*c_.method, student_, *optim_, part, global, step, reduce);
    if (zero1_) {
      zero1_->gather_params();
      r.optim.grad_norm = zero1_->grad_norm();
      r.stats["optim/grad_norm"] = r.optim.grad_norm;
      r.stats["zero1"] = 1;
    }
    if (slices > 1) {
      loss_tokens += r.loss * global.main, tokens += global.main;
      for (const auto& [k, v] : r.stats)
        if (starts_with(k, "loss/") || starts_with(k, "grpo/") || starts_with(k, "samples/")) sums[k] += v;
    }
  }
  if (slices > 1) {
    for (const auto& [k, v] : sums) r.stats[k] = v;
    r.loss = tokens > 0 ? loss_tokens / tokens : 0.0;
    r.stats["loss"] = r.loss;
    r.stats["grpo/minibatches"] = double(slices);
  }
  // Data-parallel learners must stay bit-identical; a drift means a bug, so stop loudly.
  if (learners > 1 && !tensors_identical(g_.learners(), c_.policy->parameters()))
    throw Error(strprintf("learner parameters differ after step %lld", (long long)(step + 1)), "pipeline");
  r.stats["learners"] = learners;
  r.stats["samples/demonstrations"] =
      allreduce_sum(g_.learners(), c_.method->reads_demonstrations() ? double(n) : 0.0);
  if (opt_.max_staleness > 0) {
    MPI_Allreduce(MPI_IN_PLACE, &lag_min, 1, MPI_INT64_T, MPI_MIN, g_.learners());
    MPI_Allreduce(MPI_IN_PLACE, &lag_max, 1, MPI_INT64_T, MPI_MAX, g_.learners());
    stale_dropped_ += allreduce_sum(g_.learners(), dropped);
    r.stats["lag_min"] = lag_max < 0 ? 0 : lag_min;
    r.stats["lag_max"] = lag_max < 0 ? 0 : lag_max;
    r.stats["stale_dropped"] = stale_dropped_;
  }
  return r;
}

}  // namespace sdz::pipeline
