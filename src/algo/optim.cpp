// AdamW with warmup/cosine schedules and grad-norm clipping (see optim.hpp).
#include "sdzero/algo/optim.hpp"

#include <torch/version.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <map>
#include <sstream>
#include <type_traits>

#include "sdzero/core/error.hpp"

// at::_fused_adamw_ (CUDA) exists from torch 2.1.
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 1)
#define SDZ_HAVE_FUSED_ADAMW 1
#else
#define SDZ_HAVE_FUSED_ADAMW 0
#endif

namespace sdz::algo {

namespace {

// libtorch 1.x keys optimizer state by the TensorImpl address as a string, 2.x by the pointer.
template <class Map>
typename Map::key_type state_key(const torch::Tensor& p) {
  using Key = typename Map::key_type;
  if constexpr (std::is_same_v<Key, std::string>) {
    std::ostringstream os;  // what c10::guts::to_string did in 1.x (gone in 2.x)
    os << static_cast<const void*>(p.unsafeGetTensorImpl());
    return os.str();
  } else {
    return static_cast<Key>(p.unsafeGetTensorImpl());
  }
}

// The L2 norm of all defined gradients together, summed in fp64 (the norm when not clipping).
double global_grad_norm(const std::vector<torch::Tensor>& params) {
  double sq = 0;
  for (const torch::Tensor& p : params)
    if (p.grad().defined()) sq += p.grad().to(torch::kDouble).pow(2).sum().item<double>();
  return std::sqrt(sq);
}

}  // namespace

torch::optim::AdamWParamState* adamw_param_state(torch::optim::AdamW& opt, const torch::Tensor& p) {
  auto& state = opt.state();
  auto it = state.find(state_key<std::remove_reference_t<decltype(state)>>(p));
  return it == state.end() ? nullptr : static_cast<torch::optim::AdamWParamState*>(it->second.get());
}

torch::optim::AdamWParamState& set_adamw_param_state(torch::optim::AdamW& opt, const torch::Tensor& p,
                                                     std::unique_ptr<torch::optim::AdamWParamState> s) {
  auto& state = opt.state();
  auto& slot = state[state_key<std::remove_reference_t<decltype(state)>>(p)];
  slot = std::move(s);
  return static_cast<torch::optim::AdamWParamState&>(*slot);
}

ForeachMode parse_foreach_mode(const std::string& s) {
  if (s == "auto") return ForeachMode::Auto;
  if (s == "on") return ForeachMode::On;
  if (s == "off") return ForeachMode::Off;
  throw Error("unknown value '" + s + "'", "optim.foreach", "use auto, on or off");
}

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
  if (step < w && o.warmup_start_factor > 0)
    return o.lr * (o.warmup_start_factor + (1.0 - o.warmup_start_factor) * double(step) / double(w));
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
  if (!opt_.decay_1d) {
    o.weight_decay(0.0);
    for (const auto& p : params_) decays_.push_back(p.dim() >= 2);
  }
  adamw_ = std::make_unique<torch::optim::AdamW>(params_, o);
}

void Optimizer::zero_grad() {
  for (auto& p : params_) {
    if (!p.grad().defined()) continue;
    // The CPU keeps zeroed gradients: the published demo numbers were made that way.
    if (p.is_cuda()) p.mutable_grad().reset();
    else p.grad().zero_();
  }
}

namespace {

// The GPU's clip (see Optimizer::step): true when it took the step, with the norm in `norm`.
bool fused_clip_step(torch::optim::AdamW& adamw, const std::vector<torch::Tensor>& params, double clip,
                     double& norm);

}  // namespace

OptimStepStats Optimizer::step(int64_t step) {
  OptimStepStats st;
  SDZ_CHECK(step >= first_step_, "optimizer step before the start of its schedule", "algo::Optimizer");
  st.lr = lr_at(opt_, step - first_step_);
  for (auto& g : adamw_->param_groups()) static_cast<torch::optim::AdamWOptions&>(g.options()).lr(st.lr);
  if (!decays_.empty() && opt_.weight_decay != 0) {  // optim.decay_1d = false: matrices only
    torch::NoGradGuard ng;
    for (size_t i = 0; i < params_.size(); ++i)
      if (decays_[i] && params_[i].grad().defined()) params_[i].mul_(1 - st.lr * opt_.weight_decay);
  }
  const bool lists = opt_.foreach == ForeachMode::On ||
                     (opt_.foreach == ForeachMode::Auto && !params_.empty() && params_.front().is_cuda());
  if (lists && opt_.grad_clip > 0 && fused_clip_step(*adamw_, params_, opt_.grad_clip, st.grad_norm)) return st;
  // Clipping and the norm keep torch's clip_grad_norm_ arithmetic: ZeRO-1 (pipeline/zero1.cpp)
  // reproduces it bit for bit from sharded gradients.
  st.grad_norm = opt_.grad_clip > 0 ? double(torch::nn::utils::clip_grad_norm_(params_, opt_.grad_clip))
                                    : global_grad_norm(params_);
  // On a CPU the list operations are a per-tensor loop inside torch, slower than torch's own loop.
  if (lists)
    foreach_adamw_step(*adamw_, params_);
  else
    adamw_->step();
  return st;
}

namespace {

std::atomic<bool> g_fused_adamw{true};

// torch's fused CUDA AdamW (what torch.optim.AdamW(fused=True) runs): one pass over p, g, m and v
// per chunk of tensors instead of a pass per line of the update. The same formula; the rounding of the
// fused arithmetic differs from the list operations' in the last bits. True when it took the step.
bool fused_adamw(std::vector<torch::Tensor>& p, std::vector<torch::Tensor>& g, std::vector<torch::Tensor>& m,
                 std::vector<torch::Tensor>& v, int64_t t, double lr, double b1, double b2, double wd, double eps,
                 const torch::Tensor& grad_scale) {
#if SDZ_HAVE_FUSED_ADAMW
  if (!g_fused_adamw || p.empty()) return false;
  for (size_t i = 0; i < p.size(); ++i)
    if (!p[i].is_cuda() || p[i].scalar_type() != torch::kFloat32 || g[i].scalar_type() != torch::kFloat32) return false;
  // The kernel reads each parameter's step count from a device tensor (already incremented).
  auto steps = torch::full({int64_t(p.size())}, double(t), p[0].options());
  std::vector<torch::Tensor> step_list;
  for (int64_t i = 0; i < steps.size(0); ++i) step_list.push_back(steps.select(0, i));
  try {
    at::_fused_adamw_(p, g, m, v, {}, step_list, lr, b1, b2, wd, eps, /*amsgrad=*/false, /*maximize=*/false,
                      grad_scale.defined() ? std::optional<at::Tensor>(grad_scale) : std::nullopt);
  } catch (const c10::Error&) {
    g_fused_adamw = false;  // a torch without it for these tensors: the list operations from now on
    return false;
  }
  return true;
#else
  (void)p, (void)g, (void)m, (void)v, (void)t, (void)lr, (void)b1, (void)b2, (void)wd, (void)eps, (void)grad_scale;
  return false;
#endif
}

bool fused_clip_step(torch::optim::AdamW& adamw, const std::vector<torch::Tensor>& params, double clip,
                     double& norm) {
#if SDZ_HAVE_FUSED_ADAMW
  if (!g_fused_adamw) return false;
  std::vector<torch::Tensor> grads;
  for (const torch::Tensor& p : params) {
    if (!p.grad().defined()) continue;
    if (!p.is_cuda() || p.scalar_type() != torch::kFloat32 || p.grad().scalar_type() != torch::kFloat32) return false;
    grads.push_back(p.grad());
  }
  if (grads.empty()) return false;
  torch::Tensor total;
  {
    torch::NoGradGuard ng;
    total = torch::stack(at::_foreach_norm(grads)).norm();
  }
  // clip_grad_norm_'s factor is clip / (norm + 1e-6) when below 1: divide by its inverse, at least 1.
  foreach_adamw_step(adamw, params, ((total + 1e-6) / clip).clamp_min(1.0));
  norm = total.item<double>();  // after the update is queued: the GPU does not wait for the host
  return true;
#else
  (void)adamw, (void)params, (void)clip, (void)norm;
  return false;
#endif
}

}  // namespace

bool set_fused_adamw(bool on) {
  g_fused_adamw = on;
  return SDZ_HAVE_FUSED_ADAMW != 0;
}

void foreach_adamw_step(torch::optim::AdamW& opt, const std::vector<torch::Tensor>& params,
                        const torch::Tensor& grad_scale) {
  torch::NoGradGuard ng;
  SDZ_CHECK(opt.param_groups().size() == 1, "the multi-tensor AdamW step expects one parameter group",
            "algo::foreach_adamw_step");
  const auto& o = static_cast<const torch::optim::AdamWOptions&>(opt.param_groups()[0].options());
  SDZ_CHECK(!o.amsgrad(), "the multi-tensor AdamW step has no amsgrad", "algo::foreach_adamw_step");
  const double lr = o.lr(), wd = o.weight_decay(), eps = o.eps();
  const double b1 = std::get<0>(o.betas()), b2 = std::get<1>(o.betas());
  // Parameters are grouped by their step count (the same for all of them unless some were frozen
  // for a while); each group runs torch's AdamW update as one list operation per line.
  struct Lists {
    std::vector<torch::Tensor> p, g, m, v;
  };
  std::map<int64_t, Lists> by_step;
  for (const torch::Tensor& p : params) {
    if (!p.grad().defined()) continue;
    SDZ_CHECK(!p.grad().is_sparse(), "AdamW does not support sparse gradients", "algo::foreach_adamw_step");
    torch::optim::AdamWParamState* s = adamw_param_state(opt, p);
    if (!s) {
      auto fresh = std::make_unique<torch::optim::AdamWParamState>();
      fresh->step(0);
      fresh->exp_avg(torch::zeros_like(p, torch::MemoryFormat::Preserve));
      fresh->exp_avg_sq(torch::zeros_like(p, torch::MemoryFormat::Preserve));
      s = &set_adamw_param_state(opt, p, std::move(fresh));
    }
    s->step(s->step() + 1);
    Lists& l = by_step[s->step()];
    l.p.push_back(p), l.g.push_back(p.grad()), l.m.push_back(s->exp_avg()), l.v.push_back(s->exp_avg_sq());
  }
  for (auto& [t, l] : by_step) {
    if (fused_adamw(l.p, l.g, l.m, l.v, t, lr, b1, b2, wd, eps, grad_scale)) continue;
    if (grad_scale.defined())
      for (auto& g : l.g) g.div_(grad_scale);
    const double bc1 = 1 - std::pow(b1, double(t)), bc2 = 1 - std::pow(b2, double(t));
    if (wd != 0) torch::_foreach_mul_(l.p, 1 - lr * wd);
    torch::_foreach_mul_(l.m, b1);
    torch::_foreach_add_(l.m, l.g, 1 - b1);
    torch::_foreach_mul_(l.v, b2);
    torch::_foreach_addcmul_(l.v, l.g, l.g, 1 - b2);
    std::vector<torch::Tensor> denom = torch::_foreach_sqrt(l.v);
    torch::_foreach_div_(denom, std::sqrt(bc2));
    torch::_foreach_add_(denom, eps);
    torch::_foreach_addcdiv_(l.p, l.m, denom, -lr / bc1);
  }
}

}  // namespace sdz::algo
