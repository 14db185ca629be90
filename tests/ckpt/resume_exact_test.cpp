// Exact resume on a real (small) training loop: torch AdamW, a torch generator feeding noise, an
// sdz::Rng shuffling the data per epoch, a data cursor and a budget counter. Running 2N steps
// equals running N, checkpointing, rebuilding everything from scratch in a new object, loading
// and running N more, bit for bit.
#include <gtest/gtest.h>

#include <cstring>

#include "fixtures.hpp"
#include "sdzero/ckpt/run_dir.hpp"
#include "sdzero/ckpt/torch_state.hpp"
#include "sdzero/core/error.hpp"
#include "sdzero/core/rng.hpp"

using namespace sdz::ckpt;

namespace {

struct Trainer {
  torch::nn::Sequential net;
  std::unique_ptr<torch::optim::AdamW> opt;
  at::Generator gen;
  torch::Tensor xs, ys;  // the dataset: 40 examples
  std::vector<int64_t> order;
  DataCursor cursor;
  int64_t step = 0, generations = 0;
  uint64_t seed;

  Trainer(uint64_t init_seed, uint64_t run_seed) : gen(at::detail::createCPUGenerator(init_seed)), seed(run_seed) {
    torch::manual_seed(init_seed);  // a resumed trainer starts from different weights on purpose
    net = torch::nn::Sequential(torch::nn::Linear(6, 16), torch::nn::Functional(torch::tanh), torch::nn::Linear(16, 1));
    opt = std::make_unique<torch::optim::AdamW>(net->parameters(),
                                                torch::optim::AdamWOptions(1e-2).betas({0.9, 0.95}).weight_decay(0.01));
    auto g = at::detail::createCPUGenerator(run_seed);
    xs = torch::randn({40, 6}, g);
    ys = xs.sum(1, true).sin();
    shuffle();
  }
  void shuffle() {
    order.resize(40);
    for (int64_t i = 0; i < 40; ++i) order[size_t(i)] = i;
    sdz::Rng r(sdz::key_seed({seed, uint64_t(cursor.epoch)}));
    r.shuffle(order);
  }
  NamedParams named() {
    NamedParams out;
    for (const auto& p : net->named_parameters()) out.emplace_back(p.key(), p.value());
    return out;
  }
  void train_step() {
    std::vector<int64_t> batch;
    for (int i = 0; i < 6; ++i) {
      if (cursor.position == 40) ++cursor.epoch, cursor.position = 0, shuffle();
      batch.push_back(order[size_t(cursor.position++)]);
      ++cursor.consumed;
    }
    auto idx = torch::tensor(batch, torch::kLong);
    auto x = xs.index_select(0, idx) + 0.1 * torch::randn({6, 6}, gen);
    auto loss = (net->forward(x) - ys.index_select(0, idx)).pow(2).mean();
    opt->zero_grad();
    loss.backward();
    torch::nn::utils::clip_grad_norm_(net->parameters(), 1.0);
    opt->step();
    ++step, generations += 6;
  }
  TrainingState capture() {
    TrainingState s;
    s.step = step;
    s.policy_version = step;
    s.phase = kPhaseSrtTrain;
    for (const auto& [name, p] : named()) s.model[name] = p.detach().clone();
    s.optimizer = capture_adamw(*opt, named());
    s.torch_rngs["cpu"] = capture_generator(gen);
    s.data["train"] = cursor;
    s.budget["generations"] = generations;
    return s;
  }
  void restore(const TrainingState& s) {
    copy_into(named(), s.model, "test");
    restore_adamw(*opt, named(), s.optimizer);
    restore_generator(gen, s.torch_rngs.at("cpu"));
    step = s.step;
    cursor = s.data.at("train");
    generations = s.budget.at("generations");
    shuffle();
  }
};

void expect_same_bits(const torch::Tensor& a, const torch::Tensor& b, const std::string& what) {
  ASSERT_EQ(a.sizes(), b.sizes()) << what;
  auto x = a.contiguous(), y = b.contiguous();
  EXPECT_EQ(std::memcmp(x.data_ptr(), y.data_ptr(), x.nbytes()), 0) << what;
}

}  // namespace

TEST(ExactResume, TwoNStepsEqualNStepsCheckpointLoadNSteps) {
  const int n = 9;  // crosses an epoch boundary after resume (6 * 9 = 54 > 40)
  Trainer straight(1, 77);
  for (int i = 0; i < 2 * n; ++i) straight.train_step();

  std::string run = ckpt_test::temp_dir("exact");
  {
    Trainer first(1, 77);
    for (int i = 0; i < n; ++i) first.train_step();
    save_checkpoint(run, first.capture());
  }
  Trainer second(999, 77);
  auto rp = resolve_resume("auto", run);
  ASSERT_TRUE(rp.has_value());
  second.restore(rp->state);
  for (int i = 0; i < n; ++i) second.train_step();
  ckpt_test::remove_tree(run);

  EXPECT_EQ(second.step, straight.step);
  EXPECT_EQ(second.cursor.consumed, straight.cursor.consumed);
  EXPECT_EQ(second.cursor.epoch, straight.cursor.epoch);
  EXPECT_EQ(second.generations, straight.generations);
  auto a = straight.named(), b = second.named();
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) expect_same_bits(a[i].second, b[i].second, a[i].first);
  OptimizerState oa = capture_adamw(*straight.opt, a), ob = capture_adamw(*second.opt, b);
  for (const auto& [name, ps] : oa.params) {
    EXPECT_EQ(ps.step, ob.params.at(name).step);
    expect_same_bits(ps.slots.at("exp_avg_sq"), ob.params.at(name).slots.at("exp_avg_sq"), name);
  }
}

TEST(ExactResume, RestoreRejectsStateForAnotherModel) {
  Trainer t(1, 5);
  t.train_step();
  TrainingState s = t.capture();
  OptimizerState renamed = s.optimizer;
  renamed.params["not.a.param"] = renamed.params.begin()->second;
  EXPECT_THROW(restore_adamw(*t.opt, t.named(), renamed), sdz::Error);
  std::map<std::string, torch::Tensor> wrong = s.model;
  wrong.begin()->second = torch::zeros({1});
  EXPECT_THROW(copy_into(t.named(), wrong, "test"), sdz::Error);
}
