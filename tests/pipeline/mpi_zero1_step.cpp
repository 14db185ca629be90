// sdz-mpi-ranks: 2
// The ZeRO-1 learner step equals the unsharded one bit for bit on 2 learners: same gradients per
// rank, (a) allreduce + clip_grad_norm_ + AdamW over every tensor, (b) Zero1 reduce-scatter + clip +
// AdamW over the owned tensors + all-gather. Several steps, with clipping active and not; and the
// sharded optimizer state gathered for a checkpoint equals the unsharded state.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "sdzero/algo/optim.hpp"
#include "sdzero/ckpt/torch_state.hpp"
#include "sdzero/dist/tensor_sync.hpp"
#include "sdzero/pipeline/zero1.hpp"

namespace {
int me() {
  int r = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &r);
  return r;
}
std::vector<std::pair<std::string, torch::Tensor>> make_params() {
  torch::manual_seed(7);  // the same initial weights on both ranks
  std::vector<std::pair<std::string, torch::Tensor>> p;
  std::vector<std::vector<int64_t>> shapes = {{64, 16}, {16}, {16, 48}, {48}, {33, 7}, {5}};
  for (size_t k = 0; k < shapes.size(); ++k)
    p.push_back({"p" + std::to_string(k), torch::randn(shapes[k]).requires_grad_(true)});
  return p;
}
std::vector<torch::Tensor> tensors(const std::vector<std::pair<std::string, torch::Tensor>>& named) {
  std::vector<torch::Tensor> v;
  for (auto& [n, t] : named) v.push_back(t);
  return v;
}
// Rank- and step-dependent gradients of a loss, through autograd as the trainer's are.
void backward(const std::vector<torch::Tensor>& ps, int step, double scale) {
  torch::manual_seed(uint64_t(1000 * step + me()));
  torch::Tensor loss = torch::zeros({});
  for (auto& p : ps) loss = loss + (p * torch::randn(p.sizes())).sum() * scale + p.pow(2).sum() * 0.01;
  loss.backward();
}
}  // namespace

class Zero1Step : public ::testing::TestWithParam<double> {};

TEST_P(Zero1Step, EqualsUnshardedBitForBit) {
  const double clip = GetParam();
  sdz::algo::OptimOptions o;
  o.lr = 1e-2, o.warmup_steps = 2, o.weight_decay = 0.1, o.grad_clip = clip;
  auto named_a = make_params(), named_b = make_params();
  auto pa = tensors(named_a), pb = tensors(named_b);
  sdz::algo::Optimizer full(pa, o);
  sdz::algo::OptimOptions ob = o;
  ob.grad_clip = 0;
  sdz::algo::Optimizer sharded(pb, ob);
  sdz::pipeline::Zero1 z(MPI_COMM_WORLD, pb, clip);
  EXPECT_GT(z.owned_elements(), 0);
  for (int step = 0; step < 5; ++step) {
    full.zero_grad();
    backward(pa, step, 3.0);
    std::vector<torch::Tensor> grads;
    for (auto& p : pa) grads.push_back(p.grad());
    sdz::allreduce_tensors(MPI_COMM_WORLD, grads, 1 << 12, false);
    double norm_a = full.step(step).grad_norm;

    sharded.zero_grad();
    backward(pb, step, 3.0);
    z.reduce_and_clip();
    sharded.step(step);
    z.gather_params();
    EXPECT_EQ(norm_a, z.grad_norm()) << "step " << step;
    for (size_t k = 0; k < pa.size(); ++k)
      ASSERT_TRUE(torch::equal(pa[k], pb[k])) << "tensor " << k << " after step " << step << ", clip " << clip;
    EXPECT_TRUE(sdz::tensors_identical(MPI_COMM_WORLD, pb));
  }
  // Only the owned tensors have AdamW state; gathered on rank 0 it is the unsharded state.
  auto mine = sdz::ckpt::capture_adamw(sharded.adamw(), named_b);
  size_t owned = 0;
  for (size_t k = 0; k < pb.size(); ++k) owned += z.owns(k) ? 1 : 0;
  EXPECT_EQ(mine.params.size(), owned);
  auto gathered = z.gather_state(mine);
  auto ref = sdz::ckpt::capture_adamw(full.adamw(), named_a);
  if (me() == 0) {
    ASSERT_EQ(gathered.params.size(), ref.params.size());
    for (auto& [name, ps] : ref.params) {
      ASSERT_TRUE(gathered.params.count(name)) << name;
      EXPECT_EQ(gathered.params[name].step, ps.step);
      for (auto& [slot, t] : ps.slots) EXPECT_TRUE(torch::equal(gathered.params[name].slots[slot], t)) << name << slot;
    }
  }
  // own_part of the full state is exactly what this learner held.
  auto part = z.own_part(ref, named_b);
  EXPECT_EQ(part.params.size(), owned);
  for (auto& [name, ps] : part.params) EXPECT_TRUE(mine.params.count(name)) << name;
}

// 0.5: every step clips; 1e9: never clips; 0: no clipping at all.
INSTANTIATE_TEST_SUITE_P(Clip, Zero1Step, ::testing::Values(0.5, 1e9, 0.0));
