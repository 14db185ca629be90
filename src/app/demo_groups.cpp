// The demo's rank groups. The demo's models are tiny (0.64M parameters): one rank shares a stage's
// work with others poorly (small matrices, a collective per step), while separate stages (a seed's
// base, one method at one rate) need nothing from each other. So the ranks are carved into groups
// that run different stages at once, and only the finished rows travel, once, to rank 0.
#include <algorithm>
#include <numeric>

#include "sdzero/app/demo.hpp"
#include "sdzero/core/error.hpp"
#include "sdzero/core/strings.hpp"
#include "sdzero/dist/collectives.hpp"

namespace sdz::app {

DemoGroups carve_groups(MPI_Comm world, int64_t requested) {
  int rank = 0, size = 1;
  MPI_Comm_rank(world, &rank);
  MPI_Comm_size(world, &size);
  DemoGroups g;
  g.count = requested > 0 ? int(requested) : size;
  if (g.count > size || size % g.count != 0)
    throw Error(strprintf("%d group(s) cannot split %d rank(s) evenly", g.count, size), "demo.groups",
                "use a divisor of the number of ranks, or 0 for one group per rank");
  const int per = size / g.count;
  g.index = rank / per;
  MPI_Comm_split(world, g.index, rank, &g.comm);
  g.leader = rank % per == 0;
  return g;
}

std::vector<int> schedule(const std::vector<double>& costs, int groups) {
  SDZ_CHECK(groups > 0, "schedule needs at least one group", "demo.groups");
  std::vector<size_t> order(costs.size());
  std::iota(order.begin(), order.end(), size_t(0));
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return costs[a] > costs[b]; });
  std::vector<double> load(size_t(groups), 0.0);
  std::vector<int> owner(costs.size(), 0);
  for (size_t i : order) {
    const int g = int(std::min_element(load.begin(), load.end()) - load.begin());
    owner[i] = g;
    load[size_t(g)] += costs[i];
  }
  return owner;
}

StagePlan schedule_after(const std::vector<double>& costs1, const std::vector<int>& owner1,
                         const std::vector<double>& costs2, const std::vector<size_t>& needs, int groups) {
  SDZ_CHECK(groups > 0 && costs1.size() == owner1.size() && costs2.size() == needs.size(),
            "schedule_after needs one owner per wave-1 item and one need per stage", "demo.groups");
  std::vector<double> ready(costs1.size()), free(size_t(groups), 0.0);
  for (size_t i = 0; i < costs1.size(); ++i) ready[i] = free[size_t(owner1[i])] += costs1[i];
  StagePlan p;
  p.owner.assign(costs2.size(), 0);
  p.order.resize(costs2.size());
  std::iota(p.order.begin(), p.order.end(), size_t(0));
  std::stable_sort(p.order.begin(), p.order.end(), [&](size_t a, size_t b) {
    const double ra = ready[needs[a]], rb = ready[needs[b]];
    return ra != rb ? ra < rb : costs2[a] > costs2[b];
  });
  for (size_t j : p.order) {
    int best = 0;
    double best_end = 0;
    for (int k = 0; k < groups; ++k) {
      const double end = std::max(free[size_t(k)], ready[needs[j]]) + costs2[j];
      if (k == 0 || end < best_end) best = k, best_end = end;
    }
    p.owner[j] = best;
    free[size_t(best)] = best_end;
  }
  return p;
}

StageSignals::StageSignals(MPI_Comm world, const DemoGroups& g, std::vector<int> owner1,
                           std::vector<std::vector<int>> users)
    : world_(world), g_(g), owner1_(std::move(owner1)), users_(std::move(users)) {
  int size = 1;
  MPI_Comm_size(world, &size);
  per_group_ = size / g.count;
  users_.resize(owner1_.size());
  // One message per group and item: a group with several stages of one seed waits for its base once.
  for (auto& u : users_) std::sort(u.begin(), u.end()), u.erase(std::unique(u.begin(), u.end()), u.end());
  ready_.assign(owner1_.size(), false);
  token_.assign(owner1_.size(), 1);
}

void StageSignals::done(size_t item) {
  ready_.at(item) = true;
  if (!g_.leader) return;
  for (int k : users_[item]) {
    if (k == g_.index) continue;
    sends_.emplace_back();
    // The tag is the item: a leader waiting for one base never takes another's message.
    MPI_Isend(&token_[item], 1, MPI_INT, k * per_group_, int(item), world_, &sends_.back());
  }
}

void StageSignals::wait(size_t item) {
  if (ready_.at(item)) return;
  if (g_.leader) {
    int token = 0;
    MPI_Recv(&token, 1, MPI_INT, owner1_[item] * per_group_, int(item), world_, MPI_STATUS_IGNORE);
  }
  MPI_Barrier(g_.comm);  // the group's other ranks read the item only after its leader heard
  ready_[item] = true;
}

void StageSignals::finish() {
  if (!sends_.empty()) MPI_Waitall(int(sends_.size()), sends_.data(), MPI_STATUSES_IGNORE);
  sends_.clear();
}

GroupResult gather_results(MPI_Comm world, const GroupResult& mine) {
  nlohmann::json j = {{"rows", nlohmann::json::array()}, {"localization", mine.localization}};
  for (const auto& [order, row] : mine.rows) j["rows"].push_back({order, row.to_json()});
  const std::string text = j.dump();
  const std::vector<Bytes> all = gatherv(world, 0, Bytes(text.begin(), text.end()));
  GroupResult out;
  for (const Bytes& b : all) {
    const nlohmann::json part = nlohmann::json::parse(std::string(b.begin(), b.end()));
    for (const auto& r : part.at("rows")) out.rows.push_back({r.at(0).get<int64_t>(), DemoRow::from_json(r.at(1))});
    if (!part.at("localization").is_null()) out.localization = part.at("localization");
  }
  std::stable_sort(out.rows.begin(), out.rows.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  return out;
}

}  // namespace sdz::app
