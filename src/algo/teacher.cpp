// Teacher update rules (see teacher.hpp).
#include "sdzero/algo/teacher.hpp"

#include "sdzero/core/error.hpp"

namespace sdz::algo {

TeacherUpdate parse_teacher_update(const std::string& s) {
  if (s == "frozen") return TeacherUpdate::Frozen;
  if (s == "sync_every") return TeacherUpdate::SyncEvery;
  if (s == "plateau") return TeacherUpdate::Plateau;
  if (s == "ema") return TeacherUpdate::Ema;
  throw Error("unknown teacher update '" + s + "'", "teacher.update", "use frozen, sync_every, plateau or ema");
}

TeacherSchedule::TeacherSchedule(TeacherOptions opt) : opt_(opt) {
  SDZ_CHECK(opt_.update != TeacherUpdate::SyncEvery || opt_.sync_every > 0,
            "teacher.update = sync_every needs teacher.sync_every > 0", "teacher.sync_every");
  SDZ_CHECK(opt_.update != TeacherUpdate::Ema || (opt_.ema_rate > 0 && opt_.ema_rate <= 1),
            "teacher.ema_rate must be in (0, 1]", "teacher.ema_rate");
  SDZ_CHECK(opt_.plateau_patience >= 1, "teacher.plateau_patience must be >= 1", "teacher.plateau_patience");
}

void TeacherSchedule::on_validation(int64_t step, double score) {
  (void)step;
  if (opt_.update != TeacherUpdate::Plateau) return;
  if (score > st_.best_validation + opt_.plateau_min_delta) {
    st_.best_validation = score;
    st_.stale_validations = 0;
    return;
  }
  if (++st_.stale_validations >= opt_.plateau_patience) {
    st_.sync_pending = true;
    // After a sync the new teacher starts a new race: the best score so far stays the bar.
    st_.stale_validations = 0;
  }
}

TeacherAction TeacherSchedule::after_step(int64_t step) {
  TeacherAction a = TeacherAction::None;
  switch (opt_.update) {
    case TeacherUpdate::Frozen: break;
    case TeacherUpdate::SyncEvery:
      if (step > 0 && step % opt_.sync_every == 0) a = TeacherAction::HardSync;
      break;
    case TeacherUpdate::Plateau:
      if (st_.sync_pending) a = TeacherAction::HardSync;
      break;
    case TeacherUpdate::Ema: a = TeacherAction::Ema; break;
  }
  if (a == TeacherAction::HardSync) {
    ++st_.syncs;
    st_.last_sync_step = step;
    st_.sync_pending = false;
  }
  return a;
}

namespace {
void check_pairs(const std::vector<torch::Tensor>& t, const std::vector<torch::Tensor>& s, const char* where) {
  SDZ_CHECK(t.size() == s.size(), "teacher has " + std::to_string(t.size()) + " tensors, student " +
                                      std::to_string(s.size()), where, "teacher and student must be the same model");
  for (size_t i = 0; i < t.size(); ++i)
    SDZ_CHECK(t[i].sizes() == s[i].sizes(), "tensor " + std::to_string(i) + " differs in shape", where);
}
}  // namespace

void ema_update(const std::vector<torch::Tensor>& teacher, const std::vector<torch::Tensor>& student, double rate) {
  check_pairs(teacher, student, "algo::ema_update");
  torch::NoGradGuard ng;
  for (size_t i = 0; i < teacher.size(); ++i) {
    auto t = teacher[i];
    t.mul_(1.0 - rate).add_(student[i].to(t.device(), t.scalar_type()), rate);
  }
}

void hard_copy(const std::vector<torch::Tensor>& teacher, const std::vector<torch::Tensor>& student) {
  check_pairs(teacher, student, "algo::hard_copy");
  torch::NoGradGuard ng;
  for (size_t i = 0; i < teacher.size(); ++i) {
    auto t = teacher[i];
    t.copy_(student[i]);
  }
}

}  // namespace sdz::algo
