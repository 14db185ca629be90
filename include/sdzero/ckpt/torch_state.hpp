// defines: adapters between libtorch objects and TrainingState: torch::optim::AdamW state <-> per-
// parameter slots (exp_avg, exp_avg_sq, max_exp_avg_sq, step, plus group hyperparameters), and
// torch generators <-> their state tensors. The optimizer is matched by HF parameter name, never
// by address or order, so a resumed process with new tensors finds its state.
#pragma once
#include <string>
#include <utility>
#include <vector>

#include <torch/torch.h>

#include "sdzero/ckpt/state.hpp"

namespace sdz::ckpt {

using NamedParams = std::vector<std::pair<std::string, torch::Tensor>>;

// Parameters that have not been stepped yet have no state and are left out.
OptimizerState capture_adamw(torch::optim::AdamW& opt, const NamedParams& params);
// Replaces the optimizer's state (and each group's lr) with the saved one. Throws Error when a
// saved parameter is not in `params` or a slot's shape differs from its parameter.
void restore_adamw(torch::optim::AdamW& opt, const NamedParams& params, const OptimizerState& st);

torch::Tensor capture_generator(const at::Generator& g);
void restore_generator(at::Generator& g, const torch::Tensor& state);

// Copies saved tensors into existing parameters in place (same shapes and dtypes required),
// without autograd recording. Throws Error naming the first mismatch.
void copy_into(const NamedParams& params, const std::map<std::string, torch::Tensor>& saved, const std::string& where);

}  // namespace sdz::ckpt
