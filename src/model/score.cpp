// Scoring and training forward through the chunked lm_head.
#include "sdzero/model/score.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "sdzero/core/error.hpp"
#include "sdzero/model/lm_head.hpp"

namespace sdz::model {

std::vector<std::vector<size_t>> pack_by_length(const std::vector<int64_t>& lengths, int64_t token_budget) {
  std::vector<size_t> order(lengths.size());
  std::iota(order.begin(), order.end(), size_t(0));
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return lengths[a] > lengths[b]; });
  std::vector<std::vector<size_t>> out;
  int64_t longest = 0;
  for (size_t i : order) {
    if (!out.empty() && int64_t(out.back().size() + 1) * longest <= token_budget) {
      out.back().push_back(i);
      continue;
    }
    out.push_back({i});
    longest = lengths[i];  // sorted: the first is the longest
  }
  return out;
}

std::vector<ScoreOut> score(const Transformer& m, const std::vector<ScoreItem>& items, const ScoreOptions& opt) {
  torch::NoGradGuard ng;
  const int64_t V = m.config().vocab_size;
  std::vector<int64_t> lens;
  for (size_t i = 0; i < items.size(); ++i) {
    const auto& it = items[i];
    const int64_t end = it.end == 0 ? int64_t(it.ids.size()) : it.end;
    SDZ_CHECK(it.begin >= 1 && it.begin <= end && end <= int64_t(it.ids.size()),
              "score: item " + std::to_string(i) + " has span [" + std::to_string(it.begin) + ", " +
                  std::to_string(end) + ") outside its " + std::to_string(it.ids.size()) + " tokens");
    for (int32_t t : it.ids)
      SDZ_CHECK(t >= 0 && t < V, "score: item " + std::to_string(i) + " has token " + std::to_string(t) +
                                     " outside the vocabulary (" + std::to_string(V) + ")");
    lens.push_back(end);  // positions after end-1 are never needed
  }
  std::vector<ScoreOut> out(items.size());
  for (const auto& batch : pack_by_length(lens, opt.token_budget)) {
    const int64_t T = lens[batch[0]];
    auto ids = torch::zeros({int64_t(batch.size()), T}, torch::kInt64);
    auto acc = ids.accessor<int64_t, 2>();
    for (size_t r = 0; r < batch.size(); ++r)
      for (int64_t t = 0; t < lens[batch[r]]; ++t) acc[int64_t(r)][t] = items[batch[r]].ids[size_t(t)];
    auto h = m.hidden(ids);
    // Gather the predicting positions of every row, then one chunked lm_head pass over all of them.
    std::vector<torch::Tensor> rows, tgts;
    std::vector<int64_t> counts;
    for (size_t r = 0; r < batch.size(); ++r) {
      const auto& it = items[batch[r]];
      const int64_t b = it.begin, e = lens[batch[r]];
      rows.push_back(h[int64_t(r)].narrow(0, b - 1, e - b));
      tgts.push_back(ids[int64_t(r)].narrow(0, b, e - b));
      counts.push_back(e - b);
    }
    auto tk = chunked_topk(torch::cat(rows), m.lm_head_weight(), std::min(opt.top_k, V), torch::cat(tgts),
                           opt.temperature, opt.chunk_rows);
    // Scores travel between ranks and into files: one copy to the host per batch.
    tk.logits = tk.logits.cpu(), tk.ids = tk.ids.cpu(), tk.target_logprobs = tk.target_logprobs.cpu();
    int64_t off = 0;
    for (size_t r = 0; r < batch.size(); ++r) {
      ScoreOut& o = out[batch[r]];
      o.topk_logits = tk.logits.narrow(0, off, counts[r]).clone();
      o.topk_ids = tk.ids.narrow(0, off, counts[r]).clone();
      o.target_logprobs = tk.target_logprobs.narrow(0, off, counts[r]).clone();
      off += counts[r];
    }
  }
  return out;
}

namespace {

// The rows of h [B,T,d] that predict weighted targets; sel_w from the host-side weights (below).
PredictRows rows_of(const torch::Tensor& h, const torch::Tensor& ids, const torch::Tensor& w, const torch::Tensor& sel_w) {
  const int64_t B = ids.size(0), T = ids.size(1);
  auto sel = sel_w.to(h.device());
  PredictRows pr;
  pr.hidden = h.narrow(1, 0, T - 1).reshape({B * (T - 1), -1}).index_select(0, sel);
  pr.targets = ids.to(h.device()).narrow(1, 1, T - 1).reshape({-1}).index_select(0, sel);
  pr.weights = w.index_select(0, sel_w).to(h.device(), torch::kFloat32);
  return pr;
}

// sum of w * -log(1 - p(avoid)) over hidden rows [n, d]; log(1 - p) = log(-expm1(log p)), exact for
// small p where 1 - exp(log p) would cancel; p is capped at 1 - 1e-6.
torch::Tensor unlikelihood_of(const torch::Tensor& rows, const torch::Tensor& W, const torch::Tensor& avoid,
                              const torch::Tensor& w) {
  auto dev = rows.device();
  // Few rows: a plain product with the head is cheaper than the chunked machinery.
  auto logits = torch::matmul(rows.to(torch::kFloat32), W.to(torch::kFloat32).t());
  auto logp = torch::log_softmax(logits, -1).gather(1, avoid.to(dev).unsqueeze(1)).squeeze(1);
  auto log_rest = torch::log(-torch::expm1(logp.clamp_max(std::log1p(-1e-6))));
  return -(w.to(dev, torch::kFloat32) * log_rest).sum();
}

void check_avoid(const Transformer& m, int64_t T, const torch::Tensor& at, const torch::Tensor& avoid) {
  if (at.numel() == 0) return;
  SDZ_CHECK(at.max().item<int64_t>() < T, "masked_unlikelihood: a position outside the rows' " + std::to_string(T) + " tokens");
  SDZ_CHECK(avoid.min().item<int64_t>() >= 0 && avoid.max().item<int64_t>() < m.config().vocab_size,
            "masked_unlikelihood: a token outside the vocabulary (" + std::to_string(m.config().vocab_size) + ")");
}

}  // namespace

PredictRows predict_rows(const Transformer& m, const torch::Tensor& ids, const torch::Tensor& weights,
                         bool checkpoint) {
  SDZ_CHECK(ids.dim() == 2 && weights.sizes() == ids.sizes(), "predict_rows: ids and weights must both be [B,T]");
  const int64_t T = ids.size(1);
  // The rows to predict, found where the weights are (the host, for every caller) before the forward
  // is queued: nonzero() on a GPU would make the host wait for the whole forward pass.
  auto w = weights.narrow(1, 1, T - 1).reshape({-1});
  auto sel_w = w.ne(0).nonzero().squeeze(1);
  return rows_of(m.hidden(ids, checkpoint), ids, w, sel_w);
}

torch::Tensor masked_nll(const Transformer& m, const torch::Tensor& ids, const torch::Tensor& weights,
                         bool checkpoint, int64_t chunk_rows) {
  auto pr = predict_rows(m, ids, weights, checkpoint);
  const Head head = m.dtype() == torch::kBFloat16 ? Head::Bf16 : Head::Fp32;
  return chunked_nll(pr.hidden, m.lm_head_weight(), pr.targets, pr.weights, chunk_rows, NllPasses::Auto, head);
}

torch::Tensor masked_unlikelihood(const Transformer& m, const torch::Tensor& ids, const torch::Tensor& at,
                                  const torch::Tensor& avoid, const torch::Tensor& w) {
  SDZ_CHECK(ids.dim() == 2 && at.dim() == 1 && at.size(0) == ids.size(0) && avoid.sizes() == at.sizes() &&
                w.sizes() == at.sizes(),
            "masked_unlikelihood: ids must be [B,T] and at, avoid, w [B]");
  SDZ_CHECK(at.numel() == 0 || at.min().item<int64_t>() >= 0, "masked_unlikelihood: a negative position");
  check_avoid(m, ids.size(1), at, avoid);
  auto h = m.hidden(ids);
  auto rows = h.index({torch::arange(ids.size(0), torch::TensorOptions(torch::kInt64).device(h.device())), at.to(h.device())});
  return unlikelihood_of(rows, m.lm_head_weight(), avoid, w);
}

NllAndUnlikelihood masked_nll_unlikelihood(const Transformer& m, const torch::Tensor& ids, const torch::Tensor& weights,
                                           const torch::Tensor& at, const torch::Tensor& avoid, const torch::Tensor& uw) {
  SDZ_CHECK(ids.dim() == 2 && weights.sizes() == ids.sizes() && at.dim() == 1 && at.size(0) == ids.size(0) &&
                avoid.sizes() == at.sizes() && uw.sizes() == at.sizes(),
            "masked_nll_unlikelihood: ids and weights must be [B,T] and at, avoid, uw [B]");
  const int64_t T = ids.size(1);
  auto w = weights.narrow(1, 1, T - 1).reshape({-1});
  auto sel_w = w.ne(0).nonzero().squeeze(1);
  auto ul_rows = at.ge(0).nonzero().squeeze(1);
  check_avoid(m, T, at.index_select(0, ul_rows), avoid.index_select(0, ul_rows));
  auto h = m.hidden(ids);
  NllAndUnlikelihood out;
  const Head head = m.dtype() == torch::kBFloat16 ? Head::Bf16 : Head::Fp32;
  if (sel_w.numel() > 0) {
    auto pr = rows_of(h, ids, w, sel_w);
    out.nll = chunked_nll(pr.hidden, m.lm_head_weight(), pr.targets, pr.weights, 0, NllPasses::Auto, head);
  } else {
    out.nll = (h.sum() * 0).to(torch::kFloat32);  // keeps the graph: backward() still works
  }
  if (ul_rows.numel() > 0) {
    auto dev = h.device();
    auto rows = h.index({ul_rows.to(dev), at.index_select(0, ul_rows).to(dev)});
    out.unlikelihood = unlikelihood_of(rows, m.lm_head_weight(), avoid.index_select(0, ul_rows), uw.index_select(0, ul_rows));
  } else {
    out.unlikelihood = torch::zeros({}, torch::TensorOptions(torch::kFloat32).device(h.device()));
  }
  return out;
}

}  // namespace sdz::model
