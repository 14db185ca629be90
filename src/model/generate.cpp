// Continuous-batching sampler. Top-k/top-p follow transformers' TopKLogitsWarper / TopPLogitsWarper
// (keep the k largest; keep the most probable tokens until their mass reaches top_p, at least one).
#include "sdzero/model/generate.hpp"

#include <algorithm>
#include <cmath>
#include <deque>

#include "sdzero/core/error.hpp"
#include "sdzero/core/rng.hpp"

namespace sdz::model {

Draw sample_token(const torch::Tensor& logits, const SamplingParams& sp, double u) {
  auto lg = logits.to(torch::kFloat64).contiguous();
  const int64_t V = lg.numel();
  if (sp.temperature <= 0) {
    const int64_t t = lg.argmax().item<int64_t>();
    const double lp = (lg[t] - torch::logsumexp(lg, 0)).item<double>();
    return {int32_t(t), 0.0f, float(lp)};
  }
  auto logp = torch::log_softmax(lg / sp.temperature, 0);
  const double* lpp = logp.data_ptr<double>();
  const bool filter = (sp.top_k > 0 && sp.top_k < V) || sp.top_p < 1.0;
  if (!filter) {
    // Inverse CDF over ids in order: no sort needed.
    double acc = 0;
    int64_t pick = V - 1;
    for (int64_t i = 0; i < V; ++i) {
      acc += std::exp(lpp[i]);
      if (u < acc) { pick = i; break; }
    }
    while (pick > 0 && !std::isfinite(lpp[pick])) --pick;  // rounding at the tail
    return {int32_t(pick), float(lpp[pick]), float(lpp[pick])};
  }
  // Descending probability, ties by id (sort is stable on the index order).
  auto sorted = torch::sort(logp, /*stable=*/true, 0, /*descending=*/true);
  auto vals = std::get<0>(sorted).contiguous();
  auto idx = std::get<1>(sorted).contiguous();
  const double* sv = vals.data_ptr<double>();
  const int64_t* si = idx.data_ptr<int64_t>();
  int64_t keep = (sp.top_k > 0 && sp.top_k < V) ? sp.top_k : V;
  if (sp.top_p < 1.0) {
    // Renormalise over the top-k set first (the warpers run top-k then top-p).
    double mass_k = 0;
    for (int64_t i = 0; i < keep; ++i) mass_k += std::exp(sv[i]);
    double acc = 0;
    int64_t n = 0;
    while (n < keep) {
      acc += std::exp(sv[n]) / mass_k;
      ++n;
      if (acc >= sp.top_p) break;
    }
    keep = std::max<int64_t>(n, 1);
  }
  double mass = 0;
  for (int64_t i = 0; i < keep; ++i) mass += std::exp(sv[i]);
  double acc = 0;
  int64_t pick = keep - 1;
  for (int64_t i = 0; i < keep; ++i) {
    acc += std::exp(sv[i]) / mass;
    if (u < acc) { pick = i; break; }
  }
  return {int32_t(si[pick]), float(sv[pick] - std::log(mass)), float(sv[pick])};
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
  size_t next = 0;
  int64_t live = 0;

  // Records a sampled token; returns true when the slot's response is finished.
  auto take = [&](Slot& s, const torch::Tensor& row) {
    GenResult& r = out[s.req];
    Draw d = sample_token(row, sp, s.rng.uniform());
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
      auto lg = torch::matmul(h, W.t()).to(torch::kFloat32);
      for (size_t i = 0; i < fill.size(); ++i) {
        Slot& s = slot[size_t(fill[i])];
        if (take(s, lg[int64_t(i)])) {
          s.active = false;
          --live;
        }
      }
      continue;  // refill again if some finished at once, before decoding
    }
    if (live == 0) break;
    // One decode step for every slot; inactive ones are ignored.
    std::vector<bool> active(static_cast<size_t>(slots_));
    auto toks = torch::zeros({slots_}, torch::kInt64);
    for (int64_t b = 0; b < slots_; ++b) {
      active[size_t(b)] = slot[size_t(b)].active;
      if (active[size_t(b)]) toks[b] = int64_t(slot[size_t(b)].last);
    }
    auto h = m_.decode(cache_, toks, active);
    ++stats_.decode_steps;
    auto lg = torch::matmul(h, W.t()).to(torch::kFloat32);
    for (int64_t b = 0; b < slots_; ++b) {
      Slot& s = slot[size_t(b)];
      if (!s.active) continue;
      if (take(s, lg[b])) {
        s.active = false;
        --live;
      }
    }
  }
  return out;
}

}  // namespace sdz::model
