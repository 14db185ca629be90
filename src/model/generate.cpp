// Continuous-batching sampler. Top-k/top-p follow transformers' TopKLogitsWarper / TopPLogitsWarper
// (keep the k largest; keep the most probable tokens until their mass reaches top_p, at least one).
#include "sdzero/model/generate.hpp"

#include <algorithm>
#include <cmath>
#include <deque>

#include "sdzero/core/error.hpp"
#include "sdzero/model/cpu_matmul.hpp"
#include "sdzero/core/rng.hpp"
#include "sdzero/core/timer.hpp"

namespace sdz::model {

namespace {

// The device half of sample_rows for GPU logits, where a [n, V] copy to the host per decode step
// would cost more than the step. Same rule as the host scan: the first id whose running mass
// exceeds u (counted as the number of ids whose running mass is <= u), in fp64. Filtered sampling
// (top-k / top-p) is not done here: sample_rows copies those logits to the host path.
std::vector<Draw> sample_rows_on_device(const torch::Tensor& lg, const SamplingParams& sp,
                                        const std::vector<double>& us) {
  const int64_t n = lg.size(0), V = lg.size(1);
  std::vector<Draw> out(static_cast<size_t>(n));
  torch::Tensor pick, lp, mlp;
  if (sp.temperature <= 0) {
    // Greedy: the drawn log-prob is 0, the model's is the untempered log-softmax at the argmax.
    pick = lg.argmax(1);
    lp = torch::zeros({n}, lg.options());
    mlp = (lg.gather(1, pick.unsqueeze(1)).squeeze(1) - torch::logsumexp(lg, 1));
  } else {
    auto logp = torch::log_softmax(lg / sp.temperature, 1);
    auto u = torch::tensor(us, torch::kFloat64).to(lg.device()).unsqueeze(1);
    auto cdf = logp.exp().to(torch::kFloat64).cumsum(1);
    pick = cdf.le(u).sum(1).clamp_max(V - 1);
    lp = logp.gather(1, pick.unsqueeze(1)).squeeze(1);
    mlp = lp;  // unfiltered sampling: the model's log-prob is the tempered one (as the host path)
  }
  auto host = torch::stack({pick.to(torch::kFloat64), lp.to(torch::kFloat64), mlp.to(torch::kFloat64)}).cpu();
  auto a = host.accessor<double, 2>();
  for (int64_t r = 0; r < n; ++r)
    out[size_t(r)] = {int32_t(a[0][r]), float(a[1][r]), float(a[2][r])};
  return out;
}

}  // namespace

std::vector<Draw> sample_rows(const torch::Tensor& logits, const SamplingParams& sp, const std::vector<double>& us) {
  SDZ_CHECK(logits.dim() == 2 && int64_t(us.size()) == logits.size(0), "sample_rows: one uniform per row");
  const int64_t V0 = logits.size(1);
  const bool filter0 = (sp.top_k > 0 && sp.top_k < V0) || sp.top_p < 1.0;
  if (logits.is_cuda() && !(filter0 && sp.temperature > 0)) return sample_rows_on_device(logits.to(torch::kFloat32), sp, us);
  // Row-wise ops over the whole [n, V] block at once (one threaded kernel each), then a scan per row.
  auto lg = logits.to(torch::kFloat32).cpu().contiguous();
  const int64_t n = lg.size(0), V = lg.size(1);
  std::vector<Draw> out(static_cast<size_t>(n));
  if (sp.temperature <= 0) {
    auto best = lg.argmax(1);
    auto lp = (lg.gather(1, best.unsqueeze(1)).squeeze(1) - torch::logsumexp(lg, 1)).contiguous();
    for (int64_t r = 0; r < n; ++r) out[size_t(r)] = {int32_t(best[r].item<int64_t>()), 0.0f, lp[r].item<float>()};
    return out;
  }
  auto logp = torch::log_softmax(lg / sp.temperature, 1).contiguous();
  const bool filter = (sp.top_k > 0 && sp.top_k < V) || sp.top_p < 1.0;
  if (!filter) {
    // Inverse CDF over ids in order: no sort needed.
    auto probs = logp.exp().contiguous();
    for (int64_t r = 0; r < n; ++r) {
      const float* pr = probs.data_ptr<float>() + r * V;
      const float* lr = logp.data_ptr<float>() + r * V;
      double acc = 0;
      int64_t pick = -1;
      for (int64_t i = 0; i < V; ++i) {
        acc += pr[i];
        if (us[size_t(r)] < acc) { pick = i; break; }
      }
      if (pick < 0)  // rounding left u above the total: take the last token with mass
        for (pick = V - 1; pick > 0 && pr[pick] == 0.0f; --pick) {}
      out[size_t(r)] = {int32_t(pick), lr[pick], lr[pick]};
    }
    return out;
  }
  // Descending probability, ties by id (stable sort); top-k, then top-p renormalised over the top-k
  // set, as the warpers chain.
  auto sorted = torch::sort(logp, /*stable=*/true, 1, /*descending=*/true);
  auto vals = std::get<0>(sorted).to(torch::kFloat64).contiguous();
  auto idx = std::get<1>(sorted).contiguous();
  for (int64_t r = 0; r < n; ++r) {
    const double* sv = vals.data_ptr<double>() + r * V;
    const int64_t* si = idx.data_ptr<int64_t>() + r * V;
    int64_t keep = (sp.top_k > 0 && sp.top_k < V) ? sp.top_k : V;
    if (sp.top_p < 1.0) {
      double mass_k = 0;
      for (int64_t i = 0; i < keep; ++i) mass_k += std::exp(sv[i]);
      double acc = 0;
      int64_t m = 0;
      while (m < keep) {
        acc += std::exp(sv[m]) / mass_k;
        ++m;
        if (acc >= sp.top_p) break;
      }
      keep = std::max<int64_t>(m, 1);
    }
    double mass = 0;
    for (int64_t i = 0; i < keep; ++i) mass += std::exp(sv[i]);
    double acc = 0;
    int64_t pick = keep - 1;
    for (int64_t i = 0; i < keep; ++i) {
      acc += std::exp(sv[i]) / mass;
      if (us[size_t(r)] < acc) { pick = i; break; }
    }
    out[size_t(r)] = {int32_t(si[pick]), float(sv[pick] - std::log(mass)), float(sv[pick])};
  }
  return out;
}

Draw sample_token(const torch::Tensor& logits, const SamplingParams& sp, double u) {
  return sample_rows(logits.reshape({1, -1}), sp, {u})[0];
}

GenerationEngine::GenerationEngine(const Transformer& model, int64_t slots) : m_(model), slots_(slots) {
  SDZ_CHECK(slots >= 1, "GenerationEngine: at least one slot");
}

namespace {
struct Slot {
  bool active = false;
  size_t req = 0;
  Rng rng{0};
  int32_t last = 0;
};
}  // namespace

std::vector<GenResult> GenerationEngine::generate(const std::vector<GenRequest>& requests, const SamplingParams& sp) {
  torch::NoGradGuard ng;
  SDZ_CHECK(sp.max_new_tokens >= 1, "generate: max_new_tokens must be >= 1");
  const int64_t V = m_.config().vocab_size;
  int64_t need = 0;
  for (const auto& r : requests) {
    SDZ_CHECK(!r.prompt.empty(), "generate: empty prompt for question " + std::to_string(r.question_id));
    for (int32_t t : r.prompt)
      SDZ_CHECK(t >= 0 && t < V, "generate: prompt token " + std::to_string(t) + " outside the vocabulary (" +
                                     std::to_string(V) + ") in question " + std::to_string(r.question_id));
    need = std::max<int64_t>(need, int64_t(r.prompt.size()) + sp.max_new_tokens);
  }
  need = std::min<int64_t>(need, m_.config().max_position);
  if (cache_.slots() != slots_ || cache_.capacity() < need) cache_ = m_.make_cache(slots_, need);
  const int64_t cap = cache_.capacity();

  std::vector<GenResult> out(requests.size());
  std::vector<Slot> slot(static_cast<size_t>(slots_));
  const torch::Tensor& W = m_.lm_head_weight();
  size_t next = 0, finished = 0;
  int64_t live = 0;

  // Records a sampled token; returns true when the slot's response is finished.
  auto take = [&](Slot& s, const Draw& d) {
    GenResult& r = out[s.req];
    r.tokens.push_back(d.token);
    r.logprobs.push_back(d.logprob);
    r.model_logprobs.push_back(d.model_logprob);
    s.last = d.token;
    ++stats_.generated_tokens;
    if (std::find(sp.stop_ids.begin(), sp.stop_ids.end(), d.token) != sp.stop_ids.end()) {
      r.stopped = true;
      return true;
    }
    const int64_t total = int64_t(requests[s.req].prompt.size() + r.tokens.size());
    return int64_t(r.tokens.size()) >= sp.max_new_tokens || total >= cap;
  };

  while (next < requests.size() || live > 0) {
    // Refill free slots from the queue with one batched prefill.
    std::vector<int64_t> fill;
    for (int64_t b = 0; b < slots_ && next < requests.size(); ++b) {
      if (slot[size_t(b)].active) continue;
      const GenRequest& rq = requests[next];
      SDZ_CHECK(int64_t(rq.prompt.size()) < cap, "generate: prompt of question " + std::to_string(rq.question_id) +
                                                     " (" + std::to_string(rq.prompt.size()) +
                                                     " tokens) leaves no room in the context (" +
                                                     std::to_string(cap) + ")");
      Slot& s = slot[size_t(b)];
      s.active = true;
      s.req = next;
      s.rng = Rng(key_seed({sp.seed, rq.question_id, rq.sample_index}));
      out[next].question_id = rq.question_id;
      out[next].sample_index = rq.sample_index;
      ++next;
      ++live;
      fill.push_back(b);
    }
    if (!fill.empty()) {
      Timer timer;
      int64_t T = 0;
      std::vector<int64_t> lens;
      for (int64_t b : fill) {
        lens.push_back(int64_t(requests[slot[size_t(b)].req].prompt.size()));
        T = std::max(T, lens.back());
      }
      auto ids = torch::zeros({int64_t(fill.size()), T}, torch::kInt64);
      auto acc = ids.accessor<int64_t, 2>();
      for (size_t i = 0; i < fill.size(); ++i) {
        const auto& p = requests[slot[size_t(fill[i])].req].prompt;
        for (size_t t = 0; t < p.size(); ++t) acc[int64_t(i)][int64_t(t)] = p[t];
        stats_.prefill_tokens += int64_t(p.size());
      }
      ++stats_.prefills;
      auto h = m_.prefill(cache_, ids, lens, fill);
      std::vector<double> us;
      for (int64_t b : fill) us.push_back(slot[size_t(b)].rng.uniform());
      auto draws = sample_rows(model::linear(h, W), sp, us);
      for (size_t i = 0; i < fill.size(); ++i) {
        Slot& s = slot[size_t(fill[i])];
        if (take(s, draws[i])) {
          s.active = false;
          --live;
          if (on_finished_) on_finished_(++finished, requests.size());
        }
      }
      stats_.prefill_seconds += timer.seconds();
      continue;  // refill again if some finished at once, before decoding
    }
    if (live == 0) break;
    // One decode step for every slot; inactive ones are ignored.
    Timer timer;
    std::vector<bool> active(static_cast<size_t>(slots_));
    auto toks = torch::zeros({slots_}, torch::kInt64);
    for (int64_t b = 0; b < slots_; ++b) {
      active[size_t(b)] = slot[size_t(b)].active;
      if (active[size_t(b)]) toks[b] = int64_t(slot[size_t(b)].last);
    }
    auto h = m_.decode(cache_, toks, active);
    ++stats_.decode_steps;
    // Only active rows go through the lm_head and the sampler.
    std::vector<int64_t> rows;
    std::vector<double> us;
    for (int64_t b = 0; b < slots_; ++b)
      if (slot[size_t(b)].active) rows.push_back(b), us.push_back(slot[size_t(b)].rng.uniform());
    auto hr = int64_t(rows.size()) == slots_ ? h : h.index_select(0, torch::tensor(rows, torch::kInt64).to(h.device()));
    auto draws = sample_rows(model::linear(hr, W), sp, us);
    for (size_t i = 0; i < rows.size(); ++i) {
      Slot& s = slot[size_t(rows[i])];
      if (take(s, draws[i])) {
        s.active = false;
        --live;
        if (on_finished_) on_finished_(++finished, requests.size());
      }
    }
    stats_.decode_seconds += timer.seconds();
  }
  return out;
}

}  // namespace sdz::model
