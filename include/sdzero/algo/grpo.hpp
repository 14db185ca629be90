// defines: GRPO with the DAPO options the paper used: group-normalised advantages, dynamic sampling
// (drop groups whose rewards are all equal), the clipped surrogate with decoupled epsilons, and the
// optional k3 KL to a reference policy. Token-level averaging is token_mean() in losses.hpp.
#pragma once
#include <cstdint>
#include <vector>

#include <torch/torch.h>

#include "sdzero/algo/types.hpp"

namespace sdz::algo {

// A_i = (r_i - mean(r_group)) / (std(r_group) + eps) with the unbiased std, or r_i - mean when
// scale_by_std is false. Groups are the trajectories sharing a question_id. Writes t.advantage.
void group_advantages(std::vector<Trajectory>& trajs, bool scale_by_std, double eps);

// Dynamic sampling: removes every group whose rewards are all equal (zero advantage, no signal).
// Returns the number of groups dropped.
int64_t drop_uniform_groups(std::vector<Trajectory>& trajs);

struct ClipOptions {
  double eps_low = 0.2;    // ratio floor 1 - eps_low
  double eps_high = 0.28;  // ratio ceiling 1 + eps_high (DAPO "clip-higher")
  double kl_coef = 0.0;    // weight of the k3 KL to the reference; 0: no reference needed
};

struct SurrogateTerms {
  torch::Tensor loss;     // [n] per-token loss, with the KL term when kl_coef > 0
  torch::Tensor clipped;  // [n] 1 where the clipped branch was taken (statistics)
  torch::Tensor ratio;    // [n] pi / pi_old (detached)
  torch::Tensor kl;       // [n] k3 estimate exp(ref - new) - (ref - new) - 1 (detached), zeros without ref
};

// Per token: -min(rho * A, clip(rho, 1 - eps_low, 1 + eps_high) * A) + kl_coef * k3,
// rho = exp(new - old). new_logprobs [n] carry the gradient; old/ref [n] do not.
SurrogateTerms clipped_surrogate(const torch::Tensor& new_logprobs, const torch::Tensor& old_logprobs,
                                 double advantage, const torch::Tensor& ref_logprobs, const ClipOptions& opt);

}  // namespace sdz::algo
