#include "sdzero/pipeline/pretrain.hpp"

#include "sdzero/core/error.hpp"
#include "sdzero/core/log.hpp"
#include "sdzero/core/progress.hpp"
#include "sdzero/core/rng.hpp"
#include "sdzero/core/strings.hpp"
#include "sdzero/dist/collectives.hpp"
#include "sdzero/dist/tensor_sync.hpp"
#include "sdzero/model/score.hpp"

namespace sdz::pipeline {

int64_t pretrain(Components& c, algo::Optimizer& opt, const PretrainOptions& o, MPI_Comm comm,
                 const std::function<bool(int64_t, double)>& after_step) {
  int rank = 0, size = 1;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  const int32_t stop = c.method_context.stop_ids.front();
  // Documents once: chat(x) ++ worked solution ++ stop, with the loss on the response.
  std::vector<std::pair<algo::Ids, size_t>> docs;  // ids, response start
  for (const auto& q : c.questions) {
    if (q.demonstration.empty()) throw Error("question has no worked solution to pretrain on", q.source);
    algo::Ids ids = c.prompt_ids(q);
    size_t start = ids.size();
    algo::Ids y = c.tokenizer->encode(q.demonstration);
    ids.insert(ids.end(), y.begin(), y.end());
    ids.push_back(stop);
    docs.emplace_back(std::move(ids), start);
  }
  c.policy->set_requires_grad(true);
  Progress progress("pretrain", o.steps, "step");
  int64_t done = 0;
  for (int64_t step = 0; step < o.steps; ++step) {
    // Every rank draws the same batch and takes its slice (rows r, r + size, ...).
    Rng rng(key_seed({o.seed, 0x9e7a, uint64_t(step)}));
    std::vector<size_t> mine;
    for (int64_t i = 0; i < o.batch; ++i) {
      size_t d = size_t(rng.randint(0, int64_t(docs.size()) - 1));
      if (i % size == rank) mine.push_back(d);
    }
    size_t T = 0;
    for (size_t d : mine) T = std::max(T, docs[d].first.size());
    torch::Tensor ids = torch::zeros({int64_t(mine.size()), int64_t(T)}, torch::kInt64);
    torch::Tensor w = torch::zeros({int64_t(mine.size()), int64_t(T)}, torch::kFloat32);
    double tokens = 0;
    for (size_t r = 0; r < mine.size(); ++r) {
      const auto& [doc, start] = docs[mine[r]];
      for (size_t t = 0; t < doc.size(); ++t) ids[int64_t(r)][int64_t(t)] = int64_t(doc[t]);
      w[int64_t(r)].narrow(0, int64_t(start), int64_t(doc.size() - start)).fill_(1.0f);
      tokens += double(doc.size() - start);
    }
    double global_tokens = allreduce_sum(comm, tokens);
    opt.zero_grad();
    torch::Tensor loss = mine.empty() ? torch::zeros({}) : model::masked_nll(*c.policy, ids, w) / global_tokens;
    if (loss.requires_grad()) loss.backward();
    std::vector<torch::Tensor> grads;
    for (auto& p : opt.params()) {
      if (!p.grad().defined()) p.mutable_grad() = torch::zeros_like(p);
      grads.push_back(p.mutable_grad());
    }
    if (size > 1) allreduce_tensors(comm, grads, size_t(64) << 20, /*average=*/false);
    opt.step(step);
    double l = allreduce_sum(comm, loss.item<double>());
    ++done;
    progress.update(done, strprintf("loss %.4f", l));
    if (after_step && !after_step(step, l)) break;
  }
  progress.finish();
  return done;
}

}  // namespace sdz::pipeline
