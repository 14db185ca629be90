// Row-chunked losses: values and parameter gradients equal the unchunked computation for every
// method's loss, and chunked teacher scoring equals the one-shot scoring. Micro-batched losses
// (RowBatch) equal the one-sequence-at-a-time ones, and micro-batches respect their caps.
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

// A sampled batch kept and scored as `m` would train on it (SRT traces too when `srt`).
Batch scored_batch(Scorer& student, Scorer& teacher, const Method& m, bool srt) {
  Batch b = sampled_batch(student, m, 3);
  if (srt)
    for (auto& t : b.trajectories)
      b.srt.push_back({t.question_id, t.prompt_ids, t.response_ids, {kW}, {1, 2, 3, 4, kE}, 0.f});
  b.trajectories = m.keep(b.trajectories, nullptr);
  b.signals = score_batch(m, teacher, b);
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
  const Batch b = scored_batch(student, teacher, *mw, srt);
  ASSERT_FALSE(b.trajectories.empty() && !srt);
  student.head_calls = 0;
  const LossAndGrads w = loss_and_grads(*mw, student, b);
  EXPECT_EQ(student.head_calls, 0);
  const LossAndGrads c = loss_and_grads(*mc, student, b);
  EXPECT_GT(student.head_calls, 0) << method << ": the chunked path was not taken";
  expect_same(w, c, method);
}

// Runs `method` with micro-batches (method.micro_batch_tokens = 8192) and one sequence at a time (1),
// on a model that answers several sequences per call: the same loss and gradients, fewer forwards;
// also with the backward applied per micro-batch (StepBackward, as train_step runs it).
void check_micro_batched(const std::string& method, const std::vector<std::string>& extra, bool srt = false) {
  BatchScorer student(31);
  HeadScorer teacher(32);
  std::vector<std::string> batched = extra, single = extra;
  batched.push_back("--method.micro_batch_tokens=8192");
  single.push_back("--method.micro_batch_tokens=1");
  auto mb = make_method(config_for(method, batched), toy_context());
  auto ms = make_method(config_for(method, single), toy_context());
  const Batch b = scored_batch(student, teacher, *ms, srt);
  ASSERT_FALSE(b.trajectories.empty() && !srt);
  student.heads_calls = 0;
  const LossAndGrads one = loss_and_grads(*ms, student, b);
  EXPECT_EQ(student.heads_calls, 0) << method;
  const LossAndGrads packed = loss_and_grads(*mb, student, b);
  EXPECT_EQ(student.heads_calls, 1) << method << ": every sequence fits one micro-batch";
  expect_same(one, packed, method + " micro-batched");
  // Applied per micro-batch inside the step's scope: the same gradients.
  for (auto& p : student.parameters()) p.mutable_grad() = torch::zeros_like(p);
  LossOutput now;
  {
    StepBackward scope;
    now = mb->loss(student, b, mb->count_tokens(b), 0);
  }
  EXPECT_FALSE(now.backward.requires_grad()) << method << ": already applied";
  EXPECT_NEAR(now.loss.item<double>(), one.loss, 1e-5 * std::max(1.0, std::abs(one.loss))) << method;
  auto ps = student.parameters();
  for (size_t k = 0; k < ps.size(); ++k)
    EXPECT_LT((ps[k].grad() - one.grads[k]).abs().max().item<double>(), 1e-5) << method << " tensor " << k;
}

}  // namespace

TEST(MicroBatches, SdZero) { check_micro_batched("sdzero", {"--distill.kl=mixed"}); }
TEST(MicroBatches, SdZeroFullVocabulary) { check_micro_batched("sdzero", {"--distill.mode=full", "--distill.kl=forward"}); }
TEST(MicroBatches, Sdft) { check_micro_batched("sdft", {"--distill.kl=reverse"}); }
TEST(MicroBatches, Sft) { check_micro_batched("sft", {}); }
TEST(MicroBatches, Rft) { check_micro_batched("rft", {}); }
TEST(MicroBatches, GrpoWithReference) {
  check_micro_batched("grpo", {"--grpo.kl_coef=0.1", "--method.samples_per_question=4"});
}
TEST(MicroBatches, SrtJoint) { check_micro_batched("srt", {"--srt.objective=joint"}, true); }

// Packing: a micro-batch holds at most batch_tokens padded tokens (count x longest) and chunk_rows
// scored rows; a sequence longer than a chunk, or than batch_tokens, runs alone; the summed value
// is the sum of the sequences' losses whatever the packing.
TEST(MicroBatches, RespectTheTokenAndRowCaps) {
  BatchScorer s(5);
  auto f = [](const torch::Tensor& z, int64_t, int64_t) { return z.sum(); };
  auto seq = [](int64_t len) {
    Ids ids;
    for (int64_t i = 0; i < len; ++i) ids.push_back(int32_t(i % 10));
    return ids;
  };
  auto run = [&](int64_t chunk_rows, int64_t batch_tokens, const std::vector<std::pair<int64_t, int64_t>>& lens_rows) {
    torch::NoGradGuard ng;
    GradAccumulator g(1.0);
    RowBatch rb(s, g, chunk_rows, batch_tokens);
    s.heads_calls = 0;
    for (auto [len, n] : lens_rows) rb.add(seq(len), len - n, n, f);
    const double v = rb.finish().item<double>();
    return std::make_tuple(rb.forwards(), s.heads_calls, v);
  };
  double ref = 0;
  {
    torch::NoGradGuard ng;
    for (int64_t len : {5, 5, 5, 5, 5}) ref += s.logits(seq(len), 2, 3).sum().item<double>();
  }
  const std::vector<std::pair<int64_t, int64_t>> five = {{5, 3}, {5, 3}, {5, 3}, {5, 3}, {5, 3}};
  auto [f1, h1, v1] = run(0, 20, five);  // 4 x 5 = 20 tokens, then 1
  EXPECT_EQ(f1, 2);
  EXPECT_EQ(h1, 1);  // a lone sequence takes the per-sequence path
  EXPECT_NEAR(v1, ref, 1e-4);
  auto [f2, h2, v2] = run(6, 1000, five);  // 2 x 3 rows per chunk of 6: 2 + 2 + 1
  EXPECT_EQ(f2, 3);
  EXPECT_EQ(h2, 2);
  EXPECT_NEAR(v2, ref, 1e-4);
  auto [f3, h3, v3] = run(0, 1, five);  // <= 1: one sequence at a time
  EXPECT_EQ(f3, 5);
  EXPECT_EQ(h3, 0);
  EXPECT_NEAR(v3, ref, 1e-4);
  // A sequence with more scored rows than a chunk runs alone, chunked; the others still pack.
  auto [f4, h4, v4] = run(2, 1000, {{5, 1}, {5, 4}, {5, 1}});
  EXPECT_EQ(f4, 2);
  EXPECT_EQ(h4, 1);
}

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

// Many layouts at once (score_teachers): shared forwards give each layout the signal of its own
// scoring, in both modes, with empty and over-long (chunked, alone) layouts among them.
TEST(MicroBatches, TeacherScoringEqualsOneLayoutAtATime) {
  BatchScorer teacher(41);
  std::vector<ScoredLayout> ls = {revision_layout(prompt_of(2), {1, 2, 3, 4, 5, 6, kE}, {kW}, {kE}, 0),
                                  revision_layout(prompt_of(3), {7, kE}, {kR}, {kE}, 0),
                                  revision_layout(prompt_of(4), {}, {kW}, {kE}, 0),
                                  revision_layout(prompt_of(5), {9, 9, 1, kE}, {kW}, {kE}, 0)};
  for (TeacherMode mode : {TeacherMode::TopK, TeacherMode::Full}) {
    TeacherScoring opt;
    opt.mode = mode;
    opt.top_k = 5;
    opt.chunk_rows = 6;  // the first layout (7 scored rows) is chunked, alone
    teacher.heads_calls = 0;
    std::vector<TeacherSignal> all = score_teachers(teacher, ls, opt);
    EXPECT_EQ(teacher.heads_calls, 1) << "layouts 2 and 4 share a forward";
    ASSERT_EQ(all.size(), ls.size());
    for (size_t i = 0; i < ls.size(); ++i) {
      TeacherSignal one = score_teacher(teacher, ls[i], opt);
      EXPECT_EQ(all[i].n_scored(), ls[i].n_scored()) << i;
      if (ls[i].n_scored() == 0) continue;
      if (mode == TeacherMode::TopK) {
        EXPECT_TRUE(torch::equal(all[i].topk_ids, one.topk_ids)) << i;
        EXPECT_LT((all[i].topk_logits - one.topk_logits).abs().max().item<double>(), 1e-5) << i;
      } else {
        EXPECT_LT((all[i].full_logprobs - one.full_logprobs).abs().max().item<double>(), 1e-5) << i;
      }
      EXPECT_LT((all[i].token_logprobs - one.token_logprobs).abs().max().item<double>(), 1e-5) << i;
    }
  }
}

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
