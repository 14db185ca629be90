// defines: row-chunked losses over a model's vocabulary projection. For a long response and a large
// vocabulary the [n, V] logits (and their autograd graph) do not fit; here each chunk of rows is
// projected, its loss computed and back-propagated to detached copies of the hidden states and the
// projection weight, and the chunk's graph freed. A surrogate (hidden * dhidden).sum() +
// (weight * dweight).sum() then carries exactly those gradients into the model when the caller runs
// backward. Methods call row_loss(), which takes this path when the Scorer offers a HeadView.
#pragma once
#include <algorithm>
#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include <torch/torch.h>

#include "sdzero/algo/scorer.hpp"
#include "sdzero/algo/types.hpp"

namespace sdz::algo {

// The targets of a masked sequence whose loss starts at position `begin` (the prompt's length):
// ids[begin..] predicted from row begin - 1. A tail cut into the prompt leaves none (n = 0).
struct Targets {
  int64_t row = 0, n = 0;
  torch::Tensor ids;
};
Targets targets_from(const Ids& ids, int64_t begin);
// A 0/1 token mask from `begin` on, as floats to multiply per-token losses with.
torch::Tensor mask_from(const std::vector<uint8_t>& m, int64_t begin);

// The summed loss of rows [begin, end) of the span, given their logits [end - begin, V].
using RowLossFn = std::function<torch::Tensor(const torch::Tensor& logits, int64_t begin, int64_t end)>;

struct RowLoss {
  torch::Tensor value;     // the loss (graph attached only on the unchunked path)
  torch::Tensor backward;  // what to back-propagate: the value itself, or the chunked surrogate
};

// Rows [row, row + n) of `ids` through `f`, chunked when the model offers a HeadView and
// chunk_rows > 0; otherwise one call to Scorer::logits. Gradients are computed only when grad mode
// is on. Either way d(backward)/d(params) equals d(sum of f)/d(params).
RowLoss row_loss(Scorer& model, const Ids& ids, int64_t row, int64_t n, const RowLossFn& f, int64_t chunk_rows);

// The chunked path on a HeadView (exposed for tests).
RowLoss chunked_head_loss(const HeadView& head, const RowLossFn& f, int64_t chunk_rows);

// The step's gradient source, summed sequence by sequence. Inside train_step (a StepBackward scope)
// each part is back-propagated as soon as it is added, times `scale` (the 1 / global count the loss
// is divided by), so one sequence's graph and its lm_head gradient buffers ([V, d] each) are freed
// before the next sequence is built: gradient accumulation. For a Qwen3-4B learner batch the kept
// buffers alone were about 196 GiB (docs/MEMORY.md). Outside that scope the parts are summed into one
// graph the caller back-propagates (tests comparing gradients with a reference do that).
class GradAccumulator {
 public:
  explicit GradAccumulator(double scale);
  void add(const torch::Tensor& part);
  // A sequence's loss value for the step's total: detached when its gradient is already applied.
  torch::Tensor value(const torch::Tensor& v) const { return now_ ? v.detach() : v; }
  // What train_step back-propagates: the summed graph, or a constant when everything already was.
  torch::Tensor result() const;

 private:
  double scale_;
  bool now_;
  torch::Tensor sum_;
};

// While alive, GradAccumulators on this thread back-propagate as they go (train_step opens one).
class StepBackward {
 public:
  StepBackward();
  ~StepBackward();
  StepBackward(const StepBackward&) = delete;
  StepBackward& operator=(const StepBackward&) = delete;

 private:
  bool before_;
};

// The packing rule shared by the learner's micro-batches (RowBatch) and the teacher's
// (score_teachers): a sequence of `len` tokens with `n` scored rows runs alone when it needs chunking
// or exceeds the token cap; otherwise it joins the open micro-batch unless that would pass
// batch_tokens padded tokens (count x longest) or chunk_rows scored rows.
struct MicroBatchCaps {
  int64_t chunk_rows = 0, batch_tokens = 0;
  bool alone(int64_t len, int64_t n) const {
    return (chunk_rows > 0 && n > chunk_rows) || batch_tokens <= 1 || len > batch_tokens;
  }
  bool full(int64_t count, int64_t longest, int64_t rows, int64_t len, int64_t n) const {
    return count > 0 && ((count + 1) * std::max(longest, len) > batch_tokens || (chunk_rows > 0 && rows + n > chunk_rows));
  }
};

// The logits of every span's rows, stacked in order ([sum of n, V]), from one Scorer::heads call and
// one projection; nullopt when the model cannot answer several sequences at once.
std::optional<torch::Tensor> stacked_logits(Scorer& model, const std::vector<RowSpan>& spans);

// The row losses of a step's sequences, in micro-batches. Short sequences (scored rows within one
// chunk) are packed, up to `batch_tokens` padded tokens and `chunk_rows` scored rows, into one forward
// of the model (Scorer::heads) and one projection; each sequence's loss is taken on its own rows
// and the micro-batch's sum goes to the GradAccumulator, so the step runs one forward and backward
// per micro-batch instead of per sequence (for a tiny model the per-sequence launches were most of
// the learner's time). Longer sequences, a model without heads(), or batch_tokens <= 1 take
// row_loss one sequence at a time. Memory: a micro-batch holds at most batch_tokens tokens of
// activations and chunk_rows rows of logits, the bounds of one sequence of that length.
class RowBatch {
 public:
  RowBatch(Scorer& model, GradAccumulator& grads, int64_t chunk_rows, int64_t batch_tokens);
  // Queues rows [row, row + n) of `ids` with loss `f` (called later, at a flush, with (logits, 0, n)
  // unless chunked: `f` must own or outlive what it reads).
  void add(Ids ids, int64_t row, int64_t n, RowLossFn f);
  // Runs what is queued; the summed loss value of everything added (graph attached only when the
  // accumulator defers the backward).
  torch::Tensor finish();
  int64_t forwards() const { return forwards_; }  // model forwards so far (tests)

 private:
  struct Item {
    Ids ids;
    int64_t row, n;
    RowLossFn f;
  };
  void flush();
  void take(const RowLoss& rl);
  Scorer& model_;
  GradAccumulator& grads_;
  MicroBatchCaps caps_;
  std::vector<Item> queue_;
  int64_t longest_ = 0, rows_ = 0, forwards_ = 0;
  torch::Tensor total_;
};

// Applies `fn` to the logits of each chunk of rows without gradient (teacher scoring):
// fn(logits [m, V], begin, end).
void for_each_logits_chunk(Scorer& model, const Ids& ids, int64_t row, int64_t n, int64_t chunk_rows,
                           const std::function<void(const torch::Tensor&, int64_t, int64_t)>& fn);

}  // namespace sdz::algo
