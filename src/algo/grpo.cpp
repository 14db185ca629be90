// GRPO / DAPO pieces (see grpo.hpp).
#include "sdzero/algo/grpo.hpp"

#include <cmath>
#include <map>

#include "sdzero/core/error.hpp"

namespace sdz::algo {

namespace {
std::map<int64_t, std::vector<size_t>> groups_of(const std::vector<Trajectory>& trajs) {
  std::map<int64_t, std::vector<size_t>> g;
  for (size_t i = 0; i < trajs.size(); ++i) g[trajs[i].question_id].push_back(i);
  return g;
}
}  // namespace

void group_advantages(std::vector<Trajectory>& trajs, bool scale_by_std, double eps) {
  for (auto& [qid, idx] : groups_of(trajs)) {
    (void)qid;
    double mean = 0;
    for (size_t i : idx) mean += trajs[i].reward;
    mean /= double(idx.size());
    double var = 0;
    for (size_t i : idx) var += (trajs[i].reward - mean) * (trajs[i].reward - mean);
    const double sd = idx.size() > 1 ? std::sqrt(var / double(idx.size() - 1)) : 0.0;
    for (size_t i : idx) {
      const double a = trajs[i].reward - mean;
      trajs[i].advantage = float(scale_by_std ? a / (sd + eps) : a);
    }
  }
}

int64_t drop_uniform_groups(std::vector<Trajectory>& trajs) {
  std::map<int64_t, bool> uniform;
  for (auto& [qid, idx] : groups_of(trajs)) {
    bool same = true;
    for (size_t i : idx) same = same && trajs[i].reward == trajs[idx.front()].reward;
    uniform[qid] = same;
  }
  int64_t dropped = 0;
  for (auto& [qid, u] : uniform) dropped += u ? 1 : 0;
  std::vector<Trajectory> kept;
  kept.reserve(trajs.size());
  for (auto& t : trajs)
    if (!uniform[t.question_id]) kept.push_back(std::move(t));
  trajs = std::move(kept);
  return dropped;
}

SurrogateTerms clipped_surrogate(const torch::Tensor& new_logprobs, const torch::Tensor& old_logprobs,
                                 double advantage, const torch::Tensor& ref_logprobs, const ClipOptions& opt) {
  SDZ_CHECK(new_logprobs.sizes() == old_logprobs.sizes(), "new and sampling log-probs differ in length",
            "algo::clipped_surrogate", "the trajectory's logprobs must cover every response token");
  SDZ_CHECK(opt.eps_low >= 0 && opt.eps_low < 1 && opt.eps_high >= 0, "clip epsilons out of range",
            "grpo.clip_low / grpo.clip_high");
  auto lp = new_logprobs.to(torch::kFloat);
  auto ratio = (lp - old_logprobs.detach().to(lp.device(), torch::kFloat)).exp();
  auto unclipped = ratio * advantage;
  auto clipped = ratio.clamp(1.0 - opt.eps_low, 1.0 + opt.eps_high) * advantage;
  SurrogateTerms out;
  out.loss = -torch::min(unclipped, clipped);
  out.clipped = (clipped < unclipped).to(torch::kFloat).detach();
  out.ratio = ratio.detach();
  if (opt.kl_coef > 0) {
    SDZ_CHECK(ref_logprobs.defined() && ref_logprobs.sizes() == new_logprobs.sizes(),
              "grpo.kl_coef > 0 needs reference log-probs for every response token", "algo::clipped_surrogate",
              "score the trajectories with the reference (teacher) first, or set grpo.kl_coef = 0");
    auto d = ref_logprobs.detach().to(lp.device(), torch::kFloat) - lp;
    auto k3 = d.exp() - d - 1.0;
    out.loss = out.loss + opt.kl_coef * k3;
    out.kl = k3.detach();
  } else {
    out.kl = torch::zeros_like(out.ratio);
  }
  return out;
}

}  // namespace sdz::algo
