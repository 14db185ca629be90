// defines: the flat wire form of a step's data — Trajectories and TeacherSignals packed into one
// byte buffer per destination rank for dist/'s collectives (never one message per sample).
#pragma once
#include <torch/torch.h>

#include <vector>

#include "sdzero/algo/types.hpp"
#include "sdzero/dist/bytes.hpp"

namespace sdz::pipeline {

// A trajectory on its way to the learners, with its teacher signal when one was computed and its
// position in the step (question position, sample index) so receivers restore one global order.
struct Routed {
  int64_t position = 0;
  algo::Trajectory trajectory;
  bool has_signal = false;
  algo::TeacherSignal signal;
};

// One tensor (dtype, shape, bytes; or "undefined") in the same flat form.
void write_tensor(ByteWriter& w, const torch::Tensor& t);
torch::Tensor read_tensor(ByteReader& r);

void write_routed(ByteWriter& w, const Routed& r);
Routed read_routed(ByteReader& r);
std::vector<uint8_t> pack(const std::vector<Routed>& items);
std::vector<Routed> unpack(const std::vector<uint8_t>& bytes);

}  // namespace sdz::pipeline
