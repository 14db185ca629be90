#include "sdzero/pipeline/pretrain.hpp"

#include <algorithm>
#include <numeric>
#include <utility>

#include "sdzero/core/error.hpp"
#include "sdzero/core/log.hpp"
#include "sdzero/core/progress.hpp"
#include "sdzero/core/rng.hpp"
#include "sdzero/core/strings.hpp"
#include "sdzero/dist/collectives.hpp"
#include "sdzero/dist/tensor_sync.hpp"
#include "sdzero/model/score.hpp"
#include "sdzero/pipeline/length_buckets.hpp"
#include "sdzero/pipeline/rollout.hpp"
#include "sdzero/tasks/builtin.hpp"
#include "sdzero/tasks/equation.hpp"

namespace sdz::pipeline {

namespace {

using Doc = PretrainDoc;
void append(Doc& d, const algo::Ids& ids, float weight) {
  d.ids.insert(d.ids.end(), ids.begin(), ids.end());
  d.w.insert(d.w.end(), ids.size(), weight);
}

// Batched masked NLL (plus the documents' unlikelihood rows) over documents drawn by `draw` (the same
// on every rank; each rank takes rows r, r + size, ...), steps [first, first + steps) of the
// optimizer's schedule.
int64_t train_docs(Components& c, algo::Optimizer& opt, const std::function<const Doc&(Rng&)>& draw, int64_t batch,
                   int64_t group_tokens, uint64_t seed, int64_t first, int64_t steps, MPI_Comm comm, const std::string& label,
                   const std::function<bool(int64_t, double)>& after_step) {
  int rank = 0, size = 1;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  c.policy->set_requires_grad(true);
  Progress progress(label, steps, "step");
  int64_t done = 0;
  for (int64_t step = first; step < first + steps; ++step) {
    Rng rng(key_seed({seed, 0x9e7a, uint64_t(step)}));
    std::vector<const Doc*> mine;
    for (int64_t i = 0; i < batch; ++i) {
      const Doc& d = draw(rng);
      if (i % size == rank) mine.push_back(&d);
    }
    // One row per document and one per unlikelihood row (o.unlikelihood): rows of similar length
    // share a forward (length_buckets.hpp); the gradient is the same sum.
    struct Row {
      const algo::Ids* ids;
      const std::vector<float>* w;   // null: an unlikelihood row only
      const Doc::Avoid* avoid;       // null: a document only
    };
    std::vector<Row> rows;
    std::vector<int64_t> lengths;
    double tokens = 0;
    for (const Doc* d : mine) {
      rows.push_back({&d->ids, &d->w, nullptr});
      for (float x : d->w) tokens += x;
      for (const auto& a : d->avoid) rows.push_back({&a.ids, nullptr, &a});
    }
    for (const Row& r : rows) lengths.push_back(int64_t(r.ids->size()));
    const double global_tokens = allreduce_sum(comm, tokens);
    std::vector<std::vector<size_t>> groups;
    if (group_tokens > 0) {
      groups = length_buckets(lengths, group_tokens);
    } else if (!rows.empty()) {  // one batch in draw order
      groups.emplace_back(rows.size());
      std::iota(groups.back().begin(), groups.back().end(), size_t(0));
    }
    opt.zero_grad();
    double loss_sum = 0, ul_sum = 0;
    for (const auto& g : groups) {
      int64_t T = 0;
      for (size_t i : g) T = std::max(T, lengths[i]);
      const int64_t n = int64_t(g.size());
      torch::Tensor ids = torch::zeros({n, T}, torch::kInt64), w = torch::zeros({n, T}, torch::kFloat32);
      torch::Tensor at = torch::full({n}, -1, torch::kInt64), avoid = torch::zeros({n}, torch::kInt64);
      torch::Tensor uw = torch::zeros({n}, torch::kFloat32);
      auto ids_a = ids.accessor<int64_t, 2>();
      auto w_a = w.accessor<float, 2>();
      auto at_a = at.accessor<int64_t, 1>(), avoid_a = avoid.accessor<int64_t, 1>();
      auto uw_a = uw.accessor<float, 1>();
      for (int64_t r = 0; r < n; ++r) {
        const Row& row = rows[g[size_t(r)]];
        for (size_t t = 0; t < row.ids->size(); ++t) ids_a[r][int64_t(t)] = int64_t((*row.ids)[t]);
        if (row.w)
          for (size_t t = 0; t < row.w->size(); ++t) w_a[r][int64_t(t)] = (*row.w)[t];
        if (row.avoid) at_a[r] = int64_t(row.ids->size()) - 1, avoid_a[r] = row.avoid->token, uw_a[r] = row.avoid->w;
      }
      auto l = model::masked_nll_unlikelihood(*c.policy, ids, w, at, avoid, uw);
      torch::Tensor loss = (l.nll + l.unlikelihood) / global_tokens;
      if (loss.requires_grad()) loss.backward();
      loss_sum += l.nll.item<double>() / global_tokens;
      ul_sum += l.unlikelihood.item<double>() / global_tokens;
    }
    std::vector<torch::Tensor> grads;
    for (auto& p : opt.params()) {
      if (!p.grad().defined()) p.mutable_grad() = torch::zeros_like(p);
      grads.push_back(p.mutable_grad());
    }
    if (size > 1) allreduce_tensors(comm, grads, size_t(64) << 20, /*average=*/false);
    const double lr = opt.step(step).lr;
    double l = allreduce_sum(comm, loss_sum);
    const double u = allreduce_sum(comm, ul_sum);
    ++done;
    progress.update(done, u > 0 ? strprintf("loss %.4f  unlikelihood %.4f  lr %.3g", l, u, lr)
                                : strprintf("loss %.4f  lr %.3g", l, lr));
    if (after_step && !after_step(step, l)) break;
  }
  progress.finish();
  return done;
}

// The unlikelihood row of a wrong attempt just followed by "wrong" (d ends with that cue): the
// attempt again up to where it leaves every correct response, and the token it wrote there.
void add_avoid(Doc& d, const algo::Ids& attempt, const std::vector<algo::Ids>& correct, int32_t stop, float w) {
  const int64_t at = leaving_point(attempt, correct);
  if (at < 0) return;
  Doc::Avoid a;
  a.ids = d.ids;
  a.ids.insert(a.ids.end(), attempt.begin(), attempt.begin() + at);
  a.token = at < int64_t(attempt.size()) ? attempt[size_t(at)] : stop;
  a.w = w;
  d.avoid.push_back(std::move(a));
}

std::vector<algo::Ids> encoded_correct(const Components& c, const tasks::BuiltinTask& task, const tasks::Problem& p) {
  std::vector<algo::Ids> out;
  for (const auto& r : task.correct_responses(p)) out.push_back(c.tokenizer->encode(r));
  return out;
}

}  // namespace

int64_t leaving_point(const algo::Ids& attempt, const std::vector<algo::Ids>& correct) {
  size_t longest = 0;
  for (const auto& c : correct) {
    if (c == attempt) return -1;
    size_t i = 0;
    while (i < attempt.size() && i < c.size() && attempt[i] == c[i]) ++i;
    longest = std::max(longest, i);
  }
  return int64_t(longest);
}

std::vector<Doc> pretraining_documents(Components& c, const PretrainOptions& o) {
  const int32_t stop = c.method_context.stop_ids.front();
  std::vector<Doc> docs;
  // A wrong attempt whose last equation is true arithmetic (a near miss: 55*8=440 for 456/8) gets
  // loss on its value digits only. Without it the base learns to write "=target" after any guess
  // (TOY-STUDY.md), so a failed attempt shows no miss and the reviser has nothing to go on.
  // False arithmetic (a corrupted scratchpad step) is never trained on.
  auto append_wrong = [&](Doc& d, const std::string& text) {
    auto e = tasks::last_equation(text);
    auto truth = e ? tasks::apply_op(e->a, e->op, e->b) : std::nullopt;
    size_t at = e ? text.rfind(e->text) : std::string::npos;
    if (!truth || *truth != e->v || at == std::string::npos) return append(d, c.tokenizer->encode(text), 0.f);
    size_t value_at = at + e->text.find('=') + 1, value_end = at + e->text.size();
    append(d, c.tokenizer->encode(text.substr(0, value_at)), 0.f);
    append(d, c.tokenizer->encode(text.substr(value_at, value_end - value_at)), 1.f);
    if (value_end < text.size()) append(d, c.tokenizer->encode(text.substr(value_end)), 0.f);
  };
  // An arithmetic slip: the worked solution with one digit of its last value changed (42*9=376 for
  // 378/9). The base's own errors are of this kind as often as wrong guesses; a reviser that has
  // only seen wrong guesses learns "change the guess" and pushes away from a right one.
  // Empty when the solution does not end in an equation.
  auto slipped = [](const std::string& solution, uint64_t seed) -> std::string {
    auto e = tasks::last_equation(solution);
    size_t at = e ? solution.rfind(e->text) : std::string::npos;
    if (at == std::string::npos) return "";
    size_t v0 = at + e->text.find('=') + 1, v1 = at + e->text.size();
    if (v0 < v1 && solution[v0] == '-') ++v0;
    if (v0 >= v1) return "";
    Rng r(seed);
    std::string out = solution;
    size_t pos = v0 + size_t(r.randint(0, int64_t(v1 - v0) - 1));
    char old = out[pos];
    while (out[pos] == old || (pos == v0 && v1 - v0 > 1 && out[pos] == '0')) out[pos] = char('0' + r.randint(0, 9));
    return out;
  };
  // A false claim: a wrong guess that writes the right answer's value (3+7=21 for 3,7,2>21; 56*8=456
  // for 456/8). The base's own commonest failure on cd (tools/analyze-samples): a reviser that has
  // only seen slips of the right equation learns "keep the equation" and repeats the claim.
  // Empty when either text does not end in an equation or the guess already has that value.
  auto claimed = [](const std::string& guess, const std::string& solution) -> std::string {
    auto g = tasks::last_equation(guess), s = tasks::last_equation(solution);
    if (!g || !s || g->v == s->v) return "";
    const size_t at = guess.rfind(g->text), v0 = at + g->text.find('=') + 1;
    return guess.substr(0, v0) + std::to_string(s->v) + guess.substr(at + g->text.size());
  };
  std::unique_ptr<tasks::BuiltinTask> task;
  if (o.chain_fraction > 0) task = tasks::make_builtin_task(o.task);
  Rng doc_rng(key_seed({o.seed, 0xd0c5}));
  for (size_t qi = 0; qi < c.questions.size(); ++qi) {
    const auto& q = c.questions[qi];
    const std::string& worked = q.worked_solution();  // own notation, whatever data.demo_style says
    if (worked.empty()) throw Error("question has no worked solution to pretrain on", q.source);
    Doc d;
    append(d, c.prompt_ids(q), 0.f);
    if (!task || doc_rng.uniform() >= o.chain_fraction) {
      append(d, c.tokenizer->encode(worked), 1.f);
    } else {
      tasks::Problem p(q.prompt, q.target.answer, "");
      double u = doc_rng.uniform();
      int attempts = u < 0.6 ? 2 : u < 0.85 ? 3 : 4;
      std::string prev;
      bool prev_ok = false;
      for (int a = 0; a < attempts; ++a) {
        bool last = a + 1 == attempts;
        std::string text;
        if (a > 0 && prev_ok) text = prev;  // after "right": an exact copy
        else if (!last && doc_rng.uniform() < o.chain_wrong) {
          if (o.claim_fraction > 0 && doc_rng.uniform() < o.claim_fraction)
            text = claimed(task->wrong_attempt(p, doc_rng.next()), worked);
          else
            text = doc_rng.uniform() < o.slip_fraction ? slipped(worked, doc_rng.next()) : "";
          if (text.empty()) text = task->wrong_attempt(p, doc_rng.next());
        }
        else if (a > 0 && o.correction_uses_attempt) text = task->correction(p, prev);
        else text = worked;
        bool ok = task->verify(text, p.target).reward > 0.5;
        if (last && !ok) text = worked, ok = true;
        if (!ok && o.wrong_value_loss) append_wrong(d, text);
        else append(d, c.tokenizer->encode(text), (a > 0 && ok) ? 1.f : 0.f);
        if (!last) append(d, c.method_context.cue_ids(ok ? 1.f : 0.f), o.cue_loss ? 1.f : 0.f);
        if (!last && !ok && o.chain_unlikelihood > 0)
          add_avoid(d, c.tokenizer->encode(text), encoded_correct(c, *task, p), stop, float(o.chain_unlikelihood));
        prev = text, prev_ok = ok;
      }
    }
    append(d, {stop}, 1.f);
    docs.push_back(std::move(d));
  }
  return docs;
}

int64_t pretrain(Components& c, algo::Optimizer& opt, const PretrainOptions& o, MPI_Comm comm,
                 const std::function<bool(int64_t, double)>& after_step) {
  const std::vector<Doc> docs = pretraining_documents(c, o);
  auto draw = [&](Rng& rng) -> const Doc& { return docs[size_t(rng.randint(0, int64_t(docs.size()) - 1))]; };
  return train_docs(c, opt, draw, o.batch, o.group_tokens, o.seed, 0, o.steps, comm, "pretrain", after_step);
}

PretrainDoc self_chain_document(const Components& c, const PretrainOptions& o, const tasks::BuiltinTask* task,
                                const tasks::Question& q, const algo::Ids& prompt, const algo::Ids& attempt, bool ok) {
  SDZ_CHECK(task || (!o.correction_uses_attempt && o.unlikelihood <= 0),
            "self chains: a correction or an unlikelihood needs the built-in task", "demo.self_chain_unlikelihood");
  const int32_t stop = c.method_context.stop_ids.front();
  Doc d;
  append(d, prompt, 0.f);
  append(d, attempt, 0.f);
  append(d, c.method_context.cue_ids(ok ? 1.f : 0.f), o.cue_loss ? 1.f : 0.f);
  const tasks::Problem problem(q.prompt, q.target.answer, "");
  std::string revision = q.worked_solution();
  if (!ok && o.correction_uses_attempt) revision = task->correction(problem, c.tokenizer->decode(attempt));
  if (!ok && o.unlikelihood > 0) add_avoid(d, attempt, encoded_correct(c, *task, problem), stop, float(o.unlikelihood));
  append(d, ok ? attempt : c.tokenizer->encode(revision), 1.f);
  append(d, {stop}, 1.f);
  return d;
}

int64_t train_documents(Components& c, algo::Optimizer& opt, const std::vector<PretrainDoc>& docs,
                        const PretrainOptions& o, int64_t first_step, int64_t steps, MPI_Comm comm) {
  SDZ_CHECK(!docs.empty(), "train_documents: no documents");
  auto draw = [&](Rng& rng) -> const Doc& { return docs[size_t(rng.randint(0, int64_t(docs.size()) - 1))]; };
  return train_docs(c, opt, draw, o.batch, o.group_tokens, o.seed, first_step, steps, comm, "documents", nullptr);
}

int64_t pretrain_self_chains(Components& c, algo::Optimizer& opt, const PretrainOptions& o, MPI_Comm comm,
                             int64_t first_step, int64_t steps, double mix) {
  // With demo.correction_uses_attempt the revision after "wrong" is the task's correction of this
  // very attempt, as in the pretraining chains; otherwise the worked solution.
  std::unique_ptr<tasks::BuiltinTask> task;
  if (o.correction_uses_attempt || o.unlikelihood > 0) task = tasks::make_builtin_task(o.task);
  const std::vector<Doc> docs = pretraining_documents(c, o);
  const int64_t rounds = std::max<int64_t>(1, std::min(o.self_chain_rounds, steps));
  int64_t done = 0;
  for (int64_t round = 0; round < rounds; ++round) {
    // One sample per pretraining question from the model as it is now (the same on every rank: the
    // randomness is keyed by question and sample, never by rank). Later rounds resample, so the
    // failures the reviser reads stay the ones the model makes now.
    // Fresh questions stand in for the pretraining ones while the model answers them and the
    // documents are built; the usual documents above stay on the pretraining questions.
    std::vector<tasks::Question> own;
    if (o.self_chain_questions) own = std::exchange(c.questions, o.self_chain_questions(round));
    RolloutRequest req;
    for (size_t i = 0; i < c.questions.size(); ++i) req.question_indices.push_back(int64_t(i));
    req.sampling = c.method->sampling();
    req.sampling.samples_per_question = 1;
    req.seed = round == 0 ? key_seed({o.seed, 0x5e1f}) : key_seed({o.seed, 0x5e1f, uint64_t(round)});
    RolloutResult r = rollout(c, *c.policy, req);
    std::vector<Doc> self;
    int64_t wrong = 0, avoided = 0;
    for (const auto& t : r.trajectories) {
      algo::Ids attempt = t.response_ids;
      const auto& stops = c.method_context.stop_ids;
      if (!attempt.empty() && std::find(stops.begin(), stops.end(), attempt.back()) != stops.end()) attempt.pop_back();
      const bool ok = t.reward > 0.5f;
      self.push_back(self_chain_document(c, o, task.get(), c.questions[size_t(t.question_id)], t.prompt_ids, attempt, ok));
      wrong += ok ? 0 : 1;
      avoided += int64_t(self.back().avoid.size());
    }
    if (o.self_chain_questions) c.questions = std::move(own);
    log::info(strprintf("pretrain: self chains%s from %zu own attempts%s (%lld wrong, each followed by the cue and %s%s)",
                        rounds > 1 ? strprintf(" (round %lld of %lld)", (long long)round + 1, (long long)rounds).c_str() : "",
                        self.size(), o.self_chain_questions ? " to fresh questions" : "", (long long)wrong,
                        o.correction_uses_attempt ? "its correction" : "the worked solution",
                        o.unlikelihood > 0 ? strprintf("; %lld with an unlikelihood where they go wrong", (long long)avoided).c_str() : ""));
    auto draw = [&](Rng& rng) -> const Doc& {
      if (rng.uniform() < mix) return self[size_t(rng.randint(0, int64_t(self.size()) - 1))];
      return docs[size_t(rng.randint(0, int64_t(docs.size()) - 1))];
    };
    const int64_t n = steps * (round + 1) / rounds - done;
    done += train_docs(c, opt, draw, o.batch, o.group_tokens, o.seed, first_step + done, n, comm, "self chains", nullptr);
  }
  return done;
}

}  // namespace sdz::pipeline
