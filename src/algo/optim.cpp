// AdamW with warmup/cosine schedules and grad-norm clipping (see optim.hpp).
#include "sdzero/algo/optim.hpp"

#include <algorithm>
#include <cmath>

#include "sdzero/core/error.hpp"

namespace sdz::algo {

LrSchedule parse_lr_schedule(const std::string& s) {
  if (s == "constant") return LrSchedule::Constant;
  if (s == "cosine") return LrSchedule::Cosine;
  throw Error("unknown schedule '" + s + "'", "optim.schedule", "use constant or cosine");
}

int64_t warmup_length(const OptimOptions& o) {
  return std::max<int64_t>(o.warmup_steps, int64_t(std::llround(o.warmup_fraction * double(o.total_steps))));
}

double lr_at(const OptimOptions& o, int64_t step) {
  const int64_t w = warmup_length(o);
  if (step < w) return o.lr * double(step + 1) / double(w);
  if (o.schedule == LrSchedule::Constant) return o.lr;
  SDZ_CHECK(o.total_steps > 0, "the cosine schedule needs a total step count", "optim.total_steps",
            "set optim.total_steps (or let the pipeline derive it from the budget)");
  const double span = double(std::max<int64_t>(1, o.total_steps - w));
  const double progress = std::clamp(double(step - w) / span, 0.0, 1.0);
  const double lo = o.lr * o.min_lr_ratio;
  return lo + (o.lr - lo) * 0.5 * (1.0 + std::cos(M_PI * progress));
}

Optimizer::Optimizer(std::vector<torch::Tensor> params, OptimOptions opt, int64_t first_step)
    : params_(std::move(params)), opt_(opt), first_step_(first_step) {
  SDZ_CHECK(opt_.lr > 0, "optim.lr must be > 0", "optim.lr");
  SDZ_CHECK(opt_.beta1 >= 0 && opt_.beta1 < 1 && opt_.beta2 >= 0 && opt_.beta2 < 1, "betas must be in [0, 1)",
            "optim.beta1 / optim.beta2");
  torch::optim::AdamWOptions o(opt_.lr);
  o.betas(std::make_tuple(opt_.beta1, opt_.beta2)).eps(opt_.eps).weight_decay(opt_.weight_decay);
  adamw_ = std::make_unique<torch::optim::AdamW>(params_, o);
}

void Optimizer::zero_grad() {
  for (auto& p : params_)
    if (p.grad().defined()) p.grad().zero_();
}

OptimStepStats Optimizer::step(int64_t step) {
  OptimStepStats st;
  SDZ_CHECK(step >= first_step_, "optimizer step before the start of its schedule", "algo::Optimizer");
  st.lr = lr_at(opt_, step - first_step_);
  for (auto& g : adamw_->param_groups()) static_cast<torch::optim::AdamWOptions&>(g.options()).lr(st.lr);
  if (opt_.grad_clip > 0) {
    st.grad_norm = torch::nn::utils::clip_grad_norm_(params_, opt_.grad_clip);
  } else {
    double sq = 0;
    for (auto& p : params_)
      if (p.grad().defined()) sq += p.grad().to(torch::kDouble).pow(2).sum().item<double>();
    st.grad_norm = std::sqrt(sq);
  }
  adamw_->step();
  return st;
}

}  // namespace sdz::algo
