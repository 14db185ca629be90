// Real processes: a forked child writing a large checkpoint is killed with SIGKILL at a point it
// reports through a pipe; a child polling the stop flag checkpoints on SIGTERM/SIGUSR1 and exits
// with the requeue code.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <dirent.h>

#include "fixtures.hpp"
#include "sdzero/ckpt/cadence.hpp"
#include "sdzero/ckpt/run_dir.hpp"
#include "sdzero/core/files.hpp"

using namespace sdz::ckpt;
using ckpt_test::make_state;

namespace {

struct RunDir {
  std::string path = ckpt_test::temp_dir("kill");
  ~RunDir() { ckpt_test::remove_tree(path); }
};

std::vector<std::string> names_in(const std::string& dir) {
  std::vector<std::string> out;
  if (DIR* d = ::opendir(dir.c_str())) {
    while (dirent* e = ::readdir(d))
      if (e->d_name[0] != '.') out.push_back(e->d_name);
    ::closedir(d);
  }
  return out;
}

bool has_temporary(const std::string& dir) {
  for (const auto& n : names_in(dir))
    if (n.find(".h5.tmp.") != std::string::npos) return true;
  return false;
}

enum class KillAt { HalfOfTheData, Flushed, Renamed };

// Forks a child that saves `big`; at `when` the child writes one byte to a pipe and then waits on
// a pipe that never delivers, so the parent's SIGKILL lands exactly there.
void kill_child_during_save(const std::string& run, const TrainingState& big, KillAt when) {
  int ready[2], never[2];
  ASSERT_EQ(::pipe(ready), 0);
  ASSERT_EQ(::pipe(never), 0);
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::close(ready[0]);
    ::close(never[1]);
    bool sent = false;
    SaveOptions opt;
    opt.observe = [&](const WriteEvent& e) {
      bool here = (when == KillAt::HalfOfTheData && e.stage == WriteEvent::Dataset && e.done_bytes * 2 > e.total_bytes) ||
                  (when == KillAt::Flushed && e.stage == WriteEvent::Flushed) ||
                  (when == KillAt::Renamed && e.stage == WriteEvent::Renamed);
      if (!here || sent) return;
      sent = true;
      char c = 'k';
      if (::write(ready[1], &c, 1) != 1) ::_exit(4);
      ::read(never[0], &c, 1);  // blocks until killed
      ::_exit(5);               // the parent closed its end: must not happen
    };
    try {
      save_checkpoint(run, big, opt);
    } catch (...) {
      ::_exit(3);
    }
    ::_exit(0);
  }
  ::close(ready[1]);
  ::close(never[0]);
  char c = 0;
  ASSERT_EQ(::read(ready[0], &c, 1), 1) << "the child never reached the kill point";
  ASSERT_EQ(::kill(pid, SIGKILL), 0);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ::close(ready[0]);
  ::close(never[1]);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "status " << status;
}

}  // namespace

TEST(KillDuringWrite, MidDataPreviousCheckpointStaysAndAutoResumeUsesIt) {
  RunDir r;
  TrainingState prev = make_state(1, 16, 1, 10);
  save_checkpoint(r.path, prev);
  TrainingState big = make_state(2, 512, 4, 20);  // ~60 MB with optimizer state
  ASSERT_GT(parameter_bytes(big), 10 << 20);
  kill_child_during_save(r.path, big, KillAt::HalfOfTheData);

  std::string dir = checkpoint_dir(r.path);
  EXPECT_TRUE(has_temporary(dir)) << "the kill should have hit the temporary file";
  EXPECT_EQ(list_checkpoints(r.path).size(), 1u);
  EXPECT_EQ(sdz::read_file(latest_pointer_path(r.path)), "step_00000010.h5\n");
  auto rp = resolve_resume("auto", r.path);
  ASSERT_TRUE(rp.has_value());
  EXPECT_EQ(rp->state.step, 10);
  prev.code_version = rp->state.code_version;
  EXPECT_EQ(first_difference(prev, rp->state), "");
  EXPECT_TRUE(rp->skipped.empty());

  // The next save of the resumed run removes the dead writer's leftovers.
  save_checkpoint(r.path, make_state(3, 16, 1, 11));
  EXPECT_FALSE(has_temporary(dir));
}

TEST(KillDuringWrite, AfterFlushBeforeRenameTheOldCheckpointIsStillTheNewest) {
  RunDir r;
  save_checkpoint(r.path, make_state(1, 16, 1, 10));
  kill_child_during_save(r.path, make_state(2, 64, 2, 20), KillAt::Flushed);
  auto rp = resolve_resume("auto", r.path);
  ASSERT_TRUE(rp.has_value());
  EXPECT_EQ(rp->state.step, 10);
}

TEST(KillDuringWrite, AfterRenameBeforeLatestAutoResumeTakesTheCompleteNewFile) {
  RunDir r;
  save_checkpoint(r.path, make_state(1, 16, 1, 10));
  kill_child_during_save(r.path, make_state(2, 64, 2, 20), KillAt::Renamed);
  // `latest` is written last, so it still names step 10; the scan finds the complete step 20.
  EXPECT_EQ(sdz::read_file(latest_pointer_path(r.path)), "step_00000010.h5\n");
  auto rp = resolve_resume("auto", r.path);
  ASSERT_TRUE(rp.has_value());
  EXPECT_EQ(rp->state.step, 20);
}

namespace {

// Child: installs the stop handlers, reports readiness, then runs "steps" until the flag is set;
// it finishes the step, checkpoints and exits with kExitRequeue (what a training loop does).
void preempt_child(const std::string& run, int sig) {
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  TrainingState s = make_state(4, 8, 1, 0);
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::close(ready[0]);
    install_stop_handlers();
    sdz::Rng work(1);
    for (int64_t step = 1;; ++step) {
      for (int i = 0; i < 1000; ++i) work.next();  // the step's work
      if (step == 3) {
        char c = 'r';
        if (::write(ready[1], &c, 1) != 1) ::_exit(4);
      }
      if (stop_signal() != 0) {
        s.step = step;
        s.metrics_json = "{\"signal\":" + std::to_string(stop_signal()) + "}";
        try {
          save_checkpoint(run, s);
        } catch (...) {
          ::_exit(3);
        }
        ::_exit(kExitRequeue);
      }
    }
  }
  ::close(ready[1]);
  char c = 0;
  ASSERT_EQ(::read(ready[0], &c, 1), 1);
  ::close(ready[0]);
  ASSERT_EQ(::kill(pid, sig), 0);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status)) << "child died of a signal: " << status;
  EXPECT_EQ(WEXITSTATUS(status), kExitRequeue);
}

}  // namespace

TEST(StopSignal, SigtermAndSigusr1CheckpointThenExitForRequeue) {
  for (int sig : {SIGTERM, SIGUSR1}) {
    RunDir r;
    preempt_child(r.path, sig);
    auto rp = resolve_resume("auto", r.path);
    ASSERT_TRUE(rp.has_value());
    EXPECT_GE(rp->state.step, 3);
    EXPECT_EQ(rp->state.metrics_json, "{\"signal\":" + std::to_string(sig) + "}");
  }
}

TEST(StopSignal, FlagInThisProcess) {
  clear_stop_signal();
  install_stop_handlers();
  EXPECT_EQ(stop_signal(), 0);
  ::raise(SIGUSR1);
  EXPECT_EQ(stop_signal(), SIGUSR1);
  ::raise(SIGTERM);  // the first signal is kept
  EXPECT_EQ(stop_signal(), SIGUSR1);
  clear_stop_signal();
  EXPECT_EQ(stop_signal(), 0);
  signal(SIGTERM, SIG_DFL);
  signal(SIGUSR1, SIG_DFL);
}

TEST(Cadence, StepsAndMinutes) {
  Cadence c(10, 5.0, 1000.0);
  EXPECT_FALSE(c.due(1, 1000.0));
  EXPECT_FALSE(c.due(9, 1299.0));
  EXPECT_TRUE(c.due(10, 1001.0));   // by steps
  c.saved(10, 1001.0);
  EXPECT_FALSE(c.due(10, 5000.0));  // never twice for one step
  EXPECT_FALSE(c.due(11, 1300.0));
  EXPECT_TRUE(c.due(12, 1301.0));   // 5 minutes since the last save
  c.saved(12, 1301.0);
  EXPECT_FALSE(c.due(13, 1400.0));
  EXPECT_TRUE(c.due(20, 1400.0));

  Cadence steps_only(3, 0.0, 0.0);
  EXPECT_FALSE(steps_only.due(2, 1e9));
  EXPECT_TRUE(steps_only.due(3, 0.0));
  Cadence time_only(0, 1.0, 0.0);
  EXPECT_FALSE(time_only.due(100, 59.0));
  EXPECT_TRUE(time_only.due(101, 60.0));
  Cadence never(0, 0.0, 0.0);
  EXPECT_FALSE(never.due(1000, 1e12));
  double a = monotonic_seconds(), b = monotonic_seconds();
  EXPECT_LE(a, b);
}
