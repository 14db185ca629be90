#include "sdzero/ckpt/cadence.hpp"

#include <csignal>
#include <chrono>

namespace sdz::ckpt {

Cadence::Cadence(int64_t every_steps, double every_minutes, double start_s)
    : every_steps_(every_steps), every_s_(every_minutes * 60.0), last_s_(start_s) {}

bool Cadence::due(int64_t step, double now_s) const {
  if (step == last_step_) return false;  // already saved this step
  if (every_steps_ > 0 && step > 0 && step % every_steps_ == 0) return true;
  return every_s_ > 0 && now_s - last_s_ >= every_s_;
}

void Cadence::saved(int64_t step, double now_s) {
  last_step_ = step;
  last_s_ = now_s;
}

double monotonic_seconds() {
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}

namespace {
volatile std::sig_atomic_t g_stop = 0;
extern "C" void on_stop_signal(int sig) {
  if (g_stop == 0) g_stop = sig;
}
}  // namespace

void install_stop_handlers() {
  struct sigaction sa{};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;  // a signal must not make a checkpoint write fail with EINTR
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGUSR1, &sa, nullptr);
}

int stop_signal() { return int(g_stop); }
void clear_stop_signal() { g_stop = 0; }

}  // namespace sdz::ckpt
