// The evaluation protocols over MPI: the same numbers on 3 ranks as on one (questions shared out by
// position, keyed sampling), consistent counts, and the localization gap against a slow reference
// (full logits of the student and teacher sequences). A random tiny char model answers; the reward is
// an external program (reward.command) that passes a response whose length is a multiple of 3, so
// roughly a third of the responses are "correct" and every count is exercised.
#include <gtest/gtest.h>
#include <mpi.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>

#include "sdzero/algo/layout.hpp"
#include "sdzero/model/config.hpp"
#include "sdzero/pipeline/eval_localization.hpp"
#include "sdzero/pipeline/eval_protocol.hpp"
#include "sdzero/pipeline/rollout.hpp"
#include "sdzero/tasks/builtin.hpp"
#include "sdzero/tasks/dataset.hpp"
#include "sdzero/text/char_tokenizer.hpp"
#include "tiny_model.hpp"

using namespace sdz;
using namespace sdz::pipeline;

namespace {

Components tiny_components() {
  Components c;
  c.tokenizer = std::make_unique<text::CharTokenizer>(text::CharTokenizer::toy());
  model::ModelConfig mc = sdz::test::tiny_model_config(c.tokenizer->vocab_size(), 256);
  c.policy = std::make_unique<model::Transformer>(mc);
  c.policy->init_random(11, 0.5);  // a large init: peaked, varied distributions
  c.prompts = text::PromptConfig::toy();
  c.method_context.cue_correct_ids = c.tokenizer->encode(text::cue_text(c.prompts, true));
  c.method_context.cue_wrong_ids = c.tokenizer->encode(text::cue_text(c.prompts, false));
  c.method_context.stop_ids = stop_ids(*c.tokenizer, c.prompts);
  tasks::VerifierOptions vo;
  vo.command =
      "/usr/bin/python3 -u -c 'import sys, json\n"
      "for line in sys.stdin:\n"
      "    print(json.dumps({\"reward\": float(len(json.loads(line)[\"response\"]) % 3 == 0)}), flush=True)'";
  vo.workers = 1;
  c.verifier = std::make_unique<tasks::Verifier>(vo);
  return c;
}

std::vector<tasks::Question> mul_questions(size_t n) {
  auto task = tasks::make_builtin_task("mul");
  return tasks::builtin_split(*task, tasks::SplitSpec{5}, tasks::Split::Eval, n);
}

nlohmann::json without_time(nlohmann::json j) {
  j.erase("seconds");
  return j;
}

// Counts are sums of doubles in rank order: equal up to rounding in the last bits.
void expect_same(const nlohmann::json& a, const nlohmann::json& b, const std::string& where = "") {
  ASSERT_EQ(a.type(), b.type()) << where;
  if (a.is_object()) {
    ASSERT_EQ(a.size(), b.size()) << where;
    for (auto it = a.begin(); it != a.end(); ++it) {
      ASSERT_TRUE(b.contains(it.key())) << where << "." << it.key();
      expect_same(it.value(), b[it.key()], where + "." + it.key());
    }
  } else if (a.is_number_float()) {
    EXPECT_NEAR(a.get<double>(), b.get<double>(), 1e-12 * std::max(1.0, std::abs(a.get<double>()))) << where;
  } else {
    EXPECT_EQ(a, b) << where;
  }
}

}  // namespace

TEST(EvalProtocol, SameNumbersOnEveryRankCountAsOnOne) {
  Components c = tiny_components();
  auto qs = mul_questions(10);
  EvalProtocol p;
  p.k = 4;
  p.max_new_tokens = 12;
  p.slots = 8;
  p.revise = true;
  EvalReport all = evaluate_policy(c, *c.policy, qs, p, MPI_COMM_WORLD);
  EvalReport one = evaluate_policy(c, *c.policy, qs, p, MPI_COMM_SELF);
  expect_same(without_time(all.to_json()), without_time(one.to_json()));

  const auto& s = all.sampling;
  EXPECT_EQ(s.questions, 10);
  EXPECT_EQ(s.samples, 40);
  EXPECT_GT(s.avg_at_k, 0.0);  // the length rule passes some responses...
  EXPECT_LT(s.avg_at_k, 1.0);  // ...and fails others
  EXPECT_LE(s.avg_at_k, s.pass_at_k);
  EXPECT_EQ(s.greedy_questions, 10);
  EXPECT_GT(s.mean_length, 0.0);
  EXPECT_LE(s.mean_length, 12.0);
  ASSERT_TRUE(all.revised);
  EXPECT_EQ(all.oracle.attempts, 10);
  EXPECT_EQ(all.rephrase.attempts, 10);
  // Both rows revise the same first attempts, and agree wherever the first attempt was right.
  EXPECT_EQ(all.oracle.first_accuracy, all.rephrase.first_accuracy);
  EXPECT_EQ(all.oracle.broken, all.rephrase.broken);
  EXPECT_EQ(all.hindsight.questions, all.oracle.wrong_first);
  EXPECT_EQ(all.hindsight.revisions, 3 * all.hindsight.questions);  // m = k - 1
  EXPECT_EQ(all.hindsight.fresh_samples, 3 * all.hindsight.questions);
  EXPECT_GT(all.hindsight.questions, 0);
  // The first attempt is sample 0 of the k samples: an evaluation without revision sees the same
  // samples (same avg@k, pass@k).
  EvalProtocol plain = p;
  plain.revise = false;
  EvalReport no_rev = evaluate_policy(c, *c.policy, qs, plain, MPI_COMM_WORLD);
  expect_same(no_rev.sampling.to_json(), s.to_json());
  EXPECT_FALSE(no_rev.to_json().contains("hindsight"));
  // evaluate_revision: no greedy responses, the same revision numbers.
  EvalReport rev = evaluate_revision(c, *c.policy, qs, p, MPI_COMM_WORLD);
  EXPECT_EQ(rev.sampling.greedy_questions, 0);
  expect_same(rev.oracle.to_json(), all.oracle.to_json());
  expect_same(rev.hindsight.to_json(), all.hindsight.to_json());
}

TEST(EvalLocalization, SameOnEveryRankCountAndEqualToTheSlowReference) {
  Components c = tiny_components();
  auto qs = mul_questions(7);
  LocalizationOptions lo;
  lo.samples = 2;
  lo.max_new_tokens = 16;
  lo.slots = 8;
  model::Transformer teacher(c.policy->config());
  teacher.init_random(12, 0.5);
  LocalizationResult all = evaluate_localization(c, *c.policy, teacher, qs, lo, MPI_COMM_WORLD);
  LocalizationResult one = evaluate_localization(c, *c.policy, teacher, qs, lo, MPI_COMM_SELF);
  expect_same(all.metrics.to_json(), one.metrics.to_json());
  EXPECT_EQ(all.metrics.wrong + all.metrics.correct, 14);
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  if (rank != 0) {
    EXPECT_TRUE(all.responses.empty());
    return;
  }
  ASSERT_EQ(all.responses.size(), 14u);
  for (size_t i = 0; i < all.responses.size(); ++i) {
    EXPECT_EQ(all.responses[i].to_json().dump(), one.responses[i].to_json().dump());
    EXPECT_EQ(all.responses[i].question, int64_t(i / 2));
    EXPECT_EQ(all.responses[i].sample, int64_t(i % 2));
    EXPECT_EQ(all.responses[i].tokens.size(), all.responses[i].scores.size());
  }

  // Slow reference for one response: full logits of both sequences, log-softmax, pick the token.
  const algo::Ids prompt = c.prompt_ids(qs[0]);
  algo::Ids y;
  for (const auto& t : all.responses[0].tokens) y.push_back(*c.tokenizer->token_to_id(t));
  const bool correct = all.responses[0].correct;
  const algo::Ids& cue = c.method_context.cue_ids(correct ? 1.f : 0.f);
  std::vector<double> gaps =
      localization_gaps(*c.policy, teacher, prompt, y, cue, c.method_context.stop_ids, 0);
  EXPECT_EQ(gaps, all.responses[0].scores);
  const algo::Ids body = algo::strip_stop(y, c.method_context.stop_ids);
  algo::Ids s_ids = prompt, t_ids = prompt;
  s_ids.insert(s_ids.end(), y.begin(), y.end());
  t_ids.insert(t_ids.end(), body.begin(), body.end());
  t_ids.insert(t_ids.end(), cue.begin(), cue.end());
  const int64_t t_row = int64_t(t_ids.size()) - 1;
  t_ids.insert(t_ids.end(), y.begin(), y.end());
  auto as_tensor = [](const algo::Ids& ids) {
    return torch::tensor(std::vector<int64_t>(ids.begin(), ids.end()), torch::kLong).unsqueeze(0);
  };
  torch::NoGradGuard ng;
  auto ls = torch::log_softmax(c.policy->logits(as_tensor(s_ids))[0].to(torch::kDouble), -1);
  auto lt = torch::log_softmax(teacher.logits(as_tensor(t_ids))[0].to(torch::kDouble), -1);
  ASSERT_EQ(gaps.size(), y.size());
  for (size_t t = 0; t < y.size(); ++t) {
    const double ref = ls[int64_t(prompt.size()) - 1 + int64_t(t)][y[t]].item<double>() -
                       lt[t_row + int64_t(t)][y[t]].item<double>();
    EXPECT_NEAR(gaps[t], ref, 1e-4) << "token " << t;
  }
}

TEST(EvalLocalization, TokenOffsetsAndCharacterPositions) {
  text::CharTokenizer tok = text::CharTokenizer::toy();
  const algo::Ids ids = tok.encode("12<r>3<e>");
  auto off = token_offsets(tok, ids);
  EXPECT_EQ(off, (std::vector<int64_t>{0, 1, 2, 5, 6, 9}));
  EXPECT_EQ(token_at_char(off, 0), 0);
  EXPECT_EQ(token_at_char(off, 3), 2);  // inside <r>
  EXPECT_EQ(token_at_char(off, 5), 3);
  EXPECT_EQ(token_at_char(off, 6), 4);  // where the text without its stop token ends: the stop token
  EXPECT_EQ(token_at_char(off, 9), 5);  // past every token
}
