// DAPO's dynamic sampling with refill (grpo.refill_rounds = R). keep() has already dropped the groups
// whose rewards were all equal; here up to R more rounds sample fresh questions until the step keeps
// questions_per_step groups, and the first questions_per_step kept groups in position order train.
// The surplus of the last round is spent budget that does not train, as in DAPO, which samples whole
// generation batches and truncates; a round here asks for about what is missing (refill_count).
// Every rank runs the same rounds: the kept flags and the generation count are world sums.
#include <algorithm>

#include "sdzero/dist/collectives.hpp"
#include "sdzero/pipeline/refill.hpp"
#include "sdzero/pipeline/trainer.hpp"

namespace sdz::pipeline {

namespace {

// Which of the `groups` sampled positions kept a group, over the world (a group lives on one rank).
std::vector<int> world_kept_flags(MPI_Comm world, const std::vector<Routed>& items, int64_t groups) {
  std::vector<int> kept(size_t(groups), 0);
  for (const auto& r : items) kept[size_t(r.position)] = 1;
  if (groups > 0) MPI_Allreduce(MPI_IN_PLACE, kept.data(), int(groups), MPI_INT, MPI_MAX, world);
  return kept;
}

}  // namespace

std::vector<Routed> Trainer::refill(std::vector<Routed> items, std::vector<int64_t> taken, int64_t step,
                                    nlohmann::json& rec) {
  const int64_t want = int64_t(taken.size());
  const int64_t per_question = c_.method->sampling().samples_per_question;
  int64_t sampled = want, rounds = 0;
  std::vector<int> kept = world_kept_flags(g_.world(), items, sampled);
  auto count_kept = [&] { return int64_t(std::count(kept.begin(), kept.end(), 1)); };
  while (count_kept() < want && rounds < refill_rounds_) {
    // The budget sees this step's earlier rounds before it says how many more questions fit.
    algo::Budget left = budget_;
    left.count(allreduce_sum(g_.world(), rec.value("local_generated", int64_t(0))), 0);
    const int64_t ask = refill_count(want - count_kept(), sampled, count_kept(), opt_.questions_per_step);
    const std::vector<int64_t> more = refill_questions(int64_t(c_.questions.size()), taken,
                                                       left.questions_that_fit(ask, per_question), opt_.seed, step,
                                                       rounds + 1);
    if (more.empty()) break;  // the budget or the split has no question left for this step
    ++rounds;
    if (g_.has(Role::Rollout))
      for (auto& r : rollout_role(more, step, rec, rounds, sampled)) items.push_back(std::move(r));
    taken.insert(taken.end(), more.begin(), more.end());
    sampled += int64_t(more.size());
    kept = world_kept_flags(g_.world(), items, sampled);
  }
  const std::vector<int64_t> at = first_kept_groups(kept, want);
  std::vector<Routed> trained;
  for (auto& r : items) {
    const int64_t p = at[size_t(r.position)];
    if (p < 0) continue;  // the last round's surplus
    r.position = p;
    trained.push_back(std::move(r));
  }
  rec["local_kept"] = int64_t(trained.size());
  rec["grpo/refill_rounds"] = rounds;
  rec["grpo/groups_sampled"] = sampled;
  rec["grpo/groups_kept"] = std::min(count_kept(), want);
  rec["grpo/groups_surplus"] = std::max<int64_t>(0, count_kept() - want);
  return trained;
}

}  // namespace sdz::pipeline
