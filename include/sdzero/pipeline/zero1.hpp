// defines: Zero1 — the learner step with the AdamW state sharded over the data-parallel learners
// (ZeRO stage 1). Each parameter tensor has one owner learner (dist::partition_owners). Between
// backward and the optimizer step the gradients are reduce-scattered onto their owners and clipped
// by the global norm; AdamW, which keeps state only for tensors with a gradient, then steps (and
// holds moments for) the owned tensors only; afterwards the parameters are all-gathered. Norms and
// updates are per whole tensor, exactly as the unsharded path computes them, so with two learners
// the result is bit-identical to it (with more, only the fp32 summation order of MPI may differ).
// algo/ stays unaware of MPI: this runs in train_step's reduce hook and after it.
#pragma once
#include <mpi.h>
#include <torch/torch.h>

#include <string>
#include <utility>
#include <vector>

#include "sdzero/ckpt/state.hpp"

namespace sdz::pipeline {

class Zero1 {
 public:
  using NamedParams = std::vector<std::pair<std::string, torch::Tensor>>;
  // `grad_clip` <= 0: no clipping (grad_norm() is then reported, not applied).
  Zero1(MPI_Comm learners, std::vector<torch::Tensor> params, double grad_clip);
  // The reduce hook: sums gradients onto their owners, clips them by the global norm (computed as
  // torch::nn::utils::clip_grad_norm_ computes it over every parameter) and drops the gradients of
  // tensors this learner does not own, so the optimizer steps only its shard.
  void reduce_and_clip();
  double grad_norm() const { return norm_; }
  // After the optimizer step: every learner receives each tensor from its owner.
  void gather_params();
  bool owns(size_t k) const { return owner_[k] == me_; }
  int64_t owned_elements() const;
  // Checkpoints: the shards' AdamW state gathered onto learner rank 0 (the learner root; the
  // others return their own part), and the part of a full state this learner owns.
  ckpt::OptimizerState gather_state(const ckpt::OptimizerState& mine) const;
  ckpt::OptimizerState own_part(const ckpt::OptimizerState& full, const NamedParams& named) const;

 private:
  MPI_Comm comm_;
  std::vector<torch::Tensor> params_;
  std::vector<int> owner_;
  double clip_, norm_ = 0;
  int me_ = 0, size_ = 1;
};

}  // namespace sdz::pipeline
