// The [ckpt] keys, owned by ckpt/.
#include "sdzero/ckpt/keys.hpp"

namespace sdz {

void declare_ckpt_keys(Schema& s) {
  s.add_int("ckpt.every_steps", 100, "Write a checkpoint every N optimizer steps; 0 = never by step count.", 0);
  s.add_float("ckpt.every_minutes", 30.0,
              "Also write one when this many wall-clock minutes passed since the last; 0 = never by time.", 0.0);
  s.add_int("ckpt.keep_last", 3, "Keep the newest N checkpoints of the run directory; 0 = keep all.", 0);
  s.add_string("ckpt.resume", "none",
               "none: start fresh; auto: newest valid checkpoint of the run directory (falls back past damaged ones, "
               "fresh when there is none); or a checkpoint file path, which must load.");
  s.add_bool("ckpt.on_signal", true,
             "On SIGTERM/SIGUSR1 finish the step, write a checkpoint and exit with code 75 (requeue).");
}

}  // namespace sdz
