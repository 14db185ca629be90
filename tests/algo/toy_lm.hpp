// defines: test support for the method tests: a tiny causal LM (TinyScorer) implementing algo's
// Scorer, the toy task "<q>q<a>" -> "(q+3)%10<e>" with its verifier, a keyed temperature sampler,
// and config helpers. Test-only: the real generation engine lives in model/.
#pragma once
#include <cmath>
#include <string>
#include <vector>

#include "sdzero/algo/keys.hpp"
#include "sdzero/algo/method.hpp"
#include "sdzero/algo/scorer.hpp"
#include "sdzero/core/config.hpp"
#include "sdzero/core/rng.hpp"

namespace toy {
using namespace sdz::algo;
// Vocabulary: digits 0-9, then <q> <a> <e> <w> <r>. Question q: "<q>q<a>", answer "(q+3)%10<e>".
constexpr int32_t kQ = 10, kA = 11, kE = 12, kW = 13, kR = 14, kV = 16;

struct TinyLmImpl : torch::nn::Module {
  explicit TinyLmImpl(bool bias = true) {
    emb = register_module("emb", torch::nn::Embedding(kV, 24));
    mix = register_module("mix", torch::nn::Linear(48, 24));
    out = register_module("out", torch::nn::Linear(torch::nn::LinearOptions(24, kV).bias(bias)));
  }
  // A causal model: each position sees its own token and the running mean of the prefix.
  torch::Tensor hidden(const torch::Tensor& ids) {
    auto x = emb(ids);
    auto count = torch::arange(1, ids.size(0) + 1, torch::kFloat).unsqueeze(1);
    auto prefix = x.cumsum(0) / count;
    return torch::tanh(mix(torch::cat({x, prefix}, 1)));
  }
  torch::Tensor forward(const torch::Tensor& ids) { return out(hidden(ids)); }
  torch::nn::Embedding emb{nullptr};
  torch::nn::Linear mix{nullptr}, out{nullptr};
};
TORCH_MODULE(TinyLm);

inline torch::Tensor id_tensor(const Ids& ids) {
  return torch::tensor(std::vector<int64_t>(ids.begin(), ids.end()), torch::kLong);
}

class TinyScorer : public Scorer {
 public:
  explicit TinyScorer(uint64_t seed, bool bias = true) {
    torch::manual_seed(seed);
    lm = TinyLm(bias);
  }
  torch::Tensor logits(const Ids& ids, int64_t row, int64_t n) override {
    return lm->forward(id_tensor(ids)).slice(0, row, row + n);
  }
  std::vector<torch::Tensor> parameters() override { return lm->parameters(); }
  TinyLm lm{nullptr};
};

// The same model exposing its projection, so losses can run in row chunks (no output bias).
class HeadScorer : public TinyScorer {
 public:
  explicit HeadScorer(uint64_t seed) : TinyScorer(seed, false) {}
  std::optional<HeadView> head(const Ids& ids, int64_t row, int64_t n) override {
    ++head_calls;
    return HeadView{lm->hidden(id_tensor(ids)).slice(0, row, row + n), lm->out->weight};
  }
  int head_calls = 0;
};

// The same model answering several sequences in one call (Scorer::heads), so losses run in
// micro-batches (algo::RowBatch). Each sequence's rows come from its own forward here: what is
// tested is the batching of losses and gradients; the padded forward is the model's (ModelScorer).
class BatchScorer : public HeadScorer {
 public:
  explicit BatchScorer(uint64_t seed) : HeadScorer(seed) {}
  std::optional<std::vector<HeadView>> heads(const std::vector<RowSpan>& spans) override {
    ++heads_calls;
    std::vector<HeadView> out;
    for (const RowSpan& sp : spans)
      out.push_back({lm->hidden(id_tensor(*sp.ids)).slice(0, sp.row, sp.row + sp.n), lm->out->weight});
    return out;
  }
  int heads_calls = 0;
};

inline Ids prompt_of(int64_t q) { return {kQ, int32_t(q), kA}; }
inline float verify(int64_t q, const Ids& y) { return !y.empty() && y[0] == int32_t((q + 3) % 10) ? 1.f : 0.f; }

// Test-only sampler: temperature sampling with keyed randomness, stop at <e>.
inline Trajectory sample(Scorer& m, const Ids& context, int64_t q, int64_t idx, const SamplingParams& p, uint64_t seed) {
  torch::NoGradGuard ng;
  sdz::Rng rng(sdz::key_seed({seed, uint64_t(q), uint64_t(idx)}));
  Trajectory t;
  t.question_id = q;
  t.sample_index = idx;
  t.prompt_ids = prompt_of(q);
  Ids ids = context;
  for (int64_t k = 0; k < p.max_new_tokens; ++k) {
    auto lp = torch::log_softmax(m.logits(ids, int64_t(ids.size()) - 1, 1)[0] / p.temperature, -1);
    double u = rng.uniform(), acc = 0;
    int32_t tok = kV - 1;
    for (int32_t v = 0; v < kV; ++v) {
      acc += std::exp(lp[v].item<double>());
      if (u < acc) { tok = v; break; }
    }
    ids.push_back(tok);
    t.response_ids.push_back(tok);
    t.logprobs.push_back(lp[tok].item<float>());
    if (tok == kE) break;
  }
  t.reward = verify(q, t.response_ids);
  return t;
}

inline AlgoConfig config_for(const std::string& method, const std::vector<std::string>& extra = {}) {
  static const sdz::Schema schema = [] {
    sdz::Schema s;
    sdz::declare_algo_keys(s);
    return s;
  }();
  std::vector<std::string> ov = {"--method.name=" + method, "--method.max_new_tokens=4", "--optim.lr=0.01",
                                 "--optim.warmup_steps=0", "--distill.mode=topk", "--distill.top_k=8"};
  ov.insert(ov.end(), extra.begin(), extra.end());
  return algo_config(sdz::Config::load(schema, "", ov));
}

inline MethodContext toy_context() {
  MethodContext c;
  c.cue_correct_ids = {kR};
  c.cue_wrong_ids = {kW};
  c.stop_ids = {kE};
  return c;
}

inline std::vector<torch::Tensor> snapshot(Scorer& m) {
  std::vector<torch::Tensor> out;
  for (auto& p : m.parameters()) out.push_back(p.detach().clone());
  return out;
}
inline double distance(const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b) {
  double d = 0;
  for (size_t i = 0; i < a.size(); ++i) d += (a[i] - b[i]).abs().sum().item<double>();
  return d;
}

}  // namespace toy
