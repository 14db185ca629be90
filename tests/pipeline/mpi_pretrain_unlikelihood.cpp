// sdz-mpi-ranks: 2
// The self chains' unlikelihood in training (pipeline::train_documents on 2 ranks, each taking half of
// every batch): the probability of the token a wrong answer went wrong at, after "wrong", falls far
// below where NLL on the worked solution alone leaves it (on a position that NLL never trains: the
// claim 7+3=21 leaves at '+', its worked solution 3*7=21 starts elsewhere, and three other worked
// solutions write '+' after a leading 7); the worked solution is still learnt;
// both ranks end with the same weights.
#include <gtest/gtest.h>
#include <mpi.h>
#include <torch/torch.h>

#include <array>
#include <cstdio>

#include "sdzero/algo/optim.hpp"
#include "sdzero/pipeline/pretrain.hpp"
#include "sdzero/tasks/builtin.hpp"
#include "sdzero/text/char_tokenizer.hpp"
#include "tiny_model.hpp"

using namespace sdz;
using namespace sdz::pipeline;

namespace {

Components cd_components() {
  Components c;
  c.tokenizer = std::make_unique<text::CharTokenizer>(text::CharTokenizer::toy());
  c.policy = std::make_unique<model::Transformer>(sdz::test::tiny_model_config(c.tokenizer->vocab_size(), 128));
  c.policy->init_random(5, 0.02);  // the same weights on both ranks
  c.prompts = text::PromptConfig::toy();
  c.method_context.cue_correct_ids = c.tokenizer->encode(text::cue_text(c.prompts, true));
  c.method_context.cue_wrong_ids = c.tokenizer->encode(text::cue_text(c.prompts, false));
  c.method_context.stop_ids = stop_ids(*c.tokenizer, c.prompts);
  return c;
}

double prob(const model::Transformer& m, const algo::Ids& ctx, int32_t token) {
  torch::NoGradGuard ng;
  auto ids = torch::tensor(std::vector<int64_t>(ctx.begin(), ctx.end()), torch::kInt64).unsqueeze(0);
  return torch::softmax(m.logits(ids)[0][int64_t(ctx.size()) - 1], -1)[token].item<double>();
}

struct After {
  double p_avoid, p_solution_start;
  torch::Tensor weights;
};

// 40 steps on three false claims' self-chain documents, with the unlikelihood at `weight`.
After train(double weight) {
  Components c = cd_components();
  auto task = tasks::make_builtin_task("cd");
  PretrainOptions o;
  o.batch = 8, o.seed = 3, o.task = "cd", o.unlikelihood = 1.0;  // the rows are built, then kept or not
  std::vector<PretrainDoc> docs;
  for (auto [question, claim, solution] : std::vector<std::array<std::string, 3>>{
           {"3,7,2>21", "7+3=21", "3*7=21"},  // the case measured below
           // Worked solutions that write '+' after a leading 7: NLL alone teaches it for docs[0] too.
           {"7,3,5>10", "5*3=15", "7+3=10"}, {"7,4,1>11", "4*1=4", "7+4=11"}, {"7,2,6>9", "2*6=12", "7+2=9"}}) {
    tasks::Question q;
    q.kind = "cd", q.prompt = question, q.target.answer = question, q.worked = solution;
    docs.push_back(self_chain_document(c, o, task.get(), q, c.prompt_ids(q), c.tokenizer->encode(claim), false));
  }
  const PretrainDoc d = docs[0];
  if (weight == 0)
    for (auto& x : docs) x.avoid.clear();
  algo::OptimOptions oo;
  oo.lr = 1e-2, oo.warmup_steps = 1;
  algo::Optimizer opt(c.policy->parameters(), oo);
  EXPECT_EQ(train_documents(c, opt, docs, o, 0, 40, MPI_COMM_WORLD), 40);
  After a{0, 0, torch::cat({c.policy->parameters()[0].detach().flatten(), c.policy->parameters().back().detach().flatten()})};
  // docs[0]: after "3,7,2>21 7+3=21 <wrong cue> 7", the '+' again. The worked solution starts with
  // '3', so the NLL never trains this position: only the unlikelihood says anything about it.
  a.p_avoid = prob(*c.policy, d.avoid[0].ids, d.avoid[0].token);
  const algo::Ids after_cue(d.avoid[0].ids.begin(), d.avoid[0].ids.end() - 1);
  a.p_solution_start = prob(*c.policy, after_cue, c.tokenizer->encode("3").front());
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  if (rank == 0)
    std::printf("unlikelihood %.1f: p(avoided) %.5f, p(solution's first token) %.3f\n", weight, a.p_avoid, a.p_solution_start);
  return a;
}

}  // namespace

TEST(SelfChainUnlikelihood, TheFailedTokenBecomesUnlikelyAfterWrong) {
  const After nll = train(0.0), ul = train(1.0);
  EXPECT_GT(ul.p_solution_start, 0.5) << "the worked solution is still learnt";
  EXPECT_GT(nll.p_avoid, 0.5) << "NLL alone teaches the failed token here (measured 0.90)";
  EXPECT_LT(ul.p_avoid, 0.02) << "measured 0.0007";
  // Both ranks took half of each batch and summed the gradients: the same weights everywhere.
  torch::Tensor other = ul.weights.clone();
  MPI_Bcast(other.data_ptr<float>(), int(other.numel()), MPI_FLOAT, 0, MPI_COMM_WORLD);
  EXPECT_TRUE(torch::equal(other, ul.weights));
}
