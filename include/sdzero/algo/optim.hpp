// defines: the optimizer every method trains with: AdamW (torch::optim::AdamW) with the paper's
// schedules (linear warmup then constant; linear warmup then cosine), weight decay, betas and eps from
// config, and grad-norm clipping. The gradient allreduce of data-parallel learners happens between
// backward and Optimizer::step (dist/ owns it).
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <torch/torch.h>

namespace sdz::algo {

enum class LrSchedule { Constant, Cosine };
LrSchedule parse_lr_schedule(const std::string& s);  // "constant" | "cosine"

// The AdamW update as multi-tensor list operations (On, the default: the CPU tests then run the
// GPU's code path), torch's per-parameter loop (Off), or the list operations for GPU parameters
// only (Auto: on a CPU they are a per-tensor loop inside torch, a little slower than torch's).
enum class ForeachMode { Auto, On, Off };
ForeachMode parse_foreach_mode(const std::string& s);  // "auto" | "on" | "off"

struct OptimOptions {
  double lr = 5e-6;
  double weight_decay = 0.01;
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
  LrSchedule schedule = LrSchedule::Constant;
  int64_t warmup_steps = 20;     // linear warmup length in steps ...
  double warmup_fraction = 0.0;  // ... or this fraction of total_steps, whichever is longer
  double warmup_start_factor = 0.0;  // 0: lr (s+1)/W; f > 0: lr (f + (1 - f) s / W), NeMo-RL's LinearLR
  int64_t total_steps = 0;       // cosine horizon (needed for cosine)
  double min_lr_ratio = 0.0;     // cosine floor as a fraction of lr
  double grad_clip = 1.0;        // max global grad norm; <= 0: no clipping
  ForeachMode foreach = ForeachMode::On;
  // false: weight decay on matrices only, not on 1-D parameters (norm weights, biases), as the HF
  // Trainer (the released SRT code) does; true: on every parameter, torch's AdamW as is.
  bool decay_1d = true;
};

int64_t warmup_length(const OptimOptions& o);
// Learning rate of optimizer step `step` (0-based). Warmup: lr * (step + 1) / W, so the first step
// already moves (or, with warmup_start_factor f > 0, lr * (f + (1 - f) * step / W)); then constant,
// or min + (lr - min) * (1 + cos(pi * progress)) / 2 with progress = (step - W) / (total - W),
// clamped to [0, 1].
double lr_at(const OptimOptions& o, int64_t step);

struct OptimStepStats {
  double lr = 0;
  double grad_norm = 0;  // before clipping
};

// The AdamW state of parameter p (nullptr before its first step), and installing one: torch keys
// the map differently across versions (1.x: the TensorImpl address as a string, 2.x: the pointer).
torch::optim::AdamWParamState* adamw_param_state(torch::optim::AdamW& opt, const torch::Tensor& p);
torch::optim::AdamWParamState& set_adamw_param_state(torch::optim::AdamW& opt, const torch::Tensor& p,
                                                     std::unique_ptr<torch::optim::AdamWParamState> s);

// torch::optim::AdamW::step's arithmetic, op for op, as multi-tensor list operations over `params`
// (each must be in `opt`'s single group), keeping the state in `opt` (so checkpoints do not change).
// Why: torch's C++ AdamW launches about ten kernels per parameter, a Qwen3-0.6B has 310 of them, and
// on a GPU those launches, not the arithmetic, are the optimizer's time.
// On a GPU (fp32 parameters, torch >= 2.1) the step is torch's fused AdamW kernel instead, unless
// set_fused_adamw(false) (the bench's same-run baseline); returns whether this build has the kernel.
// grad_scale (optional, a scalar tensor on the parameters' device): gradients are divided by it first,
// inside the fused kernel's one pass (how the GPU applies the clip; see Optimizer::step).
void foreach_adamw_step(torch::optim::AdamW& opt, const std::vector<torch::Tensor>& params,
                        const torch::Tensor& grad_scale = {});
bool set_fused_adamw(bool on);

class Optimizer {
 public:
  // `first_step`: the run's step at which this optimizer's schedule begins (a later training stage
  // with a fresh optimizer and its own warmup, as SRT's sequential stages).
  Optimizer(std::vector<torch::Tensor> params, OptimOptions opt, int64_t first_step = 0);
  // Zeroes the gradients; on a GPU drops them instead (the next backward then writes them without an
  // accumulating add; callers that need every gradient defined fill missing ones with zeros).
  void zero_grad();
  // Sets the lr of step `step` (0-based; lr_at(step - first_step)), clips the gradient norm, takes
  // the AdamW step (foreach_adamw_step, or torch's per-parameter loop; see ForeachMode). On a GPU with
  // the fused kernel the norm is one multi-tensor kernel and the clip the kernel's grad_scale: no pass
  // over the gradients of its own and no wait for the norm before the update (same values up to
  // rounding: division by 1/coef instead of multiplication by coef).
  OptimStepStats step(int64_t step);
  torch::optim::AdamW& adamw() { return *adamw_; }
  const std::vector<torch::Tensor>& params() const { return params_; }
  const OptimOptions& options() const { return opt_; }

 private:
  std::vector<torch::Tensor> params_;
  OptimOptions opt_;
  int64_t first_step_ = 0;
  std::unique_ptr<torch::optim::AdamW> adamw_;
  // decay_1d = false: which parameters decay (torch's group then has weight_decay 0, and step() applies
  // the decoupled decay p *= 1 - lr * wd to these first, the op torch's AdamW begins with).
  std::vector<bool> decays_;
};

}  // namespace sdz::algo
