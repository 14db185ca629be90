// defines: when to checkpoint (every N steps and every M wall-clock minutes) and how a run stops
// for preemption: SIGTERM / SIGUSR1 set a flag the training loop polls at step boundaries; the
// loop then checkpoints and exits with kExitRequeue, which slurm/ scripts turn into a requeue.
#pragma once
#include <cstdint>

namespace sdz::ckpt {

// Exit code of a run that stopped on a signal after writing its checkpoint (EX_TEMPFAIL from
// sysexits.h: "try again later"). A batch script requeues on it: `[ $rc -eq 75 ] && scontrol requeue`.
inline constexpr int kExitRequeue = 75;

class Cadence {
 public:
  // every_steps <= 0 or every_minutes <= 0 switches that trigger off. `start_s` is the time the
  // run (or the resume) began, in the clock the caller passes to due().
  Cadence(int64_t every_steps, double every_minutes, double start_s);
  // True when the step just finished should be checkpointed. Under MPI, decide on one rank and
  // broadcast: wall clocks differ between ranks.
  bool due(int64_t step, double now_s) const;
  void saved(int64_t step, double now_s);

 private:
  int64_t every_steps_;
  double every_s_;
  int64_t last_step_ = -1;
  double last_s_;
};

// Seconds on a monotonic clock, for Cadence.
double monotonic_seconds();

// Installs handlers for SIGTERM and SIGUSR1 (async-signal-safe: they only store the signal
// number). A loop polls stop_signal() once per step; with several ranks, reduce it (max) so that
// every rank stops after the same step.
void install_stop_handlers();
int stop_signal();        // 0 when none arrived, else the first signal's number
void clear_stop_signal();  // tests and restarts

}  // namespace sdz::ckpt
