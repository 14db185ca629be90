// defines: what algo/ needs from a causal language model, and nothing more: logits for a span of
// rows of one token sequence, and the parameter list. model/ adapts its transformer to this
// interface; tests use tiny torch::nn models. Also the teacher scoring of one layout (top-k or full).
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include <torch/torch.h>

#include "sdzero/algo/layout.hpp"
#include "sdzero/algo/types.hpp"

namespace sdz::algo {

// The last hidden states of some rows and the vocabulary projection: logits = hidden @ weight^T.
struct HeadView {
  torch::Tensor hidden;  // [n, d], carries the graph to the model when gradients are on
  torch::Tensor weight;  // [V, d], the output projection (a parameter, possibly the tied embedding)
};

// Rows [row, row + n) of one token sequence (the caller keeps `ids` alive).
struct RowSpan {
  const Ids* ids = nullptr;
  int64_t row = 0, n = 0;
};

class Scorer {
 public:
  virtual ~Scorer() = default;
  // Logits rows [row, row + n) of the causal LM run on `ids`: [n, V]. Row p predicts ids[p + 1].
  // Only the requested rows are needed, so a model can skip the vocabulary projection elsewhere.
  virtual torch::Tensor logits(const Ids& ids, int64_t row, int64_t n) = 0;
  // Trainable tensors in a fixed order (optimizer, EMA, hard sync, weight transfer).
  virtual std::vector<torch::Tensor> parameters() = 0;
  // Optional: rows [row, row + n) as a HeadView. A model that provides it lets losses and teacher top-k
  // run in row chunks (method.chunk_rows) and never hold [n, V] logits; nullopt: logits() is used.
  virtual std::optional<HeadView> head(const Ids& ids, int64_t row, int64_t n) {
    (void)ids, (void)row, (void)n;
    return std::nullopt;
  }
  // Optional: the HeadViews of several sequences from ONE forward (right-padded to the longest; a
  // causal model's rows never see the padding after them), all with the same weight. Short sequences
  // then train in micro-batches (RowBatch) instead of one forward and backward each; nullopt: head()
  // per sequence.
  virtual std::optional<std::vector<HeadView>> heads(const std::vector<RowSpan>& spans) {
    (void)spans;
    return std::nullopt;
  }
};

// A Scorer from two functions, for adapting code whose API is not a Scorer subclass.
class FunctionScorer : public Scorer {
 public:
  using LogitsFn = std::function<torch::Tensor(const Ids&, int64_t, int64_t)>;
  using ParamsFn = std::function<std::vector<torch::Tensor>()>;
  FunctionScorer(LogitsFn logits, ParamsFn params) : logits_(std::move(logits)), params_(std::move(params)) {}
  torch::Tensor logits(const Ids& ids, int64_t row, int64_t n) override { return logits_(ids, row, n); }
  std::vector<torch::Tensor> parameters() override { return params_(); }

 private:
  LogitsFn logits_;
  ParamsFn params_;
};

enum class TeacherMode { TopK, Full };
TeacherMode parse_teacher_mode(const std::string& s);  // "topk" | "full"

struct TeacherScoring {
  TeacherMode mode = TeacherMode::TopK;
  int64_t top_k = 64;
  double temperature = 1.0;      // applied to full log-probs and to token log-probs; top-k keeps raw logits
  bool token_logprobs = true;    // also the log-prob of each scored token (diagnostics, GRPO reference)
  int64_t chunk_rows = 1024;     // rows per chunk when the model offers a HeadView; 0: one chunk
  int64_t micro_batch_tokens = 8192;  // score_teachers: padded tokens per shared forward; <= 1: one each
};

// Teacher forward without gradient over the layout's scored span.
TeacherSignal score_teacher(Scorer& teacher, const ScoredLayout& layout, const TeacherScoring& opt);
// The same for many layouts: those within one chunk share padded forwards (Scorer::heads) of at most
// opt.micro_batch_tokens tokens and opt.chunk_rows scored rows, as the learner's micro-batches.
std::vector<TeacherSignal> score_teachers(Scorer& teacher, const std::vector<ScoredLayout>& layouts,
                                          const TeacherScoring& opt);

// The student's log-prob of each scored token (temperature 1), without gradient: the student side of
// the self-localization diagnostic.
torch::Tensor student_token_logprobs(Scorer& student, const ScoredLayout& layout);

}  // namespace sdz::algo
