// defines: when and how the teacher changes. Frozen (the SD-Zero default), a hard copy of the student
// every K steps, a hard copy when the validation score plateaus, or an EMA of the student (SDFT,
// rate 0.01). TeacherSchedule only decides; ema_update / hard_copy do the tensor work, so the
// pipeline can run them wherever the teacher lives (and dist/ can ship weights for a hard sync).
#pragma once
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include <torch/torch.h>

namespace sdz::algo {

enum class TeacherUpdate { Frozen, SyncEvery, Plateau, Ema };
TeacherUpdate parse_teacher_update(const std::string& s);  // frozen | sync_every | plateau | ema

struct TeacherOptions {
  TeacherUpdate update = TeacherUpdate::Frozen;
  int64_t sync_every = 0;           // SyncEvery: K (> 0)
  double ema_rate = 0.01;           // Ema: teacher <- (1 - rate) teacher + rate student
  int64_t plateau_patience = 1;     // Plateau: validations without improvement before a sync
  double plateau_min_delta = 0.0;   // an improvement must exceed best + min_delta
};

enum class TeacherAction { None, HardSync, Ema };

// Saved in checkpoints so a resumed run syncs at the same steps.
struct TeacherState {
  int64_t syncs = 0;
  int64_t last_sync_step = 0;
  double best_validation = -std::numeric_limits<double>::infinity();
  int64_t stale_validations = 0;
  bool sync_pending = false;
};

class TeacherSchedule {
 public:
  explicit TeacherSchedule(TeacherOptions opt);
  // Validation result after `step`; a plateau marks a sync for the next after_step().
  void on_validation(int64_t step, double score);
  // Called once after optimizer step `step` (1-based). Returns what to do to the teacher now.
  TeacherAction after_step(int64_t step);
  const TeacherOptions& options() const { return opt_; }
  const TeacherState& state() const { return st_; }
  void set_state(const TeacherState& s) { st_ = s; }

 private:
  TeacherOptions opt_;
  TeacherState st_;
};

// teacher <- (1 - rate) * teacher + rate * student, in place, without autograd.
void ema_update(const std::vector<torch::Tensor>& teacher, const std::vector<torch::Tensor>& student, double rate);
// teacher <- student, in place.
void hard_copy(const std::vector<torch::Tensor>& teacher, const std::vector<torch::Tensor>& student);

}  // namespace sdz::algo
