// The learner step and teacher helpers shared by every method (see train.hpp).
#include "sdzero/algo/train.hpp"

#include <cmath>

#include "sdzero/algo/chunked.hpp"
#include "sdzero/core/error.hpp"

namespace sdz::algo {

StepResult train_step(Method& method, Scorer& student, Optimizer& opt, const Batch& b, const TokenCounts& global,
                      int64_t step, const std::function<void()>& reduce_grads) {
  opt.zero_grad();
  LossOutput out;
  {
    StepBackward per_sequence;  // methods back-propagate each sequence as they go (chunked.hpp)
    out = method.loss(student, b, global, step);
  }
  SDZ_CHECK(std::isfinite(out.loss.item<double>()), "non-finite loss at step " + std::to_string(step),
            "algo::" + method.name(), "lower optim.lr or check the batch");
  const torch::Tensor& grad_source = out.backward.defined() ? out.backward : out.loss;
  if (grad_source.requires_grad()) grad_source.backward();
  for (auto& p : opt.params())
    if (!p.grad().defined()) p.mutable_grad() = torch::zeros_like(p);
  if (reduce_grads) reduce_grads();

  StepResult r;
  r.loss = out.loss.item<double>();
  r.optim = opt.step(step);
  r.teacher_action = method.teacher().after_step(step + 1);
  r.stats = std::move(out.stats);
  r.stats["loss"] = r.loss;
  r.stats["optim/lr"] = r.optim.lr;
  r.stats["optim/grad_norm"] = r.optim.grad_norm;
  r.stats["teacher/syncs"] = double(method.teacher().state().syncs);
  return r;
}

std::vector<TeacherSignal> score_batch(const Method& method, Scorer& teacher, const Batch& b) {
  std::vector<ScoredLayout> layouts;
  for (const auto& t : b.trajectories)
    if (auto layout = method.teacher_layout(t)) layouts.push_back(std::move(*layout));
  return score_teachers(teacher, layouts, method.teacher_scoring());
}

void apply_teacher_action(TeacherAction a, Scorer& teacher, Scorer& student, double ema_rate) {
  switch (a) {
    case TeacherAction::None: return;
    case TeacherAction::HardSync: hard_copy(teacher.parameters(), student.parameters()); return;
    case TeacherAction::Ema: ema_update(teacher.parameters(), student.parameters(), ema_rate); return;
  }
}

}  // namespace sdz::algo
