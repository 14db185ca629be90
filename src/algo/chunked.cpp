// Row-chunked losses and logits (see chunked.hpp).
#include "sdzero/algo/chunked.hpp"

#include <algorithm>

#include "sdzero/core/error.hpp"

namespace sdz::algo {

namespace {
thread_local bool t_backward_now = false;
}

Targets targets_from(const Ids& ids, int64_t begin) {
  Targets t;
  t.row = begin - 1;
  t.n = std::max<int64_t>(0, int64_t(ids.size()) - begin);
  t.ids = torch::tensor(std::vector<int64_t>(ids.begin() + (int64_t(ids.size()) - t.n), ids.end()), torch::kLong);
  return t;
}

torch::Tensor mask_from(const std::vector<uint8_t>& m, int64_t begin) {
  std::vector<float> f(m.begin() + begin, m.end());
  return torch::tensor(f, torch::kFloat);
}

StepBackward::StepBackward() : before_(t_backward_now) { t_backward_now = true; }
StepBackward::~StepBackward() { t_backward_now = before_; }

GradAccumulator::GradAccumulator(double scale)
    : scale_(scale), now_(t_backward_now && torch::GradMode::is_enabled()), sum_(torch::zeros({})) {}

void GradAccumulator::add(const torch::Tensor& part) {
  if (!now_) {
    sum_ = sum_ + part;
    return;
  }
  if (part.requires_grad() && scale_ != 0) (part * scale_).backward();
  sum_ = sum_ + part.detach().to(sum_.device());
}

torch::Tensor GradAccumulator::result() const { return now_ ? (sum_ * scale_).detach() : sum_ * scale_; }

RowLoss chunked_head_loss(const HeadView& head, const RowLossFn& f, int64_t chunk_rows) {
  SDZ_CHECK(head.hidden.dim() == 2 && head.weight.dim() == 2 && head.hidden.size(1) == head.weight.size(1),
            "HeadView needs hidden [n, d] and weight [V, d]", "algo::chunked_head_loss");
  const int64_t n = head.hidden.size(0);
  const int64_t step = chunk_rows > 0 ? chunk_rows : std::max<int64_t>(n, 1);
  const bool train = torch::GradMode::is_enabled() && (head.hidden.requires_grad() || head.weight.requires_grad());
  auto h = head.hidden.detach().requires_grad_(train);
  auto w = head.weight.detach().requires_grad_(train);
  torch::Tensor value = torch::zeros({}, torch::TensorOptions().dtype(torch::kFloat).device(h.device()));
  for (int64_t b = 0; b < n; b += step) {
    const int64_t e = std::min(n, b + step);
    auto l = f(h.slice(0, b, e).matmul(w.t()), b, e);
    if (train && l.requires_grad()) l.backward();
    value = value + l.detach().to(torch::kFloat);
  }
  RowLoss out;
  out.value = value;
  out.backward = value.clone();  // no gradient: a constant
  if (train) {
    torch::Tensor s = torch::zeros({}, value.options());
    if (h.grad().defined()) s = s + (head.hidden * h.grad()).sum().to(torch::kFloat);
    if (w.grad().defined()) s = s + (head.weight * w.grad()).sum().to(torch::kFloat);
    out.backward = s;
  }
  return out;
}

RowLoss row_loss(Scorer& model, const Ids& ids, int64_t row, int64_t n, const RowLossFn& f, int64_t chunk_rows) {
  if (chunk_rows > 0 && n > chunk_rows) {
    if (auto head = model.head(ids, row, n)) return chunked_head_loss(*head, f, chunk_rows);
  }
  auto z = model.logits(ids, row, n);
  SDZ_CHECK(z.dim() == 2 && z.size(0) == n, "the model returned logits of the wrong shape", "algo::row_loss",
            "Scorer::logits(ids, row, n) must return [n, V]");
  RowLoss out;
  out.value = f(z, 0, n);
  out.backward = out.value;
  return out;
}

std::optional<torch::Tensor> stacked_logits(Scorer& model, const std::vector<RowSpan>& spans) {
  std::optional<std::vector<HeadView>> hv = model.heads(spans);
  if (!hv || hv->empty()) return std::nullopt;
  std::vector<torch::Tensor> hidden;
  for (const HeadView& h : *hv) hidden.push_back(h.hidden);
  return torch::cat(hidden, 0).matmul(hv->front().weight.t());
}

RowBatch::RowBatch(Scorer& model, GradAccumulator& grads, int64_t chunk_rows, int64_t batch_tokens)
    : model_(model), grads_(grads), caps_{chunk_rows, batch_tokens}, total_(torch::zeros({}, torch::kFloat)) {}

void RowBatch::take(const RowLoss& rl) {
  total_ = total_ + grads_.value(rl.value);
  grads_.add(rl.backward);
}

void RowBatch::add(Ids ids, int64_t row, int64_t n, RowLossFn f) {
  const int64_t len = int64_t(ids.size());
  if (caps_.alone(len, n)) {  // as before micro-batches: chunked when long
    ++forwards_;
    take(row_loss(model_, ids, row, n, f, caps_.chunk_rows));
    return;
  }
  if (caps_.full(int64_t(queue_.size()), longest_, rows_, len, n)) flush();
  longest_ = std::max(longest_, len);
  rows_ += n;
  queue_.push_back({std::move(ids), row, n, std::move(f)});
}

void RowBatch::flush() {
  if (queue_.empty()) return;
  std::vector<RowSpan> spans;
  for (const Item& it : queue_) spans.push_back({&it.ids, it.row, it.n});
  std::optional<torch::Tensor> z = queue_.size() > 1 ? stacked_logits(model_, spans) : std::nullopt;
  if (!z) {
    for (const Item& it : queue_) ++forwards_, take(row_loss(model_, it.ids, it.row, it.n, it.f, caps_.chunk_rows));
  } else {
    ++forwards_;
    torch::Tensor sum;
    int64_t off = 0;
    for (const Item& it : queue_) {
      torch::Tensor l = it.f(z->narrow(0, off, it.n), 0, it.n);
      sum = sum.defined() ? sum + l : l;
      off += it.n;
    }
    take(RowLoss{sum, sum});
  }
  queue_.clear();
  longest_ = rows_ = 0;
}

torch::Tensor RowBatch::finish() {
  flush();
  return total_;
}

void for_each_logits_chunk(Scorer& model, const Ids& ids, int64_t row, int64_t n, int64_t chunk_rows,
                           const std::function<void(const torch::Tensor&, int64_t, int64_t)>& fn) {
  torch::NoGradGuard ng;
  if (chunk_rows > 0 && n > chunk_rows) {
    if (auto head = model.head(ids, row, n)) {
      for (int64_t b = 0; b < n; b += chunk_rows) {
        const int64_t e = std::min(n, b + chunk_rows);
        fn(head->hidden.slice(0, b, e).matmul(head->weight.t()), b, e);
      }
      return;
    }
  }
  auto z = model.logits(ids, row, n);
  SDZ_CHECK(z.dim() == 2 && z.size(0) == n, "the model returned logits of the wrong shape",
            "algo::for_each_logits_chunk", "Scorer::logits(ids, row, n) must return [n, V]");
  fn(z, 0, n);
}

}  // namespace sdz::algo
