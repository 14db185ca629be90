// defines: one learner step of any method, top-down: zero grads, loss from the batch, backward,
// (allreduce, supplied by dist/), clip + AdamW, then the teacher rule. And the teacher side: scoring a
// batch's trajectories and applying a teacher action to the teacher's weights.
#pragma once
#include <functional>

#include "sdzero/algo/method.hpp"
#include "sdzero/algo/optim.hpp"
#include "sdzero/algo/scorer.hpp"

namespace sdz::algo {

struct StepResult {
  double loss = 0;
  OptimStepStats optim;
  TeacherAction teacher_action = TeacherAction::None;
  Stats stats;
};

// Optimizer step `step` (0-based) on `b`. `global` are the token counts summed over all learners
// (colocated: method.count_tokens(b)). `reduce_grads` runs between backward and clipping (dist/'s
// gradient allreduce); every parameter has a defined gradient by then. The teacher schedule is told
// that step + 1 optimizer steps are complete; the returned action is for the caller to apply
// (apply_teacher_action) where the teacher lives.
StepResult train_step(Method& method, Scorer& student, Optimizer& opt, const Batch& b, const TokenCounts& global,
                      int64_t step, const std::function<void()>& reduce_grads = {});

// The teacher's signals for every trajectory of `b` the method asks it about (in order).
std::vector<TeacherSignal> score_batch(const Method& method, Scorer& teacher, const Batch& b);

// HardSync: teacher <- student. Ema: teacher <- (1 - rate) teacher + rate student. None: nothing.
void apply_teacher_action(TeacherAction a, Scorer& teacher, Scorer& student, double ema_rate);

}  // namespace sdz::algo
