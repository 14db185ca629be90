// Row-chunked losses: values and parameter gradients equal the unchunked computation for every
// method's loss, and chunked teacher scoring equals the one-shot scoring.
#include <gtest/gtest.h>

#include "sdzero/algo/chunked.hpp"
#include "sdzero/algo/losses.hpp"
#include "sdzero/algo/methods.hpp"
#include "sdzero/algo/train.hpp"
#include "toy_lm.hpp"

using namespace toy;

namespace {

struct LossAndGrads {
  double loss = 0;
  std::vector<torch::Tensor> grads;
};

LossAndGrads loss_and_grads(Method& m, Scorer& s, const Batch& b) {
  for (auto& p : s.parameters()) p.mutable_grad() = torch::zeros_like(p);
  LossOutput out = m.loss(s, b, m.count_tokens(b), 0);
  out.backward.backward();
  LossAndGrads r;
  r.loss = out.loss.item<double>();
  for (auto& p : s.parameters()) r.grads.push_back(p.grad().clone());
  return r;
}

void expect_same(const LossAndGrads& a, const LossAndGrads& b, const std::string& what) {
  EXPECT_NEAR(a.loss, b.loss, 1e-5 * std::max(1.0, std::abs(a.loss))) << what;
  ASSERT_EQ(a.grads.size(), b.grads.size());
  double largest = 0;
  for (size_t i = 0; i < a.grads.size(); ++i) {
    EXPECT_LT((a.grads[i] - b.grads[i]).abs().max().item<double>(), 1e-5) << what << " tensor " << i;
    largest = std::max(largest, a.grads[i].abs().max().item<double>());
  }
  EXPECT_GT(largest, 1e-4) << what << ": gradients must not be trivially zero";
}

Batch sampled_batch(Scorer& s, const Method& m, int64_t n_questions) {
  Batch b;
  SamplingParams sp = m.sampling();
  sp.max_new_tokens = 7;
  for (int64_t q = 0; q < n_questions; ++q)
    for (int64_t k = 0; k < sp.samples_per_question; ++k) {
      Trajectory t = sample(s, prompt_of(q), q, k, sp, 77);
      t.reward = float((q + k) % 2);  // mixed rewards: both cues, non-uniform GRPO groups
      t.teacher_prompt_ids = {kQ, int32_t(q), kR, int32_t((q + 3) % 10), kE, kA};
      b.trajectories.push_back(t);
    }
  return b;
}

// Runs `method` with chunk_rows = 2 (chunked: responses are up to 7 tokens) and 0 (one shot).
void check_method(const std::string& method, const std::vector<std::string>& extra, bool srt = false) {
  HeadScorer student(31), teacher(32);
  std::vector<std::string> chunked = extra, whole = extra;
  chunked.push_back("--method.chunk_rows=2");
  whole.push_back("--method.chunk_rows=0");
  auto mc = make_method(config_for(method, chunked), toy_context());
  auto mw = make_method(config_for(method, whole), toy_context());
  Batch b = sampled_batch(student, *mw, 3);
  if (srt)
    for (auto& t : b.trajectories)
      b.srt.push_back({t.question_id, t.prompt_ids, t.response_ids, {kW}, {1, 2, 3, 4, kE}, 0.f});
  b.trajectories = mw->keep(b.trajectories, nullptr);
  b.signals = score_batch(*mw, teacher, b);
  ASSERT_FALSE(b.trajectories.empty() && !srt);
  student.head_calls = 0;
  const LossAndGrads w = loss_and_grads(*mw, student, b);
  EXPECT_EQ(student.head_calls, 0);
  const LossAndGrads c = loss_and_grads(*mc, student, b);
  EXPECT_GT(student.head_calls, 0) << method << ": the chunked path was not taken";
  expect_same(w, c, method);
}

}  // namespace

TEST(ChunkedHeadLoss, MatchesTheOneShotLossAndGradients) {
  torch::manual_seed(3);
  auto h_param = torch::randn({9, 5}).requires_grad_(true);
  auto w = torch::randn({11, 5}).requires_grad_(true);
  auto targets = torch::randint(0, 11, {9}, torch::kLong);
  auto f = [&](const torch::Tensor& z, int64_t b, int64_t e) { return token_nll(z, targets.slice(0, b, e)).sum(); };
  auto h = h_param * 2.0;  // a graph between the parameter and the hidden states
  auto one = f(h.matmul(w.t()), 0, 9);
  one.backward();
  auto gh = h_param.grad().clone(), gw = w.grad().clone();
  h_param.grad().zero_();
  w.grad().zero_();
  for (int64_t chunk : {1, 4, 9, 100}) {
    RowLoss r = chunked_head_loss(HeadView{h_param * 2.0, w}, f, chunk);
    EXPECT_NEAR(r.value.item<double>(), one.item<double>(), 1e-5) << chunk;
    r.backward.backward();
    EXPECT_LT((h_param.grad() - gh).abs().max().item<double>(), 1e-5) << chunk;
    EXPECT_LT((w.grad() - gw).abs().max().item<double>(), 1e-5) << chunk;
    h_param.grad().zero_();
    w.grad().zero_();
  }
  torch::NoGradGuard ng;  // evaluation: a value, no gradient work
  RowLoss r = chunked_head_loss(HeadView{h_param * 2.0, w}, f, 4);
  EXPECT_NEAR(r.value.item<double>(), one.item<double>(), 1e-5);
  EXPECT_FALSE(r.backward.requires_grad());
}

TEST(ChunkedMethods, SdZeroTopk) { check_method("sdzero", {"--distill.kl=mixed"}); }
TEST(ChunkedMethods, SdZeroFullVocabulary) { check_method("sdzero", {"--distill.mode=full", "--distill.kl=forward"}); }
TEST(ChunkedMethods, Sdft) { check_method("sdft", {"--distill.kl=reverse"}); }
TEST(ChunkedMethods, Sft) { check_method("sft", {}); }
TEST(ChunkedMethods, GrpoWithReference) { check_method("grpo", {"--grpo.kl_coef=0.1", "--method.samples_per_question=4"}); }
TEST(ChunkedMethods, SrtJoint) { check_method("srt", {"--srt.objective=joint"}, true); }

TEST(ChunkedTeacher, ScoringEqualsOneShot) {
  HeadScorer teacher(40);
  ScoredLayout l = revision_layout(prompt_of(2), {1, 2, 3, 4, 5, 6, kE}, {kW}, {kE}, 0);
  for (TeacherMode mode : {TeacherMode::TopK, TeacherMode::Full}) {
    TeacherScoring a;
    a.mode = mode;
    a.top_k = 5;
    a.chunk_rows = 0;
    TeacherScoring c = a;
    c.chunk_rows = 3;
    teacher.head_calls = 0;
    TeacherSignal sa = score_teacher(teacher, l, a);
    EXPECT_EQ(teacher.head_calls, 0);
    TeacherSignal sc = score_teacher(teacher, l, c);
    EXPECT_EQ(teacher.head_calls, 1);
    EXPECT_EQ(sc.n_scored(), 7);
    if (mode == TeacherMode::TopK) {
      EXPECT_TRUE(torch::equal(sa.topk_ids, sc.topk_ids));
      EXPECT_LT((sa.topk_logits - sc.topk_logits).abs().max().item<double>(), 1e-5);
    } else {
      EXPECT_LT((sa.full_logprobs - sc.full_logprobs).abs().max().item<double>(), 1e-5);
    }
    EXPECT_LT((sa.token_logprobs - sc.token_logprobs).abs().max().item<double>(), 1e-5);
  }
}
