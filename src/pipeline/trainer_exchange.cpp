// How a step's data moves between the rank groups: trajectories routed by question position (one
// Alltoallv of packed items), the learner root's statistics broadcast, the sample log.
#include "sdzero/pipeline/trainer.hpp"

#include "sdzero/core/error.hpp"
#include "sdzero/dist/collectives.hpp"

namespace sdz::pipeline {

std::vector<Routed> Trainer::route(std::vector<Routed> items, int (Trainer::*dest)(int64_t, const Routed&) const) {
  return route_on(g_.world(), 0, std::move(items), dest);
}

std::vector<Routed> Trainer::route_on(MPI_Comm comm, int first, std::vector<Routed> items,
                                      int (Trainer::*dest)(int64_t, const Routed&) const) {
  if (g_.layout().colocated) return items;
  {  // waiting for the slowest rank of the exchange is idle time; the exchange itself is not
    auto w = timers_.scope("idle");
    MPI_Barrier(comm);
  }
  auto t = timers_.scope("exchange");
  int n = 1;
  MPI_Comm_size(comm, &n);
  std::vector<std::vector<Routed>> per(static_cast<size_t>(n));
  for (auto& r : items) {
    int to = (this->*dest)(r.position, r) - first;
    if (to < 0 || to >= n) throw Error("pipeline: a trajectory routed outside its exchange group", "pipeline");
    per[size_t(to)].push_back(std::move(r));
  }
  std::vector<Bytes> send;
  for (auto& v : per) send.push_back(pack(v));
  std::vector<Routed> out;
  for (auto& b : alltoallv(comm, send))
    for (auto& r : unpack(b)) out.push_back(std::move(r));
  return out;
}

int Trainer::teacher_dest(int64_t position, const Routed& r) const {
  const Layout& l = g_.layout();
  if (l.teacher == 0 || !c_.method->uses_teacher(r.trajectory)) return learner_dest(position, r);
  return l.first_rank(Role::Teacher) + int(position % l.teacher);
}

int Trainer::learner_dest(int64_t position, const Routed&) const {
  const Layout& l = g_.layout();
  return l.first_rank(Role::Learner) + int(position % l.learner);
}

void Trainer::write_samples(int64_t step, const RolloutResult& rr) {
  for (size_t i = 0; i < rr.texts.size() && int64_t(i) < opt_.samples_per_step; ++i) {
    const algo::Trajectory& t = rr.trajectories[i];
    samples_.write({{"step", step + 1},
                    {"question", c_.questions[size_t(t.question_id)].prompt},
                    {"sample", t.sample_index},
                    {"response", rr.texts[i]},
                    {"reward", t.reward},
                    {"reason", rr.reasons[i]},
                    {"version", t.policy_version}});
  }
}

nlohmann::json Trainer::learner_statistics(const algo::StepResult& result) {
  Bytes stats;
  if (g_.is_learner_root()) {
    nlohmann::json ls = result.stats;
    ls["loss"] = allreduce_sum(g_.learners(), result.loss);
    std::string d = ls.dump();
    stats.assign(d.begin(), d.end());
  } else if (g_.has(Role::Learner)) {
    allreduce_sum(g_.learners(), result.loss);
  }
  bcast(g_.world(), g_.layout().learner_root(), stats);
  return nlohmann::json::parse(stats.begin(), stats.end());
}

}  // namespace sdz::pipeline
