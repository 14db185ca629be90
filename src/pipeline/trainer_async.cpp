// The async schedule (dist.max_staleness = s > 0) and the trainer's bookkeeping shared by both
// schedules (phase metrics, in-flight batches in checkpoints).
//
// One round, top-down. Rollout ranks generate batch i with the policy they hold (version v). At the
// same time the teacher ranks score batch i - s (generated s rounds earlier), hand it to the
// learners over the teacher+learner communicator, and the learners train on it. Then batch i moves
// from the rollout ranks to the teacher (or learner) ranks in one world exchange, where it waits s
// rounds, and the new weights go to the rollout ranks. So generation overlaps teaching and learning
// in split layouts, the rollout never waits for weights it does not need yet, and a trajectory
// trains at most s versions after it was sampled (exactly s once the pipeline is full). In a
// colocated layout the same order runs sequentially: the next batch is generated with the current
// policy before the update of the previous one is applied (a one-step lag, same numbers as split).
#include <algorithm>
#include <climits>
#include <map>

#include "sdzero/core/error.hpp"
#include "sdzero/core/log.hpp"
#include "sdzero/core/strings.hpp"
#include "sdzero/dist/collectives.hpp"
#include "sdzero/pipeline/trainer.hpp"

namespace sdz::pipeline {

bool Trainer::async_round(nlohmann::json& rec) {
  Timer wall;
  timers_.clear();
  rec = nullptr;
  // What this round does; every rank decides the same from the same numbers.
  std::vector<int64_t> questions;
  if (!gen_done_ && next_gen_ < opt_.steps && !budget_.exhausted()) questions = questions_for_step(next_gen_);
  if (questions.empty()) gen_done_ = true;
  const bool train = !pending_.empty() && (int64_t(pending_.size()) >= opt_.max_staleness || gen_done_);
  if (!train && gen_done_) return false;

  nlohmann::json grec = nlohmann::json::object();
  std::vector<Routed> fresh;
  if (!questions.empty() && g_.has(Role::Rollout)) fresh = rollout_role(questions, next_gen_, grec);

  Pending batch;
  algo::StepResult result;
  if (train) {
    batch = std::move(pending_.front());
    pending_.pop_front();
    std::vector<Routed> items = std::move(batch.items);
    if (g_.has(Role::Teacher)) items = teacher_role(std::move(items));
    if (g_.trainers() != MPI_COMM_NULL)
      items = route_on(g_.trainers(), g_.layout().colocated ? 0 : g_.layout().rollout, std::move(items),
                       &Trainer::learner_dest);
    if (g_.has(Role::Learner)) result = learner_role(std::move(items), batch.index, rec);
  }
  if (!questions.empty()) {
    fresh = route(std::move(fresh), &Trainer::teacher_dest);
    Pending p;
    p.index = next_gen_++;
    p.items = std::move(fresh);
    MPI_Comm w = g_.world();
    p.generated = allreduce_sum(w, double(grec.value("local_generated", 0)));
    p.tokens = allreduce_sum(w, double(grec.value("local_tokens", 0)));
    p.reward_sum = allreduce_sum(w, grec.value("local_reward_sum", 0.0));
    p.kept = allreduce_sum(w, double(grec.value("local_kept", 0)));
    budget_.count(int64_t(p.generated), int64_t(p.tokens));
    pending_.push_back(std::move(p));
  }
  const double round_tokens = questions.empty() ? 0.0 : pending_.back().tokens;
  if (!train) return true;
  sync_role(result.teacher_action);

  // The record of the step just trained: its batch's counters, the learner root's statistics.
  rec = {{"step", batch.index + 1}, {"method", c_.method->name()}, {"questions", int64_t(questions.size())}};
  const nlohmann::json learned = learner_statistics(result);  // a named json: items() does not own it
  for (auto& [k, v] : learned.items()) rec[k] = v;
  rec["generations"] = batch.generated;
  rec["generated_tokens"] = batch.tokens;
  rec["kept"] = batch.kept;
  rec["reward_mean"] = batch.generated > 0 ? batch.reward_sum / batch.generated : 0.0;
  rec["version"] = version_;
  rec["max_staleness"] = opt_.max_staleness;
  phase_metrics(rec, wall.seconds());
  rec["round_generated_tokens"] = round_tokens;
  rec["tokens_per_s"] = rec["t_step"].get<double>() > 0 ? round_tokens / rec["t_step"].get<double>() : 0.0;
  for (auto& [k, v] : budget_.metrics()) rec[k] = v;
  if (g_.world_rank() == 0) metrics_.write(rec);
  if (g_.world_rank() == 0 && rec["step"].get<int64_t>() % opt_.log_every == 0) {
    log::info(strprintf("step %lld | loss %.4f | reward %.3f | lag %lld..%lld | %.0f tok/s | gen %.2fs tea %.2fs "
                        "learn %.2fs sync %.2fs idle %.2fs | lr %.2e",
                        (long long)rec["step"].get<int64_t>(), rec.value("loss", 0.0), rec.value("reward_mean", 0.0),
                        (long long)rec.value("lag_min", int64_t(0)), (long long)rec.value("lag_max", int64_t(0)),
                        rec["tokens_per_s"].get<double>(), rec["t_generate"].get<double>(), rec["t_teacher"].get<double>(),
                        rec["t_learn"].get<double>(), rec["t_sync"].get<double>(), rec["t_idle"].get<double>(),
                        rec.value("optim/lr", 0.0)));
  }
  return true;
}

void Trainer::phase_metrics(nlohmann::json& rec, double local_wall) {
  MPI_Comm w = g_.world();
  const double wall = allreduce_max(w, local_wall);
  int world = 1;
  MPI_Comm_size(w, &world);
  double busy = 0;
  for (const char* phase : {"generate", "verify", "teacher", "learn", "sync", "exchange"}) {
    const double mine = timers_.get(phase);
    rec[std::string("t_") + phase] = allreduce_max(w, mine);
    const double share = wall > 0 ? allreduce_sum(w, mine) / (double(world) * wall) : 0.0;
    rec[std::string("share_") + phase] = share;
    busy += share;
  }
  rec["t_idle"] = allreduce_max(w, timers_.get("idle"));
  rec["share_idle"] = std::max(0.0, 1.0 - busy);  // waiting for other ranks + untimed bookkeeping
  rec["t_step"] = wall;
  rec["t_elapsed"] = allreduce_max(w, run_clock_.seconds());
}

// ---- in-flight batches in checkpoints ----------------------------------------------------------

Bytes Trainer::pack_pending() const {
  ByteWriter w;
  for (const auto& p : pending_) {
    w.put<int64_t>(p.index);
    for (double v : {p.generated, p.tokens, p.reward_sum, p.kept}) w.put<double>(v);
    w.put_vec(pack(p.items));
  }
  return std::move(w.bytes());
}

int Trainer::home_rank(const Routed& r) const {
  const Layout& l = g_.layout();
  if (l.colocated) return int(r.position % l.world);  // stays with the rank that sampled it
  return teacher_dest(r.position, r);
}

// `merged` is every rank's pack_pending() one after the other: the same batches (counters equal),
// each with that rank's items. Every rank keeps the items whose home is here in this layout.
void Trainer::unpack_pending(const Bytes& merged) {
  std::map<int64_t, Pending> by_index;
  ByteReader r(merged);
  while (!r.done()) {
    Pending p;
    p.index = r.get<int64_t>();
    p.generated = r.get<double>(), p.tokens = r.get<double>(), p.reward_sum = r.get<double>(), p.kept = r.get<double>();
    std::vector<Routed> items = unpack(r.get_vec<uint8_t>());
    Pending& slot = by_index.emplace(p.index, p).first->second;
    for (auto& it : items)
      if (home_rank(it) == g_.world_rank()) slot.items.push_back(std::move(it));
  }
  if (int64_t(by_index.size()) > opt_.max_staleness)
    throw Error(strprintf("the checkpoint holds %zu batches in flight from an async run, more than "
                          "dist.max_staleness = %lld allows", by_index.size(), (long long)opt_.max_staleness),
                "dist.max_staleness", "resume with the dist.max_staleness the run was written with");
  for (auto& [index, p] : by_index) {
    std::sort(p.items.begin(), p.items.end(), [](const Routed& a, const Routed& b) {
      return std::make_pair(a.position, a.trajectory.sample_index) < std::make_pair(b.position, b.trajectory.sample_index);
    });
    pending_.push_back(std::move(p));
  }
}

}  // namespace sdz::pipeline
