// ZeRO-1 learner step (see zero1.hpp).
#include "sdzero/pipeline/zero1.hpp"

#include <cmath>

#include "sdzero/core/error.hpp"
#include "sdzero/dist/collectives.hpp"
#include "sdzero/dist/tensor_sync.hpp"
#include "sdzero/pipeline/wire.hpp"

namespace sdz::pipeline {

Zero1::Zero1(MPI_Comm learners, std::vector<torch::Tensor> params, double grad_clip)
    : comm_(learners), params_(std::move(params)), clip_(grad_clip) {
  MPI_Comm_rank(comm_, &me_);
  MPI_Comm_size(comm_, &size_);
  owner_ = partition_owners(params_, size_);
}

int64_t Zero1::owned_elements() const {
  int64_t n = 0;
  for (size_t k = 0; k < params_.size(); ++k)
    if (owns(k)) n += params_[k].numel();
  return n;
}

void Zero1::reduce_and_clip() {
  std::vector<torch::Tensor> grads;
  for (auto& p : params_) {
    if (!p.grad().defined()) p.mutable_grad() = torch::zeros_like(p);
    grads.push_back(p.grad());
  }
  reduce_scatter_tensors(comm_, grads, owner_);
  // Per-tensor norms, each computed by its owner from the full sum; exchanged as fp64 (exact for
  // fp32/bf16) so every learner stacks the very values the unsharded clip_grad_norm_ would.
  std::vector<double> norms(params_.size(), 0.0);
  for (size_t k = 0; k < params_.size(); ++k)
    if (owns(k)) norms[k] = clip_ > 0 ? grads[k].norm(2).item<double>() : grads[k].to(torch::kDouble).pow(2).sum().item<double>();
  MPI_Allreduce(MPI_IN_PLACE, norms.data(), int(norms.size()), MPI_DOUBLE, MPI_SUM, comm_);  // x + 0 + ... = x
  if (clip_ > 0 && !params_.empty()) {
    const auto dtype = grads.front().scalar_type();
    std::vector<torch::Tensor> nt;
    for (double v : norms) nt.push_back(torch::tensor(v, torch::TensorOptions().dtype(dtype)).reshape({}));
    torch::Tensor total = nt.size() == 1 ? nt[0] : torch::stack(nt).norm(2);
    auto coef = torch::clamp(clip_ / (total + 1e-6), c10::nullopt, 1.0);
    for (size_t k = 0; k < params_.size(); ++k)
      if (owns(k)) grads[k].mul_(coef);
    norm_ = total.item<double>();
  } else {
    double sq = 0;
    for (double v : norms) sq += v;
    norm_ = std::sqrt(sq);
  }
  for (size_t k = 0; k < params_.size(); ++k)
    if (!owns(k)) params_[k].mutable_grad() = torch::Tensor();
}

void Zero1::gather_params() {
  torch::NoGradGuard no_grad;
  allgather_tensors(comm_, params_, owner_);
}

static void write_state(ByteWriter& w, const ckpt::OptimizerState& s) {
  w.put<uint64_t>(s.params.size());
  for (const auto& [name, ps] : s.params) {
    w.put_str(name);
    w.put<int64_t>(ps.step);
    w.put<uint64_t>(ps.slots.size());
    for (const auto& [slot, t] : ps.slots) w.put_str(slot), write_tensor(w, t);
  }
}

static void read_state(ByteReader& r, ckpt::OptimizerState& s) {
  uint64_t n = r.get<uint64_t>();
  for (uint64_t i = 0; i < n; ++i) {
    std::string name = r.get_str();
    ckpt::ParamSlots ps;
    ps.step = r.get<int64_t>();
    uint64_t m = r.get<uint64_t>();
    for (uint64_t j = 0; j < m; ++j) {
      std::string slot = r.get_str();
      ps.slots[slot] = read_tensor(r);
    }
    if (!s.params.emplace(name, std::move(ps)).second)
      throw Error("ZeRO-1: two learners hold optimizer state for " + name, "pipeline");
  }
}

ckpt::OptimizerState Zero1::gather_state(const ckpt::OptimizerState& mine) const {
  ByteWriter w;
  write_state(w, mine);
  std::vector<Bytes> all = gatherv(comm_, 0, w.bytes());
  if (me_ != 0) return mine;
  ckpt::OptimizerState full;
  full.kind = mine.kind;
  full.hyper_json = mine.hyper_json;
  for (const auto& b : all) {
    ByteReader r(b);
    read_state(r, full);
  }
  return full;
}

ckpt::OptimizerState Zero1::own_part(const ckpt::OptimizerState& full, const NamedParams& named) const {
  ckpt::OptimizerState part;
  part.kind = full.kind;
  part.hyper_json = full.hyper_json;
  for (size_t k = 0; k < named.size(); ++k) {
    if (!named[k].second.is_same(params_[k]))
      throw Error("ZeRO-1: named parameters are not in the optimizer's order", "pipeline");
    auto it = full.params.find(named[k].first);
    if (owns(k) && it != full.params.end()) part.params.insert(*it);
  }
  return part;
}

}  // namespace sdz::pipeline
