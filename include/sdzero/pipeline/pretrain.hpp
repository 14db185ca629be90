// defines: supervised pretraining of a base model on worked solutions (the demo's base): right-padded
// batches through model::masked_nll (one forward per group of similar-length documents,
// length_buckets.hpp), loss on the response tokens, gradients summed over the ranks of `comm` (each
// rank takes a slice of the batch), AdamW.
#pragma once
#include <mpi.h>

#include <functional>

#include "sdzero/algo/optim.hpp"
#include "sdzero/pipeline/components.hpp"

namespace sdz::tasks {
class BuiltinTask;
}

namespace sdz::pipeline {

struct PretrainOptions {
  int64_t steps = 1000, batch = 64;
  uint64_t seed = 1234;
  int64_t log_every = 50;
  // > 0: each rank's rows are cut into groups of similar length (length_buckets.hpp) at this price
  // per group; 0: one padded [B, T] batch.
  int64_t group_tokens = 0;
  // Revision chains (TOY-STUDY.md): this fraction of documents are chains of 2-4 attempts, each
  // followed by the cue its correctness picks, the last one correct; a non-final attempt is wrong
  // with probability chain_wrong. After "wrong" the next attempt is the task's correction of the
  // failed one (correction_uses_attempt) or a fresh worked solution; after "right", an exact copy.
  // Loss on: attempts after a cue that are correct, and the stop token; never on the first attempt
  // of a chain, on cues, or on wrong attempts (except their values: wrong_value_loss). 0 = plain worked solutions only.
  double chain_fraction = 0.0, chain_wrong = 0.7;
  bool correction_uses_attempt = true;
  // Loss on the value digits of a wrong attempt whose arithmetic is true (the honest miss the
  // reviser reads), never on its operands.
  bool wrong_value_loss = true;
  // Share of wrong attempts that are false claims: a wrong guess written with the right answer's
  // value (3+7=21), never trained on. Of the rest, slip_fraction are arithmetic slips of the right
  // answer (3*7=24), the others wrong guesses with their true value (3+7=10).
  double claim_fraction = 0.0;
  double slip_fraction = 0.0;
  // Loss on the cue after each attempt too (chains and self chains): the base learns to judge its
  // own attempt and so can revise within one response (the paper's SRT generation term does this).
  bool cue_loss = false;
  // Self chains: the model's own answers are sampled afresh this many times, evenly over the steps.
  int64_t self_chain_rounds = 1;
  // Empty: the self chains are on c.questions (the pretraining questions). Set: round r's self chains
  // are on self_chain_questions(r) instead, questions the base may never have read, so after "wrong"
  // it cannot recall the answer and learns what its failure rules out (demo.self_chain_on = fresh).
  std::function<std::vector<tasks::Question>(int64_t round)> self_chain_questions;
  // Self chains: weight of the unlikelihood on each wrong own attempt (0 = off). After "wrong", at the
  // token where the attempt leaves every correct response (the task's correct_responses: the
  // operator of a false claim 3+7=21, the digit of a slip 3*7=24), the reviser writing the attempt
  // again is penalised by -log(1 - p(that token)). Why: told "wrong", a reviser trained on the right
  // answer alone still rewrites its failed equation about half the time (docs/DEMO.md, session 14).
  double unlikelihood = 0.0;
  // The same for the pretraining chains' wrong attempts (synthetic: other candidates, slips, claims),
  // from the first step: the reviser meets many more failures to avoid than its own 1024.
  double chain_unlikelihood = 0.0;
  std::string task;  // built-in task that writes wrong attempts and corrections (chains need one)
};

// A pretraining document: prompt and response ids, and each token's loss weight (1 = target).
struct PretrainDoc {
  algo::Ids ids;
  std::vector<float> w;
  // Unlikelihood rows (o.unlikelihood, o.chain_unlikelihood): the last position of `ids` must not
  // predict `token`, weighted w. One per wrong attempt followed by "wrong".
  struct Avoid {
    algo::Ids ids;
    int32_t token = -1;
    float w = 0.f;
  };
  std::vector<Avoid> avoid;
};

// Where a wrong attempt leaves every correct response, in tokens: the longest prefix it shares with
// any of `correct`. Returns the index of the first token no correct response continues with, or
// attempt.size() when the whole attempt is a strict prefix of one (it stopped too early; the token to
// avoid is then the stop). -1 when the attempt equals a correct response.
int64_t leaving_point(const algo::Ids& attempt, const std::vector<algo::Ids>& correct);

// One document per question of c.questions (plain or chain, drawn from o.seed): what `pretrain` trains on.
std::vector<PretrainDoc> pretraining_documents(Components& c, const PretrainOptions& o);

// after_step(step, loss) is called on every rank after each step; false stops. Returns steps done.
int64_t pretrain(Components& c, algo::Optimizer& opt, const PretrainOptions& o, MPI_Comm comm,
                 const std::function<bool(int64_t, double)>& after_step);

// One self-chain document: `attempt` (the model's answer to q, without its stop token) after `prompt`,
// the cue `ok` picks, then a copy (ok) or the worked solution / the task's correction; loss only after
// the cue. With o.unlikelihood > 0 a wrong attempt also gets its unlikelihood row (PretrainDoc::avoid)
// at leaving_point against task->correct_responses. `task` may be null when neither needs it.
PretrainDoc self_chain_document(const Components& c, const PretrainOptions& o, const tasks::BuiltinTask* task,
                                const tasks::Question& q, const algo::Ids& prompt, const algo::Ids& attempt, bool ok);

// `steps` steps of the masked NLL (and the unlikelihood rows) on batches of o.batch documents drawn
// uniformly from `docs` (the same draws on every rank), from schedule step `first_step`.
int64_t train_documents(Components& c, algo::Optimizer& opt, const std::vector<PretrainDoc>& docs,
                        const PretrainOptions& o, int64_t first_step, int64_t steps, MPI_Comm comm);

// Self chains: the model samples one answer per pretraining question; each becomes a document
// "answer, the cue its verdict picks, then the worked solution (after wrong) or a copy (after right)",
// with loss only on what follows the cue; with o.unlikelihood each wrong answer's document carries an
// unlikelihood row at its leaving point (above). Trained for `steps` steps from schedule step `first_step`,
// a share `mix` of each batch drawn from them and the rest from the usual documents. The reviser
// then reads failures that look like the model's own (not only synthetic near misses). With
// o.self_chain_rounds > 1 the answers are sampled again at the start of each round; with
// o.self_chain_questions each round's answers are to that round's questions. Returns steps done.
int64_t pretrain_self_chains(Components& c, algo::Optimizer& opt, const PretrainOptions& o, MPI_Comm comm,
                             int64_t first_step, int64_t steps, double mix);

}  // namespace sdz::pipeline
