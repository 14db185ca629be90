// defines: Progress — a progress line with rate and ETA for long loops, e.g.
//   pretrain  340/1200 (28.3%)  12.4 step/s  elapsed 27.4s  ETA 1:09  loss 1.234
// Printed through the logger (rank 0 unless all_ranks), at most every `min_seconds`, and always
// for the first update and at finish(), so logs of batch jobs show steady progress.
#pragma once
#include <cstdint>
#include <string>

#include "sdzero/core/timer.hpp"

namespace sdz {

class Progress {
 public:
  Progress(std::string label, int64_t total, std::string unit = "it", double min_seconds = 2.0);
  // Absolute position; `extra` is appended (loss, accuracy...).
  void update(int64_t done, const std::string& extra = "");
  void add(int64_t n = 1, const std::string& extra = "") { update(done_ + n, extra); }
  void finish(const std::string& extra = "");
  int64_t done() const { return done_; }
  // A new estimate of the total (e.g. when steps turn out dearer than planned); printed with the next update.
  void set_total(int64_t total) { total_ = total; }
  double eta_seconds() const;
  // The text of one line; pure, for tests.
  static std::string render(const std::string& label, int64_t done, int64_t total, double elapsed,
                            const std::string& unit, const std::string& extra);

 private:
  std::string label_, unit_;
  int64_t total_, done_ = 0;
  double min_seconds_, last_print_ = -1e9;
  bool finished_ = false;
  Timer timer_;
};

}  // namespace sdz
