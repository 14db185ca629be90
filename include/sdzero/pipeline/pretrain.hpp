// defines: supervised pretraining of a base model on worked solutions (the demo's base): right-padded
// [B, T] batches through model::masked_nll (one forward for the whole batch), loss on the response
// tokens, gradients summed over the ranks of `comm` (each rank takes a slice of the batch), AdamW.
#pragma once
#include <mpi.h>

#include <functional>

#include "sdzero/algo/optim.hpp"
#include "sdzero/pipeline/components.hpp"

namespace sdz::pipeline {

struct PretrainOptions {
  int64_t steps = 1000, batch = 64;
  uint64_t seed = 1234;
  int64_t log_every = 50;
};

// after_step(step, loss) is called on every rank after each step; false stops. Returns steps done.
int64_t pretrain(Components& c, algo::Optimizer& opt, const PretrainOptions& o, MPI_Comm comm,
                 const std::function<bool(int64_t, double)>& after_step);

}  // namespace sdz::pipeline
